"""Near-duplicate paragraphs: the same paragraph reprinted with small edits.

Pure functions, no Whoosh. A paragraph's shingles are its word 3-grams after normalisation
(lower case, quote marks and punctuation dropped). Two paragraphs are near
duplicates when their shared shingles cover ``threshold`` of the shorter one, counted against at
least half the longer one: a dateline, credit, lead-in or tail added, or a sentence cut, keeps a
copy whole; a single sentence reused inside a long paragraph is not a copy. Groups are the
connected components of that relation, keyed by their smallest paragraph id, so that they depend
only on which paragraphs exist, never on the order they were indexed in.

Candidates come from an inverted index of word 4-grams, and are verified exactly (no
sampling, so no pair above the threshold is missed by chance; bench/dedup_quality.py found no
copy lost to candidate selection). 4-grams shared by more than ``COMMON_SHINGLE`` paragraphs
are stock phrases and propose no candidates; copies made of nothing else still meet through
their exact signature. A paragraph's candidates are verified most shared 4-grams first, at most
``MAX_CANDIDATES`` of them: a copy shares far more 4-grams than chance does, and text made of a
few words over and over gives every paragraph thousands of chance partners, which verified
pair by pair took minutes and gigabytes. The work is then linear in the paragraphs' words.
"""

import gc
import hashlib
import re
import unicodedata
from array import array
from collections import Counter, defaultdict
from itertools import chain
from typing import Dict, FrozenSet, Iterable, List, Sequence, Tuple

SHINGLE_WORDS = 3
# Candidates are proposed by shared word 4-grams: rarer than 3-grams, so far fewer chance pairs
# to verify, and a copy with up to ~10% of its words changed still shares several.
CANDIDATE_WORDS = 4
DEFAULT_THRESHOLD = 0.6  # chosen by bench/dedup_quality.py (see README)
MIN_SHINGLES = 3  # shorter paragraphs group only with exact copies
COMMON_SHINGLE = 32
MAX_CANDIDATES = 32  # per paragraph; ordinary news has a handful (see candidates())

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
    # In id order: the candidates chosen, so the groups, never depend on the order given.
    paragraphs = sorted(paragraphs, key=lambda paragraph: paragraph[0])
    ids = [pid for pid, _ in paragraphs]
    parent = list(range(len(ids)))

    def join(i: int, j: int) -> None:
        ri, rj = _root(parent, i), _root(parent, j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    # Shingles and anchors are kept as arrays of their hashes (8 bytes each, a frozenset of
    # Python ints takes ~50), a paragraph's set made only while its candidates are verified.
    common: Dict[str, str] = {}  # one string object per distinct word, not one per occurrence
    exact: Dict[int, int] = {}  # hash of the normalised text -> its first paragraph
    shingle_hashes, anchor_hashes = [], []
    for i, (_, text) in enumerate(paragraphs):
        found = [common.setdefault(w, w) for w in words(text)]
        first = exact.setdefault(hash(" ".join(found)), i)  # exact copies (see signature())
        if first != i:
            join(first, i)
        own = _ngrams(found, n)
        shingle_hashes.append(array("q", own))
        anchor_hashes.append(array("q", _ngrams(found, CANDIDATE_WORDS) or own))
    del common, exact

    for i, partners in candidates(anchor_hashes):
        mine = frozenset(shingle_hashes[i])
        if len(mine) < MIN_SHINGLES:
            continue
        for j in partners:
            theirs = shingle_hashes[j]
            if len(theirs) >= MIN_SHINGLES and _root(parent, i) != _root(parent, j) and (
                _similarity(mine, theirs) >= threshold
            ):
                join(i, j)

    # A group's root is its first member (join keeps the smaller index): its smallest id.
    return {ids[i]: ids[_root(parent, i)] for i in range(len(ids))}


def _similarity(mine: Shingles, theirs: Sequence[int]) -> float:
    """similarity() of a set and the distinct elements of another."""
    shorter, longer = sorted((len(mine), len(theirs)))
    return len(mine.intersection(theirs)) / max(shorter, longer / 2)


def candidates(sets: Sequence[Sequence[int]],
               most: int = MAX_CANDIDATES) -> Iterable[Tuple[int, List[int]]]:
    """For each set i that has any, the sets to verify it against, so that each pair is verified
    once: those among the ``most`` sets sharing the most elements with i (the earliest first
    among equal counts), and those that chose i so; elements held by more than
    ``COMMON_SHINGLE`` sets (stock phrases) count for nothing."""
    shared_by: Dict[int, List[List[int]]] = defaultdict(list)  # set -> holders of its elements
    for holders in _postings(sets):
        for i in holders:
            shared_by[i].append(holders)
    cut: Dict[int, FrozenSet[int]] = {}  # the partners chosen by sets with too many
    for i in sorted(shared_by):
        lists = shared_by.pop(i)
        if sum(map(len, lists)) - len(lists) <= most:  # each list holds i once
            chosen = set(chain.from_iterable(lists))
            chosen.discard(i)
        else:
            shared = Counter(chain.from_iterable(lists))
            del shared[i]
            chosen = set(shared)
            if len(chosen) > most:
                ranked = sorted(chosen)
                ranked.sort(key=shared.__getitem__, reverse=True)  # stable: equal counts in order
                chosen = cut[i] = frozenset(ranked[:most])
        # A set before i that kept all its partners was verified against i already.
        partners = [j for j in chosen if j > i or (j in cut and i not in cut[j])]
        if partners:
            yield i, partners


def _postings(sets: Sequence[Sequence[int]]) -> List[List[int]]:
    """For each element held by 2 to ``COMMON_SHINGLE`` sets, the sets holding it."""
    held = Counter(chain.from_iterable(sets))  # counted in C; most elements are held once
    postings: Dict[int, List[int]] = {e: [] for e, n in held.items() if 1 < n <= COMMON_SHINGLE}
    del held
    for i, elements in enumerate(sets):
        for element in filter(postings.__contains__, elements):
            postings[element].append(i)
    return list(postings.values())
