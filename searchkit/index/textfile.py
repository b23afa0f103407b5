"""A build's paragraph texts kept on disk from their reading until they are written.

Held as strings, the texts were the largest part of what a build keeps of every paragraph
it read (bench/README.md: how the build grows). A reading helper sends a piece's texts
packed (``pack``: one UTF-8 string of bytes, no string object for each text in the process
that keeps them); ``TextFile`` stores them as they arrive in an unnamed scratch file in the
index folder (on disk rather than in a memory-backed /tmp, gone with the process whatever
stops it), numbers them in the build's order, and ``Texts`` reads them back: one by number, a
run of them in as few reads as they were stored in. ``ScratchBytes`` keeps other byte strings
of every file so (its articles pickled, its ledger record).
"""

import os
import tempfile
import threading
from array import array
from collections.abc import Sequence
from itertools import accumulate, islice
from typing import Iterable, Iterator, List, NamedTuple, Optional, Tuple, Union

_TEXTS_A_READ = 4096  # texts read at a time when a run of them is gone through
# Texts picked by number are read together while the bytes between them are this few
# (a page or so) and the read this short.
_GAP_READ = 8192
_MOST_READ = 1 << 20


def read_at(file, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of a build's scratch ``file``, read by offset (from threads
    and forked processes alike); OSError if the file ends before."""
    data = os.pread(file.fileno(), end - start, start)
    if len(data) != end - start:
        raise OSError("a scratch file of the build ended early")
    return data


class _ScratchFile:
    """An unnamed scratch file in ``folder`` (else the system's), unbuffered, made with the
    first bytes appended to it."""

    def __init__(self, folder: Optional[str] = None):
        self.folder, self.file = folder, None

    def _append(self, data: bytes) -> None:
        """All of ``data`` to the end of the file (a raw file may write less than it is
        given)."""
        if self.file is None:
            self.file = tempfile.TemporaryFile(dir=self.folder, buffering=0)
        view = memoryview(data)
        while view:
            view = view[self.file.write(view):]

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class PackedTexts(NamedTuple):
    """Texts as one string of UTF-8 bytes (``pack``)."""

    data: bytes
    sizes: array  # each text's bytes
    lengths: array  # each text's characters


def pack(texts: List[str]) -> PackedTexts:
    encoded = [text.encode("utf-8", "surrogatepass") for text in texts]
    return PackedTexts(b"".join(encoded), array("q", map(len, encoded)),
                       array("q", map(len, texts)))


class StoredTexts(NamedTuple):
    """Packed texts stored in a ``TextFile``, not yet numbered."""

    start: int  # where the first is in the file
    sizes: array
    lengths: array


class TextFile(_ScratchFile):
    """Texts stored in packs (``store``), numbered from 0 in the order they are added
    (``extend``); read back with ``texts``."""

    def __init__(self, folder: Optional[str] = None):
        super().__init__(folder)
        self.written = 0
        self.starts = array("q")  # each text's place in the file
        self.sizes = array("q")  # ... its bytes
        self.lengths = array("q")  # ... its characters

    def store(self, packs: List[PackedTexts]) -> List[StoredTexts]:
        """Write these packs to the file, in one write (to be added later, in order)."""
        stored = []
        for packed in packs:
            stored.append(StoredTexts(self.written, packed.sizes, packed.lengths))
            self.written += len(packed.data)
        self._append(b"".join(packed.data for packed in packs))
        return stored

    def extend(self, texts: Union[StoredTexts, PackedTexts]) -> None:
        """Number these texts after those added before (stored first if need be)."""
        stored = texts if isinstance(texts, StoredTexts) else self.store([texts])[0]
        self.starts.extend(accumulate(stored.sizes[:-1], initial=stored.start)
                           if len(stored.sizes) else ())
        self.sizes.extend(stored.sizes)
        self.lengths.extend(stored.lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    def read(self, lo: int, hi: int) -> List[str]:
        """Texts ``lo`` to ``hi`` (excluded), each run stored together in one read."""
        found: List[str] = []
        at = lo
        while at < hi:
            start = end = self.starts[at]
            last = at
            while last < hi and self.starts[last] == end:
                end += self.sizes[last]
                last += 1
            # (one decode, cut by characters)
            text = read_at(self.file, start, end).decode("utf-8", "surrogatepass")
            bounds = [0, *accumulate(self.lengths[at:last])]
            found += [text[a:b] for a, b in zip(bounds, bounds[1:])]
            at = last
        return found

    def pick(self, numbers: Sequence[int]) -> List[str]:
        """Texts by these numbers (ascending), neighbours in the file read together."""
        found: List[str] = []
        k = 0
        while k < len(numbers):
            start = self.starts[numbers[k]]
            end = start + self.sizes[numbers[k]]
            last = k + 1
            while last < len(numbers):
                at = self.starts[numbers[last]]
                following = at + self.sizes[numbers[last]]
                if not (end <= at <= end + _GAP_READ and following - start <= _MOST_READ):
                    break
                end, last = following, last + 1
            data = read_at(self.file, start, end)
            for n in numbers[k:last]:
                at = self.starts[n] - start
                found.append(data[at:at + self.sizes[n]].decode("utf-8", "surrogatepass"))
            k = last
        return found

    def texts(self) -> "Texts":
        return Texts(self, 0, len(self))


class ByteStrings:
    """Byte strings added in order, held as one growing buffer (no object for each)."""

    def __init__(self):
        self.data = bytearray()
        self.ends = array("q")  # where each ends among all added

    def add(self, data: bytes, sizes: Iterable[int]) -> None:
        """Byte strings of these sizes, one after the other in ``data``."""
        self.ends.extend(islice(accumulate(sizes, initial=self.ends[-1] if self.ends else 0),
                                1, None))
        self.data += data

    def __len__(self) -> int:
        return len(self.ends)

    def span(self, n: int) -> Tuple[int, int]:
        """Where byte string ``n`` starts and ends among all added."""
        return self.ends[n - 1] if n else 0, self.ends[n]

    def bytes_of(self, n: int) -> bytes:
        start, end = self.span(n)
        return self.data[start:end]


class ScratchBytes(ByteStrings, _ScratchFile):
    """``ByteStrings`` kept in an unnamed scratch file in ``folder`` (else the system's) and
    read back by number (``bytes_of``, ``in_order``); where each ends is held in memory.
    Written a megabyte at a time, from ``data``, those not yet written (a file object's
    buffer would be a forked helper's too, and written again by it)."""

    def __init__(self, folder: Optional[str] = None):
        ByteStrings.__init__(self)
        _ScratchFile.__init__(self, folder)
        self.writing = threading.Lock()  # (a build's batches are made by two threads)

    def add(self, data: bytes, sizes: Iterable[int]) -> None:
        super().add(data, sizes)
        if len(self.data) >= _WRITTEN_FROM:
            self._write()

    def bytes_of(self, n: int) -> bytes:
        return next(self.in_order([n]))

    def in_order(self, numbers: Iterable[int]) -> Iterator[bytes]:
        """The byte strings of these numbers, in their order; neighbours in the file read
        together, a few thousand at a time."""
        self._written()
        pending: List[int] = []
        for n in numbers:
            if pending and (self.ends[pending[-1]] != self.span(n)[0]
                            or len(pending) >= _STRINGS_A_READ):
                yield from self._read_run(pending)
                pending = []
            pending.append(n)
        yield from self._read_run(pending)

    def _read_run(self, run: List[int]) -> Iterator[bytes]:
        if not run:
            return
        start, end = self.span(run[0])[0], self.ends[run[-1]]
        data = read_at(self.file, start, end) if end > start else b""
        for n in run:
            first, last = self.span(n)
            yield data[first - start:last - start]

    def _written(self) -> None:
        if self.data:
            with self.writing:
                if self.data:
                    self._write()

    def _write(self) -> None:
        self._append(bytes(self.data))
        self.data.clear()  # (only now: another thread reads once it finds it empty)


_WRITTEN_FROM = 1 << 20
_STRINGS_A_READ = 4096


class Texts(Sequence):
    """Texts ``lo`` to ``hi`` of a ``TextFile``, read as they are asked for; a slice is
    another ``Texts``, read when it is gone through. Pickled, a list (as a helper gets it)."""

    def __init__(self, source: TextFile, lo: int, hi: int):
        self.source, self.lo, self.hi = source, lo, hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, k: Union[int, slice]):
        if isinstance(k, slice):
            lo, hi, step = k.indices(len(self))
            if step != 1:
                raise ValueError("texts are sliced by runs")
            return Texts(self.source, self.lo + lo, self.lo + max(hi, lo))
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self.source.read(self.lo + k, self.lo + k + 1)[0]

    def __iter__(self) -> Iterator[str]:
        for at in range(self.lo, self.hi, _TEXTS_A_READ):
            yield from self.source.read(at, min(at + _TEXTS_A_READ, self.hi))

    def pick(self, numbers: Sequence[int]) -> List[str]:
        """``TextFile.pick`` of these texts by their numbers here."""
        return self.source.pick([self.lo + n for n in numbers])

    @property
    def lengths(self) -> array:
        """Each text's characters."""
        return self.source.lengths[self.lo:self.hi]

    def __reduce__(self):
        return list, (list(self),)
