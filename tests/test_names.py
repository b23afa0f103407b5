"""Names in every spelling: transliterations meet, the spelling typed ranks first, phrases are
never varied, names that differ in a consonant are no variants (issue 17)."""

import pytest
from samples import write_stories

import searchkit

# Paragraphs that differ only in the spelling of a name rank by that spelling alone.
ARTICLES = {
    "a.txt": ("Minsk", ["Tsikhanouskaya met the envoy in Vilnius on Monday.",
                        "Tikhanovskaya met the envoy in Vilnius on Monday.",
                        "Svetlana Tikhanovskaya spoke to reporters after the vote count.",
                        "Sergei Tikhanovsky was arrested before the campaign began."]),
    "b.txt": ("Moscow", ["Maksim Gorky wrote about the city.", "Maxim Gorky lived there.",
                         "Kadhafi and Qaddafi are one man, as Gaddafi is."]),
    "c.txt": ("Oil", ["Yukos filed for protection in Houston.",
                      "The Yukon territory has oil too.",
                      "Gordon Brown spoke. Gorton is a place in Manchester.",
                      "Lukashenka and Lukashenko are one man."]),
}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    root = tmp_path_factory.mktemp("names")
    folder = root / "corpus"
    write_stories(folder, ARTICLES)
    searchkit.build_index([folder], root / "ix", find_duplicates=False)
    with searchkit.open_index(root / "ix") as opened:
        yield opened


@pytest.mark.parametrize("typed, others", [
    ("Tikhanovskaya", {"tsikhanouskaya", "tikhanovsky"}),
    ("Tsikhanouskaya", {"tikhanovskaya", "tikhanovsky"}),
    ("Tikhanovsky", {"tikhanovskaya", "tsikhanouskaya"}),
    ("Maxim", {"maksim"}),
    ("Qaddafi", {"kadhafi"}),
    ("Lukashenka", {"lukashenko"}),
])
def test_transliterations_are_variants(searcher, typed, others):
    assert set(searcher.search(typed).variants[typed]) == others


def test_the_spelling_typed_outranks_an_equally_good_variant(searcher):
    for typed in ("Tikhanovskaya", "Tsikhanouskaya"):
        results = searcher.search(typed, collapse=False)
        assert results.hits[0].text == f"{typed} met the envoy in Vilnius on Monday."
        assert results.hits[0].score > results.hits[1].score


def test_names_that_differ_in_a_consonant_are_not_variants(searcher):
    assert searcher.search("Yukos").variants == {}
    assert "Gordon" not in searcher.search("Gordon").variants


def test_a_quoted_phrase_is_never_varied(searcher):
    results = searcher.search('"Svetlana Tsikhanouskaya"')
    assert results.variants == {} and results.total == 0
    assert searcher.search('"Svetlana Tikhanovskaya"').total == 1
    mixed = searcher.search('"Sergei Tikhanovsky" Tsikhanouskaya')
    assert set(mixed.variants) == {"Tsikhanouskaya"}


def test_a_rarer_variant_weighs_less_so_that_it_never_outranks_the_name_typed():
    from searchkit.index.vocabulary import Vocabulary
    from searchkit.retrieval import plan

    words = {"tikhanovskaya": 90, "tsikhanouskaya": 1, "tikhanovsky": 200}
    vocabulary = Vocabulary(1000, words, dict(words))
    found = plan.name_variants("Tikhanovskaya", vocabulary)
    assert set(found["Tikhanovskaya"]) == {"tsikhanouskaya", "tikhanovsky"}
    (typed, boosts), = plan.variant_stems(found, vocabulary).items()
    boosts = dict(boosts)
    rare = boosts[plan._stem("tsikhanouskaya")]
    idf = {w: plan._idf(vocabulary, w) for w in words}
    assert rare * idf["tsikhanouskaya"] == pytest.approx(
        plan.VARIANT_BOOST * idf["tikhanovskaya"])  # the cap binds: a rarer spelling
    assert rare < plan.VARIANT_BOOST
    assert boosts[plan._stem("tikhanovsky")] == plan.VARIANT_BOOST  # a commoner one: no cap


def test_the_words_of_a_long_quotation_are_searched_but_not_varied(searcher):
    quoted = searcher.search('"Tsikhanouskaya met the envoy in Riga on Monday"', collapse=False)
    assert quoted.variants == {}  # Riga for Vilnius: no phrase match, its words still count
    assert quoted.hits[0].text == "Tsikhanouskaya met the envoy in Vilnius on Monday."
    for hit in quoted.hits:  # no variant of the name marked: it was not searched for
        marked = {hit.snippet.text[a:b] for a, b in hit.snippet.highlights}
        assert "Tikhanovskaya" not in marked and "Tikhanovsky" not in marked


def test_a_long_name_with_a_consonant_left_out_is_a_typo_of_it():
    from searchkit.index.vocabulary import Vocabulary
    from searchkit.retrieval import plan

    words = {"kowalczyk": 3, "kowalcyk": 1, "aleksandrov": 2, "aleksandr": 2}
    vocabulary = Vocabulary(1000, words, dict(words))
    assert plan.name_variants("Kowalczyk", vocabulary) == {"Kowalczyk": ("kowalcyk",)}
    assert plan.name_variants("Aleksandr", vocabulary) == {}  # a patronymic is another name


def test_a_name_with_a_vowel_or_an_s_more_at_its_end_is_another_word():
    """Israel / Israeli, Italian / Italiano, Thursday / Thursdays, Mexican / Mexicans: other
    words made of a name, not its spellings; a vowel changed at the end still is one."""
    from searchkit.index.vocabulary import Vocabulary
    from searchkit.retrieval import plan

    words = {"israel": 5, "israeli": 5, "italian": 5, "italiano": 2, "thursday": 9,
             "thursdays": 2, "mexican": 4, "mexicans": 3, "lukashenko": 6, "lukashenka": 2}
    vocabulary = Vocabulary(1000, words, dict(words))
    for name in ("Israel", "Israeli", "Italian", "Thursday", "Mexican", "Mexicans"):
        assert plan.name_variants(name, vocabulary) == {}, name
    assert plan.name_variants("Lukashenko", vocabulary) == {"Lukashenko": ("lukashenka",)}


def test_a_variant_is_listed_once_and_names_are_keyed_once_per_vocabulary(monkeypatch):
    from searchkit.index.vocabulary import Vocabulary
    from searchkit.retrieval import plan, translit

    words = {"johannesson": 2, "johansson": 3, "jonsson": 2, "jonson": 2, "ivanov": 2}
    vocabulary = Vocabulary(1000, words, dict(words))
    keyed, real_key = [], translit._key
    monkeypatch.setattr(translit, "_key", lambda name: keyed.append(name) or real_key(name))
    # ("j" is among the first letters a "j" name may be spelt with, twice: listed once)
    assert plan.name_variants("Johannesson", vocabulary) == {"Johannesson": ("johansson",)}
    assert sorted(set(keyed)) == sorted(words)  # every name that may be a spelling of it
    keyed.clear()
    # The next query's name is keyed; the vocabulary's names were, with the vocabulary.
    assert plan.name_variants("Jonsson", vocabulary) == {"Jonsson": ("jonson",)}
    assert set(keyed) <= {"jonsson"}


def test_text_longer_than_a_typed_query_searches_its_names_as_written(searcher):
    """A pasted sentence is found by its other words; its names are not varied (no notes of
    spellings a reader did not ask for), while the same name typed alone is."""
    pasted = searcher.search("Svetlana Tikhanovskaya spoke to reporters after the vote count "
                             "in the capital")
    assert pasted.variants == {}
    assert pasted.hits[0].text == "Svetlana Tikhanovskaya spoke to reporters after the vote count."
    assert searcher.search("Svetlana Tikhanovskaya spoke to reporters").variants
