"""Crash-safe file handling under Whoosh: durable commits, checksums, leftover sweeping and the
merge policy for incremental commits. ``store`` is the API over it; nothing else uses it.

A commit is the rename of a temporary TOC file to ``_MAIN_<generation>.toc``. Before that rename
every new segment file of the generation and the TOC itself are fsynced, their SHA-256 sums are
written to ``checksums-<generation>.json`` (fsynced), and the directory is fsynced; after it the
directory is fsynced again. Whoosh segment files are written once and never changed (deletions
are recorded in the TOC's pickled segment list), so a file's sum is taken once and carried
over from generation to generation.

Whoosh deletes the files a commit superseded right away, which breaks a searcher that opened the
previous generation and has not opened all its files yet (column files are opened lazily). Here
index files are only removed by ``sweep``, under the write lock: files of no TOC at all (a crashed
or failed writer's), temporary TOCs and ``*.tmp`` folders at once, and a superseded generation
``KEEP_SUPERSEDED_SECONDS`` after the commit that replaced it.
"""

import errno
import hashlib
import io
import json
import os
import re
import shutil
import time
from typing import Dict, List, Optional, Tuple

from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import _CURRENT_TOC_VERSION, TOC
from whoosh.reading import SegmentReader
from whoosh.system import _FLOAT_SIZE, _INT_SIZE, _LONG_SIZE
from whoosh.util import random_name

from . import safepickle
from . import schema as schema_module
from .errors import IndexDamagedError

safepickle.install()  # Whoosh reads segment data through the allow-list from here on

INDEX_NAME = "MAIN"  # Whoosh's default index name
LOCK_FILE = "MAIN_WRITELOCK"
TOC_FILE = re.compile(r"^_MAIN_([0-9]+)\.toc$")
TEMP_TOC_FILE = re.compile(r"^_MAIN_([0-9]+)\.toc\..+$")
SEGMENT_FILE = re.compile(r"^(MAIN_[0-9a-z]+)\.")  # as whoosh.index.TOC._segment_pattern
CHECKSUMS_FILE = re.compile(r"^checksums-([0-9]+)\.json$")
CHECKSUMS_ASIDE = re.compile(r"^checksums-([0-9]+)\.json\.tmp$")
LEDGER_FILE = re.compile(r"^files-([0-9]+)\.json$")  # see ledger.py

# A generation a commit replaced stays readable this long (for searchers that opened it).
KEEP_SUPERSEDED_SECONDS = 120.0

# Incremental commits leave segments of over SMALL_SEGMENT_DOCS documents alone. Once
# MERGE_AT small ones have piled up (or one is mostly deleted), the small ones are merged into
# the segment being written, smallest first, re-reading at most MERGE_BUDGET_DOCS documents.
# Whoosh merges a few hundred paragraphs a second (bench/commit_time.py: merging is several
# times slower than writing new ones), so merging adds seconds to a commit at most, where
# Whoosh's MERGE_SMALL may one day re-read the whole index. Big segments pile up one per big
# run: `searchkit optimize` merges everything.
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
    """Whoosh's FileStorage with durable commits and deferred deletion of index files.

    ``durable=False`` is a writer's scratch folder (``MAIN.tmp``): counted by the fault hook,
    never fsynced."""

    def __init__(self, path, durable: bool = True):
        super().__init__(str(path))
        self.durable = durable
        self.created: List = []  # StructFiles opened for writing, closed by an aborting writer

    def create_file(self, name, excl=False, mode="wb", **kwargs):
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

    def temp_storage(self, name=None):
        name = name or "%s.tmp" % random_name()
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


# -- durable commits -------------------------------------------------------------------------


def fsync_file(path: str) -> None:
    _io("fsync", os.path.basename(path))
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def sha256_of(path: str, sync: bool = False) -> str:
    """The file's SHA-256 in hex; with ``sync``, fsync it as well."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        if sync:
            _io("fsync", os.path.basename(path))
            os.fsync(handle.fileno())
    return digest.hexdigest()


def write_durably(folder: str, name: str, data: bytes) -> None:
    """Write ``name`` aside, fsync it, rename it into place (a reader sees old or new)."""
    aside = os.path.join(folder, name + ".tmp")
    _io("create", name + ".tmp")
    with open(aside, "wb") as handle:
        _io("write", name + ".tmp")
        handle.write(data)
        handle.flush()
        _io("fsync", name + ".tmp")
        os.fsync(handle.fileno())
    _io("rename", name)
    os.replace(aside, os.path.join(folder, name))


class _Aside:
    """Lets read_toc read a TOC still under its temporary name."""

    def __init__(self, storage, name):
        self._storage = storage
        self._name = name
        self.folder = storage.folder

    def open_file(self, _name, **kwargs):
        return self._storage.open_file(self._name, **kwargs)


def read_checksums(folder: str, generation: int) -> Optional[Dict[str, str]]:
    try:
        with open(os.path.join(folder, f"checksums-{generation}.json"), encoding="utf-8") as f:
            return dict(json.load(f)["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def commit_toc(storage: DurableStorage, temp_name: str, toc_name: str, generation: int) -> None:
    """The commit point, made durable: sync and sum the generation's new files, record the
    sums, sync the folder, rename the TOC into place, sync the folder again, then sweep."""
    folder = storage.folder
    segments = read_toc(_Aside(storage, temp_name), generation).segments
    known = read_checksums(folder, generation - 1) or {}
    names = sorted(os.listdir(folder))
    sums = {}
    for segment in segments:
        prefix = segment.segment_id() + "."
        for name in (n for n in names if n.startswith(prefix)):
            sums[name] = known.get(name) or sha256_of(os.path.join(folder, name), sync=True)
    fsync_file(os.path.join(folder, temp_name))
    record = {"generation": generation, "algorithm": "sha256", "files": sums}
    write_durably(folder, f"checksums-{generation}.json", json.dumps(record, indent=1).encode())
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


# -- leftovers ---------------------------------------------------------------------------------


def generations(folder: str) -> List[int]:
    return sorted(int(m.group(1)) for m in map(TOC_FILE.match, _listdir(folder)) if m)


def _listdir(folder: str) -> List[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


SKIP_SCHEMA = None  # read_toc's ``schema`` for callers that need the segments only


def read_toc(storage, generation: int, schema=SKIP_SCHEMA, check_schema: bool = False):
    """The TOC of ``generation`` as Whoosh's TOC.read gives it, without Whoosh's unpickling:
    the segment list goes through the allow-list (safepickle) and must be W3 segments of this
    index; with ``check_schema`` the schema does too and must be searchkit's (``schema``
    otherwise stands in for it, unread). IndexDamagedError for anything else."""
    name = f"_{INDEX_NAME}_{generation}.toc"
    if isinstance(storage, str):
        storage = FileStorage(storage)
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


def _damaged(folder: str, name: str, what: str) -> IndexDamagedError:
    return IndexDamagedError(damage_message(folder, f"{name} {what}"))


def damage_message(folder: str, damage: str) -> str:
    """One line: what is damaged, how to see all of it and how to repair it."""
    return (f"the index in {folder} is damaged ({damage}); `searchkit check --index {folder}` "
            f"lists what is wrong; rebuild it: searchkit index PATHS --index {folder} --rebuild")


def classify(folder: str, now: Optional[float] = None) -> Tuple[List[int], List[str]]:
    """(generations kept: the current one and those superseded less than
    KEEP_SUPERSEDED_SECONDS ago; names of the leftovers a sweep removes)."""
    now = time.time() if now is None else now
    names = _listdir(folder)
    gens = generations(folder)
    if not gens:
        return [], []
    current = gens[-1]
    kept = [current]
    for older, newer in zip(gens, gens[1:]):
        try:
            superseded = os.path.getmtime(os.path.join(folder, f"_MAIN_{newer}.toc"))
        except OSError:
            continue
        if now - superseded < KEEP_SUPERSEDED_SECONDS:
            kept.append(older)
    referenced = set()
    for generation in list(kept):
        try:
            referenced |= {s.segment_id() for s in read_toc(folder, generation).segments}
        except Exception:
            if generation == current:
                return kept, []  # the current TOC cannot be read: remove nothing
            kept.remove(generation)
    leftovers = []
    for name in names:
        toc = TOC_FILE.match(name)
        segment = SEGMENT_FILE.match(name)
        sums = CHECKSUMS_FILE.match(name)
        if toc:
            if int(toc.group(1)) not in kept:
                leftovers.append(name)
        elif TEMP_TOC_FILE.match(name) or CHECKSUMS_ASIDE.match(name) or name.endswith(
            (".json.tmp", ".tsv.tmp")
        ):  # a file written aside (settings, ledger, vocabulary, stems) by a stopped run
            leftovers.append(name)
        elif segment:
            if segment.group(1) not in referenced:
                leftovers.append(name)
        elif sums:
            if int(sums.group(1)) not in kept:
                leftovers.append(name)
        elif LEDGER_FILE.match(name):
            if int(LEDGER_FILE.match(name).group(1)) != current:
                leftovers.append(name)
        elif name.endswith(".tmp") and os.path.isdir(os.path.join(folder, name)):
            leftovers.append(name)
    return sorted(kept), sorted(leftovers)


def sweep(folder: str, keep_scratch: bool = False) -> List[str]:
    """Remove the leftovers of crashed or failed writers and expired generations. Only call it
    while holding the write lock. ``keep_scratch`` leaves ``*.tmp`` folders (a running writer's
    own). Returns the names removed."""
    removed = []
    for name in classify(folder)[1]:
        path = os.path.join(folder, name)
        if os.path.isdir(path):
            if keep_scratch:
                continue
            _io("rmdir", name)
            shutil.rmtree(path)
        else:
            _io("delete", name)
            os.remove(path)
        removed.append(name)
    return removed


# -- merging -----------------------------------------------------------------------------------


def INCREMENTAL_MERGE(writer, segments):
    """Merge policy for incremental commits: drop segments whose documents are all deleted;
    once MERGE_AT segments of at most SMALL_SEGMENT_DOCS documents have piled up, or one is
    mostly deleted, merge those small or mostly-deleted segments into the segment being
    written, smallest first, until MERGE_BUDGET_DOCS documents are re-read; leave the others
    alone. Bounds the work of one commit whatever the size of the index."""
    gone = [s for s in segments if s.doc_count() == 0]
    candidates = sorted(
        (s for s in segments
         if s.doc_count() > 0
         and (s.doc_count_all() <= SMALL_SEGMENT_DOCS or s.doc_count() * 2 <= s.doc_count_all())
         and s.doc_count_all() <= MERGE_BUDGET_DOCS),
        key=lambda s: s.doc_count_all(),
    )
    mostly_deleted = any(s.doc_count() * 2 <= s.doc_count_all() for s in candidates)
    merged = []
    if len(candidates) >= MERGE_AT or mostly_deleted:
        budget = MERGE_BUDGET_DOCS
        for segment in candidates:
            if segment.doc_count_all() > budget:
                break
            merged.append(segment)
            budget -= segment.doc_count_all()
    for segment in merged:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        try:
            writer.add_reader(reader)
        finally:
            reader.close()
    dropped = {s.segment_id() for s in gone + merged}
    return [s for s in segments if s.segment_id() not in dropped]
