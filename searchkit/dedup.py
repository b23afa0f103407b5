"""Near-duplicate paragraphs: the same paragraph reprinted with small edits.

Pure functions, no Whoosh. A paragraph's shingles are its word 3-grams after normalisation
(lower case, quote marks and punctuation dropped). Two paragraphs are near
duplicates when their shared shingles cover ``threshold`` of the shorter one, counted against at
least half the longer one: a dateline, credit, lead-in or tail added, or a sentence cut, keeps a
copy whole; a single sentence reused inside a long paragraph is not a copy. Groups are the
connected components of that relation, keyed by their smallest paragraph id, so that they depend
only on which paragraphs exist, never on the order they were indexed in.

Candidate pairs come from an inverted index of word 4-grams, each pair verified exactly (no
sampling, so no pair above the threshold is missed by chance; bench/dedup_quality.py found no
copy lost to candidate selection). 4-grams shared by more than ``COMMON_SHINGLE`` paragraphs
are stock phrases and propose no candidates; copies made of nothing else still meet through
their exact signature.
"""

import gc
import hashlib
import re
import unicodedata
from collections import defaultdict
from typing import Dict, FrozenSet, Iterable, List, Sequence, Tuple

SHINGLE_WORDS = 3
# Candidates are proposed by shared word 4-grams: rarer than 3-grams, so far fewer chance pairs
# to verify, and a copy with up to ~10% of its words changed still shares several.
CANDIDATE_WORDS = 4
DEFAULT_THRESHOLD = 0.6  # chosen by bench/dedup_quality.py (see README)
MIN_SHINGLES = 3  # shorter paragraphs group only with exact copies
COMMON_SHINGLE = 32

_WORD = re.compile(r"\w+")
_APOSTROPHES = re.compile(r"['’‘`´]")

Shingles = FrozenSet[int]


def words(text: str) -> List[str]:
    """Lower-case words, quote marks and punctuation gone ("Lukashenko’s" -> "lukashenkos")."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _WORD.findall(_APOSTROPHES.sub("", text))


def signature(text: str) -> str:
    """Equal for paragraphs that differ only in case, punctuation, quote marks and spacing."""
    return hashlib.blake2b(" ".join(words(text)).encode(), digest_size=8).hexdigest()


def shingles(text: str, n: int = SHINGLE_WORDS) -> Shingles:
    """The paragraph's word n-grams, hashed (so only compared within one process)."""
    return _ngrams(words(text), n)


def _ngrams(found: List[str], n: int) -> Shingles:
    # Hashes of the n-gram tuples: half the memory of the tuples (a 50 MB file's shingles took
    # gigabytes), and within one process two n-grams share a hash only by a 2**-64 chance.
    return frozenset(map(hash, zip(*(found[i:] for i in range(n)))))


def similarity(a: Shingles, b: Shingles) -> float:
    """Shared shingles over the shorter paragraph's, or over half the longer one's if more."""
    if not a or not b:
        return 0.0
    shorter, longer = sorted((len(a), len(b)))
    return len(a & b) / max(shorter, longer / 2)


def _root(parent: List[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def find_groups(
    paragraphs: Sequence[Tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
    n: int = SHINGLE_WORDS,
) -> Dict[str, str]:
    """Map each paragraph id of ``(id, text)`` pairs to its group key (the smallest id in its
    group; a paragraph without near duplicates is its own group)."""
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived tuples, no cycles: collection would double the time
    try:
        return _find_groups(paragraphs, threshold, n)
    finally:
        if collecting:
            gc.enable()


def _find_groups(paragraphs, threshold: float, n: int) -> Dict[str, str]:
    ids = [pid for pid, _ in paragraphs]
    parent = list(range(len(ids)))

    def join(i: int, j: int) -> None:
        ri, rj = _root(parent, i), _root(parent, j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    common: Dict[str, str] = {}  # one string object per distinct word, not one per occurrence
    tokens = [[common.setdefault(w, w) for w in words(text)] for _, text in paragraphs]
    first_with_text: Dict[str, int] = {}
    for i, found in enumerate(tokens):  # exact copies (what signature() tells apart)
        first = first_with_text.setdefault(" ".join(found), i)
        if first != i:
            join(first, i)

    sets = [_ngrams(found, n) for found in tokens]
    anchors = [_ngrams(found, CANDIDATE_WORDS) or sets[i] for i, found in enumerate(tokens)]
    for i, j in candidate_pairs(anchors):
        if min(len(sets[i]), len(sets[j])) >= MIN_SHINGLES and (
            similarity(sets[i], sets[j]) >= threshold
        ):
            join(i, j)

    key_of: Dict[int, str] = {}
    for i in range(len(ids)):  # ids[i] may come in any order: the key is the group's smallest
        root = _root(parent, i)
        key_of[root] = min(key_of.get(root, ids[i]), ids[i])
    return {ids[i]: key_of[_root(parent, i)] for i in range(len(ids))}


def candidate_pairs(sets: Sequence[FrozenSet]) -> Iterable[Tuple[int, int]]:
    """Pairs (i, j), i < j, that share at least one element that is not a stock phrase (held by
    more than ``COMMON_SHINGLE`` sets)."""
    first: Dict[object, int] = {}  # element -> its first holder (most elements have only one)
    postings: Dict[object, List[int]] = defaultdict(list)  # elements held more than once
    for i, elements in enumerate(sets):
        for element in elements:
            holder = first.setdefault(element, i)
            if holder != i:
                holders = postings[element]
                if not holders:
                    holders.append(holder)
                holders.append(i)
    del first
    seen = set()
    for holders in postings.values():
        if len(holders) > COMMON_SHINGLE:
            continue
        for a, i in enumerate(holders):
            for j in holders[a + 1 :]:
                if (i, j) not in seen:
                    seen.add((i, j))
                    yield i, j
