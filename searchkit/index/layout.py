"""What an index on disk is, as plain names and numbers (no Whoosh): its fields, the version of
its layout and the analyzer it was built with. ``schema`` builds the Whoosh schema from these;
searches that never import Whoosh read them from here."""

import hashlib
import json
import os
import re
from pathlib import Path
from typing import List, Optional, Set, Tuple

from ..errors import IndexDamagedError, IndexSettingsError
from . import integrity
from .wordterms import STOP_WORDS

# Bump when fields, their indexing or the files beside Whoosh's change: older indexes must then
# be rebuilt (they get a clear error saying so).
# 9: title and text are WordCachingText (same postings as TEXT, indexed faster; an index
# pickles its field classes, so versions before it could not open a 9 index anyway), and
# paragraph and date index their exact value only (see schema.make_schema).
# 10: length totals sum the stored lengths (optimize keeps scores); commits carry checksums.
# 11: an unknown source is "", not the file name; ids escape a file name's control characters.
# 12: ranking arrays beside each segment (<segment>.rank) and segments-<generation>.json.
# 13: modules moved into packages, so the class paths the schema pickles changed.
# 14: the tokenizer keeps AT&T, 9/11 and C++ as words (wordterms.TOKEN).
SCHEMA_VERSION = 14

# The fields of the schema (schema.make_schema), by the names stored in an index.
ID_FIELD = "id"  # the paragraph's id, "<article id>#<number>"
ARTICLE_ID_FIELD = "article_id"
DOC_ID_FIELD = "doc_id"  # a JSON-lines record's own id, else the article id
PATH_FIELD = "path"
PARAGRAPH_FIELD = "paragraph"  # its number in the article
KIND_FIELD = "kind"
TITLE_FIELD = "title"
SOURCE_FIELD = "source"
SOURCE_FROM_FIELD = "source_from"
DATE_FIELD = "date"
DATE_FROM_FIELD = "date_from"
URL_FIELD = "url"
TEXT_FIELD = "text"
SIGNATURE_FIELD = "dup_signature"  # equal for exact copies (see dedup.py)
GROUP_FIELD = "dup_group"  # the near-duplicate group's key

SEARCH_FIELDS = (TEXT_FIELD, TITLE_FIELD)
# Metadata fields: a query term on one of them restricts the results rather than scoring them.
FILTER_FIELDS = frozenset({
    ID_FIELD, ARTICLE_ID_FIELD, DOC_ID_FIELD, PATH_FIELD, PARAGRAPH_FIELD, KIND_FIELD,
    SOURCE_FIELD, DATE_FIELD, GROUP_FIELD,
})

# Every field of the schema: a name before ":" that is none is a word.
FIELD_NAMES = FILTER_FIELDS | {
    TITLE_FIELD, SOURCE_FROM_FIELD, DATE_FROM_FIELD, URL_FIELD, TEXT_FIELD, SIGNATURE_FIELD,
}

# What an index records about its analyzer: a query analysed differently would miss words.
ANALYZER = {
    "tokenizer": "whoosh RegexTokenizer (words; AT&T, 9/11, C++ whole)",
    "filters": "lowercase, accent folding, stop words, nltk snowball english stemmer",
    "stop_words_sha1": hashlib.sha1(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
}

SETTINGS = {"schema_version": SCHEMA_VERSION, "analyzer": ANALYZER}

LEGACY_SETTINGS_FILE = "searchkit.json"  # before schema 10: one settings file for all commits
TOC_FILE = re.compile(r"^_MAIN_([0-9]+)\.toc$")  # Whoosh's table of contents of a commit
TEMP_TOC_FILE = re.compile(r"^_MAIN_([0-9]+)\.toc\..+$")
SEGMENT_FILE = re.compile(r"^(MAIN_[0-9a-z]+)\.")  # as whoosh.index.TOC._segment_pattern
RECORD_FILE = re.compile(r"^checksums-([0-9]+)\.json$")  # a commit's record (integrity)
SIDE_FILE = re.compile(
    r"^(searchkit|files|vocabulary|stems|segments|dupindex)-([0-9]+)\.(json|tsv|npz)$")
SCRATCH = re.compile(r"^[A-Za-z0-9_.-]+\.tmp$")  # writers' scratch folders, files written aside
_NAME_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]+")  # of every name a writer gives a file
# The files searchkit's writers are about to create, one JSON string a line (durable.note).
JOURNAL = "searchkit-writes.log"
JOURNAL_HEADER = (b'{"searchkit": "the files its writers created here; those no commit keeps '
                  b'are removed by the next writer"}\n')


def _names(index_dir) -> List[str]:
    try:
        return os.listdir(index_dir)
    except OSError:
        return []


def _numbers(pattern, names: List[str]) -> List[int]:
    return sorted(int(m.group(1)) for m in map(pattern.match, names) if m)


def generations(index_dir) -> List[int]:
    """The commit numbers whose table of contents is in ``index_dir``, oldest first."""
    return _numbers(TOC_FILE, _names(index_dir))


def exists(index_dir) -> bool:
    """Whether ``index_dir`` holds an index: a commit's table of contents, or the record of a
    commit whose table of contents is lost (opening it then says it is damaged)."""
    names = _names(index_dir)
    return bool(_numbers(TOC_FILE, names) or _lost(str(index_dir), names, -1))


def newest_generation(index_dir) -> int:
    """The number of the newest commit whose table of contents is there, -1 if none: the
    current one unless a newer one lost it (``latest_generation``)."""
    return max(generations(index_dir), default=-1)


def latest_generation(index_dir) -> int:
    """The current commit's number, -1 without an index. IndexDamagedError if a newer commit
    lost its table of contents: the commit before it is not what the index holds."""
    names = _names(index_dir)
    newest = max(_numbers(TOC_FILE, names), default=-1)
    lost = _lost(str(index_dir), names, newest)
    if not lost:
        return newest
    # (a writer drops its commit's names from the journal after renaming its table of
    # contents into place: listed again, a commit made since the listing shows)
    newest = newest_generation(index_dir)
    if newest < lost[-1]:
        raise integrity.damaged(str(index_dir), f"_MAIN_{lost[-1]}.toc: missing")
    return newest


def _lost(folder: str, names: List[str], newest: int) -> List[int]:
    """The commits after ``newest`` whose record is among ``names`` but not their table of
    contents, that no writer is making (none names the record in its journal) or stopped
    making (its table of contents is still under the temporary name: its journal line may
    have been lost in a power cut)."""
    newer = [g for g in _numbers(RECORD_FILE, names) if g > newest]
    if not newer:
        return []
    pending = journaled(folder)
    pending |= {integrity.record_file(int(m.group(1)))
                for m in map(TEMP_TOC_FILE.match, names) if m}
    return [g for g in newer if integrity.record_file(g) not in pending
            and record_names(folder, integrity.record_file(g), g)[0] is not None]


def next_generation(index_dir) -> int:
    """The number of the next commit: past every commit's table of contents and record,
    lost or not, so that none of its files is named like one already there."""
    names = _names(index_dir)
    return max(_numbers(TOC_FILE, names) + _numbers(RECORD_FILE, names), default=-1) + 1


def committed_records(folder: str) -> List[int]:
    """The generations of the records in ``folder`` that commits wrote (a stopped run's is
    journaled; a file named like one that is not one is not searchkit's)."""
    pending = journaled(folder)
    return sorted(
        int(m.group(1)) for m in map(RECORD_FILE.match, _names(folder))
        if m and m.group(0) not in pending
        and record_names(folder, m.group(0), int(m.group(1)))[0] is not None)


def record_names(folder: str, name: str, generation: int) -> Tuple[Optional[Set[str]], bool]:
    """(the files a commit record names, or None if it is not one searchkit wrote; whether it
    is this version's). A record of searchkit before schema 10 named only the segment files:
    its TOC and ledger go with it."""
    try:
        with open(os.path.join(folder, name), "rb", opener=integrity.regular) as handle:
            data = handle.read(integrity.RECORD_MOST + 1)
    except OSError:
        return None, False
    if len(data) > integrity.RECORD_MOST:
        return None, False
    try:
        return set(integrity.decode(data, generation).files), True
    except (ValueError, UnicodeError):
        files = integrity.legacy_files(data, generation)
        if files is None:
            return None, False
        return set(files) | {f"_MAIN_{generation}.toc", f"files-{generation}.json"}, False


def journaled(folder: str) -> Set[str]:
    """The names the writers' journal holds (none if it is not searchkit's journal)."""
    try:
        with open(os.path.join(folder, JOURNAL), "rb", opener=integrity.regular) as handle:
            data = handle.read(integrity.RECORD_MOST + 1)
    except OSError:
        return set()
    if not data.startswith(JOURNAL_HEADER) or len(data) > integrity.RECORD_MOST:
        return set()  # (no writer journals that much: not its journal)
    names = set()
    for line in data.splitlines()[1:]:
        try:
            name = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line cut short by a crash
        if isinstance(name, str) and searchkit_name(name):
            names.add(name)
    return names


def searchkit_name(name: str) -> bool:
    """A name searchkit's writers give files (a journal or record naming anything else is not
    trusted with it)."""
    return (
        bool(_NAME_CHARACTERS.fullmatch(name)) and not name.startswith(".")
        and bool(SEGMENT_FILE.match(name) or TOC_FILE.match(name) or TEMP_TOC_FILE.match(name)
                 or RECORD_FILE.match(name) or SIDE_FILE.match(name) or SCRATCH.match(name))
    )


def has_commit(index_dir, generation: int) -> bool:
    """Whether commit ``generation`` is still there (it goes a while after a newer one)."""
    return os.path.exists(os.path.join(str(index_dir), f"_MAIN_{generation}.toc"))


def committed_copy(index_dir, generation: int, kind: str):
    """What writes commit ``generation``'s side file of ``kind`` into a file a piece at a time
    (``integrity.committed_copy``), or None if the commit has none."""
    return integrity.committed_copy(str(index_dir), generation,
                                    integrity.side_file(kind, generation))


def map_committed(index_dir, generation: int, kind: str) -> Optional[integrity.CheckedMap]:
    """``read_committed``, mapped into memory rather than read (``integrity.map_committed``)."""
    return integrity.map_committed(str(index_dir), generation,
                                   integrity.side_file(kind, generation))


def read_committed(index_dir, generation: int, kind: str) -> Optional[bytes]:
    """The bytes of commit ``generation``'s settings, ledger, vocabulary, stems, segments
    list or near-duplicate index (``kind``) as committed; None if the commit has none;
    IndexDamagedError if they are not those."""
    return integrity.read_committed(str(index_dir), generation,
                                    integrity.side_file(kind, generation))


_SETTINGS_MOST = 1 << 20  # a settings file holds a few lines: one larger is cut (and not JSON)


def read_settings(index_dir, generation: Optional[int] = None) -> dict:
    """The settings commit ``generation`` (by default the current one) was made with; {}
    without an index. An index of searchkit before schema 10 gives its one settings file's."""
    folder = str(index_dir)
    generation = latest_generation(index_dir) if generation is None else generation
    if generation < 0:
        return {}
    try:
        data = read_committed(index_dir, generation, "settings")
    except IndexDamagedError:
        try:  # an index of an older searchkit: its settings say to rebuild it
            with open(Path(folder) / LEGACY_SETTINGS_FILE, "rb",
                      opener=integrity.regular) as handle:
                legacy = json.loads(handle.read(_SETTINGS_MOST).decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            legacy = None
        if isinstance(legacy, dict) and legacy.get("schema_version") != SCHEMA_VERSION:
            return legacy
        raise
    try:
        settings = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, RecursionError):
        settings = None
    if not isinstance(settings, dict):
        raise integrity.damaged(
            folder, f"{integrity.side_file('settings', generation)}: missing or not settings")
    return settings


def check_compatible(index_dir) -> dict:
    """The recorded settings; IndexSettingsError if they differ from this version's,
    IndexDamagedError if they are not settings any version writes (no schema version)."""
    recorded = read_settings(index_dir)
    version = recorded.get("schema_version")
    if recorded and (not isinstance(version, int) or isinstance(version, bool)):
        raise integrity.damaged(str(index_dir), "its settings hold no schema version")
    mismatched = [key for key in SETTINGS if recorded.get(key) != SETTINGS[key]]
    if mismatched:
        raise IndexSettingsError(
            f"the index in {index_dir} was built with other settings "
            f"({', '.join(mismatched)} differ from this version of searchkit); "
            f"rebuild it: searchkit index PATHS --index {index_dir} --rebuild"
        )
    return recorded
