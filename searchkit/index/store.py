"""The index directory: whether an index is there, whether it fits this version, opening it,
and writing it safely. The only module that opens Whoosh writers' locks and commits them.

Beside Whoosh's files, each commit has its own settings (schema version, analyzer: an index
built with other settings is refused with a request to rebuild it), file ledger, vocabulary,
stems table and near-duplicate index (``read_committed``, ``write_committed``).

What writing promises (the mechanics are in ``durable``):

* a commit is all or nothing, also on a crash (SIGKILL, power loss: it is fsynced);
* one writer at a time: the others wait at most ``wait`` seconds, then IndexLockedError;
* an error writing (a full disk, a read-only folder, no permission) is an IndexWriteError,
  and leaves the previous index as it was, unlocked, without the failed run's files;
* the leftovers of crashed writers are removed, under the lock, when the next writer starts,
  and nothing searchkit cannot prove it wrote (IndexFolderError for a folder of other files);
* readers never see a half commit and may keep using the generation they opened for
  ``durable.KEEP_SUPERSEDED_SECONDS`` after it was replaced;
* every file of a commit is recorded with its checksums; readers use only the bytes
  recorded (IndexDamagedError otherwise), and ``check`` verifies every byte.
"""

import errno
import json
import os
import time
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Tuple, Union

from whoosh import writing
from whoosh.index import TOC, FileIndex

from ..config import LOCK_WAIT  # how long a writer waits for another one (--wait)
from ..errors import IndexDamagedError, IndexFolderError, IndexLockedError, IndexMissingError
from ..errors import IndexSettingsError, IndexWriteError, SearchkitError
from ..model import CheckReport, OptimizeSummary
from . import durable, integrity, layout, ledger
from .codec import BuildCodec
from .layout import (
    SETTINGS,
    check_compatible,
    committed_copy,
    exists,
    has_commit,
    latest_generation,
    map_committed,
    next_generation,
    read_committed,
    read_settings,
)

INCREMENTAL_MERGE = durable.INCREMENTAL_MERGE  # the merge policy of non-fresh commits
_OPEN_RETRIES = 8  # opening the index races with commits: retry this often
# How much of its postings a writer keeps in memory before spilling them into run files merged
# at the commit: enough for a large corpus to need no runs (figures in bench/README.md).
WRITER_LIMIT_MB = 512


def state(index_dir: Path) -> Tuple[int, Optional[int]]:
    """(the newest commit's number or -1, its paragraphs or None if it cannot be read)."""
    generation = layout.newest_generation(index_dir)
    if generation < 0:
        return generation, None
    try:
        toc = durable.read_toc(storage(index_dir), generation)
    except Exception:  # noqa: BLE001 - a damaged index: its count is unknown
        return generation, None
    return generation, sum(s.doc_count() for s in toc.segments)


def write_committed(index_dir: Path, generation: int, kind: str,
                    data: Union[bytes, Callable[[BinaryIO], None]]) -> None:
    """Write commit ``generation``'s side file of ``kind`` (``durable.SIDE_FILES``) before
    that commit (it fsyncs and records them); ``data``: its bytes, or what writes them."""
    durable.write_new(str(index_dir), durable.side_file(kind, generation), data)


def settings_data(extra: dict) -> bytes:
    return json.dumps({**SETTINGS, **extra}, indent=2, default=str).encode("utf-8")


def write_settings(writer, extra: dict) -> None:
    """Record this version's settings and ``extra`` as those of the commit ``writer`` is about
    to make (an OSError is left to ``cancel``, which knows whether the commit landed)."""
    write_committed(writer.storage.folder, writer.generation, "settings", settings_data(extra))


def inside(path: str, folder: str) -> bool:
    """Whether ``path`` is ``folder`` or under it (both real paths, as strings)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def check_folder(index_dir: Path, paths=()) -> None:
    """IndexFolderError unless ``index_dir`` may hold an index built from ``paths``: it is new,
    empty (hidden entries aside) or searchkit's, and neither inside one of ``paths`` nor
    holding one."""
    index_dir = Path(index_dir)
    where = os.path.realpath(index_dir)
    for path in paths:
        source = os.path.realpath(path)
        if inside(where, source):
            raise IndexFolderError(
                f"the index folder {index_dir} is inside {path}, which is being indexed; "
                "keep the index elsewhere (--index DIR)")
        if inside(source, where):  # (the same folder: refused above)
            raise IndexFolderError(
                f"{path} is inside the index folder {index_dir}; index files kept elsewhere")
    try:
        names = [n for n in os.listdir(index_dir) if not n.startswith(".")]
    except FileNotFoundError:
        return
    except NotADirectoryError:
        if index_dir.is_file():
            raise IndexFolderError(f"{index_dir} is a file, not a folder; give a folder") from None
        raise IndexFolderError(f"{index_dir}: Not a directory") from None
    except OSError as error:
        raise _write_error(index_dir, error) from None
    if not names or names == [durable.LOCK_FILE]:
        return
    folder = str(index_dir)
    if durable.is_searchkits(folder) or (exists(index_dir) and any(
            layout.RECORD_FILE.match(n) or layout.SIDE_FILE.match(n)
            or n == durable.LEGACY_FILES[0] for n in names)):
        return
    raise IndexFolderError(
        f"{index_dir} is not empty and is not a searchkit index; give an empty or new folder")


def make_folder(index_dir: Path) -> None:
    """Create the index folder and its parents if need be; IndexWriteError if it cannot be."""
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _write_error(index_dir, error) from None


class _Index(FileIndex):
    """Whoosh's FileIndex reading its TOC with ``durable.read_toc`` (no code run from it: see
    safepickle) and its files only as their commit recorded them, retrying when a concurrent
    commit swaps the files it is opening."""

    def __init__(self, storage, schema=None, indexname=durable.INDEX_NAME):
        self.storage = storage
        self._schema = schema
        self.indexname = indexname
        self._schemas = {}  # generation -> its schema, read and checked once
        self._read_toc()  # as Whoosh's: an index that cannot be read fails here

    def _read_toc(self):
        return _retrying(self._read_latest_toc)

    def latest_generation(self):
        return latest_generation(self.storage.folder)  # (a commit's lost TOC is damage)

    def _read_latest_toc(self):
        generation = self.latest_generation()
        if generation < 0:
            raise IndexMissingError(f"no index in {self.storage.folder}")
        return self.read_generation(generation)

    def read_generation(self, generation: int):
        """The TOC of commit ``generation``, checked; its files read only as committed."""
        folder = self.storage.folder
        record = durable.load_record(folder, generation)
        known = self._schema or self._schemas.get(generation)
        toc = durable.read_toc(self.storage, generation, known, check_schema=known is None,
                               record=record)
        if generation not in self._schemas:
            durable.check_files(folder, record, toc)
            self.storage.adopt(record)
            self._schemas[generation] = toc.schema
        return toc

    def reader(self, reuse=None):
        return _retrying(lambda: FileIndex.reader(self, reuse=reuse))


def _retrying(action):
    for attempt in range(_OPEN_RETRIES):
        try:
            return action()
        except (OSError, EOFError):
            if attempt == _OPEN_RETRIES - 1:
                raise
            time.sleep(0.02 * (attempt + 1))


def storage(index_dir: Path) -> durable.DurableStorage:
    return durable.DurableStorage(str(index_dir))


def _open(index_dir: Path) -> _Index:
    return _retrying(lambda: storage(index_dir).open_index(indexclass=_Index))


def open_index(index_dir: Path, check_settings: bool = True):
    """The Whoosh index in ``index_dir``, checked (unless ``check_settings`` is false: the
    indexer, before it records them); IndexMissingError if there is none."""
    if not exists(index_dir):
        raise IndexMissingError(
            f"no index in {index_dir}; build one with: searchkit index PATHS --index {index_dir}"
        )
    if check_settings:
        check_compatible(index_dir)
    try:
        return _open(index_dir)
    except SearchkitError:
        raise
    except Exception as error:  # Whoosh raises assorted errors for damaged files
        raise durable.damaged(
            str(index_dir), f"it cannot be opened: {type(error).__name__}") from None


def open_searcher(index_dir: Path, generation: int, weighting):
    """A Whoosh searcher on commit ``generation`` of the index exactly (the one a searchkit
    Searcher opened the ranking arrays of), with ``weighting``."""
    from whoosh.searching import Searcher

    ix = open_index(index_dir, check_settings=False)
    try:
        toc = _retrying(lambda: ix.read_generation(generation))
        reader = _retrying(lambda: FileIndex._reader(ix.storage, toc.schema, toc.segments,
                                                     toc.generation))
    except SearchkitError:
        raise
    except Exception as error:  # Whoosh raises assorted errors for damaged files
        raise durable.damaged(
            str(index_dir), f"it cannot be opened: {type(error).__name__}") from None
    return ix, Searcher(reader, fromindex=ix, weighting=weighting)


def create_index(index_dir: Path, schema, wait: float = LOCK_WAIT):
    """A new, empty index with ``schema`` in ``index_dir``, committed durably under the lock.

    In a new or empty folder it is commit 0; over an existing index (a rebuild of one built
    with other settings, or damaged) it is the next commit, so that readers and a crash see
    the old index or the new one. IndexFolderError for a folder that holds other files."""
    index_dir = Path(index_dir)
    folder = str(index_dir)
    check_folder(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = _acquire(storage(index_dir), index_dir, wait)
    except OSError as error:
        raise _write_error(index_dir, error) from None
    try:
        durable.sweep(folder)
        generation = next_generation(index_dir)
        if generation == 0:
            try:
                durable.fsync_dir(str(index_dir.resolve().parent))  # the new folder's entry
            except OSError:
                pass  # best effort: a parent folder we may not open
        write_committed(index_dir, generation, "settings", settings_data(_kept_settings(index_dir)))
        TOC(schema, [], generation).write(storage(index_dir), durable.INDEX_NAME)
    except OSError as error:
        _sweep_quietly(folder)
        raise _write_error(index_dir, error) from None
    finally:
        lock.release()
    return _open(index_dir)


def _kept_settings(index_dir: Path) -> dict:
    """What a new index keeps of the settings of one it replaces: a chosen threshold."""
    try:
        recorded = read_settings(index_dir)
    except SearchkitError:
        return {}
    return {k: v for k, v in recorded.items() if k == "dedup_threshold"}


def read_ledger(index_dir: Path, generation: int):
    """The file ledger of commit ``generation``; IndexDamagedError if it is missing or
    damaged."""
    data = read_committed(index_dir, generation, "ledger")
    name = durable.side_file("ledger", generation)
    try:
        if data is None:
            raise ValueError(f"missing from the record of commit {generation}")
        return ledger.from_bytes(data)
    except ValueError as error:
        raise durable.damaged(str(index_dir), f"{name}: {error}") from None


def _acquire(store: durable.DurableStorage, index_dir: Path, wait: float):
    """The write lock, waiting at most ``wait`` seconds for it; IndexLockedError if busy."""
    lock = store.lock(durable.LOCK_FILE)
    until = time.monotonic() + max(wait, 0)
    while not lock.acquire():
        if time.monotonic() >= until:
            raise IndexLockedError(
                f"the index in {index_dir} is busy: another searchkit process is writing it; "
                "try again later or pass --wait SECONDS"
            )
        time.sleep(min(0.1, max(until - time.monotonic(), 0.01)))
    return lock


def open_writer(ix, wait: float = LOCK_WAIT):
    """A Whoosh writer on ``ix`` holding the write lock (waiting at most ``wait`` seconds for
    it), after the leftovers of crashed writers were swept. Finish it with ``commit`` or
    ``cancel``."""
    index_dir = Path(ix.storage.folder)
    try:
        lock = _acquire(ix.storage, index_dir, wait)
    except OSError as error:
        raise _write_error(index_dir, error) from None
    try:
        _sweep_quietly(str(index_dir))
        # BuildCodec: Whoosh's W3 files, with field lengths looked up faster at commit
        writer = ix.writer(_lk=False, limitmb=WRITER_LIMIT_MB, compound=False,
                           codec=BuildCodec())
    except BaseException as error:
        _sweep_quietly(str(index_dir))
        lock.release()
        if isinstance(error, OSError):
            raise _write_error(index_dir, error) from None
        raise
    writer.writelock = lock  # released by the writer's commit or cancel
    return writer


def tidy(ix, wait: float = LOCK_WAIT) -> None:
    """Remove the leftovers of stopped runs (under the lock) if there are any: for a run that
    has nothing to commit. A busy index is left for its writer to tidy."""
    if not durable.classify(ix.storage.folder).removable:
        return
    try:
        writer = open_writer(ix, wait=wait)  # it sweeps once it holds the lock
    except IndexLockedError:
        return
    cancel(writer)


def commit(writer, clear: bool = False, mergetype=None, segments=(), without=(),
           written=()) -> None:
    """Commit durably. ``clear``: the new documents replace everything (a fresh build);
    otherwise small segments are merged in (INCREMENTAL_MERGE), or as ``mergetype`` says.
    ``segments``: segments written beside the writer into its storage (bulkwrite),
    committed after the existing ones and before the writer's own. ``written``: the kinds of
    side files (settings, ledger, vocabulary, stems, near-duplicate index) the writer wrote
    for this commit; a file of another kind already named for this generation is a stopped
    run's leftover the sweep could not remove, and is removed, never recorded. The commit
    keeps the previous one's side files where the writer wrote none of its own, except the
    kinds in ``without``. On failure call ``cancel``."""
    folder = writer.storage.folder
    for kind in durable.SIDE_FILES:
        if kind != "segments" and kind not in written:  # commit_toc writes "segments"
            durable.remove_leftover(folder, durable.side_file(kind, writer.generation))
    base = writer.generation - 1  # the commit the writer started from, under the lock
    carried = [kind for kind in durable.SIDE_FILES
               if kind != "segments"]  # durable.commit_toc writes each commit's own list
    for kind in carried:
        if base >= 0 and kind not in without and kind not in written:
            # (copied a piece at a time: a large index's grouping file is never held whole)
            copy = committed_copy(folder, base, kind)
            if copy is not None:
                write_committed(folder, writer.generation, kind, copy)
    policy = mergetype or (writing.CLEAR if clear else INCREMENTAL_MERGE)

    def with_segments(writer_, existing):
        return policy(writer_, existing) + list(segments)

    writer.commit(mergetype=with_segments)


def cancel(writer, error: Optional[BaseException] = None) -> None:
    """Abandon ``writer`` after ``error``: close its files, remove what it wrote (under its
    lock) and release the lock, even if Whoosh's own cancel fails.
    Raises IndexWriteError instead of an OSError (a full disk, a read-only folder...)."""
    index_dir = Path(writer.storage.folder)
    if not writer.is_closed:
        _abort(writer)
    if isinstance(error, OSError):
        landed = layout.newest_generation(index_dir) >= writer.generation
        raise _write_error(index_dir, error, landed=landed) from None


def _abort(writer) -> None:
    lock, writer.writelock = writer.writelock, None
    try:
        try:
            writer.cancel()
        except Exception:
            writer.storage.close_created()
            try:
                writer.temp_storage().close_created()
            except Exception:
                pass
            writer.is_closed = True
        _sweep_quietly(writer.storage.folder)
    finally:
        if lock is not None and lock.fd is not None:
            lock.release()


def _sweep_quietly(folder: str) -> None:
    try:
        durable.sweep(folder)
    except Exception:
        pass  # e.g. a read-only folder: the next writer tries again


_WRITE_ERRORS = {
    errno.ENOSPC: ("no space is left on the device", "free some space"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space"),
    errno.EFBIG: ("a file grew past the size limit", "raise the limit (ulimit -f)"),
    errno.EROFS: ("the file system is read-only", "make it writable"),
    errno.EACCES: ("permission denied", "check the folder's permissions"),
    errno.EPERM: ("operation not permitted", "check the folder's permissions"),
}


def scratch_error(index_dir, error: OSError) -> Optional[IndexWriteError]:
    """What to say of ``error`` met writing a build's scratch files in ``index_dir`` before
    the index is locked, if it is a write error (a full disk...); None if it is another."""
    return _write_error(index_dir, error) if error.errno in _WRITE_ERRORS else None


def _write_error(index_dir, error: OSError, landed: bool = False) -> IndexWriteError:
    what, todo = _WRITE_ERRORS.get(error.errno) or (error.strerror or str(error), "check the disk")
    where = f" ({os.path.basename(error.filename)})" if error.filename else ""
    state = (
        "the new index was saved but not all of this run's bookkeeping"
        if landed
        else "the index is as it was before this run and not locked"
    )
    return IndexWriteError(
        f"cannot write the index in {index_dir}: {what}{where}; {state}; "
        f"{todo} and run the same command again"
    )


def optimize(index_dir: Path, wait: float = LOCK_WAIT, progress=None) -> OptimizeSummary:
    """Merge all segments into one, under the lock (waiting at most ``wait`` seconds). An index
    of one segment with no deleted paragraphs (or of none) is left as it is, but for the
    leftovers of a stopped run (an optimize killed after its commit, say). ``progress``: as
    ``build_index``'s, given the merge's steps and then the commit."""
    started = time.monotonic()
    ix = open_index(index_dir)

    def nothing_to_merge(segments):
        return len(segments) == 0 or (len(segments) == 1 and not segments[0].has_deletions())

    try:  # decided under the lock, without a writer: an index left alone gets no new commit
        lock = _acquire(ix.storage, Path(index_dir), wait)
    except OSError as error:
        raise _write_error(index_dir, error) from None
    try:
        segments = ix._read_toc().segments
        # A stopped run's leftovers go, as a writer would sweep them; a clean index is not touched.
        if nothing_to_merge(segments) and durable.classify(str(index_dir)).removable:
            _sweep_quietly(str(index_dir))
    finally:
        lock.release()
    writer = open_writer(ix, wait=wait) if not nothing_to_merge(segments) else None
    if writer is None or nothing_to_merge(writer.segments):  # (or merged meanwhile)
        if writer is not None:
            segments = writer.segments
            cancel(writer)  # it swept the leftovers of stopped runs
        else:
            tidy(ix, wait)  # e.g. of an optimize stopped after its commit
        return OptimizeSummary(str(index_dir), len(segments), len(segments),
                               sum(s.doc_count() for s in segments),
                               time.monotonic() - started, merged=False)
    before = len(writer.segments)
    try:
        # What Whoosh's own OPTIMIZE writes, in bulk (bulkmerge); the same paragraphs: the
        # same bookkeeping (side files carried)
        tick = progress("merging segments", 1) if progress else None
        merged = durable.merged(writer, writer.segments, tick)
        if progress:
            progress("committing", 0)(0, 0)
        commit(writer, mergetype=writing.CLEAR, segments=[merged] if merged else ())
    except BaseException as error:
        cancel(writer, error)
        raise
    toc = ix._read_toc()
    return OptimizeSummary(
        index_dir=str(index_dir),
        segments_before=before,
        segments_after=len(toc.segments),
        paragraphs=sum(s.doc_count() for s in toc.segments),
        seconds=time.monotonic() - started,
    )


def check(index_dir: Path) -> CheckReport:
    """Verify the current commit: every file its record names is there with every byte as
    committed, the record itself and the table of contents are what searchkit writes, each
    segment's paragraphs are readable and counted as recorded, the ledger, vocabulary and
    stems table read, and so are the ranking engine's segments list and arrays. Files of a
    running writer, or left by a stopped run, are listed."""
    index_dir = Path(index_dir)
    folder = str(index_dir)
    current = max(layout.generations(folder) + layout.committed_records(folder), default=-1)
    if current < 0:
        return CheckReport(folder, -1, 0, 0, 0, problems=(f"no index in {index_dir}",),
                           repair=f"searchkit index PATHS --index {index_dir}")
    problems, notes = [], []
    checked = segments = paragraphs = 0
    try:
        paths = read_settings(index_dir, current).get("indexed_paths") or ["PATHS"]
    except SearchkitError:
        paths = ["PATHS"]
    repair = f"searchkit index {' '.join(map(str, paths))} --index {index_dir} --rebuild"
    try:
        record = durable.load_record(folder, current)
    except IndexDamagedError as error:
        problems.append(_damage(error))
        record = None
    if record is not None:
        for name, entry in sorted(record.files.items()):
            checked += 1
            problem = integrity.verify(os.path.join(folder, name), entry)
            if problem:
                problems.append(f"{name}: {problem}")
        for name in (f"_MAIN_{current}.toc", durable.side_file("settings", current)):
            if name not in record.files:
                problems.append(f"{durable.record_file(current)}: does not name {name}")
    if not problems:
        problems, segments, paragraphs = _check_commit(index_dir, current, record)
        if not problems and paragraphs == 0:
            notes.append(f"the index is empty; run searchkit index PATHS --index {index_dir}")
    else:
        try:  # what the commit holds, if its table of contents can be read at all
            toc = durable.read_toc(storage(index_dir), current)
            segments, paragraphs = len(toc.segments), sum(s.doc_count() for s in toc.segments)
        except Exception:  # noqa: BLE001 - it is among the damage reported
            pass
    strays = tuple(durable.classify(folder).strays)
    running = _writer_running(index_dir) if strays else False
    return CheckReport(folder, current, segments, paragraphs, checked, tuple(problems),
                       leftovers=() if running else strays, notes=tuple(notes), repair=repair,
                       in_use=strays if running else ())


def _check_commit(index_dir: Path, current: int, record):
    """(problems, segments, paragraphs) of a commit whose files are as committed."""
    problems = []
    try:
        check_compatible(index_dir)
    except IndexSettingsError:
        problems.append("the index was built with other settings than this version's")
        return problems, 0, 0
    except IndexDamagedError as error:
        return [_damage(error)], 0, 0
    folder = str(index_dir)
    try:
        toc = durable.read_toc(storage(index_dir), current, check_schema=True, record=record)
        durable.check_files(folder, record, toc)
        ix = _open(index_dir)
    except IndexDamagedError as error:
        return [_damage(error)], 0, 0
    except Exception as error:  # noqa: BLE001 - whatever Whoosh makes of a damaged file
        return [f"the index cannot be opened ({type(error).__name__})"], 0, 0
    paragraphs = 0
    for segment in toc.segments:
        problem = _check_segment(ix, toc, segment)
        if problem:
            problems.append(f"segment {segment.segment_id()}: {problem}")
        paragraphs += segment.doc_count()
    if paragraphs:
        problems += _check_side_files(index_dir, current, paragraphs)
    problems += _check_ranking_files(index_dir, current, toc)
    if not problems:
        try:
            with ix.searcher() as searcher:
                if searcher.doc_count() != paragraphs:
                    problems.append(f"the index counts {searcher.doc_count()} paragraphs, "
                                    f"its segments {paragraphs}")
        except SearchkitError as error:
            problems.append(_damage(error))
        except Exception as error:  # noqa: BLE001
            problems.append(f"the index cannot be searched ({type(error).__name__})")
    return problems, len(toc.segments), paragraphs


def _check_side_files(index_dir: Path, current: int, paragraphs: int) -> list:
    """What is wrong with the ledger, vocabulary and stems table of commit ``current``."""
    from . import analysis, vocabulary

    problems = []
    try:
        files = read_ledger(index_dir, current)
        listed = sum(r.paragraphs for r in files.values())
        if listed != paragraphs:
            problems.append(f"the file ledger lists {listed} paragraphs, the index holds "
                            f"{paragraphs}")
        for kind, parse in (("vocabulary", vocabulary.from_bytes),
                            ("stems", lambda d: analysis.parse_stems(d.decode("utf-8")))):
            name = durable.side_file(kind, current)
            data = read_committed(index_dir, current, kind)
            if data is None:
                problems.append(f"{durable.record_file(current)}: does not name {name}")
                continue
            try:
                parse(data)
            except ValueError as error:
                problems.append(f"{name}: not a {kind} table ({error})")
    except IndexDamagedError as error:
        problems.append(_damage(error))
    return problems


def _check_ranking_files(index_dir: Path, current: int, toc) -> list:
    """What is wrong with the files the ranking engine reads instead of Whoosh's: the segments
    list (the TOC's segments as JSON) and each segment's ranking arrays."""
    from .rankarrays import EXTENSION, DamagedArrays, SegmentArrays

    name = durable.side_file("segments", current)
    try:
        data = read_committed(index_dir, current, "segments")
    except IndexDamagedError as error:
        return [_damage(error)]
    if data is None:
        return [f"{durable.record_file(current)}: does not name {name}"]
    try:
        listed = json.loads(data.decode("ascii"))
    except (ValueError, RecursionError):
        listed = None
    if listed != json.loads(durable.segments_record(toc.segments, current)):
        return [f"{name}: not the segments its table of contents holds"]
    problems = []
    for segment in toc.segments:
        rank = segment.segment_id() + EXTENSION
        try:
            arrays = SegmentArrays(os.path.join(str(index_dir), rank))
        except (DamagedArrays, OSError) as error:
            problems.append(f"{rank}: {error}")
            continue
        if arrays.doc_count != segment.doc_count_all():
            problems.append(f"{rank}: {arrays.doc_count} paragraphs where its segment has "
                            f"{segment.doc_count_all()}")
    return problems


def _damage(error: SearchkitError) -> str:
    """The damage an IndexDamagedError names, without the repair advice."""
    return getattr(error, "damage", None) or str(error)


def _writer_running(index_dir: Path) -> bool:
    """Whether a writer holds the index's lock (tried without waiting; a folder that cannot
    be locked, e.g. read-only, counts as not)."""
    lock = storage(index_dir).lock(durable.LOCK_FILE)
    try:
        if not lock.acquire(blocking=False):
            return True
    except (OSError, IndexFolderError):
        return False
    lock.release()
    return False


def _check_segment(ix, toc, segment) -> Optional[str]:
    """What is wrong with one segment's documents, or None."""
    from whoosh.reading import SegmentReader

    try:
        reader = SegmentReader(ix.storage, toc.schema, segment)
    except SearchkitError as error:
        return _damage(error)
    except Exception as error:
        return f"cannot be opened ({type(error).__name__}: {error})"
    try:
        if reader.doc_count_all() != segment.doc_count_all():
            return (f"holds {reader.doc_count_all()} documents, "
                    f"the index records {segment.doc_count_all()}")
        stored = 0
        for fields in reader.all_stored_fields():
            if "id" not in fields:
                return "a paragraph without its stored fields"
            stored += 1
        if stored != segment.doc_count():
            return f"{stored} paragraphs readable, {segment.doc_count()} recorded"
        for name in ("dup_group",):
            if name in toc.schema and toc.schema[name].column_type is not None:
                column = reader.column_reader(name)
                for docnum in range(reader.doc_count_all()):
                    column[docnum]
    except SearchkitError as error:
        return _damage(error)
    except Exception as error:
        return f"cannot be read ({type(error).__name__}: {error})"
    finally:
        reader.close()
    return None
