"""Bytes of a file -> text, by fixed rules, saying which encoding was used and how it was decided.

The rules, in order (the first that applies decides):

1. **Forced.** ``--encoding`` (``ReadOptions.encoding``) names the encoding: the file is decoded
   with it, strictly (a byte it cannot decode skips the file, saying so); a BOM of that
   encoding is dropped.
2. **Known binary formats** (PNG, JPEG, GIF, PDF, ZIP/DOCX/EPUB, gzip, bzip2, xz, 7z, zstd, ELF,
   OLE2/DOC, SQLite, TIFF, OGG, RIFF, MP3, MP4): skipped by their signature, even if forced.
3. **Byte order mark**: UTF-32 LE/BE, UTF-8, UTF-16 LE/BE (UTF-32 first, since its LE mark
   starts like UTF-16's).
4. **NUL bytes.** Text in UTF-16 without a BOM has NUL bytes at odd positions only (LE: the high
   byte of ASCII characters) or even positions only (BE). If the NULs (in the first 64 KB) sit
   at one parity only (at most 1% at the other), the file is decoded as UTF-16 LE or BE and
   kept if the result is text (98% printable characters, no NUL). Any other NUL byte: a binary
   file, skipped.
5. **UTF-8**, strictly; or UTF-8 with some stray bytes (at least two well-formed multi-byte
   characters per byte that is not UTF-8: text pasted together from two sources), the stray
   bytes read as cp1252, with a warning.
6. **Declared in an HTML page** (``<meta charset=...>`` or ``http-equiv`` content type in the
   first 4 KB), if it decodes the page.
7. **Guessed.** charset-normalizer proposes encodings (each with the encodings that give the
   same text); cp1252, cp1251 and cp1250 (the single-byte encodings of Western, Cyrillic and
   Central European news) are always considered too. Each candidate's text is scored by letter
   statistics: oddities such as a word mixing scripts (``cafй``), a word of four or more
   accented Latin letters and nothing else (``Ïðèâåò``), a symbol inside a word (``Za¿ó³æ``), a
   capital after a small letter inside a non-ASCII word (``пРЕЗИДЕНТ``: KOI8-R read as cp1251),
   a C1 control character, or an East Asian sign stuck to ASCII letters or digits
   (``｣15.8m``). A candidate whose text is under 98% printable is out. The fewest oddities
   win. On a tie, when the text holds at least 200 non-ASCII bytes, charset-normalizer's
   order decides; with less evidence (a short file, or a long one with a few accents) detectors
   guess wrong (measured: a BBC file in Latin-1 whose one ``£`` made charset-normalizer say
   Shift-JIS; short French and German text called cp1250), so cp1252 is preferred, then cp1251,
   then cp1250, then charset-normalizer's order. ``how`` records the guess; with little evidence
   or when charset-normalizer disagreed, a warning says to check it and give ``--encoding``.
   Nothing fits: the file is skipped.

cp1252 is reported for Western text rather than Latin-1: the two give the same letters, and
cp1252 also decodes the typographic quotes and dashes that Latin-1 turns into control characters.
"""

import codecs
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Tuple

from ..errors import CorpusError

_BOMS = (  # UTF-32 before UTF-16: b"\xff\xfe\x00\x00" starts with UTF-16 LE's mark
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document; extract its text first"),
    (b"PK\x03\x04", "a ZIP archive (or DOCX, EPUB, ODT)"),
    (b"\x1f\x8b", "gzip-compressed; decompress it first"),
    (b"\xfd7zXZ\x00", "xz-compressed; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed; decompress it first"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (DOC, XLS)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"OggS", "an Ogg media file"),
)
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")
_RIFF = re.compile(rb"RIFF....(WAVE|WEBP|AVI )", re.S)
_MP4 = re.compile(rb"\x00\x00..ftyp", re.S)  # a big-endian box size, then the box type
_MP3 = re.compile(rb"ID3[\x02-\x04]\x00")

_NUL_SAMPLE = 64 * 1024
_DETECT_SAMPLE = 256 * 1024  # bytes of a large file's head the encoding is guessed from
_NON_ASCII_WORD = re.compile(rb"[^\s\x80-\xff]{0,40}[\x80-\xff][^\s]{0,40}")
_ASCII_BYTES = bytes(range(128))
_ENOUGH_EVIDENCE = 200  # non-ASCII bytes from which charset-normalizer's order is trusted
_ALWAYS_CONSIDERED = ("cp1252", "cp1251", "cp1250")  # also the preference order on little evidence
_HTML_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I
)

# Names for encodings as they are reported (charset-normalizer uses Python's codec names).
_DISPLAY = {"latin_1": "latin-1", "iso8859_1": "latin-1", "utf_8": "utf-8"}


@dataclass(frozen=True)
class Decoded:
    """A file's text and how it was decoded."""

    text: str
    encoding: str  # e.g. "utf-8", "utf-16-le", "cp1251"
    how: str  # e.g. "bom", "utf-8", "guessed by charset-normalizer (cp1251, ...)"
    warnings: List[str] = field(default_factory=list)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> Tuple[str, int]:
    """``text`` with lone surrogates replaced by U+FFFD, and how many there were.

    Decoding bytes never makes them, but a JSON or YAML escape can (``"\\ud800"`` without its
    pair): such a string is not text, and printing or writing it as UTF-8 fails."""
    return _SURROGATE.subn("\ufffd", text)


def surrogates_replaced(count: int) -> str:
    """The warning for ``count`` lone surrogates replaced."""
    return (f"{count} lone surrogate{'s' if count > 1 else ''} (a \\ud800-style escape without "
            "its pair) replaced by U+FFFD")


# A line and its end, at the line ends str.splitlines() knows ("\r\n" is one).
_LINE = re.compile("([^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*)"
                   "(?:\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029])?")


def lines(text: str, start: int = 0) -> Iterator[Tuple[str, int]]:
    """The lines of ``text`` from offset ``start``, as ``str.splitlines()`` gives them, one at
    a time, each with the offset where the next begins: a file of millions of short lines is
    not held as millions of strings at once."""
    end = len(text)
    while start < end:
        line = _LINE.match(text, start)
        start = line.end()
        yield line.group(1), start


# A text of up to this many characters is split into lines at once (str.splitlines is many
# times faster than matching line after line); a longer one a line at a time.
_SPLIT_AT_ONCE = 1 << 20


def line_texts(text: str) -> Iterable[str]:
    """The lines of ``text`` as ``str.splitlines()`` gives them, without their offsets: all at
    once for a text of up to _SPLIT_AT_ONCE characters, one at a time (``lines``) for a
    longer one, which may hold millions."""
    if len(text) <= _SPLIT_AT_ONCE:
        return text.splitlines()
    return (line for line, _ in lines(text))


def check_encoding_name(name: str) -> str:
    """The codec's canonical name; CorpusError if Python does not know it."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise CorpusError(
            f"unknown encoding {name!r}; give one Python knows, e.g. utf-8, cp1252, cp1251, "
            "latin-1, utf-16"
        ) from None


def binary_signature(data: bytes) -> Optional[str]:
    """What a known binary format's signature says the file is, else None."""
    for magic, what in _SIGNATURES:
        if data.startswith(magic):
            return what
    if _BZIP2.match(data):
        return "bzip2-compressed; decompress it first"
    if _RIFF.match(data):
        return "a RIFF media file"
    if _MP4.match(data):
        return "an MP4 media file"
    if _MP3.match(data):
        return "an MP3 file"
    return None


def _fail(encoding: str, data: bytes, error: UnicodeDecodeError, what: str) -> CorpusError:
    return CorpusError(
        f"{what} {encoding}: byte 0x{data[error.start]:02x} at offset {error.start} cannot be "
        "decoded; give the file's encoding with --encoding, or save it as UTF-8"
    )


# ASCII's printable characters and whitespace (str.isprintable() or str.isspace()), as bytes
_GOOD_ASCII = bytes(b for b in range(128) if chr(b).isprintable() or chr(b).isspace())


def _printable_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    if sample.isascii():  # most files: the bad bytes counted without a Counter
        return 1 - len(sample.encode("ascii").translate(None, _GOOD_ASCII)) / len(sample)
    # Each distinct character judged once: a text repeats few characters many times.
    good = sum(n for c, n in Counter(sample).items() if c.isprintable() or c.isspace())
    return good / len(sample)


def _utf16_without_bom(data: bytes) -> Optional[str]:
    """"utf-16-le" / "utf-16-be" if the NUL bytes sit at one parity only, else None."""
    sample = data[:_NUL_SAMPLE]
    odd = sample[1::2].count(0)
    even = sample[0::2].count(0)
    if odd and even <= odd // 100:
        return "utf-16-le"
    if even and odd <= even // 100:
        return "utf-16-be"
    return None


def declared_html_charset(data: bytes) -> Optional[str]:
    """The charset an HTML page declares in its first 4 KB, if Python knows it."""
    match = _HTML_CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None


def decode(data: bytes, forced: Optional[str] = None, html: bool = False) -> Decoded:
    """``data`` as text by the rules in this module's docstring; CorpusError if it is not text.
    ``html``: the bytes are an HTML page (its declared charset counts)."""
    what = binary_signature(data)
    if what:
        raise CorpusError(f"binary file ({what}), not text")
    if forced:
        return _forced(data, forced)

    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError as error:
                raise CorpusError(
                    f"starts with a {name} byte order mark but is not {name} (offset "
                    f"{error.start + len(bom)}); give its encoding with --encoding"
                ) from None
            return Decoded(text, encoding, f"byte order mark ({name})")

    if b"\x00" in data:
        encoding = _utf16_without_bom(data)
        if encoding:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                text = None
            if text is not None and "\x00" not in text and _printable_share(text) >= 0.98:
                return Decoded(text, encoding, "utf-16 without BOM (NUL pattern)")
        raise CorpusError("binary file (it contains NUL bytes), not text")

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if _printable_share(text) < 0.9:
            raise CorpusError("binary file (mostly control characters), not text")
        return Decoded(text, "utf-8", "utf-8")
    mostly = _mostly_utf8(data)
    if mostly:
        return mostly

    if html:
        declared = declared_html_charset(data)
        if declared and declared != "utf-8":
            try:
                return Decoded(data.decode(declared), declared, "declared in the page (<meta>)")
            except UnicodeDecodeError:
                pass
    return _guess(data)


def _cp1252_bytes(error: UnicodeDecodeError):
    """Decoding error handler: bytes that are not UTF-8 read as cp1252 (Latin-1 where cp1252
    has no character)."""
    bad = error.object[error.start:error.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


codecs.register_error("searchkit-cp1252", _cp1252_bytes)


def _mostly_utf8(data: bytes) -> Optional[Decoded]:
    """UTF-8 with a few stray bytes (text pasted together from a UTF-8 and a cp1252 source):
    at least two well-formed multi-byte characters for each byte that is not UTF-8 (legacy
    text hardly ever holds even one: a cp1252 or cp1251 letter is seldom followed by the
    continuation bytes UTF-8 needs)."""
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    stray = replaced - data.count("\ufffd".encode("utf-8"))
    ascii_bytes = len(data) - len(data.translate(None, _ASCII_BYTES))
    wide = len(text) - ascii_bytes - replaced  # well-formed non-ASCII characters
    if stray <= 0 or wide < 2 * stray:
        return None
    text = data.decode("utf-8", errors="searchkit-cp1252")
    bytes_ = "1 byte" if stray == 1 else f"{stray} bytes"
    return Decoded(text, "utf-8", f"utf-8 with {bytes_} not UTF-8 read as cp1252", [
        f"{bytes_} not UTF-8 in a UTF-8 file read as cp1252; check them, or give the encoding "
        "with --encoding"
    ])


def _forced(data: bytes, encoding: str) -> Decoded:
    encoding = check_encoding_name(encoding)
    if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        raise _fail(encoding, data, error, "not") from None
    if "\x00" in text:
        raise CorpusError(
            f"decoded as {encoding} (forced) it holds NUL characters: a binary file or another "
            "encoding; check --encoding"
        )
    warnings = []
    if encoding not in ("utf-8", "utf-8-sig") and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:  # UTF-8 read as cp1252 and the like: "é" becomes "Ã©"
            warnings.append(f"this file is valid UTF-8, but --encoding {encoding} reads its "
                            "non-ASCII letters as other characters (mojibake); index it "
                            "without --encoding")
    return Decoded(text.lstrip("\ufeff"), encoding, "forced (--encoding)", warnings)


# ---- guessing ---------------------------------------------------------------------------------

_EAST_ASIAN = ("CJK", "HIRAGANA", "KATAKANA", "HALFWIDTH", "HANGUL", "FULLWIDTH", "IDEOGRAPHIC")
_WORD_INNER_OK = set("'’‘-‐‑·")


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


_NON_ASCII_TOKEN = re.compile(r"\S*[^\x00-\x7f]\S*")
_LETTERS = re.compile(r"[^\W\d_]{3,}")
_TOKENS_SCORED = 5000  # enough to tell encodings apart; bounds the time on a large sample


def _oddities(text: str) -> int:
    """How many signs of a wrong decoding ``text`` shows (see the module docstring), counted in
    its first few thousand whitespace-separated tokens holding a non-ASCII character."""
    odd = 0
    for n, match in enumerate(_NON_ASCII_TOKEN.finditer(text)):
        if n == _TOKENS_SCORED:
            break
        odd += _token_oddities(match.group(0))
    return odd


def _token_oddities(token: str) -> int:
    odd = 0
    for word in _LETTERS.findall(token):
        if len(word) >= 4 and all(ord(c) > 127 and _script(c) == "LATIN" for c in word):
            odd += 1  # "Ïðèâåò": a Latin word of accented letters only
        if not word.isascii() and any(a.islower() and b.isupper() for a, b in zip(word, word[1:])):
            odd += 1  # "пРЕЗИДЕНТ": lower case then capitals inside a word (KOI8-R as cp1251)
    last = len(token) - 1
    for i, char in enumerate(token):
        if ord(char) < 128:
            continue
        if unicodedata.category(char) == "Cc":
            odd += 2  # a C1 control character
            continue
        before = token[i - 1] if i else " "
        after = token[i + 1] if i < last else " "
        script = _script(char)
        if char.isalpha():
            if script != "LATIN" and any(c.isascii() and c.isalpha() for c in (before, after)):
                odd += 1  # "cafй": a word mixing scripts
            elif script != "LATIN" and any(
                c.isalpha() and not c.isascii() and _script(c) not in (script, "LATIN")
                for c in (before, after)
            ):
                odd += 1  # two non-Latin scripts in one word
        elif char not in _WORD_INNER_OK and before.isalpha() and after.isalpha():
            odd += 1  # "Za¿ó³æ": a symbol inside a word
        if script.startswith(_EAST_ASIAN) and any(
            c.isascii() and c.isalnum() for c in (before, after)
        ):
            odd += 1  # "｣15.8m": an East Asian sign stuck to ASCII letters or digits
    return odd


def _sample(data: bytes) -> bytes:
    """What the detector and the letter statistics look at: the head of the file (cut after a
    space or line end), then the non-ASCII words of the rest, up to twice _DETECT_SAMPLE."""
    if len(data) <= 2 * _DETECT_SAMPLE:
        return data
    head = data[:_DETECT_SAMPLE]
    cut = max(head.rfind(b"\n"), head.rfind(b" "))
    head = head[: cut + 1] if cut > 0 else head
    words, size = [], 0
    for match in _NON_ASCII_WORD.finditer(data, len(head)):
        words.append(match.group(0))
        size += len(match.group(0)) + 1
        if size > _DETECT_SAMPLE:
            break
    return head + b" ".join(words)


def _display(encoding: str) -> str:
    return _DISPLAY.get(encoding, encoding.replace("_", "-"))


def _guess(data: bytes) -> Decoded:
    from charset_normalizer import from_bytes  # imported only when a file is not UTF-8

    sample = _sample(data)
    evidence = len(data.translate(None, _ASCII_BYTES))  # non-ASCII bytes in the whole file
    matches = list(from_bytes(sample))
    scored = _scored(sample, _candidates(matches), evidence)
    if not scored:
        raise CorpusError(
            "not text: not UTF-8 and no encoding fits it; if it is text, give its encoding with "
            "--encoding"
        )
    best, text = _decoding_all(data, scored)
    how, warnings = _how_guessed(best, matches, evidence)
    return Decoded(text, _display(best), how, warnings)


def _candidates(matches) -> List[Tuple[str, int]]:
    """(encoding, detector rank) of each encoding the detector named, then those always
    considered."""
    candidates = []
    for rank, match in enumerate(matches):
        for encoding in [match.encoding] + list(match.could_be_from_charset):
            candidates.append((encoding, rank))
    for encoding in _ALWAYS_CONSIDERED:
        candidates.append((encoding, len(matches)))
    return candidates


def _scored(sample: bytes, candidates, evidence: int) -> dict:
    """Encoding -> sort key (fewest oddities first) of the candidates that decode ``sample``
    into printable text; with little evidence, common encodings before the detector's rank."""
    scored = {}
    for encoding, rank in candidates:
        name = codecs.lookup(encoding).name
        if name in scored:
            continue
        try:
            text = sample.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        if _printable_share(text) < 0.98:
            continue  # control characters: not text in this encoding
        common = _ALWAYS_CONSIDERED
        preference = common.index(name) if name in common else len(common)
        order = (rank, preference) if evidence >= _ENOUGH_EVIDENCE else (preference, rank)
        scored[name] = (_oddities(text),) + order
    return scored


def _decoding_all(data: bytes, scored: dict) -> Tuple[str, str]:
    """(encoding, text) of the best scored encoding that decodes the whole file."""
    for best in sorted(scored, key=scored.get):
        try:
            return best, data.decode(best)
        except UnicodeDecodeError:
            continue
    raise CorpusError(
        "not text: not UTF-8 and none of the encodings guessed decodes it all; if it is "
        "text, give its encoding with --encoding"
    )


def _how_guessed(best: str, matches, evidence: int) -> Tuple[str, List[str]]:
    """How ``best`` was found, and a warning when the guess is weak or the detector's differs."""
    detector_pick = matches[0].encoding if matches else None
    detector = codecs.lookup(detector_pick).name if detector_pick else None
    said = f"charset-normalizer said {_display(detector)}" if detector else (
        "charset-normalizer had no guess"
    )
    same_text = detector and any(
        codecs.lookup(e).name == best
        for e in [matches[0].encoding] + list(matches[0].could_be_from_charset)
    )
    non_ascii = f"{evidence} non-ASCII byte" + ("" if evidence == 1 else "s")
    if same_text:
        how = f"guessed by charset-normalizer ({_display(best)}, {non_ascii})"
        said = ""
    else:
        how = f"guessed by letter statistics ({_display(best)}, {non_ascii}; {said})"
        said = f" ({said})"
    warnings = []
    if evidence < _ENOUGH_EVIDENCE or not same_text:
        warnings.append(
            f"encoding guessed as {_display(best)} from {non_ascii}{said}; "
            "if its text looks wrong, give the encoding with --encoding"
        )
    return how, warnings
