"""Results as text: tables (tabulate), plain blocks, JSON lines. Pure functions, no click.

Highlights are drawn by a ``mark`` function (text -> text) that the caller chooses: colour on
a terminal, ``[word]`` markers in a pipe.

Text from article files (titles, sources, paragraphs, ids, file names) may hold control
characters that a terminal would obey (``ESC ]0;title BEL`` retitles the window, ``ESC [2J``
clears it, ``\x9b`` is an 8-bit CSI). Every renderer of text for a terminal or a pipe passes
what it is given through ``printable`` first (the ``@for_terminal`` decorator), so that only
searchkit's own styling (``mark``) emits escape sequences; JSON escapes them instead (``dumps``).
"""

import functools
import json
import os
import re
from datetime import date
from typing import Callable, Dict, List, Optional, Sequence

from ..model import (  # noqa: F401  (dumps: render.dumps for the commands)
    ArticleView,
    CheckReport,
    Duplicate,
    DuplicateGroup,
    Facets,
    Hit,
    IndexStats,
    IndexSummary,
    LazyRecords,
    Record,
    ResultGroup,
    SearchResults,
    Snippet,
    dumps,
    fields_of,
    jsonable,
    replace,
)
from ..retrieval.typed import TEXT_NOTE

Mark = Callable[[str], str]

# C0 controls but tab and newline, DEL, C1 controls, lone surrogates (which no encoding can
# print), and the bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069),
# with which a file's text could show a terminal's line in another order than it is written.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def _visible(match: "re.Match") -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ESC -> ␛, BEL -> ␇
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls, lone surrogates, bidirectional controls: �


def printable(text: str) -> str:
    """``text`` safe to write to a terminal: C0 control characters (but tab and newline) and DEL
    shown as their Control Pictures signs (␛, ␇, ␈, ...), C1 controls, lone surrogates and
    bidirectional controls as U+FFFD; one character for one, so offsets into the text stay
    valid."""
    return _UNPRINTABLE.sub(_visible, text) if _UNPRINTABLE.search(text) else text


def _printable_data(value):
    """``value`` with every string in it made printable: strings, records, tuples, lists,
    ``LazyRecords`` (as a tuple) and dicts (keys too); a value with nothing to change is
    returned as it is."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, Record):
        changed = {}
        for name in fields_of(value):
            old = getattr(value, name)
            new = _printable_data(old)
            if new is not old:
                changed[name] = new
        return replace(value, **changed) if changed else value
    if isinstance(value, LazyRecords):  # (its records made anew each time: made once here)
        return tuple(_printable_data(item) for item in value)
    if isinstance(value, (tuple, list)):
        items = [_printable_data(item) for item in value]
        same = all(new is old for new, old in zip(items, value))
        return value if same else type(value)(items)
    if isinstance(value, dict):
        pairs = [(_printable_data(k), _printable_data(v)) for k, v in value.items()]
        same = all(k is k0 and v is v0 for (k, v), (k0, v0) in zip(pairs, value.items()))
        return value if same else dict(pairs)
    return value


def for_terminal(render: Callable[..., str]) -> Callable[..., str]:
    """A renderer of text whose arguments (results, articles, summaries, from files and
    indexes) are made printable before it formats them."""

    @functools.wraps(render)
    def rendered(*args, **kwargs):
        return render(*map(_printable_data, args),
                      **{k: _printable_data(v) for k, v in kwargs.items()})

    return rendered


def tabulate(*args, **kwargs) -> str:
    """``tabulate.tabulate``, imported on first use: importing it is slow (it reads its
    package metadata), and plain, JSON lines and JSON output need no table."""
    from tabulate import tabulate as table

    return table(*args, **kwargs)


SOURCE_WIDTH = 24
TITLE_WIDTH = 32
MIN_SOURCE_WIDTH = 8  # "source" and tabulate's padding of headers
MIN_TITLE_WIDTH = 8
MIN_SNIPPET_WIDTH = 30
GAP = 2  # tabulate's "simple" format puts two spaces between columns
HEADER_PADDING = 2  # ...and makes a column at least this much wider than its header
MIN_PLACE_WIDTH = 24  # a column of places ('source, date, "title" (id)') in `duplicates`
ALSO_IN_SHOWN = 3  # places listed in "also in N others: ...; and K more"
PLACE_TITLE_WIDTH = 120  # columns of a title naming a place: real headlines fit, a page does not
TOP_SOURCES = 10  # sources listed by stats and facets before "and N more"
UNKNOWN = "—"  # a missing source or date, in text output

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def brackets(text: str) -> str:
    return f"[{text}]"


def cells(text: str) -> int:
    """Columns ``text`` takes on a terminal: colour codes none, East Asian wide characters
    two, combining marks none; measured as tabulate measures its cells (wcwidth), so that
    tables and wrapped text agree."""
    text = _ANSI.sub("", text)
    if text.isascii():
        return len(text)
    from wcwidth import wcswidth, wcwidth  # imported on first use, as tabulate is

    width = wcswidth(text)
    if width < 0:  # a control character, which has no width: a tab (``printable`` keeps it)
        width = sum(w if w >= 0 else 1 for w in map(wcwidth, text))
    return width


def wrap(text: str, width: Optional[int], indent: str = "", cut: bool = True) -> str:
    """``text`` broken at spaces into lines of at most ``width`` columns, each line after the
    first starting with ``indent`` (a hanging indent); a word longer than a line is cut (with
    ``cut=False``, put on a line of its own, whole: a URL or a path to copy).
    ``width`` None: the text as it is. Colour codes take no room."""
    if width is None or ("\n" not in text and cells(text) <= width):
        return text
    room = max(width - cells(indent), 1)
    lines: List[str] = []
    for part in text.split("\n"):
        body = part.lstrip(" ")
        lead = part[: len(part) - len(body)]
        line, used, limit = lead, cells(lead), (width if not lines else room)
        fresh = True  # nothing but the lead on this line yet
        for word in body.split(" "):
            size = cells(word)
            while True:
                need = size + (0 if fresh else 1)
                if used + need <= limit:
                    line, used, fresh = line + ("" if fresh else " ") + word, used + need, False
                    break
                free = limit - used - (0 if fresh else 1)
                # The word goes on the next line, unless it is longer than a whole line (text
                # without spaces: Chinese, Japanese) and to be cut: then it fills this one.
                if not fresh and (not cut or size <= room
                                  or cells(_ANSI.sub("", word)[:1]) > free):
                    lines.append(line)
                    line, used, limit, fresh = "", 0, room, True
                    continue
                if not cut:
                    line, used, fresh = line + word, used + size, False
                    break
                head, word = _cut(word, max(free, 1))
                lines.append(line + ("" if fresh else " ") + head)
                line, used, limit, size, fresh = "", 0, room, cells(word), True
                if not word:
                    break
        lines.append(line)
    return ("\n" + indent).join(lines)


def _cut(word: str, room: int):
    """``word`` split after ``room`` columns (at least one character; colour codes kept whole)."""
    taken, used = 0, 0
    while taken < len(word):
        code = _ANSI.match(word, taken)
        if code:
            taken = code.end()
            continue
        size = cells(word[taken])
        if used + size > room and taken:
            break
        taken, used = taken + 1, used + size
    return word[:taken], word[taken:]


def _source(item) -> str:
    return item.source or UNKNOWN


def marked(snippet: Snippet, mark: Mark) -> str:
    """The snippet's text with each highlighted range passed through ``mark``."""
    out, pos = [], 0
    for start, end in snippet.highlights:
        out += [snippet.text[pos:start], mark(snippet.text[start:end])]
        pos = end
    out.append(snippet.text[pos:])
    return "".join(out)


def _iso(day: Optional[date], missing=None):
    """A date as YYYY-MM-DD, or ``missing`` for none."""
    return day.isoformat() if day else missing


def _score(hit: Hit) -> str:
    return "—" if hit.score is None else f"{hit.score:.2f}"


def _date(hit: Hit) -> str:
    return _iso(hit.date, UNKNOWN)


def _place(item) -> str:
    """Where a paragraph appeared: 'source, date, "title" (paragraph id)'; a title longer
    than PLACE_TITLE_WIDTH is cut with "…" (the id opens the article, title and all)."""
    when = _iso(item.date, "undated")
    title = item.title
    if cells(title) > PLACE_TITLE_WIDTH:
        title = _cut(title, PLACE_TITLE_WIDTH - 1)[0].rstrip() + "…"
    return f"{_source(item)}, {when}, “{title}” ({item.id})"


@for_terminal
def also_in(group: ResultGroup, most: int = ALSO_IN_SHOWN) -> str:
    """ "also in 2 others: source, date (id); ..." or "" for a paragraph without copies; past
    ``most`` places, "and K more" (``show`` lists them all)."""
    if not group.duplicates:
        return ""
    n = len(group.duplicates)
    places = "; ".join(_place(d) for d in group.duplicates[:most])
    more = f"; and {n - most} more" if n > most else ""
    return f"also in {_counted(n, 'other')}: {places}{more}"


def _fixed_width(rows, column: int, header: str) -> int:
    """The width tabulate gives a column it does not wrap (its header and two more at least)."""
    return max([cells(header) + HEADER_PADDING] + [cells(str(row[column])) for row in rows])


@for_terminal
def hits_table(results: SearchResults, mark: Mark, width: int = 120) -> str:
    """Results as a table no wider than ``width`` columns: rank, score, date, source, title
    and the snippet with the paragraph's id (and where else it appeared) under it; long cells
    wrap at spaces. Too narrow for the columns, the results are the plain blocks instead."""
    rows = []
    for group in results.groups:
        hit = group.leader
        snippet = f"{marked(hit.snippet, mark)}\nid: {hit.id}"
        if group.duplicates:
            snippet += "\n(" + also_in(group) + ")"
        rows.append([hit.rank, _score(hit), _date(hit), _source(hit), hit.title, snippet])
    headers = ["#", "score", "date", "source", "title", "snippet"]
    fixed = sum(_fixed_width(rows, i, headers[i]) for i in range(3))
    rest = width - fixed - GAP * (len(headers) - 1)  # for source, title and snippet
    if rest < MIN_SOURCE_WIDTH + MIN_TITLE_WIDTH + MIN_SNIPPET_WIDTH:
        return hits_plain(results, mark, width)
    source_width = min(SOURCE_WIDTH, _fixed_width(rows, 3, headers[3]))
    title_width = min(TITLE_WIDTH, _fixed_width(rows, 4, headers[4]))
    snippet_width = max(rest - source_width - title_width, rest // 2, MIN_SNIPPET_WIDTH)
    if source_width + title_width + snippet_width > rest:  # a narrow terminal: share it
        spare = rest - snippet_width
        source_width = max(MIN_SOURCE_WIDTH, min(source_width, spare * 2 // 5))
        title_width = max(MIN_TITLE_WIDTH, spare - source_width)
        snippet_width = rest - source_width - title_width
    return tabulate(
        rows,
        headers=headers,
        maxcolwidths=[None, None, None, source_width, title_width, snippet_width],
        disable_numparse=True,
        break_on_hyphens=False,
    )


@for_terminal
def hits_plain(results: SearchResults, mark: Mark, width: Optional[int] = None) -> str:
    """One block per result: title, where and what it is, the snippet, where else it
    appeared; wrapped at spaces to ``width`` columns with a hanging indent (None: one line
    each)."""
    blocks = []
    for group in results.groups:
        hit = group.leader
        about = f"{_source(hit)} · {_date(hit)} · {hit.id} · {hit.kind} · score {_score(hit)}"
        lines = [f"{hit.rank}. {hit.title}", f"   {about}", f"   {marked(hit.snippet, mark)}"]
        if group.duplicates:
            lines.append(f"   {also_in(group)}")
        blocks.append("\n".join(wrap(line, width, "   ") for line in lines))
    return "\n\n".join(blocks)


def record(item, keys: Sequence[str] = (), **renamed: str) -> Dict[str, object]:
    """The JSON form of a record: its fields (nested ones too) with dates as YYYY-MM-DD;
    ``keys``: only these, in this order (the order docs/commands.md shows); ``renamed``: a JSON
    name -> the field it holds."""
    fields = jsonable(item)
    return {key: fields[renamed.get(key, key)] for key in keys or fields}


# The fields a hit and a duplicate share, in their JSON order (a duplicate's end with how its
# source and date were found and ``exact``).
_PARAGRAPH_KEYS = tuple(name for name in fields_of(Duplicate)
                        if name not in ("source_from", "date_from", "exact"))
_HIT_KEYS = ("rank", "score", *_PARAGRAPH_KEYS, "source_from", "date_from")


def hit_record(hit: Hit) -> Dict[str, object]:
    """The JSON form of a hit (the fields docs/commands.md documents for ``--format jsonl``)."""
    return {**record(hit, _HIT_KEYS), **record(hit.snippet, ("snippet", "highlights"),
                                                snippet="text")}


def duplicate_record(duplicate: Duplicate) -> Dict[str, object]:
    return record(duplicate)


def group_record(group: ResultGroup) -> Dict[str, object]:
    """A result as JSON: its best paragraph, plus ``group`` and its ``duplicates``."""
    return {
        **hit_record(group.leader),
        "group": group.leader.group,
        "duplicates": [duplicate_record(d) for d in group.duplicates],
    }


def results_json(results: SearchResults, with_summary: bool = False) -> str:
    """``--format json``: one array of results, or with facets {"results": [...],
    "summary": {...}}."""
    records = [group_record(g) for g in results.groups]
    if with_summary:
        return dumps({"results": records, **json.loads(summary_json(results))}, indent=2)
    return dumps(records, indent=2)


def hits_jsonl(results: SearchResults) -> str:
    return "\n".join(dumps(group_record(g)) for g in results.groups)


def duplicate_groups_jsonl(groups: Sequence[DuplicateGroup]) -> str:
    return "\n".join(
        dumps({"group": g.key, "size": len(g.members),
               "members": [duplicate_record(m) for m in g.members]})
        for g in groups
    )


@for_terminal
def duplicate_groups_table(groups: Sequence[DuplicateGroup], width: int = 120) -> str:
    """Groups as a table no wider than ``width`` columns: size, who printed it first, the
    paragraph, who printed it again. Too narrow for that, the plain blocks instead."""
    rows = []
    for g in groups:
        first, copies = g.members[0], g.members[1:]
        places = "\n".join(
            _place(m) + ("" if m.exact else " — edited") for m in copies
        )
        rows.append([len(g.members), _place(first), first.text, places])
    headers = ["size", "first (earliest)", "paragraph", "also in"]
    rest = width - _fixed_width(rows, 0, headers[0]) - GAP * (len(headers) - 1)
    if rest < 3 * MIN_PLACE_WIDTH:
        return duplicate_groups_plain(groups, width)
    place_width = rest * 3 // 10
    return tabulate(
        rows,
        headers=headers,
        maxcolwidths=[None, place_width, rest - 2 * place_width, place_width],
        disable_numparse=True,
        break_on_hyphens=False,
    )


@for_terminal
def duplicate_groups_plain(groups: Sequence[DuplicateGroup], width: Optional[int] = None) -> str:
    """One block per group: the paragraph, then every place it appeared, earliest first;
    wrapped to ``width`` columns with a hanging indent (None: one line each)."""
    blocks = []
    for g in groups:
        first = g.members[0]
        lines = [f"{len(g.members)} × {first.text}", f"   first: {_place(first)}"]
        lines += [
            f"   also:  {_place(m)}{'' if m.exact else ' (edited)'}" for m in g.members[1:]
        ]
        indents = ["    "] + ["          "] * (len(lines) - 1)  # under the text, the place
        blocks.append("\n".join(wrap(line, width, indent) for line, indent in zip(lines, indents)))
    return "\n\n".join(blocks)


@for_terminal
def article_text(view: ArticleView, mark: Mark, context: Optional[int] = None,
                 width: Optional[int] = None) -> str:
    """An article with its metadata; the marked paragraph (if any) flagged with "▶" and
    passed through ``mark``; with ``context``, only that many paragraphs around it. Wrapped
    at spaces to ``width`` columns, each paragraph's lines under its first (None: one line
    each)."""
    when = _iso(view.date, UNKNOWN)
    lines = [
        wrap(view.title, width),
        wrap(f"source: {_source(view)} (from {view.source_from}) · date: {when} "
             f"(from {view.date_from})", width, "  "),
        wrap(f"file: {_near(view.path)}" + (f" · url: {view.url}" if view.url else ""),
             width, "  ", cut=False),
        "",
    ]
    shown = list(view.paragraphs)
    if view.marked is not None and context is not None:
        first = max(1, view.marked - context)
        last = view.marked + context
        shown = [p for p in view.paragraphs if first <= p.number <= last]
        if first > 1:
            lines.append(f"      … {first - 1} paragraph{'s' if first > 2 else ''} before")
    number_width = len(str(len(view.paragraphs)))
    for paragraph in shown:
        here = paragraph.number == view.marked
        text = mark(paragraph.text) if here else paragraph.text
        label = f"{'▶' if here else ' '} {paragraph.number:>{number_width}}"
        kind = " (caption)" if paragraph.kind == "caption" else ""
        head = f"{label}{kind}  "
        lines.append(wrap(head + text, width, " " * (cells(label) + 2)))
    after = len(view.paragraphs) - (shown[-1].number if shown else 0)
    if after > 0:
        lines.append(f"      … {after} paragraph{'s' if after > 1 else ''} after")
    if view.duplicates:
        n = len(view.duplicates)
        places = f"{n} other place{'s' if n > 1 else ''}"
        lines += ["", wrap(f"paragraph {view.marked} also appears in {places}:", width)]
        lines += [wrap(f"  {_place(d)}{'' if d.exact else ' (edited)'}", width, "    ")
                  for d in view.duplicates]
    return "\n".join(lines)


def article_record(view: ArticleView) -> Dict[str, object]:
    keys = ("id", "title", "source", "source_from", "date", "date_from", "path", "url", "marked")
    return {
        **record(view, keys),
        "paragraphs": [record(p, ("id", "paragraph", "kind", "text"), paragraph="number")
                       for p in view.paragraphs],
        "duplicates": [duplicate_record(d) for d in view.duplicates],
    }


@for_terminal
def notes(results: SearchResults, variants_hint: str = "", text_hint: str = "") -> List[str]:
    """What the user should know about how the query was run, one line each, for stderr.
    ``text_hint`` follows the note on what of the query was read as text."""
    lines = [f"note: {results.note}"] if results.note else []
    lines += [f"note: {note}" + (f" ({text_hint})" if note.startswith(TEXT_NOTE) and text_hint
                                  else "") for note in results.notes]
    lines += [
        f"note: also searched for {', '.join(spellings)} (spellings close to {name}"
        f"{variants_hint})"
        for name, spellings in results.variants.items()
    ]
    lines += [f"did you mean: {results.suggestion}"] if results.suggestion else []
    left_out = results.undated_left_out
    if left_out:
        lines.append(
            f"note: {_counted(left_out, 'matching paragraph')} "
            f"{'has' if left_out == 1 else 'have'} no date and "
            f"{'was' if left_out == 1 else 'were'} left out by the date filter"
        )
    return lines


@for_terminal
def count_line(results: SearchResults, collapsed: bool) -> str:
    """What the results are out of, for stderr."""
    if not results.total:
        return f"no paragraphs match {results.query!r}"
    total = results.total_groups if collapsed else results.total
    if not results.groups:
        return f"page {results.page} is empty: there {'is' if total == 1 else 'are'} " \
            f"{_counted(total, 'result')}"
    first = results.groups[0].leader.rank
    shown = f"{first}-{first + len(results.groups) - 1}" if len(results.groups) > 1 else first
    paragraphs = _counted(results.total, "matching paragraph")
    if not collapsed:
        return f"{shown} of {paragraphs}"
    return f"{shown} of {_counted(total, 'result')} ({paragraphs}, near-identical ones shown once)"


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def facets_record(facets: Facets) -> Dict[str, object]:
    return record(facets, ("sources", "unknown_source", "months", "undated"))


def summary_json(results: SearchResults) -> str:
    """The last line of ``--format jsonl --facets``: totals and facets."""
    return dumps(
        {
            "summary": {
                **record(results, ("query", "total", "total_groups", "undated_left_out")),
                "facets": facets_record(results.facets),
            }
        }
    )


def _top(counts: Dict[str, int], unknown: int, noun: str, most: int) -> List[List[object]]:
    """Rows of the ``most`` largest counts, then "and N more <noun>s" with their total, and
    "—" for those with none known."""
    items = list(counts.items())
    rows: List[List[object]] = [[name, n] for name, n in items[:most]]
    rest = items[most:]
    if rest:
        rows.append([f"… and {_counted(len(rest), 'more ' + noun)}", sum(n for _, n in rest)])
    if unknown:
        rows.append([UNKNOWN, unknown])
    return rows


def _counts_table(rows: List[List[object]], headers: List[str], width: Optional[int]) -> str:
    """Names and their counts, the names wrapped to fit ``width`` columns (None: whole)."""
    name_width = None
    if width is not None:
        name_width = max(width - _fixed_width(rows, 1, headers[1]) - GAP, MIN_SOURCE_WIDTH)
    return tabulate(rows, headers=headers, maxcolwidths=[name_width, None],
                    disable_numparse=True)


@for_terminal
def facets_table(facets: Facets, most: int = TOP_SOURCES, width: Optional[int] = None) -> str:
    """Matching paragraphs per source (the ``most`` commonest, then how many more) and per
    month; sources wrapped to ``width`` columns (None: whole)."""
    sources = _counts_table(_top(facets.sources, facets.unknown_source, "source", most),
                            ["source", "paragraphs"], width)
    months = list(facets.months.items()) + ([["undated", facets.undated]] if facets.undated else [])
    return sources + "\n\n" + _counts_table(months, ["month", "paragraphs"], width)


def stats_record(stats: IndexStats) -> Dict[str, object]:
    keys = ("index", "articles", "paragraphs", "sources", "unknown_source_articles", "kinds",
            "first_date", "last_date", "undated_articles", "settings")
    return record(stats, keys, index="index_dir", unknown_source_articles="unknown_source")


@for_terminal
def stats_table(stats: IndexStats, most: int = TOP_SOURCES, width: Optional[int] = None) -> str:
    """What the index holds, its settings, and its ``most`` commonest sources (``--format
    json`` lists them all); wrapped at spaces to ``width`` columns, each value's lines under
    it (None: one line each). The index's path stays whole, to be copied."""
    span = UNKNOWN
    if stats.first_date:
        span = f"{stats.first_date.isoformat()} to {stats.last_date.isoformat()}"
    kinds = stats.kinds.items()
    summary = [
        ["index", stats.index_dir],
        ["articles", stats.articles],
        ["paragraphs", ", ".join([str(stats.paragraphs)] + [f"{n} {k}" for k, n in kinds])],
        ["dates", f"{span} ({_counted(stats.undated_articles, 'article')} undated)"],
        ["built", stats.settings.get("built", "—")],
        ["schema", stats.settings.get("schema_version", "—")],
        ["analyzer", (stats.settings.get("analyzer") or {}).get("filters", "—")],
        ["dedup threshold", stats.settings.get("dedup_threshold", "—")],
    ]
    under = " " * (max(cells(label) for label, _ in summary) + GAP)  # a value's later lines
    lines = [label.ljust(len(under)) + (str(value) if label == "index" else  # (to be copied)
                                        wrap(under + str(value), width, under)[len(under):])
             for label, value in summary]
    sources = _top(stats.sources, stats.unknown_source, "source", most)
    return "\n".join(lines) + "\n\n" + _counts_table(sources, ["source", "articles"], width)


@for_terminal
def articles_read(summary: IndexSummary) -> str:
    """One line per article read, for ``index --verbose``: what to check attributions by."""
    rows = [
        [a.id, a.paragraphs, f"{_source(a)} ({a.source_from})",
         f"{_iso(a.date, UNKNOWN)} ({a.date_from})"]
        for a in summary.article_summaries
    ]
    return tabulate(rows, headers=["article", "paragraphs", "source (from)", "date (from)"],
                    disable_numparse=True)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _near(path: str) -> str:
    """An indexed file's path (stored absolute) relative to the working folder when inside it,
    on one line: control characters of its name written as escapes (``\\n``), as ids do."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        relative = ".."
    shown = path if relative.startswith("..") else relative
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), shown)


def index_summary(summary: IndexSummary) -> str:
    """The report of an indexing run, for stderr."""
    # Its per-file and per-article records are not shown: not made printable either.
    return _index_summary(replace(summary, file_actions=(), article_summaries=()))


@for_terminal
def _index_summary(summary: IndexSummary) -> str:
    moved = f"{summary.moved} moved, " if summary.moved else ""
    files = (
        f"files: {summary.added} added, {summary.updated} updated, {moved}"
        f"{summary.removed} removed, {summary.unchanged} unchanged, "
        f"{len(summary.skipped_files)} skipped"
    )
    if not summary.committed:
        lines = [f"{summary.index_dir} is up to date ({summary.seconds:.1f} s); {files}"]
    else:
        kinds = summary.paragraphs_by_kind
        indexed = ", ".join(
            f"{kinds.get(k, 0)} {k}" for k in sorted({"body", "caption"} | set(kinds)))
        others = ", ".join(
            f"{n} {kind}"
            for kind, n in summary.blocks_by_kind.items()
            if kind not in ("body", "caption")
        )
        lines = [
            f"indexed {_counted(summary.files, 'file')} into {summary.index_dir}: "
            f"{_counted(summary.articles, 'article')}, "
            f"{_counted(summary.paragraphs, 'paragraph')} ({indexed}) in {summary.seconds:.1f} s",
            files,
            f"kept as article metadata or skipped: {others or 'nothing'}",
            f"near-identical paragraphs: {_counted(summary.duplicate_groups, 'group')} holding "
            f"{_counted(summary.paragraphs_in_groups, 'paragraph')}"
            + (f" ({_counted(summary.regrouped, 'paragraph')} indexed earlier changed group)"
               if summary.regrouped else ""),
        ]
    if summary.missing:
        lines.append(
            f"{_counted(summary.missing, 'indexed file')} "
            f"{'is' if summary.missing == 1 else 'are'} gone from disk or from PATHS and "
            f"{'stays' if summary.missing == 1 else 'stay'} searchable; --prune removes "
            f"{'it' if summary.missing == 1 else 'them'}"
        )
    if summary.unread_files:
        from ..ingest.corpus import unread_note  # indexing imported it; a search needs none

        lines.append(unread_note(summary.unread_files))
    if summary.skipped_files:
        lines.append(f"skipped {_counted(len(summary.skipped_files), 'file')}:")
        lines += [f"  {s.path}: {s.reason}" for s in summary.skipped_files]
    lines += [f"warning: {w}" for w in summary.warnings]
    return "\n".join(lines)


GONE = ("removed", "missing")  # the actions of files named from the ledger


@for_terminal
def file_actions(summary: IndexSummary) -> str:
    """One line per file, for ``index --verbose``: what was done with it and how. A file that
    is gone is named from the ledger, where its path is absolute: near, as the others are."""
    return "\n".join(
        f"{a.action:9}  {_near(a.path) if a.action in GONE else a.path}"
        + (f"  ({_detail(a)})" if a.detail else "")
        for a in summary.file_actions
    )


def _detail(action) -> str:
    """How a file was read, or why not; where a file found moved was (from the ledger)."""
    moved_from = "from "
    if action.action == "moved" and action.detail.startswith(moved_from):
        return moved_from + _near(action.detail[len(moved_from):])
    return action.detail


@for_terminal
def cluster_work(done: Dict[str, Dict[str, int]]) -> str:
    """One line per worker of a cluster build, for ``index --verbose``: what it did."""
    workers = sorted({w for by_worker in done.values() for w in by_worker})
    return "\n".join(
        f"worker {w}: " + ", ".join(f"{what} {by_worker.get(w, 0):,}"
                                    for what, by_worker in done.items())
        for w in workers)


@for_terminal
def check_report(report: CheckReport) -> str:
    """`searchkit check`'s report: what was checked, one line per problem or leftover, and how
    to repair."""
    if report.generation < 0:
        head = f"index: {report.index_dir}: none"
    else:
        head = (f"index: {report.index_dir} (commit {report.generation}, "
                f"{_counted(report.segments, 'segment')}, "
                f"{_counted(report.paragraphs, 'paragraph')}, "
                f"{_counted(report.files_checked, 'file')} checked against SHA-256)")
    lines = [head]
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"problem: {problem}" for problem in report.problems]
    if report.problems:
        lines.append(f"how to repair: {report.repair}")
    lines += [f"in use by a running `searchkit index`: {name}" for name in report.in_use]
    lines += [f"leftover: {name}" for name in report.leftovers]
    if report.leftovers:
        lines.append("nothing to repair: the next `searchkit index` run removes leftovers of "
                     "interrupted runs")
    if report.ok:
        lines.append("ok")
    return "\n".join(lines)
