"""The data searchkit hands out: frozen dataclasses, never Whoosh objects."""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Dict, Optional, Tuple

# Block kinds. Only INDEXED_KINDS become searchable paragraphs; the others are article metadata
# (headline, byline, dateline, url) or are counted as skipped (subheading, credit, tag).
HEADLINE = "headline"
SUBHEADING = "subheading"
CAPTION = "caption"
CREDIT = "credit"
TAG = "tag"
BYLINE = "byline"
DATELINE = "dateline"
URL = "url"
BODY = "body"
INDEXED_KINDS = (BODY, CAPTION)

# Where a piece of metadata came from.
FROM_MANIFEST = "manifest"
FROM_BYLINE = "byline"
FROM_URL = "url"
FROM_TEXT = "text"
FROM_FILE_NAME = "file-name"
FROM_UNKNOWN = "unknown"
FROM_FRONT_MATTER = "front-matter"  # YAML front matter of a text or Markdown file
FROM_HTML = "html-metadata"  # an HTML page's metadata (meta tags, JSON-LD)
FROM_RECORD = "record"  # the fields of a JSON-lines record
FROM_OPTION = "option"  # the source given to `searchkit index --source NAME`


@dataclass(frozen=True)
class Block:
    """One block of an article file (usually a line or a blank-line separated paragraph)."""

    kind: str
    text: str
    line: int  # 1-based line number in the file where the block starts


@dataclass(frozen=True)
class Paragraph:
    """A searchable unit: a body paragraph or a photo caption of an article."""

    id: str  # "<article_id>#<number>"
    article_id: str
    number: int  # 1-based position among the article's indexed paragraphs
    kind: str  # BODY or CAPTION
    text: str


@dataclass(frozen=True)
class Article:
    """One news article with its metadata and the provenance of each piece."""

    id: str
    path: str
    title: str
    source: Optional[str]  # None when no source was found
    source_from: str
    date: Optional[date]
    date_from: str
    url: Optional[str]
    blocks: Tuple[Block, ...]
    paragraphs: Tuple[Paragraph, ...]
    # A JSON-lines record's own id (SciFact's "_id"): the document id of batch runs. None for
    # other articles, whose document id is the article id.
    record_id: Optional[str] = None

    @property
    def doc_id(self) -> str:
        return self.record_id or self.id


@dataclass(frozen=True)
class Snippet:
    """Highlighted extract of a paragraph: ``highlights`` are [start, end) offsets into ``text``."""

    text: str
    highlights: Tuple[Tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Hit:
    """One paragraph that matched a query, with its article's metadata."""

    rank: int
    score: Optional[float]  # None when results are sorted by date
    id: str
    article_id: str
    title: str
    source: Optional[str]
    source_from: str
    date: Optional[date]
    date_from: str
    path: str
    paragraph: int
    kind: str
    text: str
    snippet: Snippet
    group: str = ""  # near-duplicate group key (see Duplicate)


@dataclass(frozen=True)
class Duplicate:
    """Another place a paragraph appeared: a near-identical paragraph of its group."""

    id: str
    article_id: str
    title: str
    source: Optional[str]
    date: Optional[date]
    path: str
    paragraph: int
    kind: str
    text: str
    exact: bool  # the same text but for case, punctuation and quote marks


@dataclass(frozen=True)
class ResultGroup:
    """One result: the best-scoring paragraph of a group of near-identical paragraphs, and the
    group's other members, earliest date first (undated last): who printed it first, who
    reprinted it."""

    leader: Hit
    duplicates: Tuple[Duplicate, ...] = ()

    @property
    def size(self) -> int:
        return 1 + len(self.duplicates)


@dataclass(frozen=True)
class DuplicateGroup:
    """Near-identical paragraphs found in the corpus, earliest date first (undated last);
    ``exact`` on each member is relative to the first."""

    key: str
    members: Tuple[Duplicate, ...]


@dataclass(frozen=True)
class ArticleView:
    """An article as the index holds it, with one paragraph marked (a paragraph id was asked
    for) or none (an article id was)."""

    id: str
    title: str
    source: Optional[str]
    source_from: str
    date: Optional[date]
    date_from: str
    path: str
    url: Optional[str]
    paragraphs: Tuple[Paragraph, ...]
    marked: Optional[int] = None  # the marked paragraph's number
    duplicates: Tuple["Duplicate", ...] = ()  # where else the marked paragraph appeared


@dataclass(frozen=True)
class Facets:
    """How the matching paragraphs spread over sources and months."""

    sources: Dict[str, int]  # source -> matching paragraphs, most first
    months: Dict[str, int]  # "YYYY-MM" -> matching paragraphs, in date order
    undated: int  # matching paragraphs with no date
    unknown_source: int = 0  # matching paragraphs with no known source


@dataclass(frozen=True)
class SearchResults:
    """The answer to one query: the best groups, how many paragraphs and groups matched, and
    any note. With duplicates collapsed, each group is one result."""

    query: str
    total: int  # matching paragraphs
    total_groups: int  # matching groups (equal to total when not collapsed)
    groups: Tuple[ResultGroup, ...]
    note: Optional[str] = None  # e.g. how a malformed query was reinterpreted
    page: int = 1
    undated_left_out: int = 0  # paragraphs that matched but were left out by a date filter
    facets: Optional[Facets] = None
    variants: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # name -> spellings added
    suggestion: Optional[str] = None  # "did you mean": a corrected query that finds more
    # What else to know about how the query was run, one line each: a part left out, characters
    # that cannot be searched for, an unknown field, a date sort on undated paragraphs.
    notes: Tuple[str, ...] = ()

    @property
    def hits(self) -> Tuple[Hit, ...]:
        return tuple(group.leader for group in self.groups)


@dataclass(frozen=True)
class DocumentHit:
    """One document (article) in a ranked list for evaluation: its score is its best
    paragraph's."""

    rank: int
    doc_id: str  # a JSON-lines record's own id, else the article id
    score: float
    article_id: str
    paragraph_id: str  # the best-scoring paragraph


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class ArticleSummary:
    """One article an indexing run read, with what it found out about it."""

    id: str
    paragraphs: int
    source: Optional[str]
    source_from: str
    date: Optional[date]
    date_from: str


@dataclass(frozen=True)
class IndexSummary:
    """What one indexing run did."""

    index_dir: str
    files: int
    articles: int
    paragraphs: int
    blocks_by_kind: Dict[str, int]
    skipped_files: Tuple[SkippedFile, ...]
    warnings: Tuple[str, ...]
    seconds: float
    duplicate_groups: int = 0  # groups of near-identical paragraphs (2 or more) in the index
    paragraphs_in_groups: int = 0
    regrouped: int = 0  # paragraphs already in the index whose group changed
    article_summaries: Tuple[ArticleSummary, ...] = ()
    # What happened to each file, by count: new files added, changed ones re-read, files that
    # disappeared removed (--prune) or left in the index (missing), the rest left alone.
    added: int = 0
    updated: int = 0
    removed: int = 0
    missing: int = 0
    unchanged: int = 0
    file_actions: Tuple["FileAction", ...] = ()
    committed: bool = True  # False when there was nothing to change
    # Paragraphs by kind (body, caption), passages of split paragraphs included: they add up
    # to ``paragraphs``, where ``blocks_by_kind`` counts the blocks the files were made of.
    paragraphs_by_kind: Dict[str, int] = field(default_factory=dict)
    unread_files: Dict[str, int] = field(default_factory=dict)  # files of types not read, by suffix
    # Where the run's time went: (stage, seconds) in order (the build's cost lines).
    stage_seconds: Tuple[Tuple[str, float], ...] = ()


@dataclass(frozen=True)
class FileAction:
    """What an indexing run did with one file, and how (its encoding, or why it was skipped)."""

    path: str
    action: str  # added, updated, unchanged, removed, missing, skipped
    detail: str = ""


@dataclass(frozen=True)
class IndexStats:
    """What an index holds."""

    index_dir: str
    articles: int
    paragraphs: int
    sources: Dict[str, int]  # source -> number of articles, most first
    kinds: Dict[str, int]  # paragraph kind -> number of paragraphs
    first_date: Optional[date]
    last_date: Optional[date]
    undated_articles: int
    settings: Dict[str, object] = field(default_factory=dict)
    unknown_source: int = 0  # articles with no known source


@dataclass(frozen=True)
class CheckReport:
    """What `searchkit check` found: problems (damage: rebuild), files of a writer running now,
    leftovers of interrupted runs (harmless: the next indexing run removes them) and notes."""

    index_dir: str
    generation: int  # the current commit's number, -1 without an index
    segments: int
    paragraphs: int
    files_checked: int  # files compared with their recorded SHA-256
    problems: Tuple[str, ...] = ()
    leftovers: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    repair: str = ""  # the command that rebuilds the index
    in_use: Tuple[str, ...] = ()  # files of a writer running now

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class OptimizeSummary:
    """What `searchkit optimize` did (``merged`` is false when there was nothing to merge: one
    segment with no deleted paragraphs, or none)."""

    index_dir: str
    segments_before: int
    segments_after: int
    paragraphs: int
    seconds: float
    merged: bool = True


# JSON text of records, for every output that writes JSON.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def dumps(data, **options) -> str:
    """JSON text of ``data``, non-ASCII kept as it is. Python's encoder escapes C0 control
    characters; DEL, C1 controls and lone surrogates are escaped here too (``\\u009b``), so
    that JSON on a terminal is safe and printable in UTF-8: the same values."""
    text = json.dumps(data, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
