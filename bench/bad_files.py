"""What searchkit does with each kind of real-world and hostile input file: the bad-file table.

    python bench/bad_files.py [--big-mb N] [--no-index]

Writes one file of each kind into a temporary folder, each in a folder of its own: encodings
with and without a byte order mark, short and long legacy-encoded files, binary files, empty
files, an oversize file, a name that is not valid UTF-8, an unreadable file and folder, a
broken link, an HTML page, JSON lines with a bad line, Markdown with front matter; and the
hostile inputs of issue 12: a YAML alias bomb and YAML nested 5,000 deep in front matter, a
JSON line nested 2,000 deep, a one-line file of N MB (default 50; also with one emoji in it,
which makes Python hold its text at 4 bytes a character), a file of 5,000,000 one-letter
lines, HTML nested 10,000 deep, unclosed HTML, a page of 600,000 tags, a symbolic link to a
file outside the folder, control characters in a title and a paragraph, a lone surrogate in a
JSON line.

Each file is read with ``read_corpus`` in a fresh process, and (unless --no-index) indexed with
``build_index`` in another, so that each row's peak memory (VmHWM) is its own. One row
per file: how it was decoded (encoding and how that was decided) and what it gave (articles,
paragraphs, passages from split paragraphs), or the reason it was skipped; the seconds and
peak MB of reading and of indexing. The first row is the floor: a process that imports what
reading (indexing) imports and reads nothing. The oversize file is checked against a 1 MB limit
(the default is 64 MB, which the big file stays under).

Run as root, chmod 000 does not stop reading: the processes reading the unreadable file and
folder switch to user ``nobody`` first.
"""

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from searchkit.ingest.corpus import ReadOptions, find_files, read_corpus  # noqa: E402
from searchkit.errors import CorpusError  # noqa: E402
from searchkit.model import INDEXED_KINDS  # noqa: E402
from searchkit.cli.render import printable  # noqa: E402

STORY = (
    "Council meets in Minsk\n\n"
    "The council met on Tuesday to discuss the crisis, and its members agreed on a statement "
    "read by Maria Kolesnikova.\n\n"
    "Lithuania welcomed the statement; Poland asked for more.\n"
)
RUSSIAN = (
    "Протесты в Минске\n\n"
    "Президент Беларуси Александр Лукашенко заявил, что оппозиция не получит власть. "
    "Протесты продолжаются в Минске уже вторую неделю, сообщают журналисты.\n"
)
FRENCH = (
    "Le président s’exprime à Paris\n\n"
    "Le président a déclaré mercredi que « la situation était très préoccupante » et qu’il "
    "fallait agir vite. Les élèves ont été évacués — une décision « prudente ».\n"
)
HTML = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>EU leaders urge Putin to push for talks | The Daily Example</title>
<meta property="og:site_name" content="The Daily Example">
<meta property="article:published_time" content="2020-08-18T10:31:00+03:00">
<link rel="canonical" href="https://news.example.com/world/eu-leaders-urge-putin"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/subscribe">Subscribe</a></nav>
<article><h1>EU leaders urge Putin to push for talks</h1>
<p>European leaders on Tuesday urged Russian President Vladimir Putin to encourage dialogue
between the Belarusian authorities and the opposition.</p>
<p>Last year, on 2019-08-09, a similar march took place in Minsk.</p>
<p>The Kremlin said outside interference in the affairs of Belarus was unacceptable.</p>
</article><footer>Copyright 2020 The Daily Example. Privacy policy.</footer></body></html>
"""
FRONT_MATTER = """---
title: EU leaders urge Putin to push for talks
source: The Moscow Times
date: 2020-08-18
url: https://www.themoscowtimes.com/2020/08/18/eu-leaders-a71180
---
European leaders on Tuesday urged Putin to push for talks in Belarus.
"""


def one_line(megabytes: int) -> bytes:
    rng = random.Random(1)
    words = STORY.split()
    sentences, size = [], 0
    while size < megabytes * 1_000_000:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))) + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    return " ".join(sentences).encode() + b"\n"


def billion_laughs() -> bytes:
    """Front matter whose title stands for 9**9 "lol"s through nine levels of YAML aliases."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for before, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    return ("---\n" + "\n".join(lines) + "\ntitle: *i\n---\n" + STORY).encode()


def write_files(folder: Path, big_mb: int):
    """(kind, path) for every file written; each file in a folder of its own."""
    kinds = []

    def put(kind, name, data):
        place = folder / f"{len(kinds):02d}"
        place.mkdir()
        path = place / name if isinstance(name, str) else Path(
            os.fsdecode(os.path.join(os.fsencode(str(place)), name))
        )
        path.parent.mkdir(exist_ok=True)
        with open(os.fsencode(str(path)), "wb") as handle:
            handle.write(data)
        kinds.append((kind, path))
        return path

    put("UTF-8", "utf8.txt", STORY.encode())
    put("UTF-8 with BOM", "utf8bom.txt", b"\xef\xbb\xbf" + STORY.encode())
    put("UTF-16 LE with BOM", "utf16le-bom.txt", b"\xff\xfe" + RUSSIAN.encode("utf-16-le"))
    put("UTF-16 BE with BOM", "utf16be-bom.txt", b"\xfe\xff" + RUSSIAN.encode("utf-16-be"))
    put("UTF-16 LE without BOM", "utf16le.txt", STORY.encode("utf-16-le"))
    put("UTF-16 BE without BOM", "utf16be.txt", RUSSIAN.encode("utf-16-be"))
    put("UTF-8 with 2 cp1252 bytes pasted in", "mixed.txt",
        FRENCH.encode().replace(b"vite.", b"vite \x93tout de suite\x94."))
    put("cp1251 (Russian)", "cp1251.txt", RUSSIAN.encode("cp1251"))
    put("cp1251, one line", "cp1251-short.txt", "Привет, мир! Это короткий текст.".encode(
        "cp1251"))
    put("cp1252 (French, curly quotes)", "cp1252.txt", FRENCH.encode("cp1252"))
    put("latin-1, one line", "latin1-short.txt", "Café crème à la française.".encode("latin-1"))
    bbc = REPO.parent / "shared" / "data" / "bbc" / "sport" / "199.txt"
    if bbc.is_file():
        put("latin-1, BBC sport/199 (one £)", "bbc-199.txt", bbc.read_bytes())
    put("cp1250 (Polish), one line", "cp1250.txt", "Zażółć gęślą jaźń, łódź.".encode("cp1250"))
    put("binary: PNG", "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    put("binary: gzip", "archive.txt", gzip.compress(STORY.encode()))
    put("binary: random bytes, no NUL", "noise.txt",
        random.Random(2).randbytes(4096).replace(b"\x00", b"\x01"))
    put("empty (0 bytes)", "empty.txt", b"")
    put("whitespace only", "blank.md", b"  \n\n\t\n")
    put("over the size limit (2 MB, limit 1 MB)", "oversize.txt", STORY.encode() * 9000)
    put("name not valid UTF-8", b"bad\xffname.txt", STORY.encode())
    locked = put("unreadable file (mode 000)", "locked.txt", STORY.encode())
    locked.chmod(0)
    inside = put("unreadable folder (mode 000)", "locked/inside.txt", STORY.encode())
    inside.parent.chmod(0)
    kinds[-1] = (kinds[-1][0], inside.parent)  # read the folder that holds it
    link = folder / f"{len(kinds):02d}"
    link.mkdir()
    (link / "dead.txt").symlink_to(link / "nowhere.txt")
    kinds.append(("broken symbolic link", link / "dead.txt"))
    put("HTML article page", "page.html", HTML.encode())
    put("HTML page with no article", "menu.html",
        b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    put("JSON lines, one bad line of 3", "news.jsonl", "\n".join([
        json.dumps({"_id": "a1", "title": "First", "text": "One.", "date": "2020-08-18"}),
        "{not json",
        json.dumps({"_id": "a2", "title": "Second", "text": "Two."}),
    ]).encode())
    put("Markdown with front matter", "front.md", FRONT_MATTER.encode())
    # The hostile inputs of issue 12 (items 4-9).
    put("YAML alias bomb in front matter (9**9 values)", "bomb.md", billion_laughs())
    put("YAML front matter nested 5,000 deep", "deep.md",
        ("---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\n" + STORY).encode())
    put("JSON line nested 2,000 deep, and a good one", "deep.jsonl", (
        '{"text": ' + "[" * 2000 + "]" * 2000 + "}\n" +
        json.dumps({"_id": "ok", "title": "Council meets", "text": STORY}) + "\n").encode())
    big = one_line(big_mb)
    put(f"{big_mb} MB on one line", "one-line.txt", big)
    middle = len(big) // 2
    put(f"{big_mb} MB on one line, one emoji in it", "one-line-emoji.txt",
        big[:middle] + "\U0001F600".encode() + big[middle:])
    put("5,000,000 one-letter lines (10 MB)", "letters.txt", b"a\n" * 5_000_000)
    put("HTML nested 10,000 deep", "deep.html", (
        "<html><head><title>Council meets in Minsk</title></head><body>" + "<div>" * 10_000 +
        "".join(f"<p>{p}</p>" for p in STORY.split("\n\n")[1:]) + "</div>" * 10_000 +
        "</body></html>").encode())
    put("unclosed HTML holding plain text", "unclosed.html",
        ("<html><head><title>Council meets in Minsk</title></head><body><form>" +
         STORY.split("\n\n", 1)[1]).encode())
    put("HTML page of 600,000 tags", "tags.html",
        ("<html><body>" + "<div>" * 600_000 + STORY + "</body></html>").encode())
    secret = folder / "outside-secret.txt"
    secret.write_bytes(b"Secret\n\nThe root password is hunter2, said the admin.\n")
    link = folder / f"{len(kinds):02d}"
    link.mkdir()
    (link / "passwd.txt").symlink_to(secret)
    kinds.append(("symbolic link to a file outside the folder", link / "passwd.txt"))
    put("control characters in title and text", "controls.txt", (
        "Council \x1b]0;pwned\x07Meets\n\nThe council \x1b[2Jmet on Tuesday\x9b31m, and "
        "its members\x08\x08 agreed on a statement.\n").encode())
    put("JSON line with a lone surrogate", "surrogate.jsonl",
        json.dumps({"_id": "s", "title": "Council meets", "text": "The council \ud800 met."})
        .encode())
    return kinds


def read_row(path: Path, options: ReadOptions) -> dict:
    """What reading ``path`` (its folder) gave, as plain data."""
    started = time.perf_counter()
    try:
        corpus = read_corpus([path.parent], options=options)
    except CorpusError as error:  # nothing readable found: find_files says why
        _, skipped = find_files([path.parent])
        reasons = "; ".join(s.reason for s in skipped) or str(error)
        return {"seconds": time.perf_counter() - started, "skipped": reasons}
    seconds = time.perf_counter() - started
    row = {"seconds": seconds}
    if corpus.skipped:
        row["skipped"] = "; ".join(s.reason for s in corpus.skipped)
    if corpus.articles:
        encoding, how = next(iter(corpus.encodings.values()))
        blocks = sum(1 for a in corpus.articles for b in a.blocks if b.kind in INDEXED_KINDS)
        row["decoded"] = how if encoding in how else f"{encoding}: {how}"
        row["gave"] = (
            f"{len(corpus.articles)} art, {blocks} par, {corpus.paragraphs} passages"
            if corpus.paragraphs != blocks
            else f"{len(corpus.articles)} art, {corpus.paragraphs} par"
        )
        article = corpus.articles[0]
        row["meta"] = f"{article.source} ({article.source_from}), {article.date} " \
                      f"({article.date_from})"
        row["first"] = (article.paragraphs[0].text if article.paragraphs else article.title)[:40]
    if corpus.warnings:
        row["warnings"] = len(corpus.warnings)
    return row


def index_row(path: Path, options: ReadOptions) -> dict:
    """What indexing ``path``'s folder into a temporary index gave, as plain data."""
    from searchkit.index.build import build_index

    index_dir = Path(tempfile.mkdtemp(prefix="searchkit-bad-files-index-"))
    started = time.perf_counter()
    try:
        summary = build_index([path.parent], index_dir, options=options)
        return {"seconds": time.perf_counter() - started, "paragraphs": summary.paragraphs}
    except CorpusError as error:
        return {"seconds": time.perf_counter() - started, "error": str(error)}
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)


def child(mode: str, path: str, max_bytes: int, as_nobody: bool) -> None:
    """Run in a fresh process: read or index ``path`` (or, for the floor, only import what
    that needs), print the row as JSON with the process's peak memory."""
    if mode in ("index", "floor-index"):
        import searchkit.index.build  # noqa: F401  (imported first: nobody may not read Python's)
        import whoosh.writing  # noqa: F401
    if as_nobody:
        os.setgid(65534)
        os.setuid(65534)
    options = ReadOptions(max_bytes=max_bytes)
    if mode.startswith("floor"):
        row = {"seconds": 0.0}
    elif mode == "read":
        row = read_row(Path(path), options)
    else:
        row = index_row(Path(path), options)
    row["peak_mb"] = peak_mb()
    print(json.dumps(row))


def peak_mb() -> float:
    """This process's peak resident memory. VmHWM, where Linux has it: ru_maxrss keeps the
    parent's peak across fork and exec (this script's parent holds the 50 MB files it wrote)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(mode: str, path: Path, max_bytes: int, as_nobody: bool) -> dict:
    """``child`` in a fresh process; its row (or the error it ended with)."""
    command = [sys.executable, __file__, "--child", mode, os.fsdecode(path),
               "--max-bytes", str(max_bytes)] + (["--as-nobody"] if as_nobody else [])
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": last, "seconds": float("nan"), "peak_mb": float("nan")}
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big-mb", type=int, default=50)
    parser.add_argument("--no-index", action="store_true", help="read only, index nothing")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    parser.add_argument("--max-bytes", type=int, default=ReadOptions().max_bytes,
                        help=argparse.SUPPRESS)
    parser.add_argument("--as-nobody", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.max_bytes, args.as_nobody)
        return
    folder = Path(tempfile.mkdtemp(prefix="searchkit-bad-files-"))
    folder.chmod(0o755)  # a child running as nobody must reach its files
    try:
        kinds = write_files(folder, args.big_mb)
        floor = ("(nothing read: the process's floor)", None)
        rows = []
        for kind, path in [floor] + kinds:
            max_bytes = 1024 * 1024 if "size limit" in kind else ReadOptions().max_bytes
            nobody = "unreadable" in kind and os.geteuid() == 0
            read_mode, index_mode = ("floor-read", "floor-index") if path is None else (
                "read", "index")
            path = path or folder
            read = measured(read_mode, path, max_bytes, nobody)
            index = None if args.no_index else measured(index_mode, path, max_bytes, nobody)
            rows.append((kind + (" [as nobody]" if nobody else ""), read, index))
        print_table(rows)
    finally:
        for root, folders, _ in os.walk(folder):
            for name in folders:
                os.chmod(os.path.join(root, name), 0o755)
        shutil.rmtree(folder, ignore_errors=True)


def print_table(rows):
    print("| file | what happened | gave | source, date | read s | read MB | index s | index MB |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, row, index in rows:
        if "error" in row:
            happened, gave = f"error: {row['error']}", ""
        elif "decoded" in row:
            happened = row["decoded"]
            if row.get("warnings"):
                happened += f" ({row['warnings']} warning{'s' if row['warnings'] > 1 else ''})"
            if row.get("skipped"):
                happened += f"; skipped: {row['skipped']}"
            gave = f"{row['gave']}: “{row['first']}”"
        elif "skipped" in row:
            happened, gave = f"skipped: {row['skipped']}", "—"
        else:
            happened, gave = "—", "—"
        meta = row.get("meta", "—")
        timing = f"{row['seconds']:.2f} | {row['peak_mb']:.0f}"
        if index is None:
            timing += " | | "
        elif "error" in index and index["seconds"] != index["seconds"]:  # the process failed
            timing += f" | error: {index['error']} | "
        else:
            timing += f" | {index['seconds']:.2f} | {index['peak_mb']:.0f}"
        cells = [kind, happened, gave, meta]
        print("| " + " | ".join(printable(cell).replace("|", "\\|") for cell in cells) +
              f" | {timing} |")


if __name__ == "__main__":
    main()
