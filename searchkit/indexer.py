"""Build and update the index. Owns the Whoosh writer and its lock.

Every run is one Whoosh commit: until it lands, searchers keep seeing the previous index, and a
failed run leaves that index as it was. A rebuild clears the old segments in the same commit.
"""

import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

from . import dedup, store, vocabulary
from .corpus import Progress, read_corpus
from .errors import SearchkitError
from .model import ArticleSummary, IndexSummary
from .schema import document, make_schema

# Above this many paragraphs, two processes analyse in parallel (Whoosh's MpWriter with one
# segment per process; merging them afterwards would cost the gain back). Below it, starting
# the processes costs more than it saves.
PARALLEL_FROM = 5000

Stage = Callable[[str, int], Progress]  # (label, total) -> progress callback


def _open_writer(ix, paragraphs: int, wait: float):
    return store.open_writer(ix, parallel=paragraphs >= PARALLEL_FROM, wait=wait)


def build_index(
    paths: Iterable[Path],
    index_dir: Path,
    rebuild: bool = False,
    progress: Optional[Stage] = None,
    dedup_threshold: Optional[float] = None,
    find_duplicates: bool = True,
    wait: float = store.LOCK_WAIT,
) -> IndexSummary:
    """Index the article files under ``paths`` into ``index_dir``.

    Without ``rebuild``, the files read replace their earlier versions in an existing index
    and everything else in it stays; with it, the index holds exactly these files afterwards.
    Near-duplicate groups are worked out again over the whole index on every run, so they never
    depend on the order files came in; ``dedup_threshold`` (default: the one the index was built
    with, else ``dedup.DEFAULT_THRESHOLD``) sets how alike copies must be. ``find_duplicates=False``
    leaves every paragraph in a group of its own (for measuring what grouping costs).
    ``wait``: seconds to wait for another process writing the index (then IndexLockedError).
    """
    started = time.monotonic()
    if dedup_threshold is not None and not 0 < dedup_threshold <= 1:
        raise SearchkitError(
            f"the duplicate threshold must be above 0 and at most 1, not {dedup_threshold}"
        )
    index_dir = Path(index_dir)
    paths = [Path(p) for p in paths]
    index_dir.mkdir(parents=True, exist_ok=True)  # fail before the reading, not after it
    corpus = read_corpus(paths, progress=progress("reading", 0) if progress else None)

    fresh = rebuild or not store.exists(index_dir)
    ix = None
    if store.exists(index_dir):
        try:
            ix = store.open_index(index_dir)
        except SearchkitError:
            if not rebuild:
                raise  # built with other settings: only a rebuild may replace it
    if ix is None:  # no index yet, or one that a rebuild starts over
        ix = store.create_index(index_dir, make_schema(), wait)
    recorded = store.read_settings(index_dir)  # even a rebuild keeps the chosen threshold
    if dedup_threshold is None:
        dedup_threshold = recorded.get("dedup_threshold", dedup.DEFAULT_THRESHOLD)

    writer = _open_writer(ix, corpus.paragraphs, wait)
    try:
        new_docs = [document(a, p) for a in corpus.articles for p in a.paragraphs]
        replaced = {a.path for a in corpus.articles}
        kept = [] if fresh else _kept_documents(writer, replaced, {d["id"] for d in new_docs})
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
        store.commit(writer, clear=fresh)
    except BaseException as error:
        store.cancel(writer, error)
        raise

    if fresh:
        _verify_count(index_dir, len(new_docs))
    vocabulary.save(vocabulary.count(d["text"] for d in kept + new_docs), index_dir)
    store.write_settings(
        index_dir,
        {
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "indexed_paths": list(
                dict.fromkeys(
                    ([] if fresh else recorded.get("indexed_paths", [])) + [str(p) for p in paths]
                )
            ),
            "dedup_threshold": dedup_threshold,
        },
    )
    sizes = Counter(groups.values())
    return IndexSummary(
        index_dir=str(index_dir),
        files=corpus.files,
        articles=len(corpus.articles),
        paragraphs=corpus.paragraphs,
        blocks_by_kind=corpus.blocks_by_kind,
        skipped_files=tuple(corpus.skipped),
        warnings=tuple(corpus.warnings),
        seconds=time.monotonic() - started,
        duplicate_groups=sum(1 for n in sizes.values() if n > 1),
        paragraphs_in_groups=sum(n for n in sizes.values() if n > 1),
        regrouped=len(regrouped),
        article_summaries=tuple(
            ArticleSummary(a.id, len(a.paragraphs), a.source, a.source_from, a.date, a.date_from)
            for a in corpus.articles
        ),
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
        raise SearchkitError(
            f"the index in {index_dir} holds {found} paragraphs instead of {expected}; "
            "run the same command again with --rebuild"
        )
