"""searchkit deletes only files it can prove it wrote: it refuses to make an index in a folder
holding other files, or inside a folder it is reading (or the other way round), and leaves
every file no commit record or writer journal of its own names."""

import shutil

import pytest
from conftest import S000, S001, SEEDS, invoke

import searchkit
from searchkit.index import durable, store

USER_FILES = {"MAIN_notes.txt": "my notes", "checksums-5.json": '{"files": {}}',
              "files-3.json": "[1, 2, 3]", "backup.tmp/copy.txt": "a copy",
              "backup.tmp/deeper/more.txt": "more"}


def user_folder(folder):
    for name, text in USER_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def contents(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("extra", [[], ["--rebuild"]])
def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path, extra):
    folder = user_folder(tmp_path / "mine")
    before = contents(folder)
    result = invoke("index", SEEDS, "--index", folder, *extra)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {folder} is not empty and is not a searchkit index; "
                             "give an empty or new folder\n")
    assert contents(folder) == before and sorted(p.name for p in folder.iterdir()) == [
        "MAIN_notes.txt", "backup.tmp", "checksums-5.json", "files-3.json"]
    with pytest.raises(searchkit.IndexFolderError, match="is not empty"):
        searchkit.build_index([SEEDS], folder)
    with pytest.raises(searchkit.IndexFolderError):
        store.create_index(folder, None)
    assert contents(folder) == before


def test_hidden_files_and_a_new_or_empty_folder_are_fine(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / ".gitignore").write_text("*\n")  # as the repository's own index/ holds
    (tmp_path / "empty").mkdir()
    for folder in (hidden, tmp_path / "empty", tmp_path / "new" / "deeper"):
        assert invoke("index", SEEDS / f"{S000}.txt", "--index", folder).exit_code == 0
    assert (hidden / ".gitignore").read_text() == "*\n"


def test_paths_of_no_articles_leave_no_index_folder_behind(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "list.csv").write_text("a,b\n")
    for given in (tmp_path / "missing", tmp_path / "notes"):
        folder = tmp_path / "new" / "ix"
        with pytest.raises(searchkit.CorpusError, match="no article files"):
            searchkit.build_index([given], folder)
        assert not (tmp_path / "new").exists()
        result = invoke("index", given, "--index", folder)
        assert result.exit_code == 1 and "no article files" in result.stderr
        assert not (tmp_path / "new").exists()


def test_the_corpus_folder_is_never_the_index_folder_or_around_it(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    before = contents(corpus)
    for index_dir, message in [
        (corpus, f"the index folder {corpus} is inside {corpus}, which is being indexed"),
        (corpus / "ix", f"the index folder {corpus / 'ix'} is inside {corpus}, which is "
                        "being indexed"),
        (tmp_path, f"{corpus} is inside the index folder {tmp_path}; index files kept "
                   "elsewhere"),
    ]:
        result = invoke("index", corpus, "--index", index_dir)
        assert result.exit_code == 1 and result.stderr.startswith(f"Error: {message}"), (
            result.stderr)
        assert contents(corpus) == before
    assert not (corpus / "ix").exists()
    linked = tmp_path / "link"
    linked.symlink_to(corpus)
    result = invoke("index", linked, "--index", corpus / "ix")
    assert result.exit_code == 1 and "is being indexed" in result.stderr
    assert contents(corpus) == before


def test_user_files_in_an_index_folder_outlive_every_kind_of_run(tmp_path, monkeypatch):
    """Files a user drops into an index folder, named like searchkit's own, stay through
    updates, a rebuild, optimize and the expiry of every superseded commit."""
    index_dir = tmp_path / "ix"
    searchkit.build_index([SEEDS / f"{S000}.txt"], index_dir)
    names = ["MAIN_notes.txt", "backup.tmp/copy.txt", "backup.tmp/deeper/more.txt",
             "MAIN_0123456789abcdef.trm", "checksums-5000.json", "files-3000.json",
             "stems-4000.tsv", "_MAIN_7.toc.1234.5", "searchkit.json"]
    for name in names:  # (a file named as a commit to come would stop it: the next test)
        (index_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (index_dir / name).write_text(f"mine: {name}")
    mine = {n: d for n, d in contents(index_dir).items() if n in names}
    assert len(mine) == len(names)
    monkeypatch.setattr(durable, "KEEP_SUPERSEDED_SECONDS", 0.0)
    searchkit.build_index([SEEDS / f"{S001}.txt"], index_dir)
    searchkit.build_index([SEEDS], index_dir, rebuild=True)
    searchkit.build_index([SEEDS / f"{S000}.txt"], index_dir, prune=True)
    store.optimize(index_dir)
    searchkit.build_index([SEEDS], index_dir)
    assert {n: d for n, d in contents(index_dir).items() if n in mine} == mine
    assert store.check(index_dir).ok
    generation = store.latest_generation(index_dir)
    ours = set(durable.load_record(str(index_dir), generation).files) | {
        durable.record_file(generation), durable.LOCK_FILE, durable.JOURNAL}
    assert set(contents(index_dir)) - ours - set(mine) == set()  # ours: this commit's only


def test_a_file_named_as_the_next_commits_own_is_not_overwritten(tmp_path):
    index_dir = tmp_path / "ix"
    searchkit.build_index([SEEDS / f"{S000}.txt"], index_dir)
    name = durable.side_file("ledger", store.latest_generation(index_dir) + 1)
    (index_dir / name).write_text("[1, 2, 3]")
    result = invoke("index", SEEDS / f"{S001}.txt", "--index", index_dir)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {index_dir / name} is not searchkit's, but named as one "
                             "of its files; move it out of the index folder\n")
    assert (index_dir / name).read_text() == "[1, 2, 3]"
    assert store.check(index_dir).ok and store.check(index_dir).leftovers == ()
    assert searchkit.search(f"{S001}", index_dir).total == 0


def legacy_index(index_dir):
    """Turn a fresh index into one as searchkit before schema 10 left it: records of segment
    files only, one settings file, vocabulary and stems table for all commits."""
    import hashlib
    import json

    generation = store.latest_generation(index_dir)
    for number in durable.generations(str(index_dir)):
        record = durable.load_record(str(index_dir), number)
        sums = {name: hashlib.sha256((index_dir / name).read_bytes()).hexdigest()
                for name in record.files if durable.SEGMENT_FILE.match(name)}
        (index_dir / durable.record_file(number)).write_text(
            json.dumps({"generation": number, "algorithm": "sha256", "files": sums}))
    settings = json.loads((index_dir / f"searchkit-{generation}.json").read_text())
    (index_dir / "searchkit.json").write_text(json.dumps({**settings, "schema_version": 9}))
    for kind, legacy in (("vocabulary", "vocabulary.json"), ("stems", "stems.tsv")):
        (index_dir / durable.side_file(kind, generation)).rename(index_dir / legacy)
    for number in durable.generations(str(index_dir)):
        (index_dir / f"searchkit-{number}.json").unlink()
        (index_dir / f"segments-{number}.json").unlink()  # nor segments lists
        (index_dir / f"dupindex-{number}.npz").unlink(missing_ok=True)  # nor groupings
    return set(p.name for p in index_dir.iterdir())


def test_an_index_of_an_older_searchkit_is_rebuilt_and_its_files_go(tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    searchkit.build_index([SEEDS / f"{S000}.txt"], index_dir)
    old = legacy_index(index_dir)
    (index_dir / "MAIN_notes.txt").write_text("mine")
    with pytest.raises(searchkit.IndexSettingsError, match="rebuild it"):
        searchkit.open_index(index_dir)
    result = invoke("search", "Putin", "--index", index_dir)
    assert result.exit_code == 1 and "schema_version differ" in result.stderr
    searchkit.build_index([SEEDS / f"{S000}.txt"], index_dir, rebuild=True)
    assert searchkit.search("Putin", index_dir).total > 0
    monkeypatch.setattr(durable, "KEEP_SUPERSEDED_SECONDS", 0.0)
    searchkit.build_index([SEEDS / f"{S001}.txt"], index_dir)
    left = set(p.name for p in index_dir.iterdir())
    assert not (old - {durable.LOCK_FILE, durable.JOURNAL}) & left, old & left
    assert "MAIN_notes.txt" in left and store.check(index_dir).ok
