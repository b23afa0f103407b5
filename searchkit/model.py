"""The data searchkit hands out: frozen records, never Whoosh objects."""

import json
import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Type, TypeVar, Union

if TYPE_CHECKING:  # (typing has it from Python 3.11; type checkers ship typing_extensions)
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_):
        return lambda cls: cls


class _FieldsSignature:
    """A record class's signature for ``help()`` and ``inspect``: its fields with their types
    and defaults, made when first asked for (``inspect`` is not imported with searchkit)."""

    def __get__(self, record, cls):
        from inspect import Parameter, Signature

        annotations = cls.__dict__.get("__annotations__", {})
        return Signature([
            Parameter(name, Parameter.POSITIONAL_OR_KEYWORD, annotation=annotations.get(name),
                      default=cls._defaults.get(name, Parameter.empty))
            for name in cls._fields])


@dataclass_transform(frozen_default=True)  # type checkers see each record's fields as arguments
class Record:
    """What searchkit's records are made of: their fields are the class's annotations (with
    defaults), set once when made; they compare and hash by value and show as
    ``Name(field=value, ...)``, as frozen dataclasses do. Not dataclasses: building a
    dataclass compiles its methods at import, a good part of a one-query process's start.
    A mutable default (``{}``) is copied for each record."""

    __slots__ = ("__dict__",)
    _fields: Tuple[str, ...] = ()
    _defaults: Dict[str, Any] = {}
    __signature__ = _FieldsSignature()

    def __init_subclass__(cls, **options):
        super().__init_subclass__(**options)
        cls._fields = tuple(cls.__dict__.get("__annotations__", {}))
        cls._defaults = {name: cls.__dict__[name] for name in cls._fields
                         if name in cls.__dict__}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) == len(fields) and not kwargs:  # every field in order: a build's blocks
            object.__setattr__(self, "__dict__", dict(zip(fields, args)))
            return
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields")
        values = dict(zip(fields, args))
        for name, value in kwargs.items():
            if name not in fields or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated {name!r}")
            values[name] = value
        if len(values) < len(fields):
            for name in fields:
                if name not in values:
                    if name not in self._defaults:
                        raise TypeError(f"{type(self).__name__}: missing {name!r}")
                    default = self._defaults[name]
                    values[name] = default.copy() if isinstance(default, dict) else default
        object.__setattr__(self, "__dict__", {name: values[name] for name in fields})

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only: make a new one (replace)")

    __delattr__ = __setattr__

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self):
        return hash(tuple(self.__dict__.values()))

    def __repr__(self):
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__dict__.items())
        return f"{type(self).__name__}({shown})"


class LazyRecords(Sequence):
    """Records made from compact rows as they are asked for (``_record``): a run's summary
    lists every file and article it saw, and an object each grew the run's end with the
    corpus. Compares, hashes and shows as the tuple of its records."""

    def _record(self, n: int) -> Record:
        raise NotImplementedError

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self[n] for n in range(*k.indices(len(self))))
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return self._record(k % len(self))

    def __eq__(self, other):
        if not isinstance(other, (tuple, LazyRecords)):
            return NotImplemented
        return tuple(self) == tuple(other)

    def __hash__(self):
        return hash(tuple(self))

    def __repr__(self):
        return repr(tuple(self))


_Record = TypeVar("_Record", bound=Record)


def fields_of(record: Union[Record, Type[Record]]) -> Tuple[str, ...]:
    """The field names of a record or record class, in order."""
    return record._fields


def replace(record: _Record, **changes: Any) -> _Record:
    """A copy of ``record`` with some fields changed."""
    return type(record)(**{**record.__dict__, **changes})


def to_dict(value: Any, dict_factory: Callable[[list], Any] = dict) -> Any:
    """``value`` with every record in it as a dict of its fields (made by ``dict_factory``
    from (name, value) pairs), recursively through tuples, lists and dicts, as
    ``dataclasses.asdict`` does."""
    if isinstance(value, Record):
        return dict_factory([(name, to_dict(item, dict_factory))
                             for name, item in value.__dict__.items()])
    if isinstance(value, LazyRecords):
        return tuple(to_dict(item, dict_factory) for item in value)
    if isinstance(value, (list, tuple)):
        return type(value)(to_dict(item, dict_factory) for item in value)
    if isinstance(value, dict):
        return {to_dict(k, dict_factory): to_dict(v, dict_factory) for k, v in value.items()}
    return value


def jsonable(value: Any) -> Any:
    """``to_dict(value)`` as ``json.dumps`` takes it: dates as "YYYY-MM-DD" text, tuples as
    lists."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Record):
        return {name: jsonable(item) for name, item in value.__dict__.items()}
    if isinstance(value, (list, tuple, LazyRecords)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {jsonable(k): jsonable(v) for k, v in value.items()}
    return value


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


class Block(Record):
    """One block of an article file (usually a line or a blank-line separated paragraph)."""

    kind: str
    text: str
    line: int  # 1-based line number in the file where the block starts


class Paragraph(Record):
    """A searchable unit: a body paragraph or a photo caption of an article."""

    id: str  # "<article_id>#<number>"
    article_id: str
    number: int  # 1-based position among the article's indexed paragraphs
    kind: str  # BODY or CAPTION
    text: str


class Article(Record):
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


class Snippet(Record):
    """Highlighted extract of a paragraph: ``highlights`` are [start, end) offsets into ``text``."""

    text: str
    highlights: Tuple[Tuple[int, int], ...] = ()


class Hit(Record):
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


class Duplicate(Record):
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
    source_from: str  # how the source and the date were found, as a Hit's
    date_from: str
    exact: bool  # the same text but for case, punctuation and quote marks


class ResultGroup(Record):
    """One result: the best-scoring paragraph of a group of near-identical paragraphs, and the
    group's other members, earliest date first (undated last): who printed it first, who
    reprinted it."""

    leader: Hit
    duplicates: Tuple[Duplicate, ...] = ()

    @property
    def size(self) -> int:
        return 1 + len(self.duplicates)


class DuplicateGroup(Record):
    """Near-identical paragraphs found in the corpus, earliest date first (undated last);
    ``exact`` on each member is relative to the first."""

    key: str
    members: Tuple[Duplicate, ...]


class ArticleView(Record):
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


class Facets(Record):
    """How the matching paragraphs spread over sources and months."""

    sources: Dict[str, int]  # source -> matching paragraphs, most first
    months: Dict[str, int]  # "YYYY-MM" -> matching paragraphs, in date order
    undated: int  # matching paragraphs with no date
    unknown_source: int = 0  # matching paragraphs with no known source


class SearchResults(Record):
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
    variants: Dict[str, Tuple[str, ...]] = {}  # name -> spellings added
    suggestion: Optional[str] = None  # "did you mean": a corrected query that finds more
    # What else to know about how the query was run, one line each: a part left out, characters
    # that cannot be searched for, an unknown field, a date sort on undated paragraphs.
    notes: Tuple[str, ...] = ()

    @property
    def hits(self) -> Tuple[Hit, ...]:
        return tuple(group.leader for group in self.groups)


class DocumentHit(Record):
    """One document (article) in a ranked list for evaluation, scored whole (BM25F over
    articles: its paragraphs' words together)."""

    rank: int
    doc_id: str  # a JSON-lines record's own id, else the article id
    score: float
    article_id: str
    paragraph_id: str  # its paragraph that best matches the query's words


class SkippedFile(Record):
    path: str
    reason: str


class ArticleSummary(Record):
    """One article an indexing run read, with what it found out about it."""

    id: str
    paragraphs: int
    source: Optional[str]
    source_from: str
    date: Optional[date]
    date_from: str


class IndexSummary(Record):
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
    article_summaries: Sequence = ()  # of ArticleSummary (a tuple, or LazyRecords)
    # What happened to each file, by count: new files added, changed ones re-read, files that
    # disappeared removed (--prune) or left in the index (missing), the rest left alone. A
    # rebuild re-reads every file the index it replaces held (updated) and removes the rest.
    # Files moved or renamed since they were indexed are read again at their new paths and
    # replace their old selves (moved).
    added: int = 0
    updated: int = 0
    removed: int = 0
    missing: int = 0
    unchanged: int = 0
    moved: int = 0
    file_actions: Sequence = ()  # of FileAction (a tuple, or LazyRecords)
    committed: bool = True  # False when there was nothing to change
    # Paragraphs by kind (body, caption), passages of split paragraphs included: they add up
    # to ``paragraphs``, where ``blocks_by_kind`` counts the blocks the files were made of.
    paragraphs_by_kind: Dict[str, int] = {}
    unread_files: Dict[str, int] = {}  # files of types not read, by suffix
    # Where the run's time went: (stage, seconds) in order (the build's cost lines).
    stage_seconds: Tuple[Tuple[str, float], ...] = ()


class FileAction(Record):
    """What an indexing run did with one file, and how (its encoding, or why it was skipped)."""

    path: str
    action: str  # added, updated, moved, unchanged, removed, missing, skipped
    detail: str = ""


class IndexStats(Record):
    """What an index holds."""

    index_dir: str
    articles: int
    paragraphs: int
    sources: Dict[str, int]  # source -> number of articles, most first
    kinds: Dict[str, int]  # paragraph kind -> number of paragraphs
    first_date: Optional[date]
    last_date: Optional[date]
    undated_articles: int
    settings: Dict[str, object] = {}
    unknown_source: int = 0  # articles with no known source


class CheckReport(Record):
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


class OptimizeSummary(Record):
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
