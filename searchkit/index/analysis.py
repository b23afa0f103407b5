"""The analyzer for paragraph text and titles: words (``wordterms.TOKEN``: AT&T, 9/11 and C++
are words), lower case, accents folded, English stop words dropped, NLTK's Snowball stemmer
("protesters" and "protest" meet).

The stemmer is a module-level function so that Whoosh can pickle the analyzer into the index
and worker processes. NLTK is imported on first use because importing it is slow (most of a
cold search): each commit of an index keeps the stem of every word of its corpus in
``stems-N.tsv`` (written at index time, when NLTK is loaded anyway), and a searcher looks a
query's words up in it, so that a query needs NLTK only for a word its corpus never had.
"""

from whoosh.analysis import STOP_WORDS, Filter, RegexTokenizer, StemFilter
from whoosh.support.charset import accent_map

from . import wordterms
from .layout import ANALYZER
from .wordterms import parse_stems, stems_table, use_stems  # noqa: F401  (for others)
from .wordterms import stems_mark, stems_since, write_stems_table  # noqa: F401  (the indexer's)

_MAX_REMEMBERED = wordterms._MAX_REMEMBERED


def snowball_stem(word: str) -> str:
    """NLTK's Snowball stem, through the stems tables (the index pickles this function by
    name into its schema: it stays here)."""
    return wordterms.stem(word)


STOP_WORDS = STOP_WORDS  # the stop list, for the query side


def text_analyzer():
    return (
        RegexTokenizer(wordterms.TOKEN.pattern)
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
                # (indexing asks once per distinct word already: textfield's cache)
                if len(seen) < _MAX_REMEMBERED and t.mode != "index":
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
DESCRIPTION = ANALYZER  # what the index records about its analyzer (layout)
