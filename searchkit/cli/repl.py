"""The read-search-print loop. Written against plain ``read(prompt) -> str`` and
``write(text)`` callables so that tests can script whole sessions; the command line gives it
line editing, history and completion.

A plain line is a search; a line starting with ":" is a command (":help" lists them). Filters
set by commands stay for the following searches and show in the prompt. Errors are one line and
the loop goes on; Ctrl-C drops the current line or search, Ctrl-D or ":quit" ends the session.
"""

import difflib
from pathlib import Path
from typing import Callable, Optional, Union

from .. import __version__
from ..config import SORTS, SearchOptions
from ..errors import NotFoundError, QueryError, SearchkitError, UsageError
from ..model import replace
from ..retrieval.plan import Filters, date_bound
from ..retrieval.searcher import Searcher
from . import render

HELP = """\
any text          search (as `searchkit search`: phrases, AND/OR/NOT, field:value, dates)
:plain on|off     read searches as plain text (no syntax), or read their syntax again
:exact on|off     search rare names only as typed, or also their close spellings
:more             the next page of the last search
:page N           page N of the last search
:show N           the whole article of result N, that paragraph marked, and its copies
:show ID          the same for an id shown (a place under "also in", an article)
:source NAME      only paragraphs from NAME (again to add sources)
:since DATE       only paragraphs dated on or after DATE (YYYY, YYYY-MM, YYYY-MM-DD)
:until DATE       only paragraphs dated on or before DATE
:clear            drop the filters
:sort ORDER       score (best first), date (oldest first) or -date (newest first)
:limit N          N results a page
:dedup on|off     one result per group of near-identical paragraphs, or every paragraph
:format table|plain
:stats            what the index holds
:help             this list
:quit             leave (or Ctrl-D)"""

HELP_INDENT = 18  # where each line's description starts
COMMANDS = list(dict.fromkeys(line.split()[0] for line in HELP.splitlines()
                              if line.startswith(":")))
# The commands that take no value, and what to say to one given a value.
NO_VALUE = {":more": ":page N turns to page N", ":clear": "it drops every filter",
            ":stats": "it shows the whole index", ":help": "it lists every command",
            ":quit": "it leaves"}
FIELDS = ["title:", "source:", "kind:", "date:"]


class Session:
    """``write`` prints results and what commands show; ``note`` (else ``write``) prints
    notes, counts of results and errors, as `searchkit search` prints them to stderr.
    ``width``: the columns to fit output to, or what gives them (a terminal may be resized);
    None: tables 120 wide, plain lines unwrapped."""

    def __init__(self, index_dir: Path, write: Callable[[str], None], mark=render.brackets,
                 width: Union[None, int, Callable[[], Optional[int]]] = None,
                 note: Optional[Callable[[str], None]] = None):
        self.index_dir = Path(index_dir)
        self.write = write
        self.note = note or write
        self.mark = mark
        self._width = width if callable(width) else lambda: width
        self.filters = Filters()
        self.limit = SearchOptions.limit
        self.collapse = True
        self.plain = False  # read a search's syntax (where valid) unless this is set
        self.exact = False  # rare names match their close spellings too unless this is set
        self.sort = SORTS[0]
        self.format = "plain"
        self.query: Optional[str] = None
        self.page = 1
        self.ran: dict = {}  # the settings the last search ran with, which its pages keep
        self.results = None
        self._searcher: Optional[Searcher] = None
        self._searched: Optional[Searcher] = None  # the open index the last results came from

    @property
    def prompt(self) -> str:
        shown = self._shown_filters()
        return f"searchkit [{shown}]> " if shown else "searchkit> "

    def _shown_filters(self) -> str:
        shown = [f"source={','.join(self.filters.sources)}"] if self.filters.sources else []
        shown += [f"since={self.filters.since}"] if self.filters.since else []
        shown += [f"until={self.filters.until}"] if self.filters.until else []
        return " ".join(shown)

    def say(self, text: str) -> None:
        """Write one of the session's own lines (a setting, a filter), wrapped to the terminal
        at spaces; a word longer than a line (a path) is kept whole."""
        self.write(render.wrap(text, self._width(), "  ", cut=False))

    def tell(self, text: str) -> None:
        """Write a note, a count of results or an error: where `searchkit search` writes
        them (``note``), wrapped as ``say`` does."""
        self.note(render.wrap(text, self._width(), "  ", cut=False))

    def searcher(self) -> Searcher:
        """The open index, reopened when another process has committed since."""
        if self._searcher is not None and not self._searcher.is_current():
            self._searcher.close()
            self._searcher = None
        if self._searcher is None:
            self._searcher = Searcher(self.index_dir)
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()

    def handle(self, line: str) -> bool:
        """Act on one line; False when the session should end."""
        line = line.lstrip("\ufeff").strip()  # (a file of questions saved with a BOM)
        if not line:
            return True
        if not line.startswith(":"):
            if line.lower() in ("quit", "exit", "help"):
                self.tell(f"note: searched for {line!r}; commands start with ':' "
                          "(:help lists them)")
            self._search(line, 1)
            return True
        name, _, argument = line.partition(" ")
        name, argument = name.lower(), argument.strip()
        if name in NO_VALUE and argument:
            raise UsageError(f"{name} takes no value ({NO_VALUE[name]})")
        if name == ":quit":
            return False
        action = {
            ":help": self._help,
            ":more": lambda: self._turn(self.page + 1),
            ":page": lambda: self._turn(_number(argument, ":page")),
            ":show": lambda: self._show(argument),
            ":source": lambda: self._filter(sources=self.filters.sources + (_needed(argument),)),
            ":since": lambda: self._filter(since=date_bound(_needed(argument))),
            ":until": lambda: self._filter(until=date_bound(_needed(argument), end=True)),
            ":clear": lambda: self._filter(clear=True),
            ":limit": lambda: self._set("limit", _number(argument, ":limit")),
            ":dedup": lambda: self._set("collapse", _choice(argument, ("on", "off")) == "on"),
            ":format": lambda: self._set("format", _choice(argument, ("table", "plain"))),
            ":plain": lambda: self._set("plain", _choice(argument, ("on", "off")) == "on"),
            ":exact": lambda: self._set("exact", _choice(argument, ("on", "off")) == "on"),
            ":sort": lambda: self._set("sort", _choice(argument, SORTS)),
            ":stats": lambda: self.write(
                render.stats_table(self.searcher().stats(), width=self._width())),
        }.get(name)
        if action is None:
            raise UsageError(f"unknown command {name}{_closest(name)}; :help lists the commands")
        action()
        return True

    def _help(self) -> None:
        width = self._width()
        self.write("\n".join(render.wrap(entry, width, " " * HELP_INDENT)
                             for entry in HELP.split("\n")))

    def _set(self, name: str, value) -> None:
        """Change a setting and say what it now is."""
        setattr(self, name, value)
        self.say({
            "limit": f"limit: {self.limit} result{'' if self.limit == 1 else 's'} a page",
            "collapse": "dedup on: near-identical paragraphs shown once, with the other places"
            if self.collapse else "dedup off: every matching paragraph shown on its own",
            "format": f"format: {self.format}",
            "plain": "plain on: searches are read as text, no query syntax"
            if self.plain else "plain off: quotes, AND/OR/NOT, -word, prefix* and fields work",
            "exact": "exact on: names are searched only as typed"
            if self.exact else "exact off: rare names also match their close spellings",
            "sort": "sort: " + {"score": "score, best first", "date": "date, oldest first",
                                "-date": "date, newest first"}[self.sort],
        }[name])

    def _filter(self, clear: bool = False, **changes) -> None:
        """Change the filters and search again (before any search, say what they are); filters
        no search can run with (an unknown source, --since after --until) are not kept."""
        before = self.filters
        self.filters = Filters() if clear else replace(self.filters, **changes)
        try:
            if self.query:
                self._search(self.query, 1)
            else:
                self.searcher().check_filters(self.filters)
                self.say(f"filters: {self._shown_filters() or 'none'}")
        except SearchkitError:
            self.filters = before
            raise

    def _turn(self, page: int) -> None:
        if not self.query:
            raise UsageError("no search yet; type some words first")
        if self.searcher() is not self._searched:
            self.tell("the index changed since that search: this page is of the new index")
        self._search(self.query, page, self.ran)

    def _settings(self) -> dict:
        """What the settings make of a new search (Searcher.search's arguments)."""
        return dict(limit=self.limit, collapse=self.collapse, syntax=not self.plain,
                    variants=not self.exact, sort=self.sort)

    def _search(self, query: str, page: int, settings: Optional[dict] = None) -> None:
        """Run and show a search (with the settings now, or ``settings``); it becomes the last
        search (the one :more, :page and the filters act on) only once it has run, not when it
        is refused or stopped by Ctrl-C."""
        settings = settings or self._settings()
        searcher = self.searcher()
        results = searcher.search(query, filters=self.filters, page=page, **settings)
        self.query, self.page, self.results, self._searched = query, page, results, searcher
        self.ran = settings
        for note in render.notes(results, variants_hint="; :exact on to turn this off",
                                 text_hint=":plain on reads all of a search as text"):
            self.tell(note)
        if results.hits:
            width = self._width()
            if self.format == "table":
                self.write(render.hits_table(results, self.mark, width or 120))
            else:
                self.write(render.hits_plain(results, self.mark, width))
        self.tell(render.count_line(results, collapsed=settings["collapse"]))

    def _show(self, argument: str) -> None:
        """The article of result N on this page, or of a paragraph or article id."""
        if not argument.isdigit():
            view = self.searcher().show(_needed(argument))
            self.write(render.article_text(view, self.mark, width=self._width()))
            return
        rank = _number(argument, ":show")
        hits = {hit.rank: hit for hit in (self.results.hits if self.results else ())}
        if rank not in hits:
            raise UsageError(f"no result {rank} on this page; :show takes a number shown above "
                             "or an id")
        try:
            view = self.searcher().show(hits[rank].id)
        except NotFoundError:
            if self.searcher() is self._searched:
                raise
            raise NotFoundError(f"result {rank} is no longer in the index: it changed since "
                                "that search; search again") from None
        self.write(render.article_text(view, self.mark, width=self._width()))


def _closest(name: str) -> str:
    """" (did you mean :more?)" for a command mistyped, or a command's start (:q)."""
    starting = [command for command in COMMANDS if command.startswith(name)]
    close = starting if len(starting) == 1 else difflib.get_close_matches(name, COMMANDS, 1)
    return f" (did you mean {close[0]}?)" if close else ""


def _needed(argument: str) -> str:
    if not argument:
        raise UsageError("this command needs a value after it; :help shows how")
    return argument


def _number(argument: str, command: str) -> int:
    if not argument.isdigit() or int(argument) < 1:
        raise UsageError(f"{command} takes a number of 1 or more, like {command} 2")
    return int(argument)


def _choice(argument: str, choices) -> str:
    if argument not in choices:
        raise UsageError(f"give one of: {', '.join(choices)}")
    return argument


def run(read: Callable[[str], str], write: Callable[[str], None], index_dir: Path,
        banner: bool = True, prompts: bool = True, **session_options) -> int:
    """The loop: read a line, act on it, print; until :quit or end of input. ``banner``: say
    first what the index holds and how to get help (for a person at a terminal); ``prompts``:
    ``read`` shows the prompt (False: lines come from a file or a pipe, and Ctrl-C stops them
    all: KeyboardInterrupt). Returns the exit status of `searchkit search` for the first line
    that failed (1, or 2 for what was typed wrong), else 0."""
    session = Session(index_dir, write, **session_options)
    session.searcher()  # a missing or unreadable index is an error before the first prompt
    if banner:
        session.tell(f"searchkit {__version__}, index {index_dir}: type words to search, "
                     ":help for commands, :quit to leave")
    status = 0
    try:
        while True:
            try:
                line = read(session.prompt if prompts else "")
            except EOFError:
                if prompts:
                    write("")  # the prompt's line ends
                return status
            except KeyboardInterrupt:  # Ctrl-C at the prompt drops the line
                if not prompts:
                    raise  # lines from a file: Ctrl-C stops them all, as it stops a search
                write("")
                continue
            try:
                if not session.handle(line):
                    return status
            except KeyboardInterrupt:
                if not prompts:
                    raise
                session.tell("cancelled")
            except SearchkitError as error:
                session.tell(render.printable(f"error: {error}"))
                status = status or (2 if isinstance(error, (QueryError, UsageError)) else 1)
    finally:
        session.close()
