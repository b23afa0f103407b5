"""The paragraphs a build read, held as columns: ids in one buffer of bytes, each file's
articles pickled, made again only when they are asked for."""

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

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


def test_articles_and_paragraphs_read_back_as_the_files_gave_them(tmp_path):
    """Every seed file's articles and paragraphs, added file by file: each article's stored
    fields, each paragraph's row and the summaries are those of the articles read."""
    paragraphs = ReadParagraphs(str(tmp_path))
    articles = []
    for path in sorted(SEEDS.iterdir()):
        found = read_file(path, path.stem, path.read_bytes(), None, ReadOptions()).articles
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
