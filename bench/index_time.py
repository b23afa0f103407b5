"""How long `searchkit index` takes on a real corpus, against plain Whoosh in the same run.

    python bench/index_time.py [CORPUS] [--runs N]

CORPUS defaults to ../shared/data/bbc. Each run times the whole command a user types
(`searchkit index CORPUS --index TMP --rebuild`, process start to exit) and, alternately, a
baseline: the Whoosh tutorial's way of indexing the same files' blank-line paragraphs (one
writer, StemmingAnalyzer, no classification, no metadata). The machine is shared and noisy,
so medians are reported, and the ratio of the two medians measured in the same run.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "bbc"


def time_searchkit(corpus: Path) -> float:
    with tempfile.TemporaryDirectory() as index_dir:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "searchkit", "index", str(corpus), "--index", index_dir,
             "--rebuild"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


BASELINE = """
import sys
from pathlib import Path
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, TEXT, Schema
from whoosh.index import create_in

corpus, index_dir = Path(sys.argv[1]), sys.argv[2]
schema = Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True),
                text=TEXT(stored=True, analyzer=StemmingAnalyzer()))
writer = create_in(index_dir, schema).writer()
for path in sorted(corpus.rglob("*.txt")):
    try:
        blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\\n\\n") if b.strip()]
    except UnicodeDecodeError:
        continue
    for n, block in enumerate(blocks[1:], start=1):
        writer.add_document(id=f"{path}#{n}", title=blocks[0], text=block)
writer.commit()
"""


def time_baseline(corpus: Path) -> float:
    with tempfile.TemporaryDirectory() as index_dir:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", BASELINE, str(corpus), index_dir], check=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ours, baseline = [], []
    for run in range(1, args.runs + 1):
        ours.append(time_searchkit(args.corpus))
        baseline.append(time_baseline(args.corpus))
        print(f"run {run}: searchkit {ours[-1]:.1f} s, whoosh tutorial {baseline[-1]:.1f} s",
              file=sys.stderr)
    ours_median, baseline_median = statistics.median(ours), statistics.median(baseline)
    print(f"corpus: {args.corpus} ({args.runs} runs each, medians)")
    print(f"searchkit index (whole command):   {ours_median:6.1f} s")
    print(f"whoosh tutorial usage (baseline):  {baseline_median:6.1f} s")
    print(f"ratio searchkit / baseline:        {ours_median / baseline_median:6.2f}")


if __name__ == "__main__":
    main()
