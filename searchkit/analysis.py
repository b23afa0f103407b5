"""The analyzer for paragraph text and titles: words, lower case, accents folded, English stop
words dropped, NLTK's Snowball stemmer ("protesters" and "protest" meet).

The stemmer is a module-level function so that Whoosh can pickle the analyzer into the index
and worker processes; NLTK is imported on first use because importing it is slow.
"""

import hashlib

from whoosh.analysis import (
    STOP_WORDS,
    CharsetFilter,
    Filter,
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


def word_analyzer():
    """Words as written (lower case, accents folded, nothing dropped or stemmed): the
    vocabulary "did you mean" draws its suggestions from."""
    return RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)


class CapitalisedFilter(Filter):
    """Keeps only the tokens written with a capital letter: names, mostly."""

    def __call__(self, tokens):
        for token in tokens:
            if token.text[:1].isupper():
                yield token


def name_analyzer():
    """Capitalised words only, as the vocabulary of names that spelling variants come from."""
    return RegexTokenizer() | CapitalisedFilter() | LowercaseFilter() | CharsetFilter(accent_map)


# What an index records about its analyzer: a query analysed differently would miss words.
DESCRIPTION = {
    "tokenizer": "whoosh RegexTokenizer (words)",
    "filters": "lowercase, accent folding, stop words, nltk snowball english stemmer",
    "vocabularies": "words (lowercase, accent folding), names (capitalised words)",
    "stop_words_sha1": hashlib.sha1(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
}
