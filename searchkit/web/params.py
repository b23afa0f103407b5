"""What a URL asks for, read and checked: every parameter of a page or an API call, or a
``BadRequest`` that says which one is wrong and why (a 400 page, never a traceback). The URL
holds a search's whole state, so ``SearchRequest.url`` writes it back for links that change
one part of it (a facet clicked, a filter removed, another page)."""

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import quote, urlencode

from ..config import MAX_QUERY_CHARS as QUERY_CHARS
from ..config import SORTS
from ..model import INDEXED_KINDS

MAX_VALUE_CHARS = 1000  # longer than any name typed (the query's limit is the library's)
# A query is read up to this many characters, and the library refuses one over its limit
# with the length it has: the page says so with the paste kept in the box to be cut.
MAX_PASTE_CHARS = 4 * QUERY_CHARS
MAX_ID_CHARS = 1000
MAX_PAGE = 10_000  # deeper than anyone pages; keeps the work of one request bounded
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
MAX_SOURCES = 20
MAX_GROUPS = 100
DEFAULT_GROUPS = 20
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # but \t \n \r
_LINE_BREAK = re.compile("\r\n|[\r\n]")
_DIGITS = re.compile("[0-9]+")  # not str.isdigit: it takes "²" and "①", which int() refuses


class BadRequest(ValueError):
    """A parameter that cannot be used, with what to write instead."""


class Params:
    """A request's query string: each name given at most once, unless it may repeat, and no
    name the page does not know."""

    def __init__(self, pairs: Iterable[Tuple[str, str]], known: Sequence[str],
                 repeatable: Sequence[str] = ()):
        self.values: Dict[str, List[str]] = {}
        for name, value in pairs:
            if name not in known:
                takes = ", ".join(known) if known else "no parameters"
                raise BadRequest(f"unknown parameter {name!r}; this page takes {takes}")
            # a query is pasted text: its tabs and line breaks are white space
            if (_CONTROL_IN_TEXT if name == "q" else _CONTROL).search(value):
                raise BadRequest(f"{name}: control characters are not allowed")
            self.values.setdefault(name, []).append(value)
        for name, values in self.values.items():
            if len(values) > 1 and name not in repeatable:
                raise BadRequest(f"{name} is given {len(values)} times; give it once")

    def text(self, name: str, default: str = "", most: int = MAX_VALUE_CHARS) -> str:
        value = self.values.get(name, [default])[0].strip()
        if len(value) > most:
            raise BadRequest(f"{name} is longer than {most} characters")
        return value

    def all(self, name: str) -> Tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in self.values.get(name, ()) if v.strip()))

    def number(self, name: str, default: int, least: int, most: int) -> int:
        value = self.text(name)
        if not value:
            return default
        if not _DIGITS.fullmatch(value) or not least <= int(value) <= most:
            raise BadRequest(f"{name} must be a whole number from {least} to {most}, "
                             f"not {value!r}")
        return int(value)

    def choice(self, name: str, options: Sequence[str], default: str = "") -> str:
        value = self.text(name) or default
        if value and value not in options:
            raise BadRequest(f"{name} must be one of {', '.join(options)}, not {value!r}")
        return value

    def flag(self, name: str) -> bool:
        return self.choice(name, ("0", "1"), "0") == "1"


def date_bound(name: str, text: str, end: bool = False) -> Optional[date]:
    """"2020", "2020-08" or "2020-08-18" as the first day of that period (the last with
    ``end``); None for nothing; BadRequest for anything else."""
    if not text:
        return None
    match = _DATE.fullmatch(text)
    try:
        if not match:
            raise ValueError
        year, month, day = (int(g) if g else None for g in match.groups())
        if day or not end:
            return date(year, month or 1, day or 1)
        if month:
            return date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 12, 31)
    except ValueError:
        raise BadRequest(f"{name}: {text!r} is not a date; write YYYY, YYYY-MM or "
                         "YYYY-MM-DD") from None


SEARCH_PARAMS = ("q", "source", "since", "until", "kind", "sort", "page", "n", "exact",
                 "format")


@dataclass(frozen=True)
class SearchRequest:
    """A search as the URL states it (dates kept as typed, for the form and for links)."""

    query: str = ""
    sources: Tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    kind: str = ""
    sort: str = SORTS[0]
    page: int = 1
    limit: int = DEFAULT_LIMIT
    exact: bool = False

    @classmethod
    def read(cls, params: Params) -> "SearchRequest":
        sources = params.all("source")
        if len(sources) > MAX_SOURCES:
            raise BadRequest(f"at most {MAX_SOURCES} sources at once")
        if any(len(s) > MAX_VALUE_CHARS for s in sources):
            raise BadRequest(f"a source is longer than {MAX_VALUE_CHARS} characters")
        try:
            query = params.text("q", most=MAX_PASTE_CHARS)
        except BadRequest:  # (say the limit to cut it to: the library's)
            raise BadRequest(f"the query is over {MAX_PASTE_CHARS} characters long; the most "
                             f"is {QUERY_CHARS}") from None
        request = cls(
            query=query, sources=sources,
            since=params.text("since", most=10), until=params.text("until", most=10),
            kind=params.choice("kind", INDEXED_KINDS),
            sort=params.choice("sort", SORTS, SORTS[0]),
            page=params.number("page", 1, 1, MAX_PAGE),
            limit=params.number("n", DEFAULT_LIMIT, 1, MAX_LIMIT), exact=params.flag("exact"))
        since, until = request.dates()
        if since and until and since > until:
            raise BadRequest(f"since ({request.since}) is after until ({request.until})")
        return request

    @classmethod
    def salvage(cls, pairs: Sequence[Tuple[str, str]]) -> "SearchRequest":
        """What a refused search's URL says that can be read (its query, its sources, ...),
        each parameter on its own: the page that says what was wrong keeps the others in
        force for the next query. Dates in the wrong order are both left out."""
        kept = {}
        fields = {"q": "query", "source": "sources", "since": "since", "until": "until",
                  "kind": "kind", "sort": "sort", "n": "limit", "exact": "exact"}
        for name, field in fields.items():
            try:
                alone = Params([pair for pair in pairs if pair[0] == name], (name,), ("source",))
                kept[field] = getattr(cls.read(alone), field)
            except BadRequest:
                continue
        salvaged = cls(**kept)
        since, until = salvaged.dates()
        if since and until and since > until:
            salvaged = replace(salvaged, since="", until="")
        return salvaged

    @property
    def box(self) -> str:
        """The query as the search box shows it: a box holds no line break (a browser drops
        it, gluing the words it parted), so each is a space, as when a paste is typed in."""
        return _LINE_BREAK.sub(" ", self.query)

    def dates(self) -> Tuple[Optional[date], Optional[date]]:
        return date_bound("since", self.since), date_bound("until", self.until, end=True)

    def options(self) -> dict:
        """``Searcher.search``'s keyword arguments but ``filters`` (see ``pages.filters``)."""
        return dict(limit=self.limit, collapse=True, sort=self.sort, page=self.page,
                    facets=True, variants=not self.exact)

    def pairs(self) -> List[Tuple[str, str]]:
        """The query string's pairs, defaults left out: the shortest URL of this search."""
        pairs = [("q", self.query)] + [("source", s) for s in self.sources]
        pairs += [("since", self.since), ("until", self.until), ("kind", self.kind)]
        pairs += [("sort", self.sort if self.sort != SORTS[0] else "")]
        pairs += [("n", str(self.limit) if self.limit != DEFAULT_LIMIT else "")]
        pairs += [("exact", "1" if self.exact else ""),
                  ("page", str(self.page) if self.page != 1 else "")]
        return [(name, value) for name, value in pairs if value]

    def url(self, path: str = "/", **changes) -> str:
        """This search's URL with ``changes`` (a filter changed starts again at page 1)."""
        if "page" not in changes:
            changes["page"] = 1
        query = urlencode(replace(self, **changes).pairs())
        return f"{path}?{query}" if query else path

    @property
    def filtered(self) -> bool:
        return bool(self.sources or self.since or self.until or self.kind)


def id_from_path(value: str) -> str:
    """An id taken from a URL's path: any text an output printed, within bounds."""
    if not value.strip() or len(value) > MAX_ID_CHARS or _CONTROL.search(value):
        raise BadRequest("that is not a paragraph or article id; use one from search results")
    return value


def article_url(article_id: str, paragraph: Optional[int] = None) -> str:
    """The article page of ``article_id`` (a file's name: may hold '#', '?', '%', '/' and
    spaces, all encoded), with ``paragraph`` marked and scrolled to."""
    # A browser drops "." and ".." segments before asking (a record's id may hold them): such
    # an id keeps its slashes encoded too, one segment that reaches the server as written.
    dots = {".", ".."} & set(article_id.split("/"))
    path = "/article/" + quote(article_id, safe=":" if dots else "/:")
    return f"{path}?p={paragraph}#p{paragraph}" if paragraph else path
