"""Search an index: parse the query, rank paragraphs with BM25F, make snippets while the Whoosh
searcher is open, and hand back searchkit's own dataclasses. Owns the Whoosh searcher."""

import re
from collections import Counter
from pathlib import Path
from datetime import datetime
from typing import Optional, Tuple

from whoosh import query as whoosh_query
from whoosh import scoring
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

from . import store
from .config import SearchOptions
from .errors import QueryError
from .highlight import highlighter, lead_snippet
from .model import (
    Duplicate,
    DuplicateGroup,
    Hit,
    IndexStats,
    ResultGroup,
    SearchResults,
)
from .schema import FILTER_FIELDS, SEARCH_FIELDS, TEXT_FIELD, TITLE_FIELD

# Plain words are OR-ed, and a paragraph that has all of them gets this share of its score
# again as a bonus, so that paragraphs with every word of "dialogue with the opposition" come
# first. (Whoosh's own coordination factor, OrGroup.factory, scores one-word queries 0.)
ALL_WORDS_BONUS = 0.5


class Searcher:
    """An open index. Reuse one for many queries: opening costs far more than a search."""

    def __init__(self, index_dir: Path, options: SearchOptions = SearchOptions()):
        self.index_dir = Path(index_dir)
        self.options = options
        self._ix = store.open_index(self.index_dir)
        self._searcher = self._ix.searcher(weighting=scoring.BM25F())
        self._parsers = [
            MultifieldParser(
                list(SEARCH_FIELDS),
                self._ix.schema,
                fieldboosts={TEXT_FIELD: 1.0, TITLE_FIELD: options.title_weight},
                group=group,
            )
            for group in (OrGroup, AndGroup)
        ]
        self._highlighter = highlighter(options.snippet_maxchars)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._searcher.close()

    def _parse(self, query: str):
        """The Whoosh query, and a note if the text had to be read as plain words."""
        if not query.strip():
            raise QueryError("the query is empty; give some words to search for")
        try:
            return self._with_bonus(query), None
        except Exception:  # Whoosh's parser raises assorted errors on some odd inputs
            # Lower case, so that words like AND or NOT are searched for, not obeyed.
            words = re.findall(r"\w+", query.lower())
            if not words:
                raise QueryError(
                    f"cannot read the query {query!r}; search for words, "
                    'a "quoted phrase", AND / OR / NOT, or field:value'
                ) from None
            note = f"could not read the query as written; searched for the words: {' '.join(words)}"
            return self._with_bonus(" ".join(words)), note

    def _with_bonus(self, query: str):
        any_words, all_words = (parser.parse(query) for parser in self._parsers)
        any_words = _restrictions_required(any_words)
        if any_words == all_words:
            return any_words
        all_words.boost = ALL_WORDS_BONUS
        return whoosh_query.Or([any_words, all_words])

    def search(
        self, query: str, limit: Optional[int] = None, collapse: bool = True
    ) -> SearchResults:
        """The best ``limit`` results for ``query``. With ``collapse``, near-identical paragraphs
        make one result (``limit`` counts groups), listing where else the paragraph appeared."""
        limit = self.options.limit if limit is None else limit
        if limit < 1:
            raise QueryError(f"the number of results must be at least 1, not {limit}")
        parsed, note = self._parse(query)
        try:
            # len(results) undercounts when terms=True meets a limit (Whoosh 2.7): count apart.
            matching = list(parsed.docs(self._searcher))
            group_of = self._searcher.reader().column_reader("dup_group")
            total_groups = len({group_of[d] for d in matching}) if collapse else len(matching)
            leaders = self._leaders(parsed, limit, collapse, len(matching), group_of)
            groups = tuple(
                ResultGroup(self._hit(rank, hit), self._duplicates(hit) if collapse else ())
                for rank, hit in enumerate(leaders, start=1)
            )
        except RecursionError:
            raise QueryError("the query is nested too deeply; simplify it") from None
        return SearchResults(query, len(matching), total_groups, groups, note)

    def _leaders(self, parsed, limit: int, collapse: bool, matching: int, group_of) -> list:
        """The best-scoring hit of each of the best ``limit`` groups (or the best hits)."""
        fetch = limit * 3 if collapse else limit  # most groups are single paragraphs
        while True:
            results = self._searcher.search(parsed, limit=fetch, terms=True)
            results.highlighter = self._highlighter
            leaders, seen = [], set()
            for hit in results:
                group = group_of[hit.docnum] if collapse else hit.docnum
                if group not in seen:
                    seen.add(group)
                    leaders.append(hit)
            if len(leaders) >= limit or fetch >= matching:
                return leaders[:limit]
            fetch *= 2

    def _duplicates(self, hit) -> Tuple[Duplicate, ...]:
        """The other members of the hit's group, earliest date first, undated last."""
        fields = hit.fields()
        return tuple(
            _duplicate(other, exact=other["dup_signature"] == fields["dup_signature"])
            for other in self._group_fields(fields["dup_group"])
            if other["id"] != fields["id"]
        )

    def _group_fields(self, group: str) -> list:
        """Stored fields of a group's members, earliest date first, undated last."""
        members = self._searcher.documents(dup_group=group)
        return sorted(
            members, key=lambda f: (f.get("date") is None, f.get("date") or datetime.min, f["id"])
        )

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

    def _hit(self, rank: int, hit) -> Hit:
        fields = hit.fields()
        snippet = hit.highlights(TEXT_FIELD, top=self.options.snippet_fragments)
        if not snippet.text:
            snippet = lead_snippet(fields[TEXT_FIELD], self.options.snippet_maxchars)
        return Hit(
            rank=rank,
            score=round(hit.score, 4),
            source_from=fields["source_from"],
            date_from=fields["date_from"],
            snippet=snippet,
            group=fields["dup_group"],
            **_paragraph_fields(fields),
        )

    def stats(self) -> IndexStats:
        articles = {}
        kinds: Counter = Counter()
        for fields in self._searcher.all_stored_fields():
            kinds[fields["kind"]] += 1
            when = fields.get("date")
            articles[fields["article_id"]] = (fields["source"], when.date() if when else None)
        dates = sorted(d for _, d in articles.values() if d)
        sources = Counter(source for source, _ in articles.values())
        return IndexStats(
            index_dir=str(self.index_dir),
            articles=len(articles),
            paragraphs=self._searcher.doc_count(),
            sources=dict(sorted(sources.items(), key=lambda item: (-item[1], item[0]))),
            kinds=dict(sorted(kinds.items())),
            first_date=dates[0] if dates else None,
            last_date=dates[-1] if dates else None,
            undated_articles=sum(1 for _, d in articles.values() if d is None),
            settings=store.read_settings(self.index_dir),
        )


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


def _fields(query) -> set:
    leaves = [query] if query.is_leaf() else list(query.leaves())
    return {getattr(leaf, "fieldname", None) for leaf in leaves}


def _duplicate(fields: dict, exact: bool) -> Duplicate:
    return Duplicate(exact=exact, **_paragraph_fields(fields))


def _paragraph_fields(fields: dict) -> dict:
    """What every paragraph handed out carries, from its stored fields."""
    when = fields.get("date")
    return dict(
        id=fields["id"],
        article_id=fields["article_id"],
        title=fields["title"],
        source=fields["source"],
        date=when.date() if when else None,
        path=fields["path"],
        paragraph=fields["paragraph"],
        kind=fields["kind"],
        text=fields[TEXT_FIELD],
    )
