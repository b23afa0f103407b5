"""searchkit: search news articles by paragraph — who said this, where, and when?

Library use::

    import searchkit

    searchkit.build_index(["seeds"], "index")          # -> IndexSummary
    with searchkit.open_index("index") as searcher:    # -> Searcher
        results = searcher.search('"renounce violence"', limit=5)
    for hit in results.hits:                           # Hit: id, source, date, snippet, ...
        print(hit.source, hit.date, hit.snippet.text)

Everything returned is a frozen dataclass from ``searchkit.model``; every error is a
``searchkit.SearchkitError`` whose message says what to do.
"""

from pathlib import Path
from typing import Iterable, Optional, Union

from .config import SearchOptions, default_index_dir
from .errors import (
    CorpusError,
    IndexDamagedError,
    IndexEmptyError,
    IndexFolderError,
    IndexLockedError,
    IndexMissingError,
    IndexSettingsError,
    IndexWriteError,
    NotFoundError,
    QueryError,
    QueryFileError,
    SearchkitError,
    UsageError,
)
from .model import (
    Article,
    ArticleView,
    DocumentHit,
    Duplicate,
    DuplicateGroup,
    Facets,
    Hit,
    IndexStats,
    IndexSummary,
    Paragraph,
    ResultGroup,
    SearchResults,
    Snippet,
)

__version__ = "0.1.0"

PathLike = Union[str, Path]

__all__ = [
    "build_index", "open_index", "search", "SearchOptions", "Filters",
    "Article", "ArticleView", "DocumentHit", "Duplicate", "DuplicateGroup", "Facets", "Hit",
    "IndexStats", "IndexSummary",
    "Paragraph", "ResultGroup", "SearchResults", "Snippet",
    "SearchkitError", "CorpusError", "IndexDamagedError", "IndexEmptyError", "IndexFolderError",
    "IndexLockedError", "IndexMissingError",
    "IndexSettingsError", "IndexWriteError", "NotFoundError", "QueryError", "QueryFileError",
    "UsageError",
]


def build_index(
    paths: Iterable[PathLike],
    index_dir: Optional[PathLike] = None,
    rebuild: bool = False,
    dedup_threshold: Optional[float] = None,
    prune: bool = False,
    **options,
) -> IndexSummary:
    """Index the article files under ``paths``: add new files, re-index changed ones, leave
    unchanged ones alone (``prune``: remove those gone); see ``searchkit.indexer.build_index``
    for the other ``options``."""
    from .indexer import build_index as build

    return build(
        [Path(p) for p in paths],
        Path(index_dir or default_index_dir()),
        rebuild=rebuild,
        dedup_threshold=dedup_threshold,
        prune=prune,
        **options,
    )


def open_index(index_dir: Optional[PathLike] = None, options: SearchOptions = SearchOptions()):
    """A ``Searcher`` on the index (use it as a context manager, or call ``close()``)."""
    from .searcher import Searcher

    return Searcher(Path(index_dir or default_index_dir()), options)


def search(query: str, index_dir: Optional[PathLike] = None, **options) -> SearchResults:
    """Open the index, run one query, close it; ``options`` are ``Searcher.search``'s (limit,
    collapse, filters, sort, page, facets, variants). For many queries, reuse ``open_index``."""
    with open_index(index_dir) as searcher:
        return searcher.search(query, **options)


def __getattr__(name):
    """``searchkit.Filters`` without importing numpy until it is asked for."""
    if name == "Filters":
        from .plan import Filters

        return Filters
    raise AttributeError(f"module 'searchkit' has no attribute {name!r}")
