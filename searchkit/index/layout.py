"""What an index on disk is, as plain names and numbers (no Whoosh): its fields, the version of
its layout and the analyzer it was built with. ``schema`` builds the Whoosh schema from these;
searches that never import Whoosh read them from here."""

import hashlib
import json
import os
import re
from pathlib import Path
from typing import List, Optional

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


def generations(index_dir) -> List[int]:
    """The commit numbers whose table of contents is in ``index_dir``, oldest first."""
    try:
        names = os.listdir(index_dir)
    except OSError:
        return []
    return sorted(int(m.group(1)) for m in map(TOC_FILE.match, names) if m)


def exists(index_dir) -> bool:
    return Path(index_dir).is_dir() and bool(generations(index_dir))


def latest_generation(index_dir) -> int:
    """The current commit's number, -1 without an index."""
    return max(generations(index_dir), default=-1)


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
            legacy = json.loads((Path(folder) / LEGACY_SETTINGS_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            legacy = None
        if isinstance(legacy, dict) and legacy.get("schema_version") != SCHEMA_VERSION:
            return legacy
        raise
    try:
        settings = json.loads(data.decode("utf-8")) if data is not None else None
    except ValueError:
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
