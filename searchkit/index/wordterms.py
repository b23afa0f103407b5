"""Words -> the terms the index holds, without importing Whoosh or (usually) NLTK.

The index's analyzer (``analysis.text_analyzer``) is Whoosh's RegexTokenizer with TOKEN, then
lower case, accent folding and stop words (``analysis.FoldStopFilter``), then NLTK's Snowball
stemmer.
Importing Whoosh or NLTK costs a one-query process more than the search, so queries and
snippets analyse their words here with the same rules: the tokenizer's expression, Whoosh's
accent map and stop list (kept in ``foldmap.json``; tests/test_wordterms.py checks them
against Whoosh's), and stems looked up in the index's stems table (``stems-N.tsv``, every word
of the corpus with its stem, written with each commit), NLTK only for a word the corpus never
had.
"""

import json
import os
import re
import sys
from itertools import count
from pathlib import Path
from typing import BinaryIO, Dict, Iterable, List, Optional, Tuple

# The index's words (docs/queries.md): runs of letters and digits, joined by a full stop (U.S,
# 3.5) or "&" (AT&T, R&D; not an entity left in text, "&gt;"); a fraction or date of two short
# numbers (9/11, 24/7: not 12/05/2020, whose numbers stay apart); a letter with "+", "++" or
# "#" (C++, C#, A+). "*" is kept in words as whoosh-reloaded's RegexTokenizer default keeps
# it. No capturing group: the bulk writer and the query side split text with ``findall``.
_WORD_RUN = r"[\w*]+(?:(?:\.|&(?!\w+;))?[\w*]+)*"
TOKEN = re.compile(
    r"(?<![\w/])\d{1,2}/\d{1,2}(?![\w/])"
    r"|(?<![\w*&+#])[^\W\d_](?:\+\+?|#)(?![\w+#])"
    r"|" + _WORD_RUN
)
# TOKEN's last alternative alone: its first two match only where there is a "/", a "+" or
# a "#", which most paragraphs lack, and the engine tries all three at every character.
_PLAIN_TOKEN = re.compile(_WORD_RUN)
MIN_SIZE = 2  # shorter tokens are dropped like stop words

_tables = json.loads((Path(__file__).with_name("foldmap.json")).read_text(encoding="ascii"))
ACCENT_MAP = {int(k): v for k, v in _tables["accent_map"].items()}
STOP_WORDS = frozenset(_tables["stop_words"])
del _tables

# Words a process remembers (its stems, its folded tokens; ~150 bytes a word each), whatever
# the corpus's words: past it a word is worked out again where it comes again. The first
# words met are kept, most of them the common ones.
_MAX_REMEMBERED = 100_000
_stemmer = None
_known: Dict[str, str] = {}  # word -> stem, as looked up (a stem is a stem in any index)
_recording: Dict[int, Dict[str, str]] = {}  # a mark -> the stems worked out since it
_marks = count()
# Each stems table read, by path, as its text: "\nword\tstem\n..." sorted by word, searched by
# bisection (parsing a whole table would cost more than a search).
_stem_tables: Dict[str, str] = {}
_folded: Dict[str, Tuple[str, bool]] = {}  # token -> (folded text, kept)


def fold(token: str) -> Tuple[str, bool]:
    """The token lower-cased and accent-folded, and whether it is kept (not a stop word, not
    too short): what ``analysis.FoldStopFilter`` makes of it."""
    known = _folded.get(token)
    if known is None:
        known = _fold(token)
        if len(_folded) < _MAX_REMEMBERED:
            _folded[token] = known
    return known


def _fold(token: str) -> Tuple[str, bool]:
    text = token.lower()
    if not text.isascii():
        text = text.translate(ACCENT_MAP)
    return text, len(text) >= MIN_SIZE and text not in STOP_WORDS


def split_words(text: str) -> List[str]:
    """``TOKEN.findall(text)``, faster for a text without "/", "+" or "#"."""
    if "/" in text or "+" in text or "#" in text:
        return TOKEN.findall(text)
    return _PLAIN_TOKEN.findall(text)


def term_of(token: str) -> Optional[str]:
    """The term the index holds for one token, or None if the analyzer drops it."""
    text, kept = fold(token)
    return stem(text) if kept else None


def indexed_term(token: str) -> Optional[str]:
    """``term_of``, for the indexer: a token's folding is not remembered (the indexer asks
    once for each distinct token, and keeps the answer itself)."""
    text, kept = _fold(token)
    return stem(text) if kept else None


def terms(text: str) -> List[str]:
    """The terms of ``text`` in order, stop words left out (what a query word searches)."""
    found = []
    for token in split_words(text):
        term = term_of(token)
        if term is not None:
            found.append(term)
    return found


def highlight_tokens(text: str, terms) -> List[Tuple[int, int, str]]:
    """(start, end, term) of the tokens of ``text`` the highlighter marks for ``terms``: as
    Whoosh's highlighter sees a token, stopped ones keep their folded text and the others
    become their stems. A stem keeps its word's first letter (Snowball changes only endings;
    checked on every word of BBC, Reuters and SciFact), so only tokens starting with the
    first letter of one of ``terms`` need stemming (a token starting with an ASCII character
    folds to its lower case)."""
    firsts = frozenset(term[:1] for term in terms)
    found = []
    for match in TOKEN.finditer(text):
        token = match.group()
        if token[:1].isascii() and token[:1].lower() not in firsts:
            continue
        folded, kept = fold(token)
        if folded[:1] not in firsts:
            continue
        term = stem(folded) if kept else folded
        if term in terms:
            found.append((match.start(), match.end(), term))
    return found


# -- stems -------------------------------------------------------------------------------------


def stem(word: str) -> str:
    """NLTK's English Snowball stem of ``word`` (lower case, folded), from a stems table when
    one has it."""
    found = _known.get(word)
    if found is None:
        found = _from_tables(word) or _nltk_stem(word)
        if len(_known) < _MAX_REMEMBERED:
            _known[word] = found
        for worked_out in tuple(_recording.values()):  # (another thread may start one)
            worked_out[word] = found
    return found


def stems_mark() -> int:
    """Record the stems this process works out from now on, remembered or not, until
    ``stems_since`` this mark."""
    mark = next(_marks)
    _recording[mark] = {}
    return mark


def stems_since(mark: int) -> Dict[str, str]:
    """The stems worked out since ``mark`` (a batch's, for the stems table: no NLTK for them
    there, in whichever process it is written); the recording ends."""
    return _recording.pop(mark, {})


def _from_tables(word: str) -> Optional[str]:
    for table in _stem_tables.values():
        found = look_up(table, word)
        if found is not None:
            return found
    return None


def look_up(table: str, word: str) -> Optional[str]:
    """The stem of ``word`` in a stems table's text, by binary search over its lines."""
    lo, hi = 1, len(table)  # [lo, hi): whole lines; lo is a line's start
    while lo < hi:
        start = table.rfind("\n", lo - 1, (lo + hi) // 2) + 1  # the line holding the middle
        end = table.find("\n", start)
        tab = table.find("\t", start, end)
        if end < 0 or tab < 0:
            return None  # not a table this version wrote
        found = table[start:tab]
        if found == word:
            return table[tab + 1 : end]
        if found < word:
            lo = end + 1
        else:
            hi = start
    return None


def _nltk_stem(word: str) -> str:
    global _stemmer
    if _stemmer is None:
        _stemmer = _english_stemmer()
    return _stemmer.stem(word)


def _english_stemmer():
    """NLTK's English Snowball stemmer (it needs no data download). Importing NLTK imports
    SciPy, where installed, for the Fisher test of its collocations module, which searchkit
    never uses: most of the import's time. SciPy is hidden from that one import (NLTK goes
    without it, as it does where SciPy is not installed) unless something imported it
    already."""
    hide = "scipy" not in sys.modules and "nltk" not in sys.modules
    if hide:
        sys.modules["scipy"] = None  # type: ignore[assignment]  # "import scipy" fails
    try:
        from nltk.stem.snowball import EnglishStemmer
    finally:
        if hide:
            del sys.modules["scipy"]
    return EnglishStemmer()


def stems_table(words: Iterable[str], previous: str = "",
                known: Optional[Dict[str, str]] = None) -> str:
    """The stems table of ``words`` (as the analyzer sees them: lower case, accents folded;
    stop words need none) and of those in the ``previous`` table's text: a newline, then
    "word<TAB>stem" lines sorted by word. ``known``: stems worked out for some of them
    already (the others are looked up here)."""
    wanted = [w for w in words if len(w) >= MIN_SIZE and w not in STOP_WORDS]
    if previous.startswith("\n") and len(wanted) < 5000:  # an update's few words: looked up
        wanted = [w for w in wanted if look_up(previous, w) is None]
        if not wanted:
            return previous
    table = parse_stems(previous)
    known = known or {}
    for word in wanted:
        if word not in table:
            table[word] = known.get(word) or stem(word)
    return "\n" + "".join(f"{word}\t{found}\n" for word, found in sorted(table.items()))


def write_stems_table(out: BinaryIO,
                      letters: Iterable[Tuple[Iterable[str], Dict[str, str]]]) -> None:
    """``stems_table(words)``'s text (no previous table) into ``out`` as UTF-8, a first letter
    at a time: ``letters`` gives the words of each first letter, in the letters' order, with
    the stems worked out for some of them already (the others are looked up here), so that a
    corpus's whole vocabulary is never one table in memory."""
    out.write(b"\n")
    for words, known in letters:
        out.write(stems_table(words, known=known)[1:].encode("utf-8"))  # (its lines)


def use_stems(key: str, text: str) -> None:
    """Let queries take the stems of an index's words from its table's ``text`` instead of
    NLTK (``key``: the index; a later table of it replaces the earlier one)."""
    if not text.startswith("\n"):
        text = "\n" + text
    if not text.endswith("\n"):
        text += "\n"
    _stem_tables[key] = text


def parse_stems(text: str) -> Dict[str, str]:
    """A stems table's text as word -> stem."""
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)
