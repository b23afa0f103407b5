"""The file ledger: which files an index holds, and a fingerprint of what each was read from.

An indexing run compares every file it finds with the ledger: a file whose fingerprint matches
is left alone, so re-running on an unchanged corpus reads each file once to hash it and writes
nothing. The fingerprint covers the file's bytes and everything else that shaped its articles
(its manifest entry, the reading options), so a changed manifest re-reads the file too.

The ledger of index generation N is its file ``files-N.json`` (``store`` writes it before the
commit that makes generation N, which records it), so the ledger of the current generation
always describes the committed index.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Dict, Tuple


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


def to_bytes(generation: int, ledger: Ledger) -> bytes:
    # vars(), not asdict(): the same fields, without asdict's deep copy of every record
    data = {"generation": generation, "files": {p: vars(r) for p, r in sorted(ledger.items())}}
    return json.dumps(data).encode("utf-8")


def from_bytes(data: bytes) -> Ledger:
    """The ledger in ``data``; ValueError if it is not one."""
    try:
        raw = json.loads(data.decode("utf-8"))
        return {
            path: FileRecord(
                fingerprint=str(r["fingerprint"]),
                size=int(r["size"]),
                key=str(r["key"]),
                article_ids=tuple(map(str, r["article_ids"])),
                paragraphs=int(r["paragraphs"]),
            )
            for path, r in raw["files"].items()
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a file ledger ({type(error).__name__})") from None
