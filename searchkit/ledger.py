"""The file ledger: which files an index holds, and a fingerprint of what each was read from.

An indexing run compares every file it finds with the ledger: a file whose fingerprint matches
is left alone, so re-running on an unchanged corpus reads each file once to hash it and writes
nothing. The fingerprint covers the file's bytes and everything else that shaped its articles
(its manifest entry, the reading options), so a changed manifest re-reads the file too.

The ledger of index generation N is ``files-N.json`` beside Whoosh's files. It is written and
fsynced before the commit that makes generation N, so after a crash the ledger of the current
generation always describes the committed index; a ledger of another generation is stale and
ignored (every file then counts as changed once, which re-reads it but never duplicates it).
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

PREFIX = "files-"


@dataclass(frozen=True)
class FileRecord:
    """One indexed file (the ledger's key is its absolute path)."""

    fingerprint: str
    size: int
    key: str  # what its article ids start with
    article_ids: Tuple[str, ...]
    paragraphs: int


Ledger = Dict[str, FileRecord]


def fingerprint(data: bytes, context: dict) -> str:
    """SHA-256 of the file's bytes and of the reading context (manifest entry, options)."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps(context, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _path(index_dir: Path, generation: int) -> Path:
    return Path(index_dir) / f"{PREFIX}{generation}.json"


def load(index_dir: Path, generation: int) -> Optional[Ledger]:
    """The ledger of ``generation``; None if there is none (or it cannot be read)."""
    try:
        raw = json.loads(_path(index_dir, generation).read_text(encoding="utf-8"))
        return {
            path: FileRecord(
                fingerprint=r["fingerprint"],
                size=r["size"],
                key=r["key"],
                article_ids=tuple(r["article_ids"]),
                paragraphs=r["paragraphs"],
            )
            for path, r in raw["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(index_dir: Path, generation: int, ledger: Ledger) -> None:
    """Write the ledger of ``generation`` durably (aside, fsync, rename, fsync the folder)."""
    path = _path(index_dir, generation)
    aside = path.with_suffix(".json.tmp")
    # vars(), not asdict(): the same fields, without asdict's deep copy of every record
    data = {"generation": generation, "files": {p: vars(r) for p, r in sorted(ledger.items())}}
    with open(aside, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(aside, path)
    _fsync_dir(index_dir)


def remove_others(index_dir: Path, generation: int) -> None:
    """Delete the ledgers of other generations (stale since the commit of ``generation``)."""
    for path in Path(index_dir).glob(f"{PREFIX}*.json*"):
        if path.name not in (f"{PREFIX}{generation}.json",):
            try:
                path.unlink()
            except OSError:
                pass  # harmless: a stale ledger is never read


def _fsync_dir(folder: Path) -> None:
    fd = os.open(str(folder), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
