"""Build and update the index. Owns the Whoosh writer and its lock.

A run finds the files under its paths and compares each with the index's file ledger (see
``ledger``): new files are added, changed ones re-read and replaced, unchanged ones left alone,
and with ``prune`` files that disappeared are removed. All changes land in one Whoosh commit:
until it does, searchers keep seeing the previous index, and a failed run leaves that index as
it was. A run that finds nothing to change does not write at all. A rebuild clears the old
segments in the same commit.

New paragraphs are written as whole segments by ``bulkwrite`` (in batches of about
BATCH_COST, so that the writer's memory does not grow with the corpus), beside the Whoosh
writer that holds the lock, deletes replaced paragraphs and merges small segments; the commit
puts both in one TOC. With a core to spare, two helper processes read the files (this one
keeps their paragraphs, as columns: ``paragraphs``), and a helper forked before the reading
shares the grouping and the writing (``workers``). Segment files are created through the
index's storage, which journals each before creating it (a stopped run's are removed by the
next writer) and sums them into the commit's record.
"""

import functools
import json
import os
import pickle
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import (BinaryIO, Callable, Dict, Iterable, Iterator, List, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np

from .. import arguments
from ..errors import (
    ClusterError,
    CorpusError,
    IndexDamagedError,
    IndexLockedError,
    SearchkitError,
)
from ..ingest.corpus import (
    READING_VERSION,
    checked_options,
    FoundFile,
    Progress,
    ReadOptions,
    file_stat,
    find_files,
    manifests_for,
    no_article_files,
    read_bytes,
    read_file,
)
from ..model import FileAction, IndexSummary, SkippedFile
from . import (analysis, anchorspill, bulkwrite, dedup, dupindex, durable, ledger, listing,
               store, vocabulary, workers)
from . import cluster as cluster_module
from .ledger import Entries, FileRecord, Ledger
from . import paragraphs as paragraphs_module
from .paragraphs import ReadParagraphs, RowRecords
from .textfile import ScratchBytes, pack
from .schema import make_schema, paragraph_document

# Above this many paragraphs (read or written), a forked helper process takes half of the
# files to read and of the segments to write, each segment its own (merging them afterwards
# would cost the gain back). Below it, forking and sending the results back cost more.
PARALLEL_FROM = 5000
# ...but only while the machine has a core to spare (at least this many cores idle now): on
# a shared 2-core machine two processes competing for one core were slower than one. Tests
# set it to None to share the work whatever the load.
PARALLEL_SPARE_CORES: Optional[float] = 1.5
# What a segment holds, in characters of text counting 150 more a paragraph (what is written
# for each whatever its length): ~20,000 news paragraphs, ~8,000 wire stories kept whole. The
# bulk writer's time and memory go with it; a corpus of any size is written as segments of
# about this much.
BATCH_COST = 6_500_000
# From this many files to read on, two helper processes read them.
PARALLEL_READ_FILES = 200
# Bytes of a file for a paragraph, about (news): the helper that will group and write half
# of what is read is forked before the reading from PARALLEL_FROM times this many.
BYTES_A_PARAGRAPH = 400
# What reading a file costs besides its bytes, in bytes' worth (measured on BBC and Reuters):
# the reading is cut into pieces by this and the files' sizes.
BYTES_A_FILE = 3_200
# About how many bytes of a file make an anchor for the grouping (BBC and Reuters: 7.3).
BYTES_AN_ANCHOR = 8
# Files read at a time by a reading helper (their bytes, BYTES_A_FILE each besides): the
# faster helper takes more pieces, and each piece's results come back as it is read. Smaller
# pieces left this process's heap in more pieces (the peak ~20 MB higher at 1 MB each).
READ_PIECE_BYTES = 1 << 22
READ_PIECES_FEWEST = 8  # (a small corpus's reading shared out as evenly)

Stage = Callable[[str, int], Progress]  # (label, total) -> progress callback


def _parallel(paragraphs: int) -> bool:
    return paragraphs >= PARALLEL_FROM and _core_to_spare()


def _core_to_spare() -> bool:
    if PARALLEL_SPARE_CORES is None:
        return True
    idle = workers.idle_cores()
    if idle is not None:
        return idle >= PARALLEL_SPARE_CORES
    try:  # not Linux: the load average
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load <= (os.cpu_count() or 1) - PARALLEL_SPARE_CORES


class _Stages:
    """Seconds spent in each stage of a run, in order."""

    def __init__(self):
        self._at = time.monotonic()
        self._seconds: Dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.monotonic()
        self.note(stage, now - self._at)
        self._at = now

    def note(self, stage: str, seconds: float) -> None:
        self._seconds[stage] = self._seconds.get(stage, 0.0) + seconds

    def laps(self) -> Tuple[Tuple[str, float], ...]:
        return tuple(self._seconds.items())


class _Actions(RowRecords):
    """What a run did with each file (``FileAction``), kept as strings in a buffer of bytes,
    each made when asked for (a run may see a great many files)."""

    def _row(self, action: FileAction) -> str:
        return f"{action.path}\0{action.action}\0{action.detail}"

    def _from_row(self, row: str) -> FileAction:
        # (a path or an action has no NUL; the detail, last, is kept whole)
        return FileAction(*row.split("\0", 2))


@dataclass
class _Plan:
    """What a run will change, worked out before the writer is opened."""

    ledger: Entries = field(default_factory=Entries)  # the index's files after this run
    paragraphs: ReadParagraphs = field(default_factory=ReadParagraphs)  # of the files (re)read
    added: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    # Indexed files found again at another path (``_moves``): new path -> old path; the new
    # paths of those read there; the old paths of those that could not be read there (kept)
    moves: Dict[str, str] = field(default_factory=dict)
    moved: List[str] = field(default_factory=list)
    unread_moves: set = field(default_factory=set)
    # The files the index a rebuild replaces holds: read again, they count as updated
    replacing: frozenset = frozenset()
    unchanged: int = 0
    read: int = 0
    skipped: List[SkippedFile] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    actions: _Actions = field(default_factory=_Actions)
    block_kinds: Counter = field(default_factory=Counter)  # of the files read
    # The paragraphs' n-grams (dupindex.shingled_parts), hashed where they were read
    shingled: Optional[anchorspill.SpilledParts] = None

    @property
    def changes(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.moved)

    def replaced_paths(self) -> set:
        """The files whose paragraphs in the index this run replaces or removes (by path)."""
        return set(self.added + self.updated + self.removed + self.moved +
                   [self.moves[path] for path in self.moved])


@workers.no_garbage_collection()
def build_index(
    paths: Iterable[Path],
    index_dir: Path,
    rebuild: bool = False,
    progress: Optional[Stage] = None,
    dedup_threshold: Optional[float] = None,
    find_duplicates: bool = True,
    prune: bool = False,
    options: Optional[ReadOptions] = None,
    wait: float = store.LOCK_WAIT,
    cluster: Optional[cluster_module.Cluster] = None,
) -> IndexSummary:
    """Index the article files under ``paths`` into ``index_dir``.

    Without ``rebuild``, new and changed files (by content hash) are (re)indexed, unchanged
    ones left alone and everything else in the index stays; ``prune`` also removes indexed
    files that no longer exist or are no longer found under ``paths``.
    With ``rebuild``, the index holds exactly these files afterwards.
    Near-duplicate groups are updated whenever anything changed, exactly as if worked out
    again over the whole index, so they never depend on the order files came in;
    ``dedup_threshold`` (default: the one the index was built with, else
    ``dedup.DEFAULT_THRESHOLD``) sets how alike copies must be.
    ``find_duplicates=False`` leaves every paragraph in a group of its own (for measuring what
    grouping costs). ``wait``: seconds to wait for another process writing the index (then
    IndexLockedError). ``cluster``: a ``cluster.Cluster`` (entered) whose workers read the
    files, hash the paragraphs and verify their candidate pairs for the grouping, and write
    the segments.
    """
    paths = arguments.paths("paths", paths)
    index_dir = arguments.path("index_dir", index_dir)
    arguments.flags(rebuild=rebuild, find_duplicates=find_duplicates, prune=prune)
    progress = arguments.function("progress", progress)
    if dedup_threshold is not None:
        dedup_threshold = arguments.number("dedup_threshold", dedup_threshold, most=1, above=True)
    options = checked_options(options)
    wait = arguments.number("wait", wait)
    arguments.instance("cluster", cluster, cluster_module.Cluster, optional=True)
    started = time.monotonic()
    clock = _Stages()
    workers.return_freed_arrays()
    store.check_folder(index_dir, paths)
    # Half the reading's grouping and the segments' writing, if they are many, in a helper,
    # and the files' reading in two more, forked while this process is small (a helper
    # copies what this process holds as either writes to its pages): before the files are
    # found when the build is fresh (every file will be read), else by _plan.
    with workers.Helper() as helper, workers.Helpers() as readers:
        if cluster is None and (rebuild or not store.exists(index_dir)) \
                and _many_files_likely(paths, PARALLEL_READ_FILES):
            helper.start()
            readers.start()
        unread: Counter = Counter()
        files, not_found = find_files(paths, options.follow_links, unread)
        if not files and not prune:
            raise no_article_files(paths, not_found, unread)
        # (fail before the reading, not after it; no folder left behind for paths of nothing)
        store.make_folder(index_dir)
        if cluster is not None:
            cluster.check_paths(index_dir.resolve(), [p.resolve() for p in paths if p.exists()])
        warnings: List[str] = []
        manifests = manifests_for(paths, files, warnings, options.follow_links)

        ix, replace_all = _open_or_create(index_dir, rebuild, wait)
        recorded = store.read_settings(index_dir)  # even a rebuild keeps the chosen threshold
        if dedup_threshold is None:
            dedup_threshold = recorded.get("dedup_threshold", dedup.DEFAULT_THRESHOLD)
        new_threshold = dedup_threshold != recorded.get("dedup_threshold", dedup_threshold)

        for _attempt in range(3):
            toc = ix._read_toc()
            generation = toc.generation
            recorded = store.read_settings(index_dir, generation)
            # A fresh build: a rebuild, or the first build of an empty index (one a first build
            # stopped before its commit left).
            holds = any(s.doc_count_all() for s in toc.segments)
            fresh = replace_all or not holds
            # (grouped by another version of the grouping: every group worked out again)
            regroup = new_threshold or find_duplicates and not fresh and recorded.get(
                "grouping") != dupindex.VERSION
            known = {} if fresh else store.read_ledger(index_dir, generation)
            # (a rebuild's summary counts what it did to the index it replaces)
            replacing = (_files_held(index_dir, generation) if replace_all and holds
                         else frozenset())
            try:  # (the paragraphs read are kept in scratch files in the index folder)
                plan = _plan(files, manifests, known, paths, prune, options, progress, cluster,
                             helper, readers, shingle=fresh and find_duplicates and cluster is None,
                             scratch=str(index_dir), replacing=replacing,
                             unlisted=_unlisted(not_found))
            except OSError as error:
                raise store.scratch_error(index_dir, error) or error from None
            plan.skipped[:0] = not_found
            plan.warnings[:0] = warnings
            if not (fresh or plan.changes or regroup):
                store.tidy(ix, wait)
                clock.lap("reading files")
                return _summary(index_dir, plan, started, committed=False, unread=unread,
                                stage_seconds=clock.laps())
            writer = store.open_writer(ix, wait=wait)
            if replace_all or writer.generation == generation + 1:
                break
            store.cancel(writer)  # another process committed since the files were compared
            ix = store.open_index(index_dir)
        else:
            raise IndexLockedError(
                f"the index in {index_dir} keeps changing under this run; try again later"
            )

        files = manifests = known = None  # (compared: a record each, let go of for what follows)
        try:
            clock.lap("reading files")
            paragraphs = plan.paragraphs
            # (what an update replaces: a fresh build, with none, holds no set of every id)
            new_ids = set() if fresh else set(paragraphs.ids)
            replaced = set() if fresh else plan.replaced_paths()
            threshold = dedup_threshold if find_duplicates else None
            _started(progress, "grouping near-identical paragraphs")
            state = None if fresh or regroup else _kept_state(index_dir, generation,
                                                              threshold)
            if state is not None:  # regroup only what this run's changes touch
                dups, words = state
                gone = _documents(writer, paths=replaced, ids=new_ids)

                def texts(ids):
                    return {f["id"]: f["text"] for _, f in _documents(writer, ids=ids)}

                changed = dups.update([f["id"] for _, f in gone], list(paragraphs.pairs()),
                                      texts, paragraphs.day_numbers())
                new_keys = dups.keys_of_last(len(paragraphs))
                groups = _Groups(lambda n, pid: new_keys[n], changed, dups.group_sizes())
                regrouped = _documents(writer, ids=set(changed))
                deleted = [n for n, _ in gone] + [n for n, _ in regrouped]
                words = vocabulary.subtract(words, vocabulary.count(f["text"] for _, f in gone))
            else:  # every paragraph's group worked out again
                kept, replaced_ids = ([], []) if fresh else _kept_documents(writer, replaced,
                                                                            new_ids)
                everything = paragraphs.pairs([(d["id"], d["text"]) for _, d in kept])
                # (no helper beside a cluster's client: its threads would not survive a fork;
                # the started one as a cluster of two, not one forked now from this process
                # holding the paragraphs)
                parallel = cluster is None and _parallel(len(everything))
                # (the paragraphs hashed where they were read: a fresh build keeps none)
                parts, plan.shingled = plan.shingled, None
                dups = None if threshold is None else dupindex.DupIndex.build(
                    everything, threshold, parallel=parallel,
                    cluster=cluster or (helper if parallel and helper.started else None),
                    parts=parts, scratch=str(index_dir), dates=np.concatenate([np.fromiter(
                        (listing.day_number(d.get("date")) for _, d in kept), np.int64,
                        len(kept)), paragraphs.day_numbers()]))
                key_slots = dups.key_slots() if dups else np.arange(len(everything))
                groups = _groups_by_slot(key_slots, kept, paragraphs)
                regrouped = [(n, d) for n, d in kept if d["id"] in groups.old]
                for path in sorted(replaced):
                    writer.delete_by_term("path", path)
                deleted = replaced_ids + [n for n, _ in regrouped]
                words = vocabulary.count(d["text"] for _, d in kept)
            for docnum in deleted:
                writer.delete_document(docnum)  # replaced, or regrouped (written again below)
            clock.lap("grouping near duplicates")
            # New paragraphs (by number: a range where there are no others), then old ones that
            # joined or left a group: the order of Whoosh's writer before (update_document), so
            # that documents keep their numbers.
            sources = range(len(paragraphs)) if not regrouped else [
                *range(len(paragraphs)), *(d for _, d in regrouped)]
            stems = "" if fresh else (
                store.read_committed(index_dir, generation, "stems") or b"").decode("utf-8")
            if stems:  # the stems of the words already indexed: no NLTK for them
                analysis.use_stems(str(index_dir.resolve()), stems)
            # Each new paragraph's dedup.signature, as a hash in an array (not strings in a dict).
            signatures = dups.exact_of_last(len(paragraphs)) if dups is not None else None
            new_ids = None  # (its memory: not needed from here on)
            written = []  # the kinds of this commit's own files, as they are written

            def write(kind, data):
                store.write_committed(index_dir, writer.generation, kind, data)
                written.append(kind)

            if dups is not None:  # to its file now: its arrays are freed before the writers start
                write("dupindex", dups.write)
                dups.close()
            dups = state = everything = None
            # In one process the writing keeps freed arrays under REUSED_BELOW for reuse (no
            # page faults): its peak stays under the grouping's, where two writing processes'
            # peaks would add up.
            if not helper.started:
                workers.return_freed_arrays(workers.REUSED_BELOW)
            segments, new_words, counting = _write_segments(writer, paragraphs, sources, groups,
                                                            signatures, progress, cluster,
                                                            helper)
            paragraphs.close()  # (their texts' scratch file)
            # The new segments' files synced and summed for the commit by the helper, while
            # this process writes the commit's own files.
            summing = helper.started and bool(segments)
            if summing:
                folder = writer.storage.folder
                prefixes = tuple(s.segment_id() + "." for s in segments)
                helper.start_work(functools.partial(durable.synced_entries, folder),
                                  [sorted(n for n in os.listdir(folder) if n.startswith(prefixes))])
            clock.lap("writing segments")
            clock.note("of which counting the vocabulary (all processes)", counting)

            # The commit's own files first (the near-duplicate index, unless grouping was left
            # out, is written already), the commit point last: whatever stops this run, the
            # committed generation has its ledger, near-duplicate index, vocabulary, stems and
            # settings.
            write("ledger", functools.partial(ledger.write, generation=writer.generation,
                                              ledger=plan.ledger))
            _started(progress, "counting words")
            try:
                # Only the words written may be new to the table (it keeps every word it ever
                # had); without one, every word is.
                table = new_words.write_stems
                if stems:
                    found, known = new_words.words_and_stems()
                    table = analysis.stems_table(found, stems, known).encode("utf-8")
                new_words.add(*new_words.pieces_of(words, {}))  # (the paragraphs kept, if any)
                write("vocabulary", new_words.write_vocabulary)
                write("stems", table)
            finally:
                new_words.close()
            clock.lap("vocabulary and stems tables")
            if summing:
                writer.storage.summed.update(helper.finish_work()[0])
            helper.close()  # its memory, before the rest of the commit
            indexed_paths = ([] if fresh else recorded.get("indexed_paths", [])) + [
                str(p) for p in paths]
            store.write_settings(writer, {
                "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "indexed_paths": list(dict.fromkeys(indexed_paths)),
                "dedup_threshold": dedup_threshold,
                "grouping": dupindex.VERSION if find_duplicates else None,
            })
            written.append("settings")
            # A commit without grouping has no near-duplicate index: the previous one's would
            # not describe it.
            _started(progress, "committing")
            store.commit(writer, clear=fresh, segments=segments, without=("dupindex",),
                         written=written)
        except BaseException as error:
            store.cancel(writer, error)
            raise
    if fresh:
        _verify_count(index_dir, len(paragraphs))
    clock.lap("ledger, settings and commit")
    shared = groups.sizes[groups.sizes > 1]
    return _summary(
        index_dir,
        plan,
        started,
        duplicate_groups=len(shared),
        paragraphs_in_groups=int(shared.sum()),
        regrouped=len(regrouped),
        unread=unread,
        stage_seconds=clock.laps(),
    )


def _many_files_likely(paths: List[Path], enough: int) -> bool:
    """Whether ``paths`` hold ``enough`` files or more, by a walk that stops there or after
    four times as many entries (any file not hidden counts; links are not followed): a
    guess, made before the files are found, that the build will be large."""
    folders = [str(p) for p in paths if p.is_dir()]
    files = looked = 0
    while folders and looked < 4 * enough:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    looked += 1
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        files += 1
                        if files >= enough:
                            return True
        except OSError:  # (unreadable: find_files says so)
            continue
    return False


def _started(progress: Optional[Stage], label: str) -> None:
    """A stage without counts (total 0) reported to ``progress`` as it starts: a long one
    should not look like a hang."""
    if progress:
        progress(label, 0)(0, 0)


def _open_or_create(index_dir: Path, rebuild: bool, wait: float):
    """The index to write and whether it starts empty (no index yet, or a rebuild)."""
    if store.exists(index_dir):
        try:
            return store.open_index(index_dir), rebuild
        except SearchkitError:
            if not rebuild:
                raise  # built with other settings: only a rebuild may replace it
    return store.create_index(index_dir, make_schema(), wait), True


def _files_held(index_dir: Path, generation: int) -> frozenset:
    """The files commit ``generation`` holds articles of, by its ledger; none if the ledger
    cannot be read (a rebuild, the repair, goes on without it)."""
    try:
        ledger_of = store.read_ledger(index_dir, generation)
    except (SearchkitError, OSError):
        return frozenset()
    return frozenset(path for path, record in ledger_of.items() if not record.refused)


def _plan(
    files: List[FoundFile],
    manifests: Dict[str, dict],
    known: Optional[Ledger],
    paths: List[Path],
    prune: bool,
    options: ReadOptions,
    progress: Optional[Stage],
    cluster: Optional[cluster_module.Cluster] = None,
    helper: Optional[workers.Helper] = None,
    readers: Optional[workers.Helpers] = None,
    shingle: bool = False,
    scratch: Optional[str] = None,
    replacing: frozenset = frozenset(),
    unlisted: Tuple[str, ...] = (),
) -> _Plan:
    """Compare every file with the ledger (``None``: none could be trusted, so every file is
    read again) and read the new and changed ones. ``helper`` is started if they are enough
    to be written in two processes. ``shingle``: the paragraphs read will be grouped from
    scratch; read in two helpers, each hashes its own for it (``_Plan.shingled``). What is
    read is kept on disk in the folder ``scratch`` (else the system's temporary folder).
    ``readers``, started, read the files if they are many (else are closed first), and are
    closed once they are read. ``replacing``: the files the index a rebuild replaces holds
    (counted as updated if read again, else as removed). ``unlisted``: the real paths of the
    folders that could not be listed (their indexed files are kept, as an unreadable file is)."""
    plan = _Plan(ledger=Entries(scratch), paragraphs=ReadParagraphs(scratch),
                 replacing=replacing)
    old = dict(known or {})
    seen = {file.real for file in files} if old else set()
    vanished = _vanished(old, seen, paths, unlisted)
    plan.moves = _moves(files, old, vanished, options)
    let_go = vanished if prune else set(plan.moves.values())
    # key -> the file that has it (a refused file has none; nor has one this run prunes or
    # finds moved, so that a moved folder's files get the keys a fresh build gives them)
    keys = _Keys({record.key: path for path, record in old.items()
                  if not record.refused and path not in let_go})
    tick = progress("reading", len(files)) if progress else None
    # Compare every file and note what to read, in order (the keys as if every read succeeds);
    # read those files (in two processes when there are many); then apply it all in order.
    steps, jobs = _compare(files, manifests, old, keys, options, tick)
    # Each file's result applied in the files' order as soon as it and those before it came
    # (this process lets go of a piece's results while the next ones arrive).
    results: Dict[int, object] = {}  # id(step) -> its result, until applied
    applied = [0]  # steps applied

    def apply_ready() -> None:
        while applied[0] < len(steps):
            step = steps[applied[0]]
            if isinstance(step, _ReadStep) and id(step) not in results:
                return
            _apply(plan, step, results.pop(id(step), None), keys, options)
            applied[0] += 1

    def received(found: Iterable[Tuple[int, object]]) -> None:
        results.update(found)
        apply_ready()

    if cluster is not None:
        if tick:
            tick(len(files), len(files))  # compared: the cluster's bar counts the reading
        received(zip(map(id, jobs), _read_on(cluster, jobs, options, plan, progress)))
    else:
        _read_here(plan, jobs, len(files), options, tick, helper, readers, shingle, scratch,
                   received)
    apply_ready()  # (the steps after the last file read, or of a run that reads none)
    _settle_the_rest(plan, old, seen, vanished, prune, keys)
    return plan


def _compare(files: List[FoundFile], manifests: Dict[str, dict], old: Dict[str, FileRecord],
             keys: "_Keys", options: ReadOptions, tick) -> Tuple[list, List["_ReadStep"]]:
    """Every file's step (``_Unreadable``, ``_Unchanged``, ``_StillRefused`` or
    ``_ReadStep``), in order, and those of the files to read, each with the key its articles
    get if every read succeeds."""
    options_text = json.dumps(_reading_context(options), sort_keys=True, default=str)
    steps, jobs = [], []
    optimistic = keys.copy()
    read_at = time.time_ns()
    digests: Dict[int, str] = {}  # id of a manifest entry (files alike share one) -> digest
    for compared, (path, key, absolute) in enumerate(files, start=1):
        if tick and compared % 100 == 0:  # the bar counts the files settled: left, or read
            tick(compared - len(jobs), len(files))
        before = old.get(absolute)
        refused = before if before is not None and before.refused else None
        if refused is not None:  # (nothing of it is indexed: read, it is a new file)
            before = None
        entry = manifests.get(absolute)
        digest = digests.get(id(entry))
        if digest is None:
            digest = digests[id(entry)] = ledger.context_digest(options_text, entry)
        try:
            stat = file_stat(path, options)
        except CorpusError as error:
            steps.append(_Unreadable(path, str(error), before, absolute))
            continue
        stat_key = ledger.stat_key(stat, read_at)
        if before is not None and stat_key and before.stat == stat_key \
                and before.context == digest:
            steps.append(_Unchanged(path, before, absolute))
            continue
        if refused is not None and stat_key and refused.stat == stat_key \
                and refused.context == digest:
            steps.append(_StillRefused(path, refused, absolute))
            continue
        read_as = before.key if before is not None else _free_key(key, absolute, optimistic)
        optimistic.claim(read_as, absolute)
        jobs.append(_ReadStep(path, key, before, absolute, entry, digest, stat_key,
                              stat.st_size, stat.st_mtime_ns, read_as))
        steps.append(jobs[-1])
    return steps, jobs


def _read_here(plan: _Plan, jobs: List["_ReadStep"], total: int, options: ReadOptions, tick,
               helper: Optional[workers.Helper], readers: Optional[workers.Helpers],
               shingle: bool, scratch: Optional[str], received: Callable) -> None:
    """Read ``jobs`` on this machine, in two helpers when they are many (``readers`` if
    started), handing each piece's (id(step), result) pairs to ``received`` as it comes; the
    ``helper`` started if they are enough to be written in two processes, else closed."""
    size = sum(job.stat_size for job in jobs)
    many = size >= PARALLEL_FROM * BYTES_A_PARAGRAPH
    spare = (len(jobs) >= PARALLEL_READ_FILES or many) and _core_to_spare()
    if helper is not None and many and spare:
        helper.start()  # before this process holds what it reads (if not started yet)
    elif helper is not None:
        helper.close()  # (started early for a fresh build that turned out small)
    parallel = spare and len(jobs) >= PARALLEL_READ_FILES
    # (in two helpers: this process keeps the paragraphs read and none of the reading's
    # garbage among them, for the rest of the build; their results come a piece at a time)
    pieces = workers.by_weight(jobs, _reading_cost, max(
        READ_PIECES_FEWEST, -(-sum(map(_reading_cost, jobs)) // READ_PIECE_BYTES)))
    settled = [total - len(jobs)]

    def arrived(k: int) -> None:
        settled[0] += len(pieces[k])
        if tick:
            tick(settled[0], total)

    # (the paragraphs' n-grams, if hashed where read, kept on disk as they come)
    plan.shingled = anchorspill.SpilledParts(
        scratch, len(pieces), size // BYTES_AN_ANCHOR
    ) if parallel and shingle else None

    def keep(k: int, found) -> None:
        """Piece k's texts and n-grams to disk as it arrives, its files applied."""
        if plan.shingled is not None:
            plan.shingled.add(k, found[1])
        read = found[0]
        files = [n for n, result in enumerate(read) if type(result) is tuple]
        stored = plan.paragraphs.text_file.store([read[n][-1].texts for n in files])
        for n, texts in zip(files, stored):
            read[n] = (*read[n][:-1], read[n][-1]._replace(texts=texts))
        received(zip(map(id, pieces[k]), read))

    if readers is not None and not parallel:
        readers.close()
    workers.run_in_helpers(
        pieces, functools.partial(_read_piece, options, plan.shingled is not None),
        parallel, arrived, keep, readers)
    if readers is not None:
        readers.close()
    if tick:
        tick(total, total)


def _unlisted(skipped: List[SkippedFile]) -> Tuple[str, ...]:
    """The real paths of the folders ``find_files`` skipped: those it could not list (a link
    to a folder outside is skipped as the link, and its files are not this run's business)."""
    return tuple(os.path.realpath(s.path) for s in skipped
                 if os.path.isdir(s.path) and not os.path.islink(s.path))


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(store.inside(path, folder) for folder in folders)


def _vanished(old: Dict[str, FileRecord], seen: set, paths: List[Path],
              unlisted: Tuple[str, ...] = ()) -> set:
    """The ledger's files this run did not see (``seen``: the real paths it found) that are its
    business: under its ``paths``, or gone from disk (the rest were indexed from elsewhere).
    One still there in a folder that could not be listed (``unlisted``) is not: it stays."""
    given = [os.path.abspath(p) for p in paths]
    return {
        absolute for absolute in old if absolute not in seen and (
            not os.path.exists(absolute)
            or (_under(absolute, given) and not _under(absolute, unlisted)))
    }


_STAT = re.compile(r"(?P<size>\d{1,20}):(?P<mtime>-?\d{1,20}):-?\d{1,20}:(?P<inode>\d{1,20})")


def _moves(files: List[FoundFile], old: Dict[str, FileRecord], vanished: set,
           options: ReadOptions) -> Dict[str, str]:
    """Indexed files gone from disk that this run finds at another path: the same file by its
    size, modification time and inode, which a move or a rename on one file system keeps (a
    copy elsewhere, or a file changed since, is a new file); found at a path new to the index,
    or at one whose indexed file it is not (moved over that one). New path -> old path."""
    gone: Dict[tuple, List[str]] = {}
    for absolute in sorted(vanished):
        record = old[absolute]
        identity = _identity(record)
        if record.refused or identity is None or os.path.exists(absolute):
            continue
        gone.setdefault(identity, []).append(absolute)  # (a hard link's names: several)
    moves: Dict[str, str] = {}
    if not gone:
        return moves
    for file in files:
        try:
            stat = file_stat(file.path, options)
        except CorpusError:
            continue
        identity = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        was, before = gone.get(identity), old.get(file.real)
        if was and (before is None or before.refused or _identity(before) != identity):
            name = os.path.basename(file.real)  # (of several names, the one it had, if any)
            same = [n for n, path in enumerate(was) if os.path.basename(path) == name]
            moves[file.real] = was.pop(same[0] if same else 0)
    return moves


def _identity(record: FileRecord) -> Optional[tuple]:
    """(size, modification time, inode) of an indexed file, if its stat was recorded (and
    reads as searchkit writes it: a ledger may be damaged)."""
    recorded = _STAT.fullmatch(record.stat)
    if not recorded:
        return None
    return int(recorded["size"]), int(recorded["mtime"]), int(recorded["inode"])


def _settle_the_rest(plan: _Plan, old: Dict[str, FileRecord], seen: set, vanished: set,
                     prune: bool, keys: "_Keys") -> None:
    """The ledger's files this run did not see: kept if indexed from elsewhere, else
    (``vanished``) removed (``prune``) or kept and noted missing; one found moved is replaced
    by its new path, or kept as missing if it could not be read there (as an unreadable
    file's earlier version is), unless its key went to another file. The files of the index a
    rebuild replaces that it did not read again: removed."""
    moved_from = {plan.moves[path] for path in plan.moved}
    moved_away = set(plan.moves.values()) - plan.unread_moves
    for absolute, record in sorted(old.items()):
        if absolute in seen or absolute in moved_from:
            continue
        if absolute not in vanished:
            plan.ledger.keep(absolute, record)  # indexed from elsewhere: not this run's business
        elif record.refused:
            continue  # nothing of it was indexed: nothing to remove, none to miss
        elif prune or absolute in moved_away or keys.taken(record.key, absolute):
            plan.removed.append(absolute)
            plan.actions.append(FileAction(absolute, "removed"))
        else:
            plan.ledger.keep(absolute, record)
            plan.missing.append(absolute)
            plan.actions.append(FileAction(absolute, "missing", "gone; --prune removes it"))
    for absolute in sorted(plan.replacing.difference(plan.updated)):
        plan.removed.append(absolute)
        plan.actions.append(FileAction(absolute, "removed"))


def _apply(plan: _Plan, step, result, keys: "_Keys", options: ReadOptions) -> None:
    """Apply one file's step (and its result, if it was read) to the plan: the ledger, the
    paragraphs read, the actions. ``keys``: key -> the file that has it, as applied so far."""
    if isinstance(step, _Unreadable):
        _skip(plan, *step)
        return
    if isinstance(step, _StillRefused):  # reported again, not read again
        plan.ledger.keep(step.absolute, step.record)
        _skip(plan, step.path, step.record.refused, None, step.absolute)
        return
    if isinstance(result, FileRecord):  # its bytes are the ones indexed
        step = _Unchanged(step.path, result, step.absolute)
    if isinstance(step, _Unchanged):
        plan.ledger.keep(step.absolute, step.record)
        plan.unchanged += 1
        plan.actions.append(FileAction(str(step.path), "unchanged"))
        return
    path, before, absolute = step.path, step.before, step.absolute
    key = before.key if before is not None else _free_key(step.key, absolute, keys)
    if key != step.read_as:  # an earlier file of the same name could not be read after all
        result = _read_job(options)(step._replace(read_as=key))
        # (its bytes, read again, may not be those hashed; a fresh build, the only one
        # hashed while read, has no earlier keys to free)
        if plan.shingled is not None:
            plan.shingled.close()
            plan.shingled = None
    if isinstance(result, _Unopened):  # not remembered: a later run may be let in
        _skip(plan, path, result.reason, before, absolute)
        return
    if isinstance(result, str):
        _skip(plan, path, result, before, absolute)
        if before is None and step.stat:  # remembered: not read again while its stat holds
            plan.ledger[absolute] = FileRecord(fingerprint="", size=step.stat_size, key="",
                                               article_ids=(), paragraphs=0,
                                               context=step.digest, stat=step.stat,
                                               refused=result)
        return
    keys.claim(key, absolute)
    plan.read += 1
    found, block_kinds, print_, size, columns = result
    plan.paragraphs.extend(columns)
    plan.block_kinds.update(block_kinds)
    plan.warnings += [f"{path}: {warning}" for warning in found.warnings]
    plan.ledger[absolute] = FileRecord(
        fingerprint=print_,
        size=size,
        key=key,
        article_ids=columns.article_ids,
        paragraphs=sum(columns.counts),
        context=step.digest,
        stat=step.stat,
    )
    if absolute in plan.moves:  # (over another indexed file, if ``before``: it is replaced)
        plan.moved.append(absolute)
        plan.actions.append(FileAction(str(path), "moved", f"from {plan.moves[absolute]}"))
        return
    renewed = before is not None or absolute in plan.replacing
    (plan.updated if renewed else plan.added).append(absolute)
    plan.actions.append(FileAction(str(path), "updated" if renewed else "added",
                                   found.encoding_how))


class _Unreadable(NamedTuple):
    """A file that cannot be read (its stat says why)."""

    path: str  # as found
    reason: str
    before: Optional[FileRecord]  # its ledger record
    absolute: str


class _StillRefused(NamedTuple):
    """A file refused when last read whose stat is as it was then."""

    path: str  # as found
    record: FileRecord  # its ledger record, with why it was refused
    absolute: str


class _Unchanged(NamedTuple):
    """A file whose stat (or bytes) are those indexed."""

    path: str  # as found
    record: FileRecord  # its ledger record, as this run keeps it
    absolute: str


class _ReadStep(NamedTuple):
    """A file whose bytes must be read: new, or changed by its stat."""

    path: str  # as found
    key: str  # its key by name
    before: Optional[FileRecord]  # its ledger record
    absolute: str
    entry: Optional[dict]  # its manifest entry
    digest: str  # of what besides its bytes shapes its articles (_reading_context and entry)
    stat: str  # ledger.stat_key
    stat_size: int  # its size and modification time by the stat here
    stat_mtime_ns: int
    read_as: str  # the key its articles get


class _Unopened(NamedTuple):
    """A file whose bytes could not be read here (permission, an I/O error): why."""

    reason: str


class _NotRead(NamedTuple):
    """A file another machine could not read, or saw otherwise than this one: read here."""

    reason: str


def _read_on(cluster: cluster_module.Cluster, jobs: List[_ReadStep], options: ReadOptions,
             plan: _Plan, progress: Optional[Stage]) -> list:
    """``_read_job``'s results for ``jobs``, read on the cluster's workers. A file a worker
    could not read, or saw with another size or time, is read here: this machine's view of
    the files is the one the run trusts (a worker may see another folder, or none)."""
    reading = progress("reading on the cluster", len(jobs)) if progress else None
    if reading:
        reading(0, len(jobs))  # the bar (and its rate) starts now, not at the first result
    got = [0]

    def arrived(found, _worker):
        got[0] += len(found)
        if reading:
            reading(got[0], len(jobs))

    read = cluster.map(jobs, _read_job(options, elsewhere=True), "files read",
                       weight=_reading_cost, done=arrived)
    again = [n for n, result in enumerate(read) if isinstance(result, _NotRead)]
    for n in again:
        read[n] = _read_job(options)(jobs[n])
    here = sum(1 for n in again  # (the rest are skipped)
               if not isinstance(read[n], (str, _Unopened)))
    if here:
        plan.warnings.append(
            f"{here} file{'s' if here > 1 else ''} a worker could not read or saw otherwise "
            f"{'were' if here > 1 else 'was'} read on this machine; check that every worker "
            "sees the files at the same paths")
    return read


def _reading_cost(job: _ReadStep) -> int:
    return job.stat_size + BYTES_A_FILE


def _read_piece(options: ReadOptions, hashed: bool, jobs: List[_ReadStep]):
    """``_read_job`` over some files: (its results, the n-grams of the paragraphs read if
    ``hashed``, else None)."""
    read = _read_job(options)
    results = [read(job) for job in jobs]
    # (a file read is a tuple, its paragraphs' columns last; the rest are not read)
    texts = [text for result in results if type(result) is tuple
             for text in result[-1].texts]
    parts = dupindex.shingled_parts(texts) if hashed else None
    # The texts sent packed: no string for each in this process to pickle, nor in the one
    # that keeps them to make.
    return [(*result[:-1], result[-1]._replace(texts=pack(result[-1].texts)))
            if type(result) is tuple else result for result in results], parts


def _read_job(options: ReadOptions, elsewhere: bool = False):
    """Reads one planned file (in this process, a forked helper, or ``elsewhere``: on a
    cluster's worker): its record with the new stat if its bytes are those indexed already,
    else (its articles, the kinds of its blocks, its fingerprint, its size, its paragraphs as
    ``paragraphs.Columns``); or why it cannot be read (``_Unopened`` if its bytes could not
    be read, a string if they were and are refused). ``elsewhere``, a file it cannot read,
    or whose size or time is not the stat's here, is ``_NotRead`` instead."""

    reading_context = _reading_context(options)

    def read(step: _ReadStep):
        path = Path(step.absolute)  # the same file wherever the working folder is
        try:
            data = read_bytes(path, options)
            if elsewhere:
                seen = path.stat()
                if (seen.st_size, seen.st_mtime_ns) != (step.stat_size, step.stat_mtime_ns):
                    return _NotRead("another size or time than this machine's stat")
        except (CorpusError, OSError) as error:
            return _NotRead(str(error)) if elsewhere else _Unopened(str(error))
        try:
            print_ = ledger.fingerprint(data, {"manifest": step.entry,
                                               "options": reading_context})
            if step.before is not None and step.before.fingerprint == print_:
                return step.before._replace(context=step.digest, stat=step.stat)
            found = read_file(path, step.read_as, data, step.entry, options)
        except CorpusError as error:
            return str(error)
        # Only the paragraphs are written, as columns: the blocks are counted and let go
        # (their memory, and a helper process's time sending them back).
        kinds = Counter(b.kind for a in found.articles for b in a.blocks)
        columns = paragraphs_module.split_off(found.articles)
        return replace(found, articles=[]), kinds, print_, len(data), columns

    return read


def _reading_context(options: ReadOptions) -> dict:
    """What of the options changes how a file's bytes are read (which files are found, or may
    be, does not), and the version of the reading."""
    context = {k: v for k, v in asdict(options).items() if k not in ("max_bytes", "follow_links")}
    return {**context, "reading": READING_VERSION}


def _skip(plan: _Plan, path: str, reason: str, before, absolute: str) -> None:
    """Note a file that cannot be read; an earlier version of it stays in the index (of one
    found moved here: its old self, ``_settle_the_rest``)."""
    if absolute in plan.moves:
        plan.unread_moves.add(plan.moves[absolute])
    if before is not None:
        plan.ledger.keep(absolute, before)
        reason += " (its earlier version stays in the index)"
    plan.skipped.append(SkippedFile(str(path), reason))
    plan.actions.append(FileAction(str(path), "skipped", reason))


class _Keys:
    """The keys files have (key -> the real path of the file that has it). A file of several
    articles gives them ids "key:1", "key:2" (a JSON-lines record's own id after the colon):
    no key may start with another file's key and a colon, else two articles could share an
    id (``taken``)."""

    def __init__(self, owners: Dict[str, str]):
        self.owners = dict(owners)
        self.before_colons: Dict[str, str] = {}  # "a" of a key "a:5" -> the file that has it
        for key, absolute in self.owners.items():
            self._note(key, absolute)

    def _note(self, key: str, absolute: str) -> None:
        for colon in _colons(key):
            self.before_colons.setdefault(key[:colon], absolute)

    def copy(self) -> "_Keys":
        found = _Keys({})
        found.owners, found.before_colons = dict(self.owners), dict(self.before_colons)
        return found

    def claim(self, key: str, absolute: str) -> None:
        self.owners[key] = absolute
        self._note(key, absolute)

    def taken(self, key: str, absolute: str) -> bool:
        """Whether another file has ``key``, a key that starts with it and a colon, or a key
        it starts with before a colon."""
        if self.owners.get(key, absolute) != absolute or \
                self.before_colons.get(key, absolute) != absolute:
            return True
        return any(self.owners.get(key[:colon], absolute) != absolute
                   for colon in _colons(key))


def _colons(key: str) -> List[int]:
    return [at for at, char in enumerate(key) if char == ":"] if ":" in key else []


def _free_key(key: str, absolute: str, keys: _Keys) -> str:
    """``key``, qualified while another indexed file has it (or it would share ids with
    another's: ``_Keys.taken``) by the names of the folders above the key's own: the indexed
    folder's name first, as ``find_files`` qualifies the files of two folders given at once
    ("p2/a/x"), then its parents'; past the root, by a number ("x~2")."""
    if not keys.taken(key, absolute):  # (most files: no folder is needed)
        return key
    above = Path(absolute).parent.parts[::-1][key.count("/"):]  # (the key's folders: its last)
    for parent in above:
        key = f"{parent}/{key}"
        if not keys.taken(key, absolute):
            return key
    unique, n = key, 2
    while keys.taken(unique, absolute):
        unique, n = f"{key}~{n}", n + 1
    return unique


def _summary(index_dir: Path, plan: _Plan, started: float, committed: bool = True,
             unread: Optional[Counter] = None, **grouping) -> IndexSummary:
    kinds = plan.block_kinds
    paragraph_kinds = plan.paragraphs.kind_counts()
    return IndexSummary(
        index_dir=str(index_dir),
        files=plan.read,
        articles=plan.paragraphs.article_count,
        paragraphs=len(plan.paragraphs),
        blocks_by_kind=dict(sorted(kinds.items())),
        paragraphs_by_kind=dict(sorted(paragraph_kinds.items())),
        unread_files=dict(sorted((unread or {}).items())),
        skipped_files=tuple(plan.skipped),
        warnings=tuple(plan.warnings),
        seconds=time.monotonic() - started,
        article_summaries=plan.paragraphs.summaries(),
        added=len(plan.added),
        updated=len(plan.updated),
        removed=len(plan.removed),
        moved=len(plan.moved),
        missing=len(plan.missing),
        unchanged=plan.unchanged,
        file_actions=plan.actions,
        committed=committed,
        **grouping,
    )


def _kept_documents(writer, replaced_paths, new_ids) -> Tuple[List[Tuple[int, dict]], List[int]]:
    """(docnum, stored fields) of the paragraphs this run leaves in place, and the docnums of
    those a new paragraph of the same id replaces (read under the writer's lock, so no other
    process can change them meanwhile)."""
    kept, replaced = [], []
    with writer.searcher() as searcher:
        for docnum, fields in searcher.reader().iter_docs():
            if fields["path"] in replaced_paths:
                continue
            if fields["id"] in new_ids:
                replaced.append(docnum)
            else:
                kept.append((docnum, fields))
    return kept, replaced


class _Groups(NamedTuple):
    """Each paragraph's group key: of this run's paragraphs by number and id, of the old ones
    to write again (those whose group changed) by id; and how many paragraphs each group
    has."""

    new: Callable[[int, str], str]
    old: Dict[str, str]
    sizes: np.ndarray  # of each group (in no order)


def _groups_by_slot(key_slot: np.ndarray, kept: List[Tuple[int, dict]],
                    paragraphs: ReadParagraphs) -> _Groups:
    """The groups of a grouping whose slots are the ``kept`` paragraphs, then this run's:
    ``key_slot`` is the slot of each one's group key (no dict of every paragraph's id)."""
    first = len(kept)

    def key(slot: int) -> str:
        return kept[slot][1]["id"] if slot < first else paragraphs.ids[slot - first]

    def new(n: int, pid: str) -> str:
        slot = int(key_slot[first + n])
        return pid if slot == first + n else key(slot)  # (most are their own group's key)

    old = {}
    for k, (_, fields) in enumerate(kept):
        group = key(int(key_slot[k]))
        if fields.get("dup_group") != group:
            old[fields["id"]] = group
    sizes = np.bincount(key_slot)
    return _Groups(new, old, sizes[sizes > 0])


def _kept_state(index_dir: Path, generation: int, threshold: Optional[float]):
    """The near-duplicate index (with this threshold) and vocabulary of commit
    ``generation``, or None if it has none that fits: then every group is worked out
    again."""
    if threshold is None:
        return None
    mapped = store.map_committed(index_dir, generation, "dupindex")
    dups = None if mapped is None else dupindex.DupIndex.from_map(mapped, threshold)
    data = store.read_committed(index_dir, generation, "vocabulary") if dups else None
    if data is None:
        return None
    try:
        return dups, vocabulary.from_bytes(data)
    except ValueError:
        return None


def _documents(writer, paths=(), ids=()) -> List[Tuple[int, dict]]:
    """(docnum, stored fields) of the live paragraphs of these paths or with these ids,
    found through their terms (no scan of the index)."""
    with writer.searcher() as searcher:
        reader = searcher.reader()
        docnums = set()
        for name, values in (("path", paths), ("id", ids)):
            for value in values:
                term = value.encode("utf-8", "surrogatepass")
                if (name, term) in reader:
                    docnums.update(d for d in reader.postings(name, term).all_ids()
                                   if not reader.is_deleted(d))
        return [(n, reader.stored_fields(n)) for n in sorted(docnums)]


def _batches(paragraphs: ReadParagraphs, sources: Sequence, ways: int) -> List[Sequence]:
    """The paragraphs to write, in order, cut into segments of about BATCH_COST that take
    about as long to write (a multiple of ``ways`` of them, for the processes sharing the
    work): a segment's time and memory go with its paragraphs and its text (a BBC paragraph
    has twice a Reuters one's words, a whole wire story many times)."""

    def cost(source) -> int:
        """In characters of text: its own, and 150 more for what is written per paragraph
        whatever its length (measured on BBC and Reuters)."""
        return 150 + (len(source["text"]) if isinstance(source, dict)
                      else paragraphs.text_file.lengths[source])

    count = -(-sum(map(cost, sources)) // BATCH_COST)
    count += -count % ways
    return workers.by_weight(sources, cost, count)


def _write_segments(writer, paragraphs: ReadParagraphs, sources: Sequence,
                    groups: _Groups,
                    signatures: Optional[np.ndarray], progress: Optional[Stage],
                    cluster: Optional[cluster_module.Cluster] = None,
                    helper: Optional[workers.Helper] = None):
    """Write ``sources`` (numbers of ``paragraphs``, or stored fields of old paragraphs) as
    new segments of the writer's index, with their groups (and the signatures' hashes that
    grouping worked out, by paragraph number); on the ``cluster``'s workers if one is given,
    else half of them by ``helper`` if it was started (or a helper forked now). Returns the
    segments (not yet committed), the vocabulary of the paragraphs written (``_SpilledWords``)
    and the seconds spent counting it."""
    if not sources:
        return [], _SpilledWords(), 0.0
    tick = progress("indexing", len(sources)) if progress else None
    if tick:
        tick(0, len(sources))  # the bar (and its rate) starts now, not at the first segment
    done = [0]

    def count(written) -> None:
        done[0] += sum(w[0].doc_count_all() for w in written)
        if tick:
            tick(done[0], len(sources))

    def prepare(batch):
        return _documents_to_write(paragraphs, batch, groups, signatures)

    words, counting = _SpilledWords(writer.storage.folder), [0.0]

    def absorb(written):
        """A batch's vocabulary and stems to the scratch file as they come."""
        segment, batch_words, seconds = written
        words.add(*batch_words)
        counting[0] += seconds
        return segment

    if cluster is None:
        parallel = _parallel(len(sources))
        segments = workers.run_split(
            _batches(paragraphs, sources, 2 if parallel else 1), _SegmentWriting(writer, count),
            parallel, prepare=prepare, helper=helper, each=absorb)
    else:
        scratch = cluster_module.Scratch(writer, cluster)
        work = functools.partial(_write_batch_at, scratch.path, writer.schema, writer.indexname)
        written = cluster.map(_batches(paragraphs, sources, cluster.ways), work,
                              "segments written",
                              done=lambda found, _: count([w for w, _ in found]),
                              prepare=prepare)
        scratch.adopt([name for _, names in written for name in names])
        scratch.remove()
        segments = [absorb(w) for w, _ in written]
    if tick:
        tick(len(sources), len(sources))
    return segments, words, counting[0]


class _SpilledWords:
    """Each written batch's vocabulary and the stems worked out for it, kept in a scratch file
    in ``folder`` (else the system's) by the first letter of their words until the vocabulary
    and stems tables are written, a letter at a time: merged whole, they held the corpus's
    whole vocabulary, a table of every word and its stem, at the end of the build."""

    KINDS = ("words", "names", "stems")

    def __init__(self, folder: Optional[str] = None):
        self.parts = ScratchBytes(folder)
        self.paragraphs = 0
        # kind -> a first letter -> the numbers of its pieces (a dict each) in ``parts``
        self.pieces: Dict[str, Dict[str, List[int]]] = {kind: {} for kind in self.KINDS}

    @classmethod
    def pieces_of(cls, words: vocabulary.Vocabulary,
                  stems: Dict[str, str]) -> Tuple[int, List[Tuple[str, str, bytes]]]:
        """A batch's paragraphs, and its words, names and stems by first letter, pickled:
        (kind, letter, piece), as ``add`` takes them (made where the batch is written)."""
        pieces = []
        for kind, found in zip(cls.KINDS, (words.words, words.names, stems)):
            by_letter: Dict[str, dict] = {}
            for word, value in found.items():
                by_letter.setdefault(word[:1], {})[word] = value
            pieces += [(kind, letter, pickle.dumps(piece, pickle.HIGHEST_PROTOCOL))
                       for letter, piece in by_letter.items()]
        return words.paragraphs, pieces

    def add(self, paragraphs: int, pieces: List[Tuple[str, str, bytes]]) -> None:
        """A batch's ``pieces_of``."""
        self.paragraphs += paragraphs
        for kind, letter, data in pieces:
            self.pieces[kind].setdefault(letter, []).append(len(self.parts))
            self.parts.add(data, (len(data),))

    def merged(self, kind: str, letter: str) -> dict:
        """A kind's entries of words starting with ``letter``: counts added up, stems kept."""
        whole: dict = {}
        for data in self.parts.in_order(self.pieces[kind].get(letter, [])):
            piece = pickle.loads(data)
            if kind == "stems":
                whole.update(piece)
            elif not whole:
                whole = piece
            else:
                for word, count in piece.items():
                    whole[word] = whole.get(word, 0) + count
        return whole

    def _letters(self, kind: str) -> Iterator[Tuple[str, dict]]:
        for letter in sorted(self.pieces[kind]):
            yield letter, self.merged(kind, letter)

    def words_and_stems(self) -> Tuple[List[str], Dict[str, str]]:
        """Every word, and the stems worked out (an update's few, for
        ``analysis.stems_table``)."""
        stems: Dict[str, str] = {}
        for _, found in self._letters("stems"):
            stems.update(found)
        return [word for _, counts in self._letters("words") for word in counts], stems

    def write_vocabulary(self, out: BinaryIO) -> None:
        vocabulary.write(out, self.paragraphs,
                         (counts for _, counts in self._letters("words")),
                         (counts for _, counts in self._letters("names")))

    def write_stems(self, out: BinaryIO) -> None:
        """The stems table of every word (no earlier table), the stems the batches worked out
        taken as they are."""
        analysis.write_stems_table(out, ((counts, self.merged("stems", letter))
                                         for letter, counts in self._letters("words")))

    def close(self) -> None:
        self.parts.close()


def _documents_to_write(paragraphs: ReadParagraphs, batch: list, groups: _Groups,
                        signatures: Optional[np.ndarray]) -> "_Batch":
    """A batch as it goes where it is written (this process, a helper, a cluster's worker)."""
    articles: Dict[int, int] = {}  # an article (by number) -> its place in the batch's list
    rows: list = []
    read = iter(paragraphs.rows([s for s in batch if not isinstance(s, dict)]))
    for source in batch:
        if isinstance(source, dict):  # an old paragraph's stored fields
            rows.append({**source, "dup_group": groups.old[source["id"]]})
            continue
        article, pid, number, kind, text = next(read)
        signature = None if signatures is None else dupindex.signature(signatures[source])
        rows.append((articles.setdefault(article, len(articles)), pid, number, kind, text,
                     signature, groups.new(source, pid)))
    return _Batch([paragraphs.article_fields(a) for a in articles], rows)


class _Batch(NamedTuple):
    """A batch's paragraphs: made into documents where they are written, and sent there as
    tuples (fewer bytes, and faster to pickle, than the documents' dicts)."""

    articles: List[dict]  # schema.article_fields of each article of the batch
    # (the article's place in ``articles``, id, number, kind, text, signature, group) of a
    # paragraph read in this run, or the stored fields of an old one with its group
    rows: list

    def documents(self) -> Tuple[List[dict], np.ndarray]:
        """The documents, and which of them are new (old ones are counted already); the rows
        are let go of."""
        docs, new = [], np.ones(len(self.rows), bool)
        for n, row in enumerate(self.rows):
            if isinstance(row, dict):
                docs.append(row)
                new[n] = False
                continue
            article, pid, number, kind, text, signature, group = row
            doc = paragraph_document(self.articles[article], pid, number, kind, text, signature)
            doc["dup_group"] = group
            docs.append(doc)
        self.rows.clear()
        return docs, new


class _SegmentWriting:
    """``_write_batch`` into the writer's folder, here (its storage, progress counted) or in
    a helper, which it reaches pickled (a storage of the same folder, no progress)."""

    def __init__(self, writer, count: Callable[[list], None]):
        self.folder, self.durable = writer.storage.folder, writer.storage.durable
        self.schema, self.indexname = writer.schema, writer.indexname
        self.storage, self.count = writer.storage, count

    def __getstate__(self):
        return {**self.__dict__, "storage": None, "count": None}

    def __call__(self, task):
        from .durable import DurableStorage

        storage = self.storage or DurableStorage(self.folder, self.durable)
        written = _write_batch(storage, self.schema, self.indexname, task)
        if self.count:
            self.count([written])
        return written


def _write_batch_at(folder: str, schema, indexname: str, task):
    """On a cluster's worker: ``_write_batch`` into the scratch ``folder``, and the names of
    the segment's files."""
    from .durable import DurableStorage

    if not os.path.isdir(folder):  # a worker that joined the cluster without the shared folder
        raise ClusterError(f"a worker cannot see the index folder {os.path.dirname(folder)}; "
                           "every worker must see it at the same path as this machine")
    written = _write_batch(DurableStorage(folder, durable=False), schema, indexname, task)
    prefix = written[0].segment_id() + "."
    return written, sorted(n for n in os.listdir(folder) if n.startswith(prefix))


def _write_batch(storage, schema, indexname: str, batch: _Batch):
    """Write ``batch``'s documents as one segment (freed on the way, before its postings are
    made): (the segment, the vocabulary of the new ones and the stems this process worked
    out for it as ``_SpilledWords.pieces_of``, the seconds spent counting)."""
    docs, new = batch.documents()
    mark = analysis.stems_mark()
    try:
        texts = [d["text"] for d in docs]
        tokens = (bulkwrite.tokenize(schema["text"], texts)
                  if bulkwrite.tokenizable(schema["text"]) else None)
        segment = bulkwrite.write_segment(storage, schema, docs, indexname=indexname,
                                          tokens={"text": tokens} if tokens else None,
                                          let_go=True)
        counting = time.monotonic()
        words = (vocabulary.count_tokens(tokens, new) if tokens else
                 vocabulary.count(text for text, counted in zip(texts, new) if counted))
        counting = time.monotonic() - counting
    finally:
        stems = analysis.stems_since(mark)  # (the recording ends, whatever happens)
    return segment, _SpilledWords.pieces_of(words, stems), counting


def _verify_count(index_dir: Path, expected: int) -> None:
    """Parallel writing has been seen to drop documents: check the commit holds them all."""
    with store.open_index(index_dir, check_settings=False).searcher() as searcher:
        found = searcher.doc_count()
    if found != expected:
        raise IndexDamagedError(
            f"the index in {index_dir} holds {found} paragraphs instead of {expected}; "
            "run the same command again with --rebuild"
        )
