"""Arguments a library user can get wrong: each entry point refuses them with a UsageError that
says what it expects, and reads the unambiguous shortcuts (one path, one name, a date string)
as meant."""

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import S000, SEEDS

import searchkit
from searchkit.ingest.corpus import find_files, read_corpus
from searchkit.retrieval.batch import read_queries
from searchkit.retrieval.plan import check_text

SEARCH_MISTAKES = [
    (dict(query=None), "query must be a str, not None"),
    (dict(limit=0), "limit must be a whole number of 1 or more, not 0"),
    (dict(limit=-1), "limit must be a whole number of 1 or more, not -1"),
    (dict(limit=2.5), "limit must be a whole number of 1 or more, not 2.5"),
    (dict(limit=True), "limit must be a whole number of 1 or more, not True"),
    (dict(page=None), "page must be a whole number of 1 or more, not None"),
    (dict(page=0), "page must be a whole number of 1 or more, not 0"),
    (dict(sort="newest"), "sort must be one of 'score', 'date', '-date', not 'newest'"),
    (dict(facets="no"), "facets must be True or False, not 'no'"),
    (dict(collapse=None), "collapse must be True or False, not None"),
    (dict(filters=None), "filters must be a Filters, like Filters"),
    (dict(filters={"sources": "AFP"}), "filters must be a Filters, like Filters"),
]


@pytest.mark.parametrize("given, message", SEARCH_MISTAKES)
def test_search_refuses_wrong_arguments(searcher, given, message):
    arguments = {"query": "Putin", **given}
    with pytest.raises(searchkit.UsageError, match=_opening(message)):
        searcher.search(arguments.pop("query"), **arguments)


@pytest.mark.parametrize("given, message", [
    (dict(query=None), "query must be a str"), (dict(limit=0), "limit must be a whole number"),
    (dict(variants="yes"), "variants must be True or False"),
    (dict(filters=("AFP",)), "filters must be a Filters")])
def test_search_documents_refuses_wrong_arguments(searcher, given, message):
    arguments = {"query": "Putin", **given}
    with pytest.raises(searchkit.UsageError, match=_opening(message)):
        searcher.search_documents(arguments.pop("query"), **arguments)


@pytest.mark.parametrize("given, message", [
    (dict(limit=0), "limit must be a whole number of 1 or more, not 0"),
    (dict(limit=-1), "limit must be a whole number of 1 or more, not -1"),
    (dict(limit="3"), "limit must be a whole number of 1 or more, not '3'"),
    (dict(min_size=1), "min_size must be a whole number of 2 or more, not 1"),
    (dict(min_size=None), "min_size must be a whole number of 2 or more, not None")])
def test_duplicate_groups_refuses_wrong_arguments(searcher, given, message):
    with pytest.raises(searchkit.UsageError, match=_opening(message)):
        searcher.duplicate_groups(**given)


def test_duplicate_groups_limit_keeps_the_largest(searcher):
    every = searcher.duplicate_groups()
    assert len(every) > 2
    assert searcher.duplicate_groups(limit=2) == every[:2]
    assert searcher.duplicate_groups(limit=len(every) + 5) == every


def test_show_takes_an_id_as_a_str(searcher):
    hit = searcher.search("Putin", limit=1).hits[0]
    assert searcher.show(hit.id).marked == hit.paragraph
    for wrong in (Path(hit.article_id), None, 3):
        with pytest.raises(searchkit.UsageError,
                           match=_opening("id must be a str (a paragraph or article id")):
            searcher.show(wrong)


def test_filters_read_one_name_as_that_name(searcher):
    source = next(iter(searcher.stats().sources))
    assert searchkit.Filters(sources=source) == searchkit.Filters(sources=(source,))
    assert searchkit.Filters(sources=[source]).sources == (source,)
    one = searcher.search("Putin", filters=searchkit.Filters(kinds="body"))
    assert one.total == searcher.search("Putin", filters=searchkit.Filters(kinds=("body",))).total
    assert 0 < one.total < searcher.search("Putin").total  # the captions are left out
    assert searcher.search("Putin", filters=searchkit.Filters(sources=source)).total > 0


@pytest.mark.parametrize("kinds", [("bogus",), "bogus", ("body", "headline")])
def test_filters_refuse_unknown_kinds_naming_the_known(kinds):
    with pytest.raises(searchkit.UsageError,
                       match=_opening("kinds must be one or more of 'body', 'caption'")):
        searchkit.Filters(kinds=kinds)


@pytest.mark.parametrize("sources, message", [
    (5, "sources must be names"), (("AFP", None), "sources must be names"),
    (("",), "sources must be names"), (b"AFP", "sources must be names")])
def test_filters_refuse_sources_that_are_no_names(sources, message):
    with pytest.raises(searchkit.UsageError, match=_opening(message)):
        searchkit.Filters(sources=sources)


def test_filters_read_date_strings_as_the_command_line_does(searcher):
    assert searchkit.Filters(since="2020-08-18").since == date(2020, 8, 18)
    assert searchkit.Filters(since="2020-08", until="2020-08") == searchkit.Filters(
        since=date(2020, 8, 1), until=date(2020, 8, 31))
    assert searchkit.Filters(until=datetime(2020, 8, 18, 15, 30)).until == date(2020, 8, 18)
    as_text = searchkit.Filters(since="2020-08-18", until="2020-08-18")
    as_dates = searchkit.Filters(since=date(2020, 8, 18), until=date(2020, 8, 18))
    dated = searcher.search("Putin", filters=as_text).total
    assert dated == searcher.search("Putin", filters=as_dates).total > 0
    assert searcher.search("Putin", filters=searchkit.Filters(since="2020-09")).total == 0
    with pytest.raises(searchkit.UsageError, match=_opening("since: '2023-13-14' is not a date")):
        searchkit.Filters(since="2023-13-14")
    with pytest.raises(searchkit.UsageError, match=_opening("until must be a date, or a str like")):
        searchkit.Filters(until=20200818)


def test_search_options_refuse_values_out_of_range(seed_index):
    for wrong, message in [(dict(limit=0), "limit must be a whole number of 1 or more"),
                           (dict(snippet_fragments=1.5), "snippet_fragments must be a whole"),
                           (dict(bm25_b=1.5), "bm25_b must be a number of at least 0 and at "
                                              "most 1, not 1.5"),
                           (dict(bm25_k1="0.9"), "bm25_k1 must be a number of at least 0"),
                           (dict(title_weight=-1), "title_weight must be a number")]:
        with pytest.raises(searchkit.UsageError, match=_opening(message)):
            searchkit.SearchOptions(**wrong)
    with pytest.raises(searchkit.UsageError, match=_opening("options must be a SearchOptions")):
        searchkit.open_index(seed_index, {"limit": 3})
    with pytest.raises(searchkit.UsageError, match=_opening("index_dir must be a path (a str")):
        searchkit.open_index(5)


def test_build_index_reads_one_path_as_that_path(tmp_path):
    seed = SEEDS / f"{S000}.txt"
    listed = searchkit.build_index([seed], tmp_path / "listed")
    for one, folder in ((seed, "path"), (str(seed), "str")):
        summary = searchkit.build_index(one, tmp_path / folder)
        assert summary.added == listed.added and summary.paragraphs == listed.paragraphs > 0


@pytest.mark.parametrize("given, message", [
    (dict(paths=5), "paths must be a path or a list of paths"),
    (dict(paths=[SEEDS, None]), "each of paths must be a path"),
    (dict(options={"source": "X"}), "options must be a ReadOptions or None, like ReadOptions("),
    (dict(wait=None), "wait must be a number of at least 0, not None"),
    (dict(wait=-1), "wait must be a number of at least 0, not -1"),
    (dict(rebuild="yes"), "rebuild must be True or False"),
    (dict(prune=None), "prune must be True or False"),
    (dict(progress="bar"), "progress must be a function or None"),
    (dict(dedup_threshold="0.5"), "dedup_threshold must be a number above 0 and at most 1"),
    (dict(cluster="tcp://host:8786"), "cluster must be a Cluster or None")])
def test_build_index_refuses_wrong_arguments(tmp_path, given, message):
    arguments = {"paths": [SEEDS / f"{S000}.txt"], **given}
    with pytest.raises(searchkit.UsageError, match=_opening(message)):
        searchkit.build_index(arguments.pop("paths"), tmp_path / "ix", **arguments)
    assert not (tmp_path / "ix").exists()  # refused before anything was made


def test_check_optimize_and_cluster_refuse_wrong_arguments(seed_index):
    for call, message in [
            (lambda: searchkit.optimize(seed_index, wait=None), "wait must be a number"),
            (lambda: searchkit.optimize(seed_index, progress=1), "progress must be a function"),
            (lambda: searchkit.check(5), "index_dir must be a path"),
            (lambda: searchkit.Cluster(workers="2"), "workers must be a whole number of 1"),
            (lambda: searchkit.Cluster(workers=0), "workers must be a whole number of 1"),
            (lambda: searchkit.Cluster(address=8786), "address must be a str")]:
        with pytest.raises(searchkit.UsageError, match=_opening(message)):
            call()


@pytest.mark.parametrize("given, message", [
    (dict(fields=["text"]), "fields must be a dict of searchkit names to record keys"),
    (dict(fields={"text": 5}), "fields must be a dict of searchkit names to record keys"),
    (dict(follow_links=1), "follow_links must be True or False, not 1"),
    (dict(max_bytes="5"), "max_bytes must be a whole number of 1 or more, not '5'"),
    (dict(max_bytes=True), "max_bytes must be a whole number of 1 or more, not True"),
    (dict(max_bytes=0), "max_bytes must be a whole number of 1 or more, not 0"),
    (dict(passage_words=5), "passage_words must be a whole number of 20 or more, not 5"),
    (dict(source=5), "source must be a name or None, not 5"),
    (dict(encoding=b"utf-8"), "encoding must be a str, not b'utf-8'")])
def test_read_options_refuse_wrong_arguments_by_name(given, message):
    with pytest.raises(searchkit.UsageError, match=_opening(message)):
        searchkit.ReadOptions(**given)


def test_reading_without_indexing_checks_its_arguments(tmp_path):
    assert len(read_corpus(str(SEEDS)).articles) == len(read_corpus([SEEDS]).articles) > 0
    assert find_files(SEEDS) == find_files([SEEDS])
    for call, message in [(lambda: read_corpus(5), "paths must be a path or a list"),
                          (lambda: read_corpus([SEEDS], options={}), "options must be a"),
                          (lambda: read_queries(None), "path must be a path"),
                          (lambda: check_text(None), "text must be a str")]:
        with pytest.raises(searchkit.UsageError, match=_opening(message)):
            call()


def test_the_package_search_passes_its_arguments_on(seed_index):
    with pytest.raises(searchkit.UsageError, match=_opening("limit must be a whole number")):
        searchkit.search("Putin", seed_index, limit=0)
    with pytest.raises(searchkit.UsageError, match=_opening("index_dir must be a path")):
        searchkit.search("Putin", ["index"])


def _opening(message: str) -> str:
    """A pattern for a message that starts with ``message``."""
    return "^" + re.escape(message)
