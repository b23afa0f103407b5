"""Snippets made by Whoosh's own highlighter: the reference that searchkit.retrieval.snippets (which
makes them without Whoosh) must equal. This was searchkit's snippet maker before; it plugs
into Whoosh's highlighter (which finds the matched words with the index's own analyzer
and scores fragments) a fragmenter that cuts whole sentences, keeping their punctuation and
quote marks, and a formatter that returns a ``Snippet`` (data) instead of marked-up text.
Whoosh's own SentenceFragmenter drops a matching sentence longer than its limit and trims the
final full stop; this one narrows a long sentence to a window around its matches instead.
"""

import re
from typing import List, Tuple

from whoosh import highlight

from searchkit.retrieval.snippets import ELLIPSIS, _window, lead_snippet, sentence_spans
from searchkit.model import Snippet


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
