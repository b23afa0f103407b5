"""Settings: every tunable in one place, with its default and where it can be overridden.

Defaults are overridden by ``SEARCHKIT_*`` environment variables, which the command-line flags
override in turn (click reads the variables through ``envvar=``).
"""

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INDEX_DIR = Path("index")
DEFAULT_CORPUS_DIR = Path("seeds")
INDEX_ENV = "SEARCHKIT_INDEX"

# File types the indexer reads; anything else under a folder is ignored.
ARTICLE_SUFFIXES = (".txt", ".md")


def default_index_dir() -> Path:
    """The index location: ``$SEARCHKIT_INDEX`` if set, else ``./index``."""
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX_DIR)


@dataclass(frozen=True)
class SearchOptions:
    """How a search is run and its results are cut."""

    limit: int = 10  # hits returned
    snippet_fragments: int = 2  # sentences per snippet
    snippet_maxchars: int = 240  # a longer sentence is cut to a window around its matches
    title_weight: float = 0.3  # BM25F weight of the title field relative to the paragraph text
