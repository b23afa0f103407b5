"""A transliteration-aware key for names, so that the romanisations of one name meet.

Names from Russian, Belarusian, Ukrainian or Arabic reach English text in several spellings
that differ by letter groups rather than single letters: Tikhanovskaya / Tsikhanouskaya,
Maksim / Maxim, Dmitry / Dmitrij, Qaddafi / Kaddafi. ``key`` rewrites a name with the rules
of translit.json (one per spelling difference of the common romanisation systems, in order);
two names with the same key are spellings of one name as far as romanisation goes. ``skeleton``
is the key without its vowels after the first letter: names whose keys differ only in vowels
(Tikhanovskaya / Tkhanovskaya, Tikhanovskaya / Tikhanovsky) share it, Yukos / Yukon and Gordon
/ Gorton do not; in a long name a consonant left out is a typo (Kowalczyk / Kowalcyk). Our
own rules rather than a library: Beider-Morse (as in Elasticsearch's phonetic plugin) has no
maintained Python port we could pin, and Daitch-Mokotoff soundex codes join far more names
than a news search should (it was built for genealogy).
"""

import json
import re
from functools import lru_cache
from pathlib import Path

from ..index.vocabulary import folded

_RULES = [(re.compile(pattern), replacement) for pattern, replacement, _example in json.loads(
    Path(__file__).with_name("translit.json").read_text(encoding="utf-8"))["rules"]]
_VOWELS = re.compile(r"(?<=.)[aeiou]+")


@lru_cache(maxsize=4096)
def key(name: str) -> str:
    """The name's transliteration key: folded, lower case, rewritten by the rules."""
    return _key(name)


def _key(name: str) -> str:
    text = folded(name)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def skeleton(name_key: str) -> str:
    """A key's first letter and consonants."""
    return _VOWELS.sub("", name_key)


# First letters whose names may share a key with a name starting so (kh -> h, ts -> t, y -> i,
# w -> v, ph -> f, q and c -> k, dzh and zh -> j, and a vowel after an initial y, j or i).
_VOWEL_STARTS = "aeiouyj"
# Keys shorter than this have no close spellings: in a short name one vowel is too much of it
# (Yukos / Ucas).
CLOSE_FROM = 6
TYPO_FROM = 8
_FIRSTS = {"k": "kcqxh", "c": "ckqt", "q": "qkc", "x": "xk", "h": "hk", "d": "dj", "z": "zj",
           "v": "vw", "w": "wv", "f": "fp", "p": "pf", "t": "tc", "g": "g", "j": "dz" +
           _VOWEL_STARTS}  # (j is among the vowel starts)
_FIRSTS.update({vowel: _VOWEL_STARTS for vowel in _VOWEL_STARTS if vowel != "j"})


_ENDINGS = "aeious"  # (keys hold no y: it is i)


def _alike(own: str, bones: str, other_key: str) -> bool:
    """Whether two close keys differ in vowels only, or (keys of TYPO_FROM letters or more) by
    one consonant more or less and nothing else (a typo: Kowalczyk / Kowalcyk; not Yukos /
    Yukon, nor Aleksandr / Aleksandrov); but not by a vowel or an s at the end alone, which
    makes another word of a name (Israel / Israeli, Italian / Italiano, Mexican / Mexicans)
    where romanisations change a vowel (Lukashenko / Lukashenka)."""
    from rapidfuzz.distance import Levenshtein

    shorter, longer = sorted((own, other_key), key=len)
    if len(longer) == len(shorter) + 1 and longer.startswith(shorter) and \
            longer[-1] in _ENDINGS:
        return False
    if skeleton(other_key) == bones:
        return True
    return len(own) >= TYPO_FROM and abs(len(other_key) - len(own)) == 1 and \
        Levenshtein.distance(own, other_key, score_cutoff=1) == 1


def _keyed(vocabulary, letter: str) -> tuple:
    """The names of ``vocabulary`` starting with ``letter``, their keys, and the names by key,
    worked out on first use and kept with the vocabulary (its ``memo``)."""
    found = vocabulary.memo.get(("translit", letter))
    if found is None:
        names = vocabulary.names_starting(letter)
        keys = [_key(name) for name in names]
        by_key: dict = {}
        for name, name_key in zip(names, keys):
            by_key.setdefault(name_key, []).append(name)
        found = vocabulary.memo[("translit", letter)] = (names, keys, by_key)
    return found


def spellings(name: str, vocabulary, maxdist: int) -> tuple:
    """The names of ``vocabulary`` spelt as ``name`` (folded) is, by romanisation: those with
    its key, and those with the same first letter whose keys are within ``maxdist`` edits of
    its key (none for keys under CLOSE_FROM letters) but differ in vowels only (the same
    skeleton) or, in a long name, by a consonant left out (``_alike``). Two tuples, ``name``
    itself left out of both."""
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    own = key(name)
    bones = skeleton(own)
    same = [other for letter in _FIRSTS.get(name[:1], name[:1])
            for other in _keyed(vocabulary, letter)[2].get(own, ()) if other != name]
    close = []
    if len(own) >= CLOSE_FROM:
        names, keys, _ = _keyed(vocabulary, name[:1])
        for other_key, _distance, at in process.extract(
                own, keys, scorer=Levenshtein.distance, score_cutoff=maxdist, limit=None):
            if other_key != own and names[at] != name and _alike(own, bones, other_key):
                close.append(names[at])
    return tuple(sorted(same)), tuple(sorted(close))
