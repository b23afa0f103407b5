"""Settings: every tunable in one place, with its default and where it can be overridden.

Defaults are overridden by ``SEARCHKIT_*`` environment variables, which the command-line flags
override in turn (click reads the variables through ``envvar=``).
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING

from . import arguments
from .model import Record

DEFAULT_INDEX_DIR = Path("index")
DEFAULT_CORPUS_DIR = Path("seeds")
INDEX_ENV = "SEARCHKIT_INDEX"
# A Dask scheduler's address: `searchkit index` builds on that cluster (as --cluster).
CLUSTER_ENV = "SEARCHKIT_CLUSTER"

# File types the indexer reads; anything else under a folder is ignored. Plain text and
# Markdown (with optional YAML front matter), HTML article pages, JSON lines (one article a line).
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
MARKDOWN_SUFFIXES = (".md", ".markdown")  # their tables, code blocks and quotes are markup
HTML_SUFFIXES = (".html", ".htm")
JSONL_SUFFIXES = (".jsonl",)
ARTICLE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES

# A file over this size is skipped unread. 64 MB is eight times the largest real input we know of
# (BEIR SciFact's corpus.jsonl, 8 MB; a Reuters-21578 SGML file is 1.3 MB) and about ten million
# words; reading it holds its bytes, its text and its paragraphs at once (measured in
# docs/safety.md: ~4x the size, ~10x when one emoji makes Python hold the text at 4 bytes a
# character). A larger dump should be split into several files.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# A paragraph longer than this many words is split into passages of at most this many (at
# sentence ends where possible). 400 keeps 98% of SciFact's abstracts whole (median 192 words,
# 99th percentile 454) and every ordinary news paragraph (BBC: 12,814 paragraphs, a handful over
# 400), while a one-line 50 MB file becomes ~20,000 passages instead of one document over
# Whoosh's 106,374-token field cap. A passage is also cut at PASSAGE_CHARS_PER_WORD characters
# per word allowed, so that text without spaces (a giant token, CJK) is bounded too.
DEFAULT_PASSAGE_WORDS = 400
PASSAGE_CHARS_PER_WORD = 12

# A file that would give more paragraphs (blocks of text, JSON-lines records, an HTML page's
# paragraphs) than this is skipped, found out as they are read. Each paragraph costs far more
# than its text (objects while reading, a document to index: ~3.5 KB at the peak of an index
# run), so a 64 MB file of one-word lines would otherwise need gigabytes and hours; a 64 MB
# file of news paragraphs (BBC's average ~390 bytes) has ~170,000.
MAX_PARAGRAPHS_PER_FILE = 200_000

# Seconds a writer (index, optimize) waits for another one before giving up (--wait).
LOCK_WAIT = 2.0

# How alike near-identical paragraphs must be to share a group (--dedup-threshold): the share
# of the shorter one's word 3-grams found in the other; chosen by bench/dedup_quality.py
# (docs/near-duplicates.md).
DEFAULT_DEDUP_THRESHOLD = 0.6

# Result orders: best first, oldest first, newest first (undated paragraphs last either way).
SORTS = ("score", "date", "-date")
MAX_QUERY_CHARS = 5000  # characters of a query at most: a pasted paragraph or two


def default_index_dir() -> Path:
    """The index location: ``$SEARCHKIT_INDEX`` if set, else ``./index``."""
    return Path(os.environ.get(INDEX_ENV) or DEFAULT_INDEX_DIR)


class SearchOptions(Record):
    """How a search is run and its results are cut."""

    limit: int = 10  # hits returned
    snippet_fragments: int = 2  # sentences per snippet
    snippet_maxchars: int = 240  # a longer sentence is cut to a window around its matches
    title_weight: float = 0.3  # BM25F weight of the title field relative to the paragraph text
    # BM25F's term-frequency saturation (k1) and length normalisation (b), and the title weight,
    # chosen on SciFact's train queries (bench/relevance.py; the figures in bench/README.md).
    bm25_k1: float = 0.9
    bm25_b: float = 0.9

    if not TYPE_CHECKING:  # type checkers take the fields above for the arguments
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            vars(self).update(
                limit=arguments.whole("limit", self.limit),
                snippet_fragments=arguments.whole("snippet_fragments", self.snippet_fragments),
                snippet_maxchars=arguments.whole("snippet_maxchars", self.snippet_maxchars),
                title_weight=arguments.number("title_weight", self.title_weight),
                bm25_k1=arguments.number("bm25_k1", self.bm25_k1),
                bm25_b=arguments.number("bm25_b", self.bm25_b, most=1))
