"""Files on disk -> articles -> paragraphs, with their metadata.

Every file is accounted for: read into articles, or listed as skipped with the reason. Every
block of an article is either a searchable paragraph (body, caption) or kept on the article.
"""

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from .blocks import split_articles
from .config import ARTICLE_SUFFIXES
from .errors import CorpusError
from .manifest import load_manifests
from .metadata import describe
from .model import INDEXED_KINDS, Article, Paragraph, SkippedFile

Progress = Callable[[int, int], None]  # (files done, files in all)


@dataclass
class Corpus:
    """What reading a set of paths produced."""

    articles: List[Article] = field(default_factory=list)
    files: int = 0
    skipped: List[SkippedFile] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    blocks_by_kind: Dict[str, int] = field(default_factory=dict)

    @property
    def paragraphs(self) -> int:
        return sum(len(a.paragraphs) for a in self.articles)


def find_files(paths: Iterable[Path]) -> Tuple[List[Tuple[Path, str]], List[SkippedFile]]:
    """Article files under ``paths`` (recursively, hidden entries ignored), each with its key:
    the path relative to the folder it was found in, without suffix ("business/001")."""
    found: Dict[Path, Tuple[Path, str]] = {}  # resolved path -> (path as found, key)
    missing = []
    for given in paths:
        given = Path(given)
        if given.is_file():
            candidates = [(given, given.stem)]
        elif given.is_dir():
            candidates = [
                (path, path.relative_to(given).with_suffix("").as_posix())
                for path in sorted(given.rglob("*"))
                if path.suffix.lower() in ARTICLE_SUFFIXES
                and path.is_file()
                and not any(part.startswith(".") for part in path.relative_to(given).parts)
            ]
        else:
            missing.append(SkippedFile(str(given), "no such file or folder"))
            continue
        keys = {key for _, key in found.values()}
        for path, key in candidates:
            resolved = path.resolve()
            if resolved in found:
                continue  # named twice
            if key in keys:  # same relative name under two folders: qualify it
                key = f"{given.resolve().name}/{key}"
            found[resolved] = (path, key)
    return sorted(found.values(), key=lambda item: item[1]), missing


def read_article_text(path: Path) -> str:
    """The text of an article file; CorpusError says why a file cannot be used."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read it: {error.strerror or error}") from None
    return _decode(data)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise CorpusError("binary file (it contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(
            f"not UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
            "save it as UTF-8 and index it again"
        ) from None
    if not text.strip():
        raise CorpusError("empty file")
    return text


def _paragraphs(article_id: str, blocks) -> Tuple[Paragraph, ...]:
    indexed = [b for b in blocks if b.kind in INDEXED_KINDS]
    return tuple(
        Paragraph(f"{article_id}#{n}", article_id, n, b.kind, b.text)
        for n, b in enumerate(indexed, start=1)
    )


def articles_in_file(
    text: str, path: Path, key: str, manifest: Optional[dict] = None
) -> List[Article]:
    """The articles of one file. A file holding several gets ids "<key>:1", "<key>:2", ..."""
    raw_articles = split_articles(text, fallback_title=path.stem)
    several = len(raw_articles) > 1
    entry = dict(manifest or {})
    if several:
        entry.pop("title", None)  # one title cannot name several articles
    articles = []
    for n, raw in enumerate(raw_articles, start=1):
        article_id = f"{key}:{n}" if several else key
        meta = describe(raw.title, raw.blocks, path.stem, entry)
        articles.append(
            Article(
                id=article_id,
                path=str(path),
                blocks=tuple(raw.blocks),
                paragraphs=_paragraphs(article_id, raw.blocks),
                **asdict(meta),  # title, source, date, url and where they came from
            )
        )
    return articles


@dataclass(frozen=True)
class ReadOptions:
    """How files are read (placeholder until the format readers land)."""

    encoding: Optional[str] = None
    max_bytes: int = 64 * 1024 * 1024
    fields: Dict[str, str] = field(default_factory=dict)
    passage_words: int = 300


@dataclass
class FileRead:
    articles: List[Article]
    encoding: str = "utf-8"
    encoding_how: str = "utf-8"
    warnings: List[str] = field(default_factory=list)


def check_size(path: Path, size: int, options: ReadOptions) -> None:
    if size > options.max_bytes:
        raise CorpusError(f"too large ({size} bytes)")


def read_file(path: Path, key: str, data: bytes, manifest_entry, options: ReadOptions) -> FileRead:
    text = _decode(data)
    return FileRead(articles_in_file(text, path, key, manifest_entry))


def read_corpus(paths: Iterable[Path], progress: Optional[Progress] = None) -> Corpus:
    """Read every article file under ``paths``. Raises CorpusError if none can be found."""
    paths = [Path(p) for p in paths]
    files, missing = find_files(paths)
    corpus = Corpus(skipped=list(missing))
    if not files:
        where = ", ".join(str(p) for p in paths) or "(no paths given)"
        raise CorpusError(
            f"no article files ({', '.join(ARTICLE_SUFFIXES)}) found in {where}; "
            "give the files or folders that hold your articles"
        )
    manifests = load_manifests(
        sorted({p for p in paths if p.is_dir()} | {f.parent for f, _ in files}),
        corpus.warnings,
    )
    kinds: Counter = Counter()
    for done, (path, key) in enumerate(files, start=1):
        try:
            text = read_article_text(path)
        except CorpusError as error:
            corpus.skipped.append(SkippedFile(str(path), str(error)))
        else:
            corpus.files += 1
            entry = manifests.get(path.resolve())
            for article in articles_in_file(text, path, key, entry):
                corpus.articles.append(article)
                kinds.update(b.kind for b in article.blocks)
        if progress:
            progress(done, len(files))
    corpus.blocks_by_kind = dict(sorted(kinds.items()))
    return corpus
