"""A TEXT field that indexes faster and gives exactly the postings of Whoosh's TEXT.

Whoosh's TEXT field runs every token of a document through the analyzer's chain of generator
filters (tokenizer, lower case, accent folding, stop words, stemmer) and then groups the tokens
by term (``formats.Positions.word_values``). Profiled on BBC that is about half of a build,
though the chain's filters treat each word on its own: the same word always becomes the same
term (or is dropped as a stop word). So this field splits the text with the tokenizer's own
regular expression, asks the analyzer once per distinct word what it makes of it, keeps the
answer in a dict, and builds the postings from the cached answers.

What stays exactly as Whoosh does it (tests/test_textfield.py compares the two):

* positions: Whoosh's StopFilter renumbers the words it keeps, so the first kept word keeps
  its tokenizer position and each later kept word is one more than the kept word before it;
* frequency, weight (each token weighs 1.0, times the field boost), the posting value
  (``Positions.encode``), UTF-8 term bytes and the order of the terms (first occurrence);
* the field length the writer sums from the frequencies.

Only the indexing path changes: the analyzer stays as it is for queries and highlighting.
Whoosh pickles the schema into the index, so this class must stay importable under this name.
Anything this shortcut was not checked for (another format, tokenizer or a list value) goes
through Whoosh's own TEXT.index.
"""

import re

from whoosh.analysis import CompositeAnalyzer, RegexTokenizer
from whoosh.fields import TEXT
from whoosh.formats import Positions

from . import analysis, wordterms

# Distinct words kept per field; past this the table starts again (bounded memory on any
# corpus: a word's term is quick to work out again, and a corpus's common words fit).
MAX_CACHED_WORDS = 100_000
_NOT_CACHED = object()
# RegexTokenizer's default expression (whoosh-reloaded's keeps "*" in words; Whoosh 2.7's
# did not) -> the same without its capturing group.
_NON_CAPTURING = {
    r"[\w\*]+(\.?[\w\*]+)*": r"[\w\*]+(?:\.?[\w\*]+)*",
    r"\w+(\.?\w+)*": r"\w+(?:\.?\w+)*",
}


class WordCachingText(TEXT):
    """``whoosh.fields.TEXT`` whose ``index`` analyses each distinct word only once."""

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_terms", None)  # a cache, not part of the schema
        state.pop("_words", None)
        state.pop("_one_position", None)
        state.pop("_index_analyzer", None)
        state.pop("_split", None)
        return state

    def _splitter(self):
        """The tokenizer's expression (without capturing groups, so that ``findall`` gives the
        words) if the shortcut applies to this field, else None."""
        words = self.__dict__.get("_words", _NOT_CACHED)
        if words is _NOT_CACHED:
            words = None
            analyzer = self.analyzer
            if (
                type(self.format) is Positions  # exactly these: a subclass may differ
                and isinstance(analyzer, CompositeAnalyzer)
                and type(analyzer.items[0]) is RegexTokenizer
                and not analyzer.items[0].gaps
                and not self.separate_spelling()
                and not self.vector
            ):
                expression = analyzer.items[0].expression
                if expression.pattern in _NON_CAPTURING:
                    words = re.compile(_NON_CAPTURING[expression.pattern], expression.flags)
                elif not expression.groups:
                    words = expression
            self._words = words
            self._split = None if words is None else (
                wordterms.split_words
                if (words.pattern, words.flags) == (wordterms.TOKEN.pattern, wordterms.TOKEN.flags)
                else words.findall)
            self._terms = {}
            # The index's own analyzer: a word's term is wordterms.indexed_term's, without the
            # analyzer's chain of generators
            self._index_analyzer = words is not None and analyzer == analysis.text_analyzer()
            self._one_position = {}  # position -> the encoded value of a term seen once there
        return words

    def word_pattern(self):
        """The compiled expression that splits a value into words as this field's tokenizer
        does, or None where the shortcut does not apply (then only ``index`` is exact)."""
        return self._splitter()

    def word_splitter(self):
        """``word_pattern().findall``, or for the index's own tokenizer the same split made
        faster (``wordterms.split_words``); None where the shortcut does not apply."""
        self._splitter()
        return self._split

    def term(self, word: str):
        """The UTF-8 term the analyzer indexes ``word`` (one word of ``word_pattern``) as, or
        None if it drops it; each distinct word analysed once."""
        if self._splitter() is None:
            raise ValueError("this field's analyzer is not split by words")
        term = self._terms.get(word, _NOT_CACHED)
        return self._term(word) if term is _NOT_CACHED else term

    def _term(self, word: str):
        """The UTF-8 term the analyzer indexes ``word`` as, or None if it drops it."""
        terms = self._terms
        if len(terms) >= MAX_CACHED_WORDS:
            terms.clear()
        if self._index_analyzer:
            found = wordterms.indexed_term(word)
            term = terms[word] = None if found is None else found.encode("utf-8")
            return term
        found = [t.text for t in self.analyzer(word, mode="index") if not t.stopped]
        if len(found) > 1:  # cannot happen for a single token; keep Whoosh honest anyway
            raise ValueError(f"the analyzer split the token {word!r} into {found!r}")
        term = found[0].encode("utf-8") if found else None
        terms[word] = term
        return term

    def index(self, value, **kwargs):
        split = self.word_splitter()
        if split is None or kwargs or not isinstance(value, str):
            return super().index(value, **kwargs)
        terms = self._terms
        term_of = terms.get
        positions = {}  # term -> its positions, in order of first occurrence
        pos = None
        for i, word in enumerate(split(value)):
            term = term_of(word, _NOT_CACHED)
            if term is _NOT_CACHED:
                term = self._term(word)
            if term is None:
                continue
            pos = i if pos is None else pos + 1  # StopFilter(renumber=True)
            found = positions.get(term)
            if found is None:
                positions[term] = [pos]
            else:
                found.append(pos)
        boost = self.format.field_boost
        encode = self.format.encode
        once = self._one_position  # most terms occur once in a paragraph: encode each
        postings = []  # position once, not once per posting
        for term, poslist in positions.items():
            n = len(poslist)
            if n == 1:
                value = once.get(poslist[0])
                if value is None:
                    value = once[poslist[0]] = encode(poslist)
            else:
                value = encode(poslist)
            postings.append((term, n, float(n) * boost, value))
        return postings
