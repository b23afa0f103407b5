"""The command line, through click's CliRunner: every command and format, and bad input."""

import json
import os
import pty
import re
import shutil
import subprocess
import sys

import pytest
import samples
from click.testing import CliRunner
from conftest import S000, S001, SEEDS

from searchkit import __version__
from searchkit.cli.commands import main
from searchkit.index.schema import SCHEMA_VERSION

JSONL_FIELDS = {
    "rank", "score", "id", "article_id", "title", "source", "date", "path", "paragraph",
    "kind", "text", "snippet", "highlights",
}


@pytest.fixture
def run(monkeypatch):
    monkeypatch.delenv("SEARCHKIT_INDEX", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    return invoke


def test_index_reports_what_it_did(run, tmp_path):
    result = run("index", SEEDS, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "indexed 5 files" in result.stderr
    assert "16 articles, 341 paragraphs (324 body, 17 caption)" in result.stderr
    assert "15 subheading" in result.stderr and "2 credit" in result.stderr


def test_search_plain_marks_highlights_when_piped(run, seed_index):
    result = run("search", "dialogue with the opposition", "--index", seed_index, "-n", "2")
    assert result.exit_code == 0, result.stderr
    first = result.stdout.split("\n\n")[0].splitlines()
    assert first[0] == (
        "1. Europeans are urging Putin to encourage dialogue to resolve the crisis in Belarus")
    assert first[1].strip() == f"— · — · {S000}#4 · body · score 9.58"
    assert "engage in [dialogue] with the [opposition]." in first[2]
    assert "\x1b[" not in result.stdout
    assert result.stderr.strip() == (
        "1-2 of 144 results (150 matching paragraphs, near-identical ones shown once)")


def test_search_words_need_no_quotes(run, seed_index):
    quoted = run("search", "renounce violence", "--index", seed_index, "--format", "jsonl")
    unquoted = run("search", "renounce", "violence", "--index", seed_index, "--format", "jsonl")
    assert quoted.stdout == unquoted.stdout != ""


def test_search_table(run, seed_index):
    result = run("search", "Merkel", "--index", seed_index, "--format", "table", "-n", "3")
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()[0].split()
    assert header == ["#", "score", "date", "source", "title", "snippet"]
    assert "2020-08-18" in result.stdout and "themoscowtimes.com" in result.stdout
    assert "[Merkel]" in result.stdout


def test_search_jsonl_has_the_documented_fields(run, seed_index):
    result = run("search", '"renounce violence"', "--index", seed_index, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert JSONL_FIELDS <= set(record)
    assert (record["id"], record["article_id"], record["paragraph"]) == (f"{S000}#4", S000, 4)
    assert (record["date"], record["kind"], record["rank"]) == (None, "body", 1)
    assert [record["snippet"][a:b] for a, b in record["highlights"]] == ["renounce", "violence"]
    assert record["snippet"] in record["text"]


def test_jsonl_dates_are_iso(run, seed_index):
    result = run("search", "Tikhanovsky birthday", "--index", seed_index, "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert {r["date"] for r in records if r["article_id"] == S001} == {"2020-08-18"}


def test_no_results_is_exit_0_with_a_note(run, seed_index):
    result = run("search", "xylophone", "--index", seed_index)
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.strip() == "no paragraphs match 'xylophone'"


def test_stats_table_and_json(run, seed_index):
    table = run("stats", "--index", seed_index)
    assert table.exit_code == 0, table.stderr
    assert "341, 324 body, 17 caption" in table.stdout
    data = json.loads(run("stats", "--index", seed_index, "--format", "json").stdout)
    assert (data["articles"], data["paragraphs"]) == (16, 341)
    assert data["sources"]["themoscowtimes.com"] == 1
    assert (data["first_date"], data["undated_articles"]) == ("2020-08-18", 15)
    assert data["settings"]["schema_version"] == SCHEMA_VERSION


def test_missing_index_is_a_one_line_error(run, tmp_path):
    for command in (["search", "putin"], ["stats"]):
        result = run(*command, "--index", tmp_path / "none")
        assert result.exit_code == 1
        assert result.stderr.strip() == (
            f"Error: no index in {tmp_path / 'none'}; "
            f"build one with: searchkit index PATHS --index {tmp_path / 'none'}"
        )
        assert "Traceback" not in result.stderr


def test_unreadable_paths_give_a_clear_error(run, tmp_path):
    result = run("index", tmp_path / "no-such-folder", "--index", tmp_path / "ix")
    assert result.exit_code == 1
    assert "no article files (.txt, .md, " in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(run, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(next(SEEDS.glob(f"{S001}*")), corpus)
    (corpus / "latin1.txt").write_bytes(samples.ONE_POUND_SIGN.encode("latin-1"))  # read
    (corpus / "empty.txt").write_text("  \n")
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = run("index", corpus, tmp_path / "missing.txt", "--index", tmp_path / "ix")
    assert result.exit_code == 3, result.stderr  # done, some files skipped
    assert "indexed 2 files" in result.stderr
    assert "skipped 3 files:" in result.stderr
    assert "missing.txt: no such file or folder" in result.stderr
    assert "empty.txt: empty file" in result.stderr
    assert "binary.txt: binary file" in result.stderr
    assert "latin1.txt: encoding guessed as cp1252" in result.stderr
    found = run("search", "Kolesnikova", "--index", tmp_path / "ix", "--format", "jsonl")
    assert json.loads(found.stdout.splitlines()[0])["article_id"] == S001


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_named_pipe_given_is_skipped_as_what_it_is(run, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(next(SEEDS.glob(f"{S001}*")), corpus)
    os.mkfifo(tmp_path / "pipe.txt")  # there, but nothing to read: no file, no folder
    result = run("index", corpus, tmp_path / "pipe.txt", "--index", tmp_path / "ix")
    assert result.exit_code == 3, result.stderr
    assert (f"  {tmp_path / 'pipe.txt'}: not a file or folder (a device, a pipe or a "
            "socket)\n") in result.stderr


def test_first_search_builds_the_default_index_from_seeds(run, tmp_path, monkeypatch):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    result = run("search", "dialogue with the opposition", "-n", "1")
    assert result.exit_code == 0, result.stderr
    assert "no index in index/ yet; building it from seeds/" in result.stderr
    assert "indexed 5 files" in result.stderr
    assert result.stdout.startswith("1. Europeans are urging Putin")
    again = run("search", "dialogue with the opposition", "-n", "1")
    assert "building" not in again.stderr and again.stdout == result.stdout


def test_index_option_from_environment(run, seed_index, monkeypatch):
    monkeypatch.setenv("SEARCHKIT_INDEX", str(seed_index))
    assert json.loads(run("stats", "--format", "json").stdout)["paragraphs"] == 341


def test_bad_options_are_usage_errors(run, seed_index):
    assert run("search", "putin", "--index", seed_index, "-n", "0").exit_code == 2
    assert run("search", "putin", "--index", seed_index, "--format", "xml").exit_code == 2
    assert run("search", "--index", seed_index).exit_code == 2


def test_version_and_help_with_examples(run):
    version = run("--version")
    assert version.exit_code == 0 and __version__ in version.stdout
    for command in ("index", "search", "duplicates", "show", "stats", "repl"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example" in result.stdout, command


def test_index_that_cannot_be_written_is_a_one_line_error(run, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("index", SEEDS, "--index", blocker / "ix")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {blocker / 'ix'}: Not a directory"


def test_color_choice(run, seed_index):
    args = ["search", "renounce violence", "--index", seed_index, "--format", "plain"]
    always = run(*args, "--color", "always").stdout
    assert "\x1b[33m\x1b[1mrenounce\x1b[0m" in always and "[renounce]" not in always
    for choice in ("never", "auto"):  # CliRunner's output is no terminal
        out = run(*args, "--color", choice).stdout
        assert "[renounce] [violence]" in out and "\x1b[" not in out


def test_json_is_one_array_of_the_jsonl_records(run, seed_index):
    args = ["search", "Tikhanovsky birthday", "--index", seed_index, "-n", "3"]
    array = json.loads(run(*args, "--format", "json").stdout)
    lines = [json.loads(line) for line in run(*args, "--format", "jsonl").stdout.splitlines()]
    assert array == lines and len(array) == 3
    with_facets = json.loads(run(*args, "--format", "json", "--facets").stdout)
    assert with_facets["results"] == array
    assert with_facets["summary"]["facets"]["sources"]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_table_fits_the_terminal_width(run, seed_index, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))  # what shutil.get_terminal_size reads first
    result = run("search", "dialogue with the opposition", "--index", seed_index,
                 "--format", "table", "--color", "always")
    lines = result.stdout.splitlines()
    visible = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in lines]
    assert max(len(line) for line in visible) <= columns
    assert "\x1b[33m\x1b[1mdialogue" in result.stdout  # colour codes are not counted as width


def test_index_quiet_and_verbose(run, tmp_path):
    quiet = run("index", SEEDS, "--index", tmp_path / "q", "--quiet")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    verbose = run("index", SEEDS, "--index", tmp_path / "v", "--verbose")
    lines = verbose.stderr.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["added"] * 5  # a line per file first
    assert lines[1].split()[1].endswith(f"{S001}.txt")
    lines = lines[5:]
    assert lines[0].split() == ["article", "paragraphs", "source", "(from)", "date", "(from)"]
    assert lines[3].split() == [S001, "27", "themoscowtimes.com", "(url)", "2020-08-18",
                                "(byline)"]
    assert sum(1 for line in lines if line.startswith("002_")) == 12
    assert "indexed 5 files" in verbose.stderr
    both = run("index", SEEDS, "--index", tmp_path / "b", "-q", "-v")
    assert both.exit_code == 2 and "contradict" in both.stderr


def test_output_read_only_in_part_is_no_error(seed_index, tmp_path):
    """searchkit ... | head: the reader stops and the rest of stdout goes nowhere, quietly."""
    queries = tmp_path / "queries.tsv"
    queries.write_text("".join(f"q{n}\tBelarus protests\n" for n in range(300)))
    for args in (["search", "--batch", queries], ["search", "Belarus", "--format", "json",
                                                   "--no-dedup", "-n", "300"]):
        process = subprocess.Popen([sys.executable, "-m", "searchkit", *map(str, args),
                                    "--index", str(seed_index)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout.read(10)
        process.stdout.close()  # before the rest (more than a pipe holds) is written
        errors = process.stderr.read().decode()
        assert process.wait(timeout=60) == 0, errors
        assert "Error" not in errors and "Traceback" not in errors


def on_a_terminal(args, env=None):
    """Run the real command with its output on a pseudo-terminal; return what it printed."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"COLUMNS": "100", **(env or {})})
    process = subprocess.run([sys.executable, "-m", "searchkit", *map(str, args)],
                             stdout=follower, stderr=subprocess.DEVNULL, env=environment,
                             timeout=60)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is closed once everything is read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.returncode == 0
    return b"".join(chunks).decode()


def test_on_a_terminal_a_coloured_table_and_no_colour_with_no_color(seed_index):
    args = ["search", "renounce violence", "--index", seed_index, "-n", "1"]
    shown = on_a_terminal(args)
    assert shown.splitlines()[0].split() == ["#", "score", "date", "source", "title", "snippet"]
    assert "\x1b[33m\x1b[1mrenounce\x1b[0m" in shown
    plain = on_a_terminal(args, env={"NO_COLOR": "1"})
    assert "\x1b[" not in plain and "[renounce]" in plain


@pytest.mark.parametrize("env, coloured", [
    ({"TERM": "dumb"}, False),  # a terminal that shows escape codes as text (Emacs's shell)
    ({"NO_COLOR": ""}, True),  # NO_COLOR counts when it is set to something
    ({"TERM": "xterm-256color"}, True),
])
def test_colour_on_a_terminal_follows_term_and_no_color(seed_index, env, coloured):
    shown = on_a_terminal(["search", "renounce violence", "--index", seed_index, "-n", "1"],
                          env=env)
    assert ("\x1b[33m\x1b[1mrenounce\x1b[0m" in shown) is coloured
    assert ("[renounce]" in shown) is not coloured


def test_index_reads_every_format_and_says_how(run, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "wire.jsonl").write_text(
        json.dumps({"uid": "w1", "headline": "Grain deal", "body": "The grain corridor "
                    "reopened on Friday, the ministry said.", "published_at": "2022-08-01"})
        + "\n", encoding="utf-8")
    (corpus / "note.md").write_text(
        "---\ntitle: Harbour notes\nsource: Port Gazette\ndate: 2022-07-30\n---\n\n"
        "Harbour cranes stood idle while the corridor stayed shut.\n", encoding="utf-8")
    (corpus / "russian.txt").write_bytes(
        "Зерновой коридор\n\nЗерновой коридор снова открыт, сообщило министерство.\n"
        .encode("cp1251"))
    ix = tmp_path / "ix"
    result = run("index", corpus, "--index", ix, "--verbose", "--field", "id=uid",
                 "--field", "title=headline", "--field", "text=body",
                 "--field", "date=published_at")
    assert result.exit_code == 0, result.stderr
    assert "files: 3 added, 0 updated, 0 removed, 0 unchanged, 0 skipped" in result.stderr
    assert re.search(r"added +\S*russian\.txt +\(.*cp1251", result.stderr)
    found = run("search", "corridor", "--index", ix, "--format", "jsonl")
    hits = [json.loads(line) for line in found.stdout.splitlines()
            if '"summary"' not in line]
    by_id = {h["id"]: h for h in hits}
    assert by_id["wire:w1#1"]["date"] == "2022-08-01" and by_id["wire:w1#1"]["title"] == \
        "Grain deal"
    assert by_id["note#1"]["source"] == "Port Gazette"
    assert run("search", "коридор", "--index", ix).stdout.count("russian#1") == 1
    again = run("index", corpus, "--index", ix, "--field", "id=uid", "--field", "title=headline",
                "--field", "text=body", "--field", "date=published_at")
    assert f"{ix} is up to date" in again.stderr
    remapped = run("index", corpus, "--index", ix, "--field", "text=body")  # other options:
    assert "files: 0 added, 3 updated" in remapped.stderr  # every file is read again


def test_index_options_are_checked(run, tmp_path):
    for args, message in [(["--encoding", "klingon"], "unknown encoding"),
                          (["--field", "body"], "is not NAME=KEY"),
                          (["--field", "colour=paint"], "is not one of")]:
        result = run("index", SEEDS, "--index", tmp_path / "ix", *args)
        assert result.exit_code == 2 and message in result.stderr, result.stderr


def _params(command):
    return {p.name: p for p in main.commands[command].params}


def test_the_cli_defaults_and_choices_are_the_library_s():
    """The command line takes its defaults and choices from the library, so the two cannot
    drift apart (a default changed in the library shows in --help and in behaviour)."""
    import inspect

    from searchkit.index import dedup, store
    from searchkit.ingest.formats import jsonl
    from searchkit import model
    from searchkit.config import DEFAULT_MAX_BYTES, SearchOptions
    from searchkit.index.build import build_index
    from searchkit.cli.repl import Session
    from searchkit.retrieval.searcher import SORTS, Searcher

    search = _params("search")
    signature = inspect.signature(Searcher.search).parameters
    assert search["limit"].default == SearchOptions().limit
    assert list(search["sort"].type.choices) == list(SORTS)
    assert search["sort"].default == signature["sort"].default
    assert search["page"].default == signature["page"].default
    assert list(search["kinds"].type.choices) == list(model.INDEXED_KINDS)
    for command in ("index", "optimize"):
        assert _params(command)["wait"].default == store.LOCK_WAIT
    assert inspect.signature(build_index).parameters["wait"].default == store.LOCK_WAIT
    assert inspect.signature(store.optimize).parameters["wait"].default == store.LOCK_WAIT
    index = _params("index")
    assert f"else {dedup.DEFAULT_THRESHOLD}]" in index["dedup_threshold"].help
    assert f"[default: {DEFAULT_MAX_BYTES // (1024 * 1024)}]" in index["max_size"].help
    for name in jsonl.NAMES:
        assert name in index["fields"].help
    assert Session(SEEDS, print).limit == SearchOptions().limit


def test_index_field_names_and_encodings_are_the_reader_s(run, tmp_path):
    from searchkit.ingest.formats import jsonl

    for name in jsonl.NAMES:  # every name the reader knows is accepted...
        result = run("index", tmp_path / "none", "--index", tmp_path / "ix", "--field",
                     f"{name}=x", "--encoding", "cp1251")
        assert result.exit_code == 1 and "no article files" in result.stderr, result.stderr
    refused = run("index", SEEDS, "--index", tmp_path / "ix", "--encoding", "klingon")
    assert refused.exit_code == 2
    assert "unknown encoding 'klingon'; give one Python knows" in refused.stderr  # its message


def test_json_records_hold_every_field_of_the_model(seed_index):
    """JSON output is the model's records (dates as YYYY-MM-DD): a field added to one shows
    in ``--format json`` without a hand-written mapping to keep up."""
    import searchkit
    from searchkit.cli import render
    from searchkit.model import ArticleView, Duplicate, Hit, fields_of

    def names(cls):
        return set(fields_of(cls))

    with searchkit.open_index(seed_index) as searcher:
        results = searcher.search("dialogue with the opposition", limit=20)
        group = next(g for g in results.groups if g.duplicates)
        view = searcher.show(group.leader.id)
        stats = searcher.stats()
    hit = json.loads(render.dumps(render.group_record(group)))
    assert set(hit) == names(Hit) - {"snippet"} | {"snippet", "highlights", "duplicates"}
    assert hit["date"] == (group.leader.date.isoformat() if group.leader.date else None)
    assert hit["highlights"] == [list(r) for r in group.leader.snippet.highlights]
    assert all(set(d) == names(Duplicate) for d in hit["duplicates"])
    article = render.article_record(view)
    assert set(article) == names(ArticleView)
    assert [p["paragraph"] for p in article["paragraphs"]] == [p.number for p in view.paragraphs]
    record = render.stats_record(stats)
    assert record["index"] == stats.index_dir
    assert record["unknown_source_articles"] == stats.unknown_source
    assert record["first_date"] == stats.first_date.isoformat()
    assert json.loads(render.dumps(record)) == record


def test_dedup_is_the_users_word_and_collapse_the_codes():
    """docs/commands.md: a user types "dedup" (CLI and REPL alike), the library says
    ``collapse``; no option offers a third word for it."""
    import inspect

    from searchkit.cli import repl
    from searchkit.retrieval.searcher import Searcher

    flags = {flag for command in main.commands.values() for p in command.params
             for flag in p.opts + p.secondary_opts}
    assert {"--no-dedup", "--dedup-threshold"} <= flags
    assert not [f for f in flags if "collapse" in f or "group" in f or "dup" in f.replace(
        "dedup", "")]
    assert ":dedup" in repl.COMMANDS
    assert "collapse" in inspect.signature(Searcher.search).parameters
    assert "one word for users, one for code" in (SEEDS.parent / "docs" / "commands.md").read_text(
        encoding="utf-8")


def test_ctrl_c_while_python_loads_the_command_line_is_one_line(tmp_path):
    """The first ~0.1 s of a run are spent importing: a Ctrl-C there (made here by the
    import itself) ends with a line and status 130, as it does later, not a traceback."""
    script = (
        "import builtins\n"
        "load = builtins.__import__\n"
        "def interrupted(name, *args, **kwargs):\n"
        "    if name.endswith('commands'):\n"
        "        raise KeyboardInterrupt\n"
        "    return load(name, *args, **kwargs)\n"
        "builtins.__import__ = interrupted\n"
        "from searchkit.cli import run\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 130
    assert done.stderr == "searchkit: stopped by Ctrl-C before it began; nothing was changed\n"
    assert done.stdout == ""


@pytest.mark.parametrize("args", [["search", "Merkel"], ["show", f"{S000}#4"], ["stats"],
                                  ["duplicates"], ["check"]])
def test_ctrl_c_stops_any_command_with_status_130(run, seed_index, monkeypatch, args):
    """A slow search (or show, stats, ...) stopped by Ctrl-C says so in one line and ends
    with 130, as index does, so that a shell loop over searches stops too; not "Aborted!"
    and 1, an error's status."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("searchkit.retrieval.searcher.Searcher.__init__", interrupted)
    monkeypatch.setattr("searchkit.index.store.check", interrupted)
    result = run(*args, "--index", seed_index)
    assert result.exit_code == 130
    assert result.stderr == "searchkit: stopped by Ctrl-C\n" and result.stdout == ""
