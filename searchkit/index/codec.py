"""Whoosh's own codec (W3), writing each segment's ranking arrays beside it, with a faster
look-up of field lengths while a segment is written, and field length totals that agree with
the documents' lengths.

Ranking arrays (``rankarrays``): as a segment's postings pass through the field writer and
its documents through the per-document writer, the searched fields' postings (term, document,
weight), the documents' field length bytes and the columns a search filters and collapses by
are kept, and written to ``<segment>.rank`` when the segment is finished. Every way Whoosh
writes a segment goes through these two writers (new documents, merges, ``optimize``), and
the bulk writer writes its segments' arrays with the same ``write_ranking_arrays``, so every
segment has its arrays, and they hold exactly what the segment holds.

Field lengths: when a writer finishes a segment, Whoosh's ``add_postings`` asks the
per-document reader for the field length of the document of every posting (for the block
statistics kept with the postings). W3's reader answers each call through the column
machinery, and for a field without a length column (every ID, NUMERIC and DATETIME field) it
asks the file system whether the column file exists, once per posting. ``_LengthsReader``
reads each length column once into a list when a segment is flushed, and remembers which
fields have none. The answers are Whoosh's (including its None for a stored length of 0), so
the files written are the same.

The segments ``BuildCodec`` creates carry a plain ``W3Codec`` with the same settings, so the
index on disk is exactly a W3 index (nothing of searchkit is pickled into it) and searchers
read it with Whoosh's reader.

Field length totals: W3 keeps each document's field length as one byte (``length_to_byte``,
exact up to 10, then rounded up), and BM25F scores a document with that rounded length.
Whoosh's writer adds the exact lengths to the segment's total, but a merge (an incremental
commit, ``optimize``) re-adds the rounded ones it reads back, so the average length, and every
score, changed with the segment layout. ``BuildCodec``'s writer adds the rounded lengths from
the start, so the total is the sum of the lengths BM25F reads, in a fresh build and after any
merge alike.
"""

from array import array

import numpy as np

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3FieldWriter,
    W3PerDocReader,
    W3PerDocWriter,
    W3Segment,
    _lenfield,
)
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import rankarrays

COLUMN_FIELDS = rankarrays.COLUMN_FIELDS  # the stored values the per-document writer keeps


def write_ranking_arrays(storage, segment, doc_count: int, fields: dict, columns: dict) -> None:
    """Write ``<segment>.rank`` into ``storage`` (``rankarrays.segment_file`` of the rest):
    as this codec's field writer does for Whoosh's segments, and ``bulkwrite`` for its own."""
    handle = segment.create_file(storage, rankarrays.EXTENSION)
    try:
        for part in rankarrays.segment_file(doc_count, fields, columns):
            handle.write(part)
    finally:
        handle.close()


class BuildCodec(W3Codec):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._documents = {}  # segment id -> what its per-document writer saw

    def new_segment(self, storage, indexname):
        plain = W3Codec(self._blocklimit, self._compression, self._inlinelimit)
        return W3Segment(plain, indexname)

    def per_document_writer(self, storage, segment):
        return _CapturingPerDocWriter(self, storage, segment)

    def field_writer(self, storage, segment):
        return _CapturingFieldWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return _LengthsReader(storage, segment)


class _CapturingPerDocWriter(W3PerDocWriter):
    """W3's per-document writer that also keeps each document's length bytes of the searched
    fields and the stored values of ``COLUMN_FIELDS``, and whose field length totals add each
    document's length as W3 stores it (rounded to its length byte), not as given."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._captured = {
            "lengths": {f: array("B") for f in rankarrays.SCORED_FIELDS},
            "values": {f: [] for f in COLUMN_FIELDS},
        }
        codec._documents[segment.segment_id()] = self._captured

    def start_doc(self, docnum):
        super().start_doc(docnum)
        for lengths in self._captured["lengths"].values():
            lengths.append(0)
        for values in self._captured["values"].values():
            values.append(None)

    def add_field(self, fieldname, fieldobj, value, length):
        super().add_field(fieldname, fieldobj, value, length)
        if length:
            self._fieldlengths[fieldname] += byte_to_length(length_to_byte(length)) - length
        lengths = self._captured["lengths"].get(fieldname)
        if lengths is not None and length:
            lengths[-1] = length_to_byte(length)
        values = self._captured["values"].get(fieldname)
        if values is not None:
            values[-1] = value

    def cancel_doc(self):
        super().cancel_doc()
        for lengths in self._captured["lengths"].values():
            lengths.pop()
        for values in self._captured["values"].values():
            values.pop()


class _CapturingFieldWriter(W3FieldWriter):
    """W3's field writer that also keeps the searched fields' postings, and writes the
    segment's ranking arrays when it is closed (after the per-document writer)."""

    def __init__(self, codec, storage, segment):
        super().__init__(codec, storage, segment)
        self._postings = {}  # field -> (terms, starts, docs, weights, positions or None)
        self._current = None
        self._decode = None  # the current field's decoder of a posting's positions

    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        self._current = self._decode = None
        if fieldname in rankarrays.SCORED_FIELDS:
            fmt = fieldobj.format
            # (a posting's count of positions is its weight, which a field boost would change)
            positional = fmt.supports("positions") and fmt.field_boost == 1.0
            self._current = self._postings.setdefault(
                fieldname, ([], array("q"), array("I"), array("f"),
                            array("I") if positional else None))
            if positional:
                self._decode = fmt.decoder("positions")

    def start_term(self, btext):
        super().start_term(btext)
        if self._current is not None:
            terms, starts, docs = self._current[:3]
            terms.append(bytes(btext))
            starts.append(len(docs))

    def add(self, docnum, weight, vbytes, length):
        super().add(docnum, weight, vbytes, length)
        if self._current is not None:
            self._current[2].append(docnum)
            self._current[3].append(weight)
            if self._decode is not None:
                self._current[4].extend(self._decode(vbytes))

    def close(self):
        super().close()
        self._write_arrays()

    def _write_arrays(self):
        documents = self._codec._documents.pop(self._segment.segment_id())
        fields = {}
        for field, (terms, starts, docs, weights, positions) in self._postings.items():
            starts = array("q", starts)
            starts.append(len(docs))
            fields[field] = (terms, starts, docs, weights, documents["lengths"][field],
                             None if positions is None else np.frombuffer(positions, np.uint32))
        write_ranking_arrays(self._storage, self._segment, len(documents["values"]["kind"]),
                             fields, documents["values"])


class _LengthsReader(W3PerDocReader):
    """W3's per-document reader whose field lengths come from lists read once per field."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._length_lists = {}  # field name -> [length or None by docnum], or None: no column

    def _lengths(self, fieldname):
        lenfield = _lenfield(fieldname)
        if not self.has_column(lenfield):
            return None
        reader = self.column_reader(lenfield, LENGTHS_COLUMN)
        # A stored 0 reads as None, as in W3PerDocReader.doc_field_length.
        return [byte_to_length(b) if b else None for b in map(reader.__getitem__,
                                                               range(self._doccount))]

    def doc_field_length(self, docnum, fieldname, default=0):
        if docnum > self._doccount:
            raise IndexError("Asked for docnum %r of %d" % (docnum, self._doccount))
        try:
            lengths = self._length_lists[fieldname]
        except KeyError:
            lengths = self._length_lists[fieldname] = self._lengths(fieldname)
        if lengths is None:
            return default
        return lengths[docnum] if docnum < len(lengths) else None
