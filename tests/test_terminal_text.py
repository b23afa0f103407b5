"""Text from article files never reaches a terminal raw: control characters in titles, sources,
paragraphs and file names are shown as visible signs by every command (on a terminal and in a
pipe), JSON escapes them, and only searchkit's own colours are escape sequences."""

import json
import re

import pytest
from click.testing import CliRunner

from searchkit.cli.commands import main

# What an attacker puts in an article: retitle the terminal window (OSC ... BEL), clear the
# screen (CSI 2J), the 8-bit CSI, a bell and backspaces that hide what was printed before.
RETITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
CSI8 = "\x9b31m"
NAME = f"story{RETITLE}.txt"
TITLE = f"Council Meets {CLEAR}In Minsk"
SOURCE = f"AFP{RETITLE}"
PARAGRAPH = (f"The council met on Tuesday {CSI8}to discuss the crisis, and its members agreed "
             f"on a statement\x07 read by the chair.\x08\x08\x08\x08 Lithuania welcomed it.")
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
OWN_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # click.style's bold yellow highlights


def assert_printable(text: str) -> None:
    raw = UNPRINTABLE.findall(OWN_COLOURS.sub("", text))
    assert not raw, f"control characters reached the output: {raw}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """An index of two files whose name, title, source and paragraph hold control characters
    (the second a copy of the first, for `duplicates`); the index run's output too."""
    folder = tmp_path_factory.mktemp("hostile")
    for name in (NAME, f"copy{CLEAR}.txt"):
        (folder / name).write_text(f"{TITLE}\n\n{PARAGRAPH}\n")
    (folder / "manifest.json").write_text(json.dumps({
        NAME: {"source": SOURCE, "date": "2020-08-18"},
    }))
    index_dir = folder.parent / f"{folder.name}-index"
    indexed = CliRunner().invoke(main, ["index", str(folder), "--index", str(index_dir), "-v"])
    assert indexed.exit_code == 0, indexed.output
    return index_dir, indexed


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert result.exit_code == 0, result.output
    return result


def test_printable_shows_controls_one_for_one():
    from searchkit.cli.render import printable

    shown = printable(RETITLE + CLEAR + CSI8 + "\x07\x08\x7f\ud800 tab\tand\nnewline")
    assert shown == "␛]0;pwned␇␛[2J\ufffd31m␇␈␡\ufffd tab\tand\nnewline"
    assert printable("plain text, “quoted” — ü") == "plain text, “quoted” — ü"
    # a right-to-left override would show "Wire gpj.exe" as "Wire exe.jpg"
    assert printable("Wire \u202egpj.exe \u2067x\u2069") == "Wire \ufffdgpj.exe \ufffdx\ufffd"
    assert printable("مرحبا שלום") == "مرحبا שלום"  # right-to-left text itself is text


def test_the_index_summary_and_verbose_listing(hostile):
    _, indexed = hostile
    assert_printable(indexed.stderr)
    assert "story␛]0;pwned␇.txt" in indexed.stderr  # the verbose listing names the file
    assert "AFP␛]0;pwned␇ (manifest)" in indexed.stderr  # the articles read, with their source


@pytest.mark.parametrize("options", [
    ["--format", "table"], ["--format", "plain"],
    ["--format", "table", "--color", "always"], ["--format", "plain", "--color", "always"],
    ["--format", "plain", "--no-dedup", "--facets"],
])
def test_search(hostile, options):
    index_dir, _ = hostile
    result = cli("search", "council", "--index", index_dir, *options)
    assert_printable(result.stdout)
    assert_printable(result.stderr)
    assert "␛[2J" in result.stdout and "AFP␛]0;pwned␇" in result.stdout
    if "always" in options:
        assert "\x1b[33m\x1b[1mcouncil\x1b[0m" in result.stdout  # searchkit's own colour stays


def test_show_duplicates_stats_and_batch(hostile, tmp_path):
    index_dir, _ = hostile
    hit = json.loads(cli("search", "council", "--index", index_dir, "--format", "jsonl",
                         "--no-dedup").stdout.splitlines()[0])
    for args in (["show", hit["id"]], ["show", hit["id"], "--color", "always"],
                 ["duplicates", "--format", "table"], ["duplicates", "--format", "plain"],
                 ["stats"]):
        result = cli(*args, "--index", index_dir)
        assert_printable(result.stdout)
        assert "␛" in result.stdout, args  # shown, not dropped
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tcouncil\n")
    run = cli("search", "--batch", queries, "--index", index_dir)
    assert_printable(run.stdout)
    # The document ids are the files' names, their control characters written as escapes.
    assert "story\\x1b]0;pwned\\x07" in run.stdout


def test_the_repl(hostile, tmp_path, monkeypatch):
    index_dir, _ = hostile
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # its history file
    session = cli("repl", "--index", index_dir,
                  input="council\n:show 1\n:format table\ncouncil\n:stats\n:quit\n")
    assert_printable(session.stdout)
    assert "␛[2J" in session.stdout and "␈" in session.stdout


def test_json_escapes_them_and_keeps_the_text(hostile):
    index_dir, _ = hostile
    for fmt in ("jsonl", "json"):
        result = cli("search", "council", "--index", index_dir, "--format", fmt, "--no-dedup")
        assert_printable(result.stdout)  # C0 escaped by JSON, C1 as \u009b
        records = ([json.loads(line) for line in result.stdout.splitlines()]
                   if fmt == "jsonl" else json.loads(result.stdout))
        assert {r["text"] for r in records} == {PARAGRAPH}
        assert {r["title"] for r in records} == {TITLE}
        assert NAME in {r["path"].rsplit("/", 1)[1] for r in records}
    shown = cli("show", hit_id(index_dir), "--index", index_dir, "--format", "json").stdout
    assert_printable(shown)
    assert json.loads(shown)["source"] == SOURCE


def hit_id(index_dir):
    result = cli("search", "council", "--index", index_dir, "--format", "jsonl", "--source",
                 SOURCE)
    return json.loads(result.stdout.splitlines()[0])["id"]


def test_lone_surrogates_are_replaced_when_read_and_every_output_works(tmp_path, monkeypatch):
    # "\ud800" in JSON is a lone surrogate: not a character, and no encoding can print it.
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "news.jsonl").write_text(
        json.dumps({"_id": "a", "title": "Council \ud800 meets", "source": "AFP\udc00",
                    "text": "The council met on Tuesday \ud800 to discuss the crisis."}) + "\n")
    (folder / "notes.md").write_text(
        '---\ntitle: "Notes \\ud800"\n---\nThe council notes on Tuesday.\n')
    index_dir = tmp_path / "ix"
    indexed = cli("index", folder, "--index", index_dir)
    assert (f"warning: {folder / 'news.jsonl'}: line 1: 3 lone surrogates (a \\ud800-style "
            "escape without its pair) replaced by U+FFFD") in indexed.stderr.splitlines()
    assert (f"warning: {folder / 'notes.md'}: front matter: 'title': 1 lone surrogate (a "
            "\\ud800-style escape without its pair) replaced by U+FFFD"
            ) in indexed.stderr.splitlines()
    for fmt in ("table", "plain", "jsonl", "json"):
        result = cli("search", "council", "--index", index_dir, "--format", fmt)
        assert "Council \ufffd meets" in result.stdout and "Notes \ufffd" in result.stdout
    record = json.loads(cli("search", "tuesday crisis", "--index", index_dir, "--format",
                            "jsonl").stdout.splitlines()[0])
    assert record["text"] == "The council met on Tuesday \ufffd to discuss the crisis."
    assert record["source"] == "AFP\ufffd"
    for fmt in ("plain", "json"):
        assert "\ufffd" in cli("show", record["id"], "--index", index_dir, "--format", fmt).stdout
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    session = cli("repl", "--index", index_dir, input="council\n:show 1\n:format table\ncouncil\n")
    assert session.stdout.count("Council \ufffd meets") >= 3
