"""The engine against Whoosh on thousands of queries over a real corpus.

    python bench/engine_agreement.py [--corpus reuters|bbc|scifact] [--queries N] [--syntax N]

Builds an index of the corpus in several runs, so that it has several segments and deleted
documents (a third of the files first, then the rest, then a few files changed), then ranks
each query both ways (tests/enginecheck.py): plain queries cut from the paragraphs (1-4 words
and pasted sentences of 12-40), SciFact's train queries (--corpus scifact), and queries with
syntax (phrases, fields, wildcards, groups, NOT / ANDNOT / ANDMAYBE, + and -) built from the
corpus's words; each with one of several filters, and sorted by date for some. Queries without
NOT, ANDNOT, ANDMAYBE, + or - are compared with Whoosh's own ranking; those with them with the
ranking by their meaning (Whoosh's own boolean matchers get some documents wrong). Prints how
many agreed, and the first differences. Takes ~10-20 minutes: Whoosh ranks every match.
"""

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import searchkit  # noqa: E402
from enginecheck import Check, sample_queries, syntax_queries  # noqa: E402
from searchkit.retrieval.plan import Filters  # noqa: E402

DATA = REPO.parent / "shared" / "data"
BOOLEAN = re.compile(r"NOT|ANDMAYBE|(^|[\s(])[-+]")
FILTERS = [Filters(), Filters(kinds=("body",)), Filters(since=date(1987, 3, 10)),
           Filters(until=date(1987, 3, 20), kinds=("body", "caption")),
           Filters(since=date(1987, 3, 1), until=date(1987, 3, 31))]


def build(corpus: str, folder: Path) -> Path:
    """An index of the corpus built in three runs (several segments, some deletions)."""
    files = folder / "files"
    index_dir = folder / "index"
    if corpus == "reuters":  # dated stories (as bench/speed.py's large corpus writes them)
        sys.path.insert(0, str(REPO / "bench"))
        from speed import write_reuters

        write_reuters(files, split_lines=True)
        names = sorted(files.glob("*.txt"))
        searchkit.build_index(names[: len(names) // 3], index_dir)
        searchkit.build_index([files], index_dir)
        for path in names[len(names) // 3::211]:
            path.write_bytes(path.read_bytes() + b"\n\nA paragraph added later.\n")
        searchkit.build_index([files], index_dir)
    elif corpus == "bbc":
        sources = sorted((DATA / "bbc").rglob("*.txt"))
        for path in sources:
            target = files / path.relative_to(DATA / "bbc")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        names = sorted(files.rglob("*.txt"))
        first, rest = names[: len(names) // 3], names[len(names) // 3:]
        searchkit.build_index(first, index_dir)
        searchkit.build_index([files], index_dir)
        for path in rest[::97]:  # changed files: their old paragraphs are deleted
            path.write_bytes(path.read_bytes() + b"\n\nA paragraph added later.\n")
        searchkit.build_index([files], index_dir)
    else:
        lines = (DATA / "scifact" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
        files.mkdir(parents=True)
        third = len(lines) // 3
        for number, part in enumerate((lines[:third], lines[third: 2 * third],
                                       lines[2 * third:])):
            (files / f"part-{number}.jsonl").write_text("\n".join(part) + "\n")
            searchkit.build_index([files], index_dir)
        changed = files / "part-0.jsonl"
        changed.write_text(changed.read_text() + "\n")
        searchkit.build_index([files], index_dir)
    return index_dir


def scifact_queries() -> list:
    with open(DATA / "scifact" / "queries.jsonl", encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=("reuters", "bbc", "scifact"), default="reuters")
    parser.add_argument("--queries", type=int, default=1500, help="plain queries")
    parser.add_argument("--syntax", type=int, default=500, help="queries with syntax")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="searchkit-agreement-"))
    try:
        started = time.perf_counter()
        index_dir = build(args.corpus, folder)
        with searchkit.open_index(index_dir) as searcher:
            segments = searcher._generation.segments
            deleted = sum(s.deleted.size for s in segments if s.deleted is not None)
            print(f"{args.corpus}: {searcher._generation.doc_count_all} documents in "
                  f"{len(segments)} segments, {deleted} deleted; built in "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
            check = Check(index_dir, searcher)
            texts = [f["text"] for f in check.whoosh.all_stored_fields()]
            plain = sample_queries(texts, args.queries, seed=11)
            if args.corpus == "scifact":
                plain = scifact_queries() + plain
            words = sorted({w for t in random.Random(5).sample(texts, 50)
                            for w in re.findall(r"[a-z]{4,12}", t)})[:40]
            syntax = syntax_queries(args.syntax, seed=12, words=words)
            tally = {"whoosh": [0, 0], "meaning": [0, 0], "refused": 0}
            shown = 0
            for number, text in enumerate(plain + syntax):
                filters = FILTERS[number % len(FILTERS)]
                sort = ("score", "date", "-date")[number % 3] if number % 5 == 0 else "score"
                by_meaning = bool(BOOLEAN.search(text))
                if by_meaning:
                    sort = "score"
                try:
                    found = check.compare(text, filters, sort, by_meaning=by_meaning)
                except searchkit.QueryError:
                    tally["refused"] += 1
                    continue
                kind = "meaning" if by_meaning else "whoosh"
                tally[kind][0] += 1
                if found:
                    tally[kind][1] += 1
                    if shown < 10:
                        print("DIFFERENT:", found[:300], file=sys.stderr)
                        shown += 1
                if number % 200 == 0:
                    print(f"{number} queries, {tally}", file=sys.stderr)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    agree_w = tally["whoosh"][0] - tally["whoosh"][1]
    agree_m = tally["meaning"][0] - tally["meaning"][1]
    print(f"{args.corpus}: {agree_w} of {tally['whoosh'][0]} queries ranked exactly as Whoosh "
          f"ranks them (documents, order, scores to 1e-9); {agree_m} of "
          f"{tally['meaning'][0]} with NOT / ANDNOT / ANDMAYBE / + / - as their meaning ranks "
          f"them; {tally['refused']} refused by both (QueryError)")


if __name__ == "__main__":
    main()
