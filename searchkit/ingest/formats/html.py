"""An HTML article page -> its main text, title, publication date, outlet and URL.

trafilatura finds the main text (navigation, footers, comments, "related stories" left out) and
the title, site name and URL (``<link rel=canonical>``, ``og:url``). The only module that
imports it, and only when an HTML file is read: importing it takes a fifth of a second. Of
several <article> elements side by side, trafilatura takes the first: those it left out are
added back here.

The date is read here, from the page's own statements only: ``<meta>`` tags
(``article:published_time``, ``datePublished``, ``dc.date``, ``pubdate``, ...), JSON-LD
``datePublished``, or a ``<time>`` element marked as the publication date; else from the URL
(``/2020/08/18/``, as for other files). trafilatura's date (htmldate) is not used: even with
``extensive_search=False`` htmldate ends by taking any date-looking string of the page text
(``TIMESTAMP_LOOSE_PATTERN``), which may be a photo's date or a date the story mentions; searchkit
never invents a date.
"""

import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Iterator, List, Tuple
from urllib.parse import urlsplit

from ...config import MAX_PARAGRAPHS_PER_FILE
from ...errors import CorpusError, TooManyParagraphs
from ..encoding import line_texts
from ..metadata import parse_date_value, plausible_date
from ..safeload import load_json

# <meta name|property|itemprop=...> keys that state when the article was published.
_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "publication_date",
    "date", "dc.date", "dc.date.issued", "dc.date.created", "dcterms.date", "dcterms.issued",
    "dcterms.created", "sailthru.date", "parsely-pub-date", "article.published",
    "original-publish-date", "citation_publication_date", "citation_date",
)
_PUBLISHED_JSONLD = "datePublished"
_MIN_WORDS = 10  # less main text than this (a menu, "Home") is not an article
# An article page has a few thousand tags: a page of over a hundred times that is refused
# before lxml builds a tree of them.
MAX_TAGS = 500_000


@dataclass(frozen=True)
class HtmlPage:
    """What an HTML page says: its main text as paragraphs, and the metadata it states
    (fields among title, source, date, url; a source taken from the URL is left out)."""

    paragraphs: List[str]
    fields: dict
    warnings: List[str] = field(default_factory=list)

    def text(self) -> str:
        """The paragraphs as Markdown text, a blank line between them: trafilatura writes a
        table's rows as Markdown's, a line each, kept together here as one table."""
        parts = []
        for n, paragraph in enumerate(self.paragraphs):
            if n:
                in_table = paragraph[:1] == self.paragraphs[n - 1][:1] == "|"
                parts.append("\n" if in_table else "\n\n")
            parts.append(paragraph)
        return "".join(parts)


def _quiet(name: str) -> None:
    """Keep a library's log messages off stderr (Python prints unhandled warnings there)."""
    logger = logging.getLogger(name)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def read_html(text: str) -> HtmlPage:
    """The article in an HTML page: trafilatura's main text, or else, with a warning, the
    page's visible text (a page nested too deep for lxml, or left unclosed so that its text
    sits where trafilatura looks for none); CorpusError if the page holds no text."""
    import trafilatura  # slow to import: only when an HTML file is read

    for name in ("trafilatura", "htmldate", "courlan", "justext"):
        _quiet(name)
    if text.count("<") > MAX_TAGS:  # lxml's tree and trafilatura's passes over it grow with them
        raise CorpusError(f"over {MAX_TAGS:,} HTML tags: not an article page; split it, or "
                          "save its text as a .txt file")
    tree = trafilatura.load_html(text)
    if tree is None:  # a fragment ("<p>...</p>" alone): trafilatura wants a whole page
        tree = trafilatura.load_html(f"<html><body>{text}</body></html>")
    document, published, side_by_side = None, None, []
    if tree is not None:
        published = _published_date(tree)
        side_by_side = _articles_side_by_side(tree)  # (read before trafilatura may alter it)
        document = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,  # leaves out more menus and link lists
            deduplicate=False,
            # Not used (see the module docstring), but kept from the costlier full-text search.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    paragraphs = _paragraphs((document.text if document is not None else "") or "")
    paragraphs = _with_articles_left_out(paragraphs, side_by_side)
    fields = _metadata(document) if document is not None else {}
    warnings = []
    if _words(paragraphs) < _MIN_WORDS:
        paragraphs, title = visible_text(text)
        if _words(paragraphs) < _MIN_WORDS:  # "Home", a menu: no article
            raise CorpusError("no article text found in this HTML page")
        warnings.append("no main text found in this HTML page (nested too deep, or unclosed?); "
                        "its visible text was indexed instead")
        if title and "title" not in fields:
            fields["title"] = title
    if published:
        fields["date"] = published
    return HtmlPage(paragraphs, fields, warnings)


def _paragraphs(text: str) -> List[str]:
    found = [p for p in (" ".join(line.split()) for line in line_texts(text)) if p]
    if len(found) > MAX_PARAGRAPHS_PER_FILE:
        raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
    return found


# Elements whose text is an article's own: its headings and paragraphs.
_ARTICLE_TEXT = ("h1", "h2", "h3", "h4", "h5", "h6", "p")
_KEY_WORD = re.compile(r"\w+")


def _articles_side_by_side(tree) -> List[List[List[str]]]:
    """<article> elements that share a parent (a page of briefs), in groups of two or more;
    each article as the text of its headings and paragraphs. A paragraph that is all links
    (tags, "Read more") is left out, as trafilatura leaves link lists out."""
    groups = {}
    for article in tree.xpath("//article[not(ancestor::article)]"):
        texts = []
        for element in article.iter(*_ARTICLE_TEXT):
            text = " ".join(element.text_content().split())
            links = "".join(a.text_content() for a in element.iter("a"))
            if text and (element.tag != "p" or len(links.split()) < len(text.split())):
                texts.append(text)
        if texts:
            groups.setdefault(article.getparent(), []).append(texts)
    return [group for group in groups.values() if len(group) > 1]


def _with_articles_left_out(paragraphs: List[str], groups) -> List[str]:
    """``paragraphs`` with the articles trafilatura left out of a group it took one article of.

    trafilatura's main text is the first <article> of the page; the others come back only
    when that one is short or another algorithm finds twice the text. An article none of
    whose text is among ``paragraphs`` goes in after the article before it; a group none of
    whose articles trafilatura took (teasers beside the story) stays out."""
    if not groups:
        return paragraphs
    where = {_key(p): n for n, p in enumerate(paragraphs)}  # the last of equal paragraphs
    after: dict = {}  # paragraph number -> articles to put after it (-1: before the first)
    for group in groups:
        found = [[where[k] for k in map(_key, texts) if k in where] for texts in group]
        if not any(found):
            continue
        place = min(next(f for f in found if f)) - 1  # before the first article taken
        for texts, numbers in zip(group, found):
            if numbers:
                place = max(numbers)
            else:
                after.setdefault(place, []).extend(texts)
    if not after:
        return paragraphs
    merged = list(after.get(-1, []))
    for n, paragraph in enumerate(paragraphs):
        merged.append(paragraph)
        merged.extend(after.get(n, []))
    if len(merged) > MAX_PARAGRAPHS_PER_FILE:
        raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
    return merged


def _key(text: str) -> str:
    """The words of a text, whatever the case, spacing and punctuation."""
    return " ".join(_KEY_WORD.findall(text.lower()))


def _words(paragraphs: List[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def _metadata(document) -> dict:
    """Title, URL and site name as trafilatura found them (the site name only when it is not
    the URL's host: that is said by the source coming from the URL)."""
    fields = {}
    if document.title:
        fields["title"] = " ".join(document.title.split())
    url = document.url if (document.url or "").startswith(("http://", "https://")) else None
    if url:
        fields["url"] = url
    site = " ".join((document.sitename or "").split())
    host = (urlsplit(url).hostname or "") if url else ""
    if site and site.lower().removeprefix("www.") not in host:  # else: from the URL, said so
        fields["source"] = site
    return fields


# Elements whose text a browser does not show in the page, and elements that end a paragraph.
_HIDDEN = frozenset({"script", "style", "template", "noscript", "title"})
_BLOCKS = frozenset(
    "address article aside blockquote br dd details div dl dt fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol option p pre section summary table "
    "td textarea th tr ul".split()
)
_BLANK_LINE = re.compile(r"\n\s*\n")
_TITLE_PIECES, _TITLE_CHARS = 100, 1000  # an unclosed <title> holds the rest of the page


class _VisibleText(HTMLParser):
    """The text of a page outside hidden elements, cut into paragraphs at block elements and
    blank lines. html.parser keeps no tree: any nesting costs the same, and time and memory
    are linear in the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0  # hidden elements open around the current text
        self.current: List[str] = []
        self.paragraphs: List[str] = []
        self.in_title = False
        self.title: List[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN:
            self.hidden += 1
            self.in_title = tag == "title" and not self.title
        elif tag in _BLOCKS:
            self.end_paragraph()

    def handle_endtag(self, tag):
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
            self.in_title = False
        elif tag in _BLOCKS:
            self.end_paragraph()

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCKS:
            self.end_paragraph()

    def handle_data(self, data):
        if self.in_title and len(self.title) < _TITLE_PIECES:
            self.title.append(data)
        if self.hidden:
            return
        pieces = _BLANK_LINE.split(data)
        for n, piece in enumerate(pieces):
            if n:
                self.end_paragraph()
            self.current.append(piece)

    def end_paragraph(self):
        paragraph = " ".join("".join(self.current).split())
        if paragraph:
            self.paragraphs.append(paragraph)
            if len(self.paragraphs) > MAX_PARAGRAPHS_PER_FILE:
                raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
        self.current = []


def visible_text(page: str) -> Tuple[List[str], str]:
    """The paragraphs of text a browser would show for ``page`` (no scripts, styles, templates
    or title), however it is nested and whether or not its elements are closed; and the text
    of its <title> ("" if none)."""
    parser = _VisibleText()
    try:
        parser.feed(page)
        parser.close()
    except TooManyParagraphs:
        raise
    except Exception:  # html.parser has raised on odd markup in some Python versions: keep
        pass           # the text found up to there
    parser.end_paragraph()
    title = " ".join("".join(parser.title).split())[:_TITLE_CHARS]
    return parser.paragraphs, title


def _published_date(tree):
    """The publication date the page states in its metadata, else None."""
    for element in tree.iter("meta"):
        key = (
            element.get("property") or element.get("name") or element.get("itemprop") or ""
        ).strip().lower()
        if key in _PUBLISHED_META:
            found = plausible_date(parse_date_value(element.get("content") or ""))
            if found:
                return found
    # A page's JSON-LD may date its embedded video or picture too: the article's date first.
    stated = []  # (whether an article states it, its date), in the page's order
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = load_json(script.text or "")
        except ValueError:  # not JSON, or beyond safeload's bounds
            continue
        for value, holder in _jsonld_values(data, _PUBLISHED_JSONLD):
            found = plausible_date(parse_date_value(value))
            if found:
                stated.append((_is_article(holder), found))
    if stated:
        return next((found for article, found in stated if article), stated[0][1])
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments, processing instructions
        marked = element.get("itemprop") == _PUBLISHED_JSONLD or (
            element.tag == "time" and element.get("pubdate") is not None
        )
        if marked:
            found = plausible_date(parse_date_value(element.get("datetime")
                                                    or element.get("content") or ""))
            if found:
                return found
    return None


def _is_article(thing: dict) -> bool:
    """Whether a JSON-LD object is an article (``NewsArticle``, ``BlogPosting``, ``Report``,
    ...; "schema:" or a schema.org URL in front), not a video, picture or web page."""
    types = thing.get("@type")
    for name in types if isinstance(types, list) else [types]:
        if isinstance(name, str):
            name = name.rpartition("/")[2].rpartition(":")[2]
            if name.endswith(("Article", "Posting")) or name == "Report":
                return True
    return False


def _jsonld_values(data, key: str, depth: int = 0) -> Iterator[Tuple[str, dict]]:
    """Every value of ``key`` in a JSON-LD structure (objects, lists, @graph), outermost first,
    with the object holding it."""
    if depth > 8:
        return
    if isinstance(data, dict):
        value = data.get(key)
        if isinstance(value, str):
            yield value, data
        for child in data.values():
            if isinstance(child, (dict, list)):
                yield from _jsonld_values(child, key, depth + 1)
    elif isinstance(data, list):
        for child in data:
            yield from _jsonld_values(child, key, depth + 1)
