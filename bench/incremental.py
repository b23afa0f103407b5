"""What an update costs against a full build of the same corpus, measured in one run.

    python bench/incremental.py [CORPUS] [--runs N]

CORPUS defaults to ../shared/data/bbc. Each round times, as a fresh `searchkit index` process
(start to exit), one after another so that machine noise falls on all alike:
- a full build (`--rebuild`) into a new index;
- a re-run on the unchanged corpus (every file hashed, nothing written);
- a run after one file changed (that file re-read, groups worked out again, one commit).
The corpus is copied to a temporary folder so one file can be changed; the copy is deleted.
Medians are reported, and ratios of medians to the full build.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "bbc"


def searchkit_index(corpus: Path, index_dir: Path, *flags: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "searchkit", "index", str(corpus), "--index", str(index_dir),
         "--quiet", *flags],
        check=False, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = {"full build": [], "unchanged re-run": [], "one file changed": []}
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "corpus"
        shutil.copytree(args.corpus, corpus)
        victim = sorted(corpus.rglob("*.txt"))[0]
        for run in range(args.runs):
            index_dir = Path(scratch) / f"index-{run}"
            times["full build"].append(searchkit_index(corpus, index_dir, "--rebuild"))
            times["unchanged re-run"].append(searchkit_index(corpus, index_dir))
            with victim.open("a", encoding="utf-8") as handle:
                handle.write(f"\n\nA paragraph added in round {run}.\n")
            times["one file changed"].append(searchkit_index(corpus, index_dir))
            shutil.rmtree(index_dir)
    files = sum(1 for _ in args.corpus.rglob("*.txt"))
    full = statistics.median(times["full build"])
    print(f"corpus: {args.corpus} ({files} files), {args.runs} runs, medians of whole processes")
    print(f"{'run':<20}{'median s':>10}{'vs full build':>15}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<20}{median:>10.2f}{median / full:>14.3f}x")


if __name__ == "__main__":
    main()
