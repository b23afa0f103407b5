"""JSON lines: one article per line, as a JSON object.

Recognised keys (the first present wins; ``ReadOptions.fields`` / ``--field text=body`` names
another key for a field, replacing these; ``a.b`` reaches into a nested object):

=========  ============================================================
title      ``title``
text       ``text``, ``maintext`` (a string; paragraphs on separate lines; or a list of strings)
date       ``date``, ``date_publish``, ``date_published``, ``published``
source     ``source``, ``source_domain``
url        ``url``
id         ``_id``, ``id``
=========  ============================================================

Other keys are ignored. A record's article id is ``<file key>:<record id>``, or
``<file key>:<line number>`` without an id. Empty lines are skipped. A bad line (not JSON,
nested deeper than safeload.MAX_DEPTH, not an object, no text) is a warning naming its line
number; the other lines are read. A bad value (a date that cannot be read, a title that is not
text) is a warning and left out; lone surrogates (``"\\ud800"``) become U+FFFD, with a
warning. A date in the file's name is not a record's date (it dates the dump); one in a
record's URL is.
"""

import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ...config import MAX_PARAGRAPHS_PER_FILE
from ...errors import TooManyParagraphs
from ..encoding import line_texts, surrogates_replaced, valid_text
from ..metadata import validated_fields
from ..safeload import load_json

NAMES: Dict[str, Tuple[str, ...]] = {
    "title": ("title",),
    "text": ("text", "maintext"),
    "date": ("date", "date_publish", "date_published", "published"),
    "source": ("source", "source_domain"),
    "url": ("url",),
    "id": ("_id", "id"),
}
_MAX_LINE_WARNINGS = 10  # bad lines, and bad values, named one by one; more are counted
# "#" separates an article id from a paragraph number; control characters have no place in one.
_ID_UNSAFE = re.compile(r"[\s#\x00-\x1f\x7f-\x9f]+")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # "\ud800" to "\udfff"
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")  # str.splitlines()'s


@dataclass(frozen=True)
class Record:
    """One usable line: its number, id, text paragraphs and validated fields."""

    line: int
    id: str
    paragraphs: List[str]
    fields: dict  # among title, source, date, url


def check_fields(fields: Dict[str, str]) -> Optional[str]:
    """What is wrong with a field mapping (searchkit name -> record key), else None."""
    for name, key in fields.items():
        if name not in NAMES:
            return f"unknown field {name!r} in a field mapping; known: {', '.join(NAMES)}"
        if not isinstance(key, str) or not key.strip():
            return f"field {name!r} is mapped to an empty key"
    return None


def _lookup(record: dict, key: str):
    if key in record:
        return record[key]
    value = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _value(record: dict, name: str, fields: Dict[str, str]):
    keys = (fields[name],) if name in fields else NAMES[name]
    for key in keys:
        value = _lookup(record, key)
        if value is not None and value != "":
            return key, value
    return None, None


def read_records(text: str, fields: Dict[str, str]) -> Tuple[List[Record], List[str]]:
    """The usable records of a JSON-lines file and a warning for each bad line or value (the
    first ``_MAX_LINE_WARNINGS`` of each, then how many more)."""
    records: List[Record] = []
    bad_lines = _Notes("more bad lines skipped")
    notes = _Notes("more warnings about values")
    seen_ids: Dict[str, int] = {}
    paragraphs_read = 0
    for number, line in enumerate(line_texts(text), start=1):
        if not line.strip():
            continue
        try:
            record = load_json(line)
        except ValueError as error:
            bad_lines.add(f"line {number}: not valid JSON ({error.msg}); line skipped")
            continue
        if not isinstance(record, dict):
            bad_lines.add(
                f"line {number}: a JSON {type(record).__name__}, not an object; line skipped"
            )
            continue
        key, body = _value(record, "text", fields)
        paragraphs = _paragraphs(body)
        paragraphs_read += len(paragraphs)
        if paragraphs_read > MAX_PARAGRAPHS_PER_FILE:
            raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
        if not paragraphs:
            looked = fields.get("text") or " or ".join(repr(k) for k in NAMES["text"])
            what = "no text" if key is None else f"{key!r} holds no text"
            bad_lines.add(f"line {number}: {what} (looked for {looked}); line skipped")
            continue
        given = {}
        for name in ("title", "source", "date", "url"):
            _, value = _value(record, name, fields)
            if value is not None:
                given[name] = value
        _, raw_id = _value(record, "id", fields)
        if _SURROGATE_ESCAPE.search(line):  # only an escape makes one
            paragraphs, given, raw_id, replaced = _valid(paragraphs, given, raw_id)
            if replaced:
                notes.add(f"line {number}: {replaced}")
        valid, problems = validated_fields(given, f"line {number}")
        for problem in problems:
            notes.add(problem)
        record_id = _record_id(raw_id, number)
        if record_id in seen_ids:
            notes.add(
                f"line {number}: id {record_id!r} already used on line {seen_ids[record_id]}; "
                f"this record gets id {record_id}@{number}"
            )
            record_id = f"{record_id}@{number}"
        seen_ids[record_id] = number
        records.append(Record(number, record_id, paragraphs, valid))
    return records, bad_lines.lines() + notes.lines()


class _Notes:
    """Warnings of one kind: the first _MAX_LINE_WARNINGS kept, the rest counted (a hostile
    file may have a million bad lines)."""

    def __init__(self, more: str):
        self.kept: List[str] = []
        self.dropped = 0
        self.more = more

    def add(self, note: str) -> None:
        if len(self.kept) < _MAX_LINE_WARNINGS:
            self.kept.append(note)
        else:
            self.dropped += 1

    def lines(self) -> List[str]:
        return self.kept + ([f"{self.dropped} {self.more}"] if self.dropped else [])


def _valid(paragraphs: List[str], given: dict, raw_id):
    """The record's texts with lone surrogates replaced (see encoding.valid_text), and a note
    saying so ("" if there were none)."""
    count = 0

    def fixed(value):
        nonlocal count
        if not isinstance(value, str):
            return value
        value, replaced = valid_text(value)
        count += replaced
        return value

    paragraphs = [fixed(p) for p in paragraphs]
    given = {name: fixed(value) for name, value in given.items()}
    raw_id = fixed(raw_id)
    return paragraphs, given, raw_id, surrogates_replaced(count) if count else ""


def _paragraphs(body) -> List[str]:
    if isinstance(body, list) and all(isinstance(part, str) for part in body):
        body = "\n".join(body)
    if not isinstance(body, str):
        return []
    if not _LINE_BREAK.search(body):
        return [" ".join(body.split())] if body.strip() else []
    found = []
    for line in line_texts(body):
        if line.strip():
            found.append(" ".join(line.split()))
            if len(found) > MAX_PARAGRAPHS_PER_FILE:
                raise TooManyParagraphs(MAX_PARAGRAPHS_PER_FILE)
    return found


def _record_id(raw, line: int) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        return str(line)
    cleaned = _ID_UNSAFE.sub("_", str(raw).strip()).strip("_")
    return cleaned or str(line)
