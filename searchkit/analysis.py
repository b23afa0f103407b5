"""The analyzer for paragraph text and titles: words, lower case, accents folded, English stop
words dropped, NLTK's Snowball stemmer ("protesters" and "protest" meet).

The stemmer is a module-level function so that Whoosh can pickle the analyzer into the index
and worker processes. It is NLTK's English Snowball stemmer copied into ``stemmer.py`` (same
stems, so indexes stay valid): importing NLTK costs ~0.45 s, most of a cold search.
"""

import hashlib

from . import _whoosh  # noqa: F401  (first: Whoosh without what a search never uses)
from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

from .stemmer import stem as _stem


def snowball_stem(word: str) -> str:
    return _stem(word)


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
