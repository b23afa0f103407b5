"""The engine ranks exactly as Whoosh does, from ranking arrays that hold exactly what Whoosh
wrote, on an index of several segments with deleted documents."""

import json
import math
import random
import re
import shutil
import subprocess
import sys
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as whoosh_query
from whoosh.index import TOC

import searchkit
from searchkit.retrieval import engine, plan, typed
from searchkit.index import rankarrays
from searchkit.errors import IndexDamagedError, QueryError
from searchkit.retrieval.plan import Filters
from searchkit.retrieval.storedfields import StoredFields

from conftest import SEEDS, reseal, without_positions
from enginecheck import Check, plain_words, sample_queries, syntax_queries

ARTICLES = {
    "wire-1.txt": """---
title: Minsk talks stall as opposition calls for dialogue
source: Wire Service
date: 2020-08-20
---
Opposition leaders in Minsk called on Thursday for a national dialogue with the government.

The government said the protests were organised from abroad and refused any dialogue.

Photo: Protesters gather in central Minsk on Thursday.
""",
    "wire-2.txt": """---
title: Oil prices fall on oversupply fears
source: Market Desk
date: 2020-09-02
---
Oil prices fell for a third day on Wednesday as traders worried about oversupply.

Brent crude lost 2 per cent, its lowest level since June, while U.S. crude fell 3 per cent.

Analysts said demand for jet fuel remained weak because of travel restrictions.
""",
    "reprint.txt": """---
title: Opposition wants dialogue, government refuses
source: Evening Paper
date: 2020-08-21
---
Opposition leaders in Minsk called on Thursday for a national dialogue with the government, the
agency reported.

The government said the protests were organised from abroad and refused any dialogue.
""",
    "undated.txt": """Tikhanovskaya thanks supporters

Sviatlana Tikhanovskaya thanked her supporters and said the opposition would not give up.

She called for new elections and the release of political prisoners.
""",
}


@pytest.fixture(scope="module")
def layered(tmp_path_factory):
    """An index of several segments, some of whose documents are deleted: the seeds, then
    files added, one changed (its old paragraphs deleted), more added, in separate runs."""
    root = tmp_path_factory.mktemp("layered")
    corpus, index_dir = root / "corpus", root / "index"
    shutil.copytree(SEEDS, corpus)
    (corpus / "wire-1.txt").write_text(ARTICLES["wire-1.txt"], encoding="utf-8")
    searchkit.build_index([corpus], index_dir)
    (corpus / "wire-2.txt").write_text(ARTICLES["wire-2.txt"], encoding="utf-8")
    searchkit.build_index([corpus], index_dir)
    changed = corpus / "wire-1.txt"
    changed.write_text(ARTICLES["wire-1.txt"] + "\nTalks are expected to resume next week.\n",
                       encoding="utf-8")
    (corpus / "reprint.txt").write_text(ARTICLES["reprint.txt"], encoding="utf-8")
    searchkit.build_index([corpus], index_dir)
    (corpus / "undated.txt").write_text(ARTICLES["undated.txt"], encoding="utf-8")
    searchkit.build_index([corpus], index_dir)
    with searchkit.open_index(index_dir) as searcher:
        segments = searcher._generation.segments
        assert len(segments) >= 3
        assert any(s.deleted is not None for s in segments)
        yield index_dir, searcher, Check(index_dir, searcher)


def _texts(check):
    return [fields["text"] for fields in check.whoosh.all_stored_fields()]


# -- what is on disk ---------------------------------------------------------------------------


def test_the_segments_file_is_the_table_of_contents(layered):
    index_dir, searcher, check = layered
    generation = searcher._generation.generation
    toc = TOC.read(searchkit.index.store.storage(index_dir), "MAIN", gen=generation)
    record = json.loads((index_dir / f"segments-{generation}.json").read_text())
    assert [s["id"] for s in record["segments"]] == [s.segment_id() for s in toc.segments]
    for listed, segment in zip(record["segments"], toc.segments):
        assert listed["doc_count"] == segment.doc_count_all()
        assert listed["deleted"] == sorted(segment.deleted_docs() or ())
        assert listed["field_lengths"] == dict(segment._fieldlengths)


def test_ranking_arrays_hold_what_whoosh_wrote(layered):
    """Term by term: documents and weights; per document: length bytes and columns."""
    _, searcher, check = layered
    for segment, reader in zip(searcher._generation.segments, check.whoosh.reader().readers):
        arrays = segment.arrays
        assert arrays.doc_count == reader.doc_count_all()
        for field in rankarrays.SCORED_FIELDS:
            terms = list(reader.lexicon(field))
            assert [arrays.term(field, n) for n in range(len(terms))] == terms  # Whoosh's order
            keys = arrays[field + ".key"]
            assert keys.tolist() == [rankarrays.term_key(t) for t in terms]
            for term in terms:
                number = arrays.find(field, term)
                assert number >= 0, term
                docs, weights = arrays.postings(field, number)
                assert docs.size == reader.doc_frequency(field, term)  # what idf counts
                # every posting the segment holds, those of deleted documents too
                matcher = reader._terms.matcher(field, term, reader.schema[field].format)
                expected, positions = [], []
                while matcher.is_active():
                    expected.append((matcher.id(), matcher.weight()))
                    positions.append(matcher.value_as("positions"))
                    matcher.next()
                assert list(zip(docs.tolist(), weights.tolist())) == expected, term
                owner, found = arrays.positions(field, number, docs.astype(np.int64))
                assert [found[owner == i].tolist() for i in range(docs.size)] == positions
            assert arrays.find(field, b"no-such-term") == -1
            for prefix in {t[:n] for t in terms[::50] for n in (1, 3, 9)}:
                first, last = arrays.term_range(field, prefix, prefix + b"\xff")
                assert [arrays.term(field, n) for n in range(first, last)] == [
                    t for t in terms if t.startswith(prefix)], prefix
            lengths = [reader.doc_field_length(d, field) or 0 for d in range(arrays.doc_count)]
            assert engine.BYTE_TO_LENGTH[arrays[field + ".lengths"]].tolist() == lengths
        for docnum in range(arrays.doc_count):
            fields = reader.stored_fields(docnum)
            for name in ("source", "kind", "article_id", "doc_id", "id"):
                assert arrays.strings_of(name, [docnum]) == [fields.get(name) or ""], name
            assert arrays["group"][docnum] == rankarrays.text_hash(fields["dup_group"])
            assert arrays["doc_id"][docnum] == rankarrays.text_hash(fields["doc_id"])
            when = fields.get("date")
            assert arrays["date"][docnum] == (
                rankarrays.NO_DATE if when is None else rankarrays.datetime_to_long(when))


def test_stored_fields_are_read_as_whoosh_reads_them(layered):
    index_dir, searcher, check = layered
    for segment, reader in zip(searcher._generation.segments, check.whoosh.reader().readers):
        stored = StoredFields(str(index_dir), segment.id, segment.doc_count)
        for docnum in range(segment.doc_count):
            if not reader.is_deleted(docnum):
                assert stored[docnum] == reader.stored_fields(docnum)


def test_byte_lengths_are_whooshs():
    from whoosh.util.numeric import byte_to_length

    assert engine.BYTE_TO_LENGTH.tolist() == [byte_to_length(b) for b in range(256)]


# -- the query's tree --------------------------------------------------------------------------


def _as_whoosh(node):
    """The engine's tree of a plain query as Whoosh's query objects."""
    if isinstance(node, engine.Term):
        return whoosh_query.Term(node.field, node.text, boost=node.boost)
    if isinstance(node, engine.AnyOf):
        return whoosh_query.Or([_as_whoosh(c) for c in node.children], boost=node.boost)
    if isinstance(node, engine.AllOf):
        return whoosh_query.And([_as_whoosh(c) for c in node.children], boost=node.boost)
    if isinstance(node, engine.Phrase):
        return whoosh_query.Phrase(node.field, list(node.words), slop=node.slop,
                                   boost=node.boost)
    assert isinstance(node, engine.Nothing), node
    return whoosh_query.NullQuery


PLAIN = ["dialogue with the opposition", "U.S.-led forces", "oil oil prices", "the and of",
         "well-known 1987-04 rate", "Britain's oil", "ha-ha ha", "a.b.c x_y 3.5%", "Café ÉLAN",
         "Tikhanovskaya", "Tikhanovskaya Lukashenko", "opposition's dialogue", "O'Brien said",
         "rock'n'roll", "x", "co-operate co operate", "1,000,000 $5 50% #1 @home",
         "naïve façade Zürich", "l'opposition d'état", "AND-OR", "NOTE ORDER", "to-do list"]


def _around_a_phrase(texts: list, count: int, seed: int) -> list:
    """Plain text around one quoted phrase: quotations cut from ``texts`` followed by their
    words (as a quotation is searched), and phrases among other words."""
    rng = random.Random(seed)
    found = []
    for number in range(count):
        words = rng.choice(texts).split()
        start = rng.randrange(len(words))
        span = " ".join(words[start:start + rng.randint(1, 7)])
        slop = rng.choice(["", "", "~3"])
        if number % 3 == 0:
            found.append(f'"{span}"{slop} {span.lower()}')
        else:
            found.append(" ".join(rng.sample(words, rng.randint(0, 2))) + f' "{span}"{slop} '
                         + " ".join(rng.sample(words, rng.randint(0, 2))))
    odd = ["the", "Putin", "said", "U.S.", "don't", "a", "to", "élan", "Zürich", "42", "3.5%",
           "-", "co-op", "O'Neill", "AND", "OR", "NOT", "title:x", "*", "?", "(", ")", "[", "]",
           "~", "^2", "ﬁnance", "İstanbul", "日本", "it's", "'", ",", ".", "\t", "  "]
    for _ in range(count):  # what a phrase may hold: stop words, syntax, folded letters
        found.append(rng.choice(["", "oil "]) + '"' + " ".join(rng.sample(odd, rng.randint(0, 5)))
                     + '"' + rng.choice(["", "~2", "~0", "~10", "~07"]) + rng.choice(["", " "]))
    return found + ['"the of" and', '"U.S.-led forces" U.S.-led', '"co-op" co op', '""',
                    '"Tikhanovskaya said" Lukashenko', 'oil "oil prices"~2 oil']


def test_plain_text_is_planned_as_whooshs_parser_reads_it(layered):
    """For text without syntax, or plain text around one quoted phrase, the tree built
    without Whoosh is the one its parser builds (with name variants where the vocabulary has
    them)."""
    _, searcher, check = layered
    texts = [plain_words(t) for t in _texts(check)]
    texts = PLAIN + sample_queries(_texts(check), 500, seed=3) + _around_a_phrase(
        [t for t in texts if t], 400, seed=5)
    planned = 0
    for text in texts:
        read = typed.read(plan.clean(text)).text  # (a quotation's words added to it)
        if not re.search(r"\w", read) or not (plan.is_plain(read) or plan.one_phrase(read)):
            continue  # (no word at all: refused before either reads it)
        planned += 1
        try:
            built = plan.plain_plan(read, Filters(), searcher.options.title_weight,
                                    check.words if plan.has_names(read) else None)
        except QueryError as error:  # nothing to search for: refused alike, in the same words
            with pytest.raises(QueryError) as refused:
                check.prepare(text)
            assert str(refused.value) == str(error), text
            continue
        prepared = check.prepare(text)
        assert _as_whoosh(built.query) == prepared.query, text
        assert built.variants == prepared.variants, text
    assert planned > 1000


def test_syntax_is_not_plain():
    for text in ['"dialogue"', "a AND b", "NOT x", "title:x", "oil*", "-oil", "+oil", "a^2",
                 "[a TO b]", "(x)", "a -b", "x:y", "a~", "a OR b"]:
        assert not plan.is_plain(text), text
    for text in ["well-known", "Britain's", "U.S.", "3.5%", "a - b"[:1], "e-mail",
                 "'quoted words'", "C++", "U.S.-led"]:
        assert plan.is_plain(text), text


# -- ranking -----------------------------------------------------------------------------------

FILTERS = [
    Filters(),
    Filters(since=date(2020, 8, 19)),
    Filters(until=date(2020, 8, 20)),
    Filters(since=date(2020, 8, 1), until=date(2020, 8, 31), kinds=("body",)),
    Filters(sources=("Wire Service", "evening paper")),
    Filters(kinds=("caption",)),
]


def test_plain_queries_rank_exactly_as_whoosh(layered):
    """Same documents, same order, same scores (to 1e-9), under every filter and sort."""
    _, _, check = layered
    queries = PLAIN + sample_queries(_texts(check), 130, seed=1)
    differences = []
    for number, text in enumerate(queries):
        filters = FILTERS[number % len(FILTERS)]
        for sort in ("score", "date", "-date") if number % 7 == 0 else ("score",):
            found = check.compare(text, filters, sort)
            if found:
                differences.append(found)
    assert not differences, differences[:5]


def test_syntax_queries_rank_as_whoosh_or_by_their_meaning(layered):
    """Phrases, wildcards, field queries, groups: as Whoosh ranks them. With NOT, ANDNOT,
    ANDMAYBE, + or -, by the query's meaning (Whoosh's own boolean matchers get some
    documents wrong); those agree with Whoosh wherever Whoosh's matchers are right."""
    _, _, check = layered
    boolean = re.compile(r"NOT|ANDMAYBE|(^|[\s(])[-+]")
    differences, compared = [], 0
    for number, text in enumerate(syntax_queries(220, seed=2)):
        filters = FILTERS[number % len(FILTERS)]
        try:
            found = check.compare(text, filters, by_meaning=bool(boolean.search(text)))
        except searchkit.QueryError:
            continue
        compared += 1
        if found:
            differences.append(found)
    assert not differences, differences[:5]
    assert compared > 160


@pytest.fixture(scope="module")
def layered_without_positions(layered, tmp_path_factory):
    """The layered index with ranking arrays of no positions: phrases are matched on
    Whoosh's postings."""
    index_dir = tmp_path_factory.mktemp("unpositioned") / "index"
    shutil.copytree(layered[0], index_dir)
    without_positions(index_dir)
    with searchkit.open_index(index_dir) as searcher:
        assert not any(s.arrays.has_positions("text") for s in searcher._generation.segments)
        yield index_dir, searcher, Check(index_dir, searcher)


@pytest.mark.parametrize("positions", ["in the ranking arrays", "in Whoosh's postings"])
def test_phrases_cut_from_paragraphs_rank_as_whoosh(layered, layered_without_positions,
                                                   positions):
    """Phrases of two to four words cut from the paragraphs, as they stand, reversed (found
    nowhere, or elsewhere), with a slop, a word repeated, in the title: the engine's test of
    the words' positions (in its arrays, or Whoosh's postings for an index written before
    them) finds and scores what Whoosh's phrase matcher does."""
    _, searcher, check = layered if positions.startswith("in the") else layered_without_positions
    rng = random.Random(4)
    texts = [words for words in (plain_words(t).split() for t in _texts(check))
             if len(words) >= 4]
    queries = []
    for number in range(160):
        words = rng.choice(texts)
        size = rng.randint(2, 4)
        start = rng.randrange(len(words) - size + 1)
        span = words[start:start + size]
        shape = number % 5
        if shape == 1:
            span.reverse()
        elif shape == 2:
            span.insert(1, span[0])
        phrase = '"' + " ".join(span) + '"'
        if shape == 3:
            phrase += f"~{rng.randint(2, 4)}"
        elif shape == 4:
            phrase = f"title:{phrase} {rng.choice(span)}"
        queries.append(phrase)
    differences, found = [], 0
    for text in queries:
        difference = check.compare(text)
        if difference:
            differences.append(difference)
        try:
            found += searcher.search(text).total > 0
        except QueryError:  # stop words only, refused alike by both (compare checks that)
            pass
    assert not differences, differences[:5]
    assert found > 100  # most phrases cut from the text find it


def test_a_word_repeated_in_a_phrase_with_a_wide_slop_is_answered(tmp_path):
    """Paragraphs of one word ~400 times, and a phrase of that word with a slop as wide: its
    positions join in as many ways as there are pairs of them, yet the phrase is answered
    rather than stopped at the search's time limit (short ones as Whoosh answers them)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    chants = "\n\n".join(" ".join(["buffalo"] * (390 + n)) for n in range(12))
    (corpus / "chant.txt").write_text(
        f"Chant\n\n{chants}\n\nA buffalo herd, and buffalo again.\n")
    searchkit.build_index([corpus], tmp_path / "ix")
    with searchkit.open_index(tmp_path / "ix") as searcher:
        check = Check(tmp_path / "ix", searcher)
        short = {'"buffalo buffalo"': 12, '"buffalo buffalo"~3': 13, '"buffalo buffalo"~4^2': 13,
                 '"buffalo buffalo buffalo"~4': 12}
        for text, found in short.items():
            assert check.compare(text) is None
            assert searcher.search(text).total == found, text
        assert searcher.search('"buffalo buffalo buffalo buffalo"~400').total == 12
        # A long phrase of the word: its positions are read once and joined a word at a
        # time, so the search holds about one word's positions, not one copy a repetition.
        positions = sum(390 + n for n in range(12))
        tracemalloc.start()
        try:
            found = searcher.search('"' + " ".join(["buffalo"] * 300) + '"~400', limit=12)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 40 * positions * 8, peak  # (one copy a repetition: 300 of them)
        # (a quotation: searched with its words too; the phrase's paragraphs score far above)
        long = [len(hit.text.split()) >= 300 for hit in found.hits]
        assert long == [True] * 11 + [False] * (len(long) - 11)


def test_a_slop_wider_than_any_paragraph_is_answered(layered):
    """A slop past what a machine integer holds: every later position is near enough, as
    for Whoosh."""
    _, searcher, check = layered
    for text in ['"dialogue government"~99999999999999999999',
                 'Minsk "opposition dialogue"~9223372036854775808']:
        assert check.compare(text) is None, text
        assert searcher.search(text).total > 0, text


def test_results_group_count_and_facet_what_the_ranking_matched(layered):
    """Totals, groups, leaders, duplicates, facets and undated counts, worked out by brute force
    from Whoosh's ranking and the stored fields."""
    _, searcher, check = layered
    for text, filters in [("dialogue opposition", Filters()), ("government", Filters()),
                          ("Minsk", Filters(since=date(2020, 8, 1))),
                          ("oil prices", Filters(kinds=("body",))), ("protests abroad", Filters()),
                          ('"national dialogue"', Filters())]:
        ranking, _ = check.whoosh_ranking(text, filters)
        fields = {doc: check.whoosh.stored_fields(doc) for doc, _ in ranking}
        results = searcher.search(text, limit=3, filters=filters, facets=True)
        groups = [fields[doc]["dup_group"] for doc, _ in ranking]
        assert results.total == len(ranking)
        assert results.total_groups == len(set(groups))
        leaders = [doc for i, (doc, _) in enumerate(ranking) if groups[i] not in groups[:i]][:3]
        assert [h.id for h in results.hits] == [fields[d]["id"] for d in leaders]
        for group in results.groups:
            members = [f for f in check.whoosh.documents(dup_group=group.leader.group)]
            assert sorted(d.id for d in group.duplicates) == sorted(
                f["id"] for f in members if f["id"] != group.leader.id)
        sources = {}
        for f in fields.values():
            sources[f["source"]] = sources.get(f["source"], 0) + 1
        assert results.facets.unknown_source == sources.pop("", 0)
        assert results.facets.sources == dict(sorted(sources.items(),
                                                     key=lambda kv: (-kv[1], kv[0])))
        assert results.facets.undated == sum(1 for f in fields.values() if not f.get("date"))
        months = {}
        for f in fields.values():
            if f.get("date"):
                months[f["date"].strftime("%Y-%m")] = months.get(f["date"].strftime("%Y-%m"),
                                                                 0) + 1
        assert results.facets.months == dict(sorted(months.items()))
        if filters.dated:
            without, _ = check.whoosh_ranking(text, Filters(kinds=filters.kinds))
            assert results.undated_left_out == sum(
                1 for doc, _ in without if not check.whoosh.stored_fields(doc).get("date"))


def _article_scores(whoosh, words, kinds=None):
    """Each article's score for plain words, from Whoosh's reader and the formula written out:
    BM25F over articles (a word's frequencies in the article's paragraphs summed, its title's
    once), Lucene's idf, the title weighted, all of several words present scoring half again; a
    filter adds 1.0, as Whoosh's constant-score filters do."""
    options, reader = searchkit.SearchOptions(), whoosh.reader()
    k1, b = options.bm25_k1, options.bm25_b
    owner, counted, lengths = {}, {}, {"text": Counter(), "title": {}}
    total = {"text": 0, "title": 0}  # over every article: averages ignore the filter
    for doc in reader.all_doc_ids():  # live paragraphs only
        fields = reader.stored_fields(doc)
        article = owner[doc] = fields["doc_id"]
        counted[doc] = kinds is None or fields["kind"] in kinds
        if article not in lengths["title"]:
            lengths["title"][article] = reader.doc_field_length(doc, "title")
            total["title"] += lengths["title"][article]
        total["text"] += reader.doc_field_length(doc, "text")
        if counted[doc]:
            lengths["text"][article] += reader.doc_field_length(doc, "text")
    count = len(lengths["title"])
    per_word = {}
    for word in words:
        per_word[word] = found = {}
        for field, weight in (("text", 1.0), ("title", options.title_weight)):
            term = next(t.text for t in reader.schema[field].analyzer(word))
            tf, everywhere = {}, set()
            if (field, term) in reader:
                for doc, frequency in reader.postings(field, term).items_as("weight"):
                    if doc in owner:
                        everywhere.add(owner[doc])
                        if counted[doc]:
                            old = tf.get(owner[doc], 0)
                            tf[owner[doc]] = old + frequency if field == "text" else frequency
            idf = math.log(1 + (count - len(everywhere) + 0.5) / (len(everywhere) + 0.5))
            average = total[field] / count
            for article, frequency in tf.items():
                norm = k1 * (1 - b + b * lengths[field][article] / average)
                found[article] = found.get(article, 0) + weight * idf * frequency * (k1 + 1) / (
                    frequency + norm)
    scores = {}
    for found in per_word.values():
        for article, score in found.items():
            scores[article] = scores.get(article, 0) + score
    bonus = {article: plan.ALL_WORDS_BONUS * score for article, score in scores.items()
             if len(words) > 1 and all(article in found for found in per_word.values())}
    return {article: score + bonus.get(article, 0) + (kinds is not None)
            for article, score in scores.items()}


@pytest.mark.parametrize("words, kinds", [
    (("dialogue", "opposition"), None), (("oil",), None), (("protest", "minsk"), None),
    (("crude", "demand", "oversupply"), None), (("minsk", "government"), ("body",)),
])
def test_documents_are_scored_whole(layered, words, kinds):
    """An article's words count together, its old (deleted) paragraphs not at all; a kind
    filter chooses the paragraphs counted."""
    _, searcher, check = layered
    expected = _article_scores(check.whoosh, words, kinds)
    found = searcher.search_documents(" ".join(words), limit=100, variants=False,
                                      filters=Filters(kinds=kinds or ()))
    assert {h.doc_id: h.score for h in found} == {
        article: round(score, 4) for article, score in expected.items()}
    assert [h.score for h in found] == sorted((h.score for h in found), reverse=True)
    assert [h.rank for h in found] == list(range(1, len(found) + 1))


@pytest.mark.parametrize("text", ['"national dialogue"', "protest*", '"crude fell"'])
def test_what_whoosh_scores_counts_by_an_articles_best_paragraph(layered, text):
    """Phrases and wildcards (scored by Whoosh, paragraph by paragraph): an article takes
    its best paragraph's score."""
    _, searcher, check = layered
    ranking, _ = check.whoosh_ranking(text)
    best = {}
    for doc, score in ranking:
        best.setdefault(check.whoosh.stored_fields(doc)["doc_id"], round(score, 4))
    found = searcher.search_documents(text, limit=100)
    assert [(h.doc_id, h.score) for h in found] == list(best.items()) and best


def test_a_documents_best_paragraph_is_named(layered):
    _, searcher, check = layered
    ranking, _ = check.whoosh_ranking("dialogue opposition", variants=False)
    best = {}
    for doc, _ in ranking:
        best.setdefault(check.whoosh.stored_fields(doc)["doc_id"],
                        check.whoosh.stored_fields(doc)["id"])
    found = searcher.search_documents("dialogue opposition", limit=100, variants=False)
    assert {h.doc_id: h.paragraph_id for h in found} == best
    assert all(h.paragraph_id.startswith(h.article_id + "#") for h in found)


# -- snippets ----------------------------------------------------------------------------------


def test_snippets_are_those_of_whooshs_highlighter(layered):
    from whoosh_snippets import Snippets as WhooshSnippets

    from searchkit.retrieval.snippets import Snippets

    _, searcher, check = layered
    options = searcher.options
    ours = Snippets(options.snippet_maxchars, options.snippet_fragments)
    analyzer = check.whoosh.schema["text"].analyzer
    theirs = WhooshSnippets(analyzer, options.snippet_maxchars, options.snippet_fragments)
    texts = _texts(check)
    compared = 0
    for number, query in enumerate(sample_queries(texts, 400, seed=4)):
        words = set(searchkit.index.wordterms.terms(query))
        if number % 5 == 0:
            words |= {"will", "us"}  # stop words a stem can equal
        for text in texts[number % 40::40][:3]:
            assert ours(text, words) == theirs(text, words), (query, text)
            compared += 1
    assert compared > 1000


# -- opening, safety, imports ------------------------------------------------------------------


def test_a_damaged_rank_file_is_one_line_naming_it(tmp_path):
    index_dir = tmp_path / "index"
    searchkit.build_index([SEEDS], index_dir)
    for rank in index_dir.glob("*.rank"):
        data = bytearray(rank.read_bytes())
        rank.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(IndexDamagedError, match="damaged .*searchkit check"):
        searchkit.open_index(index_dir).search("dialogue")
    from click.testing import CliRunner

    from searchkit.cli.commands import main

    result = CliRunner().invoke(main, ["search", "dialogue", "--index", str(index_dir)])
    assert result.exit_code == 1 and "damaged" in result.output
    assert "Traceback" not in result.output


def test_an_index_from_before_the_arrays_must_be_rebuilt(tmp_path):
    index_dir = tmp_path / "index"
    searchkit.build_index([SEEDS], index_dir)
    name = next(index_dir.glob("searchkit-*.json"))
    settings = json.loads(name.read_text())
    settings["schema_version"] = 10  # the schema before the ranking arrays
    name.write_text(json.dumps(settings))
    reseal(index_dir)
    with pytest.raises(searchkit.IndexSettingsError, match="rebuild"):
        searchkit.open_index(index_dir)


@pytest.mark.parametrize("query", [
    ["dialogue with the opposition", "--facets", "--since", "2020"],
    ["Lukashenko"],  # reprints tie: ranked as a fresh build numbers them
    ['"renounce violence" Belarus'],  # a phrase among plain words: matched on the arrays
])
def test_a_plain_search_imports_neither_whoosh_nor_nltk_nor_numpy_ma(seed_index, query):
    """A one-query process pays for every import: numpy's masked arrays (~10 ms), which a
    plain ``np.unique`` imports, are not needed either."""
    code = (
        "import sys\n"
        "from searchkit.cli.commands import main\n"
        "try:\n"
        "    main(sys.argv[1:], prog_name='searchkit')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('whoosh', 'nltk') or m.startswith('numpy.ma.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, "search", *query, "--index",
                          str(seed_index), "--format", "plain"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.rstrip().endswith("[]")
    assert query[0].split()[0].strip('"') in out.stdout


def test_a_phrase_that_matches_nowhere_beside_words_that_match(layered):
    """Its words exist, in another order: the phrase marks nothing, the other word still
    finds and marks its paragraphs."""
    _, searcher, _ = layered
    results = searcher.search('"violence renounce" dialogue', limit=3)
    assert results.total and all("dialogue" in h.snippet.text.lower() for h in results.hits)
    assert searcher.search('"violence renounce"').total == 0


def test_browsing_reads_what_whoosh_stores(layered):
    """stats, duplicate groups and show, from the columns, equal what the stored fields say
    (deleted paragraphs left out)."""
    _, searcher, check = layered
    stored = list(check.whoosh.all_stored_fields())
    stats = searcher.stats()
    articles = {f["article_id"]: (f["source"], f.get("date")) for f in stored}
    assert stats.paragraphs == len(stored) and stats.articles == len(articles)
    assert stats.kinds == dict(sorted(
        {k: sum(1 for f in stored if f["kind"] == k) for k in {f["kind"] for f in stored}}.items()))
    sources = {}
    for source, _ in articles.values():
        sources[source] = sources.get(source, 0) + 1
    assert stats.unknown_source == sources.pop("", 0)
    assert stats.sources == dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])))
    dates = sorted(d.date() for _, d in articles.values() if d)
    assert (stats.first_date, stats.last_date) == (dates[0], dates[-1])
    assert stats.undated_articles == sum(1 for _, d in articles.values() if not d)

    sizes = {}
    for f in stored:
        sizes[f["dup_group"]] = sizes.get(f["dup_group"], 0) + 1
    expected = sorted((k for k, n in sizes.items() if n >= 2), key=lambda k: (-sizes[k], k))
    for limit in (None, 1, 3):
        groups = searcher.duplicate_groups(limit=limit)
        assert [g.key for g in groups] == expected[:limit]
        assert [len(g.members) for g in groups] == [sizes[k] for k in expected[:limit]]

    for article in sorted(articles)[::3]:
        view = searcher.show(article)
        paragraphs = sorted((f for f in stored if f["article_id"] == article),
                            key=lambda f: f["paragraph"])
        assert [p.id for p in view.paragraphs] == [f["id"] for f in paragraphs]
        marked = searcher.show(paragraphs[-1]["id"])
        assert marked.marked == paragraphs[-1]["paragraph"]


def test_the_field_names_plan_knows_are_the_schemas():
    from searchkit.index.layout import FIELD_NAMES
    from searchkit.index.schema import make_schema

    assert FIELD_NAMES == set(make_schema().names())
