"""User text -> a Whoosh query that is safe to run: parsed, bounded, with its filters.

What a query may not do, and what happens instead (docs/queries.md):
- text Whoosh's parser cannot read (`a ANDNOT ANDNOT `, `date:[TO*]`, `date:0000`): its words
  are searched, with a note;
- QueryError: an empty query or one of punctuation only; over MAX_QUERY_CHARS characters, a
  word over MAX_WORD_CHARS, over MAX_CLAUSES words, parentheses nested over MAX_DEPTH; `*`
  alone, a wildcard at the start of a word, under MIN_PREFIX letters before a wildcard, a
  wildcard or a word range ([a TO z]) matching over MAX_EXPANSIONS words of the index.

Two kinds of help, both from the corpus's own vocabulary:
- name variants: a capitalised query word of at least NAME_MIN_LETTERS letters that is a rare
  name in the corpus (in at most RARE_NAME_SHARE of the paragraphs, and written capitalised in
  at least NAME_SHARE of those) also matches the names written within one edit (two for names
  of 8+ letters) of it with the same first letter, at VARIANT_BOOST of the weight:
  "Tikhanovskaya" finds "Tkhanovskaya" and "Takhanovskaya", and ordinary words that open a
  sentence ("Sheep") are no names;
- did you mean: when a query finds fewer than FEW_RESULTS paragraphs, each word is replaced by
  the closest more frequent word of the corpus (within one edit for words of up to 5 letters,
  two for longer ones; never a stop word), and the corrected query is offered if it finds more.

QueryError says what to change; the command line exits with status 2 on it. The search itself
is bounded in time by the searcher.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Dict, Iterable, Optional, Tuple

from whoosh import query as whoosh_query
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup, PlusMinusPlugin

from . import analysis
from .errors import QueryError
from .schema import (
    DATE_FIELD,
    FILTER_FIELDS,
    SEARCH_FIELDS,
    TEXT_FIELD,
    TITLE_FIELD,
)
from .vocabulary import Vocabulary, folded

MAX_QUERY_CHARS = 1000
MAX_WORD_CHARS = 100
MAX_CLAUSES = 64
MAX_DEPTH = 16
MIN_PREFIX = 3
MAX_EXPANSIONS = 256
NAME_MIN_LETTERS = 5
RARE_NAME_SHARE = 0.1
NAME_SHARE = 0.8
VARIANT_BOOST = 0.3
FEW_RESULTS = 3
SUGGEST_WORDS = 10  # words of a query checked for "did you mean", at most
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO"})
_NAME = re.compile(r"(?<![\w:])[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*(?![\w:])")
_PLAIN_WORD = re.compile(r"(?<![\w:*?~^])[^\W\d_]{3,}(?![\w:*?~^])")

# Plain words are OR-ed, and a paragraph that has all of them gets this share of its score
# again as a bonus, so that paragraphs with every word of "dialogue with the opposition" come
# first. (Whoosh's own coordination factor, OrGroup.factory, scores one-word queries 0.)
ALL_WORDS_BONUS = 0.5

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Filters:
    """Restrictions given beside the query text (command-line flags, REPL settings)."""

    since: Optional[date] = None
    until: Optional[date] = None
    sources: tuple = ()
    kinds: tuple = ()

    @property
    def dated(self) -> bool:
        return bool(self.since or self.until)


@dataclass(frozen=True)
class Prepared:
    query: object  # the Whoosh query to run, filters included
    note: Optional[str]  # how the text was reinterpreted, if it was
    date_limited: bool  # a date restriction (flag or date: in the text) leaves out the undated
    undated_query: object  # the same query without its date restrictions, for counting those
    variants: Dict[str, Tuple[str, ...]]  # query word -> the spellings of it also searched
    # ``query`` is any_words OR all_words (boosted by ALL_WORDS_BONUS) when the text's words
    # were OR-ed with the all-words bonus, else any_words is ``query`` and all_words None.
    # Both carry the filters; all_words has no boost of its own.
    any_words: object = None
    all_words: object = None
    # What else the user should know: characters not searchable, an unknown field, a part left
    # out, Chinese or Japanese text (one line each).
    notes: Tuple[str, ...] = ()


def has_names(text: str) -> bool:
    """Whether ``text`` holds a capitalised word that may be a name with spelling variants
    (only then does a search need the vocabulary for them)."""
    return any(name not in OPERATORS for name in _NAME.findall(text))


class QueryBuilder:
    def __init__(self, schema, title_weight: float):
        self._analyzer = schema[TEXT_FIELD].analyzer
        self._fields = frozenset(schema.names())
        self._parsers = []
        for group in (OrGroup, AndGroup):
            parser = MultifieldParser(
                list(SEARCH_FIELDS),
                schema,
                fieldboosts={TEXT_FIELD: 1.0, TITLE_FIELD: title_weight},
                group=group,
            )
            # -word excludes, +word requires; only at the start of a word ("1987-04" is a date)
            parser.add_plugin(PlusMinusPlugin(r"(?<![^\s(])\+", r"(?<![^\s(])-"))
            self._parsers.append(parser)

    def prepare(
        self, text: str, filters: Filters, reader, vocabulary: Optional[Vocabulary] = None
    ) -> Prepared:
        """The query to run for ``text``; with a ``vocabulary``, rare names also match their
        close spellings."""
        text = _SURROGATE.sub("\ufffd", text)
        check_text(text)
        _check_filters(filters, reader)
        (any_words, all_words), note, notes = self._parse(text)
        _check_parsed(any_words, reader)
        found = self._name_variants(text, vocabulary) if vocabulary else {}
        if found:
            stems = self._stems(found)
            any_words = _with_variants(any_words, stems)
            all_words = _with_variants(all_words, stems) if all_words else None
        parsed = any_words
        if all_words:
            parsed = whoosh_query.Or([any_words, all_words.with_boost(ALL_WORDS_BONUS)])
        restrictions = _filter_queries(filters)

        def restricted(query):
            return whoosh_query.And([query] + restrictions) if restrictions else query

        in_text_dates = DATE_FIELD in _fields(parsed)
        final = restricted(parsed)
        undated = final
        if filters.dated or in_text_dates:
            without = [r for r in restrictions if DATE_FIELD not in _fields(r)]
            base = _without_dates(parsed)
            undated = whoosh_query.And([base] + without) if without else base
        return Prepared(
            final,
            note,
            filters.dated or in_text_dates,
            undated,
            found,
            any_words=restricted(any_words) if all_words else final,
            all_words=restricted(all_words) if all_words else None,
            notes=tuple(notes) + _text_notes(text, self._fields),
        )

    def _name_variants(self, text: str, vocabulary) -> Dict[str, Tuple[str, ...]]:
        rare = max(3, RARE_NAME_SHARE * vocabulary.paragraphs)

        def is_name(word: str) -> bool:
            return vocabulary.names.get(word, 0) >= NAME_SHARE * vocabulary.words.get(word, 0)

        found = {}
        for name in set(_NAME.findall(text)) - OPERATORS:
            key = folded(name)
            if len(key) < NAME_MIN_LETTERS or vocabulary.words.get(key, 0) > rare:
                continue
            if not is_name(key):
                continue
            maxdist = 1 if len(key) < 8 else 2
            spellings = [s for s in vocabulary.close_to(key, maxdist, names=True) if is_name(s)]
            if spellings:
                found[name] = tuple(sorted(spellings))
        return found

    def _stems(self, found: Dict[str, Tuple[str, ...]]) -> Dict[str, list]:
        """Stemmed query word -> stemmed variants, as the text field indexes them."""
        stems = {}
        for name, spellings in found.items():
            stem = self._stem(name)
            stems[stem] = sorted({self._stem(s) for s in spellings} - {stem})
        return stems

    def _stem(self, word: str) -> str:
        return next((t.text for t in self._analyzer(word)), word.lower())

    def suggest(self, text: str, vocabulary) -> Optional[str]:
        """The query with each rare or unknown word replaced by the closest more frequent
        word of the corpus, or None if no word changed."""

        checked = []

        def closest(match):
            word = match.group(0)
            checked.append(word)
            if word in OPERATORS or len(checked) > SUGGEST_WORDS:
                return word
            key = folded(word)
            frequency = vocabulary.words.get(key, 0)
            maxdist = 1 if len(key) <= 5 else 2  # "Sheep" is not a misspelt "She"
            for option in vocabulary.close_to(key, maxdist):
                if option in analysis.STOP_WORDS:
                    continue  # never searched for, so never a correction
                if vocabulary.words[option] > frequency:
                    return option.capitalize() if word[:1].isupper() else option
            return word

        corrected = _PLAIN_WORD.sub(closest, text)
        return corrected if corrected != text else None

    def _parse(self, text: str):
        """The Whoosh query, a note if the text had to be read as plain words, and notes on
        parts left out. QueryError if nothing is left to search for."""
        if not text.strip():
            raise QueryError("the query is empty; give some words to search for")
        try:
            parsed, notes = self._with_bonus(text), self._left_out(text)
            note = None
        except QueryError:
            raise
        except Exception:  # Whoosh's parser raises assorted errors on some odd inputs
            # Lower case, so that words like AND or NOT are searched for, not obeyed.
            words = re.findall(r"\w+", text.lower())
            if not words:
                raise QueryError(
                    f"cannot read the query {text!r}; search for words, "
                    'a "quoted phrase", AND / OR / NOT, or field:value'
                ) from None
            note = "could not read the query as written; searched for the words: " + " ".join(
                words
            )
            parsed, notes = self._with_bonus(" ".join(words)), []
        if isinstance(parsed[0], type(whoosh_query.NullQuery)):
            raise QueryError(_nothing_to_search(text, notes))
        return parsed, note, notes

    def _left_out(self, text: str) -> list:
        """A note for each field:value of the text that Whoosh could not read and left out
        (date:0000, date:2020-13)."""
        notes = []
        for match in _FIELD_VALUE.finditer(_unquoted(text)):
            field, value = match.group(1), match.group(2)
            if field not in _VALUE_FIELDS:
                continue  # words and names: any value can be searched for
            if _has_error(self._parsers[0].parse(match.group(0), normalize=False)):
                what = "a date" if field == DATE_FIELD else "a number"
                how = ("write date:YYYY, date:YYYY-MM, date:YYYY-MM-DD or "
                       "date:[YYYY-MM TO YYYY-MM]" if field == DATE_FIELD
                       else "write paragraph:N")
                notes.append(f"{field}:{value} is not {what}, so it was left out; {how}")
        return notes

    def _with_bonus(self, text: str):
        """The query's words OR-ed, and the query with its words AND-ed for the all-words
        bonus (None when that would be the same query, or the query negates)."""
        any_words, all_words = (parser.parse(text) for parser in self._parsers)
        any_words = _restrictions_required(any_words)
        if any_words == all_words or _negates(any_words):
            # With NOT in it the query already narrows; and Whoosh 2.7's union matcher fails
            # (IndexError) on some OR of two negating queries, found by tests/test_fuzz.py.
            return any_words, None
        return any_words, all_words


def check_text(text: str) -> None:
    """QueryError for a query refused by its text alone (too long, too deep, a wildcard too
    early in a word): before the index is opened, the parser or the stemmer run."""
    _check_size(text)
    for word in _WILDCARD_WORD.findall(_unquoted(text)):
        word = word.split(":", 1)[-1].lstrip("+-(")
        if word == "*":
            raise QueryError("'*' alone would match every paragraph; give words to search for")
        if len(re.split(r"[*?]", word)[0]) < MIN_PREFIX:
            raise QueryError(
                f"{word.lower()!r}: give at least {MIN_PREFIX} letters before a wildcard (* or ?)"
            )


_VALUE_FIELDS = (DATE_FIELD, "paragraph")  # fields whose values Whoosh may fail to read
# A word with a wildcard, with what may come before it (a field, a sign, a parenthesis).
_WILDCARD_WORD = re.compile(r"(?<![^\s(])[^\s()\[\]]*[*?][^\s()\[\]]*")
_FIELD_VALUE = re.compile(r"(?<![\w:])([A-Za-z_]\w*):(\[[^\]]*\]?|[^\s()\[]+)")
_FIELD_NAME = re.compile(r"(?<![\w:/])([^\W\d]\w*):(?=[^\s/])")
# Characters the tokenizer never makes words of and that are no query syntax: £, €, ©, ...
_QUERY_SYNTAX = set("+-~^<>=|`")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NEGATION = re.compile(r"(?:^|[\s(])[-!]\w|\bNOT\b|\bANDNOT\b")


def _unquoted(text: str) -> str:
    """The text with its quoted phrases blanked out (a phrase holds no syntax)."""
    return re.sub(r'"[^"]*"', lambda m: " " * len(m.group()), text)


def _has_error(query) -> bool:
    if getattr(query, "error", None):
        return True
    return not query.is_leaf() and any(_has_error(child) for child in query.children())


def _symbols(text: str) -> str:
    """The symbols of ``text`` no word is made of (£, €, ©): the index holds none."""
    found = [c for c in text if unicodedata.category(c).startswith("S")
             and c not in _QUERY_SYNTAX]
    return " ".join(dict.fromkeys(found))


def _text_notes(text: str, fields) -> Tuple[str, ...]:
    """What to tell about a query that runs: characters that are not searchable, Chinese or
    Japanese text, a field name that is no field."""
    notes = []
    symbols = _symbols(text)
    if symbols:
        notes.append(f"{symbols} cannot be searched for (only letters and digits are "
                     "indexed); searched for the rest")
    cjk = _CJK.findall(text)
    if cjk:
        notes.append(f"Chinese and Japanese text is not split into words: {cjk[0]} is found "
                     "only where it stands apart (between spaces or punctuation)")
    for name in dict.fromkeys(_FIELD_NAME.findall(_unquoted(text))):
        if name in fields:
            continue
        hint = (f"field names are lower case: {name.lower()}:" if name.lower() in fields
                else "fields are title:, source:, kind: and date:")
        notes.append(f"{name}: is not a field, so {name} was searched as a word; {hint}")
    return tuple(notes)


def _nothing_to_search(text: str, left_out: list) -> str:
    """Why a query left nothing to search for, and what to do."""
    if left_out:
        return left_out[0].replace(", so it was left out;", ":", 1)
    words = re.findall(r"\w+", _unquoted(text).replace('"', " ")) or re.findall(r"\w+", text)
    if words and all(w.lower() in analysis.STOP_WORDS for w in words):
        return (f"only stop words ({', '.join(dict.fromkeys(w.lower() for w in words))}), "
                "which are too common to be indexed; add a word that says what you look for")
    if _NEGATION.search(text):
        return ("the query only leaves paragraphs out; add words to search for, "
                "e.g. 'Merkel -Putin'")
    symbols = _symbols(text)
    if symbols:
        return (f"{symbols} cannot be searched for: only letters and digits are indexed; "
                "give words")
    return f"nothing to search for in {text!r}; give words (stop words are not indexed)"


def _check_filters(filters: Filters, reader) -> None:
    """QueryError for filters nothing can pass: a start date after the end date, a source the
    index does not have (with the closest it has)."""
    if filters.since and filters.until and filters.since > filters.until:
        raise QueryError(
            f"the start date {filters.since} (since) is after the end date {filters.until} "
            "(until): nothing can match; swap them"
        )
    if not filters.sources:
        return
    known = {term.decode("utf-8") for term in reader.lexicon("source")} - {""}  # "": unknown
    for source in filters.sources:
        if source.lower() in known:
            continue
        if not known:
            raise QueryError(f"no source {source!r}: no article in the index has a known source "
                             "(searchkit index --source NAME gives them one)")
        raise QueryError(f"no source {source!r} in the index; the closest: "
                         + ", ".join(_closest(source.lower(), known, reader)))


def _closest(name: str, known, reader, most: int = 3) -> list:
    """The known sources most like ``name``: those holding it (or held in it), then by
    spelling; if none is alike, the commonest."""
    import difflib

    holding = sorted(k for k in known if name in k or k in name)
    alike = difflib.get_close_matches(name, sorted(known), n=most, cutoff=0.5)
    chosen = list(dict.fromkeys(holding + alike))[:most]
    if not chosen:
        chosen = sorted(known, key=lambda k: -reader.doc_frequency("source", k))[:most]
    return chosen


def _check_size(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(text)} characters long; the most is {MAX_QUERY_CHARS}"
        )
    longest = max((len(word) for word in text.split()), default=0)
    if longest > MAX_WORD_CHARS:
        raise QueryError(f"a word of {longest} characters; the most is {MAX_WORD_CHARS}")
    depth = deepest = 0
    for char in re.sub(r'"[^"]*"', "", text):  # parentheses inside a phrase are just text
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise QueryError(f"parentheses nested {deepest} deep; the most is {MAX_DEPTH}")


def _check_parsed(parsed, reader) -> None:
    leaves = [parsed] if parsed.is_leaf() else list(parsed.leaves())
    words = {getattr(leaf, "text", None) for leaf in leaves}  # each word is asked of each field
    if len(words) > MAX_CLAUSES:
        raise QueryError(f"the query has {len(words)} words; the most is {MAX_CLAUSES}")
    for leaf in leaves:
        if isinstance(leaf, whoosh_query.Every):  # "*" or "field:*"
            raise QueryError("'*' alone would match every paragraph; give words to search for")
        if isinstance(leaf, (whoosh_query.Wildcard, whoosh_query.Prefix)):
            _check_wildcard(leaf, reader)
        elif isinstance(leaf, whoosh_query.TermRange):  # [a TO z] over words
            _check_expansions(leaf, reader, f"[{leaf.start or '*'} TO {leaf.end or '*'}]",
                              "narrow the range")


def _check_wildcard(leaf, reader) -> None:
    shown = leaf.text + ("*" if isinstance(leaf, whoosh_query.Prefix) else "")
    fixed = re.split(r"[*?]", leaf.text)[0]
    if len(fixed) < MIN_PREFIX:
        raise QueryError(
            f"{shown!r}: give at least {MIN_PREFIX} letters before a wildcard (* or ?)"
        )
    _check_expansions(leaf, reader, shown, "give more letters before the wildcard")


def _check_expansions(leaf, reader, shown: str, advice: str) -> None:
    for count, _ in enumerate(leaf.expanded_terms(reader), start=1):
        if count > MAX_EXPANSIONS:
            raise QueryError(
                f"{shown!r} matches more than {MAX_EXPANSIONS} different words; {advice}"
            )


def date_bound(text: str, end: bool = False) -> date:
    """"2020", "2020-08" or "2020-08-18" as the first day of that period (the last with
    ``end``); QueryError for anything else."""
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text.strip())
    try:
        if not match:
            raise ValueError
        year, month, day = (int(g) if g else None for g in match.groups())
        if day:
            return date(year, month, day)
        if month:
            first = date(year, month, 1)
            if not end:
                return first
            return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return date(year, 12, 31) if end else date(year, 1, 1)
    except ValueError:
        raise QueryError(f"{text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD") from None


def _filter_queries(filters: Filters) -> list:
    queries = []
    if filters.dated:
        start = datetime.combine(filters.since, time.min) if filters.since else None
        end = datetime.combine(filters.until, time.max) if filters.until else None
        queries.append(whoosh_query.DateRange(DATE_FIELD, start, end))
    if filters.sources:
        queries.append(_any_of("source", (s.lower() for s in filters.sources)))
    if filters.kinds:
        queries.append(_any_of("kind", filters.kinds))
    return queries


def _any_of(field: str, values: Iterable[str]):
    return whoosh_query.Or([whoosh_query.Term(field, value) for value in values])


def _without_dates(query):
    """The query with its date restrictions dropped (an empty query matches everything)."""
    if query.is_leaf():
        return whoosh_query.Every() if getattr(query, "fieldname", None) == DATE_FIELD else query
    return query.apply(_without_dates)


def _with_variants(query, stems: Dict[str, list]):
    """Each searched word that has variants becomes (word OR variant^VARIANT_BOOST ...), so
    that the exact spelling counts most. (Whoosh's DisjunctionMax would fit better, but its
    matcher gives every paragraph the same score.)"""
    if not query.is_leaf():
        return query.apply(lambda sub: _with_variants(sub, stems))
    if isinstance(query, whoosh_query.Term) and query.fieldname in SEARCH_FIELDS:
        others = stems.get(query.text)
        if others:
            boost = query.boost * VARIANT_BOOST
            return whoosh_query.Or(
                [query] + [whoosh_query.Term(query.fieldname, s, boost=boost) for s in others]
            )
    return query


def _restrictions_required(query):
    """Under OR-ed words, NOT clauses and filters on metadata fields (kind:, source:, ...)
    narrow the results instead of widening them: "Trump kind:caption NOT Putin" means
    Trump AND kind:caption AND NOT Putin. Whoosh's OrGroup would OR them all, so that
    "a NOT b" matched nearly every paragraph.
    """
    if not query.is_leaf():
        query = query.apply(_restrictions_required)
    if not isinstance(query, whoosh_query.Or):
        return query
    negated, filters, wanted = [], [], []
    for sub in query.subqueries:
        if isinstance(sub, whoosh_query.Not):
            negated.append(sub.query)
        elif _fields(sub) <= FILTER_FIELDS:
            filters.append(sub)
        else:
            wanted.append(sub)
    if not wanted or not (negated or filters):
        return query
    result = whoosh_query.Or(wanted, boost=query.boost) if len(wanted) > 1 else wanted[0]
    if filters:
        by_field = {}
        for sub in filters:  # kind:body kind:caption -> either; kind:body source:x -> both
            by_field.setdefault(frozenset(_fields(sub)), []).append(sub)
        result = whoosh_query.And([result] + [whoosh_query.Or(subs) for subs in by_field.values()])
    if negated:
        result = whoosh_query.AndNot(result, whoosh_query.Or(negated))
    return result


def _negates(query) -> bool:
    if isinstance(query, (whoosh_query.Not, whoosh_query.AndNot)):
        return True
    return not query.is_leaf() and any(_negates(child) for child in query.children())


def _fields(query) -> set:
    leaves = [query] if query.is_leaf() else list(query.leaves())
    return {getattr(leaf, "fieldname", None) for leaf in leaves}
