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
Front matter that is not valid YAML, or not a mapping, gives a warning and stays in the text
(nothing is lost); a bad value gives a warning and is ignored.
"""

from typing import List, Tuple

from .metadata import validated_fields

_MAX_LINES = 200  # a front matter block is short; a "---" 500 lines down is a separator


def split_front_matter(text: str) -> Tuple[dict, str, List[str]]:
    """(fields, text, warnings): the front matter's validated fields, and the text with the
    front matter's lines blanked (so that line numbers stay those of the file)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        return {}, text, []
    end = next(
        (i for i in range(1, min(len(lines), _MAX_LINES)) if lines[i].strip() in ("---", "...")),
        None,
    )
    if end is None:
        return {}, text, []
    import yaml  # only files that start with "---" need it

    try:
        data = yaml.safe_load("".join(lines[1:end]))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        return {}, text, [
            f"front matter is not valid YAML{where}: {getattr(error, 'problem', None) or error}; "
            "read as text"
        ]
    if data is None:
        data = {}
    if not isinstance(data, dict):  # a "---" rule above and below some text: not front matter
        return {}, text, []
    fields, warnings = validated_fields(data, "front matter")
    body = "\n" * (end + 1) + "".join(lines[end + 1:])
    return fields, body, warnings
