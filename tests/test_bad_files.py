"""Bad input never stops a run: each bad file or folder is skipped with a one-line reason, and
the good files are read. Real files in tmp_path, read through the public API."""

import gzip
import json
import os
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import as_user_nobody

from searchkit.cli.commands import main
from searchkit.ingest.corpus import (ReadOptions, check_size, find_files, read_bytes,
                                     read_corpus, read_file)
from searchkit.errors import CorpusError

GOOD = (
    "Council meets in Minsk\n\n"
    "The council met on Tuesday to discuss the crisis, and its members agreed on a statement.\n"
)


def reason(tmp_path, name, data, **options):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorpusError) as error:
        read_file(path, path.stem, data, None, ReadOptions(**options))
    message = str(error.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file (a PNG image)"),
        (gzip.compress(GOOD.encode()), "binary file (gzip-compressed; decompress it first)"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary file (a PDF document"),
        (b"PK\x03\x04\x14\x00\x06\x00", "binary file (a ZIP archive"),
        (b"Some text\x00with a NUL byte\x00\x01\x02 and more \x00\x00", "binary file (it contains"),
    ],
)
def test_binary_files(tmp_path, data, expected):
    assert reason(tmp_path, "x.txt", data).startswith(expected)


def test_random_bytes_without_nul_are_not_text(tmp_path):
    data = random.Random(7).randbytes(4000).replace(b"\x00", b"\x01")
    assert reason(tmp_path, "noise.txt", data).startswith("not text")


def test_empty_and_whitespace_only_files(tmp_path):
    assert reason(tmp_path, "zero.txt", b"") == "empty file (0 bytes)"
    assert reason(tmp_path, "blank.txt", b" \n\t\r\n  \n") == "empty file (only whitespace)"
    assert reason(tmp_path, "bom.txt", b"\xff\xfe" + " \n".encode("utf-16-le")) == (
        "empty file (only whitespace)"
    )


def test_files_over_the_size_limit(tmp_path):
    data = GOOD.encode() * 20
    message = reason(tmp_path, "big.txt", data, max_bytes=1000)
    assert message.startswith(f"too large ({len(data):,} bytes, the limit is 1,000 bytes)")
    check_size(tmp_path / "big.txt", 1000, ReadOptions(max_bytes=1000))  # at the limit: fine
    with pytest.raises(CorpusError, match=r"too large \(96.0 MB, the limit is 64.0 MB\)"):
        check_size(tmp_path / "big.txt", 96 * 1024 * 1024, ReadOptions())


def _bytes_read_by_this_process() -> int:
    with open("/proc/self/io") as io:
        return next(int(line.split()[1]) for line in io if line.startswith("rchar:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="needs Linux's /proc/self/io")
def test_a_file_that_grew_since_its_stat_is_read_no_further_than_its_limit(
        tmp_path, monkeypatch):
    """A file longer than its stat says (it grew after it, or its file system lies about it)
    is read up to the limit and refused, not read to its end first."""
    path = tmp_path / "growing.txt"
    path.write_bytes(GOOD.encode() * 60_000)  # ~5.5 MB
    real_fstat = os.fstat

    def stale_fstat(fd):
        found = real_fstat(fd)
        return os.stat_result((*found[:6], 100, *found[7:10]))  # st_size: 100 bytes

    monkeypatch.setattr(os, "fstat", stale_fstat)
    before = _bytes_read_by_this_process()
    with pytest.raises(CorpusError) as error:
        read_bytes(path, ReadOptions(max_bytes=10_000))
    read = _bytes_read_by_this_process() - before
    monkeypatch.undo()
    assert str(error.value).startswith(
        "too large (it grew past the limit of 10,000 bytes while it was read); ")
    assert read < 20_000
    # Within the limit it is read whole, whatever its stat said.
    assert read_bytes(path, ReadOptions(max_bytes=10_000_000)) == path.read_bytes()
    monkeypatch.setattr(os, "fstat", stale_fstat)
    assert read_bytes(path, ReadOptions(max_bytes=10_000_000)) == path.read_bytes()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    """Opening a pipe to read waits for a writer: the file is opened without waiting, and its
    stat says it is no file."""
    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(CorpusError, match="^cannot read it: not a regular file$"):
        read_bytes(tmp_path / "pipe.txt", ReadOptions())
    (tmp_path / "ok.txt").write_bytes(GOOD.encode())
    assert read_bytes(tmp_path / "ok.txt", ReadOptions()) == GOOD.encode()


def test_the_default_limit_lets_scifact_through():
    assert ReadOptions().max_bytes > 8_298_581  # ../shared/data/scifact/corpus.jsonl
    check_size(None, 8_298_581, ReadOptions())


def test_a_file_name_that_is_not_valid_utf8(tmp_path):
    with open(os.path.join(os.fsencode(str(tmp_path)), b"bad\xffname.txt"), "wb") as handle:
        handle.write(GOOD.encode())
    (tmp_path / "good.txt").write_text(GOOD)
    corpus = read_corpus([tmp_path])
    assert [a.id for a in corpus.articles] == ["good"]
    (skipped,) = corpus.skipped
    assert skipped.path == f"{tmp_path}/bad\\xffname.txt"  # printable
    assert skipped.reason.startswith("its name is not valid UTF-8")
    skipped.path.encode("utf-8")  # can be printed anywhere


def _read(folder):
    corpus = read_corpus([folder])
    return [a.id for a in corpus.articles], [[s.path, s.reason] for s in corpus.skipped]


def _find(folder):
    files, skipped = find_files([folder])
    return [file.key for file in files], [[s.path, s.reason] for s in skipped]


def test_an_unreadable_file(open_tmp):
    path = open_tmp / "locked.txt"
    path.write_text(GOOD)
    path.chmod(0)
    (open_tmp / "good.txt").write_text(GOOD)
    articles, skipped = as_user_nobody(_read, open_tmp)  # as root: as nobody, so mode 0 bites
    assert articles == ["good"]
    assert skipped == [
        [str(path), "cannot read it: permission denied; check the file's permissions"]
    ]


def test_an_unreadable_folder(open_tmp):
    locked = open_tmp / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text(GOOD)
    (open_tmp / "good.txt").write_text(GOOD)
    locked.chmod(0)
    keys, skipped = as_user_nobody(_find, open_tmp)
    assert keys == ["good"]
    assert [path for path, _ in skipped] == [str(locked)]
    assert skipped[0][1].startswith("cannot read this folder (Permission denied)")


def test_broken_symbolic_links(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD)
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "elsewhere").symlink_to(tmp_path / "no-folder")
    files, skipped = find_files([tmp_path, tmp_path / "elsewhere"])
    assert [file.key for file in files] == ["good"]
    assert [(s.path, s.reason.split(" (")[0].split(";")[0]) for s in skipped] == [
        (str(tmp_path / "gone.txt"), "broken symbolic link"),
        (str(tmp_path / "elsewhere"), "broken symbolic link"),
    ]


def test_a_5_mb_one_line_file_is_split_into_bounded_passages(tmp_path):
    rng = random.Random(3)
    vocabulary = "the council met on tuesday to discuss crisis and members agreed statement".split()
    sentences, size = [], 0
    while size < 5_000_000:
        sentence = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 40)))
        sentence = sentence.capitalize() + rng.choice([".", "!", "?", ";", ","])
        sentences.append(sentence)
        size += len(sentence) + 1
    line = " ".join(sentences)
    (tmp_path / "one-line.txt").write_text(line + "\n")
    corpus = read_corpus([tmp_path])
    (article,) = corpus.articles
    passages = article.paragraphs
    assert len(passages) > 1000
    assert max(len(p.text.split()) for p in passages) <= 400
    assert max(len(p.text) for p in passages) <= 400 * 12
    assert [p.number for p in passages] == list(range(1, len(passages) + 1))
    assert {p.kind for p in passages} == {"body"}
    words = []
    for p in passages:
        words.extend(p.text.split())
    assert words == line.split()  # nothing lost, nothing added, in order
    assert corpus.skipped == []


def test_a_folder_of_good_and_bad_files(tmp_path):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.txt").write_text(GOOD)
    (folder / "sub" / "ru.txt").write_bytes(("Новости\n\n" + "Протесты продолжаются.\n").encode(
        "cp1251"))
    (folder / "utf16.md").write_bytes(GOOD.encode("utf-16-le"))
    (folder / "page.html").write_text(
        "<html><body><article><p>" + "A paragraph of the article text. " * 5 +
        "</p></article></body></html>")
    (folder / "lines.jsonl").write_text('{"text": "A record."}\n{bad\n')
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("\n\n   \n")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "archive.txt").write_bytes(gzip.compress(b"hello"))
    (folder / "big.txt").write_text(GOOD * 100)
    (folder / "menu.html").write_text("<html><body><nav>Home</nav></body></html>")
    (folder / "nothing.jsonl").write_text("[1]\n")
    (folder / "dead.txt").symlink_to(folder / "missing-target.txt")
    (folder / ".hidden.txt").write_bytes(b"\x00")  # hidden: not even looked at
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")  # not an article suffix: ignored
    with open(os.path.join(os.fsencode(str(folder)), b"caf\xe9.txt"), "wb") as handle:
        handle.write(GOOD.encode())

    corpus = read_corpus([folder, tmp_path / "missing.txt"], options=ReadOptions(max_bytes=5000))
    assert sorted(a.id for a in corpus.articles) == [
        "good", "lines:1", "page", "sub/ru", "utf16"
    ]
    assert corpus.files == 5
    reasons = {os.path.basename(s.path): s.reason for s in corpus.skipped}
    assert sorted(reasons) == sorted([
        "missing.txt", "dead.txt", "caf\\xe9.txt", "empty.txt", "blank.md", "image.txt",
        "archive.txt", "big.txt", "menu.html", "nothing.jsonl",
    ])
    assert reasons["missing.txt"] == "no such file or folder"
    assert reasons["empty.txt"] == "empty file (0 bytes)"
    assert reasons["blank.md"] == "empty file (only whitespace)"
    assert reasons["image.txt"].startswith("binary file (a PNG image)")
    assert reasons["archive.txt"].startswith("binary file (gzip-compressed")
    assert reasons["big.txt"].startswith("too large")
    assert reasons["menu.html"] == "no article text found in this HTML page"
    assert reasons["nothing.jsonl"].startswith("no usable JSON-lines record")
    assert reasons["dead.txt"].startswith("broken symbolic link")
    assert reasons["caf\\xe9.txt"].startswith("its name is not valid UTF-8")
    assert all("\n" not in r for r in reasons.values())
    assert corpus.encodings[str(folder / "sub" / "ru.txt")][0] == "cp1251"
    assert corpus.encodings[str(folder / "utf16.md")] == (
        "utf-16-le", "utf-16 without BOM (NUL pattern)"
    )
    assert any(w.startswith(f"{folder / 'lines.jsonl'}: line 2: not valid JSON")
               for w in corpus.warnings)


# ---- structured data nested without end, or expanding without end (safeload.py) -----------

def billion_laughs():
    """YAML front matter whose title stands for 9**9 "lol"s through nine levels of aliases."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for before, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{', '.join([f'*{before}'] * 9)}]")
    return "---\n" + "\n".join(lines) + "\ntitle: *i\n---\nThe council met on Tuesday.\n"


def test_a_yaml_alias_bomb_is_refused_and_the_other_files_indexed(tmp_path):
    # In a process of its own, its memory capped at 1 GB: expanding the bomb (to quote the title
    # in a warning) once ran past 2 GB and two minutes, and ended no run.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bomb.md").write_text(billion_laughs())
    (corpus / "good.txt").write_text(GOOD)
    limit = 1024 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-m", "searchkit", "index", corpus, "--index", tmp_path / "ix"],
        capture_output=True, text=True, timeout=600,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert (f"warning: {corpus / 'bomb.md'}: front matter not read: over 10,000 values with its "
            "aliases expanded; read as text") in done.stderr.splitlines()
    found = subprocess.run(
        [sys.executable, "-m", "searchkit", "search", "council", "--index", tmp_path / "ix",
         "--format", "jsonl"], capture_output=True, text=True, timeout=600,
    )
    assert {json.loads(line)["article_id"] for line in found.stdout.splitlines()} == {
        "bomb", "good"}  # the bomb's front matter kept as its text


def test_nesting_without_end_is_refused_line_by_line_and_file_by_file(tmp_path):
    deep_json = "[" * 2000 + "]" * 2000
    record = json.dumps({"_id": "ok", "text": "The council met on Tuesday."})
    (tmp_path / "good.txt").write_text(GOOD)
    (tmp_path / "deep.md").write_text(
        "---\ntitle: " + "[" * 5000 + "]" * 5000 + "\n---\nThe council met on Tuesday.\n")
    (tmp_path / "lines.jsonl").write_text(f'{{"text": {deep_json}}}\n{record}\n')
    (tmp_path / "all-deep.jsonl").write_text(deep_json + "\n")
    (tmp_path / "big-number.jsonl").write_text('{"text": "x", "n": ' + "9" * 5000 + "}\n")
    (tmp_path / "ld.html").write_text(
        '<html><head><script type="application/ld+json">' + deep_json + "</script></head><body>"
        "<article><p>" + "The council met on Tuesday to discuss the crisis. " * 3 +
        "</p></article></body></html>")
    (tmp_path / "manifest.json").write_text('{"good.txt": ' + "[" * 3000 + "]" * 3000 + "}")
    corpus = read_corpus([tmp_path])
    assert sorted(a.id for a in corpus.articles) == ["deep", "good", "ld", "lines:ok"]
    reasons = {os.path.basename(s.path): s.reason for s in corpus.skipped}
    assert reasons == {
        "all-deep.jsonl": "no usable JSON-lines record (each line must be a JSON object with a "
                          "text); line 1: not valid JSON (nested over 64 levels deep); line "
                          "skipped",
        "big-number.jsonl": "no usable JSON-lines record (each line must be a JSON object with "
                            "a text); line 1: not valid JSON (Exceeds the limit (4300 digits) "
                            "for integer string conversion: value has 5000 digits); line "
                            "skipped",
    }
    warnings = [w.replace(f"{tmp_path}/", "") for w in corpus.warnings]
    assert "deep.md: front matter not read: nested over 64 levels deep; read as text" in warnings
    assert ("lines.jsonl: line 1: not valid JSON (nested over 64 levels deep); line skipped"
            in warnings)
    assert any(w.startswith("manifest.json: manifest ignored: nested over 64 levels deep")
               for w in warnings)
    assert all("\n" not in w and len(w) < 300 for w in warnings)


def test_values_are_quoted_briefly_in_warnings(tmp_path):
    (tmp_path / "a.md").write_text(
        "---\ntitle: [" + ", ".join(["lol"] * 5000) + "]\nurl: " + "x" * 5000 +
        "\ndate: 2020-13-45\n---\nThe council met on Tuesday.\n")
    corpus = read_corpus([tmp_path])
    assert [a.id for a in corpus.articles] == ["a"]
    assert [w.split(": ", 1)[1] for w in corpus.warnings] == [
        "front matter: title (a list) ignored: not a single value",
        "front matter: date '2020-13-45' ignored: write it as YYYY-MM-DD",
        f"front matter: url {'x' * 60!r}… ignored: not an http(s) address",
    ]


# ---- symbolic links --------------------------------------------------------------------------

def test_symbolic_links_leading_outside_are_skipped_unless_followed(tmp_path):
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.txt").write_text("Secret\n\nThe root password is hunter2, said the admin.\n")
    (outside / "folder" / "far.txt").write_text(GOOD)
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.txt").write_text(GOOD)
    (corpus / "sub" / "inner.txt").write_text(GOOD.replace("Minsk", "Vilnius"))
    (corpus / "to-secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "to-inner.txt").symlink_to(corpus / "sub" / "inner.txt")  # inside: as before
    (corpus / "to-folder").symlink_to(outside / "folder")
    (corpus / "sub" / "up").symlink_to(corpus)  # inside, and a loop

    read = read_corpus([corpus])
    assert sorted(Path(a.path).resolve().name for a in read.articles) == ["good.txt", "inner.txt"]
    assert [(s.path, s.reason) for s in read.skipped] == [
        (str(corpus / "to-folder"), f"symbolic link to a folder outside the folders being "
                                    f"indexed ({outside / 'folder'}); not followed (--follow "
                                    "follows it)"),
        (str(corpus / "to-secret.txt"), f"symbolic link to a file outside the folders being "
                                        f"indexed ({outside / 'secret.txt'}); not followed "
                                        "(--follow follows it)"),
    ]

    followed = read_corpus([corpus], options=ReadOptions(follow_links=True))
    assert sorted(Path(a.path).resolve().name for a in followed.articles) == [
        "far.txt", "good.txt", "inner.txt", "secret.txt"]
    assert followed.skipped == []
    # Named on the command line, a link is read wherever it leads.
    assert [a.title for a in read_corpus([corpus / "to-secret.txt"]).articles] == ["Secret"]


def test_the_index_command_skips_them_and_follows_them_with_follow(tmp_path):
    (tmp_path / "secret.txt").write_text("Secret\n\nThe root password is hunter2.\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD)
    (corpus / "passwd.txt").symlink_to(tmp_path / "secret.txt")
    runner = CliRunner()
    skipped = runner.invoke(main, ["index", str(corpus), "--index", str(tmp_path / "a")])
    assert skipped.exit_code == 3, skipped.output
    assert "passwd.txt: symbolic link to a file outside the folders being indexed" in (
        skipped.stderr)
    found = runner.invoke(main, ["search", "hunter2", "--index", str(tmp_path / "a")])
    assert found.exit_code == 0 and found.stdout == ""
    followed = runner.invoke(main, ["index", str(corpus), "--index", str(tmp_path / "b"),
                                    "--follow"])
    assert followed.exit_code == 0, followed.output
    found = runner.invoke(main, ["search", "hunter2", "--index", str(tmp_path / "b")])
    assert "hunter2" in found.stdout


# ---- files that would give too many paragraphs ------------------------------------------------

def test_a_file_of_a_million_short_lines_is_skipped_in_bounded_memory(tmp_path):
    # Each line a paragraph: 1,000,000 of them once took a minute and most of a gigabyte to
    # read (and would have taken hours to index). In a process of its own, capped at 512 MB of
    # address space, the file is refused as its lines are read and the good one is read.
    (tmp_path / "lines.txt").write_text("ab\n" * 1_000_000)
    (tmp_path / "records.jsonl").write_text('{"text": "ab"}\n' * 210_000)
    (tmp_path / "good.txt").write_text(GOOD)
    script = (
        "import json, sys\n"
        "from searchkit.ingest.corpus import read_corpus\n"
        "corpus = read_corpus([sys.argv[1]])\n"
        "print(json.dumps([[a.id for a in corpus.articles],\n"
        "                  {s.path.rsplit('/', 1)[1]: s.reason for s in corpus.skipped}]))\n"
    )
    limit = 512 * 1024 * 1024
    done = subprocess.run(
        [sys.executable, "-c", script, tmp_path], capture_output=True, text=True, timeout=600,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    articles, skipped = json.loads(done.stdout)
    assert articles == ["good"]
    reason = ("over 200,000 paragraphs (lines, records or blocks of text); split it into "
              "smaller files")
    assert skipped == {"lines.txt": reason, "records.jsonl": reason}


def test_an_html_page_of_a_million_tags_is_refused_before_it_is_parsed(tmp_path):
    page = "<html><body>" + "<div>" * 600_000 + "The council met on Tuesday.</body></html>"
    with pytest.raises(CorpusError, match=r"^over 500,000 HTML tags: not an article page"):
        read_file(tmp_path / "deep.html", "deep", page.encode(), None, ReadOptions())
