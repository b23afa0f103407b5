"""The writer's codec writes the same files as Whoosh's W3 codec, and leaves no trace of itself
in the index."""

import hashlib

import pytest
from conftest import SEEDS, samples_and, sources
from whoosh.codec.whoosh3 import W3Codec

import searchkit
from searchkit.index import analysis, codec, build, schema


def segment_files(index_dir):
    """Each segment file's SHA-1 by its name without the (random) segment id."""
    found = {}
    for path in index_dir.glob("MAIN_*.*"):
        found.setdefault(path.name.split(".", 1)[1], []).append(
            hashlib.sha1(path.read_bytes()).hexdigest())
    return {name: sorted(digests) for name, digests in found.items()}


def build_both(tmp_path, monkeypatch, sources):
    searchkit.build_index(sources, tmp_path / "fast")
    monkeypatch.setattr(codec.BuildCodec, "per_document_reader", W3Codec.per_document_reader)
    searchkit.build_index(sources, tmp_path / "plain")
    return segment_files(tmp_path / "fast"), segment_files(tmp_path / "plain")


@pytest.mark.parametrize("corpus", samples_and("bbc"))
def test_segments_are_byte_for_byte_whooshs(tmp_path, monkeypatch, corpus):
    fast, plain = build_both(tmp_path, monkeypatch, sources(corpus, tmp_path / "samples"))
    assert {"pst", "trm", "_text_len.col", "_stored.col"} <= set(fast)
    assert fast == plain


def postings_by_paragraph(index_dir):
    """Every term's postings as (paragraph id, weight, value), and each paragraph's field
    lengths: what must not depend on which writer process took which documents."""
    with searchkit.index.store.open_index(index_dir).searcher() as searcher:
        reader = searcher.reader()
        ids = {n: fields["id"] for n, fields in enumerate(reader.all_stored_fields())}
        postings = {}
        for name, term in reader.all_terms():
            matcher = reader.postings(name, term)
            found = []
            while matcher.is_active():
                found.append((ids[matcher.id()], matcher.weight(), matcher.value()))
                matcher.next()
            postings[name, term] = sorted(found)
        lengths = {ids[n]: (reader.doc_field_length(n, "text"), reader.doc_field_length(
            n, "title")) for n in ids}
    return postings, lengths


@pytest.mark.parametrize("early_helper", [False, True])
def test_two_writer_processes_index_the_same(tmp_path, monkeypatch, early_helper):
    """A helper forked when the segments are written, or the one forked before the reading."""
    monkeypatch.setattr(build, "BYTES_A_PARAGRAPH", 400 if early_helper else 10**12)
    monkeypatch.setattr(build, "PARALLEL_FROM", 1)
    monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)
    searchkit.build_index([SEEDS], tmp_path / "fast")
    assert len(list((tmp_path / "fast").glob("MAIN_*.pst"))) == 2  # a segment per process
    monkeypatch.setattr(codec.BuildCodec, "per_document_reader", W3Codec.per_document_reader)
    monkeypatch.setattr(build, "PARALLEL_FROM", 10**9)
    searchkit.build_index([SEEDS], tmp_path / "plain")
    assert postings_by_paragraph(tmp_path / "fast") == postings_by_paragraph(tmp_path / "plain")


def test_the_index_records_whooshs_codec_not_searchkits(seed_index):
    with searchkit.index.store.open_index(seed_index).searcher() as searcher:
        for reader, _ in searcher.reader().leaf_readers():
            assert type(reader.segment().codec()) is W3Codec
    for toc in seed_index.glob("_MAIN_*.toc"):
        assert b"searchkit.index.codec" not in toc.read_bytes()


# Field length totals: what BM25F's average field length is made of.

QUERIES = ["Belarus", "Merkel Putin", '"renounce violence"', "dialogue with the opposition",
           "title:Trump", "protest*"]


def documents(index_dir):
    """Every paragraph's stored fields (all of searchkit's fields are stored), in index order."""
    with searchkit.index.store.open_index(index_dir).searcher() as searcher:
        return list(searcher.all_stored_fields())


def scores(index_dir):
    """Each query's BM25F score of every paragraph it matches, as searchkit weighs them."""
    from whoosh import index, qparser

    from searchkit.retrieval import weighting

    options = searchkit.SearchOptions()
    ix = index.open_dir(str(index_dir))  # Whoosh's own reading of either index
    model = weighting.bm25f(options)
    found = {}
    with ix.searcher(weighting=model) as searcher:
        parser = qparser.QueryParser("text", ix.schema)
        for text in QUERIES:
            hits = searcher.search(parser.parse(text), limit=None)
            found[text] = {hit["id"]: hit.score for hit in hits}
    assert all(found.values())
    return found


def assert_totals_are_the_documents_lengths(index_dir):
    with searchkit.index.store.open_index(index_dir).searcher() as searcher:
        reader = searcher.reader()
        for name in schema.SEARCH_FIELDS:
            lengths = [reader.doc_field_length(n, name) or 0
                       for n in range(reader.doc_count_all())]
            assert reader.field_length(name) == sum(lengths), name


def test_field_totals_are_the_sum_of_the_documents_lengths(seed_index):
    assert_totals_are_the_documents_lengths(seed_index)


def test_scores_are_the_same_fresh_merged_optimized_and_as_whooshs_writer(tmp_path):
    from whoosh import index
    from whoosh.fields import TEXT

    seeds = sorted(SEEDS.glob("*.txt"))
    searchkit.build_index(seeds, tmp_path / "fresh")
    searchkit.build_index(seeds[:2], tmp_path / "runs")  # two segments: a merge to optimize
    searchkit.build_index(seeds[2:], tmp_path / "runs")
    assert searchkit.index.store.check(tmp_path / "runs").segments == 2
    fresh = scores(tmp_path / "fresh")
    assert scores(tmp_path / "runs") == fresh
    summary = searchkit.index.store.optimize(tmp_path / "runs")
    assert summary.merged and summary.segments_after == 1
    assert scores(tmp_path / "runs") == fresh
    for index_dir in (tmp_path / "fresh", tmp_path / "runs"):
        assert_totals_are_the_documents_lengths(index_dir)

    # Whoosh's own writer and TEXT field with the same analyzer, the same documents. Its fresh
    # totals add exact lengths, its merges the rounded ones BM25F reads: merged, it agrees.
    stock = schema.make_schema()
    for name in schema.SEARCH_FIELDS:
        stock.remove(name)
        stock.add(name, TEXT(stored=True, analyzer=analysis.text_analyzer()))
    (tmp_path / "whoosh").mkdir()
    ix = index.create_in(str(tmp_path / "whoosh"), stock)
    writer = ix.writer()
    for fields in documents(tmp_path / "fresh"):
        writer.add_document(**fields)
    writer.commit()
    ix.writer().commit(optimize=True)
    assert scores(tmp_path / "whoosh") == fresh


def test_optimize_leaves_one_segment_without_deletions_alone(seed_index, tmp_path):
    from click.testing import CliRunner

    from searchkit.cli.commands import main

    index_dir = tmp_path / "ix"
    searchkit.build_index([SEEDS], index_dir)
    files = {p.name: p.stat().st_mtime_ns for p in index_dir.iterdir()}
    result = CliRunner().invoke(main, ["optimize", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"nothing to optimize: {index_dir} is one segment with no deleted "
                             "paragraphs (341 paragraphs)\n")
    assert {p.name: p.stat().st_mtime_ns for p in index_dir.iterdir()} == files
