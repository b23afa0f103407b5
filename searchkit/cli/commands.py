"""The command line: thin click commands over the library. Results go to stdout; progress,
notes and errors to stderr. Exit codes: 0 success (also "no results"), 1 a searchkit error,
2 a usage error or a query that cannot be run as typed, 3 an index run that skipped
some files, 130 stopped by Ctrl-C."""

import contextlib
import functools
import os
import stat
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import click

from .. import __version__
from ..config import (
    CLUSTER_ENV,
    DEFAULT_CORPUS_DIR,
    DEFAULT_DEDUP_THRESHOLD,
    DEFAULT_INDEX_DIR,
    DEFAULT_MAX_BYTES,
    INDEX_ENV,
    LOCK_WAIT,
    MAX_QUERY_CHARS,
    SORTS,
    SearchOptions,
)
from ..errors import CorpusError, QueryError, SearchkitError
from ..model import INDEXED_KINDS, IndexSummary
from . import render


EXIT_SKIPPED = 3  # `index` did its work but could not use some files
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
HISTORY_LINES = 1000  # lines of REPL history kept
# A history file larger than those lines make (each a query at most) is not one searchkit
# wrote: it is neither read (all of it would be held in memory) nor cut to HISTORY_LINES.
HISTORY_BYTES = HISTORY_LINES * (MAX_QUERY_CHARS * 4 + 1)


class _QueryProblem(click.ClickException):
    exit_code = 2  # like a usage error: what was typed must change


class _Group(click.Group):
    """Turns searchkit's and the file system's errors into one-line messages and exit code 1
    (2 for a query that cannot be run as typed), never a traceback; Ctrl-C into a line and
    130, as shells report a program stopped by it."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QueryError as error:
            raise _QueryProblem(render.printable(str(error))) from None
        except SearchkitError as error:  # may name a file, or quote an index's contents
            raise click.ClickException(render.printable(str(error))) from None
        except BrokenPipeError:  # whoever read stdout stopped (| head): no error of ours
            _drop_stdout()
            ctx.exit(0)
        except KeyboardInterrupt:  # (index and optimize say first what state the index is in)
            click.echo("searchkit: stopped by Ctrl-C", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except OSError as error:  # e.g. an index folder that cannot be created or written
            where = f"{error.filename}: " if error.filename else ""
            raise click.ClickException(
                render.printable(f"{where}{error.strerror or error}")) from None


def _drop_stdout() -> None:
    """Send what is left for stdout nowhere, so that flushing it at exit raises nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout with no file (captured in tests)
        pass


index_option = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX_DIR,
    envvar=INDEX_ENV,
    show_default=True,
    help=f"Index folder (or set {INDEX_ENV}).",
)


wait_option = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=LOCK_WAIT,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another searchkit process writing the index before giving up.",
)


color_option = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Highlight matches in colour (auto: on a terminal, unless NO_COLOR is set or "
    "TERM=dumb); without colour they are [bracketed].",
)


def _marker(color: str):
    """How matched words are shown: bold yellow, or [brackets]. Automatic colour needs a
    terminal that shows it (TERM=dumb ones print the codes) and NO_COLOR unset or empty."""
    if color == "always" or (
        color == "auto" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM") != "dumb"
    ):
        return lambda text: click.style(text, bold=True, fg="yellow")
    return render.brackets


class _Progress:
    """Progress on stderr (a terminal only), one line per stage of a long job: a bar for a
    stage with counts, its label and then its seconds for a step without (total 0)."""

    def __init__(self):
        self._bar = None
        self._label = None
        self._step = False  # a step's label is shown, its time not yet

    def __call__(self, label, _total):
        def update(done, total):
            if not sys.stderr.isatty():
                return  # in a pipe or a log, the summary says enough
            if self._label != label:
                self.close()
                self._label = label
                self._started = time.monotonic()
                if not total:
                    click.echo(f"{label} …", err=True, nl=False)
                    self._step = True
                    return
                self._bar = click.progressbar(
                    length=total, label=label, file=sys.stderr, show_pos=True,
                    item_show_func=lambda rate: rate,
                )
                self._bar.__enter__()
            if self._bar is None:
                return
            rate = done / max(time.monotonic() - self._started, 1e-6)
            self._bar.update(done - self._bar.pos, f"{rate:,.0f}/s")

        return update

    def close(self):
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
        if self._step:
            click.echo(f" {time.monotonic() - self._started:.1f} s", err=True)
            self._step = False
        self._label = None


def _terminal_columns() -> Optional[int]:
    """The width of the terminal that stdout is, else $COLUMNS if set, else None."""
    if sys.stdout.isatty():
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            columns = 0
        if columns > 0:
            return columns
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return columns if columns > 0 else None


def _width() -> int:
    """Columns for a table: the terminal's width, else $COLUMNS, else 80 on a terminal that
    does not say and 120 in a pipe."""
    return _terminal_columns() or (80 if sys.stdout.isatty() else 120)


def _text_width() -> Optional[int]:
    """Columns to wrap plain text at, as ``_width``, but None in a pipe without $COLUMNS:
    lines are then kept whole, for tools that read them."""
    return _terminal_columns() or (80 if sys.stdout.isatty() else None)


def _emit(fmt, color: str = "auto", **renderers) -> None:
    """Print the output in ``fmt``; by default a table on a terminal, plain text in a pipe.
    (click drops colour codes in a pipe unless told to keep them: --color always.)"""
    text = renderers[fmt or ("table" if sys.stdout.isatty() else "plain")]()
    click.echo(text, color=True if color == "always" else None)


def _build(paths, index_dir: Path, rebuild: bool, verbosity=0, **options) -> IndexSummary:
    """Index, with progress bars on a terminal and the summary after (none with verbosity -1;
    with 1, a line per file and per article read first)."""
    from ..index import layout
    from ..index.build import build_index

    progress = _Progress() if verbosity >= 0 else None
    before = layout.newest_generation(index_dir)
    try:
        summary = build_index(paths, index_dir, rebuild=rebuild, progress=progress, **options)
    except KeyboardInterrupt:
        if progress:
            progress.close()
        _stop_interrupted(index_dir, before)
    finally:
        if progress:
            progress.close()
    if verbosity > 0:
        click.echo(render.file_actions(summary), err=True)
        if summary.article_summaries:
            click.echo(render.articles_read(summary), err=True)
    if verbosity >= 0:
        click.echo(render.index_summary(summary), err=True)
    return summary


def _stop_interrupted(index_dir: Path, before: Optional[int] = None) -> None:
    """Say what Ctrl-C left of a run that writes the index (None: it wrote nothing yet), and
    exit with the status that says so."""
    click.echo(_interrupted(index_dir, before), err=True)
    sys.exit(EXIT_INTERRUPTED)


def _interrupted(index_dir: Path, before: Optional[int]) -> str:
    """What Ctrl-C left of an `index` or `optimize` run: the state the index is in, and how to
    go on (``before``: the commit the run started from; None if it wrote nothing yet)."""
    from ..index import store

    generation, paragraphs = store.state(index_dir)
    if before is None:
        before = generation
    if generation < 0:
        state = f"no index was written in {index_dir}"
    elif generation == before:
        state = (f"the index in {index_dir} is as it was before this run"
                 + (f" ({paragraphs:,} paragraphs)" if paragraphs else " (empty)"))
    elif paragraphs is not None and paragraphs == 0:
        state = f"the index in {index_dir} is empty (its first build was stopped)"
    else:
        state = f"this run's changes were saved in {index_dir}"
        state += f" ({paragraphs:,} paragraphs)" if paragraphs is not None else ""
    return f"interrupted: {state}; run the same command again to resume"


def _build_default_index(index_dir: Path) -> None:
    """The first use of the default index builds it from ./seeds (an --index or
    $SEARCHKIT_INDEX that does not exist is an error instead)."""
    from ..index import layout

    source = click.get_current_context().get_parameter_source("index_dir")
    if source == click.core.ParameterSource.DEFAULT and not layout.exists(index_dir):
        if DEFAULT_CORPUS_DIR.is_dir():
            click.echo(
                f"searchkit: no index in {index_dir}/ yet; building it from {DEFAULT_CORPUS_DIR}/",
                err=True,
            )
            _build([DEFAULT_CORPUS_DIR], index_dir, rebuild=False)


def _open(index_dir: Path):
    """Open the index, building the default one first if need be (also when a first build of
    it was stopped)."""
    from ..errors import IndexEmptyError
    from ..retrieval.searcher import Searcher

    _build_default_index(index_dir)
    try:
        return Searcher(index_dir)
    except IndexEmptyError:
        source = click.get_current_context().get_parameter_source("index_dir")
        if source != click.core.ParameterSource.DEFAULT or not DEFAULT_CORPUS_DIR.is_dir():
            raise
    click.echo(f"searchkit: the index in {index_dir}/ is empty; building it from "
               f"{DEFAULT_CORPUS_DIR}/", err=True)
    _build([DEFAULT_CORPUS_DIR], index_dir, rebuild=False)
    return Searcher(index_dir)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="searchkit")
def main():
    """Search news articles by paragraph: who said this, where, and when?

    \b
    Start with:  searchkit search "dialogue with the opposition"
    (the first search builds ./index from ./seeds)."""


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_option
@click.option("--rebuild", is_flag=True, help="Start the index afresh instead of updating it.")
@click.option("--prune", is_flag=True,
              help="Also remove indexed files that no longer exist or are gone from PATHS.")
@click.option(
    "--dedup-threshold",
    type=click.FloatRange(min=0, max=1, min_open=True),
    help="How alike near-identical paragraphs must be, 0-1 (share of the shorter one's word "
    f"3-grams found in the other) [default: the index's, else {DEFAULT_DEDUP_THRESHOLD}]. "
    "Regroups the whole index.",
)
@click.option("--encoding", metavar="NAME",
              help="Read every text file in this encoding (e.g. cp1251) instead of working "
              "it out; a file it cannot decode is skipped.")
@click.option("--field", "fields", multiple=True, metavar="NAME=KEY",
              help="JSON lines: take searchkit's NAME (text, title, date, source, url, id) "
              "from the record's KEY, e.g. --field text=body (repeat for several).")
@click.option("--max-size", type=click.IntRange(min=1), metavar="MB",
              help="Skip files larger than this many megabytes "
              f"[default: {DEFAULT_MAX_BYTES >> 20}].")
@click.option("--follow", is_flag=True,
              help="Also follow symbolic links that lead outside the folders given (by default "
              "they are skipped, with the reason).")
@click.option("--source", metavar="NAME",
              help="The source of articles that state none (no manifest entry, metadata, URL, "
              "'Source:' line or byline names one); without it they have no source.")
@click.option("--cluster", "cluster_address", metavar="ADDRESS", envvar=CLUSTER_ENV,
              help="Build on the running Dask cluster whose scheduler is at ADDRESS (e.g. "
              f"tcp://10.0.0.5:8786; or set {CLUSTER_ENV}). Every worker must see the index "
              "folder and the files at the same paths. Needs: pip install 'searchkit[cluster]'.")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Build on a local Dask cluster of N worker processes started here.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True,
              help="Also list every file (what was done, its encoding) and every article read, "
              "with its source and date and how each was found (and, on a cluster, what each "
              "worker did).")
@wait_option
def index_command(paths, index_dir, rebuild, prune, dedup_threshold, encoding, fields, max_size,
                  follow, source, cluster_address, workers, quiet, verbose, wait):
    """Index article files from PATHS (files or folders; default ./seeds).

    An existing index is updated: new files are added, changed ones (by content) re-indexed,
    moved or renamed ones re-indexed in place of their old selves, unchanged ones left alone;
    --prune also removes files that are gone. --rebuild starts afresh with exactly these
    files.

    Exit status: 0 done, 1 an error (the index stays as it was), 3 done but some files were
    skipped (listed with the reason), 130 stopped by Ctrl-C (it says what state the index is
    in; the same command resumes).

    \b
    Examples:
      searchkit index ../news --index news-index
      searchkit index ../news --index news-index --prune
      searchkit index ../bbc --index bbc-index --source "BBC News"
    """
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose contradict each other; give one")
    if rebuild:
        _unused(("prune", "with --rebuild (the index then holds exactly the files given)"))
    verbosity = -1 if quiet else 1 if verbose else 0
    if cluster_address is not None and workers is not None:
        if click.get_current_context().get_parameter_source("cluster_address") \
                != click.core.ParameterSource.ENVIRONMENT:
            raise click.UsageError("--cluster and --workers contradict each other; give one")
        cluster_address = None  # --workers overrides $SEARCHKIT_CLUSTER
    before = None  # the commit this run starts from, once known
    try:
        from ..index import layout

        before = layout.newest_generation(index_dir)
        options = _read_options(encoding, fields, max_size, follow, source)
        with _cluster(cluster_address, workers, verbosity) as cluster:
            summary = _build(
                list(paths) or [DEFAULT_CORPUS_DIR], index_dir, rebuild, verbosity,
                dedup_threshold=dedup_threshold, prune=prune, wait=wait, options=options,
                cluster=cluster,
            )
            if cluster is not None and verbosity > 0:
                click.echo(render.cluster_work(cluster.done), err=True)
    except KeyboardInterrupt:  # also while modules are imported, or a cluster starts or stops
        _stop_interrupted(index_dir, before)
    if summary.skipped_files:
        sys.exit(EXIT_SKIPPED)


@contextlib.contextmanager
def _cluster(address: Optional[str], workers: Optional[int], verbosity: int):
    """The Dask cluster to build on (None: this machine alone), said on stderr."""
    if address is None and workers is None:
        yield None
        return
    from ..index.cluster import Cluster

    with Cluster(address=address, workers=workers) as cluster:
        if verbosity >= 0:
            where = f"at {address}" if address else "started here"
            count = len(cluster.workers)
            dashboard = f"; dashboard: {cluster.dashboard}" if cluster.dashboard else ""
            click.echo(f"building on the Dask cluster {where} ({count} "
                       f"worker{'s' if count != 1 else ''}{dashboard})", err=True)
        yield cluster


def _read_options(encoding, fields, max_size, follow=False, source=None):
    """ReadOptions from the index command's flags (usage errors for malformed ones)."""
    from ..ingest.corpus import ReadOptions
    from ..ingest.encoding import check_encoding_name
    from ..ingest.formats.jsonl import NAMES

    if encoding:
        try:
            encoding = check_encoding_name(encoding)
        except CorpusError as error:
            raise click.BadParameter(str(error), param_hint="--encoding") from None
    mapping = {}
    for item in fields:
        name, _, key = item.partition("=")
        if not name.strip() or not key.strip():
            raise click.BadParameter(f"{item!r} is not NAME=KEY (e.g. text=body)",
                                     param_hint="--field")
        if name.strip() not in NAMES:
            raise click.BadParameter(f"{name!r} is not one of {', '.join(NAMES)}",
                                     param_hint="--field")
        mapping[name.strip()] = key.strip()
    if source is not None and not source.strip():
        raise click.BadParameter("give a name", param_hint="--source")
    options = {"encoding": encoding, "fields": mapping, "follow_links": follow,
               "source": " ".join(source.split()) if source else None}
    if max_size:
        options["max_bytes"] = max_size * 1024 * 1024
    return ReadOptions(**options)


@main.command("optimize")
@index_option
@wait_option
def optimize_command(index_dir, wait):
    """Merge the index's segments into one (searches get a little faster; incremental
    indexing leaves big segments alone). Waits for a running `index` like --wait says.

    \b
    Example:  searchkit optimize --index news-index
    """
    progress = _Progress()
    before = None
    try:
        from ..index import layout, store

        before = layout.newest_generation(index_dir)
        done = store.optimize(index_dir, wait=wait, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        _stop_interrupted(index_dir, before)
    finally:
        progress.close()
    if not done.merged:
        click.echo(
            f"nothing to optimize: {done.index_dir} is "
            + ("empty" if not done.segments_before else
               f"one segment with no deleted paragraphs ({done.paragraphs} paragraphs)"),
            err=True,
        )
        return
    click.echo(
        f"optimized {done.index_dir}: {render._counted(done.segments_before, 'segment')} -> "
        f"{done.segments_after}, {render._counted(done.paragraphs, 'paragraph')}, "
        f"{done.seconds:.1f} s",
        err=True,
    )


@main.command("check")
@index_option
def check_command(index_dir):
    """Verify the index: every file against its SHA-256 recorded at commit, every paragraph
    readable, the counts consistent; list leftovers of interrupted runs. Exit status 1 if
    anything is wrong, with how to repair it.

    \b
    Example:  searchkit check --index news-index
    """
    from ..index import store

    report = store.check(index_dir)
    click.echo(render.check_report(report))
    if not report.ok:
        sys.exit(1)


class _SearchCommand(click.Command):
    """`searchkit search -Putin` reads -P as an option: say how to search for a word with '-'
    in front."""

    def parse_args(self, ctx, args):
        given = list(args)  # click's parser consumes the list
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            word = next((a for a in given if a.startswith(error.option_name)), "")
            if error.option_name.startswith("--") or len(word) < 2:
                raise
            import shlex

            words = [a for a in given if a == word or not a.startswith("-")]
            query = shlex.join(words) if len(words) == len(given) else shlex.quote(word)
            raise click.UsageError(
                f"no such option: {error.option_name}. A word with '-' in front leaves out the "
                f"paragraphs that have it: put -- before the query, as in "
                f"searchkit search -- {query}", ctx) from None


def _unused(*options: Tuple[str, str]) -> None:
    """A note for each of ``options`` (parameter name, why it does nothing here) given on the
    command line or in the environment."""
    ctx = click.get_current_context()
    given = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    for name, why in options:
        if ctx.get_parameter_source(name) in given:
            flag = "--" + name.replace("_", "-")
            click.echo(f"note: {flag} does nothing {why}", err=True)


@main.command("search", cls=_SearchCommand)
@click.argument("query", nargs=-1)
@index_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=SearchOptions.limit,
              show_default=True, help="Number of results (with --batch: documents per query).")
@click.option("--format", "fmt", type=click.Choice(["table", "plain", "jsonl", "json", "trec"]),
              help="Output format [default: table on a terminal, plain otherwise; with --batch: "
              "trec (qid Q0 docid rank score run), or jsonl (one ranked list a line)].")
@click.option("--batch", "batch_file", metavar="QUERIES",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Run every query of this file (TSV id<TAB>text, or JSON lines with _id and "
              "text) instead of QUERY, and write one ranked list of documents per query. "
              "A document is an article, scored whole (its paragraphs' words together); its id "
              "is a JSON-lines record's own id (SciFact's _id), else the article id.")
@click.option("--run-name", default="searchkit", show_default=True, metavar="NAME",
              help="With --batch --format trec: the run name in the last column.")
@color_option
@click.option("--no-dedup", is_flag=True,
              help="Show every matching paragraph instead of one per group of near-identical ones.")
@click.option("--since", metavar="DATE", help="Only paragraphs dated on or after DATE "
              "(YYYY, YYYY-MM or YYYY-MM-DD); undated ones are left out.")
@click.option("--until", metavar="DATE", help="Only paragraphs dated on or before DATE.")
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Only paragraphs from this source (repeat for several).")
@click.option("--kind", "kinds", type=click.Choice(INDEXED_KINDS), multiple=True,
              help="Only body paragraphs or only photo captions.")
@click.option("--sort", type=click.Choice(SORTS), default=SORTS[0],
              show_default=True, help="Best first, oldest first, or newest first.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True,
              help="Which page of results (-n per page).")
@click.option("--facets", is_flag=True,
              help="Also count the matching paragraphs per source and per month.")
@click.option("--exact", is_flag=True,
              help="Do not also match close spellings of rare names (Tikhanovskaya, Tkhanovskaya).")
@click.option("--plain", is_flag=True,
              help="Read all of QUERY as text: no phrases, operators, wildcards or fields.")
@click.option("--syntax", is_flag=True,
              help="With --batch: read the queries' syntax too (by default they are plain text).")
def search_command(query, index_dir, limit, fmt, batch_file, run_name, color, no_dedup, since,
                   until, sources, kinds, sort, page, facets, exact, plain, syntax):
    """Search paragraphs for QUERY (or, with --batch QUERIES, rank documents for every
    query of a file: TREC run or JSON lines).

    Words match in any order (paragraphs with all of them first); "quoted phrases",
    AND / OR / NOT / -word, parentheses, prefix* and field:value (title:, source:, kind:,
    date:2020-08, date:[2020-08-01 TO 2020-08-31]) work too, where they are valid: the rest
    is searched as text, with a note (--plain reads all of QUERY as text). Rare names also
    match their close spellings (--exact turns that off); a query that finds little suggests
    a better one. QUERY - reads the query from standard input (pasted text, line breaks
    and quotes included).
    A paragraph reprinted in several places is one result that lists the other places,
    earliest first; -n counts such results.

    \b
    Examples:
      searchkit search "dialogue with the opposition"
      searchkit search '"renounce violence"' --format jsonl
      searchkit search 'Tikhanovskaya AND kind:caption' -n 3
      searchkit search oil --since 1987-03 --until 1987-04 --facets --sort date
      searchkit search --batch queries.tsv -n 1000 --run-name bm25 > run.trec
    """
    from ..retrieval.plan import Filters, date_bound

    if batch_file is None or fmt == "jsonl":
        _unused(("run_name", "without --batch --format trec (it names the run in TREC lines)"))
    if fmt in ("json", "jsonl", "trec") or batch_file is not None:
        _unused(("color", "with JSON or TREC output (never coloured)"))
    if batch_file is None:
        _unused(("syntax", "without --batch (a QUERY's syntax is read unless --plain)"))
    else:
        _unused(("plain", "with --batch (its queries are plain text unless --syntax)"))
    filters = Filters(
        since=date_bound(since) if since else None,
        until=date_bound(until, end=True) if until else None,
        sources=sources,
        kinds=kinds,
    )
    if batch_file is not None:
        _check_batch(query, fmt, run_name, no_dedup, sort, page, facets)
        _search_batch(batch_file, index_dir, limit, fmt or "trec", run_name, filters,
                      dict(variants=not exact, syntax=syntax))
        return
    if not query:
        raise click.UsageError("give a QUERY to search for (- reads it from standard input), "
                               "or --batch QUERIES")
    if fmt == "trec":
        raise click.UsageError("--format trec is for --batch runs; give --batch QUERIES")
    text = _stdin_query() if query == ("-",) else " ".join(query)
    _search_query(text, index_dir, fmt, color, dict(
        limit=limit, collapse=not no_dedup, filters=filters, sort=sort, page=page,
        facets=facets, variants=not exact, syntax=not plain))


def _stdin_query() -> str:
    """The query text on standard input (``searchkit search -``): text pasted as it was copied,
    line breaks, quotes and all, which a shell's quoting would mangle."""
    most = MAX_QUERY_CHARS * 4  # bytes: no character of UTF-8 takes more than 4
    try:
        if sys.stdin is None:  # (started with standard input closed)
            raise OSError("it is closed")
        if sys.stdin.isatty():
            click.echo("Paste the text, then press Ctrl-D on a line of its own.", err=True)
        data = sys.stdin.buffer.read(most + 1)
    except OSError as error:
        raise QueryError("cannot read the query from standard input: "
                         f"{error.strerror or error}") from None
    if len(data) > most:
        raise QueryError(f"the text on standard input is over {MAX_QUERY_CHARS} characters "
                         f"long; the most is {MAX_QUERY_CHARS}")
    return data.decode("utf-8", errors="replace")


def _search_query(query: str, index_dir: Path, fmt, color: str, options: dict) -> None:
    """One query (``options``: Searcher.search's): the results to stdout, notes and what they
    are out of to stderr."""
    from ..retrieval.plan import check_text

    check_text(query)  # a query refused as typed costs no index opening
    with _open(index_dir) as searcher:
        results = searcher.search(query, **options)
    for note in render.notes(results, variants_hint="; --exact to turn this off",
                             text_hint="--plain reads all of a query as text"):
        click.echo(note, err=True)
    fmt = fmt or ("table" if sys.stdout.isatty() else "plain")
    mark, facets = _marker(color), options["facets"]
    if fmt == "json":
        click.echo(render.results_json(results, with_summary=facets))
    elif results.hits:
        _emit(
            fmt,
            color,
            jsonl=lambda: render.hits_jsonl(results),
            table=lambda: render.hits_table(results, mark, _width()),
            plain=lambda: render.hits_plain(results, mark, _text_width()),
        )
    if facets and fmt != "json":
        if fmt == "jsonl":
            click.echo(render.summary_json(results))
        else:
            width = _width() if fmt == "table" else _text_width()
            facets_text = render.facets_table(results.facets, width=width)
            click.echo(("\n" if results.hits else "") + facets_text)
    click.echo(render.count_line(results, collapsed=options["collapse"]), err=True)


def _check_batch(query, fmt, run_name, no_dedup, sort, page, facets) -> None:
    """Usage errors for what --batch cannot be combined with."""
    if query:
        raise click.UsageError(
            "give either QUERY or --batch QUERIES, not both (the queries come from the file)"
        )
    if fmt not in (None, "trec", "jsonl"):
        raise click.UsageError(f"--batch writes --format trec or jsonl, not {fmt}")
    if not run_name.strip() or any(c.isspace() for c in run_name):
        raise click.BadParameter("a run name is one word", param_hint="--run-name")
    ignored = [name for name, given in (("--no-dedup", no_dedup), ("--sort", sort != SORTS[0]),
                                         ("--page", page != 1), ("--facets", facets)) if given]
    if ignored:
        raise click.UsageError(f"{', '.join(ignored)} cannot be used with --batch")


def _search_batch(path: Path, index_dir: Path, limit, fmt, run_name, filters, how: dict) -> None:
    """Every query of the file against one open index; a ranked list per query to stdout,
    warnings (bad lines, queries that cannot be run) and a summary to stderr. ``how``: the
    variants and syntax arguments of Searcher.search_documents."""
    from ..retrieval.batch import jsonl_line, read_queries, trec_lines

    started = time.monotonic()
    queries, warnings = read_queries(path)
    for warning in warnings:
        click.echo(render.printable(f"warning: {warning}"), err=True)
    documents = failed = empty = 0
    with _open(index_dir) as searcher:
        searcher.check_filters(filters)  # (the same for every query: refused once, not each)
        for query in queries:
            error = None
            try:
                hits = searcher.search_documents(query.text, limit, filters, **how)
            except QueryError as problem:
                hits, error, failed = (), str(problem), failed + 1
                click.echo(render.printable(f"warning: {path} line {query.line}: query "
                                            f"{query.id!r}: {error}; no results"), err=True)
            documents += len(hits)
            empty += not hits and not error
            if fmt == "jsonl":
                click.echo(jsonl_line(query, hits, error))
            elif hits:  # document ids come from file names and records
                click.echo(render.printable(trec_lines(query.id, hits, run_name)))
    skipped = f"bad line{'s' if len(warnings) != 1 else ''} skipped"
    notes = [f"{n} {what}" for n, what in ((len(warnings), skipped),
                                           (failed, "could not be run"),
                                           (empty, "found nothing")) if n]
    click.echo(
        f"{len(queries)} quer{'y' if len(queries) == 1 else 'ies'}, "
        f"{render._counted(documents, 'document')} ranked"
        + (f" ({'; '.join(notes)})" if notes else "")
        + f", {time.monotonic() - started:.1f} s",
        err=True,
    )


@main.command("stats")
@index_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def stats_command(index_dir, fmt):
    """What the index holds: articles, paragraphs, sources, dates, settings.

    \b
    Example:  searchkit stats --format json
    """
    with _open(index_dir) as searcher:
        stats = searcher.stats()
    if fmt == "json":
        click.echo(render.dumps(render.stats_record(stats), indent=2))
    else:
        click.echo(render.stats_table(stats, width=_text_width()))


@main.command("duplicates")
@index_option
@click.option("--min-size", type=click.IntRange(min=2), default=2, show_default=True,
              help="Only groups of at least this many paragraphs.")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Number of groups.")
@click.option("--format", "fmt", type=click.Choice(["table", "plain", "jsonl"]),
              help="Output format [default: table on a terminal, plain otherwise].")
def duplicates_command(index_dir, min_size, limit, fmt):
    """The largest groups of near-identical paragraphs: who printed what first, and who
    reprinted it (exact copies, or edited ones).

    \b
    Example:  searchkit duplicates --min-size 3 --format jsonl
    """
    with _open(index_dir) as searcher:
        groups = searcher.duplicate_groups(min_size=min_size, limit=limit)
    if not groups:
        click.echo(f"no groups of {min_size} or more near-identical paragraphs", err=True)
        return
    _emit(
        fmt,
        jsonl=lambda: render.duplicate_groups_jsonl(groups),
        table=lambda: render.duplicate_groups_table(groups, _width()),
        plain=lambda: render.duplicate_groups_plain(groups, _text_width()),
    )


@main.command("show")
@click.argument("id")
@index_option
@click.option("--context", type=click.IntRange(min=0), metavar="K",
              help="Only K paragraphs before and after the paragraph asked for.")
@click.option("--format", "fmt", type=click.Choice(["plain", "json"]), default="plain",
              show_default=True)
@color_option
def show_command(id, index_dir, context, fmt, color):
    """The article a paragraph belongs to, the paragraph marked, with its title, source and
    date (and how each was found). ID is a paragraph id (001_e9706742b5579535#6) or an
    article id (002_978e6dbf49f5cf3e:2) from any output.

    \b
    Example:  searchkit show '000_fa59a08e2227003b#19' --context 2
    """
    if fmt == "json":
        _unused(("context", "with --format json (it holds every paragraph)"),
                ("color", "with --format json (never coloured)"))
    with _open(index_dir) as searcher:
        view = searcher.show(id)
    if view.marked is None and fmt != "json":
        _unused(("context", "with an article id: give a paragraph id (ID#N) to see the "
                            "paragraphs around it"))
    if fmt == "json":
        click.echo(render.dumps(render.article_record(view), indent=2))
    else:
        _emit("plain", color,
              plain=lambda: render.article_text(view, _marker(color), context, _text_width()))


@main.command("serve")
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this machine's own (loopback) lets "
              "others read the index, with a warning.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on (0: any free one).")
@click.option("--open", "open_page", is_flag=True, help="Open the page in a web browser.")
def serve_command(index_dir, host, port, open_page):
    """A web page over the index (read-only): search with filters, articles, reprints, and
    the same records as JSON under /api/. Needs the web extra: pip install 'searchkit[web]'.
    Prints the address; Ctrl-C stops it. A new commit to the index is picked up as it lands.

    \b
    Example:  searchkit serve --index news-index --open
    """
    from .. import web

    if web.missing():
        raise click.ClickException(f"searchkit serve needs the web extra "
                                   f"({', '.join(web.missing())} missing): {web.INSTALL}")
    from ..web import server
    from ..web.app import create_app
    from ..web.local import is_loopback

    searcher = _open(index_dir)
    local = is_loopback(host)
    if not local:
        click.echo(render.printable(
            f"warning: listening on {host}, not on this machine only: anyone who can reach it "
            "can read the whole index"), err=True)
    listening = server.bind(host, port)
    url = server.address(listening)
    click.echo(url)
    click.echo(render.printable(f"searchkit: serving {index_dir} read-only at {url} "
                                "(Ctrl-C to stop)"), err=True)
    app = create_app(index_dir, searcher, local_only=local)
    try:
        server.run(app, listening, server.open_browser(url) if open_page else lambda: None)
    except KeyboardInterrupt:  # uvicorn stops on Ctrl-C, then raises it again: the usual end
        click.echo("searchkit: stopped", err=True)
    finally:
        app.state.current.close()


@main.command("repl")
@index_option
@color_option
def repl_command(index_dir, color):
    """Search interactively: each line is a search, :help lists the commands (:more, :show N,
    :source, :since, :until, :sort, :limit, :dedup, :exact, :format, :stats, :quit). History
    is kept in your data folder ($XDG_DATA_HOME/searchkit, else ~/.local/share/searchkit).

    \b
    Example:  searchkit repl --index news-index
    """
    from . import repl

    _build_default_index(index_dir)
    note = functools.partial(click.echo, err=True)
    if not sys.stdin.isatty():  # lines piped in: results only, no prompts or banner
        status = repl.run(input, click.echo, index_dir, banner=False, prompts=False,
                          note=note, mark=_marker(color), width=_text_width())
        # as `searchkit search` for the first line that failed, so that scripts can tell
        click.get_current_context().exit(status)
    read, save_history = _line_editing(repl.COMMANDS + repl.FIELDS)
    try:
        repl.run(read, click.echo, index_dir, note=note, mark=_marker(color),
                 width=_text_width)
    finally:
        save_history()


def _line_editing(words):
    """Line editing, history across sessions and tab completion where readline exists; returns
    what reads a line (with its prompt) and what saves the history."""
    try:
        import readline
    except ImportError:  # e.g. some Windows Pythons: plain input() still works
        return input, lambda: None
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    path = data / "searchkit" / "history"
    ours = _read_history(readline, path)
    known = readline.get_current_history_length()

    def complete(text, state):
        options = [w for w in words if w.startswith(text)]
        return options[state] if state < len(options) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" ")
    readline.parse_and_bind("tab: complete")
    if "libedit" not in (readline.__doc__ or "") and os.environ.get("TERM") not in (
            None, "", "dumb"):
        # Python turns GNU readline's bracketed paste off; without it a pasted quotation's
        # line break is an Enter that searches half of it (a dumb terminal, or one that does
        # not say what it is, would show the codes that ask for it)
        readline.parse_and_bind("set enable-bracketed-paste on")

    def read(prompt):
        line = input(prompt)
        if "\n" in line or "\r" in line:  # pasted: one line in the history, as searched
            last = readline.get_current_history_length() - 1
            if last >= 0:
                readline.replace_history_item(last, " ".join(line.splitlines()))
        return line

    def save():
        """Add this session's lines to the file (rewriting it would drop those of sessions
        that ended meanwhile); readline then keeps its last HISTORY_LINES, writing through a
        link (a history kept with one's dotfiles) rather than replacing it."""
        new = readline.get_current_history_length() - known
        if new <= 0 or not ours:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
            readline.set_history_length(HISTORY_LINES)
            if hasattr(readline, "append_history_file"):
                readline.append_history_file(new, path)
            else:  # a readline without it: this session's history replaces the file's
                readline.write_history_file(path)
        except OSError as error:
            click.echo(render.printable(f"warning: history not saved: {error}"), err=True)

    return read, save


def _read_history(readline, path: Path) -> bool:
    """Read the history at ``path``; False, said on stderr, when the file there is not one
    searchkit may have written (not a file, or too large): it is then neither read nor
    written."""
    try:
        found = path.stat()
    except OSError:
        return True  # none yet, or one that cannot be read: saving says so
    foreign = ("not a file" if not stat.S_ISREG(found.st_mode)  # (a pipe: read would wait)
               else f"over {HISTORY_BYTES // 2**20} MB, more than searchkit writes"
               if found.st_size > HISTORY_BYTES else "")
    if foreign:
        click.echo(render.printable(f"warning: no history kept: {path} is {foreign}; move "
                                    "it away to keep one"), err=True)
        return False
    try:
        readline.read_history_file(path)
    except OSError:
        pass  # unreadable: saving says so
    return True
