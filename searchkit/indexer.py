"""Build and update the index. Owns the Whoosh writer and its lock.

Every run is one Whoosh commit: until it lands, searchers keep seeing the previous index, and a
failed run leaves that index as it was. A rebuild clears the old segments in the same commit.
"""

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Optional

from whoosh import index as whoosh_index
from whoosh import writing
from whoosh.index import LockError

from . import store
from .corpus import Progress, read_corpus
from .errors import IndexLockedError, SearchkitError
from .model import IndexSummary
from .schema import document, make_schema

# Above this many paragraphs, two processes analyse in parallel (Whoosh's MpWriter with one
# segment per process; merging them afterwards would cost the gain back). Below it, starting
# the processes costs more than it saves.
PARALLEL_FROM = 5000
LOCK_TIMEOUT = 2.0  # seconds to wait for another writer before giving up

Stage = Callable[[str, int], Progress]  # (label, total) -> progress callback


def _open_writer(ix, paragraphs: int):
    parallel = paragraphs >= PARALLEL_FROM
    options = dict(timeout=LOCK_TIMEOUT, limitmb=128, compound=False)
    if parallel:
        options.update(procs=2, multisegment=True)
    try:
        return ix.writer(**options)
    except LockError:
        raise IndexLockedError(
            f"the index in {ix.storage.folder} is being written by another searchkit process; "
            "wait for it to finish and try again"
        ) from None


def build_index(
    paths: Iterable[Path],
    index_dir: Path,
    rebuild: bool = False,
    progress: Optional[Stage] = None,
) -> IndexSummary:
    """Index the article files under ``paths`` into ``index_dir``.

    Without ``rebuild``, the files read replace their earlier versions in an existing index
    and everything else in it stays; with it, the index holds exactly these files afterwards.
    """
    started = time.monotonic()
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
        ix = whoosh_index.create_in(str(index_dir), make_schema())

    writer = _open_writer(ix, corpus.paragraphs)
    try:
        if not fresh:
            for path in sorted({a.path for a in corpus.articles}):
                writer.delete_by_term("path", path)
        add = progress("indexing", corpus.paragraphs) if progress else None
        put = writer.add_document if fresh else writer.update_document
        done = 0
        for article in corpus.articles:
            for paragraph in article.paragraphs:
                put(**document(article, paragraph))
                done += 1
                if add and done % 100 == 0:
                    add(done, corpus.paragraphs)
        if add:
            add(done, corpus.paragraphs)
        writer.commit(mergetype=writing.CLEAR if fresh else None)
    except BaseException:
        writer.cancel()
        raise

    if fresh:
        _verify_count(index_dir, corpus.paragraphs)
    earlier = [] if fresh else store.read_settings(index_dir).get("indexed_paths", [])
    store.write_settings(
        index_dir,
        {
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "indexed_paths": list(dict.fromkeys(earlier + [str(p) for p in paths])),
        },
    )
    return IndexSummary(
        index_dir=str(index_dir),
        files=corpus.files,
        articles=len(corpus.articles),
        paragraphs=corpus.paragraphs,
        blocks_by_kind=corpus.blocks_by_kind,
        skipped_files=tuple(corpus.skipped),
        warnings=tuple(corpus.warnings),
        seconds=time.monotonic() - started,
    )


def _verify_count(index_dir: Path, expected: int) -> None:
    """Parallel writing has been seen to drop documents: check the commit holds them all."""
    with whoosh_index.open_dir(str(index_dir)).searcher() as searcher:
        found = searcher.doc_count()
    if found != expected:
        raise SearchkitError(
            f"the index in {index_dir} holds {found} paragraphs instead of {expected}; "
            "run the same command again with --rebuild"
        )
