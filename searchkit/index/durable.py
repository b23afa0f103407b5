"""Crash-safe file handling under Whoosh: durable commits, commit records, the journal of what
writers create, sweeping leftovers and the merge policy for incremental commits. ``store`` is
the API over it; nothing else uses it.

A commit is the rename of a temporary TOC file to ``_MAIN_<generation>.toc``. Before that
rename every file of the generation (new segment files, its settings, ledger, vocabulary,
stems table and near-duplicate index, the TOC itself) is fsynced and summed into its record,
``checksums-<generation>.json`` (see ``integrity``; fsynced), and the directory is fsynced;
after it the directory is fsynced again. Whoosh segment files are written once and never
changed (deletions are recorded in the TOC's pickled segment list), so a file's entry is taken
once and carried over from generation to generation.

searchkit deletes only files it can prove it wrote: those a commit record names, and those
its writers named in the journal (``searchkit-writes.log``) before creating them. Whoosh
deletes the files a commit superseded right away, which breaks a searcher that opened the
previous generation and has not opened all its files yet (column files are opened lazily);
here index files are only removed by ``sweep``, under the write lock: files the journal names
that no kept commit holds (a crashed or failed writer's) at once, and a superseded generation's
files ``KEEP_SUPERSEDED_SECONDS`` after the commit that replaced it. A file no record or
journal names stays, whatever its name.
"""

import errno
import io
import json
import os
import re
import shutil
import time
from typing import BinaryIO, Callable, Dict, List, Optional, Set, Union

from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import _CURRENT_TOC_VERSION, TOC
from whoosh.system import _FLOAT_SIZE, _INT_SIZE, _LONG_SIZE
from whoosh.util import random_name
from whoosh.util.filelock import FcntlLock

from ..errors import IndexDamagedError, IndexFolderError
from . import integrity, safepickle
from . import schema as schema_module
from .integrity import (
    _damaged,
    damage_message,
    damaged,
    load_record,
    read_committed,
    record_file,
    side_file,
)
from .layout import (
    JOURNAL,
    JOURNAL_HEADER,
    LEGACY_SETTINGS_FILE,
    RECORD_FILE,
    SEGMENT_FILE,
    TOC_FILE,
    generations,
    journaled,
    record_names,
    searchkit_name,
)

safepickle.install()  # Whoosh reads segment data through the allow-list from here on

INDEX_NAME = "MAIN"  # Whoosh's default index name
LOCK_FILE = "MAIN_WRITELOCK"
# Each commit's own files beside Whoosh's, by kind ({} is the generation).
SIDE_FILES = integrity.SIDE_FILES
# Before schema 10: one settings file, vocabulary and stems table for all generations.
LEGACY_FILES = (LEGACY_SETTINGS_FILE, "vocabulary.json", "stems.tsv")

# A generation a commit replaced stays readable this long (for searchers that opened it).
KEEP_SUPERSEDED_SECONDS = 120.0

# Incremental commits leave segments of over SMALL_SEGMENT_DOCS documents alone. Once
# MERGE_AT small ones have piled up (or one is mostly deleted), the small ones are merged into
# one (bulkmerge), smallest first, re-reading at most MERGE_BUDGET_DOCS documents.
# Merging re-reads documents, slower than writing new ones: the budget bounds what it adds to a
# commit, where Whoosh's MERGE_SMALL may one day re-read the whole index. Big segments pile up
# one per big run: `searchkit optimize` merges everything.
SMALL_SEGMENT_DOCS = 1_000
MERGE_AT = 5
MERGE_BUDGET_DOCS = 4_000

# Tests set this to a callable(operation, file name) run before every file operation of the
# index storage ("create", "write", "rename", "delete", "fsync", "mkdir", "rmdir"): it may raise
# an OSError or kill the process, to prove what a failure at that point leaves behind.
fault_hook = None


def _io(operation: str, name: str) -> None:
    if fault_hook is not None:
        fault_hook(operation, name)


class _CountedFile:
    """A file object whose writes pass the fault hook first (only while one is set)."""

    def __init__(self, fileobj, name):
        self._file = fileobj
        self._name = name

    def write(self, data):
        _io("write", self._name)
        return self._file.write(data)

    def __getattr__(self, attribute):
        return getattr(self._file, attribute)

    def __iter__(self):
        return iter(self._file)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._file.close()


class DurableStorage(FileStorage):
    """Whoosh's FileStorage with durable commits, deferred deletion of index files, the
    journal of the files it creates, and verified reading of committed files.

    ``durable=False`` is a writer's scratch folder (``MAIN.tmp``): counted by the fault hook,
    never fsynced, not journaled (the folder is)."""

    def __init__(self, path, durable: bool = True):
        super().__init__(str(path))
        self.durable = durable
        self.created: List = []  # StructFiles opened for writing, closed by an aborting writer
        self.recorded: Dict[str, integrity.Entry] = {}  # committed files read so far
        # New segment files synced and summed before the commit (``synced_entry``), as they
        # will stay (a segment file is written once): the commit records these entries.
        self.summed: Dict[str, integrity.Entry] = {}
        self.recorded_segments: Set[str] = set()

    def adopt(self, record: integrity.Record) -> None:
        """Read the files of ``record`` only as that commit wrote them."""
        self.recorded.update(record.files)
        self.recorded_segments |= {m.group(1) for m in map(SEGMENT_FILE.match, record.files)
                                   if m}

    def open_file(self, name, **kwargs):
        entry = self.recorded.get(name)
        if entry is None:
            segment = SEGMENT_FILE.match(name)
            if segment and segment.group(1) in self.recorded_segments:
                raise damaged(self.folder, f"{name}: a file its commit's record does not name")
            return super().open_file(name, **kwargs)

        def damage(what):
            return damaged(self.folder, f"{name}: {what}")

        try:
            raw = integrity.CheckedFile(self._fpath(name), entry, damage)
        except FileNotFoundError:
            raise damage("missing") from None
        return StructFile(io.BufferedReader(raw), name=name, **kwargs)

    def create_file(self, name, excl=False, mode="wb", **kwargs):
        if self.durable:
            note(self.folder, name)
        _io("create", name)
        structfile = super().create_file(name, excl=excl, mode=mode, **kwargs)
        if fault_hook is not None:
            structfile.file = _CountedFile(structfile.file, name)
        self.created.append(structfile)
        return structfile

    def delete_file(self, name):
        if self.durable and (TOC_FILE.match(name) or SEGMENT_FILE.match(name)):
            return  # Whoosh's own clean-up: sweep() removes these when no reader needs them
        _io("delete", name)
        super().delete_file(name)

    def rename_file(self, oldname, newname, safe=False):
        match = TOC_FILE.match(newname)
        if self.durable and match:
            commit_toc(self, oldname, newname, int(match.group(1)))
            return
        _io("rename", newname)
        super().rename_file(oldname, newname, safe=safe)

    def lock(self, name):
        return _OwnLock(self.folder, name)

    def temp_storage(self, name=None):
        name = name or "%s.tmp" % random_name()
        if self.durable:
            note(self.folder, name)
        _io("mkdir", name)
        return DurableStorage(os.path.join(self.folder, name), durable=False).create()

    def destroy(self):
        _io("rmdir", os.path.basename(self.folder))
        super().destroy()

    def close_created(self) -> None:
        """Close every file this storage opened for writing (after a failure: best effort)."""
        for structfile in self.created:
            try:
                structfile.file.close()
            except Exception:
                pass
        self.created = []


class _OwnLock(FcntlLock):
    """Whoosh's lock on a file of the folder, which must be a regular file there (not a link
    out of the folder, which its creation would follow, nor a FIFO, whose opening waits)."""

    def __init__(self, folder: str, name: str):
        super().__init__(os.path.join(folder, name))
        self._folder, self._name = folder, name

    def acquire(self, blocking=False):
        import fcntl

        self.fd = _open_own(self._folder, self._name, os.O_CREAT | os.O_WRONLY)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as error:
            os.close(self.fd)
            self.fd = None
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return False
        self.locked = True
        return True


# -- the journal -------------------------------------------------------------------------------


def note(folder: str, name: str) -> None:
    """Journal that searchkit is about to create ``name`` in ``folder`` (a writer holds the
    lock). Not fsynced: a line lost in a power cut only leaves a file that is never removed."""
    _io("write", JOURNAL)
    fd = _open_own(folder, JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        line = (json.dumps(name) + "\n").encode("utf-8")
        os.write(fd, line if os.fstat(fd).st_size else JOURNAL_HEADER + line)
    finally:
        os.close(fd)


def _open_own(folder: str, name: str, flags: int, mode: int = 0o777) -> int:
    """``os.open`` of searchkit's own file ``name`` of ``folder`` to write it: a symbolic link
    (which would have it write outside the folder), a FIFO or a device there is not searchkit's:
    IndexFolderError."""
    path = os.path.join(folder, name)
    try:
        return integrity.regular(path, flags | getattr(os, "O_NOFOLLOW", 0), mode)
    except integrity.NotAFile:
        pass
    except OSError as error:  # (a link; a FIFO no one reads)
        if error.errno not in (errno.ELOOP, errno.ENXIO):
            raise
    raise IndexFolderError(f"{path} is not searchkit's, but named as one of its files; move it "
                           "out of the index folder")


def _rewrite_journal(folder: str, names: Set[str]) -> None:
    path = os.path.join(folder, JOURNAL)
    if not names:
        _io("delete", JOURNAL)
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        return
    lines = [(json.dumps(name) + "\n").encode("utf-8") for name in sorted(names)]
    replace_whole(folder, JOURNAL, JOURNAL_HEADER + b"".join(lines))


def is_searchkits(folder: str) -> bool:
    """Whether ``folder`` holds searchkit's own journal: a writer started here."""
    try:
        with open(os.path.join(folder, JOURNAL), "rb", opener=integrity.regular) as handle:
            return handle.read(len(JOURNAL_HEADER)) == JOURNAL_HEADER
    except OSError:
        return False


# -- durable commits -------------------------------------------------------------------------


def fsync_dir(folder: str) -> None:
    _io("fsync", ".")
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # e.g. a platform that cannot open folders
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EBADF):  # folders that cannot be synced
            raise
    finally:
        os.close(fd)


def write_new(folder: str, name: str, data: Union[bytes, Callable[[BinaryIO], None]],
              sync: bool = False) -> None:
    """Create ``name`` (journaled first) holding ``data`` (or what ``data(file)`` writes into
    it); ``sync``: fsync it too. The files of a commit are written so before it and fsynced by
    ``commit_toc``. A file of that name that searchkit did not write is never overwritten:
    IndexFolderError."""
    remove_leftover(folder, name)
    note(folder, name)
    _io("create", name)
    with open(os.path.join(folder, name), "xb") as handle:
        _io("write", name)
        if callable(data):
            data(handle)
        else:
            handle.write(data)
        if sync:
            handle.flush()
            _io("fsync", name)
            os.fsync(handle.fileno())


def remove_leftover(folder: str, name: str) -> None:
    """Remove ``name``, a file a stopped run wrote and the sweep could not remove, if it is
    there; IndexFolderError if searchkit did not write it."""
    path = os.path.join(folder, name)
    if os.path.lexists(path):
        if name not in journaled(folder):
            raise IndexFolderError(
                f"{path} is not searchkit's, but named as one of its files; move it out of "
                "the index folder")
        _io("delete", name)
        os.remove(path)


def replace_whole(folder: str, name: str, data: bytes) -> None:
    """Replace ``name`` by ``data``: written aside (``name``.tmp), fsynced, renamed over it, so
    that a crash leaves the old file or the new one. searchkit's one "write aside, then
    rename"; a commit's own files are new files (``write_new``), never replaced."""
    path = os.path.join(folder, name)
    aside = name + ".tmp"
    _io("create", aside)
    with open(path + ".tmp", "xb") as handle:  # (never through a link planted there)
        _io("write", aside)
        handle.write(data)
        handle.flush()
        _io("fsync", aside)
        os.fsync(handle.fileno())
    _io("rename", name)
    os.replace(path + ".tmp", path)


class _Aside:
    """Lets read_toc read a TOC still under its temporary name."""

    def __init__(self, storage, name):
        self._storage = storage
        self._name = name
        self.folder = storage.folder

    def open_file(self, _name, **kwargs):
        return self._storage.open_file(self._name, **kwargs)


def synced_entry(folder: str, name: str, on_disk: Optional[str] = None) -> integrity.Entry:
    """The commit record's entry of the file ``name`` of ``folder`` (``on_disk``: the name it
    has until the commit), synced first."""
    path = os.path.join(folder, on_disk or name)
    return integrity.summarize(path, sync=True, before_sync=lambda: _io("fsync", name))


def synced_entries(folder: str, names: List[str]) -> Dict[str, integrity.Entry]:
    """``synced_entry`` of each of ``names`` (a build's helper takes its segments')."""
    return {name: synced_entry(folder, name) for name in names}


def commit_toc(storage: DurableStorage, temp_name: str, toc_name: str, generation: int) -> None:
    """The commit point, made durable: sync and sum the generation's files, record them, sync
    the folder, rename the TOC into place, sync the folder again, then sweep."""
    folder = storage.folder
    segments = read_toc(_Aside(storage, temp_name), generation).segments
    try:
        known = load_record(folder, generation - 1).files
    except IndexDamagedError:
        known = {}
    names = set(os.listdir(folder))
    known = {**known, **storage.summed}
    # A segment's files are those its writer journaled or an earlier commit recorded: a file
    # named like one that searchkit did not write (a copy, a backup) is not recorded, and so
    # never removed with the segment.
    written = journaled(folder)

    entries = {}
    for segment in segments:
        prefix = segment.segment_id() + "."
        for name in sorted(n for n in names if n.startswith(prefix)
                           and (n in known or n in written)):
            entries[name] = known.get(name) or synced_entry(folder, name)
    listing = side_file("segments", generation)
    write_new(folder, listing, segments_record(segments, generation))
    names.add(listing)
    for kind in SIDE_FILES:
        name = side_file(kind, generation)
        if name in names:
            entries[name] = synced_entry(folder, name)
    entries[toc_name] = synced_entry(folder, toc_name, on_disk=temp_name)
    data = integrity.encode(integrity.Record(generation, entries))
    write_new(folder, record_file(generation), data, sync=True)
    fsync_dir(folder)
    _io("rename", toc_name)
    if os.path.exists(os.path.join(folder, toc_name)):
        raise NameError(f"File {toc_name!r} exists")
    os.rename(os.path.join(folder, temp_name), os.path.join(folder, toc_name))
    storage.created = []
    # The commit has landed: what follows may fail without undoing it.
    try:
        fsync_dir(folder)
        sweep(folder, keep_scratch=True)
    except OSError:
        pass


def segments_record(segments, generation: int) -> bytes:
    """The generation's segments as the TOC holds them (documents, deletions, field length
    totals), as JSON: what a searcher needs of the TOC without unpickling it."""
    return json.dumps({
        "generation": generation,
        "segments": [
            {
                "id": segment.segment_id(),
                "doc_count": segment.doc_count_all(),
                "deleted": sorted(segment.deleted_docs()) if segment.has_deletions() else [],
                "field_lengths": dict(getattr(segment, "_fieldlengths", {})),
            }
            for segment in segments
        ],
    }, sort_keys=True).encode("ascii")


# -- reading commits ---------------------------------------------------------------------------


def check_files(folder: str, record: integrity.Record, toc) -> None:
    """Whether the record and the TOC agree on the segments' files and each of them is there
    with its committed size (its bytes are checked as they are read)."""
    listed = {m.group(1) for m in map(SEGMENT_FILE.match, record.files) if m}
    ids = {segment.segment_id() for segment in toc.segments}
    if listed != ids:
        missing = sorted(ids - listed)
        raise _damaged(folder, record_file(record.generation),
                       f"names other segments than its table of contents ({', '.join(missing)}"
                       f"{' missing' if missing else ''})")
    integrity.check_sizes(folder, record)


SKIP_SCHEMA = None  # read_toc's ``schema`` for callers that need the segments only


def read_toc(storage, generation: int, schema=SKIP_SCHEMA, check_schema: bool = False,
             record: Optional[integrity.Record] = None):
    """The TOC of ``generation`` as Whoosh's TOC.read gives it, without Whoosh's unpickling:
    the segment list goes through the allow-list (safepickle) and must be W3 segments of this
    index; with ``check_schema`` the schema does too and must be searchkit's (``schema``
    otherwise stands in for it, unread). With the commit's ``record``, the file must be the
    one committed. IndexDamagedError for anything else."""
    name = f"_{INDEX_NAME}_{generation}.toc"
    if isinstance(storage, str):
        storage = FileStorage(storage)
    if record is not None:
        data = read_committed(storage.folder, generation, name)
        if data is None:
            raise _damaged(storage.folder, record_file(generation), f"does not name {name}")
    else:
        with storage.open_file(name) as stream:
            data = stream.read()
    try:
        return _parse_toc(data, generation, schema, check_schema)
    except IndexDamagedError:
        raise
    except Exception as error:  # struct, EOF, pickle, value errors of a damaged file
        raise _damaged(storage.folder, name, f"cannot be read ({type(error).__name__})") from None


def _parse_toc(data: bytes, generation: int, schema, check_schema: bool):
    """Whoosh's TOC format (whoosh.index.TOC.write): the machine's number sizes, a check
    number, the format version, Whoosh's release, the pickled schema, the generation, an
    unused int, the pickled segment list."""
    stream = StructFile(io.BytesIO(data))
    sizes = [stream.read_varint() for _ in range(3)]
    if sizes != [_INT_SIZE, _LONG_SIZE, _FLOAT_SIZE] or stream.read_int() != -12345:
        raise ValueError("not a table of contents of this machine's Whoosh")
    version = stream.read_int()
    if version != _CURRENT_TOC_VERSION:
        raise ValueError(f"table of contents format {version}")
    release = tuple(stream.read_varint() for _ in range(3))
    pickled_schema = stream.read_string()
    if check_schema:
        schema = safepickle.loads(pickled_schema)
        if not schema_module.matches(schema):
            raise IndexDamagedError(safepickle.UNSAFE)
    if stream.read_int() != generation:
        raise ValueError("the generation differs from the file name's")
    stream.read_int()  # unused
    segments = safepickle.load(stream.file)
    if stream.read(1):
        raise ValueError("bytes after the segment list")
    _check_segments(segments)
    return TOC(schema, segments, generation, version=version, release=release)


_SEGMENT_STATE = {"indexname", "segid", "_codec", "_doccount", "_deleted", "compound",
                  "_fieldlengths"}
_SEGMENT_ID = re.compile(r"^[0-9a-z]{1,64}$")


def _check_segments(segments) -> None:
    """Refuse a segment list that is not W3 segments as searchkit's writers make them."""
    if type(segments) is not list:
        raise IndexDamagedError(safepickle.UNSAFE)
    for segment in segments:
        state = getattr(segment, "__dict__", {})
        codec = state.get("_codec")
        deleted = state.get("_deleted")
        lengths = state.get("_fieldlengths")
        doccount = state.get("_doccount")
        if not (
            type(segment) is W3Segment
            and set(state) == _SEGMENT_STATE
            and segment.indexname == INDEX_NAME
            and type(segment.segid) is str and _SEGMENT_ID.match(segment.segid)
            and segment.compound is False
            and type(codec) is W3Codec
            and all(type(getattr(codec, a, None)) is int
                    for a in ("_blocklimit", "_compression", "_inlinelimit"))
            and type(doccount) is int and doccount >= 0
            and (deleted is None or (type(deleted) is set and all(
                type(d) is int and 0 <= d < doccount for d in deleted)))
            and isinstance(lengths, dict)
            and all(type(k) is str and type(v) is int and v >= 0 for k, v in lengths.items())
        ):
            raise IndexDamagedError(safepickle.UNSAFE)


# -- leftovers ---------------------------------------------------------------------------------


def _listdir(folder: str) -> List[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


class Folder:
    """What an index folder holds, by what searchkit can prove of each file."""

    def __init__(self):
        self.kept: List[int] = []  # the current commit, and recent ones
        self.superseded: List[str] = []  # files of commits no reader needs
        self.strays: List[str] = []  # journaled, in no kept commit
        self.unreadable = False  # a kept commit's record cannot be read: remove nothing

    @property
    def removable(self) -> List[str]:
        return [] if self.unreadable else sorted(self.superseded + self.strays)


def classify(folder: str, now: Optional[float] = None) -> Folder:
    """Sort the folder's files: those of kept commits (the current one and those superseded
    less than KEEP_SUPERSEDED_SECONDS ago) stay; those of older commits (named by their
    records), and journaled ones no kept commit holds, may go."""
    now = time.time() if now is None else now
    names = set(_listdir(folder))
    gens = generations(folder)
    state = Folder()
    if gens:
        state.kept = [gens[-1]]
        for older, newer in zip(gens, gens[1:]):
            try:
                superseded = os.path.getmtime(os.path.join(folder, f"_MAIN_{newer}.toc"))
            except OSError:
                continue
            if now - superseded < KEEP_SUPERSEDED_SECONDS:
                state.kept.append(older)
        state.kept.sort()
    needed = {LOCK_FILE, JOURNAL}
    old = set()
    legacy = set()  # whether each commit of an older searchkit is kept
    current = gens[-1] if gens else -1
    pending = journaled(folder)
    for name in names:
        match = RECORD_FILE.match(name)
        if not match:
            continue
        generation = int(match.group(1))
        files, this_version = record_names(folder, name, generation)  # None: not a record
        if generation > current and name not in pending:
            if files is not None:
                state.unreadable = True  # a commit whose TOC is gone: damage, touch nothing
            continue
        if files is None:
            if generation in state.kept:
                state.unreadable = True
            continue
        if not this_version:
            legacy.add(generation in state.kept)
        (needed if generation in state.kept else old).update(files | {name})
    if any(record_file(g) not in names for g in state.kept):
        state.unreadable = True
    if legacy == {False}:  # commits of an older searchkit, none kept: their shared files go
        old.update(LEGACY_FILES)
    old = {n for n in old if searchkit_name(n) or n in LEGACY_FILES}
    state.superseded = sorted((old & names) - needed)
    state.strays = sorted((pending & names) - needed - old)
    return state


def sweep(folder: str, keep_scratch: bool = False) -> List[str]:
    """Remove the files of superseded commits no reader needs any more and the journaled
    leftovers of crashed or failed writers. Only call it while holding the write lock.
    ``keep_scratch`` leaves ``*.tmp`` folders (a running writer's own). Returns the names
    removed."""
    state = classify(folder)
    removed, kept = [], set()
    aside = os.path.join(folder, JOURNAL + ".tmp")
    if os.path.lexists(aside):  # a journal rewrite a crash cut short
        _io("delete", JOURNAL + ".tmp")
        os.remove(aside)
    # Records last: until then, a record names what is left of its commit.
    for name in sorted(state.removable, key=lambda n: bool(RECORD_FILE.match(n))):
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            if keep_scratch:
                kept.add(name)
                continue
            _io("rmdir", name)
            shutil.rmtree(path)
        else:
            _io("delete", name)
            os.remove(path)
        removed.append(name)
    if not state.unreadable:
        pending = {n for n in journaled(folder) if n in kept}
        if pending != journaled(folder):
            _rewrite_journal(folder, pending)
    return removed


# -- merging -----------------------------------------------------------------------------------


def INCREMENTAL_MERGE(writer, segments):
    """Merge policy for incremental commits: drop segments whose documents are all deleted;
    once MERGE_AT segments of at most SMALL_SEGMENT_DOCS documents have piled up, or one is
    mostly deleted, merge those small or mostly-deleted segments into one (``merged``),
    smallest first, until MERGE_BUDGET_DOCS documents are re-read; leave the others alone.
    Bounds the work of one commit whatever the size of the index."""
    gone = [s for s in segments if s.doc_count() == 0]
    candidates = sorted(
        (s for s in segments
         if s.doc_count() > 0
         and (s.doc_count_all() <= SMALL_SEGMENT_DOCS or s.doc_count() * 2 <= s.doc_count_all())
         and s.doc_count_all() <= MERGE_BUDGET_DOCS),
        key=lambda s: s.doc_count_all(),
    )
    mostly_deleted = any(s.doc_count() * 2 <= s.doc_count_all() for s in candidates)
    chosen = []
    if len(candidates) >= MERGE_AT or mostly_deleted:
        budget = MERGE_BUDGET_DOCS
        for segment in candidates:
            if segment.doc_count_all() > budget:
                break
            chosen.append(segment)
            budget -= segment.doc_count_all()
    picked = {s.segment_id() for s in chosen}
    dropped = picked | {s.segment_id() for s in gone}
    kept = [s for s in segments if s.segment_id() not in dropped]
    # (in their order in the index, as Whoosh's writer would have re-read them)
    together = merged(writer, [s for s in segments if s.segment_id() in picked]) if chosen else None
    return kept + ([together] if together is not None else [])


def merged(writer, segments, tick=None) -> Optional[W3Segment]:
    """The live paragraphs of ``segments`` (of the commit the writer started from) merged
    into one new segment in the writer's storage (``bulkmerge``; ``tick`` as its), or None
    if none is live."""
    from . import bulkmerge, rankarrays

    folder = writer.storage.folder
    base = writer.generation - 1

    def arrays_of(segment):
        name = segment.segment_id() + rankarrays.EXTENSION
        checked = integrity.map_committed(folder, base, name)
        if checked is None:
            raise damaged(folder, f"{name}: a file its commit's record does not name")
        return rankarrays.SegmentArrays(os.path.join(folder, name), checked)

    try:
        return bulkmerge.merge_segments(writer.storage, writer.schema, segments, arrays_of,
                                        indexname=writer.indexname, tick=tick)
    except (OSError, MemoryError, IndexDamagedError):
        raise  # (a full disk stays a full disk)
    except ValueError as error:  # the files' bytes are as committed, but not as written
        raise damaged(folder, str(error)) from None
    except Exception as error:  # struct, pickle, index errors of Whoosh's readers on them
        raise damaged(folder, f"its segments cannot be merged ({type(error).__name__})") \
            from None
