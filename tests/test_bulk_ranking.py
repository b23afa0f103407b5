"""An index written by the bulk writer ranks exactly as one written by Whoosh's writer: the same
documents committed in the same runs (several segments, deletions) give the same ranking
arrays, array by array and byte for byte, and the engine the same hits in the same order with
the same scores."""

import json
import re
from datetime import date

import numpy as np
import pytest

import searchkit
from searchkit.index import bulkwrite, store
from searchkit.errors import QueryError
from searchkit.retrieval.plan import Filters
from searchkit.index.rankarrays import EXTENSION, SegmentArrays
from searchkit.index.schema import make_schema

from conftest import SEEDS
from enginecheck import RELATIVE, Check, sample_queries
from test_bulkwrite import documents_of, odd_documents

QUERIES = ["Minsk", "talks talks", "the Minsk", "Café naïve", "Ærøskøbing Straße", "Łódź",
           "日本語 テスト", "日本", "ﬁnance", "O'Neill’s rock 'n' roll", "U.S. 3.5%", "v1.2.3",
           "minister opposition election", "cat mat", "talks", "resume Monday protests",
           '"disputed election"', "title:Minsk", "Minsk AND talks"]
FILTERS = [Filters(), Filters(since=date(1987, 3, 10)), Filters(kinds=("body",)),
           Filters(sources=("BBC",))]


def runs():
    """The documents of each run, and the paragraph ids each run deletes first: the seeds and
    odd text (empty fields, one-word paragraphs, unicode, 400-word passages, undated) in three
    runs, the third deleting a few paragraphs of the first two."""
    docs = documents_of([SEEDS]) + odd_documents()
    third = len(docs) // 3
    batches = [docs[:third], docs[third:2 * third], docs[2 * third:]]
    gone = [d["id"] for d in batches[0][::9] + batches[1][1::11]]
    return [(batches[0], []), (batches[1], []), (batches[2], gone)]


def build(index_dir, bulk):
    """An index of ``runs()``, each run one commit of Whoosh's writer or of the bulk writer."""
    ix = store.create_index(index_dir, make_schema())
    for number, (docs, gone) in enumerate(runs()):
        writer = store.open_writer(ix)
        for paragraph_id in gone:
            writer.delete_by_term("id", paragraph_id)
        segments = []
        if bulk:
            segments.append(bulkwrite.write_segment(writer.storage, writer.schema, docs,
                                                    indexname=writer.indexname))
        else:
            for doc in docs:
                writer.add_document(**doc)
        store.commit(writer, clear=number == 0, segments=segments)
        ix = store.open_index(index_dir)
    return index_dir


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    root = tmp_path_factory.mktemp("bulk-ranking")
    opened = {}
    for name, bulk in (("whoosh", False), ("bulk", True)):
        index_dir = build(root / name, bulk)
        searcher = searchkit.open_index(index_dir)
        opened[name] = (index_dir, searcher, Check(index_dir, searcher))
    yield opened
    for _, searcher, _ in opened.values():
        searcher.close()


def segments(index_dir):
    latest = max(int(p.stem.split("-")[1]) for p in index_dir.glob("segments-*.json"))
    return json.loads((index_dir / f"segments-{latest}.json").read_text())["segments"]


def test_the_indexes_have_the_same_segments_and_deletions(indexes):
    whoosh, bulk = (segments(indexes[name][0]) for name in ("whoosh", "bulk"))
    assert len(whoosh) == len(bulk) == 3
    assert sum(len(s["deleted"]) for s in whoosh) > 0
    for theirs, ours in zip(whoosh, bulk):
        assert {k: v for k, v in ours.items() if k != "id"} == {
            k: v for k, v in theirs.items() if k != "id"}


def test_every_ranking_array_is_the_same(indexes):
    (whoosh_dir, _, _), (bulk_dir, _, _) = indexes["whoosh"], indexes["bulk"]
    for theirs, ours in zip(segments(whoosh_dir), segments(bulk_dir)):
        paths = [folder / (s["id"] + EXTENSION)
                 for folder, s in ((whoosh_dir, theirs), (bulk_dir, ours))]
        expected, found = (SegmentArrays(str(path)) for path in paths)
        assert found.doc_count == expected.doc_count == theirs["doc_count"]
        assert sorted(found.arrays) == sorted(expected.arrays)
        for name, array in expected.arrays.items():
            assert found[name].dtype == array.dtype, name
            assert np.array_equal(found[name], array), name
        assert paths[0].read_bytes() == paths[1].read_bytes()


def ranking(check, text, filters):
    """The engine's whole ranking: (paragraph id, score) in order."""
    found, _ = check.engine_ranking(text, filters)
    return [(check.whoosh.stored_fields(doc)["id"], score) for doc, score in found]


def test_the_engine_ranks_both_indexes_alike(indexes):
    (_, whoosh_searcher, whoosh_check), (_, bulk_searcher, bulk_check) = (
        indexes["whoosh"], indexes["bulk"])
    texts = [f["text"] for f in whoosh_check.whoosh.all_stored_fields()]
    queries = QUERIES + sample_queries(texts, 120, seed=5)
    compared = 0
    for number, text in enumerate(queries):
        filters = FILTERS[number % len(FILTERS)]
        try:
            expected = ranking(whoosh_check, text, filters)
        except QueryError as error:  # nothing to search for (a stop word): refused alike
            with pytest.raises(QueryError, match=re.escape(str(error))):
                ranking(bulk_check, text, filters)
            continue
        found = ranking(bulk_check, text, filters)
        assert [d for d, _ in found] == [d for d, _ in expected], text
        for (_, want), (_, got) in zip(expected, found):
            assert abs(want - got) <= RELATIVE * abs(want), text
        compared += bool(expected)
        shown = [whoosh_searcher.search(text, limit=10, filters=filters),
                 bulk_searcher.search(text, limit=10, filters=filters)]
        assert shown[1].total == shown[0].total, text
        assert [(h.id, h.score) for h in shown[1].hits] == [
            (h.id, h.score) for h in shown[0].hits], text
        # and the bulk-written index ranks as Whoosh itself ranks it
        if number % 3 == 0:
            assert bulk_check.compare(text, filters) is None
    assert compared > 100
