"""The writer's codec writes the same files as Whoosh's W3 codec, and leaves no trace of itself
in the index."""

import hashlib

import pytest
from conftest import SEEDS, samples_and, sources
from whoosh.codec.whoosh3 import W3Codec

import searchkit
from searchkit import codec, indexer


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
    with searchkit.store.open_index(index_dir).searcher() as searcher:
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


def test_two_writer_processes_index_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(indexer, "PARALLEL_FROM", 1)
    monkeypatch.setattr(indexer, "PARALLEL_SPARE_CORES", None)
    searchkit.build_index([SEEDS], tmp_path / "fast")
    assert len(list((tmp_path / "fast").glob("MAIN_*.pst"))) == 2  # a segment per process
    monkeypatch.setattr(codec.BuildCodec, "per_document_reader", W3Codec.per_document_reader)
    monkeypatch.setattr(indexer, "PARALLEL_FROM", 10**9)
    searchkit.build_index([SEEDS], tmp_path / "plain")
    assert postings_by_paragraph(tmp_path / "fast") == postings_by_paragraph(tmp_path / "plain")


def test_the_index_records_whooshs_codec_not_searchkits(seed_index):
    with searchkit.store.open_index(seed_index).searcher() as searcher:
        for reader, _ in searcher.reader().leaf_readers():
            assert type(reader.segment().codec()) is W3Codec
    for toc in seed_index.glob("_MAIN_*.toc"):
        assert b"searchkit.codec" not in toc.read_bytes()
