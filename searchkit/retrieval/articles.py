"""Scoring whole articles: the ranked lists of ``Searcher.search_documents`` (TREC runs).

The index holds paragraphs; an evaluation judges documents (an article, or a JSON-lines
record). An article split into paragraphs is scored here as one text, with the same query
tree and the same BM25F as a paragraph (``engine``), over articles instead of paragraphs:

* a term's frequency in an article is the sum of its frequencies in the article's live
  paragraphs (the text field), or its frequency in one of them (the title, which every
  paragraph of an article carries); the article's length likewise: its paragraphs' lengths
  summed (as Whoosh stores each, one byte), its title's once;
* N is the number of articles with a live paragraph, a term's document frequency the number
  of them it occurs in, average lengths are over articles;
* filters (the restrictions the query ANDs at its top) choose the paragraphs an article is
  scored on; a restriction anywhere else, and what Whoosh scored itself (``Scored``: phrases,
  wildcards), count for an article where they match one of its paragraphs (the best score).

Ranking an abstract by its best paragraph instead loses recall on structured abstracts,
whose words are spread over several paragraphs (bench/README.md, SciFact's recall).

An article is named by its representative: its first live paragraph's global number, so
that every operation of ``engine.Evaluator`` works unchanged, ties go in index order, and
its stored names are read like any paragraph's.
"""

from typing import Optional, Tuple

import numpy as np

from . import engine
from .engine import (BYTE_TO_LENGTH, AllOf, AnyOf, Generation, Maybe, NoneOf, Restrict,
                     Scored, Term, Without)


class Articles:
    """The generation's paragraphs grouped by ``doc_id`` into articles, with their lengths."""

    def __init__(self, generation: Generation):
        hashes = generation.column("doc_id")
        count = hashes.size
        deleted = generation.deleted_mask()
        self.live = ~deleted if deleted is not None else np.ones(count, dtype=bool)
        # Sorting (not np.unique, which hashes): equal doc_ids side by side, in document order.
        order = np.argsort(hashes, kind="stable")
        live_order = order[self.live[order]]
        firsts = _firsts(hashes[live_order])
        # Each live paragraph's article, as its representative (first live paragraph).
        self.article = np.full(count, -1, dtype=np.int64)
        self.article[live_order] = live_order[firsts][np.cumsum(firsts) - 1]
        self.is_article = np.zeros(count, dtype=bool)
        self.is_article[live_order[firsts]] = True
        self.count = int(np.count_nonzero(firsts))
        self._bytes = {f: generation.column(f + ".lengths")  # each paragraph's length byte
                       for f in ("text", "title")}
        self.whole = {f: self.lengths(f, self.live) for f in self._bytes}
        # Averages over every article, whatever a query's filters let through.
        self.averages = {f: (float(lengths.sum()) / (self.count or 1)) or 1.0
                         for f, lengths in self.whole.items()}

    def lengths(self, field: str, paragraphs: np.ndarray) -> np.ndarray:
        """Each article's length in ``field`` (by representative) over these paragraphs."""
        each = BYTE_TO_LENGTH[self._bytes[field][paragraphs]]
        articles = self.article[paragraphs]
        if field == "text":
            return np.bincount(articles, weights=each, minlength=self.live.size)
        # The same title in every paragraph of an article: one of them.
        lengths = np.zeros(self.live.size)
        lengths[articles] = each
        return lengths

    def gathered(self, docs: np.ndarray, weights: np.ndarray, field: str):
        """Paragraphs' postings (live ones, ascending) as their articles' (ascending), with
        the frequencies summed (text) or one paragraph's (title)."""
        articles = self.article[docs]
        if not articles.size:
            return articles, weights
        order = np.argsort(articles, kind="stable")
        articles, weights = articles[order], weights[order]
        starts = np.flatnonzero(_firsts(articles))
        reduce = np.add if field == "text" else np.maximum
        return articles[starts], reduce.reduceat(weights, starts)


class ArticleEvaluator(engine.Evaluator):
    """``engine.Evaluator`` over articles: a term's matches are articles and their BM25F
    scores; the algebra of the nodes above the terms is the same."""

    def __init__(self, generation: Generation, articles: Articles, k1: float, b: float):
        super().__init__(generation, k1, b)
        self.articles = articles
        # Per query: the paragraphs its filters let through (None: every live one), and the
        # articles' lengths over them.
        self._paragraphs: Optional[np.ndarray] = None
        self._lengths = articles.whole

    def matches(self, node: engine.Node, mark: bool = False) -> engine.Matches:
        """The articles ``node`` matches (by representative, ascending) and their scores."""
        self._paragraphs = self._filtered(node)
        if self._paragraphs is not None:
            self._lengths = {f: self.articles.lengths(f, self._paragraphs)
                             for f in self.articles.whole}
        try:
            node = self._over_articles(node)
            docs, scores = self._evaluate(node, self._terms)
        except IndexError:
            raise engine.DamagedIndex("the ranking arrays are damaged") from None
        finally:
            self._paragraphs, self._lengths = None, self.articles.whole
        keep = self.articles.is_article[docs]  # a NOT matches every paragraph number
        return engine.Matches(docs[keep], scores[keep])

    def _filtered(self, node: engine.Node) -> Optional[np.ndarray]:
        """The live paragraphs the query's filters let through (None: all)."""
        restrictions = _filters(node)
        if not restrictions:
            return None
        passing = self.articles.live.copy()
        for restriction in restrictions:
            passing &= self._restriction(restriction)
        return passing

    def _over_articles(self, node: engine.Node) -> engine.Node:
        """The tree with its restrictions and Whoosh's scores turned into articles'."""
        kind = type(node)
        if kind in (AnyOf, AllOf):
            return kind([self._over_articles(c) for c in node.children], node.boost)
        if kind is Without:
            return Without(self._over_articles(node.positive), self._over_articles(node.negative))
        if kind is Maybe:
            return Maybe(self._over_articles(node.required), self._over_articles(node.optional))
        if kind is NoneOf:
            return NoneOf(self._over_articles(node.child))
        if kind is Restrict:
            docs = np.flatnonzero(self._restriction(node))
            return self._best_of(docs, np.full(docs.size, node.boost))
        if kind is Scored:
            return self._best_of(node.docs, node.scores)
        return node

    def _best_of(self, docs: np.ndarray, scores: np.ndarray) -> Scored:
        """Paragraphs' scores as their articles': each article its best paragraph's."""
        docs, scores = self._counted(docs, scores)
        articles = self.articles.article[docs]
        order = np.lexsort((-scores, articles))
        articles, scores = articles[order], scores[order]
        first = _firsts(articles)
        return Scored(articles[first], scores[first])

    def _counted(self, docs: np.ndarray, values: np.ndarray):
        """The paragraphs (and their values) an article is scored on."""
        keep = (self._paragraphs if self._paragraphs is not None else self.articles.live)[docs]
        return docs[keep], values[keep]

    def _term(self, node: Term, cache: dict):
        """The term's articles and their BM25F scores (before its boost); kept for later
        queries when the query has no filters (the scores are then the same in each)."""
        whole = self._paragraphs is None
        key = ("articles", node.field, node.text)
        found = cache.get(key) if whole else None
        if found is not None:
            return found
        docs, weights, frequency = self._postings(node.field, node.text, cache)
        articles, tf = self.articles.gathered(*self._counted(docs, weights), node.field)
        if not articles.size:
            return engine._EMPTY
        weight = engine.idf(self.articles.count, frequency)
        lengths = self._lengths[node.field][articles]
        norm = self.k1 * ((1 - self.b) + self.b * lengths / self.articles.averages[node.field])
        found = articles, weight * ((tf * (self.k1 + 1)) / (tf + norm))
        if whole:
            for array in found:
                array.flags.writeable = False  # shared by later queries
            self._keep(cache, key, found, articles.size)
        return found

    def _keep(self, cache: dict, key, value, size: int) -> None:
        """``value`` kept in ``cache`` under ``key``, the cache emptied first if it would
        hold more than the engine's bound of postings."""
        if self._cached + size > engine._CACHED_POSTINGS:
            cache.clear()
            self._cached = 0
        cache[key] = value
        self._cached += size

    def _postings(self, field: str, text: str, cache: dict) -> Tuple[np.ndarray, np.ndarray, int]:
        """The term's live paragraphs (global, ascending), frequencies, and in how many
        articles it occurs."""
        key = (field, text)
        found = cache.get(key)
        if found is None:
            numbers = self.generation.lookup(field, text)[1]
            docs, weights = [engine._EMPTY[0]], [engine._EMPTY[1]]
            for segment, number in zip(self.generation.segments, numbers):
                if number >= 0:
                    local, tf = segment.arrays.postings(field, number)
                    docs.append(local.astype(np.int64) + segment.offset)
                    weights.append(tf.astype(np.float64))
            docs, weights = np.concatenate(docs), np.concatenate(weights)
            live = self.articles.live[docs]
            docs, weights = docs[live], weights[live]
            articles = np.sort(self.articles.article[docs])
            frequency = int(np.count_nonzero(articles[1:] != articles[:-1])) + bool(docs.size)
            found = (docs, weights, frequency)
            self._keep(cache, key, found, docs.size)
        return found


def their_words(node: engine.Node) -> engine.Node:
    """A paragraph query for an article's best paragraph: any of the query's words (the
    leaves not under a NOT), under the query's filters."""
    restrictions = _filters(node)
    words = [leaf for leaf in engine.positive_leaves(node) if type(leaf) is not Restrict]
    return AllOf([AnyOf(words)] + restrictions) if restrictions else AnyOf(words)


def best_paragraphs(articles: Articles, representatives: np.ndarray,
                    paragraphs: engine.Matches) -> np.ndarray:
    """Each article's best paragraph among ``paragraphs`` (its first in a tie), or its
    representative where none of them is its."""
    docs, scores = paragraphs.docs, paragraphs.scores
    owners = articles.article[docs]
    wanted = np.isin(owners, representatives)
    docs, scores, owners = docs[wanted], scores[wanted], owners[wanted]
    order = np.lexsort((docs, -scores, owners))
    owners, docs = owners[order], docs[order]
    first = _firsts(owners)
    best = dict(zip(owners[first].tolist(), docs[first].tolist()))
    return np.array([best.get(r, r) for r in representatives.tolist()], dtype=np.int64)


def _filters(node: engine.Node) -> list:
    """The restrictions the query ANDs at its top (``plan.restricted``: its filters)."""
    return [c for c in node.children if type(c) is Restrict] if type(node) is AllOf else []


def _firsts(ordered: np.ndarray) -> np.ndarray:
    """True where a sorted array's value differs from the one before."""
    first = np.ones(ordered.size, dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return first
