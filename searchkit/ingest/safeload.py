"""JSON and YAML from article files and manifests, read within bounds, and their values quoted
briefly in warnings.

A file may be hostile. Python's JSON reader and PyYAML recurse once per level of nesting (a
JSON line nested 2,000 deep, or YAML 5,000 deep, ended the whole run with a RecursionError),
and YAML aliases let a few lines stand for billions of values (a "billion laughs": loading
shares the values, but anything that walks them, such as formatting one into a warning, never
ends). So:

- JSON or YAML nested over ``MAX_DEPTH`` levels is refused before it is parsed (JSON) or as it
  is composed (YAML);
- YAML whose values, with every alias expanded, would number over ``MAX_YAML_VALUES`` is
  refused as it is composed (nothing is expanded to count them);
- a number Python refuses to convert (over 4,300 digits) is refused like invalid input;
- ``brief`` quotes a value in at most ~60 characters, and a list or mapping only by its kind.

Refusals are ``ValueError`` (JSON: ``json.JSONDecodeError``) with a one-line reason.
"""

import json
import re
from functools import lru_cache

MAX_DEPTH = 64  # news metadata is flat; JSON-LD, the deepest we read, nests a few levels
MAX_YAML_VALUES = 10_000  # front matter holds a handful of keys and short lists
_BRIEF_CHARS = 60

# JSON strings (skipped: brackets inside them do not nest) and brackets.
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|([\[{])|[\]}]', re.S)


def load_json(text: str):
    """``json.loads(text)`` within the bounds above; JSONDecodeError says why not. Python's
    decoder parses in linear time and stops nesting deeper than its recursion limit with
    RecursionError; the depth of what it made is checked after (a walk of the values is
    cheaper than a scan of the text), and only a document too deep is scanned, to say
    where."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:  # a number of over 4,300 digits
        reason = str(error).split(";")[0]
        where = _too_deep(text) if isinstance(error, RecursionError) else None
        if where is not None:
            reason = f"nested over {MAX_DEPTH} levels deep"
        raise json.JSONDecodeError(reason, text, where or 0) from None
    if _deeper_than(data, MAX_DEPTH):
        raise json.JSONDecodeError(f"nested over {MAX_DEPTH} levels deep", text,
                                   _too_deep(text) or 0)
    return data


def _deeper_than(data, limit: int) -> bool:
    """Whether ``data`` nests objects and lists more than ``limit`` levels deep."""
    level = [data] if isinstance(data, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        inner = []
        for value in level:
            for item in (value.values() if isinstance(value, dict) else value):
                if isinstance(item, (dict, list)):
                    inner.append(item)
        level = inner
    return False


def _too_deep(text: str):
    """Where ``text`` first nests over MAX_DEPTH levels of objects and lists, else None."""
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        if token.group(1):
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
        elif text[token.start()] != '"':
            depth -= 1
    return None


def load_yaml(text: str):
    """``yaml.safe_load(text)`` within the bounds above: ``yaml.YAMLError`` if it is not valid
    YAML, ValueError if it is over them."""
    loader = _bounded_loader()(text)
    try:
        return loader.get_single_data()
    except RecursionError:  # not reached within MAX_DEPTH; kept as a last guard
        raise ValueError(f"nested over {MAX_DEPTH} levels deep") from None
    except ValueError as error:  # the bounds, or a number of over 4,300 digits
        raise ValueError(str(error).split(";")[0]) from None
    finally:
        loader.dispose()


@lru_cache(maxsize=None)
def _bounded_loader():
    """PyYAML's safe loader, counting as it composes: nesting depth, and how many values the
    document holds with its aliases expanded (an alias counts what it stands for)."""
    import yaml  # only files that start with "---" need it

    class BoundedLoader(yaml.SafeLoader):
        def __init__(self, stream):
            super().__init__(stream)
            self.depth = 0
            self.values = {}  # id(node) -> values it stands for, aliases expanded

        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                return super().compose_node(parent, index)  # counted where it is used
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ValueError(f"nested over {MAX_DEPTH} levels deep")
            try:
                node = super().compose_node(parent, index)
            finally:
                self.depth -= 1
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            elif isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            else:
                children = ()
            count = 1 + sum(self.values.get(id(child), 1) for child in children)
            if count > MAX_YAML_VALUES:
                raise ValueError(f"over {MAX_YAML_VALUES:,} values with its aliases expanded")
            self.values[id(node)] = count
            return node

        def construct_yaml_timestamp(self, node):
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:  # "2020-13-45": a bad value, not a bad document
                return self.construct_scalar(node)

    BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                  BoundedLoader.construct_yaml_timestamp)
    return BoundedLoader


def brief(value) -> str:
    """``value`` as a warning may quote it: text and numbers as repr, cut to ~60 characters; a
    list or a mapping by its kind only (it may be huge, or nested without end)."""
    if isinstance(value, (list, tuple)):
        return "(a list)"
    if isinstance(value, dict):
        return "(a mapping)"
    if isinstance(value, str) and len(value) > _BRIEF_CHARS:
        return repr(value[:_BRIEF_CHARS]) + "…"
    shown = repr(value)
    return shown if len(shown) <= _BRIEF_CHARS + 2 else shown[:_BRIEF_CHARS] + "…"
