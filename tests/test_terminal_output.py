"""Output that fits the terminal: tables no wider than it, text wrapped at spaces with a
hanging indent, long lists of copies cut short, ids in every format, and a REPL that prints
results only when its input is piped."""

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import unicodedata

import pytest
from click.testing import CliRunner
from conftest import S000
from test_repl import session

from searchkit.cli.commands import main
from searchkit.cli.render import cells, wrap

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def run(monkeypatch):
    monkeypatch.delenv("SEARCHKIT_INDEX", raising=False)

    def invoke(*args, columns=None):
        if columns is None:
            monkeypatch.delenv("COLUMNS", raising=False)
        else:
            monkeypatch.setenv("COLUMNS", str(columns))
        return CliRunner().invoke(main, [str(a) for a in args])

    return invoke


def widest(text):
    return max(cells(line) for line in text.splitlines())


@pytest.fixture(scope="module")
def reprinted(tmp_path_factory):
    """One wire paragraph printed by eight outlets (a group of 8), in an index."""
    folder = tmp_path_factory.mktemp("reprinted")
    corpus = folder / "corpus"
    corpus.mkdir()
    wire = ("The harbour authority said on Monday that the northern breakwater would be "
            "rebuilt over three years, at a cost the council has not yet agreed to share.")
    manifest = {}
    for n in range(8):
        (corpus / f"outlet{n}.txt").write_text(
            f"Breakwater to be rebuilt, says outlet {n}\n\n{wire}\n\nOutlet {n} adds a line "
            f"of its own about the weather on day {n}.\n", encoding="utf-8")
        manifest[f"outlet{n}.txt"] = {"source": f"Outlet {n}", "date": f"2020-08-1{n}"}
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    index = folder / "ix"
    assert CliRunner().invoke(main, ["index", str(corpus), "--index", str(index)]).exit_code == 0
    return index


@pytest.mark.parametrize("columns", [40, 60, 72, 80, 100, 120, 200])
def test_search_table_fits_any_width(run, seed_index, columns):
    result = run("search", "Sergey Tikhanovsky husband arrested", "--index", seed_index,
                 "--format", "table", "-n", "5", "--color", "always", columns=columns)
    assert result.exit_code == 0, result.stderr
    assert widest(result.stdout) <= columns
    assert f"{S000}#19" in result.stdout  # the paragraph's id, for `show`


@pytest.mark.parametrize("columns", [40, 60, 80, 120, 200])
def test_duplicates_table_fits_any_width(run, seed_index, reprinted, columns):
    for index in (seed_index, reprinted):
        result = run("duplicates", "--index", index, "--format", "table", columns=columns)
        assert result.exit_code == 0, result.stderr
        assert widest(result.stdout) <= columns


def test_the_table_shows_the_paragraph_id(run, seed_index):
    result = run("search", "renounce violence", "--index", seed_index, "--format", "table",
                 "-n", "1", columns=120)
    assert f"id: {S000}#4" in result.stdout


def test_narrow_tables_become_blocks(run, seed_index):
    result = run("search", "renounce violence", "--index", seed_index, "--format", "table",
                 "-n", "1", columns=50)
    assert result.stdout.startswith("1. Europeans are urging Putin")


def test_plain_wraps_at_spaces_with_a_hanging_indent(run, seed_index):
    whole = run("search", "dialogue with the opposition", "--index", seed_index, "-n", "3")
    wrapped = run("search", "dialogue with the opposition", "--index", seed_index, "-n", "3",
                  columns=60)
    assert widest(whole.stdout) > 60  # in a pipe without COLUMNS, lines are whole
    assert widest(wrapped.stdout) <= 60
    for block_whole, block in zip(whole.stdout.split("\n\n"), wrapped.stdout.split("\n\n")):
        lines = block.splitlines()
        assert all(line.startswith("   ") for line in lines[1:])  # under the title
        assert " ".join(line.strip() for line in lines) == " ".join(
            line.strip() for line in block_whole.splitlines())  # no word broken or lost


def test_show_wraps_under_each_paragraphs_text(run, seed_index):
    result = run("show", f"{S000}#19", "--index", seed_index, "--context", "1", columns=50)
    lines = result.stdout.splitlines()
    assert max(cells(line) for line in lines if not line.startswith("file: ")) <= 50
    assert [line for line in lines if line.startswith("file: ")][0].endswith(".txt")  # whole
    start = next(i for i, line in enumerate(lines) if line.startswith("▶ 19  "))
    assert lines[start + 1].startswith("      ") and not lines[start + 1].startswith("       ")


def test_also_in_lists_the_first_few_and_how_many_more(run, reprinted):
    result = run("search", "northern breakwater", "--index", reprinted, "-n", "1")
    (line,) = [line for line in result.stdout.splitlines() if "also in" in line]
    assert line.strip().startswith("also in 7 others: Outlet 1, 2020-08-11, ")
    assert line.count("“Breakwater") == 3 and line.endswith("; and 4 more")
    shown = run("show", "outlet0#1", "--index", reprinted)
    assert "paragraph 1 also appears in 7 other places:" in shown.stdout  # show lists them all
    assert shown.stdout.count("(edited)") + shown.stdout.count("outlet") >= 7


def test_wrap_counts_columns_not_characters():
    text = "1. 北京大学 北京大学 北京大学 [marked] \x1b[1mbold\x1b[0m words and more words here"
    for width in (12, 16, 24, 30):
        lines = wrap(text, width, "   ").splitlines()
        assert max(cells(line) for line in lines) <= width
        assert all(line.startswith("   ") for line in lines[1:])
    assert wrap("x" * 50, 20, "  ").splitlines()[1] == "  " + "x" * 18  # a long word is cut
    # Text without spaces fills each line: no line holds the marker alone.
    japanese = "1. " + "日本語の文章です。" * 4
    lines = wrap(japanese, 20, "   ").splitlines()
    assert lines[0].startswith("1. 日本") and max(cells(line) for line in lines) <= 20
    assert "".join(line.strip() for line in lines) == japanese
    assert [cells(line) for line in wrap("1. \x1b[1m北京大学北京大学\x1b[0m", 8).splitlines()] == [
        7, 8, 4]
    assert wrap("one line", None) == "one line"
    url = "https://example.com/" + "a" * 40
    assert wrap(f"url: {url} end", 20, "  ", cut=False).splitlines() == ["url:", f"  {url}",
                                                                         "  end"]


def test_a_piped_repl_prints_results_only(seed_index):
    process = subprocess.run(
        [sys.executable, "-m", "searchkit", "repl", "--index", str(seed_index)],
        input="Merkel\n:format table\n:quit\n", capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    assert "searchkit>" not in process.stdout and ":help" not in process.stdout
    assert process.stdout.startswith("1. ")
    assert "format: table" in process.stdout


def piped_repl(index, lines):
    return subprocess.run(
        [sys.executable, "-m", "searchkit", "repl", "--index", str(index)],
        input="".join(line + "\n" for line in lines), capture_output=True, text=True,
        timeout=120, env={k: v for k, v in os.environ.items() if k != "COLUMNS"})


def test_a_piped_repl_writes_notes_and_errors_to_stderr_and_says_they_failed(seed_index):
    """As `searchkit search`: results on stdout; notes, counts and errors on stderr; a line
    that could not be run makes the exit status that of search (2: change what was typed)."""
    process = piped_repl(seed_index, ["Tikhanovsky", "-Putin", ":bogus", ":limit 1", "Merkel"])
    assert process.returncode == 2
    assert process.stdout.startswith("1. ") and "limit: 1 result a page\n1. " in process.stdout
    assert not process.stdout.endswith("\n\n")  # no line ended for a prompt never shown
    for said in ("note: also searched for", "error: the query only leaves paragraphs out",
                 "error: unknown command :bogus", "1 of 6 results (6 matching paragraphs"):
        assert said in process.stderr and said not in process.stdout
    assert "Traceback" not in process.stderr
    assert piped_repl(seed_index, ["Merkel", ":quit", "-Putin"]).returncode == 0


def test_ctrl_c_stops_a_piped_repl_with_status_130(seed_index):
    """Lines from a file are a script: Ctrl-C stops it all, as it stops a shell loop of
    `searchkit search`, instead of skipping one line and going on to the next."""
    process = subprocess.Popen(
        [sys.executable, "-m", "searchkit", "repl", "--index", str(seed_index)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdin.write("Merkel\n")
    process.stdin.flush()
    assert "of 6 results" in process.stderr.readline()  # it waits for the next line
    process.send_signal(signal.SIGINT)
    _, err = process.communicate("Putin\n", timeout=120)
    assert process.returncode == 130
    assert err == "searchkit: stopped by Ctrl-C\n"  # (no count: Putin was not searched)


def test_the_repl_greets_and_confirms_its_settings(seed_index):
    transcript = session(seed_index, ":format table", ":dedup off", ":dedup on", ":limit 1",
                         ":limit 3")
    assert transcript[0].startswith("searchkit ") and ":help for commands" in transcript[0]
    assert "\n" not in transcript[0]
    said = [t for t in transcript if not t.startswith("searchkit")]
    assert said[:5] == [
        "format: table",
        "dedup off: every matching paragraph shown on its own",
        "dedup on: near-identical paragraphs shown once, with the other places",
        "limit: 1 result a page",
        "limit: 3 results a page",
    ]


def on_a_terminal(columns, *args, environment=None):
    """What ``searchkit ARGS`` shows on a terminal ``columns`` wide, without colour codes."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.run(
        [sys.executable, "-m", "searchkit", *map(str, args)], stdout=follower,
        stderr=subprocess.DEVNULL, env={**os.environ, **(environment or {})}, timeout=120)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.returncode == 0
    return ANSI.sub("", b"".join(chunks).decode())


def test_on_a_terminal_its_own_width_comes_first(seed_index):
    """A 60-column terminal with COLUMNS=100 in the environment: 60 it is."""
    shown = on_a_terminal(60, "search", "Sergey Tikhanovsky", "--index", seed_index, "-n", "3",
                          environment={"COLUMNS": "100", "NO_COLOR": "1"})
    assert 50 < widest(shown) <= 60


def test_a_repl_filter_whose_search_fails_is_not_kept(seed_index):
    transcript = session(seed_index, "Merkel", ":source moscow times", "Merkel", banner=False)
    assert "error: no source 'moscow times' in the index; the closest: themoscowtimes.com" \
        in transcript
    assert "searchkit [source=moscow times]> " not in transcript
    assert sum(1 for t in transcript if t.startswith("1-6 of 6 results")) == 2


def columns_shown(line):
    """Columns a terminal gives ``line``, measured apart from the code's own measure: East
    Asian wide characters two, combining marks none, colour codes none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF"
               else 1 for c in ANSI.sub("", line))


WIRE = ("The summit in 東京 was attended by many delegates from the region, who talked about "
        "trade, harbours and the weather for hours, while 東京大学 students protested outside.")


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """Five articles with CJK titles, sources and text and combining marks (x̂), one wire
    paragraph printed by all five, long source names, one article undated: in an index."""
    folder = tmp_path_factory.mktemp("wide")
    corpus = folder / "corpus"
    corpus.mkdir()
    manifest = {}
    for n in range(5):
        (corpus / f"tokyo{n}.txt").write_text(
            f"東京で会議が開かれた {n} 東京 summit\n\n{WIRE}\n\nOutlet {n} adds: the harbour "
            f"cafe served x\u0302 and 東京の料理 to delegates on day {n}.\n", encoding="utf-8")
        if n:
            manifest[f"tokyo{n}.txt"] = {"date": f"2020-08-1{n}", "source": (
                "www.a-really-long-outlet-name-for-tests.example.co.uk" if n == 1
                else f"東京新聞 Tokyo Shimbun Evening Edition {n}")}
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    index = folder / "ix"
    assert CliRunner().invoke(main, ["index", str(corpus), "--index", str(index)]).exit_code == 0
    return index


WIDE_OUTPUTS = {
    "search table": ["search", "summit delegates", "--format", "table", "--facets"],
    "search blocks": ["search", "summit delegates", "--format", "plain", "--facets"],
    "show": ["show", "tokyo1#1"],
    "duplicates table": ["duplicates", "--format", "table"],
    "duplicates blocks": ["duplicates", "--format", "plain"],
    "stats": ["stats"],
}


@pytest.mark.parametrize("columns", [40, 100])
@pytest.mark.parametrize("output", WIDE_OUTPUTS)
def test_every_line_fits_in_display_columns(run, wide, output, columns):
    result = run(*WIDE_OUTPUTS[output], "--index", wide, columns=columns)
    assert result.exit_code == 0, result.stderr
    assert "東京" in result.stdout
    folder = str(wide.parent)
    for line in result.stdout.splitlines():
        if folder not in line:  # a path (show's file, stats's index) is kept whole, to copy
            assert columns_shown(line) <= columns, line


def test_table_columns_line_up_under_wide_characters(run, wide):
    result = run(*WIDE_OUTPUTS["search table"], "--index", wide, columns=100)
    table = result.stdout.split("\n\n")[0].splitlines()
    start = columns_shown(table[0].split("snippet")[0])  # where the snippet column starts
    wide_titles = 0
    for line in table[2:]:
        if columns_shown(line) <= start:
            continue  # a title's or a source's last line, under no snippet
        before = next(line[:i] for i in range(len(line)) if columns_shown(line[:i]) >= start)
        assert columns_shown(before) == start and before.endswith("  "), line
        assert line[len(before)] != " ", line  # the snippet starts right there
        wide_titles += "東京で" in before
    assert wide_titles >= 5


def test_stats_fits_a_narrow_terminal(seed_index):
    shown = on_a_terminal(40, "stats", "--index", seed_index)
    assert "nltk snowball" in shown
    assert max(columns_shown(line) for line in shown.splitlines()
               if str(seed_index) not in line) <= 40


def test_stats_in_a_pipe_keeps_each_line_whole(run, wide):
    lines = run("stats", "--index", wide).stdout.splitlines()
    (analyzer,) = [line for line in lines if line.startswith("analyzer")]
    assert analyzer.endswith("stemmer") and columns_shown(analyzer) > 60


@pytest.mark.parametrize("columns", [40, 80])
def test_every_line_the_repl_writes_fits_the_terminal(seed_index, columns):
    """Its banner, :help, notes, counts, settings and errors too, not only results: wrapped at
    spaces, none cut inside a word."""
    transcript = session(seed_index, ":help", "Tikhanovsky Merkel", ":mroe", ":since 2020-08",
                         ":stats", "Merkel date:0000", width=columns)
    said = [text for text in transcript if not text.startswith("searchkit") or "\n" in text]
    assert any("did you mean :more?" in " ".join(text.split()) for text in said)
    for text in [transcript[0]] + said:
        for line in text.splitlines():
            if str(seed_index) not in line:
                assert columns_shown(line) <= columns, line
    words = " ".join(transcript[0].split())
    assert words.startswith("searchkit ") and words.endswith(":quit to leave")


def test_a_place_with_a_very_long_title_names_it_briefly(run, tmp_path):
    """Where a paragraph also appeared is named by source, date, title and id: a title of a
    page's length is cut there with "…" (whole in the article's own lines, show and JSON)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    wire = "The harbour authority said the northern breakwater would be rebuilt over three years."
    long_title = "A headline " + "that goes on and on " * 30 + "end"
    (corpus / "wire.jsonl").write_text("".join(
        json.dumps({"id": name, "title": title, "text": wire}) + "\n"
        for name, title in (("short", "Breakwater rebuilt"), ("long", long_title))))
    index = tmp_path / "ix"
    assert run("index", corpus, "--index", index).exit_code == 0
    result = run("search", "northern breakwater", "--index", index, "-n", "1", columns=100)
    assert result.stdout.startswith("1. Breakwater rebuilt\n")
    assert len(result.stdout.splitlines()) <= 6  # not a page of title
    assert long_title not in " ".join(result.stdout.split())
    assert "…” (wire:long#1)" in " ".join(result.stdout.split())
    for args in (["show", "wire:short#1"], ["duplicates", "--format", "plain"]):
        shown = " ".join(run(*args, "--index", index, columns=100).stdout.split())
        assert long_title not in shown and "…” (wire:long#1)" in shown
    shown = " ".join(run("show", "wire:long#1", "--index", index, columns=100).stdout.split())
    assert shown.startswith(long_title)
