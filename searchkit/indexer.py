"""Build and update the index. Owns the Whoosh writer and its lock.

A run finds the files under its paths and compares each with the index's file ledger (see
``ledger``): new files are added, changed ones re-read and replaced, unchanged ones left alone,
and with ``prune`` files that disappeared are removed. All changes land in one Whoosh commit:
until it does, searchers keep seeing the previous index, and a failed run leaves that index as
it was. A run that finds nothing to change does not write at all. A rebuild clears the old
segments in the same commit.
"""

import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from . import analysis, dedup, ledger, store, vocabulary
from .corpus import (
    Progress,
    ReadOptions,
    find_files,
    manifests_for,
    no_article_files,
    read_bytes,
    read_file,
)
from .errors import (
    CorpusError, IndexDamagedError, IndexLockedError, SearchkitError, UsageError)
from .ledger import FileRecord, Ledger
from .model import Article, ArticleSummary, FileAction, IndexSummary, SkippedFile
from .schema import document, make_schema

# Above this many paragraphs, two processes may analyse in parallel (Whoosh's MpWriter with
# one segment per process; merging them afterwards would cost the gain back). Below it, starting
# the processes costs more than it saves.
PARALLEL_FROM = 5000
# ...but only while the machine has a core to spare (1-minute load average at most the core
# count minus this). On the 2-core machine shared with other work (load ~2), BBC built serially
# in 21-22 s and with two writer processes in 23-28 s (same loop, bench notes in bench/README.md):
# with the word cache the analysis is no longer the bulk, and the helpers only compete for the
# same core. Tests set it to None to write in parallel whatever the load.
PARALLEL_SPARE_CORES: Optional[float] = 1.5

Stage = Callable[[str, int], Progress]  # (label, total) -> progress callback


def _parallel(paragraphs: int) -> bool:
    if paragraphs < PARALLEL_FROM:
        return False
    if PARALLEL_SPARE_CORES is None:
        return True
    try:
        load = os.getloadavg()[0]
    except OSError:  # no load average on this system: as before
        return True
    return load <= (os.cpu_count() or 1) - PARALLEL_SPARE_CORES


def _open_writer(ix, paragraphs: int, wait: float):
    return store.open_writer(ix, parallel=_parallel(paragraphs), wait=wait)


@dataclass
class _Plan:
    """What a run will change, worked out before the writer is opened."""

    ledger: Ledger = field(default_factory=dict)  # the index's files after this run
    articles: List[Article] = field(default_factory=list)  # of the files (re)read
    added: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    removed: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unchanged: int = 0
    read: int = 0
    skipped: List[SkippedFile] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    actions: List[FileAction] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.added or self.updated or self.removed)


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
) -> IndexSummary:
    """Index the article files under ``paths`` into ``index_dir``.

    Without ``rebuild``, new and changed files (by content hash) are (re)indexed, unchanged
    ones left alone and everything else in the index stays; ``prune`` also removes indexed
    files that no longer exist or are no longer found under ``paths``.
    With ``rebuild``, the index holds exactly these files afterwards.
    Near-duplicate groups are worked out again over the whole index whenever anything changed,
    so they never depend on the order files came in; ``dedup_threshold`` (default: the one the
    index was built with, else ``dedup.DEFAULT_THRESHOLD``) sets how alike copies must be.
    ``find_duplicates=False`` leaves every paragraph in a group of its own (for measuring what
    grouping costs). ``wait``: seconds to wait for another process writing the index (then
    IndexLockedError).
    """
    started = time.monotonic()
    if dedup_threshold is not None and not 0 < dedup_threshold <= 1:
        raise UsageError(
            f"the duplicate threshold must be above 0 and at most 1, not {dedup_threshold}"
        )
    options = options or ReadOptions()
    index_dir = Path(index_dir)
    paths = [Path(p) for p in paths]
    store.check_folder(index_dir, paths)
    store.make_folder(index_dir)  # fail before the reading, not after it
    unread: Counter = Counter()
    files, not_found = find_files(paths, options.follow_links, unread)
    if not files and not prune:
        raise no_article_files(paths, not_found, unread)
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
        fresh = replace_all or not any(s.doc_count_all() for s in toc.segments)
        known = {} if fresh else store.read_ledger(index_dir, generation)
        plan = _plan(files, manifests, known, paths, prune, options, progress)
        plan.skipped[:0] = not_found
        plan.warnings[:0] = warnings
        if not (fresh or plan.changes or new_threshold):
            store.tidy(ix, wait)
            return _summary(index_dir, plan, started, committed=False, unread=unread)
        writer = _open_writer(ix, sum(len(a.paragraphs) for a in plan.articles), wait)
        if replace_all or writer.generation == generation + 1:
            break
        store.cancel(writer)  # another process committed since the files were compared: again
        ix = store.open_index(index_dir)
    else:
        raise IndexLockedError(
            f"the index in {index_dir} keeps changing under this run; try again later"
        )

    try:
        new_docs = [document(a, p) for a in plan.articles for p in a.paragraphs]
        replaced = set(plan.added + plan.updated + plan.removed)
        kept = [] if fresh else _kept_documents(writer, replaced, {d["id"] for d in new_docs})
        with _step(progress, "grouping near-identical paragraphs"):
            groups = _groups(kept + new_docs, dedup_threshold if find_duplicates else None)
        regrouped = [d for d in kept if d.get("dup_group") != groups[d["id"]]]
        for path in sorted(replaced) if not fresh else ():
            writer.delete_by_term("path", path)
        add = progress("indexing", len(new_docs)) if progress else None
        put = writer.add_document if fresh else writer.update_document
        for done, doc in enumerate(new_docs, start=1):
            put(**doc, dup_group=groups[doc["id"]])
            if add and (done % 100 == 0 or done == len(new_docs)):
                add(done, len(new_docs))
        for doc in regrouped:  # an old paragraph that joined or left a group
            writer.update_document(**{**doc, "dup_group": groups[doc["id"]]})

        # The commit's own files first, the commit point last: whatever stops this run, the
        # committed generation has its ledger, vocabulary, stems and settings.
        def write(kind, data):
            store.write_committed(index_dir, writer.generation, kind, data)

        write("ledger", ledger.to_bytes(writer.generation, plan.ledger))
        with _step(progress, "counting words"):
            words = vocabulary.count(d["text"] for d in kept + new_docs)
            write("vocabulary", vocabulary.to_bytes(words))
            stems = b"" if fresh else store.read_committed(index_dir, generation, "stems") or b""
            write("stems",
                  analysis.stems_table(words.words, stems.decode("utf-8")).encode("utf-8"))
        indexed_paths = ([] if fresh else recorded.get("indexed_paths", [])) + [
            str(p) for p in paths]
        store.write_settings(writer, {
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "indexed_paths": list(dict.fromkeys(indexed_paths)),
            "dedup_threshold": dedup_threshold,
        })
        with _step(progress, "committing"):
            store.commit(writer, clear=fresh)
    except BaseException as error:
        store.cancel(writer, error)
        raise
    if fresh:
        _verify_count(index_dir, len(new_docs))
    sizes = Counter(groups.values())
    return _summary(
        index_dir,
        plan,
        started,
        duplicate_groups=sum(1 for n in sizes.values() if n > 1),
        paragraphs_in_groups=sum(n for n in sizes.values() if n > 1),
        regrouped=len(regrouped),
        unread=unread,
    )


@contextmanager
def _step(progress: Optional[Stage], label: str):
    """A stage without counts (total 0) reported to ``progress`` as it starts: a long one
    should not look like a hang."""
    if progress:
        progress(label, 0)(0, 0)
    yield


def _open_or_create(index_dir: Path, rebuild: bool, wait: float):
    """The index to write and whether it starts empty (no index yet, or a rebuild)."""
    if store.exists(index_dir):
        try:
            return store.open_index(index_dir), rebuild
        except SearchkitError:
            if not rebuild:
                raise  # built with other settings: only a rebuild may replace it
    return store.create_index(index_dir, make_schema(), wait), True


def _plan(
    files: List[Tuple[Path, str]],
    manifests: Dict[Path, dict],
    known: Optional[Ledger],
    paths: List[Path],
    prune: bool,
    options: ReadOptions,
    progress: Optional[Stage],
) -> _Plan:
    """Hash every file, compare it with the ledger (``None``: none could be trusted, so every
    file is read again) and read the new and changed ones."""
    plan = _Plan()
    old = dict(known or {})
    keys = {record.key: path for path, record in old.items()}  # key -> the file that has it
    # What changes how a file's bytes are read (which files are found, or may be, is not).
    reading_context = {k: v for k, v in asdict(options).items()
                       if k not in ("max_bytes", "follow_links")}
    seen = set()
    tick = progress("reading", len(files)) if progress else None
    for done, (path, key) in enumerate(files, start=1):
        if tick:
            tick(done, len(files))
        absolute = str(path.resolve())
        seen.add(absolute)
        before = old.get(absolute)
        try:
            data = read_bytes(path, options)
        except CorpusError as error:
            _skip(plan, path, str(error), before, absolute)
            continue
        entry = manifests.get(Path(absolute))
        print_ = ledger.fingerprint(data, {"manifest": entry, "options": reading_context})
        if before is not None and before.fingerprint == print_:
            plan.ledger[absolute] = before
            plan.unchanged += 1
            plan.actions.append(FileAction(str(path), "unchanged"))
            continue
        key = before.key if before is not None else _free_key(key, absolute, keys)
        try:
            result = read_file(Path(absolute), key, data, entry, options)
        except CorpusError as error:
            _skip(plan, path, str(error), before, absolute)
            continue
        keys[key] = absolute
        plan.read += 1
        plan.articles += result.articles
        plan.warnings += [f"{path}: {warning}" for warning in result.warnings]
        plan.ledger[absolute] = FileRecord(
            fingerprint=print_,
            size=len(data),
            key=key,
            article_ids=tuple(a.id for a in result.articles),
            paragraphs=sum(len(a.paragraphs) for a in result.articles),
        )
        action = "added" if before is None else "updated"
        (plan.added if before is None else plan.updated).append(absolute)
        plan.actions.append(FileAction(str(path), action, result.encoding_how))
    given = [os.path.abspath(p) for p in paths]
    for absolute, record in sorted(old.items()):
        if absolute in seen:
            continue
        under = any(absolute == g or absolute.startswith(g.rstrip(os.sep) + os.sep) for g in given)
        if not (under or not os.path.exists(absolute)):
            plan.ledger[absolute] = record  # indexed from elsewhere: not this run's business
        elif prune:
            plan.removed.append(absolute)
            plan.actions.append(FileAction(absolute, "removed"))
        else:
            plan.ledger[absolute] = record
            plan.missing.append(absolute)
            plan.actions.append(FileAction(absolute, "missing", "gone; --prune removes it"))
    return plan


def _skip(plan: _Plan, path: Path, reason: str, before, absolute: str) -> None:
    """Note a file that cannot be read; an earlier version of it stays in the index."""
    if before is not None:
        plan.ledger[absolute] = before
        reason += " (its earlier version stays in the index)"
    plan.skipped.append(SkippedFile(str(path), reason))
    plan.actions.append(FileAction(str(path), "skipped", reason))


def _free_key(key: str, absolute: str, keys: Dict[str, str]) -> str:
    """``key``, qualified by the file's folder names while another indexed file has it."""
    parents = Path(absolute).parent.parts[::-1]
    candidate = key
    for parent in parents:
        if keys.get(candidate, absolute) == absolute:
            return candidate
        key = f"{parent}/{key}"
        candidate = key
    return candidate


def _summary(index_dir: Path, plan: _Plan, started: float, committed: bool = True,
             unread: Optional[Counter] = None, **grouping) -> IndexSummary:
    kinds = Counter(b.kind for a in plan.articles for b in a.blocks)
    paragraph_kinds = Counter(p.kind for a in plan.articles for p in a.paragraphs)
    return IndexSummary(
        index_dir=str(index_dir),
        files=plan.read,
        articles=len(plan.articles),
        paragraphs=sum(len(a.paragraphs) for a in plan.articles),
        blocks_by_kind=dict(sorted(kinds.items())),
        paragraphs_by_kind=dict(sorted(paragraph_kinds.items())),
        unread_files=dict(sorted((unread or {}).items())),
        skipped_files=tuple(plan.skipped),
        warnings=tuple(plan.warnings),
        seconds=time.monotonic() - started,
        article_summaries=tuple(
            ArticleSummary(a.id, len(a.paragraphs), a.source, a.source_from, a.date, a.date_from)
            for a in plan.articles
        ),
        added=len(plan.added),
        updated=len(plan.updated),
        removed=len(plan.removed),
        missing=len(plan.missing),
        unchanged=plan.unchanged,
        file_actions=tuple(plan.actions),
        committed=committed,
        **grouping,
    )


def _groups(documents: List[dict], threshold: Optional[float]) -> Dict[str, str]:
    """Paragraph id -> near-duplicate group key over all the documents (no threshold: every
    paragraph alone)."""
    if threshold is None:
        return {d["id"]: d["id"] for d in documents}
    return dedup.find_groups([(d["id"], d["text"]) for d in documents], threshold)


def _kept_documents(writer, replaced_paths, new_ids) -> List[dict]:
    """Stored fields of the paragraphs this run leaves in place (read under the writer's lock,
    so no other process can change them meanwhile)."""
    with writer.searcher() as searcher:
        return [
            fields
            for fields in searcher.all_stored_fields()
            if fields["path"] not in replaced_paths and fields["id"] not in new_ids
        ]


def _verify_count(index_dir: Path, expected: int) -> None:
    """Parallel writing has been seen to drop documents: check the commit holds them all."""
    with store.open_index(index_dir, check_settings=False).searcher() as searcher:
        found = searcher.doc_count()
    if found != expected:
        raise IndexDamagedError(
            f"the index in {index_dir} holds {found} paragraphs instead of {expected}; "
            "run the same command again with --rebuild"
        )
