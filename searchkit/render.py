"""Results as text: tables (tabulate), plain blocks, JSON lines. Pure functions, no click.

Highlights are drawn by a ``mark`` function (text -> text) that the caller chooses: colour on
a terminal, ``[word]`` markers in a pipe.

Text from article files (titles, sources, paragraphs, ids, file names) may hold control
characters that a terminal would obey (``ESC ]0;title BEL`` retitles the window, ``ESC [2J``
clears it, ``\x9b`` is an 8-bit CSI). Every renderer of text for a terminal or a pipe passes
what it is given through ``printable`` first (the ``@for_terminal`` decorator), so that only
searchkit's own styling (``mark``) emits escape sequences; JSON escapes them instead (``dumps``).
"""

import dataclasses
import functools
import json
import os
import re
from datetime import date
from typing import Callable, Dict, List, Optional, Sequence

from .model import (
    ArticleView,
    CheckReport,
    Duplicate,
    DuplicateGroup,
    Facets,
    Hit,
    IndexStats,
    IndexSummary,
    ResultGroup,
    SearchResults,
    Snippet,
)

Mark = Callable[[str], str]

# C0 controls but tab and newline, DEL, C1 controls, and lone surrogates (which no encoding
# can print).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _visible(match: "re.Match") -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ESC -> ␛, BEL -> ␇
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls and lone surrogates: �


def printable(text: str) -> str:
    """``text`` safe to write to a terminal: C0 control characters (but tab and newline) and DEL
    shown as their Control Pictures signs (␛, ␇, ␈, ...), C1 controls and lone surrogates as
    U+FFFD; one character for one, so offsets into the text stay valid."""
    return _UNPRINTABLE.sub(_visible, text) if _UNPRINTABLE.search(text) else text


def _printable_data(value):
    """``value`` with every string in it made printable: strings, dataclasses, tuples, lists and
    dicts (keys too); a value with nothing to change is returned as it is."""
    if isinstance(value, str):
        return printable(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changed = {}
        for f in dataclasses.fields(value):
            old = getattr(value, f.name)
            new = _printable_data(old)
            if new is not old:
                changed[f.name] = new
        return dataclasses.replace(value, **changed) if changed else value
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


_JSON_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff]")


def dumps(data, **options) -> str:
    """JSON text of ``data``, non-ASCII kept as it is. Python's encoder escapes C0 control
    characters; DEL, C1 controls and lone surrogates are escaped here too (``\\u009b``), so
    that JSON on a terminal is safe and printable in UTF-8: the same values."""
    text = json.dumps(data, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def tabulate(*args, **kwargs) -> str:
    """``tabulate.tabulate``, imported on first use: importing it costs ~0.1 s (it reads its
    package metadata), and plain, JSON lines and JSON output need no table."""
    from tabulate import tabulate as table

    return table(*args, **kwargs)


SOURCE_WIDTH = 24
TITLE_WIDTH = 32
MIN_SNIPPET_WIDTH = 30


def brackets(text: str) -> str:
    return f"[{text}]"


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
    return _iso(hit.date, "—")


def _place(item) -> str:
    """Where a paragraph appeared: 'source, date, "title" (paragraph id)'."""
    when = _iso(item.date, "undated")
    return f"{item.source}, {when}, “{item.title}” ({item.id})"


@for_terminal
def also_in(group: ResultGroup, most: int = 5) -> str:
    """ "also in 2 others: source, date (id); ..." or "" for a paragraph without copies."""
    if not group.duplicates:
        return ""
    n = len(group.duplicates)
    places = "; ".join(_place(d) for d in group.duplicates[:most])
    more = f"; and {n - most} more" if n > most else ""
    return f"also in {n} other{'s' if n > 1 else ''}: {places}{more}"


@for_terminal
def hits_table(results: SearchResults, mark: Mark, width: int = 120) -> str:
    """Results as a table no wider than ``width`` columns (the snippet column takes what is
    left, at least MIN_SNIPPET_WIDTH; long cells wrap)."""
    rows = []
    for group in results.groups:
        hit = group.leader
        snippet = marked(hit.snippet, mark)
        if group.duplicates:
            snippet += "\n(" + also_in(group) + ")"
        rows.append([hit.rank, _score(hit), _date(hit), hit.source, hit.title, snippet])
    source_width = min(SOURCE_WIDTH, max((len(r[3]) for r in rows), default=6))
    title_width = min(TITLE_WIDTH, max((len(r[4]) for r in rows), default=5))
    rank_width = max([3] + [len(str(r[0])) for r in rows])  # tabulate's narrowest column
    rest = width - (rank_width + 7 + 10 + 2 * 5)  # what #, score, date and the gaps leave
    snippet_width = max(rest - source_width - title_width, rest // 2, MIN_SNIPPET_WIDTH)
    if source_width + title_width + snippet_width > rest:  # a narrow terminal: share it
        title_width = max(8, (rest - snippet_width) * 3 // 5)
        source_width = max(6, rest - snippet_width - title_width)
    return tabulate(
        rows,
        headers=["#", "score", "date", "source", "title", "snippet"],
        maxcolwidths=[None, None, None, source_width, title_width, snippet_width],
        disable_numparse=True,
    )


@for_terminal
def hits_plain(results: SearchResults, mark: Mark) -> str:
    blocks = []
    for group in results.groups:
        hit = group.leader
        block = (
            f"{hit.rank}. {hit.title}\n"
            f"   {hit.source} · {_date(hit)} · {hit.id} · {hit.kind} · score {_score(hit)}\n"
            f"   {marked(hit.snippet, mark)}"
        )
        if group.duplicates:
            block += f"\n   {also_in(group)}"
        blocks.append(block)
    return "\n\n".join(blocks)


def _paragraph_record(item) -> Dict[str, object]:
    """The fields a hit and a duplicate share, as JSON."""
    return {
        "id": item.id,
        "article_id": item.article_id,
        "title": item.title,
        "source": item.source,
        "date": _iso(item.date),
        "path": item.path,
        "paragraph": item.paragraph,
        "kind": item.kind,
        "text": item.text,
    }


def hit_record(hit: Hit) -> Dict[str, object]:
    """The JSON form of a hit (the fields the README documents for ``--format jsonl``)."""
    return {
        "rank": hit.rank,
        "score": hit.score,
        **_paragraph_record(hit),
        "source_from": hit.source_from,
        "date_from": hit.date_from,
        "snippet": hit.snippet.text,
        "highlights": [list(r) for r in hit.snippet.highlights],
    }


def duplicate_record(duplicate: Duplicate) -> Dict[str, object]:
    return {**_paragraph_record(duplicate), "exact": duplicate.exact}


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
def duplicate_groups_table(groups: Sequence[DuplicateGroup]) -> str:
    rows = []
    for g in groups:
        first, copies = g.members[0], g.members[1:]
        places = "\n".join(
            _place(m) + ("" if m.exact else " — edited") for m in copies
        )
        rows.append([len(g.members), _place(first), first.text, places])
    return tabulate(
        rows,
        headers=["size", "first (earliest)", "paragraph", "also in"],
        maxcolwidths=[None, 30, 60, 40],
        disable_numparse=True,
    )


@for_terminal
def duplicate_groups_plain(groups: Sequence[DuplicateGroup]) -> str:
    blocks = []
    for g in groups:
        first = g.members[0]
        lines = [f"{len(g.members)} × {first.text}", f"   first: {_place(first)}"]
        lines += [
            f"   also:  {_place(m)}{'' if m.exact else ' (edited)'}" for m in g.members[1:]
        ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@for_terminal
def article_text(view: ArticleView, mark: Mark, context: Optional[int] = None) -> str:
    """An article with its metadata; the marked paragraph (if any) flagged with "▶" and
    passed through ``mark``; with ``context``, only that many paragraphs around it."""
    when = _iso(view.date, "—")
    lines = [
        view.title,
        f"source: {view.source} (from {view.source_from}) · date: {when} (from {view.date_from})",
        f"file: {_near(view.path)}" + (f" · url: {view.url}" if view.url else ""),
        "",
    ]
    shown = list(view.paragraphs)
    if view.marked is not None and context is not None:
        first = max(1, view.marked - context)
        last = view.marked + context
        shown = [p for p in view.paragraphs if first <= p.number <= last]
        if first > 1:
            lines.append(f"      … {first - 1} paragraph{'s' if first > 2 else ''} before")
    width = len(str(len(view.paragraphs)))
    for paragraph in shown:
        here = paragraph.number == view.marked
        text = mark(paragraph.text) if here else paragraph.text
        label = f"{'▶' if here else ' '} {paragraph.number:>{width}}"
        kind = " (caption)" if paragraph.kind == "caption" else ""
        lines.append(f"{label}{kind}  {text}")
    after = len(view.paragraphs) - (shown[-1].number if shown else 0)
    if after > 0:
        lines.append(f"      … {after} paragraph{'s' if after > 1 else ''} after")
    if view.duplicates:
        n = len(view.duplicates)
        places = f"{n} other place{'s' if n > 1 else ''}"
        lines += ["", f"paragraph {view.marked} also appears in {places}:"]
        lines += [f"  {_place(d)}{'' if d.exact else ' (edited)'}" for d in view.duplicates]
    return "\n".join(lines)


def article_record(view: ArticleView) -> Dict[str, object]:
    return {
        "id": view.id,
        "title": view.title,
        "source": view.source,
        "source_from": view.source_from,
        "date": _iso(view.date),
        "date_from": view.date_from,
        "path": view.path,
        "url": view.url,
        "marked": view.marked,
        "paragraphs": [
            {"id": p.id, "paragraph": p.number, "kind": p.kind, "text": p.text}
            for p in view.paragraphs
        ],
        "duplicates": [duplicate_record(d) for d in view.duplicates],
    }


@for_terminal
def notes(results: SearchResults, variants_hint: str = "") -> List[str]:
    """What the user should know about how the query was run, one line each, for stderr."""
    lines = [f"note: {results.note}"] if results.note else []
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
        return f"page {results.page} is empty: there are {total} results"
    first = results.groups[0].leader.rank
    shown = f"{first}-{first + len(results.groups) - 1}" if len(results.groups) > 1 else first
    paragraphs = _counted(results.total, "matching paragraph")
    if not collapsed:
        return f"{shown} of {paragraphs}"
    return f"{shown} of {_counted(total, 'result')} ({paragraphs}, near-identical ones shown once)"


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def facets_record(facets: Facets) -> Dict[str, object]:
    return {"sources": facets.sources, "months": facets.months, "undated": facets.undated}


def summary_json(results: SearchResults) -> str:
    """The last line of ``--format jsonl --facets``: totals and facets."""
    return dumps(
        {
            "summary": {
                "query": results.query,
                "total": results.total,
                "total_groups": results.total_groups,
                "undated_left_out": results.undated_left_out,
                "facets": facets_record(results.facets),
            }
        }
    )


@for_terminal
def facets_table(facets: Facets) -> str:
    sources = tabulate(list(facets.sources.items()), headers=["source", "paragraphs"],
                       disable_numparse=True)
    months = list(facets.months.items()) + ([["undated", facets.undated]] if facets.undated else [])
    return sources + "\n\n" + tabulate(months, headers=["month", "paragraphs"],
                                         disable_numparse=True)


def stats_record(stats: IndexStats) -> Dict[str, object]:
    return {
        "index": stats.index_dir,
        "articles": stats.articles,
        "paragraphs": stats.paragraphs,
        "sources": stats.sources,
        "kinds": stats.kinds,
        "first_date": _iso(stats.first_date),
        "last_date": _iso(stats.last_date),
        "undated_articles": stats.undated_articles,
        "settings": stats.settings,
    }


@for_terminal
def stats_table(stats: IndexStats) -> str:
    span = "—"
    if stats.first_date:
        span = f"{stats.first_date.isoformat()} to {stats.last_date.isoformat()}"
    kinds = stats.kinds.items()
    summary = [
        ["index", stats.index_dir],
        ["articles", stats.articles],
        ["paragraphs", ", ".join([str(stats.paragraphs)] + [f"{n} {k}" for k, n in kinds])],
        ["dates", f"{span} ({stats.undated_articles} articles undated)"],
        ["built", stats.settings.get("built", "—")],
        ["schema", stats.settings.get("schema_version", "—")],
        ["analyzer", (stats.settings.get("analyzer") or {}).get("filters", "—")],
    ]
    sources = [[name, count] for name, count in stats.sources.items()]
    return (
        tabulate(summary, tablefmt="plain", disable_numparse=True)
        + "\n\n"
        + tabulate(sources, headers=["source", "articles"], disable_numparse=True)
    )


@for_terminal
def articles_read(summary: IndexSummary) -> str:
    """One line per article read, for ``index --verbose``: what to check attributions by."""
    rows = [
        [a.id, a.paragraphs, f"{a.source} ({a.source_from})",
         f"{_iso(a.date, '—')} ({a.date_from})"]
        for a in summary.article_summaries
    ]
    return tabulate(rows, headers=["article", "paragraphs", "source (from)", "date (from)"],
                    disable_numparse=True)


def _near(path: str) -> str:
    """An indexed file's path (stored absolute) relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative.startswith("..") else relative


@for_terminal
def index_summary(summary: IndexSummary) -> str:
    """The report of an indexing run, for stderr."""
    files = (
        f"files: {summary.added} added, {summary.updated} updated, {summary.removed} removed, "
        f"{summary.unchanged} unchanged, {len(summary.skipped_files)} skipped"
    )
    if not summary.committed:
        lines = [f"{summary.index_dir} is up to date ({summary.seconds:.1f} s); {files}"]
    else:
        indexed = ", ".join(
            f"{summary.blocks_by_kind.get(k, 0)} {k}" for k in ("body", "caption"))
        others = ", ".join(
            f"{n} {kind}"
            for kind, n in summary.blocks_by_kind.items()
            if kind not in ("body", "caption")
        )
        lines = [
            f"indexed {summary.files} files into {summary.index_dir}: {summary.articles} "
            f"articles, {summary.paragraphs} paragraphs ({indexed}) in {summary.seconds:.1f} s",
            files,
            f"kept as article metadata or skipped: {others or 'nothing'}",
            f"near-identical paragraphs: {summary.duplicate_groups} groups holding "
            f"{summary.paragraphs_in_groups} paragraphs"
            + (f" ({summary.regrouped} indexed earlier changed group)"
               if summary.regrouped else ""),
        ]
    if summary.missing:
        lines.append(
            f"{summary.missing} indexed files are gone from disk or from PATHS and stay "
            "searchable; --prune removes them"
        )
    if summary.skipped_files:
        lines.append(f"skipped {len(summary.skipped_files)} files:")
        lines += [f"  {s.path}: {s.reason}" for s in summary.skipped_files]
    lines += [f"warning: {w}" for w in summary.warnings]
    return "\n".join(lines)


@for_terminal
def file_actions(summary: IndexSummary) -> str:
    """One line per file, for ``index --verbose``: what was done with it and how."""
    return "\n".join(
        f"{a.action:9}  {a.path}" + (f"  ({a.detail})" if a.detail else "")
        for a in summary.file_actions
    )


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
