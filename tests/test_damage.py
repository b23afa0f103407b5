"""Damaged, empty and interrupted indexes: `check` finds any changed, missing or truncated byte
of the current commit and says "ok" on a healthy index at any age; searching a damaged index
ends in one line naming the damage and the repair; an empty index says so; Ctrl-C during
`index` says what state the index is in, and the same command resumes."""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import S000, S001, SEEDS, invoke, reseal, without_positions

import searchkit
from searchkit.index import durable, store
from searchkit.cli.commands import main
from searchkit.index.schema import make_schema

CHILD = Path(__file__).with_name("durability_child.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A fresh index of two seed files (commit 0, empty, and commit 1)."""
    root = tmp_path_factory.mktemp("damage")
    corpus = root / "corpus"
    corpus.mkdir()
    for stem in (S000, S001):
        shutil.copy(SEEDS / f"{stem}.txt", corpus)
    searchkit.build_index([corpus], root / "ix")
    return root / "ix"


@pytest.fixture
def index_dir(built, tmp_path):
    copy = tmp_path / "ix"
    shutil.copytree(built, copy, copy_function=shutil.copy)
    return copy


def current_files(index_dir):
    """Every file of the current commit (commit 1): all but the lock, the writers' journal and
    the files of the empty commit 0 that the build began with."""
    return sorted(p.name for p in index_dir.iterdir() if p.name not in {
        "MAIN_WRITELOCK", "searchkit-writes.log", "_MAIN_0.toc", "checksums-0.json",
        "segments-0.json", "searchkit-0.json"})


# -- check -------------------------------------------------------------------------------------


def test_check_says_ok_on_a_healthy_index_of_any_age(index_dir):
    old = time.time() - 3600  # every commit an hour old: the empty first one long superseded
    for path in index_dir.iterdir():
        os.utime(path, (old, old))
    result = invoke("check", "--index", index_dir)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "ok"
    assert "leftover" not in result.stdout and "problem" not in result.stdout


def test_every_file_of_the_commit_is_in_its_record(index_dir):
    generation = store.latest_generation(index_dir)
    record = durable.load_record(str(index_dir), generation)
    assert set(record.files) | {durable.record_file(generation)} == set(
        current_files(index_dir))
    kinds = {durable.side_file(kind, generation) for kind in durable.SIDE_FILES}
    assert kinds | {f"_MAIN_{generation}.toc"} <= set(record.files)


@pytest.mark.parametrize("damage", ["flip first", "flip middle", "flip last", "truncate",
                                    "delete"])
def test_check_finds_any_damaged_byte_of_any_file_of_the_commit(built, tmp_path, damage):
    files = current_files(built)
    assert len(files) >= 14
    for name in files:
        index_dir = tmp_path / f"{name}-{damage.replace(' ', '-')}"
        shutil.copytree(built, index_dir, copy_function=shutil.copy)
        path = index_dir / name
        data = bytearray(path.read_bytes())
        if damage == "delete":
            path.unlink()
        elif damage == "truncate":
            path.write_bytes(bytes(data[:-1]))
        else:
            at = {"flip first": 0, "flip middle": len(data) // 2, "flip last": -1}[damage]
            data[at] ^= 0x20
            path.write_bytes(bytes(data))
        report = store.check(index_dir)
        assert not report.ok, (name, damage)
        assert any(name in problem for problem in report.problems), (name, report.problems)
        assert report.repair.endswith(f"--index {index_dir} --rebuild"), report.repair


@pytest.mark.parametrize("damage", ["truncated rank", "segments listed wrong"])
def test_check_finds_the_ranking_files_damaged_though_the_record_agrees(index_dir, damage):
    """What the ranking engine reads, damaged and resealed (the record rewritten to match, as
    someone crafting an index would): a search says the index is damaged, and so does check."""
    if damage == "truncated rank":
        name = _truncate(index_dir, ".rank")
    else:
        name = durable.side_file("segments", store.latest_generation(index_dir))
        listed = json.loads((index_dir / name).read_text())
        listed["segments"][0]["doc_count"] += 1
        (index_dir / name).write_text(json.dumps(listed))
    reseal(index_dir)
    assert invoke("search", "Belarus", "--index", index_dir).exit_code == 1
    report = store.check(index_dir)
    assert not report.ok and any(problem.startswith(name) for problem in report.problems), (
        report.problems)


def test_check_names_the_damage_and_the_repair_on_the_command_line(built, index_dir):
    pst = next(n for n in current_files(index_dir) if n.endswith(".pst"))
    (index_dir / pst).write_bytes((index_dir / pst).read_bytes()[:-10])
    result = invoke("check", "--index", index_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (f"index: {index_dir} (commit 1, 1 segment, 65 paragraphs, 17 files "
                        "checked against SHA-256)")
    assert f"problem: {pst}: " in result.stdout and "truncated" in result.stdout
    assert lines[-1] == (f"how to repair: searchkit index {built.parent / 'corpus'} "
                         f"--index {index_dir} --rebuild")


# -- searching a damaged index -------------------------------------------------------------


def _flip_in_postings_of(index_dir, word):
    """Flip a byte inside the postings of ``word`` (in the text field)."""
    ix = store.open_index(index_dir)
    with ix.reader() as reader:
        info = reader.term_info("text", word)
        offset, length = info.extent()
        length = length[0] if isinstance(length, tuple) else length  # whoosh-reloaded's tuple
        (segment, _), = reader.leaf_readers()
    pst = index_dir / f"{segment.segment().segment_id()}.pst"
    data = bytearray(pst.read_bytes())
    data[offset + length // 2] ^= 0x01
    pst.write_bytes(bytes(data))
    return pst.name


def _flip_in_ranking_postings_of(index_dir, word):
    """Flip a byte inside the ranking arrays' postings of ``word`` (in the text field)."""
    from searchkit.index.rankarrays import SegmentArrays

    name = _segment_file(index_dir, ".rank")
    arrays = SegmentArrays(str(index_dir / name))
    number = arrays.find("text", word.encode())
    first, _end = arrays.span("text.docs")
    at = first + 4 * int(arrays["text.starts"][number])
    del arrays
    data = bytearray((index_dir / name).read_bytes())
    data[at] ^= 0x01
    (index_dir / name).write_bytes(bytes(data))
    return name


def _segment_file(index_dir, suffix):
    return next(n for n in current_files(index_dir) if n.endswith(suffix))


def _truncate(index_dir, suffix):
    name = _segment_file(index_dir, suffix)
    data = (index_dir / name).read_bytes()
    (index_dir / name).write_bytes(data[: len(data) // 2])
    return name


def _garbage_vocabulary(index_dir, sealed):
    name = durable.side_file("vocabulary", store.latest_generation(index_dir))
    (index_dir / name).write_text("[]")
    if sealed:  # the record agrees: the file is not a vocabulary all the same
        reseal(index_dir)
    return name


DAMAGES = {
    # A search ranks from the ranking arrays; Whoosh's terms and postings are read for the
    # syntax it matches itself (a wildcard).
    "truncated rank": (lambda d: _truncate(d, ".rank"), ["search", "Belarus"]),
    "flipped rank byte": (lambda d: _flip_in_ranking_postings_of(d, "belarus"),
                          ["search", "Belarus"]),
    "truncated trm": (lambda d: _truncate(d, ".trm"), ["search", '"crisis in Belarus"']),
    "truncated pst": (lambda d: _truncate(d, ".pst"), ["search", '"crisis in Belarus"']),
    "flipped pst byte": (lambda d: _flip_in_postings_of(d, "belarus"),
                         ["search", "Belaru*"]),
    "flipped stored field": (lambda d: _flip_middle(d, "._stored.col"),
                             ["show", f"{S000}#4"]),
    "vocabulary []": (lambda d: _garbage_vocabulary(d, sealed=False), ["search", "Merkle"]),
    "vocabulary [] resealed": (lambda d: _garbage_vocabulary(d, sealed=True),
                               ["search", "Merkle"]),
}


def _flip_middle(index_dir, suffix):
    name = _segment_file(index_dir, suffix)
    data = bytearray((index_dir / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (index_dir / name).write_bytes(bytes(data))
    return name


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_searching_a_damaged_index_ends_in_one_line_naming_it(index_dir, damage):
    make, command = DAMAGES[damage]
    name = make(index_dir)
    result = invoke(*command, "--index", index_dir)
    assert result.exit_code == 1, (damage, result.output)
    assert result.stdout == "" and "Traceback" not in result.output
    line = result.stderr
    assert line.count("\n") == 1 and line.startswith(f"Error: the index in {index_dir} is "
                                                     f"damaged ({name}: "), line
    assert f"`searchkit check --index {index_dir}`" in line and "--rebuild" in line, line
    assert "simplify" not in line and "query" not in line, line


def test_ranking_arrays_that_disagree_with_the_postings_stop_a_phrase_as_damage(tmp_path):
    """The ranking arrays of another index of as many paragraphs, without positions (as a
    version before them wrote them), recorded as this one's (a crafted index): a phrase,
    matched on Whoosh's postings, of words only those arrays hold, or that they place in
    other paragraphs than the postings do, ends in one line naming the damage, not the
    query."""
    for name, text in (("other", "The okapi grazed by the river.\n\nThe crisis in Belarus grew."),
                       ("this", "The crisis in Belarus grew.\n\nNothing else happened here.")):
        corpus = tmp_path / name
        corpus.mkdir()
        (corpus / "story.txt").write_text(f"A headline\n\n{text}\n")
        searchkit.build_index([corpus], tmp_path / f"ix-{name}")
    index_dir = tmp_path / "ix-this"
    shutil.copy(next((tmp_path / "ix-other").glob("MAIN_*.rank")),
                next(index_dir.glob("MAIN_*.rank")))
    without_positions(index_dir)
    for query in ('"okapi grazed"', '"crisis in Belarus"'):
        result = invoke("search", query, "--index", index_dir)
        assert result.exit_code == 1, (query, result.output)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(
            f"Error: the index in {index_dir} is damaged ("), (query, result.stderr)


def _with_arrays_changed(index_dir, change):
    """The ranking arrays with ``change`` made to them (a dict of arrays), recorded as
    written (a crafted index)."""
    from searchkit.index import rankarrays

    name = _segment_file(index_dir, ".rank")
    found = rankarrays.SegmentArrays(str(index_dir / name))
    arrays = {key: np.array(array) for key, array in found.arrays.items()}
    del found
    change(arrays)
    (index_dir / name).write_bytes(b"".join(
        bytes(part) for part in rankarrays.encode(int(arrays["date"].size), arrays)))
    reseal(index_dir)
    return name


def _every_other_moved(arrays):
    arrays["text.position_starts"] = arrays["text.position_starts"].copy()
    arrays["text.position_starts"][1:-1:2] += np.uint64(1)


CRAFTED_POSITIONS = {
    # positions read as another posting's, or none: wrong phrases found, silently
    "offsets moved": _every_other_moved,
    "positions zeroed": lambda a: a.update({"text.positions": a["text.positions"] * 0}),
    "weights not whole": lambda a: a.update({"text.weights": a["text.weights"] + 0.5}),
    # an overflow, a NaN, a document number made of a position: a traceback
    "offsets past 2**63": lambda a: a.update(
        {"text.position_starts": a["text.position_starts"] + np.uint64(1 << 63)}),
    "offsets NaN": lambda a: a.update(
        {"text.position_starts": a["text.position_starts"] * np.nan}),
    "positions past 2**32": lambda a: a.update(
        {"text.positions": a["text.positions"].astype(np.uint64) << np.uint64(32)}),
}


@pytest.mark.parametrize("damage", sorted(CRAFTED_POSITIONS))
def test_crafted_positions_stop_a_phrase_in_one_line_naming_them(index_dir, damage):
    name = _with_arrays_changed(index_dir, CRAFTED_POSITIONS[damage])
    for query in ('"dialogue with the opposition"', 'Minsk "dialogue with the opposition"~3'):
        result = invoke("search", query, "--index", index_dir)
        assert one_line_naming(result, index_dir, index_dir / name), (damage, query,
                                                                     result.output)


READING_COMMANDS = (["search", "Belarus"], ["show", f"{S000}#4"], ["stats"], ["duplicates"])


def one_line_naming(result, index_dir, damage):
    return (result.exit_code == 1 and result.stdout == "" and "Traceback" not in result.output
            and result.stderr.count("\n") == 1
            and result.stderr.startswith(f"Error: the index in {index_dir} is damaged "
                                         f"({damage}"))


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_file_of_the_commit_missing_or_cut_short_stops_every_command_at_once(
        built, tmp_path, damage):
    """Whichever file it is, and whether or not the command would read it: a plain word's
    search (ranked from the ranking arrays alone), show, stats and duplicates."""
    for name in current_files(built):
        index_dir = tmp_path / name
        shutil.copytree(built, index_dir, copy_function=shutil.copy)
        if damage == "missing":
            (index_dir / name).unlink()
        else:
            (index_dir / name).write_bytes((index_dir / name).read_bytes()[:-1])
        for command in READING_COMMANDS:
            result = invoke(*command, "--index", index_dir)
            assert one_line_naming(result, index_dir, f"{name}: "), (name, command, result.output)
            if name.startswith("MAIN_"):  # (small files are read whole, and say how)
                assert damage in result.stderr, (name, command, result.stderr)


def rewritten(tmp_path):
    """An index of two commits of one file (the first version okapi, the second bongo), the
    folder it was built from and the second commit's number."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Alpha\n\nThe first version mentions the okapi.\n")
    searchkit.build_index([corpus], tmp_path / "ix")
    (corpus / "a.txt").write_text("Alpha\n\nThe second version mentions the bongo.\n")
    searchkit.build_index([corpus], tmp_path / "ix")
    return tmp_path / "ix", corpus, store.latest_generation(tmp_path / "ix")


def test_a_commit_whose_table_of_contents_is_lost_is_damage_that_a_rebuild_repairs(tmp_path):
    """Its record says it was made: the commit before it is no longer the index, and must not
    answer in its place; `index --rebuild`, the repair every message names, replaces it."""
    index_dir, corpus, generation = rewritten(tmp_path)
    (index_dir / f"_MAIN_{generation}.toc").unlink()
    lost = f"_MAIN_{generation}.toc: missing"
    for command in READING_COMMANDS + (["search", "okapi"], ["index", corpus]):
        result = invoke(*command, "--index", index_dir)
        assert one_line_naming(result, index_dir, lost), (command, result.output)
    with pytest.raises(searchkit.IndexDamagedError, match=lost):
        searchkit.open_index(index_dir)
    assert f"problem: {lost}" in invoke("check", "--index", index_dir).stdout
    assert invoke("index", corpus, "--index", index_dir, "--rebuild").exit_code == 0
    found = invoke("search", "bongo", "--index", index_dir, "--format", "jsonl")
    assert found.exit_code == 0 and json.loads(found.stdout)["text"].startswith("The second")
    assert store.check(index_dir).ok
    # the lost commit's files went with the rebuild's commit (its record named them)
    assert not [n for n in os.listdir(index_dir) if n.endswith(f"-{generation}.json")]


def test_a_first_commit_whose_table_of_contents_is_lost_is_not_an_empty_index(tmp_path):
    index_dir, corpus, _ = rewritten(tmp_path)
    for toc in index_dir.glob("_MAIN_*.toc"):
        toc.unlink()
    result = invoke("search", "bongo", "--index", index_dir)
    assert one_line_naming(result, index_dir, "_MAIN_"), result.output
    assert invoke("index", corpus, "--index", index_dir, "--rebuild").exit_code == 0
    assert invoke("search", "bongo", "--index", index_dir).exit_code == 0


@pytest.mark.parametrize("stopped", ["journaled", "aside"])
def test_a_commit_stopped_before_its_table_of_contents_is_not_damage(tmp_path, stopped):
    """A writer between its record and the rename of its table of contents (its files are in
    its journal), or one stopped there whose journal line a power cut lost (its table of
    contents is still under the temporary name): the commit before it is the index."""
    index_dir, corpus, generation = rewritten(tmp_path)
    toc = index_dir / f"_MAIN_{generation}.toc"
    if stopped == "journaled":
        toc.unlink()
        durable.note(str(index_dir), f"checksums-{generation}.json")
    else:
        toc.rename(index_dir / f"_MAIN_{generation}.toc.x2k9f")
    found = invoke("search", "okapi", "--index", index_dir, "--format", "jsonl")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["text"].startswith("The first")


def test_a_damaged_ledger_stops_an_index_run_instead_of_pruning_nothing(built, tmp_path):
    corpus = built.parent / "corpus"
    mine = tmp_path / "corpus"
    shutil.copytree(corpus, mine)
    index_dir = tmp_path / "ix"
    searchkit.build_index([mine], index_dir)
    gone = next(mine.glob(f"{S001}.txt"))
    gone.unlink()
    ledger = index_dir / durable.side_file("ledger", store.latest_generation(index_dir))
    ledger.write_text("garbage")
    result = invoke("index", mine, "--index", index_dir, "--prune")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: the index in {index_dir} is damaged ({ledger.name}")
    assert "--rebuild" in result.stderr and result.stderr.count("\n") == 1
    ledger.write_text('{"generation": 1, "files": []}')  # a ledger, but not of these files
    reseal(index_dir)
    result = invoke("index", mine, "--index", index_dir, "--prune")
    assert result.exit_code == 1 and f"damaged ({ledger.name}: not a file ledger" in result.stderr
    rebuilt = invoke("index", mine, "--index", index_dir, "--rebuild")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert searchkit.search(f"title:{S001[:3]}", index_dir).total == 0
    with searchkit.open_index(index_dir) as searcher:
        assert not searcher.search("Putin", limit=100, collapse=False).total or all(
            S001 not in hit.id for hit in searcher.search("Putin", limit=100).hits)


@pytest.mark.parametrize("damage", ["anchor flipped", "truncated"])
def test_a_damaged_grouping_stops_an_update_in_one_line(built, tmp_path, damage):
    """An update reads the kept grouping where it lies, mapped rather than copied: any changed
    byte (in its anchors, which it reads only where it needs them, too) or another size ends
    the run in one line naming the file, and the run changes nothing."""
    mine = tmp_path / "corpus"
    shutil.copytree(built.parent / "corpus", mine)
    index_dir = tmp_path / "ix"
    searchkit.build_index([mine], index_dir)
    generation = store.latest_generation(index_dir)
    grouping = index_dir / durable.side_file("dupindex", generation)
    data = bytearray(grouping.read_bytes())
    if damage == "truncated":
        del data[-10:]
    else:
        with zipfile.ZipFile(grouping) as archive:
            member = archive.getinfo("anchors.npy")
        start = data.index(b"\x93NUMPY", member.header_offset)
        assert member.file_size > 200
        data[start + member.file_size - 1] ^= 0xFF  # its last anchor's top byte
    grouping.write_bytes(bytes(data))
    (mine / "added.txt").write_text("A story added.\n\nIts one paragraph of a few words.\n")
    result = invoke("index", mine, "--index", index_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: the index in {index_dir} is damaged "
                                    f"({grouping.name}: "), result.stderr
    assert "--rebuild" in result.stderr and result.stderr.count("\n") == 1
    assert store.latest_generation(index_dir) == generation


def two_segments(built, tmp_path):
    """An index of the corpus in two segments (a file added by a second run): optimize has
    work to do."""
    mine = tmp_path / "corpus"
    shutil.copytree(built.parent / "corpus", mine)
    index_dir = tmp_path / "ix"
    searchkit.build_index([mine], index_dir)
    (mine / "added.txt").write_text("A story added.\n\nIts one paragraph of a few words.\n")
    searchkit.build_index([mine], index_dir)
    return index_dir


def test_a_damaged_grouping_stops_optimize_in_one_line(built, tmp_path):
    """Optimize carries the grouping file into its commit a piece at a time: a changed byte in
    its middle ends the run in one line naming the file, and the run changes nothing."""
    index_dir = two_segments(built, tmp_path)
    generation = store.latest_generation(index_dir)
    grouping = index_dir / durable.side_file("dupindex", generation)
    data = bytearray(grouping.read_bytes())
    data[len(data) // 2] ^= 0xFF
    grouping.write_bytes(bytes(data))
    result = invoke("optimize", "--index", index_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: the index in {index_dir} is damaged "
                                    f"({grouping.name}: "), result.stderr
    assert result.stderr.count("\n") == 1
    assert store.latest_generation(index_dir) == generation


def _first_term_flags(data: bytearray) -> None:
    """The first term record's flags say its postings are inline: the rest of its term info
    is read as a pickle that it is not."""
    key_length = struct.unpack_from("!i", data, 13)[0]  # (after the term index's header)
    data[13 + 8 + key_length] = 1


def _stored_column_type(data: bytearray) -> None:
    data[-1] = ord("Z")  # the stored column's array type: no such type


@pytest.mark.parametrize("extension, change", [(".trm", _first_term_flags),
                                               ("._stored.col", _stored_column_type)])
def test_segments_that_cannot_be_merged_stop_optimize_in_one_line(built, tmp_path,
                                                                  extension, change):
    """A segment recorded as it is, whose bytes Whoosh's readers fail on in other ways than
    the merge's own checks (an unpickling error, a struct error): one line, nothing
    committed."""
    mine = tmp_path / "corpus"
    shutil.copytree(built.parent / "corpus", mine)
    index_dir = tmp_path / "ix"
    searchkit.build_index([mine], index_dir)
    (mine / "added.txt").write_text("A story added.\n\nIts one paragraph of a few words.\n")
    searchkit.build_index([mine], index_dir)
    generation = store.latest_generation(index_dir)
    newest = durable.read_toc(str(index_dir), generation).segments[-1]
    path = index_dir / newest.make_filename(extension)
    data = bytearray(path.read_bytes())
    change(data)
    path.write_bytes(bytes(data))
    reseal(index_dir)
    result = invoke("optimize", "--index", index_dir)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith(f"Error: the index in {index_dir} is damaged ("), \
        result.stderr
    assert result.stderr.count("\n") == 1
    assert store.latest_generation(index_dir) == generation


# -- empty indexes -----------------------------------------------------------------------------


EMPTY = "the index is empty; run searchkit index PATHS"


@pytest.fixture
def empty_index(tmp_path):
    store.create_index(tmp_path / "empty", make_schema())  # as a first build stopped early
    return tmp_path / "empty"


def test_an_empty_index_says_so_in_the_library_and_every_command(empty_index, tmp_path):
    with pytest.raises(searchkit.SearchkitError, match=EMPTY) as raised:
        searchkit.open_index(empty_index)
    assert type(raised.value).__name__ == "IndexEmptyError"
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\tBelarus\n")
    for command in (["search", "Belarus"], ["search", "--batch", queries], ["duplicates"],
                    ["stats"], ["show", f"{S000}#1"]):
        result = invoke(*command, "--index", empty_index)
        assert result.exit_code == 1, (command, result.output)
        expected = f"Error: {EMPTY} --index {empty_index}\n"
        assert result.stderr == expected, (command, result.output)
    repl = CliRunner().invoke(main, ["repl", "--index", str(empty_index)], input="Belarus\n")
    assert repl.exit_code == 1 and repl.stderr == f"Error: {EMPTY} --index {empty_index}\n"
    report = store.check(empty_index)
    assert report.ok and report.notes == (f"{EMPTY} --index {empty_index}",)
    assert not store.optimize(empty_index).merged


def test_indexing_a_folder_whose_only_file_is_empty(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_text("")
    result = invoke("index", corpus, "--index", tmp_path / "ix")
    assert result.exit_code == 3 and "empty file (0 bytes)" in result.stderr
    search = invoke("search", "Belarus", "--index", tmp_path / "ix")
    assert (search.exit_code, search.stderr) == (1, f"Error: {EMPTY} --index {tmp_path / 'ix'}\n")


def test_the_default_index_left_empty_is_built_by_the_next_search(tmp_path, monkeypatch):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEARCHKIT_INDEX", raising=False)
    store.create_index(tmp_path / "index", make_schema())
    result = invoke("search", "Putin", "-n", "1", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert "is empty; building it from seeds/" in result.stderr
    assert json.loads(result.stdout)["rank"] == 1


# -- Ctrl-C during `index` ---------------------------------------------------------------------


def interrupted(at, *args):
    return subprocess.run([sys.executable, str(CHILD), "interrupt", str(at), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def operations(index_dir, corpus, monkeypatch):
    """The number of file operations a first build of ``corpus`` makes."""
    count = []
    monkeypatch.setattr(durable, "fault_hook", lambda operation, name: count.append(1))
    searchkit.build_index([corpus], index_dir)
    monkeypatch.setattr(durable, "fault_hook", None)
    return len(count)


def ids(index_dir):
    with store.open_index(index_dir).searcher() as searcher:
        return sorted(fields["id"] for fields in searcher.all_stored_fields())


def test_ctrl_c_during_index_says_what_state_the_index_is_in(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / f"{S000}.txt", corpus)
    total = operations(tmp_path / "clean", corpus, monkeypatch)
    expected = ids(tmp_path / "clean")
    states = set()
    for at in [0, 1, total // 2, total - 1]:  # reading; starting; writing; committed
        index_dir = tmp_path / f"ix-{at}"
        run = interrupted(at, "index", corpus, "--index", index_dir)
        assert run.returncode == 128 + signal.SIGINT, (at, run.stderr)
        assert "Traceback" not in run.stderr and "Aborted" not in run.stderr, run.stderr
        last = run.stderr.strip().splitlines()[-1]
        assert last.startswith("interrupted: "), last
        assert last.endswith("; run the same command again to resume"), last
        states.add(last.split(": ", 1)[1].split(" (")[0].split(";")[0])
        again = invoke("index", corpus, "--index", index_dir)
        assert again.exit_code == 0, (at, again.stderr)
        assert ids(index_dir) == expected and store.check(index_dir).ok
    assert len(states) >= 2, states  # before the first commit, and after the run's commit


def test_ctrl_c_after_a_run_ended_does_not_say_it_was_stopped(tmp_path):
    """Ctrl-C as an index or optimize run that committed and said so exits: its status is
    the run's, not 130 (which tells a script the run was stopped)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / f"{S000}.txt", corpus)
    index_dir = tmp_path / "ix"
    run = interrupted(-1, "index", corpus, "--index", index_dir)
    assert run.returncode == 0, run.stderr
    assert "files: 1 added" in run.stderr
    shutil.copy(SEEDS / f"{S001}.txt", corpus)
    assert interrupted(-1, "index", corpus, "--index", index_dir).returncode == 0
    run = interrupted(-1, "optimize", "--index", index_dir)
    assert run.returncode == 0 and "optimized" in run.stderr, run.stderr
    assert store.check(index_dir).ok


def test_ctrl_c_before_the_build_begins_says_the_index_is_as_it_was(
        built, tmp_path, monkeypatch):
    """Ctrl-C while the command still gets ready (its modules imported, its options read): the
    same report and status as later in the run, not click's bare "Aborted!"."""
    from searchkit.ingest import corpus as reading

    index_dir = tmp_path / "ix"
    shutil.copytree(built, index_dir)
    generation = store.latest_generation(index_dir)

    def ctrl_c(**_options):
        raise KeyboardInterrupt

    monkeypatch.setattr(reading, "ReadOptions", ctrl_c)
    result = invoke("index", built.parent / "corpus", "--index", index_dir)
    assert result.exit_code == 130 and "Aborted" not in result.stderr, result.stderr
    assert result.stderr == (f"interrupted: the index in {index_dir} is as it was before this "
                             f"run ({len(ids(index_dir))} paragraphs); run the same command "
                             "again to resume\n")
    assert store.latest_generation(index_dir) == generation


def test_ctrl_c_during_optimize_says_what_state_the_index_is_in(built, tmp_path, monkeypatch):
    index_dir = two_segments(built, tmp_path)
    expected = ids(index_dir)

    def ctrl_c(operation, name):
        monkeypatch.setattr(durable, "fault_hook", None)  # (once: not while it cleans up)
        raise KeyboardInterrupt

    monkeypatch.setattr(durable, "fault_hook", ctrl_c)  # at its first file operation
    result = invoke("optimize", "--index", index_dir)
    assert result.exit_code == 130 and "Aborted" not in result.stderr, result.stderr
    assert result.stderr == (f"interrupted: the index in {index_dir} is as it was before this "
                             f"run ({len(expected)} paragraphs); run the same command again "
                             "to resume\n")
    assert ids(index_dir) == expected and store.check(index_dir).ok
    again = invoke("optimize", "--index", index_dir)
    assert again.exit_code == 0 and again.stderr.startswith("optimized "), again.stderr
    assert ids(index_dir) == expected
