"""Relevance on BEIR SciFact: nDCG@10, recall@100 and MAP of searchkit's document ranking for
the default configuration and a few variants, in one table.

    python -m pip install -e '.[bench]'     # ir-measures (and pytrec-eval-terrier under it)
    python bench/relevance.py [--data DIR] [--queries N] [--depth K] [--runs-dir DIR]

DATA defaults to ../shared/data/scifact (corpus.jsonl, queries.jsonl, qrels/train.tsv). Only the
train queries are run (SciFact's test qrels are kept out of tuning). The index is built once
into a temporary folder (near-duplicate grouping off: it does not change document scores);
the variants open it with other ``SearchOptions``. Each query runs through
``Searcher.search_documents`` (what ``searchkit search --batch`` writes, the query read as
plain text): articles scored whole (BM25F over articles), the record's own ``_id`` as
document id. bm25s (Lucene BM25, k1 1.2, b 0.75, English stop words, Snowball stems, as its
README recommends) ranks the same queries on the same abstracts as the baseline of the same
run (``--no-bm25s`` leaves it out). Measures come from ir-measures (trec_eval's definitions
through pytrec_eval): nDCG@10 with graded qrels, R@100, AP over the top ``--depth`` (100).

Variants:
- default: the settings in searchkit/config.py (k1 0.9, b 0.9, title weight 0.3; BM25F with
  Lucene's idf) and searchkit/index/analysis.py (Snowball stemmer, Whoosh's stop list; the
  query side analyses words by the same fixed rules, ``wordterms``, so the analyzer is not a
  variant here);
- no names: without the name-variant expansion of rare capitalised words (``--exact``);
- k1=..., b=...: BM25F's term saturation and length normalisation (the other one as default);
- title=...: the title field's weight against the paragraph text.
"""

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_DATA = REPO.parent / "shared" / "data" / "scifact"

try:
    import ir_measures
    from ir_measures import AP, R, nDCG
except ImportError:
    sys.exit(
        "bench/relevance.py needs ir-measures: python -m pip install -e '.[bench]' "
        "(or python -m pip install 'ir-measures>=0.3')"
    )

from searchkit.config import SearchOptions  # noqa: E402
from searchkit.errors import QueryError  # noqa: E402
from searchkit.model import replace  # noqa: E402
from searchkit.index.build import build_index  # noqa: E402
from searchkit.retrieval.searcher import Searcher  # noqa: E402

MEASURES = [nDCG @ 10, R @ 100, AP]

DEFAULT = SearchOptions()
# (label, SearchOptions, name variants on)
VARIANTS = [
    ("default", DEFAULT, True),
    ("no names (--exact)", DEFAULT, False),
    ("k1=0.9 b=0.4 (Anserini)", replace(DEFAULT, bm25_k1=0.9, bm25_b=0.4), True),
    ("k1=0.7", replace(DEFAULT, bm25_k1=0.7), True),
    ("k1=1.2 b=0.75 (Whoosh's)", replace(DEFAULT, bm25_k1=1.2, bm25_b=0.75), True),
    ("k1=1.5", replace(DEFAULT, bm25_k1=1.5), True),
    ("b=0.5", replace(DEFAULT, bm25_b=0.5), True),
    ("b=0.75", replace(DEFAULT, bm25_b=0.75), True),
    ("title=0", replace(DEFAULT, title_weight=0.0), True),
    ("title=0.2", replace(DEFAULT, title_weight=0.2), True),
    ("title=0.6", replace(DEFAULT, title_weight=0.6), True),
    ("title=1.0", replace(DEFAULT, title_weight=1.0), True),
]


def load(data: Path, limit):
    queries = {}
    with open(data / "queries.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            queries[str(record["_id"])] = record["text"]
    qrels = {}
    with open(data / "qrels" / "train.tsv", encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    ids = sorted(qrels, key=int)[:limit] if limit else sorted(qrels, key=int)
    return {q: queries[q] for q in ids}, {q: qrels[q] for q in ids}


def run(index_dir: Path, options: SearchOptions, names: bool, queries: dict, depth: int):
    ranked = {}
    with Searcher(index_dir, options) as searcher:
        for qid, text in queries.items():
            try:
                hits = searcher.search_documents(text, depth, variants=names, syntax=False)
            except QueryError:
                hits = ()
            ranked[qid] = {hit.doc_id: hit.score for hit in hits}
    return ranked


def bm25s_run(data: Path, queries: dict, depth: int) -> dict:
    """bm25s's ranking of ``queries`` over the title and text of each abstract."""
    import bm25s
    import Stemmer

    ids, texts = [], []
    with open(data / "corpus.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            ids.append(str(record["_id"]))
            texts.append(record.get("title", "") + " " + record["text"])
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    qids = list(queries)
    tokens = bm25s.tokenize([queries[q] for q in qids], stopwords="en", stemmer=stemmer,
                            show_progress=False)
    found, scores = retriever.retrieve(tokens, k=depth, show_progress=False, n_threads=1)
    return {q: {ids[i]: float(s) for i, s in zip(row, score_row)}
            for q, row, score_row in zip(qids, found.tolist(), scores.tolist())}


def write_run(path: Path, ranked: dict, name: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for qid, docs in ranked.items():
            for rank, (doc, score) in enumerate(docs.items(), start=1):
                out.write(f"{qid} Q0 {doc} {rank} {score} {name}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--queries", type=int, help="only the first N train queries (by id)")
    parser.add_argument("--depth", type=int, default=100, help="documents ranked per query")
    parser.add_argument("--only", action="append", help="run only variants with this label "
                        "prefix (repeatable), e.g. --only default --only k1")
    parser.add_argument("--runs-dir", type=Path, help="also write each variant's TREC run here")
    parser.add_argument("--no-bm25s", action="store_true", help="leave out bm25s's row")
    args = parser.parse_args()

    queries, qrels = load(args.data, args.queries)
    variants = [v for v in VARIANTS
                if not args.only or any(v[0].startswith(prefix) for prefix in args.only)]
    print(f"SciFact train: {len(queries)} queries, {sum(map(len, qrels.values()))} judgments; "
          f"corpus {args.data / 'corpus.jsonl'}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory(prefix="searchkit-relevance-") as tmp:
        index_dir = Path(tmp) / "index"
        if variants:
            started = time.perf_counter()
            build_index([args.data / "corpus.jsonl"], index_dir, rebuild=True,
                        find_duplicates=False)
            print(f"built the index in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for label, options, names in variants:
            started = time.perf_counter()
            ranked = run(index_dir, options, names, queries, args.depth)
            seconds = time.perf_counter() - started
            scores = ir_measures.calc_aggregate(MEASURES, qrels, ranked)
            if args.runs_dir:
                args.runs_dir.mkdir(parents=True, exist_ok=True)
                write_run(args.runs_dir / (label.split(" (")[0].replace(" ", "_") + ".trec"),
                          ranked, "searchkit")
            row = (label, scores[nDCG @ 10], scores[R @ 100], scores[AP], seconds)
            rows.append(row)
            print("{:<26} nDCG@10 {:.4f}  R@100 {:.4f}  MAP {:.4f}  ({:.0f} s)".format(*row),
                  file=sys.stderr)

    if not args.no_bm25s:
        started = time.perf_counter()
        ranked = bm25s_run(args.data, queries, args.depth)
        scores = ir_measures.calc_aggregate(MEASURES, qrels, ranked)
        rows.append(("bm25s (Lucene k1 1.2 b 0.75)", scores[nDCG @ 10], scores[R @ 100],
                     scores[AP], time.perf_counter() - started))
    print(f"\nSciFact train ({len(queries)} queries), depth {args.depth}\n")
    print(f"| {'variant':<26} | nDCG@10 | R@100  | MAP    | seconds |")
    print(f"|{'-' * 28}|---------|--------|--------|---------|")
    for label, ndcg, recall, ap, seconds in rows:
        print(f"| {label:<26} | {ndcg:.4f}  | {recall:.4f} | {ap:.4f} | {seconds:7.0f} |")


if __name__ == "__main__":
    main()
