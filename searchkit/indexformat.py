"""What an index on disk is, as plain names and numbers (no Whoosh): its fields, the version of
its layout and the analyzer it was built with. ``schema`` builds the Whoosh schema from these;
searches that never import Whoosh read them from here."""

import hashlib
import json
import os
import re
from pathlib import Path
from typing import List

from .errors import IndexSettingsError
from .wordterms import STOP_WORDS

# Bump when fields, their indexing or the files beside Whoosh's change: older indexes must then
# be rebuilt (they get a clear error saying so).
# 10: ranking arrays beside each segment (<segment>.rank) and segments-<generation>.json.
SCHEMA_VERSION = 10

TEXT_FIELD = "text"
TITLE_FIELD = "title"
DATE_FIELD = "date"
SEARCH_FIELDS = (TEXT_FIELD, TITLE_FIELD)
# Metadata fields: a query term on one of them restricts the results rather than scoring them.
FILTER_FIELDS = frozenset(
    {"id", "article_id", "doc_id", "path", "paragraph", "kind", "source", "date", "dup_group"}
)

# What an index records about its analyzer: a query analysed differently would miss words.
ANALYZER = {
    "tokenizer": "whoosh RegexTokenizer (words)",
    "filters": "lowercase, accent folding, stop words, nltk snowball english stemmer",
    "stop_words_sha1": hashlib.sha1(" ".join(sorted(STOP_WORDS)).encode()).hexdigest()[:12],
}

SETTINGS = {"schema_version": SCHEMA_VERSION, "analyzer": ANALYZER}

SETTINGS_FILE = "searchkit.json"
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


def read_settings(index_dir) -> dict:
    try:
        found = json.loads((Path(index_dir) / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def check_compatible(index_dir) -> dict:
    """The recorded settings; IndexSettingsError if they differ from this version's."""
    recorded = read_settings(index_dir)
    mismatched = [key for key in SETTINGS if recorded.get(key) != SETTINGS[key]]
    if mismatched:
        raise IndexSettingsError(
            f"the index in {index_dir} was built with other settings "
            f"({', '.join(mismatched)} differ from this version of searchkit); "
            f"rebuild it: searchkit index PATHS --index {index_dir} --rebuild"
        )
    return recorded
