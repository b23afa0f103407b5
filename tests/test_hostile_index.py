"""An index folder from someone else runs no code: pickles with payloads (os.system, eval,
builtins.exec by __reduce__, a GLOBAL of a module function, an import with side effects) in the
table of contents and in the segment files, written the way Whoosh writes them, are refused
with one line by every command, and nothing of them runs."""

import io
import os
import pickle
import shutil
import sys
import warnings

import pytest
from click.testing import CliRunner
from whoosh import writing
from conftest import S000, SEEDS, reseal, without_positions

import searchkit
from searchkit.index import codec, durable, store
from searchkit.cli.commands import main

UNSAFE = ("this index holds objects searchkit does not write; it is damaged or not from "
          "searchkit")


class RunsCommand:
    def __init__(self, marker):
        self.command = f"touch {marker}"

    def __reduce__(self):
        return (os.system, (self.command,))


class Evaluates:
    def __init__(self, marker):
        self.code = f"open({str(marker)!r}, 'w').close()"

    def __reduce__(self):
        return (eval, (self.code,))


class Executes(Evaluates):
    def __reduce__(self):
        return (exec, (self.code,))


def removes(victim):
    """Protocol 0 by hand: GLOBAL os.remove, then called on ``victim``."""
    return b"cos\nremove\n(V" + str(victim).encode() + b"\ntR."


def imports(module):
    """A GLOBAL of a function of a module whose import creates the marker."""
    return f"c{module}\nfunction\n.".encode()


@pytest.fixture
def traps(tmp_path, monkeypatch):
    """Payload pickles by kind; whether any of them ran; and undoing what they did."""
    marker, victim = tmp_path / "marker", tmp_path / "victim"
    victim.write_text("the user's file")
    module = tmp_path / "modules"
    module.mkdir()
    (module / "sideeffect.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef function():\n    pass\n")
    monkeypatch.syspath_prepend(str(module))
    payloads = {
        "os.system": pickle.dumps(RunsCommand(marker), 2),
        "eval": pickle.dumps(Evaluates(marker), 2),
        "builtins.exec": pickle.dumps(Executes(marker), 4),
        "GLOBAL os.remove": removes(victim),
        "import": imports("sideeffect"),
    }

    def ran():
        return marker.exists() or not victim.exists()

    def undo():
        marker.unlink(missing_ok=True)
        victim.write_text("the user's file")
        sys.modules.pop("sideeffect", None)

    yield payloads, ran, undo
    sys.modules.pop("sideeffect", None)


def test_the_payloads_are_live(traps):
    """Each payload does its harm when pickle loads it, and none when safepickle does."""
    from searchkit.index import safepickle
    from searchkit.errors import IndexDamagedError

    payloads, ran, undo = traps
    for kind, payload in payloads.items():
        with pytest.raises(IndexDamagedError, match=UNSAFE):
            safepickle.loads(payload)
        assert not ran(), kind
        pickle.loads(payload)
        assert ran(), kind
        undo()


# -- the table of contents ---------------------------------------------------------------------


def toc_parts(path):
    """A TOC file as (header, schema pickle, generation and unused ints, segments pickle)."""
    from whoosh.filedb.structfile import StructFile

    data = path.read_bytes()
    stream = StructFile(io.BytesIO(data))
    for _ in range(3):
        stream.read_varint()
    stream.read_int(), stream.read_int()
    for _ in range(3):
        stream.read_varint()
    header = data[: stream.tell()]
    schema = stream.read_string()
    ints = stream.read(8)
    return header, schema, ints, data[stream.tell():]


def write_toc(path, header, schema, ints, segments):
    from whoosh.filedb.structfile import StructFile

    out = StructFile(io.BytesIO())
    out.write(header)
    out.write_string(schema)
    out.write(ints + segments)
    path.write_bytes(out.file.getvalue())


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small") / "ix"
    searchkit.build_index([SEEDS / f"{S000}.txt"], folder)
    return folder


def commands(index_dir):
    queries = index_dir.parent / "queries.tsv"
    queries.write_text("q1\tBelarus\n")
    return [
        ["check"],
        ["search", "Belarus"],
        ["search", '"renounce violence"'],
        ["show", f"{S000}#4"],
        ["stats"],
        ["duplicates"],
        ["search", "--batch", str(queries)],
        ["optimize"],  # (last: it reads every block and rewrites the index)
    ]


def current_toc(index_dir):
    return index_dir / f"_MAIN_{durable.generations(str(index_dir))[-1]}.toc"


@pytest.mark.parametrize("part", ["schema", "segments"])
def test_a_payload_in_the_table_of_contents_runs_nothing(small_index, tmp_path, traps, part):
    payloads, ran, _ = traps
    for kind, payload in payloads.items():
        index_dir = tmp_path / f"{part}-{kind}"
        shutil.copytree(small_index, index_dir)
        toc = current_toc(index_dir)
        header, schema, ints, segments = toc_parts(toc)
        if part == "schema":
            schema = payload
        else:
            segments = payload
        write_toc(toc, header, schema, ints, segments)
        reseal(index_dir)  # as whoever made the folder would: its sums are not the defence
        _refused_everywhere(index_dir, kind, ran)


def _refused_everywhere(index_dir, kind, ran):
    runner = CliRunner()
    for args in commands(index_dir):
        result = runner.invoke(main, [*args, "--index", str(index_dir)])
        assert not ran(), (kind, args)
        assert result.exit_code == 1, (kind, args, result.output)
        if args == ["check"]:
            assert UNSAFE in result.stdout and "Traceback" not in result.output, result.output
            assert result.stdout.splitlines()[-1] != "ok"
        else:
            assert result.stderr == f"Error: {UNSAFE}\n", (kind, args, result.output)
    from searchkit.errors import IndexDamagedError

    with pytest.raises(IndexDamagedError, match=UNSAFE):
        searchkit.open_index(index_dir)
    assert not ran(), kind


# -- the segment files, written by Whoosh's own writer with a payload in one place ---------------
# (bulkwrite writes new paragraphs, positions encoded by Whoosh's format; Whoosh's writer writes
# the segments merges make)


def _caller():
    """The name of the Whoosh function that is pickling (past the predicate and the patch)."""
    return sys._getframe(3).f_code.co_name


PLACES = {
    # place: (module, name of its pickling function, which of its calls write the payload)
    "pst block info": ("whoosh.codec.whoosh3", "dumps",
                       lambda obj: _caller() == "_write_block" and len(obj) == 6),
    "pst block data": ("whoosh.codec.whoosh3", "dumps",
                       lambda obj: _caller() == "_write_block" and len(obj) == 3),
    "trm inlined postings": ("whoosh.codec.whoosh3", "dumps",
                             lambda obj: _caller() == "to_bytes"),
    "positions": ("whoosh.formats", "dumps", lambda obj: True),
    "stored fields": ("whoosh.columns", "dumps", lambda obj: True),
    "column and term table headers": ("whoosh.filedb.structfile", "dump_pickle",
                                      lambda obj: not isinstance(obj, list)),  # not the TOC's
}


def whooshs_merge(index_dir):
    """Whoosh's own writer merging every segment into one, as an update merges small ones
    (``optimize`` merges in bulk)."""
    writer = store.open_writer(store.open_index(index_dir))
    try:
        store.commit(writer, mergetype=writing.OPTIMIZE)
    except BaseException as error:
        store.cancel(writer, error)
        raise


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_payload_in_a_segment_file_runs_nothing(place, tmp_path, traps, monkeypatch):
    import importlib

    payloads, ran, _ = traps
    kind = sorted(payloads)[sorted(PLACES).index(place) % len(payloads)]
    payload = payloads[kind]
    module, name, chosen = PLACES[place]
    module = importlib.import_module(module)
    original = getattr(module, name)

    def writes_payload(obj, *args, **kwargs):
        if not chosen(obj):
            return original(obj, *args, **kwargs)
        if name == "dump_pickle":  # (obj, file, protocol)
            args[0].write(payload)
            return None
        return payload

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / f"{S000}.txt", corpus)
    index_dir = tmp_path / "ix"
    bulk = place == "positions"
    if not bulk:  # two segments, for optimize to merge
        searchkit.build_index([corpus], index_dir)
    (corpus / "rare.txt").write_text("A rare word\n\nOnly this paragraph says zyxwvut.\n")
    if not bulk:
        searchkit.build_index([corpus], index_dir)
    if place == "trm inlined postings":  # a writer that inlines rare terms' postings (Whoosh's
        # W3 is set to inline none, and its inlining calls a method it lacks)
        from whoosh.codec.whoosh3 import W3TermInfo

        monkeypatch.setattr(store, "BuildCodec", lambda: codec.BuildCodec(inlinelimit=2))
        monkeypatch.setattr(W3TermInfo, "set_inline", W3TermInfo.set_inlined, raising=False)
    monkeypatch.setattr(module, name, writes_payload)
    try:
        if bulk:
            searchkit.build_index([corpus], index_dir)
        else:
            whooshs_merge(index_dir)
    except searchkit.SearchkitError as error:  # it read back what it wrote: refused as well
        assert UNSAFE in str(error)
    monkeypatch.setattr(module, name, original)
    assert not ran(), place
    if bulk:  # (its ranking arrays' positions are not these pickles: as a version before
        without_positions(index_dir)  # them wrote them, a phrase reads Whoosh's postings)
    if not bulk:  # a segment beside it, for `optimize` to merge in bulk (reading its blocks)
        (corpus / "more.txt").write_text("More words\n\nA paragraph of other words.\n")
        try:
            searchkit.build_index([corpus], index_dir)
        except searchkit.SearchkitError as error:
            assert UNSAFE in str(error)
        assert not ran(), place
    runner = CliRunner()
    refused = 0
    for args in commands(index_dir) + [["search", "zyxwvut"]]:
        result = runner.invoke(main, [*args, "--index", str(index_dir)])
        assert not ran(), (place, kind, args)
        assert "Traceback" not in result.output
        if result.exit_code:
            assert UNSAFE in result.output, (place, args, result.output)
            refused += 1
    assert refused, place  # some command read the payload, and refused it


# Whoosh modules that hold pickle's loading functions, and why searchkit never calls them on an
# index's data. Any other module holding one (a Whoosh upgrade) fails the test below: look at it.
NOT_REACHED = {
    "whoosh.compat": "where the other modules import them from",
    "whoosh.index": "TOC.read: durable.read_toc reads the table of contents instead",
    "whoosh.codec.plaintext": "a codec a searchkit index cannot name (durable.read_toc)",
    "whoosh.filedb.fileindex": "Whoosh 1.x's index format",
    "whoosh.util.loading": "Whoosh 1.x's TOC loaders",
    "whoosh.externalsort": "a writer's sorted runs, in its own scratch folder",
    "whoosh.multiproc": "a parallel writer's jobs, in its own scratch folder",
}


def test_every_unpickling_name_of_whoosh_is_covered():
    import importlib
    import pkgutil

    import whoosh

    from searchkit.index import safepickle

    unpicklers = (pickle.load, pickle.loads, pickle.Unpickler, pickle)
    holders = set()
    for info in pkgutil.walk_packages(whoosh.__path__, "whoosh."):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                module = importlib.import_module(info.name)
        except ImportError:  # modules whoosh-reloaded no longer ships working
            continue
        if any(any(value is u for u in unpicklers) for value in vars(module).values()):
            holders.add(info.name)
    assert holders == set(NOT_REACHED)
    for (module, name), function in safepickle.PATCHED.items():
        assert getattr(importlib.import_module(module), name) is function


def test_compressed_parts_that_inflate_without_end_stop_in_one_line(tmp_path, monkeypatch):
    """Posting blocks and stored documents are zlib streams: a hostile one may inflate to
    gigabytes. Searching (words, a phrase), showing and merging read at most
    safepickle.INFLATED_MOST bytes of one and stop in one line."""
    import tracemalloc
    import zlib

    from searchkit.index import bulkwrite, safepickle

    zeros = zlib.compressobj(1)
    leading = zeros.compress(b"\0" * (safepickle.INFLATED_MOST + 1))

    def inflating(data, level):  # each block and stored document, after 64 MB of zeros
        rest = zeros.copy()
        return leading + rest.compress(data) + rest.flush()

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / f"{S000}.txt", corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    (corpus / "harbour.txt").write_text("Harbour\n\n" + "".join(
        f"The harbour council met on day {n}.\n\n" for n in range(300)))
    monkeypatch.setattr(bulkwrite, "fast_compress", inflating)
    searchkit.build_index([corpus], index_dir)
    monkeypatch.undo()
    tracemalloc.start()
    try:
        for run in (lambda: searchkit.search("harbour council", index_dir),
                    lambda: searchkit.search('"harbour council"', index_dir),
                    lambda: searchkit.optimize(index_dir)):
            with pytest.raises(searchkit.SearchkitError, match="inflates past") as raised:
                run()
            assert "\n" not in str(raised.value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * safepickle.INFLATED_MOST, peak
    assert searchkit.search("Belarus", index_dir).total  # the rest still searches


# -- names in the folder that are not its files ------------------------------------------------


def _index_of_two_commits(tmp_path):
    """An index of two commits (the second adds a file), and its corpus."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / f"{S000}.txt", corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    return corpus, index_dir


def _record(index_dir, **entries):
    """Add ``entries`` to the current commit's record as given (forged, not summed)."""
    from searchkit.index import integrity

    generation = durable.generations(str(index_dir))[-1]
    path = index_dir / durable.record_file(generation)
    files = dict(integrity.decode(path.read_bytes(), generation).files)
    files.update(entries)
    path.write_bytes(integrity.encode(integrity.Record(generation, files)))


def _fifo(path):
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _link(path, target):
    path.unlink(missing_ok=True)
    path.symlink_to(target)


def _nothing(index_dir, name):
    from searchkit.index import integrity

    return {name: integrity.Entry(integrity.hashlib.sha256(b"").hexdigest(), 0, b"")}


NOT_FILES = {
    # what is planted: a FIFO waits for a writer when opened, /dev/zero never ends
    "the record a link to /dev/zero": lambda ix: _link(ix / "checksums-1.json", "/dev/zero"),
    "the record a FIFO": lambda ix: _fifo(ix / "checksums-1.json"),
    "the record a folder": lambda ix: (os.remove(ix / "checksums-1.json"),
                                       os.mkdir(ix / "checksums-1.json")),
    "the journal a link to /dev/zero": lambda ix: _link(ix / "searchkit-writes.log",
                                                       "/dev/zero"),
    "the journal a FIFO": lambda ix: _fifo(ix / "searchkit-writes.log"),
    "the lock a FIFO": lambda ix: _fifo(ix / durable.LOCK_FILE),
    "the stems table a FIFO the record names": lambda ix: (
        _fifo(ix / "stems-1.tsv"), _record(ix, **_nothing(ix, "stems-1.tsv"))),
    "a segment file a FIFO the record names": lambda ix: (
        _fifo(next(ix.glob("MAIN_*.source.col"))),
        _record(ix, **_nothing(ix, next(ix.glob("MAIN_*.source.col")).name))),
    "the record naming /dev/zero": lambda ix: _record(ix, **_nothing(ix, "../" * 20 +
                                                                     "dev/zero")),
}


@pytest.mark.parametrize("planted", sorted(NOT_FILES))
def test_a_fifo_a_device_or_a_folder_in_place_of_a_file_ends_each_command_at_once(
        tmp_path, planted):
    """Whatever stands where a file of the index should be, every command ends at once (a
    limit on its memory and time makes the test fail rather than hang or fill the machine),
    in at most one line and no traceback."""
    import resource
    import subprocess

    corpus, index_dir = _index_of_two_commits(tmp_path)
    NOT_FILES[planted](index_dir)

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 31, 1 << 31))

    for args in (["search", "Belarus"], ["check"], ["index", str(corpus)]):
        done = subprocess.run([sys.executable, "-m", "searchkit", *args, "--index",
                               str(index_dir)], capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL, preexec_fn=limited)
        assert "Traceback" not in done.stderr, (args, done.stderr)
        if done.returncode:  # (a summary of an index run that went well takes lines)
            assert done.returncode == 1, (args, done.stderr)
            if args != ["check"]:  # (its report is on stdout)
                assert len(done.stderr.splitlines()) == 1, (args, done.stderr)


DEEP = "[" * 100_000


@pytest.mark.parametrize("name", ["checksums-1.json", "searchkit-1.json", "files-1.json",
                                  "vocabulary-1.json", "segments-1.json",
                                  "searchkit-writes.log"])
def test_json_nested_without_end_is_damage_in_one_line(tmp_path, name):
    """A file of the index holding JSON nested 100,000 deep (Python's reader stops with a
    RecursionError) is damage like any other: one line, no traceback, in every command."""
    corpus, index_dir = _index_of_two_commits(tmp_path)
    with open(index_dir / name, "a" if name.endswith(".log") else "w") as handle:
        handle.write(DEEP + "\n")
    if name != "checksums-1.json":
        reseal(index_dir)  # (the record's sums agree: the content itself is read)
    runner = CliRunner()
    for args in (["search", "Belarus"], ["stats"], ["check"], ["index", str(corpus)],
                 ["optimize"]):
        result = runner.invoke(main, [*args, "--index", str(index_dir)])
        assert not isinstance(result.exception, RecursionError), (name, args)
        assert result.exit_code in (0, 1), (name, args, result.output)
        if result.exit_code and args != ["check"]:
            assert len(result.stderr.splitlines()) == 1, (name, args, result.stderr)


def test_links_out_of_the_folder_are_never_written_through(tmp_path):
    """The journal, its rewrite aside and the lock are files searchkit writes: planted as links
    to files outside (or to where one would be made), an index run writes none of them and
    stops in one line."""
    corpus, index_dir = _index_of_two_commits(tmp_path)
    (corpus / "more.txt").write_text("More\n\nA paragraph about Belarus.\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    kept = outside / "kept.txt"
    kept.write_text("the user's file\n")
    for name, target in (("searchkit-writes.log", kept),
                         ("searchkit-writes.log.tmp", outside / "made-aside"),
                         (durable.LOCK_FILE, outside / "made-lock")):
        index = tmp_path / f"ix-{name}"
        shutil.copytree(index_dir, index, symlinks=True)
        _link(index / name, target)
        result = CliRunner().invoke(main, ["index", str(corpus), "--index", str(index)])
        assert "Traceback" not in result.output
        assert sorted(p.name for p in outside.iterdir()) == ["kept.txt"], name
        assert kept.read_text() == "the user's file\n", name
        if result.exit_code:
            assert result.stderr.count("\n") == 1 and "is not searchkit's" in result.stderr


def test_a_file_named_like_a_segments_is_not_recorded_nor_removed_with_it(tmp_path,
                                                                           monkeypatch):
    """A copy of a segment file beside it (``MAIN_x.pst.bak``) is no file searchkit wrote:
    a commit does not record it with the segment, so a merge and the sweep after it leave
    it."""
    corpus, index_dir = _index_of_two_commits(tmp_path)
    postings = next(index_dir.glob("MAIN_*.pst"))
    backup = postings.with_name(postings.name + ".bak")
    backup.write_bytes(postings.read_bytes())
    (corpus / "more.txt").write_text("More\n\nA paragraph about Belarus.\n")
    searchkit.build_index([corpus], index_dir)  # a commit keeping that segment
    record = (index_dir / durable.record_file(durable.generations(str(index_dir))[-1]))
    assert backup.name not in record.read_text()
    monkeypatch.setattr(durable, "KEEP_SUPERSEDED_SECONDS", 0.0)
    searchkit.optimize(index_dir)  # the segment merged away, its files swept
    durable.sweep(str(index_dir))
    assert not postings.exists() and backup.exists()
