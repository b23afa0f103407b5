"""The index directory: whether an index is there, whether it fits this version, opening it,
and writing it safely. The only module that opens Whoosh writers' locks and commits them.

Beside Whoosh's files, ``searchkit.json`` records the index-time settings (schema version,
analyzer); an index built with other settings is refused with a request to rebuild it.

What writing promises (the mechanics are in ``durable``):

* a commit is all or nothing, also on a crash (SIGKILL, power loss: it is fsynced);
* one writer at a time: the others wait at most ``wait`` seconds, then IndexLockedError;
* a disk-full, read-only or permission error is an IndexWriteError, and leaves the previous
  index as it was, unlocked, without the failed run's files;
* the leftovers of crashed writers are removed, under the lock, when the next writer starts;
* readers never see a half commit and may keep using the generation they opened for
  ``durable.KEEP_SUPERSEDED_SECONDS`` after it was replaced;
* every segment file's SHA-256 is recorded at commit, and ``check`` verifies them.
"""

import errno
import json
import os
import time
from pathlib import Path
from typing import Optional

from whoosh import writing
from whoosh.index import TOC, FileIndex

from . import durable, ledger
from .codec import BuildCodec
from .errors import IndexLockedError, IndexMissingError, IndexSettingsError, IndexWriteError
from .errors import SearchkitError
from .model import CheckReport, OptimizeSummary
from .indexformat import SETTINGS, SETTINGS_FILE, check_compatible, exists, read_settings  # noqa
LOCK_WAIT = 2.0  # seconds a writer waits for another one before giving up (--wait)
INCREMENTAL_MERGE = durable.INCREMENTAL_MERGE  # the merge policy of non-fresh commits
_OPEN_RETRIES = 8  # opening the index races with commits: retry this often
# How much of its postings (by Whoosh's estimate, ~180 bytes each) a writer keeps in memory
# before it sorts them into a run file, all runs being merged at the commit. 128 (Whoosh's
# default) spilled BBC + Reuters (~1.6M postings) into runs: a serial build took 110-120 s;
# with 512 it keeps them in memory and took 87-90 s, with the same peak memory (ru_maxrss
# 1066 MB, reached elsewhere in the build). Same loop, bench notes in bench/README.md.
WRITER_LIMIT_MB = 512


def write_settings(index_dir: Path, extra: dict, writer=None) -> None:
    """Replace the settings file atomically and durably (write aside, fsync, rename). With the
    ``writer`` about to commit, they are recorded as its generation's (an OSError is left to
    ``cancel``, which knows whether the commit landed)."""
    if writer is not None:
        extra = {**extra, "generation": writer.generation}
    data = json.dumps({**SETTINGS, **extra}, indent=2, default=str).encode("utf-8")
    try:
        durable.write_durably(str(index_dir), SETTINGS_FILE, data)
    except OSError as error:
        if writer is not None:
            raise
        raise _write_error(index_dir, error, landed=True) from None


class _Index(FileIndex):
    """Whoosh's FileIndex, retrying when a concurrent commit swaps the files it is opening."""

    def _read_toc(self):
        return _retrying(super()._read_toc)

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
    except Exception as error:  # Whoosh raises assorted errors for damaged files
        raise IndexSettingsError(
            f"the index in {index_dir} cannot be opened ({error}); "
            f"rebuild it: searchkit index PATHS --index {index_dir} --rebuild"
        ) from None


def open_searcher(index_dir: Path, generation: int, weighting):
    """A Whoosh searcher on commit ``generation`` of the index exactly (the one a searchkit
    Searcher opened its ranking arrays of), with ``weighting``."""
    from whoosh.searching import Searcher

    ix = _open(index_dir)
    try:
        toc = _retrying(lambda: TOC.read(ix.storage, durable.INDEX_NAME, gen=generation))
        reader = _retrying(lambda: FileIndex._reader(ix.storage, toc.schema, toc.segments,
                                                     toc.generation))
    except Exception as error:  # Whoosh raises assorted errors for damaged or missing files
        raise IndexSettingsError(
            f"the index in {index_dir} cannot be opened ({type(error).__name__}: {error}); "
            "it changed or is damaged: open it again, or run searchkit check"
        ) from None
    return ix, Searcher(reader, fromindex=ix, weighting=weighting)


def create_index(index_dir: Path, schema, wait: float = LOCK_WAIT):
    """A new, empty index with ``schema`` in ``index_dir``, committed durably under the lock.

    In an empty folder the settings are recorded first (an index is never there without
    them); over an existing index (a rebuild of one built with other settings) the empty
    index is the next generation, so that readers and a crash see the old one or the new."""
    index_dir = Path(index_dir)
    folder = str(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = _acquire(storage(index_dir), index_dir, wait)
    except OSError as error:
        raise _write_error(index_dir, error) from None
    try:
        durable.sweep(folder)
        latest = TOC._latest_generation(storage(index_dir), durable.INDEX_NAME)
        if latest < 0:
            try:
                durable.fsync_dir(str(index_dir.resolve().parent))  # the new folder's entry
            except OSError:
                pass  # best effort: a parent folder we may not open
            recorded = read_settings(index_dir)  # keep e.g. a chosen duplicate threshold
            data = {**recorded, **SETTINGS}
            durable.write_durably(folder, SETTINGS_FILE, json.dumps(data, indent=2).encode())
        TOC(schema, [], latest + 1).write(storage(index_dir), durable.INDEX_NAME)
    except OSError as error:
        _sweep_quietly(folder)
        raise _write_error(index_dir, error) from None
    finally:
        lock.release()
    return _open(index_dir)


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


def open_writer(ix, parallel: bool = False, wait: float = LOCK_WAIT):
    """A Whoosh writer on ``ix`` holding the write lock (waiting at most ``wait`` seconds for
    it), after the leftovers of crashed writers were swept. ``parallel``: two processes with
    a segment each (MpWriter, multisegment: the only safe parallel mode). Finish it with
    ``commit`` or ``cancel``."""
    index_dir = Path(ix.storage.folder)
    try:
        lock = _acquire(ix.storage, index_dir, wait)
    except OSError as error:
        raise _write_error(index_dir, error) from None
    try:
        _sweep_quietly(str(index_dir))
        # BuildCodec: Whoosh's W3 files, with field lengths looked up faster at commit
        options = dict(limitmb=WRITER_LIMIT_MB, compound=False, codec=BuildCodec())
        if parallel:
            writer = ix.writer(procs=2, multisegment=True, subargs=dict(options), _lk=False,
                               **options)
        else:
            writer = ix.writer(_lk=False, **options)
    except BaseException as error:
        _sweep_quietly(str(index_dir))
        lock.release()
        if _is_write_error(error):
            raise _write_error(index_dir, error) from None
        raise
    writer.writelock = lock  # released by the writer's commit or cancel
    return writer


def tidy(ix, wait: float = LOCK_WAIT) -> None:
    """Remove the leftovers of stopped runs (under the lock) if there are any: for a run that
    has nothing to commit. A busy index is left for its writer to tidy."""
    if not durable.classify(ix.storage.folder)[1]:
        return
    try:
        writer = open_writer(ix, wait=wait)  # it sweeps once it holds the lock
    except IndexLockedError:
        return
    cancel(writer)


def commit(writer, clear: bool = False, segments=()) -> None:
    """Commit durably. ``clear``: the new documents replace everything (a fresh build);
    otherwise small segments are merged in (INCREMENTAL_MERGE). ``segments``: segments
    written beside the writer into its storage (bulkwrite), committed after the existing
    ones and before the writer's own. On failure call ``cancel``."""
    policy = writing.CLEAR if clear else INCREMENTAL_MERGE

    def with_segments(writer_, existing):
        return policy(writer_, existing) + list(segments)

    writer.commit(mergetype=with_segments)


def cancel(writer, error: Optional[BaseException] = None) -> None:
    """Abandon ``writer`` after ``error``: stop its helper processes, close its files, remove
    what it wrote (under its lock) and release the lock, even if Whoosh's own cancel fails.
    Raises IndexWriteError instead of a disk-full, read-only or permission error."""
    index_dir = Path(writer.storage.folder)
    if not writer.is_closed:
        _abort(writer)
    if error is not None and _is_write_error(error):
        landed = max(durable.generations(str(index_dir)), default=-1) >= writer.generation
        raise _write_error(index_dir, error, landed=landed) from None


def _abort(writer) -> None:
    lock, writer.writelock = writer.writelock, None
    try:
        for task in getattr(writer, "tasks", ()):  # MpWriter's helpers wait on a queue
            try:
                task.terminate()
                task.join(5)
            except Exception:
                pass
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


def _is_write_error(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in _WRITE_ERRORS


def _write_error(index_dir, error: OSError, landed: bool = False) -> SearchkitError:
    if not _is_write_error(error):
        return SearchkitError(f"cannot write the index in {index_dir}: {error}")
    what, todo = _WRITE_ERRORS[error.errno]
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


def optimize(index_dir: Path, wait: float = LOCK_WAIT) -> OptimizeSummary:
    """Merge all segments into one, under the lock (waiting at most ``wait`` seconds)."""
    started = time.monotonic()
    ix = open_index(index_dir)
    writer = open_writer(ix, wait=wait)
    before = len(writer.segments)
    try:
        files = ledger.load(index_dir, writer.generation - 1)
        if files is not None:  # a merge changes no file: the ledger holds for the new commit
            ledger.save(index_dir, writer.generation, files)
        recorded = {k: v for k, v in read_settings(index_dir).items() if k != "generation"}
        write_settings(index_dir, recorded, writer=writer)
        writer.commit(mergetype=writing.OPTIMIZE)
    except BaseException as error:
        cancel(writer, error)
        raise
    ledger.remove_others(index_dir, writer.generation)
    toc = ix._read_toc()
    return OptimizeSummary(
        index_dir=str(index_dir),
        segments_before=before,
        segments_after=len(toc.segments),
        paragraphs=sum(s.doc_count() for s in toc.segments),
        seconds=time.monotonic() - started,
    )


def check(index_dir: Path) -> CheckReport:
    """Verify the index: it opens with this version's settings, every file of the current
    generation is there with its recorded SHA-256, each segment's documents are all readable
    and counted as recorded; list the leftovers of interrupted runs."""
    index_dir = Path(index_dir)
    folder = str(index_dir)
    paths = read_settings(index_dir).get("indexed_paths") or ["PATHS"]
    repair = f"searchkit index {' '.join(map(str, paths))} --index {index_dir} --rebuild"
    if not exists(index_dir):
        return CheckReport(folder, -1, 0, 0, 0, problems=(f"no index in {index_dir}",),
                           repair=f"searchkit index PATHS --index {index_dir}")
    problems, notes = [], []
    try:
        check_compatible(index_dir)
    except IndexSettingsError:
        problems.append("the index was built with other settings than this version's")
    try:
        ix = _open(index_dir)
        toc = ix._read_toc()
    except Exception as error:
        problems.append(f"the index cannot be opened ({type(error).__name__}: {error})")
        return CheckReport(folder, durable.generations(folder)[-1], 0, 0, 0, tuple(problems),
                           repair=repair)
    sums = durable.read_checksums(folder, toc.generation)
    if sums is None:
        notes.append(f"no checksums recorded for generation {toc.generation} (written by an "
                     "older searchkit): files not verified; the next index run records them")
    names = set(os.listdir(folder))
    checked = paragraphs = 0
    for segment in toc.segments:
        prefix = segment.segment_id() + "."
        present = {n for n in names if n.startswith(prefix)}
        if not present:
            problems.append(f"segment {segment.segment_id()}: its files are missing")
        if sums is not None:
            recorded = {n for n in sums if n.startswith(prefix)}
            problems += [f"{n}: missing" for n in sorted(recorded - present)]
            problems += [f"{n}: no checksum recorded" for n in sorted(present - recorded)]
            for name in sorted(recorded & present):
                checked += 1
                if durable.sha256_of(os.path.join(folder, name)) != sums[name]:
                    problems.append(f"{name}: checksum mismatch (the file is damaged)")
        problem = _check_segment(ix, toc, segment)
        if problem:
            problems.append(f"segment {segment.segment_id()}: {problem}")
        paragraphs += segment.doc_count()
    files = ledger.load(index_dir, toc.generation)
    if files is None:
        notes.append("no file ledger for this commit: the next index run reads every file "
                     "again once")
    elif sum(r.paragraphs for r in files.values()) != paragraphs:
        problems.append(f"the file ledger lists {sum(r.paragraphs for r in files.values())} "
                        f"paragraphs, the index holds {paragraphs}")
    if not problems:
        try:
            with ix.searcher() as searcher:
                if searcher.doc_count() != paragraphs:
                    problems.append(f"the index counts {searcher.doc_count()} paragraphs, "
                                    f"its segments {paragraphs}")
        except Exception as error:
            problems.append(f"the index cannot be searched ({type(error).__name__}: {error})")
    leftovers = tuple(durable.classify(folder)[1])
    return CheckReport(folder, toc.generation, len(toc.segments), paragraphs, checked,
                       tuple(problems), leftovers, tuple(notes), repair)


def _check_segment(ix, toc, segment) -> Optional[str]:
    """What is wrong with one segment's documents, or None."""
    from whoosh.reading import SegmentReader

    try:
        reader = SegmentReader(ix.storage, toc.schema, segment)
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
    except Exception as error:
        return f"cannot be read ({type(error).__name__}: {error})"
    finally:
        reader.close()
    return None
