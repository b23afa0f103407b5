"""The analyzer's one-step filter gives exactly the tokens of Whoosh's chain of filters."""

import pickle

import pytest
import samples
from conftest import DATA, SEEDS, committed, samples_and
from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

from searchkit.index import wordterms
from searchkit.index.analysis import STOP_WORDS, snowball_stem, text_analyzer

ODD = [
    "Café Zürich, São Paulo and Łódź: ÉLAN élan ÆSIR œuvre straße",
    "THE U.S. and the E.U. said A b c d e I o x 2020 1.5 3,000 o'clock it's rock'n'roll",
    "a an the of", "", "   ", "ﬁnance ﬂow Ⅻ ½ №5 x²", "Kolesnikova's \"coordination council\"",
]

KWARGS = [
    dict(positions=True, chars=True, mode="index"),
    dict(mode="query"),
    dict(positions=True, chars=True, removestops=False, mode="index"),  # as highlighting asks
    dict(positions=True, no_morph=True),
    dict(positions=True, start_pos=7, start_char=100),
]


def whoosh_chain():
    return (
        RegexTokenizer(wordterms.TOKEN.pattern)
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=2)
        | StemFilter(stemfn=snowball_stem, cachesize=100_000)
    )


def tokens(analyzer, text, **kwargs):
    return [
        (t.text, getattr(t, "pos", None), getattr(t, "startchar", None),
         getattr(t, "endchar", None), t.stopped, t.boost)
        for t in analyzer(text, **kwargs)
    ]


def real_texts(corpus):
    """The seeds and the invented samples, or 120 BBC articles and 150 Reuters stories."""
    if corpus == "samples":
        return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] + (
            samples.texts())
    texts = []
    for folder in ("business", "sport", "tech"):
        files = sorted((DATA / "bbc" / folder).glob("*.txt"))[:40]
        texts += [f.read_bytes().decode("cp1252") for f in files]
    story = (DATA / "reuters21578" / "reut2-003.sgm").read_text(encoding="latin-1")
    return texts + story.split("</REUTERS>")[:150]


@pytest.mark.parametrize("corpus", samples_and("bbc", "reuters21578"))
@pytest.mark.parametrize("kwargs", KWARGS, ids=lambda k: ",".join(sorted(k)))
def test_the_same_tokens_as_whooshs_chain(kwargs, corpus):
    ours, theirs = text_analyzer(), whoosh_chain()
    texts = ODD + real_texts(corpus)
    assert len(texts) > (30 if corpus == "samples" else 250)
    for text in texts:
        assert tokens(ours, text, **kwargs) == tokens(theirs, text, **kwargs), text[:80]
    # and again with every word already remembered
    for text in texts[:40]:
        assert tokens(ours, text, **kwargs) == tokens(theirs, text, **kwargs), text[:80]


def test_the_pickled_analyzer_carries_no_cache_and_works():
    analyzer = text_analyzer()
    words = tokens(analyzer, ODD[0] + " " + ODD[1], positions=True)
    assert pickle.dumps(analyzer) == pickle.dumps(text_analyzer())  # what it saw stays out
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy == analyzer
    assert tokens(copy, ODD[0] + " " + ODD[1], positions=True) == words
    assert words and all(not stopped for *_, stopped, _ in words)


def test_a_build_past_the_words_a_process_remembers_needs_no_nltk_for_its_stems_table(
        tmp_path, monkeypatch):
    """With far fewer words remembered than the corpus has, a build's stems table is NLTK's
    stems of every word of its vocabulary all the same, made without asking NLTK again (the
    stems each segment's writing worked out reach it without the cache), and the cache stays
    within its bound."""
    import json
    from collections import Counter

    import searchkit
    from nltk.stem.snowball import EnglishStemmer

    from searchkit.index import analysis, build

    monkeypatch.setattr(wordterms, "_MAX_REMEMBERED", 50)
    monkeypatch.setattr(wordterms, "_known", {})  # (what earlier tests remembered, put back)
    monkeypatch.setattr(wordterms, "_stem_tables", {})
    monkeypatch.setattr(build, "BATCH_COST", 20_000)  # a segment of a few paragraphs each
    asked: Counter = Counter()
    nltk_stem, write_table = wordterms._nltk_stem, analysis.write_stems_table
    asked_for_the_table = []

    def counted(word):
        asked[word] += 1
        return nltk_stem(word)

    def table_watched(*args, **kwargs):
        before = sum(asked.values())
        write_table(*args, **kwargs)
        asked_for_the_table.append(sum(asked.values()) - before)

    monkeypatch.setattr(wordterms, "_nltk_stem", counted)
    monkeypatch.setattr(analysis, "write_stems_table", table_watched)
    searchkit.build_index([SEEDS], tmp_path / "index")
    table = analysis.parse_stems(committed(tmp_path / "index", "stems").decode("utf-8"))
    words = json.loads(committed(tmp_path / "index", "vocabulary"))["words"]
    stemmer = EnglishStemmer()
    assert len(table) > 1500 and table == {
        w: stemmer.stem(w) for w in words if len(w) >= wordterms.MIN_SIZE
        and w not in STOP_WORDS}
    assert set(asked) >= set(table) and asked_for_the_table == [0]
    assert max(asked.values()) > 1  # (words past the bound: worked out again in a later segment)
    assert len(wordterms._known) == 50


def test_a_loaded_stems_table_answers_for_every_word_and_nltk_for_the_rest(seed_index):
    from nltk.stem.snowball import EnglishStemmer

    from searchkit.index import analysis, wordterms

    text = committed(seed_index, "stems").decode("utf-8")
    table = analysis.parse_stems(text)
    wordterms._known.clear()  # what earlier tests remembered
    analysis.use_stems("seeds", text)
    stemmer = EnglishStemmer()
    words = sorted(table)
    assert len(words) > 1500
    for word in words + ["zzzz", "aaaa", "protestations", "rockets", "0", "é"]:
        assert analysis.snowball_stem(word) == stemmer.stem(word), word
    assert {w: wordterms.look_up(wordterms._stem_tables["seeds"], w) for w in words} == table
