"""What a search asks of the engine: the query's shape, its filters and its limits (no Whoosh).

Every query has one shape, built here for text without query syntax and by ``query`` (with
Whoosh's parser) for text with it: the words OR-ed over the text field and the title (at
``title_weight``), and the same words AND-ed as a bonus worth ALL_WORDS_BONUS of their score,
so that paragraphs with every word come first; then the filters AND-ed to it. A word the
analyzer splits into several terms ("U.S.-led") matches any of them in the OR and all of them
in one field in the AND, as Whoosh's parser joins them.

Text without syntax (no quotes, parentheses, field names, wildcards, boosts, ranges, + or -
before a word, or operator words; see ``is_plain``) never goes through Whoosh's parser: its
tree is built here directly, the same one the parser builds (tests/test_engine.py compares
them), without importing Whoosh. So is plain text around one quoted phrase (``one_phrase``: a
quotation, which is searched with its words), where the index's arrays hold positions.

Two kinds of help, both from the corpus's own vocabulary:
- name variants: a capitalised query word of at least NAME_MIN_LETTERS letters that is a rare
  name in the corpus (in at most RARE_NAME_SHARE of the paragraphs, and written capitalised in
  at least NAME_SHARE of those) also matches the names written within one edit (two for names
  of 8+ letters) of it with the same first letter, at VARIANT_BOOST of the weight:
  "Tikhanovskaya" finds "Tkhanovskaya" and "Takhanovskaya", and ordinary words that open a
  sentence ("Sheep") are no names;
- did you mean: when a query finds fewer than FEW_RESULTS paragraphs, each word the corpus does
  not hold is replaced by the closest word of the corpus (within one edit for words of up to 5
  letters, two for longer ones; never a stop word), and the corrected query is offered if it
  finds more. A word the corpus holds is kept: any word swapped for a commoner one finds more,
  so "quartermaster ledger" would get "quartermaster leader", and "hadn't" "had't".
"""

import re
import time as clock
import unicodedata
from datetime import date, datetime, time, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Tuple, Union

from .. import arguments
from ..config import MAX_QUERY_CHARS
from ..errors import QueryError
from ..index import wordterms
from ..index.layout import FIELD_NAMES, TEXT_FIELD, TITLE_FIELD
from ..index.rankarrays import datetime_to_long
from ..index.vocabulary import folded
from ..model import INDEXED_KINDS, Record
from . import translit
from .engine import AllOf, AnyOf, Node, Nothing, Phrase, Restrict, Term, idf

MAX_WORD_CHARS = 100
VARIED_WORDS_MOST = 8  # a query of more words is text pasted, not typed
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
# Plain words are OR-ed, and a paragraph that has all of them gets this share of its score
# again as a bonus. (Whoosh's own coordination factor, OrGroup.factory, scores one-word
# queries 0.)
ALL_WORDS_BONUS = 0.5

_NAME = re.compile(r"(?<![\w:])[A-Z][^\W\d_]*(?:['’-][^\W\d_]+)*(?![\w:])")
_PLAIN_WORD = re.compile(r"(?<![\w:*?~^])[^\W\d_]{3,}(?![\w:*?~^])")
_SURROGATE = re.compile("[\ud800-\udfff]")
# What Whoosh's parser (with searchkit's + and - plugin, without its single quotes) reads as
# syntax; a + or - inside or at the end of a word (C++, U.S.-led) is part of the word.
_SYNTAX = re.compile(r"""["():\[\]{}*?^~\\]|(?<![^\s(])[+-]""")
# A quoted phrase standing apart, with a slop as Whoosh's PhrasePlugin reads one
_QUOTED = re.compile(r'(?<!\S)"([^"\n]*)"(?:~([1-9][0-9]*))?(?!\S)')


class Filters(Record):
    """Restrictions given beside the query text (command-line flags, REPL settings). A str is
    read as the command line reads it: ``since="2020-08"`` is a date, ``sources="AFP"`` one
    source; UsageError for what cannot be read so (a kind other than INDEXED_KINDS)."""

    since: Optional[date] = None
    until: Optional[date] = None
    sources: Tuple[str, ...] = ()
    kinds: Tuple[str, ...] = ()
    __signature__ = None  # help() shows what __init__ takes (a str too), not the fields

    def __init__(self, since: Union[date, str, None] = None, until: Union[date, str, None] = None,
                 sources: Union[str, Iterable[str]] = (),
                 kinds: Union[str, Iterable[str]] = ()) -> None:
        super().__init__(since, until, sources, kinds)
        vars(self).update(since=arguments.day("since", self.since),
                          until=arguments.day("until", self.until, end=True),
                          sources=arguments.names("sources", self.sources),
                          kinds=arguments.names("kinds", self.kinds, INDEXED_KINDS))

    @property
    def dated(self) -> bool:
        return bool(self.since or self.until)


class Plan:
    """A query ready to run: its tree (filters included) and what to tell about it."""

    def __init__(self, query: Node, note: Optional[str] = None, date_limited: bool = False,
                 undated: Optional[Node] = None,
                 variants: Optional[Dict[str, Tuple[str, ...]]] = None,
                 notes: Tuple[str, ...] = ()):
        self.query = query
        self.note = note  # how the text was reinterpreted, if it was
        self.date_limited = date_limited  # a date restriction leaves out undated paragraphs
        self.undated = undated  # the query without its date restrictions
        self.variants = variants or {}  # query word -> the spellings of it also searched
        # What else the user should know: characters not searchable, an unknown field, a part
        # left out, Chinese or Japanese text (one line each).
        self.notes = notes


def clean(text: str) -> str:
    """The query text with lone surrogates (from a broken terminal or file) made valid and
    the white space around it left out (a paste's last line break), after checking its size."""
    text = _SURROGATE.sub("\ufffd", text).strip()
    check_text(text)
    if not text:
        raise QueryError("the query is empty; give some words to search for")
    return text


def check_size(text: str) -> None:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(text)} characters long; the most is {MAX_QUERY_CHARS}"
        )
    # words as the index makes them: a web address pasted beside a quotation is many
    longest = max((len(word) for word in wordterms.TOKEN.findall(text)), default=0)
    if longest > MAX_WORD_CHARS:
        raise QueryError(f"a word of {longest} characters; the most is {MAX_WORD_CHARS}")
    depth = deepest = 0
    for char in re.sub(r'"[^"]*"', "", text):  # parentheses inside a phrase are just text
        depth += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise QueryError(f"parentheses nested {deepest} deep; the most is {MAX_DEPTH}")


def check_text(text: str) -> None:
    """QueryError for a query refused by its text alone (too long, too deep): before the
    index is opened, the parser or the stemmer run. (A wildcard too early in a word is read
    as text: ``typed``.)"""
    check_size(arguments.text("text", text).strip())  # (as ``clean`` keeps it)


_FIELD_NAME = re.compile(r"(?<![\w:/])([^\W\d]\w*):(?=[^\s/])")
# Characters the tokenizer never makes words of and that are no query syntax: £, €, ©, ...
_QUERY_SYNTAX = set("+-~^<>=|`")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NEGATION = re.compile(r"(?:^|[\s(])[-!][\w(\"]|\bNOT\b|\bANDNOT\b")


def quoted(text: str, most: int = 80) -> str:
    """``text`` as a message names it: quoted, and cut to ``most`` characters (a pasted text
    may be thousands; a message is one line)."""
    return repr(text if len(text) <= most else text[:most - 1] + "…")


def unquoted(text: str) -> str:
    """The text with its quoted phrases blanked out (a phrase holds no syntax)."""
    return re.sub(r'"[^"]*"', lambda m: " " * len(m.group()), text)


def _symbols(text: str) -> str:
    """The symbols of ``text`` no word is made of (£, €, ©): the index holds none."""
    found = [c for c in text if unicodedata.category(c).startswith("S")
             and c not in _QUERY_SYNTAX]
    return " ".join(dict.fromkeys(found))


def text_notes(text: str) -> Tuple[str, ...]:
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
    for name in dict.fromkeys(_FIELD_NAME.findall(unquoted(text))):
        if name in FIELD_NAMES:
            continue
        hint = (f"field names are lower case: {name.lower()}:" if name.lower() in FIELD_NAMES
                else "fields are title:, source:, kind: and date:")
        notes.append(f"{name}: is not a field, so {name} was searched as a word; {hint}")
    return tuple(notes)


def nothing_to_search(text: str, left_out: list) -> str:
    """Why a query left nothing to search for, and what to do."""
    if left_out:
        return left_out[0].replace(", so it was left out;", ":", 1)
    words = re.findall(r"\w+", unquoted(text).replace('"', " ")) or re.findall(r"\w+", text)
    if words and all(w.lower() in wordterms.STOP_WORDS for w in words):
        return (f"only stop words ({', '.join(dict.fromkeys(w.lower() for w in words))}), "
                "which are too common to be indexed; add a word that says what you look for")
    if _NEGATION.search(text):
        return ("the query only leaves paragraphs out; add words to search for, "
                "e.g. 'Merkel -Putin'")
    symbols = _symbols(text)
    if symbols:
        return (f"{symbols} cannot be searched for: only letters and digits are indexed; "
                "give words")
    if "*" in text:
        return "'*' alone would match every paragraph; give words to search for"
    return f"nothing to search for in {quoted(text)}; give words (stop words are not indexed)"


def closest_names(name: str, known, frequency, most: int = 3) -> list:
    """The ``known`` names (sources) most like ``name``: those holding it (or held in it),
    then by spelling; if none is alike, the commonest by ``frequency``."""
    import difflib

    holding = sorted(k for k in known if name in k or k in name)
    alike = difflib.get_close_matches(name, sorted(known), n=most, cutoff=0.5)
    chosen = list(dict.fromkeys(holding + alike))[:most]
    if not chosen:
        chosen = sorted(known, key=lambda k: -frequency(k))[:most]
    return chosen


def is_plain(text: str) -> bool:
    """Whether ``text`` holds no query syntax, so that its words are all it says."""
    return not _SYNTAX.search(text) and not any(w in OPERATORS for w in text.split())


def one_phrase(text: str) -> Optional[Tuple[str, str, int, str]]:
    """(the text before, the phrase, its slop, the text after) of plain text around one
    quoted phrase, else None."""
    found = _QUOTED.search(text)
    if found is None:
        return None
    before, after = text[:found.start()], text[found.end():]
    if not (is_plain(before) and is_plain(after)):
        return None
    return before, found.group(1), int(found.group(2) or 1), after


def time_limit(seconds: float) -> Callable[[], None]:
    """A check to call as a search goes: QueryError once ``seconds`` have passed."""
    deadline = clock.monotonic() + seconds

    def check() -> None:
        if clock.monotonic() > deadline:
            raise QueryError(f"the search took over {seconds:g} s and was stopped; "
                             "narrow the query")
    return check


def has_names(text: str) -> bool:
    """Whether ``text`` is a query whose names are searched in their other spellings too:
    it holds a capitalised word that may be a name, and is no longer than a query typed
    (VARIED_WORDS_MOST words; longer text is pasted from an article, and its other words
    find its source: its names are searched as written). Only then does a search need the
    vocabulary for them."""
    return len(text.split()) <= VARIED_WORDS_MOST and \
        any(name not in OPERATORS for name in _NAME.findall(text))


# -- plain text -> tree ------------------------------------------------------------------------
# Trees are first built as tuples, so that equal parts compare equal as Whoosh's queries do
# (Whoosh drops a repeated part, and skips the bonus when it would repeat the query):
# ("term", field, text, boost), ("or", parts, boost), ("and", parts, boost).


def distinct_terms(text: str) -> int:
    """How many different terms the words of ``text`` search."""
    return len({t for word in text.split() for t in wordterms.terms(word)})


def plain_plan(text: str, filters: Filters, title_weight: float,
               vocabulary=None, frequency: Optional[Callable[[str], int]] = None) -> Plan:
    """The plan of text without query syntax (``is_plain``), or of plain text around one
    quoted phrase (``one_phrase``). A text of over MAX_CLAUSES different terms (a pasted
    paragraph) searches the MAX_CLAUSES of them in fewest paragraphs by ``frequency`` (a
    term's paragraph count), with a note; without ``frequency`` it is refused."""
    quoted = one_phrase(text) if '"' in text else None
    before, phrase, slop, after = quoted or (text, None, 1, "")
    words = [terms for terms in map(wordterms.terms, before.split()) if terms]
    at = len(words)  # where the phrase stands among the words
    words += [terms for terms in map(wordterms.terms, after.split()) if terms]
    phrase_terms = wordterms.terms(phrase) if phrase is not None else []
    if not words and not phrase_terms:
        raise QueryError(nothing_to_search(text, []))
    distinct = dict.fromkeys(t for terms in words + [phrase_terms] for t in terms)
    notes: Tuple[str, ...] = ()
    if len(distinct) > MAX_CLAUSES:
        if frequency is None or phrase is not None:
            raise QueryError(f"the query has {len(distinct)} words; the most is {MAX_CLAUSES}")
        counts = {t: frequency(t) for t in distinct}
        # A term no paragraph has matches nothing: the rarest that match say most.
        kept = set(sorted(distinct, key=lambda t: (counts[t] == 0, counts[t]))[:MAX_CLAUSES])
        words = [w for w in ([t for t in terms if t in kept] for terms in words) if w]
        notes = (f"a long text: searched for its {MAX_CLAUSES} rarest words of "
                 f"{len(distinct)}",)
    fields = ((TEXT_FIELD, 1.0), (TITLE_FIELD, title_weight))
    any_parts = [[("term", f, t, b) for f, b in fields for t in terms] for terms in words]
    all_parts = [_word_all(terms, fields) for terms in words]
    if phrase is not None:
        phrases = _normalized("or", [_phrase(f, phrase_terms, slop, b) for f, b in fields])
        any_parts.insert(at, [phrases])
        all_parts.insert(at, phrases)
    any_words = _normalized("or", [part for parts in any_parts for part in parts])
    all_words = _normalized("and", all_parts)
    found = name_variants(text, vocabulary) if vocabulary else {}
    stems = variant_stems(found, vocabulary) if found else {}
    query = _node(any_words, stems)
    if all_words is not None and all_words != any_words:
        bonus = _node(all_words, stems)
        bonus.boost = ALL_WORDS_BONUS
        query = AnyOf([query, bonus])
    restrictions = filter_nodes(filters)
    undated = None
    if filters.dated:
        undated = restricted(query, [r for r in restrictions if r.column != "date"])
    return Plan(restricted(query, restrictions), None, filters.dated, undated, found,
                notes + text_notes(text))


def _phrase(field: str, terms: List[str], slop: int, boost: float) -> Optional[tuple]:
    """A phrase as Whoosh normalizes it: none for no word, a term (its boost dropped, as
    Whoosh drops it) for one."""
    if not terms:
        return None
    if len(terms) == 1:
        return ("term", field, terms[0], 1.0)
    return ("phrase", field, tuple(terms), slop, boost)


def _word_all(terms: List[str], fields) -> tuple:
    """One word's part of the all-words query: in either field, all its terms."""
    return _normalized("or", [_normalized("and", [("term", f, t, b) for t in terms])
                              for f, b in fields])


def _normalized(kind: str, parts: list):
    """A compound part as Whoosh normalizes it: nested parts of the same kind merged,
    repeated parts dropped, one part standing for itself, none for nothing (None)."""
    flat = []
    for part in parts:
        if part is None:
            continue
        if part[0] == kind and part[2] == 1.0:
            flat.extend(part[1])
        else:
            flat.append(part)
    unique = list(dict.fromkeys(flat))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    return (kind, tuple(unique), 1.0)


def _node(part, stems: Dict[str, List[str]]) -> Node:
    if part is None:
        return Nothing()
    if part[0] == "phrase":
        return Phrase(*part[1:])
    if part[0] == "term":
        _, fieldname, text, boost = part
        others = stems.get(text)
        leaf = Term(fieldname, text, boost)
        if not others:
            return leaf
        return AnyOf([leaf] + [Term(fieldname, s, boost * b) for s, b in others])
    kind, parts, boost = part
    children = [_node(p, stems) for p in parts]
    return (AnyOf if kind == "or" else AllOf)(children, boost)


# -- filters -----------------------------------------------------------------------------------


def filter_nodes(filters: Filters) -> List[Restrict]:
    """The filters as restrictions, in the order the query ANDs them."""
    nodes = []
    if filters.dated:
        low = datetime_to_long(datetime.combine(filters.since, time.min)) \
            if filters.since else None
        high = datetime_to_long(datetime.combine(filters.until, time.max)) \
            if filters.until else None
        nodes.append(Restrict("date", low=low, high=high))
    if filters.sources:
        nodes.append(Restrict("source", tuple(s.lower() for s in filters.sources)))
    if filters.kinds:
        nodes.append(Restrict("kind", tuple(filters.kinds)))
    return nodes


def restricted(node: Node, restrictions: list) -> Node:
    return AllOf([node] + list(restrictions)) if restrictions else node


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


# -- help from the vocabulary --------------------------------------------------------------------


def name_variants(text: str, vocabulary) -> Dict[str, Tuple[str, ...]]:
    """Rare names of the query (outside its phrases) -> the other spellings of them the corpus
    has: the names with the same transliteration key (``translit``), and the names with the
    same first letter within one edit (two for names of 8+ letters) of the key that differ
    from it in vowels only (Lukashenka / Lukashenko). A variant written in lower case as often
    as a name (a common word) is left out; so are names that differ in a consonant (Greece
    for Greene, Yukon for Yukos, Gorton for Gordon)."""
    rare = max(3, RARE_NAME_SHARE * vocabulary.paragraphs)
    counts = vocabulary.words

    def is_name(word: str) -> bool:
        return vocabulary.names.get(word, 0) >= NAME_SHARE * counts.get(word, 0)

    found = {}
    for name in set(_NAME.findall(unquoted(text))) - OPERATORS:  # a phrase is never varied
        key = folded(name)
        if len(key) < NAME_MIN_LETTERS or counts.get(key, 0) > rare or not is_name(key):
            continue
        same, close = translit.spellings(key, vocabulary, 1 if len(key) < 8 else 2)
        spellings = [s for s in same + close if is_name(s)]
        if spellings:
            found[name] = tuple(sorted(spellings))
    return found


def variant_stems(found: Dict[str, Tuple[str, ...]], vocabulary) -> Dict[str, list]:
    """Stemmed query word -> (stemmed variant, boost) pairs, as the text field indexes them.
    A variant counts VARIANT_BOOST of the name typed, and less if it is rarer (its BM25 idf
    higher): a paragraph with a variant never outranks an equally good one with the name
    as typed."""
    stems = {}
    for name, spellings in found.items():
        stem = _stem(name)
        weight = _idf(vocabulary, folded(name))
        boosts = {}
        for spelling in spellings:
            other = _stem(spelling)
            if other != stem:
                boost = VARIANT_BOOST * min(1.0, weight / _idf(vocabulary, spelling))
                boosts[other] = min(boost, boosts.get(other, boost))
        stems[stem] = sorted(boosts.items())
    return stems


def _idf(vocabulary, word: str) -> float:
    """The ranking's idf of ``word`` from the vocabulary's paragraph counts."""
    return idf(vocabulary.paragraphs, vocabulary.words.get(word, 0))


def _stem(word: str) -> str:
    return next(iter(wordterms.terms(word)), word.lower())


def suggest(text: str, vocabulary) -> Optional[str]:
    """The query with each word the corpus does not hold replaced by the closest word of the
    corpus (the most frequent of the closest), or None if no word changed."""
    checked = []

    def closest(match):
        word = match.group(0)
        checked.append(word)
        if word in OPERATORS or len(checked) > SUGGEST_WORDS:
            return word
        key = folded(word)
        if vocabulary.words.get(key, 0):
            return word
        maxdist = 1 if len(key) <= 5 else 2  # "Sheep" is not a misspelt "She"
        for option in vocabulary.close_to(key, maxdist):
            if option not in wordterms.STOP_WORDS:  # never searched for, so never a correction
                return option.capitalize() if word[:1].isupper() else option
        return word

    corrected = _PLAIN_WORD.sub(closest, text)
    return corrected if corrected != text else None
