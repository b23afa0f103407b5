"""searchkit: search news articles by paragraph — who said this, where, and when?

Library use::

    import searchkit

    searchkit.build_index(["seeds"], "index")          # -> IndexSummary
    with searchkit.open_index("index") as searcher:    # -> Searcher
        results = searcher.search('"renounce violence"', limit=5)
    for hit in results.hits:                           # Hit: id, source, date, snippet, ...
        print(hit.source, hit.date, hit.snippet.text)

Everything returned is a frozen record from ``searchkit.model``; every error is a
``searchkit.SearchkitError`` whose message says what to do.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Optional, Union

from . import arguments
from .config import LOCK_WAIT, SearchOptions, default_index_dir
from .errors import (
    ClusterError,
    CorpusError,
    IndexChangedError,
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
    CheckReport,
    DocumentHit,
    Duplicate,
    DuplicateGroup,
    Facets,
    Hit,
    IndexStats,
    IndexSummary,
    OptimizeSummary,
    Paragraph,
    ResultGroup,
    SearchResults,
    Snippet,
)

if TYPE_CHECKING:  # imported when first asked for (__getattr__): numpy, the file readers
    from .index.cluster import Cluster
    from .ingest.corpus import ReadOptions
    from .retrieval.plan import Filters
    from .retrieval.searcher import Searcher

__version__ = "0.1.0"

PathLike = Union[str, Path]
# ``progress(label, total)`` at each stage of a build or optimize returns ``step(done, total)``.
Stage = Callable[[str, int], Callable[[int, int], None]]

__all__ = [
    "build_index", "open_index", "search", "check", "optimize",
    "SearchOptions", "Filters", "ReadOptions", "Searcher", "Cluster",
    "Article", "ArticleView", "CheckReport", "DocumentHit", "Duplicate", "DuplicateGroup",
    "Facets", "Hit", "IndexStats", "IndexSummary", "OptimizeSummary",
    "Paragraph", "ResultGroup", "SearchResults", "Snippet",
    "SearchkitError", "CorpusError", "IndexChangedError", "IndexDamagedError", "IndexEmptyError",
    "IndexFolderError", "IndexLockedError", "IndexMissingError",
    "IndexSettingsError", "IndexWriteError", "NotFoundError", "QueryError", "QueryFileError",
    "UsageError", "ClusterError",
]

# Public names whose modules are imported on first use: name -> module.
_LAZY = {"Filters": "retrieval.plan", "ReadOptions": "ingest.corpus",
         "Searcher": "retrieval.searcher", "Cluster": "index.cluster"}


def build_index(
    paths: Union[PathLike, Iterable[PathLike]],
    index_dir: Optional[PathLike] = None,
    rebuild: bool = False,
    dedup_threshold: Optional[float] = None,
    prune: bool = False,
    progress: Optional[Stage] = None,
    options: Optional["ReadOptions"] = None,
    wait: float = LOCK_WAIT,
    cluster: Optional["Cluster"] = None,
    find_duplicates: bool = True,
) -> IndexSummary:
    """Index the article files under ``paths``: add new files, re-index changed ones, leave
    unchanged ones alone (``prune``: remove those gone); see ``searchkit.index.build.build_index``
    for ``progress``, ``options=ReadOptions(...)``, ``wait``, ``cluster`` (an entered
    ``searchkit.Cluster``, to build on a Dask cluster) and ``find_duplicates``. One path (a
    str or a Path) is a list of that one."""
    from .index.build import build_index as build

    return build(
        paths,
        _index_dir(index_dir),
        rebuild=rebuild,
        dedup_threshold=dedup_threshold,
        prune=prune,
        progress=progress,
        options=options,
        wait=wait,
        cluster=cluster,
        find_duplicates=find_duplicates,
    )


def open_index(index_dir: Optional[PathLike] = None,
               options: SearchOptions = SearchOptions()) -> "Searcher":
    """A ``Searcher`` on the index (use it as a context manager, or call ``close()``)."""
    from .retrieval.searcher import Searcher

    return Searcher(_index_dir(index_dir), options)


def search(query: str, index_dir: Optional[PathLike] = None, **options: Any) -> SearchResults:
    """Open the index, run one query, close it; ``options`` are ``Searcher.search``'s (limit,
    collapse, filters, sort, page, facets, variants). For many queries, reuse ``open_index``."""
    with open_index(index_dir) as searcher:
        return searcher.search(query, **options)


def check(index_dir: Optional[PathLike] = None) -> CheckReport:
    """Verify the index's files and paragraphs against its last commit (``searchkit check``)."""
    from .index.store import check as verify

    return verify(_index_dir(index_dir))


def optimize(index_dir: Optional[PathLike] = None, wait: float = LOCK_WAIT,
             progress: Optional[Stage] = None) -> OptimizeSummary:
    """Merge the index's segments into one, waiting at most ``wait`` seconds for a running
    writer (``searchkit optimize``); ``progress`` as ``build_index``'s."""
    from .index.store import optimize as merge

    return merge(_index_dir(index_dir), wait=arguments.number("wait", wait),
                 progress=arguments.function("progress", progress))


def _index_dir(index_dir: Optional[PathLike]) -> Path:
    """The index folder given, or the default one for None (or "")."""
    if index_dir is None or (isinstance(index_dir, str) and not index_dir):
        return default_index_dir()
    return arguments.path("index_dir", index_dir)


def __getattr__(name: str) -> Any:
    """``Filters``, ``ReadOptions``, ``Searcher`` and ``Cluster`` without importing numpy, the
    file readers or Dask until they are asked for."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'searchkit' has no attribute {name!r}")


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))
