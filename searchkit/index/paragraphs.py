"""The paragraphs a build read, held as columns from the reading until they are written.

A build holds every paragraph it read through the grouping and the writing. As records (a
``Paragraph`` each, in its article's tuple) they took far more memory than their texts; here
each paragraph is its kind (a byte) and its text in a scratch file (``textfile``): its id and
number follow from its article's id and where it is among the article's paragraphs. Its article
is held once: its id in a buffer of bytes, its fields (without its paragraphs) pickled with the
other articles of its file in a scratch file of their own. Where a helper read them, they reach this
process packed that way: no object for each paragraph or article field in the process that
keeps them (bench/README.md: the build's memory). A paragraph is made a Whoosh document when
it is written (``rows``).
"""

import json
import pickle
from array import array
from bisect import bisect_right
from collections import Counter
from datetime import date
from itertools import accumulate
from typing import Dict, Iterable, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from .. import model
from ..model import INDEXED_KINDS, Article, ArticleSummary, LazyRecords
from .listing import day_number
from .schema import article_fields
from .textfile import (ByteStrings, PackedTexts, ScratchBytes, StoredTexts, TextFile,
                       Texts, pack)


_KIND_CODES = {kind: code for code, kind in enumerate(INDEXED_KINDS)}


class Columns(NamedTuple):
    """A file's articles and their paragraphs as columns (``split_off``)."""

    counts: List[int]  # each article's paragraphs
    # (packed where a helper read them, and stored in the scratch file as they arrive)
    texts: Union[List[str], PackedTexts, StoredTexts]
    kinds: bytes  # each paragraph's kind, as its place in INDEXED_KINDS
    articles: bytes  # the articles without their blocks and paragraphs, pickled
    article_ids: Tuple[str, ...]
    summaries: PackedTexts  # each article's ``ArticleSummaries`` row
    days: Tuple[int, ...]  # each article's ``listing.day_number``


def paragraph_id(article_id: str, number: int) -> str:
    """The id of an article's paragraph ``number`` (``corpus.paragraphs_of`` numbers them
    from 1)."""
    return f"{article_id}#{number}"


def split_off(articles: Iterable[Article]) -> Columns:
    """The articles without their blocks and paragraphs, and the paragraphs, as columns (a
    reader's result, made where the file is read: its records never reach the build). Each
    article's paragraphs must be numbered from 1 in order, with ``paragraph_id`` ids, as the
    reader makes them: that is all the columns keep of their ids and numbers."""
    kept: List[Article] = []
    counts: List[int] = []
    texts: List[str] = []
    kinds = bytearray()
    for found in articles:
        kept.append(model.replace(found, blocks=(), paragraphs=()))
        counts.append(len(found.paragraphs))
        for number, paragraph in enumerate(found.paragraphs, start=1):
            if paragraph.number != number or paragraph.id != paragraph_id(found.id, number):
                raise ValueError(f"paragraph {paragraph.id!r} is not number {number} of "
                                 f"article {found.id!r}")
            texts.append(paragraph.text)
            kinds.append(_KIND_CODES[paragraph.kind])
    summaries = [ArticleSummary(a.id, n, a.source, a.source_from, a.date, a.date_from)
                 for a, n in zip(kept, counts)]
    return Columns(counts, texts, bytes(kinds), pickle.dumps(kept, pickle.HIGHEST_PROTOCOL),
                   tuple(a.id for a in kept), pack(list(map(ArticleSummaries._row, summaries))),
                   tuple(day_number(a.date) for a in kept))


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
        self.article_ids = Strings()  # each article's id
        self.counts = array("l")  # each article's paragraphs
        self.days = array("q")  # each article's listing.day_number
        self.starts = array("l")  # each article's first paragraph
        self.text_file = TextFile(scratch)
        self.kinds = bytearray()  # each paragraph's kind (Columns.kinds)
        self.summary_rows = ScratchBytes(scratch)  # each article's (Columns.summaries)
        self._unpickled: Tuple[int, List[Article]] = (-1, [])  # the last file's articles

    def extend(self, columns: Columns) -> None:
        """Add a file's articles and paragraphs (``split_off``)."""
        first = len(self.counts)
        self.first_of.append(first)
        self.file_of.extend([len(self.files)] * len(columns.counts))
        self.files.add(columns.articles, (len(columns.articles),))
        packed = pack(columns.article_ids)
        self.article_ids.add(packed.data, packed.sizes)
        if columns.counts:
            self.starts.extend(accumulate(columns.counts[:-1], initial=len(self)))
        self.counts.extend(columns.counts)
        self.days.extend(columns.days)
        texts = columns.texts
        self.text_file.extend(texts if isinstance(texts, (PackedTexts, StoredTexts))
                              else pack(texts))
        self.kinds += columns.kinds
        self.summary_rows.add(columns.summaries.data, columns.summaries.sizes)

    def __len__(self) -> int:
        return len(self.kinds)

    @property
    def ids(self) -> "ParagraphIds":
        """Every paragraph's id, made as it is asked for."""
        return ParagraphIds(self)

    def article_of(self, n: int) -> int:
        """The article (a number among them) of paragraph ``n``."""
        return bisect_right(self.starts, n) - 1

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
        rows = []
        article, start, end, article_id = -1, 0, 0, ""
        for n, text in zip(numbers, texts):
            if not start <= n < end:  # (in a batch's run of numbers: the next article)
                article = self.article_of(n)
                start, article_id = self.starts[article], self.article_ids[article]
                end = start + self.counts[article]
            number = n - start + 1
            rows.append((article, paragraph_id(article_id, number), number,
                         INDEXED_KINDS[self.kinds[n]], text))
        return rows

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

    def summaries(self) -> "ArticleSummaries":
        """Every article's summary (its row made where its file was read)."""
        found = ArticleSummaries()
        for row in self.summary_rows.in_order(range(len(self.summary_rows))):
            found.rows.add(row, (len(row),))
        return found

    def day_numbers(self) -> np.ndarray:
        """Each paragraph's ``listing.day_number`` (its article's date), in order."""
        return np.repeat(np.asarray(self.days, np.int64), np.asarray(self.counts, np.int64))

    def kind_counts(self) -> Counter:
        return Counter({kind: self.kinds.count(code) for code, kind in enumerate(INDEXED_KINDS)
                        if code in self.kinds})


class RowRecords(LazyRecords):
    """Records kept as one string each (``_row``) in a buffer of bytes, each made again from
    its row (``_from_row``) when asked for."""

    def __init__(self):
        self.rows = Strings()

    def append(self, record) -> None:
        self.rows.append(self._row(record))

    def __len__(self) -> int:
        return len(self.rows)

    def _record(self, n: int):
        return self._from_row(self.rows[n])

    def _row(self, record) -> str:
        raise NotImplementedError

    def _from_row(self, row: str):
        raise NotImplementedError


class ArticleSummaries(RowRecords):
    """``ArticleSummary`` records, as JSON rows."""

    @staticmethod
    def _row(summary: ArticleSummary) -> str:  # (also where a file is read: split_off)
        when = None if summary.date is None else summary.date.isoformat()
        return json.dumps([summary.id, summary.paragraphs, summary.source, summary.source_from,
                           when, summary.date_from], ensure_ascii=False)

    def _from_row(self, row: str) -> ArticleSummary:
        id_, paragraphs, source, source_from, when, date_from = json.loads(row)
        return ArticleSummary(id_, paragraphs, source, source_from,
                              None if when is None else date.fromisoformat(when), date_from)


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
    def ids(self) -> Sequence[str]:
        """Every id (those read in this run made as they are asked for, unless there are
        others before)."""
        if not self.before:
            return self.paragraphs.ids
        return [pid for pid, _ in self.before] + list(self.paragraphs.ids)

    @property
    def texts(self) -> Sequence[str]:
        """Every text; those read in this run stay on disk unless there are others before."""
        if not self.before:
            return self.paragraphs.texts
        return [text for _, text in self]


class ParagraphIds:
    """``ReadParagraphs.ids``: each paragraph's id from its article's (``paragraph_id``)."""

    def __init__(self, paragraphs: ReadParagraphs):
        self.paragraphs = paragraphs

    def __len__(self) -> int:
        return len(self.paragraphs)

    def __getitem__(self, n: int) -> str:
        if not 0 <= n < len(self):
            raise IndexError(n)
        article = self.paragraphs.article_of(n)
        return paragraph_id(self.paragraphs.article_ids[article],
                            n - self.paragraphs.starts[article] + 1)

    def __iter__(self) -> Iterator[str]:
        for article_id, count in zip(self.paragraphs.article_ids, self.paragraphs.counts):
            yield from (paragraph_id(article_id, number) for number in range(1, count + 1))

    def article_numbers(self) -> Tuple[np.ndarray, Dict[str, int]]:
        """Each paragraph's article, as a number, and the numbers of the articles' ids."""
        counts = np.frombuffer(self.paragraphs.counts, np.int_)
        numbers = {article_id: n for n, article_id in enumerate(self.paragraphs.article_ids)}
        return np.repeat(np.arange(len(counts)), counts), numbers
