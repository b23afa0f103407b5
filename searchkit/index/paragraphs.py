"""The paragraphs a build read, held as columns from the reading until they are written.

A build holds every paragraph it read through the grouping and the writing. As records (a
``Paragraph`` each, in its article's tuple) they took far more memory than their texts; here
each paragraph is a number and a kind, its id in a buffer of bytes, its text in a scratch file
(``textfile``), and its article is held once, without its paragraphs, pickled with the other
articles of its file in a scratch file of their own. Where a helper read them, they reach this
process packed that way: no object for each id or article field in the process that keeps
them (bench/README.md: the build's memory). A paragraph is made a Whoosh document when it is
written (``rows``).
"""

import pickle
from array import array
from collections import Counter
from typing import Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

from .. import model
from ..model import Article, ArticleSummary
from .schema import article_fields
from .textfile import (ByteStrings, PackedTexts, ScratchBytes, StoredTexts, TextFile,
                       Texts, pack)


class Columns(NamedTuple):
    """A file's articles and their paragraphs as columns (``split_off``)."""

    counts: List[int]  # each article's paragraphs
    ids: PackedTexts
    # (packed where a helper read them, and stored in the scratch file as they arrive)
    texts: Union[List[str], PackedTexts, StoredTexts]
    numbers: List[int]
    kinds: List[str]
    articles: bytes  # the articles without their blocks and paragraphs, pickled
    article_ids: Tuple[str, ...]


def split_off(articles: Iterable[Article]) -> Columns:
    """The articles without their blocks and paragraphs, and the paragraphs, as columns (a
    reader's result, made where the file is read: its records never reach the build)."""
    kept: List[Article] = []
    counts: List[int] = []
    ids: List[str] = []
    texts: List[str] = []
    numbers: List[int] = []
    kinds: List[str] = []
    for found in articles:
        kept.append(model.replace(found, blocks=(), paragraphs=()))
        counts.append(len(found.paragraphs))
        for paragraph in found.paragraphs:
            ids.append(paragraph.id)
            texts.append(paragraph.text)
            numbers.append(paragraph.number)
            kinds.append(paragraph.kind)
    return Columns(counts, pack(ids), texts, numbers, kinds,
                   pickle.dumps(kept, pickle.HIGHEST_PROTOCOL), tuple(a.id for a in kept))


class Strings(ByteStrings):
    """Strings added packed (``textfile.pack``) or one by one: each made when it is asked
    for."""

    def append(self, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self.add(data, (len(data),))

    def __getitem__(self, n: int) -> str:
        if not -len(self) <= n < len(self):
            raise IndexError(n)
        return self.bytes_of(n % len(self)).decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        return map(self.__getitem__, range(len(self)))


class ReadParagraphs:
    """Paragraphs in the order their articles were added, numbered from 0."""

    def __init__(self, scratch: Optional[str] = None):
        """``scratch``: the folder of the texts' scratch file (else the system's)."""
        self.files = ScratchBytes(scratch)  # each file's articles (no paragraphs), pickled
        self.file_of = array("l")  # each article's file
        self.first_of = array("l")  # each file's first article
        self.counts = array("l")  # each article's paragraphs
        self.article = array("l")  # each paragraph's article (a number among them)
        self.ids = Strings()
        self.text_file = TextFile(scratch)
        self.numbers = array("l")
        self.kinds: List[str] = []
        self._unpickled: Tuple[int, List[Article]] = (-1, [])  # the last file's articles

    def extend(self, columns: Columns) -> None:
        """Add a file's articles and paragraphs (``split_off``)."""
        first = len(self.counts)
        self.first_of.append(first)
        self.file_of.extend([len(self.files)] * len(columns.counts))
        self.files.add(columns.articles, (len(columns.articles),))
        self.counts.extend(columns.counts)
        for at, count in enumerate(columns.counts, start=first):
            self.article.extend([at] * count)
        self.ids.add(columns.ids.data, columns.ids.sizes)
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

    @property
    def article_count(self) -> int:
        return len(self.counts)

    def article_fields(self, article: int) -> dict:
        """``schema.article_fields`` of article number ``article``."""
        file = self.file_of[article]
        known = self._unpickled  # (once: another thread may replace it, making its batch)
        if known[0] != file:  # (a batch asks for its articles in order)
            known = self._unpickled = (file, self._articles_of(file))
        return article_fields(known[1][article - self.first_of[file]])

    def _articles_of(self, file: int) -> List[Article]:
        return pickle.loads(self.files.bytes_of(file))  # (pickled by split_off)

    def summaries(self) -> Tuple[ArticleSummary, ...]:
        articles = (a for file in range(len(self.files)) for a in self._articles_of(file))
        return tuple(ArticleSummary(a.id, n, a.source, a.source_from, a.date, a.date_from)
                     for a, n in zip(articles, self.counts))

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
        return [pid for pid, _ in self.before] + list(self.paragraphs.ids)

    @property
    def texts(self) -> Sequence[str]:
        """Every text; those read in this run stay on disk unless there are others before."""
        if not self.before:
            return self.paragraphs.texts
        return [text for _, text in self]
