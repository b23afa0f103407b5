"""Near-duplicate paragraphs: the same paragraph reprinted with small edits.

Pure functions, no Whoosh. A paragraph's shingles are the hashes of its word 3-grams after
normalisation (lower case, quote marks and punctuation dropped). Two paragraphs are near
duplicates when their shared shingles cover ``threshold`` of the shorter one, counted against at
least half the longer one: a dateline, credit, lead-in or tail added, or a sentence cut, keeps a
copy whole; a single sentence reused inside a long paragraph is not a copy. Groups are the
connected components of that relation, keyed by their smallest paragraph id, so that they depend
only on which paragraphs exist, never on the order they were indexed in.

Candidate pairs come from an inverted index of shingles, each verified exactly (no sampling, so no
pair above the threshold is missed by chance). Shingles shared by more than ``COMMON_SHINGLE``
paragraphs are stock phrases and do not propose candidates; copies made of nothing else still
meet through their exact signature.
"""

import hashlib
import re
import unicodedata
import zlib
from collections import Counter, defaultdict
from typing import Dict, FrozenSet, Iterable, List, Sequence, Tuple

SHINGLE_WORDS = 3
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
    """Hashes of the paragraph's word n-grams."""
    found = words(text)
    return frozenset(
        zlib.crc32(" ".join(found[i : i + n]).encode()) for i in range(len(found) - n + 1)
    )


def similarity(a: Shingles, b: Shingles) -> float:
    """Shared shingles over the shorter paragraph's, or over half the longer one's if more."""
    if not a or not b:
        return 0.0
    shorter, longer = sorted((len(a), len(b)))
    return len(a & b) / max(shorter, longer / 2)


def _root(parent: Dict[int, int], i: int) -> int:
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
    ids = [pid for pid, _ in paragraphs]
    parent = {i: i for i in range(len(ids))}

    def join(i: int, j: int) -> None:
        ri, rj = _root(parent, i), _root(parent, j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    by_signature: Dict[str, int] = {}
    for i, (_, text) in enumerate(paragraphs):
        first = by_signature.setdefault(signature(text), i)
        if first != i:
            join(first, i)

    sets = [shingles(text, n) for _, text in paragraphs]
    for i, j in candidate_pairs(sets):
        if min(len(sets[i]), len(sets[j])) >= MIN_SHINGLES and (
            similarity(sets[i], sets[j]) >= threshold
        ):
            join(i, j)

    members: Dict[int, List[int]] = defaultdict(list)
    for i in range(len(ids)):
        members[_root(parent, i)].append(i)
    groups = {}
    for indexes in members.values():
        key = min(ids[i] for i in indexes)
        groups.update((ids[i], key) for i in indexes)
    return groups


def candidate_pairs(sets: Sequence[Shingles]) -> Iterable[Tuple[int, int]]:
    """Pairs (i, j), i < j, that share at least one shingle that is not a stock phrase."""
    frequency = Counter(s for shingle_set in sets for s in shingle_set)
    postings: Dict[int, List[int]] = defaultdict(list)
    for i, shingle_set in enumerate(sets):
        for s in shingle_set:
            if 1 < frequency[s] <= COMMON_SHINGLE:
                postings[s].append(i)
    seen = set()
    for holders in postings.values():
        for a, i in enumerate(holders):
            for j in holders[a + 1 :]:
                if (i, j) not in seen:
                    seen.add((i, j))
                    yield i, j
