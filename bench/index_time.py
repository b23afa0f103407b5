"""How long indexing takes on a real corpus, against baselines measured in the same run.

    python bench/index_time.py [CORPUS...] [--set small|large] [--runs N] [--compare CHECKOUT]
                               [--only-library]

CORPUS defaults to ../shared/data/bbc; --set builds bench/speed.py's corpus of that name (BBC and
Reuters-21578 written to a temporary folder) instead. Each run times, one after another so that
machine noise falls on all alike (each a fresh process, start to exit):
- `searchkit index CORPUS --index TMP --rebuild`, the whole command a user types;
- the same build through the library with near-duplicate grouping on (with a helper process
  whatever the machine's load, and in one process), and with it off (`find_duplicates=False`):
  their ratio is what grouping costs;
- the Whoosh tutorial's way of indexing the same files' blank-line paragraphs (one writer,
  StemmingAnalyzer, no classification, no metadata, no grouping).
--compare CHECKOUT also times the library build (grouping on) of another searchkit checkout
(e.g. ../main) in the same loop, imported from there through PYTHONPATH. --only-library skips the
whole command and the build without grouping.
The machine is shared and noisy, so medians are reported, and ratios of medians.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "bbc"


def time_searchkit(corpus: list) -> float:
    with tempfile.TemporaryDirectory() as index_dir:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "searchkit", "index", *map(str, corpus), "--index", index_dir,
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

index_dir, corpora = sys.argv[1], [Path(p) for p in sys.argv[2:]]
schema = Schema(id=ID(stored=True, unique=True), title=TEXT(stored=True),
                text=TEXT(stored=True, analyzer=StemmingAnalyzer()))
writer = create_in(index_dir, schema).writer()
for path in sorted(p for corpus in corpora for p in corpus.rglob("*.txt")):
    try:
        blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\\n\\n") if b.strip()]
    except UnicodeDecodeError:
        continue
    for n, block in enumerate(blocks[1:], start=1):
        writer.add_document(id=f"{path}#{n}", title=blocks[0], text=block)
writer.commit()
"""


LIBRARY = """
import sys
from pathlib import Path
from searchkit.index import build as indexer
from searchkit.index.build import build_index
if sys.argv[4] == "2" and hasattr(indexer, "PARALLEL_SPARE_CORES"):
    indexer.PARALLEL_SPARE_CORES = None  # a helper process whatever the load
elif sys.argv[4] == "1":
    indexer.PARALLEL_FROM = indexer.PARALLEL_READ_FILES = 10**12
build_index([Path(p) for p in sys.argv[5:]], Path(sys.argv[2]), rebuild=True,
            find_duplicates=sys.argv[3] == "on")
"""


def time_library(corpus: Path, grouping: bool, checkout: Path = None,
                 processes: str = "auto") -> float:
    env = dict(os.environ, PYTHONPATH=str(checkout.resolve())) if checkout else None
    with tempfile.TemporaryDirectory() as index_dir:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", LIBRARY, "-", index_dir, "on" if grouping else "off",
             processes, *map(str, corpus)],
            check=True, env=env, cwd=checkout,  # python -c puts its folder first on the path
        )
        return time.perf_counter() - started


def time_baseline(corpus: list) -> float:
    with tempfile.TemporaryDirectory() as index_dir:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", BASELINE, index_dir, *map(str, corpus)],
                       check=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="*", type=Path, default=[DEFAULT_CORPUS])
    parser.add_argument("--set", choices=("small", "large"),
                        help="bench/speed.py's corpus of that name instead")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", type=Path, help="another searchkit checkout to time too")
    parser.add_argument("--only-library", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.set:
            sys.path.insert(0, str(Path(__file__).parent))
            from speed import corpus_paths

            args.corpus = corpus_paths(args.set, Path(scratch))
        measure(args)


def measure(args) -> None:
    variants = {
        "searchkit index (whole command)": lambda: time_searchkit(args.corpus),
        "library build, grouping on": lambda: time_library(args.corpus, True, processes="2"),
        "library build, one process": lambda: time_library(args.corpus, True, processes="1"),
        "library build, grouping off": lambda: time_library(args.corpus, False, processes="2"),
        "whoosh tutorial usage (baseline)": lambda: time_baseline(args.corpus),
    }
    if args.only_library:
        del variants["searchkit index (whole command)"], variants["library build, grouping off"]
        del variants["library build, one process"]
    if args.compare:
        variants[f"library build of {args.compare.name}"] = lambda: time_library(
            args.corpus, grouping=True, checkout=args.compare)
    times = {name: [] for name in variants}
    for run in range(1, args.runs + 1):
        for name, measure in variants.items():
            times[name].append(measure())
        print(f"run {run}: " + ", ".join(f"{n} {t[-1]:.1f} s" for n, t in times.items()),
              file=sys.stderr)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"corpus: {' + '.join(str(c) for c in args.corpus)} ({args.runs} runs each, medians; "
          f"load average {os.getloadavg()[0]:.1f} at the end)")
    for name, seconds in median.items():
        print(f"{name:40} {seconds:6.1f} s")
    baseline = median["whoosh tutorial usage (baseline)"]
    for name, seconds in median.items():
        if name != "whoosh tutorial usage (baseline)":
            print(f"{'baseline / ' + name:60} {baseline / seconds:6.2f}x faster")
    if "library build, grouping off" in median:
        on, off = median["library build, grouping on"], median["library build, grouping off"]
        print(f"{'ratio grouping on / off':60} {on / off:6.2f}")


if __name__ == "__main__":
    main()
