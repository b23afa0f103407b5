"""What each page and API call shows, made from the library's answers through ``cli.render``'s
records (the fields of ``--format jsonl``): the pages are one more client of those records.
Text from the index is made printable here and HTML-escaped by the templates."""

import math
from typing import Dict, List, Optional, Sequence

from .. import Filters
from ..cli import render
from ..model import ArticleView, Duplicate, DuplicateGroup, SearchResults
from .params import SearchRequest, article_url

SOURCES_SHOWN = 12  # sources listed in the facet before the rest fold away
WEB_LINK = ("http://", "https://")  # the only URLs of an article shown as links


def shown(value):
    """``value`` (a record) with every string in it printable: control characters as visible
    signs (offsets into the text stay valid)."""
    if isinstance(value, str):
        return render.printable(value)
    if isinstance(value, dict):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [shown(item) for item in value]
    return value


def filters(request: SearchRequest) -> Filters:
    since, until = request.dates()
    kinds = (request.kind,) if request.kind else ()
    return Filters(since=since, until=until, sources=request.sources, kinds=kinds)


# -- the JSON API ----------------------------------------------------------------------------


def search_summary(results: SearchResults) -> Dict[str, object]:
    """What ``--format jsonl --facets`` writes last, and the notes the command line prints."""
    return {
        **render.record(results, ("query", "total", "total_groups", "undated_left_out",
                                  "page", "suggestion")),
        "facets": render.facets_record(results.facets),
        "notes": render.notes(results),
    }


def search_record(results: SearchResults) -> Dict[str, object]:
    """/api/search: every result as ``--format jsonl`` writes it, and the summary."""
    return {"results": [render.group_record(g) for g in results.groups],
            "summary": search_summary(results)}


def search_jsonl(results: SearchResults) -> str:
    """/api/search?format=jsonl: what ``searchkit search --format jsonl --facets`` prints."""
    lines = [render.hits_jsonl(results)] if results.groups else []
    return "\n".join(lines + [render.summary_json(results)]) + "\n"


def duplicates_record(groups: Sequence[DuplicateGroup]) -> List[Dict[str, object]]:
    """/api/duplicates: the lines of ``searchkit duplicates --format jsonl``, as a list."""
    return [{"group": g.key, "size": len(g.members),
             "members": [render.duplicate_record(m) for m in g.members]} for g in groups]


# -- the search page -------------------------------------------------------------------------


def pieces(text: str, highlights) -> List[Dict[str, object]]:
    """A snippet as runs of text, each marked (a match) or not."""
    out, at = [], 0
    for start, end in highlights:
        out += [{"text": text[at:start], "mark": False}, {"text": text[start:end], "mark": True}]
        at = end
    out.append({"text": text[at:], "mark": False})
    return [piece for piece in out if piece["text"]]


def place(item: Dict[str, object]) -> Dict[str, object]:
    """A paragraph as a place it appeared: a duplicate's record, with its link."""
    return {**item, "href": article_url(item["article_id"], item["paragraph"])}


def result(group: Dict[str, object]) -> Dict[str, object]:
    return {**place(group), "pieces": pieces(group["snippet"], group["highlights"]),
            "duplicates": [place(d) for d in group["duplicates"]]}


def facets(request: SearchRequest, record: Dict[str, object]) -> Dict[str, object]:
    """The facets as links that narrow the search, and the filters in force as links that
    remove them (``record``: the facets as counted, names not yet made printable)."""
    sources = []
    chosen = {s.lower() for s in request.sources}  # as the library matches them
    for name, n in record["sources"].items():
        shown = render.printable(name)
        # A name holding control characters cannot be asked for in a URL (see params): no link.
        sources.append({"name": shown, "count": n, "chosen": name.lower() in chosen,
                        "href": request.url(sources=request.sources + (name,))
                        if shown == name else None})
    months = [{"name": month, "count": n, "chosen": request.since == request.until == month,
               "href": request.url(since=month, until=month)}
              for month, n in record["months"].items()]
    return {"sources": sources[:SOURCES_SHOWN], "more_sources": sources[SOURCES_SHOWN:],
            "unknown_source": record["unknown_source"], "months": months,
            "undated": record["undated"], "active": active_filters(request)}


def active_filters(request: SearchRequest) -> List[Dict[str, str]]:
    """The filters in force, each as a link that removes it."""
    active = [{"label": f"source: {s}",
               "href": request.url(sources=tuple(x for x in request.sources if x != s))}
              for s in request.sources]
    names = ("since", "until", "kind")
    if request.since and request.since == request.until:  # a month clicked: one filter
        active.append({"label": f"date: {request.since}", "href": request.url(since="", until="")})
        names = ("kind",)
    active += [{"label": f"{name}: {getattr(request, name)}", "href": request.url(**{name: ""})}
               for name in names if getattr(request, name)]
    return active


def search_page(request: SearchRequest, results: SearchResults) -> Dict[str, object]:
    record = shown(search_record(results))
    summary = record["summary"]
    pages = max(1, math.ceil(results.total_groups / request.limit))
    suggestion = summary["suggestion"]
    return {
        "request": request,
        "results": [result(group) for group in record["results"]],
        "count": render.count_line(results, collapsed=True),
        "notes": [n for n in summary["notes"] if not n.startswith("did you mean: ")],
        "suggestion": suggestion and {"text": suggestion, "href": request.url(query=suggestion)},
        "facets": facets(request, render.facets_record(results.facets)),
        "page": request.page, "pages": pages,
        # (past the last page, "previous" is the last one: not a walk back through empty ones)
        "previous": request.url(page=min(request.page - 1, pages)) if request.page > 1 else None,
        "next": request.url(page=request.page + 1) if request.page < pages else None,
    }


# -- the article and reuse pages ---------------------------------------------------------------


def article_page(view: ArticleView, reprints: Dict[int, Sequence[Duplicate]],
                 all_looked_up: bool) -> Dict[str, object]:
    """An article, its paragraphs numbered, the marked one flagged, and where else each
    reprinted paragraph appeared (``reprints``: paragraph number -> the other places)."""
    record = shown(render.article_record(view))
    paragraphs = []
    for paragraph in record["paragraphs"]:
        number = paragraph["paragraph"]
        copies = [shown(render.duplicate_record(d)) for d in reprints.get(number, ())]
        paragraphs.append({**paragraph, "marked": number == view.marked,
                           "duplicates": [place(d) for d in copies]})
    url = record["url"]
    return {"article": record, "paragraphs": paragraphs, "all_looked_up": all_looked_up,
            "link": url if url and url.lower().startswith(WEB_LINK) else None}


def reuse_page(groups: Sequence[DuplicateGroup], min_size: int, limit: int) -> Dict[str, object]:
    """The largest groups of near-identical paragraphs, each as a timeline: who printed it
    first, then every reprint, exact or edited."""
    timelines = []
    for group in shown(duplicates_record(groups)):
        members = [place(m) for m in group["members"]]
        known = {m["source"] for m in members if m["source"] is not None}
        timelines.append({"key": group["group"], "size": group["size"], "first": members[0],
                          "reprints": members[1:], "sources": len(known),
                          "unknown": sum(m["source"] is None for m in members)})
    return {"groups": timelines, "min_size": min_size, "limit": limit}


def stats_page(record: Dict[str, object]) -> Dict[str, object]:
    return {"stats": shown(record)}


def error_page(status: int, message: str, request: Optional[SearchRequest] = None):
    """An error, with the search box; a refused search keeps its filters, in the box for the
    next query and as links that remove them (one may be what was refused)."""
    request = request or SearchRequest()
    kept = [(name, value) for name, value in request.pairs()
            if name in ("since", "until", "kind", "sort", "exact")]  # (source, n: the box's)
    return {"status": status, "message": render.printable(message), "request": request,
            "active": active_filters(request), "kept": kept}
