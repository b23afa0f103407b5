"""The fast TEXT field indexes exactly what Whoosh's TEXT field indexes with the same analyzer:
terms, frequencies, weights, positions, field lengths, and so the same searches and snippets."""

import pickle

import pytest
import samples
from conftest import DATA, SEEDS, samples_and, sources, trust_schema
from whoosh.fields import TEXT, Schema

import searchkit
from searchkit.index import analysis, build, schema
from searchkit.index.textfield import WordCachingText

BBC = DATA / "bbc"
REUTERS = DATA / "reuters21578" / "reut2-003.sgm"

TRICKY = [
    "",
    "   ",
    "the a an of I",  # only stop words and one-letter words
    "The cat sat on the mat, and the cat ran.",  # a stop word first: positions start later
    "Café naïve Ærøskøbing Straße Łódź Đặng İstanbul ﬁnance",  # accents, folding, ligatures
    "don't it's O'Neill’s rock 'n' roll",  # apostrophes
    "3.5% of 1,000,000 in 2004; U.S. e.g. v1.2.3 ...hello... a.b.c",  # numbers and dots
    "x y z A B C aa bb cc",  # one-letter words are stopped by length, two-letter ones kept
    "Running runners ran; RUNNING Runs run run run",  # stems and repeats
    "wild*card **bold** a*b * 5*3 x.*y",  # whoosh-reloaded's tokenizer keeps "*" in words
    "\u00a0tab\tnew\nline\u2028sep ünïcödé_under_score 日本語 テスト",
]


def paragraphs_of(folder, limit):
    texts = []
    for path in sorted(folder.rglob("*.txt"))[:limit]:
        content = path.read_text(encoding="utf-8", errors="replace")
        texts += [block for block in content.split("\n\n") if block.strip()]
    return texts


def real_texts(corpus):
    """The seeds' paragraphs and the invented samples, or 150 BBC articles' paragraphs and 150
    Reuters stories."""
    if corpus == "samples":
        return paragraphs_of(SEEDS, 100) + samples.texts()
    return paragraphs_of(BBC, 150) + (
        REUTERS.read_text(encoding="latin-1").split("</REUTERS>")[:150])


@pytest.mark.parametrize("corpus", samples_and("bbc", "reuters21578"))
@pytest.mark.parametrize("name", schema.SEARCH_FIELDS)
def test_the_fast_field_gives_whooshs_postings(name, corpus):
    fast = schema.make_schema()[name]
    assert isinstance(fast, WordCachingText)
    assert fast._splitter() is not None  # the shortcut applies: not Whoosh's path under it
    whoosh_text = TEXT(stored=True, analyzer=fast.analyzer)
    texts = TRICKY + real_texts(corpus)
    assert len(texts) > (300 if corpus == "samples" else 900)
    for text in texts + texts:  # the second time from the cache
        assert list(fast.index(text)) == list(whoosh_text.index(text)), text[:80]


def test_a_full_cache_starts_again_and_changes_nothing(monkeypatch):
    """Past MAX_CACHED_WORDS distinct words the field's table starts again: the postings are
    Whoosh's still, and the table never holds more than the limit."""
    from searchkit.index import textfield

    monkeypatch.setattr(textfield, "MAX_CACHED_WORDS", 7)
    fast = schema.make_schema()[schema.TEXT_FIELD]
    whoosh_text = TEXT(stored=True, analyzer=fast.analyzer)
    for text in TRICKY + paragraphs_of(SEEDS, 20):
        assert list(fast.index(text)) == list(whoosh_text.index(text)), text[:80]
        assert len(fast._terms) <= 7


def test_positions_skip_stop_words_as_whoosh_renumbers_them():
    field = WordCachingText(analyzer=analysis.text_analyzer())
    postings = {term: field.format.decode_positions(value)
                for term, _, _, value in field.index("The cat and the hat of the cat")}
    assert postings == {b"cat": [1, 3], b"hat": [2]}


def test_a_boosted_field_and_a_list_value_are_whooshs_too():
    analyzer = analysis.text_analyzer()
    fast, slow = (cls(analyzer=analyzer, field_boost=2.5) for cls in (WordCachingText, TEXT))
    text = "Boosted words, boosted twice"
    assert list(fast.index(text)) == list(slow.index(text))
    assert list(fast.index(["Listed", "words"])) == list(slow.index(["Listed", "words"]))


def test_the_field_pickles_without_its_cache():
    field = schema.make_schema()[schema.TEXT_FIELD]
    list(field.index("warming the cache"))
    copy = pickle.loads(pickle.dumps(field))
    assert "_terms" not in copy.__dict__
    assert copy == field
    assert list(copy.index("warming the cache")) == list(field.index("warming the cache"))


def whoosh_schema() -> Schema:
    """searchkit's schema with Whoosh's own TEXT for title and text."""
    fast = schema.make_schema()
    for name in schema.SEARCH_FIELDS:
        field = fast[name]
        fast.remove(name)
        fast.add(name, TEXT(stored=True, analyzer=field.analyzer))
    return fast


def index_contents(index_dir):
    """Every field's terms with their postings (docnum, weight, value), every document's
    field lengths and stored fields."""
    with searchkit.index.store.open_index(index_dir).searcher() as searcher:
        reader = searcher.reader()
        postings = {}
        for name, term in reader.all_terms():
            matcher = reader.postings(name, term)
            postings[name, term] = list(matcher.items_as("weight")), [
                (m.id(), m.value()) for m in _walk(reader.postings(name, term))
            ]
        lengths = [
            [reader.doc_field_length(n, name) for name in schema.SEARCH_FIELDS]
            for n in range(reader.doc_count_all())
        ]
        stored = [dict(fields) for fields in searcher.all_stored_fields()]
        totals = {name: reader.field_length(name) for name in schema.SEARCH_FIELDS}
    return postings, lengths, stored, totals


def _walk(matcher):
    while matcher.is_active():
        yield matcher
        matcher.next()


QUERIES = ["dialogue with the opposition", '"renounce violence"', "detentions", "Lukashenko",
           "title:protest", "opposition NOT Belarus", "protest*", "police OR army"]


@pytest.mark.parametrize("corpus", samples_and("bbc"))
def test_an_index_is_the_same_as_with_whooshs_text_field(tmp_path, monkeypatch, corpus):
    paths = sources(corpus, tmp_path / "samples")
    fast_dir, slow_dir = tmp_path / "fast", tmp_path / "whoosh"
    searchkit.build_index(paths, fast_dir)
    monkeypatch.setattr(build, "make_schema", whoosh_schema)
    trust_schema(monkeypatch, whoosh_schema)
    searchkit.build_index(paths, slow_dir)
    with searchkit.index.store.open_index(slow_dir).searcher() as searcher:
        assert type(searcher.schema[schema.TEXT_FIELD]) is TEXT  # the comparison is real

    assert index_contents(fast_dir) == index_contents(slow_dir)
    with searchkit.open_index(fast_dir) as fast, searchkit.open_index(slow_dir) as slow:
        for text in QUERIES:
            found = fast.search(text, limit=20)
            assert found.hits, text
            assert found == slow.search(text, limit=20), text
