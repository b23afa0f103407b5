"""The bulk merge (``bulkmerge``) writes the segment Whoosh's own optimize writes of the same
segments: every term's postings (documents, weights, positions, block statistics), every
field's lengths and totals, stored fields, columns and ranking arrays, deleted documents left
out; on the seeds, odd text, a BBC slice and a SciFact slice."""

import shutil
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bulkwrite import (assert_read_the_same, corpora, documents_of, everything,
                            odd_documents)
from samples import write_wire
from whoosh import writing
from whoosh.codec.whoosh3 import W3TermInfo
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC

import searchkit
from conftest import SEEDS, reseal
from searchkit.index import bulkmerge, bulkwrite, durable, rankarrays, safepickle, store
from searchkit.index.codec import BuildCodec
from searchkit.index.schema import make_schema


def segments_with_deletions(docs, folder):
    """An index of ``docs`` in three bulk-written segments, some documents of each deleted
    (every seventh, and the whole of a short run), as updates leave them."""
    storage = FileStorage(str(folder)).create()
    ix = storage.create_index(make_schema())
    thirds = [docs[: len(docs) // 3], docs[len(docs) // 3: len(docs) // 2],
              docs[len(docs) // 2:]]
    segments = []
    for part in thirds:
        segment = bulkwrite.write_segment(storage, ix.schema, part)
        for docnum in range(0, len(part), 7):
            segment.delete_document(docnum)
        segments.append(segment)
    for docnum in range(min(5, segments[1].doc_count_all())):
        segments[1].delete_document(docnum)
    TOC(ix.schema, segments, 1).write(storage, "MAIN")
    return storage


def whooshs_merge(folder):
    ix = FileStorage(str(folder)).open_index()
    writer = ix.writer(compound=False, codec=BuildCodec())
    writer.commit(mergetype=writing.OPTIMIZE)
    return ix


def bulk_merge(folder, **options):
    storage = FileStorage(str(folder))
    ix = storage.open_index()
    segments = ix._read_toc().segments

    def arrays_of(segment):
        return rankarrays.SegmentArrays(str(Path(folder) / (segment.segment_id()
                                                            + rankarrays.EXTENSION)))

    merged = bulkmerge.merge_segments(storage, ix.schema, segments, arrays_of, **options)
    TOC(ix.schema, [merged], ix.latest_generation() + 1).write(storage, "MAIN")
    return ix


def merged_files(ix):
    (segment,) = ix._read_toc().segments
    folder = Path(ix.storage.folder)
    return {p.name.split(".", 1)[1]: p.read_bytes()
            for p in folder.glob(segment.segment_id() + ".*")}


def merged_both_ways(docs, tmp_path, **options):
    segments_with_deletions(docs, tmp_path / "whoosh")
    shutil.copytree(tmp_path / "whoosh", tmp_path / "bulk")
    return whooshs_merge(tmp_path / "whoosh"), bulk_merge(tmp_path / "bulk", **options)


@pytest.mark.parametrize("make", corpora())
def test_a_stock_reader_reads_what_whooshs_merge_wrote(make, tmp_path):
    docs = make()
    theirs_ix, ours_ix = merged_both_ways(docs, tmp_path)
    theirs, ours = everything(tmp_path / "whoosh"), everything(tmp_path / "bulk")
    assert ours["doc_count"] < len(docs)
    assert_read_the_same(ours, theirs)
    mine, whooshs = merged_files(ours_ix), merged_files(theirs_ix)
    assert sorted(mine) == sorted(whooshs)
    assert mine["rank"] == whooshs["rank"]
    (merged,) = ours_ix._read_toc().segments  # positions joined from the old segments' arrays
    arrays = rankarrays.SegmentArrays(str(tmp_path / "bulk" / (merged.segment_id()
                                                               + rankarrays.EXTENSION)))
    assert arrays.has_positions("text") and arrays["text.positions"].size


def test_a_merge_with_a_segment_written_before_positions_has_none(tmp_path):
    """One old segment's arrays without positions (as a version before them wrote them):
    the merged segment's have none either, and the rest is as Whoosh's merge writes it."""
    segments_with_deletions(documents_of([SEEDS]), tmp_path / "whoosh")
    shutil.copytree(tmp_path / "whoosh", tmp_path / "bulk")
    path = sorted((tmp_path / "bulk").glob("*" + rankarrays.EXTENSION))[1]
    found = rankarrays.SegmentArrays(str(path))
    kept = {name: np.array(array) for name, array in found.arrays.items()
            if "position" not in name}
    del found
    path.write_bytes(b"".join(bytes(p) for p in rankarrays.encode(kept["date"].size, kept)))
    theirs_ix, ours_ix = whooshs_merge(tmp_path / "whoosh"), bulk_merge(tmp_path / "bulk")
    (merged,) = ours_ix._read_toc().segments
    arrays = rankarrays.SegmentArrays(str(tmp_path / "bulk" / (merged.segment_id()
                                                               + rankarrays.EXTENSION)))
    (expected,) = theirs_ix._read_toc().segments
    whooshs = rankarrays.SegmentArrays(str(tmp_path / "whoosh" / (expected.segment_id()
                                                                  + rankarrays.EXTENSION)))
    assert not arrays.has_positions("text") and not arrays.has_positions("title")
    assert sorted(arrays.arrays) == sorted(n for n in whooshs.arrays if "position" not in n)
    for name, array in arrays.arrays.items():
        assert np.array_equal(array, whooshs[name]), name


@pytest.mark.parametrize("make", corpora()[:2])
def test_with_whooshs_compression_the_postings_are_whooshs_byte_for_byte(make, tmp_path):
    theirs_ix, ours_ix = merged_both_ways(make(), tmp_path, whoosh_bytes=True)
    mine, whooshs = merged_files(ours_ix), merged_files(theirs_ix)
    for name in whooshs:
        if name != "_stored.col":  # Whoosh pickles each stored document anew
            assert mine[name] == whooshs[name], name


@pytest.mark.parametrize("at_a_time, record_bytes, documents", [(1, 8, 1), (5, 77, 7)])
def test_terms_merged_a_few_postings_at_a_time_give_the_same_files(
        at_a_time, record_bytes, documents, tmp_path, monkeypatch):
    """A few postings at a time, the term records read a few bytes at a time (fewer than a
    record's: each read is as long as the record needs), the per-document ranking arrays
    joined a few documents at a time."""
    docs = documents_of([SEEDS])
    segments_with_deletions(docs, tmp_path / "whole")
    shutil.copytree(tmp_path / "whole", tmp_path / "sliced")
    whole = merged_files(bulk_merge(tmp_path / "whole"))
    monkeypatch.setattr(bulkmerge, "_POSTINGS_AT_A_TIME", at_a_time)
    monkeypatch.setattr(bulkmerge, "_RECORDS_AT_A_TIME", record_bytes)
    monkeypatch.setattr(bulkmerge, "_DOCS_AT_A_TIME", documents)
    sliced = merged_files(bulk_merge(tmp_path / "sliced"))
    assert sorted(sliced) == sorted(whole)
    for name in whole:
        assert sliced[name] == whole[name], name


def test_segments_with_no_live_document_merge_into_none(tmp_path):
    docs = documents_of([SEEDS])[:20]
    storage = FileStorage(str(tmp_path)).create()
    ix = storage.create_index(make_schema())
    segment = bulkwrite.write_segment(storage, ix.schema, docs)
    for docnum in range(len(docs)):
        segment.delete_document(docnum)
    assert bulkmerge.merge_segments(storage, ix.schema, [segment], lambda s: None) is None


def test_updates_merge_their_small_segments_in_bulk_and_find_what_a_fresh_build_finds(
        tmp_path):
    """Once MERGE_AT small segments have piled up, an update merges them (bulkmerge) with
    the paragraphs of a changed file deleted: the index then searches as a fresh build of
    the same files does, and `check` finds nothing wrong."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    write_wire(corpus / "wire", stories=20)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    stories = sorted((corpus / "wire").glob("*.txt"))
    for n in range(durable.MERGE_AT + 1):
        (corpus / f"added-{n}.txt").write_text(
            f"Added story {n}\n\nThe council met on day {n} to discuss the harbour.\n")
        if n == 2:  # a changed file: its old paragraphs deleted
            stories[0].write_text(stories[0].read_text() + "\n\nA late paragraph.\n")
        searchkit.build_index([corpus], index_dir)
    generation = store.latest_generation(index_dir)
    segments = durable.read_toc(str(index_dir), generation).segments
    assert len(segments) < durable.MERGE_AT, [s.doc_count_all() for s in segments]
    assert store.check(index_dir).ok
    fresh = tmp_path / "fresh"
    searchkit.build_index([corpus], fresh)
    for query in ("harbour council", "Belarus", '"late paragraph"', "said", "title:story"):
        found = {(h.id, round(h.score, 4))
                 for h in searchkit.search(query, index_dir, limit=500, collapse=False).hits}
        expected = {(h.id, round(h.score, 4))
                    for h in searchkit.search(query, fresh, limit=500, collapse=False).hits}
        assert found == expected and found, query


def test_optimize_reports_each_step_of_its_merge(tmp_path):

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    (corpus / "added.txt").write_text("Added\n\nA second segment's one paragraph.\n")
    searchkit.build_index([corpus], index_dir)
    seen = []

    def progress(label, _total):
        return lambda done, total: seen.append((label, done, total))

    assert searchkit.optimize(index_dir, progress=progress).merged
    merging = [(done, total) for label, done, total in seen if label == "merging segments"]
    indexed = sum(1 for name in make_schema().names() if make_schema()[name].indexed)
    assert merging == [(n, indexed + 3) for n in range(1, indexed + 4)]
    assert seen[-1][0] == "committing"


ODD = odd_documents()


@settings(max_examples=max(settings().max_examples // 4, 5),
          suppress_health_check=list(HealthCheck))
@given(cuts=st.lists(st.integers(1, len(ODD) - 1), max_size=4, unique=True),
       deleted=st.sets(st.integers(0, len(ODD) - 1)), chunk=st.sampled_from([3, 1 << 18]))
def test_any_segments_and_deletions_merge_as_whoosh_merges_them(
        cuts, deleted, chunk, tmp_path_factory):
    """The odd documents cut into segments anywhere, any of them deleted (a whole segment, or
    all), merged a few postings or many at a time: what a stock reader reads is Whoosh's."""
    folder = tmp_path_factory.mktemp("merge")
    storage = FileStorage(str(folder / "whoosh")).create()
    ix = storage.create_index(make_schema())
    bounds = [0, *sorted(cuts), len(ODD)]
    segments = []
    for start, end in zip(bounds, bounds[1:]):
        segment = bulkwrite.write_segment(storage, ix.schema, ODD[start:end])
        for docnum in range(start, end):
            if docnum in deleted:
                segment.delete_document(docnum - start)
        segments.append(segment)
    TOC(ix.schema, segments, 1).write(storage, "MAIN")
    shutil.copytree(folder / "whoosh", folder / "bulk")
    if len(deleted) == len(ODD):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(bulkmerge, "_POSTINGS_AT_A_TIME", chunk)
            assert bulkmerge.merge_segments(FileStorage(str(folder / "bulk")), ix.schema,
                                            segments, lambda s: None) is None
        return
    whoosh_ix = whooshs_merge(folder / "whoosh")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bulkmerge, "_POSTINGS_AT_A_TIME", chunk)
        bulk_ix = bulk_merge(folder / "bulk")
    theirs, ours = everything(folder / "whoosh"), everything(folder / "bulk")
    assert ours == theirs
    assert merged_files(bulk_ix)["rank"] == merged_files(whoosh_ix)["rank"]


def test_a_posting_block_that_inflates_without_end_stops_the_merge_in_one_line(
        tmp_path, monkeypatch):
    """A hostile index's block may inflate to gigabytes: the merge stops reading it past a
    bound and says the index is damaged, in one line."""
    bombs = []

    def inflating(data, level):  # one posting block, then 200 MB of zeros pickle never reads
        if bombs or not data.startswith(b"\x80%c" % bulkwrite.BLOCK_PROTOCOL):
            return zlib.compress(data, level)
        bombs.append(data)
        return zlib.compress(data + b"\0" * (200 << 20), 1)

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    (corpus / "added.txt").write_text("Added\n\n" + "".join(  # blocks large enough to compress
        f"The harbour council met on day {n}.\n\n" for n in range(300)))
    monkeypatch.setattr(bulkwrite, "fast_compress", inflating)
    searchkit.build_index([corpus], index_dir)
    monkeypatch.undo()
    assert bombs
    tracemalloc.start()
    try:
        with pytest.raises(searchkit.SearchkitError, match="damaged") as raised:
            searchkit.optimize(index_dir)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "inflates past" in str(raised.value) and "\n" not in str(raised.value)
    assert peak < 3 * safepickle.INFLATED_MOST, peak


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory):
    """An index of the seeds in two segments, for ``optimize`` to merge."""
    index_dir = tmp_path_factory.mktemp("two") / "ix"
    seeds = sorted(SEEDS.glob("*.txt"))
    searchkit.build_index(seeds[:2], index_dir)
    searchkit.build_index(seeds[2:], index_dir)
    return index_dir


def _a_term_with_weights_swapped(arrays):
    """Two postings of a term, of different weights, trade them (the sum is the same)."""
    weights, starts = arrays["text.weights"], arrays["text.starts"].tolist()
    for low, high in zip(starts, starts[1:]):
        differ = np.flatnonzero(np.diff(weights[low:high]))
        if differ.size:
            i = low + int(differ[0])
            weights[[i, i + 1]] = weights[[i + 1, i]]
            return
    raise AssertionError("no term with postings of two weights")


CRAFTED = {
    "a term's weights swapped": _a_term_with_weights_swapped,
    "positions reversed": lambda a: a.update({"text.positions": a["text.positions"][::-1]}),
    "weights past the positions": lambda a: a.update(
        {"text.weights": a["text.weights"] * np.float32(1e9)}),
}


@pytest.mark.parametrize("damage", sorted(CRAFTED))
def test_positions_their_postings_contradict_stop_a_merge_in_one_line(two_segments, tmp_path,
                                                                      damage):
    """An old segment's arrays recorded as written (a crafted index) whose positions the
    postings' blocks contradict: the merge stops before it gathers them (a weight of 10**9
    would have it allocate terabytes) or writes them into the new segment for good."""
    index_dir = tmp_path / "ix"
    shutil.copytree(two_segments, index_dir)
    path = max(index_dir.glob("*" + rankarrays.EXTENSION), key=lambda p: p.stat().st_size)
    found = rankarrays.SegmentArrays(str(path))
    arrays = {name: np.array(array) for name, array in found.arrays.items()}
    del found
    CRAFTED[damage](arrays)
    path.write_bytes(b"".join(bytes(p) for p in rankarrays.encode(arrays["date"].size, arrays)))
    reseal(index_dir)
    with pytest.raises(searchkit.SearchkitError, match="damaged") as raised:
        searchkit.optimize(index_dir)
    assert "do not agree with the postings" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert searchkit.index.store.check(index_dir).segments == 2  # (the index as it was)


def test_segments_whose_rare_terms_hold_their_postings_inline_merge_as_the_others(
        tmp_path, monkeypatch):
    """Whoosh's writer can keep a rare term's postings in its term info (searchkit's writers
    do not, and Whoosh's own merge fails on them): the bulk merge reads them there, and
    merges the segments as it merges the same segments written without."""
    monkeypatch.setattr(W3TermInfo, "set_inline", W3TermInfo.set_inlined, raising=False)
    docs = documents_of([SEEDS])[:90]
    for name, inline in (("inline", 2), ("blocks", 1)):
        ix = FileStorage(str(tmp_path / name)).create().create_index(make_schema())
        for part in (docs[:40], docs[40:]):
            writer = ix.writer(compound=False, codec=BuildCodec(inlinelimit=inline))
            for doc in part:
                writer.add_document(**doc)
            writer.commit(mergetype=writing.NO_MERGE)
        writer = ix.writer(compound=False, codec=BuildCodec())
        for docnum in (3, 41, 42, 70):
            writer.delete_document(docnum)
        writer.commit(mergetype=writing.NO_MERGE)
        with ix.reader() as reader:
            assert len(reader.leaf_readers()) == 2
            assert any(leaf.term_info(*term).is_inlined()
                       for leaf, _ in reader.leaf_readers()
                       for term in leaf.all_terms()) == (inline > 1)
        bulk_merge(tmp_path / name)
    assert everything(tmp_path / "inline") == everything(tmp_path / "blocks")


def test_a_merge_stopped_midway_leaves_no_file_open(tmp_path, monkeypatch):
    """Stopped in a ranked field's postings (its weights in an unnamed scratch file), the
    merge closes every file it made before the error reaches its caller (the old segments'
    ranking arrays, mapped, are the caller's)."""
    segments_with_deletions(odd_documents(), tmp_path)
    old_files = {p.name for p in tmp_path.iterdir()}
    written = bulkmerge._write_postings

    def fails_in_text(pst, terms, fieldid, postings, *rest):
        if terms.fieldmap.get("text") == fieldid:
            raise ValueError("stopped in the text field")
        return written(pst, terms, fieldid, postings, *rest)

    def made_and_open():
        found = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                found.append(str(fd.readlink()))
            except OSError:
                pass
        return [p for p in found if p.startswith(str(tmp_path))
                and (p.endswith(" (deleted)") or Path(p).name not in old_files)]

    monkeypatch.setattr(bulkmerge, "_write_postings", fails_in_text)
    with pytest.raises(ValueError, match="stopped in the text field") as raised:
        bulk_merge(tmp_path)
    assert made_and_open() == [], raised.value
