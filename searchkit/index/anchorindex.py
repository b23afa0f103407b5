"""The near-duplicate index's anchors: its (anchor, holder) entries, sorted by anchor (ties in
slot order), which an update changes by a few and the next commit writes whole.

Those of a kept index stay where they were read (``Anchors``' base): in the committed file,
mapped, for an update. The update looks up the runs of a few anchors (in the blocks that an
index of every BLOCK-th anchor points to), scans the holders a piece at a time for the
paragraphs it removes, and keeps in memory only what it takes out and puts in; the next
commit's file gets the base merged with those a piece at a time. What of the map each step
read is given back after it (the kernel maps a few hundred KB for every page touched). An
update's memory then grows with the files it changes, not with the index's anchors (about 27
a paragraph of news, 12 bytes each).
"""

from typing import Callable, Iterator, Optional, Tuple

import numpy as np

from .arrays import ranges

ANCHOR = np.dtype("<u8")
HOLDER = np.dtype("<i4")  # dupindex's slot type
PIECE = 1 << 18  # entries scanned or written at a time (3 MB of anchors and holders)
BLOCK = 512  # entries read together where a few are looked up (4 KB of anchors)

LetGo = Callable[[np.ndarray], None]  # lets go of the memory a piece of the base was read into


def _held(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """How many of sorted ``values`` equal each of ``wanted``."""
    return (np.searchsorted(values, wanted, side="right")
            - np.searchsorted(values, wanted, side="left"))


def _by_block(positions: np.ndarray) -> Iterator[Tuple[int, np.ndarray]]:
    """Each block that ``positions`` fall in, and which of them do."""
    block = positions // BLOCK
    order = np.argsort(block, kind="stable")
    cuts = np.flatnonzero(np.diff(block[order])) + 1
    for group in np.split(order, cuts) if len(order) else ():
        yield int(block[group[0]]), group


def _among(values: np.ndarray, sorted_values: np.ndarray) -> np.ndarray:
    """Whether each of ``values`` is one of ``sorted_values``."""
    at = np.searchsorted(sorted_values, values)
    found = np.zeros(len(values), bool)
    inside = at < len(sorted_values)
    found[inside] = sorted_values[at[inside]] == values[inside]
    return found


class Anchors:
    """Sorted (anchor, holder) entries: the ``base`` arrays as given (read only; in memory or
    a file's mapped bytes, whose pieces ``let_go`` gives back once scanned), less the entries
    taken out, plus those put in, and with the slots renumbered since."""

    def __init__(self, anchors: Optional[np.ndarray] = None,
                 holders: Optional[np.ndarray] = None, let_go: Optional[LetGo] = None):
        self.base_anchors = np.zeros(0, ANCHOR) if anchors is None else anchors
        self.base_holders = np.zeros(0, HOLDER) if holders is None else holders
        self._let_go = let_go or (lambda array: None)
        self.dropped = np.zeros(0, np.int64)  # positions in the base taken out, ascending
        self.dropped_anchors = np.zeros(0, ANCHOR)  # their anchors (so ascending too)
        self.added_anchors = np.zeros(0, ANCHOR)  # entries put in, sorted as the base
        self.added_holders = np.zeros(0, HOLDER)
        self.slot_of: Optional[np.ndarray] = None  # a base holder's slot now (-1: freed)
        self._fence: Optional[np.ndarray] = None  # every BLOCK-th anchor of the base

    def __len__(self) -> int:
        return len(self.base_anchors) - len(self.dropped) + len(self.added_anchors)

    def counts(self, anchors: np.ndarray) -> np.ndarray:
        """How many entries each of ``anchors`` has."""
        return (self._bound(anchors, "right") - self._bound(anchors, "left")
                - _held(self.dropped_anchors, anchors) + _held(self.added_anchors, anchors))

    def runs(self, anchors: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The holders of each of ``anchors`` (distinct, ascending) one run after another, in
        the entries' order, and where each run starts among them and its size."""
        found, run_of = [], []
        for base in (True, False):
            if base:
                left = self._bound(anchors, "left")
                sizes = self._bound(anchors, "right") - left
            else:
                left = np.searchsorted(self.added_anchors, anchors, side="left")
                sizes = np.searchsorted(self.added_anchors, anchors, side="right") - left
            owner = np.repeat(np.arange(len(anchors)), sizes)
            at = ranges(left, sizes)
            if base:
                kept = ~_among(at, self.dropped)
                at, owner = at[kept], owner[kept]
                found.append(self._slots(self._gathered(self.base_holders, at)))
            else:
                found.append(self.added_holders[at])
            run_of.append(owner)
        owner = np.concatenate(run_of)
        order = np.argsort(owner, kind="stable")  # (each run: the base's entries first)
        sizes = np.bincount(owner, minlength=len(anchors))
        return np.concatenate(found)[order], np.cumsum(sizes) - sizes, sizes

    def take_out(self, dead: np.ndarray) -> np.ndarray:
        """Take out the entries whose holder is a ``dead`` slot (a bool by slot); their anchors
        (one per entry, ascending)."""
        found = []
        for lo in range(0, len(self.base_holders), PIECE):
            piece = self.base_holders[lo:lo + PIECE]
            found.append(np.flatnonzero(dead[self._slots(piece)]) + lo)
            self._let_go(piece)
        at = np.concatenate(found) if found else np.zeros(0, np.int64)
        at = at[~_among(at, self.dropped)]  # (a slot freed before is dead still)
        gone = self._gathered(self.base_anchors, at)
        dropped = np.concatenate([self.dropped, at])
        order = np.argsort(dropped, kind="stable")
        self.dropped = dropped[order]
        self.dropped_anchors = np.concatenate([self.dropped_anchors, gone])[order]
        dead_added = dead[self.added_holders]
        gone = np.sort(np.concatenate([gone, self.added_anchors[dead_added]]))
        self.added_anchors = self.added_anchors[~dead_added]
        self.added_holders = self.added_holders[~dead_added]
        return gone

    def put_in(self, anchors: np.ndarray, holders: np.ndarray) -> None:
        """Put in entries (``anchors`` sorted, ties in slot order; slots after every one held):
        each after those of its anchor held already."""
        at = np.searchsorted(self.added_anchors, anchors, side="right")
        self.added_anchors = np.insert(self.added_anchors, at, anchors.astype(ANCHOR))
        self.added_holders = np.insert(self.added_holders, at, holders.astype(HOLDER))

    def renumber(self, slot_of: np.ndarray) -> None:
        """Give every holder its slot by ``slot_of`` (old slot -> new, -1: freed)."""
        self.added_holders = slot_of[self.added_holders].astype(HOLDER)
        if self.slot_of is None:
            self.slot_of = slot_of
        else:
            self.slot_of = np.where(self.slot_of >= 0, slot_of[self.slot_of], -1)

    def holders_below(self, count: int) -> bool:
        """Whether every holder is a slot below ``count`` (and none negative)."""
        for holders in self.pieces("holders"):
            if len(holders) and not (0 <= int(holders.min()) and int(holders.max()) < count):
                return False
        return True

    def pieces(self, column: str = "anchors") -> Iterator[np.ndarray]:
        """Every entry's anchor (``column`` "anchors") or holder ("holders"), in order, a
        piece at a time: a piece of the base as it is where nothing was taken out of it or
        put in, and given back once the next is asked for."""
        base, count = self.base_anchors, len(self.base_anchors)
        added = 0
        for lo in range(0, max(count, 1), PIECE):
            hi = min(lo + PIECE, count)
            anchors = base[lo:hi]
            piece = anchors if column == "anchors" else self._slots(self.base_holders[lo:hi])
            drop = self.dropped[np.searchsorted(self.dropped, lo):
                                np.searchsorted(self.dropped, hi)] - lo
            if len(drop):
                anchors, piece = np.delete(anchors, drop), np.delete(piece, drop)
            # The entries put in before the next piece's first anchor (an equal one's after
            # every entry of the base that has it, whichever piece those are in).
            end = (len(self.added_anchors) if hi >= count
                   else int(np.searchsorted(self.added_anchors, base[hi], side="left")))
            if end > added:
                at = np.searchsorted(anchors, self.added_anchors[added:end], side="right")
                put = self.added_anchors if column == "anchors" else self.added_holders
                piece = np.insert(piece, at, put[added:end])
                added = end
            yield piece
            self._let_go(base[lo:hi])
            self._let_go(self.base_holders[lo:hi])

    def _bound(self, anchors: np.ndarray, side: str) -> np.ndarray:
        """``np.searchsorted(base_anchors, anchors, side)``, reading the blocks of the base the
        answers are in (the fence of every BLOCK-th anchor says which: after the fence's last
        anchor below, or at most, each one)."""
        block = np.maximum(np.searchsorted(self._fence_of(), anchors, side) - 1, 0)
        found = np.empty(len(anchors), np.int64)
        for number, which in _by_block(block * BLOCK):
            values = self.base_anchors[number * BLOCK:(number + 1) * BLOCK]
            found[which] = np.searchsorted(values, anchors[which], side) + number * BLOCK
            self._let_go(values)
        return found

    def _gathered(self, base: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """``base[positions]``, read a block at a time."""
        found = np.empty(len(positions), base.dtype)
        for number, which in _by_block(positions):
            values = base[number * BLOCK:(number + 1) * BLOCK]
            found[which] = values[positions[which] - number * BLOCK]
            self._let_go(values)
        return found

    def _fence_of(self) -> np.ndarray:
        if self._fence is None:
            found = []
            for lo in range(0, len(self.base_anchors), PIECE):
                piece = self.base_anchors[lo:lo + PIECE]
                found.append(piece[-lo % BLOCK::BLOCK].copy())
                self._let_go(piece)
            self._fence = np.concatenate(found) if found else np.zeros(0, ANCHOR)
        return self._fence

    def _slots(self, holders: np.ndarray) -> np.ndarray:
        """Base holders as slots now."""
        if self.slot_of is None:
            return holders
        return self.slot_of[holders].astype(HOLDER)
