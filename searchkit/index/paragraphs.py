"""The paragraphs a build read, held as columns from the reading until they are written.

A build holds every paragraph it read through the grouping and the writing. As records (a
``Paragraph`` each, in its article's tuple) they took far more memory than their texts; here
each paragraph is an id, a number and a kind in lists, its text in a scratch file
(``textfile``), and its article is held once, without its paragraphs. A paragraph is made a
Whoosh document when it is written (``rows``; bench/README.md: the build's memory).
"""

from array import array
from collections import Counter
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

from .. import model
from ..model import Article, ArticleSummary
from .schema import article_fields
from .textfile import PackedTexts, StoredTexts, TextFile, Texts, pack


class Columns(NamedTuple):
    """Some articles' paragraphs as columns (``split_off``)."""

    counts: List[int]  # each article's paragraphs
    ids: List[str]
    # (packed where a helper read them, and stored in the scratch file as they arrive)
    texts: Union[List[str], PackedTexts, StoredTexts]
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

    def __init__(self, scratch: Optional[str] = None):
        """``scratch``: the folder of the texts' scratch file (else the system's)."""
        self.articles: List[Article] = []  # each without its paragraphs
        self.counts = array("l")  # each article's paragraphs
        self.article = array("l")  # each paragraph's article (an index into articles)
        self.ids: List[str] = []
        self.text_file = TextFile(scratch)
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
        texts = columns.texts
        self.text_file.extend(texts if isinstance(texts, (PackedTexts, StoredTexts))
                              else pack(texts))
        self.numbers.extend(columns.numbers)
        self.kinds += columns.kinds

    def __len__(self) -> int:
        return len(self.ids)

    def pairs(self, before: Sequence[Tuple[str, str]] = ()) -> "Pairs":
        """(id, text) of ``before``, then of each paragraph, made as they are read rather
        than held in a list."""
        return Pairs(before, self)

    @property
    def texts(self) -> Texts:
        """Every paragraph's text, read from the scratch file as asked for."""
        return self.text_file.texts()

    def rows(self, numbers: Sequence[int]) -> List[Tuple[int, str, int, str, str]]:
        """These paragraphs' (article number, id, number, kind, text) for their Whoosh
        documents (``schema.paragraph_document``); a run of numbers' texts in one read."""
        if not numbers:
            return []
        first = numbers[0]
        texts = (self.texts[first:first + len(numbers)]
                 if list(numbers) == list(range(first, first + len(numbers)))
                 else [self.texts[n] for n in numbers])
        return [(self.article[n], self.ids[n], self.numbers[n], self.kinds[n], text)
                for n, text in zip(numbers, texts)]

    def close(self) -> None:
        """Let go of the texts' scratch file (the paragraphs are written)."""
        self.text_file.close()

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

    @property
    def ids(self) -> List[str]:
        return [pid for pid, _ in self.before] + self.paragraphs.ids

    @property
    def texts(self) -> Sequence[str]:
        """Every text; those read in this run stay on disk unless there are others before."""
        if not self.before:
            return self.paragraphs.texts
        return [text for _, text in self]
