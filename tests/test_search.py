"""Searching the seed index through the library API: rankings, snippets, errors."""

import json
import re
import shutil
from datetime import date

import pytest
from conftest import S000, S001, S002, SEEDS, committed, reseal
from whoosh import index as whoosh_index

import searchkit
from searchkit.retrieval import syntax
from searchkit.index import store
from searchkit.retrieval.snippets import sentence_spans


def ids(results):
    return [hit.id for hit in results.hits]


def highlighted(hit):
    return [hit.snippet.text[a:b] for a, b in hit.snippet.highlights]


def test_words_rank_paragraphs_with_all_of_them_first(searcher):
    results = searcher.search("dialogue with the opposition", limit=3)
    assert ids(results) == [f"{S000}#4", f"{S001}#6", f"{S000}#1"]
    for hit in results.hits:
        assert "dialogue" in hit.text and "opposition" in hit.text


def test_phrase_query_and_its_snippet(searcher):
    results = searcher.search('"renounce violence"')
    assert ids(results) == [f"{S000}#4"]
    (hit,) = results.hits
    assert hit.snippet.text == (
        "Macron called on Putin to “facilitate calm and dialogue” to resolve the crisis in "
        "Belarus, while Merkel stressed that Minsk should “renounce violence” and engage in "
        "dialogue with the opposition."
    )
    assert hit.snippet.highlights == ((132, 140), (141, 149))
    assert highlighted(hit) == ["renounce", "violence"]


def test_snippet_keeps_the_best_two_sentences_in_text_order(searcher):
    hit = searcher.search("dialogue", limit=1).hits[0]
    assert hit.id == f"{S000}#4"
    assert hit.snippet.text == (
        "Macron called on Putin to “facilitate calm and dialogue” to resolve the crisis in "
        "Belarus, while Merkel stressed that Minsk should “renounce violence” and engage in "
        "dialogue with the opposition. … For his part, Michel called for “a comprehensive, "
        "effective and peaceful dialogue”."
    )
    assert highlighted(hit) == ["dialogue"] * 3


def test_stemming_matches_other_forms(searcher):
    hit = searcher.search("detentions", limit=1).hits[0]
    assert "detention" in hit.text.lower()
    assert highlighted(hit)[0].lower().startswith("detention")


def test_hits_carry_the_article_metadata(searcher):
    hit = searcher.search('"national dialogue with the opposition and society"').hits[0]
    assert (hit.id, hit.article_id, hit.paragraph, hit.kind) == (f"{S001}#6", S001, 6, "body")
    assert (hit.source, hit.source_from) == ("themoscowtimes.com", "url")
    assert (hit.date, hit.date_from) == (date(2020, 8, 18), "byline")
    assert hit.title == "EU Leaders Urge Putin to Push for Talks in Belarus Over Disputed Vote"
    assert hit.path.endswith(f"{S001}.txt")


def test_boolean_operators_and_fields(searcher):
    both = searcher.search("Merkel AND Macron", limit=50)
    assert both.hits and all("Merkel" in h.text and "Macron" in h.text for h in both.hits)
    assert both.total == searcher.search("Merkel").total == 6  # Macron is in all six
    putin_only = searcher.search("Putin NOT Merkel", limit=200)
    assert putin_only.hits and all("Merkel" not in h.text for h in putin_only.hits)
    assert putin_only.total + searcher.search("Putin AND Merkel").total == (
        searcher.search("Putin").total)
    # A filter on a metadata field narrows the OR-ed words instead of widening them. The third
    # caption matches through its article's title ("Trump Says ..."), so it ranks last.
    captions = searcher.search("kind:caption Trump", limit=50, collapse=False)
    assert ids(captions) == [f"{S002}:12#1", f"{S002}:12#2", f"{S002}:12#8"]
    assert ids(searcher.search("Trump kind:caption NOT Putin", collapse=False)) == ids(captions)
    moscow = searcher.search("source:themoscowtimes.com Merkel")
    assert ids(moscow) == [f"{S001}#5", f"{S001}#6"]
    titled = searcher.search("title:Trump", limit=50)
    assert {h.article_id for h in titled.hits} == {f"{S002}:12"} and titled.total == 12


def test_filters_alone_narrow_each_other_and_not_leaves_out(searcher):
    """Filters without words list what passes all of them; NOT after them, as -word does,
    leaves paragraphs out of that list."""
    def total(query):
        return searcher.search(query, collapse=False).total

    assert (total("source:themoscowtimes.com"), total("kind:caption")) == (27, 17)
    assert total("source:themoscowtimes.com kind:caption") == 1
    assert total("source:themoscowtimes.com NOT Merkel") == total(
        "source:themoscowtimes.com -Merkel") == 27 - total("source:themoscowtimes.com Merkel")
    assert total("kind:caption NOT Trump") == total("kind:caption -Trump") == 17 - 3
    assert total("kind:caption kind:body") == searcher.stats().paragraphs


def test_no_hits_is_an_empty_answer(searcher):
    results = searcher.search("xylophone")
    assert (results.total, results.hits, results.note) == (0, (), None)


def test_unreadable_query_falls_back_to_its_words(searcher):
    results = searcher.search("Merkel date:[TO*]")  # Whoosh's parser raises on this
    assert results.note == (
        "could not read the query as written; searched for the words: merkel date to"
    )
    assert results.total == searcher.search("Merkel").total


def test_operators_with_nothing_to_act_on_are_words(searcher):
    results = searcher.search("Merkel ANDNOT ANDNOT ")
    assert results.notes[0].startswith("read as text, not as query syntax: ANDNOT")
    assert results.total == searcher.search("Merkel").total


def test_empty_query_is_a_searchkit_error(searcher):
    with pytest.raises(searchkit.QueryError, match="empty"):
        searcher.search("   ")


def test_results_are_searchkit_records(searcher):
    hit = searcher.search("Putin", limit=1).hits[0]
    assert isinstance(hit, searchkit.Hit) and isinstance(hit.snippet, searchkit.Snippet)
    json.dumps([hit.id, hit.score, hit.snippet.highlights, hit.paragraph])
    with pytest.raises(AttributeError):
        hit.score = 0


def test_stats(searcher):
    stats = searcher.stats()
    assert (stats.articles, stats.paragraphs) == (16, 341)
    assert stats.sources == {"themoscowtimes.com": 1} and stats.unknown_source == 15
    assert stats.kinds == {"body": 324, "caption": 17}
    assert (stats.first_date, stats.last_date, stats.undated_articles) == (
        date(2020, 8, 18), date(2020, 8, 18), 15)


def test_sentences_end_with_their_punctuation_and_quotes():
    text = 'He said "no." Then U.S. officials left. Mr. Smith stayed!'
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        'He said "no."', "Then U.S. officials left.", "Mr. Smith stayed!"]


def test_reindexing_a_file_leaves_the_rest_and_a_rebuild_keeps_only_it(tmp_path):
    searchkit.build_index([SEEDS], tmp_path)
    summary = searchkit.build_index([next(SEEDS.glob(f"{S000}*"))], tmp_path)
    assert (summary.unchanged, summary.paragraphs, summary.committed) == (1, 0, False)
    with searchkit.open_index(tmp_path) as searcher:
        assert searcher.stats().paragraphs == 341
    searchkit.build_index([next(SEEDS.glob(f"{S000}*"))], tmp_path, rebuild=True)
    with searchkit.open_index(tmp_path) as searcher:
        assert searcher.stats().paragraphs == 38


def test_missing_index(tmp_path):
    with pytest.raises(searchkit.IndexMissingError, match="searchkit index PATHS"):
        searchkit.open_index(tmp_path / "nowhere")


def test_index_built_with_other_settings_must_be_rebuilt(seed_index, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(seed_index, copy)
    settings = json.loads(committed(copy, "settings"))
    settings["analyzer"]["filters"] = "lowercase"
    (copy / f"searchkit-{store.latest_generation(copy)}.json").write_text(json.dumps(settings))
    reseal(copy)
    with pytest.raises(searchkit.IndexSettingsError, match="--rebuild"):
        searchkit.open_index(copy)
    with pytest.raises(searchkit.IndexSettingsError):
        searchkit.build_index([SEEDS], copy)
    searchkit.build_index([SEEDS], copy, rebuild=True)
    assert searchkit.search("Putin", copy).total > 0


def test_locked_index_is_reported_and_left_intact(seed_index, tmp_path):
    copy = tmp_path / "locked"
    shutil.copytree(seed_index, copy)
    lock = whoosh_index.open_dir(str(copy)).lock("WRITELOCK")
    assert lock.acquire()
    try:
        with pytest.raises(searchkit.IndexLockedError, match="another searchkit process"):
            searchkit.build_index([SEEDS], copy, rebuild=True)
    finally:
        lock.release()
    assert searchkit.search("Putin", copy).total > 0


@pytest.mark.parametrize("text, message", [
    ("*", "'*' alone would match every paragraph"),
    ("z*", "nothing to search for in 'z*' (read as text, not as query syntax: z*)"),
    ("z* OR the", "nothing to search for in 'z* OR the' (read as text, not as query syntax"),
    ("text:[a TO z]", "'[a TO z]' matches more than 256 different words; narrow the range"),
    ("x" * 5001, "the most is 5000"),
    ("https://example.com/" + "x" * 101, "a word of 101 characters; the most is 100"),
    ("(" * 17 + "putin" + ")" * 17, "parentheses nested 17 deep"),
])
def test_queries_that_are_refused(searcher, text, message):
    with pytest.raises(searchkit.QueryError, match=re.escape(message)):
        searcher.search(text)


def test_a_wide_wildcard_is_refused_and_a_narrow_one_runs(searcher, monkeypatch):
    monkeypatch.setattr(syntax, "MAX_EXPANSIONS", 5)  # the seeds have few words per prefix
    with pytest.raises(searchkit.QueryError, match="'pro\\*' matches more than 5 different"):
        searcher.search("pro*")
    assert {h.id for h in searcher.search("Lukash*", limit=200).hits} == {
        h.id for h in searcher.search("Lukashenko", limit=200, variants=False).hits}


def test_the_stems_table_holds_nltks_stems_of_the_corpus_words(seed_index):
    from nltk.stem.snowball import EnglishStemmer

    from searchkit.index.analysis import parse_stems

    table = parse_stems(committed(seed_index, "stems").decode("utf-8"))
    words = json.loads(committed(seed_index, "vocabulary"))["words"]
    stemmer = EnglishStemmer()
    assert len(table) > 1500 and set(table) <= set(words)
    assert {w: stemmer.stem(w) for w in table} == table
    assert "protest" in table and "the" not in table  # stop words are never stemmed


def test_searching_from_other_threads_leaves_signal_handlers_alone(seed_index):
    """A web app searches in worker threads (here a Searcher each)."""
    import signal
    import threading

    def search():
        with searchkit.open_index(seed_index) as searcher:
            return [h.id for h in searcher.search("dialogue with the opposition").hits]

    before = signal.getsignal(signal.SIGALRM)
    expected = search()
    found = []
    threads = [threading.Thread(target=lambda: found.append(search())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert expected and found == [expected] * 3
    assert signal.getsignal(signal.SIGALRM) == before


def test_one_searcher_shared_by_eight_threads(seed_index):
    """Every search, show and stats call from 8 threads on one Searcher gives what it gives
    alone. (Thread switches are made frequent so that unguarded calls would interleave.)"""
    import sys
    import threading

    queries = ["dialogue with the opposition", '"renounce violence"', "Merkel OR Putin",
               "Belarus", "title:Trump", "Tikhanovskaya", "protest* -police", "Lukashenko"]

    def calls(searcher, worker):
        found = []
        for text in queries[worker:] + queries[:worker]:
            results = searcher.search(text, limit=5, facets=True)
            found.append((text, results.total, [(h.id, h.score) for h in results.hits]))
            if results.hits:
                found.append(searcher.show(results.hits[0].id).title)
            found.append(searcher.search_documents(text, limit=3))
        found.append(searcher.stats().paragraphs)
        return sorted(map(repr, found))

    with searchkit.open_index(seed_index) as searcher:
        expected = [calls(searcher, worker) for worker in range(8)]
        results, errors = {}, []

        def work(worker):
            try:
                results[worker] = calls(searcher, worker)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))

        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        try:
            threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(interval)
    assert errors == []
    assert all(results[w] == expected[w] for w in range(8))
