"""The analyzer for paragraph text and titles: words, lower case, accents folded, English stop
words dropped, NLTK's Snowball stemmer ("protesters" and "protest" meet).

The stemmer is a module-level function so that Whoosh can pickle the analyzer into the index
and worker processes. NLTK is imported on first use because importing it is slow (~0.45 s, most
of a cold search): an index keeps the stem of every word of its corpus in ``stems.json``
(written at index time, when NLTK is loaded anyway), and a searcher reads it, so that a query
needs NLTK only for a word its corpus never had.
"""

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Dict, Iterable

from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

STEMS_FILE = "stems.json"
_stemmer = None
_known: Dict[str, str] = {}  # word -> stem, from the stems tables read (a stem is a stem anywhere)
_MAX_REMEMBERED = 1_000_000  # and from NLTK, up to this many words


def snowball_stem(word: str) -> str:
    stem = _known.get(word)
    if stem is not None:
        return stem
    global _stemmer
    if _stemmer is None:
        _stemmer = _english_stemmer()
    stem = _stemmer.stem(word)
    if len(_known) < _MAX_REMEMBERED:  # save_stems asks again for every word of the corpus
        _known[word] = stem
    return stem


def _english_stemmer():
    """NLTK's Snowball English stemmer (needs no NLTK data download).

    Importing any part of NLTK runs its package ``__init__``, which imports
    ``nltk.metrics.association``, which imports ``scipy.stats`` if SciPy is installed (it is
    with the bench extra): 1.25 s of a 1.7 s import, for collocation statistics the stemmer
    never uses. NLTK catches the ImportError (its Fisher test then raises
    NotImplementedError), so SciPy is hidden while NLTK loads, and importable again after."""
    hide = "scipy" not in sys.modules
    if hide:
        sys.modules["scipy"] = None  # "import scipy" raises ImportError
    try:
        from nltk.stem.snowball import EnglishStemmer
    finally:
        if hide and sys.modules.get("scipy", 0) is None:
            del sys.modules["scipy"]
    return EnglishStemmer()


def save_stems(words: Iterable[str], index_dir: Path, start_over: bool = False) -> None:
    """Write the stems of ``words`` (as the analyzer sees them: lower case, accents folded;
    stop words need none) beside the index, reusing those already there unless
    ``start_over``."""
    path = Path(index_dir) / STEMS_FILE
    table = {} if start_over else _read(path)
    for word in words:
        if word not in table and len(word) > 1 and word not in STOP_WORDS:
            table[word] = snowball_stem(word)
    aside = path.with_suffix(".json.tmp")
    aside.write_text(json.dumps(table, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    os.replace(aside, path)


def load_stems(index_dir: Path) -> None:
    """Let queries take the stems of the index's words from its table instead of NLTK."""
    _known.update(_read(Path(index_dir) / STEMS_FILE))


def _read(path: Path) -> Dict[str, str]:
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        return table if isinstance(table, dict) else {}
    except (OSError, ValueError):
        return {}  # no table: NLTK stems every word, as before


STOP_WORDS = STOP_WORDS  # the stop list, for the query side


def text_analyzer():
    return (
        RegexTokenizer()
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=2)
        | StemFilter(stemfn=snowball_stem, cachesize=100_000)
    )


# What an index records about its analyzer: a query analysed differently would miss words.
DESCRIPTION = {
    "tokenizer": "whoosh RegexTokenizer (words)",
    "filters": "lowercase, accent folding, stop words, nltk snowball english stemmer",
    "stop_words_sha1": hashlib.sha1(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
}
