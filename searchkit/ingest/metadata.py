"""Where and when an article was published, with a note of how each was found.

Pure functions over an article's classified blocks. A date that cannot be established from the
article itself (a dated byline or dateline, a date in its URL, a stated publication date) or a
manifest stays ``None``: a caption's photo date, an "Updated:" line or "on Tuesday" is not a
publication date.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

from ..model import (
    BYLINE,
    DATELINE,
    FROM_BYLINE,
    FROM_FILE_NAME,
    FROM_MANIFEST,
    FROM_OPTION,
    FROM_TEXT,
    FROM_UNKNOWN,
    FROM_URL,
    URL,
    Block,
)
from .encoding import surrogates_replaced, valid_text
from .safeload import brief

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = (r"(?:(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day"
            r"|(?:mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?),?\s+)?")  # "Mon 10 May 2021"

# The time of an ISO date-time: "T10:30:00Z", "T10:30:00.5+03:00".
_ISO_TIME = r"(?:T\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?"
# Whole-text date forms: "August 18, 2020", "18 August 2020", "2020-08-18", "2020/08/18",
# "2020-08-18T10:30:00Z".
_DATE_FORMS = [
    re.compile(_WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR, re.I),
    re.compile(_WEEKDAY + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR, re.I),
    re.compile(_YEAR + r"[-/](?P<month>\d{1,2})[-/]" + _DAY.replace("(?:st|nd|rd|th)?", "")
               + _ISO_TIME),
]
# What may follow a date on a date line: "10:31 GMT", "| 3.15 pm".
_TIME_OF_DAY = re.compile(
    r"[\s,|·–—-]*(?:(?:at\s+)?\d{1,2}[:.]\d\d(?:\s*[ap]\.?m\.?)?\s*[A-Z]{0,4})?\s*"
)
# A line that states its own publication date: "Published: August 18, 2020 10:31 GMT".
_PUBLISHED = re.compile(r"^(?:published|posted|first published)(?:\s+on)?\s*:?\s*(.+)$", re.I)
# A line that dates a revision ("Updated: 12 May 2021"): article metadata, not its publication.
_UPDATED = re.compile(r"^(?:last\s+)?(?:updated|modified)(?:\s+on)?\s*:?\s*(.+)$", re.I)
# Where a line of dates starts its next clause: "Published 10 May 2021, updated 12 May 2021".
_NEXT_CLAUSE = re.compile(
    r"(?:\s*[,;|·–—-][\s,;|·–—-]*(?:and\s+)?|\s+and\s+)"
    r"(?=(?:first\s+)?published|posted|(?:last\s+)?(?:updated|modified))", re.I)
# Dates in URLs and file names: /2020/08/18/, 2020-08-18, 20200818.
# Each stands apart from letters and digits, so that ids and hashes are not read as dates.
_DATE_IN_PATH = [
    re.compile(r"(?<![^\W_])" + _YEAR + r"/(?P<month>\d{1,2})/(?P<day>\d{1,2})(?![^\W_])"),
    re.compile(r"(?<![^\W_])" + _YEAR + r"[-_](?P<month>\d\d)[-_](?P<day>\d\d)(?![^\W_])"),
    re.compile(r"(?<![^\W_])" + _YEAR + r"(?P<month>[01]\d)(?P<day>[0-3]\d)(?![^\W_])"),
]
# Marks between a byline's parts: "By Jane Doe, Reuters", "By Jane Doe | AFP | August 18, 2020".
_BYLINE_SEPARATORS = r"(?:[,|·•–—]|\s-)"
_BYLINE_SEPARATOR = re.compile(r"\s*" + _BYLINE_SEPARATORS + r"\s*")
# "By Tatiana Kalinovskaya for AFP", "By Jane Doe (Reuters)", "By Jane Doe, Reuters".
_BYLINE_OUTLET = re.compile(
    r"(?:\bfor\s+(?:the\s+)?|\(|" + _BYLINE_SEPARATORS + r"\s*)"
    r"(?P<outlet>[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*){0,3})\)?\s*$"
)


def _make_date(match) -> Optional[date]:
    month = match.group("month")
    month_number = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
    try:
        return date(int(match.group("year")), month_number, int(match.group("day")))
    except ValueError:  # 2020-02-31 and the like
        return None


def parse_date(text: str) -> Optional[date]:
    """The date ``text`` consists of (allowing a weekday, a time and a time zone), else None."""
    text = text.strip().strip("*_").strip()
    for form in _DATE_FORMS:
        match = form.match(text)
        if match and _only_time_follows(text[match.end():]):
            return _make_date(match)
    return None


_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d\d)-(\d\d)(?:$|[T\s])")


def parse_date_value(value) -> Optional[date]:
    """A date given as data (front matter, HTML metadata, a JSON record): a date or datetime
    object, an ISO date or timestamp ("2020-08-18", "2020-08-18T10:31:00+03:00"), or a date
    written out ("August 18, 2020", "Tue, 18 Aug 2020 10:31 GMT"); else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    iso = _ISO_DATE.match(value)
    if iso:
        try:
            return date(*(int(part) for part in iso.groups()))
        except ValueError:
            return None
    return parse_date(re.sub(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+", "", value.strip(),
                             flags=re.I))


# The years a stated date may have: 0001-01-01 and 9999-12-31 are what databases and exports
# write for "no date", and would be listed as the first and last to print a paragraph.
PUBLICATION_YEARS = range(1500, 2200)


def plausible_date(day: Optional[date]) -> Optional[date]:
    """``day`` if it may be a publication date (its year in PUBLICATION_YEARS), else None."""
    return day if day is not None and day.year in PUBLICATION_YEARS else None


FIELDS = ("title", "source", "date", "url")  # what a manifest or a file may state
_NOT_A_UNIX_TIME = " (a number is read as a Unix time in seconds or milliseconds, from 1973 on)"
_YYYY_MM_DD = re.compile(r"^\d{4}-\d\d-\d\d$")


def iso_date(value) -> Optional[date]:
    """A date written YYYY-MM-DD (and nothing else), else None."""
    text = str(value).strip()
    if not _YYYY_MM_DD.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# A number stated as a date is a Unix time: seconds from this on, milliseconds from this times
# 1000 on (both 1973-03-03); a smaller number (a year, 20200818) is not a time.
_UNIX_SECONDS_MIN, _UNIX_MILLISECONDS_MIN = 10 ** 8, 10 ** 11


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unix_time_date(value) -> Optional[date]:
    """The UTC date of a Unix time given as a number, in seconds or milliseconds; else None."""
    if not _is_number(value):
        return None
    seconds = value / 1000 if value >= _UNIX_MILLISECONDS_MIN else value
    if not seconds >= _UNIX_SECONDS_MIN:  # (so written that NaN is refused too)
        return None
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).date()
    except (OverflowError, ValueError, OSError):  # past the year 9999
        return None


def validated_fields(data: dict, where: str, dates=parse_date_value,
                     unknown_warned: bool = False) -> Tuple[dict, List[str]]:
    """title, source, date and url from ``data``, with a warning for each value that cannot be
    used: a list or mapping, a bool, an url that is not http(s), a date ``dates`` cannot read
    (``iso_date`` for manifests, whose format says YYYY-MM-DD) that is not a Unix time given as
    a number (``_unix_time_date``). Text has its white space collapsed and lone surrogates
    replaced. Other keys are ignored, with a warning if ``unknown_warned``. The one validator
    of these fields, for manifests and files alike."""
    fields, warnings = {}, []
    if unknown_warned:
        warnings += [f"{where}: unknown field {brief(key)} ignored (known: {', '.join(FIELDS)})"
                     for key in data if key not in FIELDS]
    for key in FIELDS:
        value = data.get(key)
        if value is None or value == "":
            continue
        if key == "date":
            found = _unix_time_date(value) or dates(value)
            if found is not None and not plausible_date(found):
                shown = value.isoformat() if isinstance(value, date) else brief(value)  # (YAML's)
                warnings.append(f"{where}: date {shown} ignored: no publication date (a year "
                                f"from {PUBLICATION_YEARS[0]} to {PUBLICATION_YEARS[-1]})")
                continue
            if found is None:
                warnings.append(f"{where}: date {brief(value)} ignored: write it as YYYY-MM-DD"
                                f"{_NOT_A_UNIX_TIME if _is_number(value) else ''}")
                continue
            fields[key] = found
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value, replaced = valid_text(" ".join(str(value).split()))
            if replaced:
                warnings.append(f"{where}: {key}: {surrogates_replaced(replaced)}")
            if key == "url" and not value.startswith(("http://", "https://")):
                warnings.append(f"{where}: url {brief(value)} ignored: not an http(s) address")
                continue
            fields[key] = value
        else:
            warnings.append(f"{where}: {key} {brief(value)} ignored: not a single value")
    return fields, warnings


def _only_time_follows(rest: str) -> bool:
    return _TIME_OF_DAY.fullmatch(rest) is not None


def is_date_line(text: str) -> bool:
    """A line that gives a date and nothing else ("August 18, 2020", "Published: 2020-08-18",
    "Updated: 12 May 2021", "Published 10 May 2021, updated 12 May 2021")."""
    return _date_line(text)[1]


def _stated_date(text: str) -> Optional[Tuple[date, str]]:
    """The publication date a date line states, with where it was found; None for any other
    line, an "Updated: ..." line included."""
    return _date_line(text)[0]


def _date_line(text: str) -> Tuple[Optional[Tuple[date, str]], bool]:
    """(``_stated_date``, ``is_date_line``) of a line, worked out together: a build asks both
    of every line."""
    found = parse_date(text)
    if found:
        return (found, FROM_BYLINE), True
    stripped = text.strip()
    published = _PUBLISHED.match(stripped)
    if published:
        found = parse_date(published.group(1))
        if found:
            return (found, FROM_TEXT), True
    updated = None if published else _UPDATED.match(stripped)
    if updated and parse_date(updated.group(1)):
        return None, True
    clauses = (published or updated) and _dated_clauses(stripped)
    if clauses:
        when = next((when for clause, when in clauses if clause is _PUBLISHED), None)
        return ((when, FROM_TEXT) if when else None), True
    return None, False


def _dated_clauses(text: str) -> Optional[List[Tuple[re.Pattern, date]]]:
    """(_PUBLISHED or _UPDATED, its date) of each clause of a line of such clauses and nothing
    else ("Published 10 May 2021, updated 12 May 2021 | 3.15 pm"), else None."""
    parts = _NEXT_CLAUSE.split(text.strip())
    if len(parts) < 2:
        return None
    clauses = []
    for part in parts:
        for clause in (_PUBLISHED, _UPDATED):
            match = clause.match(part)
            when = match and parse_date(match.group(1))
            if when:
                clauses.append((clause, when))
                break
        else:
            return None
    return clauses


def date_in_path(text: str) -> Optional[date]:
    """A date written into a URL or file name (/2020/08/18/, 2020-08-18, 20200818)."""
    for form in _DATE_IN_PATH:
        for match in form.finditer(text):
            found = _make_date(match)
            if found:
                return found
    return None


def find_url(text: str) -> Optional[str]:
    match = re.search(r"https?://[^\s<>()\"']+", text)
    return match.group(0).rstrip(".,;") if match else None


def outlet_from_url(url: str) -> Optional[str]:
    host = urlsplit(url).hostname or ""
    host = host[4:] if host.startswith("www.") else host
    return host or None


# "Source: Reuters" on a line of its own: the outlet the article names as its source
_SOURCE_LINE = re.compile(r"^source\s*:\s*(?P<outlet>\w[^:]{0,59})$", re.I)
_SOURCE_WORDS = 6  # more, and the line is a sentence about a source, not its name


def source_named(line: str) -> Optional[str]:
    """The outlet a "Source: Reuters" line names, or None (not such a line; an address; a
    sentence)."""
    match = _SOURCE_LINE.match(line.strip())
    if not match:
        return None
    outlet = match.group("outlet").strip()
    if outlet.lower().startswith("www.") or outlet.endswith((".", "!", "?", ";", ",")) \
            or len(outlet.split()) > _SOURCE_WORDS:
        return None
    return outlet


_BY = re.compile(r"^by\s+", re.I)


def _byline_parts(byline: str) -> Tuple[str, Optional[date]]:
    """A byline's names and the publication date it ends with, if any:
    "By Jane Doe for AFP, August 18, 2020" -> ("By Jane Doe for AFP", 2020-08-18)."""
    text = byline.strip().removesuffix(".")  # ("By Jane Doe for AFP." names AFP)
    if _stated_date(_BY.sub("", text)):  # "By Tuesday, August 18, 2020": a deadline
        return text, None
    for separator in _BYLINE_SEPARATOR.finditer(text):
        stated = _stated_date(text[separator.end():])
        if stated:
            return text[:separator.start()], stated[0]
    return text, None


def outlet_from_byline(byline: str) -> Optional[str]:
    match = _BYLINE_OUTLET.search(_byline_parts(byline)[0])
    return match.group("outlet") if match else None


def _date_in_line(block: Block) -> Optional[Tuple[date, str]]:
    """The publication date a dateline or a dated byline states, with where it was found."""
    if block.kind == DATELINE:
        return _stated_date(block.text)
    if block.kind == BYLINE:
        found = _byline_parts(block.text)[1]
        return (found, FROM_BYLINE) if found else None
    return None


@dataclass(frozen=True)
class Metadata:
    title: str
    source: Optional[str]  # None: no source found
    source_from: str
    date: Optional[date]
    date_from: str
    url: Optional[str]


def describe(
    title: str,
    blocks: Iterable[Block],
    file_stem: str,
    manifest: Optional[dict] = None,
    stated: Optional[dict] = None,
    stated_from: str = FROM_UNKNOWN,
    date_from_file_name: bool = True,
    default_source: Optional[str] = None,
) -> Metadata:
    """Source, date and URL of one article, each with where it was found.

    Date: the manifest, what the file states about itself (``stated``: front matter, an HTML
    page's metadata, a JSON record; reported as ``stated_from``), a dated byline or dateline
    (or a "Published:" line), a date in the URL, a date in the file name, else None. Source:
    the manifest, ``stated``, the URL's domain, a "Source: NAME" line, a byline's outlet
    ("for AFP"), else
    ``default_source`` (``index --source``), else None: a file's name says nothing of who
    published it. ``manifest`` and ``stated`` hold already validated fields (title, source,
    date, url).
    ``date_from_file_name=False``: the file holds many articles (JSON lines), and a date in its
    name is when it was made, not when they were published.
    """
    manifest = manifest or {}
    stated = stated or {}
    blocks = list(blocks)
    url = manifest.get("url") or stated.get("url") or next(
        (find_url(b.text) for b in blocks if b.kind == URL and find_url(b.text)), None
    )
    date_found, date_from = _date_of(blocks, file_stem, url, manifest, stated, stated_from,
                                     date_from_file_name)
    source, source_from = _source_of(blocks, url, manifest, stated, stated_from, default_source)
    return Metadata(
        title=manifest.get("title") or stated.get("title") or title,
        source=source,
        source_from=source_from,
        date=date_found,
        date_from=date_from,
        url=url,
    )


def _date_of(blocks: List[Block], file_stem: str, url: Optional[str], manifest: dict,
             stated: dict, stated_from: str, date_from_file_name: bool
             ) -> Tuple[Optional[date], str]:
    """The article's date and where it was found, in ``describe``'s order."""
    if manifest.get("date"):
        return manifest["date"], FROM_MANIFEST
    if stated.get("date"):
        return stated["date"], stated_from
    in_text = next((found for found in map(_date_in_line, blocks) if found), None)
    if in_text:
        return in_text
    if url and date_in_path(url):
        return date_in_path(url), FROM_URL
    if date_from_file_name and date_in_path(file_stem):
        return date_in_path(file_stem), FROM_FILE_NAME
    return None, FROM_UNKNOWN


def _source_of(blocks: List[Block], url: Optional[str], manifest: dict, stated: dict,
               stated_from: str, default_source: Optional[str]) -> Tuple[Optional[str], str]:
    """The article's source and where it was found, in ``describe``'s order."""
    if manifest.get("source"):
        return manifest["source"], FROM_MANIFEST
    if stated.get("source"):
        return stated["source"], stated_from
    if url and outlet_from_url(url):
        return outlet_from_url(url), FROM_URL
    named = next((n for n in (source_named(_byline_parts(b.text)[0]) for b in blocks
                              if b.kind == BYLINE) if n), None)
    if named:
        return named, FROM_TEXT
    outlet = next((o for o in (outlet_from_byline(b.text) for b in blocks if b.kind == BYLINE)
                   if o), None)
    if outlet:
        return outlet, FROM_BYLINE
    return default_source, FROM_OPTION if default_source else FROM_UNKNOWN
