"""How long one incremental commit takes as an index grows, under searchkit's merge policy
(store.INCREMENTAL_MERGE) and under Whoosh's default (MERGE_SMALL).

    python bench/commit_time.py [--batches N] [--per-file K]

Measured (2 shared cores, --batches 11 --per-file 40, about 450 paragraphs a run): commits of
0.4-0.8 s, and 4.7 s for the one that merged the five small segments (2,374 paragraphs) into
the new one; Whoosh's MERGE_SMALL kept every segment (11 after 11 runs) in this range and
merges them all later on.

Each policy indexes the same Reuters-21578 stories (read in place from ../shared/data) in N
runs of `build_index`, one batch of two reut2-*.sgm files (K stories each) per run, into a
fresh index, and reports every run's commit time (the `store.commit` call: merging, writing
the new segment, fsyncs, checksums) and the segments left.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from whoosh import writing

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from reuters import write_slice  # noqa: E402

from searchkit.index import durable, build, store  # noqa: E402


def run(policy, batches, per_file, corpus: Path):
    timings = []
    commit = store.commit

    def timed_commit(writer, clear=False):
        started = time.perf_counter()
        if clear:
            commit(writer, clear=True)
        else:
            writer.commit(mergetype=policy)
        timings.append(time.perf_counter() - started)

    store.commit = timed_commit
    try:
        with tempfile.TemporaryDirectory() as index_dir:
            for batch in range(batches):
                build.build_index([corpus / f"b{batch}"], Path(index_dir))
                toc = durable.read_toc(index_dir, durable.generations(index_dir)[-1])
                sizes = sorted((s.doc_count_all() for s in toc.segments), reverse=True)
                live = sum(s.doc_count() for s in toc.segments)
                print(f"  run {batch + 1:2}: commit {timings[-1]:5.2f} s, {live:6} paragraphs, "
                      f"segments {sizes} (deleted ones included)", flush=True)
    finally:
        store.commit = commit
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--per-file", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as corpus:
        corpus = Path(corpus)
        for batch in range(args.batches):
            files = [f"{2 * batch:03}", f"{2 * batch + 1:03}"]
            write_slice(corpus / f"b{batch}", files=files, per_file=args.per_file)
        for name, policy in (("INCREMENTAL_MERGE", store.INCREMENTAL_MERGE),
                             ("MERGE_SMALL (Whoosh's default)", writing.MERGE_SMALL)):
            print(name)
            timings = run(policy, args.batches, args.per_file, corpus)
            print(f"  longest commit {max(timings):.2f} s, total {sum(timings):.1f} s")


if __name__ == "__main__":
    main()
