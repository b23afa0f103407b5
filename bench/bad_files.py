"""What searchkit does with each kind of real-world input file: the bad-file table.

    python bench/bad_files.py [--big-mb N]

Writes one file of each kind into a temporary folder (encodings with and without a byte order
mark, short and long legacy-encoded files, binary files, empty files, an oversize file, a name
that is not valid UTF-8, an unreadable file and folder, a broken link, a one-line file of N MB
(default 50), an HTML page, JSON lines with a bad line, Markdown with front matter), reads each
with ``read_corpus`` and prints one row per file: how it was decoded (encoding and how that was
decided) and what it gave (articles, paragraphs, passages from split paragraphs), or the reason
it was skipped, and the seconds it took. The oversize file is checked against a 1 MB limit
(the default is 64 MB, which the big file stays under).

Run as root, chmod 000 does not stop reading: the unreadable file and folder are then read by
a forked child that switched to user ``nobody`` first.
"""

import argparse
import gzip
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from searchkit.corpus import ReadOptions, find_files, read_corpus  # noqa: E402
from searchkit.errors import CorpusError  # noqa: E402
from searchkit.model import INDEXED_KINDS  # noqa: E402

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
    put(f"{big_mb} MB on one line", "one-line.txt", one_line(big_mb))
    return kinds


def as_nobody(function, *args):
    """``function(*args)`` in a forked child running as user nobody; its result (JSON) back."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            os.setgid(65534)
            os.setuid(65534)
            result = function(*args)
        except BaseException as error:  # report anything to the parent
            result = {"error": repr(error)}
        with os.fdopen(write_end, "w") as pipe:
            json.dump(result, pipe)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def describe(path: Path, options: ReadOptions) -> dict:
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--big-mb", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="searchkit-bad-files-"))
    folder.chmod(0o755)  # a child running as nobody must reach its files
    try:
        kinds = write_files(folder, args.big_mb)
        rows = []
        for kind, path in kinds:
            options = ReadOptions(max_bytes=1024 * 1024) if "size limit" in kind else ReadOptions()
            if "unreadable" in kind and os.geteuid() == 0:
                row = as_nobody(describe, path, options)
                kind += " [as nobody]"
            else:
                row = describe(path, options)
            rows.append((kind, row))
        print_table(rows)
    finally:
        for root, folders, _ in os.walk(folder):
            for name in folders:
                os.chmod(os.path.join(root, name), 0o755)
        shutil.rmtree(folder, ignore_errors=True)


def print_table(rows):
    print("| file | what happened | gave | source, date | seconds |")
    print("|---|---|---|---|---|")
    for kind, row in rows:
        if "error" in row:
            happened, gave = f"error: {row['error']}", ""
        elif "decoded" in row:
            happened = row["decoded"]
            if row.get("warnings"):
                happened += f" ({row['warnings']} warning{'s' if row['warnings'] > 1 else ''})"
            gave = f"{row['gave']}: “{row['first']}”"
        else:
            happened, gave = f"skipped: {row['skipped']}", "—"
        meta = row.get("meta", "—")
        print(f"| {kind} | {happened} | {gave} | {meta} | {row['seconds']:.2f} |")


if __name__ == "__main__":
    main()
