"""One line that says what happened and what to do, for each query, option and file that used
to be met with silence, a misleading error or a count that does not add up."""

import json
import re
import subprocess
import sys

import pytest
from conftest import S000
from conftest import invoke as run

import searchkit
from searchkit.errors import QueryError
from searchkit.retrieval.syntax import Filters


def notes(result):
    return [line for line in result.stderr.splitlines() if line.startswith("note: ")]


@pytest.mark.parametrize("query, message", [
    ("the and of", "only stop words (the, and, of), which are too common to be indexed; add a "
                   "word that says what you look for"),
    ('"to be or not to be"', "only stop words (to, be, or, not)"),
    ("£", "£ cannot be searched for: only letters and digits are indexed"),
    ("date:0000", "date:0000 is not a date: write date:YYYY, date:YYYY-MM, date:YYYY-MM-DD"),
    ("-Putin", "the query only leaves paragraphs out; add words to search for"),
    ("NOT Putin", "the query only leaves paragraphs out; add words to search for"),
    ("NOT Putin AND NOT Merkel", "the query only leaves paragraphs out"),
    ('-"Angela Merkel"', "the query only leaves paragraphs out"),
    ("-(Putin OR Merkel)", "the query only leaves paragraphs out"),
    ("Merkel source:moscowtimes.com", "no source 'moscowtimes.com' in the index; the closest: "
                                      "themoscowtimes.com"),
    ("Merkel kind:photo", "no kind 'photo': paragraphs are kind:body or kind:caption"),
    ("Merkel kind:Caption", "no kind 'Caption': paragraphs are kind:body or kind:caption"),
    ("Merkel date:[2020-09 TO 2020-08-18]", "date:[2020-09 TO 2020-08-18] starts after it "
                                            "ends: nothing can match; swap its dates"),
])
def test_a_query_with_nothing_to_search_for_says_why(seed_index, query, message):
    result = run("search", "--index", seed_index, "--", query)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: {message}")


@pytest.mark.parametrize("query", ["s* " * 1500, "?! " * 1500, "the " * 1200])
def test_a_long_query_with_nothing_to_search_for_is_named_in_a_short_line(seed_index, query):
    """A pasted text of thousands of characters is not repeated whole in its error."""
    result = run("search", "--index", seed_index, "--", query)
    assert result.exit_code == 2
    line, = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and len(line) < 300, line


@pytest.mark.parametrize("query, note", [
    ("£ Merkel", "£ cannot be searched for (only letters and digits are indexed); searched for "
                 "the rest"),
    ("北京 Merkel", "Chinese and Japanese text is not split into words: 北京 is found only where "
                  "it stands apart"),
    ("foo:Merkel", "foo: is not a field, so foo was searched as a word; fields are title:, "
                   "source:, kind: and date:"),
    ("Title:Merkel", "Title: is not a field, so Title was searched as a word; field names are "
                     "lower case: title:"),
    ("Merkel date:0000", "date:0000 is not a date, so it was left out"),
])
def test_what_a_query_lost_is_noted_and_the_rest_searched(seed_index, query, note):
    result = run("search", query, "--index", seed_index, "-n", "1")
    assert result.exit_code == 0, result.stderr
    assert any(line.startswith(f"note: {note}") for line in notes(result)), result.stderr
    assert result.stdout  # Merkel was found


def test_plain_words_and_fields_get_no_note(seed_index):
    for query in ("Merkel", "title:Merkel source:themoscowtimes.com", "date:2020-08 Merkel",
                  '"time: 10 minutes"', "https://www.themoscowtimes.com"):
        said = notes(run("search", query, "--index", seed_index))
        assert [n for n in said if "left out by the date filter" not in n] == [], query


def test_since_after_until_is_refused(seed_index, searcher):
    result = run("search", "Merkel", "--index", seed_index, "--since", "2021", "--until", "2020")
    assert result.exit_code == 2
    assert ("the start date 2021-01-01 (since) is after the end date 2020-12-31 (until): "
            "nothing can match; swap them") in result.stderr
    with pytest.raises(QueryError, match="swap them"):
        from datetime import date
        searcher.search("Merkel", filters=Filters(since=date(2021, 1, 1), until=date(2020, 1, 1)))


def test_a_query_starting_with_a_dash_is_shown_how(seed_index):
    result = run("search", "-Putin", "--index", seed_index)
    assert result.exit_code == 2
    assert "put -- before the query, as in searchkit search -- -Putin" in result.stderr
    two = run("search", "Merkel", "-Putin")
    assert "searchkit search -- Merkel -Putin" in two.stderr
    done = run("search", "--index", seed_index, "--format", "jsonl", "--", "Merkel", "-Putin")
    assert done.exit_code == 0 and done.stdout


def test_sorting_an_undated_corpus_by_date_says_so(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        (corpus / f"{n}.txt").write_text(f"Story {n}\n\nThe harbour story number {n} has "
                                         f"{'harbour ' * n}words.\n", encoding="utf-8")
    run("index", corpus, "--index", tmp_path / "ix")
    result = run("search", "harbour", "--index", tmp_path / "ix", "--sort", "date",
                 "--format", "jsonl")
    assert notes(result) == ["note: none of the 3 matching paragraphs has a date; sorted by "
                             "score instead"]
    scores = [json.loads(line)["score"] for line in result.stdout.splitlines()]
    assert None not in scores and scores == sorted(scores, reverse=True)


def test_dated_paragraphs_sorted_by_date_get_no_note(seed_index):
    result = run("search", "Merkel", "--index", seed_index, "--sort", "date")
    assert notes(result) == []


@pytest.mark.parametrize("args, note", [
    (["search", "Merkel", "--run-name", "bm25"],
     "--run-name does nothing without --batch --format trec"),
    (["search", "Merkel", "--format", "jsonl", "--color", "always"],
     "--color does nothing with JSON or TREC output"),
    (["show", f"{S000}#4", "--format", "json", "--context", "2"],
     "--context does nothing with --format json"),
    (["show", S000, "--context", "2"], "--context does nothing with an article id"),
])
def test_options_that_do_nothing_here_are_noted(seed_index, args, note):
    result = run(*args, "--index", seed_index)
    assert result.exit_code == 0, result.stderr
    assert [line for line in notes(result) if line.startswith(f"note: {note}")], result.stderr


def test_prune_with_rebuild_is_noted(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("A\n\nThe harbour opened at dawn today.\n")
    result = run("index", corpus, "--index", tmp_path / "ix", "--rebuild", "--prune")
    assert "note: --prune does nothing with --rebuild" in result.stderr


def test_an_encoding_that_garbles_utf8_is_warned_about(tmp_path):
    path = tmp_path / "café.txt"
    path.write_text("Café society\n\nThe café on the harbour reopened.\n", encoding="utf-8")
    result = run("index", path, "--index", tmp_path / "ix", "--encoding", "cp1252")
    assert result.exit_code == 0
    assert re.search(r"warning: .*café\.txt: this file is valid UTF-8, but --encoding cp1252 "
                     r"reads its non-ASCII letters as other characters", result.stderr)
    plain = run("index", path, "--index", tmp_path / "ix2")
    assert "warning" not in plain.stderr


def test_a_refused_query_costs_no_index_and_no_stemmer(seed_index, tmp_path):
    result = run("search", "x" * 5001, "--index", tmp_path / "no-index-here")
    assert result.exit_code == 2  # refused before the index is looked for
    assert "the query is 5001 characters long; the most is 5000" in result.stderr
    script = (
        "import sys, searchkit\n"
        f"searcher = searchkit.open_index({str(seed_index)!r})\n"
        "try:\n    searcher.search('zzyzxqw ' * 630)\nexcept searchkit.QueryError:\n    pass\n"
        "print('nltk' in sys.modules)\n")
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert loaded.stdout.strip() == "False", loaded.stderr


def test_counts_read_well_and_add_up(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    long = " ".join(f"word{n}" for n in range(900)) + "."
    (corpus / "one.txt").write_text(f"One story\n\n{long}\n\nA short harbour paragraph with "
                                    "eight words in it.\n\nA short harbour paragraph with "
                                    "eight words in it.\n", encoding="utf-8")
    result = run("index", corpus, "--index", tmp_path / "ix")
    first = result.stderr.splitlines()[0]
    match = re.search(r"indexed 1 file into .*: 1 article, (\d+) paragraphs \((\d+) body, "
                      r"(\d+) caption\)", first)
    assert match, first
    total, body, caption = map(int, match.groups())
    assert total == body + caption == 5  # three passages of the long paragraph, two short
    assert "near-identical paragraphs: 1 group holding 2 paragraphs" in result.stderr
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\tharbour\n")
    batch = run("search", "--batch", queries, "--index", tmp_path / "ix")
    assert batch.stderr.startswith("1 query, 1 document ranked")


def test_the_summary_says_how_many_paragraphs_indexed_earlier_changed_group(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    quote = "The minister said the harbour strike would end before the spring tides came in.\n"
    (corpus / "later.txt").write_text(f"A later story\n\n{quote}", encoding="utf-8")
    assert run("index", corpus, "--index", tmp_path / "ix").exit_code == 0
    (corpus / "early.txt").write_text(f"An early story\n\n{quote}", encoding="utf-8")
    result = run("index", corpus, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.stderr
    assert ("near-identical paragraphs: 1 group holding 2 paragraphs (1 paragraph indexed "
            "earlier changed group)\n") in result.stderr  # its group's key is early#1's now


def test_an_article_id_with_context_still_shows_the_article(seed_index):
    result = run("show", S000, "--index", seed_index, "--context", "1")
    assert result.exit_code == 0 and result.stdout.startswith("Europeans are urging")


def test_library_results_carry_the_notes(searcher):
    results = searcher.search("£ Merkel")
    assert results.notes == (
        "£ cannot be searched for (only letters and digits are indexed); searched for the rest",)
    assert searchkit.SearchResults("q", 0, 0, ()).notes == ()  # a tuple by default
