"""The Whoosh schema: the only place that knows field names and how they are indexed."""

from datetime import datetime
from typing import Optional

from whoosh.analysis import IDTokenizer, LowercaseFilter
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, Schema

from . import analysis
from .textfield import WordCachingText

from .layout import (
    DATE_FIELD,
    FILTER_FIELDS,
    SCHEMA_VERSION,
    SEARCH_FIELDS,
    SETTINGS,
    TEXT_FIELD,
    TITLE_FIELD,
)


def make_schema() -> Schema:
    words = analysis.text_analyzer()
    # Whoosh indexes a number as 8 terms by default (its value at 8 precisions, so that a range
    # over millions of values reads few terms): 16 of the ~66 postings of a dated paragraph.
    # Paragraph numbers and days are few, so a range reads their exact terms just as fast;
    # shift_step=0 keeps only those (the full-precision terms) and every query its matches.
    date = DATETIME(stored=True, sortable=True)
    date.shift_step = 0  # DATETIME's constructor fixes 8
    return Schema(
        id=ID(stored=True, unique=True),  # "<article id>#<paragraph number>"
        article_id=ID(stored=True),
        # The document id of batch runs (TREC docid): a JSON-lines record's own id, else the
        # article id. A column, so that ranking documents reads no stored fields.
        doc_id=ID(stored=True, sortable=True),
        path=ID(stored=True),
        paragraph=NUMERIC(stored=True, shift_step=0),
        kind=ID(stored=True),
        title=WordCachingText(stored=True, analyzer=words),
        source=ID(stored=True, sortable=True, analyzer=IDTokenizer() | LowercaseFilter()),
        source_from=STORED(),
        date=date,
        date_from=STORED(),
        url=STORED(),
        text=WordCachingText(stored=True, analyzer=words),
        # Near duplicates (see dedup.py): the exact-copy signature, and the group key shared by
        # every near-identical paragraph (the group's smallest paragraph id; a paragraph with no
        # copies is its own group). A column, so that results collapse without stored fields.
        dup_signature=STORED(),
        dup_group=ID(stored=True, sortable=True),
    )


def article_fields(article) -> dict:
    """The fields a paragraph's document takes from its article (made once for all of its
    paragraphs: ``paragraph_document``)."""
    fields = dict(
        article_id=article.id,
        doc_id=article.doc_id,
        path=article.path,
        title=article.title,
        source_from=article.source_from,
        date_from=article.date_from,
        # An unknown source is "": every segment then has a source column (Whoosh's
        # multi-segment column reader misplaces the documents of a segment without one).
        source=article.source or "",
    )
    if article.url:
        fields["url"] = article.url
    if article.date:  # undated articles have no date field at all
        fields["date"] = datetime(article.date.year, article.date.month, article.date.day)
    return fields


def paragraph_document(of_article: dict, pid: str, number: int, kind: str, text: str,
                       signature: Optional[str] = None) -> dict:
    """The Whoosh document of one paragraph, given by its fields, with its article's
    (``of_article``, ``article_fields``); its ``dup_group`` is set when groups are known.
    ``signature``: its ``dedup.signature`` where already known."""
    from . import dedup  # the indexer's: a search needs none of it

    return {**of_article, "id": pid, "paragraph": number, "kind": kind, "text": text,
            "dup_signature": signature or dedup.signature(text)}


def matches(candidate) -> bool:
    """Whether ``candidate`` (a schema read from an index) is exactly the one this version
    writes: the same field classes with the same settings, analyzers included."""
    if not _references:
        _references.append(make_schema())
    try:
        return any(_same(candidate, reference) for reference in _references)
    except RecursionError:  # a structure that refers to itself: not searchkit's
        return False


_references: list = []  # the schemas an index may hold: this version's (tests add others)


def _same(a, b) -> bool:
    """Structural equality (Whoosh's columns and compiled structures have no ``==``)."""
    import re
    import struct
    import types

    if type(a) is not type(b):
        return False
    try:
        if a == b:  # most of it (the accent map, stop words) compares at C speed
            return True
    except Exception:  # noqa: BLE001 - an odd __eq__ of a read object: compare by parts
        pass
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return a == b or (a != a and b != b)  # NaN, a float field's default
    if isinstance(a, re.Pattern):
        return (a.pattern, a.flags) == (b.pattern, b.flags)
    if isinstance(a, struct.Struct):
        return a.format == b.format
    if isinstance(a, (type, types.FunctionType, types.BuiltinFunctionType)):
        return a is b  # a class, or a function such as the stemmer
    if hasattr(a, "__dict__"):
        return _same(vars(a), vars(b))
    return a == b
