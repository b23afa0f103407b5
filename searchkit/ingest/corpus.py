"""Files on disk -> articles -> paragraphs, with their metadata.

Every file is accounted for: read into articles, or listed as skipped with the reason (no such
file, a name that is not valid in the file-system encoding, a folder or file that cannot be
read, a broken symbolic link, a symbolic link leading outside the folders being indexed, too
large, empty, binary, not text in any encoding found). Bad input never stops a run. Every
block of an article is either a searchable paragraph (body, caption) or kept on the article;
a paragraph over ``ReadOptions.passage_words`` words is split into passages (see
passages.py), numbered on like paragraphs.

Symbolic links found in the folders given are followed only while they stay inside those
folders (a link to /etc/passwd would index it), unless ``ReadOptions.follow_links`` says
otherwise (``--follow``, as ripgrep's); a path given by name is read wherever it leads.

Formats, by suffix: ``.txt``, ``.md``, ``.markdown`` (and any file named directly): text, with
optional YAML front matter (formats/text.py); ``.html``, ``.htm``: an article page
(formats/html.py); ``.jsonl``: one article per line (formats/jsonl.py). Bytes become text by
the rules in encoding.py.

Metadata precedence: the sidecar manifest, then what the file states (front matter, the HTML
page's metadata), then what is found in the text. For JSON lines the manifest entry of the
file gives defaults: a record's own title, source, date or URL wins, and the manifest fills
in the fields a record lacks (its title is never used: it cannot name every record).
"""

import os
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from stat import S_ISREG
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple, Union

from .. import arguments
from ..config import (
    ARTICLE_SUFFIXES,
    DEFAULT_MAX_BYTES,
    DEFAULT_PASSAGE_WORDS,
    HTML_SUFFIXES,
    JSONL_SUFFIXES,
    MARKDOWN_SUFFIXES,
    PASSAGE_CHARS_PER_WORD,
)
from ..errors import CorpusError
from ..model import (
    BODY,
    FROM_FRONT_MATTER,
    FROM_HTML,
    FROM_RECORD,
    HEADLINE,
    INDEXED_KINDS,
    Article,
    Block,
    Paragraph,
    SkippedFile,
)
from . import encoding as encodings
from .blocks import same_title, split_articles
from .manifest import MANIFEST_NAMES, load_manifests
from .metadata import describe
from .passages import needs_split, split_passages

Progress = Callable[[int, int], None]  # (files done, files in all)
# Bump when the same bytes and options make other articles (a line's kind, metadata found):
# an index run reads every file again rather than keep what an older reading made of it.
READING_VERSION = 3

_MIN_PASSAGE_WORDS = 20


@dataclass(frozen=True)
class ReadOptions:
    """How files are read. A value of the wrong type or out of range raises UsageError, an
    encoding or field name searchkit does not know CorpusError (the message says what to
    change).

    ``encoding``: decode every file with this encoding instead of detecting it (``--encoding``).
    ``max_bytes``: larger files are skipped unread (see config.DEFAULT_MAX_BYTES for why 64 MB).
    ``fields``: JSON-lines field mapping, searchkit name -> record key, e.g. ``{"text": "body",
    "date": "published_at"}`` (``--field text=body``); names: title, text, date, source, url, id.
    ``passage_words``: a longer paragraph is split into passages of at most this many words
    (see config.DEFAULT_PASSAGE_WORDS for why 400).
    ``follow_links``: also follow symbolic links (to files and folders) that lead outside the
    folders being indexed (``--follow``); by default they are skipped, with the reason.
    ``source``: the source of articles whose file states none and shows none (``--source``);
    a manifest entry, the file's own metadata, its URL or byline win.
    """

    encoding: Optional[str] = None
    max_bytes: int = DEFAULT_MAX_BYTES
    fields: Dict[str, str] = field(default_factory=dict)
    passage_words: int = DEFAULT_PASSAGE_WORDS
    follow_links: bool = False
    source: Optional[str] = None

    def __post_init__(self):
        from .formats.jsonl import check_fields

        arguments.whole("max_bytes", self.max_bytes)
        arguments.whole("passage_words", self.passage_words, least=_MIN_PASSAGE_WORDS)
        arguments.flag("follow_links", self.follow_links)
        if self.source is not None and not (isinstance(self.source, str) and self.source.strip()):
            raise arguments.refused("source", "a name or None", self.source)
        hint = " of searchkit names to record keys, like {'text': 'body'}"
        arguments.instance("fields", self.fields, dict, hint=hint)
        if not all(isinstance(v, str) for pair in self.fields.items() for v in pair):
            raise arguments.refused("fields", "a dict" + hint, self.fields)
        if self.encoding is not None:
            encodings.check_encoding_name(arguments.text("encoding", self.encoding))
        problem = check_fields(dict(self.fields))
        if problem:
            raise CorpusError(problem + "; write it as --field NAME=KEY, e.g. --field text=body")

    @property
    def passage_chars(self) -> int:
        return self.passage_words * PASSAGE_CHARS_PER_WORD


@dataclass
class FileRead:
    """What one file gave: its articles, how its bytes were decoded, and warnings (each one
    line, without the file's path)."""

    articles: List[Article]
    encoding: str  # "utf-8", "utf-16-le", "cp1251", ...
    encoding_how: str  # "utf-8", "byte order mark (UTF-16 LE)", "guessed by ...", "forced ..."
    warnings: List[str] = field(default_factory=list)


@dataclass
class Corpus:
    """What reading a set of paths produced."""

    articles: List[Article] = field(default_factory=list)
    files: int = 0
    skipped: List[SkippedFile] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    blocks_by_kind: Dict[str, int] = field(default_factory=dict)
    encodings: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # path -> (enc, how)
    unread: Dict[str, int] = field(default_factory=dict)  # files of types not read, by suffix

    @property
    def paragraphs(self) -> int:
        return sum(len(a.paragraphs) for a in self.articles)


# ---- finding files ----------------------------------------------------------------------------

def display_path(path) -> str:
    """A path as text that can always be printed: bytes not valid in the file-system encoding
    are shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _bad_name(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # Python keeps undecodable bytes as lone surrogates
        return True
    return False


def _skip_bad_name(path: str) -> SkippedFile:
    return SkippedFile(
        display_path(path),
        "its name is not valid UTF-8 (the bytes shown as \\x..); rename the file and index again",
    )


def _inside(path: Path, roots: List[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _outside(path: Path, target: Path, what: str) -> SkippedFile:
    return SkippedFile(display_path(path), (
        f"symbolic link to a {what} outside the folders being indexed "
        f"({display_path(target)}); not followed (--follow follows it)"
    ))


def _walk(folder: Path, skipped: List[SkippedFile], roots: List[Path], follow: bool,
          unread: Counter) -> List[Tuple[str, str, str]]:
    """Article files under ``folder``: (path, real path, path relative to ``folder`` without
    its suffix), hidden entries left out, symbolic links followed while they stay inside
    ``roots`` (the folders being indexed) or everywhere with ``follow``. Unreadable folders,
    broken links and links leading outside are added to ``skipped``, and the suffixes of files
    of other types counted in ``unread`` (a manifest is read, for its entries: not counted).
    Folders are listed with ``os.scandir``, whose entries say what a file is without a
    ``stat`` of its own."""
    found = []
    visited = set()  # real paths of the folders walked: a link back up is walked once
    pending = [(str(folder), "")]  # (folder, its path relative to ``folder`` with a "/")
    while pending:
        root, relative = pending.pop()
        real_root = os.path.realpath(root)
        visited.add(real_root)
        try:
            with os.scandir(root) as listing:
                entries = sorted((e for e in listing if not e.name.startswith(".")),
                                 key=lambda e: e.name)
        except OSError as error:
            where = display_path(error.filename or root)
            skipped.append(SkippedFile(where, f"cannot read this folder ({error.strerror or error}"
                                              "); its files were left out"))
            continue
        folders = []
        for entry in entries:
            if _is_folder(entry):
                if _walk_into(entry, follow, roots, visited, skipped):
                    folders.append((_path_of(entry, root), f"{relative}{entry.name}/"))
                continue
            suffix = _suffix(entry.name)
            if suffix.lower() not in ARTICLE_SUFFIXES:
                if entry.name not in MANIFEST_NAMES:
                    unread[suffix.lower()] += 1
                continue
            key = relative + entry.name[: len(entry.name) - len(suffix)]
            real = _article_file(entry, real_root, follow, roots, skipped)
            if real is not None:
                path = _path_of(entry, root)
                # (one string where the path found is the real one: a build holds each)
                found.append((path, path if real == path else real, key))
        pending.extend(reversed(folders))  # depth first, in name order
    return found


def _path_of(entry: os.DirEntry, root: str) -> str:
    """The entry's path as a Path would write it: "a.txt", not "./a.txt", in a walk of "."."""
    return entry.name if root == os.curdir else entry.path


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # a link to a folder too
    except OSError:
        return False


def _walk_into(entry: os.DirEntry, follow: bool, roots: List[Path], visited: set,
               skipped: List[SkippedFile]) -> bool:
    """Whether to walk a folder: yes unless it is a link (followed with ``follow`` if not yet
    walked; without, a link inside ``roots`` is found where it leads and one outside is
    skipped)."""
    if not entry.is_symlink():
        return True
    path = Path(entry.path)
    target = path.resolve()
    if not follow:
        if not _inside(target, roots):
            skipped.append(_outside(path, target, "folder"))
        return False
    return str(target) not in visited


def _article_file(entry: os.DirEntry, real_root: str, follow: bool, roots: List[Path],
                  skipped: List[SkippedFile]) -> Optional[str]:
    """The real path of an article file found in a folder listing, or None (with the reason
    in ``skipped`` for a broken link or one leading outside ``roots``)."""
    if not entry.is_symlink():  # in a real folder: no need to resolve it
        return os.path.join(real_root, entry.name) if entry.is_file() else None
    path = Path(entry.path)
    if not path.exists():
        target = display_path(os.readlink(path))
        skipped.append(SkippedFile(
            display_path(path), f"broken symbolic link (to {target}); fix or remove it"))
        return None
    target = path.resolve()
    if not follow and not _inside(target, roots):
        skipped.append(_outside(path, target, "file"))
        return None
    return str(target) if target.is_file() else None


def _suffix(name: str) -> str:
    """``Path(name).suffix``, without making a Path."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


class FoundFile(NamedTuple):
    """An article file to read: its path as found, its key and its real path (no links). (Its
    path a string, not a Path: a build holds one of each file found, and a Path is far larger.)
    """

    path: str
    key: str
    real: str


def find_files(
    paths: Iterable[Path], follow_links: bool = False, unread: Optional[Counter] = None
) -> Tuple[List[FoundFile], List[SkippedFile]]:
    """Article files under ``paths`` (recursively, hidden entries ignored), each with its key:
    the path relative to the folder it was found in, without suffix ("business/001"), control
    characters written as escapes (``printable_key``). Paths that cannot be used are returned as
    skipped, with the reason; so are symbolic links that lead outside ``paths`` unless
    ``follow_links``. Files of types not read are counted by suffix in ``unread``."""
    paths = arguments.paths("paths", paths)
    arguments.flag("follow_links", follow_links)
    resolved = {p: p.resolve() for p in paths if p.exists()}
    roots = list(resolved.values())
    found: Dict[str, FoundFile] = {}  # real path -> the file
    earlier: Set[str] = set()  # the keys of the files of the paths given before
    skipped: List[SkippedFile] = []
    unread = Counter() if unread is None else unread
    for given in paths:
        if given.is_file():
            real = resolved.get(given) or given.resolve()
            candidates = [(str(given), printable_key(given.stem), str(real))]
        elif given.is_dir():
            candidates = [(path, printable_key(key), real)
                          for path, real, key in _walk(given, skipped, roots, follow_links, unread)]
        elif given.is_symlink():
            skipped.append(SkippedFile(display_path(given), "broken symbolic link; fix it"))
            continue
        elif given.exists():  # /dev/stdin, a named pipe: reading one could wait for ever
            skipped.append(SkippedFile(display_path(given), "not a file or folder (a device, "
                                                            "a pipe or a socket)"))
            continue
        else:
            skipped.append(SkippedFile(display_path(given), "no such file or folder"))
            continue
        keys: Set[str] = set()  # this path's
        qualifier = None  # (its real name, resolved once: a copied layout clashes file by file)
        for path, key, real in candidates:
            if _bad_name(path):
                skipped.append(_skip_bad_name(path))
                continue
            if real in found:
                continue  # named twice
            if key in earlier:  # same relative name under two folders: qualify it
                # (a file given by itself: its folder's, as a later run's would be: the
                # folder it is in, a link's target's; the root has no name: its own)
                qualifier = qualifier or (given.resolve().name if given.is_dir() else
                                          given.resolve().parent.name or given.resolve().name)
                key = f"{qualifier}/{key}"
            if key in keys or key in earlier:  # "story.html" and "story.txt": keep the suffix
                key = f"{key}{printable_key(_suffix(os.path.basename(path)))}"
            unique, n = key, 2
            while unique in keys or unique in earlier:  # "a\\x0ab" beside "a<newline>b", say
                unique, n = f"{key}~{n}", n + 1
            keys.add(unique)
            found[real] = FoundFile(path, unique, real)
        earlier |= keys
    return sorted(found.values(), key=lambda file: file.key), skipped


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable_key(name: str) -> str:
    """A file's name as the start of its ids: control characters (a newline, an escape) are
    written as Python escapes (``\\n``, ``\\x1b``), so that an id is one printable line that
    can be typed back to ``show``; everything else is kept."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), name)


def unread_note(unread: Dict[str, int]) -> str:
    """ "22 files of types not read (.sgm); see docs/formats.md", or "" for none."""
    if not unread:
        return ""
    n = sum(unread.values())
    order = sorted(unread.items(), key=lambda item: (-item[1], not item[0], item[0]))
    kinds = ", ".join(suffix or "no suffix" for suffix, _ in order)
    return f"{_count(n, 'file')} of {'a type' if n == 1 else 'types'} not read ({kinds}); " \
        "see docs/formats.md"


# ---- reading one file -------------------------------------------------------------------------

def checked_options(options) -> "ReadOptions":
    """``options`` if they are ReadOptions (UsageError otherwise), ReadOptions() for None."""
    return arguments.instance("options", options, ReadOptions, optional=True,
                              hint=", like ReadOptions(source='AFP')") or ReadOptions()


def check_size(path: Union[str, Path], size: int, options: ReadOptions = ReadOptions()) -> None:
    """CorpusError if a file of ``size`` bytes is not to be read (empty, or over the limit)."""
    arguments.whole("size", size, least=0)
    _refuse_size(size, checked_options(options))


def _refuse_size(size: int, options: ReadOptions) -> None:
    """``check_size`` for the reading's own calls (file by file, its arguments known good)."""
    if size == 0:
        raise CorpusError("empty file (0 bytes)")
    if size > options.max_bytes:
        raise CorpusError(
            f"too large ({_megabytes(size)}, the limit is {_megabytes(options.max_bytes)}); "
            "split it into smaller files, or raise the limit (--max-size MB)"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n:,} {noun}s"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    return "text"


def read_file(
    path: Union[str, Path],
    key: str,
    data: bytes,
    manifest_entry: Optional[dict] = None,
    options: ReadOptions = ReadOptions(),
) -> FileRead:
    """The articles of one file whose bytes are ``data``. CorpusError (a one-line reason that
    says what to do) if the file is to be skipped. Article ids: ``key`` for a file holding one
    article, ``key:1``, ``key:2``, ... for several, ``key:<record id>`` for JSON lines."""
    path = arguments.path("path", path)
    arguments.text("key", key)
    arguments.instance("data", data, bytes)
    arguments.instance("manifest_entry", manifest_entry, dict, optional=True)
    options = checked_options(options)
    _refuse_size(len(data), options)
    kind = _format(path)
    decoded = encodings.decode(data, options.encoding, html=kind == "html")
    text = decoded.text
    if not text.strip():
        raise CorpusError("empty file (only whitespace)")
    warnings = list(decoded.warnings)
    if kind == "text":
        _refuse_markup(text)
    if kind == "html":
        articles = _html_articles(text, path, key, manifest_entry, options, warnings)
    elif kind == "jsonl":
        articles = _jsonl_articles(text, path, key, manifest_entry, options, warnings)
    else:
        articles = _text_articles(text, path, key, manifest_entry, options, warnings)
    long = [
        b for a in articles for b in a.blocks
        if b.kind in INDEXED_KINDS and needs_split(b.text, options.passage_words,
                                                   options.passage_chars)
    ]
    if long:
        indexed = sum(1 for a in articles for b in a.blocks if b.kind in INDEXED_KINDS)
        passages = sum(len(a.paragraphs) for a in articles) - indexed + len(long)
        warnings.append(
            f"{_count(len(long), 'paragraph')} over {options.passage_words} words split into "
            f"{passages} passages"
        )
    return FileRead(articles, decoded.encoding, decoded.how, warnings)


# Markup searchkit does not read: a file opening with an XML declaration or a document type,
# or with a tag when tags fill a fifth of its start and some tag is closed. A tag is a name
# and attributes given values: wire copy's bracketed names ("<Texaco Inc> said") are text.
_DECLARED_MARKUP = re.compile(r"<(?:\?xml|!DOCTYPE)", re.I)
_TAG = re.compile(r"</?[A-Za-z][\w:.-]{0,60}"
                  r"(?:\s+[\w:.-]{1,60}\s*=\s*(?:\"[^\"<>]{0,200}\"|'[^'<>]{0,200}'|[^\s<>]{1,200}))*"
                  r"\s*/?>")
_CLOSING_TAG = re.compile(r"</[A-Za-z][\w:.-]{0,60}\s*>")


def _refuse_markup(text: str) -> None:
    """CorpusError for a file read as text that is SGML, XML or HTML markup, which would
    otherwise become thousands of "paragraphs" of tags."""
    head = text.lstrip()[:65536]
    if not _DECLARED_MARKUP.match(head):
        if not _TAG.match(head) or not _CLOSING_TAG.search(head):
            return
        if sum(len(tag) for tag in _TAG.findall(head)) * 5 < len(head):
            return
    if re.match(r"<(?:!DOCTYPE\s+html|html[\s>])", head, re.I):
        raise CorpusError("an HTML page, not text: name it .html (or .htm) to have its article "
                          "read")
    raise CorpusError("markup (SGML or XML), which searchkit does not read: extract the "
                      "articles' text first (see docs/formats.md)")


def _text_articles(text, path, key, manifest_entry, options, warnings) -> List[Article]:
    from .formats.text import split_front_matter

    stated, text, problems = split_front_matter(text)
    warnings.extend(problems)
    stated_title = stated.pop("title", None)
    given_title = (manifest_entry or {}).get("title")
    markdown = path.suffix.lower() in MARKDOWN_SUFFIXES
    raw_articles = split_articles(text, path.stem, title=given_title or stated_title,
                                  markdown=markdown)
    if given_title and len(raw_articles) > 1:  # the manifest's title names no one of several
        raw_articles = split_articles(text, path.stem, title=stated_title, markdown=markdown)
    if not raw_articles:
        raise CorpusError("only front matter, no article text")
    return _articles(raw_articles, path, key, manifest_entry, stated, FROM_FRONT_MATTER, options)


def _html_articles(text, path, key, manifest_entry, options, warnings) -> List[Article]:
    from .formats.html import read_html

    page = read_html(text)
    warnings.extend(page.warnings)
    stated = dict(page.fields)
    title = (manifest_entry or {}).get("title") or stated.pop("title", None)
    raw_articles = split_articles(page.text(), path.stem, title=title, single=True,
                                  markdown=True)
    return _articles(raw_articles, path, key, manifest_entry, stated, FROM_HTML, options)


def _articles(raw_articles, path, key, manifest_entry, stated, stated_from, options):
    several = len(raw_articles) > 1
    entry = dict(manifest_entry or {})
    if several:
        entry.pop("title", None)  # one title cannot name several articles
    articles = []
    for n, raw in enumerate(raw_articles, start=1):
        article_id = f"{key}:{n}" if several else key
        meta = describe(raw.title, raw.blocks, path.stem, entry, stated, stated_from,
                        default_source=options.source)
        articles.append(_article(article_id, path, raw.blocks, meta, options))
    return articles


def _jsonl_articles(text, path, key, manifest_entry, options, warnings) -> List[Article]:
    from .formats.jsonl import read_records

    records, problems = read_records(text, dict(options.fields))
    warnings.extend(problems)
    if not records:
        raise CorpusError(
            "no usable JSON-lines record (each line must be a JSON object with a text); "
            + (problems[0] if problems else "the file has no records")
        )
    defaults = {k: v for k, v in (manifest_entry or {}).items() if k != "title"}
    articles = []
    for record in records:
        title = record.fields.get("title") or f"{path.stem}:{record.id}"
        blocks = [Block(BODY, p, record.line) for p in record.paragraphs]
        if record.fields.get("title"):
            if same_title(blocks[0].text, title):  # the text starts with the title again
                blocks[0] = Block(HEADLINE, blocks[0].text, record.line)
            else:
                blocks.insert(0, Block(HEADLINE, title, record.line))
        manifest = {k: v for k, v in defaults.items() if k not in record.fields}
        meta = describe(title, blocks, path.stem, manifest, record.fields, FROM_RECORD,
                        date_from_file_name=False, default_source=options.source)
        articles.append(
            _article(f"{key}:{record.id}", path, blocks, meta, options, record_id=record.id)
        )
    return articles


def _article(article_id: str, path: Path, blocks, meta, options: ReadOptions,
             record_id: Optional[str] = None) -> Article:
    # A headline that is not the article's title (a manifest named it otherwise) would be
    # neither shown nor searched: it is a paragraph.
    blocks = [
        Block(BODY, b.text, b.line)
        if b.kind == HEADLINE and not same_title(b.text, meta.title) else b
        for b in blocks
    ]
    # title, source, date, url and where they came from (flat: no deep copy as asdict makes)
    found = {f.name: getattr(meta, f.name) for f in fields(meta)}
    return Article(
        id=article_id,
        record_id=record_id,
        path=str(path),
        blocks=tuple(blocks),
        paragraphs=paragraphs_of(article_id, blocks, options),
        **found,
    )


def paragraphs_of(article_id: str, blocks, options: ReadOptions = ReadOptions()):
    """The article's searchable paragraphs: its body and caption blocks, a long one split into
    passages of the same kind; numbered from 1 in order. An article that is a headline alone
    (a file of one line, say) is searchable by it, as a body paragraph."""
    indexed = [block for block in blocks if block.kind in INDEXED_KINDS]
    if not indexed:
        indexed = [Block(BODY, b.text, b.line) for b in blocks if b.kind == HEADLINE][:1]
    paragraphs = []
    for block in indexed:
        if needs_split(block.text, options.passage_words, options.passage_chars):
            pieces = split_passages(block.text, options.passage_words, options.passage_chars)
        else:
            pieces = [block.text]
        for piece in pieces:
            n = len(paragraphs) + 1
            paragraphs.append(Paragraph(f"{article_id}#{n}", article_id, n, block.kind, piece))
    return tuple(paragraphs)


# ---- reading many files -----------------------------------------------------------------------

def file_stat(path: Union[str, Path], options: ReadOptions = ReadOptions()) -> os.stat_result:
    """A file's stat, after checking its size; CorpusError says why it cannot be read."""
    try:
        stat = os.stat(path)
    except OSError as error:
        raise CorpusError(f"cannot read it: {error.strerror or error}") from None
    _refuse_size(stat.st_size, options)
    return stat


# Opening a named pipe for reading waits for a writer; without waiting, its stat says what it is.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def read_bytes(path: Union[str, Path], options: ReadOptions = ReadOptions()) -> bytes:
    """A file's bytes, after checking its size (by the open file's stat: one look-up of its
    path); CorpusError says why it cannot be read."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)  # (no file object: a build opens thousands)
        try:
            stat = os.fstat(descriptor)
            if not S_ISREG(stat.st_mode):
                raise CorpusError("cannot read it: not a regular file")
            _refuse_size(stat.st_size, options)
            data = _read_at_most(descriptor, stat.st_size, options.max_bytes)
        finally:
            os.close(descriptor)
        if len(data) > options.max_bytes:
            raise CorpusError(
                f"too large (it grew past the limit of {_megabytes(options.max_bytes)} while "
                "it was read); split it into smaller files, or raise the limit (--max-size MB)"
            )
        _refuse_size(len(data), options)  # (in case it shrank to nothing since)
        return data
    except PermissionError:
        raise CorpusError(
            "cannot read it: permission denied; check the file's permissions"
        ) from None
    except OSError as error:
        raise CorpusError(f"cannot read it: {error.strerror or error}") from None


# A read that finds a file's end costs the buffer it asks for (a 1 MB one, far more than the
# read of a small file): the end is looked for with a small one.
_END_PROBE = 4096


def _read_at_most(descriptor: int, expected: int, limit: int) -> bytes:
    """The open file's bytes to its end, or its first ``limit`` and one more if it has more
    than ``limit`` now: a file that grows while it is read (a log, a lying file system) is
    read no further. Where its stat's ``expected`` size is right, one read and one that finds
    the end."""
    parts = [os.read(descriptor, expected + 1)]
    size, step = len(parts[0]), _END_PROBE
    while size <= limit:
        more = os.read(descriptor, min(limit + 1 - size, step))
        if not more:
            break
        parts.append(more)
        size += len(more)
        step = 1 << 20
    return parts[0] if len(parts) == 1 else b"".join(parts)


def no_article_files(paths: List[Path], skipped: List[SkippedFile],
                     unread: Optional[Dict[str, int]] = None) -> CorpusError:
    """The error for ``paths`` that hold no article file, saying why if files were skipped or
    are of types not read."""
    where = ", ".join(display_path(p) for p in paths) or "(no paths given)"
    why = f"; {unread_note(unread)}" if unread else ""
    if skipped:
        more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        why += f"; skipped {skipped[0].path}: {skipped[0].reason}{more}"
    return CorpusError(
        f"no article files ({', '.join(ARTICLE_SUFFIXES)}) found in {where}{why}; "
        "give the files or folders that hold your articles"
    )


def manifests_for(paths: List[Path], files, warnings: List[str], follow_links: bool = False):
    """The manifest entries of the folders given and of the folders the files are in (a
    manifest that is a symbolic link leading outside ``paths`` is ignored unless
    ``follow_links``)."""
    roots = None if follow_links else [p.resolve() for p in paths if p.exists()]
    folders = {p for p in paths if p.is_dir()} | {
        Path(folder) for folder in {os.path.dirname(f.path) for f in files}}
    return load_manifests(sorted(folders), warnings, roots, {f.real: f.real for f in files})


def read_corpus(
    paths: Iterable[Path], progress: Optional[Progress] = None, options: ReadOptions = ReadOptions()
) -> Corpus:
    """Read every article file under ``paths`` (one path: that one). Raises CorpusError if none
    can be found."""
    paths = arguments.paths("paths", paths)
    arguments.function("progress", progress)
    options = checked_options(options)
    unread: Counter = Counter()
    files, skipped = find_files(paths, options.follow_links, unread)
    corpus = Corpus(skipped=list(skipped), unread=dict(unread))
    if not files:
        raise no_article_files(paths, skipped, unread)
    manifests = manifests_for(paths, files, corpus.warnings, options.follow_links)
    kinds: Counter = Counter()
    for done, (path, key, real) in enumerate(files, start=1):
        try:
            data = read_bytes(path, options)
            result = read_file(path, key, data, manifests.get(real), options)
        except CorpusError as error:
            corpus.skipped.append(SkippedFile(str(path), str(error)))
        else:
            corpus.files += 1
            corpus.encodings[str(path)] = (result.encoding, result.encoding_how)
            corpus.warnings.extend(f"{path}: {warning}" for warning in result.warnings)
            for article in result.articles:
                corpus.articles.append(article)
                kinds.update(b.kind for b in article.blocks)
        if progress:
            progress(done, len(files))
    corpus.blocks_by_kind = dict(sorted(kinds.items()))
    return corpus
