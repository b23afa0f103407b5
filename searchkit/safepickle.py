"""Unpickling what an index folder holds through an allow-list: opening, searching, checking
or writing an index runs no code from its files.

Whoosh keeps parts of an index as pickles, and a pickle may name any function for the reader
to call: an index folder from someone else (a shared drive, an archive) could run anything
when opened. Every pickle searchkit reads from an index goes through ``Unpickler``, which
resolves only the names of ``allowed()`` (exactly what a searchkit index holds) and refuses any
other with IndexDamagedError(UNSAFE).

Where Whoosh unpickles index data, and how each place is covered:

* the table of contents (schema, segment list): ``whoosh.index.TOC.read`` is not used;
  ``durable.read_toc`` parses the TOC with ``load``/``loads`` and checks what it holds;
* names Whoosh looks up when it reads a segment, rebound by ``install()`` (Whoosh offers no
  hook for them): ``whoosh.filedb.structfile.load_pickle`` (``StructFile.read_pickle``: posting
  block info, column block headers, the term table's header), ``whoosh.codec.whoosh3.loads``
  (posting block data, postings inlined in the term table), ``whoosh.formats.loads`` (the
  positions phrase queries read), ``whoosh.columns.loads`` (stored fields).

Unreachable from a searchkit index (``durable.read_toc`` admits only W3 segments, never
compound ones): the W2 and plain-text codecs, compound files, FST graphs, Whoosh 1.x's file
reader and TOC loaders. Whoosh's parallel writer pickles its jobs into its own scratch
folder, from the process that writes them.

``install()`` acts on the whole process: a program that also reads other Whoosh indexes with
its own classes in stored fields gets them refused while searchkit is imported.
"""

import io
import pickle
import re
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from datetime import datetime
from typing import Callable, Dict, Tuple

from .errors import IndexDamagedError

UNSAFE = ("this index holds objects searchkit does not write; it is damaged or not from "
          "searchkit")


def _compiled(pattern, flags=0):
    """``re._compile`` as a pickled compiled expression uses it (a tokenizer's)."""
    if type(pattern) is not str or type(flags) is not int:
        raise IndexDamagedError(UNSAFE)
    return re.compile(pattern, flags)


def _allowed() -> Dict[Tuple[str, str], Callable]:
    from collections import defaultdict

    from whoosh.analysis.analyzers import CompositeAnalyzer
    from whoosh.analysis.filters import LowercaseFilter
    from whoosh.analysis.morph import StemFilter
    from whoosh.analysis.tokenizers import IDTokenizer, RegexTokenizer
    from whoosh.codec.whoosh3 import W3Codec, W3Segment
    from whoosh.columns import NumericColumn, VarBytesColumn
    from whoosh.fields import DATETIME, ID, NUMERIC, STORED, Schema
    from whoosh.formats import Existence, Positions

    from .analysis import FoldStopFilter, snowball_stem
    from .textfield import WordCachingText

    names = [
        # the schema (schema.make_schema)
        Schema, ID, NUMERIC, DATETIME, STORED, WordCachingText, Existence, Positions,
        NumericColumn, VarBytesColumn, CompositeAnalyzer, RegexTokenizer, IDTokenizer,
        LowercaseFilter, FoldStopFilter, StemFilter, snowball_stem, frozenset, int,
        # the segment list
        W3Segment, W3Codec, defaultdict,
        # stored fields (dates)
        datetime,
    ]
    allowed = {(thing.__module__, thing.__qualname__): thing for thing in names}
    # Protocol 2 pickles bytes as _codecs.encode(text, "latin1"), hundreds in a posting block:
    # str.encode (C) stands in for it, as a check in Python would slow every search; it only
    # encodes text, with a text codec of the standard library's.
    allowed[("_codecs", "encode")] = str.encode
    allowed[("re", "_compile")] = _compiled
    return allowed


_ALLOWED: Dict[Tuple[str, str], Callable] = {}


def allowed() -> Dict[Tuple[str, str], Callable]:
    """(module, name) -> what a pickle naming it gets (made on first use: it imports Whoosh)."""
    if not _ALLOWED:
        _ALLOWED.update(_allowed())
    return _ALLOWED


class Unpickler(pickle.Unpickler):
    """Resolves only the names ``allowed()``; anything else is IndexDamagedError(UNSAFE)."""

    def find_class(self, module, name):
        # Protocol 2 pickles name Python 2's modules (``__builtin__.long``): map them as
        # pickle does (no Python 3 module has those names).
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        try:
            return allowed()[(module, name)]
        except (KeyError, TypeError):
            raise IndexDamagedError(UNSAFE) from None

    def persistent_load(self, pid):  # Whoosh never writes persistent ids
        raise IndexDamagedError(UNSAFE)


def load(file, **_options):
    """``pickle.load`` through the allow-list."""
    return Unpickler(file).load()


# A protocol 2 pickle of a list of ints and nothing else (Whoosh's position lists, most of what
# a phrase query unpickles): the whole byte string, opcode by opcode, with each argument's
# length. Such a pickle names no function, so pickle.loads reads it, faster than Unpickler.
_INT = rb"(?:K.|M..|J....)"  # BININT1, BININT2, BININT
_INT_LIST = re.compile(rb"\x80\x02\](?:q.|r....)?(?:\(" + _INT + rb"+e|" + _INT + rb"a)*\.",
                       re.DOTALL)


def loads(data, **_options):
    """``pickle.loads`` through the allow-list."""
    if _INT_LIST.fullmatch(data):
        return pickle.loads(data)
    # A buffered reader lets the unpickler look ahead (peek) and parse from memory instead of
    # asking the stream for every opcode (three times slower on a posting block).
    return Unpickler(io.BufferedReader(io.BytesIO(data))).load()


# (module, name) of each name Whoosh calls to unpickle a segment's data, and what it becomes.
PATCHED = {
    ("whoosh.filedb.structfile", "load_pickle"): load,
    ("whoosh.codec.whoosh3", "loads"): loads,
    ("whoosh.formats", "loads"): loads,
    ("whoosh.columns", "loads"): loads,
}


def install() -> None:
    """Make Whoosh unpickle segment data through the allow-list (idempotent)."""
    import importlib

    for (module, name), function in PATCHED.items():
        setattr(importlib.import_module(module), name, function)
