"""Batch search (`searchkit search --batch`) and document ranking (Searcher.search_documents):
TREC runs and JSON lines over a JSON-lines corpus whose records carry their own ids."""

import csv
import json
import random

import pytest
from click.testing import CliRunner
from conftest import DATA, S000, needs_data

import searchkit
from searchkit.retrieval.batch import read_queries
from searchkit.cli.commands import main
from searchkit.retrieval.searcher import Searcher

# Each query's expected ranking follows from the counts of its words: more mentions in a short
# abstract rank higher; a document made of several paragraphs counts them all.
CORPUS = [
    {"_id": "101", "title": "Vitamin D and bone density",
     "text": "Vitamin D supplements raise bone density in older adults. Bone density matters."},
    {"_id": "102", "title": "Coffee and the heart",
     "text": "Coffee drinking and heart disease.\nA second paragraph: coffee, coffee, coffee."},
    {"_id": "103", "title": "Sleep",
     "text": "Sleep loss harms memory; bone density was not measured."},
    {"_id": "104", "title": "Tea", "text": "Green tea and heart health in a cohort."},
    {"title": "No id here", "text": "A record without an id is numbered by its line: coffee."},
]


@pytest.fixture
def run(monkeypatch):
    monkeypatch.delenv("SEARCHKIT_INDEX", raising=False)

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    return invoke


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    (folder / "abstracts.jsonl").write_text(
        "".join(json.dumps(record) + "\n" for record in CORPUS), encoding="utf-8"
    )
    searchkit.build_index([folder / "abstracts.jsonl"], folder / "ix")
    return folder / "ix"


def trec_rows(stdout: str):
    rows = [line.split(" ") for line in stdout.splitlines()]
    assert all(len(row) == 6 for row in rows), stdout
    return rows


def test_search_documents_ranks_each_article_once(corpus_index):
    with Searcher(corpus_index) as searcher:
        hits = searcher.search_documents("coffee", limit=10)
    assert [h.doc_id for h in hits] == ["102", "5"]  # 102 once, for both its paragraphs
    assert [h.rank for h in hits] == [1, 2]
    assert hits[0].article_id == "abstracts:102" and hits[0].paragraph_id == "abstracts:102#2"
    assert hits[1].article_id == "abstracts:5"  # no _id: the line number is the record id
    assert hits[0].score > hits[1].score > 0


def test_search_documents_depth_and_errors(corpus_index):
    with Searcher(corpus_index) as searcher:
        assert [h.doc_id for h in searcher.search_documents("bone density", limit=1)] == ["101"]
        with pytest.raises(searchkit.QueryError):
            searcher.search_documents("*", limit=10)


@pytest.mark.parametrize("filters, message", [
    (searchkit.Filters(sources=("Nowhere Times",)), "no source 'Nowhere Times'"),
    (searchkit.Filters(since="2021-05", until="2020-01"), "after the end date"),
])
def test_search_documents_refuses_filters_nothing_can_pass(corpus_index, filters, message):
    with Searcher(corpus_index) as searcher:
        with pytest.raises(searchkit.QueryError, match=message):
            searcher.search_documents("coffee", limit=10, filters=filters)


def test_a_batch_with_an_unknown_source_is_refused_once(run, corpus_index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tcoffee\nq2\tbone density\n")
    result = run("search", "--batch", queries, "--source", "Nowhere Times",
                 "--index", corpus_index)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("no source 'Nowhere Times'") == 1, result.stderr
    assert "warning" not in result.stderr


def test_article_ids_are_doc_ids_outside_json_lines(searcher):
    hits = searcher.search_documents("dialogue with the opposition", limit=5)
    assert hits[0].doc_id == S000 == hits[0].article_id
    assert len({h.doc_id for h in hits}) == len(hits) == 5


def test_batch_tsv_writes_a_trec_run(run, corpus_index, tmp_path):
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tbone density\nq2\tcoffee heart\nq3\tnothing matches zzzz\n")
    result = run("search", "--batch", queries, "--index", corpus_index, "--run-name", "bm25")
    assert result.exit_code == 0, result.stderr
    rows = trec_rows(result.stdout)
    assert [row[:4] + row[5:] for row in rows] == [
        ["q1", "Q0", "101", "1", "bm25"],
        ["q1", "Q0", "103", "2", "bm25"],
        ["q2", "Q0", "102", "1", "bm25"],
        ["q2", "Q0", "104", "2", "bm25"],
        ["q2", "Q0", "5", "3", "bm25"],
    ]
    for qid in ("q1", "q2"):
        scores = [float(row[4]) for row in rows if row[0] == qid]
        assert scores == sorted(scores, reverse=True) and scores[-1] > 0
    assert result.stderr.strip().startswith("3 queries, 5 documents ranked (1 found nothing)")


def test_batch_json_lines_queries_and_output(run, corpus_index, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        json.dumps({"_id": 7, "text": "coffee", "metadata": {}}) + "\n"
        + json.dumps({"_id": "8", "text": "bone"}) + "\n"
    )
    result = run("search", "--batch", queries, "--index", corpus_index, "--format", "jsonl",
                 "-n", "1")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["qid"], r["query"], [h["doc_id"] for h in r["results"]]) for r in lines] == [
        ("7", "coffee", ["102"]),
        ("8", "bone", ["101"]),
    ]
    assert lines[0]["results"][0] == {
        "rank": 1, "doc_id": "102", "score": lines[0]["results"][0]["score"],
        "article_id": "abstracts:102", "paragraph_id": "abstracts:102#2",
    }


def test_batch_docids_are_unique_per_query(run, corpus_index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("a\tcoffee heart bone density tea sleep\n")
    result = run("search", "--batch", queries, "--index", corpus_index, "-n", "100")
    assert result.exit_code == 0, result.stderr
    docids = [row[2] for row in trec_rows(result.stdout)]
    assert sorted(docids) == ["101", "102", "103", "104", "5"]
    assert [int(row[3]) for row in trec_rows(result.stdout)] == [1, 2, 3, 4, 5]


def test_batch_bad_lines_warn_and_the_rest_run(run, corpus_index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text(
        "q1\tcoffee\n"
        "no tab on this line\n"
        "\tno id\n"
        "q2\t\n"
        "q1\tthe same id again\n"
        "q 3\tspace in the id\n"
        "q4\t*\n"
        "q5\tbone\n"
    )
    result = run("search", "--batch", queries, "--index", corpus_index, "--format", "trec")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert [row[0] for row in trec_rows(result.stdout)] == ["q1", "q1", "q5", "q5"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert [w.split(": ", 2)[1] for w in warnings] == [
        f"{queries} line {n}" for n in (2, 3, 4, 5, 6, 7)
    ]
    assert "no tab" in warnings[0] and "already used on line 1" in warnings[3]
    assert "query 'q4'" in warnings[5] and "no results" in warnings[5]
    assert "5 bad lines skipped; 1 could not be run" in result.stderr


def test_batch_bad_json_lines_warn(run, corpus_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"_id": "1", "text": "coffee"}\n{not json\n[1, 2]\n{"_id": "2"}\n')
    result = run("search", "--batch", queries, "--index", corpus_index, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["qid"] for line in result.stdout.splitlines()] == ["1"]
    assert "line 2: not valid JSON" in result.stderr
    assert "line 3: a JSON list, not an object" in result.stderr
    assert "line 4: query '2' has no \"text\"" in result.stderr


def test_unparseable_query_gets_an_empty_json_list(run, corpus_index, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("x\tthe of\ny\tcoffee\n")
    result = run("search", "--batch", queries, "--index", corpus_index, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["results"] == [] and "only stop words" in first["error"]
    assert second["results"][0]["doc_id"] == "102"


@pytest.mark.parametrize(
    "args, message",
    [
        (["coffee", "--batch", "{q}"], "not both"),
        (["--batch", "{q}", "--format", "table"], "trec or jsonl"),
        (["--batch", "{q}", "--sort", "date"], "--sort cannot be used with --batch"),
        (["--batch", "{q}", "--run-name", "two words"], "one word"),
        (["coffee", "--format", "trec"], "--format trec is for --batch"),
        ([], "give a QUERY"),
    ],
)
def test_batch_usage_errors(run, corpus_index, tmp_path, args, message):
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tcoffee\n")
    args = [str(queries) if a == "{q}" else a for a in args]
    result = run("search", *args, "--index", corpus_index)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_batch_file_must_exist(run, corpus_index, tmp_path):
    result = run("search", "--batch", tmp_path / "missing.tsv", "--index", corpus_index)
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_read_queries_utf8_bom_and_blank_lines(tmp_path):
    path = tmp_path / "q.tsv"
    path.write_bytes("\ufeffq1\tcafé au lait\n\n  \nq2\tbone\n".encode("utf-8"))
    queries, warnings = read_queries(path)
    assert [(q.line, q.id, q.text) for q in queries] == [(1, "q1", "café au lait"),
                                                         (4, "q2", "bone")]
    assert warnings == []
    path.write_bytes(b"q1\t\xff\xfe\n")
    with pytest.raises(searchkit.SearchkitError, match="not UTF-8"):
        read_queries(path)


SCIFACT = DATA / "scifact"


@needs_data("scifact")
def test_scifact_slice_ranks_relevant_abstracts_high(run, tmp_path):
    """Twelve real train claims against their judged abstracts plus 300 others: a relevant
    abstract is in the top 10 for most of them."""
    qrels = {}
    with open(SCIFACT / "qrels" / "train.tsv", encoding="utf-8") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    chosen = sorted(qrels, key=int)[:12]
    wanted = set().union(*(qrels[q] for q in chosen))
    lines = (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    others = [line for line in lines if json.loads(line)["_id"] not in wanted]
    judged = [line for line in lines if json.loads(line)["_id"] in wanted]
    random.Random(0).shuffle(others)
    (tmp_path / "slice.jsonl").write_text("\n".join(judged + others[:300]) + "\n")
    queries = {}
    with open(SCIFACT / "queries.jsonl", encoding="utf-8") as records:
        for line in records:
            record = json.loads(line)
            if record["_id"] in chosen:
                queries[record["_id"]] = line
    (tmp_path / "q.jsonl").write_text("".join(queries[q] for q in chosen))
    assert run("index", tmp_path / "slice.jsonl", "--index", tmp_path / "ix", "-q").exit_code == 0
    result = run("search", "--batch", tmp_path / "q.jsonl", "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.stderr
    top = {}
    for qid, _, docid, _, _, _ in trec_rows(result.stdout):
        top.setdefault(qid, []).append(docid)
    found = [q for q in chosen if qrels[q] & set(top.get(q, []))]
    assert len(found) >= 9, (found, top)
