"""The paragraph id of each slot of the near-duplicate index, as an update holds them: those
read with the index in one buffer of UTF-8 (as its file has them, "\\0" between two), with
where each starts and whether its slot is still held, and those added since in a list. As a
list of strings, the ids of a kept index took ~70 bytes a paragraph; here ~25. Asked for one
at a time, or read through a piece of the buffer at a time (``slots_of``, ``__iter__``).
"""

from typing import Dict, Iterable, Iterator, List, Optional, Sequence

import numpy as np

_BYTES_AT_A_TIME = 1 << 20  # of the buffer split into ids at a time


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogatepass")


class SlotIds(Sequence[Optional[str]]):
    """Slot -> its paragraph id, or None once its paragraph is removed (``free``)."""

    def __init__(self, joined: bytes, alive: np.ndarray):
        """``joined``: the ids "\\0" between two, as many as ``alive`` has flags (ValueError if
        not, or if they are not UTF-8)."""
        _text(joined)  # (checked whole here: ids are read one at a time later)
        separators = np.flatnonzero(np.frombuffer(joined, np.uint8) == 0)
        if len(alive) != (len(separators) + 1 if joined or len(alive) else 0):
            raise ValueError("not as many ids as slots")
        self._joined = joined
        self._starts = np.r_[0, separators + 1, len(joined) + 1]
        self._alive = np.array(alive, bool)
        self._added: List[Optional[str]] = []

    @classmethod
    def of(cls, ids: Iterable[Optional[str]]) -> "SlotIds":
        """The ids of a sequence (None: a free slot)."""
        ids = list(ids)
        joined = b"\0".join(b"" if pid is None else pid.encode("utf-8", "surrogatepass")
                            for pid in ids)
        return cls(joined, np.array([pid is not None for pid in ids], bool))

    def __len__(self) -> int:
        return len(self._alive) + len(self._added)

    def __getitem__(self, slot):
        if not isinstance(slot, (int, np.integer)):
            raise TypeError("a slot number")
        slot = int(slot) + (len(self) if slot < 0 else 0)
        read = len(self._alive)
        if slot < 0:
            raise IndexError("no such slot")
        if slot >= read:
            return self._added[slot - read]  # (IndexError past the end)
        if not self._alive[slot]:
            return None
        return _text(self._joined[self._starts[slot]:self._starts[slot + 1] - 1])

    def __iter__(self) -> Iterator[Optional[str]]:
        for raw, live in zip(self._pieces(), self._alive.tolist()):
            yield _text(raw) if live else None
        yield from self._added

    def free(self, slot: int) -> None:
        """Its paragraph is no longer held."""
        read = len(self._alive)
        if slot < read:
            self._alive[slot] = False
        else:
            self._added[slot - read] = None

    def extend(self, ids: Iterable[str]) -> None:
        self._added.extend(ids)

    def alive(self, upto: int) -> np.ndarray:
        """Whether each of the first ``upto`` slots is held."""
        added = np.array([pid is not None for pid in self._added], bool)
        return np.r_[self._alive, added][:upto]

    def slots_of(self, wanted: set) -> Dict[int, str]:
        """The slots of the ``wanted`` ids held: slot -> id."""
        raw_wanted = {pid.encode("utf-8", "surrogatepass") for pid in wanted}
        found = {slot: _text(raw) for slot, raw in enumerate(self._pieces())
                 if raw in raw_wanted and self._alive[slot]}
        read = len(self._alive)
        found.update((read + k, pid) for k, pid in enumerate(self._added) if pid in wanted)
        return found

    def joined(self) -> bytes:
        """Every slot's id, "\\0" between two ("" for a free slot), as the index's file has
        them."""
        view, pieces, at = memoryview(self._joined), [], 0
        dead = np.flatnonzero(~self._alive)  # their bytes left out, their separators kept
        for start, end in zip(self._starts[dead].tolist(), (self._starts[dead + 1] - 1).tolist()):
            pieces.append(view[at:start])
            at = end
        pieces.append(view[at:] if len(self._alive) else b"")
        added = [b"" if pid is None else pid.encode("utf-8", "surrogatepass")
                 for pid in self._added]
        if len(self._alive) and added:
            pieces.append(b"\0")
        pieces.append(b"\0".join(added))
        return b"".join(pieces)  # (one copy of the buffer)

    def held(self) -> "SlotIds":
        """The ids held, in slot order, each in a slot of its own (a compaction's)."""
        return SlotIds.of(pid for pid in self if pid is not None)

    def _pieces(self) -> Iterator[bytes]:
        """The ids read, slot after slot (as bytes; a free slot's too), split a piece of the
        buffer at a time."""
        joined = self._joined
        at = 0
        while len(self._alive) and at <= len(joined):
            cut = joined.find(b"\0", at + _BYTES_AT_A_TIME)
            end = len(joined) if cut < 0 else cut
            yield from joined[at:end].split(b"\0")
            at = end + 1
