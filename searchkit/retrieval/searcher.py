"""Search an index: the facade that turns a query into searchkit's own records.

Ranking, counting, collapsing near duplicates and facets run in ``engine`` over the segments'
ranking arrays; the shown hits' stored fields are read with ``storedfields`` and their snippets
made by ``snippets``. None of that imports Whoosh: a query without syntax, the most common
kind, never does; nor do ``show``, ``stats`` and ``duplicate_groups``, which read the
columns. Whoosh is opened (on the commit whose arrays are open) only for what only it can do:
parsing query syntax and matching phrases, wildcards and field queries.
"""

import bisect
import functools
import os
import re
import threading
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Concatenate, Dict, List, Optional, ParamSpec, Tuple, TypeVar, Union

import numpy as np

from .. import arguments
from ..config import SORTS, SearchOptions
from ..errors import IndexChangedError, IndexDamagedError, IndexEmptyError, IndexMissingError
from ..errors import NotFoundError
from ..errors import QueryError, SearchkitError
from ..index import integrity, layout, vocabulary, wordterms
from ..index.listing import in_number_order
from ..index.layout import (
    ARTICLE_ID_FIELD,
    DATE_FIELD,
    DATE_FROM_FIELD,
    GROUP_FIELD,
    ID_FIELD,
    KIND_FIELD,
    PARAGRAPH_FIELD,
    PATH_FIELD,
    SIGNATURE_FIELD,
    SOURCE_FIELD,
    SOURCE_FROM_FIELD,
    TEXT_FIELD,
    TITLE_FIELD,
    URL_FIELD,
)
from ..index.rankarrays import NO_DATE, DamagedArrays, text_hash
from ..model import (
    INDEXED_KINDS,
    ArticleView,
    DocumentHit,
    Duplicate,
    DuplicateGroup,
    Facets,
    Hit,
    IndexStats,
    Paragraph,
    ResultGroup,
    SearchResults,
)
from . import articles, engine, plan
from .plan import FEW_RESULTS, Filters, has_names
from .snippets import Snippets
from .typed import read as read_typed, unwrapped
from .storedfields import STORED_SUFFIX, DamagedStoredFields, StoredFields

SEARCH_SECONDS = 5.0  # what Whoosh or a phrase matches may take at most (then a QueryError)
_DAY_MICROSECONDS = 86_400_000_000


def _commit_identity(index_dir: Path, generation: int) -> Optional[tuple]:
    """Which file the record of commit ``generation`` is (None if there is none): a record
    is written once, so another file there is another index's."""
    try:
        found = os.stat(index_dir / integrity.record_file(generation))
    except OSError:
        return None
    return found.st_dev, found.st_ino, found.st_ctime_ns, found.st_size


_Arguments = ParamSpec("_Arguments")
_Returned = TypeVar("_Returned")


def _one_at_a_time(method: Callable[Concatenate["Searcher", _Arguments], _Returned]
                   ) -> Callable[Concatenate["Searcher", _Arguments], _Returned]:
    """Run ``method`` under the Searcher's lock: Whoosh's readers share file positions and
    caches between calls, and two threads searching through one of them at once read each
    other's bytes (wrong results, or a failure that looked like the query's). Typed so that
    type checkers still see each method's own signature."""

    @functools.wraps(method)
    def locked(self: "Searcher", *args: _Arguments.args,
               **kwargs: _Arguments.kwargs) -> _Returned:
        with self._lock:
            try:
                return method(self, *args, **kwargs)
            except IndexDamagedError:
                if self._still_there():
                    raise
                raise IndexChangedError(
                    f"the index in {self.index_dir} was updated since this Searcher opened it, "
                    "and the files it was reading are gone: open it again "
                    "(searchkit.open_index)") from None

    return locked


class Searcher:
    """An open index. Reuse one for many queries: opening costs far more than a search. It may
    be shared between threads; their calls then run one at a time."""

    def __init__(self, index_dir: Union[str, Path], options: SearchOptions = SearchOptions()):
        self.index_dir = arguments.path("index_dir", index_dir)
        self.options = arguments.instance("options", options, SearchOptions)
        self._lock = threading.RLock()
        if not layout.exists(self.index_dir):
            raise IndexMissingError(f"no index in {self.index_dir}; build one with: "
                                    f"searchkit index PATHS --index {self.index_dir}")
        layout.check_compatible(self.index_dir)
        # (which files, taken before they are read: a folder put in place meanwhile is then
        # seen as another index by is_current)
        generation = layout.latest_generation(self.index_dir)
        self._commit = _commit_identity(self.index_dir, generation)
        try:
            self._generation = engine.Generation(str(self.index_dir), generation)
        except (engine.DamagedIndex, DamagedArrays) as error:
            raise _damaged(self.index_dir, error) from None
        if not self._generation.doc_count:
            raise IndexEmptyError(
                f"the index is empty; run searchkit index PATHS --index {self.index_dir}")
        self._engine = engine.Evaluator(self._generation, options.bm25_k1, options.bm25_b)
        self._offsets = [s.offset for s in self._generation.segments]
        self._stored = {}  # segment number -> its StoredFields, once read
        stems = layout.read_committed(self.index_dir, self._generation.generation, "stems")
        if stems is not None:  # a query's words stemmed without importing NLTK
            wordterms.use_stems(str(self.index_dir.resolve()), stems.decode("utf-8"))
        self._snippets = Snippets(options.snippet_maxchars, options.snippet_fragments)
        self._words = None  # the vocabulary, once loaded
        self._whoosh = None  # (index, searcher, query builder), once needed
        self._articles = None  # the evaluator over articles, once needed

    def __enter__(self) -> "Searcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_one_at_a_time
    def close(self) -> None:
        """Close the files opened for query syntax (a call after it opens them again)."""
        if self._whoosh is not None:
            self._whoosh[1].close()
            self._whoosh = None

    def is_current(self) -> bool:
        """False once another process has committed to the index, or put another index in
        its place (a folder deleted and built again has commit numbers of its own): open a
        new Searcher."""
        generation = self._generation.generation
        return layout.newest_generation(self.index_dir) == generation and \
            _commit_identity(self.index_dir, generation) == self._commit

    def _still_there(self) -> bool:
        """Whether the commit this Searcher reads is still the index's own: files missing from
        it then are damage, not a newer commit's clean-up of an older one."""
        try:
            return self.is_current()
        except OSError:  # the folder itself is gone
            return False

    # -- searching -----------------------------------------------------------------------------

    @_one_at_a_time
    def search(
        self,
        query: str,
        limit: Optional[int] = None,
        collapse: bool = True,
        filters: Filters = Filters(),
        sort: str = "score",
        page: int = 1,
        facets: bool = False,
        variants: bool = True,
        syntax: bool = True,
    ) -> SearchResults:
        """Page ``page`` of the best ``limit`` results for ``query``.

        With ``collapse``, near-identical paragraphs make one result (``limit`` counts groups),
        listing where else the paragraph appeared. ``sort`` is "score", "date" (oldest first)
        or "-date" (newest first; undated paragraphs come last either way). ``facets`` counts
        the matching paragraphs per source and month. ``variants`` also matches close spellings
        of rare names. ``syntax``: read the query language where it is deliberate and valid
        (the rest is text, with a note); False reads all of the query as text. A query that
        finds little comes with a ``suggestion`` if one finds more."""
        limit = self._limit(limit)
        page = arguments.whole("page", page)
        sort = arguments.choice("sort", sort, SORTS)
        arguments.flags(collapse=collapse, facets=facets, variants=variants, syntax=syntax)
        self.check_filters(filters)
        prepared = self._plan(query, filters, variants, syntax)
        notes = prepared.notes
        matches = self._matches(prepared.query, mark=True)
        generation = self._generation
        if sort != "score" and len(matches) and not np.any(
                generation.column("date")[matches.docs] != NO_DATE):
            sort = "score"
            notes += (f"none of the {len(matches)} matching paragraphs has a date; "
                      "sorted by score instead",)
        total_groups = engine.count_groups(matches, generation) if collapse else len(matches)
        shown = self._page(matches, limit, page, collapse, sort)
        undated = self._undated_left_out(prepared)
        suggestion = None
        if len(matches) < FEW_RESULTS and not prepared.note:
            words = self._vocabulary()
            if words:
                suggestion = self._better_query(query, filters, len(matches), words, variants,
                                                syntax)
        return SearchResults(
            query=query,
            total=len(matches),
            total_groups=total_groups,
            groups=shown,
            note=prepared.note,
            page=page,
            undated_left_out=undated,
            facets=self._facets(matches) if facets else None,
            variants=prepared.variants,
            suggestion=suggestion,
            notes=notes,
        )

    def _page(self, matches: engine.Matches, limit: int, page: int, collapse: bool,
              sort: str) -> Tuple[ResultGroup, ...]:
        """The results of page ``page``: each the best paragraph of its group (with its other
        members when ``collapse``), or each paragraph on its own."""
        generation = self._generation
        groups = generation.column("group") if collapse else None
        dates = generation.column("date") if sort != "score" else None
        order = engine.leaders(matches, page * limit, groups, dates, sort == "-date",
                               generation.in_build_order)
        order = order[(page - 1) * limit:]
        docnums = matches.docs[order]
        shown = []
        for rank, position, docnum, words in zip(
                range((page - 1) * limit + 1, page * limit + 1), order.tolist(),
                docnums.tolist(), matches.words_at(docnums)):
            score = round(float(matches.scores[position]), 4) if sort == "score" else None
            fields = self._fields(docnum)
            hit = self._hit(rank, score, fields, words)
            shown.append(ResultGroup(hit, self._duplicates(fields) if collapse else ()))
        return tuple(shown)

    def _undated_left_out(self, prepared) -> int:
        """How many undated paragraphs would have matched but for the date filter."""
        if not prepared.date_limited:
            return 0
        without_dates = self._matches(prepared.undated)
        return int(np.count_nonzero(
            self._generation.column("date")[without_dates.docs] == NO_DATE))

    def _limit(self, limit) -> int:
        return self.options.limit if limit is None else arguments.whole("limit", limit)

    @_one_at_a_time
    def check_filters(self, filters: Filters) -> None:
        """UsageError for what is no Filters; QueryError for filters nothing can pass: a start
        date after the end date, a source the index does not have (with the closest it has).
        ``search`` and ``search_documents`` check theirs; a batch of queries sharing filters,
        or a REPL's filter set before any search, can be checked without searching."""
        _check_filters_type(filters)
        if filters.since and filters.until and filters.since > filters.until:
            raise QueryError(
                f"the start date {filters.since} (since) is after the end date {filters.until} "
                "(until): nothing can match; swap them"
            )
        self._check_sources(filters.sources)

    def _check_sources(self, sources) -> None:
        """QueryError for a source the index does not have, with the closest it has."""
        if not sources:
            return
        spellings: Counter = Counter()  # (lower case, as written) -> paragraphs
        for segment in self._generation.segments:
            names = segment.strings("source")
            for code, count in enumerate(np.bincount(segment.arrays["source.code"],
                                                     minlength=len(names)).tolist()):
                if names[code]:  # "": unknown
                    spellings[names[code].lower(), names[code]] += count
        counts: Counter = Counter()  # known source (lower case, as source: matches) -> paragraphs
        for (lower, _), count in spellings.items():
            counts[lower] += count
        for source in sources:
            if source.lower() in counts:
                continue
            if not counts:
                raise QueryError(f"no source {source!r}: no article in the index has a known "
                                 "source (searchkit index --source NAME gives them one)")
            written = {}  # each source as most of its paragraphs write it
            for (lower, name), _ in sorted(spellings.items(), key=lambda item: item[1]):
                written[lower] = name
            raise QueryError(f"no source {source!r} in the index; the closest: " + ", ".join(
                written[name] for name in
                plan.closest_names(source.lower(), set(counts), counts.__getitem__)))

    @_one_at_a_time
    def search_documents(
        self,
        query: str,
        limit: Optional[int] = None,
        filters: Filters = Filters(),
        variants: bool = True,
        syntax: bool = True,
    ) -> Tuple[DocumentHit, ...]:
        """The best ``limit`` documents for ``query``, best first: for ranked-list evaluation
        (TREC runs). A document is an article, identified by its ``doc_id`` (a JSON-lines
        record's own id, else the article id), scored whole: its paragraphs' words together,
        with BM25F over articles (``articles``); its best paragraph is named too. No
        snippets, duplicate collapse or suggestions; ``syntax`` as for ``search`` (False for
        evaluation queries, which are natural language). QueryError for a query that cannot
        be run, or filters nothing can pass, as ``search``."""
        limit = self._limit(limit)
        arguments.flags(variants=variants, syntax=syntax)
        self.check_filters(filters)
        prepared = self._plan(query, filters, variants, syntax)
        try:
            if self._articles is None:
                self._articles = articles.ArticleEvaluator(
                    self._generation, articles.Articles(self._generation),
                    self.options.bm25_k1, self.options.bm25_b)
            found = self._articles.matches(prepared.query)
        except (engine.DamagedIndex, DamagedArrays) as error:
            raise _damaged(self.index_dir, error) from None
        best = engine.ranked(found, limit, ties=self._generation.in_build_order)
        representatives = found.docs[best]
        paragraphs = articles.best_paragraphs(
            self._articles.articles, representatives,
            self._matches(articles.their_words(prepared.query)))
        doc_ids, article_ids = (self._strings(name, representatives)
                                for name in ("doc_id", "article_id"))
        paragraph_ids = self._strings("id", paragraphs)
        scores = found.scores[best].tolist()
        return tuple(
            DocumentHit(rank, doc_id, round(score, 4), article_id, paragraph_id)
            for rank, doc_id, score, article_id, paragraph_id in zip(
                range(1, len(scores) + 1), doc_ids, scores, article_ids, paragraph_ids))

    def _strings(self, column: str, docnums: np.ndarray) -> list:
        """A string column's values for these documents (global numbers)."""
        values = [""] * docnums.size
        for segment in self._generation.segments:
            inside = np.flatnonzero((docnums >= segment.offset)
                                    & (docnums < segment.offset + segment.doc_count))
            if inside.size:
                try:
                    found = segment.arrays.strings_of(column, docnums[inside] - segment.offset)
                except DamagedArrays as error:
                    raise _damaged(self.index_dir, error) from None
                for position, value in zip(inside.tolist(), found):
                    values[position] = value
        return values

    def _plan(self, text: str, filters: Filters, variants: bool,
              syntax: bool = True) -> plan.Plan:
        cleaned = unwrapped(plan.clean(arguments.text("query", text)), self._indexed)
        typed = read_typed(cleaned, syntax)
        if syntax and not plan.is_plain(typed.text) and \
                plan.distinct_terms(typed.text) > plan.MAX_CLAUSES:
            typed = read_typed(cleaned, False)  # a pasted paragraph: its syntax is punctuation
        if not re.search(r"\w", typed.text):
            raise QueryError(plan.nothing_to_search(text, []))
        if typed.notes and not any(map(wordterms.terms, typed.text.split())):  # "z*": "z"
            raise QueryError(f"nothing to search for in {plan.quoted(text)} ({typed.notes[0]}); "
                             "give words (stop words are not indexed)")
        text = typed.text
        # The vocabulary (a JSON file) is read only when a query names a name or finds little.
        words = self._vocabulary() if variants and has_names(text) else None
        if plan.is_plain(text) or (self._generation.has_positions and plan.one_phrase(text)):
            planned = plan.plain_plan(text, filters, self.options.title_weight, words,
                                      self._frequency)
            try:
                known: dict = {}  # (the query and the undated one share their phrases)
                check_time = plan.time_limit(SEARCH_SECONDS)
                planned.query = self._engine.scored_phrases(planned.query, known, check_time)
                if planned.undated is not None:
                    planned.undated = self._engine.scored_phrases(planned.undated, known,
                                                                  check_time)
            except (engine.DamagedIndex, DamagedArrays) as error:
                raise _damaged(self.index_dir, error) from None
        else:
            from . import syntax as parsing  # Whoosh's parser: only for text with query syntax

            _, searcher, builder = self._whoosh_searcher()
            prepared = _whoosh_faults(builder.prepare, text, filters, searcher.reader(), words)
            kinds, sources = parsing.field_values(prepared.query)  # checked as --kind, --source
            for kind in kinds:
                if kind not in INDEXED_KINDS:
                    raise QueryError(f"no kind {kind!r}: paragraphs are kind:body or kind:caption")
            self._check_sources(sources)
            try:
                planned = _whoosh_faults(parsing.plan_of, prepared, searcher, self._engine,
                                         SEARCH_SECONDS)
            except (engine.DamagedIndex, DamagedArrays) as error:
                raise _damaged(self.index_dir, error) from None
        planned.notes = typed.notes + planned.notes
        return planned

    def _frequency(self, term: str) -> int:
        """How many paragraphs hold ``term`` (a term of the text field)."""
        return self._generation.lookup(TEXT_FIELD, term)[0]

    def _indexed(self, word: str) -> bool:
        """Whether the index has ``word``; a stop word, never searched, counts as had."""
        term = wordterms.term_of(word)
        return term is None or self._frequency(term) > 0

    def _matches(self, node, mark: bool = False) -> engine.Matches:
        try:
            return self._engine.matches(node, mark)
        except (engine.DamagedIndex, DamagedArrays) as error:
            raise _damaged(self.index_dir, error) from None

    def _vocabulary(self):
        """The corpus vocabulary, read on first use (most searches need none of it)."""
        if self._words is None:
            generation = self._generation.generation
            if not layout.has_commit(self.index_dir, generation):
                # The commit this Searcher opened was replaced and its files removed since:
                # the current one's words serve for suggestions.
                generation = layout.latest_generation(self.index_dir)
            data = layout.read_committed(self.index_dir, generation, "vocabulary")
            try:
                self._words = vocabulary.from_bytes(data) if data is not None else False
            except ValueError as error:
                name = f"vocabulary-{generation}.json"
                raise integrity.damaged(str(self.index_dir), f"{name}: {error}") from None
        return self._words or None

    def _better_query(self, query, filters, found: int, words, variants: bool,
                      syntax: bool) -> Optional[str]:
        """A spelling-corrected query, if it finds more than ``found`` paragraphs."""
        corrected = plan.suggest(query, words)
        if corrected is None:
            return None
        try:
            better = self._plan(corrected, filters, variants, syntax)
        except QueryError:
            return None
        return corrected if len(self._matches(better.query)) > found else None

    # -- what hits show ------------------------------------------------------------------------

    def _example_ids(self) -> str:
        """", like <a paragraph id> or <its article's id>", of this index's first paragraph."""
        for segment in self._generation.segments:
            gone = set() if segment.deleted is None else set(segment.deleted.tolist())
            first = next((d for d in range(segment.doc_count) if d not in gone), None)
            if first is not None:
                fields = self._fields(segment.offset + first)
                return f", like {fields[ID_FIELD]} or {fields[ARTICLE_ID_FIELD]}"
        return ""

    def _fields(self, docnum: int) -> dict:
        """The stored fields of a document (by global number)."""
        number = bisect.bisect_right(self._offsets, docnum) - 1
        segment = self._generation.segments[number]
        try:
            stored = self._stored.get(number)
            if stored is None:
                stored = self._stored[number] = StoredFields(
                    str(self.index_dir), segment.id, segment.doc_count,
                    self._generation.mapped(segment.id + STORED_SUFFIX))
            return stored[docnum - segment.offset]
        except (OSError, DamagedStoredFields) as error:
            raise _damaged(self.index_dir, error) from None

    def _hit(self, rank: int, score: Optional[float], fields: dict, words) -> Hit:
        return Hit(
            rank=rank,
            score=score,
            source_from=fields[SOURCE_FROM_FIELD],
            date_from=fields[DATE_FROM_FIELD],
            snippet=self._snippets(fields[TEXT_FIELD], words),
            group=fields[GROUP_FIELD],
            **_paragraph_fields(fields),
        )

    def _duplicates(self, fields: dict) -> Tuple[Duplicate, ...]:
        """The other members of the paragraph's group, earliest date first, undated last."""
        return tuple(
            _duplicate(other, exact=other[SIGNATURE_FIELD] == fields[SIGNATURE_FIELD])
            for other in self._group_fields(fields[GROUP_FIELD])
            if other[ID_FIELD] != fields[ID_FIELD]
        )

    def _group_fields(self, group: str) -> list:
        """Stored fields of a group's members, earliest date first, undated last; then by
        article (its numbers as numbers: ``feed:9`` before ``feed:10``), in paragraph order
        (#9 before #10)."""
        members = self._generation.group_members(text_hash(group))
        if members.size <= 1:
            return []  # a group of one (most paragraphs): it has no other members
        found = [f for f in map(self._fields, members.tolist()) if f[GROUP_FIELD] == group]
        return sorted(
            found, key=lambda f: (f.get(DATE_FIELD) is None, f.get(DATE_FIELD) or datetime.min,
                                  in_number_order(f[ARTICLE_ID_FIELD]), f[PARAGRAPH_FIELD])
        )

    def _facets(self, matches: engine.Matches) -> Facets:
        by_source, by_month = Counter(), Counter()
        for segment in self._generation.segments:
            lo, hi = np.searchsorted(matches.docs, [segment.offset,
                                                    segment.offset + segment.doc_count])
            local = matches.docs[lo:hi] - segment.offset
            if not local.size:
                continue
            names = segment.strings("source")
            counts = np.bincount(segment.arrays["source.code"][local], minlength=len(names))
            for code in np.flatnonzero(counts):
                by_source[names[code] if code < len(names) else ""] += int(counts[code])
        dates = self._generation.column("date")[matches.docs]
        dated = dates[dates != NO_DATE]
        undated = int(dates.size - dated.size)
        if dated.size:
            days = (dated // np.uint64(_DAY_MICROSECONDS)).astype("timedelta64[D]")
            months = (np.datetime64("0001-01-01", "D") + days).astype("datetime64[M]")
            values, counts = np.unique(months, return_counts=True)
            for month, count in zip(values, counts):
                by_month[str(month)] += int(count)
        unknown = by_source.pop("", 0)  # the column's value for a paragraph without a source
        return Facets(
            sources=dict(sorted(by_source.items(), key=lambda item: (-item[1], item[0]))),
            months=dict(sorted(by_month.items())),
            undated=undated,
            unknown_source=unknown,
        )

    # -- Whoosh, for query syntax ------------------------------------------------------------

    def _whoosh_searcher(self):
        """Whoosh's index, searcher (BM25F, on this Searcher's commit) and query builder."""
        if self._whoosh is None:
            from ..index import store
            from .syntax import QueryBuilder
            from .weighting import bm25f

            ix, searcher = store.open_searcher(
                self.index_dir, self._generation.generation, bm25f(self.options))
            self._whoosh = (ix, searcher, QueryBuilder(ix.schema, self.options.title_weight))
        return self._whoosh

    # -- browsing ------------------------------------------------------------------------------

    def _document_numbered(self, id: str) -> Optional[int]:
        """The global number of the live paragraph whose id is exactly ``id``, if any."""
        key = id.encode("utf-8", "surrogatepass")
        for segment in self._generation.segments:
            text = segment.arrays.text_of("id")
            at = segment.arrays["id.text_at"]
            live = self._live(segment)
            start = text.find(key)
            while start >= 0:
                number = int(np.searchsorted(at, start))
                if number < segment.doc_count and int(at[number]) == start and \
                        int(at[number + 1]) == start + len(key) and live[number]:
                    return segment.offset + number
                start = text.find(key, start + 1)
        return None

    def _article_documents(self, article_id: str) -> list:
        """The global numbers of the article's live paragraphs, in paragraph order."""
        found = []
        for segment in self._generation.segments:
            try:
                code = segment.strings("article_id").index(article_id)
            except ValueError:
                continue
            hits = (segment.arrays["article_id.code"] == code) & self._live(segment)
            found += [segment.offset + d for d in np.flatnonzero(hits).tolist()]
        return sorted(found, key=lambda d: self._fields(d)[PARAGRAPH_FIELD])

    def _live(self, segment) -> np.ndarray:
        """The segment's documents that are not deleted (local numbers)."""
        live = np.ones(segment.doc_count, dtype=bool)
        if segment.deleted is not None:
            live[segment.deleted] = False
        return live


    @_one_at_a_time
    def duplicate_groups(self, min_size: int = 2,
                         limit: Optional[int] = None) -> Tuple[DuplicateGroup, ...]:
        """The largest groups of near-identical paragraphs in the index (who copied what),
        largest first; members earliest date first, ``exact`` relative to the first."""
        min_size = arguments.whole("min_size", min_size, least=2)
        limit = arguments.whole("limit", limit, optional=True)
        generation = self._generation
        hashes = generation.column("group")
        deleted = generation.deleted_mask()
        live = hashes if deleted is None else hashes[~deleted]
        values, firsts, sizes = np.unique(live, return_index=True, return_counts=True)
        big = np.flatnonzero(sizes >= min_size)
        if not big.size:
            return ()
        # Largest first, ties by the group key (the group's smallest paragraph id): the keys of
        # the size classes that reach into the first ``limit`` are read, no others.
        by_size = big[np.argsort(-sizes[big], kind="stable")]
        wanted = by_size if limit is None else by_size[:limit]
        last_size = sizes[wanted[-1]]
        needed = by_size[sizes[by_size] >= last_size]
        live_docs = np.flatnonzero(~deleted) if deleted is not None else None
        keys = []
        for index in needed.tolist():
            first = int(firsts[index]) if live_docs is None else int(live_docs[firsts[index]])
            keys.append((-int(sizes[index]), self._fields(first)[GROUP_FIELD]))
        keys.sort()
        groups = []
        for _, key in keys[:limit]:
            members = self._group_fields(key)
            first = members[0][SIGNATURE_FIELD]
            duplicates = tuple(_duplicate(f, exact=f[SIGNATURE_FIELD] == first) for f in members)
            groups.append(DuplicateGroup(key, duplicates))
        return tuple(groups)


    @_one_at_a_time
    def show(self, id: str) -> ArticleView:
        """The article of paragraph ``id`` ("<article id>#<n>", marked) or article ``id``, as
        any output printed it (a file name may hold '#', ':' or spaces). A Path is refused: an
        id is no file's path (it leaves out the folder given and the suffix)."""
        article_id, marked, stored = self._article(id)
        first = stored[0]
        return ArticleView(
            id=article_id,
            title=first[TITLE_FIELD],
            source=first.get(SOURCE_FIELD) or None,
            source_from=first[SOURCE_FROM_FIELD],
            date=_day(first),
            date_from=first[DATE_FROM_FIELD],
            path=first[PATH_FIELD],
            url=first.get(URL_FIELD),
            paragraphs=tuple(
                Paragraph(f[ID_FIELD], article_id, f[PARAGRAPH_FIELD], f[KIND_FIELD], f[TEXT_FIELD])
                for f in stored
            ),
            marked=marked[PARAGRAPH_FIELD] if marked else None,
            duplicates=self._duplicates(marked) if marked else (),
        )

    @_one_at_a_time
    def reprints(self, id: str) -> Dict[int, Tuple[Duplicate, ...]]:
        """The other places of each paragraph of article ``id`` (or of paragraph ``id``'s
        article) that appeared elsewhere, by its number: ``show(p.id).duplicates`` of each
        paragraph ``p``, the article read once."""
        _, _, stored = self._article(id)
        # (group, signature) -> (id, place) of each member: a dump's paragraphs repeat a few
        # groups, each member's record made once
        made: Dict[Tuple[str, str], Tuple[Tuple[str, Duplicate], ...]] = {}
        found = {}
        for fields in stored:
            wanted = fields[GROUP_FIELD], fields[SIGNATURE_FIELD]
            if wanted not in made:
                made[wanted] = tuple(
                    (other[ID_FIELD], _duplicate(other, exact=other[SIGNATURE_FIELD] == wanted[1]))
                    for other in self._group_fields(wanted[0]))
            places = tuple(place for pid, place in made[wanted] if pid != fields[ID_FIELD])
            if places:
                found[fields[PARAGRAPH_FIELD]] = places
        return found

    def _article(self, id: str) -> Tuple[str, Optional[dict], List[dict]]:
        """The id of the article of ``id`` (``show``'s), the stored fields of the paragraph
        ``id`` names (or None) and of the article's paragraphs in order."""
        arguments.text("id", id, hint=" (a paragraph or article id as results show it, like "
                       "hit.id)")
        for wanted in dict.fromkeys((id, id.strip())):
            docnum = self._document_numbered(wanted)
            marked = self._fields(docnum) if docnum is not None else None
            article_id = marked[ARTICLE_ID_FIELD] if marked else wanted
            stored = [self._fields(d) for d in self._article_documents(article_id)]
            if stored:
                return article_id, marked, stored
        raise NotFoundError(f"no paragraph or article {id!r} in {self.index_dir}; use an "
                            f"id from search results{self._example_ids()}")

    @_one_at_a_time
    def stats(self) -> IndexStats:
        """What the index holds, counted from the columns (no stored fields read)."""
        articles = {}  # article id -> (source, date)
        kinds: Counter = Counter()
        paragraphs = 0
        for segment in self._generation.segments:
            live = np.flatnonzero(self._live(segment))
            paragraphs += live.size
            arrays = segment.arrays
            kind_names = segment.strings("kind")
            for code, count in zip(*np.unique(arrays["kind.code"][live], return_counts=True)):
                kinds[kind_names[code]] += int(count)
            names, sources = segment.strings("article_id"), segment.strings("source")
            codes, at = np.unique(arrays["article_id.code"][live], return_index=True)
            docs = live[at]
            for code, source, when in zip(codes.tolist(), arrays["source.code"][docs].tolist(),
                                          arrays["date"][docs].tolist()):
                articles[names[code]] = (sources[source] or None, when)
        dates = sorted(w for _, w in articles.values() if w != NO_DATE)
        by_source = Counter(source for source, _ in articles.values())
        unknown = by_source.pop(None, 0)
        return IndexStats(
            index_dir=str(self.index_dir),
            articles=len(articles),
            paragraphs=paragraphs,
            sources=dict(sorted(by_source.items(), key=lambda item: (-item[1], item[0]))),
            unknown_source=unknown,
            kinds=dict(sorted(kinds.items())),
            first_date=_long_to_date(dates[0]) if dates else None,
            last_date=_long_to_date(dates[-1]) if dates else None,
            undated_articles=sum(1 for _, w in articles.values() if w == NO_DATE),
            settings=layout.read_settings(self.index_dir, self._generation.generation),
        )


def _check_filters_type(filters) -> None:
    arguments.instance("filters", filters, Filters, hint=", like Filters(sources='AFP')")


def _whoosh_faults(function, *args):
    """Faults inside Whoosh's parser or matchers become a QueryError that says what to
    change."""
    try:
        return function(*args)
    except RecursionError:
        raise QueryError("the query is nested too deeply; simplify it") from None
    except (SearchkitError, engine.DamagedIndex):  # the index is damaged: not the query's fault
        raise
    except Exception as error:  # a fault inside Whoosh on an odd combination of operators
        raise QueryError(
            f"the search engine failed on this query ({type(error).__name__}); "
            "simplify it, e.g. with fewer NOT and ANDNOT"
        ) from None


def _damaged(index_dir: Path, error: Exception) -> IndexDamagedError:
    if isinstance(error, IndexDamagedError):
        return error
    return integrity.damaged(str(index_dir), str(error))


def _duplicate(fields: dict, exact: bool) -> Duplicate:
    return Duplicate(source_from=fields[SOURCE_FROM_FIELD], date_from=fields[DATE_FROM_FIELD],
                     exact=exact, **_paragraph_fields(fields))


def _paragraph_fields(fields: dict) -> dict:
    """What every paragraph handed out carries, from its stored fields."""
    return dict(
        id=fields[ID_FIELD],
        article_id=fields[ARTICLE_ID_FIELD],
        title=fields[TITLE_FIELD],
        source=fields.get(SOURCE_FIELD) or None,
        date=_day(fields),
        path=fields[PATH_FIELD],
        paragraph=fields[PARAGRAPH_FIELD],
        kind=fields[KIND_FIELD],
        text=fields[TEXT_FIELD],
    )


def _long_to_date(value: int) -> date:
    """A date from Whoosh's long (microseconds since 0001-01-01)."""
    return date.fromordinal(value // _DAY_MICROSECONDS + 1)


def _day(fields: dict) -> Optional[date]:
    """The stored date (a datetime at midnight) as a date; None for an undated paragraph."""
    when = fields.get(DATE_FIELD)
    return when.date() if when else None
