"""The ranking arrays kept beside each Whoosh segment: what a search needs, as numpy arrays.

Whoosh keeps a segment's postings in pickled, compressed blocks that only its Python matchers
read, one posting at a time. A search here reads the same facts as flat arrays instead
(``engine`` scores them with numpy), from one file per segment, ``<segment id>.rank``, written
when the segment is written (``codec``) and never changed, like every other segment file (so
it is checksummed at commit and swept with its segment).

Per searched field (``text``, ``title``):

* ``F.terms`` / ``F.term_at``: the terms' UTF-8 bytes one after another, in Whoosh's order
  (by bytes), and where each starts;
* ``F.key``: each term's first 8 bytes as a big-endian number (zero-padded), in the same order:
  a query finds a term, or the range of terms with a prefix, by binary search in it, with no
  term dictionary to load;
* ``F.starts``: where each term's postings begin in ``F.docs`` / ``F.weights`` (and end);
* ``F.docs``: the segment's document numbers of each term, ascending; ``F.weights``: the
  posting weights exactly as Whoosh stores them (float32);
* ``F.lengths``: each document's field length byte, as Whoosh's length column holds it;
* ``F.positions``: each posting's positions (ascending), postings in ``F.docs``' order, and
  ``F.position_starts``: where each term's begin (and end); a posting has as many as its
  weight (its frequency). Optional: a segment written before them has none, and a phrase is
  then matched on Whoosh's postings.

Per document: ``date`` (Whoosh's own long, ``NO_DATE`` if undated); ``source``, ``kind``,
``article_id`` and ``doc_id`` as codes (``*.code``) into string tables (``*.text``, the
strings' UTF-8 one after another, and ``*.text_at``, where each starts); every paragraph's
``id`` as a table in document order; and 64-bit hashes of ``dup_group`` and ``doc_id`` (to
collapse near duplicates and group paragraphs into documents without reading stored fields).

The file: 8 magic bytes, the header's length (4 bytes, little-endian), the header (JSON: the
document count and each array's dtype, length and offset), then the arrays, each aligned to
16 bytes. Reading maps the file and views the arrays in place; it runs nothing from the file
and checks that every array lies inside it. Pure numpy: a search imports no Whoosh.
"""

import hashlib
import json
import mmap
import struct
import tempfile
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .arrays import ranges

EXTENSION = ".rank"
MAGIC = b"SKRANK01"
NO_DATE = 2**64 - 1  # Whoosh's value of the date column for a document without a date
SCORED_FIELDS = ("text", "title")
# Stored values kept as per-document columns, by the stored field they come from (in the
# order ``document_arrays`` takes them).
COLUMN_FIELDS = ("date", "source", "kind", "dup_group", "doc_id", "id", "article_id")
_ALIGN = 16
_MAX_HEADER = 1 << 20
# Every header is padded to this many bytes, so that a file written an array at a time
# (Writer) can give its header last and still have encode's bytes.
HEADER_ROOM = 4096 - len(MAGIC) - 4
_COPIED_AT_A_TIME = 1 << 20
_DTYPES = {"<u1", "<u2", "<u4", "<u8", "<f4", "<f8", "<i8"}


# Why a merge or a phrase stops where the arrays and Whoosh's postings say different things
DISAGREE = "the ranking arrays do not agree with the postings"


class DamagedArrays(ValueError):
    """The file is not a ranking-arrays file this version wrote, or it is cut short."""


def text_hash(text: str) -> int:
    """A 64-bit hash (BLAKE2b) of a string: equal values, equal hashes, in any process."""
    return bytes_hash(text.encode("utf-8", "surrogatepass"))


def bytes_hash(data: bytes) -> int:
    """``text_hash`` of the string whose UTF-8 is ``data``."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def term_key(term: bytes) -> int:
    """A term's first 8 bytes as a big-endian number: ordered as the terms are."""
    return int.from_bytes(term[:8].ljust(8, b"\0"), "big")


# -- writing ---------------------------------------------------------------------------------


def segment_file(doc_count: int, fields: Dict[str, tuple],
                 columns: Dict[str, list]) -> List[bytes]:
    """The file of a segment of ``doc_count`` documents, in parts to write one after another
    (``encode``), whoever wrote the segment (Whoosh's writer through ``codec``, or
    ``bulkwrite``). ``fields``: each searched field's postings in Whoosh's order and length
    bytes, ``(terms, starts, docs, weights, lengths)`` as ``field_arrays`` takes them (a field
    left out has no postings); ``columns``: the stored values of ``COLUMN_FIELDS`` by
    document (None where a document has none; a column left out has none)."""
    arrays = {}
    for field in SCORED_FIELDS:
        found = fields.get(field) or ([], [0], [], [], np.zeros(doc_count, np.uint8),
                                      np.zeros(0, np.uint16))
        for name, values in field_arrays(*found).items():
            arrays[f"{field}.{name}"] = values
    absent = [None] * doc_count
    arrays.update(document_arrays(*(columns.get(name, absent) for name in COLUMN_FIELDS)))
    return encode(doc_count, arrays)


def field_arrays(terms: Sequence[bytes], starts, docs, weights, lengths,
                 positions=None) -> Dict[str, np.ndarray]:
    """The arrays of one field from its postings in Whoosh's order: ``terms`` (sorted bytes),
    ``starts`` (len(terms) + 1 offsets into ``docs``/``weights``), each document's length
    byte; ``positions``: every posting's positions one after another (as many as its
    weight), or None."""
    term_at = np.zeros(len(terms) + 1, dtype=np.uint64)
    np.cumsum([len(t) for t in terms], out=term_at[1:])
    found = {} if positions is None else position_arrays(starts, weights, positions)
    return found | {
        "key": np.fromiter(map(term_key, terms), dtype=np.uint64, count=len(terms)),
        "term_at": term_at,
        "terms": np.frombuffer(b"".join(terms), dtype=np.uint8),
        "starts": np.asarray(starts, dtype=np.uint64),
        "docs": np.asarray(docs, dtype=np.uint32),
        "weights": np.asarray(weights, dtype=np.float32),
        "lengths": np.asarray(lengths, dtype=np.uint8),
    }


def position_arrays(starts, weights, positions) -> Dict[str, np.ndarray]:
    """``positions`` and ``position_starts`` of a field from its postings' weights (each
    posting's count of positions) and all positions in posting order."""
    ends = np.cumsum(np.asarray(weights), dtype=np.int64)  # positions up to each posting's end
    positions = np.asarray(positions)
    if (int(ends[-1]) if ends.size else 0) != positions.size:
        raise ValueError("the positions do not agree with the postings' weights")
    starts = np.asarray(starts, dtype=np.int64)
    position_starts = np.zeros(starts.size, np.uint64)
    position_starts[1:] = ends[starts[1:] - 1]  # (every term has a posting)
    top = int(positions.max()) if positions.size else 0
    return {"position_starts": position_starts,
            "positions": positions.astype(np.uint16 if top < 1 << 16 else np.uint32,
                                          copy=False)}


def string_table(values: Iterable[Optional[str]]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, text, text_at): each value as a code into a table of the distinct values."""
    index: Dict[str, int] = {}
    codes = [index.setdefault(v or "", len(index)) for v in values]
    encoded = [v.encode("utf-8", "surrogatepass") for v in index]
    text_at = np.zeros(len(encoded) + 1, dtype=np.uint64)
    np.cumsum([len(e) for e in encoded], out=text_at[1:])
    return (np.asarray(codes, dtype=np.uint32), np.frombuffer(b"".join(encoded), np.uint8),
            text_at)


def document_arrays(dates, sources, kinds, groups, doc_ids, ids,
                    article_ids) -> Dict[str, np.ndarray]:
    """The per-document columns from stored values (``dates``: datetimes or None)."""
    arrays = {"date": np.fromiter((NO_DATE if d is None else datetime_to_long(d) for d in dates),
                                  dtype=np.uint64)}
    for name, values in (("source", sources), ("kind", kinds), ("article_id", article_ids),
                         ("doc_id", doc_ids), ("id", ids)):
        codes, text, text_at = string_table(values)
        if name != "id":  # every paragraph's id is its own: the table is in document order
            arrays[name + ".code"] = codes
        arrays[name + ".text"] = text
        arrays[name + ".text_at"] = text_at
    arrays["group"] = np.fromiter((text_hash(g or "") for g in groups), dtype=np.uint64)
    arrays["doc_id"] = np.fromiter((text_hash(d or "") for d in doc_ids), dtype=np.uint64)
    return arrays


def datetime_to_long(when) -> int:
    """Whoosh's long for a datetime: microseconds since ``datetime.min`` (as
    ``whoosh.util.times.datetime_to_long``, without importing Whoosh)."""
    delta = when.replace(tzinfo=None) - when.min
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode(doc_count: int, arrays: Dict[str, np.ndarray]) -> List[bytes]:
    """The file's bytes, in parts (each array's own, viewed where it needs no conversion)."""
    layout, chunks, offset = {}, [], 0
    for name, array in sorted(arrays.items()):
        array, dtype = _little_endian(name, array)
        layout[name] = [dtype, int(array.size), offset]
        padding = -array.nbytes % _ALIGN
        chunks += [memoryview(array).cast("B"), b"\0" * padding]
        offset += array.nbytes + padding
    return [_header(doc_count, layout), *chunks]


def _little_endian(name: str, array) -> Tuple[np.ndarray, str]:
    """(``array`` contiguous and little-endian, as a view where it already is; its dtype)."""
    array = np.ascontiguousarray(array)
    dtype = "<" + array.dtype.str[1:]  # little-endian ("|u1" for bytes: no order)
    if dtype not in _DTYPES:
        raise ValueError(f"{name}: dtype {array.dtype} is not kept in ranking arrays")
    return array.astype(dtype, copy=False), dtype


def _header(doc_count: int, layout: dict) -> bytes:
    """The magic bytes, the header's length and the header, padded to HEADER_ROOM (or, if it
    is longer, to the arrays' alignment)."""
    header = json.dumps({"doc_count": doc_count, "arrays": layout}).encode("ascii")
    header += b" " * max(HEADER_ROOM - len(header), -(len(MAGIC) + 4 + len(header)) % _ALIGN)
    return MAGIC + struct.pack("<I", len(header)) + header


class Writer:
    """A ranking-arrays file written an array, or an array a piece at a time, in ``encode``'s
    order, giving ``encode``'s bytes: the arrays into an unnamed scratch file in ``folder`` as
    they come, then the header and the arrays into the file (``finish``)."""

    def __init__(self, doc_count: int, folder: str):
        self.doc_count = doc_count
        self.body = tempfile.TemporaryFile(dir=folder)
        self.layout: Dict[str, list] = {}
        self.offset = 0
        self.current: Optional[list] = None

    def add(self, name: str, array) -> None:
        array, dtype = _little_endian(name, array)
        self.begin(name, dtype)
        self.write(array)
        self.end()

    def begin(self, name: str, dtype: str) -> None:
        if self.current is not None or (self.layout and name <= max(self.layout)):
            raise ValueError(f"{name}: arrays are written one at a time, in name order")
        self.current = [name, dtype, 0]

    def write(self, values) -> None:
        """Some of the current array's values, after those written before."""
        name, dtype, count = self.current
        array, _ = _little_endian(name, np.asarray(values, dtype=dtype))
        self.body.write(memoryview(array).cast("B"))
        self.current[2] = count + array.size

    def end(self) -> None:
        name, dtype, count = self.current
        self.layout[name] = [dtype, count, self.offset]
        size = count * np.dtype(dtype).itemsize
        self.body.write(b"\0" * (-size % _ALIGN))
        self.offset += size + -size % _ALIGN
        self.current = None

    def finish(self, out) -> None:
        """Write the file into ``out`` (its ``write``), a piece at a time."""
        out.write(_header(self.doc_count, self.layout))
        self.body.seek(0)
        for piece in iter(lambda: self.body.read(_COPIED_AT_A_TIME), b""):
            out.write(piece)
        self.close()

    def close(self) -> None:
        """Let the scratch file go (finished or not)."""
        self.body.close()


# -- reading ---------------------------------------------------------------------------------


class SegmentArrays:
    """One segment's arrays, viewed in place in the mapped file. With the commit's ``checked``
    map of it (integrity.CheckedMap), each array's bytes are verified the first time it is
    used, and of the postings only the slices a query reads."""

    def __init__(self, path: str, checked=None):
        if checked is None:
            with open(path, "rb") as handle:
                try:
                    buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                except ValueError:  # an empty file cannot be mapped
                    raise DamagedArrays(f"{path} is empty") from None
        else:
            buffer = checked.buffer
        self.path = path
        self._text: Dict[str, bytes] = {}  # string tables' text, once read
        arrays, spans = _parse(buffer, path, checked)
        self.doc_count = arrays.pop("doc_count")
        self._check_shapes(arrays)
        self._unchecked = arrays  # for slices of the postings, checked by _check_slice
        self.arrays = arrays if checked is None else _CheckedArrays(arrays, spans, checked)
        self._checked = checked
        self._spans = spans

    def _check_shapes(self, arrays) -> None:
        """Every array this version writes is there with its length (the contents are
        checked as they are used, so that opening stays cheap)."""
        n = self.doc_count
        expected = {"date": n, "group": n, "doc_id": n, "id.text_at": n + 1}
        for name in ("source", "kind", "article_id", "doc_id"):
            expected[name + ".code"] = n
        for field in SCORED_FIELDS:
            terms = arrays.get(field + ".key", np.zeros(0)).size
            expected.update({field + ".lengths": n, field + ".term_at": terms + 1,
                             field + ".starts": terms + 1})
            docs = arrays.get(field + ".docs")
            if docs is None or arrays.get(field + ".weights", np.zeros(0)).size != docs.size:
                raise DamagedArrays(f"{self.path}: the postings of {field!r} are damaged")
            if field + ".positions" in arrays:
                expected[field + ".position_starts"] = terms + 1
                # (positions below 2**32 and whole offsets: what the phrase matcher relies on)
                if arrays[field + ".positions"].dtype.str not in ("<u2", "<u4") or \
                        arrays.get(field + ".position_starts", np.zeros(0, "<u8")).dtype.str \
                        != "<u8":
                    raise DamagedArrays(f"{self.path}: the positions of {field!r} are damaged")
        for name, size in expected.items():
            array = arrays.get(name)
            if array is None or array.size != size:
                raise DamagedArrays(f"{self.path}: array {name!r} is missing or damaged")

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def span(self, name: str) -> Tuple[int, int]:
        """Where array ``name`` lies in the file: (first byte, end)."""
        return self._spans[name][:2]

    def strings(self, name: str) -> List[str]:
        """The string table of column ``name`` (source, kind)."""
        text = self.arrays[name + ".text"].tobytes()
        at = self.arrays[name + ".text_at"].tolist()
        return [text[a:b].decode("utf-8", "surrogatepass") for a, b in zip(at, at[1:])]

    def text_of(self, name: str) -> bytes:
        """The text of the string table of column ``name`` (read once)."""
        text = self._text.get(name)
        if text is None:
            text = self._text[name] = self.arrays[name + ".text"].tobytes()
        return text

    def strings_of(self, name: str, docnums) -> List[str]:
        """Column ``name``'s values for these documents (source, kind, article_id, doc_id,
        id)."""
        docnums = np.asarray(docnums, dtype=np.int64)
        codes = docnums if name == "id" else self.arrays[name + ".code"][docnums]
        at = self.arrays[name + ".text_at"]
        text = self.text_of(name)
        if codes.size and (int(codes.max()) >= at.size - 1 or int(at[-1]) > len(text)):
            raise DamagedArrays(f"{self.path}: the table of {name!r} is damaged")
        starts, ends = at[codes].tolist(), at[codes + 1].tolist()
        return [text[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends)]

    def find(self, field: str, term: bytes) -> int:
        """The number of ``term`` in ``field``'s arrays, or -1 if the segment lacks it."""
        first, last = self.term_range(field, term, term)
        return first if first < last else -1

    def term_range(self, field: str, low: bytes, high: bytes) -> Tuple[int, int]:
        """[first, last): the numbers of the terms from ``low`` to ``high`` inclusive."""
        keys = self.arrays[field + ".key"]
        # (np.uint64: a Python int this large would be compared as a float, and rounded)
        return (self._first(field, keys, low, np.searchsorted(keys, np.uint64(term_key(low)))),
                self._first(field, keys, high, np.searchsorted(keys, np.uint64(term_key(high))),
                            after=True))

    def _first(self, field: str, keys, term: bytes, i: int, after: bool = False) -> int:
        """The first term at or after ``i`` that is not below ``term`` (not at or below it,
        ``after``), among the terms sharing its key."""
        i = int(i)
        key = term_key(term)
        while i < keys.size and int(keys[i]) == key:
            found = self.term(field, i)
            if found > term or (found == term and not after):
                break
            i += 1
        return i

    def term(self, field: str, number: int) -> bytes:
        at = self.arrays[field + ".term_at"]
        start, end = int(at[number]), int(at[number + 1])
        self._check_slice(field + ".terms", start, end)
        return self._unchecked[field + ".terms"][start:end].tobytes()

    def _check_slice(self, name: str, start: int, end: int) -> None:
        """Verify items ``start`` to ``end`` of array ``name`` (once per page)."""
        if self._checked is not None and end > start:
            first, _last, itemsize = self._spans[name]
            self._checked.check(first + start * itemsize, first + end * itemsize)

    def postings(self, field: str, number: int) -> Tuple[np.ndarray, np.ndarray]:
        """The term's document numbers (ascending) and weights."""
        starts = self.arrays[field + ".starts"]
        start, end = int(starts[number]), int(starts[number + 1])
        docs = self._unchecked[field + ".docs"]
        if not start <= end <= docs.size:
            raise DamagedArrays(f"{self.path}: the postings of {field!r} are damaged")
        self._check_slice(field + ".docs", start, end)
        self._check_slice(field + ".weights", start, end)
        found = docs[start:end]
        if end > start and int(found[-1]) >= self.doc_count:
            raise DamagedArrays(f"{self.path}: the postings of {field!r} are damaged")
        return found, self._unchecked[field + ".weights"][start:end]

    def postings_of_terms(self, field: str, first: int, last: int) -> Tuple[np.ndarray,
                                                                              np.ndarray, int]:
        """The postings of terms ``first`` to ``last`` (exclusive), one after another: their
        documents, their counts of positions, and where the first term's positions begin."""
        starts = self.arrays[field + ".starts"]
        if not 0 <= first < last < starts.size:
            raise DamagedArrays(f"{self.path}: the postings of {field!r} are damaged")
        low, high = int(starts[first]), int(starts[last])
        docs = self._unchecked[field + ".docs"]
        if not 0 <= low <= high <= docs.size:
            raise DamagedArrays(f"{self.path}: the postings of {field!r} are damaged")
        self._check_slice(field + ".docs", low, high)
        self._check_slice(field + ".weights", low, high)
        counts = self._counts(field, self._unchecked[field + ".weights"][low:high])
        begin, _ = self._position_span(field, first, last, int(counts.sum()))
        return docs[low:high], counts, begin

    def _counts(self, field: str, weights: np.ndarray) -> np.ndarray:
        """Postings' weights as their counts of positions: whole, not negative, and no more
        than the field has."""
        with np.errstate(invalid="ignore"):  # (NaN: told below)
            counts = weights.astype(np.int64)
        if counts.size and (
                int(counts.min()) < 0 or not np.array_equal(counts, weights)
                or int(counts.max()) > self._unchecked[field + ".positions"].size):
            raise DamagedArrays(f"{self.path}: the postings of {field!r} are damaged")
        return counts

    def _position_span(self, field: str, first: int, last: int,
                       count: Optional[int]) -> Tuple[int, int]:
        """Where the positions of terms ``first`` to ``last`` (exclusive) lie in the
        positions array: as many as their postings' weights, ``count``, if given."""
        begin, end = (int(x) for x in self.arrays[field + ".position_starts"][[first, last]])
        if not begin <= end <= self._unchecked[field + ".positions"].size or \
                (count is not None and end - begin != count):
            raise DamagedArrays(f"{self.path}: the positions of {field!r} are damaged")
        return begin, end

    def positions_at(self, field: str, taken: np.ndarray) -> np.ndarray:
        """The field's positions at these places (checked first)."""
        flat = self._unchecked[field + ".positions"]
        if taken.size:
            low, high = int(taken.min()), int(taken.max()) + 1
            if low < 0 or high > flat.size:
                raise DamagedArrays(f"{self.path}: the positions of {field!r} are damaged")
            self._check_slice(field + ".positions", low, high)
        return flat[taken]

    def has_positions(self, field: str) -> bool:
        return field + ".positions" in self._unchecked

    def positions(self, field: str, number: int, docnums: np.ndarray) -> Tuple[np.ndarray,
                                                                                np.ndarray]:
        """The term's positions in the documents ``docnums`` (ascending, each holding the
        term): (which of ``docnums`` each position is in, the positions), in that order, each
        document's ascending."""
        docs, weights = self.postings(field, number)
        at = np.searchsorted(docs, docnums)
        if at.size and (int(at[-1]) >= docs.size or not np.array_equal(docs[at], docnums)):
            raise DamagedArrays(f"{self.path}: the postings of {field!r} lack a document")
        # (the postings up to the last one asked for: a common word's are many)
        counts = self._counts(field, weights[: int(at[-1]) + 1 if at.size else 0])
        before = np.cumsum(counts)
        first, last = self._position_span(field, number, number + 1, None)
        if before.size and first + int(before[-1]) > last:
            raise DamagedArrays(f"{self.path}: the positions of {field!r} are damaged")
        self._check_slice(field + ".positions", first, last)
        sizes = counts[at]
        starts = first + (before - counts)[at]  # (the term's positions before)
        owner = np.repeat(np.arange(docnums.size), sizes)
        found = self._unchecked[field + ".positions"][ranges(starts, sizes)]
        if unordered(owner, found):
            raise DamagedArrays(f"{self.path}: the positions of {field!r} are damaged")
        return owner, found


def unordered(owner: np.ndarray, positions: np.ndarray) -> bool:
    """Whether a posting's positions (those of one ``owner``) are not strictly ascending."""
    return bool(np.any((positions[1:] <= positions[:-1]) & (owner[1:] == owner[:-1])))


class _CheckedArrays(dict):
    """The arrays, each verified against the commit's page checksums when first looked up
    (the postings and term text are checked by the slices read instead)."""

    def __init__(self, arrays, spans, checked):
        super().__init__(arrays)
        self._spans = spans
        self._checked = checked
        self._verified = set()

    def __getitem__(self, name):
        if name not in self._verified:
            first, last, _itemsize = self._spans[name]
            self._checked.check(first, last)
            self._verified.add(name)
        return dict.__getitem__(self, name)

    def get(self, name, default=None):
        return self[name] if name in self else default



def _parse(buffer, path: str, checked=None) -> tuple:
    """(the arrays by name, and doc_count; each array's (first byte, end, item size))."""
    size = len(buffer)
    if buffer[: len(MAGIC)] != MAGIC or size < len(MAGIC) + 4:
        raise DamagedArrays(f"{path} is not a ranking-arrays file")
    (length,) = struct.unpack_from("<I", buffer, len(MAGIC))
    start = len(MAGIC) + 4
    if length > _MAX_HEADER or start + length > size:
        raise DamagedArrays(f"{path} has a damaged header")
    try:
        header = json.loads(bytes(buffer[start : start + length]).decode("ascii"))
        doc_count = int(header["doc_count"])
        layout = dict(header["arrays"])
    except (ValueError, KeyError, TypeError):
        raise DamagedArrays(f"{path} has a damaged header") from None
    base = start + length
    if checked is not None:
        checked.check(0, base)
    arrays = {"doc_count": doc_count}
    spans = {}
    for name, spec in layout.items():
        try:
            dtype, count, offset = spec
            dtype, count, offset = str(dtype), int(count), int(offset)
        except (ValueError, TypeError):
            raise DamagedArrays(f"{path}: array {name!r} is damaged") from None
        if dtype not in _DTYPES or count < 0 or offset < 0:
            raise DamagedArrays(f"{path}: array {name!r} is damaged")
        itemsize = np.dtype(dtype).itemsize
        if base + offset + count * itemsize > size:
            raise DamagedArrays(f"{path}: array {name!r} runs past the end of the file")
        arrays[name] = np.frombuffer(buffer, dtype=dtype, count=count, offset=base + offset)
        spans[name] = (base + offset, base + offset + count * itemsize, itemsize)
    return arrays, spans
