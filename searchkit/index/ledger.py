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

import bisect
import hashlib
import io
import json
import os
from typing import BinaryIO, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

from .textfile import ScratchBytes

# A file modified less than this long before it was read gets no recorded stat: a change
# within the file system's timestamp granularity could leave its stat as it was. Timestamps
# in whole seconds (FAT keeps even ones) get the long wait; finer ones a clock tick and room.
RACY_NS = 2_000_000_000
FINE_RACY_NS = 100_000_000


class FileRecord(NamedTuple):
    """One indexed file (the ledger's key is its absolute path). A tuple, not an object with
    a dict: an update holds one for each of an index's files."""

    fingerprint: str
    size: int
    key: str  # what its article ids start with
    article_ids: Tuple[str, ...]
    paragraphs: int
    context: str = ""  # digest of the reading context (manifest entry, options)
    stat: str = ""  # stat_key of the file when it was read; "" when it must be hashed
    # Why the file could not be indexed, for a file refused when read (markup, binary, empty
    # ...): nothing of it is indexed, and while its stat is as recorded it is not read again.
    refused: str = ""


Ledger = Dict[str, FileRecord]
_FIELDS = FileRecord._fields  # "refused" last


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
    """A ledger being made: records held already (an unchanged file's, from the last ledger)
    kept as they are (``keep``), those made by this run (``entries[path] = record``) as the
    bytes they are written as, in a scratch file in ``folder`` (else the system's): a build
    reads every file anew, and what it held of each file grew its memory with the corpus.
    Each path is given once."""

    def __init__(self, folder: Optional[str] = None):
        self.kept: Ledger = {}
        self.paths: List[str] = []  # of the new records, in the order given
        self.members = ScratchBytes(folder)  # each new record as its JSON object member

    def keep(self, path: str, record: FileRecord) -> None:
        self.kept[path] = record

    def __setitem__(self, path: str, record: FileRecord) -> None:
        member = _members({path: record})
        self.paths.append(path)
        self.members.add(member, (len(member),))


def _members(records: Ledger) -> bytes:
    """``"path": {its fields}, ...``, as json.dumps writes them inside the ledger's files."""
    return json.dumps({path: _fields(record) for path, record in records.items()})[1:-1].encode(
        "ascii")


def _fields(record: FileRecord) -> dict:
    """A record's fields, as its JSON object holds them: "refused" only for a refused file
    (every other file's record as before it was a field)."""
    return dict(zip(_FIELDS if record.refused else _FIELDS[:-1], record))


def write(out: BinaryIO, generation: int, ledger: Union[Ledger, Entries]) -> None:
    """The ledger of commit ``generation`` into ``out`` as its file holds it: JSON, files in
    path order (as ``json.dumps`` writes the dict), each record written as it is reached."""
    out.write(b'{"generation": %d, "files": {' % generation)
    for k, piece in enumerate(_pieces(ledger)):
        out.write(b", " + piece if k else piece)
    out.write(b"}}")


def _pieces(ledger: Union[Ledger, Entries]) -> Iterator[bytes]:
    """The ledger's files' members in path order: a new record's as it was kept, the kept
    records between two new ones by one json.dumps a few thousand."""
    kept, new = (ledger.kept, ledger.paths) if isinstance(ledger, Entries) else (ledger, [])
    kept_paths = sorted(kept)
    new_order = sorted(range(len(new)), key=new.__getitem__)
    members = ledger.members.in_order(new_order) if new else iter(())
    at = 0
    for n in [*new_order, None]:  # (None: the kept records after the last new one)
        upto = len(kept_paths) if n is None else bisect.bisect(kept_paths, new[n], at)
        for start in range(at, upto, _KEPT_A_WRITE):
            run = kept_paths[start:min(upto, start + _KEPT_A_WRITE)]
            yield _members({path: kept[path] for path in run})
        at = upto
        if n is not None:
            yield next(members)


_KEPT_A_WRITE = 4096


def to_bytes(generation: int, ledger: Union[Ledger, Entries]) -> bytes:
    """``write``'s bytes."""
    buffer = io.BytesIO()
    write(buffer, generation, ledger)
    return buffer.getvalue()


def from_bytes(data: bytes) -> Ledger:
    """The ledger in ``data``; ValueError if it is not one. Each file's record is made as
    soon as its object is read (not every object first, then the records: the ledger of a
    large index held twice), and records with the same reading context share its string."""
    contexts: Dict[str, str] = {}

    def record(r: dict):
        if "fingerprint" not in r:  # (the ledger's own object, and the files')
            return r
        context = str(r.get("context", ""))
        key, ids = str(r["key"]), r["article_ids"]
        return FileRecord(
            fingerprint=str(r["fingerprint"]),
            size=int(r["size"]),
            key=key,
            # (most files hold one article, named as the file: its id is the key's string)
            article_ids=(key,) if ids == [key] else tuple(map(str, ids)),
            paragraphs=int(r["paragraphs"]),
            context=contexts.setdefault(context, context),
            stat=str(r.get("stat", "")),
            refused=str(r.get("refused", "")),
        )

    try:
        files = json.loads(data.decode("utf-8"), object_hook=record)["files"]
        if not all(type(r) is FileRecord for r in files.values()):
            raise TypeError("a file without a record")
        return files
    except (KeyError, TypeError, AttributeError, RecursionError) as error:
        raise ValueError(f"not a file ledger ({type(error).__name__})") from None
