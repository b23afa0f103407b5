"""Near-duplicate paragraphs: the same paragraph reprinted with small edits.

Pure functions, no Whoosh. A paragraph's shingles are its word 3-grams after normalisation
(lower case, quote marks and punctuation dropped). Two paragraphs are near
duplicates when their shared shingles cover ``threshold`` of the shorter one, counted against at
least half the longer one: a dateline, credit, lead-in or tail added, or a sentence cut, keeps a
copy whole; a single sentence reused inside a long paragraph is not a copy. The connected
components of that relation are split into stars (``stars``): each group is a paragraph (the
earliest printing left) and the paragraphs alike to it, keyed by their smallest paragraph id,
so that groups depend only on which paragraphs exist, never on the order they were indexed in.

Candidates come from an inverted index of word 4-grams, and are verified exactly (no
sampling, so no pair above the threshold is missed by chance; bench/dedup_quality.py found no
copy lost to candidate selection). 4-grams shared by more than ``COMMON_SHINGLE`` paragraphs
are stock phrases and propose no candidates; copies made of nothing else still meet through
their exact signature. A paragraph's candidates are verified most shared 4-grams first, at most
``MAX_CANDIDATES`` of them: a copy shares far more 4-grams than chance does, and text made of a
few words over and over gives every paragraph thousands of chance partners, which verified
pair by pair took minutes and gigabytes. The work is then linear in the paragraphs' words.

Paragraphs that share a template, not a text, are kept apart (``template_pair``): two list
items ("Tim Dams, Screen: Film - The Aviator; director - ..."), line-ups or other label lists
are copies only when one holds the other whole (a dateline added); paragraphs whose figures
were replaced ("Shr loss 75 cts vs loss 1.36 dlrs" / "... 12 cts vs loss 1.78 dlrs"), or a
figure and a name ("Shares of Vantec rose 5.1%" / "Shares of Orimo rose 3.9%"), are
different reports. A paragraph of fewer than ``SHORT_WORDS`` words ("The case continues.",
"2000 GMT") says too little to be a reprint by itself: it groups only with a copy in an
article that shares a longer copy with its own, i.e. when the story around it was reprinted.
"""

import difflib
import hashlib
import re
import unicodedata
from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from itertools import chain
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..config import DEFAULT_DEDUP_THRESHOLD
from .listing import UNDATED, listing_order
from .workers import no_garbage_collection

SHINGLE_WORDS = 3
# Candidates are proposed by shared word 4-grams: rarer than 3-grams, so far fewer chance pairs
# to verify, and a copy with up to ~10% of its words changed still shares several.
CANDIDATE_WORDS = 4
DEFAULT_THRESHOLD = DEFAULT_DEDUP_THRESHOLD
MIN_SHINGLES = 3  # shorter paragraphs group only with exact copies
COMMON_SHINGLE = 32
MAX_CANDIDATES = 32  # per paragraph; ordinary news has a handful (see candidates())
SHORT_WORDS = 8  # fewer words: grouped only along with a longer copy of the same story
# A list: at least LIST_SEPARATORS semicolons, colons or spaced dashes, one per at most
# LIST_WORDS_PER_SEPARATOR words, or with commas counted too, twice as many marks twice as
# densely (a line-up); prose has far fewer.
LIST_SEPARATORS = 3
LIST_WORDS_PER_SEPARATOR = 6
_SEPARATOR = re.compile(r"[;:|]|\s[-–—]\s")

_WORD = re.compile(r"\w+")
_AROUND_WORDS = "\"'“”‘’()[]{}«»,;.!?:-–—"  # what a name's token may carry around it
_CLOSING = "\"'”’)]»"  # what may follow a sentence's last mark
_REPLACED_WORDS = 3  # a name or figure replaced in place, not a sentence cut or a dateline
_RESPELT = 0.6  # two names this alike (difflib's ratio) are one name spelt two ways
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december".split())
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


def is_list(text: str, word_count: int) -> bool:
    """Whether a paragraph of ``word_count`` words is a list of labels and values (a
    critic's picks, a line-up, a table row) rather than prose."""
    separators = len(_SEPARATOR.findall(text))
    if separators >= LIST_SEPARATORS and word_count <= LIST_WORDS_PER_SEPARATOR * separators:
        return True
    marks = separators + text.count(",")
    return marks >= 2 * LIST_SEPARATORS and word_count <= LIST_WORDS_PER_SEPARATOR // 2 * marks


def figures(found: Sequence[str]) -> Tuple[str, ...]:
    """The words of a paragraph that hold digits, sorted."""
    # (a word of letters alone is told at once, without a look at each of its characters)
    return tuple(sorted(w for w in found if not w.isalpha() and any(map(str.isdigit, w))))


def figures_replaced(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two paragraphs' figures (``figures``) differ by at least two replaced, and by
    half the figures of the one with fewer: another report on the same template, not a copy.
    (A dateline or a cut adds or drops figures on one side only; a reprint may update one.)"""
    only_a, only_b = Counter(a), Counter(b)
    only_a.subtract(b)
    only_b.subtract(a)
    replaced = min(sum(n for n in only_a.values() if n > 0), sum(n for n in only_b.values()
                                                                 if n > 0))
    return replaced >= 2 and 2 * replaced >= min(len(a), len(b))


def _lists_differ(a: Sequence[str], b: Sequence[str]) -> bool:
    """Two lists' words, neither holding the other whole (a dateline or credit added to a list
    keeps it a copy; another critic's picks are not)."""
    a, b = f" {' '.join(a)} ", f" {' '.join(b)} "
    return a not in b and b not in a


def _marked_words(text: str) -> Tuple[List[str], List[bool], List[bool]]:
    """A paragraph's words (lower case, without the marks around them) and, for each,
    whether it is a name (capitalised, not starting a sentence, no day or month) and whether
    it is a figure (holds a digit)."""
    found, name, figure, starts = [], [], [], True
    for token in text.split():
        word = token.strip(_AROUND_WORDS)
        found.append(_APOSTROPHES.sub("", word.lower()))  # (as ``words`` drops them)
        name.append(not starts and word[:1].isupper() and word.lower() not in _CALENDAR)
        figure.append(any(map(str.isdigit, word)))
        starts = token.rstrip(_CLOSING).endswith((".", "!", "?", ":"))
    return found, name, figure


def _capitalised(text: str) -> set:
    return {w for w in _WORD.findall(text) if w[0].isupper()}


def subject_replaced(a: str, b: str, figures_a: Sequence[str], figures_b: Sequence[str]) -> bool:
    """Whether a name and a figure were both replaced in place, each by a few words holding
    another ("Shares of Vantec rose 5.1%" / "Shares of Orimo rose 3.9%"): the same template
    filled in for another subject. (A reprint that updates a figure keeps its names, one
    that corrects a name keeps its figures; a dateline added and a sentence cut replace
    nothing in place.) ``figures_a`` and ``figures_b``: ``figures`` of each."""
    if not (Counter(figures_a) - Counter(figures_b) and Counter(figures_b) - Counter(figures_a)):
        return False  # (most copies: no figure replaced, and no words to align)
    capitals_a, capitals_b = _capitalised(a), _capitalised(b)
    if not (capitals_a - capitals_b and capitals_b - capitals_a):
        return False  # (nor a name)
    if b < a:  # (an alignment may differ with the sides swapped: a pair's decision may not)
        a, b = b, a
    wa, name_a, figure_a = _marked_words(a)
    wb, name_b, figure_b = _marked_words(b)
    name = figure = False
    matcher = difflib.SequenceMatcher(None, wa, wb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and max(i2 - i1, j2 - j1) <= _REPLACED_WORDS:
            name = name or _another_name([w for w, n in zip(wa[i1:i2], name_a[i1:i2]) if n],
                                         [w for w, n in zip(wb[j1:j2], name_b[j1:j2]) if n])
            figure = figure or any(figure_a[i1:i2]) and any(figure_b[j1:j2])
    return name and figure


def _another_name(old: List[str], new: List[str]) -> bool:
    """Whether names were replaced by others, not respelt ("Jupiter" / "Juniper", "Labour's"
    / "Labour": a reprint's correction)."""
    return bool(old and new) and all(
        difflib.SequenceMatcher(None, a, b).ratio() < _RESPELT for a in old for b in new)


def template_pair(a: str, b: str) -> bool:
    """Whether two different paragraphs share a template rather than a text (see the module
    docstring): two lists, figures replaced, or a figure and a name. Exact copies are never a
    template pair."""
    if a == b:  # (the words of a reprint need not be found to know it)
        return False
    wa, wb = words(a), words(b)
    if wa == wb:
        return False
    return _filled_in_twice(a, b, wa if is_list(a, len(wa)) else None,
                            wb if is_list(b, len(wb)) else None, figures(wa), figures(wb))


def _filled_in_twice(a: str, b: str, list_a, list_b, figures_a, figures_b) -> bool:
    """``template_pair`` of two different paragraphs from what their words give: each one's
    words if it is a list (else None), and its figures (``find_groups`` keeps both)."""
    return (list_a is not None and list_b is not None and _lists_differ(list_a, list_b)
            or figures_replaced(figures_a, figures_b)
            or subject_replaced(a, b, figures_a, figures_b))


def near_duplicates(a: str, b: str, threshold: float = DEFAULT_THRESHOLD,
                    n: int = SHINGLE_WORDS, stories_related: bool = False) -> bool:
    """The decision ``find_groups`` makes for one pair of paragraphs of different articles;
    ``stories_related``: the two articles share a longer copy (what short paragraphs need)."""
    wa, wb = words(a), words(b)
    if min(len(wa), len(wb)) < SHORT_WORDS and not stories_related:
        return False
    if wa == wb:
        return True
    sa, sb = _ngrams(wa, n), _ngrams(wb, n)
    return (min(len(sa), len(sb)) >= MIN_SHINGLES and similarity(sa, sb) >= threshold
            and not template_pair(a, b))


def _root(parent: List[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def find_groups(
    paragraphs: Sequence[Tuple[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
    n: int = SHINGLE_WORDS,
    dates: Optional[Mapping[str, int]] = None,
) -> Dict[str, str]:
    """Map each paragraph id of ``(id, text)`` pairs to its group key (the smallest id in its
    group; a paragraph without near duplicates is its own group). ``dates``: paragraph id ->
    its article's day (``listing.day_number``), which orders the paragraphs that lead groups
    (``stars``); those it lacks are undated."""
    with no_garbage_collection():  # millions of short-lived tuples: it would double the time
        return _find_groups(paragraphs, threshold, n, dates or {})


def _find_groups(paragraphs, threshold: float, n: int, dates) -> Dict[str, str]:
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
    short: List[bool] = []  # fewer than SHORT_WORDS words
    numbers: List[Tuple[str, ...]] = []  # figures()
    list_words: Dict[int, List[str]] = {}  # the words of the paragraphs that are lists
    later: List[Tuple[int, int]] = []  # pairs with a short paragraph: joined in the end
    for i, (_, text) in enumerate(paragraphs):
        found = [common.setdefault(w, w) for w in words(text)]
        short.append(len(found) < SHORT_WORDS)
        numbers.append(figures(found))
        if is_list(text, len(found)):
            list_words[i] = found
        first = exact.setdefault(hash(" ".join(found)), i)  # exact copies (see signature())
        if first != i and short[i]:
            later.append((first, i))
        elif first != i:
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
                if _filled_in_twice(paragraphs[i][1], paragraphs[j][1], list_words.get(i),
                                    list_words.get(j), numbers[i], numbers[j]):
                    continue  # a template filled in twice (exact copies are joined above)
                if short[i] or short[j]:
                    later.append((i, j))
                else:
                    join(i, j)
    _join_short_copies(later, ids, parent, join)
    return _split(paragraphs, [_root(parent, i) for i in range(len(ids))], threshold, n, dates)


def _split(paragraphs, roots: List[int], threshold: float, n: int,
           dates: Mapping[str, int]) -> Dict[str, str]:
    """Each paragraph's group key, its component (by ``roots``: its first member, the one
    with the smallest id) split by ``stars``."""
    members: Dict[int, List[int]] = defaultdict(list)
    for i, root in enumerate(roots):
        members[root].append(i)
    groups: Dict[str, str] = {}
    for root, component in members.items():
        if len(component) > 2:
            groups.update(stars([paragraphs[i] for i in component], threshold, n, dates))
        else:  # (two are alike, or they would not have been joined)
            groups.update((paragraphs[i][0], paragraphs[root][0]) for i in component)
    return groups


def stars(component: Sequence[Tuple[str, str]], threshold: float = DEFAULT_THRESHOLD,
          n: int = SHINGLE_WORDS, dates: Optional[Mapping[str, int]] = None) -> Dict[str, str]:
    """The groups of one connected component's ``(id, text)`` pairs, as stars: earliest
    printing first (by ``dates``, as ``find_groups`` takes them; then as ``listing_order``
    lists a group's members), each paragraph
    not yet placed leads a group of every paragraph not yet placed that is alike to it
    (``near_duplicates``' test, but for the rule on short paragraphs, which joined the
    component already), keyed by its smallest id. A chain's ends need not be alike: earnings
    lines or a bond's terms, each differing from the next by a figure, made one group of
    hundreds of different reports; and a copy of a copy is the original's only if alike to
    it."""
    dates = dates or {}
    component = sorted(component, key=lambda paragraph: listing_order(
        paragraph[0], dates.get(paragraph[0], UNDATED)))
    found = [words(text) for _, text in component]
    sets = [_ngrams(w, n) for w in found]
    lists = [w if is_list(text, len(w)) else None for w, (_, text) in zip(found, component)]
    numbers = [figures(w) for w in found]
    sizes = [len(own) for own in sets]
    # shingle -> the paragraphs with it, fewest shingles first, and their sizes
    holders: Dict[int, List[int]] = defaultdict(list)
    copies: Dict[Tuple[str, ...], List[int]] = defaultdict(list)  # words -> exact copies
    for k in sorted(range(len(component)), key=sizes.__getitem__):
        for shingle in sets[k]:
            holders[shingle].append(k)
        copies[tuple(found[k])].append(k)
    held_sizes = {shingle: [sizes[k] for k in ks] for shingle, ks in holders.items()}
    distinct_sizes = sorted(set(sizes))
    placed = [False] * len(component)
    groups: Dict[str, str] = {}
    for centre, (_, text) in enumerate(component):
        if placed[centre]:
            continue
        mine = sets[centre]
        alike = {k for k in copies[tuple(found[centre])] if not placed[k]}
        if len(mine) >= MIN_SHINGLES:
            alike.update(
                k for k in _candidates(mine, holders, held_sizes, distinct_sizes, threshold)
                if not placed[k] and k not in alike and sizes[k] >= MIN_SHINGLES
                and similarity(mine, sets[k]) >= threshold
                and not _filled_in_twice(text, component[k][1], lists[centre], lists[k],
                                         numbers[centre], numbers[k]))
        key = min(component[k][0] for k in alike)
        for k in alike:
            placed[k] = True
            groups[component[k][0]] = key
    return groups


def _candidates(mine: Shingles, holders: Dict[int, List[int]], held_sizes: Dict[int, List[int]],
                distinct_sizes: List[int], threshold: float) -> set:
    """The paragraphs that may be alike to one with shingles ``mine``: every one that is
    (``similarity`` at least ``threshold``), without a look at most holders of its commonest
    shingles (a prefix filter). One of ``s`` shingles alike to it shares at least
    ``least(s)`` of ``mine``, so one of its rarest ``len(mine) - least(s) + 1``: a shingle of
    rank ``i`` (rarest first) is looked up for the sizes whose ``least`` is at most
    ``len(mine) - i``, and a shingle that every paragraph of a long chain holds, for almost
    none of them."""
    count = len(mine)

    def least(size: int) -> int:  # (rounded down, and a hair more: float division decides)
        return max(1, int(threshold * max(min(count, size), max(count, size) / 2)
                          * (1 - 1e-9)))

    needs = [least(size) for size in distinct_sizes]  # never fewer for a larger size
    found = set()
    for rank, shingle in enumerate(sorted(mine, key=lambda s: len(holders[s]))):
        largest = bisect_right(needs, count - rank)  # sizes [0, largest) need this one
        if not largest:
            break
        end = bisect_right(held_sizes[shingle], distinct_sizes[largest - 1])
        found.update(holders[shingle][:end])
    return found


def article_of(pid: str) -> str:
    """The article a paragraph id belongs to: the id before its last '#'."""
    return pid.rpartition("#")[0] or pid


def _join_short_copies(pairs, ids: Sequence[str], parent: List[int], join) -> None:
    """Join the pairs of short paragraphs whose articles (``article_of``) are two that
    already share a group: the story was reprinted, not a stock sentence reused."""
    if not pairs:
        return
    article = [article_of(pid) for pid in ids]
    size = Counter(_root(parent, i) for i in range(len(ids)))
    groups_of: Dict[str, set] = defaultdict(set)  # article -> its groups of two or more
    for i in range(len(ids)):
        root = _root(parent, i)
        if size[root] > 1:
            groups_of[article[i]].add(root)
    for i, j in pairs:
        if article[i] != article[j] and groups_of[article[i]] & groups_of[article[j]]:
            join(i, j)


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
