"""The stored fields of a few documents, read from Whoosh's own files without importing Whoosh.

A search shows ten paragraphs; reading their stored fields through Whoosh means importing it
and opening its reader, which costs a one-query process far more than the search. Whoosh's W3
codec keeps a segment's stored fields in ``<segment>._stored.col``: each document's fields as
a pickled dict, zlib-compressed, one after another, followed by the lengths of the documents'
records (a big-endian array), then the offsets if Whoosh wrote them, then the arrays' type
codes (``whoosh.columns.VarBytesColumn``). This module reads that layout, and unpickles the
dicts with ``safepickle``, which admits only what a searchkit document holds.
tests/test_storedfields.py compares every document with Whoosh's own reader.
"""

import mmap
import os
import pickle
import struct
import zlib
from typing import Dict

from ..index import safepickle

STORED_SUFFIX = "._stored.col"
# array typecodes Whoosh writes -> struct codes with their sizes on this platform
_SIZES = {code: struct.calcsize(code) for code in "bBhHiIlLqQ"}
_NUMPY_KINDS = {"b": "i", "B": "u", "h": "i", "H": "u", "i": "i", "I": "u", "l": "i", "L": "u",
                "q": "i", "Q": "u"}


class DamagedStoredFields(ValueError):
    """The stored-fields file does not have the layout Whoosh writes."""


class StoredFields:
    """The stored fields of one segment's documents, read on demand."""

    def __init__(self, folder: str, segment_id: str, doc_count: int, checked=None):
        """``checked``: the commit's integrity.CheckedMap of the file, which verifies each
        record's bytes the first time it is read."""
        import numpy as np

        self.path = os.path.join(folder, segment_id + STORED_SUFFIX)
        self.doc_count = doc_count
        self._checked = checked
        if checked is not None:
            self._map = checked.buffer
        else:
            with open(self.path, "rb") as handle:
                try:
                    self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                except ValueError:
                    raise DamagedStoredFields(f"{self.path} is empty") from None
        size = len(self._map)
        if checked is not None:  # the tail: the documents' lengths and offsets
            checked.check(max(0, size - 3 - doc_count * 16), size)
        last = size - 1
        try:
            code = chr(self._map[last])
            offsets = None
            if code == "X":
                code, offsets_code = chr(self._map[last - 2]), chr(self._map[last - 1])
                start = (last - 2) - doc_count * _SIZES[offsets_code]
                offsets = self._array(start, offsets_code, doc_count)
                last = start
            start = last - doc_count * _SIZES[code]
            lengths = self._array(start, code, doc_count)
        except (KeyError, IndexError, ValueError):
            raise DamagedStoredFields(f"{self.path} is damaged") from None
        if offsets is None:
            offsets = np.zeros(doc_count, dtype=np.int64)
            np.cumsum(lengths[:-1], out=offsets[1:])
        self._lengths = lengths.astype(np.int64)
        self._offsets = offsets.astype(np.int64)
        self._end = start  # the records end where the lengths begin
        if doc_count and (self._offsets.min() < 0 or self._lengths.min() < 0
                          or int((self._offsets + self._lengths).max()) > self._end):
            raise DamagedStoredFields(f"{self.path} is damaged")

    def _array(self, start: int, code: str, count: int):
        import numpy as np

        if start < 0:
            raise ValueError("before the start of the file")
        dtype = np.dtype(">" + _NUMPY_KINDS[code] + str(_SIZES[code]))
        return np.frombuffer(self._map, dtype=dtype, count=count, offset=start)

    def __getitem__(self, docnum: int) -> Dict[str, object]:
        if not 0 <= docnum < self.doc_count:
            raise IndexError(f"document {docnum} of {self.doc_count}")
        length = int(self._lengths[docnum])
        if not length:
            return {}
        offset = int(self._offsets[docnum])
        if self._checked is not None:
            self._checked.check(offset, offset + length)
        try:
            fields = safepickle.loads_plain(safepickle.inflate(self._map[offset : offset + length]))
        except (zlib.error, pickle.UnpicklingError, ValueError, EOFError) as error:
            raise DamagedStoredFields(f"{self.path}: document {docnum}: {error}") from None
        if not isinstance(fields, dict):
            raise DamagedStoredFields(f"{self.path}: document {docnum} is not a record")
        return fields
