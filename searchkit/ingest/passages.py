"""A very long paragraph -> passages of bounded length.

A passage holds at most ``max_words`` words and ``max_chars`` characters. It ends at the last
sentence end (``.``, ``!``, ``?``, ``…`` or their CJK forms, with any closing quotes or brackets)
in the second half of the room it has; failing that, after its last whole word; a single token
longer than ``max_chars`` (a run of text without spaces) is cut hard. Nothing is lost: the
passages' words, in order, are the paragraph's words (a hard-cut token is in pieces).
Pure text in, texts out; memory stays linear: the paragraph is scanned a window at a time.
"""

import re
from functools import lru_cache
from typing import List

_LAST_SPACE = re.compile(r".*\s", re.S)
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


@lru_cache(maxsize=8)
def _words(max_words: int):
    """Up to ``max_words`` words, each with the spaces after it (matched in C, not word by word:
    a 50 MB paragraph has 8 million words)."""
    return re.compile(r"(?:\S+\s*){1,%d}" % max_words)


def _cut(text: str, pos: int, max_words: int, max_chars: int) -> int:
    """Where the passage starting at ``pos`` (not a space) ends: an index into ``text`` past
    ``pos``."""
    limit = min(len(text), pos + max_chars)
    room = _words(max_words).match(text, pos, limit).end()
    if room == len(text):
        return room  # the rest fits
    if room == limit and not text[room].isspace() and not text[room - 1].isspace():
        last_space = _LAST_SPACE.match(text, pos, room)  # the room ends inside a word
        if last_space is None:
            return limit  # one token longer than max_chars: cut it hard
        room = last_space.end()
    last_end = 0
    for sentence in _SENTENCE_END.finditer(text, pos + (room - pos) // 2, room):
        last_end = sentence.end()
    return last_end or room
