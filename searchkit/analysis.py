"""The analyzer for paragraph text and titles: words, lower case, accents folded, English stop
words dropped, NLTK's Snowball stemmer ("protesters" and "protest" meet).

The stemmer is a module-level function so that Whoosh can pickle the analyzer into the index
and worker processes; NLTK is imported on first use because importing it is slow.
"""

import hashlib

from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.support.charset import accent_map

_stemmer = None


def snowball_stem(word: str) -> str:
    global _stemmer
    if _stemmer is None:
        from nltk.stem.snowball import EnglishStemmer  # needs no NLTK data download

        _stemmer = EnglishStemmer()
    return _stemmer.stem(word)


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
