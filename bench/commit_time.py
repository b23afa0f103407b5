"""How long one incremental commit takes as an index grows, under searchkit's merge policy
(store.INCREMENTAL_MERGE: small segments merged in bulk, by ``bulkmerge``), under the same
policy merging through Whoosh's writer (``add_reader``, as before the bulk merge), and under
Whoosh's default (MERGE_SMALL).

    python bench/commit_time.py [--batches N] [--per-file K]

Each policy indexes the same Reuters-21578 stories (read in place from ../shared/data) in N
runs of `build_index`, one batch of two reut2-*.sgm files (K stories each) per run, into a
fresh index, and reports every run's commit time (the `store.commit` call: merging, fsyncs,
checksums, the commit's record) and the segments left. Figures in bench/README.md.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from whoosh import writing
from whoosh.reading import SegmentReader

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from reuters import write_slice  # noqa: E402

from searchkit.index import durable, build, store  # noqa: E402


def _merged_by_whoosh(writer, segments):
    """durable.merged as it was: the segments re-read into the writer's own segment."""
    for segment in segments:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    return None


def run(policy, batches, per_file, corpus: Path):
    timings = []
    commit, merged = store.commit, durable.merged

    def timed_commit(writer, clear=False, **options):
        started = time.perf_counter()
        if clear or policy == "bulk":
            commit(writer, clear=clear, **options)
        elif policy == "whoosh":
            durable.merged = _merged_by_whoosh
            try:
                commit(writer, **options)
            finally:
                durable.merged = merged
        else:
            commit(writer, mergetype=policy, **options)
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
        for name, policy in (("INCREMENTAL_MERGE, merged in bulk", "bulk"),
                             ("INCREMENTAL_MERGE, merged by Whoosh's writer", "whoosh"),
                             ("MERGE_SMALL (Whoosh's default)", writing.MERGE_SMALL)):
            print(name)
            timings = run(policy, args.batches, args.per_file, corpus)
            print(f"  longest commit {max(timings):.2f} s, total {sum(timings):.1f} s")


if __name__ == "__main__":
    main()
