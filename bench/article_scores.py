"""Ranking SciFact's abstracts by their best paragraph against scoring each abstract whole
(what ``search_documents`` does), with the same BM25F and the same analysis, outside the engine.

    python bench/article_scores.py [--data DIR]

searchkit indexes paragraphs: 1,000 of SciFact's 5,183 abstracts are split into several
(structured abstracts: BACKGROUND, METHODS, RESULTS ...); ranking an abstract by its best
paragraph's score (what ``search_documents`` did) loses some of them. This script reads the
corpus with searchkit's own reader and analyzers and ranks the train queries both ways with
one BM25F implementation (Lucene's idf per field, k1 and b and the title weight from
``config.SearchOptions``): each paragraph scored with its article's title, an abstract taking
its best paragraph's score; and each abstract scored whole (its paragraphs' term frequencies
and lengths summed, its title once, document frequencies and average lengths over
abstracts). Name variants and the all-words bonus are left out of both. bm25s's figures are
``relevance.py``'s.
"""

import argparse
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relevance import DEFAULT_DATA, MEASURES, load  # noqa: E402 (it needs ir-measures)
import ir_measures  # noqa: E402
from ir_measures import AP, R, nDCG  # noqa: E402

from searchkit.config import SearchOptions  # noqa: E402
from searchkit.index.schema import make_schema  # noqa: E402
from searchkit.ingest.corpus import ReadOptions, read_bytes, read_file  # noqa: E402


class Fields:
    """Term frequencies and lengths of the title and text of a list of units (paragraphs or
    abstracts), with BM25F over them."""

    def __init__(self, titles, texts, options: SearchOptions):
        self.k1, self.b, self.title_weight = (options.bm25_k1, options.bm25_b,
                                              options.title_weight)
        self.fields = []
        for counts in (titles, texts):
            postings = defaultdict(dict)
            for unit, found in enumerate(counts):
                for term, n in found.items():
                    postings[term][unit] = n
            lengths = np.array([sum(c.values()) for c in counts], float)
            self.fields.append((postings, lengths, lengths.mean()))
        self.count = len(texts)

    def scores(self, terms) -> np.ndarray:
        scores = np.zeros(self.count)
        for (postings, lengths, average), weight in zip(self.fields, (self.title_weight, 1.0)):
            for term in set(terms):
                found = postings.get(term)
                if not found:
                    continue
                units = np.fromiter(found, int, len(found))
                tf = np.fromiter(found.values(), float, len(found))
                idf = math.log(1 + (self.count - len(found) + 0.5) / (len(found) + 0.5))
                norm = self.k1 * (1 - self.b + self.b * lengths[units] / average)
                scores[units] += weight * idf * tf * (self.k1 + 1) / (tf + norm)
        return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    data = parser.parse_args().data
    schema, options = make_schema(), SearchOptions()

    def analysed(field, text):
        return [token.text for token in schema[field].analyzer(text)]

    path = data / "corpus.jsonl"
    read = ReadOptions(max_bytes=1 << 30)
    articles = read_file(path, "corpus", read_bytes(path, read), None, read).articles
    doc_ids = [a.record_id for a in articles]
    titles = [Counter(analysed("title", a.title)) for a in articles]
    paragraph_texts = [[Counter(analysed("text", p.text)) for p in a.paragraphs]
                       for a in articles]
    owner = np.array([i for i, found in enumerate(paragraph_texts) for _ in found])
    by_paragraph = Fields([titles[i] for i in owner],
                          [c for found in paragraph_texts for c in found], options)
    whole = Fields(titles, [sum(found, Counter()) for found in paragraph_texts], options)

    queries, qrels = load(data, None)

    def ranked(score_of):
        run = {}
        for qid, text in queries.items():
            scores = score_of(analysed("text", text))
            run[qid] = {doc_ids[i]: float(scores[i])
                        for i in np.argsort(-scores, kind="stable")[:100] if scores[i] > 0}
        return run

    def best_paragraph(terms):
        best = np.zeros(len(articles))
        np.maximum.at(best, owner, by_paragraph.scores(terms))
        return best

    split = sum(1 for found in paragraph_texts if len(found) > 1)
    print(f"{len(articles):,} abstracts, {len(owner):,} paragraphs ({split:,} abstracts in "
          f"several); {len(queries)} train queries; k1 {options.bm25_k1}, b {options.bm25_b}, "
          f"title weight {options.title_weight}\n")
    print("| ranking | nDCG@10 | R@100 | MAP |\n|---|---|---|---|")
    for label, score_of in (("best paragraph", best_paragraph),
                            ("the abstract whole (search_documents)", whole.scores)):
        found = ir_measures.calc_aggregate(MEASURES, qrels, ranked(score_of))
        print(f"| {label} | {found[nDCG @ 10]:.4f} | {found[R @ 100]:.4f} | "
              f"{found[AP]:.4f} |")


if __name__ == "__main__":
    main()
