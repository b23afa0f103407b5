"""Write a whole Whoosh segment from a batch of documents at once.

Whoosh's writer takes documents one by one: every field of every document through its
analyzer, every posting as a tuple into a pool, the pool sorted, and every posting written by
a Python call at commit (~50 postings a paragraph). This module takes the whole batch: each
distinct word of the batch is analysed once, the tokens become numpy arrays (term, document,
position) that are sorted and grouped with numpy, and the segment's files are written with
bytes operations:

* ``.trm``: the term index (Whoosh's ordered hash file of term infos),
* ``.pst``: the postings, in Whoosh's blocks (pickled, zlib streams, 128 postings a block),
  with positions for text fields,
* ``.<field>.col``: the field-length columns, the sortable columns and the stored fields,
* ``.rank``: the segment's ranking arrays (``rankarrays``), built by the same function from
  the same postings, lengths and stored values as for a segment of Whoosh's writer
  (``codec.write_ranking_arrays``), so that the engine cannot tell either.

With ``whoosh_bytes`` the files are Whoosh's W3 files byte for byte (tests/test_bulkwrite.py
compares them with Whoosh's own writer's); by default only the blocks' pickles and the
compression of blocks and stored documents differ (``write_segment``), and read back the same.
Either way a stock Whoosh reader opens the segment, and a search, a merge or ``optimize``
cannot tell who wrote it. What had to be copied exactly: positions after a
leading stop word (StopFilter numbers the kept words on), the length each posting's block
statistics use (the one-byte length column read back), fields in name order, stored fields'
keys in name order, Whoosh's weights as float32 inside blocks but as given in the block's
maximum, and the growth of Whoosh's arrays (their type code depends on the largest value).

The API is ``write_segment(storage, schema, documents, on_segment=None)``: it writes the
files into ``storage`` (the index's: it journals each file before creating it, so that a
stopped run's files are removed by the next writer, and the commit sums and syncs them) and
returns the ``W3Segment`` to put into the next TOC. Nothing is committed here.

``on_segment(segment_id, arrays)`` (optional) is called once, in the process that wrote the
segment, when its files are complete, with what ranking needs as plain numpy arrays::

    {"doc_count": int,
     "fields": {"text": F, "title": F},      # each searched field the batch has
     "docs": {"date": datetime64[D] (NaT: undated), "source", "kind", "dup_group",
              "doc_id", "id", "article_id": object arrays of the stored str values
              (None: absent)}}

    F = {"term_bytes": uint8, "term_offsets": int64 (nterms + 1): term i is
              term_bytes[term_offsets[i]:term_offsets[i + 1]], terms in sorted order,
         "postings": int64 (nterms + 1): term i's postings are [postings[i], postings[i + 1]),
         "docnums": uint32, segment-local document numbers, ascending within a term,
         "weights": float32, as Whoosh stores them (the term's frequency in the document),
         "length_bytes": uint8 per document, Whoosh's length_to_byte of the field length,
         "total": int, the field's total length as recorded in the segment}

Only documents with the plain keyword fields of ``add_document`` are taken (no ``_boost``
or ``_stored_`` keys). Text fields must be ``WordCachingText`` with its shortcut in force to
be analysed in bulk; any other indexed field goes through its own ``index`` (once per distinct
value).
"""

import itertools
import pickle
import random
import struct
import zlib
from array import array
from collections import defaultdict
from hashlib import md5
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence

import numpy as np
from isal import isal_zlib
from whoosh.analysis import IDTokenizer
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3Segment,
    _lenfield,
)
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.formats import Existence, Positions
from whoosh.util import IDCHARS
from whoosh.util.numeric import byte_to_length, length_to_byte

from .arrays import ranges, stable_order
from .codec import write_ranking_arrays
from .rankarrays import SCORED_FIELDS
from .textfield import WordCachingText

OnSegment = Callable[[str, dict], None]
RANKED_FIELDS = SCORED_FIELDS
RANKED_DOC_VALUES = ("date", "source", "kind", "dup_group", "doc_id", "id", "article_id")

_CHUNK = 1 << 20  # bytes gathered before a write to the file
# Posting blocks whose pickle is shorter are stored uncompressed (level 0 in the block's
# header; Whoosh's reader decompresses only blocks that say they are compressed). Whoosh meant
# to skip compressing below 20 bytes but compresses every block: a paragraph id's block comes
# out longer, and costs a zlib call per term. A zlib call costs about the same whatever the
# size of so small a block, and saves a few bytes below this one.
COMPRESS_FROM = 256
# Postings turned into blocks at a time (whole terms): Python lists of all of a field's
# postings would add several times their arrays' size to the writer's peak.
_POSTINGS_AT_A_TIME = 1 << 16
_POSITIONS_AT_A_TIME = 1 << 18  # postings whose positions are gathered at a time
# The pickle protocol of a block's data: Whoosh's 2 pickles each posting's positions (bytes)
# as a call to _codecs.encode, which its reader makes again; 3 has bytes of its own.
BLOCK_PROTOCOL = 3
# ... and of a stored document: Whoosh's 2 pickles a date's bytes as that same call, and a
# string's length in four bytes where 4 takes one for a short one.
STORED_PROTOCOL = 4


def fast_compress(data: bytes, level: int) -> bytes:
    """A zlib stream of ``data``, as every zlib reader decompresses it, made by ISA-L's
    deflate (its level 1, whatever ``level``): about the size of zlib's level 3 on blocks and
    stored documents this small, in under half the time (most of zlib's is setting up its
    state for each)."""
    return isal_zlib.compress(data, 1)


_pack_int = struct.Struct("!i").pack
_pack_ushort = struct.Struct("!H").pack
_record_lengths = struct.Struct("!ii").pack
_TERMINFO = struct.Struct("!BfIBBfIIqi")  # W3TermInfo's fields + the postings' extent
_VARBYTES_OFFSETS_CUTOFF = 2**15  # VarBytesColumn writes offsets above this many documents
# length_to_byte(byte_to_length(b)): the byte Whoosh records for a length read back as b
_ROUND_TRIP = np.array([length_to_byte(byte_to_length(b)) for b in range(256)], np.int64)
_LENGTH_LIMITS = np.array([byte_to_length(b) for b in range(256)], np.int64)


def field_total(lengths: np.ndarray) -> int:
    """A field's total length in a segment (what BM25's average length is taken from): the
    sum of the documents' lengths as W3 stores them (rounded to their length byte), as
    ``codec``'s writer and any merge sum them, so that scores do not depend on the layout."""
    return int(_LENGTH_LIMITS[length_bytes(lengths)].sum())


def length_bytes(lengths: np.ndarray) -> np.ndarray:
    """Whoosh's ``length_to_byte`` of each length (0 for 0), as uint8."""
    clipped = np.minimum(lengths, 106374)  # length_to_byte's 255 from there on
    found = np.searchsorted(_LENGTH_LIMITS, clipped, side="left")
    return np.where(lengths >= 106374, 255, found).astype(np.uint8)


def new_segment_id() -> str:
    """A segment id as Whoosh makes them, from the system's randomness (forked writer
    processes share the random module's state)."""
    return "".join(random.SystemRandom().choice(IDCHARS) for _ in range(16))


# -- the batch's postings ---------------------------------------------------------------------


class _Postings:
    """One field's postings in segment order: terms sorted, each term's documents ascending."""

    def __init__(self, terms: List[bytes], offsets, docnums, weights, values, positions=None):
        self.terms = terms  # sorted term bytes
        self.offsets = offsets  # int64, len(terms) + 1
        self.docnums = docnums  # int64
        self.weights = weights  # float64: the weights as the writer is given them
        self.values = values  # object array of encoded values, or None (fixed size 0)
        # every posting's positions one after another (as many as its weight), or None
        self.positions = positions


def _sorted_postings(term_list, tids, docnums, weights, values) -> _Postings:
    """Postings given in document order (term ids into ``term_list``) -> segment order."""
    terms, offsets, order = _segment_order(term_list, tids)
    return _Postings(terms, offsets, docnums[order], weights[order],
                     None if values is None else values[order])


def _segment_order(term_list, tids):
    """(the terms sorted, where each one's postings start, the order of the postings given
    in document order by term ids into ``term_list``)."""
    order_of_term = sorted(range(len(term_list)), key=term_list.__getitem__)
    rank = np.empty(len(term_list), np.int64)
    rank[order_of_term] = np.arange(len(term_list))
    ranks = rank[tids]
    order = stable_order(ranks, len(term_list))
    offsets = np.zeros(len(term_list) + 1, np.int64)
    np.cumsum(np.bincount(ranks, minlength=len(term_list)), out=offsets[1:])
    return [term_list[i] for i in order_of_term], offsets, order


class Tokens(NamedTuple):
    """A text field's values split into words by its tokenizer, each distinct text once."""

    value_of_doc: np.ndarray  # each document's text (an index of the distinct texts), -1: none
    counts: np.ndarray  # tokens of each distinct text
    spellings: List[str]  # the distinct tokens as written, by id
    token_spelling: np.ndarray  # the spelling of each token, text after text


def tokenizable(field) -> bool:
    """Whether ``tokenize`` can split this field's values (a WordCachingText field whose
    tokenizer is a plain regular expression)."""
    return isinstance(field, WordCachingText) and field.word_pattern() is not None


def tokenize(field, values: list) -> Tokens:
    """The tokens of a WordCachingText field's values (``None`` for a document without)."""
    value_of_doc, texts = _distinct(values)
    findall = field.word_splitter()
    counts = np.zeros(len(texts), np.int64)
    ids: Dict[str, int] = defaultdict(itertools.count().__next__)  # spelling -> its id
    spelling_ids = array("q")  # not a list of every token's string: a batch has millions
    for i, text in enumerate(texts):
        found = findall(text)
        counts[i] = len(found)
        spelling_ids.extend(map(ids.__getitem__, found))
    token_spelling = np.array(spelling_ids, np.int64)
    return Tokens(value_of_doc, counts, list(ids), token_spelling)


def _text_postings(field, tokens: Tokens, ndocs: int):
    """Bulk analysis of a WordCachingText field: (postings, per-document lengths)."""
    value_of_doc, counts, spellings, token_words = tokens
    term_of = field.term  # the field's own word -> term cache: a word is analysed once
    term_ids: Dict[bytes, int] = {}
    # (32-bit numbers by token: a batch has millions of tokens, of fewer distinct words)
    word_term = np.empty(len(spellings), np.int32)
    for i, word in enumerate(spellings):
        term = term_of(word)
        word_term[i] = -1 if term is None else term_ids.setdefault(term, len(term_ids))
    tids = word_term[token_words] if len(token_words) else np.zeros(0, np.int32)

    # Positions as Whoosh's StopFilter(renumber=True) gives them: the first kept word keeps
    # its tokenizer position, each later kept word is one more than the kept one before it.
    ntexts = len(counts)
    starts = np.zeros(ntexts + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    text_of_token = np.repeat(np.arange(ntexts, dtype=np.int32), counts)
    kept = tids >= 0
    kept_count = np.zeros(len(tids) + 1, np.int64)
    np.cumsum(kept, out=kept_count[1:])
    kept_before_text = kept_count[starts[:-1]]  # by text
    kept_count = kept_count[1:][kept]  # by kept token, from here on
    index_in_text = np.flatnonzero(kept)
    text_of_token, tids = text_of_token[kept], tids[kept]
    del kept
    index_in_text -= starts[text_of_token]
    rank = (kept_count - 1 - kept_before_text[text_of_token]).astype(np.int32)
    del kept_count
    first = np.zeros(ntexts, np.int64)
    first[text_of_token[rank == 0]] = index_in_text[rank == 0]
    positions = first[text_of_token] + rank
    text_lengths = np.bincount(text_of_token, minlength=ntexts)
    del index_in_text, rank, first

    # Postings of each distinct text: (text, term) groups of its tokens, positions in order.
    nterms = max(len(term_ids), 1)
    key = text_of_token.astype(np.int64) * nterms + tids
    del text_of_token, tids
    order = stable_order(key, ntexts * nterms)
    key = key[order]
    positions = positions[order].astype(np.uint32)  # (a text has fewer words than 2**32)
    del order
    group_start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    freqs = np.diff(np.r_[group_start, len(key)])
    group_text = key[group_start] // nterms
    group_term = key[group_start] % nterms
    encoded = _encode_positions(field.format, positions, group_start, freqs)
    del key

    # Each document takes the postings of its text (a title is shared by its paragraphs).
    docnums, gather = _expand(value_of_doc, np.bincount(group_text, minlength=ntexts))
    del group_text
    boost = field.format.field_boost
    doc_freqs = freqs[gather]
    weights = doc_freqs.astype(np.float64) * boost * 1.0
    lengths = np.zeros(ndocs, np.int64)
    present = value_of_doc >= 0
    lengths[present] = text_lengths[value_of_doc[present]]
    values = encoded[gather]
    # A block pickles its values with pickle's memo, so which values are the same object
    # shows in the bytes: Whoosh's field shares one object per single position but encodes
    # several positions anew for each document. Documents sharing a text do so too.
    shared = (doc_freqs > 1) & (np.bincount(gather, minlength=len(freqs))[gather] > 1)
    for i in np.flatnonzero(shared).tolist():
        values[i] = bytes(bytearray(values[i]))
    tids = group_term[gather]
    del encoded, group_term, doc_freqs, shared  # (before the sort's copies)

    terms, offsets, order = _segment_order(list(term_ids), tids)
    del tids
    postings = _Postings(terms, offsets, docnums[order], weights[order], values[order])
    del docnums, weights, values  # (before the positions are gathered)
    # (a posting's count of positions is its weight, which a field boost would change)
    if boost == 1.0:
        postings.positions = _gathered(positions, group_start, freqs, gather[order])
    return postings, lengths


def _gathered(positions, group_start, freqs, groups) -> np.ndarray:
    """The positions of each posting (of group ``groups[i]``, whose ``freqs`` positions
    start at ``group_start`` in ``positions``) one after another, for the ranking arrays:
    gathered a piece at a time (the index of every position would be the batch's largest
    array)."""
    sizes = freqs[groups]
    ends = np.cumsum(sizes)
    top = int(positions.max()) if positions.size else 0
    found = np.empty(int(ends[-1]) if ends.size else 0, np.uint16 if top < 1 << 16 else np.uint32)
    for low in range(0, groups.size, _POSITIONS_AT_A_TIME):
        part = slice(low, low + _POSITIONS_AT_A_TIME)
        counts, upto = sizes[part], ends[part]
        found[int(upto[0] - counts[0]):int(upto[-1])] = positions[
            ranges(group_start[groups[part]], counts)]
    return found


def _encode_positions(fmt: Positions, positions, group_start, freqs) -> np.ndarray:
    """``fmt.encode`` of each group's positions, as an object array: a single position from a
    table made once per batch, several one by one."""
    encoded = np.empty(len(group_start), object)
    if not len(group_start):
        return encoded
    single = freqs == 1
    firsts = positions[group_start]
    if single.any():
        top = int(firsts[single].max())
        table = np.empty(top + 1, object)
        table[:] = [fmt.encode([p]) for p in range(top + 1)]
        encoded[single] = table[firsts[single]]
    encode = fmt.encode
    several = np.flatnonzero(~single)
    sizes = freqs[several]
    # (only their positions as Python numbers: the batch's are millions)
    as_list = positions[ranges(group_start[several], sizes)].tolist()
    start = 0
    for g, end in zip(several.tolist(), np.cumsum(sizes).tolist()):
        encoded[g] = encode(as_list[start:end])
        start = end
    return encoded


def _id_items(field):
    """For an ID-like field (IDTokenizer alone, Existence): value -> its one posting, without
    the analyzer's generators; None if the field is not one."""
    if type(field.format) is not Existence or type(field.analyzer) is not IDTokenizer:
        return None
    boost = field.format.field_boost

    def items(value):
        if not isinstance(value, str):
            return list(field.index(value))
        return [(value.encode("utf-8"), 1, boost, b"")]

    return items


def _distinct(values: list):
    """(index of each document's value among the distinct values, -1 for None; the distinct
    values in order of first use). 1 and 1.0 are told apart, as Whoosh indexes them apart."""
    present = [v for v in values if v is not None]
    if len({type(v) for v in present}) <= 1:
        keys = values
    else:
        keys = [None if v is None else (type(v), v) for v in values]
    index: Dict[object, int] = {}
    of_doc = np.fromiter((-1 if k is None else index.setdefault(k, len(index)) for k in keys),
                         np.int64, len(keys))
    firsts = {}
    for k, v in zip(keys, values):
        if k is not None and k not in firsts:
            firsts[k] = v
    return of_doc, list(firsts.values())


def _expand(value_of_doc, per_value):
    """Each document takes its value's postings: ``per_value[v]`` is the number of postings
    of value ``v`` (laid out value after value). Returns (document of each posting, index of
    each posting in the per-value layout), in document order."""
    value_first = np.zeros(len(per_value) + 1, np.int64)
    np.cumsum(per_value, out=value_first[1:])
    present = np.flatnonzero(value_of_doc >= 0)
    doc_value = value_of_doc[present]
    take = per_value[doc_value]
    gather = np.repeat(value_first[doc_value] - (np.cumsum(take) - take), take)
    gather += np.arange(len(gather))
    return np.repeat(present, take), gather


def _other_postings(field, values: list):
    """Postings of any other indexed field through its own ``index``, called once per
    distinct value: (postings, per-document lengths)."""
    fast = _id_items(field)
    value_of_doc, distinct = _distinct(values)
    term_ids: Dict[bytes, int] = {}
    tids: List[int] = []
    weights: List[float] = []
    encoded: List[bytes] = []
    per_value = np.zeros(len(distinct), np.int64)
    value_lengths = np.zeros(len(distinct), np.int64)
    for i, value in enumerate(distinct):
        items = fast(value) if fast else list(field.index(value))
        per_value[i] = len(items)
        for tbytes, freq, weight, vbytes in items:
            tids.append(term_ids.setdefault(tbytes, len(term_ids)))
            weights.append(weight * 1.0)  # add_document's field boost
            encoded.append(vbytes)
            value_lengths[i] += freq
    docnums, gather = _expand(value_of_doc, per_value)
    lengths = np.zeros(len(values), np.int64)
    if field.scorable:
        lengths[value_of_doc >= 0] = value_lengths[value_of_doc[value_of_doc >= 0]]
    values_array = None
    if field.format.fixed_value_size() != 0:
        values_array = np.empty(len(encoded), object)
        values_array[:] = encoded
        values_array = values_array[gather]
        # Whoosh encodes each document's values anew: no object shared between documents
        # (a block's pickle would show it)
        uses = np.bincount(gather, minlength=len(encoded))[gather]
        for i in np.flatnonzero(uses > 1).tolist():
            values_array[i] = bytes(bytearray(values_array[i]))
    postings = _sorted_postings(
        list(term_ids), np.array(tids, np.int64)[gather], docnums,
        np.array(weights, np.float64)[gather], values_array)
    return postings, lengths


# -- writing ----------------------------------------------------------------------------------


class _Out:
    """A segment file being written: parts gathered and written in chunks (each write passes
    the storage's fault hook, as Whoosh's writes do)."""

    def __init__(self, storage, name):
        self.file = storage.create_file(name)
        self.parts: List[bytes] = []
        self.pending = 0
        self.offset = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.pending += len(data)
        self.offset += len(data)
        if self.pending >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.file.write(b"".join(self.parts))
            self.parts, self.pending = [], 0

    def close(self) -> None:
        self.flush()
        self.file.close()


def _array_bytes(values: np.ndarray, typecode: str) -> bytes:
    """Whoosh's ``write_array``: big-endian, in the array's type code."""
    return values.astype(np.dtype(typecode).newbyteorder(">")).tobytes()


def _growable_typecode(top: int, first: str = "B") -> str:
    """The type code a Whoosh GrowableArray ends with, holding numbers up to ``top``."""
    if first == "B" and top < 2**8:
        return "B"
    if top < 2**16:
        return "H"
    if top < 2**31:
        return "i"
    if top < 2**32:
        return "I"
    return "q"


def _varbytes_column(values: list, doccount: int, with_offsets: bool = True,
                     cutoff: int = _VARBYTES_OFFSETS_CUTOFF) -> bytes:
    """A VarBytesColumn's file: the values, their lengths, offsets past the cutoff."""
    data = b"".join(v for v in values if v)
    lengths = np.fromiter((len(v) if v else 0 for v in values), np.int64, len(values))
    return data + varbytes_tail(lengths, doccount, with_offsets, cutoff)


def varbytes_tail(lengths: np.ndarray, doccount: int, with_offsets: bool = True,
                  cutoff: int = _VARBYTES_OFFSETS_CUTOFF) -> bytes:
    """What follows the values in a VarBytesColumn's file, given their ``lengths``."""
    lengths = np.r_[lengths, np.zeros(doccount - len(lengths), np.int64)]
    offsets = np.cumsum(lengths) - lengths
    lcode = _growable_typecode(int(lengths.max(initial=0)))
    out = [_array_bytes(lengths, lcode)]
    if with_offsets and doccount > cutoff:
        ocode = _growable_typecode(int(offsets.max(initial=0)))
        out += [_array_bytes(offsets, ocode), lcode.encode(), ocode.encode(), b"X"]
    else:
        out.append(lcode.encode())
    return b"".join(out)


def _numeric_column(column: NumericColumn, values: Iterable, doccount: int) -> bytes:
    """A NumericColumn's file: each of the ``doccount`` values (None: the default) up to the
    last one that is not the default (the rest read as the default), packed in an array
    where numpy packs the typecode as struct does (not a Python number and its bytes each)."""
    default, typecode = column._default, column._typecode
    dtype = np.dtype(">" + typecode)
    if dtype.itemsize != struct.calcsize("!" + typecode):
        pack = struct.Struct("!" + typecode).pack
        found = [default if v is None else v for v in values]
        last = max((n for n, v in enumerate(found) if v != default), default=-1)
        return b"".join(map(pack, found[: last + 1]))
    found = np.fromiter((default if v is None else v for v in values), dtype, doccount)
    given = np.flatnonzero(found != default)
    return found[: int(given[-1]) + 1 if given.size else 0].tobytes()


def _column_file(column, values: Iterable, doccount: int) -> bytes:
    """The file of a column with ``values`` by document (None: no value given; a list for a
    VarBytesColumn)."""
    if type(column) is VarBytesColumn:
        return _varbytes_column(values, doccount, column.allow_offsets,
                                column.write_offsets_cutoff)
    if type(column) is NumericColumn:
        return _numeric_column(column, values, doccount)
    from io import BytesIO

    from whoosh.filedb.structfile import StructFile

    buffer = BytesIO()
    writer = column.writer(StructFile(buffer))
    for docnum, value in enumerate(values):
        if value is not None:
            writer.add(docnum, value)
    writer.finish(doccount)
    return buffer.getvalue()


class _TermIndex:
    """Whoosh's OrderedHashWriter (the ``.trm`` file), fed whole: records in key order, then
    the 256 hash tables, their directory, the extras and the ordered positions."""

    def __init__(self, out: _Out):
        self.out = out
        out.write(b"HSH3" + bytes([0]) + _pack_int(0) + _pack_int(0))  # magic, md5, unused
        self.hashes: List[np.ndarray] = []
        self.positions: List[np.ndarray] = []
        self.fieldmap: Dict[str, int] = {}

    def add_all(self, keys: List[bytes], values: List[bytes]) -> None:
        """Records of ascending keys (HashWriter.add for each)."""
        sizes = np.fromiter((8 + len(k) + len(v) for k, v in zip(keys, values)), np.int64,
                            len(keys))
        self.positions.append(self.out.offset + np.cumsum(sizes) - sizes)
        self.hashes.append(np.fromiter(
            (int.from_bytes(md5(k).digest()[-4:], "big") for k in keys), np.int64, len(keys)))
        parts = []
        for k, v in zip(keys, values):
            parts += (_record_lengths(len(k), len(v)), k, v)
        self.out.write(b"".join(parts))

    def close(self) -> None:
        out = self.out
        hashes = np.concatenate(self.hashes) if self.hashes else np.zeros(0, np.int64)
        positions = np.concatenate(self.positions) if self.positions else hashes
        bucket = hashes & 255
        order = np.argsort(bucket, kind="stable")
        counts = np.bincount(bucket, minlength=256)
        directory = []
        pointer = np.dtype([("hash", ">u4"), ("pos", ">i8")])
        start = 0
        for b in range(256):
            n = int(counts[b])
            slots = 2 * n
            table = np.zeros(slots, pointer)
            if n:  # linear probing in insertion order, as HashWriter._write_hashes
                members = order[start:start + n]
                start += n
                used = bytearray(slots)
                where = []
                for h in hashes[members].tolist():
                    slot = (h >> 8) % slots
                    while used[slot]:
                        slot = (slot + 1) % slots
                    used[slot] = 1
                    where.append(slot)
                table["hash"][where] = hashes[members]
                table["pos"][where] = positions[members]
            directory.append((out.offset, slots))
            out.write(table.tobytes())
        out.write(b"".join(struct.pack("!qi", p, n) for p, n in directory))
        extras_at = out.offset
        code = _growable_typecode(int(positions.max(initial=0)), first="H")
        extras = {"fieldmap": self.fieldmap, "indextype": code, "indexlen": len(positions)}
        out.write(pickle.dumps(extras, -1))
        out.write(_array_bytes(positions, code))
        out.write(_pack_int(out.offset - extras_at))
        out.close()


_TERMINFO_ROW = np.dtype([
    ("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"),
    ("maxlength", "u1"), ("maxweight", ">f4"), ("minid", ">u4"), ("maxid", ">u4"),
    ("offset", ">i8"), ("length", ">i4")])


def _write_postings(pst: _Out, terms: _TermIndex, fieldid: int, postings: _Postings,
                    fmt, lengths: Optional[np.ndarray], blocklimit: int, level: int,
                    whoosh_bytes: bool) -> None:
    """One field's terms: their postings into ``.pst`` in Whoosh's blocks, their term infos
    into the term index, as W3FieldWriter and W3PostingsWriter write them. A block's pickle
    shorter than COMPRESS_FROM bytes is stored uncompressed, the others compressed by
    ``fast_compress``; with ``whoosh_bytes``, every block is compressed as Whoosh does."""
    offsets = postings.offsets
    docs = postings.docnums
    if not len(docs):
        return
    nterms = len(postings.terms)
    term_start = offsets[:-1]
    # Block boundaries: each term's postings cut every `blocklimit`.
    per_term = np.diff(offsets)
    blocks_of_term = (per_term + blocklimit - 1) // blocklimit
    block_term = np.repeat(np.arange(nterms), blocks_of_term)
    first_block = np.cumsum(blocks_of_term) - blocks_of_term
    block_start = term_start[block_term] + (
        np.arange(len(block_term)) - first_block[block_term]) * blocklimit
    block_end = np.minimum(block_start + blocklimit, offsets[block_term + 1])
    # Block statistics, vectorised.
    weights = postings.weights
    weights32 = weights.astype(np.float32)
    max_weight = np.maximum.reduceat(weights, block_start)
    all_one = np.minimum.reduceat((weights32 == 1.0).astype(np.int8), block_start).astype(bool)
    all_same = (np.maximum.reduceat(weights32, block_start)
                == np.minimum.reduceat(weights32, block_start))
    if lengths is None:  # no length column: Whoosh reads 0 for every posting
        low = np.full(len(block_start), 256, np.int64)
        high = np.zeros(len(block_start), np.int64)
    else:  # the length byte read back: a 0 byte reads as None and is left out
        b = lengths[docs].astype(np.int64)
        low = np.minimum.reduceat(np.where(b > 0, b, 256), block_start)
        high = np.maximum.reduceat(b, block_start)
    min_byte = np.where(low < 256, _ROUND_TRIP[np.minimum(low, 255)], 0)
    max_byte = _ROUND_TRIP[high]
    deltas = np.diff(docs, prepend=0)
    deltas[block_start] = docs[block_start]

    # Term infos (W3TermInfo.add_block over the term's blocks, then to_bytes), vectorised.
    info = np.zeros(nterms, _TERMINFO_ROW)
    whole = np.all(weights32 == np.round(weights32)) and weights32.sum() < 2**53
    if whole:  # sums of whole numbers below 2**24: exact in any order
        info["weight"] = np.add.reduceat(weights32.astype(np.float64), term_start)
    else:  # Python's sum of each block, block after block, as Whoosh adds them
        w = weights32.tolist()
        totals = []
        for t in range(nterms):
            total = 0
            for k in range(int(first_block[t]), int(first_block[t] + blocks_of_term[t])):
                total += sum(w[int(block_start[k]):int(block_end[k])])
            totals.append(total)
        info["weight"] = totals
    info["df"] = per_term
    term_low = np.minimum.reduceat(low, first_block)
    info["minlength"] = np.where(term_low < 256, _ROUND_TRIP[np.minimum(term_low, 255)], 0)
    info["maxlength"] = _ROUND_TRIP[np.maximum.reduceat(high, first_block)]
    info["maxweight"] = np.maximum.reduceat(weights, term_start)
    info["minid"] = docs[term_start]
    info["maxid"] = docs[offsets[1:] - 1]

    blocks = _Blocks(fmt, postings, level, whoosh_bytes,
                     block_start=block_start, block_end=block_end, deltas=deltas,
                     weights32=weights32, max_weight=max_weight, all_one=all_one,
                     all_same=all_same, min_byte=min_byte, max_byte=max_byte)
    sizes = np.zeros(nterms, np.int64)
    first_offset = pst.offset
    ends = np.searchsorted(offsets, np.arange(1, len(docs) // _POSTINGS_AT_A_TIME + 1)
                           * _POSTINGS_AT_A_TIME, side="right").tolist() + [nterms]
    term = 0
    for end in ends:
        end = min(end, nterms)
        if end <= term:
            continue
        pieces = blocks.terms(int(first_block[term]), blocks_of_term[term:end])
        sizes[term:end] = [len(piece) for piece in pieces]
        pst.write(b"".join(pieces))
        term = end
    info["offset"] = first_offset + np.cumsum(sizes) - sizes
    info["length"] = sizes
    row = _TERMINFO_ROW.itemsize
    table = info.tobytes()
    prefix = _pack_ushort(fieldid)
    terms.add_all([prefix + t for t in postings.terms],
                  [table[i:i + row] for i in range(0, len(table), row)])


class _Blocks:
    """Whoosh's posting blocks of one field's terms, as W3PostingsWriter writes them: by block,
    where it starts and ends among the postings, its largest weight, whether its weights are
    all 1 or all the same, its length bytes; by posting, its document number's delta and its
    weight."""

    def __init__(self, fmt, postings: "_Postings", level: int,
                 whoosh_bytes: bool, *, block_start, block_end, deltas, weights32, max_weight,
                 all_one, all_same, min_byte, max_byte):
        self.block_start, self.block_end = block_start, block_end
        self.deltas, self.weights32 = deltas, weights32
        self.max_weight, self.all_one, self.all_same = max_weight, all_one, all_same
        self.min_byte, self.max_byte = min_byte, max_byte
        self.fixed = fmt.fixed_value_size()
        self.docs, self.values = postings.docnums, postings.values
        self.level = level
        self.compress = zlib.compress if whoosh_bytes else fast_compress
        self.compress_from = 0 if whoosh_bytes else COMPRESS_FROM
        self.protocol = 2 if whoosh_bytes else BLOCK_PROTOCOL
        # Terms of one posting written from rows (_lone_postings): not where every block is
        # compressed, as Whoosh's are, nor if blocks that small were.
        self.lone_template = (not whoosh_bytes and self.fixed == 0
                              and COMPRESS_FROM > _LONE_DATA_MOST)

    def terms(self, first_block: int, blocks_of_term) -> list:
        """The bytes of consecutive terms, one piece per term: ``blocks_of_term`` blocks each,
        from block ``first_block`` on."""
        blocks = slice(first_block, first_block + int(blocks_of_term.sum()))
        bstarts = self.block_start[blocks].tolist()
        bends = self.block_end[blocks].tolist()
        first, end = bstarts[0], bends[-1]  # the postings of these terms
        bstarts = [b - first for b in bstarts]  # from here on, positions among those
        bends = [b - first for b in bends]
        doc_list = self.docs[first:end].tolist()
        delta_list = self.deltas[first:end].tolist()
        w32_list = self.weights32[first:end].tolist()
        value_list = self.values[first:end].tolist() if self.values is not None else None
        bmax, bone = self.max_weight[blocks].tolist(), self.all_one[blocks].tolist()
        bsame = self.all_same[blocks].tolist()
        bmin, bmaxlen = self.min_byte[blocks].tolist(), self.max_byte[blocks].tolist()
        fixed, level, dumps = self.fixed, self.level, pickle.dumps
        compress, compress_from, protocol = self.compress, self.compress_from, self.protocol

        def block(k: int, last: bool) -> bytes:
            s, e = bstarts[k], bends[k]
            if bone[k]:
                mini_weights = None
            elif bsame[k]:
                mini_weights = w32_list[s]
            else:
                mini_weights = tuple(w32_list[s:e])
            if fixed is None or fixed < 0:
                mini_values = tuple(value_list[s:e])
            elif fixed == 0:
                mini_values = None
            else:
                mini_values = b"".join(value_list[s:e])
            data = dumps((tuple(delta_list[s:e]), mini_weights, mini_values), protocol)
            comp = level if len(data) >= compress_from else 0
            if comp:
                data = compress(data, comp)
            header = dumps((e - s, doc_list[e - 1], bmax[k], comp, bmin[k], bmaxlen[k]), 2)
            size = len(header) + len(data)
            return _pack_int(-size if last else size) + header + data

        made = self._lone(first_block, blocks_of_term)
        if len(made) == len(blocks_of_term):
            return list(made.values())
        pieces = []
        k = 0
        for term, nblocks in enumerate(blocks_of_term.tolist()):
            lone_piece = made.get(term)
            pieces.append(lone_piece or WHOOSH3_HEADER_MAGIC + b"".join(
                [block(k + j, j == nblocks - 1) for j in range(nblocks)]))
            k += nblocks
        return pieces

    def _lone(self, first_block: int, blocks_of_term) -> Dict[int, bytes]:
        """The bytes of those of ``terms``' terms that have one posting, weight 1 and no value
        (an id's), made by arrays, by their place among them."""
        if not self.lone_template:
            return {}
        term_block = first_block + np.cumsum(blocks_of_term) - blocks_of_term
        lone = np.flatnonzero((blocks_of_term == 1) & self.all_one[term_block] & (
            self.block_end[term_block] - self.block_start[term_block] == 1))
        at = term_block[lone]
        return dict(zip(lone.tolist(), _lone_postings(
            self.docs[self.block_start[at]], self.max_weight[at], self.min_byte[at],
            self.max_byte[at], self.protocol)))


_LONE_DATA_END = b"\x85q\x00NN\x87q\x01."  # (the delta,), None, None: tuples memoised
_LONE_DATA_MOST = 2 + 5 + len(_LONE_DATA_END)  # the longest such block data's bytes
_LONE_HEADER_END = b"tq\x00."
_PICKLED_INT = ((1 << 8, b"K", "<u1"), (1 << 16, b"M", "<u2"), (1 << 31, b"J", "<i4"))


def _lone_postings(docs, max_weight, min_byte, max_byte, protocol: int) -> List[bytes]:
    """The bytes ``_Blocks.terms`` makes for terms of one posting, weight 1 and no value
    (so small a block is not compressed), as numpy rows: each block's two pickles written
    by hand, their numbers where pickle puts them (a document number as BININT1, BININT2 or
    BININT by its size, the weight as a big-endian BINFLOAT, the length bytes as BININT1)."""
    pieces: List[Optional[bytes]] = [None] * len(docs)
    low = 0
    for high, opcode, kind in _PICKLED_INT:
        at = np.flatnonzero((docs >= low) & (docs < high))
        low = high
        if not len(at):
            continue
        width = np.dtype(kind).itemsize
        data = 2 + 1 + width + len(_LONE_DATA_END)
        header = 3 + 2 + 1 + width + 9 + 2 + 2 + 2 + len(_LONE_HEADER_END)
        doc_bytes = docs[at].astype(kind)[:, None].view(np.uint8)
        row = np.zeros((len(at), 8 + header + data), np.uint8)
        row[:, :4] = np.frombuffer(WHOOSH3_HEADER_MAGIC, np.uint8)
        row[:, 4:8] = np.frombuffer(struct.pack("!i", -(header + data)), np.uint8)
        # The header: PROTO 2, MARK, 1, the document, BINFLOAT weight, 0 (not compressed),
        # the length bytes, TUPLE, BINPUT 0, STOP. The data: PROTO, (document,), None, None.
        h = 8
        row[:, h:h + 6] = np.frombuffer(b"\x80\x02(K\x01" + opcode, np.uint8)
        row[:, h + 6:h + 6 + width] = doc_bytes
        h += 6 + width
        row[:, h] = ord("G")
        row[:, h + 1:h + 9] = max_weight[at].astype(">f8")[:, None].view(np.uint8)
        row[:, h + 9:h + 15] = np.frombuffer(b"K\x00K\x00K\x00", np.uint8)
        row[:, h + 12] = min_byte[at]
        row[:, h + 14] = max_byte[at]
        row[:, h + 15:8 + header] = np.frombuffer(_LONE_HEADER_END, np.uint8)
        d = 8 + header
        row[:, d:d + 3] = np.frombuffer(bytes([0x80, protocol]) + opcode, np.uint8)
        row[:, d + 3:d + 3 + width] = doc_bytes
        row[:, d + 3 + width:] = np.frombuffer(_LONE_DATA_END, np.uint8)
        size = row.shape[1]  # each row: magic, -size, header, data
        raw = row.tobytes()
        for n, start in zip(at.tolist(), range(0, len(raw), size)):
            pieces[n] = raw[start:start + size]
    if any(piece is None for piece in pieces):  # a document number beyond BININT's
        raise ValueError("a segment of more than 2**31 documents")
    return pieces


def write_segment(storage, schema, documents: Sequence[dict],
                  on_segment: Optional[OnSegment] = None, indexname: str = "MAIN",
                  segment_id: Optional[str] = None,
                  whoosh_bytes: bool = False,
                  tokens: Optional[Dict[str, Tokens]] = None,
                  let_go: bool = False) -> W3Segment:
    """Write ``documents`` (dicts of field values, as given to Whoosh's ``add_document``) as
    one new segment's files in ``storage``; return the segment (not yet in any TOC).
    ``whoosh_bytes`` compresses every posting block and stored document as Whoosh does (the
    files are then Whoosh's byte for byte); by default a block's data is pickled with
    BLOCK_PROTOCOL and a stored document with STORED_PROTOCOL, and small blocks are stored
    plain and the others, and stored documents, compressed by ISA-L (``fast_compress``).
    ``tokens``: text fields already split by ``tokenize`` (of these documents' values).
    ``let_go``: ``documents`` (a list) is emptied once read, so that they are freed before
    the postings are made."""
    if not documents:
        raise ValueError("a segment needs at least one document")
    names = set()
    for doc in documents:
        names.update(doc)
    unknown = sorted(n for n in names if n.startswith("_") or n not in schema)
    if unknown:
        raise ValueError(f"fields not in the schema or not supported here: {unknown}")
    codec = W3Codec()
    segment = W3Segment(codec, indexname, segid=segment_id or new_segment_id())
    doccount = len(documents)
    columns_by_field = {name: [d.get(name) for d in documents] for name in sorted(names)}
    created: List[_Out] = []

    def create(ext: str) -> _Out:
        out = _Out(storage, segment.make_filename(ext))
        created.append(out)
        return out

    def write_column(name: str, data: bytes) -> None:
        out = create(".%s%s" % (name, W3Codec.COLUMN_EXT))
        out.write(data)
        out.close()

    try:
        # The stored documents first, while the batch's postings are not yet made.
        stored_names = {n for n in columns_by_field if schema[n].stored}
        stored = []
        dumps, compress = pickle.dumps, zlib.compress if whoosh_bytes else fast_compress
        protocol = 2 if whoosh_bytes else STORED_PROTOCOL
        for doc in documents:
            fields = {n: doc[n] for n in sorted(doc) if n in stored_names and doc[n] is not None}
            stored.append(compress(dumps(fields, protocol), 3) if fields else None)
        write_column("_stored", _varbytes_column(stored, doccount))
        del stored, doc
        if let_go:
            documents.clear()

        # Postings of each indexed field, in name order, written as they are made: a field's
        # are let go of once written, but for what the ranking arrays take.
        trm = create(W3Codec.TERMS_EXT)
        pst = create(W3Codec.POSTS_EXT)
        terms = _TermIndex(trm)
        postings: Dict[str, _Postings] = {}
        lengths: Dict[str, np.ndarray] = {}
        length_columns: Dict[str, np.ndarray] = {}
        for name, values in columns_by_field.items():
            field = schema[name]
            if not field.indexed:
                continue
            if tokens and name in tokens:
                found, doc_lengths = _text_postings(field, tokens[name], doccount)
            elif tokenizable(field) and all(v is None or isinstance(v, str) for v in values):
                found, doc_lengths = _text_postings(field, tokenize(field, values), doccount)
            else:
                found, doc_lengths = _other_postings(field, values)
            if field.scorable:
                lengths[name] = doc_lengths
                if doc_lengths.any():
                    length_columns[name] = length_bytes(doc_lengths)
            if len(found.docnums):
                terms.fieldmap[name] = len(terms.fieldmap)
                _write_postings(pst, terms, terms.fieldmap[name], found, field.format,
                                length_columns.get(name), codec._blocklimit,
                                codec._compression, whoosh_bytes)
            if name in RANKED_FIELDS:
                found.values = None
                postings[name] = found
            del found
        terms.close()
        pst.close()

        # The other per-document files, in the order Whoosh's per-document writer creates
        # them (after the stored documents).
        column_files = []
        for name, values in columns_by_field.items():
            field = schema[name]
            if field.column_type is not None and any(v is not None for v in values):
                convert, seen = field.to_column_value, {}
                converted = []
                for v in values:
                    if v is None:
                        converted.append(None)
                        continue
                    key = (type(v), v)
                    if key not in seen:
                        seen[key] = convert(v)
                    converted.append(seen[key])
                column_files.append((name, _column_file(field.column_type, converted,
                                                        doccount)))
            if name in length_columns:
                found = length_columns[name]
                last = int(np.flatnonzero(found)[-1])
                column_files.append((_lenfield(name), found[: last + 1].tobytes()))
        column_files = _whoosh_column_order(column_files, columns_by_field, length_columns)
        for name, data in column_files:
            write_column(name, data)
        del column_files
        # The ranking arrays, from the same postings, as Whoosh's writer would have them
        # written (codec); in the storage, so that the commit sums and records them too.
        fields = {name: (found.terms, found.offsets, found.docnums, found.weights,
                         length_columns.get(name, np.zeros(doccount, np.uint8)),
                         found.positions)
                  for name, found in postings.items() if name in RANKED_FIELDS}
        write_ranking_arrays(storage, segment, doccount, fields, columns_by_field)
    except BaseException:
        for out in created:
            try:
                out.file.close()
            except Exception:
                pass
        raise

    segment.set_doc_count(doccount)
    totals = defaultdict(int)
    for name in sorted(length_columns):
        totals[name] = field_total(lengths[name])
    segment._fieldlengths = totals
    if on_segment is not None:
        on_segment(segment.segment_id(), _ranking_arrays(
            doccount, postings, length_columns, totals, columns_by_field))
    return segment


def _whoosh_column_order(files, columns_by_field, length_columns):
    """Whoosh's per-document writer creates a column when a document first gives it a value,
    fields in name order within a document: the order of the column files it writes."""
    first_seen = {}
    for name, values in columns_by_field.items():
        at = next((i for i, v in enumerate(values) if v is not None), None)
        if at is not None:
            first_seen[name] = (at, name, 1)  # after the field's length, as add_document
    for name, found in length_columns.items():
        first_seen[_lenfield(name)] = (int(np.flatnonzero(found)[0]), name, 0)
    return sorted(files, key=lambda item: first_seen[item[0]])


def _ranking_arrays(doccount, postings, length_columns, totals, columns_by_field) -> dict:
    fields = {}
    for name in RANKED_FIELDS:
        found = postings.get(name)
        if found is None:
            continue
        encoded = [t for t in found.terms]
        term_offsets = np.zeros(len(encoded) + 1, np.int64)
        np.cumsum([len(t) for t in encoded], out=term_offsets[1:])
        fields[name] = {
            "term_bytes": np.frombuffer(b"".join(encoded), np.uint8).copy(),
            "term_offsets": term_offsets,
            "postings": found.offsets.copy(),
            "docnums": found.docnums.astype(np.uint32),
            "weights": found.weights.astype(np.float32),
            "length_bytes": length_columns.get(name, np.zeros(doccount, np.uint8)),
            "total": totals.get(name, 0),
        }
    docs = {}
    for name in RANKED_DOC_VALUES:
        values = columns_by_field.get(name, [None] * doccount)
        if name == "date":
            docs[name] = np.array([np.datetime64("NaT") if v is None
                                   else np.datetime64(v, "D") for v in values],
                                  "datetime64[D]")
        else:
            column = np.empty(doccount, object)
            column[:] = values
            docs[name] = column
    return {"doc_count": doccount, "fields": fields, "docs": docs}
