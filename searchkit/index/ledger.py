"""The file ledger: which files an index holds, and a fingerprint of what each was read from.

An indexing run compares every file it finds with the ledger: a file whose fingerprint matches
is left alone. The fingerprint covers the file's bytes and everything else that shaped its
articles (its manifest entry, the reading options), so a changed manifest re-reads the file too.
As git does, the ledger also keeps what ``os.stat`` said of each file (size, modification and
change times, inode): a file whose stat and reading context are as recorded is not read again
at all, so re-running on an unchanged corpus costs a stat per file. A stat is recorded only for
a file last modified well before the run read it (one changed again within the same clock tick
would otherwise look unchanged); ctime, which no program can set, catches a file whose
modification time was put back.

The ledger of index generation N is its file ``files-N.json`` (``store`` writes it before the
commit that makes generation N, which records it), so the ledger of the current generation
always describes the committed index.
"""

import hashlib
import json
import os
from array import array
from dataclasses import dataclass
from typing import Dict, Iterator, Tuple, Union

# A file modified less than this long before it was read gets no recorded stat: a change
# within the file system's timestamp granularity could leave its stat as it was. Timestamps
# in whole seconds (FAT keeps even ones) get the long wait; finer ones a clock tick and room.
RACY_NS = 2_000_000_000
FINE_RACY_NS = 100_000_000


@dataclass(frozen=True)
class FileRecord:
    """One indexed file (the ledger's key is its absolute path)."""

    fingerprint: str
    size: int
    key: str  # what its article ids start with
    article_ids: Tuple[str, ...]
    paragraphs: int
    context: str = ""  # digest of the reading context (manifest entry, options)
    stat: str = ""  # stat_key of the file when it was read; "" when it must be hashed


Ledger = Dict[str, FileRecord]


def fingerprint(data: bytes, context: dict) -> str:
    """SHA-256 of the file's bytes and of the reading context (manifest entry, options)."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps(context, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def context_digest(options_text: str, entry) -> str:
    """A digest of what besides its bytes shaped a file's articles: the reading options (as
    ``options_text``, their JSON, made once per run) and its manifest entry."""
    text = options_text if entry is None else options_text + json.dumps(
        entry, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def stat_key(stat: os.stat_result, read_at_ns: int) -> str:
    """What ``stat`` says of a file read at ``read_at_ns`` (time.time_ns()), as the ledger
    keeps it; "" if it was modified too recently to be trusted."""
    coarse = stat.st_mtime_ns % 1_000_000_000 == 0
    if read_at_ns - max(stat.st_mtime_ns, stat.st_ctime_ns) < (
            RACY_NS if coarse else FINE_RACY_NS):
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_ino}"


class Entries:
    """A ledger being made (``entries[path] = record``), each record kept as the bytes it is
    written as: a build records every file it reads, and a record object (its fingerprint,
    key, digests as strings) a file grew its memory with the corpus. A path given twice keeps
    its last record."""

    def __init__(self):
        self.data = bytearray()  # each entry: its path's JSON, ": ", its record's JSON
        self.ends = array("q")
        self.path_ends = array("q")  # where each entry's path ends

    def __setitem__(self, path: str, record: FileRecord) -> None:
        key = json.dumps(path).encode("ascii")
        self.path_ends.append(len(self.data) + len(key))
        # vars(), not asdict(): the same fields, without asdict's deep copy
        self.data += key + b": " + json.dumps(vars(record)).encode("ascii")
        self.ends.append(len(self.data))

    def __len__(self) -> int:
        return len(self.ends)

    def entries(self) -> Iterator[Tuple[str, bytes]]:
        """Each path (as its JSON) and its entry, in the order they were given."""
        start = 0
        for path_end, end in zip(self.path_ends, self.ends):
            yield self.data[start:path_end].decode("ascii"), bytes(self.data[start:end])
            start = end


def to_bytes(generation: int, ledger: Union[Ledger, Entries]) -> bytes:
    """The ledger of commit ``generation`` as its file holds it: JSON, files in path order."""
    if isinstance(ledger, Entries):
        latest = dict(ledger.entries())  # (a path given again: its last record)
        files = b", ".join(entry for _, entry in sorted(
            latest.items(), key=lambda item: json.loads(item[0])))
        return b'{"generation": %d, "files": {%s}}' % (generation, files)
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
                context=str(r.get("context", "")),
                stat=str(r.get("stat", "")),
            )
            for path, r in raw["files"].items()
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a file ledger ({type(error).__name__})") from None
