"""YAML front matter of a text or Markdown file: title, source, date and URL.

A file whose first line is ``---`` and which has another ``---`` (or ``...``) line later holds
front matter between them, read with PyYAML's ``safe_load``::

    ---
    title: EU leaders urge Putin to push for talks
    source: The Moscow Times
    date: 2020-08-18          # a date, or a string such as "August 18, 2020"
    url: https://www.themoscowtimes.com/...
    tags: [belarus]           # other keys are ignored
    ---

Its values rank below a sidecar manifest's and above what is guessed from the text.
Front matter that is not valid YAML gives a warning: if each of its lines is ``key: value``
(``title: Putin: the interview``, which YAML refuses), each value is read as written;
otherwise its lines stay in the text (nothing is lost) but for the two ``---``. A bad value
gives a warning and is ignored. So does front matter over 64 KB, nested deeper, or holding
more values with its aliases expanded, than safeload.py allows: it is read within bounds,
whatever a hostile file holds.
"""

import re
from itertools import islice
from typing import List, Optional, Tuple

from ..encoding import lines, surrogates_replaced, valid_text
from ..metadata import validated_fields
from ..safeload import brief, load_yaml

_MAX_LINES = 200  # a front matter block is short; a "---" 500 lines down is a separator
_MAX_CHARS = 64 * 1024  # and small: longer lines are text, not metadata (PyYAML is slow)
_YAML_SYNTAX = tuple("[{&*!|>@%`")  # what a value starting so means to YAML
_KEY_VALUE = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(.*?))?[ \t]*")


def split_front_matter(text: str) -> Tuple[dict, str, List[str]]:
    """(fields, text, warnings): the front matter's validated fields, and the text with the
    front matter's lines blanked (so that line numbers stay those of the file)."""
    first = next(lines(text), None)
    if first is None or first[0].strip().lstrip("\ufeff") != "---":  # most files
        return {}, text, []
    head = list(islice(lines(text), _MAX_LINES))  # (line, where the next one starts)
    end = next((i for i in range(1, len(head)) if head[i][0].strip() in ("---", "...")), None)
    if end is None:
        return {}, text, []
    import yaml  # only files that start with "---" need it

    block = text[head[0][1]:head[end - 1][1]]

    def as_text(warning: str) -> Tuple[dict, str, List[str]]:
        """Its lines read as text: the "---" around them are no headline or paragraph."""
        return {}, "\n" + block + "\n" + text[head[end][1]:], [warning]

    if len(block) > _MAX_CHARS:
        return as_text(f"front matter over {_MAX_CHARS // 1024} KB; read as text")
    warnings = []
    try:
        data = load_yaml(block)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = f"front matter is not valid YAML{where}: " \
                  f"{getattr(error, 'problem', None) or error}"
        data = _line_by_line(block)
        if data is None:
            return as_text(f"{problem}; read as text")
        warnings.append(f"{problem}; read line by line as key: value")
    except ValueError as error:  # beyond safeload's bounds, or a number Python refuses
        return as_text(f"front matter not read: {error}; read as text")
    if data is None:
        data = {}
    if not isinstance(data, dict):  # a "---" rule above and below some text: not front matter
        return {}, text, []
    for key, value in list(data.items()):
        if isinstance(value, str):
            data[key], replaced = valid_text(value)
            if replaced:
                warnings.append(f"front matter: {brief(key)}: {surrogates_replaced(replaced)}")
    fields, problems = validated_fields(data, "front matter")
    warnings += problems
    body = "\n" * (end + 1) + text[head[end][1]:]
    return fields, body, warnings


def _line_by_line(block: str) -> Optional[dict]:
    """Front matter YAML refuses whose every line is ``key: value`` (or blank, or a comment):
    each value as written, the quotes around it taken off; None if a line is anything else
    (a list, a nested mapping) or a value starts as YAML syntax (a flow list, an alias...)."""
    data = {}
    for line in block.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _KEY_VALUE.fullmatch(line)
        if not match:
            return None
        key, value = match.group(1), match.group(2) or ""
        if value.startswith(_YAML_SYNTAX):  # meant as YAML, and not valid: no guessing
            return None
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        data[key] = value
    return data
