"""Updating an index: new, changed, unchanged, vanished and unreadable files; the result always
equals a rebuild from scratch of the same files."""

import json
import os
import random
import shutil
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import S000, S001, S002, S003, S004, SEEDS, reseal
from hypothesis import given
from hypothesis import strategies as st
from whoosh import index as whoosh_index

import searchkit
from searchkit.cli import render
from searchkit.errors import CorpusError
from searchkit.index import build, ledger, textfile


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


def contents(index_dir):
    """Every paragraph in the index: id -> (path, text, near-duplicate group)."""
    with whoosh_index.open_dir(str(index_dir)).searcher() as searcher:
        return {
            f["id"]: (f["path"], f["text"], f["dup_group"]) for f in searcher.all_stored_fields()
        }


def same_as_a_rebuild(index_dir, paths, tmp_path):
    fresh = tmp_path / "fresh"
    searchkit.build_index(paths, fresh, rebuild=True)
    assert contents(index_dir) == contents(fresh)


def found(index_dir, query):
    with searchkit.open_index(index_dir) as searcher:
        return [hit.id for hit in searcher.search(query, limit=50, collapse=False).hits]


def test_an_unchanged_corpus_is_left_alone(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    first = searchkit.build_index([corpus], index_dir)
    assert (first.added, first.committed) == (5, True)
    before = {p.name: p.stat().st_mtime_ns for p in index_dir.iterdir()}
    again = searchkit.build_index([corpus], index_dir)
    assert (again.added, again.updated, again.unchanged, again.files, again.committed) == (
        0, 0, 5, 0, False)
    assert {p.name: p.stat().st_mtime_ns for p in index_dir.iterdir()} == before  # no writes


def test_a_changed_file_is_reindexed_and_only_it(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    story = next(corpus.glob(f"{S001}*"))
    story.write_text(story.read_text() + "\n\nThe zanzibarian envoy declined to comment.\n")
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 4)
    assert (summary.files, summary.paragraphs) == (1, 28)
    assert found(index_dir, "zanzibarian") == [f"{S001}#28"]
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


def test_new_files_are_added_and_join_duplicate_groups(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    copy = corpus / "reprint.txt"  # another outlet's reprint of story 004, lightly edited
    copy.write_text(next(corpus.glob(f"{S004}*")).read_text().replace("Monday", "Tuesday"))
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.added, summary.unchanged) == (1, 5)
    with searchkit.open_index(index_dir) as searcher:
        groups = searcher.duplicate_groups()
    assert any({m.id.split("#")[0] for m in g.members} == {S004, "reprint"} for g in groups)
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


def test_the_summary_counts_the_groups_the_index_holds(corpus, tmp_path):
    """A build's summary counts the near-duplicate groups of more than one paragraph, and
    their paragraphs, as the index holds them: from scratch, after an update that regroups
    only what it must, and after one that groups every paragraph again (a new threshold)."""

    def held(index_dir):
        sizes = Counter(group for _, _, group in contents(index_dir).values())
        return sum(1 for n in sizes.values() if n > 1), sum(n for n in sizes.values() if n > 1)

    index_dir = tmp_path / "ix"
    copy = corpus / "reprint.txt"
    copy.write_text(next(corpus.glob(f"{S004}*")).read_text().replace("Monday", "Tuesday"))
    first = searchkit.build_index([corpus], index_dir)
    assert (first.duplicate_groups, first.paragraphs_in_groups) == held(index_dir)
    assert first.duplicate_groups > 0
    (corpus / "again.txt").write_text(next(corpus.glob(f"{S001}*")).read_text())
    update = searchkit.build_index([corpus], index_dir)
    assert (update.duplicate_groups, update.paragraphs_in_groups) == held(index_dir)
    assert update.paragraphs_in_groups > first.paragraphs_in_groups
    regrouped = searchkit.build_index([corpus], index_dir, dedup_threshold=0.95)
    assert (regrouped.duplicate_groups, regrouped.paragraphs_in_groups) == held(index_dir)


def test_ties_are_ranked_as_in_a_fresh_build(tmp_path):
    """Paragraphs that score alike (a reprint's exact copies) or share a date come in a fresh
    build's order (by file, article and paragraph), not in the order they were indexed: the
    copy shown first, with its source, and --sort date's order are those of a fresh build."""
    folder = tmp_path / "news"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.txt").write_text(
            f"Harbour strike ends\n\nSource: Wire {name}\n\nPublished: 3 March 2005\n\n"
            "Dock workers at the harbour ended their strike after a pay deal was agreed.\n\n"
            f"Other news of {name}.\n",
            encoding="utf-8")
    index_dir = tmp_path / "ix"
    searchkit.build_index([folder], index_dir)
    # (a's paragraphs written again after b's and c's)
    (folder / "a.txt").write_text((folder / "a.txt").read_text().replace("Other", "More"))
    assert searchkit.build_index([folder], index_dir).updated == 1
    fresh = tmp_path / "fresh"
    searchkit.build_index([folder], fresh)

    def answers(index):
        with searchkit.open_index(index) as searcher:
            return [[(h.id, h.source) for h in searcher.search(query, sort=sort).hits]
                    for query in ("harbour strike", "news") for sort in ("score", "date")]

    assert answers(index_dir) == answers(fresh)
    assert answers(index_dir)[0][0] == ("a#1", "Wire a")


def test_vanished_files_stay_until_pruned(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    copy = corpus / "reprint.txt"
    copy.write_text(next(corpus.glob(f"{S004}*")).read_text())
    searchkit.build_index([corpus], index_dir)
    copy.unlink()
    kept = searchkit.build_index([corpus], index_dir)
    assert (kept.missing, kept.removed, kept.committed) == (1, 0, False)
    assert any(i.startswith("reprint#") for i in found(index_dir, "Lukashenko"))
    pruned = searchkit.build_index([corpus], index_dir, prune=True)
    assert (pruned.removed, pruned.unchanged) == (1, 5)
    assert not any(i.startswith("reprint#") for i in found(index_dir, "Lukashenko"))
    same_as_a_rebuild(index_dir, [corpus], tmp_path)  # the groups of 004 dissolved again


def test_a_moved_folder_pruned_in_the_same_run_gets_the_ids_of_a_fresh_build(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)  # (files changed just now: no stat to know)
    moved = corpus.rename(tmp_path / "moved")
    summary = searchkit.build_index([moved], index_dir, prune=True)
    assert (summary.added, summary.removed, summary.moved) == (5, 5, 0)
    same_as_a_rebuild(index_dir, [moved], tmp_path)


def test_a_moved_folder_replaces_its_old_files(tmp_path):
    """A folder renamed (its files the same by inode, size and modification time): each file
    is read again at its new path and its old self goes, as in a fresh build of the folder;
    nothing is listed twice, and nothing needs pruning."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus / "wire")
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    moved = corpus.rename(tmp_path / "moved")
    summary = searchkit.build_index([moved], index_dir)
    assert (summary.moved, summary.added, summary.removed, summary.missing) == (5, 0, 0, 0)
    assert "files: 0 added, 0 updated, 5 moved, 0 removed, 0 unchanged, 0 skipped" in \
        render.index_summary(summary)
    assert {(a.action, a.detail) for a in summary.file_actions} == {
        ("moved", f"from {corpus / 'wire' / p.name}") for p in SEEDS.iterdir()
        if p.suffix == ".txt"}
    same_as_a_rebuild(index_dir, [moved], tmp_path)
    with searchkit.open_index(index_dir) as searcher:
        groups = searcher.search("Lukashenko", limit=50).groups
    places = [p.path for g in groups for p in (g.leader, *g.duplicates)]
    assert places and all(p.startswith(str(moved)) for p in places)


def test_a_renamed_file_gets_its_new_name_and_a_changed_one_is_new(corpus, tmp_path):
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    next(corpus.glob(f"{S000}*")).rename(corpus / "renamed.txt")
    edited = next(corpus.glob(f"{S001}*"))
    text = edited.read_text()
    edited.unlink()
    (corpus / "edited.txt").write_text(text + "\nThe envoy declined to comment.\n")
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.moved, summary.added, summary.missing) == (1, 1, 1)
    ids = set(contents(index_dir))
    assert any(i.startswith("renamed#") for i in ids)
    assert not any(i.startswith(f"{S000}#") for i in ids)
    assert any(i.startswith(f"{S001}#") for i in ids)  # gone from disk, not moved: kept
    searchkit.build_index([corpus], index_dir, prune=True)
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


@pytest.mark.parametrize("stat", ["garbage", "1:2:3", "-5:1:1:1", "9" * 30 + ":1:1:1"])
def test_a_ledger_with_a_stat_searchkit_never_writes_finds_no_move(corpus, tmp_path, stat):
    """The ledger is read from the index folder: a recorded stat it cannot have written
    matches no file, and the run goes on (the file gone stays, missing)."""
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    gone = next(corpus.glob(f"{S000}*"))
    name = next(index_dir.glob("files-*.json"))
    held = json.loads(name.read_text())
    held["files"][str(gone)]["stat"] = stat
    name.write_text(json.dumps(held))
    reseal(index_dir)
    gone.rename(corpus / "renamed.txt")
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.moved, summary.added, summary.missing) == (0, 1, 1)


def test_a_file_moved_onto_an_indexed_name_leaves_no_stale_copy(corpus, tmp_path):
    """`mv a b` over an indexed file, and `mv b aside; mv a b`: the file that moved is gone
    from its old path, found at a path the index holds another file at; its old self goes
    all the same, and the index is a fresh build's without --prune."""
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    s0, s1, s2, s3 = (corpus / f"{stem}.txt" for stem in (S000, S001, S002, S003))
    s1.rename(corpus / "aside.txt")
    s0.rename(s1)
    s2.rename(s3)
    _settled(corpus)
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.moved, summary.added, summary.missing) == (2, 1, 0)
    assert ("moved", str(s1), f"from {s0}") in {
        (a.action, a.path, a.detail) for a in summary.file_actions}
    same_as_a_rebuild(index_dir, [corpus], tmp_path)
    assert not searchkit.build_index([corpus], index_dir).committed


def test_hard_links_of_one_file_moved_together_leave_no_stale_copy(corpus, tmp_path):
    """Three names of one file (hard links), all indexed; one deleted, the folder renamed:
    the two left are found again, each under its own name, though alike by inode, size and
    modification time; the one deleted stays until --prune, as any deleted file does."""
    for name in ("linked.txt", "deleted.txt"):
        os.link(corpus / f"{S000}.txt", corpus / name)
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    (corpus / "deleted.txt").unlink()
    moved = corpus.rename(tmp_path / "moved")
    summary = searchkit.build_index([moved], index_dir)
    assert (summary.moved, summary.added, summary.missing) == (6, 0, 1)
    actions = {a.path: (a.action, a.detail) for a in summary.file_actions}
    assert actions[str(moved / "linked.txt")] == ("moved", f"from {corpus / 'linked.txt'}")
    assert actions[str(corpus / "deleted.txt")][0] == "missing"
    searchkit.build_index([moved], index_dir, prune=True)
    same_as_a_rebuild(index_dir, [moved], tmp_path)


def test_a_moved_file_that_cannot_be_read_keeps_its_indexed_version(corpus, tmp_path,
                                                                    monkeypatch):
    """As any file that cannot be read any more: its old self stays (missing, not removed),
    and is replaced once it can be read at its new path."""
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    (corpus / "sub").mkdir()
    moved = (corpus / f"{S001}.txt").rename(corpus / "sub" / "locked.txt")
    _settled(corpus)
    original = build.read_bytes

    def refusing(path, options):
        if Path(path).name == "locked.txt":
            raise CorpusError("cannot read it: Permission denied")
        return original(path, options)

    monkeypatch.setattr(build, "read_bytes", refusing)
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.moved, summary.removed, summary.missing) == (0, 0, 1)
    assert [s.path for s in summary.skipped_files] == [str(moved)]
    assert f"{S001}#6" in found(index_dir, "Merkel")
    monkeypatch.setattr(build, "read_bytes", original)
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.moved, summary.removed, summary.missing) == (1, 0, 0)
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


def test_a_folder_copied_elsewhere_and_deleted_keeps_its_old_files_until_pruned(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus / "wire")
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    copied = tmp_path / "copied"
    shutil.copytree(corpus, copied)  # new files, by their inodes
    shutil.rmtree(corpus)
    summary = searchkit.build_index([copied], index_dir)  # the old files stay, missing
    assert (summary.added, summary.moved, summary.missing) == (5, 0, 5)
    ids = set(contents(index_dir))
    assert f"copied/wire/{S000}#1" in ids and f"wire/{S000}#1" in ids
    searchkit.build_index([copied], index_dir, prune=True)
    assert set(contents(index_dir)) == {i for i in ids if i.startswith("copied/")}


def test_prune_keeps_files_indexed_from_other_folders(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    other = tmp_path / "other"
    other.mkdir()
    shutil.move(str(next(corpus.glob(f"{S000}*"))), other)
    searchkit.build_index([corpus], index_dir)
    searchkit.build_index([other], index_dir)
    summary = searchkit.build_index([corpus], index_dir, prune=True)
    assert (summary.removed, summary.unchanged) == (0, 4)
    same_as_a_rebuild(index_dir, [corpus, other], tmp_path)


def test_a_changed_manifest_reindexes_its_files(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    name = next(corpus.glob(f"{S000}*")).name
    (corpus / "manifest.json").write_text(json.dumps({name: {"source": "Wire Service"}}))
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.updated, summary.unchanged) == (1, 4)
    with searchkit.open_index(index_dir) as searcher:
        assert searcher.stats().sources["Wire Service"] == 1


def test_files_of_the_same_manifest_entry_are_reindexed_by_their_own(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    names = sorted(path.name for path in corpus.iterdir())
    entries = {name: {"source": "Wire Service", "date": "2020-01-02"} for name in names}
    (corpus / "manifest.json").write_text(json.dumps(entries))
    searchkit.build_index([corpus], index_dir)
    entries[names[1]] = {"source": "Wire Service", "date": "2020-01-03"}
    (corpus / "manifest.json").write_text(json.dumps(entries))
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.updated, summary.unchanged) == (1, 4)
    assert [a.path for a in summary.file_actions if a.action == "updated"] == [
        str(corpus / names[1])]
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


def test_the_same_file_by_another_path_is_not_indexed_twice(corpus, tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    monkeypatch.chdir(tmp_path)
    summary = searchkit.build_index([os.path.join("corpus", f"{S000}.txt")], index_dir)
    assert (summary.unchanged, summary.committed) == (1, False)
    summary = searchkit.build_index([corpus.parent / "." / "corpus"], index_dir)
    assert (summary.unchanged, summary.committed) == (5, False)


def test_a_file_that_turns_unreadable_keeps_its_indexed_version(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    story = next(corpus.glob(f"{S001}*"))
    story.write_bytes(b"")
    summary = searchkit.build_index([corpus], index_dir)
    assert [s.path for s in summary.skipped_files] == [str(story)]
    assert "earlier version stays in the index" in summary.skipped_files[0].reason
    assert f"{S001}#6" in found(index_dir, "Merkel")


def test_a_rebuild_holds_exactly_the_files_given(corpus, tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    one = next(corpus.glob(f"{S000}*"))
    new = tmp_path / "new.txt"
    new.write_text("A new story\n\nThe ferry timetable changes for the winter.\n")
    summary = searchkit.build_index([one, new], index_dir, rebuild=True)
    # counted against the index it replaced: its other files are gone, its one read again
    assert (summary.added, summary.updated, summary.removed, summary.unchanged,
            summary.committed) == (1, 1, 4, 0, True)
    others = sorted(str(path) for path in corpus.iterdir() if path != one)
    assert sorted((a.action, a.path) for a in summary.file_actions) == [
        ("added", str(new)), *(("removed", path) for path in others), ("updated", str(one))]
    assert {i.split("#")[0] for i in contents(index_dir)} == {S000, "new"}
    again = searchkit.build_index([corpus], index_dir)  # the ledger knows only that file now
    assert (again.added, again.unchanged) == (4, 1)


def test_cli_reports_what_changed(corpus, tmp_path):
    from click.testing import CliRunner

    from searchkit.cli.commands import main

    def run(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    index_dir = tmp_path / "ix"
    assert run("index", corpus, "--index", index_dir).exit_code == 0
    (corpus / f"{S000}.txt").unlink()
    again = run("index", corpus, "--index", index_dir)
    assert again.exit_code == 0
    assert f"{index_dir} is up to date" in again.stderr
    assert "files: 0 added, 0 updated, 0 removed, 4 unchanged, 0 skipped" in again.stderr
    assert "1 indexed file is gone" in again.stderr and "--prune" in again.stderr
    pruned = run("index", corpus, "--index", index_dir, "--prune", "--verbose")
    assert pruned.exit_code == 0
    assert "files: 0 added, 0 updated, 1 removed, 4 unchanged, 0 skipped" in pruned.stderr
    assert f"removed    {corpus / S000}.txt" in pruned.stderr
    rebuilt = run("index", corpus / f"{S001}.txt", "--index", index_dir, "--rebuild")
    assert rebuilt.exit_code == 0
    assert "files: 0 added, 1 updated, 3 removed, 0 unchanged, 0 skipped" in rebuilt.stderr


def test_verbose_names_files_gone_as_it_names_the_others(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from searchkit.cli.commands import main

    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    for name in ("kept", "gone", "pruned"):
        (corpus / f"{name}.txt").write_text(f"The {name} story\n\nA paragraph of words.\n")
    assert CliRunner().invoke(main, ["index", "corpus", "--index", "ix"]).exit_code == 0
    (corpus / "gone.txt").unlink()
    missing = CliRunner().invoke(main, ["index", "corpus", "--index", "ix", "-v"])
    assert missing.stderr.splitlines()[:3] == [
        "unchanged  corpus/kept.txt", "unchanged  corpus/pruned.txt",
        "missing    corpus/gone.txt  (gone; --prune removes it)"]
    (corpus / "pruned.txt").unlink()
    pruned = CliRunner().invoke(main, ["index", "corpus", "--index", "ix", "-v", "--prune"])
    assert pruned.stderr.splitlines()[:3] == [
        "unchanged  corpus/kept.txt", "removed    corpus/gone.txt", "removed    corpus/pruned.txt"]


def test_verbose_names_where_a_moved_file_was_as_it_names_files_gone(tmp_path, monkeypatch):
    """The old path of a file found moved comes from the ledger (absolute): near, on one line,
    as a file gone is named."""
    from click.testing import CliRunner

    from searchkit.cli.commands import main

    monkeypatch.chdir(tmp_path)
    corpus = Path("corpus")
    corpus.mkdir()
    for name in ("story", "two\nlines"):
        (corpus / f"{name}.txt").write_text(f"The {name[:3]} story\n\nA paragraph of words.\n")
    _settled(corpus)
    assert CliRunner().invoke(main, ["index", "corpus", "--index", "ix"]).exit_code == 0
    (corpus / "story.txt").rename(corpus / "renamed.txt")
    (corpus / "two\nlines.txt").rename(corpus / "joined.txt")
    moved = CliRunner().invoke(main, ["index", "corpus", "--index", "ix", "-v"])
    assert moved.stderr.splitlines()[:2] == [
        "moved      corpus/joined.txt  (from corpus/two\\nlines.txt)",
        "moved      corpus/renamed.txt  (from corpus/story.txt)"]


def test_prune_keeps_the_files_of_a_folder_that_cannot_be_listed(tmp_path, monkeypatch):
    """As a file that cannot be read keeps its earlier version, so do the files of a folder
    that cannot be listed (permissions, a network drive gone): they are not gone."""
    corpus = tmp_path / "corpus"
    (corpus / "locked").mkdir(parents=True)
    (corpus / "open.txt").write_text("The open story\n\nA paragraph about the harbour.\n")
    (corpus / "locked" / "kept.txt").write_text("The kept story\n\nA paragraph on tides.\n")
    searchkit.build_index([corpus], tmp_path / "ix")
    (corpus / "open.txt").unlink()
    listing = os.scandir

    def scandir(path="."):
        if os.path.basename(str(path)) == "locked":  # what a folder without read permission does
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    summary = searchkit.build_index([corpus], tmp_path / "ix", prune=True)
    assert [(s.path, s.reason.split(" (")[0]) for s in summary.skipped_files] == [
        (str(corpus / "locked"), "cannot read this folder")]
    assert (summary.removed, summary.missing) == (1, 0)  # open.txt, which is gone
    with searchkit.open_index(tmp_path / "ix") as searcher:
        assert [hit.article_id for hit in searcher.search("tides").hits] == ["locked/kept"]


def _settled(folder):
    """Wait until every file's last change is older than a stat the ledger may trust."""
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in folder.rglob("*"))
    while time.time_ns() - newest < 2 * ledger.FINE_RACY_NS:
        time.sleep(0.05)


def reads(monkeypatch):
    """The files a build reads the bytes of, from now on."""
    read = []
    original = build.read_bytes

    def counting(path, options):
        read.append(path.name)
        return original(path, options)

    monkeypatch.setattr(build, "read_bytes", counting)
    return read


def test_an_unchanged_corpus_is_not_read_again(corpus, tmp_path, monkeypatch):
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    read = reads(monkeypatch)
    again = searchkit.build_index([corpus], index_dir)
    assert (again.unchanged, again.committed, read) == (5, False, [])
    story = next(corpus.glob(f"{S001}*"))
    story.write_text(story.read_text() + "\n\nThe zanzibarian envoy declined to comment.\n")
    assert searchkit.build_index([corpus], index_dir).updated == 1
    assert read == [story.name]  # its stat changed: read; the others were not


def test_files_read_by_an_older_reading_are_read_again(corpus, tmp_path, monkeypatch):
    """The same bytes may make other articles in this version (a line's kind, metadata
    found): an index an older reading made is brought to what a rebuild would hold."""
    _settled(corpus)
    index_dir = tmp_path / "ix"
    monkeypatch.setattr(build, "READING_VERSION", build.READING_VERSION - 1)
    searchkit.build_index([corpus], index_dir)
    monkeypatch.undo()
    read = reads(monkeypatch)
    again = searchkit.build_index([corpus], index_dir)
    assert (again.updated, again.committed) == (5, True)
    assert sorted(read) == sorted(p.name for p in corpus.iterdir())
    assert searchkit.build_index([corpus], index_dir).unchanged == 5  # and then left alone


MARKUP = '<?xml version="1.0"?>\n<rss><item><title>Cocoa</title></item></rss>\n'


def test_a_refused_file_is_reported_again_but_not_read_again(corpus, tmp_path, monkeypatch):
    feed = corpus / "feed.txt"
    feed.write_text(MARKUP)
    _settled(corpus)
    index_dir = tmp_path / "ix"
    first = searchkit.build_index([corpus], index_dir)
    read = reads(monkeypatch)
    again = searchkit.build_index([corpus], index_dir)
    assert again.skipped_files == first.skipped_files
    assert [(s.path, s.reason.split(",")[0]) for s in again.skipped_files] == [
        (str(feed), "markup (SGML or XML)")]
    assert [a.action for a in again.file_actions if a.path == str(feed)] == ["skipped"]
    assert (again.unchanged, again.committed, read) == (5, False, [])
    assert searchkit.check(index_dir).ok

    feed.write_text("Cocoa Harvest Ends\n\nThe zanzibarian cocoa harvest ended early.\n")
    fixed = searchkit.build_index([corpus], index_dir)
    assert read == ["feed.txt"]  # its stat changed: read, and now indexed
    assert (fixed.added, fixed.updated, fixed.skipped_files) == (1, 0, ())
    assert [i.split("#")[0] for i in found(index_dir, "zanzibarian")] == ["feed"]
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


def test_a_refused_file_that_is_gone_is_neither_removed_nor_missing(corpus, tmp_path):
    feed = corpus / "feed.txt"
    feed.write_text(MARKUP)
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    feed.unlink()
    for prune in (False, True):
        gone = searchkit.build_index([corpus], index_dir, prune=prune)
        assert (gone.removed, gone.missing, gone.skipped_files, gone.committed) == (
            0, 0, (), False)
        assert str(feed) not in {a.path for a in gone.file_actions}


def test_a_file_that_could_not_be_read_is_not_remembered(corpus, tmp_path, monkeypatch):
    """Refused for its bytes, a file is remembered; one whose bytes could not be read (no
    permission, an I/O error) is tried again: a later run may be allowed to read it."""
    story = corpus / "later.txt"
    story.write_text("Cocoa Harvest Ends\n\nThe zanzibarian cocoa harvest ended early.\n")
    _settled(corpus)
    original = build.read_bytes

    def fails_for_it(path, options):
        if path.name == story.name:
            raise CorpusError("cannot read it: Input/output error")
        return original(path, options)

    monkeypatch.setattr(build, "read_bytes", fails_for_it)
    index_dir = tmp_path / "ix"
    first = searchkit.build_index([corpus], index_dir)
    assert [s.reason for s in first.skipped_files] == ["cannot read it: Input/output error"]
    monkeypatch.setattr(build, "read_bytes", original)
    again = searchkit.build_index([corpus], index_dir)
    assert (again.added, again.skipped_files) == (1, ())
    assert [i.split("#")[0] for i in found(index_dir, "zanzibarian")] == ["later"]


def test_a_refused_new_version_keeps_the_indexed_one(corpus, tmp_path, monkeypatch):
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    story = next(corpus.glob(f"{S001}*"))
    story.write_text(MARKUP)
    _settled(corpus)
    read = reads(monkeypatch)
    for runs in (1, 2):  # its earlier version's record is kept: read again, still refused
        summary = searchkit.build_index([corpus], index_dir)
        assert "earlier version stays in the index" in summary.skipped_files[0].reason
        assert f"{S001}#6" in found(index_dir, "Merkel")
        assert read == [story.name] * runs


def test_a_change_that_keeps_size_and_modification_time_is_seen(corpus, tmp_path):
    _settled(corpus)
    index_dir = tmp_path / "ix"
    searchkit.build_index([corpus], index_dir)
    story = next(corpus.glob(f"{S001}*"))
    before = story.stat()
    text = story.read_text()
    assert "Minsk" in text
    story.write_text(text.replace("Minsk", "Pinsk"))  # same size
    os.utime(story, ns=(before.st_atime_ns, before.st_mtime_ns))  # its time put back
    assert story.stat().st_size == before.st_size
    summary = searchkit.build_index([corpus], index_dir)
    assert (summary.updated, summary.unchanged) == (1, 4)  # the change time gave it away
    assert found(index_dir, "Pinsk")
    same_as_a_rebuild(index_dir, [corpus], tmp_path)


def test_a_stat_is_recorded_only_for_files_changed_well_before_the_read():
    def stat(mtime_ns, ctime_ns=None):
        return SimpleNamespace(st_size=10, st_mtime_ns=mtime_ns,
                               st_ctime_ns=ctime_ns or mtime_ns, st_ino=7)

    fine = 1_700_000_000_123_456_789  # a file system with sub-second times
    assert ledger.stat_key(stat(fine), fine + ledger.FINE_RACY_NS // 2) == ""
    assert ledger.stat_key(stat(fine), fine + 2 * ledger.FINE_RACY_NS) == (
        f"10:{fine}:{fine}:7")
    assert ledger.stat_key(stat(fine - 10**10, fine), fine + 1000) == ""  # changed just now
    coarse = 1_700_000_000 * 10**9  # whole seconds (FAT, some network file systems)
    assert ledger.stat_key(stat(coarse), coarse + 2 * ledger.FINE_RACY_NS) == ""
    assert ledger.stat_key(stat(coarse), coarse + ledger.RACY_NS) != ""


_PATH = st.text(st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    ["\ud800", "é", "/", '"', "\\"]), min_size=1, max_size=8)
_RECORD = st.builds(ledger.FileRecord, fingerprint=st.text(max_size=4), size=st.integers(0, 9),
                    key=_PATH, article_ids=st.lists(_PATH, max_size=3).map(tuple),
                    paragraphs=st.integers(0, 9), context=st.text(max_size=3),
                    stat=st.text(max_size=3), refused=st.sampled_from(["", "empty", "é"]))


def _as_written(record):
    """A record's fields as the ledger's file holds them: "refused" where a file was."""
    return {k: v for k, v in record._asdict().items() if k != "refused" or v}


@given(records=st.dictionaries(_PATH, st.tuples(_RECORD, st.booleans()), max_size=8),
       generation=st.integers(0, 99))
def test_a_ledger_kept_as_bytes_is_written_as_one_of_records(records, generation):
    """A build keeps each new ledger record as its bytes, an unchanged file's as it is
    (ledger.Entries): the ledger's file is the one its records make, files in path order."""
    entries, held = ledger.Entries(), {}
    for path, (record, new) in records.items():
        if new:
            entries[path] = record
        else:
            entries.keep(path, record)
        held[path] = record
    written = ledger.to_bytes(generation, entries)
    assert written == ledger.to_bytes(generation, held) == json.dumps(
        {"generation": generation,
         "files": {path: _as_written(held[path]) for path in sorted(held)}}).encode("utf-8")
    assert ledger.from_bytes(written) == held


def test_a_large_ledger_is_written_from_its_scratch_file_as_its_records_make_it(
        tmp_path, monkeypatch):
    """Records written to the scratch file a few at a time, read back a few at a time, in
    path order where they were given in another; kept ones written a few at a time."""
    monkeypatch.setattr(textfile, "_WRITTEN_FROM", 1000)
    monkeypatch.setattr(textfile, "_STRINGS_A_READ", 7)
    monkeypatch.setattr(ledger, "_KEPT_A_WRITE", 3)
    rng = random.Random(5)
    entries, held = ledger.Entries(str(tmp_path)), {}
    for n in rng.sample(range(3000), 3000):
        record = ledger.FileRecord(f"{n:064x}", n, f"k{n}", (f"k{n}#1",), n % 7)
        path = f"/news/{n % 13}/{n}é.txt"
        if n % 5 and n % 7:
            entries[path] = record
        else:
            entries.keep(path, record)
        held[path] = record
    assert ledger.to_bytes(4, entries) == json.dumps(
        {"generation": 4, "files": {path: _as_written(held[path]) for path in sorted(held)}}
    ).encode("utf-8")
