"""The engine against Whoosh itself: the same query ranked both ways must give the same
documents, in the same order, with the same scores.

The reference is Whoosh's own search of the query its parser reads from the text (searchkit's
query builder, filters included), collected whole: ``searcher.search(query, limit=None)``, or
sorted by date with the same key searchkit sorts by.
"""

import random
import re

from whoosh import query as whoosh_query
from whoosh import sorting

from searchkit.retrieval import engine, plan, typed, weighting
from searchkit.index import store
from searchkit.config import SearchOptions
from searchkit.errors import QueryError
from searchkit.retrieval.syntax import QueryBuilder
from searchkit.index.rankarrays import NO_DATE

RELATIVE = 1e-9

_REFUSED_VALUE = re.compile(r"no (source|kind) '([^']*)'")


def _unknown_value(text, refusal):
    """Whether ``refusal`` is the searcher's for a source: or kind: value of ``text``."""
    found = _REFUSED_VALUE.match(refusal)
    return bool(found) and re.search(
        rf"\b{found.group(1)}:\"?{re.escape(found.group(2))}\b", text, re.IGNORECASE) is not None


class Check:
    """Both rankings of queries on one index, opened once."""

    def __init__(self, index_dir, searcher):
        options = SearchOptions()
        self.engine_searcher = searcher
        ix, self.whoosh = store.open_searcher(
            index_dir, searcher._generation.generation,
            weighting.bm25f(options))
        self.builder = QueryBuilder(ix.schema, options.title_weight)
        self.words = searcher._vocabulary()

    def prepare(self, text, filters=plan.Filters(), variants=True):
        """The query Whoosh's parser reads (through searchkit's query builder), of the text's
        valid syntax as the searcher hands it over."""
        text = typed.read(plan.clean(text)).text
        words = self.words if variants and plan.has_names(text) else None
        return self.builder.prepare(text, filters, self.whoosh.reader(), words)

    def whoosh_ranking(self, text, filters=plan.Filters(), sort="score", variants=True):
        prepared = self.prepare(text, filters, variants)
        sortedby = None
        if sort != "score":
            reader = self.whoosh.reader()
            # A corpus without dates has no date column at all (Whoosh writes none either).
            dates = (reader.column_reader("date", translate=False)
                     if reader.has_column("date") else None)
            newest_first = sort == "-date"

            def by_date(_searcher, docnum):
                value = dates[docnum] if dates is not None else NO_DATE
                return (value == NO_DATE, -value if newest_first else value)

            sortedby = sorting.FunctionFacet(by_date)
        hits = self.whoosh.search(prepared.query, limit=None, sortedby=sortedby)
        return [(hit.docnum, hit.score) for hit in hits], prepared

    def meaning_ranking(self, text, filters=plan.Filters(), variants=True):
        """The ranking by the query's meaning, computed with Python sets from what Whoosh
        matches and scores for each leaf: the reference where Whoosh's own boolean matchers
        are wrong (see ``meaning``)."""
        prepared = self.prepare(text, filters, variants)
        scores = meaning(prepared.query, self.whoosh)
        return sorted(scores.items(), key=lambda item: (-item[1], item[0])), prepared

    def engine_ranking(self, text, filters=plan.Filters(), sort="score", variants=True):
        searcher = self.engine_searcher
        prepared = searcher._plan(text, filters, variants)
        matches = searcher._matches(prepared.query)
        dates = searcher._generation.column("date") if sort != "score" else None
        order = engine.ranked(matches, len(matches), dates, sort == "-date")
        return [(int(matches.docs[i]), float(matches.scores[i])) for i in order], prepared

    def compare(self, text, filters=plan.Filters(), sort="score", variants=True,
                by_meaning=False):
        """None if both agree, else what differs. ``by_meaning``: against ``meaning_ranking``
        rather than Whoosh's own ranking."""
        refusals = []
        try:
            if by_meaning:
                expected, _ = self.meaning_ranking(text, filters, variants)
            else:
                expected, _ = self.whoosh_ranking(text, filters, sort, variants)
        except QueryError as error:
            refusals.append(str(error))
        try:
            found, _ = self.engine_ranking(text, filters, sort, variants)
        except QueryError as error:
            refusals.append(str(error))
        if refusals:  # a query with nothing to search for is refused alike by both
            if len(refusals) == 2 and refusals[0] == refusals[1]:
                return None
            if len(refusals) == 1 and _unknown_value(text, refusals[0]):
                return None  # the searcher checks source: and kind: as --source and --kind
            return f"{text!r} {filters}: refused by one side only: {refusals}"
        if sort == "score":
            differ = _tie_classes(expected) != _tie_classes(found, like=expected)
        else:
            differ = [d for d, _ in expected] != [d for d, _ in found]
        if differ:
            first = next((i for i, (a, b) in enumerate(zip(expected, found)) if a[0] != b[0]),
                         min(len(expected), len(found)))
            return (f"{text!r} {filters} {sort}: {len(expected)} Whoosh hits, {len(found)} "
                    f"engine hits, first difference at rank {first}: "
                    f"{expected[first:first + 3]} / {found[first:first + 3]}")
        if sort == "score":
            for (doc, want), (_, got) in zip(expected, found):
                if abs(want - got) > RELATIVE * abs(want):
                    return f"{text!r} {filters}: document {doc} scores {want!r} / {got!r}"
        return None


def _tie_classes(ranking, like=None):
    """The ranking as runs of documents whose scores agree within RELATIVE (cut where ``like``
    cuts, if given): two rankings agree when they differ only in the order of such ties, as
    Whoosh's own order within them depends on the order it summed in."""
    cuts = like if like is not None else ranking
    runs, start = [], 0
    for i in range(1, len(cuts) + 1):
        if i == len(cuts) or abs(cuts[i][1] - cuts[i - 1][1]) > RELATIVE * abs(cuts[i - 1][1]):
            runs.append(frozenset(d for d, _ in ranking[start:i]))
            start = i
    return runs if len(ranking) == len(cuts) else None


def meaning(query, searcher) -> dict:
    """document -> score of ``query``, by the meaning of its operators: Or sums the scores of
    the parts that match, And requires every part and sums them, AndNot drops the second part's
    matches, AndMaybe adds the second part's score where it matches, Not matches every live
    document the part does not (scoring 1.0); boosts multiply. Leaves are matched and scored by
    Whoosh, segment by segment as its collector does. (Whoosh's own matchers get two of these
    wrong on some documents: AndMaybeMatcher under an AND skips its optional part to the wrong
    document, and AndNot over some unions lets excluded documents through.)"""
    kind = type(query)
    if query is whoosh_query.NullQuery:
        return {}
    if kind is whoosh_query.Or:
        found = {}
        for part in query.subqueries:
            for doc, score in meaning(part, searcher).items():
                found[doc] = found.get(doc, 0.0) + score
        return {doc: score * query.boost for doc, score in found.items()}
    if kind is whoosh_query.And:
        parts = [meaning(part, searcher) for part in query.subqueries]
        common = set.intersection(*(set(p) for p in parts)) if parts else set()
        return {doc: sum(p[doc] for p in parts) * query.boost for doc in common}
    if kind is whoosh_query.AndNot:
        excluded = meaning(query.b, searcher)
        return {d: s for d, s in meaning(query.a, searcher).items() if d not in excluded}
    if kind is whoosh_query.AndMaybe:
        optional = meaning(query.b, searcher)
        return {d: s + optional.get(d, 0.0) for d, s in meaning(query.a, searcher).items()}
    if kind is whoosh_query.Not:
        excluded = meaning(query.query, searcher)
        reader = searcher.reader()
        return {d: 1.0 for d in reader.all_doc_ids() if d not in excluded}
    found = {}
    context = searcher.context()
    for leaf, offset in searcher.leaf_searchers():  # segment by segment, as Whoosh runs it
        matcher = query.matcher(leaf, context)
        while matcher.is_active():
            found[matcher.id() + offset] = matcher.score()
            matcher.next()
    return found


def sample_queries(texts, count, seed=0, lengths=((1, 4), (12, 40))):
    """Queries cut from paragraph texts: spans of 1-4 words and pasted sentences of 12-40,
    some lightly edited (a word dropped, quote marks changed, punctuation kept)."""
    rng = random.Random(seed)
    texts = [t for t in texts if len(t.split()) >= 2]
    queries = []
    for _ in range(count):
        words = rng.choice(texts).split()
        low, high = rng.choice(lengths)
        size = min(len(words), rng.randint(low, high))
        start = rng.randint(0, len(words) - size)
        span = words[start:start + size]
        if size > 8 and rng.random() < 0.5:
            del span[rng.randrange(len(span))]
        query = " ".join(span)
        if rng.random() < 0.2:
            query = query.replace("“", '"').replace("”", '"').replace("’", "'")
        queries.append(query)
    return queries


WORDS = ["putin", "Merkel", "dialogue", "opposition", "Lukashenko", "Minsk", "the", "1987",
         "oil", "prices", "Belarus", "protest", "election", "Tikhanovskaya", "minist"]
FIELDS = ["title", "source", "kind", "text", "id", "dup_group", "date"]


def syntax_queries(count, seed=0, words=WORDS):
    """Queries with syntax: phrases, fields, wildcards, boolean operators, NOT, groups."""
    rng = random.Random(seed)

    def word():
        return rng.choice(words)

    def term(depth=0):
        roll = rng.random()
        if roll < 0.35 or depth > 2:
            return word()
        if roll < 0.45:
            return '"' + " ".join(word() for _ in range(rng.randint(2, 3))) + '"'
        if roll < 0.55:
            field = rng.choice(FIELDS)
            value = {"kind": rng.choice(["body", "caption"]),
                     "date": rng.choice(["2020", "2020-08", "[2020-08-01 TO 2020-08-20]"])}
            return f"{field}:{value.get(field, word())}"
        if roll < 0.62:
            return word()[:4] + "*"
        if roll < 0.7:
            return rng.choice(["-", "+"]) + word()
        if roll < 0.8:
            return "(" + " ".join(term(depth + 1) for _ in range(rng.randint(1, 3))) + ")"
        operator = rng.choice(["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"])
        return f"{term(depth + 1)} {operator} {term(depth + 1)}"

    return [" ".join(term() for _ in range(rng.randint(1, 4))) for _ in range(count)]


def plain_words(text):
    """The text with everything a query parser could read as syntax taken out."""
    return re.sub(r"[^\w\s.,;!&%$#@/]", " ", text)
