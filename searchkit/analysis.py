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


NAME_MARK = "^"  # vocabulary terms for words written with a capital letter start with it


def folded(word: str) -> str:
    """A word as the vocabulary holds it: lower case, accents folded."""
    return word.lower().translate(accent_map)


class VocabularyFilter(Filter):
    """Each word as written (lower case, accents folded, nothing dropped or stemmed) and, if
    it was written with a capital letter, once more marked as a name: "Tikhanovskaya" gives
    "tikhanovskaya" and "^tikhanovskaya". One pass over the text feeds both "did you mean"
    and name variants."""

    def __call__(self, tokens):
        for token in tokens:
            capital = token.text[:1].isupper()
            token.text = folded(token.text)
            yield token
            if capital:
                token.text = NAME_MARK + token.text
                yield token


def vocabulary_analyzer():
    return RegexTokenizer() | VocabularyFilter()


# What an index records about its analyzer: a query analysed differently would miss words.
DESCRIPTION = {
    "tokenizer": "whoosh RegexTokenizer (words)",
    "filters": "lowercase, accent folding, stop words, nltk snowball english stemmer",
    "vocabulary": "words lowercase and accent folded, capitalised ones also marked ^",
    "stop_words_sha1": hashlib.sha1(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
}
