"""The paragraphs a build read, held as columns: ids in one buffer of bytes, each file's
articles pickled, made again only when they are asked for."""

import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from searchkit import model
from searchkit.index import textfile
from searchkit.index.paragraphs import ReadParagraphs, Strings, split_off
from searchkit.index.schema import article_fields
from searchkit.index.textfile import pack
from searchkit.ingest.corpus import ReadOptions, read_file
from searchkit.model import ArticleSummary

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
_ID = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    ["\ud800", "é", "-", "\x00"]), max_size=10)


@given(packs=st.lists(st.lists(_ID, max_size=5), max_size=6))
def test_strings_added_packed_read_back_as_given(packs):
    strings = Strings()
    for given_ids in packs:
        packed = pack(given_ids)
        strings.add(packed.data, packed.sizes)
    expected = [pid for given_ids in packs for pid in given_ids]
    assert len(strings) == len(expected) and list(strings) == expected
    assert [strings[n] for n in range(len(expected))] == expected
    if expected:
        assert strings[-1] == expected[-1]


def seed_articles():
    for path in sorted(SEEDS.iterdir()):
        yield read_file(path, path.stem, path.read_bytes(), None, ReadOptions()).articles


@pytest.mark.parametrize("written_from", [1, 3000, 1 << 20])
def test_articles_and_paragraphs_read_back_as_the_files_gave_them(
        tmp_path, monkeypatch, written_from):
    """Every seed file's articles and paragraphs, added file by file (their articles written
    to the scratch file with every file, every few, or when first asked for): each article's
    stored fields, each paragraph's row and the summaries are those of the articles read."""
    monkeypatch.setattr(textfile, "_WRITTEN_FROM", written_from)
    paragraphs = ReadParagraphs(str(tmp_path))
    articles = []
    for found in seed_articles():
        articles += found
        paragraphs.extend(split_off(found))
    assert paragraphs.article_count == len(articles) > 5
    everything = [(a, p) for a in articles for p in a.paragraphs]
    assert len(paragraphs) == len(everything) and list(paragraphs.ids) == [
        p.id for _, p in everything]
    # (out of order too: an article's file is unpickled again when asked for)
    for n in [*range(len(articles)), 3, 0, len(articles) - 1]:
        assert paragraphs.article_fields(n) == article_fields(articles[n])
    rows = paragraphs.rows(list(range(len(everything))))
    numbers = {a.id: n for n, a in enumerate(articles)}
    assert rows == [(numbers[a.id], p.id, p.number, p.kind, p.text) for a, p in everything]
    assert paragraphs.summaries() == tuple(
        ArticleSummary(a.id, len(a.paragraphs), a.source, a.source_from, a.date, a.date_from)
        for a in articles)
    paragraphs.close()


def test_paragraphs_numbered_otherwise_than_the_reader_numbers_them_are_refused():
    """The columns keep no paragraph's id or number: they are made again from the article's
    id and the paragraph's place, which is all a reader's paragraphs carry."""
    article = next(a for found in seed_articles() for a in found if len(a.paragraphs) > 1)
    first, second = article.paragraphs[:2]
    assert split_off([article]).counts == [len(article.paragraphs)]
    for paragraphs in ([second, first], [model.replace(first, id=first.id + "x")]):
        with pytest.raises(ValueError, match="is not number 1 of article"):
            split_off([model.replace(article, paragraphs=tuple(paragraphs))])


def test_articles_asked_for_by_two_threads_at_once(tmp_path):
    """As the writing's two makers of batches ask: both get every article's fields right,
    the first asking while they are still to be written to the scratch file."""
    files = list(seed_articles())
    articles = [a for found in files for a in found]
    orders = [list(range(len(articles))), list(range(len(articles)))[::-1]]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns often: a race shows
    try:
        for _ in range(50):
            paragraphs = ReadParagraphs(str(tmp_path))
            for found in files:
                paragraphs.extend(split_off(found))
            together = threading.Barrier(2)
            got = [[], []]

            def ask(k):
                together.wait()
                got[k] += [paragraphs.article_fields(n) for n in orders[k]]

            threads = [threading.Thread(target=ask, args=(k,)) for k in (0, 1)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert got == [[article_fields(articles[n]) for n in order] for order in orders]
            paragraphs.close()
    finally:
        sys.setswitchinterval(interval)
