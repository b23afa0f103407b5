"""What each commit's files must be, and reading them only as they were committed.

Every commit records, in ``checksums-<generation>.json``, each file it consists of (its table
of contents, the files of its segments and its own side files, ``SIDE_FILES``)
with its size, SHA-256 and a CRC-32 of every PAGE_SIZE bytes. The record is written in one
canonical form with a digest of its content, so that any byte changed in it shows too.

Readers verify as they go: a committed file's size when it is opened, each page's CRC the
first time a search reads from it (``CheckedFile``), small files whole against their SHA-256.
A search therefore never works with bytes other than those committed, and a damaged index
ends in IndexDamagedError naming the file, not in wrong results or a fault of Whoosh's.
``searchkit check`` compares every byte of every file against its SHA-256.

Pure file handling (no Whoosh): ``durable`` and ``store`` write and check commits with it, and
searches that never import Whoosh read them with it.
"""

import base64
import errno
import hashlib
import io
import json
import mmap
import os
import re
import stat
import sys
import zlib
from array import array
from typing import BinaryIO, Callable, Dict, NamedTuple, Optional

from ..errors import IndexDamagedError

PAGE_SIZE = 16384  # bytes per CRC: a cold search reads a few dozen pages of each file
_CHECKED_AT_A_TIME = 1 << 20  # bytes of a mapped file checked (and given back) at a time
# A page touched in a mapped file maps this much around it at most (the kernel's large folios,
# up to 2 MB): given back together.
_MAPPED_TOGETHER = 1 << 21
RECORD = "checksums-{}.json"
# Each commit's own files beside Whoosh's, by kind ({} is the generation).
SIDE_FILES = {"settings": "searchkit-{}.json", "ledger": "files-{}.json",
              "vocabulary": "vocabulary-{}.json", "stems": "stems-{}.tsv",
              "segments": "segments-{}.json", "dupindex": "dupindex-{}.npz"}
_FIELDS = ("algorithm", "files", "generation", "page_size")
_CRC = "I" if array("I").itemsize == 4 else "L"  # an unsigned 32-bit int
_SHA256 = re.compile(r"[0-9a-f]{64}")
# The names a commit's files have (a record naming a path or odd characters is not searchkit's).
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# A commit record is larger than this for no index (~190 GB of files at 4 bytes a page).
RECORD_MOST = 1 << 26


class NotAFile(OSError):
    """A name in an index folder that is not a regular file (a FIFO, a device, a folder)."""


def regular(path, flags: int, mode: int = 0o777) -> int:
    """``os.open(path, flags, mode)`` of a file of an index folder, as an ``opener`` of
    ``open``: NotAFile unless it is a regular file, found before anything is read (opening a
    FIFO would wait for a writer, and a device such as /dev/zero never ends)."""
    nonblocking = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags | nonblocking, mode)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotAFile(errno.EINVAL, "not a regular file", path)
        if nonblocking:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


class Entry(NamedTuple):
    """One file of a commit, as it was committed."""

    sha256: str
    size: int
    pages: bytes  # CRC-32 of each PAGE_SIZE bytes, little-endian unsigned 32-bit ints

    def page_crcs(self) -> array:
        crcs = array(_CRC)
        crcs.frombytes(self.pages)
        if sys.byteorder == "big":
            crcs.byteswap()
        return crcs


class Record(NamedTuple):
    """The files of one commit."""

    generation: int
    files: Dict[str, Entry]


def summarize(path: str, sync: bool = False, before_sync: Optional[Callable] = None) -> Entry:
    """The entry of the file at ``path``; with ``sync``, fsync it as well (``before_sync``
    first: the fault hook of tests)."""
    digest = hashlib.sha256()
    crcs = array(_CRC)
    size = 0
    with open(path, "rb", opener=regular) as handle:
        for page in iter(lambda: handle.read(PAGE_SIZE), b""):
            digest.update(page)
            crcs.append(zlib.crc32(page))
            size += len(page)
        if sync:
            if before_sync is not None:
                before_sync()
            os.fsync(handle.fileno())
    if sys.byteorder == "big":
        crcs.byteswap()
    return Entry(digest.hexdigest(), size, crcs.tobytes())


def encode(record: Record) -> bytes:
    """The record file's bytes: canonical JSON with a digest of the rest."""
    body = _body(record)
    body["digest"] = _digest(body)
    return (json.dumps(body, indent=1, sort_keys=True) + "\n").encode("ascii")


def _body(record: Record) -> dict:
    return {
        "algorithm": "sha256",
        "files": {
            name: {"pages": base64.b64encode(e.pages).decode("ascii"), "sha256": e.sha256,
                   "size": e.size}
            for name, e in sorted(record.files.items())
        },
        "generation": record.generation,
        "page_size": PAGE_SIZE,
    }


def _digest(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("ascii")).hexdigest()


def decode(data: bytes, generation: int) -> Record:
    """The record of ``generation`` from its file's bytes; ValueError if they are not exactly
    what ``encode`` writes for one."""
    try:
        body = json.loads(data.decode("ascii"))
    except RecursionError:
        raise ValueError("not a commit record (nested too deep)") from None
    if not isinstance(body, dict) or sorted(body) != sorted(_FIELDS + ("digest",)):
        raise ValueError("not a commit record")
    digest = body.pop("digest")
    if digest != _digest(body):
        raise ValueError("its digest does not match its content")
    if body["generation"] != generation or body["algorithm"] != "sha256" or (
            body["page_size"] != PAGE_SIZE) or not isinstance(body["files"], dict):
        raise ValueError("it is not this commit's record")
    files = {}
    for name, entry in body["files"].items():
        if not _FILE_NAME.fullmatch(name):
            raise ValueError("it names a file outside the index folder or not searchkit's")
        if not isinstance(entry, dict) or sorted(entry) != ["pages", "sha256", "size"]:
            raise ValueError(f"a bad entry for {name}")
        pages = base64.b64decode(entry["pages"], validate=True)
        size = entry["size"]
        if type(size) is not int or len(pages) != 4 * -(-size // PAGE_SIZE) or (
                not _is_hex(entry["sha256"])):
            raise ValueError(f"a bad entry for {name}")
        files[name] = Entry(entry["sha256"], size, pages)
    record = Record(generation, files)
    if encode(record) != data:
        raise ValueError("it is not in the form searchkit writes")
    return record


def _is_hex(text) -> bool:
    return isinstance(text, str) and bool(_SHA256.fullmatch(text))


def legacy_files(data: bytes, generation: int) -> Optional[Dict[str, str]]:
    """The segment files named by a record of searchkit before schema 10 ({name: SHA-256}),
    or None if ``data`` is not one."""
    try:
        body = json.loads(data.decode("utf-8"))
        files = body["files"]
        if body.get("generation") != generation or not all(
                isinstance(v, str) for v in files.values()):
            return None
        return dict(files)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def verify(path: str, entry: Entry) -> Optional[str]:
    """What differs between the file at ``path`` and its entry (every byte), or None."""
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if size != entry.size:
        return resized(size, entry)
    try:
        found = summarize(path)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if found.sha256 != entry.sha256:
        return "its bytes differ from those its commit wrote (checksum mismatch)"
    return None


def check_sizes(folder: str, record: Record) -> None:
    """IndexDamagedError unless every file ``record`` names is in ``folder`` at its committed
    size (its bytes are checked as they are read)."""
    for name, entry in record.files.items():
        try:
            size = os.path.getsize(os.path.join(folder, name))
        except FileNotFoundError:
            raise _damaged(folder, name, "missing") from None
        if size != entry.size:
            raise _damaged(folder, name, resized(size, entry))


def read_whole(path: str, entry: Entry) -> bytes:
    """The file's bytes, if they are the ones committed; else ValueError saying how not."""
    try:
        with open(path, "rb", opener=regular) as handle:
            data = handle.read(entry.size + 1)
    except FileNotFoundError:
        raise ValueError("missing") from None
    except NotAFile:
        raise ValueError("not a regular file") from None
    if len(data) != entry.size:
        raise ValueError(f"{len(data):,} bytes where its commit wrote {entry.size:,}")
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise ValueError("its bytes differ from those its commit wrote")
    return data


class CheckedFile(io.FileIO):
    """A committed file whose reads are verified: its size when opened, and the CRC of each
    page the first time any read touches it. ``damaged(what)`` makes the error to raise.
    Wrapped in a BufferedReader, it is checked once per buffer fill, at C speed between."""

    def __init__(self, path: str, entry: Entry, damaged: Callable[[str], Exception]):
        try:
            super().__init__(path, "r", opener=regular)
        except NotAFile:
            raise damaged("not a regular file") from None
        self._damaged = damaged
        self._crcs = entry.page_crcs()
        self._checked = bytearray(len(self._crcs))
        self._size = entry.size
        size = os.fstat(self.fileno()).st_size
        if size != entry.size:
            self.close()
            raise damaged(resized(size, entry))

    def readinto(self, buffer, _tell=io.FileIO.tell, _readinto=io.FileIO.readinto):
        # Every buffer fill of a search comes here: the fast path is checked pages only.
        start = _tell(self)
        count = _readinto(self, buffer)
        if count:
            checked = self._checked
            last = (start + count - 1) // PAGE_SIZE
            if last >= len(checked) or not (checked[start // PAGE_SIZE] and checked[last]):
                self._check(start, start + count)
        return count

    def read(self, size=-1):
        start = self.tell()
        data = super().read(size)
        if data:
            self._check(start, start + len(data))
        return data

    def readall(self):
        start = self.tell()
        data = super().readall()
        if data:
            self._check(start, start + len(data))
        return data

    def _check(self, start: int, end: int) -> None:
        checked = self._checked
        for page in range(start // PAGE_SIZE, (end - 1) // PAGE_SIZE + 1):
            if page < len(checked) and checked[page]:
                continue
            if page >= len(checked) or end > self._size:
                raise self._damaged("it grew after its commit")
            data = os.pread(self.fileno(), PAGE_SIZE, page * PAGE_SIZE)
            _verify_page(data, page, self._crcs, checked, self._damaged)


def _verify_page(data, page: int, crcs, checked: bytearray, damaged) -> None:
    """Mark ``page`` checked if ``data``, its bytes, have the CRC its commit recorded."""
    if zlib.crc32(data) != crcs[page]:
        raise damaged(f"its bytes at {page * PAGE_SIZE:,}-{page * PAGE_SIZE + len(data):,} "
                      "differ from those its commit wrote")
    checked[page] = 1


def resized(size: int, entry: Entry) -> str:
    """What a committed file of ``size`` bytes that is not its ``entry``'s size is."""
    return f"{size:,} bytes where its commit wrote {entry.size:,} (truncated or extended)"


def side_file(kind: str, generation: int) -> str:
    return SIDE_FILES[kind].format(generation)


def record_file(generation: int) -> str:
    return RECORD.format(generation)


# -- reading commits ---------------------------------------------------------------------------


_records: Dict[tuple, Record] = {}  # (folder, generation, file identity) -> record


def load_record(folder: str, generation: int) -> Record:
    """The record of commit ``generation``; IndexDamagedError if it is missing or damaged."""
    name = record_file(generation)
    path = os.path.join(folder, name)
    try:
        with open(path, "rb", opener=regular) as handle:
            info = os.fstat(handle.fileno())
            key = (os.path.abspath(folder), generation, info.st_ino, info.st_size,
                   info.st_mtime_ns)
            if key in _records:
                return _records[key]
            data = handle.read(RECORD_MOST + 1)
    except FileNotFoundError:
        raise _damaged(folder, name, f"missing (the record of commit {generation})") from None
    except NotAFile:
        raise _damaged(folder, name, "not a regular file") from None
    if len(data) > RECORD_MOST:
        raise _damaged(folder, name, "too large to be a commit record")
    try:
        record = decode(data, generation)
    except (ValueError, UnicodeError) as error:
        raise _damaged(folder, name, f"damaged: {error}") from None
    if len(_records) > 64:
        _records.clear()
    _records[key] = record
    return record


def read_committed(folder: str, generation: int, name: str) -> Optional[bytes]:
    """The bytes of file ``name`` of commit ``generation`` as committed; None if the commit
    has no such file; IndexDamagedError if they are not the committed ones."""
    entry = load_record(folder, generation).files.get(name)
    if entry is None:
        return None
    try:
        return read_whole(os.path.join(folder, name), entry)
    except ValueError as error:
        raise _damaged(folder, name, str(error)) from None


def committed_copy(folder: str, generation: int,
                   name: str) -> Optional[Callable[[BinaryIO], None]]:
    """What writes the bytes of file ``name`` of commit ``generation`` into a file, a piece at
    a time, each page checked as it is read (IndexDamagedError if they are not the committed
    ones): a large file is carried into a new commit without being held whole. None if the
    commit has no such file."""
    entry = load_record(folder, generation).files.get(name)
    if entry is None:
        return None

    def damage(what: str) -> IndexDamagedError:
        return _damaged(folder, name, what)

    def copy(out: BinaryIO) -> None:
        try:
            source = CheckedFile(os.path.join(folder, name), entry, damage)
        except FileNotFoundError:
            raise damage("missing") from None
        with source:
            for piece in iter(lambda: source.read(_CHECKED_AT_A_TIME), b""):
                out.write(piece)

    return copy


def map_committed(folder: str, generation: int, name: str) -> Optional["CheckedMap"]:
    """File ``name`` of commit ``generation`` mapped into memory, every page checked first
    (``CheckedMap.check_all``); None if the commit has no such file; IndexDamagedError if it
    is not the committed one. A large file is then read where it is needed, not copied."""
    entry = load_record(folder, generation).files.get(name)
    if entry is None:
        return None
    try:
        mapped = CheckedMap(os.path.join(folder, name), entry,
                            lambda what: _damaged(folder, name, what))
    except FileNotFoundError:
        raise _damaged(folder, name, "missing") from None
    mapped.check_all()
    return mapped


def _damaged(folder: str, name: str, what: str) -> IndexDamagedError:
    return damaged(folder, f"{name}: {what}")


def damaged(folder: str, damage: str) -> IndexDamagedError:
    """The error for ``damage`` (kept as its ``damage``, e.g. for `searchkit check`)."""
    error = IndexDamagedError(damage_message(folder, damage))
    error.damage = damage
    return error


def damage_message(folder: str, damage: str) -> str:
    """One line: what is damaged, how to see all of it and how to repair it."""
    return (f"the index in {folder} is damaged ({damage}); `searchkit check --index {folder}` "
            f"lists what is wrong; rebuild it: searchkit index PATHS --index {folder} --rebuild")


class CheckedMap:
    """A committed file mapped into memory, read only as committed: its size when opened, and
    the CRC of each page the first time ``check`` is asked for a range over it (numpy views of
    the map then read it at memory speed)."""

    def __init__(self, path: str, entry: Entry, damaged: Callable[[str], Exception]):
        try:
            handle = open(path, "rb", opener=regular)
        except NotAFile:
            raise damaged("not a regular file") from None
        with handle:
            size = os.fstat(handle.fileno()).st_size
            if size != entry.size:
                raise damaged(resized(size, entry))
            if not size:
                raise damaged("empty")
            self.buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        self._damaged = damaged
        self._crcs = entry.page_crcs()
        self._checked = bytearray(len(self._crcs))

    def check(self, start: int, end: int) -> None:
        """Verify the pages holding bytes ``start`` to ``end`` (once each)."""
        checked = self._checked
        first, last = start // PAGE_SIZE, (max(end, start + 1) - 1) // PAGE_SIZE
        if last < len(checked) and checked[first] and checked[last] and (
                last - first < 2 or all(checked[first:last + 1])):
            return
        view = memoryview(self.buffer)
        for page in range(first, min(last, len(checked) - 1) + 1):
            if not checked[page]:
                data = view[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
                _verify_page(data, page, self._crcs, checked, self._damaged)

    def check_all(self) -> None:
        """Verify every page, a piece at a time, each piece's memory given back after it."""
        for start in range(0, len(self.buffer), _CHECKED_AT_A_TIME):
            end = min(start + _CHECKED_AT_A_TIME, len(self.buffer))
            self.check(start, end)
            self.let_go(start, end)

    def let_go(self, start: int, end: int) -> None:
        """Give back the memory of bytes ``start`` to ``end`` and of the rest of the
        _MAPPED_TOGETHER around them (read from the file again if touched again): a scan of a
        large file then holds a piece of it at a time."""
        if hasattr(mmap, "MADV_DONTNEED") and end > start:
            first = start - start % _MAPPED_TOGETHER
            last = min(end - end % -_MAPPED_TOGETHER, len(self.buffer))
            self.buffer.madvise(mmap.MADV_DONTNEED, first, last - first)
