"""Merge segments into one in bulk: what Whoosh's optimize writes, a block at a time.

Whoosh merges segments by adding each one's live documents to a new segment
(``SegmentWriter.add_reader``): every stored document unpickled and pickled again, every
posting a tuple through its pool and its writer, in Python. This module writes the same
segment from the old ones' files:

* postings: each field's terms in order, a term's blocks read from each old segment in turn,
  their documents renumbered (deleted ones left out) with numpy, and written as the bulk
  writer writes a batch's (``bulkwrite._write_postings``), a chunk of terms at a time;
* stored documents: each live document's compressed pickle copied as it is;
* field lengths, sortable columns: each live document's, as Whoosh's reader gives them to its
  writer;
* ranking arrays: the per-document ones joined from the old segments' own, then each ranked
  field's from its merged postings as they come (``rankarrays.Writer``, through unnamed
  scratch files in the index folder).

What it holds grows with the index: for each old paragraph, its new number, whether it is
live and its length in each scored field; for each term, its hash and place in the new term
index (an id field has a term for each paragraph); each distinct value of the string columns
(an article's id); and the postings of the commonest term (a chunk of terms ends between two
terms). Every other posting, term record and per-document array passes a piece at a time.
tests/test_bulkmerge.py compares the segment with Whoosh's own merge of the same segments.
"""

import heapq
import io
import itertools
import struct
import tempfile
from array import array
from collections import defaultdict
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3Segment,
    W3TermInfo,
    _lenfield,
)
from whoosh.columns import VarBytesColumn
from whoosh.reading import SegmentReader

from ..errors import IndexDamagedError
from . import rankarrays, safepickle
from .arrays import ranges
from .rankarrays import DISAGREE, DamagedArrays
from .bulkwrite import (
    RANKED_FIELDS,
    _column_file,
    _LENGTH_LIMITS,
    _Out,
    _Postings,
    _TermIndex,
    _VARBYTES_OFFSETS_CUTOFF,
    _write_postings,
    new_segment_id,
    varbytes_tail,
)
from .codec import LENGTHS_COLUMN

_POSTINGS_AT_A_TIME = 1 << 18  # postings gathered before a chunk of terms is written,
_TERMS_AT_A_TIME = 1 << 14  # or terms (an id field's have one posting each)
# Bytes of a field's term records read at a time from each segment (held for each segment
# while the field is merged: a field's whole records, an id's, grow with the index)
_RECORDS_AT_A_TIME = 1 << 18
_DAMAGED = "a posting block of this index is damaged"
_DAMAGED_TERMS = "a term index of this index is damaged"


def merge_segments(storage, schema, segments: Sequence, arrays_of: Callable,
                   indexname: str = "MAIN", whoosh_bytes: bool = False,
                   tick: Optional[Callable[[int, int], None]] = None) -> Optional[W3Segment]:
    """Write one new segment in ``storage`` holding the live documents of ``segments`` in
    order, as Whoosh's writer would after ``add_reader`` of each; return it (not yet in any
    TOC), or None if no document is live. ``arrays_of(segment)``: its ranking arrays
    (``rankarrays.SegmentArrays``). ``whoosh_bytes``: posting blocks compressed as Whoosh
    compresses them (see ``bulkwrite.write_segment``). ``tick(done, total)``: told of each
    step done (the stored documents, each field's postings, the columns, the ranking
    arrays)."""
    readers = [SegmentReader(storage, schema, segment) for segment in segments]
    try:
        return _merge(storage, schema, segments, readers, arrays_of, indexname, whoosh_bytes,
                      tick)
    finally:
        for reader in readers:
            reader.close()


def _merge(storage, schema, segments, readers, arrays_of, indexname, whoosh_bytes, tick):
    live, new_number, doccount = _renumbering(segments)  # (new_number: numbers, offsets)
    if not doccount:
        return None
    arrays = [arrays_of(segment) for segment in segments]
    for segment, found in zip(segments, arrays):
        if found.doc_count != segment.doc_count_all():
            raise ValueError(f"{segment.segment_id()}: its ranking arrays do not fit it")
    merge = _Merge(storage, schema, readers, live, doccount, indexname, tick)
    try:
        merge.stored_documents()
        lengths, totals = merge.lengths()
        _write_document_arrays(merge.ranking.writer, arrays, live)
        merge.postings(new_number, lengths, whoosh_bytes, arrays)
        merge.columns(lengths)
        merge.ranking_arrays()
    except BaseException:
        merge.abandon()
        raise
    segment = merge.segment
    segment.set_doc_count(doccount)
    segment._fieldlengths = defaultdict(int, totals)  # as bulkwrite sets it
    return segment


class _Merge:
    """The new segment's files, written one kind after another."""

    def __init__(self, storage, schema, readers, live, doccount: int, indexname: str, tick):
        self.storage, self.schema, self.readers, self.live = storage, schema, readers, live
        self.doccount = doccount
        self.steps = 3 + sum(1 for name in schema.names() if schema[name].indexed)
        self.done = 0
        self.tick = tick
        self.codec = W3Codec()
        self.segment = W3Segment(self.codec, indexname, segid=new_segment_id())
        self.created: List[_Out] = []
        self.ranking = _RankingArrays(doccount, storage.folder)

    def create(self, ext: str) -> _Out:
        out = _Out(self.storage, self.segment.make_filename(ext))
        self.created.append(out)
        return out

    def create_column(self, name: str) -> _Out:
        return self.create(".%s%s" % (name, W3Codec.COLUMN_EXT))

    def step_done(self) -> None:
        self.done += 1
        if self.tick is not None:
            self.tick(self.done, self.steps)

    def abandon(self) -> None:
        self.ranking.close()
        for out in self.created:
            try:
                out.file.close()
            except Exception:
                pass

    def stored_documents(self) -> None:
        _write_varbytes(self.create_column("_stored"),
                        _raw_values(self.readers, self.live, "_stored", VarBytesColumn()),
                        self.doccount)
        self.step_done()

    def lengths(self):
        """({field: each live document's length byte}, {field: its total length}), for the
        fields that have any."""
        lengths, totals = {}, {}
        for name in sorted(self.schema.names()):
            if self.schema[name].scorable:
                joined = np.concatenate([_length_bytes(reader, name)[kept]
                                         for reader, kept in zip(self.readers, self.live)])
                if joined.any():
                    lengths[name] = joined  # (length_to_byte(byte_to_length(b)) is b)
                    totals[name] = int(_LENGTH_LIMITS[joined].sum())
        return lengths, totals

    def postings(self, new_number, lengths, whoosh_bytes: bool, arrays: Sequence) -> None:
        """Every field's postings and the term index; the ranked fields' ranking arrays
        (``arrays``: the old segments', whose positions the new one's are joined from)."""
        pst = self.create(W3Codec.POSTS_EXT)
        terms = _TermIndex(self.create(W3Codec.TERMS_EXT))
        for name in sorted(self.schema.names()):
            field = self.schema[name]
            if not field.indexed:
                continue
            ranked = None
            if name in RANKED_FIELDS:
                ranked = self.ranking.field(
                    name, lengths.get(name),
                    arrays if all(a.has_positions(name) for a in arrays) else None)
            _merge_field(pst, terms, name, field.format, self.readers, new_number,
                         lengths.get(name), self.codec, whoosh_bytes, ranked)
            if ranked is not None:
                ranked.finish()
            self.step_done()
        terms.close()
        pst.close()

    def columns(self, lengths) -> None:
        """The length and sortable columns, in the order Whoosh's per-document writer creates
        them: when a document first gives one a value (a segment with the column gives every
        document one), a field's length before its column."""
        readers, live, doccount = self.readers, self.live, self.doccount
        order = []
        for name in sorted(self.schema.names()):
            column = self.schema[name].column_type
            if column is not None:
                first = _first_with(readers, live, name)
                if first is not None:
                    order.append(((first, name, 1), name, column))
            if name in lengths:
                order.append(((int(np.flatnonzero(lengths[name])[0]), name, 0), name, None))
        for _, name, column in sorted(order, key=lambda c: c[0]):
            if column is None:
                out = self.create_column(_lenfield(name))
                found = lengths[name]
                out.write(found[: int(np.flatnonzero(found)[-1]) + 1].tobytes())
                out.close()
            elif type(column) is VarBytesColumn:
                _write_varbytes(self.create_column(name),
                                _raw_values(readers, live, name, column), doccount,
                                column.allow_offsets, column.write_offsets_cutoff)
            else:
                out = self.create_column(name)
                out.write(_column_file(column, _raw_values(readers, live, name, column),
                                       doccount))
                out.close()
        self.step_done()

    def ranking_arrays(self) -> None:
        self.ranking.finish(self.create(rankarrays.EXTENSION))
        self.step_done()


class _RankingArrays:
    """The new segment's ranking arrays, written as they come (``rankarrays.Writer``): the
    per-document ones first, then each ranked field's postings chunk by chunk."""

    def __init__(self, doccount: int, folder: str):
        self.doccount, self.folder = doccount, folder
        self.writer = rankarrays.Writer(doccount, folder)
        self.current: Optional[_RankedField] = None

    def field(self, name: str, lengths: Optional[np.ndarray],
              positioned: Optional[Sequence]) -> "_RankedField":
        self.current = _RankedField(
            self.writer, name, self.folder,
            np.zeros(self.doccount, np.uint8) if lengths is None else lengths, positioned)
        return self.current

    def finish(self, out: _Out) -> None:
        self.writer.finish(out)
        out.close()

    def close(self) -> None:
        self.writer.close()
        if self.current is not None:
            self.current.close()  # (a merge stopped midway: its scratch files)


class _RankedField:
    """One ranked field's arrays: its documents straight into the file, its weights and
    positions into scratch files until the small arrays that lie between them in the file
    are written. ``positioned``: the old segments' arrays, if each has the field's positions
    (the new segment's are theirs, joined as the postings are); else it has none."""

    def __init__(self, writer, name: str, folder: str, lengths: np.ndarray,
                 positioned: Optional[Sequence]):
        self.writer, self.name, self.lengths = writer, name, lengths
        self.positioned = positioned
        self.terms: List[bytes] = []
        self.counts: List[np.ndarray] = []
        self.weights = tempfile.TemporaryFile(dir=folder)
        self.positions = tempfile.TemporaryFile(dir=folder) if positioned else None
        self.position_counts: List[np.ndarray] = []  # by term
        self.top = 0  # the largest position
        writer.begin(f"{name}.docs", "<u4")

    def add(self, postings: _Postings, chunk: "_Chunk") -> None:
        self.terms.extend(postings.terms)
        self.counts.append(np.diff(postings.offsets))
        self.writer.write(postings.docnums.astype(np.uint32))
        self.weights.write(memoryview(postings.weights.astype("<f4")).cast("B"))
        if self.positions is not None:
            positions = chunk.positions(self.positioned, self.name)
            sizes = np.concatenate([[0], np.cumsum(postings.weights.astype(np.int64))])
            if sizes[-1] != positions.size:  # the old arrays' counts are not the blocks'
                raise ValueError(DISAGREE)
            self.position_counts.append(np.diff(sizes[postings.offsets]))
            if positions.size:
                self.top = max(self.top, int(positions.max()))
            self.positions.write(memoryview(positions.astype("<u4")).cast("B"))

    def finish(self) -> None:
        writer, name = self.writer, self.name
        writer.end()
        starts = np.zeros(len(self.terms) + 1, np.int64)
        if self.counts:
            np.cumsum(np.concatenate(self.counts), out=starts[1:])
        arrays = rankarrays.field_arrays(self.terms, starts, [], [], self.lengths)
        for key in ("key", "lengths"):  # (after docs, by name)
            writer.add(f"{name}.{key}", arrays[key])
        if self.positions is not None:
            position_starts = np.zeros(len(self.terms) + 1, np.uint64)
            if self.position_counts:
                np.cumsum(np.concatenate(self.position_counts), out=position_starts[1:])
            writer.add(f"{name}.position_starts", position_starts)
            dtype = "<u2" if self.top < 1 << 16 else "<u4"
            self._copy(self.positions, f"{name}.positions", "<u4", dtype)
        for key in ("starts", "term_at", "terms"):
            writer.add(f"{name}.{key}", arrays[key])
        self._copy(self.weights, f"{name}.weights", "<f4", "<f4")
        self.close()

    def _copy(self, scratch, name: str, stored: str, dtype: str) -> None:
        """Array ``name`` from a scratch file of ``stored`` values, as ``dtype``."""
        writer = self.writer
        writer.begin(name, dtype)
        scratch.seek(0)
        for piece in iter(lambda: scratch.read(1 << 20), b""):
            writer.write(np.frombuffer(piece, stored).astype(dtype, copy=False))
        writer.end()

    def close(self) -> None:
        self.weights.close()
        if self.positions is not None:
            self.positions.close()


def _renumbering(segments):
    """(each segment's live documents as a boolean array; (the new number of each old
    document (-1 if deleted) in one array, each segment's after the one before, and where
    each segment's start in it); the number of live documents)."""
    live, numbers, base = [], [], 0
    for segment in segments:
        kept = np.ones(segment.doc_count_all(), bool)
        deleted = np.fromiter(segment.deleted_docs(), np.int64)
        if deleted.size and (deleted.min() < 0 or deleted.max() >= kept.size):
            raise ValueError(f"{segment.segment_id()}: its deleted paragraphs are not its own")
        kept[deleted] = False
        number = np.cumsum(kept) - 1 + base
        number[~kept] = -1
        live.append(kept)
        numbers.append(number)
        base += int(kept.sum())
    offsets = np.cumsum([0] + [len(kept) for kept in live])
    return live, (np.concatenate(numbers) if numbers else np.zeros(0, np.int64), offsets), base


def _length_bytes(reader, name: str) -> np.ndarray:
    """Each document's length byte of field ``name`` in one segment (0: none)."""
    perdoc = reader._perdoc
    doccount = reader.doc_count_all()
    column = _lenfield(name)
    if not perdoc.has_column(column):
        return np.zeros(doccount, np.uint8)
    values = perdoc.column_reader(column, LENGTHS_COLUMN)
    return np.fromiter(map(values.__getitem__, range(doccount)), np.uint8, doccount)


def _first_with(readers, live, name: str) -> Optional[int]:
    """The new number of the first document with a value of column ``name``."""
    base = 0
    for reader, kept in zip(readers, live):
        count = int(kept.sum())
        if count and reader.has_column(name):
            return base
        base += count
    return None


def _raw_values(readers, live, name: str, column) -> Iterator[Optional[object]]:
    """The live documents' raw values of column ``name``, in order (None where a segment has
    no such column)."""
    for reader, kept in zip(readers, live):
        numbers = np.flatnonzero(kept).tolist()
        if name == "_stored":
            found = reader._perdoc.column_reader(name, column)
        elif reader.has_column(name):
            found = reader.column_reader(name, column)
            if hasattr(found, "raw_column"):
                found = found.raw_column()
        else:
            yield from itertools.repeat(None, len(numbers))
            continue
        yield from map(found.__getitem__, numbers)


def _write_varbytes(out: _Out, values: Iterator[Optional[bytes]], doccount: int,
                    with_offsets: bool = True, cutoff: int = _VARBYTES_OFFSETS_CUTOFF) -> None:
    """A VarBytesColumn's file written as its values come (``bulkwrite._varbytes_column``)."""
    lengths = array("q")
    for value in values:
        if value:
            out.write(value)
        lengths.append(len(value) if value else 0)
    out.write(varbytes_tail(np.frombuffer(lengths, np.int64), doccount, with_offsets, cutoff))
    out.close()


_LENGTHS = struct.Struct("!ii")  # a term index record's key and value lengths
_INFO = struct.Struct("!BfIBBfII")  # W3TermInfo's fields, then (not inlined) "!qi": extent
_EXTENT = struct.Struct("!qi")


def _field_terms(reader, k: int, name: str):
    """(term, k, document frequency, first document, weight, (offset, length) of its postings
    or a W3TermInfo of postings inlined) of each term of field ``name`` in one segment, in
    order: its records, which lie together in the term index, read _RECORDS_AT_A_TIME bytes
    at a time."""
    terms = reader._terms
    number = terms._fieldmap.get(name)
    if number is None:
        return
    index = terms._tindex
    start = index.closest_key_pos(struct.pack("!H", number))
    if start is None:
        return
    end = index.closest_key_pos(struct.pack("!H", number + 1)) if number < 65535 else None
    end = index.endofdata if end is None else end
    if not index.startofdata <= start <= end <= index.endofdata:
        raise ValueError(_DAMAGED_TERMS)
    unpack_lengths, unpack_info = _LENGTHS.unpack_from, _INFO.unpack_from
    unpack_extent = _EXTENT.unpack_from
    data, at, base = b"", 0, start  # the records read, the next one's place in them, theirs

    def have(size: int) -> None:
        """The next ``size`` bytes of the records in ``data`` from ``at``, read if need be."""
        nonlocal data, at, base
        if at + size <= len(data):
            return
        base += at
        if base + size > end:
            raise ValueError(_DAMAGED_TERMS)
        data, at = index.dbfile.get(base, min(max(size, _RECORDS_AT_A_TIME), end - base)), 0

    while base + at < end:
        have(8)
        key_length, value_length = unpack_lengths(data, at)
        if key_length < 2 or value_length < _INFO.size:
            raise ValueError(_DAMAGED_TERMS)
        have(8 + key_length + value_length)
        key_at = at + 8
        value_at = key_at + key_length
        at = value_at + value_length
        flags, weight, df, _, _, _, first, _ = unpack_info(data, value_at)
        if flags:  # postings inlined (Whoosh's writer may; searchkit's do not)
            where = W3TermInfo.from_bytes(data[value_at:at])
        elif value_length == _INFO.size + _EXTENT.size:
            where = unpack_extent(data, value_at + _INFO.size)
        else:
            raise ValueError(_DAMAGED_TERMS)
        yield data[key_at + 2:value_at], k, df, first, weight, where


def _merge_field(pst, terms: _TermIndex, name: str, fmt, readers, new_number, lengths,
                 codec, whoosh_bytes: bool, ranked: Optional[_RankedField]) -> None:
    """Write field ``name``'s merged postings, a chunk of terms at a time, and hand each
    chunk to ``ranked`` if given. ``new_number``: ``_renumbering``'s."""
    numbers, offsets = new_number
    chunk = _Chunk(fmt.fixed_value_size())
    streams = [_field_terms(reader, k, name) for k, reader in enumerate(readers)]

    def flush():
        postings = chunk.postings(numbers, offsets)
        if postings is not None:
            if name not in terms.fieldmap:
                terms.fieldmap[name] = len(terms.fieldmap)
            _write_postings(pst, terms, terms.fieldmap[name], postings, fmt, lengths,
                            codec._blocklimit, codec._compression, whoosh_bytes)
            if ranked is not None:
                ranked.add(postings, chunk)
        chunk.clear()

    by_term = heapq.merge(*streams, key=lambda item: item[0])
    numbered = [0] * len(readers)  # each segment's terms of the field so far
    for term, holders in itertools.groupby(by_term, key=lambda item: item[0]):
        chunk.start_term(term)
        for _, k, df, first, weight, where in holders:
            chunk.add_term_postings(readers[k]._terms._postfile, k, numbered[k], df, first,
                                    weight, where)
            numbered[k] += 1
        if chunk.size >= _POSTINGS_AT_A_TIME or len(chunk.terms) >= _TERMS_AT_A_TIME:
            flush()
    flush()


class _Chunk:
    """Postings of a run of terms as read from the old segments' blocks: the blocks' document
    deltas, weights and values one after another, with each block's segment and term."""

    def __init__(self, fixed):
        self.fixed = fixed
        self.clear()

    def clear(self):
        self.terms: List[bytes] = []
        self.deltas = array("q")
        self.weights = array("d")
        self.values: list = []
        self.block_sizes: List[int] = []
        self.block_segment: List[int] = []
        self.block_term: List[int] = []
        self.block_numbered: List[int] = []  # the term's number among its segment's
        self.numbered = 0  # the current term's
        self.size = 0
        # (each posting's segment, old document number and liveness, the block sizes)
        self.read = None  # as ``postings`` found them

    def start_term(self, term: bytes) -> None:
        self.terms.append(term)

    def add_term_postings(self, postfile, k: int, number: int, df: int, first: int,
                          weight: float, where) -> None:
        """Segment ``k``'s postings of the current term (its term ``number`` of the field):
        ``df`` of them, the first in document ``first``, ``weight`` in all, at ``where``
        (offset, length) in ``postfile``, or in the term info ``where``."""
        self.numbered = number
        try:
            if isinstance(where, W3TermInfo):
                ids, weights, values = where.inlined_postings()
                self._add_block(k, np.diff(ids, prepend=0).tolist(), len(ids), weights, values)
            elif self.fixed == 0 and df == 1:
                # One posting and no value (an id's): all of it is in the term info.
                self._add_block(k, (first,), 1, (weight,), None)
            else:
                self._add_blocks(postfile, k, *where)
        except IndexDamagedError:
            raise
        except Exception:  # noqa: BLE001 - whatever a malformed block makes the readers raise
            raise ValueError(_DAMAGED) from None

    def _add_blocks(self, postfile, k: int, start: int, length: int) -> None:
        data = memoryview(postfile.get(start, length))
        if bytes(data[:4]) != WHOOSH3_HEADER_MAGIC:
            raise ValueError(_DAMAGED)
        at = 4
        while at < length:
            size = int.from_bytes(data[at:at + 4], "big", signed=True)
            end = at + 4 + abs(size)
            stream = io.BytesIO(data[at + 4:end])
            count, _, _, compression, _, _ = safepickle.load(stream)
            block = data[at + 4 + stream.tell():end]
            if compression:  # (bounded: a hostile block may inflate without end)
                block = safepickle.inflate(block)
            ids, weights, values = safepickle.loads(bytes(block))
            self._add_block(k, ids, count, weights, values)
            at = end
            if size < 0:
                break

    def _add_block(self, k, ids, count, weights, values) -> None:
        if len(ids) != count:
            raise ValueError(_DAMAGED)
        self.deltas.extend(ids)
        if weights is None:
            self.weights.extend(itertools.repeat(1.0, count))
        elif isinstance(weights, float):
            self.weights.extend(itertools.repeat(weights, count))
        elif len(weights) == count:
            self.weights.extend(weights)
        else:
            raise ValueError(_DAMAGED)
        if self.fixed is None or self.fixed < 0:
            if len(values) != count:
                raise ValueError(_DAMAGED)
            self.values += values
        elif self.fixed > 0:
            if len(values) != count * self.fixed:
                raise ValueError(_DAMAGED)
            self.values += [values[i:i + self.fixed]
                            for i in range(0, len(values), self.fixed)]
        self.block_sizes.append(count)
        self.block_segment.append(k)
        self.block_term.append(len(self.terms) - 1)
        self.block_numbered.append(self.numbered)
        self.size += count

    def postings(self, numbers: np.ndarray, offsets: np.ndarray) -> Optional[_Postings]:
        """The chunk's live postings, renumbered (``numbers``: the new number of each old
        document, segment ``k``'s from ``offsets[k]``); None if none is live."""
        if not self.size:
            return None
        sizes = np.array(self.block_sizes, np.int64)
        deltas = np.frombuffer(self.deltas, np.int64)
        first = np.cumsum(sizes) - sizes
        running = np.cumsum(deltas)
        old = running - np.repeat(running[first] - deltas[first], sizes)
        segment = np.repeat(np.array(self.block_segment, np.int64), sizes)
        limits = np.diff(offsets)[segment]
        if old.size and (old.min() < 0 or np.any(old >= limits)):
            raise ValueError(_DAMAGED)
        new = numbers[offsets[segment] + old]
        alive = new >= 0
        self.read = (segment, old, alive, sizes)
        term_of = np.repeat(np.array(self.block_term, np.int64), sizes)[alive]
        docs = new[alive]
        if np.any((np.diff(docs) <= 0) & (term_of[1:] == term_of[:-1])):
            raise ValueError(_DAMAGED)  # a term's documents out of order, or twice
        counts = np.bincount(term_of, minlength=len(self.terms))
        held = np.flatnonzero(counts)
        if not held.size:
            return None
        starts = np.zeros(held.size + 1, np.int64)
        np.cumsum(counts[held], out=starts[1:])
        values = None
        if self.fixed != 0:
            values = np.empty(len(deltas), object)
            values[:] = self.values
            values = values[alive]
        return _Postings([self.terms[i] for i in held.tolist()], starts, docs,
                         np.frombuffer(self.weights, np.float64)[alive], values)

    def positions(self, arrays: Sequence, field: str) -> np.ndarray:
        """The positions of the live postings ``postings`` gave, one after another, from
        the old segments' ranking arrays (``arrays``): a segment's postings of a run of its
        terms lie together there, in the order they were read here."""
        segment, old, alive, sizes = self.read
        numbered = np.repeat(np.array(self.block_numbered, np.int64), sizes)
        block_weights = np.frombuffer(self.weights, np.float64)
        counts = np.zeros(segment.size, np.int64)
        begins = np.zeros(segment.size, np.int64)  # where each posting's positions begin
        for k in np.unique(segment).tolist():
            mine = np.flatnonzero(segment == k)
            first, last = int(numbered[mine[0]]), int(numbered[mine[-1]]) + 1
            try:
                docs, weights, position_starts = arrays[k].postings_of_terms(field, first, last)
            except DamagedArrays:
                raise ValueError(DISAGREE) from None
            # (a posting's count of positions is its weight in the blocks too)
            if not (np.array_equal(docs, old[mine])
                    and np.array_equal(weights, block_weights[mine])):
                raise ValueError(DISAGREE)
            counts[mine] = weights
            begins[mine] = position_starts + np.cumsum(weights) - weights
        lengths = counts[alive]
        taken = ranges(begins[alive], lengths)
        flat = np.zeros(taken.size, np.uint32)
        by_segment = np.repeat(segment[alive], lengths)
        for k in np.unique(by_segment).tolist():
            mine = by_segment == k
            try:
                flat[mine] = arrays[k].positions_at(field, taken[mine])
            except DamagedArrays:
                raise ValueError(DISAGREE) from None
        if rankarrays.unordered(np.repeat(np.arange(lengths.size), lengths), flat):
            raise ValueError(DISAGREE)  # (each posting's positions ascend)
        return flat


_PLAIN_ARRAYS = ("date", "group", "doc_id")
_STRING_TABLES = ("source", "kind", "article_id", "doc_id")
_DOCS_AT_A_TIME = 1 << 16  # documents whose per-document arrays are joined at a time


def _write_document_arrays(writer, arrays: Sequence, live: Sequence[np.ndarray]) -> None:
    """The per-document ranking arrays of the live documents, in order, as
    ``rankarrays.document_arrays`` makes them from their stored values, into ``writer``
    (``rankarrays.Writer``) a piece of each segment at a time."""
    tables = {name: _StringTable(arrays, live, name) for name in _STRING_TABLES}
    names = [*_PLAIN_ARRAYS, "id.text", "id.text_at",
             *(f"{name}.{part}" for name in _STRING_TABLES
               for part in ("code", "text", "text_at"))]
    for name in sorted(names):
        table, _, part = name.partition(".")
        if name in _PLAIN_ARRAYS:
            writer.begin(name, "<" + np.result_type(*(a[name] for a in arrays)).str[1:])
            for _, a, lo, hi, kept in _pieces(arrays, live):
                writer.write(a[name][lo:hi][kept])
            writer.end()
        elif name == "id.text":
            writer.begin(name, "<u1")
            for _, a, lo, hi, kept in _pieces(arrays, live):
                text, sizes = _id_table(a, lo, hi)
                # (the live ones' bytes picked by a mask, a byte for each byte of the ids'
                # text: an index of them took eight for each, several times)
                writer.write(text[np.repeat(kept, sizes)])
            writer.end()
        elif name == "id.text_at":
            writer.begin(name, "<u8")
            writer.write(np.zeros(1, np.uint64))
            written = 0
            for _, a, lo, hi, kept in _pieces(arrays, live):
                _, sizes = _id_table(a, lo, hi)
                ends = np.cumsum(sizes[kept]) + written
                writer.write(ends.astype(np.uint64))
                written = int(ends[-1]) if ends.size else written
            writer.end()
        elif part == "code":
            writer.begin(name, "<u4")
            for codes in tables[table].codes():
                writer.write(codes)
            writer.end()
        else:
            writer.add(name, tables[table].table()[part])


def _pieces(arrays: Sequence, live: Sequence[np.ndarray]):
    """(a segment's number, its arrays, first document, end, which of them are live), piece
    by piece."""
    for k, (a, kept) in enumerate(zip(arrays, live)):
        for lo in range(0, kept.size, _DOCS_AT_A_TIME):
            hi = min(lo + _DOCS_AT_A_TIME, kept.size)
            yield k, a, lo, hi, kept[lo:hi]


def _id_table(a, lo: int, hi: int) -> tuple:
    """The ids of a segment's documents ``lo`` to ``hi``: their text, one after another, and
    each one's size."""
    text, at = a["id.text"], a["id.text_at"][lo:hi + 1].astype(np.int64)
    sizes = np.diff(at)
    if at.size != hi - lo + 1 or at[0] < 0 or np.any(sizes < 0) or at[-1] > text.size:
        raise ValueError("the table of 'id' of a segment is damaged")
    return text[at[0]:at[-1]], sizes


class _StringTable:
    """A string column's table of the live documents (``rankarrays.string_table``'s: values
    numbered as they first appear), worked out a piece at a time: each old segment's codes
    through the joined table of every segment's strings."""

    def __init__(self, arrays: Sequence, live: Sequence[np.ndarray], name: str):
        self.segments, self.live, self.name = arrays, live, name
        self.joined: Dict[str, int] = {}  # string -> its place among every segment's
        self.to_joined = []  # by segment, its codes' places in ``joined``
        for a in arrays:
            self.to_joined.append(np.array([self.joined.setdefault(s, len(self.joined))
                                            for s in a.strings(name)], np.int64))
        self.number = np.full(len(self.joined), -1, np.int64)  # place -> its new code
        self.order: List[int] = []  # the places, by new code
        self._table: Optional[Dict[str, np.ndarray]] = None
        for codes in self._joined_codes():
            distinct, first = np.unique(codes, return_index=True)
            new = distinct[np.argsort(first, kind="stable")]
            new = new[self.number[new] < 0]
            self.number[new] = np.arange(len(self.order), len(self.order) + new.size)
            self.order.extend(new.tolist())

    def _joined_codes(self) -> Iterator[np.ndarray]:
        for k, a, lo, hi, kept in _pieces(self.segments, self.live):
            found = a[self.name + ".code"][lo:hi][kept].astype(np.int64)
            if found.size and int(found.max()) >= self.to_joined[k].size:
                raise ValueError(f"the table of {self.name!r} of a segment is damaged")
            yield self.to_joined[k][found]

    def codes(self) -> Iterator[np.ndarray]:
        """The live documents' new codes, a piece at a time."""
        for codes in self._joined_codes():
            yield self.number[codes].astype(np.uint32)

    def table(self) -> Dict[str, np.ndarray]:
        """The table's "text" and "text_at" (made once)."""
        if self._table is not None:
            return self._table
        strings = list(self.joined)
        encoded = [strings[i].encode("utf-8", "surrogatepass") for i in self.order]
        text_at = np.zeros(len(encoded) + 1, np.uint64)
        np.cumsum([len(e) for e in encoded], out=text_at[1:])
        self._table = {"text": np.frombuffer(b"".join(encoded), np.uint8),
                       "text_at": text_at}
        return self._table
