"""Whoosh's own codec (W3) with a faster look-up of field lengths while a segment is written,
and field length totals that agree with the documents' lengths.

When a writer finishes a segment, Whoosh's ``add_postings`` asks the per-document reader for
the field length of the document of every posting (for the block statistics kept with the
postings). W3's reader answers each call through the column machinery, and for a field
without a length column (every ID, NUMERIC and DATETIME field) it asks the file system whether
the column file exists, once per posting: ~700k calls and ~1 stat per ID posting on BBC, about
a third of the commit under cProfile.

``BuildCodec`` is only the writer's: it reads each length column once into a list when a
segment is flushed, and remembers which fields have none. The answers are Whoosh's
(including its None for a stored length of 0), so the files written are the same. The segments
it creates carry a plain ``W3Codec`` with the same settings, so the index on disk is exactly a
W3 index (nothing of searchkit is pickled into it) and searchers read it with Whoosh's reader.

Field length totals: W3 keeps each document's field length as one byte (``length_to_byte``,
exact up to 10, then rounded up, ~6% steps), and BM25F scores a document with that rounded
length. Whoosh's writer adds the exact lengths to the segment's total, but a merge (an
incremental commit, ``optimize``) re-adds the rounded ones it reads back: the seeds' ``text``
total was 6,897 fresh and 7,016 merged, so the average length, and every score, changed with
the segment layout. ``BuildCodec``'s writer adds the rounded lengths from the start, so the
total is the sum of the lengths BM25F reads, in a fresh build and after any merge alike.
"""

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3PerDocReader,
    W3PerDocWriter,
    W3Segment,
    _lenfield,
)
from whoosh.util.numeric import byte_to_length, length_to_byte


class BuildCodec(W3Codec):
    def new_segment(self, storage, indexname):
        plain = W3Codec(self._blocklimit, self._compression, self._inlinelimit)
        return W3Segment(plain, indexname)

    def per_document_writer(self, storage, segment):
        return _RoundedTotalsWriter(self, storage, segment)

    def per_document_reader(self, storage, segment):
        return _LengthsReader(storage, segment)


class _RoundedTotalsWriter(W3PerDocWriter):
    """W3's per-document writer whose field length totals add each document's length as W3
    stores it (rounded to its length byte), not as given."""

    def add_field(self, fieldname, fieldobj, value, length):
        super().add_field(fieldname, fieldobj, value, length)
        if length:
            self._fieldlengths[fieldname] += byte_to_length(length_to_byte(length)) - length


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
