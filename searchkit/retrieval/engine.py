"""Matching and scoring with numpy over the segments' ranking arrays: Whoosh's BM25F with
Lucene's idf, exactly as Whoosh's searcher scores with ``weighting``.

A query reaches the engine as a tree of ``Node``s (built from plain words by ``plan``, or from
a query Whoosh's parser read by ``whooshplan``). Each node is evaluated into the documents it
matches over all segments (global numbers, ascending) and their scores, with the algebra of
Whoosh's matchers:

* ``Term`` on a searched field: Whoosh's BM25F, ``idf * (w * (K1 + 1)) / (w + K1 * ((1 - B) +
  B * length / average length))``, times the term's boost; ``idf`` is Lucene's (``weighting``
  gives Whoosh's searcher the same) with N and df over all segments, deleted documents
  included (as Whoosh counts them until a merge), the length as Whoosh stores it (one byte),
  every operation in Whoosh's order, so each contribution is the same float;
* ``AnyOf`` (Whoosh's Or): the union, scores summed, times its boost; ``AllOf`` (And): the
  intersection, scores summed, times its boost; ``Without`` (AndNot): the first part's
  matches without the second's, with the first part's scores; ``Maybe`` (AndMaybe): the first
  part's matches, with the second part's score added where it matches too; ``NoneOf`` (Not):
  every document but the child's, scoring 1.0;
* ``Restrict``: a filter on a column (date range, sources, kinds), scoring 1.0 times its boost,
  as Whoosh's constant-score range and unscored ID terms do;
* ``Scored``: documents and scores computed outside the tree and combined like any other
  node: by Whoosh itself (wildcards and other syntax the arrays cannot answer), or for a
  phrase (``Phrase``, turned into ``Scored`` by ``scored_phrases`` before the tree is
  evaluated) by the intersection of its words, kept where their positions in the arrays
  follow one another (``in_sequence``).

Deleted documents are left out at the end (every node's matches are a set operation on the
leaves', so that is the same as leaving them out of each leaf). Sums may be added in another
order than Whoosh's matcher tree adds them: scores agree to ~1e-15 relative
(tests/test_engine.py compares hits, order and scores with Whoosh on thousands of queries).
"""

import json
import math
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..index import integrity, rankarrays, safepickle
from ..index.layout import latest_generation
from ..index.rankarrays import NO_DATE, DamagedArrays, SegmentArrays

# Whoosh's length byte -> length (whoosh.util.numeric's table, from its formula).
BYTE_TO_LENGTH = np.array([int(round((pow(1.033, i) - 1) * 27)) for i in range(256)],
                          dtype=np.float64)
_DENSE_SHARE = 8  # a union over more than 1/8 of the index's documents is counted in an
# array the size of the index rather than sorted
_CACHED_POSTINGS = 1_000_000  # terms' scored postings kept between queries (bounds memory)


def idf(documents: int, frequency: int) -> float:
    """Lucene's (and bm25s's) BM25 idf of a term in ``frequency`` of ``documents`` documents.
    Whoosh's own, ``log(N / (df + 1)) + 1``, keeps a floor of 1 under every word, so that a
    common word ("most", "treat") outweighs a rare one met in the title only (bench/README.md,
    SciFact's recall)."""
    return math.log(1 + (documents - frequency + 0.5) / (frequency + 0.5))


# -- the query tree -----------------------------------------------------------------------------


class Node:
    """A part of a query. Plain classes rather than dataclasses: a one-query process pays for
    every class a dataclass decorator builds (it compiles its methods at import)."""

    __slots__ = ()
    boost = 1.0

    def __repr__(self):
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({values})"


class Term(Node):
    __slots__ = ("field", "text", "boost")

    def __init__(self, field: str, text: str, boost: float = 1.0):
        self.field, self.text, self.boost = field, text, boost


class AnyOf(Node):
    __slots__ = ("children", "boost")

    def __init__(self, children: List[Node], boost: float = 1.0):
        self.children, self.boost = children, boost


class AllOf(Node):
    __slots__ = ("children", "boost")

    def __init__(self, children: List[Node], boost: float = 1.0):
        self.children, self.boost = children, boost


class Without(Node):
    __slots__ = ("positive", "negative")

    def __init__(self, positive: Node, negative: Node):
        self.positive, self.negative = positive, negative


class NoneOf(Node):
    __slots__ = ("child",)

    def __init__(self, child: Node):
        self.child = child


class Maybe(Node):
    """Whoosh's AndMaybe: the first part's matches, plus the second part's score where it
    matches too."""

    __slots__ = ("required", "optional")

    def __init__(self, required: Node, optional: Node):
        self.required, self.optional = required, optional


class Restrict(Node):
    """Documents whose ``column`` value passes: ``date`` in [low, high] (Whoosh longs, either
    bound None), or ``source`` / ``kind`` among ``values`` (compared lower-cased for sources,
    as the source field's analyzer indexes them)."""

    __slots__ = ("column", "values", "low", "high", "boost")

    def __init__(self, column: str, values: Tuple = (), low: Optional[int] = None,
                 high: Optional[int] = None, boost: float = 1.0):
        self.column, self.values, self.low, self.high, self.boost = (
            column, values, low, high, boost)


class Phrase(Node):
    """Whoosh's Phrase: documents where ``words`` (terms) follow one another, each within
    ``slop`` after the one before, scored as Whoosh scores a phrase: the sum of its words'
    scores, times its boost. ``Evaluator.scored_phrases`` turns it into ``Scored`` before a
    tree is evaluated (over paragraphs, whatever evaluates the rest)."""

    __slots__ = ("field", "words", "slop", "boost")

    def __init__(self, field: str, words: Sequence[str], slop: int = 1, boost: float = 1.0):
        self.field, self.words, self.slop, self.boost = field, tuple(words), slop, boost


class Scored(Node):
    """Global document numbers (ascending) and scores computed outside the tree (by Whoosh,
    or for a phrase); ``words``: the terms of the text field a snippet marks where this node
    matched."""

    __slots__ = ("docs", "scores", "words")

    def __init__(self, docs: np.ndarray, scores: np.ndarray, words: frozenset = frozenset()):
        self.docs, self.scores, self.words = docs, scores, words


class Nothing(Node):
    __slots__ = ()


# -- the index as the engine sees it -------------------------------------------------------------


class Segment:
    """One segment: its arrays, where its documents start, which are deleted."""

    def __init__(self, id: str, offset: int, doc_count: int, deleted: Optional[np.ndarray],
                 field_lengths: Dict[str, int], arrays: SegmentArrays):
        self.id = id
        self.offset = offset  # its first document's global number
        self.doc_count = doc_count
        self.deleted = deleted  # local numbers of deleted documents, or None
        self.field_lengths = field_lengths
        self.arrays = arrays
        self._norms: Dict[str, np.ndarray] = {}
        self._strings: Dict[str, list] = {}

    def strings(self, column: str) -> list:
        if column not in self._strings:
            self._strings[column] = self.arrays.strings(column)
        return self._strings[column]


class DamagedIndex(ValueError):
    """A file the engine reads does not hold what this version writes."""


class Generation:
    """One commit of the index: its segments' arrays, deletions and field totals."""

    def __init__(self, folder: str, generation: Optional[int] = None):
        self.folder = folder
        if generation is None:
            generation = latest_generation(folder)
        self.generation = generation
        record = integrity.load_record(folder, self.generation)
        integrity.check_sizes(folder, record)
        toc = integrity.read_committed(folder, self.generation, f"_MAIN_{self.generation}.toc")
        if toc is None:
            raise integrity.damaged(folder, f"{integrity.record_file(self.generation)}: does "
                                            "not name its table of contents")
        safepickle.scan_toc(toc)  # never loaded here; but an index that holds code is refused
        name = integrity.side_file("segments", self.generation)
        data = integrity.read_committed(folder, self.generation, name)
        if data is None:
            raise integrity.damaged(folder, f"{integrity.record_file(self.generation)}: "
                                            f"does not name {name}")
        try:
            listed = json.loads(data.decode("ascii"))["segments"]
            self.segments: List[Segment] = []
            offset = 0
            for entry in listed:
                segment_id, doc_count = str(entry["id"]), int(entry["doc_count"])
                if not re.fullmatch(r"MAIN_[0-9a-z]+", segment_id):
                    raise DamagedIndex(f"{name}: segment {segment_id!r} is not one searchkit "
                                       "writes")
                deleted = np.array(sorted(int(d) for d in entry["deleted"]), dtype=np.int64)
                arrays = SegmentArrays(*self._mapped(record, segment_id + rankarrays.EXTENSION))
                if arrays.doc_count != doc_count or (
                        deleted.size and (deleted[0] < 0 or deleted[-1] >= doc_count)):
                    raise DamagedIndex(f"{segment_id}: its ranking arrays do not fit the "
                                       "segment")
                lengths = {str(k): int(v) for k, v in dict(entry["field_lengths"]).items()}
                self.segments.append(Segment(segment_id, offset, doc_count,
                                             deleted if deleted.size else None, lengths, arrays))
                offset += doc_count
        except OSError as error:
            raise DamagedIndex(f"cannot read {name}: {error.strerror or error}") from None
        except (ValueError, KeyError, TypeError, RecursionError) as error:
            if isinstance(error, (DamagedIndex, DamagedArrays)):
                raise DamagedIndex(str(error)) from None
            raise DamagedIndex(f"{name} is damaged") from None
        self._record = record
        self.doc_count_all = offset
        self.doc_count = offset - sum(s.deleted.size for s in self.segments
                                      if s.deleted is not None)
        # Whether phrases are matched on the arrays' positions (a segment written before
        # them has none: its phrases are matched on Whoosh's postings, ``syntax``)
        self.has_positions = all(s.arrays.has_positions(field) for s in self.segments
                                 for field in rankarrays.SCORED_FIELDS)
        self._df: Dict[Tuple[str, str], Tuple[int, list]] = {}
        self._columns: Dict[str, np.ndarray] = {}
        self._groups = None  # global group codes, once needed
        self._by_group = None  # (group hashes sorted, their documents), once needed

    def _mapped(self, record, name: str):
        """(path, integrity.CheckedMap) of a committed file of this generation."""
        entry = record.files.get(name)
        if entry is None:
            raise integrity.damaged(self.folder, f"{name}: a file its commit's record does "
                                                 "not name")

        def damage(what):
            return integrity.damaged(self.folder, f"{name}: {what}")

        path = os.path.join(self.folder, name)
        try:
            return path, integrity.CheckedMap(path, entry, damage)
        except FileNotFoundError:
            raise damage("missing") from None

    def mapped(self, name: str):
        """A committed file of this generation, mapped and checked as it is read."""
        return self._mapped(self._record, name)[1]

    # -- statistics ------------------------------------------------------------------------

    def field_length(self, fieldname: str) -> int:
        return sum(s.field_lengths.get(fieldname, 0) for s in self.segments)

    def avg_field_length(self, fieldname: str) -> float:
        return (self.field_length(fieldname) / (self.doc_count_all or 1)) or 1

    def lookup(self, fieldname: str, text: str) -> Tuple[int, list]:
        """(document frequency over all segments, the term's number in each segment or -1)."""
        key = (fieldname, text)
        found = self._df.get(key)
        if found is None:
            term = text.encode("utf-8", "surrogatepass")
            numbers = [s.arrays.find(fieldname, term) for s in self.segments]
            df = 0
            for segment, number in zip(self.segments, numbers):
                if number >= 0:
                    starts = segment.arrays[fieldname + ".starts"]
                    df += int(starts[number + 1]) - int(starts[number])
            if len(self._df) >= 200_000:  # bounded: a long-running searcher meets many words
                self._df.clear()
            found = self._df[key] = (df, numbers)
        return found

    def norms(self, segment: Segment, fieldname: str, k1: float, b: float) -> np.ndarray:
        """K1 * ((1 - B) + B * length / average length) of each document, as BM25F uses it."""
        key = f"{fieldname}:{k1}:{b}"
        norm = segment._norms.get(key)
        if norm is None:
            lengths = BYTE_TO_LENGTH[segment.arrays[fieldname + ".lengths"]]
            norm = k1 * ((1 - b) + b * lengths / self.avg_field_length(fieldname))
            segment._norms[key] = norm
        return norm

    # -- columns ---------------------------------------------------------------------------

    def column(self, name: str) -> np.ndarray:
        """A per-document column over all segments, by global document number."""
        found = self._columns.get(name)
        if found is None:
            found = self._columns[name] = (
                np.concatenate([s.arrays[name] for s in self.segments]) if self.segments
                else np.zeros(0, dtype=np.uint64))
        return found

    def group_codes(self) -> np.ndarray:
        """Each document's near-duplicate group as a small integer (equal groups, equal codes)."""
        if self._groups is None:
            _, self._groups = np.unique(self.column("group"), return_inverse=True)
        return self._groups

    def group_members(self, group_hash: int) -> np.ndarray:
        """The live documents (global numbers, ascending) whose group has this hash."""
        if self._by_group is None:
            hashes = self.column("group")
            order = np.argsort(hashes, kind="stable")
            self._by_group = (hashes[order], order)
        hashes, order = self._by_group
        wanted = np.uint64(group_hash)
        members = order[np.searchsorted(hashes, wanted):np.searchsorted(hashes, wanted, "right")]
        deleted = self.deleted_mask()
        return members[~deleted[members]] if deleted is not None else members

    def in_build_order(self, docs: np.ndarray) -> np.ndarray:
        """Sort keys of ``docs`` (global numbers) that order them as a fresh build of the same
        files numbers them (``build_order``), which an index updated in place does only by
        chance; more than _FEW_TIES of them keep their order (a filter alone ties every
        paragraph it lets through, and reading every id would cost such a query more than
        its search)."""
        docs = np.asarray(docs, dtype=np.int64)
        if len(docs) > _FEW_TIES:
            return np.arange(len(docs))
        ids: List[str] = [""] * len(docs)
        owners = np.searchsorted([s.offset for s in self.segments], docs, side="right") - 1
        for number in np.flatnonzero(np.bincount(owners)).tolist():  # (np.unique: np.ma)
            segment = self.segments[number]
            at = np.flatnonzero(owners == number)
            for i, pid in zip(at.tolist(), segment.arrays.strings_of(
                    "id", docs[at] - segment.offset)):
                ids[i] = pid
        places = np.empty(len(docs), dtype=np.int64)
        places[sorted(range(len(ids)), key=lambda i: build_order(ids[i]))] = np.arange(
            len(ids))
        return places

    def deleted_mask(self) -> Optional[np.ndarray]:
        """True for each deleted document (global numbers); None if there are none."""
        if "deleted" not in self._columns:
            mask = None
            if any(s.deleted is not None for s in self.segments):
                mask = np.zeros(self.doc_count_all, dtype=bool)
                for s in self.segments:
                    if s.deleted is not None:
                        mask[s.offset + s.deleted] = True
            self._columns["deleted"] = mask
        return self._columns["deleted"]


# -- evaluation ---------------------------------------------------------------------------------


class Matches:
    """What a query matched: global document numbers (ascending) and their scores."""

    def __init__(self, docs: np.ndarray, scores: np.ndarray):
        self.docs = docs
        self.scores = scores
        # For snippets: (terms of the text field, the documents where they matched), per leaf.
        self.marked: List[Tuple[frozenset, np.ndarray]] = []

    def __len__(self) -> int:
        return int(self.docs.size)

    def words_at(self, docnums: np.ndarray) -> List[set]:
        """The text-field terms the query matched in each of these documents."""
        words = [set() for _ in range(len(docnums))]
        if not len(docnums):
            return words
        for terms, docs in self.marked:
            if not docs.size:
                continue
            at = np.minimum(np.searchsorted(docs, docnums), docs.size - 1)
            for i in np.flatnonzero(docs[at] == docnums).tolist():
                words[i] |= terms
        return words


_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class Evaluator:
    """Evaluates query trees against one generation with BM25F's K1 and B."""

    def __init__(self, generation: Generation, k1: float, b: float):
        self.generation = generation
        self.k1 = k1
        self.b = b
        # (field, term) -> its documents and BM25F scores: the same in every query
        self._terms: Dict[Tuple[str, str], Tuple[np.ndarray, np.ndarray]] = {}
        self._cached = 0  # postings in it

    def matches(self, node: Node, mark: bool = False) -> Matches:
        """The documents ``node`` matches (deleted ones left out) and their scores; with
        ``mark``, which text-field terms matched where, for snippets."""
        cache = self._terms
        try:
            docs, scores = self._evaluate(node, cache)
        except IndexError:  # a document number past its segment's end
            raise DamagedIndex("the ranking arrays are damaged") from None
        deleted = self.generation.deleted_mask()
        if deleted is not None and docs.size:
            keep = ~deleted[docs]
            docs, scores = docs[keep], scores[keep]
        result = Matches(docs, scores)
        if mark:
            result.marked = self._marks(node, cache)
        return result

    def _marks(self, node: Node, cache) -> List[Tuple[frozenset, np.ndarray]]:
        marks = []
        for leaf in positive_leaves(node):
            if isinstance(leaf, Term) and leaf.field == "text":
                found = self._term(leaf, cache)[0]
                if found.size:
                    marks.append((frozenset({leaf.text}), found))
            elif isinstance(leaf, Scored) and leaf.words:
                marks.append((leaf.words, leaf.docs))
        return marks

    def _evaluate(self, node: Node, cache: dict):
        """The node's matches over every segment at once (global document numbers): a query's
        tree is walked once, however many segments the index has."""
        kind = type(node)
        if kind is Term:
            docs, scores = self._term(node, cache)
            return docs, scores * node.boost if node.boost != 1.0 else scores
        if kind is AnyOf:
            parts = [self._evaluate(c, cache) for c in node.children]
            docs, scores = _union(parts, self.generation.doc_count_all)
        elif kind is AllOf:
            docs, scores = self._all_of(node.children, cache)
        elif kind is Without:
            docs, scores = self._evaluate(node.positive, cache)
            if docs.size:
                excluded, _ = self._evaluate(node.negative, cache)
                keep = ~np.isin(docs, excluded, assume_unique=True)
                docs, scores = docs[keep], scores[keep]
            return docs, scores
        elif kind is Maybe:
            docs, scores = self._evaluate(node.required, cache)
            if docs.size:
                extra_docs, extra = self._evaluate(node.optional, cache)
                _, mine, theirs = np.intersect1d(docs, extra_docs, assume_unique=True,
                                                 return_indices=True)
                scores = scores.copy()
                scores[mine] += extra[theirs]
            return docs, scores
        elif kind is NoneOf:
            excluded, _ = self._evaluate(node.child, cache)
            keep = np.ones(self.generation.doc_count_all, dtype=bool)
            keep[excluded] = False
            docs = np.flatnonzero(keep)
            return docs, np.ones(docs.size)  # Whoosh's InverseMatcher: 1.0, its boost unused
        elif kind is Restrict:
            docs = np.flatnonzero(self._restriction(node))
            scores = np.ones(docs.size)
        elif kind is Scored:
            return node.docs, node.scores
        elif kind is Nothing:
            return _EMPTY
        else:
            raise TypeError(f"not a query node: {node!r}")
        if node.boost != 1.0:
            scores = scores * node.boost
        return docs, scores

    def _all_of(self, children, cache: dict):
        """The intersection of the parts, the rarest first, stopping once it is empty (the
        all-words bonus of a long query is usually empty after a few of its words)."""
        ordered = sorted(children, key=self._estimate)
        docs = scores = None
        for child in ordered:
            other_docs, other_scores = self._evaluate(child, cache)
            if docs is None:
                docs, scores = other_docs, other_scores
            else:
                common, mine, theirs = np.intersect1d(docs, other_docs, assume_unique=True,
                                                      return_indices=True)
                docs, scores = common, scores[mine] + other_scores[theirs]
            if not docs.size:
                return _EMPTY
        return (docs, scores) if docs is not None else _EMPTY

    def _estimate(self, node: Node) -> int:
        """How many documents ``node`` may match, at most (cheaply)."""
        kind = type(node)
        if kind is Term:
            return self.generation.lookup(node.field, node.text)[0]
        if kind is AnyOf:
            return sum(self._estimate(c) for c in node.children)
        if kind is AllOf:
            return min((self._estimate(c) for c in node.children), default=0)
        if kind is Nothing:
            return 0
        return self.generation.doc_count_all

    def _term(self, node: Term, cache: dict):
        """The term's documents (global numbers) and their BM25F scores (before its boost)."""
        key = (node.field, node.text)
        found = cache.get(key)
        if found is None:
            df, numbers = self.generation.lookup(node.field, node.text)
            weight = idf(self.generation.doc_count_all, df)
            k1 = self.k1
            docs_parts, scores_parts = [], []
            for segment, number in zip(self.generation.segments, numbers):
                if number < 0:
                    continue
                docs, weights = segment.arrays.postings(node.field, number)
                tf = weights.astype(np.float64)
                try:
                    norm = self.generation.norms(segment, node.field, k1, self.b)[docs]
                except IndexError:
                    raise DamagedIndex(f"{segment.id}: its ranking arrays are damaged") \
                        from None
                docs_parts.append(docs.astype(np.int64) + segment.offset)
                scores_parts.append(weight * ((tf * (k1 + 1)) / (tf + norm)))
            found = _EMPTY
            if docs_parts:
                found = (np.concatenate(docs_parts), np.concatenate(scores_parts))
                for array in found:
                    array.flags.writeable = False  # shared by later queries
            if self._cached + found[0].size > _CACHED_POSTINGS:
                cache.clear()
                self._cached = 0
            cache[key] = found
            self._cached += found[0].size
        return found

    def scored_phrases(self, node: Node, known: Optional[dict] = None,
                       check_time=lambda: None) -> Node:
        """The tree with each ``Phrase`` in it replaced by its matches (``phrase``, given
        ``check_time``), a phrase met twice (the all-words bonus repeats the query) found
        once."""
        known = {} if known is None else known
        kind = type(node)
        if kind is Phrase:
            key = (node.field, node.words, node.slop, node.boost)
            if key not in known:
                known[key] = self.phrase(node, check_time)
            return known[key]
        if kind in (AnyOf, AllOf):
            return kind([self.scored_phrases(c, known, check_time) for c in node.children],
                        node.boost)
        if kind is Without:
            return Without(self.scored_phrases(node.positive, known, check_time),
                           self.scored_phrases(node.negative, known, check_time))
        if kind is Maybe:
            return Maybe(self.scored_phrases(node.required, known, check_time),
                         self.scored_phrases(node.optional, known, check_time))
        if kind is NoneOf:
            return NoneOf(self.scored_phrases(node.child, known, check_time))
        return node

    def phrase(self, node: Phrase, check_time=lambda: None, in_sequence=None) -> Scored:
        """A phrase's matches: the intersection of its words, kept where they follow one
        another (``in_sequence``, or another test taking its arguments: of Whoosh's
        postings, for an index written before the arrays kept positions), scored as Whoosh
        scores a phrase."""
        found = self.matches(AllOf([Term(node.field, word) for word in node.words]))
        keep = (in_sequence or self.in_sequence)(node.field, node.words, found.docs, node.slop,
                                                 check_time)
        scores = found.scores[keep]
        return Scored(found.docs[keep], scores * node.boost if node.boost != 1.0 else scores,
                      frozenset(node.words) if node.field == "text" else frozenset())

    def in_sequence(self, field: str, terms: Sequence[str], docs: np.ndarray, slop: int,
                    check_time=lambda: None) -> np.ndarray:
        """Which of ``docs`` (global numbers, ascending, each holding every term of
        ``terms``) hold them in sequence, each within ``slop`` after the one before, as
        Whoosh's phrase matcher asks, by the positions in the ranking arrays (every segment
        has them where ``generation.has_positions``). ``check_time`` is called between
        words."""
        found = np.zeros(docs.size, dtype=bool)
        numbers = [self.generation.lookup(field, term)[1] for term in terms]
        for k, segment in enumerate(self.generation.segments):
            low, high = np.searchsorted(docs, [segment.offset,
                                               segment.offset + segment.doc_count]).tolist()
            if low == high:
                continue
            local = docs[low:high] - segment.offset
            # One word's positions at a time, each word's read once: a phrase may repeat a
            # word hundreds of times, each as many positions as the paragraphs hold.
            keys: Dict[int, np.ndarray] = {}
            ends = None
            for number in (n[k] for n in numbers):
                check_time()
                if number not in keys:
                    keys[number] = self._position_keys(segment, field, number, local)
                ends = keys[number] if ends is None else _followed(ends, keys[number], slop)
                if not ends.size:
                    break
            found[low + (ends >> 32)] = True
        return found

    @staticmethod
    def _position_keys(segment: Segment, field: str, number: int,
                       local: np.ndarray) -> np.ndarray:
        """Term ``number``'s positions in the segment's documents ``local`` (each holding
        it), as (which of them << 32 | position), ascending."""
        if number < 0 or not segment.arrays.has_positions(field):
            raise DamagedIndex(f"{segment.id}: its ranking arrays are damaged")
        try:
            owner, positions = segment.arrays.positions(field, number, local)
        except DamagedArrays as error:
            raise DamagedIndex(str(error)) from None
        return (owner.astype(np.int64) << 32) | positions.astype(np.int64)

    def _restriction(self, node: Restrict) -> np.ndarray:
        """A boolean mask over every document (global numbers)."""
        masks = [self._segment_restriction(node, s) for s in self.generation.segments]
        return np.concatenate(masks) if masks else np.zeros(0, dtype=bool)

    def _segment_restriction(self, node: Restrict, segment: Segment) -> np.ndarray:
        """A boolean mask over the segment's documents."""
        arrays = segment.arrays
        if node.column == "date":
            dates = arrays["date"]
            mask = dates != NO_DATE
            if node.low is not None:
                mask &= dates >= np.uint64(node.low)
            if node.high is not None:
                mask &= dates <= np.uint64(node.high)
            return mask
        strings = segment.strings(node.column)
        if node.column == "source":
            wanted = {v.lower() for v in node.values}
            allowed = [s.lower() in wanted for s in strings]
        else:
            wanted = set(node.values)
            allowed = [s in wanted for s in strings]
        return np.asarray(allowed + [False], dtype=bool)[
            np.minimum(arrays[node.column + ".code"], len(strings))]


_POSITION_LIMIT = 1 << 32  # positions are below it (u2 or u4)


def _followed(ends: np.ndarray, following: np.ndarray, slop: int) -> np.ndarray:
    """Where spans ending at ``ends`` end once the next word (at ``following``) is taken, both
    (document << 32 | position), ascending. As Whoosh's SpanNear2 (ordered, at least one
    apart) joins spans, a span ending at e takes the next word at p where e < p <= e + slop;
    only where spans end decides what may follow, so the ends are all that is kept."""
    slop = min(slop, _POSITION_LIMIT)  # (any wider reaches every position, as this does)
    before = np.searchsorted(ends, following) - 1  # the last end before each position
    end = ends[np.maximum(before, 0)]
    return following[(before >= 0) & (end >= following - slop)
                     & ((end >> 32) == (following >> 32))]


def _union(parts, doc_count: int):
    parts = [p for p in parts if p[0].size]
    if not parts:
        return _EMPTY
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([p[0] for p in parts])
    scores = np.concatenate([p[1] for p in parts])
    if docs.size * _DENSE_SHARE > doc_count:
        summed = np.bincount(docs, weights=scores, minlength=doc_count)
        present = np.bincount(docs, minlength=doc_count) > 0
        found = np.flatnonzero(present)
        return found, summed[found]
    order = np.argsort(docs, kind="stable")
    docs, scores = docs[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
    return docs[starts], np.add.reduceat(scores, starts)


def positive_leaves(node: Node):
    """The leaves not under a NOT: those whose matches a snippet marks."""
    kind = type(node)
    if kind in (AnyOf, AllOf):
        for child in node.children:
            yield from positive_leaves(child)
    elif kind is Maybe:
        yield from positive_leaves(node.required)
        yield from positive_leaves(node.optional)
    elif kind is Without:
        yield from positive_leaves(node.positive)
    elif kind is not NoneOf:
        yield node


# -- ranking ------------------------------------------------------------------------------------


# Ties among more documents than this stay in document-number order (Generation.in_build_order).
_FEW_TIES = 2000
_ARTICLE_NUMBER = re.compile(r"(.*):([0-9]+)", re.DOTALL)


def build_order(pid: str) -> tuple:
    """Where a fresh build puts paragraph ``pid``: its file by key (the article id without
    ``:<n>``), then its article and itself by number."""
    article, _, number = pid.rpartition("#")
    return (*_article_order(article), _number(number), pid)


def _article_order(article: str) -> Tuple[str, int]:
    numbered = _ARTICLE_NUMBER.fullmatch(article)
    return (numbered.group(1), _number(numbered.group(2))) if numbered else (article, 0)


def _number(digits: str) -> int:
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 18 else 0


def ranked(matches: Matches, count: int, dates: Optional[np.ndarray] = None,
           newest_first: bool = False, ties=None) -> np.ndarray:
    """Positions in ``matches`` of the best ``count``, in order: by score, highest first;
    with ``dates``, by date instead (undated last). Ties go by document number (Whoosh's
    order), or as ``ties(docs)`` ranks their documents (``Generation.in_build_order``: a
    fresh build's, whatever order the documents were indexed in)."""
    n = len(matches)
    if n == 0 or count <= 0:
        return np.zeros(0, dtype=np.int64)
    if dates is None:
        scores = matches.scores
        if count < n:
            cut = np.partition(scores, n - count)[n - count]  # the count-th highest score
            candidates = np.flatnonzero(scores >= cut)  # ties at the cut all come along
        else:
            candidates = np.arange(n)
        keys = [-scores[candidates]]
    else:
        values = dates[matches.docs]
        candidates = np.arange(n)
        keys = [(np.uint64(NO_DATE) - values) if newest_first else values,
                values == NO_DATE]
    order = np.lexsort((matches.docs[candidates], *keys))
    if ties is not None:
        order = _ties_broken(order, [k[order] for k in keys], count,
                             lambda at: ties(matches.docs[candidates[at]]))
    return candidates[order][:count]


def _ties_broken(order: np.ndarray, keys: List[np.ndarray], count: int, ties) -> np.ndarray:
    """``order`` (sorted by ``keys``, given in that order) with the runs of equal keys among
    its first ``count`` reordered as ``ties(positions in order)`` ranks them."""
    same = np.ones(len(order) - 1, dtype=bool)
    for key in keys:
        same &= key[1:] == key[:-1]
    # (the run at the cut counts whole: which of its members make the first count)
    end = min(count, len(order))
    while end < len(order) and same[end - 1]:
        end += 1
    runs = np.concatenate([[0], np.cumsum(~same[:end - 1])])
    tied = np.zeros(end, dtype=bool)
    tied[1:] |= same[:end - 1]
    tied[:-1] |= same[:end - 1]
    if not tied.any():
        return order
    at = np.flatnonzero(tied)
    rank = np.zeros(end, dtype=np.int64)
    rank[at] = ties(order[at])
    return np.concatenate([order[:end][np.lexsort((rank, runs))], order[end:]])


def leaders(matches: Matches, count: int, groups: Optional[np.ndarray],
            dates: Optional[np.ndarray] = None, newest_first: bool = False,
            ties=None) -> np.ndarray:
    """Positions in ``matches`` of the best document of each of the first ``count`` groups
    (``groups``: a code per global document; None: every document is its own group)."""
    if groups is None:
        return ranked(matches, count, dates, newest_first, ties)
    fetch = count * 3  # most groups are single paragraphs
    while True:
        order = ranked(matches, fetch, dates, newest_first, ties)
        codes = groups[matches.docs[order]]
        _, first = np.unique(codes, return_index=True)
        firsts = order[np.sort(first)]
        if firsts.size >= count or fetch >= len(matches):
            return firsts[:count]
        fetch *= 2


def count_groups(matches: Matches, generation: Generation) -> int:
    if not len(matches):
        return 0
    if len(matches) < 5000:
        found = np.sort(generation.column("group")[matches.docs])
        return 1 + int(np.count_nonzero(found[1:] != found[:-1]))  # (np.unique imports np.ma)
    codes = generation.group_codes()
    seen = np.zeros(int(codes.max()) + 1, dtype=bool)
    seen[codes[matches.docs]] = True
    return int(np.count_nonzero(seen))
