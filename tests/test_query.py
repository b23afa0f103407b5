"""Filters, dates, sorting, pages and facets, over dated wire stories and the seeds."""

import json
import re
from collections import Counter
from datetime import date
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from conftest import SEEDS, committed, samples_and
from reuters import write_slice
from samples import write_wire

import searchkit
from searchkit.cli.commands import main
from searchkit.index import vocabulary
from searchkit.retrieval import weighting
from searchkit.retrieval.syntax import Filters, date_bound


@pytest.fixture(scope="module", params=samples_and("reuters21578"))
def dated(request, tmp_path_factory):
    """An index of 200 wire stories from Feb, Mar, Apr and Oct 1987 (dated by a manifest, with
    one source), invented or from Reuters-21578, and the seeds (mostly undated)."""
    root = tmp_path_factory.mktemp("dated")
    if request.param == "samples":
        source, dates = "Newswire", write_wire(root / "wire", source="Newswire")
    else:
        source, dates = "Reuters", write_slice(root / "wire")
    searchkit.build_index([root / "wire", SEEDS], root / "index")
    with searchkit.open_index(root / "index") as searcher:
        yield SimpleNamespace(searcher=searcher, dates=dates, index=root / "index",
                              source=source)


def test_date_bounds():
    assert date_bound("1987") == date(1987, 1, 1)
    assert date_bound("1987", end=True) == date(1987, 12, 31)
    assert date_bound("1987-02", end=True) == date(1987, 2, 28)
    assert date_bound("1987-12", end=True) == date(1987, 12, 31)
    assert date_bound("1987-03-04") == date(1987, 3, 4)
    with pytest.raises(searchkit.QueryError, match="YYYY-MM-DD"):
        date_bound("March 1987")


def test_since_and_until_keep_only_dated_paragraphs_in_range(dated):
    searcher = dated.searcher
    march = Filters(since=date(1987, 3, 1), until=date(1987, 3, 31))
    results = searcher.search("president", limit=50, filters=march)
    assert results.hits and all(h.date.strftime("%Y-%m") == "1987-03" for h in results.hits)
    everything = searcher.search("president", limit=500, collapse=False)
    undated = sum(1 for h in everything.hits if h.date is None)
    assert undated > 0 and results.undated_left_out == undated


def test_date_in_the_query_is_the_same_filter(dated):
    searcher = dated.searcher
    flags = searcher.search("oil", limit=100, filters=Filters(since=date(1987, 4, 1),
                                                               until=date(1987, 4, 30)))
    for text in ("oil date:1987-04", "oil date:[1987-04-01 TO 1987-04-30]"):
        in_query = searcher.search(text, limit=100)
        assert [h.id for h in in_query.hits] == [h.id for h in flags.hits], text
        assert in_query.undated_left_out == flags.undated_left_out
    # with no words to match, no undated paragraph was left out that they would have matched
    assert searcher.search("date:1987-04", limit=100).undated_left_out == 0
    assert searcher.search("source:" + dated.source.lower(), limit=100,
                           filters=Filters(since=date(1987, 4, 1))).undated_left_out == 0
    open_range = searcher.search("oil date:[1987-10-01 TO]", limit=100)
    assert open_range.hits and all(h.date >= date(1987, 10, 1) for h in open_range.hits)


def test_source_and_kind_filters(dated):
    searcher = dated.searcher
    wire = searcher.search("oil", limit=100, filters=Filters(sources=(dated.source.lower(),)))
    assert wire.hits and {h.source for h in wire.hits} == {dated.source}
    captions = searcher.search("Minsk", limit=100, filters=Filters(kinds=("caption",)))
    assert captions.hits and {h.kind for h in captions.hits} == {"caption"}
    excluded = searcher.search("oil -crude", limit=100)
    assert excluded.hits and all("crude" not in h.text.lower() for h in excluded.hits)


def test_sort_by_date_puts_undated_last(dated):
    searcher = dated.searcher
    oldest = searcher.search("minister", limit=300, sort="date", collapse=False).hits
    newest = searcher.search("minister", limit=300, sort="-date", collapse=False).hits
    for hits, descending in ((oldest, False), (newest, True)):
        dates = [h.date for h in hits if h.date]
        assert dates == sorted(dates, reverse=descending) and len(set(dates)) > 2
        assert hits[-1].date is None and hits[0].date is not None


def test_pages_continue_the_ranking(dated):
    searcher = dated.searcher
    first, second = (searcher.search("bank", limit=5, page=n) for n in (1, 2))
    assert [h.rank for h in second.hits] == [6, 7, 8, 9, 10]
    assert [h.id for h in searcher.search("bank", limit=10).hits] == [
        h.id for h in first.hits + second.hits]
    assert first.total_groups == second.total_groups > 10


def test_facets_count_matches_per_source_and_month(dated):
    searcher, dates = dated.searcher, dated.dates
    results = searcher.search("oil", limit=1, facets=True)
    every = searcher.search("oil", limit=1000, collapse=False).hits
    by_source = Counter(h.source for h in every)
    assert results.facets.unknown_source == by_source.pop(None, 0)
    assert results.facets.sources == dict(
        sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0])))
    assert results.facets.months == dict(
        sorted(Counter(h.date.strftime("%Y-%m") for h in every if h.date).items()))
    assert results.facets.undated == sum(1 for h in every if h.date is None)
    assert set(results.facets.months) <= {d.strftime("%Y-%m") for d in dates.values()}


def test_cli_dates_facets_and_pages(dated):
    index = dated.index
    run = CliRunner().invoke
    result = run(main, ["search", "president", "--index", str(index), "--since", "1987-03",
                        "--until", "1987-03", "--format", "jsonl", "--facets"])
    assert result.exit_code == 0, result.stderr
    *hits, summary = [json.loads(line) for line in result.stdout.splitlines()]
    assert hits and all(h["date"].startswith("1987-03") for h in hits)
    assert set(summary["summary"]["facets"]["months"]) == {"1987-03"}
    assert "have no date and were left out by the date filter" in result.stderr
    table = run(main, ["search", "oil", "--index", str(index), "--facets", "--format", "plain",
                       "--page", "2", "-n", "3"])
    assert table.stdout.startswith("4. ")
    assert "month    paragraphs" in table.stdout and dated.source in table.stdout
    assert table.stderr.strip().startswith("4-6 of ")
    bad = run(main, ["search", "oil", "--index", str(index), "--since", "last week"])
    assert bad.exit_code == 2
    assert bad.stderr.strip() == (
        "Error: 'last week' is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")


def test_rare_name_variants_are_found_and_named(searcher):
    results = searcher.search("Tikhanovskaya", limit=100, collapse=False)
    assert results.variants == {
        "Tikhanovskaya": ("takhanovskaya", "tikhanovsky", "tkhanovskaya", "tsikhanouskaya")}
    texts = [h.text for h in results.hits]
    assert any("Takhanovskaya" in t for t in texts) and any("Tsikhanouskaya" in t for t in texts)
    exact = searcher.search("Tikhanovskaya", limit=100, collapse=False, variants=False)
    assert exact.variants == {} and all("Tikhanovskaya" in h.text for h in exact.hits)
    # Paragraphs with the exact spelling rank higher, as a rule: the best five are exact, and
    # a paragraph with variants only ranks, on average, far below one with the exact name.
    exact_ranks = [h.rank for h in results.hits if "Tikhanovskaya" in h.text]
    variant_ranks = [h.rank for h in results.hits if "Tikhanovskaya" not in h.text]
    assert exact_ranks[:5] == [1, 2, 3, 4, 5]
    assert sum(variant_ranks) / len(variant_ranks) > 1.5 * sum(exact_ranks) / len(exact_ranks)
    assert results.total > exact.total


def test_variants_are_for_rare_names_only(searcher):
    assert searcher.search("Lukashenka").variants == {"Lukashenka": ("lukashenko",)}
    assert searcher.search("Lukashenko").variants == {}  # in more than a tenth of paragraphs
    assert searcher.search("Protests").variants == {}  # an ordinary word opening a sentence
    assert searcher.search("lukashenka").variants == {}  # written as a name, or not at all


def test_did_you_mean(searcher):
    assert searcher.search("Merkle").suggestion == "Merkel"
    assert searcher.search("renounse violense").suggestion == "renounce violence"
    assert searcher.search("Merkel").suggestion is None
    assert searcher.search("xylophone").suggestion is None  # nothing close in the corpus


def test_did_you_mean_keeps_the_words_the_corpus_holds(tmp_path):
    """Only a word the corpus lacks is corrected: a rare word it holds, or the "hadn" of
    "hadn't", swapped for a commoner neighbour finds more, and is no better for it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ledger.txt").write_text(
        "Inquiry\n\nThe quartermaster's ledger was lost. He hadn't slept.\n", encoding="utf-8")
    for n in range(4):
        (corpus / f"leader{n}.txt").write_text(
            f"Story {n}\n\nThe party leader said he had a plan.\n", encoding="utf-8")
    searchkit.build_index([corpus], tmp_path / "index")
    with searchkit.open_index(tmp_path / "index") as searcher:
        assert searcher.search("quartermaster ledger").suggestion is None
        assert searcher.search("hadn't slept").suggestion is None
        assert searcher.search("hadn’t slept").suggestion is None
        assert searcher.search("ledgr").suggestion == "ledger"
        assert searcher.search("quartermaster ledgr").suggestion is None  # finds no more


def test_cli_names_variants_and_suggests(seed_index):
    run = CliRunner().invoke
    found = run(main, ["search", "Tsikhanouskaya", "--index", str(seed_index), "-n", "1"])
    assert found.exit_code == 0
    assert ("note: also searched for takhanovskaya, tikhanovskaya, tikhanovsky, tkhanovskaya "
            "(spellings close to Tsikhanouskaya; --exact to turn this off)") in found.stderr
    exact = run(main, ["search", "Tsikhanouskaya", "--index", str(seed_index), "--exact"])
    assert "also searched" not in exact.stderr
    missing = run(main, ["search", "Merkle", "--index", str(seed_index)])
    assert (missing.exit_code, missing.stdout) == (0, "")
    assert "did you mean: Merkel" in missing.stderr


def test_vocabulary_is_counted_over_the_whole_index(tmp_path):
    one_go, by_file = tmp_path / "one", tmp_path / "files"
    searchkit.build_index([SEEDS], one_go)
    for path in sorted(SEEDS.glob("*.txt")):
        searchkit.build_index([path], by_file)
    searchkit.build_index([next(SEEDS.glob("000_*"))], by_file)  # indexed twice: counted once
    words = vocabulary.from_bytes(committed(one_go, "vocabulary"))
    assert vocabulary.from_bytes(committed(by_file, "vocabulary")) == words
    assert words.paragraphs == 341
    assert (words.words["tkhanovskaya"], words.names["tkhanovskaya"]) == (2, 2)
    assert words.words["the"] > words.names.get("the", 0) > 0


def test_an_update_counts_a_changed_files_words_as_a_rebuild_does(tmp_path):
    """Words are counted within the index's tokens wherever they are counted: "8/9.5" is the
    tokens "8/9" and "5" (no "9.5"), when the file is written and when it is taken out."""
    corpus, index_dir, fresh = tmp_path / "corpus", tmp_path / "ix", tmp_path / "fresh"
    corpus.mkdir()
    (corpus / "odds.txt").write_text("Betting odds\n\nThe odds were 8/9.5 and C++ at AT&T.\n"
                                     "\nA second paragraph with 9.5 in it.\n", encoding="utf-8")
    (corpus / "other.txt").write_text("Other story\n\nThe score was 5 to 9.5 at home.\n",
                                      encoding="utf-8")
    searchkit.build_index([corpus], index_dir)
    (corpus / "odds.txt").write_text("Betting odds\n\nA second paragraph with 9.5 in it.\n",
                                     encoding="utf-8")
    searchkit.build_index([corpus], index_dir)
    searchkit.build_index([corpus], fresh)
    updated = vocabulary.from_bytes(committed(index_dir, "vocabulary"))
    assert updated == vocabulary.from_bytes(committed(fresh, "vocabulary"))
    assert (updated.words["9.5"], updated.words["5"], updated.words.get("c")) == (2, 1, None)


def test_a_build_in_many_segments_writes_the_vocabulary_and_stems_of_one(tmp_path, monkeypatch):
    """The words and stems each segment's writing found are kept apart by first letter until
    the tables are written, a letter at a time: the tables are those of one piece."""
    from searchkit.index import analysis, build, store

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "odd.txt").write_text(
        "Odd words\n\nÜberlingen, Ørsted and Åland met 1999's 9.5 and AT&T in São Paulo.\n\n"
        "Zürich, żubr, Ελλάδα and Москва are words of other alphabets too.\n", encoding="utf-8")
    one, many = tmp_path / "one", tmp_path / "many"
    searchkit.build_index([SEEDS, corpus], one)
    monkeypatch.setattr(build, "BATCH_COST", 20_000)  # a segment of a few paragraphs each
    summary = searchkit.build_index([SEEDS, corpus], many)
    assert [len(store.open_index(ix)._segments()) > 1 for ix in (one, many)] == [False, True]
    assert vocabulary.from_bytes(committed(many, "vocabulary")) == vocabulary.from_bytes(
        committed(one, "vocabulary"))
    table = committed(many, "stems").decode("utf-8")
    assert table == committed(one, "stems").decode("utf-8")
    stems = analysis.parse_stems(table)
    assert {"uberlingen", "ørsted", "aland", "zurich", "москва"} <= set(stems)
    assert table == "\n" + "".join(f"{w}\t{stems[w]}\n" for w in sorted(stems))  # (in order)
    assert summary.paragraphs == vocabulary.from_bytes(committed(many, "vocabulary")).paragraphs


def test_close_words_are_within_the_edit_distance_most_frequent_first():
    words = vocabulary.Vocabulary(100, {
        "merkel": 40, "merkle": 2, "market": 30, "merkels": 5, "murkel": 5, "mercel": 9,
        "tikhanovskaya": 8, "tkhanovskaya": 2, "tsikhanouskaya": 6, "kitten": 3, "sitting": 4,
    }, {"merkel": 40, "tikhanovskaya": 8, "tkhanovskaya": 2})
    assert words.close_to("merkle", 1) == []  # a swap is two edits
    assert words.close_to("merkle", 2) == ["merkel", "merkels"]  # "mercel" is 3 edits away
    assert words.close_to("merkel", 1) == ["mercel", "merkels", "murkel"]  # not itself
    assert words.close_to("tkhanovskaya", 2) == ["tikhanovskaya"]  # not "tsikhanouskaya": 3
    assert words.close_to("tikhanovskaya", 2, names=True) == ["tkhanovskaya"]
    assert words.close_to("tikhanovskay", 1, names=True) == ["tikhanovskaya"]
    assert words.close_to("kitten", 2) == []  # "sitting" is 3 edits and another letter


def test_ranking_is_whooshs_bm25f_of_any_words_plus_the_all_words_bonus(dated):
    """searchkit ranks words in two cheaper runs (paragraphs with every word, the rest); the
    order and scores must be those of Whoosh scoring any-words OR all-words x bonus at once."""
    from whoosh import index as whoosh_index, qparser
    from whoosh.query import Or

    from searchkit.config import SearchOptions
    from searchkit.retrieval.syntax import ALL_WORDS_BONUS

    searcher, index_dir = dated.searcher, dated.index
    options = SearchOptions()
    ix = whoosh_index.open_dir(str(index_dir))
    parsers = [
        qparser.MultifieldParser(["text", "title"], ix.schema, group=group,
                                 fieldboosts={"text": 1.0, "title": options.title_weight})
        for group in (qparser.OrGroup, qparser.AndGroup)
    ]
    model = weighting.bm25f(options)
    with_all_and_without = 0
    with ix.searcher(weighting=model) as whoosh_searcher:
        for text in ("oil prices", "president reagan trade", "bank interest rates cut",
                     "wheat export", "company shares offer stake", "belarus opposition dialogue"):
            any_words, all_words = (parser.parse(text) for parser in parsers)
            # Whoosh's full ranking: its top-k search of such a union can leave out a better
            # match (with limit=40, "bank interest rates cut" on the samples' wire).
            expected = whoosh_searcher.search(
                Or([any_words, all_words.with_boost(ALL_WORDS_BONUS)]), limit=None)
            want = [(hit["id"], round(hit.score, 4)) for hit in expected][:40]
            got = searcher.search(text, limit=40, collapse=False, variants=False)
            assert [(h.id, h.score) for h in got.hits] == want, text
            assert got.total == len(expected)
            every = {hit.docnum for hit in whoosh_searcher.search(all_words, limit=None)}
            ranked = {hit.docnum for hit in expected[:40]}
            with_all_and_without += bool(ranked & every) and bool(ranked - every)
    assert with_all_and_without >= 3  # both runs mattered for most of these queries


def test_a_phrase_is_marked_only_where_it_matched(dated):
    """A paragraph found by another word of the query shows the phrase's words unmarked,
    and each hit marks the words of what it matched."""
    searcher = dated.searcher
    results = searcher.search('"interest rates" oil', limit=100, collapse=False)
    phrase = re.compile(r"\binterest\W+rates?\b", re.I)
    without_phrase = 0
    for hit in results.hits:
        marked = {hit.snippet.text[a:b].lower() for a, b in hit.snippet.highlights}
        oil = any(word.startswith("oil") for word in marked)
        if phrase.search(hit.text):
            assert "interest" in marked or oil, hit.id
        else:
            assert not any(word.startswith(("interest", "rate")) for word in marked), hit.id
            assert oil or "oil" not in hit.text.lower(), hit.id  # else found by its title
            without_phrase += "interest" in hit.text.lower()
    assert without_phrase  # a paragraph with the words apart was among the hits
