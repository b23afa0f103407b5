"""Scripted REPL sessions: every command, bad input, Ctrl-C, and an index changed mid-session."""

import os
import pty
import re
import select
import shutil
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import S000, S003, S004, SEEDS

import searchkit
from searchkit.cli import repl
from searchkit.cli.commands import main


def session(index_dir, *lines, **options):
    """Run a session on ``lines`` (a callable is run first and gives the line; an exception is
    raised as if typed); return the prompts and output, in order."""
    transcript = []
    feed = iter(lines)

    def read(prompt):
        transcript.append(prompt)
        try:
            line = next(feed)
        except StopIteration:
            raise EOFError from None
        if isinstance(line, BaseException):
            raise line
        return line() if callable(line) else line

    repl.run(read, transcript.append, index_dir, **options)
    return transcript


def outputs(transcript, start):
    """The texts written that start with ``start``."""
    return [text for text in transcript if text.startswith(start)]


def test_search_pages_and_show(seed_index):
    out = session(seed_index, ":limit 2", "Sergey Tikhanovsky", ":more", ":page 3", ":show 5",
                  ":quit", "never read")
    assert outputs(out, "1. ")[0].startswith("1. Europeans are urging Putin")
    assert [c.split(" of ")[0] for c in outputs(out, "1-2 of ") + outputs(out, "3-4 of ")
            + outputs(out, "5-6 of ")] == ["1-2", "3-4", "5-6"]
    assert outputs(out, "3. ") and outputs(out, "5. ")
    (article,) = [text for text in out if "▶" in text]
    assert "source: " in article
    assert out[-1] == "searchkit> " and "never read" not in out  # :quit ends it at once


def test_filters_persist_and_show_in_the_prompt(seed_index):
    out = session(seed_index, ":source themoscowtimes.com", "Merkel", ":since 2020-08",
                  ":until 2020-08-31", "Merkel", ":clear", "Merkel")
    assert "searchkit [source=themoscowtimes.com]> " in out
    assert "searchkit [source=themoscowtimes.com since=2020-08-01 until=2020-08-31]> " in out
    counts = [text for text in out if "matching" in text]
    assert counts[0].startswith("1-2 of 2 results")  # the two Moscow Times paragraphs
    assert counts[-1].startswith("1-6 of 6 results")  # all six, filters cleared
    assert out[-2:] == ["searchkit> ", ""]  # the prompt is bare again; end of input ends it


def test_a_filter_set_before_any_search_is_checked_and_said(seed_index):
    out = session(seed_index, ":source nowhere.example", ":source themoscowtimes.com",
                  ":since 2020-09", ":until 2020-08", "Merkel", ":clear")
    assert ("error: no source 'nowhere.example' in the index; the closest: themoscowtimes.com"
            in out)
    assert "filters: source=themoscowtimes.com since=2020-09-01" in out
    assert "error: the start date 2020-09-01 (since) is after the end date 2020-08-31 (until):" \
        " nothing can match; swap them" in out
    # Neither bad filter was kept: the search runs with the others (nothing in September).
    assert "searchkit [source=themoscowtimes.com since=2020-09-01]> " in out
    assert len(outputs(out, "error: no source")) == 1 and outputs(out, "no paragraphs match")
    assert "filters: none" not in out  # :clear after a search searches again


def test_limit_dedup_format_stats_help(seed_index):
    out = session(seed_index, ":help", ":format table", ":dedup off", ":limit 3",
                  "Sergey Tikhanovsky husband", ":dedup on", ":format plain",
                  "Sergey Tikhanovsky husband", ":stats")
    assert repl.HELP in out
    (table,) = outputs(out, "#")
    assert table.split("\n")[0].split() == ["#", "score", "date", "source", "title", "snippet"]
    (flat,) = outputs(out, "1-3 of ")[:1]
    assert flat.endswith("matching paragraphs") and "results" not in flat  # as --no-dedup
    assert "also in 1 other" in outputs(out, "1. ")[0]  # collapsed again, in plain format
    assert outputs(out, "index ")  # :stats


@pytest.mark.parametrize("bad, message", [
    (":bogus", "error: unknown command :bogus; :help lists the commands"),
    (":mroe", "error: unknown command :mroe (did you mean :more?); :help lists the commands"),
    (":q", "error: unknown command :q (did you mean :quit?); :help lists the commands"),
    (":more 3", "error: :more takes no value (:page N turns to page N)"),
    (":clear source", "error: :clear takes no value (it drops every filter)"),
    (":page two", "error: :page takes a number of 1 or more, like :page 2"),
    (":show 99", "error: no result 99 on this page; :show takes a number shown above "
     "or an id"),
    (":since yesterday", "error: 'yesterday' is not a date: write YYYY, YYYY-MM or YYYY-MM-DD"),
    (":dedup maybe", "error: give one of: on, off"),
    ("*", "error: '*' alone would match every paragraph; give words to search for"),
    (":source", "error: this command needs a value after it; :help shows how"),
])
def test_bad_input_is_one_line_and_the_session_goes_on(seed_index, bad, message):
    out = session(seed_index, "Merkel", bad, "Macron")
    assert message in out
    assert [text for text in out[out.index(message):] if "matching" in text]  # Macron ran


def test_more_before_any_search(seed_index):
    assert "error: no search yet; type some words first" in session(seed_index, ":more")


def test_ctrl_c_drops_the_line_and_ctrl_d_ends(seed_index):
    out = session(seed_index, KeyboardInterrupt(), "Merkel", banner=False)
    assert out[:3] == ["searchkit> ", "", "searchkit> "]
    assert out[-2:] == ["searchkit> ", ""]  # end of input (Ctrl-D) ends it, with a newline


def test_ctrl_c_stops_lines_read_from_a_file(seed_index):
    with pytest.raises(KeyboardInterrupt):
        session(seed_index, "Merkel", KeyboardInterrupt(), "Putin", banner=False,
                prompts=False)


def test_a_search_cancelled_by_ctrl_c(seed_index, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(searchkit.retrieval.searcher.Searcher, "search", interrupted)
    out = session(seed_index, "Merkel", ":quit")
    assert "cancelled" in out and out[-1] == "searchkit> "


def test_the_index_changed_mid_session_is_seen(tmp_path):
    searchkit.build_index([next(SEEDS.glob(f"{S003}*"))], tmp_path)

    def add_004():
        searchkit.build_index([next(SEEDS.glob(f"{S004}*"))], tmp_path)
        return '"prevent destructive forces"'

    out = session(tmp_path, '"prevent destructive forces"', add_004)
    counts = [text for text in out if "matching" in text]
    assert counts == ["1 of 1 result (1 matching paragraph, near-identical ones shown once)",
                      "1 of 1 result (2 matching paragraphs, near-identical ones shown once)"]
    assert "also in 1 other" in outputs(out, "1. ")[-1]


def test_an_index_deleted_and_built_again_mid_session_is_seen(tmp_path):
    """A folder built again from scratch has commit numbers of its own, the same as the one
    open: its answers, not the deleted index's."""
    index_dir = tmp_path / "ix"
    searchkit.build_index([next(SEEDS.glob(f"{S003}*"))], index_dir)
    with searchkit.open_index(index_dir) as searcher:
        assert searcher.is_current()

        def built_again():
            shutil.rmtree(index_dir)
            searchkit.build_index([next(SEEDS.glob(f"{S004}*"))], index_dir)
            assert not searcher.is_current()
            return '"prevent destructive forces"'

        out = session(index_dir, '"prevent destructive forces"', built_again, ":stats")
    counts = [text for text in out if "matching" in text]
    assert counts == ["1 of 1 result (1 matching paragraph, near-identical ones shown once)",
                      "1 of 1 result (1 matching paragraph, near-identical ones shown once)"]
    assert S003 in outputs(out, "1. ")[0] and S004 in outputs(out, "1. ")[1]


def test_pages_and_show_after_the_index_changed_say_so(tmp_path):
    """:show N of results whose paragraph an update removed, and :more across an update, say
    that the index changed since the search."""
    folder = tmp_path / "news"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.txt").write_text(
            f"Strike {name}\n\nDock workers ended their strike at harbour {name}.\n\n"
            f"The harbour of {name} reopened.\n", encoding="utf-8")
    index_dir = tmp_path / "ix"
    searchkit.build_index([folder], index_dir)

    def remove_a(line):
        def typed():
            (folder / "a.txt").unlink()
            searchkit.build_index([folder], index_dir, prune=True)
            return line
        return typed

    out = session(index_dir, ":limit 1", "harbour", remove_a(":show 1"), ":more")
    assert "error: result 1 is no longer in the index: it changed since that search; " \
        "search again" in out
    assert "the index changed since that search: this page is of the new index" in out
    assert outputs(out, "2. ")
    out = session(index_dir, ":limit 1", "harbour", ":more")
    assert not [text for text in out if "changed" in text]


def test_a_missing_index_is_an_error_before_the_prompt(tmp_path):
    with pytest.raises(searchkit.IndexMissingError):
        session(tmp_path / "none", "Merkel")


def test_a_search_that_failed_or_was_cancelled_is_not_the_last_search(seed_index, monkeypatch):
    """A filter set, or a page turned, after a query that was refused or stopped by Ctrl-C
    applies to the last search that ran, not to the one that did not."""
    out = session(seed_index, ":limit 2", "Merkel", "date:0000", ":source themoscowtimes.com",
                  ":more", banner=False)
    assert len(outputs(out, "error: date:0000 is not a date")) == 1
    assert "searchkit [source=themoscowtimes.com]> " in out  # the filter was kept
    counts = [text for text in out if "matching" in text or "is empty" in text]
    assert counts == ["1-2 of 6 results (6 matching paragraphs, near-identical ones shown once)",
                      "1-2 of 2 results (2 matching paragraphs, near-identical ones shown once)",
                      "page 2 is empty: there are 2 results"]

    search = searchkit.retrieval.searcher.Searcher.search

    def slow(self, query, **options):
        if query == "Macron":
            raise KeyboardInterrupt
        return search(self, query, **options)

    monkeypatch.setattr(searchkit.retrieval.searcher.Searcher, "search", slow)
    out = session(seed_index, ":limit 2", "Merkel", "Macron", ":more", banner=False)
    assert "cancelled" in out
    assert [text for text in out if "matching" in text][-1].startswith("3-4 of 6 results")


def test_more_turns_the_pages_of_the_last_search_as_it_ran(seed_index):
    """Settings changed after a search apply from the next one: :more goes on from the last
    result shown, none shown twice or skipped."""
    out = session(seed_index, ":limit 3", "Merkel", ":limit 2", ":more", ":dedup off", ":more",
                  "Merkel", banner=False)
    counts = [text.split(" (")[0] for text in out
              if re.match(r"\d+(-\d+)? of |page \d+ is empty", text)]
    assert counts == ["1-3 of 6 results", "4-6 of 6 results", "page 3 is empty: there are 6 "
                      "results", "1-2 of 6 matching paragraphs"]


def test_show_opens_an_id_shown_such_as_a_reprint(seed_index):
    """The places listed under a result ("also in ... (ID)") open by their id, as with
    `searchkit show ID`; a number is a result's on this page."""
    out = session(seed_index, ":limit 1", "Sergey Tikhanovsky husband", f":show {S000}#34",
                  ":show 1", ":show nowhere#1", banner=False)
    assert f"({S000}#34)" in outputs(out, "1. ")[0]
    reprint, result = [text for text in out if "▶" in text]
    assert "\n▶ 34  " in reprint and "\n▶ 19  " in result
    assert outputs(out, "error: no paragraph or article 'nowhere#1' in ")


@pytest.mark.parametrize("commands, options", [
    ([":sort date"], ["--sort", "date"]),
    ([":sort -date", ":limit 3"], ["--sort", "-date", "-n", "3"]),
    ([":exact on", ":dedup off"], ["--exact", "--no-dedup"]),
    ([":source themoscowtimes.com", ":sort score"], ["--source", "themoscowtimes.com"]),
])
def test_the_repl_answers_as_search_does(seed_index, commands, options, monkeypatch):
    """The same query with the same settings: the same results as `searchkit search`."""
    monkeypatch.delenv("COLUMNS", raising=False)
    query = "Tikhanovsky Merkel"
    out = session(seed_index, *commands, query, banner=False)
    cli = CliRunner().invoke(main, ["search", query, "--index", str(seed_index),
                                    "--format", "plain", *options])
    assert cli.exit_code == 0, cli.stderr
    assert [text for text in out if text.startswith("1. ")] == [cli.stdout.rstrip("\n")]
    assert [text for text in out if text.startswith("1-")] == cli.stderr.splitlines()[-1:]
    exact = "--exact" in options
    assert bool(outputs(out, "note: also searched for")) is not exact


def test_command_names_are_read_in_any_case(seed_index):
    out = session(seed_index, ":SOURCE themoscowtimes.com", ":Limit 1", "Merkel", banner=False)
    assert "filters: source=themoscowtimes.com" in out and "limit: 1 result a page" in out


@pytest.mark.parametrize("word", ["quit", "exit", "help"])
def test_a_command_typed_without_its_colon_is_searched_and_said(seed_index, word):
    out = session(seed_index, word, banner=False)
    assert f"note: searched for {word!r}; commands start with ':' (:help lists them)" in out


class Terminal:
    """`searchkit repl` on a pseudo-terminal (colour off, history in ``home``)."""

    def __init__(self, index_dir, home, term="xterm-256color"):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the REPL, its stdin, stdout and stderr the terminal
            os.execve(sys.executable, [sys.executable, "-m", "searchkit", "repl", "--index",
                                       str(index_dir)],
                      {**os.environ, "TERM": term, "NO_COLOR": "1",
                       "XDG_DATA_HOME": str(home), "COLUMNS": "200"})
        self.shown = b""
        self.prompts = 0

    def _read_until(self, ended, seconds=120):
        deadline = time.monotonic() + seconds
        while not ended() and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 0.1)[0]:
                try:
                    self.shown += os.read(self.fd, 65536)
                except OSError:  # the REPL has ended
                    return True
        return False

    def type(self, keys):
        """Send ``keys`` once the next prompt is shown."""
        self._read_until(lambda: self.shown.count(b"searchkit> ") > self.prompts)
        self.prompts = self.shown.count(b"searchkit> ")
        os.write(self.fd, keys)

    def end(self):
        """Ctrl-D; what the terminal showed."""
        self.type(b"\x04")
        self._read_until(lambda: False)
        os.close(self.fd)
        os.waitpid(self.pid, 0)
        return self.shown.decode("utf-8", errors="replace").replace("\r\n", "\n")


def test_a_quotation_pasted_with_a_line_break_is_one_search(seed_index, tmp_path):
    """The REPL asks the terminal to mark pasted text (bracketed paste), so that a pasted line
    break is part of the line, not an Enter that runs half of the quotation; history keeps
    the quotation as one line."""
    quotation = "“Sergey Tikhanovsky, husband of the opposition,\nSvetlana” https://example.com/a"
    terminal = Terminal(seed_index, tmp_path)
    terminal.type(b"\x1b[200~" + quotation.encode() + b"\x1b[201~\r")
    shown = terminal.end()
    assert "\x1b[?2004h" in shown  # (a terminal not asked sends the line break as Enter)
    counts = re.findall(r"^\d+-\d+ of \d+ results", shown, re.M)
    assert len(counts) == 1, shown
    history = (tmp_path / "searchkit" / "history").read_text(encoding="utf-8")
    assert history.splitlines()[-1] == quotation.replace("\n", " ")
    # A terminal that shows escape codes as text (Emacs's shell), or one that does not say
    # what it is, is not asked.
    for term in ("dumb", ""):
        terminal = Terminal(seed_index, tmp_path, term=term)
        terminal.type(b"Merkel\r")
        shown = terminal.end()
        assert "1-6 of 6 results" in shown and "\x1b" not in shown, term


def test_sessions_open_at_once_keep_each_others_history(seed_index, tmp_path):
    first, second = Terminal(seed_index, tmp_path), Terminal(seed_index, tmp_path)
    first.type(b"Merkel\r")
    second.type(b"Macron\r")
    first.end()
    second.end()
    third = Terminal(seed_index, tmp_path)
    third.type(b"Putin\r")
    third.end()
    history = (tmp_path / "searchkit" / "history").read_text(encoding="utf-8")
    assert history.splitlines() == ["Merkel", "Macron", "Putin"]
    assert (tmp_path / "searchkit" / "history").stat().st_mode & 0o777 == 0o600


def test_a_history_file_that_is_a_link_stays_a_link_and_is_kept_short(seed_index, tmp_path):
    """A history kept elsewhere (a dotfiles folder) and linked to: searchkit writes through the
    link, keeping the last 1000 lines there, and leaves the link in place."""
    kept = tmp_path / "dotfiles" / "searchkit-history"
    kept.parent.mkdir()
    kept.write_text("".join(f"old search {n}\n" for n in range(1500)), encoding="utf-8")
    (tmp_path / "searchkit").mkdir()
    (tmp_path / "searchkit" / "history").symlink_to(kept)
    terminal = Terminal(seed_index, tmp_path)
    terminal.type(b"Merkel\r")
    terminal.end()
    assert (tmp_path / "searchkit" / "history").is_symlink()
    lines = kept.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1000 and lines[-1] == "Merkel" and lines[0] == "old search 501"
    assert sorted(os.listdir(tmp_path / "searchkit")) == ["history"]


def test_a_history_file_larger_than_searchkit_writes_is_left_alone(seed_index, tmp_path):
    """Not read (it would all be held in memory) and not cut to 1000 lines: searchkit did not
    write it. The session says so and goes on."""
    history = tmp_path / "searchkit" / "history"
    history.parent.mkdir()
    with open(history, "wb") as handle:
        handle.truncate(64 << 20)  # (sparse: nothing is written)
    terminal = Terminal(seed_index, tmp_path)
    terminal.type(b"Merkel\r")
    shown = terminal.end()
    assert "1-6 of 6 results" in shown and "history" in shown and "Traceback" not in shown
    assert history.stat().st_size == 64 << 20 and not history.read_bytes()[:1 << 20].strip(b"\0")


def test_tab_completion_offers_each_command_once():
    assert len(repl.COMMANDS) == len(set(repl.COMMANDS)) and ":show" in repl.COMMANDS


def test_a_questions_file_saved_with_a_byte_order_mark_starts_with_its_command(seed_index):
    """Notepad and Excel start a UTF-8 file with U+FEFF: the first line is still a command."""
    out = session(seed_index, "\ufeff:limit 1", "Merkel", banner=False)
    assert "limit: 1 result a page" in out and outputs(out, "1 of 6 results")
