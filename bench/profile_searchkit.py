"""Where searchkit's time goes: cProfile of queries, of a cold search process, of a build.

    python bench/profile_searchkit.py query INDEX [QUERIES.json] [--top N]
    python bench/profile_searchkit.py cold INDEX [--word oil] [--top N]
    python bench/profile_searchkit.py build [CORPUS ...] [--serial] [--top N]

- query: one Searcher, 20 warm-up queries, then every query of QUERIES.json (as written by
  `bench/speed.py --keep DIR`; default: a few fixed queries) under cProfile, limit=10.
- cold: `python -m cProfile -m searchkit search WORD --index INDEX -n 10 --format plain`.
- build: `searchkit.build_index(CORPUS, TMP, rebuild=True)` under cProfile (default corpus
  ../shared/data/bbc). With a core to spare searchkit reads and writes in a helper process
  whose time cProfile cannot see; --serial keeps everything in one process for this run, so
  that all of it shows in the profile.
Prints the top N functions by cumulative time (and by own time); --save FILE keeps the profile
for `python -m pstats FILE` (callers, callees).
"""

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "bbc"
FEW = ["oil prices", "government minister", '"interest rates"', "Blair election", "football"]


def report(profile: cProfile.Profile, top: int) -> None:
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        text = out.getvalue()
        print(f"### top {top} by {order}")
        print(text[text.find("   ncalls"):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("query", "cold", "build"))
    parser.add_argument("args", nargs="*")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--word", default="oil")
    parser.add_argument("--serial", action="store_true")
    parser.add_argument("--save", type=Path, help="also write the profile (pstats) to this file")
    options = parser.parse_args()

    if options.what == "cold":
        index = options.args[0]
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-s", "cumulative", "-m", "searchkit", "search",
             options.word, "--index", index, "-n", "10", "--format", "plain"],
            check=True, stdout=open(Path(tempfile.gettempdir()) / "cold-profile.txt", "w"),
        )
        print(f"(process {time.perf_counter() - started:.2f} s under cProfile)")
        text = (Path(tempfile.gettempdir()) / "cold-profile.txt").read_text()
        start = text.find("   ncalls")
        print("\n".join(text[start:].splitlines()[: options.top + 1]))
        return

    import searchkit

    profile = cProfile.Profile()
    if options.what == "query":
        index = options.args[0]
        queries = json.loads(Path(options.args[1]).read_text()) if len(options.args) > 1 else FEW
        with searchkit.open_index(index) as searcher:
            for query in queries[:20]:
                searcher.search(query, limit=10)
            started = time.perf_counter()
            profile.enable()
            for query in queries:
                searcher.search(query, limit=10)
            profile.disable()
        seconds = time.perf_counter() - started
        print(f"{len(queries)} queries, {seconds / len(queries) * 1000:.1f} ms each under cProfile")
    else:
        import searchkit.index.build

        if options.serial:
            searchkit.index.build.PARALLEL_FROM = searchkit.index.build.PARALLEL_READ_FILES = 10**9
        corpus = [Path(p) for p in options.args] or [DEFAULT_CORPUS]
        with tempfile.TemporaryDirectory() as index:
            started = time.perf_counter()
            profile.enable()
            summary = searchkit.build_index(corpus, index, rebuild=True)
            profile.disable()
        print(f"build of {summary.paragraphs} "
              f"paragraphs: {time.perf_counter() - started:.1f} s under cProfile"
              f"{' (serial)' if options.serial else ''}")
    if options.save:
        profile.dump_stats(str(options.save))
    report(profile, options.top)


if __name__ == "__main__":
    main()
