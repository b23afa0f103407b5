"""The paragraphs a build read, held as columns from the reading until they are written.

A build holds every paragraph it read through the grouping and the writing. As records (a
``Paragraph`` each, in its article's tuple) they took far more memory than their texts; here
each paragraph is an id, a text, a number and a kind in lists, and its article is held once,
without its paragraphs. A paragraph is made a Whoosh document when it is written (``take``;
bench/README.md: the build's memory).
"""

from array import array
from collections import Counter
from typing import Iterable, List, NamedTuple, Sequence, Tuple

from .. import model
from ..model import Article, ArticleSummary
from .schema import article_fields


class Columns(NamedTuple):
    """Some articles' paragraphs as columns (``split_off``)."""

    counts: List[int]  # each article's paragraphs
    ids: List[str]
    texts: List[str]
    numbers: List[int]
    kinds: List[str]


def split_off(articles: Iterable[Article]) -> Tuple[List[Article], Columns]:
    """The articles without their blocks and paragraphs, and the paragraphs as columns (a
    reader's result, made where the file is read: its records never reach the build)."""
    kept, columns = [], Columns([], [], [], [], [])
    for found in articles:
        kept.append(model.replace(found, blocks=(), paragraphs=()))
        columns.counts.append(len(found.paragraphs))
        for paragraph in found.paragraphs:
            columns.ids.append(paragraph.id)
            columns.texts.append(paragraph.text)
            columns.numbers.append(paragraph.number)
            columns.kinds.append(paragraph.kind)
    return kept, columns


class ReadParagraphs:
    """Paragraphs in the order their articles were added, numbered from 0."""

    def __init__(self):
        self.articles: List[Article] = []  # each without its paragraphs
        self.counts = array("l")  # each article's paragraphs
        self.article = array("l")  # each paragraph's article (an index into articles)
        self.ids: List[str] = []
        self.texts: List[str] = []
        self.numbers = array("l")
        self.kinds: List[str] = []

    def extend(self, articles: List[Article], columns: Columns) -> None:
        """Add ``split_off``'s articles and their columns."""
        first = len(self.articles)
        self.articles += articles
        self.counts.extend(columns.counts)
        for at, count in enumerate(columns.counts, start=first):
            self.article.extend([at] * count)
        self.ids += columns.ids
        self.texts += columns.texts
        self.numbers.extend(columns.numbers)
        self.kinds += columns.kinds

    def __len__(self) -> int:
        return len(self.ids)

    def pairs(self, before: Sequence[Tuple[str, str]] = ()) -> "Pairs":
        """(id, text) of ``before``, then of each paragraph, made as they are read rather
        than held in a list."""
        return Pairs(before, self)

    def take(self, n: int) -> Tuple[int, str, int, str, str]:
        """Paragraph ``n``'s (article number, id, number, kind, text) for its Whoosh document
        (``schema.paragraph_document``). Its text is let go of here: a build writes each
        paragraph once, and a batch's texts are freed with it."""
        text, self.texts[n] = self.texts[n], None
        return self.article[n], self.ids[n], self.numbers[n], self.kinds[n], text

    def article_fields(self, article: int) -> dict:
        """``schema.article_fields`` of article number ``article``."""
        return article_fields(self.articles[article])

    def summaries(self) -> Tuple[ArticleSummary, ...]:
        return tuple(ArticleSummary(a.id, n, a.source, a.source_from, a.date, a.date_from)
                     for a, n in zip(self.articles, self.counts))

    def kind_counts(self) -> Counter:
        return Counter(self.kinds)


class Pairs:
    """``ReadParagraphs.pairs``: (id, text) pairs made as they are read, as often as read."""

    def __init__(self, before: Sequence[Tuple[str, str]], paragraphs: ReadParagraphs):
        self.before, self.paragraphs = before, paragraphs

    def __len__(self) -> int:
        return len(self.before) + len(self.paragraphs)

    def __iter__(self):
        yield from self.before
        yield from zip(self.paragraphs.ids, self.paragraphs.texts)
