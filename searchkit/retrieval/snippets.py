"""Snippets: the best one or two sentences of a paragraph, with the matched words as ranges.

Made the way Whoosh's ``highlight`` makes them with a fragmenter that cuts whole sentences
(keeping their punctuation and quote marks, a long sentence narrowed to a window around its
matches) and a formatter that returns a ``Snippet``: every token analysed as the index's
analyzer does (``wordterms``), matched when its term is one the query matched; one fragment
per sentence with a match, scored as Whoosh's BasicFragmentScorer scores them (matches times
100 times the distinct terms matched); the best ``fragments`` of them in text order. Without
Whoosh, because importing it costs a one-query process more than its search;
tests/test_highlight.py compares the snippets with those of Whoosh's highlighter.
"""

import heapq
import re
from typing import List, Tuple

from ..index import wordterms
from ..model import Snippet

ELLIPSIS = "…"
_BOUNDARY = re.compile(r"[.!?…]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
# Full stops that do not end a sentence: initials ("U.S.", "J. Smith") and common titles.
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Lt|Col|Capt|St|Jr|Sr|No|vs|Jan|Feb|Mar|"
    r"Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec))\.$"
)


def sentence_spans(text: str) -> List[Tuple[int, int]]:
    """[start, end) of each sentence; the end includes its punctuation and closing quotes."""
    spans, start = [], 0
    for boundary in _BOUNDARY.finditer(text):
        at = boundary.start()  # the abbreviations are short: look only just before the stop
        if _ABBREVIATION.search(text, max(0, at - 8), at + 1):
            continue
        end = boundary.start() + len(boundary.group().rstrip())
        spans.append((start, end))
        start = boundary.end()
    end = len(text.rstrip())
    if start < end:
        spans.append((start, end))
    return spans


def _window(text: str, start: int, end: int, matches, maxchars: int) -> Tuple[int, int]:
    """A stretch of at most ``maxchars`` within [start, end) around the matches, on word edges."""
    first, last = matches[0].startchar, max(m.endchar for m in matches)
    room = max(0, maxchars - (last - first))
    lo = max(start, first - room // 3)
    hi = min(end, max(last, lo + maxchars))
    if lo > start:
        space = text.find(" ", lo, first)
        lo = space + 1 if space != -1 else lo
    if hi < end:
        space = text.rfind(" ", last, hi)
        hi = space if space != -1 else hi
    return lo, hi


class _Match:
    """A matched token: where it is and its term."""

    __slots__ = ("startchar", "endchar", "text")

    def __init__(self, startchar: int, endchar: int, text: str):
        self.startchar, self.endchar, self.text = startchar, endchar, text


def _fragments(text: str, matches: List[_Match], maxchars: int):
    """(start, end, cut before, cut after, matches) of each sentence holding a match."""
    for start, end in sentence_spans(text):
        inside = [t for t in matches if start <= t.startchar and t.endchar <= end]
        if not inside:
            continue
        lo, hi = start, end
        if end - start > maxchars:
            lo, hi = _window(text, start, end, inside, maxchars)
            inside = [t for t in inside if lo <= t.startchar and t.endchar <= hi]
        yield lo, hi, lo > start, hi < end, inside


class Snippets:
    """Makes the snippet of a paragraph for the words a query matched in it."""

    between = f" {ELLIPSIS} "

    def __init__(self, maxchars: int, fragments: int):
        self.maxchars = maxchars
        self.fragments = fragments

    def __call__(self, text: str, words) -> Snippet:
        """The best ``fragments`` sentences holding ``words`` (terms, as the analyzer indexes
        them), in text order; the opening sentence if none holds one."""
        snippet = self._best(text, frozenset(words)) if words else None
        return snippet if snippet and snippet.text else lead_snippet(text, self.maxchars)

    def _best(self, text: str, words) -> Snippet:
        matches = [_Match(a, b, term) for a, b, term in wordterms.highlight_tokens(text, words)]
        scored = []
        for fragment in _fragments(text, matches, self.maxchars):
            found = fragment[4]
            score = float(len(found)) * ((len({t.text for t in found}) * 100) or 1)
            scored.append((score, fragment[0], fragment))
        best = [f for score, _, f in heapq.nlargest(self.fragments, scored) if score >= 1]
        best.sort(key=lambda fragment: fragment[0])
        return self._format(text, best)

    def _format(self, text: str, fragments) -> Snippet:
        shown, ranges = "", []
        for lo, hi, cut_before, cut_after, found in fragments:
            if shown:
                shown += self.between
            if cut_before:
                shown += ELLIPSIS
            offset = len(shown) - lo
            shown += text[lo:hi]
            ranges.extend((t.startchar + offset, t.endchar + offset) for t in found)
            if cut_after:
                shown += ELLIPSIS
        return Snippet(shown, tuple(ranges))


def lead_snippet(text: str, maxchars: int) -> Snippet:
    """The opening sentence, for a hit whose paragraph text holds no matched word."""
    spans = sentence_spans(text) or [(0, len(text))]
    start, end = spans[0]
    if end - start <= maxchars:
        return Snippet(text[start:end])
    cut = text.rfind(" ", start, start + maxchars)
    return Snippet(text[start : cut if cut > start else start + maxchars] + ELLIPSIS)
