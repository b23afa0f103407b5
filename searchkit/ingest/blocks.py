"""Text of an article file -> classified blocks -> articles.

A block is a line, or a hard-wrapped paragraph joined back into one. Each block gets a kind:
headline, sub-heading, photo caption, credit, tag line, byline, dateline, URL or body. A file
may hold several articles one after another; a new one starts at a Title Case headline that is
set apart (two blank lines before it, or a photo caption or tag line right after it).
In a Markdown file, a table row is a paragraph of its cells, a fenced code block one paragraph,
and a block quote its text. Pure text in, data out: no files, no Whoosh. A text that would give
more blocks than config.MAX_PARAGRAPHS_PER_FILE is refused (TooManyParagraphs) as its lines are
read.
"""

import re
from dataclasses import dataclass, field
from typing import Iterator, List, NamedTuple, Optional

from ..config import MAX_PARAGRAPHS_PER_FILE
from ..errors import TooManyParagraphs
from ..model import BODY, BYLINE, CAPTION, CREDIT, DATELINE, HEADLINE, SUBHEADING, TAG, URL, Block
from .encoding import line_texts
from .metadata import is_date_line, source_named

# Lines of a hard-wrapped paragraph (all but its last) are this long; a shorter or longer line
# is a block of its own (a sub-heading right above its paragraph, a caption above its credit).
_WRAP_MIN, _WRAP_MAX = 50, 100
_HEADING_MAX_WORDS = 15
_HEADING_MAX_CHARS = 120
_TITLE_MAX_WORDS = 25
_LABEL_MAX_WORDS = 5
_SUBHEADING_MAX_WORDS = 10
# A line this long is a body paragraph: no caption, credit, byline or URL line is (and a 50 MB
# one-line file is then classified without running every pattern over it).
_LONG_LINE_CHARS = 2000

# Inline Markdown reduced to its text: images and links keep their text, emphasis and code marks
# go, autolinks keep the address.
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_CODE = re.compile(r"`([^`]+)`")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_QUOTE = re.compile(r"^(?:>\s?)+")
_MD_FENCE = re.compile(r"^(`{3,}|~{3,})")
# A table's delimiter row under its header: "|---|:---:|", "--- | ---".
_MD_TABLE_DELIMITER = re.compile(r"^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?$|^\|\s*:?-+:?\s*\|$")
_MD_CELL_BORDER = re.compile(r"(?<!\\)\|")  # a "|" not escaped as "\|"
_CELL_SEPARATOR = "; "
_OTHER_SPACE = re.compile(r"[^\S ]")  # whitespace but a space: a tab, a newline, ...

# A photo credit: "Kay Nietfeld / POOL / AFP", "Drew Angerer/Getty Images/AFP", "TUT.BY / AFP".
_NAME = r"[A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*){0,3}"
_CREDIT = _NAME + r"(?:\s*/\s*" + _NAME + r"){1,3}\.?"
_CREDIT_LINE = re.compile(r"^\(?(?i:photo:?\s+(?:by\s+)?)?" + _CREDIT + r"\)?$")
# A caption ends with its credit after a full stop, or says so in words.
_CREDIT_ENDINGS = [
    re.compile(r"[.!?”\"’)]\s+\(?" + _CREDIT + r"\)?$"),
    re.compile(r"\S\s+\*\*" + _CREDIT + r"\*\*$"),
]
_PHOTO_BY_ENDING = re.compile(r"\((?:photo|picture|image)\s+(?:by|credit:?)\s+[^)]+\)\.?$",
                              re.I)
_CAPTION_OPENINGS = re.compile(r"^(?:\(FILES\)|file photo:|photo:|pictured:)", re.I)

_BOILERPLATE = re.compile(
    r"^(?:read from source|read more|leave a reply|leave a comment|advertisement|share this"
    r"(?: article| story)?|your email address will not be published\.?|related (?:article|story|"
    r"stories|coverage|content)\s*:.*|read (?:also|more)\s*:.*|follow us on .*|sign up for .*)$",
    re.I,
)
_BYLINE = re.compile(r"^by\s+\S", re.I)
# The words besides names and numbers in a byline ending in a full stop ("By Jane Doe for AFP."
# is one; "By noon the crowd had grown." is not).
_BYLINE_JOINING = frozenset(
    "and for of the de da di del van von der den la le al el bin ibn | & / — – -".split())
_CREDIT_JOINING = _BYLINE_JOINING | {"in", "at", "from"}  # "Reporting by Jane Doe in Minsk"
# A wire story's closing credits: "Reporting by Jane Doe in Minsk; Editing by John Smith".
_CREDIT_ROLE = (r"(?:(?:additional|further)\s+)?(?:reporting|writing|editing|compiled|compiling"
                r"|research|graphics|production|translation|translated)")
_WIRE_CREDIT = re.compile(_CREDIT_ROLE + r"(?:\s+and\s+\w+)?\s+by\s+(?P<names>\S.*)$", re.I)
_CREDIT_START = re.compile(r"\(?" + _CREDIT_ROLE + r"\b", re.I)
_NEXT_CREDIT = re.compile(r";|,\s*(?=" + _CREDIT_ROLE + r"\b)", re.I)  # "..., editing by"
# "Original url: https://...", or the label alone above the address ("Source: Reuters" names
# the source instead: metadata.source_named)
_ORIGINAL_URL = re.compile(
    r"^(?:original\s+)?(?:url|source|link)\s*:\s*"
    r"(?:<?(?:https?://|www\.)\S*|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/\S*)?$", re.I)
_BARE_URL = re.compile(r"^https?://\S+$")
_SENTENCE_END = re.compile(r"[.!?:;…]$")
_CLOSERS = "\"'”’)]*_ "
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or over per the to up via vs with".split()
)


def strip_markdown(text: str) -> str:
    """Inline Markdown -> plain text ("[AFP](#)" -> "AFP", "**x**" -> "x", "<http://a>" -> url)."""
    if "](" in text:  # each pattern only where its mark occurs: a 50 MB line costs no more
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1", text)
    if "<" in text:
        text = _MD_AUTOLINK.sub(r"\1", text)
    if "`" in text:
        text = _MD_CODE.sub(r"\1", text)
    if "*" in text or "_" in text:
        text = _MD_STRONG.sub(r"\2", text)
        text = _MD_EM.sub(r"\2", text)
    if _single_spaced(text):  # nothing to collapse: spare a long line the split and join
        return text.strip(" ")
    return " ".join(text.split())


def _single_spaced(text: str) -> bool:
    """No two spaces in a row and no whitespace but spaces."""
    if "  " in text:
        return False
    if text.isprintable():  # (every whitespace character but the space is unprintable)
        return True
    return _OTHER_SPACE.search(text) is None


class _Line(NamedTuple):  # a tuple: a file may have a million of them
    raw: str  # Markdown intact
    text: str  # plain text
    number: int  # 1-based line number
    blanks_before: int  # blank lines right before it
    heading_level: int = 0  # Markdown "#" level, 0 if none
    body: bool = False  # a paragraph whatever it looks like (a table row, a code block)


def _lines(text: str, markdown: bool = False) -> Iterator[List[_Line]]:
    """Groups of consecutive non-blank lines, one group at a time; ``markdown``: a fenced code
    block is a group of one line, its fences dropped, and block quote markers go."""
    blanks = 0
    current: List[_Line] = []
    fence, code, code_start = "", [], 0  # the code block being read: its opening fence, lines
    for number, raw in enumerate(line_texts(text), start=1):
        raw = raw.replace("\u00a0", " ").replace("\ufeff", "").strip()
        if fence:
            if raw.startswith(fence) and not raw.strip(fence[0]):  # the closing fence
                if code:
                    yield [_code_block(code, code_start, blanks)]
                fence, code, blanks = "", [], 0
            elif raw or code:
                code_start = code_start or number
                code.append(raw)
            continue
        if markdown and raw[:1] in ("`", "~", ">"):
            opening = _MD_FENCE.match(raw)
            if opening:
                if current:
                    yield current
                    current = []
                fence, code_start = opening.group(1), 0
                continue
            raw = _MD_QUOTE.sub("", raw)  # a quote's text; a bare ">" parts its paragraphs
        if not raw:
            blanks += 1
            if current:
                yield current
                current = []
            continue
        # (each Markdown pattern tried only on lines that start with its mark)
        heading = _MD_HEADING.match(raw) if raw[0] == "#" else None
        level = len(heading.group(1)) if heading else 0
        if heading:
            body = heading.group(2)
        elif raw[0] in "-*+" or raw[0].isdecimal():
            body = _MD_LIST_ITEM.sub("", raw)
        else:
            body = raw
        current.append(_Line(raw, strip_markdown(body), number, blanks, level))
        blanks = 0
        if len(current) > 2 * MAX_PARAGRAPHS_PER_FILE:  # held until the group ends: bounded too
            raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
    if current:
        yield current
    if code:  # a code block left open runs to the end of the file
        yield [_code_block(code, code_start, blanks)]


def _code_block(lines: List[str], start: int, blanks_before: int) -> _Line:
    """A fenced code block as one paragraph: its words are searched, its lines no paragraphs."""
    text = " ".join(" ".join(lines).split())
    return _Line(text, text, start, blanks_before, body=True)


def _table_rows(group: List[_Line]) -> List[_Line]:
    """``group`` with its Markdown tables read as text: each row a paragraph of its cells, the
    delimiter row under the header dropped. A table ends at a line without a "|"."""
    units: List[_Line] = []
    n = 0
    while n < len(group):
        line = group[n]
        n += 1
        if not ("|" in line.raw and n < len(group) and _MD_TABLE_DELIMITER.match(group[n].raw)):
            units.append(line)
            continue
        rows = [line]
        n += 1  # past the delimiter row
        while n < len(group) and "|" in group[n].raw:
            rows.append(group[n])
            n += 1
        for row in rows:
            cells = (strip_markdown(cell.replace("\\|", "|"))
                     for cell in _MD_CELL_BORDER.split(row.raw))
            text = _CELL_SEPARATOR.join(cell for cell in cells if cell)
            if text:
                units.append(_Line(text, text, row.number, row.blanks_before, body=True))
    return units


def _is_hard_wrapped(group: List[_Line]) -> bool:
    """Prose wrapped at a fixed width, to be joined back into one paragraph."""
    return (
        len(group) > 1
        and all(_WRAP_MIN <= len(line.raw) <= _WRAP_MAX for line in group[:-1])
        and not any(_is_credit_line(line.text) for line in group)
        and not any(line.heading_level or line.body or _MD_LIST_ITEM.match(line.raw)
                    for line in group)
    )


def _units(text: str, markdown: bool = False) -> List[_Line]:
    """The file's blocks before classification: lines, with hard-wrapped paragraphs joined;
    TooManyParagraphs past config.MAX_PARAGRAPHS_PER_FILE."""
    units = []
    for group in _lines(text, markdown):
        if markdown:
            group = _table_rows(group)
        if _is_hard_wrapped(group):
            first = group[0]
            raw = " ".join(line.raw for line in group)
            units.append(_Line(raw, strip_markdown(raw), first.number, first.blanks_before))
        else:
            units.extend(group)
        if len(units) > MAX_PARAGRAPHS_PER_FILE:
            raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
    return units


def _ends_sentence(text: str) -> bool:
    return bool(_SENTENCE_END.search(text.rstrip(_CLOSERS)))


def _names_only(words: List[str], joining: frozenset, numbers: bool = False) -> bool:
    """Whether each word is a name (it has a capital letter), one of the ``joining`` words,
    or with ``numbers`` holds a digit (a byline's date)."""
    return all(any(c.isupper() or (numbers and c.isdigit()) for c in word)
               or word.strip(",;") in joining for word in words)


def _named_byline(text: str) -> bool:
    """A "By ..." line ending in a full stop whose words are names ("By Jane Doe.")."""
    text = text.rstrip(_CLOSERS)
    return text.endswith(".") and _names_only(text.split()[1:], _BYLINE_JOINING, numbers=True)


def _is_heading_like(text: str) -> bool:
    """Short and not a sentence: a headline, sub-heading or label."""
    return (
        len(text) <= _HEADING_MAX_CHARS
        and len(text.split()) <= _HEADING_MAX_WORDS
        and not _ends_sentence(text)
    )


def _is_title_case(text: str) -> bool:
    """Most significant words capitalised, as in "Belarus Police Detain Hundreds Of Women"."""
    words = [w for w in _WORD.findall(text) if w.lower() not in _SMALL_WORDS]
    if len(words) < 3:
        return False
    capitalised = sum(1 for w in words if w[0].isupper())
    return capitalised / len(words) >= 0.8


def _looks_like_heading(text: str) -> bool:
    """Starts like a heading and does not stop mid-sentence ("secured qualification for")."""
    words = _WORD.findall(text)
    starts = text.lstrip("\"'“‘–—-([ ")[:1]
    return (
        bool(words)
        and starts.isupper()
        and words[-1].lower() not in _SMALL_WORDS
        and not text.endswith(",")
    )


def _is_credit_line(text: str) -> bool:
    """A photo credit alone; it has a slash, which most lines lack (matching runs the
    credit's names over every line that starts with a capital)."""
    return "/" in text and _CREDIT_LINE.match(text) is not None


def _is_wire_credit(text: str) -> bool:
    """Credits of a wire story: each of its clauses (between ";") a role "by" names. They
    end most stories of an agency alike, and would make near-duplicates of unrelated ones."""
    clauses = _NEXT_CREDIT.split(text.strip().strip("()").rstrip("."))
    for clause in clauses:
        credit = _WIRE_CREDIT.match(clause.strip())  # (";" split off: no word ends in one)
        if credit is None or not _names_only(credit.group("names").split(), _CREDIT_JOINING):
            return False
    return True


def _is_caption(line: _Line, next_line) -> bool:
    if _CAPTION_OPENINGS.match(line.text):
        return True
    if any(_ends_like_caption(text) for text in (line.raw, line.text)):
        return True
    # A caption on one line and its credit on the next line of the same paragraph.
    return (
        next_line is not None
        and next_line.blanks_before == 0
        and _is_credit_line(next_line.text)
        and _ends_sentence(line.text)
    )


def _ends_like_caption(text: str) -> bool:
    """A credit or a "(photo by ...)" at the end; each expression is tried only on lines with
    the mark it needs (a credit's slash, a closing bracket): searching scans the whole line."""
    if "/" in text and any(p.search(text) for p in _CREDIT_ENDINGS):
        return True
    return text.endswith((")", ").")) and _PHOTO_BY_ENDING.search(text) is not None


def _kind_of_line(line: _Line, next_line) -> str:
    """The kind a line has on its own; heading-like lines are settled by their context."""
    text = line.text
    if line.body or len(text) > _LONG_LINE_CHARS:
        return BODY
    if _ORIGINAL_URL.match(text) or _BARE_URL.match(text):
        return URL
    if text[:1] in "Ss" and source_named(text):
        return BYLINE
    if _BOILERPLATE.match(text):
        return TAG
    if _is_caption(line, next_line):
        return CAPTION
    if _is_credit_line(text) or (_CREDIT_START.match(text) and _is_wire_credit(text)):
        return CREDIT
    if _BYLINE.match(text) and len(text) <= _HEADING_MAX_CHARS and (
            not _ends_sentence(text) or _named_byline(text)):
        return BYLINE
    if is_date_line(text):
        return DATELINE
    if line.heading_level or _is_heading_like(text):
        return SUBHEADING
    return BODY


@dataclass
class RawArticle:
    """An article as found in a file: its title and all its blocks in order."""

    title: str
    blocks: List[Block] = field(default_factory=list)

    @property
    def has_body(self) -> bool:
        return any(b.kind == BODY for b in self.blocks)


def _starts_article(line: _Line, next_kind, current: RawArticle) -> bool:
    """A Title Case headline set apart from what came before, after an article with a body."""
    if not current.has_body:
        return False
    if line.heading_level == 1:
        return True
    set_apart = line.blanks_before >= 2 or next_kind in (CAPTION, CREDIT, TAG)
    return set_apart and not line.heading_level and _is_title_case(line.text)


def split_articles(
    text: str, fallback_title: str, title: Optional[str] = None, single: bool = False,
    markdown: bool = False,
) -> List[RawArticle]:
    """Classify every block of a file's text and split it into articles.

    ``title``: the title is known (a manifest, front matter, an HTML page's metadata): the
    first block is the headline only if it repeats that title, else a paragraph like any other
    (a line that would otherwise have been the headline is a body paragraph), and the article
    is named ``title``. ``single``: the text is one article (an HTML page's main text).
    ``markdown``: the text is Markdown (a .md file): its tables, code blocks and quotes are
    read as text (in a .txt file a line of "|" or ">" may be text itself).
    """
    units = _units(text, markdown)
    if not units:
        return []
    kinds = [
        _kind_of_line(unit, units[i + 1] if i + 1 < len(units) else None)
        for i, unit in enumerate(units)
    ]
    first = units[0]
    could_be_title = kinds[0] in (SUBHEADING, BODY, CREDIT, TAG) and not first.body and (
        len(first.text) <= _LONG_LINE_CHARS and len(first.text.split()) <= _TITLE_MAX_WORDS
    )
    if title is not None:
        if same_title(first.text, title):
            kinds[0] = HEADLINE
        elif could_be_title or first.heading_level:
            kinds[0] = BODY  # what would have been the headline is the article's text
        current = RawArticle(title)
    elif could_be_title:
        kinds[0] = HEADLINE
        current = RawArticle(first.text)
    else:  # no title line: name the article after its file, keep the first block as it is
        current = RawArticle(fallback_title)
    articles = [current]

    settled: List[str] = []
    for i, (unit, kind) in enumerate(zip(units, kinds)):
        if kind == SUBHEADING:
            next_kind = kinds[i + 1] if i + 1 < len(kinds) else None
            if not single and _starts_article(unit, next_kind, current):
                current = RawArticle(unit.text)
                articles.append(current)
                kind = HEADLINE
            elif not unit.heading_level:
                in_list = next_kind == SUBHEADING or (
                    i > 0 and kinds[i - 1] == SUBHEADING and settled[-1] != HEADLINE
                )
                kind = _settle_short_line(unit.text, in_list, current.has_body)
        settled.append(kind)
        current.blocks.append(Block(kind, unit.text, unit.number))
    return articles


def same_title(text: str, title: str) -> bool:
    """``text`` says what ``title`` says (the same words, whatever the case and punctuation)."""

    def words(s):
        return [w.lower() for w in _WORD.findall(s)]

    return words(text) == words(title)


def _settle_short_line(text: str, in_list: bool, after_body: bool) -> str:
    """A short line without a full stop: list item, label, standfirst or sub-heading?"""
    words = len(text.split())
    if in_list or not _looks_like_heading(text):
        return BODY  # a list (fixtures, rankings, points), or a sentence broken across lines
    if not after_body:  # between headline and story: a section label, tags, or a standfirst
        return TAG if words <= _LABEL_MAX_WORDS or text.count(",") >= 2 else BODY
    return SUBHEADING if words <= _SUBHEADING_MAX_WORDS else BODY
