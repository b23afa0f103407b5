"""Near-duplicate groups worked out with arrays, and kept up to date run by run.

The groups are exactly ``dedup.find_groups``'s: exact copies (the same words after
normalisation) join, and so do paragraphs that share an anchor (a word 4-gram; the 3-gram of
a three-word paragraph) held by at most ``dedup.COMMON_SHINGLE`` paragraphs and whose 3-gram
shingles are alike (``dedup.similarity`` at least the threshold, both with at least
``dedup.MIN_SHINGLES``) unless ``dedup.template_pair`` calls them a template filled in twice.
A pair with a paragraph of fewer than ``dedup.SHORT_WORDS`` words joins only when its two
articles share a group of longer paragraphs (a story reprinted), as in ``find_groups``. The
connected components of those links are split into groups as ``dedup.stars`` does, each keyed
by its smallest paragraph id. Here the n-grams are hashed with
a stable 64-bit hash (``find_groups`` uses Python's, which differs between processes), so they
can be kept on disk.

``DupIndex`` is what a later run needs to regroup only what it must: for every paragraph
(a slot) its id, the hash of its normalised text, whether it is short, its article's date
(which orders the stars), its group, its component and its story (its component among the
longer paragraphs alone); the anchors as an inverted index (sorted anchor hashes and their
slots); and the verified pairs (the edges).
``update`` takes the paragraphs removed and added: it verifies the pairs that became
candidates (a new paragraph's, or those an anchor proposes again now that it is held by fewer
paragraphs), drops the edges of removed paragraphs and of pairs no anchor proposes any more,
and works out again only the components those changes touch, and those of the short pairs
whose articles were in them (whether two articles share a story may have changed), and the
groups of those components. The result is the one
``build`` gives over the same paragraphs (tests/test_dupindex.py checks it against
``dedup.find_groups`` too).

Pure code, no Whoosh: texts of old paragraphs are asked for through a callback.
"""

import io
import itertools
import struct
import zipfile
from collections import Counter
from typing import (TYPE_CHECKING, BinaryIO, Callable, Collection, Dict, Iterable, Iterator,
                    List, Optional, Sequence, Tuple, Union)

import numpy as np

from . import dedup, workers
from .anchorindex import ANCHOR, HOLDER, Anchors
from .anchorspill import (CHARACTERS_AN_ANCHOR, AnchorBuckets, SortedAnchors, SpilledGrams,
                          SpilledParts)
from .arrays import ranges, stable_argsort, stable_order
from .rankarrays import bytes_hash
from .slotids import SlotIds
from .textfile import Texts as TextsOnDisk

if TYPE_CHECKING:
    from .cluster import Cluster
    from .integrity import CheckedMap

# Bump when the hashing, the stored arrays or which pairs are alike change: a kept index of
# another version is ignored (the next run groups from scratch).
VERSION = 5
_M3 = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], np.uint64)
_M4 = np.array([0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
                0x94D049BB133111EB], np.uint64)
_DOMAIN4 = np.uint64(0x5851F42D4C957F2D)  # 4-grams never equal 3-grams by construction

Texts = Callable[[List[str]], Dict[str, str]]  # ids -> their texts (old paragraphs)


# A text's words as bytes with a table instead of a regular expression (most news is ASCII,
# where NFKC changes nothing and \w is [A-Za-z0-9_]): letters lower-cased, digits and "_"
# kept, anything else a space.
_ASCII_WORD_BYTES = bytes(c | 0x20 if chr(c).isalpha() else c if chr(c).isalnum() or c == 0x5F
                          else 0x20 for c in range(128)) + b" " * 128
_ASCII_APOSTROPHES = b"'`"  # (dedup's other quote marks are not ASCII)
_WORD_BYTES_HASHED = 16  # a word this long or shorter is hashed from its bytes as numbers
_LOW_BYTES = np.array([(1 << 8 * n) - 1 for n in range(8)] + [(1 << 64) - 1], np.uint64)


def _word_bytes(text: str) -> bytes:
    """``dedup.words(text)`` as UTF-8, separated by one or more spaces."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_WORD_BYTES, _ASCII_APOSTROPHES)
    return " ".join(dedup.words(text)).encode("utf-8", "surrogatepass")


def _hashed_words(texts: Sequence[str]):
    """(the hash of each text's words, ``dedup.words``, joined by a space; its word count;
    the hash of each of its words, text after text), each word read once by arrays."""
    pieces = [_word_bytes(text) for text in texts]
    lengths = np.fromiter(map(len, pieces), np.int64, len(pieces))
    text_start = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum(lengths + 1, out=text_start[1:])
    joined = b" ".join(pieces) + bytes(_WORD_BYTES_HASHED + 1)
    del pieces
    data = np.frombuffer(joined, np.uint8)
    is_word = (data != 0x20) & (data != 0)  # (the zeros at the end are no word)
    edges = np.diff(is_word.view(np.int8), prepend=np.int8(0))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    del edges
    text_of = np.searchsorted(text_start, starts, "right") - 1
    counts = np.bincount(text_of, minlength=len(texts))
    # Each text's words joined by one space, texts run together: its hash as dedup's.
    is_word[ends[:-1][text_of[1:] == text_of[:-1]]] = True  # the space before a text's next
    single = data[is_word].tobytes()
    del is_word
    sizes = np.bincount(text_of, weights=ends - starts, minlength=len(texts)).astype(np.int64)
    sizes += np.maximum(counts - 1, 0)
    bounds = np.r_[0, np.cumsum(sizes)].tolist()
    exact = np.fromiter((bytes_hash(single[a:b]) for a, b in zip(bounds, bounds[1:])),
                        np.uint64, len(texts))
    return exact, counts, _words_hashed(joined, starts, ends)


def _words_hashed(joined: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The hash of each word ``joined[start:end]``: from its bytes as two 64-bit numbers if
    it has at most _WORD_BYTES_HASHED of them (``joined`` ends in that many zeros), else its
    blake2b."""
    sizes = ends - starts
    # Eight bytes from each offset (little-endian, whatever the machine's order).
    eights = np.ndarray((len(joined) - 7,), "<u8", joined, 0, (1,))
    low = eights[starts] & _LOW_BYTES[np.minimum(sizes, 8)]
    high = eights[starts + 8] & _LOW_BYTES[np.clip(sizes - 8, 0, 8)]
    hashes = _mix(_mix(high + sizes.astype(np.uint64)) ^ low)
    longer = np.flatnonzero(sizes > _WORD_BYTES_HASHED)
    if len(longer):
        hashes[longer] = [bytes_hash(joined[a:b])
                          for a, b in zip(starts[longer].tolist(), ends[longer].tolist())]
    return hashes


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of 64-bit numbers that spreads every bit."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return values ^ (values >> np.uint64(31))


# Characters of text shingled at a time (~5,000 news paragraphs, ~1,500 wire stories whole):
# the arrays a chunk's words and n-grams are read and sorted in stay small.
_CHARS_AT_A_TIME = 1_000_000
# ... and worked out in slices of this many, whose arrays (under a megabyte) glibc reuses
# from its heap instead of mapping (and faulting in) new memory for each; the slices' results
# are joined before the next chunk, so that none is left in the heap for long.
_CHARS_A_SLICE = 250_000
_RUN_HOLDERS = 1 << 16  # anchor holders (and their pairs) listed at a time
_SLOT = np.int32  # a slot in arrays of pairs and rows (as anchorindex.HOLDER, an entry's holder)
_NPY_HEADER_MOST = 10_016  # bytes: numpy's bound on the header it reads, and its preamble
# Candidate pairs are verified with sets made for a chunk of them alone, of about this many
# 3-grams (~50-70 bytes each in a set): ~2,500 pairs of news paragraphs, fewer long ones.
_GRAMS_AT_A_TIME = 1 << 18
# ... and of at most a sixteenth of a process's (or worker's) share of pairs: a helper sent
# one chunk at a time waits less for this process to finish one of its own.
_CHUNKS_A_WAY = 16
# Buckets of 3-gram hashes (by their top bits) for the bound on what a pair can share: most
# candidate pairs share one rare 4-gram by chance, and the bound rules them out in bulk. About
# two buckets a 3-gram of the average paragraph keep it tight; the table takes a byte for each
# 3-gram held, its counts four bits each (no paragraph of news has 15 3-grams in one bucket).
_BUCKET_BITS = (7, 11)  # the fewest and the most
_BOUND_ROWS = 1 << 12  # rows whose bucket counts are made at a time (a bincount's bins)
_BOUND_PAIRS = 1 << 14  # pairs whose bound is taken at a time
_SATURATED = 15  # a bucket's count at most (four bits)


class _Shingled:
    """The n-grams of some texts: per text its sorted distinct 3-gram hashes; the anchors of
    all, sorted, and the text holding each."""

    def __init__(self, texts: Sequence[str], parallel: bool = False,
                 cluster: Optional["Cluster"] = None,
                 parts: Union[None, list, SpilledParts] = None, scratch: Optional[str] = None):
        """``parallel``: a forked helper process shingles half of the chunks; ``cluster``:
        the workers of a ``cluster.Cluster`` shingle them; ``parts``: ``shingled_parts``
        made of these texts already (the list is emptied), or ``SpilledParts`` of them;
        ``scratch``: a folder where the anchors (``spilled``, not ``anchors``) and the
        3-grams (``shingles``, a ``SpilledGrams``) are kept on disk (``close``)."""
        self.count = len(texts)
        if scratch is not None and not isinstance(parts, SpilledParts):
            parts = self._spilled(texts, parts, parallel, cluster, scratch)
        self.spilled: Optional[AnchorBuckets] = None
        # The 3-grams: in memory, or on disk (SpilledGrams) as a build keeps them.
        self.shingles: Union[np.ndarray, SpilledGrams]
        if isinstance(parts, SpilledParts):  # kept on disk
            (self.exact, self.shingles, self.shingle_offsets, self.spilled,
             self.short) = parts.joined()
            self.anchors = self.anchor_owner = None
        else:
            if parts is None:
                parts = self._made(texts, parallel, cluster)
            (self.exact, self.shingles, self.shingle_offsets, self.anchors, self.anchor_owner,
             self.short) = _joined(parts)
        if len(self.exact) != self.count:
            raise ValueError("the parts given are not of these texts")

    @classmethod
    def _made(cls, texts: Sequence[str], parallel: bool, cluster: Optional["Cluster"]):
        chunks = _chunks(texts, _ways(parallel, cluster))
        return (cluster.map(chunks, cls._chunk, "paragraph slices hashed")
                if cluster is not None else workers.run_split(chunks, cls._chunk, parallel))

    @classmethod
    def _spilled(cls, texts: Sequence[str], parts: Optional[list], parallel: bool,
                 cluster: Optional["Cluster"], scratch: str) -> SpilledParts:
        """The texts' n-grams (``parts``, if made already) on disk: in this process alone,
        each chunk's as it is made."""
        expected = sum(_lengths(texts)) // CHARACTERS_AN_ANCHOR
        if parts is None and cluster is None and not parallel:
            chunks = _chunks(texts, 1)
            spilled = SpilledParts(scratch, len(chunks), expected)
            for k, chunk in enumerate(chunks):
                spilled.add(k, [cls._chunk(chunk)])
            return spilled
        parts = cls._made(texts, parallel, cluster) if parts is None else parts
        spilled = SpilledParts(scratch, 1, expected)
        spilled.add(0, parts)
        parts.clear()  # (on disk now: let go of, whoever else holds the list)
        return spilled

    def close(self) -> None:
        """Let go of the 3-grams' scratch file, if any."""
        if isinstance(self.shingles, SpilledGrams):
            self.shingles.close()

    @classmethod
    def _chunk(cls, texts: Sequence[str]):
        """The n-grams of a chunk of texts, worked out a slice at a time (see
        _CHARS_A_SLICE); its texts as small numbers (it may be sent from a helper)."""
        found = _joined([cls._slice(part) for part in _chunks(texts, 1, _CHARS_A_SLICE)])
        owner_type = np.uint16 if len(texts) <= 1 << 16 else _SLOT
        return (*found[:4], found[4].astype(owner_type), found[5])

    @classmethod
    def _slice(cls, texts: Sequence[str]):
        exact, counts, tokens = _hashed_words(texts)
        shingles, shingle_offsets = cls._grams(tokens, counts, 3, _M3, 0)
        grams4, offsets4 = cls._grams(tokens, counts, 4, _M4, _DOMAIN4)
        # A paragraph without 4-grams is proposed by its 3-grams (find_groups' `or sets[i]`).
        has4 = np.diff(offsets4) > 0
        take4 = np.repeat(has4, np.diff(offsets4))
        take3 = np.repeat(~has4, np.diff(shingle_offsets))
        owner = np.r_[np.repeat(np.arange(len(texts)), np.diff(offsets4))[take4],
                      np.repeat(np.arange(len(texts)), np.diff(shingle_offsets))[take3]]
        anchors = np.r_[grams4[take4], shingles[take3]]
        # Sorted by anchor, then by text (the index's order; a text's anchors are distinct).
        order = stable_order(owner, len(texts))
        anchors, owner = anchors[order], owner[order]
        order = stable_argsort(anchors)
        return (exact, shingles, shingle_offsets, anchors[order], owner[order].astype(_SLOT),
                counts < dedup.SHORT_WORDS)

    @staticmethod
    def _grams(tokens, counts, n, multipliers, domain):
        """Distinct n-gram hashes per text, sorted: (hashes, offsets)."""
        starts = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        text = np.repeat(np.arange(len(counts)), counts)
        at = np.arange(len(tokens)) - starts[text]
        valid = np.flatnonzero(at <= counts[text] - n)
        gram = np.full(len(valid), domain, np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                gram += tokens[valid + k] * multipliers[k]
        owner = text[valid]
        # Distinct (text, n-gram) pairs, sorted: as one integer each (the text, then the
        # n-gram's rank), which numpy sorts far faster than lexsort sorts the two columns.
        distinct, rank = _ranks(gram)
        width = max(len(distinct), 1)
        pairs = _distinct(owner * width + rank)
        owner, gram = pairs // width, distinct[pairs % width]
        offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(np.bincount(owner, minlength=len(counts)), out=offsets[1:])
        return gram, offsets


def _lengths(texts: Sequence[str]) -> Sequence[int]:
    return texts.lengths if isinstance(texts, TextsOnDisk) else [len(text) for text in texts]


def _chunks(texts: Sequence[str], ways: int, chars: Optional[int] = None) -> List[Sequence[str]]:
    """``texts`` in slices of about ``chars`` (_CHARS_AT_A_TIME) characters, at least one a
    way (of ``Texts`` on disk: slices read as they are gone through)."""
    lengths = _lengths(texts)
    count = max(-(-sum(lengths) // (chars or _CHARS_AT_A_TIME)), ways)
    return [texts[run.start:run.stop]  # each about as much text
            for run in workers.by_weight(range(len(texts)), lengths.__getitem__, count)]


def _joined(parts: list):
    """The n-grams of consecutive slices of texts (``_Shingled._slice``'s parts; the list is
    emptied) as those of all: (exact hashes, 3-grams and their offsets, anchors and their
    texts, short flags). Every anchor sorted, ties in text order: each part's anchors come
    sorted, which numpy's stable sort merges as runs."""
    firsts = np.cumsum([0] + [len(p[0]) for p in parts])
    exact = _concat([p[0] for p in parts], np.uint64)
    short = _concat([p[5] for p in parts], bool)  # fewer than dedup.SHORT_WORDS words
    shingles, offsets = _concat_csr([(p[1], p[2]) for p in parts])
    anchors = _concat([p[3] for p in parts], np.uint64)
    owner = _concat([p[4].astype(_SLOT, copy=False) + first
                     for p, first in zip(parts, firsts.tolist())], _SLOT)
    parts.clear()  # (the arrays joined: let go of, whoever else holds the list)
    if len(firsts) > 2:
        order = np.argsort(anchors, kind="stable")
        owner = owner[order]  # (one array's old copy let go of before the next is made)
        anchors = anchors[order]
    return exact, shingles, offsets, anchors, owner, short


def shingled_parts(texts: Sequence[str]) -> list:
    """The n-grams of ``texts``, as ``DupIndex.build`` takes them (``parts``) from a process
    that holds the texts (a build's reading helpers hash the paragraphs they read)."""
    return [_Shingled._chunk(chunk) for chunk in _chunks(texts, 1)]


def _ways(parallel: bool, cluster: Optional["Cluster"]) -> int:
    """How many processes share the work: a cluster's workers, or this one and a helper."""
    return cluster.ways if cluster is not None else 2 if parallel else 1


def _ranks(values: np.ndarray):
    """(sorted distinct values, each value's index among them), by one sort."""
    order = np.argsort(values)
    ordered = values[order]
    new = np.ones(len(values), bool)
    new[1:] = ordered[1:] != ordered[:-1]
    rank = np.empty(len(values), np.int64)
    rank[order] = np.cumsum(new) - 1
    return ordered[new], rank


def _concat(arrays, dtype):
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype)


def _concat_csr(parts):
    """Concatenated (values, offsets) pairs."""
    values = _concat([v for v, _ in parts], np.uint64)
    offsets = [np.zeros(1, np.int64)]
    base = 0
    for _, o in parts:
        offsets.append(o[1:] + base)
        base += o[-1]
    return values, np.concatenate(offsets)


def _shared_runs(values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(start, size) of each run of two or more equal values in sorted ``values``; most
    anchors are held once, so their runs are found with boolean arrays alone."""
    same = values[1:] == values[:-1]  # value i + 1 repeats value i
    end = np.zeros(1, np.int8)  # (a Python 0 would make every difference 64-bit)
    edges = np.diff(same.astype(np.int8), prepend=end, append=end)
    del same
    starts = np.flatnonzero(edges == 1)
    return starts, np.flatnonzero(edges == -1) - starts + 1


def _pairs_within(holders: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """All pairs (i < j by position) within each run ``holders[starts[g]:starts[g]+sizes[g]]``
    (holders ascending within a run): an (n, 2) array, made at once. Runs are taken about
    _RUN_HOLDERS holders and pairs at a time, so that the arrays made on the way stay small."""
    runs = sizes > 1
    starts, sizes = starts[runs], sizes[runs]
    counts = sizes * (sizes - 1) // 2  # pairs of each run
    work = np.cumsum(sizes + counts)
    cuts = np.searchsorted(work, np.arange(_RUN_HOLDERS, work[-1] if len(work) else 0,
                                           _RUN_HOLDERS))
    bounds = [0, *np.unique(cuts).tolist(), len(sizes)]
    pairs = np.empty((int(counts.sum()), 2), holders.dtype)
    at = 0
    for lo, hi in zip(bounds, bounds[1:]):
        if hi > lo:
            found = _pairs_in_runs(holders, starts[lo:hi], sizes[lo:hi])
            pairs[at:at + len(found)] = found
            at += len(found)
    return pairs


def _pairs_in_runs(holders: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    found = []
    member = np.repeat(np.arange(len(starts)), sizes)
    first = np.repeat(np.cumsum(sizes) - sizes, sizes)
    position = np.arange(len(member)) - first
    flat = holders[np.repeat(starts, sizes) + position]
    for gap in range(1, int(sizes.max(initial=1))):
        left = np.flatnonzero(position + gap < sizes[member])
        if not len(left):
            break
        found.append(np.stack([flat[left], flat[left + gap]], axis=1))
    return np.concatenate(found) if found else np.zeros((0, 2), np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, by sorting: numpy's hashing unique is far slower
    on these arrays)."""
    values = np.sort(values)
    keep = np.ones(len(values), bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _bucket_counts(values: np.ndarray, offsets: np.ndarray):
    """Each row's 3-gram hashes counted in buckets by their top bits (about two buckets a
    3-gram of the average row), two buckets a byte (``_SATURATED`` at most each: bucket 2k
    in the low four bits of byte k), and which rows have that many in some bucket (their
    counts are not exact)."""
    rows = len(offsets) - 1
    fewest, most = _BUCKET_BITS
    bits = min(max(int(np.ceil(np.log2(max(2 * len(values) / max(rows, 1), 1)))), fewest),
               most)
    width = 1 << bits
    counts = np.zeros((rows, width // 2), np.uint8)
    full = np.zeros(rows, bool)
    for first in range(0, rows, _BOUND_ROWS):
        last = min(first + _BOUND_ROWS, rows)
        grams = values[offsets[first]:offsets[last]]
        owner = np.repeat(np.arange(last - first), np.diff(offsets[first:last + 1]))
        found = np.bincount(owner * width + (grams >> np.uint64(64 - bits)).astype(np.int64),
                            minlength=(last - first) * width).reshape(last - first, width)
        full[first:last] = found.max(axis=1, initial=0) >= _SATURATED
        found = np.minimum(found, _SATURATED).astype(np.uint8)
        counts[first:last] = found[:, 0::2] | (found[:, 1::2] << 4)
    return counts, full


def _could_be_alike(pairs: np.ndarray, need: np.ndarray,
                    bound: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Whether each pair (rows of ``_bucket_counts``' ``bound``) may share ``need`` 3-grams,
    by a bound taken for all pairs at once: two rows share at most the smaller of their
    counts in each bucket of hashes. False only where the pair cannot be alike."""
    counts, full = bound
    possible = np.empty(len(pairs), bool)
    for at in range(0, len(pairs), _BOUND_PAIRS):
        a, b = pairs[at:at + _BOUND_PAIRS].T
        one, other = counts[a], counts[b]  # (copies: worked on in place)
        shared = one & 0x0F
        np.minimum(shared, other & 0x0F, out=shared)
        one &= 0xF0
        other &= 0xF0
        np.minimum(one, other, out=one)
        one >>= 4
        shared += one  # (a byte's two buckets: 30 at most)
        bound = shared.sum(axis=1, dtype=np.int64)
        possible[at:at + _BOUND_PAIRS] = (bound >= need[at:at + _BOUND_PAIRS]) | full[a] | full[b]
    return possible


def _alike(pairs: np.ndarray, need: np.ndarray, values: np.ndarray, offsets: np.ndarray,
           texts: Sequence[str]) -> List[int]:
    """The positions of the alike ``pairs`` (rows of ``values``/``offsets``, the sorted
    3-gram hashes, and of ``texts``): at least ``need`` shared 3-grams, and no template pair.
    Sets are made for these rows alone."""
    members = _distinct(pairs.ravel())
    grams, own = _grams_of(values, offsets, members)
    bounds = own.tolist()
    sets = {row: frozenset(grams[bounds[k]:bounds[k + 1]].tolist())
            for k, row in enumerate(members.tolist())}
    close = [(k, a, b) for k, ((a, b), n) in enumerate(zip(pairs.tolist(), need.tolist()))
             if len(sets[a] & sets[b]) >= n]
    rows = sorted({row for _, a, b in close for row in (a, b)})
    text = dict(zip(rows, _texts_of(texts, rows)))
    return [k for k, a, b in close if not dedup.template_pair(text[a], text[b])]


def _grams_of(values: Union[np.ndarray, SpilledGrams], offsets: np.ndarray,
              rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The 3-grams of these rows (ascending), one after the other, and where each row's
    begin among them; read from disk together if they are there."""
    if isinstance(values, SpilledGrams):
        return values.of_rows(rows)
    starts, ends = offsets[rows], offsets[rows + 1]
    own = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(ends - starts, out=own[1:])
    return values[ranges(starts, ends - starts)], own


def _appended(held: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``new`` after ``held``, in ``held``'s type: ``new`` itself if nothing is held (a
    build's first add: no second copy of what ``_Shingled`` holds until the pairs are
    verified), so only for arrays never changed in place."""
    if not len(held):
        return new.astype(held.dtype, copy=False)
    return np.concatenate([held, new.astype(held.dtype, copy=False)])


def _texts_of(texts: Sequence[str], rows: List[int]) -> List[str]:
    """``texts`` by these rows (ascending); read together where they are on disk."""
    return texts.pick(rows) if isinstance(texts, TextsOnDisk) else [texts[r] for r in rows]


def _alike_in_chunks(pairs: np.ndarray, need: np.ndarray, values: np.ndarray,
                     offsets: np.ndarray, texts: Sequence[str], parallel: bool,
                     cluster: Optional["Cluster"]) -> List[int]:
    """``_alike`` of ``pairs`` in chunks of at most about _GRAMS_AT_A_TIME 3-grams (those of
    both paragraphs of each pair: what the sets made for a chunk hold at most) and an equal
    share of the pairs (a pair's Python work, its sets' intersection and, if alike, the
    template check, is most of a chunk's time; the alike ones crowd together): here, the
    second half of the pairs in a forked helper (``parallel``), or on a cluster's workers."""

    def alike(span) -> List[int]:
        lo, hi = span
        return _alike(pairs[lo:hi], need[lo:hi], values, offsets, texts)

    def sent(span):
        """A chunk as a worker gets it: its pairs, and the 3-grams and texts of their
        paragraphs alone, renumbered."""
        lo, hi = span
        mine = _distinct(pairs[lo:hi].ravel())
        grams, own = _grams_of(values, offsets, mine)
        return (np.searchsorted(mine, pairs[lo:hi]), need[lo:hi], grams, own,
                _texts_of(texts, mine.tolist()))

    volume = np.diff(offsets)[pairs].sum(axis=1)
    ways = _ways(parallel, cluster)
    budget = max(min(_GRAMS_AT_A_TIME, -(-int(volume.sum()) // ways)), 1)
    per_chunk = max(-(-len(pairs) // (ways * _CHUNKS_A_WAY)), 1)
    chunk = np.maximum((np.cumsum(volume) - volume) // budget,  # the chunk of each pair
                       np.arange(len(pairs)) // per_chunk)
    bounds = [*np.flatnonzero(np.diff(chunk, prepend=-1)).tolist(), len(pairs)]
    spans = list(zip(bounds, bounds[1:]))

    def pairs_in(span):
        return span[1] - span[0]

    if cluster is not None:  # a chunk a slice: each carries its data
        found = cluster.map(spans, _alike_sent, "chunks of candidate pairs verified",
                            weight=pairs_in, prepare=sent, slices=len(spans))
    else:
        found = workers.run_split(spans, alike, parallel, weight=pairs_in)
    return [lo + k for (lo, _), positions in zip(spans, found) for k in positions]


def _alike_sent(chunk) -> List[int]:
    """On a cluster's worker: ``_alike`` of a chunk as ``_alike_in_chunks`` sends it."""
    return _alike(*chunk)


def _links(slots: np.ndarray, pairs: np.ndarray, exact: Optional[np.ndarray] = None):
    """The pairs of slots within ``slots`` (sorted) as positions in it; with ``exact`` (by
    slot), exact copies among them too, each run of one hash chained."""
    local = np.full(int(max(slots.max(initial=-1), pairs.max(initial=-1))) + 1, -1, np.int64)
    local[slots] = np.arange(len(slots))
    pairs = local[pairs]
    links = [pairs[(pairs >= 0).all(axis=1)]]
    if exact is not None:
        values = exact[slots]
        order = np.argsort(values, kind="stable")
        same = np.flatnonzero(values[order][1:] == values[order][:-1])
        links.append(np.stack([order[same + 1], order[same]], axis=1))
    return np.concatenate(links)


def _components(count: int, links: np.ndarray) -> np.ndarray:
    """Connected components of ``count`` nodes: each node's smallest member."""
    label = np.arange(count)
    while len(links):  # propagating the smallest label
        low = np.minimum(label[links[:, 0]], label[links[:, 1]])
        changed = label.copy()
        np.minimum.at(changed, links[:, 0], low)
        np.minimum.at(changed, links[:, 1], low)
        changed = changed[changed]
        if np.array_equal(changed, label):
            break
        label = changed
    return label


def _unique_pairs(parts: List[np.ndarray]) -> np.ndarray:
    """The distinct pairs (i < j) of the (n, 2) arrays in ``parts``, emptied as they are
    read: a build's candidates are millions of pairs, and an array of them at a time."""
    top = max([int(p.max()) + 1 for p in parts if len(p)], default=1)
    keys = []
    while parts:
        pairs = parts.pop()
        low = np.minimum(pairs[:, 0], pairs[:, 1]).astype(np.int64)
        keys.append(low * top + np.maximum(pairs[:, 0], pairs[:, 1]))
        del pairs, low
    keys = [k for k in keys if len(k)] or [np.zeros(0, np.int64)]
    keys = _distinct(keys.pop() if len(keys) == 1 else np.concatenate(keys))
    pairs = np.empty((len(keys), 2), _SLOT)  # (slots: half the bytes of int64 pairs)
    pairs[:, 0] = keys // top
    pairs[:, 1] = keys % top
    return pairs


class DupIndex:
    """The grouping of a set of paragraphs, kept so that it can be updated."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        # by slot; None: a free slot (a build's may be a sequence that makes each when asked
        # for, with none free: ``update`` makes it SlotIds)
        self.ids: Sequence[Optional[str]] = []
        self.exact = np.zeros(0, np.uint64)  # by slot
        self.sizes = np.zeros(0, np.int64)  # by slot: its distinct 3-grams
        self.short = np.zeros(0, bool)  # by slot: fewer than dedup.SHORT_WORDS words
        self.group = np.zeros(0, np.int64)  # by slot: the slot of its group's key
        # by slot: the slot of its component's smallest id (its group is one star of it,
        # ``dedup.stars``): what a change makes to be worked out again
        self.component = np.zeros(0, np.int64)
        self.dates = np.zeros(0, np.int64)  # by slot: its article's listing.day_number
        # by slot: the smallest slot of its story, its component among the paragraphs that
        # are not short (a short one is a story of its own)
        self.story = np.zeros(0, np.int64)
        self.anchors = Anchors()  # (anchor, slot) entries, sorted by anchor
        # ... or on disk, as a build from scratch leaves them until they are written
        self.on_disk: Optional[SortedAnchors] = None
        self.edges = np.zeros((0, 2), np.int64)  # verified pairs of slots (i < j)

    # -- answers ------------------------------------------------------------------------

    def groups(self) -> Dict[str, str]:
        """Paragraph id -> its group key, for every paragraph held."""
        ids = self.ids
        return {ids[s]: ids[g] for s, g in enumerate(self.group.tolist()) if ids[s] is not None}

    def keys_of_last(self, count: int) -> List[str]:
        """The group keys of the last ``count`` paragraphs added, in the order given."""
        ids = self.ids
        return [ids[g] for g in self.group[len(ids) - count:].tolist()]

    def group_sizes(self) -> np.ndarray:
        """How many paragraphs each group has (in no order)."""
        sizes = np.bincount(self.group[self._alive(len(self.ids))])
        return sizes[sizes > 0]

    def key_slots(self) -> np.ndarray:
        """By slot, the slot of its group's key (``groups`` without a dict of every id:
        slot s's key is the id of slot ``key_slots()[s]``)."""
        return self.group

    def exact_of_last(self, count: int) -> np.ndarray:
        """The hash of each of the last ``count`` paragraphs added, in the order given, of its
        normalised text (``signature`` makes it ``dedup.signature`` of its text: the texts are
        not read again)."""
        return self.exact[len(self.exact) - count:]

    def __len__(self) -> int:
        return int(self._alive(len(self.ids)).sum())

    # -- building -----------------------------------------------------------------------

    @classmethod
    def build(cls, paragraphs: Collection[Tuple[str, str]], threshold: float,
              parallel: bool = False, cluster: Optional["Cluster"] = None,
              parts: Union[None, list, SpilledParts] = None,
              scratch: Optional[str] = None,
              dates: Optional[Sequence[int]] = None) -> "DupIndex":
        """The grouping of (id, text) pairs from scratch (``parallel``: the texts shingled and
        the candidate pairs verified in two processes; ``cluster``: both done by a
        ``cluster.Cluster``'s workers, or by this process and a started ``workers.Helper``;
        ``parts``: the texts shingled already, ``shingled_parts`` of them in order or
        ``SpilledParts`` of them;
        ``scratch``: a folder where the anchors are sorted and kept on disk until ``write``,
        and the 3-grams until the pairs are verified, unnamed files gone with them, ``close``
        or the process). ``paragraphs`` may have
        ``ids`` and ``texts`` (a build's, ``texts`` read from disk as they are needed).
        ``dates``: each paragraph's ``listing.day_number``, in order (else all undated)."""
        index = cls(threshold)
        ids = getattr(paragraphs, "ids", None)
        if ids is None:
            ids = [pid for pid, _ in paragraphs]
        texts = getattr(paragraphs, "texts", None)
        if texts is None:
            texts = [text for _, text in paragraphs]
        with workers.no_garbage_collection():
            shingled = _Shingled(texts, parallel, cluster, parts, scratch)
            try:
                index._add(ids, texts, shingled, lambda ids: {},
                           set(), np.zeros(0, np.uint64), set(), parallel, cluster, dates)
            finally:
                shingled.close()
        return index

    def update(self, removed: Iterable[str], added: Sequence[Tuple[str, str]],
               texts: Texts, dates: Optional[Sequence[int]] = None) -> Dict[str, str]:
        """Remove paragraphs (by id; unknown ids are ignored) and add others (an id held
        already is replaced; ``dates`` as ``build``'s, of ``added``). ``texts(ids)`` gives
        the texts of paragraphs held (asked for only where a pair must be verified again).
        Returns the paragraphs held before and after whose group key changed: id -> new
        key."""
        if not isinstance(self.ids, SlotIds):  # (a build's sequence, to mark free slots)
            self.ids = SlotIds.of(self.ids)
        wanted = {pid for pid, _ in added}.union(removed)
        gone = self.ids.slots_of(wanted)  # slot -> id
        gone_slots = np.fromiter(gone, np.int64, len(gone))
        held, key_before = len(self.ids), self.group.copy()
        new_texts = [t for _, t in added]
        if self.on_disk is not None:
            self.anchors = Anchors(*self.on_disk.load())
            self.close()
        with workers.no_garbage_collection():
            touched, freed = self._remove(gone_slots)
            self._add([pid for pid, _ in added], new_texts, _Shingled(new_texts), texts,
                      touched, freed, {dedup.article_of(pid) for pid in gone.values()},
                      dates=dates)
        # The paragraphs held before and still held (slots not freed, before the compaction
        # renumbers them) whose key's slot moved, or was freed, and whose key's id differs.
        moved = (self.group[:held] != key_before) | np.isin(key_before, gone_slots)
        changed = {}
        for slot in np.flatnonzero(moved).tolist():
            pid, old, new = self.ids[slot], int(key_before[slot]), int(self.group[slot])
            key = self.ids[new]
            if pid is not None and gone.get(old, self.ids[old]) != key:
                changed[pid] = key
        self._compact_if_sparse()
        return changed

    # -- internals ----------------------------------------------------------------------

    def _counts(self, anchors: np.ndarray) -> np.ndarray:
        """How many held paragraphs have each of ``anchors``."""
        return self.anchors.counts(anchors)

    def _remove(self, slots: np.ndarray) -> Tuple[set, np.ndarray]:
        """Forget the paragraphs of these slots: (the groups to work out again, the anchors
        now held by few enough paragraphs to propose their holders' pairs again)."""
        if not len(slots):
            return set(), np.zeros(0, np.uint64)
        dead = np.zeros(len(self.ids), bool)
        dead[slots] = True
        gone_anchors, taken = np.unique(self.anchors.take_out(dead), return_counts=True)
        new_counts = self._counts(gone_anchors)
        old_counts = new_counts + taken
        touched = set(self.component[slots].tolist())  # their groups are worked out again
        # and those of their exact copies: a short one's pairs are with the first of them
        touched |= set(self.component[np.isin(self.exact, self.exact[slots])].tolist())
        lost = dead[self.edges].any(axis=1)
        self.edges = self.edges[~lost]
        freed = gone_anchors[(old_counts > dedup.COMMON_SHINGLE)
                             & (new_counts <= dedup.COMMON_SHINGLE) & (new_counts > 1)]
        for slot in slots.tolist():
            self.ids.free(slot)
        self.group[slots] = slots
        self.component[slots] = slots
        return touched, freed

    def _pairs_of_anchors(self, anchors: np.ndarray) -> np.ndarray:
        return _pairs_within(*self.anchors.runs(_distinct(anchors)))

    def _add(self, ids: Sequence[str], new_texts: List[str], shingled: _Shingled, texts: Texts,
             touched: set, freed: np.ndarray, gone_articles: set,
             parallel: bool = False, cluster: Optional["Cluster"] = None,
             dates: Optional[Sequence[int]] = None) -> None:
        """Hold new paragraphs; verify their pairs and those of the ``freed`` anchors still
        held by few enough paragraphs; regroup ``touched`` (and what the articles of removed
        paragraphs, ``gone_articles``, shared)."""
        first = len(self.ids)
        new_slots = np.arange(first, first + len(ids))
        if isinstance(self.ids, SlotIds):  # (an update's)
            self.ids.extend(ids)
        else:
            self.ids = ids
        self.exact = _appended(self.exact, shingled.exact)
        self.sizes = _appended(self.sizes, np.diff(shingled.shingle_offsets))
        self.short = _appended(self.short, shingled.short)
        self.group = np.r_[self.group, new_slots]  # (copies: all are changed in place)
        self.component = np.r_[self.component, new_slots]
        self.dates = _appended(self.dates, np.full(len(ids), dedup.UNDATED, np.int64)
                               if dates is None else np.asarray(dates, np.int64))
        self.story = np.r_[self.story, new_slots]
        pairs, closed = self._insert_anchors(shingled, first)
        # Anchors freed by the removals propose pairs unless the new paragraphs made them
        # common again.
        freed = freed[self._counts(freed) <= dedup.COMMON_SHINGLE]
        found = itertools.chain(pairs, [self._pairs_of_anchors(freed)])
        del pairs
        # Anchors now held by too many paragraphs propose their old holders no more.
        self._drop_unproposed(closed, touched, texts)
        # Exact copies of a new paragraph join its group (their components are touched).
        if len(ids):
            same = np.isin(self.exact[:first], shingled.exact)
            touched |= set(self.component[:first][same & self._alive(first)].tolist())
        self._verify(found, new_texts, shingled, first, texts, touched, parallel, cluster)

        def texts_of(slots: List[int]) -> List[str]:
            found = texts([self.ids[s] for s in slots if s < first])
            return [new_texts[s - first] if s >= first else found[self.ids[s]] for s in slots]

        self._regroup(touched, new_slots, gone_articles, texts_of)

    def _insert_anchors(self, shingled: _Shingled,
                        first: int) -> Tuple[Iterable[np.ndarray], np.ndarray]:
        """Hold the new paragraphs' anchors (``shingled`` lets go of them): the pairs with a
        new paragraph they propose (arrays of them, made as they are asked for if the anchors
        are on disk), and the anchors they made too common to propose any."""
        if shingled.spilled is not None:  # from scratch, on disk: a bucket at a time
            spilled, shingled.spilled = shingled.spilled, None
            return self._pairs_by_bucket(spilled), np.zeros(0, np.uint64)
        # Inserted into the sorted index (new slots sort after old ones, and the anchors
        # come sorted, ties in slot order).
        new_anchors, new_owner = shingled.anchors, shingled.anchor_owner
        shingled.anchors = shingled.anchor_owner = None
        new_owner += first
        if not len(self.anchors):  # from scratch: the runs of the sorted anchors say it all
            self.anchors = Anchors(new_anchors, new_owner)
            starts, sizes = _shared_runs(new_anchors)
            few = sizes <= dedup.COMMON_SHINGLE
            return ([_pairs_within(new_owner, starts[few], sizes[few])],
                    np.zeros(0, np.uint64))  # nothing held before: nothing closed
        distinct = _distinct(new_anchors)
        old_counts = self._counts(distinct)
        self.anchors.put_in(new_anchors, new_owner)
        new_counts = self._counts(distinct)
        # Pairs with a new paragraph through anchors held by few enough paragraphs.
        pairs = self._pairs_of_anchors(distinct[new_counts <= dedup.COMMON_SHINGLE])
        if len(pairs):
            pairs = pairs[(pairs >= first).any(axis=1)]
        closed = distinct[(old_counts <= dedup.COMMON_SHINGLE)
                          & (new_counts > dedup.COMMON_SHINGLE)]
        return [pairs], closed

    def _pairs_by_bucket(self, spilled: AnchorBuckets) -> Iterator[np.ndarray]:
        """The pairs each bucket of anchors proposes, made as they are asked for; the sorted
        anchors are this index's (``on_disk``) once all are."""
        result = SortedAnchors(spilled.folder)
        for anchors, holders in spilled.sorted(into=result):
            starts, sizes = _shared_runs(anchors)
            few = sizes <= dedup.COMMON_SHINGLE
            yield _pairs_within(holders, starts[few], sizes[few])
        self.on_disk = result

    def _alive(self, upto: int) -> np.ndarray:
        if not isinstance(self.ids, SlotIds):  # (a build's sequence: none free)
            return np.ones(upto, bool)
        return self.ids.alive(upto)

    def _drop_unproposed(self, closed: np.ndarray, touched: set, texts: Texts) -> None:
        """Edges between old holders of ``closed`` anchors that no anchor held by few enough
        paragraphs proposes any more."""
        if not len(closed) or not len(self.edges):
            return
        slots = _distinct(self.anchors.runs(closed)[0])
        mine = np.isin(self.edges, slots).all(axis=1)
        if not mine.any():
            return
        involved = _distinct(self.edges[mine].ravel())
        found = texts([self.ids[s] for s in involved.tolist()])
        shingled = _Shingled([found[self.ids[s]] for s in involved.tolist()])
        by_text = stable_order(shingled.anchor_owner, len(involved))
        anchors = shingled.anchors[by_text]
        offsets = np.zeros(len(involved) + 1, np.int64)
        np.cumsum(np.bincount(shingled.anchor_owner, minlength=len(involved)),
                  out=offsets[1:])
        anchors_of = {s: anchors[offsets[k]:offsets[k + 1]]
                      for k, s in enumerate(involved.tolist())}
        drop = []
        for e in np.flatnonzero(mine).tolist():
            a, b = self.edges[e].tolist()
            shared = np.intersect1d(anchors_of[a], anchors_of[b], assume_unique=True)
            if not (self._counts(shared) <= dedup.COMMON_SHINGLE).any():
                drop.append(e)
                touched.add(int(self.component[a]))
        self.edges = np.delete(self.edges, drop, axis=0)

    def _verify(self, proposed: Iterable[np.ndarray], new_texts: List[str],
                shingled: _Shingled, first: int, texts: Texts, touched: set,
                parallel: bool = False, cluster: Optional["Cluster"] = None) -> None:
        """Verify the candidate pairs of slots in ``proposed`` (arrays of pairs, taken one at
        a time: a build's come a bucket of anchors at a time, and most are ruled out in bulk
        before the next is made); add the alike ones that are no template pair
        (``dedup.template_pair``) as edges (``cluster``: on its workers, each chunk sent with
        the 3-grams and texts of its paragraphs)."""
        old = np.zeros(0, np.int64)
        if first:  # an update's few pairs: the old paragraphs among them shingled again
            candidates, _ = self._sized(_unique_pairs(list(proposed)))
            proposed = [candidates]
            old = _distinct(candidates[candidates < first])
        # Each slot's shingles: a new paragraph's from `shingled`, an old one's from its text.
        rows = np.full(len(self.ids), -1, _SLOT)
        rows[first:first + shingled.count] = np.arange(shingled.count)
        values, offsets = shingled.shingles, shingled.shingle_offsets
        text_of = new_texts  # by row
        if len(old):
            found = texts([self.ids[s] for s in old.tolist()])
            text_of = new_texts + [found[self.ids[s]] for s in old.tolist()]
            again = _Shingled(text_of[shingled.count:])
            rows[old] = shingled.count + np.arange(len(old))
            values, offsets = _concat_csr([(values, offsets),
                                           (again.shingles, again.shingle_offsets)])
        bound = _bucket_counts(values, offsets)
        possible = []
        for pairs in proposed:
            pairs, need = self._sized(_unique_pairs([pairs]))
            possible.append(pairs[_could_be_alike(rows[pairs], need, bound)])
            del pairs, need  # (a bucket's candidates: most are let go of here)
        del bound  # (a byte for every two buckets of every paragraph: not held while verifying)
        candidates, need = self._sized(_unique_pairs(possible))
        if not len(candidates):
            return
        order = np.argsort(candidates[:, 0], kind="stable")
        candidates, need = candidates[order], need[order]
        alike = _alike_in_chunks(rows[candidates], need, values, offsets, text_of, parallel,
                                 cluster)
        added = [tuple(candidates[k]) for k in alike]
        if added:
            self.edges = np.concatenate([self.edges, np.array(added, np.int64)])
            for a, b in added:
                touched.update((int(self.component[a]), int(self.component[b])))

    def _sized(self, candidates: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The candidate pairs not ruled out by their sizes alone (the shared shingles are at
        most the smaller set) nor known as edges, and the fewest shared shingles that make
        each alike (dedup.similarity's division, in the same floating point)."""
        one, other = self.sizes[candidates[:, 0]], self.sizes[candidates[:, 1]]
        small, large = np.minimum(one, other), np.maximum(one, other)
        del one, other
        denominator = np.maximum(small, large / 2)
        keep = (small >= dedup.MIN_SHINGLES) & (small / denominator >= self.threshold)
        if len(self.edges):
            top = len(self.ids)
            keep &= ~np.isin(candidates[:, 0].astype(np.int64) * top + candidates[:, 1],
                             self.edges[:, 0] * top + self.edges[:, 1])
        candidates, denominator = candidates[keep], denominator[keep]
        del small, large, keep
        need = np.ceil(self.threshold * denominator)
        need += need / denominator < self.threshold
        need -= (need - 1) / denominator >= self.threshold
        return candidates, need

    def _regroup(self, touched: set, new_slots: np.ndarray, gone_articles: set,
                 texts_of: Callable[[List[int]], List[str]]) -> None:
        """Work out again the components of the touched components' members and the new
        slots: their stories first; then, with them, the components of the short pairs that
        touch them or whose two articles have paragraphs among them or in ``gone_articles``
        (whether those two share a story may have changed); then their groups, from the
        texts (``texts_of`` slots) of the components of more than two."""
        alive = self._alive(len(self.ids))
        slots = np.union1d(self._members(touched, alive), new_slots[alive[new_slots]])
        if not len(slots):
            return
        longer = slots[~self.short[slots]]
        story_edges = self.edges[~self.short[self.edges].any(axis=1)]
        label = _components(len(longer), _links(longer, story_edges, self.exact))
        self.story[slots] = slots
        self.story[longer] = longer[label]  # the smallest slot of each story

        article, numbers = self._article_numbers()
        pairs = self._short_pairs(article, alive)
        changed = np.zeros(len(numbers) + 1, bool)  # by article number (the last: none)
        changed[article[slots]] = True
        changed[[numbers[a] for a in gone_articles if a in numbers]] = True
        inside = np.zeros(len(self.ids), bool)
        inside[slots] = True
        again = inside[pairs].any(axis=1) | changed[article[pairs]].all(axis=1)
        slots = np.union1d(slots, self._members(
            set(self.component[pairs[again]].ravel().tolist()), alive))
        inside[slots] = True
        pairs = pairs[inside[pairs].all(axis=1)]
        joined = pairs[self._share_a_story(pairs, article, alive)]
        story = self.story[slots]
        apart = story != slots  # (a paragraph that is its own story has no link to it)
        label = _components(len(slots), _links(slots, np.concatenate(
            [np.stack([slots[apart], story[apart]], axis=1), joined])))
        del story, apart
        # Each component's key: its smallest id (most are a paragraph alone: its own).
        key = np.arange(len(slots))
        shared = np.flatnonzero(np.bincount(label)[label] > 1)
        best: Dict[int, Tuple[str, int]] = {}  # component -> its smallest id, its position
        for position, component in zip(shared.tolist(), label[shared].tolist()):
            pid = self.ids[int(slots[position])]
            known = best.get(component)
            if known is None or pid < known[0]:
                best[component] = (pid, position)
        key[shared] = [best[c][1] for c in label[shared].tolist()]
        self.component[slots] = self.group[slots] = slots[key]
        self._split(slots[np.bincount(label)[label] > 2], texts_of)

    def _split(self, slots: np.ndarray, texts_of: Callable[[List[int]], List[str]]) -> None:
        """The groups of the components these slots (whole components) make up."""
        keys = self.component[slots].tolist()
        distinct = Counter(k for k, _ in set(zip(keys, self.exact[slots].tolist())))
        slots = slots[[distinct[k] > 1 for k in keys]]  # (exact copies alone: one group)
        components: Dict[int, List[Tuple[str, str]]] = {}
        slot_of: Dict[str, int] = {}
        held = slots.tolist()
        for slot, key, text in zip(held, self.component[slots].tolist(), texts_of(held)):
            pid = self.ids[slot]
            components.setdefault(key, []).append((pid, text))
            slot_of[pid] = slot
        for members in components.values():
            dates = {pid: int(self.dates[slot_of[pid]]) for pid, _ in members}
            for pid, key in dedup.stars(members, self.threshold, dates=dates).items():
                self.group[slot_of[pid]] = slot_of[key]

    def _members(self, components: set, alive: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.isin(self.component, list(components)) & alive)

    def _article_numbers(self) -> Tuple[np.ndarray, Dict[str, int]]:
        """Each slot's article as a number (a free slot's: one past the last), and the
        numbers."""
        if hasattr(self.ids, "article_numbers"):  # (a build's ids know their articles)
            return self.ids.article_numbers()
        numbers: Dict[str, int] = {}
        found = [None if pid is None else numbers.setdefault(dedup.article_of(pid),
                                                              len(numbers))
                 for pid in self.ids]
        none = len(numbers)
        return np.array([none if n is None else n for n in found], np.int64), numbers

    def _short_pairs(self, article: np.ndarray, alive: np.ndarray) -> np.ndarray:
        """The pairs with a short paragraph that ``find_groups`` joins if their articles share
        a story: the edges with a short end, and each exact copy of a short paragraph with the
        first (smallest id) of its copies; both in two articles."""
        pairs = [self.edges[self.short[self.edges].any(axis=1)]]
        shorts = np.flatnonzero(alive & self.short)
        order = np.argsort(self.exact[shorts], kind="stable")
        exact, shorts = self.exact[shorts][order], shorts[order]
        same = exact[1:] == exact[:-1]
        copied = np.zeros(len(exact), bool)
        copied[1:] |= same
        copied[:-1] |= same
        runs: Dict[int, List[int]] = {}
        for value, slot in zip(exact[copied].tolist(), shorts[copied].tolist()):
            runs.setdefault(value, []).append(slot)
        for run in runs.values():
            first = min(run, key=self.ids.__getitem__)
            pairs.append(np.array([(first, s) for s in run if s != first], np.int64))
        pairs = np.concatenate(pairs).reshape(-1, 2)
        return pairs[article[pairs[:, 0]] != article[pairs[:, 1]]]

    def _share_a_story(self, pairs: np.ndarray, article: np.ndarray,
                       alive: np.ndarray) -> np.ndarray:
        """Whether each pair's two articles have paragraphs in one story (``find_groups``'s
        ``_join_short_copies``)."""
        wanted = np.isin(article, article[pairs]) & alive & ~self.short
        stories: Dict[int, set] = {}
        for a, story in zip(article[wanted].tolist(), self.story[wanted].tolist()):
            stories.setdefault(a, set()).add(story)
        return np.array([not stories.get(a, set()).isdisjoint(stories.get(b, ()))
                         for a, b in article[pairs].tolist()], bool)

    def _compact_if_sparse(self) -> None:
        """Renumber the slots once a quarter of them are free."""
        free = len(self.ids) - len(self)
        if free * 4 <= len(self.ids):
            return
        alive = self._alive(len(self.ids))
        renumber = np.full(len(self.ids), -1, np.int64)
        renumber[alive] = np.arange(int(alive.sum()))
        self.ids = self.ids.held()
        self.exact = self.exact[alive]
        self.sizes = self.sizes[alive]
        self.short = self.short[alive]
        self.group = renumber[self.group[alive]]
        self.component = renumber[self.component[alive]]
        self.dates = self.dates[alive]
        self.story = renumber[self.story[alive]]
        self.anchors.renumber(renumber)
        self.edges = renumber[self.edges]

    # -- on disk ------------------------------------------------------------------------

    def write(self, out: BinaryIO) -> None:
        """The index as an uncompressed ``.npz`` into ``out`` (a commit's
        ``dupindex-N.npz``), its anchors' entries written a piece at a time."""
        ids = self.ids.joined() if isinstance(self.ids, SlotIds) else "\0".join(
            "" if pid is None else pid for pid in self.ids).encode("utf-8", "surrogatepass")
        arrays = dict(version=np.array([VERSION]), threshold=np.array([self.threshold]),
                      limits=np.array(_limits()), ids=np.frombuffer(ids, np.uint8),
                      alive=self._alive(len(self.ids)),
                      exact=self.exact, sizes=self.sizes, short=self.short, group=self.group,
                      component=self.component, dates=self.dates, story=self.story,
                      anchors=None, holders=None, edges=self.edges)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name, array in arrays.items():
                # (force_zip64: a member's size is not known before it is written)
                with archive.open(name + ".npy", "w", force_zip64=True) as member:
                    if array is None:
                        self._write_entries(name, member)
                    else:
                        _write_array(member, array)

    def _write_entries(self, name: str, out: BinaryIO) -> None:
        """The anchors' entries' array ``name`` ("anchors" or "holders"), a piece at a time."""
        count = len(self.anchors) if self.on_disk is None else self.on_disk.count
        np.lib.format.write_array_header_1_0(out, {
            "descr": (ANCHOR if name == "anchors" else HOLDER).str, "fortran_order": False,
            "shape": (count,)})
        if self.on_disk is not None:
            self.on_disk.copy_to(name, out)
            return
        for piece in self.anchors.pieces(name):
            out.write(memoryview(piece))

    def to_bytes(self) -> bytes:
        """``write``'s bytes."""
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()

    def close(self) -> None:
        """Let go of the scratch files of anchors on disk, if any (``build``'s ``scratch``)."""
        if self.on_disk is not None:
            self.on_disk.close()
            self.on_disk = None

    @classmethod
    def from_bytes(cls, data: bytes, threshold: float) -> Optional["DupIndex"]:
        """The index in ``data`` if it is one of this version with this threshold, else None.
        Only uncompressed members are read (no member can grow past the bytes given), and
        every slot number must be one of its paragraphs'."""
        return cls._from_buffer(data, threshold)

    @classmethod
    def from_map(cls, mapped: "CheckedMap", threshold: float) -> Optional["DupIndex"]:
        """``from_bytes`` of a committed file mapped and checked (``integrity.CheckedMap``):
        the anchors' entries are left in it, and what a scan of them reads is given back
        piece by piece (an update's memory does not grow with them)."""
        origin = np.frombuffer(mapped.buffer, np.uint8).ctypes.data

        def let_go(view: np.ndarray) -> None:
            start = view.ctypes.data - origin
            if 0 <= start and start + view.nbytes <= len(mapped.buffer):  # (not an empty one)
                mapped.let_go(start, start + view.nbytes)

        return cls._from_buffer(mapped.buffer, threshold, let_go)

    @classmethod
    def _from_buffer(cls, data, threshold: float,
                     let_go: Optional[Callable[[np.ndarray], None]] = None):
        """The index in ``data`` (bytes, or a map of a file's), its anchors' entries left
        there (``let_go``: gives back what of them a step read)."""
        try:
            with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data) as archive:
                if any(m.compress_type != zipfile.ZIP_STORED for m in archive.infolist()):
                    return None
                found = {name: _member(data, archive, name) for name in _MEMBERS}
            if (found["version"].tolist() != [VERSION]
                    or found["threshold"].tolist() != [threshold]
                    or found["limits"].tolist() != _limits()
                    or found["anchors"].dtype != ANCHOR or found["holders"].dtype != HOLDER):
                return None
            index = cls(threshold)
            index.ids = SlotIds(found["ids"].tobytes(), found["alive"].astype(bool))
            # (copies: the index's own arrays, which an update changes; the anchors' entries
            # stay where they are, read only)
            index.exact = found["exact"].astype(np.uint64)
            index.sizes = found["sizes"].astype(np.int64)
            index.short = found["short"].astype(bool)
            index.group = found["group"].astype(np.int64)
            index.component = found["component"].astype(np.int64)
            index.dates = found["dates"].astype(np.int64)
            index.story = found["story"].astype(np.int64)
            index.anchors = Anchors(found["anchors"], found["holders"], let_go)
            index.edges = found["edges"].astype(np.int64).reshape(-1, 2)
            for name in _MEMBERS if let_go else ():  # (copied: their bytes given back)
                if name not in ("anchors", "holders"):
                    let_go(found[name])
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile, EOFError,
                IndexError, struct.error):
            return None
        slots = len(index.ids)
        by_slot = (index.exact, index.sizes, index.short, index.group, index.component,
                   index.dates, index.story)
        if any(values.ndim != 1 for values in by_slot):  # (a table would pass by its length)
            return None
        if not (slots == len(index.exact) == len(index.group) == len(index.component)
                == len(index.dates) == len(index.sizes) == len(index.short) == len(index.story)
                and len(found["anchors"]) == len(found["holders"])):
            return None
        for numbers in (index.group, index.component, index.story, index.edges):
            if numbers.size and not (0 <= int(numbers.min()) and int(numbers.max()) < slots):
                return None
        return index if index.anchors.holders_below(slots) else None


_MEMBERS = ("version", "threshold", "limits", "ids", "alive", "exact", "sizes", "short",
            "group", "component", "dates", "story", "anchors", "holders", "edges")


def _write_array(out: BinaryIO, array: np.ndarray) -> None:
    """``np.lib.format.write_array``'s bytes, the array's own memory written (it copies
    an array into new bytes 16 MB at a time to write to any file but a real one)."""
    array = np.ascontiguousarray(array)
    np.lib.format.write_array_header_1_0(out, np.lib.format.header_data_from_array_1_0(array))
    if array.size:
        out.write(memoryview(array).cast("B"))


def _member(data, archive: zipfile.ZipFile, name: str) -> np.ndarray:
    """Member ``name`` of ``write``'s archive in ``data`` (bytes, or a map of them): an array
    of numbers (of one or two dimensions) viewed where its bytes are, read only; ValueError
    if it is not one, or does not fit in the member."""
    info = archive.getinfo(name + ".npy")  # stored: its bytes are in data as they are
    local = info.header_offset
    name_size, extra_size = struct.unpack("<HH", data[local + 26:local + 30])
    start = local + 30 + name_size + extra_size
    if start + info.file_size > len(data):
        raise ValueError(f"{name}: past the end")
    member = io.BytesIO(data[start:start + min(info.file_size, _NPY_HEADER_MOST)])
    version = np.lib.format.read_magic(member)
    header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
              else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = header(member)
    count = int(np.prod(shape, dtype=object))
    if (dtype.kind not in "biuf" or dtype.fields is not None or fortran or len(shape) > 2
            or member.tell() + count * dtype.itemsize > info.file_size):
        raise ValueError(f"{name}: not an array of numbers that fits in its member")
    if not count:
        return np.zeros(shape, dtype)
    return np.frombuffer(data, dtype, count, start + member.tell()).reshape(shape)


def signature(exact_hash) -> str:
    """``dedup.signature`` of a text, from its hash in ``exact_of_last``."""
    return int(exact_hash).to_bytes(8, "little").hex()


def _limits() -> List[int]:
    """The grouping's constants an index was made with (another set: it is not used)."""
    return [dedup.COMMON_SHINGLE, dedup.MIN_SHINGLES, dedup.SHINGLE_WORDS,
            dedup.CANDIDATE_WORDS, dedup.SHORT_WORDS]
