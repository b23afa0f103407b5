"""A build's near-duplicate anchors kept on disk, so that its memory does not grow with them.

Grouping from scratch needs every paragraph's anchors sorted (the runs of equal ones propose
the candidate pairs), and the near-duplicate index keeps them sorted for later runs. Held in
memory, they and their sort were most of a build's peak, and grew with the corpus
(bench/README.md: how the build grows). Here each slice of paragraphs' sorted anchors is cut
by the anchors' top bits into buckets on a scratch file (``AnchorBuckets``); the grouping
then sorts one bucket at a time, and the buckets in turn are the whole index's anchors in
order (``SortedAnchors``), copied from disk into the index's file as it is written. A build
whose reading helpers hash the paragraphs they read hands each slice's n-grams over as it
arrives (``SpilledParts``): its anchors go straight to the buckets, its 3-grams to a file
that the grouping's verification reads as it needs them (``SpilledGrams``), so that neither
the reading nor the grouping holds them all.

The scratch files are unnamed files in the index folder (``tempfile.TemporaryFile``): on
disk rather than in a memory-backed /tmp, and gone with the process whatever stops it.
"""

import tempfile
from typing import BinaryIO, Iterator, List, Optional, Tuple

import numpy as np

from .anchorindex import ANCHOR, HOLDER
from .textfile import read_at

# About how many characters of text make an anchor (BBC and Reuters: 6.5): it sets the number
# of buckets where the anchors are not counted before they are added.
CHARACTERS_AN_ANCHOR = 6
# Anchors sorted at a time: a bucket's anchors, holders and sort order take ~20 bytes each.
BUCKET_ANCHORS = 1 << 19
_MOST_BITS = 16
_COPY_BYTES = 1 << 20  # read and written at a time
# 3-grams of texts asked for together are read in one piece while this few lie between them.
_GAP_GRAMS = 1 << 10


def _scratch(folder: Optional[str]) -> BinaryIO:
    return tempfile.TemporaryFile(dir=folder)


def _read_into(source: BinaryIO, array: np.ndarray) -> None:
    if source.readinto(memoryview(array).cast("B")) != array.nbytes:
        raise OSError("a scratch file of the build ended early")


class AnchorBuckets:
    """Anchors with their holders (slots), added a slice of paragraphs at a time in slot
    order, each slice's anchors sorted (ties in slot order), kept in buckets by their top
    ``bits``."""

    def __init__(self, folder: Optional[str], expected: int):
        """``expected``: about how many anchors will be added (it sets the buckets' number)."""
        self.bits = min(max(int(np.ceil(np.log2(max(expected / BUCKET_ANCHORS, 1)))), 0),
                        _MOST_BITS)
        self.folder, self.file = folder, _scratch(folder)
        # Each slice: where it starts in the file (its anchors, then its holders), and where
        # each bucket starts among its anchors (an array a slice, not a record a bucket).
        self.starts: List[int] = []
        self.cuts: List[np.ndarray] = []
        self.count = 0

    def add(self, anchors: np.ndarray, holders: np.ndarray) -> None:
        """A slice's anchors (sorted) and their holders."""
        if not len(anchors):
            return
        edges = np.arange(1, 1 << self.bits, dtype=np.uint64) << np.uint64(64 - self.bits)
        self.starts.append(self.file.tell())
        self.cuts.append(np.r_[0, np.searchsorted(anchors, edges), len(anchors)])
        self.file.write(memoryview(anchors.astype(ANCHOR, copy=False)))
        self.file.write(memoryview(holders.astype(HOLDER, copy=False)))
        self.count += len(anchors)

    def sorted(self, into: "SortedAnchors") -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """Each bucket's anchors sorted, ties in slot order, and their holders, in bucket
        order, while they are appended to ``into``; the scratch file is closed at the end."""
        try:
            for bucket in range(1 << self.bits):
                total = sum(int(cuts[bucket + 1] - cuts[bucket]) for cuts in self.cuts)
                anchors, holders = np.empty(total, ANCHOR), np.empty(total, HOLDER)
                at = 0
                for start, cuts in zip(self.starts, self.cuts):  # (slot order)
                    lo, hi, size = int(cuts[bucket]), int(cuts[bucket + 1]), int(cuts[-1])
                    if hi > lo:
                        self.file.seek(start + lo * ANCHOR.itemsize)
                        _read_into(self.file, anchors[at:at + hi - lo])
                        self.file.seek(start + size * ANCHOR.itemsize + lo * HOLDER.itemsize)
                        _read_into(self.file, holders[at:at + hi - lo])
                        at += hi - lo
                order = np.argsort(anchors, kind="stable")
                anchors, holders = anchors[order], holders[order]
                del order
                into.append(anchors, holders)
                yield anchors, holders
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


class SortedAnchors:
    """All anchors sorted, and their holders, on two scratch files (the index's arrays of
    those names), until they are written into the index's file (``copy_to``)."""

    def __init__(self, folder: Optional[str]):
        self.anchors, self.holders = _scratch(folder), _scratch(folder)
        self.count = 0

    def append(self, anchors: np.ndarray, holders: np.ndarray) -> None:
        self.anchors.write(memoryview(anchors.astype(ANCHOR, copy=False)))
        self.holders.write(memoryview(holders.astype(HOLDER, copy=False)))
        self.count += len(anchors)

    def copy_to(self, name: str, out: BinaryIO) -> None:
        """The array ``name`` ("anchors" or "holders") as bytes into ``out``."""
        source = getattr(self, name)
        source.seek(0)
        while True:
            piece = source.read(_COPY_BYTES)
            if not piece:
                return
            out.write(piece)

    def load(self) -> Tuple[np.ndarray, np.ndarray]:
        """Both arrays in memory (a later update of the same index works on them there)."""
        found = []
        for source, dtype in ((self.anchors, ANCHOR), (self.holders, HOLDER)):
            array = np.empty(self.count, dtype)
            source.seek(0)
            _read_into(source, array)
            found.append(array)
        return found[0], found[1]

    def close(self) -> None:
        self.anchors.close()
        self.holders.close()


class SpilledGrams:
    """Texts' 3-gram hashes on a scratch file, text after text (``offsets``, in memory: where
    each text's begin), read back as they are asked for: a range of them (``grams[lo:hi]``),
    or the 3-grams of some texts (``of_rows``)."""

    def __init__(self, file: BinaryIO, offsets: np.ndarray):
        self.file, self.offsets = file, offsets

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, span: slice) -> np.ndarray:
        lo, hi, step = span.indices(len(self))
        if step != 1:
            raise ValueError("3-grams are read in ranges")
        return self._read(lo, max(hi, lo))

    def of_rows(self, rows: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """The 3-grams of texts ``rows`` (ascending), one after the other, and where each
        text's begin among them; texts near each other in the file read together."""
        lo, hi = self.offsets[rows], self.offsets[rows + 1]
        own = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(hi - lo, out=own[1:])
        found = np.empty(int(own[-1]), ANCHOR)
        apart = np.flatnonzero(lo[1:] - hi[:-1] > _GAP_GRAMS) + 1
        for a, b in zip([0, *apart.tolist()], [*apart.tolist(), len(rows)]):
            first = int(lo[a])
            grams = self._read(first, int(hi[b - 1]))
            # (a row's k-th 3-gram: grams[lo - first + k] -> found[own + k])
            at = np.repeat(lo[a:b] - first - own[a:b], hi[a:b] - lo[a:b])
            found[own[a]:own[b]] = grams[at + np.arange(own[a], own[b])]
        return found, own

    def _read(self, lo: int, hi: int) -> np.ndarray:
        return np.frombuffer(read_at(self.file, lo * ANCHOR.itemsize, hi * ANCHOR.itemsize),
                             ANCHOR)

    def close(self) -> None:
        self.file.close()


class SpilledParts:
    """``dupindex.shingled_parts`` of consecutive slices of texts, handed over as they are
    made, slice by slice in any order (a build's reading helpers send them as they read):
    their anchors go to ``AnchorBuckets``, their 3-grams to a scratch file, until the
    grouping takes them (``joined``). A part is (exact hashes, 3-grams, their offsets,
    anchors sorted, their texts in the part, short flags)."""

    def __init__(self, folder: Optional[str], slices: int, expected: int):
        """``slices``: how many slices of texts there are; ``expected``: about how many
        anchors they have."""
        self.slices = slices
        self.anchors = AnchorBuckets(folder, expected)
        self.shingles = _scratch(folder)
        self.waiting: dict = {}  # slice number -> its parts, until those before it came
        self.next = 0  # the slice to add next
        self.count = 0  # texts added
        self.exact: List[np.ndarray] = []
        self.short: List[np.ndarray] = []
        self.sizes: List[np.ndarray] = []  # each text's 3-grams

    def add(self, number: int, parts: list) -> None:
        """The parts of slice ``number`` (from 0)."""
        self.waiting[number] = parts
        while self.next in self.waiting:
            for exact, shingles, offsets, anchors, owner, short in self.waiting.pop(self.next):
                self.anchors.add(anchors, owner.astype(HOLDER) + self.count)
                self.shingles.write(memoryview(shingles.astype(ANCHOR, copy=False)))
                self.exact.append(exact)
                self.short.append(short)
                self.sizes.append(np.diff(offsets))
                self.count += len(exact)
            self.next += 1

    def joined(self):
        """(exact hashes, 3-grams (``SpilledGrams``) and their offsets, the
        ``AnchorBuckets``, short flags) of every text, once every slice is added."""
        if self.waiting or self.next != self.slices:
            raise ValueError("the parts of some slices of texts are missing")
        offsets = np.zeros(self.count + 1, np.int64)
        np.cumsum(np.concatenate(self.sizes or [np.zeros(0, np.int64)]), out=offsets[1:])
        self.shingles.flush()  # (read back by offset, past the file's buffer)
        joined = (np.concatenate(self.exact or [np.zeros(0, np.uint64)]),
                  SpilledGrams(self.shingles, offsets), offsets, self.anchors,
                  np.concatenate(self.short or [np.zeros(0, bool)]))
        self.exact = self.short = self.sizes = []
        return joined

    def close(self) -> None:
        """Let go of the scratch files (the parts are not used)."""
        self.shingles.close()
        self.anchors.close()
