"""The corpus's own words and names, for "did you mean" and spelling variants of names.

Counted from the paragraph texts at index time and kept with each commit of the index in
``vocabulary-N.json`` (word -> paragraphs that contain it; the same for words written with a
capital letter). Kept out of Whoosh on purpose: as a Whoosh field it doubled the postings to
write and the indexing time; counted here it costs little. A run that changes some files
updates the previous commit's counts (those of the paragraphs it removes subtracted, of those
it adds merged in: counts are per paragraph). Pure code, no Whoosh.
"""

import io
import json
import re
import unicodedata
from collections import Counter
from typing import BinaryIO, Dict, Iterable, List, Optional

import numpy as np

from .wordterms import split_words

_WORD = re.compile(r"\w+(?:\.?\w+)*")  # a word within one of the index's tokens


def folded(word: str) -> str:
    """A word as the vocabulary holds it: lower case, accents dropped ("Lukašenka" ->
    "lukasenka")."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class Vocabulary:
    """How many paragraphs hold each word, and each word written capitalised (a name)."""

    def __init__(self, paragraphs: int = 0, words: Optional[Dict[str, int]] = None,
                 names: Optional[Dict[str, int]] = None):
        self.paragraphs = paragraphs
        self.words = {} if words is None else words  # word -> paragraphs with it
        self.names = {} if names is None else names  # -> paragraphs with it capitalised
        self._by_letter: Dict[tuple, List[str]] = {}
        self._by_length: Dict[tuple, Dict[int, List[str]]] = {}
        # What a query side works out once from the words and keeps while the vocabulary is
        # open (translit's names by key), so that a query does not work it out again.
        self.memo: Dict[tuple, object] = {}

    def __eq__(self, other):
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (self.paragraphs, self.words, self.names) == (
            other.paragraphs, other.words, other.names)

    def close_to(self, word: str, maxdist: int, names: bool = False) -> List[str]:
        """Words (or names) within ``maxdist`` edits of ``word`` with the same first letter,
        most frequent first, ``word`` itself left out."""
        # rapidfuzz: Levenshtein distances in C++, so that "did you mean" costs a query little.
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        pool = self.names if names else self.words
        lengths = self._by_length.get((names, word[:1]))
        if lengths is None:
            lengths = self._by_length[(names, word[:1])] = {}
            for other in self._starting(names, word[:1]):
                lengths.setdefault(len(other), []).append(other)
        # (a word of another length by more than maxdist is more than maxdist edits away)
        candidates = [other for size in range(len(word) - maxdist, len(word) + maxdist + 1)
                      for other in lengths.get(size, ())]
        close = process.extract(word, candidates, scorer=Levenshtein.distance,
                                score_cutoff=maxdist, limit=None)
        found = [other for other, _distance, _at in close if other != word]
        return sorted(found, key=lambda w: (-pool[w], w))

    def names_starting(self, letter: str) -> List[str]:
        """The names (words written capitalised) that start with ``letter``."""
        return self._starting(True, letter)

    def _starting(self, names: bool, letter: str) -> List[str]:
        """The words (or names) that start with ``letter``, indexed on first use."""
        if (names, "") not in self._by_letter:
            self._by_letter[(names, "")] = []
            for other in self.names if names else self.words:
                self._by_letter.setdefault((names, other[:1]), []).append(other)
        return self._by_letter.get((names, letter), [])


def count(texts: Iterable[str]) -> Vocabulary:
    """Paragraph counts of every word and name: the words ``_WORD`` finds within each of the
    index's tokens ("8/9.5" is the tokens "8/9" and "5": no "9.5"), as ``count_tokens``
    counts them from the bulk writer's. Words are told apart by lower case here and
    folded once at the end (a paragraph holding both "Lukašenka" and "Lukasenka" counts twice:
    rare, and it saves folding every word of every paragraph)."""
    words: Counter = Counter()
    names: Counter = Counter()
    paragraphs = 0
    for text in texts:
        paragraphs += 1
        found = set(_WORD.findall(" ".join(set(split_words(text)))))
        words.update({w.lower() for w in found})
        names.update({w.lower() for w in found if w[:1].isupper()})
    return Vocabulary(paragraphs, _folded_counts(words), _folded_counts(names))


def count_tokens(tokens, counted: np.ndarray) -> Vocabulary:
    """``count`` of the documents marked in ``counted``, from the tokens the bulk writer split
    their texts into (``bulkwrite.Tokens``): the words are those ``_WORD`` finds within each
    token (a token splits into more than one where the tokenizer joins more characters), so
    that the counts are ``count``'s, without reading the texts again."""
    value_of_doc, per_text, spellings, token_spelling = tokens
    texts_counted = value_of_doc[counted & (value_of_doc >= 0)]
    weight = np.bincount(texts_counted, minlength=len(per_text))  # paragraphs per text
    lower_ids: Dict[str, int] = {}
    piece_lower: List[int] = []
    piece_name: List[bool] = []
    pieces = np.zeros(len(spellings), np.int64)  # words of each spelling
    for i, spelling in enumerate(spellings):
        found = _WORD.findall(spelling)
        pieces[i] = len(found)
        for word in found:
            piece_lower.append(lower_ids.setdefault(word.lower(), len(lower_ids)))
            piece_name.append(word[:1].isupper())
    # Each token's words, with the text it is in.
    per_token = pieces[token_spelling]
    first_piece = np.cumsum(pieces) - pieces
    text_of = np.repeat(np.repeat(np.arange(len(per_text)), per_text), per_token)
    piece = first_piece[token_spelling]
    if (per_token != 1).any():
        piece = np.repeat(piece, per_token)  # (a spelling of several words, or of none)
        piece += np.arange(len(piece)) - np.repeat(np.cumsum(per_token) - per_token, per_token)
    del per_token
    lower = np.array(piece_lower, np.int64)[piece]
    names = np.array(piece_name, bool)[piece]
    del piece
    words = list(lower_ids)
    nwords = max(len(words), 1)
    # (text, word) pairs as one number, in 32 bits where they fit: numpy sorts them faster
    key_type = np.int32 if len(per_text) * nwords < 2**31 else np.int64
    text_of, lower = text_of.astype(key_type), lower.astype(key_type)

    def per_paragraph(mask: np.ndarray) -> Dict[str, int]:
        # Each (text, word) once, by sorting: np.unique's hash table is far slower here.
        pairs = np.sort(text_of[mask] * nwords + lower[mask])
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
        found = np.bincount(pairs % nwords, weights=weight[pairs // nwords], minlength=nwords)
        return {w: int(n) for w, n in zip(words, found.tolist()) if n > 0}

    everything = np.ones(len(lower), bool)
    return Vocabulary(int(counted.sum()), _folded_counts(per_paragraph(everything)),
                      _folded_counts(per_paragraph(names)))


def subtract(whole: Vocabulary, part: Vocabulary) -> Vocabulary:
    """``whole`` without the paragraphs of ``part`` (counted among them)."""
    words, names = dict(whole.words), dict(whole.names)
    for counts, less in ((words, part.words), (names, part.names)):
        for word, n in less.items():
            left = counts.get(word, 0) - n
            if left > 0:
                counts[word] = left
            else:
                counts.pop(word, None)
    return Vocabulary(whole.paragraphs - part.paragraphs, words, names)


def _folded_counts(counts: Dict[str, int]) -> Dict[str, int]:
    """Counts of lower-case words by their folded form (an ASCII word is its own)."""
    folds = {word: n for word, n in counts.items() if word.isascii()}
    for word, n in counts.items():
        if not word.isascii():
            word = folded(word)
            folds[word] = folds.get(word, 0) + n
    return folds


def to_bytes(vocabulary: Vocabulary) -> bytes:
    out = io.BytesIO()
    write(out, vocabulary.paragraphs, [vocabulary.words], [vocabulary.names])
    return out.getvalue()


def write(out: BinaryIO, paragraphs: int, words: Iterable[Dict[str, int]],
          names: Iterable[Dict[str, int]]) -> None:
    """A vocabulary's file (``to_bytes``) into ``out``, its words and names given in pieces
    that share no word (a build's, a first letter at a time) and written as they come: a
    corpus's whole vocabulary is never one dict."""
    out.write(b'{"paragraphs": %d, "words": {' % paragraphs)
    _write_members(out, words)
    out.write(b'}, "names": {')
    _write_members(out, names)
    out.write(b"}}")


def _write_members(out: BinaryIO, pieces: Iterable[Dict[str, int]]) -> None:
    """The members of a JSON object holding every piece's, as json.dumps writes them."""
    first = True
    for piece in pieces:
        if piece:
            members = json.dumps(piece, ensure_ascii=False)[1:-1].encode("utf-8")
            out.write(members if first else b", " + members)
            first = False


def from_bytes(data: bytes) -> Vocabulary:
    """The vocabulary in ``data``; ValueError if it is not one."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ValueError("not a vocabulary (nested too deep)") from None
    if not (isinstance(raw, dict) and isinstance(raw.get("paragraphs"), int)
            and all(isinstance(raw.get(k), dict) for k in ("words", "names"))):
        raise ValueError("not a vocabulary")
    for counts in (raw["words"], raw["names"]):
        if not all(isinstance(n, int) for n in counts.values()):
            raise ValueError("not a vocabulary")
    return Vocabulary(raw["paragraphs"], raw["words"], raw["names"])
