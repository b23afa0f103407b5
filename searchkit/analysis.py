"""The analyzer for paragraph text and titles: words, lower case, accents folded, English stop
words dropped, NLTK's Snowball stemmer ("protesters" and "protest" meet).

The stemmer is a module-level function so that Whoosh can pickle the analyzer into the index
and worker processes. NLTK is imported on first use because importing it is slow (~0.45 s, most
of a cold search): an index keeps the stem of every word of its corpus in ``stems.tsv``
(written at index time, when NLTK is loaded anyway), and a searcher looks a query's words up in
it, so that a query needs NLTK only for a word its corpus never had.
"""

import hashlib
import os
from itertools import islice
from pathlib import Path
from typing import Dict, Iterable

from whoosh.analysis import STOP_WORDS, Filter, RegexTokenizer, StemFilter
from whoosh.support.charset import accent_map

STEMS_FILE = "stems.tsv"
_stemmer = None
_known: Dict[str, str] = {}  # word -> stem, as looked up (a stem is a stem in any index)
_MAX_REMEMBERED = 1_000_000
# Each stems table read, by path, as its text: "\nword\tstem\n..." sorted by word. A search
# looks up the words it meets by binary search in the text: parsing a whole table (64k words of
# BBC + Reuters) took 20-50 ms, and a highlighted hit meets ~50 words.
_tables: Dict[str, str] = {}


def snowball_stem(word: str) -> str:
    stem = _known.get(word)
    if stem is None:
        stem = _from_tables(word) or _nltk_stem(word)
        if len(_known) < _MAX_REMEMBERED:
            _known[word] = stem
    return stem


def stems_mark() -> int:
    """A mark for ``stems_since``: how many stems this process remembers."""
    return len(_known)


def stems_since(mark: int) -> Dict[str, str]:
    """The stems remembered after ``mark`` (for a helper process to hand them back)."""
    return dict(islice(_known.items(), mark, None))


def remember_stems(stems: Dict[str, str]) -> None:
    """Remember stems worked out elsewhere (a helper process's)."""
    for word, stem in stems.items():
        if len(_known) >= _MAX_REMEMBERED:
            break
        _known.setdefault(word, stem)


def _from_tables(word: str):
    for table in _tables.values():
        stem = _look_up(table, word)
        if stem is not None:
            return stem
    return None


def _look_up(table: str, word: str):
    """The stem of ``word`` in a stems table's text, by binary search over its lines."""
    lo, hi = 1, len(table)  # [lo, hi): whole lines; lo is a line's start
    while lo < hi:
        start = table.rfind("\n", lo - 1, (lo + hi) // 2) + 1  # the line holding the middle
        end = table.index("\n", start)
        tab = table.index("\t", start, end)
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
        from nltk.stem.snowball import EnglishStemmer  # needs no NLTK data download

        _stemmer = EnglishStemmer()
    return _stemmer.stem(word)


def save_stems(words: Iterable[str], index_dir: Path, start_over: bool = False) -> None:
    """Write the stems of ``words`` (as the analyzer sees them: lower case, accents folded;
    stop words need none) beside the index, reusing those already there unless
    ``start_over``."""
    path = Path(index_dir) / STEMS_FILE
    table = {} if start_over else _parse(_read(path))
    known = len(table)
    for word in words:
        if word not in table and len(word) > 1 and word not in STOP_WORDS:
            table[word] = snowball_stem(word)
    if len(table) == known and not start_over and path.exists():
        return  # no new word: the table on disk is already this one
    aside = path.with_suffix(".tsv.tmp")
    lines = "".join(f"{word}\t{stem}\n" for word, stem in sorted(table.items()))
    aside.write_text("\n" + lines, encoding="utf-8")
    os.replace(aside, path)


def load_stems(index_dir: Path) -> None:
    """Let queries take the stems of the index's words from its table instead of NLTK."""
    path = Path(index_dir) / STEMS_FILE
    _tables[str(path)] = _read(path)


def read_stems(index_dir: Path) -> Dict[str, str]:
    """The index's stems table: word -> stem."""
    return _parse(_read(Path(index_dir) / STEMS_FILE))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return ""  # no table: NLTK stems every word, as before


def _parse(text: str) -> Dict[str, str]:
    return dict(line.split("\t", 1) for line in text.splitlines() if "\t" in line)


STOP_WORDS = STOP_WORDS  # the stop list, for the query side


def text_analyzer():
    return (
        RegexTokenizer()
        | FoldStopFilter(accent_map, STOP_WORDS, minsize=2)
        # No cache of Whoosh's here (its pure-Python LFU cost more than the lookup it saves):
        # snowball_stem remembers the words it has stemmed.
        | StemFilter(stemfn=snowball_stem, cachesize=None)
    )


class FoldStopFilter(Filter):
    """Whoosh's ``LowercaseFilter() | CharsetFilter(charmap) | StopFilter(stoplist, minsize)``
    as one filter that remembers what each distinct token becomes: the same tokens, positions
    and ``stopped`` marks (tests/test_analysis.py compares the two on real text), with one
    generator step and a dict lookup per token instead of three generators. Highlighting
    analyses each hit's text again, and this chain was most of a snippet's time."""

    def __init__(self, charmap, stoplist, minsize: int = 2):
        self.charmap = charmap
        self.stops = frozenset(stoplist)
        self.min = minsize
        self._seen = {}

    def __getstate__(self):  # Whoosh pickles the analyzer into the index: not the cache
        return {k: v for k, v in self.__dict__.items() if k != "_seen"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._seen = {}

    def __eq__(self, other):
        return type(other) is type(self) and self.__getstate__() == other.__getstate__()

    def __call__(self, tokens):
        seen, charmap, stops, minsize = self._seen, self.charmap, self.stops, self.min
        pos = None
        for t in tokens:
            known = seen.get(t.text)
            if known is None:
                text = t.text.lower().translate(charmap)
                known = (text, len(text) >= minsize and text not in stops)
                if len(seen) < _MAX_REMEMBERED:
                    seen[t.text] = known
            t.text, kept = known
            if kept:
                if t.positions:  # StopFilter(renumber=True): kept words numbered on
                    if pos is None:
                        pos = t.pos
                    else:
                        pos += 1
                        t.pos = pos
                t.stopped = False
                yield t
            elif not t.removestops:
                t.stopped = True
                yield t


# What an index records about its analyzer: a query analysed differently would miss words.
DESCRIPTION = {
    "tokenizer": "whoosh RegexTokenizer (words)",
    "filters": "lowercase, accent folding, stop words, nltk snowball english stemmer",
    "stop_words_sha1": hashlib.sha1(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
}
