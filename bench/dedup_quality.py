"""How well `searchkit.index.dedup` tells reprinted paragraphs from merely similar ones.

    python bench/dedup_quality.py [--seed S] [--sample N] [--pool P] [--unrelated U]
                                  [--reuters-files K] [--also N,T ...]

(3-6 minutes on a shared 2-core machine with the defaults: 200 pairs per kind and source,
all Reuters files)

Labelled pairs are built from real text: paragraphs of at least 8 words from the BBC corpus
(../shared/data/bbc, read with searchkit's own reader) and from Reuters-21578
(../shared/data/reuters21578, the first K .sgm files, all 22 by default).

Positive pairs (should be grouped):
  exact       the same normalised paragraph in two different articles of the data;
  (a)-(e)     a sampled paragraph and a copy with the edits a reprint makes: (a) dateline and/or
              credit added, (b) 1-3 words substituted from the corpus vocabulary, (c) one
              sentence cut, (d) quote marks changed, (e) two of (a)-(d).
Negative pairs (hard ones, should be kept apart):
  (a)         two different paragraphs of one article;
  (b)         a paragraph and its closest paragraph (word Jaccard) in another article of the
              same BBC category or of Reuters, searched in a random pool of P paragraphs;
  (c)         two paragraphs that share a template, not a text: the same lower-case words in
              the same order, only names and figures differ ("Shr loss 75 cts vs loss 1.36
              dlrs" / "... 12 cts vs loss 1.78 dlrs", a critic's Oscar picks in BBC
              entertainment/368, in one article or two);
  (d)         a stock sentence: the same paragraph of under dedup.SHORT_WORDS words ("2000
              GMT", "The case continues.") in two articles that share no other paragraph.
  Left out: pairs where one normalised text equals or contains the other (reuse, not a
  negative; (d) aside), and for (b)-(d) articles that share an exact paragraph (reprints of
  one story). (c) and (d) are drawn with their own random generator, after the others, so
  that the pairs of (a), (b) and the positives are those of earlier runs.

For each copy the fraction of words edited is recorded (whitespace tokens, quote marks ignored,
counted against the original; independent of dedup's own normalisation). dedup targets edits
of up to ~10% of the words, so recall is reported overall and on that subset.

1. Pairwise: dedup's decision for two paragraphs of unrelated articles
   (`dedup.near_duplicates`: equal signatures, or `similarity(shingles(a, n), shingles(b, n))
   >= t` unless the pair is a template; sets under dedup.MIN_SHINGLES match only by signature,
   paragraphs under dedup.SHORT_WORDS words never) for n in 1..3 and a grid of thresholds:
   precision, recall, F1. The best (n, t) is the highest F1 with precision
   >= 0.98; so is the best by F1 on the <=10%-edit copies. Negatives are as many as positives
   and all hard, so precision here is not the precision on a real corpus: read the FP counts.
2. End-to-end: all paragraphs of the labelled pairs plus U unrelated ones per source go through
   ONE call of `find_groups`, at dedup's defaults, at the best settings and at any --also; a
   positive counts if both landed in one group, a negative if they were kept apart (candidate
   pruning and transitive grouping both show here).
3. Per edit kind and per fraction of words edited, recall at those settings (and at dedup's
   default by similarity alone, without the template and short-paragraph rules); the pairs
   that fail everywhere and the worst errors, with their text.

Results go to stdout, progress to stderr. The same --seed gives the same pairs and results.
"""

import argparse
import difflib
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from searchkit.index import dedup
from searchkit.ingest.corpus import read_corpus

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
BBC = DATA / "bbc"
REUTERS = DATA / "reuters21578"

MIN_WORDS = 8  # shorter paragraphs (headings, table rows, sign-offs) are not dedup's business
SHINGLE_SIZES = (1, 2, 3)
THRESHOLDS = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)
MIN_PRECISION = 0.98
SMALL_EDIT = 0.10  # "about edits of up to 10% of the words" is what dedup is meant to catch
NEGATIVES_PER_POSITIVE_KIND = 3  # so that negatives and positives come out about even

POSITIVE_KINDS = {
    "exact": "exact duplicate in data",
    "dateline": "(a) dateline/credit",
    "substitute": "(b) words substituted",
    "cut": "(c) sentence cut",
    "quotes": "(d) quote marks",
    "combo": "(e) two of (a)-(d)",
}
NEGATIVE_KINDS = {
    "same-article": "(a) same article",
    "same-topic": "(b) closest other article",
    "template": "(c) same template",
    "stock": "(d) stock sentence",
}
EDITS = ("dateline", "substitute", "cut", "quotes")
# Two edits are made in this order, as an editor would: the dateline goes on last, so that
# cutting the first sentence cannot take it away.
COMBO_ORDER = ("cut", "substitute", "quotes", "dateline")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- paragraphs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Para:
    id: str  # "bbc:business/001#2", "reuters:17#3"
    article: str
    topic: str  # BBC category folder; every Reuters paragraph shares one topic ("reuters")
    source: str
    text: str


def long_enough(text: str) -> bool:
    return len(dedup.words(text)) >= MIN_WORDS


def load_bbc() -> Tuple[List[Para], List[Para]]:
    """BBC's paragraphs of MIN_WORDS words or more, and the shorter ones."""
    corpus = read_corpus([BBC])
    paras, short = [], []
    for article in corpus.articles:
        if "/" not in article.id:
            continue  # the data set's README, not an article
        topic = article.id.split("/")[0]
        for p in article.paragraphs:
            para = Para(f"bbc:{p.id}", f"bbc:{article.id}", topic, "bbc", p.text)
            (paras if long_enough(p.text) else short).append(para)
    return paras, short


_RECORD = re.compile(r'<REUTERS[^>]*NEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)


def reuters_paragraphs(body: str) -> List[str]:
    """A new paragraph starts at an indented line (or after a blank one)."""
    body = body.replace("&#3;", "").replace("&lt;", "<").replace("&gt;", ">")
    body = body.replace("&amp;", "&")
    paragraphs, lines = [], []
    for line in body.split("\n"):
        if (not line.strip() or line[:1].isspace()) and lines:
            paragraphs.append(" ".join(lines))
            lines = []
        if line.strip():
            lines.append(line.strip())
    if lines:
        paragraphs.append(" ".join(lines))
    return paragraphs


def load_reuters(files: Sequence[Path]) -> Tuple[List[Para], List[Para]]:
    """Reuters' paragraphs of MIN_WORDS words or more, and the shorter ones."""
    paras, short = [], []
    for path in files:
        text = path.read_text(encoding="latin-1")  # reut2-017.sgm is not valid UTF-8
        for record in _RECORD.finditer(text):
            body = _BODY.search(record.group(2))
            if not body:
                continue  # briefs: a title only
            article = f"reuters:{record.group(1)}"
            for k, paragraph in enumerate(reuters_paragraphs(body.group(1)), start=1):
                para = Para(f"{article}#{k}", article, "reuters", "reuters", paragraph)
                (paras if long_enough(paragraph) else short).append(para)
    return paras, short


# --- edits that a reprint makes ----------------------------------------------------------------

CITIES = ["MINSK", "LONDON", "NEW YORK", "TOKYO", "PARIS", "BRUSSELS", "SYDNEY", "NAIROBI"]
MONTHS = ["Jan", "Feb", "March", "April", "May", "June", "July", "Aug", "Sept", "Oct", "Nov"]
AGENCIES = ["Reuters", "AFP", "AP"]
NAMES = ["Jane Doe", "John Smith", "Maria Garcia", "Tom Brown", "Anna Kowalska", "Li Wei"]


def add_dateline(text: str, rng: random.Random) -> Tuple[str, str]:
    """(a) "MINSK, Aug 18 (Reuters) - " in front and/or a credit at the end."""
    where = rng.choice(["dateline", "credit", "both"])
    if where in ("dateline", "both"):
        city = rng.choice(CITIES)
        if rng.random() < 0.5:
            when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)} "
            text = f"{city}, {when}({rng.choice(AGENCIES)}) - {text}"
        else:
            text = f"{city} ({rng.choice(AGENCIES)}) - {text}"
    if where in ("credit", "both"):
        text += rng.choice([
            f" (Reporting by {rng.choice(NAMES)}; Editing by {rng.choice(NAMES)})",
            " \u2013 AFP",
            " (AP)",
            f" (Additional reporting by {rng.choice(NAMES)})",
        ])
    return text, where


# The word inside "(Reuters)," or "don't"; one-letter words ("U.S.", "a") are left alone.
_CORE = re.compile(r"[A-Za-z]{2,}(?:['\u2019][A-Za-z]+)*")


def substitute_words(text: str, rng: random.Random, vocabulary: Sequence[str]) -> Tuple[str, str]:
    """(b) 1, 2 or 3 words replaced by words drawn from the corpus (as often as they occur)."""
    parts = re.split(r"(\s+)", text)  # keeps the spacing, so only the chosen words change
    slots = [i for i, part in enumerate(parts) if _CORE.search(part)]
    k = min(rng.choice([1, 2, 3]), len(slots))
    for i in rng.sample(slots, k):
        match = _CORE.search(parts[i])
        old = match.group()
        new = rng.choice(vocabulary)
        while new == old.lower():
            new = rng.choice(vocabulary)
        if old[0].isupper():
            new = new.capitalize()
        parts[i] = parts[i][: match.start()] + new + parts[i][match.end():]
    return "".join(parts), f"{k} word{'s' if k > 1 else ''}"


_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)]?\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")
# A full stop after these is not the end of a sentence ("Mr. Smith", "U.S. officials").
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Co|Corp|Inc|Ltd|No|Gen|Gov|Sen|Rep|Jan|Feb|Aug|Sept|Oct|Nov|Dec)"
    r"|\b[A-Z](?:\.[A-Z])*)$"
)


def sentences(text: str) -> List[str]:
    found, start = [], 0
    for end in _SENTENCE_END.finditer(text):
        if _ABBREVIATION.search(text[start: end.start()]):
            continue
        found.append(text[start: end.end()].strip())
        start = end.end()
    found.append(text[start:].strip())
    return [s for s in found if s]


def cut_sentence(text: str, rng: random.Random) -> Tuple[str, str]:
    """(c) One sentence of a paragraph of two or more left out."""
    parts = sentences(text)
    cut = rng.randrange(len(parts))
    where = "first" if cut == 0 else "last" if cut == len(parts) - 1 else "middle"
    return " ".join(parts[:cut] + parts[cut + 1:]), f"{where} sentence"


def curly_quotes(text: str) -> str:
    text = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", text)
    text = re.sub(r"(?<!\w)'([^']*?)'(?!\w)", "\u2018\\1\u2019", text)
    return text.replace('"', "\u201d").replace("'", "\u2019")  # the rest: apostrophes


def straight_quotes(text: str) -> str:
    return re.sub("[\u201c\u201d]", '"', re.sub("[\u2018\u2019]", "'", text))


def double_to_single(text: str) -> str:
    text = re.sub(r'"([^"]*)"', "'\\1'", text)
    return re.sub("\u201c([^\u201d]*)\u201d", "\u2018\\1\u2019", text)


def single_to_double(text: str) -> str:
    # Only quoted spans: an apostrophe inside a word ("it's") stays what it is.
    text = re.sub(r"(?<!\w)'([^']*?)'(?!\w)", '"\\1"', text)
    return re.sub("(?<!\\w)\u2018([^\u2019]*?)\u2019(?!\\w)", "\u201c\\1\u201d", text)


def change_quotes(text: str, rng: random.Random) -> Tuple[str, str]:
    """(d) Straight <-> curly and/or single <-> double, as another desk's style sheet does."""
    styles = [f for f in (curly_quotes, straight_quotes) if f(text) != text]
    marks = [f for f in (double_to_single, single_to_double) if f(text) != text]
    steps = [rng.choice(group) for group in (styles, marks) if group]
    if len(steps) == 2 and rng.random() < 0.5:
        steps = [rng.choice(steps)]
    for step in steps:
        text = step(text)
    return text, "+".join(step.__name__.replace("_quotes", "").replace("_to_", ">")
                          for step in steps)


def applicable_edits(text: str) -> List[str]:
    edits = ["dateline", "substitute"]
    if len(sentences(text)) >= 2:
        edits.append("cut")
    if any(f(text) != text for f in (curly_quotes, straight_quotes, double_to_single,
                                     single_to_double)):
        edits.append("quotes")
    return edits


def apply_edit(kind: str, text: str, rng: random.Random, vocabulary: Sequence[str]):
    if kind == "dateline":
        return add_dateline(text, rng)
    if kind == "substitute":
        return substitute_words(text, rng, vocabulary)
    if kind == "cut":
        return cut_sentence(text, rng)
    return change_quotes(text, rng)


_QUOTE_MARKS = re.compile("[\"'`\u00b4\u2018\u2019\u201c\u201d\u00ab\u00bb]")


def edited_fraction(original: str, copy: str) -> float:
    """Words inserted, deleted or replaced, over the original's words. Tokens are split on
    whitespace with quote marks ignored: a quote-mark change edits no word."""
    a = [_QUOTE_MARKS.sub("", token) for token in original.split()]
    b = [_QUOTE_MARKS.sub("", token) for token in copy.split()]
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    edited = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")
    return edited / len(a)


# --- labelled pairs ----------------------------------------------------------------------------


@dataclass
class Pair:
    label: int  # 1: near duplicates, 0: distinct
    kind: str  # a key of POSITIVE_KINDS or NEGATIVE_KINDS
    detail: str  # the variant of the kind ("2 words", "dateline", "cut+quotes")
    source: str
    a_id: str
    a_text: str
    b_id: str
    b_text: str
    edit: float = 0.0  # fraction of words edited (copies only)
    jaccard: float = 0.0  # word overlap (same-topic negatives only)


def exact_pairs(paras: Sequence[Para], rng: random.Random, count: int) -> List[Pair]:
    """One pair per normalised text that the data holds in two or more articles."""
    by_signature: Dict[str, List[Para]] = defaultdict(list)
    for p in paras:
        by_signature[dedup.signature(p.text)].append(p)
    pairs = []
    for group in by_signature.values():
        if len({p.article for p in group}) < 2:
            continue
        first = rng.choice(group)
        second = rng.choice([p for p in group if p.article != first.article])
        pairs.append(Pair(1, "exact", "", first.source, first.id, first.text,
                          second.id, second.text))
    return rng.sample(pairs, min(count, len(pairs)))


def derived_pairs(paras: Sequence[Para], rng: random.Random, count: int,
                  vocabulary: Sequence[str]) -> List[Pair]:
    """For each edit kind, ``count`` sampled paragraphs that allow it and an edited copy of
    each; then ``count`` copies with two different edits."""
    pairs: List[Pair] = []

    def add(kind: str, original: Para, copy: str, detail: str) -> None:
        copy_id = f"copy:{original.source}:{len(pairs) + 1}"  # its own id for find_groups
        pairs.append(Pair(1, kind, detail, original.source, original.id, original.text,
                          copy_id, copy, edited_fraction(original.text, copy)))

    def originals_allowing(*edits: str):
        """Paragraphs in random order, those that allow all of ``edits`` (a cut needs two
        sentences, a quote change needs quote marks)."""
        for original in rng.sample(list(paras), len(paras)):
            if set(edits) <= set(applicable_edits(original.text)):
                yield original

    for kind in EDITS:
        for original, _ in zip(originals_allowing(kind), range(count)):
            copy, detail = apply_edit(kind, original.text, rng, vocabulary)
            add(kind, original, copy, detail)
    # Each of the six combinations equally often: most paragraphs allow only some edits.
    combos = [(a, b) for i, a in enumerate(COMBO_ORDER) for b in COMBO_ORDER[i + 1:]]
    for k in range(count):
        edits = combos[k % len(combos)]
        original = next(originals_allowing(*edits))
        copy = original.text
        for kind in edits:
            if kind in applicable_edits(copy):  # a cut may have taken the only quote away
                copy, _ = apply_edit(kind, copy, rng, vocabulary)
        add("combo", original, copy, "+".join(edits))
    return pairs


def normalised(text: str) -> str:
    """dedup's words, space-separated and padded, so that containment is by whole words."""
    return f" {' '.join(dedup.words(text))} "


def is_copy(a: str, b: str) -> bool:
    """Normalised a and b equal, or one inside the other: the same paragraph reused with a
    lead-in or a tail (real text does this across stories), so not a negative."""
    return a in b or b in a


def same_article_pairs(paras: Sequence[Para], rng: random.Random, count: int,
                       skipped: Counter) -> List[Pair]:
    by_article: Dict[str, List[Para]] = defaultdict(list)
    for p in paras:
        by_article[p.article].append(p)
    articles = [group for group in by_article.values() if len(group) >= 2]
    pairs, seen = [], set()
    for _ in range(count * 20):
        if len(pairs) == count:
            break
        a, b = rng.sample(rng.choice(articles), 2)
        if (a.id, b.id) in seen:
            continue
        seen.update({(a.id, b.id), (b.id, a.id)})
        if is_copy(normalised(a.text), normalised(b.text)):
            skipped["same-article"] += 1  # a paragraph repeated within its article
            continue
        pairs.append(Pair(0, "same-article", "", a.source, a.id, a.text, b.id, b.text))
    return pairs


def reprinted_articles(paras: Sequence[Para]) -> set:
    """Pairs of articles that share an exact paragraph: reprints of one story, whose other
    paragraphs may be edited copies of each other, so they cannot serve as negatives."""
    by_signature: Dict[str, set] = defaultdict(set)
    for p in paras:
        by_signature[dedup.signature(p.text)].add(p.article)
    related = set()
    for articles in by_signature.values():
        ordered = sorted(articles)
        related.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:])
    return related


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def same_topic_pairs(paras: Sequence[Para], rng: random.Random, count: int,
                     pool_size: int, related: set, skipped: Counter) -> List[Pair]:
    """For sampled paragraphs, the paragraph of another article on the same topic with the most
    words in common (unigram Jaccard), searched in a random pool to keep it fast. Copies
    (``is_copy``) and paragraphs of reprints of the query's article are passed over."""
    pool = rng.sample(list(paras), min(pool_size, len(paras)))
    by_topic: Dict[str, List[Tuple[Para, set, str]]] = defaultdict(list)
    for p in pool:
        by_topic[p.topic].append((p, set(dedup.words(p.text)), normalised(p.text)))
    pairs = []
    for query in rng.sample(list(paras), min(len(paras), count * 3)):
        if len(pairs) == count:
            break
        words, text = set(dedup.words(query.text)), normalised(query.text)
        best, best_score, copy_score = None, 0.0, 0.0
        for other, other_words, other_text in by_topic[query.topic]:
            if other.article == query.article:
                continue
            score = jaccard(words, other_words)
            if score <= best_score:
                continue
            if tuple(sorted((query.article, other.article))) in related:
                continue
            if is_copy(text, other_text):  # checked only for a new best: it is rare
                copy_score = max(copy_score, score)
                continue
            best, best_score = other, score
        if copy_score > best_score:
            skipped["same-topic"] += 1  # the closest paragraph was a copy, the next one is used
        if best is not None:
            pairs.append(Pair(0, "same-topic", "", query.source, query.id, query.text,
                              best.id, best.text, jaccard=best_score))
    return pairs


# The words of a template: lower-case words as written; capitalised words (names) and figures
# are what fills it in.
_LABEL = re.compile(r"(?<![\w'’.-])[a-z]+(?![\w'’.-])")


def skeleton(text: str) -> Tuple[str, ...]:
    return tuple(_LABEL.findall(text))


def template_pairs(paras: Sequence[Para], rng: random.Random, count: int, related: set,
                   skipped: Counter) -> List[Pair]:
    """(c) Pairs of different paragraphs with the same skeleton of at least two lower-case
    words (the rest names and figures), in one article or in two that are no reprints."""
    by_skeleton: Dict[Tuple[str, ...], List[Para]] = defaultdict(list)
    for p in paras:
        labels = skeleton(p.text)
        if len(labels) >= 2:
            by_skeleton[labels].append(p)
    candidates = []
    for group in by_skeleton.values():
        distinct = {normalised(p.text): p for p in group}
        if len(distinct) >= 2:
            candidates.append(sorted(distinct.values(), key=lambda p: p.id))
    pairs, seen = [], set()
    for _ in range(count * 20):
        if len(pairs) == count or not candidates:
            break
        a, b = rng.sample(rng.choice(candidates), 2)
        key = tuple(sorted((a.id, b.id)))
        if key in seen:
            continue
        seen.add(key)
        if is_copy(normalised(a.text), normalised(b.text)):
            skipped["template"] += 1
            continue
        if a.article != b.article and tuple(sorted((a.article, b.article))) in related:
            continue
        detail = "one article" if a.article == b.article else "two articles"
        pairs.append(Pair(0, "template", detail, a.source, a.id, a.text, b.id, b.text))
    return pairs


def stock_pairs(short: Sequence[Para], rng: random.Random, count: int,
                related: set) -> List[Pair]:
    """(d) The same short paragraph (2 words or more, under dedup.SHORT_WORDS) in two
    articles that share no paragraph otherwise."""
    by_text: Dict[str, List[Para]] = defaultdict(list)
    for p in short:
        found = dedup.words(p.text)
        if 2 <= len(found) < dedup.SHORT_WORDS:
            by_text[" ".join(found)].append(p)
    pairs = []
    for group in by_text.values():
        options = [(a, b) for i, a in enumerate(group) for b in group[i + 1:]
                   if a.article != b.article
                   and tuple(sorted((a.article, b.article))) not in related]
        if options:
            a, b = rng.choice(options)
            pairs.append(Pair(0, "stock", "", a.source, a.id, a.text, b.id, b.text))
    return rng.sample(pairs, min(count, len(pairs)))


def vocabulary_of(paras: Sequence[Para], rng: random.Random, size: int = 5000) -> List[str]:
    """Words of a sample of paragraphs, repeated as often as they occur (so common words are
    drawn more often, as in a real edit), numbers left out."""
    sample = rng.sample(list(paras), min(size, len(paras)))
    return [w for p in sample for w in dedup.words(p.text) if w.isalpha() and len(w) > 1]


def build_pairs(paras_by_source: Dict[str, List[Para]], short_by_source: Dict[str, List[Para]],
                rng: random.Random, count: int, pool_size: int,
                skipped: Dict[str, Counter], seed: int) -> List[Pair]:
    """All labelled pairs; ``skipped`` counts, per source, negatives passed over as copies."""
    pairs: List[Pair] = []
    related_by_source = {}
    for source, paras in paras_by_source.items():
        log(f"pairs from {source} ...")
        vocabulary = vocabulary_of(paras, rng)
        related = related_by_source[source] = reprinted_articles(paras)
        pairs += exact_pairs(paras, rng, count)
        pairs += derived_pairs(paras, rng, count, vocabulary)
        negatives = count * NEGATIVES_PER_POSITIVE_KIND
        pairs += same_article_pairs(paras, rng, negatives, skipped[source])
        pairs += same_topic_pairs(paras, rng, negatives, pool_size, related, skipped[source])
    templates = random.Random(seed + 1)  # the pairs above stay those of earlier runs
    for source, paras in paras_by_source.items():
        related = related_by_source[source]
        pairs += template_pairs(paras, templates, count, related, skipped[source])
        pairs += stock_pairs(short_by_source[source], templates, count, related)
    return pairs


# --- pairwise evaluation -----------------------------------------------------------------------


@dataclass
class Score:
    same_signature: bool
    big_enough: bool  # both have MIN_SHINGLES shingles or more
    similarity: float
    template: bool = False  # dedup.template_pair
    short: bool = False  # one has fewer than dedup.SHORT_WORDS words

    def matches(self, threshold: float, rules: bool = True) -> bool:
        """dedup's decision for paragraphs of unrelated articles: never a short one, equal
        signatures always, small sets never otherwise, templates never; ``rules=False``: by
        signature and similarity alone, as before the template and short-paragraph rules."""
        if rules and self.short:
            return False
        return self.same_signature or (
            self.big_enough and self.similarity >= threshold and not (rules and self.template))


def score_pairs(pairs: Sequence[Pair], n: int) -> List[Score]:
    cache: Dict[str, frozenset] = {}

    def shingles(text: str) -> frozenset:
        if text not in cache:
            cache[text] = dedup.shingles(text, n)
        return cache[text]

    scores = []
    for p in pairs:
        a, b = shingles(p.a_text), shingles(p.b_text)
        shortest = min(len(dedup.words(p.a_text)), len(dedup.words(p.b_text)))
        scores.append(Score(dedup.signature(p.a_text) == dedup.signature(p.b_text),
                            min(len(a), len(b)) >= dedup.MIN_SHINGLES, dedup.similarity(a, b),
                            dedup.template_pair(p.a_text, p.b_text),
                            shortest < dedup.SHORT_WORDS))
    return scores


@dataclass
class Metrics:
    tp: int
    fp: int
    fn: int
    small_tp: int
    small: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def small_recall(self) -> float:
        return self.small_tp / self.small if self.small else 0.0

    @staticmethod
    def f1(precision: float, recall: float) -> float:
        return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def metrics(pairs: Sequence[Pair], decided: Sequence[bool]) -> Metrics:
    tp = fp = fn = small_tp = small = 0
    for p, same in zip(pairs, decided):
        if p.label:
            tp, fn = tp + same, fn + (not same)
            if p.edit <= SMALL_EDIT:
                small, small_tp = small + 1, small_tp + same
        else:
            fp += same
    return Metrics(tp, fp, fn, small_tp, small)


# --- end to end --------------------------------------------------------------------------------


def end_to_end(pairs: Sequence[Pair], unrelated: Sequence[Para], n: int, threshold: float):
    """One find_groups call over every paragraph of the pairs plus unrelated ones."""
    texts: Dict[str, str] = {}
    for p in pairs:
        texts[p.a_id], texts[p.b_id] = p.a_text, p.b_text
    for u in unrelated:
        texts.setdefault(u.id, u.text)
    started = time.perf_counter()
    groups = dedup.find_groups(list(texts.items()), threshold=threshold, n=n)
    elapsed = time.perf_counter() - started
    return [groups[p.a_id] == groups[p.b_id] for p in pairs], len(texts), elapsed


# --- output ------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence], left: int = 1) -> str:
    """Plain aligned text: the first ``left`` columns left-aligned, the rest right-aligned."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        lines.append("  ".join(c.ljust(w) if i < left else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pct(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:.1f}" if denominator else "-"


def shorten(text: str, width: int = 220) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def show_pair(p: Pair, score: Score) -> str:
    what = POSITIVE_KINDS.get(p.kind) or NEGATIVE_KINDS[p.kind]
    extra = f", {100 * p.edit:.0f}% of words edited" if p.label and p.kind != "exact" else ""
    return (f"  [{p.source}] {what} {p.detail}{extra}, similarity {score.similarity:.2f}\n"
            f"    A {p.a_id}: {shorten(p.a_text)}\n    B {p.b_id}: {shorten(p.b_text)}")


def print_summary(paras_by_source, files, pairs, skipped) -> None:
    print("Data")
    for source, paras in paras_by_source.items():
        articles = len({p.article for p in paras})
        where = f"({BBC})"
        if source == "reuters":
            where = f"({REUTERS}/reut2-{files[0]:03d} .. reut2-{files[-1]:03d}.sgm)"
        print(f"  {source:8} {len(paras):6} paragraphs of >= {MIN_WORDS} words "
              f"in {articles} articles {where}")
    rows = []
    for kinds, label in ((POSITIVE_KINDS, 1), (NEGATIVE_KINDS, 0)):
        for kind, name in kinds.items():
            chosen = [p for p in pairs if p.kind == kind]
            by_source = Counter(p.source for p in chosen)
            if label and kind != "exact":
                median = f"{100 * statistics.median(p.edit for p in chosen):.1f}"
                small = pct(sum(p.edit <= SMALL_EDIT for p in chosen), len(chosen))
            elif kind == "same-topic":
                median, small = f"J={statistics.median(p.jaccard for p in chosen):.2f}", ""
            else:
                median, small = "", ""
            rows.append(["+" if label else "-", name, len(chosen), by_source["bbc"],
                         by_source["reuters"], median, small])
    print("\nLabelled pairs (median edit: % of words; for (b) negatives, median word Jaccard)")
    print(table(["", "kind", "pairs", "bbc", "reuters", "median edit", "% <=10% edit"], rows,
                left=2))
    print("Negatives passed over because one normalised text equals or contains the other "
          "(reuse, not a negative): " + ", ".join(
              f"{source} {kind} {n}" for source in skipped for kind, n in skipped[source].items()))


def print_pairwise(pairs: Sequence[Pair], results: Dict[Tuple[int, float], Metrics]) -> None:
    positives = sum(p.label for p in pairs)
    print(f"\nPairwise decision, {positives} positive and {len(pairs) - positives} negative pairs"
          f" (F1 uses recall over all positives; F1<=10% over the <=10%-edit ones)")
    rows = []
    for (n, t), m in results.items():
        rows.append([n, t, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.small_recall:.3f}",
                     f"{Metrics.f1(m.precision, m.recall):.3f}",
                     f"{Metrics.f1(m.precision, m.small_recall):.3f}", m.fp, m.fn])
    print(table(["n", "t", "precision", "recall", "rec<=10%", "F1", "F1<=10%", "FP", "FN"],
                rows, left=0))


def best_setting(results: Dict[Tuple[int, float], Metrics],
                 recall: Callable[[Metrics], float]) -> Tuple[int, float]:
    """Highest F1 (with the given recall) among settings with precision >= MIN_PRECISION;
    ties go to the more precise one."""
    allowed = [k for k, m in results.items() if m.precision >= MIN_PRECISION] or list(results)
    return max(allowed, key=lambda k: (Metrics.f1(results[k].precision, recall(results[k])),
                                       results[k].precision))


def print_end_to_end(pairs: Sequence[Pair], scores: Dict[int, List[Score]],
                     unrelated: Sequence[Para], settings: Sequence[Tuple[int, float]]) -> None:
    """find_groups differs from the pairwise decision where candidate generation drops a pair
    (stock-phrase shingles) or where union-find joins two paragraphs through a third."""
    rows, joined_example = [], None
    earlier = [i for i, p in enumerate(pairs) if p.kind not in NEW_KINDS]
    for n, t in settings:
        log(f"find_groups n={n} t={t} ...")
        same, count, elapsed = end_to_end(pairs, unrelated, n, t)
        pairwise = [s.matches(t) for s in scores[n]]
        lost = sum(p.label and w and not s for p, w, s in zip(pairs, pairwise, same))
        joined = [i for i, (p, w, s) in enumerate(zip(pairs, pairwise, same))
                  if not p.label and s and not w]
        if joined and joined_example is None:
            joined_example = (n, t, joined[0])
        for name, chosen in (("", range(len(pairs))), (", earlier pairs", earlier)):
            m = metrics([pairs[i] for i in chosen], [same[i] for i in chosen])
            rows.append([f"n={n} t={t}{name}", count, f"{elapsed:.2f}", f"{m.precision:.3f}",
                         f"{m.recall:.3f}", f"{m.small_recall:.3f}",
                         f"{Metrics.f1(m.precision, m.recall):.3f}", m.fp, m.fn,
                         lost if not name else "", len(joined) if not name else ""])
    print(f"\nEnd to end: one find_groups call over all paragraphs of the pairs + "
          f"{len(unrelated)} unrelated ones")
    print(table(["setting", "paragraphs", "seconds", "precision", "recall", "rec<=10%", "F1",
                 "FP", "FN", "pos lost vs pairwise", "neg joined vs pairwise"], rows))
    if joined_example:
        n, t, i = joined_example
        print(f"A negative joined through other paragraphs at n={n} t={t}:")
        print(show_pair(pairs[i], scores[n][i]))


def setting_name(setting: Tuple[int, float]) -> str:
    return f"n={setting[0]} t={setting[1]}"


def print_per_kind(pairs: Sequence[Pair], decided: Dict[str, List[bool]]) -> None:
    """Positives: % grouped; negatives: % kept apart; for each kind and each of its variants."""
    rows = []
    for kinds, label in ((POSITIVE_KINDS, 1), (NEGATIVE_KINDS, 0)):
        for kind, name in kinds.items():
            index = [i for i, p in enumerate(pairs) if p.kind == kind]
            variants = sorted({pairs[i].detail for i in index})
            for variant in [None] + (variants if len(variants) > 1 else []):
                these = [i for i in index if variant is None or pairs[i].detail == variant]
                small = sum(pairs[i].edit <= SMALL_EDIT for i in these) if label else ""
                row = [name if variant is None else "", variant or "", len(these), small]
                for same in decided.values():
                    row.append(pct(sum(same[i] == bool(label) for i in these), len(these)))
                rows.append(row)
    print("\nPer kind (pairwise decision): % of positives grouped, % of negatives kept apart")
    print(table(["kind", "variant", "pairs", "<=10%"] + list(decided), rows, left=2))


def print_by_edit(pairs: Sequence[Pair], decided: Dict[str, List[bool]]) -> None:
    bins = [(0, 0.05), (0.05, 0.10), (0.10, 0.20), (0.20, 0.50), (0.50, None)]
    rows = []
    for low, high in bins:
        index = [i for i, p in enumerate(pairs) if p.label and p.kind != "exact"
                 and (low < p.edit or p.edit == low == 0) and (high is None or p.edit <= high)]
        row = [f"{100 * low:.0f}-{100 * high:.0f}%" if high else f">{100 * low:.0f}%",
               len(index)]
        rows.append(row + [pct(sum(same[i] for i in index), len(index))
                           for same in decided.values()])
    print("\nRecall of edited copies by fraction of words edited (pairwise decision)")
    print(table(["edited", "pairs"] + list(decided), rows))


def print_failures(pairs: Sequence[Pair], scores: Dict[int, List[Score]],
                   settings: Sequence[Tuple[int, float]]) -> None:
    """What no setting of the grid gets right, then the worst errors at each setting."""
    lenient, strict = min(THRESHOLDS), max(THRESHOLDS)
    never = [i for i, p in enumerate(pairs)
             if p.label and not any(scores[n][i].matches(lenient) for n in SHINGLE_SIZES)]
    always = [i for i, p in enumerate(pairs)
              if not p.label and all(scores[n][i].matches(strict) for n in SHINGLE_SIZES)]
    n = dedup.SHINGLE_WORDS  # similarities shown are at dedup's shingle size
    print(f"\nPositives missed at every (n, t) of the grid: {len(never)} "
          f"{dict(Counter(pairs[i].kind for i in never))}")
    for i in sorted(never, key=lambda i: pairs[i].edit)[:2]:
        print(show_pair(pairs[i], scores[n][i]))
    print(f"Negatives grouped at every (n, t) of the grid: {len(always)} "
          f"{dict(Counter(pairs[i].kind for i in always))}")
    for i in always[:2]:
        print(show_pair(pairs[i], scores[n][i]))
    for n, t in settings:
        at = scores[n]
        misses = sorted((i for i, p in enumerate(pairs)
                         if p.label and p.edit <= SMALL_EDIT and not at[i].matches(t)),
                        key=lambda i: at[i].similarity)
        wrong = sorted((i for i, p in enumerate(pairs) if not p.label and at[i].matches(t)),
                       key=lambda i: -at[i].similarity)
        print(f"\nAt n={n} t={t}: {len(misses)} copies with <=10% edits missed"
              + (", e.g." if misses else ""))
        for i in misses[:2]:
            print(show_pair(pairs[i], at[i]))
        print(f"At n={n} t={t}: {len(wrong)} negatives grouped "
              f"{dict(Counter(pairs[i].kind for i in wrong))}" + (", e.g." if wrong else ""))
        for i in wrong[:3]:
            print(show_pair(pairs[i], at[i]))


NEW_KINDS = ("template", "stock")  # the negatives added with the template rules


def print_rules(pairs: Sequence[Pair], scores: Sequence[Score], threshold: float) -> None:
    """The default setting by similarity alone and with the template and short-paragraph
    rules, on the pairs of earlier runs and on all pairs."""
    rows = []
    earlier = [i for i, p in enumerate(pairs) if p.kind not in NEW_KINDS]
    for name, chosen in (("earlier pairs", earlier), ("all pairs", range(len(pairs)))):
        subset = [pairs[i] for i in chosen]
        for rule, rules in (("similarity alone", False), ("with the rules", True)):
            m = metrics(subset, [scores[i].matches(threshold, rules) for i in chosen])
            rows.append([rule, name, len(subset), f"{m.precision:.3f}", f"{m.recall:.3f}",
                         f"{m.small_recall:.3f}", m.fp, m.fn])
    print(f"\nTemplate and short-paragraph rules at n={dedup.SHINGLE_WORDS} t={threshold} "
          f"(pairwise; earlier pairs: all but (c) and (d))")
    print(table(["rule", "pairs", "n", "precision", "recall", "rec<=10%", "FP", "FN"], rows,
                left=2))


def parse_setting(text: str) -> Tuple[int, float]:
    n, t = text.split(",")
    return int(n), float(t)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sample", type=int, default=200,
                        help="positive pairs per kind and source (negatives: 3x per kind)")
    parser.add_argument("--pool", type=int, default=5000,
                        help="paragraphs searched for each source's closest-paragraph negatives")
    parser.add_argument("--unrelated", type=int, default=2000,
                        help="unrelated paragraphs per source added to the end-to-end run")
    parser.add_argument("--reuters-files", type=int, default=22,
                        help="read reut2-000.sgm .. reut2-(K-1).sgm")
    parser.add_argument("--also", type=parse_setting, action="append", default=[],
                        metavar="N,T", help="another setting to report in detail, e.g. 3,0.6")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    started = time.perf_counter()

    log("reading BBC ...")
    files = list(range(min(args.reuters_files, 22)))
    paras_by_source, short_by_source = {}, {}
    paras_by_source["bbc"], short_by_source["bbc"] = load_bbc()
    log("reading Reuters ...")
    paras_by_source["reuters"], short_by_source["reuters"] = load_reuters(
        [REUTERS / f"reut2-{i:03d}.sgm" for i in files])
    skipped: Dict[str, Counter] = defaultdict(Counter)
    pairs = build_pairs(paras_by_source, short_by_source, rng, args.sample, args.pool, skipped,
                        args.seed)
    print(f"dedup_quality  seed={args.seed} sample={args.sample} pool={args.pool} "
          f"unrelated={args.unrelated}/source  dedup defaults: n={dedup.SHINGLE_WORDS} "
          f"t={dedup.DEFAULT_THRESHOLD} MIN_SHINGLES={dedup.MIN_SHINGLES} "
          f"COMMON_SHINGLE={dedup.COMMON_SHINGLE} SHORT_WORDS={dedup.SHORT_WORDS}\n")
    print_summary(paras_by_source, files, pairs, skipped)

    # 1. Pairwise: every (n, t) of the grid on the same pairs.
    log("pairwise scores ...")
    scores = {n: score_pairs(pairs, n) for n in SHINGLE_SIZES}
    results: Dict[Tuple[int, float], Metrics] = {
        (n, t): metrics(pairs, [s.matches(t) for s in scores[n]])
        for n in SHINGLE_SIZES for t in THRESHOLDS
    }
    print_pairwise(pairs, results)
    default = (dedup.SHINGLE_WORDS, dedup.DEFAULT_THRESHOLD)
    best = best_setting(results, lambda m: m.recall)
    best_small = best_setting(results, lambda m: m.small_recall)
    for n, t in [default] + args.also:  # settings off the grid
        if n not in scores:
            scores[n] = score_pairs(pairs, n)
        if (n, t) not in results:
            results[(n, t)] = metrics(pairs, [s.matches(t) for s in scores[n]])
    for name, key in (("best F1", best), ("best F1<=10%", best_small), ("dedup default",
                                                                          default)):
        m = results[key]
        print(f"{name:14} {setting_name(key)}: precision {m.precision:.3f}, recall "
              f"{m.recall:.3f}, recall<=10% {m.small_recall:.3f}, F1 "
              f"{Metrics.f1(m.precision, m.recall):.3f}, F1<=10% "
              f"{Metrics.f1(m.precision, m.small_recall):.3f}")
    settings = list(dict.fromkeys([default, best, best_small] + args.also))
    print_rules(pairs, scores[default[0]], default[1])

    # 2. End to end: find_groups over the pairs' paragraphs and unrelated ones (those of
    # earlier runs: the template and stock pairs' paragraphs may be drawn again).
    in_pairs = {i for p in pairs if p.kind not in NEW_KINDS for i in (p.a_id, p.b_id)}
    unrelated = []
    for paras in paras_by_source.values():
        free = [p for p in paras if p.id not in in_pairs]
        unrelated += rng.sample(free, min(args.unrelated, len(free)))
    print_end_to_end(pairs, scores, unrelated, settings)

    # 3. Per kind and per amount of editing, at each setting reported in detail.
    decided = {setting_name(k): [s.matches(k[1]) for s in scores[k[0]]] for k in settings}
    decided[f"{setting_name(default)} similarity alone"] = [
        s.matches(default[1], rules=False) for s in scores[default[0]]]
    print_per_kind(pairs, decided)
    print_by_edit(pairs, decided)
    print_failures(pairs, scores, settings)
    print(f"\nTotal time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
