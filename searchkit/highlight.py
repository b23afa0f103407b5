"""Snippets: the best one or two sentences of a paragraph, with the matched words as ranges.

Plugs into Whoosh's highlighter (which finds the matched words with the index's own analyzer
and scores fragments) a fragmenter that cuts whole sentences, keeping their punctuation and
quote marks, and a formatter that returns a ``Snippet`` (data) instead of marked-up text.
Whoosh's own SentenceFragmenter drops a matching sentence longer than its limit and trims the
final full stop; this one narrows a long sentence to a window around its matches instead.
"""

import re
from typing import List, Tuple

from whoosh import highlight

from .model import Snippet

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
        if _ABBREVIATION.search(text[: boundary.start() + 1]):
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


class SentenceFragmenter(highlight.Fragmenter):
    """One fragment per sentence that holds a matched word."""

    def __init__(self, maxchars: int = 240):
        self.maxchars = maxchars
        self.charlimit = None

    def fragment_tokens(self, text, all_tokens):
        return self.fragment_matches(text, [t.copy() for t in all_tokens if t.matched])

    def fragment_matches(self, text, matched_tokens):
        for start, end in sentence_spans(text):
            inside = [t for t in matched_tokens if start <= t.startchar and t.endchar <= end]
            if not inside:
                continue
            lo, hi = start, end
            if end - start > self.maxchars:
                lo, hi = _window(text, start, end, inside, self.maxchars)
                inside = [t for t in inside if lo <= t.startchar and t.endchar <= hi]
            fragment = highlight.Fragment(text, inside, lo, hi)
            fragment.cut = (lo > start, hi < end)
            yield fragment


class SnippetFormatter(highlight.Formatter):
    """Fragments -> one Snippet: fragments joined by " … ", cut sentences marked with "…"."""

    between = f" {ELLIPSIS} "

    def format(self, fragments, replace=False):
        text, ranges = "", []
        for fragment in fragments:
            if text:
                text += self.between
            cut_before, cut_after = getattr(fragment, "cut", (False, False))
            if cut_before:
                text += ELLIPSIS
            offset = len(text) - fragment.startchar
            text += fragment.text[fragment.startchar : fragment.endchar]
            ranges.extend((t.startchar + offset, t.endchar + offset) for t in fragment.matches)
            if cut_after:
                text += ELLIPSIS
        return Snippet(text, tuple(ranges))


class Snippets:
    """Makes the snippet of a paragraph for the words a query matched in it."""

    def __init__(self, analyzer, maxchars: int, fragments: int):
        self.analyzer = analyzer  # the index's own, so that the same words match
        self.maxchars = maxchars
        self.fragments = fragments
        self.fragmenter = SentenceFragmenter(maxchars)
        self.formatter = SnippetFormatter()

    def __call__(self, text: str, words) -> Snippet:
        """The best ``fragments`` sentences holding ``words`` (as the analyzer indexes them),
        in text order; the opening sentence if none holds one."""
        snippet = highlight.highlight(
            text, words, self.analyzer, self.fragmenter, self.formatter,
            top=self.fragments, order=highlight.FIRST,
        ) if words else None
        return snippet if snippet and snippet.text else lead_snippet(text, self.maxchars)


def lead_snippet(text: str, maxchars: int) -> Snippet:
    """The opening sentence, for a hit whose paragraph text holds no matched word."""
    spans = sentence_spans(text) or [(0, len(text))]
    start, end = spans[0]
    if end - start <= maxchars:
        return Snippet(text[start:end])
    cut = text.rfind(" ", start, start + maxchars)
    return Snippet(text[start : cut if cut > start else start + maxchars] + ELLIPSIS)
