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
reader and TOC loaders.

``install()`` acts on the whole process: a program that also reads other Whoosh indexes with
its own classes in stored fields gets them refused while searchkit is imported.
"""

import io
import pickle
import re
import zlib
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from datetime import datetime
from typing import Callable, Dict, Tuple

from ..errors import IndexDamagedError

UNSAFE = ("this index holds objects searchkit does not write; it is damaged or not from "
          "searchkit")


def _compiled(pattern, flags=0):
    """``re._compile`` as a pickled compiled expression uses it (a tokenizer's)."""
    if type(pattern) is not str or type(flags) is not int:
        raise IndexDamagedError(UNSAFE)
    return re.compile(pattern, flags)


# Everything a searchkit index's pickles may name, as (module, qualified name): its schema's
# field, format, column and analysis classes, W3 segments, dates (the stored fields'), and the
# helpers protocol 2 and compiled expressions need. ``allowed()`` resolves them; ``scan``
# checks a pickle against them without importing anything.
ALLOWED_NAMES = frozenset({
    ("whoosh.fields", "Schema"), ("whoosh.fields", "ID"), ("whoosh.fields", "NUMERIC"),
    ("whoosh.fields", "DATETIME"), ("whoosh.fields", "STORED"),
    ("searchkit.index.textfield", "WordCachingText"),
    ("whoosh.formats", "Existence"), ("whoosh.formats", "Positions"),
    ("whoosh.columns", "NumericColumn"), ("whoosh.columns", "VarBytesColumn"),
    ("whoosh.analysis.analyzers", "CompositeAnalyzer"),
    ("whoosh.analysis.tokenizers", "RegexTokenizer"),
    ("whoosh.analysis.tokenizers", "IDTokenizer"),
    ("whoosh.analysis.filters", "LowercaseFilter"), ("whoosh.analysis.morph", "StemFilter"),
    ("searchkit.index.analysis", "FoldStopFilter"), ("searchkit.index.analysis", "snowball_stem"),
    ("builtins", "frozenset"), ("builtins", "int"),
    ("whoosh.codec.whoosh3", "W3Segment"), ("whoosh.codec.whoosh3", "W3Codec"),
    ("collections", "defaultdict"), ("datetime", "datetime"),
    ("_codecs", "encode"), ("re", "_compile"),
})


def _allowed() -> Dict[Tuple[str, str], Callable]:
    import importlib

    allowed = {}
    for module, name in ALLOWED_NAMES:
        thing = importlib.import_module(module)
        for part in name.split("."):
            thing = getattr(thing, part)
        allowed[(module, name)] = thing
    # Protocol 2 pickles bytes as _codecs.encode(text, "latin1"), hundreds in a posting block:
    # str.encode (C) stands in for it, as a check in Python would slow every search; it only
    # encodes text, with a text codec of the standard library's.
    allowed[("_codecs", "encode")] = str.encode
    allowed[("re", "_compile")] = _compiled
    return allowed


def scan(data: bytes) -> None:
    """IndexDamagedError(UNSAFE) unless every name the pickle ``data`` would look up is one a
    searchkit index holds: the check of a pickle that is not to be loaded (no import, no call).

    A name is looked up by GLOBAL (its argument) or STACK_GLOBAL (the two strings on top of
    the stack). ``pushed`` follows what each opcode leaves on top, as far as it is a string
    pushed or fetched from the memo; anything else is None, so a STACK_GLOBAL is let through
    only when the two strings beneath it are known, and then they are those it takes."""
    import pickletools

    pushed, memo = [], {}
    try:
        for opcode, argument, _position in pickletools.genops(data):
            name = opcode.name
            if name == "MEMOIZE":
                memo[len(memo)] = pushed[-1] if pushed else None
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[argument] = pushed[-1] if pushed else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                pushed.append(memo.get(argument))
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, qualified = argument.partition(" ")
                else:
                    module, qualified = pushed[-2:] if len(pushed) >= 2 else (None, None)
                if not isinstance(module, str) or not isinstance(qualified, str):
                    raise IndexDamagedError(UNSAFE)
                found = (module, qualified)
                if found in NAME_MAPPING:
                    found = NAME_MAPPING[found]
                elif module in IMPORT_MAPPING:
                    found = (IMPORT_MAPPING[module], qualified)
                if found not in ALLOWED_NAMES and found not in _ALLOWED:
                    raise IndexDamagedError(UNSAFE)
                pushed.append(None)
            elif name in ("INST", "OBJ", "EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID"):
                raise IndexDamagedError(UNSAFE)
            else:
                pushed.append(argument if isinstance(argument, str) else None)
    except IndexDamagedError:
        raise
    except Exception:  # not a pickle: damaged
        raise IndexDamagedError(UNSAFE) from None


def scan_toc(data: bytes) -> None:
    """``scan`` the two pickles of a table of contents (whoosh.index.TOC.write's layout: three
    varints, two ints, three varints, the schema as a string, two ints, the segment list)."""
    stream = io.BytesIO(data)

    def varint():
        value, shift = 0, 0
        while True:
            byte = stream.read(1)
            if not byte or shift > 63:
                raise IndexDamagedError(UNSAFE)
            value |= (byte[0] & 0x7F) << shift
            shift += 7
            if not byte[0] & 0x80:
                return value

    for _ in range(3):
        varint()
    stream.read(8)  # a check number and the format version
    for _ in range(3):
        varint()
    schema = stream.read(varint())
    stream.read(8)  # the generation and an unused int
    scan(schema)
    scan(stream.read())


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
    # asking the stream for every opcode.
    return Unpickler(io.BufferedReader(io.BytesIO(data))).load()


# What stored fields hold besides text and numbers: dates (and bytes, as protocol 2 writes them).
_PLAIN = {("datetime", "datetime"): datetime, ("_codecs", "encode"): str.encode}


class PlainUnpickler(Unpickler):
    """Resolves only the names plain stored values need; imports no Whoosh."""

    def find_class(self, module, name):
        try:
            return _PLAIN[(module, name)]
        except (KeyError, TypeError):
            raise IndexDamagedError(UNSAFE) from None


def loads_plain(data):
    """``pickle.loads`` of plain values (a document's stored fields) through the allow-list."""
    return PlainUnpickler(io.BufferedReader(io.BytesIO(data))).load()


# What a compressed part of an index (a posting block, a stored document) may inflate to: a
# hostile one may inflate without end.
INFLATED_MOST = 1 << 26
INFLATES_TOO_FAR = (f"a compressed part of this index inflates past {INFLATED_MOST >> 20} MB; "
                    "it is damaged or not from searchkit")


def inflate(data, most: int = INFLATED_MOST) -> bytes:
    """``zlib.decompress`` of data from an index, at most ``most`` bytes of it
    (IndexDamagedError beyond; zlib.error if it is no zlib stream)."""
    inflating = zlib.decompressobj()
    found = inflating.decompress(data, most)
    if inflating.unconsumed_tail:
        raise IndexDamagedError(INFLATES_TOO_FAR)
    if not inflating.eof:
        raise zlib.error("incomplete or truncated stream")
    return found


class _BoundedZlib:
    """zlib as Whoosh's W3 codec uses it, its posting blocks inflated through ``inflate``."""

    compress = staticmethod(zlib.compress)
    decompress = staticmethod(inflate)
    error = zlib.error


# (module, name) of each name Whoosh calls to unpickle a segment's data (and of the zlib its W3
# codec inflates posting blocks with), and what it becomes.
PATCHED = {
    ("whoosh.codec.whoosh3", "zlib"): _BoundedZlib,
    ("whoosh.filedb.structfile", "load_pickle"): load,
    ("whoosh.codec.whoosh3", "loads"): loads,
    ("whoosh.formats", "loads"): loads,
    ("whoosh.columns", "loads"): loads,
}


def install() -> None:
    """Make Whoosh unpickle segment data through the allow-list, and inflate its posting
    blocks within bounds (idempotent)."""
    import importlib

    for (module, name), function in PATCHED.items():
        setattr(importlib.import_module(module), name, function)
