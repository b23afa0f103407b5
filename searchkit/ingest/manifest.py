"""Sidecar manifests: per-file title, source, date and URL that override what the text says.

A folder of articles may hold ``manifest.json`` or ``manifest.csv``; its entries name files by
their path relative to that folder and apply to every article in the file (``title`` only when
the file holds one article)::

    manifest.json   {"001_story.txt": {"source": "AFP", "date": "2020-08-18",
                                       "title": "...", "url": "https://..."}}
    manifest.csv    file,title,source,date,url
                    001_story.txt,,AFP,2020-08-18,

A manifest is UTF-8, with or without the byte order mark that Excel's "CSV UTF-8" and Notepad
write; one in another encoding (Excel's plain "CSV" is the system's code page, cp1252 in the
West) is decoded as article files are, with a warning naming the encoding. Empty values are
ignored. A manifest that cannot be read, or a bad value in it, gives a warning and is skipped;
indexing goes on. A manifest is read within bounds (see safeload.py):
over 64 MB, or JSON nested deeper than safeload.MAX_DEPTH, it is ignored with a warning.
"""

import csv
import io
import os
from pathlib import Path
from types import MappingProxyType
from typing import Dict, List, Mapping, Optional, Tuple

from ..config import DEFAULT_MAX_BYTES
from ..errors import CorpusError
from .encoding import decode
from .metadata import iso_date, validated_fields
from .safeload import load_json

MANIFEST_NAMES = ("manifest.json", "manifest.csv")

Entries = Dict[str, dict]  # a file's real path -> validated fields


def _read_rows(path: Path, warnings: List[str]) -> List[Tuple[str, dict]]:
    if path.stat().st_size > DEFAULT_MAX_BYTES:
        raise ValueError(f"over {DEFAULT_MAX_BYTES // 1024 // 1024} MB")
    decoded = decode(path.read_bytes())
    if decoded.how != "utf-8" and not decoded.how.startswith("byte order mark"):
        warnings.append(f"{path}: manifest not UTF-8, {decoded.how}; if its text looks "
                        "wrong, save it as UTF-8")
    text = decoded.text
    if path.suffix == ".json":
        data = load_json(text)
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ValueError('expected an object {"file name": {"source": ..., "date": ...}}')
        return list(data.items())
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "file" not in reader.fieldnames:
        raise ValueError("expected a header row starting with 'file'")
    return [(row.pop("file"), row) for row in reader]


def load_manifests(folders: List[Path], warnings: List[str],
                   roots: Optional[List[Path]] = None,
                   known: Mapping[str, str] = MappingProxyType({})) -> Entries:
    """Entries of every manifest found directly in ``folders``; with ``roots``, a manifest that
    is a symbolic link leading outside them is ignored, with a warning. ``known``: real paths
    of files known to exist (found by a walk), which need no look-up on disk, each to itself
    (the entries are keyed by those strings). Entries of the same fields are one dict (not to
    be changed): a build holds the entries of every file, and most repeat a source and date."""
    entries: Entries = {}
    alike: Dict[tuple, dict] = {}  # the fields, sorted -> their one dict
    # An entry's raw fields, all text, -> their checked dict, where they gave no warning: most
    # entries repeat a source and a date. (Other values are checked each time: 1, 1.0 and
    # True, or 0.0 and -0.0, are equal keys but not the same text.)
    checked: Dict[tuple, dict] = {}
    for folder in folders:
        real_folder = os.path.realpath(folder)
        for name in MANIFEST_NAMES:
            path = folder / name
            if not path.is_file():
                continue
            if roots is not None and path.is_symlink() and not any(
                path.resolve() == root or root in path.resolve().parents for root in roots
            ):
                warnings.append(f"{path}: manifest ignored: a symbolic link outside the folders "
                                "being indexed (--follow follows it)")
                continue
            try:
                rows = _read_rows(path, warnings)
            except (OSError, ValueError, CorpusError, csv.Error) as error:
                warnings.append(f"{path}: manifest ignored: {error}")
                continue
            for file_name, raw in rows:
                where = f"{path} [{str(file_name)[:80]}]"
                target = _target(folder, real_folder, file_name, known)
                if target is None:
                    warnings.append(f"{where}: no such file next to the manifest; entry ignored")
                    continue
                key = tuple(raw.items()) if all(type(v) is str for v in raw.values()) else ()
                fields = checked.get(key) if key else None
                if fields is None:
                    fields, problems = validated_fields(raw, where, dates=iso_date,
                                                        unknown_warned=True)
                    fields = alike.setdefault(tuple(sorted(fields.items())), fields)
                    warnings += problems
                    if key and not problems:
                        checked[key] = fields
                entries[target] = fields
    return entries


def _target(folder: Path, real_folder: str, file_name,
            known: Mapping[str, str]) -> Optional[str]:
    """The real path of the file a manifest entry names, or None if there is no such file."""
    if not file_name:
        return None
    direct = known.get(os.path.join(real_folder, file_name))
    if direct is not None and "/" not in file_name and file_name not in (".", ".."):
        return direct  # a plain name of a file the walk found (not a link: that is resolved)
    try:
        target = (folder / file_name).resolve()
        return str(target) if target.is_file() else None
    except ValueError:  # a name no file can have: a NUL, a lone surrogate
        return None
