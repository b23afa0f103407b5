"""Search an index: parse the query, rank paragraphs with BM25F, make snippets while the Whoosh
searcher is open, and hand back searchkit's own dataclasses. Owns the Whoosh searcher."""

import functools
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Optional, Tuple

from whoosh import collectors, scoring, searching, sorting
from whoosh import query as whoosh_query
from whoosh.util.times import long_to_datetime

from . import analysis, store, vocabulary
from .config import SearchOptions
from .durable import damaged
from .errors import IndexEmptyError, NotFoundError, QueryError, SearchkitError
from .highlight import Snippets
from .model import (
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
from .query import ALL_WORDS_BONUS, FEW_RESULTS, Filters, QueryBuilder, has_names
from .schema import DATE_FIELD, TEXT_FIELD

SORTS = ("score", "date", "-date")
SEARCH_SECONDS = 5.0  # a search running longer is stopped with a QueryError
_NO_DATE = 2**64 - 1  # the raw date column's value for an undated paragraph
# From this many matches on, counting groups reads the whole dup_group column once (then kept)
# rather than looking up each match in it.
_WHOLE_COLUMN_FROM = 5000


def _one_at_a_time(method):
    """Run ``method`` under the Searcher's lock: Whoosh's readers share file positions and
    caches between calls, and two threads searching through one of them at once read each
    other's bytes (wrong results, or a failure that looked like the query's)."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class Searcher:
    """An open index. Reuse one for many queries: opening costs far more than a search. It may
    be shared between threads; their calls then run one at a time."""

    def __init__(self, index_dir: Path, options: SearchOptions = SearchOptions()):
        self.index_dir = Path(index_dir)
        self.options = options
        self._lock = threading.RLock()
        self._ix = store.open_index(self.index_dir)
        try:
            self._searcher = self._ix.searcher(
                weighting=scoring.BM25F(B=options.bm25_b, K1=options.bm25_k1)
            )
        except SearchkitError:
            raise
        except Exception as error:  # what Whoosh makes of a file no record vouches for
            raise damaged(str(index_dir), f"it cannot be read: {type(error).__name__}") from None
        if not self._searcher.doc_count():
            self._searcher.close()
            raise IndexEmptyError(
                f"the index is empty; run searchkit index PATHS --index {self.index_dir}")
        self._generation = self._searcher.reader().generation()
        stems = store.read_committed(self.index_dir, self._generation, "stems")
        if stems is not None:  # a query's words stemmed without importing NLTK
            analysis.use_stems(str(self.index_dir.resolve()), stems.decode("utf-8"))
        self._builder = QueryBuilder(self._ix.schema, options.title_weight)
        self._snippets = Snippets(
            self._ix.schema[TEXT_FIELD].analyzer, options.snippet_maxchars,
            options.snippet_fragments,
        )
        self._words = None  # the vocabulary, once loaded
        self._groups = None  # each paragraph's dup_group, by docnum, once read
        self._group_reader = None  # the dup_group column reader, once opened

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @_one_at_a_time
    def close(self) -> None:
        self._searcher.close()

    def is_current(self) -> bool:
        """False once another process has committed to the index: open a new Searcher."""
        return self._ix.latest_generation() == self._generation

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
    ) -> SearchResults:
        """Page ``page`` of the best ``limit`` results for ``query``.

        With ``collapse``, near-identical paragraphs make one result (``limit`` counts groups),
        listing where else the paragraph appeared. ``sort`` is "score", "date" (oldest first)
        or "-date" (newest first; undated paragraphs come last either way). ``facets`` counts
        the matching paragraphs per source and month. ``variants`` also matches close spellings
        of rare names. A query that finds little comes with a ``suggestion`` if one finds more."""
        limit = self.options.limit if limit is None else limit
        if limit < 1 or page < 1:
            raise QueryError(f"limit and page must be at least 1, not {limit} and {page}")
        if sort not in SORTS:
            raise QueryError(f"sort by one of {', '.join(SORTS)}, not {sort!r}")
        # The vocabulary (a JSON file) is read only when a query names a name or finds little.
        words = self._vocabulary() if variants and has_names(query) else None
        prepared = self._builder.prepare(query, filters, self._searcher.reader(), words)
        notes = prepared.notes
        with _query_faults():
            # The matches are counted apart from ranking, which stops at the best few.
            known = {}  # each word's docnums, found once for counting and ranking alike
            # any_words matches what the whole query does (the all-words part only adds a
            # bonus), without intersecting every word's docnums for nothing.
            matching = _docset(prepared.any_words, self._searcher, known)
            group_of = self._group_column()
            total_groups = self._count_groups(matching, group_of) if collapse else len(matching)
            if sort != "score" and matching and not self._any_dated(matching):
                sort = "score"
                notes += (f"none of the {len(matching)} matching paragraphs has a date; "
                          "sorted by score instead",)
            leaders = self._leaders(
                prepared, page * limit, collapse, len(matching), group_of, sort, known
            )[(page - 1) * limit :]
            first_rank = (page - 1) * limit + 1
            shown = _shown_words(prepared.any_words, self._searcher.reader())
            groups = tuple(
                ResultGroup(
                    self._hit(rank, hit, _matched(shown, hit.docnum, self._searcher, known)),
                    self._duplicates(hit) if collapse else (),
                )
                for rank, hit in enumerate(leaders, start=first_rank)
            )
            undated = self._undated(prepared.undated_query) if prepared.date_limited else 0
            suggestion = None
            if len(matching) < FEW_RESULTS and not prepared.note:
                words = self._vocabulary()
                if words:
                    suggestion = self._better_query(
                        query, filters, len(matching), words, variants
                    )
        return SearchResults(
            query=query,
            total=len(matching),
            total_groups=total_groups,
            groups=groups,
            note=prepared.note,
            page=page,
            undated_left_out=undated,
            facets=self._facets(matching) if facets else None,
            variants=prepared.variants,
            suggestion=suggestion,
            notes=notes,
        )

    def _any_dated(self, matching) -> bool:
        dates = self._searcher.reader().column_reader(DATE_FIELD, translate=False)
        return any(dates[docnum] != _NO_DATE for docnum in matching)

    def _group_column(self):
        """The dup_group column reader, opened once per Searcher (opening one costs ~10 ms)."""
        if self._group_reader is None:
            self._group_reader = self._searcher.reader().column_reader("dup_group")
        return self._group_reader

    def _count_groups(self, matching, group_of) -> int:
        """How many groups of near-identical paragraphs the ``matching`` docnums fall in."""
        if self._groups is None:
            if len(matching) < _WHOLE_COLUMN_FROM:
                return len({group_of[d] for d in matching})
            self._groups = list(group_of)  # read once per Searcher: then a list lookup a match
        groups = self._groups
        return len({groups[d] for d in matching})

    @_one_at_a_time
    def search_documents(
        self,
        query: str,
        limit: Optional[int] = None,
        filters: Filters = Filters(),
        variants: bool = True,
    ) -> Tuple[DocumentHit, ...]:
        """The best ``limit`` documents for ``query``, best first, each once: for ranked-list
        evaluation (TREC runs). A document is an article, identified by its ``doc_id`` (a
        JSON-lines record's own id, else the article id); its score is its best paragraph's.
        No snippets, duplicate collapse or suggestions. QueryError for a query that cannot be
        run, as ``search``."""
        limit = self.options.limit if limit is None else limit
        if limit < 1:
            raise QueryError(f"limit must be at least 1, not {limit}")
        prepared = self._builder.prepare(
            query, filters, self._searcher.reader(), self._vocabulary() if variants else None
        )
        doc_ids = self._searcher.reader().column_reader("doc_id")
        fetch = limit * 2  # an abstract is often one paragraph; a news article has several
        with _query_faults():
            while True:
                # One run of the whole query: the split of _ranked pays off only when a search
                # has counted each word's matches already.
                hits = self._run(prepared.query, fetch, "score")
                best = {}
                for hit in hits:
                    doc_id = doc_ids[hit.docnum]
                    if doc_id not in best:
                        best[doc_id] = hit
                if len(best) >= limit or len(hits) < fetch:
                    break
                fetch *= 2
        ranked = []
        for rank, (doc_id, hit) in enumerate(list(best.items())[:limit], start=1):
            fields = self._searcher.stored_fields(hit.docnum)
            ranked.append(
                DocumentHit(rank, doc_id, round(hit.score, 4), fields["article_id"], fields["id"])
            )
        return tuple(ranked)

    def _vocabulary(self):
        """The corpus vocabulary, read on first use (most searches need none of it)."""
        if self._words is None:
            generation = self._generation
            if not store.has_commit(self.index_dir, generation):
                # The commit this Searcher opened was replaced and its files removed since:
                # the current one's words serve for suggestions.
                generation = store.latest_generation(self.index_dir)
            data = store.read_committed(self.index_dir, generation, "vocabulary")
            try:
                self._words = vocabulary.from_bytes(data) if data is not None else False
            except ValueError as error:
                name = f"vocabulary-{generation}.json"
                raise damaged(str(self.index_dir), f"{name}: {error}") from None
        return self._words or None

    def _better_query(self, query, filters, found: int, words, variants: bool) -> Optional[str]:
        """A spelling-corrected query, if it finds more than ``found`` paragraphs."""
        corrected = self._builder.suggest(query, words)
        if corrected is None:
            return None
        try:
            reader = self._searcher.reader()
            better = self._builder.prepare(corrected, filters, reader, words if variants else None)
        except QueryError:
            return None
        return corrected if len(_docset(better.query, self._searcher, {})) > found else None

    def _leaders(
        self, prepared, limit: int, collapse: bool, matching: int, group_of, sort, known: dict
    ) -> list:
        """The best hit of each of the first ``limit`` groups (or the first hits), in order."""
        fetch = limit * 3 if collapse else limit  # most groups are single paragraphs
        while True:
            hits = self._ranked(prepared, fetch, sort, known)
            leaders, seen = [], set()
            for hit in hits:
                group = group_of[hit.docnum] if collapse else hit.docnum
                if group not in seen:
                    seen.add(group)
                    leaders.append(hit)
            if len(leaders) >= limit or fetch >= matching:
                return leaders[:limit]
            fetch *= 2

    def _ranked(self, prepared, limit: int, sort: str, known: dict) -> list:
        """The best ``limit`` hits of the prepared query, in order.

        Ranked by score, words OR-ed with the all-words bonus are run as two cheaper queries
        with the same outcome: a paragraph with every word scores its any-word score plus the
        bonus share of it (its all-words score is that same sum), so the best of those (by the
        AND of the words, which skips through the postings) and the best of the rest (by the
        OR, the paragraphs with every word masked out) are merged. Whoosh scoring the OR of
        both parts over every match took twice as long."""
        if sort != "score" or prepared.all_words is None:
            return self._run(prepared.query, limit, sort)
        with_all = set(_docset(prepared.all_words, self._searcher, known))  # Whoosh masks by a set
        best = self._run(prepared.all_words, limit, sort)
        for hit in best:
            hit.score += ALL_WORDS_BONUS * hit.score
        best += self._run(prepared.any_words, limit, sort, mask=with_all)
        best.sort(key=lambda hit: (-hit.score, hit.docnum))  # Whoosh's order: ties by docnum
        return best[:limit]

    def _run(self, parsed, limit: int, sort: str, mask=None) -> list:
        """Whoosh's hits for the query, in order, bounded in time."""
        sortedby = None
        if sort != "score":
            dates = self._searcher.reader().column_reader(DATE_FIELD, translate=False)
            newest_first = sort == "-date"

            def by_date(_searcher, docnum):
                value = dates[docnum]
                undated = value == _NO_DATE
                return (undated, -value if newest_first else value)

            sortedby = sorting.FunctionFacet(by_date)
        collector = self._searcher.collector(limit=limit, sortedby=sortedby)
        if mask:
            collector = _MaskCollector(collector, mask)
        # Checked between matches by a timer thread, not by SIGALRM (Whoosh's default): a
        # signal handler works only in the main thread and would replace the application's.
        collector = collectors.TimeLimitCollector(
            collector, timelimit=SEARCH_SECONDS, use_alarm=False
        )
        try:
            self._searcher.search_with_collector(parsed, collector)
        except searching.TimeLimit:
            raise QueryError(
                f"the search took over {SEARCH_SECONDS:g} s and was stopped; narrow the query"
            ) from None
        results = collector.results()
        # Not list(results): that asks len(results), which counts every match over again.
        return [hit for hit in results]

    def _undated(self, query) -> int:
        """Paragraphs the query matches apart from its date restrictions that have no date."""
        undated = whoosh_query.And([query, whoosh_query.Not(whoosh_query.Every(DATE_FIELD))])
        return sum(1 for _ in undated.docs(self._searcher))

    def _facets(self, matching) -> Facets:
        reader = self._searcher.reader()
        sources = reader.column_reader("source")
        dates = reader.column_reader(DATE_FIELD, translate=False)
        by_source, by_month, undated = Counter(), Counter(), 0
        for docnum in matching:
            by_source[sources[docnum]] += 1
            if dates[docnum] == _NO_DATE:
                undated += 1
            else:
                by_month[long_to_datetime(dates[docnum]).strftime("%Y-%m")] += 1
        unknown = by_source.pop("", 0)  # the column's value for a paragraph without a source
        return Facets(
            sources=dict(sorted(by_source.items(), key=lambda item: (-item[1], item[0]))),
            months=dict(sorted(by_month.items())),
            undated=undated,
            unknown_source=unknown,
        )

    def _duplicates(self, hit) -> Tuple[Duplicate, ...]:
        """The other members of the hit's group, earliest date first, undated last."""
        fields = hit.fields()
        if self._searcher.reader().doc_frequency("dup_group", fields["dup_group"]) <= 1:
            return ()  # a group of one (most paragraphs): no need to look for its members
        return tuple(
            _duplicate(other, exact=other["dup_signature"] == fields["dup_signature"])
            for other in self._group_fields(fields["dup_group"])
            if other["id"] != fields["id"]
        )

    def _group_fields(self, group: str) -> list:
        """Stored fields of a group's members, earliest date first, undated last; then by
        article, in paragraph order (#9 before #10)."""
        members = self._searcher.documents(dup_group=group)
        return sorted(
            members,
            key=lambda f: (f.get("date") is None, f.get("date") or datetime.min,
                           f["article_id"], f["paragraph"]),
        )

    @_one_at_a_time
    def duplicate_groups(self, min_size: int = 2, limit: Optional[int] = None):
        """The largest groups of near-identical paragraphs in the index (who copied what),
        largest first; members earliest date first, ``exact`` relative to the first."""
        reader = self._searcher.reader()
        group_of = reader.column_reader("dup_group")
        sizes = Counter(group_of[docnum] for docnum in reader.all_doc_ids())
        keys = sorted(
            (key for key, n in sizes.items() if n >= max(2, min_size)),
            key=lambda key: (-sizes[key], key),
        )
        groups = []
        for key in keys[:limit]:
            members = self._group_fields(key)
            first = members[0]["dup_signature"]
            duplicates = tuple(_duplicate(f, exact=f["dup_signature"] == first) for f in members)
            groups.append(DuplicateGroup(key, duplicates))
        return tuple(groups)

    def _hit(self, rank: int, hit, words) -> Hit:
        fields = hit.fields()
        snippet = self._snippets(fields[TEXT_FIELD], words)
        return Hit(
            rank=rank,
            score=round(hit.score, 4) if isinstance(hit.score, float) else None,
            source_from=fields["source_from"],
            date_from=fields["date_from"],
            snippet=snippet,
            group=fields["dup_group"],
            **_paragraph_fields(fields),
        )

    @_one_at_a_time
    def show(self, id: str) -> ArticleView:
        """The article of paragraph ``id`` ("<article id>#<n>", marked) or article ``id``, as
        any output printed it (a file name may hold '#', ':' or spaces)."""
        for wanted in dict.fromkeys((id, id.strip())):
            marked = self._searcher.document(id=wanted)
            article_id = marked["article_id"] if marked else wanted
            stored = sorted(
                self._searcher.documents(article_id=article_id), key=lambda f: f["paragraph"]
            )
            if stored:
                break
        else:
            raise NotFoundError(
                f"no paragraph or article {id!r} in {self.index_dir}; use an id from search "
                "results, like 001_e9706742b5579535#6 or 002_978e6dbf49f5cf3e:2"
            )
        first = stored[0]
        return ArticleView(
            id=article_id,
            title=first["title"],
            source=first.get("source") or None,
            source_from=first["source_from"],
            date=_day(first),
            date_from=first["date_from"],
            path=first["path"],
            url=first.get("url"),
            paragraphs=tuple(
                Paragraph(f["id"], article_id, f["paragraph"], f["kind"], f[TEXT_FIELD])
                for f in stored
            ),
            marked=marked["paragraph"] if marked else None,
            duplicates=tuple(
                _duplicate(f, exact=f["dup_signature"] == marked["dup_signature"])
                for f in self._group_fields(marked["dup_group"])
                if f["id"] != marked["id"]
            )
            if marked
            else (),
        )

    @_one_at_a_time
    def stats(self) -> IndexStats:
        articles = {}
        kinds: Counter = Counter()
        for fields in self._searcher.all_stored_fields():
            kinds[fields["kind"]] += 1
            articles[fields["article_id"]] = (fields.get("source") or None, _day(fields))
        dates = sorted(d for _, d in articles.values() if d)
        sources = Counter(source for source, _ in articles.values())
        unknown = sources.pop(None, 0)
        return IndexStats(
            index_dir=str(self.index_dir),
            articles=len(articles),
            paragraphs=self._searcher.doc_count(),
            sources=dict(sorted(sources.items(), key=lambda item: (-item[1], item[0]))),
            unknown_source=unknown,
            kinds=dict(sorted(kinds.items())),
            first_date=dates[0] if dates else None,
            last_date=dates[-1] if dates else None,
            undated_articles=sum(1 for _, d in articles.values() if d is None),
            settings=store.read_settings(self.index_dir, self._generation),
        )


def _shown_words(query, reader) -> list:
    """(leaf, its words in the paragraph text) for each leaf of ``query`` not under a NOT:
    what a snippet marks in a paragraph the leaf matched. (Whoosh can record the terms each
    hit matched while it ranks, terms=True, but checks every term at every match for it:
    ~10% of a search. Only the shown hits need them.)"""
    field = reader.schema[TEXT_FIELD]
    shown = []
    for leaf in _positive_leaves(query):
        if getattr(leaf, "fieldname", None) == TEXT_FIELD:
            terms = leaf.existing_terms(reader, phrases=True, expand=True)
            words = {field.from_bytes(text) for name, text in terms if name == TEXT_FIELD}
            if words:
                shown.append((leaf, words))
    return shown


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


def _matched(shown: list, docnum: int, searcher, known: dict) -> set:
    """The words of the leaves that match paragraph ``docnum`` (a phrase's words only where
    the phrase matched)."""
    words = set()
    for leaf, leaf_words in shown:
        if docnum in _docset(leaf, searcher, known):
            words |= leaf_words
    return words


class _MaskCollector(collectors.WrappingCollector):
    """Leaves out the docnums in ``mask``. (Whoosh's own mask, FilterCollector, filters only
    when it drives the search itself, and a TimeLimitCollector around it drives its child.)"""

    def __init__(self, child, mask: set):
        super().__init__(child)
        self.mask = mask

    def matches(self):
        mask, offset = self.mask, self.child.offset
        return (docnum for docnum in self.child.matches() if offset + docnum not in mask)


@contextmanager
def _query_faults():
    """Faults of running a query become a QueryError that says what to change."""
    try:
        yield
    except RecursionError:
        raise QueryError("the query is nested too deeply; simplify it") from None
    except SearchkitError:  # e.g. the index is damaged: not the query's fault
        raise
    except Exception as error:  # a fault inside Whoosh on an odd combination of operators
        raise QueryError(
            f"the search engine failed on this query ({type(error).__name__}); "
            "simplify it, e.g. with fewer NOT and ANDNOT"
        ) from None


def _docset(query, searcher, known: dict) -> set:
    """The docnums ``query`` matches: ``set(query.docs(searcher))``, but an OR, AND or ANDNOT
    of queries is computed by set operations on its parts' docnums, and each part's are kept
    in ``known`` for the next call. (Whoosh walks the matcher tree of an OR of many words
    document by document, in Python: on a common word that was a third of a query's time.)"""
    kind = type(query)
    if kind is whoosh_query.Or and not query.minmatch:
        found = set()
        for sub in query.subqueries:
            found |= _docset(sub, searcher, known)
        return found
    if kind is whoosh_query.And:
        if not query.subqueries:
            return set()
        parts = sorted((_docset(sub, searcher, known) for sub in query.subqueries), key=len)
        return parts[0].intersection(*parts[1:])
    if kind is whoosh_query.AndNot:
        found = _docset(query.a, searcher, known)
        return found - _docset(query.b, searcher, known) if found else found
    try:
        return known[query]
    except KeyError:
        found = known[query] = frozenset(query.docs(searcher))
        return found
    except TypeError:  # a query that cannot be a key
        return frozenset(query.docs(searcher))


def _duplicate(fields: dict, exact: bool) -> Duplicate:
    return Duplicate(exact=exact, **_paragraph_fields(fields))


def _paragraph_fields(fields: dict) -> dict:
    """What every paragraph handed out carries, from its stored fields."""
    return dict(
        id=fields["id"],
        article_id=fields["article_id"],
        title=fields["title"],
        source=fields.get("source") or None,
        date=_day(fields),
        path=fields["path"],
        paragraph=fields["paragraph"],
        kind=fields["kind"],
        text=fields[TEXT_FIELD],
    )


def _day(fields: dict) -> Optional[date]:
    """The stored date (a datetime at midnight) as a date; None for an undated paragraph."""
    when = fields.get(DATE_FIELD)
    return when.date() if when else None
