"""The index directory: whether an index is there, whether it fits this version, opening it.

Beside Whoosh's files, ``searchkit.json`` records the index-time settings (schema version,
analyzer); an index built with other settings is refused with a request to rebuild it.
"""

import json
import os
from pathlib import Path

from whoosh import index as whoosh_index

from .errors import IndexMissingError, IndexSettingsError
from .schema import SETTINGS

SETTINGS_FILE = "searchkit.json"


def exists(index_dir: Path) -> bool:
    return Path(index_dir).is_dir() and whoosh_index.exists_in(str(index_dir))


def read_settings(index_dir: Path) -> dict:
    try:
        return json.loads((Path(index_dir) / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_settings(index_dir: Path, extra: dict) -> None:
    """Replace the settings file atomically (write aside, then rename)."""
    path = Path(index_dir) / SETTINGS_FILE
    aside = path.with_suffix(".json.tmp")
    aside.write_text(json.dumps({**SETTINGS, **extra}, indent=2, default=str), encoding="utf-8")
    os.replace(aside, path)


def check_compatible(index_dir: Path) -> dict:
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


def open_index(index_dir: Path):
    """The Whoosh index in ``index_dir``, checked; IndexMissingError if there is none."""
    if not exists(index_dir):
        raise IndexMissingError(
            f"no index in {index_dir}; build one with: searchkit index PATHS --index {index_dir}"
        )
    check_compatible(index_dir)
    try:
        return whoosh_index.open_dir(str(index_dir))
    except Exception as error:  # Whoosh raises assorted errors for damaged files
        raise IndexSettingsError(
            f"the index in {index_dir} cannot be opened ({error}); "
            f"rebuild it: searchkit index PATHS --index {index_dir} --rebuild"
        ) from None
