"""Each failure reaches a library user as its own type, the one the exit status follows: a
usage mistake is not a query error, a damaged index is not one of other settings, and no bare
OSError or SearchkitError escapes."""

import errno
import json
import os
import shutil

import pytest
from click.testing import CliRunner
from conftest import S000, SEEDS, committed, reseal

import searchkit
from searchkit.index import durable, store
from searchkit.cli import repl
from searchkit.retrieval.batch import read_queries
from searchkit.cli.commands import main


def test_a_query_file_that_cannot_be_read(tmp_path):
    garbled = tmp_path / "queries.tsv"
    garbled.write_bytes(b"1\tPutin \xff\n")
    with pytest.raises(searchkit.QueryFileError, match="not UTF-8 text"):
        read_queries(garbled)
    with pytest.raises(searchkit.QueryFileError, match="cannot read it"):
        read_queries(tmp_path / "nowhere.tsv")
    assert not issubclass(searchkit.QueryFileError, searchkit.QueryError)  # exit status 1


def test_a_threshold_out_of_range_is_a_usage_error(tmp_path):
    with pytest.raises(searchkit.UsageError, match="above 0 and at most 1"):
        searchkit.build_index([SEEDS / f"{S000}.txt"], tmp_path / "ix", dedup_threshold=1.5)
    assert not (tmp_path / "ix").exists()


@pytest.mark.parametrize("line", [":bogus", ":page two", ":limit", ":dedup maybe", ":more"])
def test_repl_typing_mistakes_are_usage_errors(seed_index, line):
    session = repl.Session(seed_index, lambda text: None)
    try:
        with pytest.raises(searchkit.UsageError) as raised:
            session.handle(line)
        assert not isinstance(raised.value, searchkit.QueryError)
        with pytest.raises(searchkit.QueryError):  # a query that cannot run stays one
            session.handle("*")
    finally:
        session.close()


def test_settings_without_a_schema_version_are_damage(seed_index, tmp_path):
    copy = tmp_path / "ix"
    shutil.copytree(seed_index, copy)
    settings = json.loads(committed(copy, "settings"))
    del settings["schema_version"]
    (copy / f"searchkit-{store.latest_generation(copy)}.json").write_text(json.dumps(settings))
    reseal(copy)
    with pytest.raises(searchkit.IndexDamagedError, match="no schema version"):
        searchkit.open_index(copy)
    report = store.check(copy)
    assert report.problems == ("its settings hold no schema version",)
    result = CliRunner().invoke(main, ["search", "Putin", "--index", str(copy)])
    assert result.exit_code == 1 and "damaged" in result.stderr


def test_an_unlisted_write_error_is_an_index_write_error(tmp_path, monkeypatch):
    """An I/O error (EIO) while a build writes, as a full disk is: the index as it was,
    unlocked."""
    index_dir = tmp_path / "ix"
    searchkit.build_index([SEEDS / f"{S000}.txt"], index_dir)
    before = set(os.listdir(index_dir))
    paragraphs = searchkit.search("Putin", index_dir).total
    writes = []

    def failing(operation, name):
        writes.append(operation)
        if operation == "write" and len(writes) > 5:
            raise OSError(errno.EIO, os.strerror(errno.EIO), name)

    monkeypatch.setattr(durable, "fault_hook", failing)
    with pytest.raises(searchkit.IndexWriteError, match="Input/output error") as raised:
        searchkit.build_index([SEEDS], index_dir)
    monkeypatch.setattr(durable, "fault_hook", None)
    assert "not locked" in str(raised.value) and "\n" not in str(raised.value)
    assert set(os.listdir(index_dir)) <= before  # none of the failed run's files
    assert searchkit.search("Putin", index_dir).total == paragraphs and store.check(index_dir).ok
    store.cancel(store.open_writer(store.open_index(index_dir), wait=0))


def test_an_index_folder_that_cannot_be_made_is_an_index_write_error(tmp_path, monkeypatch):
    def refused(self, *args, **kwargs):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(self))

    monkeypatch.setattr(type(tmp_path), "mkdir", refused)
    with pytest.raises(searchkit.IndexWriteError, match="Input/output error"):
        searchkit.build_index([SEEDS / f"{S000}.txt"], tmp_path / "new" / "ix")
