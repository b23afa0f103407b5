"""The ranking's scorer for Whoosh's own searches: Whoosh's BM25F with ``engine.idf``.

Whoosh answers the query syntax the ranking arrays cannot (phrases, wildcards, ...); its scores
must be the engine's, so its searcher is given this weighting model rather than Whoosh's
``BM25F``, whose idf differs.
"""

from whoosh import scoring

from .engine import idf


class BM25F(scoring.BM25F):
    """Whoosh's BM25F with Lucene's idf (``engine.idf``), over the whole index."""

    def idf(self, searcher, fieldname, text):
        parent = searcher.get_parent()
        return idf(parent.doc_count_all(), parent.doc_frequency(fieldname, text))


def bm25f(options) -> BM25F:
    """The weighting model for these ``SearchOptions``."""
    return BM25F(B=options.bm25_b, K1=options.bm25_k1)
