"""Whoosh's own codec (W3) with a faster look-up of field lengths while a segment is written.

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
"""

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3PerDocReader,
    W3Segment,
    _lenfield,
)
from whoosh.util.numeric import byte_to_length


class BuildCodec(W3Codec):
    def new_segment(self, storage, indexname):
        plain = W3Codec(self._blocklimit, self._compression, self._inlinelimit)
        return W3Segment(plain, indexname)

    def per_document_reader(self, storage, segment):
        return _LengthsReader(storage, segment)


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
