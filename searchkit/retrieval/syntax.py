"""Text with query syntax -> a Whoosh query that is safe to run, parsed by Whoosh's parser, with
its filters; and that query as the engine's tree (``plan`` builds the tree itself for text
without syntax, and holds the limits and the query's shape).

What a query may not do, and what happens instead (docs/queries.md):
- text Whoosh's parser cannot read (`a ANDNOT ANDNOT `, `date:[TO*]`, `date:0000`): its words
  are searched, with a note;
- QueryError: an empty query or one of punctuation only; over MAX_QUERY_CHARS characters, a
  word over MAX_WORD_CHARS, over MAX_CLAUSES words, parentheses nested over MAX_DEPTH; `*`
  alone, a wildcard at the start of a word, under MIN_PREFIX letters before a wildcard, a
  wildcard or a word range ([a TO z]) matching over MAX_EXPANSIONS words of the index.

QueryError says what to change; the command line exits with status 2 on it. The search itself
is bounded in time by the searcher.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Dict, Iterable, Optional, Tuple

import numpy as np
from whoosh import query as whoosh_query
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup, PlusMinusPlugin
from whoosh.qparser.plugins import SingleQuotePlugin
from whoosh.reading import TermNotFound

from ..errors import QueryError
from ..index.schema import DATE_FIELD, FILTER_FIELDS, SEARCH_FIELDS, TEXT_FIELD, TITLE_FIELD
from ..index.rankarrays import DISAGREE
from ..index.vocabulary import Vocabulary
from . import engine
from .plan import (
    ALL_WORDS_BONUS,
    MAX_CLAUSES,
    MAX_EXPANSIONS,
    MIN_PREFIX,
    Filters,
    Plan,
    clean,
    date_bound,
    name_variants,
    nothing_to_search,
    quoted,
    text_notes,
    time_limit,
    unquoted,
    variant_stems,
)


@dataclass(frozen=True)
class Prepared:
    query: object  # the Whoosh query to run, filters included
    note: Optional[str]  # how the text was reinterpreted, if it was
    date_limited: bool  # a date restriction (flag or date:) left out undated matches of words
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


class QueryBuilder:
    def __init__(self, schema, title_weight: float):
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
            # 'single quotes' are text: pasted quotations hold them, and they made one term
            parser.remove_plugin_class(SingleQuotePlugin)
            self._parsers.append(parser)

    def prepare(
        self, text: str, filters: Filters, reader, vocabulary: Optional[Vocabulary] = None
    ) -> Prepared:
        """The query to run for ``text``; with a ``vocabulary``, rare names also match their
        close spellings."""
        text = clean(text)
        (any_words, all_words), note, notes = self._parse(text)
        _check_parsed(any_words, reader)
        found = name_variants(text, vocabulary) if vocabulary else {}
        if found:
            stems = variant_stems(found, vocabulary)
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
        # (with no words, every undated paragraph "would have matched": nothing to tell)
        date_limited = (filters.dated or in_text_dates) and any(
            getattr(leaf, "fieldname", None) in SEARCH_FIELDS for leaf in _positive_leaves(parsed))
        if date_limited:
            without = [r for r in restrictions if DATE_FIELD not in _fields(r)]
            base = _without_dates(parsed)
            undated = whoosh_query.And([base] + without) if without else base
        return Prepared(
            final,
            note,
            date_limited,
            undated,
            found,
            any_words=restricted(any_words) if all_words else final,
            all_words=restricted(all_words) if all_words else None,
            notes=tuple(notes) + text_notes(text),
        )

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
                    f"cannot read the query {quoted(text)}; search for words, "
                    'a "quoted phrase", AND / OR / NOT, or field:value'
                ) from None
            note = "could not read the query as written; searched for the words: " + " ".join(
                words
            )
            parsed, notes = self._with_bonus(" ".join(words)), []
        if (isinstance(parsed[0], type(whoosh_query.NullQuery))
                or next(_positive_leaves(parsed[0]), None) is None):  # "NOT Putin"
            raise QueryError(nothing_to_search(text, notes))
        if _reversed_dates(parsed[0]):
            written = next((m.group(0) for m in _FIELD_VALUE.finditer(unquoted(text))
                            if m.group(1) == DATE_FIELD and _reversed_dates(
                                self._parsers[0].parse(m.group(0)))), "a date: range")
            raise QueryError(f"{written} starts after it ends: nothing can match; swap its "
                             "dates")
        return parsed, note, notes

    def _left_out(self, text: str) -> list:
        """A note for each field:value of the text that Whoosh could not read and left out
        (date:0000, date:2020-13)."""
        notes = []
        for match in _FIELD_VALUE.finditer(unquoted(text)):
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
        if _ONE_PHRASE.fullmatch(text):  # no words to group: OR and AND read it alike
            return _restrictions_required(self._parsers[0].parse(text)), None
        any_words, all_words = (parser.parse(text) for parser in self._parsers)
        any_words = _restrictions_required(any_words)
        if any_words == all_words or _negates(any_words):
            # With NOT in it the query already narrows; and Whoosh 2.7's union matcher fails
            # (IndexError) on some OR of two negating queries, found by tests/test_fuzz.py.
            return any_words, None
        return any_words, all_words


_ONE_PHRASE = re.compile(r'\s*"[^"]*"(~\d+)?\s*')  # a quoted phrase alone (slop allowed)
_VALUE_FIELDS = (DATE_FIELD, "paragraph")  # fields whose values Whoosh may fail to read
_FIELD_VALUE = re.compile(r"(?<![\w:])([A-Za-z_]\w*):(\[[^\]]*\]?|[^\s()\[]+)")


def _has_error(query) -> bool:
    if getattr(query, "error", None):
        return True
    return not query.is_leaf() and any(_has_error(child) for child in query.children())


def _reversed_dates(query) -> bool:
    """Whether ``query`` holds a date range that ends before it starts."""
    for leaf in [query] if query.is_leaf() else query.leaves():
        start, end = getattr(leaf, "start", None), getattr(leaf, "end", None)
        if getattr(leaf, "fieldname", None) == DATE_FIELD and None not in (start, end):
            if start > end:
                return True
    return False


def field_values(query) -> Tuple[tuple, tuple]:
    """The kinds and the sources ``query`` asks for as kind:X and source:X (those it leaves out
    aside), to be checked as --kind and --source are."""
    values = {"kind": [], "source": []}
    for leaf in _positive_leaves(query):
        if isinstance(leaf, whoosh_query.Term) and leaf.fieldname in values:
            values[leaf.fieldname].append(leaf.text)
    return tuple(values["kind"]), tuple(values["source"])


def _check_parsed(parsed, reader) -> None:
    leaves = [parsed] if parsed.is_leaf() else list(parsed.leaves())
    words = set()  # each word is asked of each field; a phrase asks each of its words
    for leaf in leaves:
        words.update(getattr(leaf, "words", None) or [getattr(leaf, "text", None)])
    words.discard(None)
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
    """Each searched word that has variants becomes (word OR variant^boost ...), so that the
    exact spelling counts most (``plan.variant_stems``). (Whoosh's DisjunctionMax would fit
    better, but its matcher gives every paragraph the same score.)"""
    if not query.is_leaf():
        return query.apply(lambda sub: _with_variants(sub, stems))
    if isinstance(query, whoosh_query.Term) and query.fieldname in SEARCH_FIELDS:
        others = stems.get(query.text)
        if others:
            return whoosh_query.Or([query] + [
                whoosh_query.Term(query.fieldname, s, boost=query.boost * b) for s, b in others])
    return query


def _restrictions_required(query):
    """Under OR-ed words, NOT clauses and filters on metadata fields (kind:, source:, ...)
    narrow the results instead of widening them: "Trump kind:caption NOT Putin" means
    Trump AND kind:caption AND NOT Putin, and "source:AFP kind:body NOT Putin" (filters
    alone) the AFP body paragraphs without Putin. Whoosh's OrGroup would OR them all, so that
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
    if not (wanted or filters) or not (negated or filters):
        return query  # (NOT clauses alone are refused by _parse: nothing is searched for)
    parts = [whoosh_query.Or(wanted, boost=query.boost) if len(wanted) > 1 else wanted[0]
             ] if wanted else []
    by_field = {}
    for sub in filters:  # kind:body kind:caption -> either; kind:body source:x -> both
        by_field.setdefault(frozenset(_fields(sub)), []).append(sub)
    parts += [whoosh_query.Or(subs) if len(subs) > 1 else subs[0] for subs in by_field.values()]
    result = whoosh_query.And(parts) if len(parts) > 1 else parts[0]
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


# -- Whoosh's query -> the engine's tree ---------------------------------------------------------


def plan_of(prepared: Prepared, searcher, evaluator: engine.Evaluator, seconds: float) -> Plan:
    """The engine's plan of a query Whoosh's parser read. ``searcher``: a Whoosh searcher
    (with BM25F) for the parts only Whoosh can match, on the commit ``evaluator`` (the
    engine) reads; ``seconds``: how long they may take."""
    convert = _Converter(searcher, evaluator, time_limit(seconds))
    return Plan(
        convert(prepared.query),
        prepared.note,
        prepared.date_limited,
        convert(prepared.undated_query) if prepared.date_limited else None,
        prepared.variants,
        prepared.notes,
    )


class _Converter:
    """Whoosh's Or, And, AndNot, Not and Terms of the searched fields become the engine's
    nodes; a phrase of a searched field is the engine's intersection of its words tested on
    their positions; any other part (a wildcard, a range, a field query) is matched and
    scored by Whoosh itself and handed over as its documents and scores."""

    def __init__(self, searcher, evaluator: engine.Evaluator, check_time):
        self.searcher = searcher
        self.evaluator = evaluator
        self._check_time = check_time  # QueryError once the search's time is up
        self._known = {}

    def __call__(self, query) -> engine.Node:
        kind = type(query)
        if query is whoosh_query.NullQuery:
            return engine.Nothing()
        if kind is whoosh_query.Term and query.fieldname in SEARCH_FIELDS:
            return engine.Term(query.fieldname, query.text, query.boost)
        if kind is whoosh_query.Or and not query.minmatch and not query.scale:
            return engine.AnyOf([self(q) for q in query.subqueries], query.boost)
        if kind is whoosh_query.And:
            return engine.AllOf([self(q) for q in query.subqueries], query.boost)
        if kind is whoosh_query.AndNot:
            return engine.Without(self(query.a), self(query.b))
        if kind is whoosh_query.AndMaybe:
            return engine.Maybe(self(query.a), self(query.b))
        if kind is whoosh_query.Not:
            return engine.NoneOf(self(query.query))
        if kind is whoosh_query.Phrase and query.fieldname in SEARCH_FIELDS and \
                len(query.words) > 1 and all(isinstance(w, str) for w in query.words):
            return self._phrase(query)
        return self._scored(query)

    def _phrase(self, query) -> engine.Scored:
        """What Whoosh's phrase matches and scores, found without its matcher walking each
        segment's postings: the engine's (``Evaluator.phrase``); for an index with segments
        written before the arrays had positions, the engine's intersection of the words,
        kept where their positions in Whoosh's postings follow one another."""
        try:
            return self._known[query]
        except KeyError:
            pass
        in_sequence = None if self.evaluator.generation.has_positions else self._from_postings
        phrase = self._known[query] = self.evaluator.phrase(
            engine.Phrase(query.fieldname, query.words, query.slop, query.boost),
            self._check_time, in_sequence)
        return phrase

    def _from_postings(self, field: str, words, docs: np.ndarray, slop: int,
                       check_time) -> np.ndarray:
        """Which of ``docs`` hold ``words`` in sequence, as their positions in Whoosh's
        postings say (``engine.Evaluator.in_sequence``'s arguments)."""
        keep = np.zeros(docs.size, dtype=bool)
        checked = 0
        for leaf, offset in self.searcher.leaf_searchers():
            check_time()
            low, high = np.searchsorted(docs, [offset, offset + leaf.doc_count_all()]).tolist()
            if low == high:
                continue
            reader = leaf.reader()
            postings = [_TermPositions(reader, field, word) for word in words]
            for at in range(low, high):
                doc = int(docs[at]) - offset
                keep[at] = _in_sequence([term.at(doc) for term in postings], slop)
                checked += 1
                if checked % 1024 == 0:
                    check_time()
        return keep

    def _scored(self, query) -> engine.Scored:
        """The documents Whoosh matches for ``query`` and their scores."""
        try:
            return self._known[query]
        except (KeyError, TypeError):
            pass
        searcher = self.searcher
        docs, scores = [], []
        # Segment by segment, as Whoosh's collector runs a query (a wildcard that expands to
        # one term in a segment is scored there as that term, to several at a constant 1.0).
        context = searcher.context()
        for leaf, offset in searcher.leaf_searchers():
            matcher = query.matcher(leaf, context)
            while matcher.is_active():
                docs.append(matcher.id() + offset)
                scores.append(matcher.score())
                matcher.next()
                if len(docs) % 4096 == 0:
                    self._check_time()
            self._check_time()
        docs = np.asarray(docs, dtype=np.int64)
        order = np.argsort(docs, kind="stable")
        found = engine.Scored(docs[order], np.asarray(scores, dtype=np.float64)[order],
                              _text_words(query, searcher.reader()))
        try:
            self._known[query] = found
        except TypeError:
            pass
        return found


class _TermPositions:
    """A term's positions in documents of one segment, asked for in ascending order. Whoosh's
    W3 matcher skips to a posting block by its last document, then steps through the block a
    posting at a time; here the block's documents are bisected (through the matcher's own
    fields: whoosh-reloaded is pinned, and any other matcher is stepped through)."""

    def __init__(self, reader, field: str, word: str):
        try:
            matcher = reader.postings(field, word)
        except TermNotFound:  # a word the arrays have in this segment and Whoosh has not
            raise engine.DamagedIndex(DISAGREE) from None
        if isinstance(matcher, FilterMatcher):  # deleted documents: never asked for here
            matcher = matcher.child
        self.matcher = matcher
        self.blocks = type(matcher) is W3LeafMatcher

    def at(self, doc: int) -> list:
        matcher = self.matcher
        if matcher.is_active():
            if not self.blocks:
                matcher.skip_to(doc)
            elif doc > matcher.block_max_id():
                matcher._skip_to_block(lambda: doc > matcher.block_max_id())
            if matcher.is_active() and self.blocks:
                if matcher._ids is None:
                    matcher._read_ids()
                matcher._i = bisect.bisect_left(matcher._ids, doc, matcher._i)
        if not matcher.is_active() or matcher.id() != doc:
            raise engine.DamagedIndex(DISAGREE)
        return matcher.value_as("positions")


def _in_sequence(positions: list, slop: int) -> bool:
    """Whether each word's positions (one list per word of a phrase) follow the last word's
    within ``slop`` (1: next to it), as Whoosh's SpanNear2 (ordered, at least one apart)
    joins spans: a span (start, end) takes a next word at p where end < p <= end + slop.
    Only where a span ends decides what may follow it, so the ends are all that is kept:
    the spans could be as many as the pairs of positions, the ends no more than a word's."""
    ends = sorted(positions[0])
    for following in positions[1:]:
        reached = []
        for p in sorted(following):
            before = bisect.bisect_left(ends, p)  # ends[before - 1]: the last end before p
            if before and ends[before - 1] >= p - slop:
                reached.append(p)
        if not reached:
            return False
        ends = reached
    return True


def _text_words(query, reader) -> frozenset:
    """The words of the text field a snippet marks where ``query`` (a leaf or a part the
    engine hands to Whoosh) matched: its terms the index has, not under a NOT."""
    field = reader.schema[TEXT_FIELD]
    words = set()
    for leaf in _positive_leaves(query):
        if getattr(leaf, "fieldname", None) == TEXT_FIELD:
            terms = leaf.existing_terms(reader, phrases=True, expand=True)
            words |= {field.from_bytes(text) for name, text in terms if name == TEXT_FIELD}
    return frozenset(words)


def _positive_leaves(query):
    if isinstance(query, whoosh_query.Not):
        return
    if isinstance(query, whoosh_query.AndNot):
        yield from _positive_leaves(query.a)
    elif query.is_leaf():
        yield query
    else:
        for child in query.children():
            yield from _positive_leaves(child)
