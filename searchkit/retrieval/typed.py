"""What of a typed query is query syntax and what is text (no Whoosh; docs/queries.md).

People paste: quotations, sentences ending in "?", a dash between words, "+1", "C++". Syntax
takes effect only where it is deliberate and valid, and every other syntax character is read
as text (blanked: the analyzer indexes no such character anyway), with a note saying so:

- ``+`` or ``-`` at a word's start, directly before a word that starts with a letter and that
  the analyzer keeps (``-Putin``), a quoted phrase, a group or a field; ``+1``, ``-5``,
  ``-the``, a lone dash and a sign glued to what comes before it (``H2A)-histone``) are text;
- a wildcard in a word with at least MIN_PREFIX letters before it: ``*`` inside or at its end
  (``Lukash*``), ``?`` inside it (``Tikh?novskaya``); a ``?`` that ends a word is a question
  mark, ``?transverse`` is a word;
- balanced double quotes and balanced parentheses with words inside (a quotation of
  QUOTATION_WORDS words or more is also searched as its words: pasted, it may have lost one);
- a range only after a field name (``date:[2020-08 TO]``), a boost after a word (``oil^2``);
- AND, OR, ANDNOT, ANDMAYBE between two operands and NOT before one, unless they stand
  among 3 words or more written in capitals, two of them side by side (a pasted headline,
  alone or above its story; not USSR OR USA OR EEC).

Field names are left to Whoosh's parser (an unknown one is a word, with a note of its own).
With ``syntax=False`` (``--plain``) every character is text and no note is given.

Before that, ``unwrapped`` puts text copied from a PDF, an e-mail or a chat on one line.
"""

import re
from typing import Callable, List, Tuple

from ..index import wordterms
from ..index.layout import FIELD_NAMES
from ..model import Record
from .plan import MIN_PREFIX, OPERATORS

TEXT_NOTE = "read as text, not as query syntax: "  # how the note on what was so read starts
# A phrase of this many words or more is a quotation: pasted with a word changed or dropped it
# would match nothing, so its words are searched too (the phrase still ranks first).
QUOTATION_WORDS = 5
_SYNTAX_CHARS = set('"()[]{}*?^~\\')
_WORD = re.compile(r"[^\s()]+")  # a word with what is glued to it, parentheses apart
_FIELD = re.compile(r"([^\W\d]\w*):")
_SIGNS = re.compile(r"(?<![^\s(])[+-]+")
_RANGE = re.compile(r"(?<![\w:/])([^\W\d]\w*):[\[{][^\]}]*[\]}]")
_BOOST = re.compile(r"(?<=[\w\")])\^\d+(?:\.\d+)?(?![\w.])")
_SLOP = re.compile(r'(?<=")~\d+(?!\w)')
_REPLY_MARKS = re.compile(r"^[ \t]*(?:>[ \t]*)+", re.M)  # "> " before each line of a reply
_LINE_END_HYPHEN = re.compile(r"([^\W\d_]+)-[ \t]*\r?\n[ \t]*([^\W\d_]+)")
_INVISIBLES = "[\u00ad\u200b-\u200d\u2060\ufeff]"  # a soft hyphen, zero widths
_INVISIBLE = re.compile(_INVISIBLES)
_BROKEN_BY_INVISIBLE = re.compile(r"([^\W\d_]+)" + _INVISIBLES + r"+([^\W\d_]+)")


class Typed(Record):
    text: str  # the query with every character that is not valid syntax blanked
    notes: Tuple[str, ...]  # what was taken as text (one line), if anything


def unwrapped(text: str, known: Callable[[str], bool]) -> str:
    """``text`` as one line of words: reply marks (">") at line starts dropped; a word broken
    by an invisible character (a soft hyphen, a zero-width space) or hyphenated at a line end
    joined where ``known`` (the index has the joined word), else kept apart (the index splits
    words at an invisible character; a line end's hyphen stays: long-term); every run of white
    space (line breaks, non-breaking spaces) one space, so that a quotation broken across
    lines is still a phrase."""
    text = _REPLY_MARKS.sub("", text)

    def joined(match, apart):
        word = match.group(1) + match.group(2)
        return word if known(word) else match.group(1) + apart + match.group(2)

    text = _BROKEN_BY_INVISIBLE.sub(lambda match: joined(match, " "), text)
    text = _LINE_END_HYPHEN.sub(lambda match: joined(match, "-"), _INVISIBLE.sub(" ", text))
    return re.sub(r"\s+", " ", text)


def read(text: str, syntax: bool = True) -> Typed:
    """``text`` with only its deliberate, valid query syntax left, and a note on the rest."""
    chars = list(text)
    if not syntax:
        for i, char in enumerate(chars):
            if char in _SYNTAX_CHARS or char == ":":
                chars[i] = " "
        # signs at a word's start once the syntax characters are blanked: "(H2A)-histone"
        for match in _SIGNS.finditer("".join(chars)):
            chars[match.start():match.end()] = " " * (match.end() - match.start())
        lowered = re.sub(r"\b(?:%s)\b" % "|".join(OPERATORS), lambda m: m.group().lower(),
                         "".join(chars))
        return Typed(lowered, ())
    taken: List[str] = []
    kept = [False] * len(chars)  # protected: inside a phrase or a range
    _phrases(text, chars, kept, taken)
    for match in _RANGE.finditer(text):
        if match.group(1) in FIELD_NAMES and not any(kept[match.start():match.end()]):
            kept[match.start():match.end()] = [True] * (match.end() - match.start())
    for pattern in (_BOOST, _SLOP):
        for match in pattern.finditer(text):
            kept[match.start():match.end()] = [True] * (match.end() - match.start())
    _parentheses(text, chars, kept, taken)
    _signs(text, chars, kept, taken)
    _wildcards(text, chars, kept, taken)
    for i, char in enumerate(chars):
        if char in "[]{}^~\\" and not kept[i]:
            if char in "[]{}^":
                taken.append(char)
            chars[i] = " "
    _glued_signs(text, chars, kept, taken)
    result = "".join(chars)
    result, operators = _operators(result, kept)
    taken += operators
    result += _quotation_words(text, kept)
    notes = ()
    if taken:
        shown = ", ".join(dict.fromkeys(t.strip() for t in taken if t.strip()))
        notes = (TEXT_NOTE + shown,)
    return Typed(result, notes)


def _phrases(text: str, chars: list, kept: list, taken: list) -> None:
    """Pairs of double quotes with a word between them are phrases; any other quote is text."""
    quotes = [i for i, c in enumerate(text) if c == '"']
    if len(quotes) % 2:
        chars[quotes[-1]] = " "
        taken.append('"')
        quotes = quotes[:-1]
    for start, end in zip(quotes[::2], quotes[1::2]):
        if not re.search(r"\w", text[start + 1:end]):
            chars[start:end + 1] = " " * (end + 1 - start)
            taken.append(text[start:end + 1])
            continue
        kept[start:end + 1] = [True] * (end + 1 - start)


def _quotation_words(text: str, kept: list) -> str:
    """The words of each quotation (a phrase of QUOTATION_WORDS words or more, not signed,
    negated or in a field), as plain text to add to the query."""
    added = []
    for match in re.finditer(r'"([^"]*)"', text):
        if not kept[match.start()] or len(wordterms.TOKEN.findall(match.group(1))) < \
                QUOTATION_WORDS:
            continue
        before = text[:match.start()]
        if before[-1:] in ("-", "+", ":") or re.search(r"\b(?:NOT|ANDNOT)\s*$", before):
            continue
        # lower case: the words of a phrase are no names to vary (docs/queries.md)
        added.append(read(match.group(1), syntax=False).text.lower())
    return "".join(" " + words for words in added)


def _parentheses(text: str, chars: list, kept: list, taken: list) -> None:
    """Balanced parentheses with a word or phrase inside group; any other one is text."""
    opened = []
    for i, char in enumerate(text):
        if kept[i] or char not in "()":
            continue
        if char == "(":
            opened.append(i)
            continue
        start = opened.pop() if opened else None
        if start is not None and re.search(r'[\w"]', text[start + 1:i]):
            continue
        chars[i] = " "
        if start is not None:
            chars[start] = " "
        taken.append(")" if start is None else "()")
    for start in opened:
        chars[start] = " "
        taken.append("(")


def _signs(text: str, chars: list, kept: list, taken: list) -> None:
    """``+`` and ``-`` at the start of a word: syntax before a word the analyzer keeps (or a
    phrase, a group, a field), text otherwise."""
    for match in _SIGNS.finditer(text):
        start, end = match.span()
        if kept[start]:
            continue
        rest = text[end:]
        word = _WORD.match(rest)
        valid = len(match.group()) == 1 and (
            rest[:1] in ('"', "(")
            or (word is not None and _signed_word(word.group()))
        )
        if not valid:
            chars[start:end] = " " * (end - start)
            taken.append(match.group() + (word.group() if word and rest[:1] != " " else ""))


def _glued_signs(text: str, chars: list, kept: list, taken: list) -> None:
    """A ``+`` or ``-`` glued to what came before it is text, even once that was blanked
    ("H2A)-histone" is no exclusion)."""
    for i in range(1, len(chars)):
        if (chars[i] in "+-" and not kept[i] and chars[i - 1] == " "
                and not text[i - 1].isspace() and text[i - 1] != "("):
            end = i
            while end < len(chars) and chars[end] in "+-":
                end += 1
            chars[i:end] = " " * (end - i)
            if not any(text[i:end] in earlier for earlier in taken):  # "ab*-x" said it
                taken.append(text[i:end])


def _signed_word(word: str) -> bool:
    field = _FIELD.match(word)
    if field and field.group(1) in FIELD_NAMES:
        return True
    if not word[:1].isalpha():
        return False
    first = wordterms.TOKEN.search(word)
    return first is not None and wordterms.term_of(first.group()) is not None


def _wildcards(text: str, chars: list, kept: list, taken: list) -> None:
    """A word's wildcards are syntax when MIN_PREFIX letters come before the first and a ``?``
    has a letter after it; else the word is text."""
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        if "*" not in word and "?" not in word or kept[start]:
            continue
        body = word
        field = _FIELD.match(body)
        if field and field.group(1) in FIELD_NAMES:
            body = body[field.end():]
        body = body.lstrip("+-")
        offset = start + len(word) - len(body)
        first = min(i for i in (body.find("*"), body.find("?")) if i >= 0)
        valid = (
            len(body[:first]) >= MIN_PREFIX
            and re.fullmatch(r"\w+", body[:first]) is not None
            and re.fullmatch(r"[\w*?]*", body[first:]) is not None
            and not re.search(r"\?(?![\w*?])", body)
        )
        if not valid:
            taken.append(body)
            for i, char in enumerate(body):
                if char in "*?":
                    chars[offset + i] = " "


def _in_capitals(words: List[str]) -> List[bool]:
    """For each word, whether it stands in a run of words without lower case that holds 3
    words or more besides operators, two of them side by side: a headline, pasted alone or
    above its story (not abbreviations joined by operators: USSR OR USA OR EEC)."""
    flags = [False] * len(words)
    start = 0
    for end in range(len(words) + 1):
        if end < len(words) and words[end] == words[end].upper():
            continue
        plain = [w not in OPERATORS and re.search(r"[^\W\d_]{2,}", w) is not None
                 for w in words[start:end]]
        if sum(plain) >= 3 and any(a and b for a, b in zip(plain, plain[1:])):
            flags[start:end] = [True] * (end - start)
        start = end + 1
    return flags


def _operators(text: str, kept: list) -> Tuple[str, List[str]]:
    """The text with operator words that have nothing to act on, or that stand among words
    written in capitals, lower-cased (they are then stop words or plain words)."""
    # Phrases and ranges are operands; only words outside them may be operators.
    words = [(m.start(), m.group() if not kept[m.start()] else '""')
             for m in re.finditer(r'"[^"]*"|[^\s()"]+|[()]', text)]
    shouted = _in_capitals([w for _, w in words])
    taken = []
    chars = list(text)
    for n, (start, word) in enumerate(words):
        if word not in OPERATORS:
            continue
        shouting = shouted[n]
        before = words[n - 1][1] if n else None
        after = words[n + 1][1] if n + 1 < len(words) else None
        operand_before = before is not None and before not in OPERATORS and before != "("
        operand_after = after is not None and after not in OPERATORS and after != ")"
        valid = not shouting and word != "TO" and operand_after and (
            word == "NOT" or operand_before)
        if not valid:
            chars[start:start + len(word)] = word.lower()
            if not shouting:
                taken.append(word)
    return "".join(chars), taken
