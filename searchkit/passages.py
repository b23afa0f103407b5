"""A very long paragraph -> passages of bounded length.

A passage holds at most ``max_words`` words and ``max_chars`` characters. It ends at the last
sentence end (``.``, ``!``, ``?``, ``…`` or their CJK forms, with any closing quotes or brackets)
in the second half of the room it has; failing that, after its last whole word; a single token
longer than ``max_chars`` (a run of text without spaces) is cut hard. Nothing is lost: the
passages' words, in order, are the paragraph's words (a hard-cut token is in pieces).
Pure text in, texts out; memory stays linear: the paragraph is scanned a window at a time.
"""

import re
from typing import List

_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*(?=\s)|[。！？]")


def needs_split(text: str, max_words: int, max_chars: int) -> bool:
    if len(text) > max_chars:
        return True
    if len(text) <= max_words:  # fewer characters than the word limit: fewer words too
        return False
    return len(text.split()) > max_words


def split_passages(text: str, max_words: int, max_chars: int) -> List[str]:
    """``text`` cut into passages (one passage if it is short enough)."""
    if max_words < 1 or max_chars < 1:
        raise ValueError("passage limits must be positive")
    if not needs_split(text, max_words, max_chars):
        return [text]
    passages = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        cut = _cut(text, pos, max_words, max_chars)
        passage = text[pos:cut].strip()
        if passage:
            passages.append(passage)
        pos = cut
    return passages


def _cut(text: str, pos: int, max_words: int, max_chars: int) -> int:
    """Where the passage starting at ``pos`` ends (an index into ``text``, past ``pos``)."""
    window = text[pos: pos + max_chars + 1]  # one more: is the last word complete?
    if len(window) <= max_chars and len(window.split()) <= max_words:
        return pos + len(window)  # the rest fits
    room = 0  # end of the last whole word that fits
    for count, word in enumerate(_WORD.finditer(window), start=1):
        if count > max_words or word.end() > max_chars:
            break
        room = word.end()
    if room == 0:  # one token longer than max_chars: cut it hard
        return pos + max_chars
    last_end = 0
    for sentence in _SENTENCE_END.finditer(window, room // 2, room):
        last_end = sentence.end()
    return pos + (last_end or room)
