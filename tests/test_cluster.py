"""Building on a Dask cluster (``searchkit index --workers N`` / ``--cluster ADDRESS``): a
local cluster of two worker processes builds the same index as one process (paragraphs,
groups, scores), also when a worker is killed mid-build, and a worker that cannot see the
index folder is a clear error."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import samples
from click.testing import CliRunner
from conftest import SEEDS, samples_and, sources

import searchkit
from searchkit.cli import main


def _why_not():
    try:
        import distributed  # noqa: F401
    except ImportError:
        return "needs Dask (pip install 'searchkit[cluster]')"
    return None


if _why_not() and os.environ.get("SEARCHKIT_TEST_CLUSTER") == "required":
    raise RuntimeError(f"SEARCHKIT_TEST_CLUSTER=required, but this test {_why_not()}")
needs_dask = pytest.mark.skipif(bool(_why_not()), reason=_why_not() or "")

QUERIES = ["minister", "oil prices", '"trade minister"', "bank AND grain", "election -labour",
           "Blair", "profits rose", "Castle Bank shares"]


@pytest.fixture(scope="module")
def cluster():
    with searchkit.Cluster(workers=2) as opened:
        yield opened


@pytest.fixture
def two_workers(cluster):
    """The module's cluster with both workers up (a test before may have killed one), its
    counts of work done cleared."""
    cluster.client.wait_for_workers(2, timeout=120)
    cluster.done.clear()
    return cluster


def _corpus(corpus, folder):
    """The seeds, invented articles (or 40 BBC ones) and 120 invented wire stories, written
    into ``folder``/in where invented."""
    return sources(corpus, folder / "in") + [_wire(folder)]


def _wire(folder):
    wire = folder / "in" / "wire"
    if not wire.exists():
        samples.write_wire(wire, stories=120)
    return wire


def content(index_dir):
    """What a search can tell of an index: every paragraph's stored fields (its group
    among them), the ranking of some queries with their scores, the vocabulary and the
    ledger's files."""
    with searchkit.open_index(index_dir) as searcher:
        stats = searcher.stats()
        rankings = {}
        for query in QUERIES:
            results = searcher.search(query, limit=30, collapse=False)
            rankings[query] = [(hit.id, round(hit.score, 9)) for hit in results.hits]
    from searchkit.index import store

    ix = store.open_index(Path(index_dir))
    with ix.searcher() as whoosh:
        stored = sorted(tuple(sorted(f.items())) for f in whoosh.all_stored_fields())
    generation = ix.latest_generation()
    ledger = json.loads(store.read_committed(str(index_dir), generation, "ledger"))["files"]
    vocabulary = json.loads(store.read_committed(str(index_dir), generation, "vocabulary"))
    return {
        "paragraphs": stats.paragraphs,
        "stored": stored,
        "rankings": rankings,
        "vocabulary": vocabulary,
        "files": {path: (r["fingerprint"], r["key"], r["paragraphs"])
                  for path, r in ledger.items()},
    }


def _clean(index_dir):
    """The index checks out and holds no scratch folder."""
    assert searchkit.check(index_dir).ok
    assert not [n for n in os.listdir(index_dir) if n.endswith(".tmp")]


@needs_dask
@pytest.mark.parametrize("corpus", samples_and("bbc"))
def test_a_cluster_builds_what_one_process_builds(two_workers, tmp_path, corpus):
    paths = _corpus(corpus, tmp_path)
    alone = searchkit.build_index(paths, tmp_path / "alone")
    spread = searchkit.build_index(paths, tmp_path / "spread", cluster=two_workers)
    assert spread.paragraphs == alone.paragraphs > 300
    assert spread.duplicate_groups == alone.duplicate_groups > 0
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    # Both workers took part in every stage.
    assert set(two_workers.done) == {"files read", "paragraph slices hashed",
                                     "chunks of candidate pairs verified", "segments written"}
    assert all(len(by_worker) == 2 for by_worker in two_workers.done.values()), two_workers.done
    _clean(tmp_path / "spread")


@needs_dask
def test_incremental_runs_on_a_cluster_match_one_process(two_workers, tmp_path):
    wire = _wire(tmp_path)
    more = samples.write_folder(tmp_path / "in" / "more")
    for name, options in (("alone", {}), ("spread", {"cluster": two_workers})):
        index_dir = tmp_path / name
        searchkit.build_index([SEEDS, wire], index_dir, **options)
        added = searchkit.build_index([SEEDS, wire, more], index_dir, **options)
        assert added.added > 0 and added.unchanged > 100
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    # A changed file and a removed one, with --prune.
    (wire / "7.txt").write_text("Changed\n\nA paragraph written anew for this test.\n",
                                encoding="utf-8")
    (wire / "8.txt").unlink()
    for name, options in (("alone", {}), ("spread", {"cluster": two_workers})):
        summary = searchkit.build_index([SEEDS, wire, more], tmp_path / name, prune=True,
                                        **options)
        assert (summary.updated, summary.removed) == (1, 1)
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    _clean(tmp_path / "spread")


@needs_dask
@pytest.mark.parametrize("stage, after", [("reading on the cluster", False),
                                          ("indexing", False), ("indexing", True)])
def test_a_worker_killed_mid_build_leaves_an_exact_index(two_workers, tmp_path, stage, after):
    """A worker killed as it starts a task of ``stage``, or (``after``) once the task has
    written its segment but before its result is reported: Dask runs the task again
    elsewhere (a second segment of the same paragraphs, left in the scratch folder), and
    the index is exactly the one-process build's."""
    from cluster_hooks import DieOnTask

    paths = _corpus("samples", tmp_path)
    searchkit.build_index(paths, tmp_path / "alone")
    armed, fired = tmp_path / "armed", tmp_path / "fired"

    def progress(label, _total):
        if label == stage:
            armed.touch()  # the plugin kills the next worker that starts a task
        return lambda _done, _count: None

    two_workers.client.register_plugin(DieOnTask(str(armed), str(fired), after=after))
    try:
        summary = searchkit.build_index(paths, tmp_path / "spread", cluster=two_workers,
                                        progress=progress)
    finally:
        two_workers.client.unregister_worker_plugin(DieOnTask.name)
    assert len(fired.read_text().splitlines()) == 1  # one worker died, in that stage
    assert summary.paragraphs == searchkit.check(tmp_path / "spread").paragraphs
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    _clean(tmp_path / "spread")


@needs_dask
def test_a_cluster_that_keeps_losing_workers_is_a_one_line_error(tmp_path):
    """Every worker dies as it starts a task: Dask gives up on the task, and the build stops
    with one line, the index as it was."""
    from cluster_hooks import DieOnTask

    index_dir = tmp_path / "index"
    before = searchkit.build_index([SEEDS], index_dir)
    armed = tmp_path / "armed"
    armed.touch()
    with searchkit.Cluster(workers=2) as cluster:
        cluster.client.register_plugin(DieOnTask(str(armed), str(tmp_path / "fired"),
                                                 every_time=True))
        with pytest.raises(searchkit.ClusterError) as raised:
            searchkit.build_index([SEEDS, _wire(tmp_path)], index_dir, cluster=cluster)
    message = str(raised.value)
    assert message.startswith("the Dask cluster could not finish the build (KilledWorker")
    assert message.endswith("the index is as it was: run the same command again")
    assert "\n" not in message
    assert searchkit.check(index_dir).paragraphs == before.paragraphs


@needs_dask
def test_a_cluster_left_without_workers_is_a_one_line_error(tmp_path, monkeypatch):
    """The only worker (no nanny to start it again) dies as it starts reading: the build
    waits a while for workers, then stops with one line, the index as it was."""
    from cluster_hooks import DieOnTask

    monkeypatch.setattr("searchkit.index.cluster.WAIT_SECONDS", 0.5)
    monkeypatch.setattr("searchkit.index.cluster.NO_WORKERS_SECONDS", 1.0)
    index_dir = tmp_path / "index"
    before = searchkit.build_index([SEEDS], index_dir)
    armed = tmp_path / "armed"
    armed.touch()
    with _one_worker(tmp_path) as address, searchkit.Cluster(address=address) as cluster:
        cluster.client.register_plugin(DieOnTask(str(armed), str(tmp_path / "fired")))
        with pytest.raises(searchkit.ClusterError) as raised:
            searchkit.build_index([SEEDS, _wire(tmp_path)], index_dir, cluster=cluster)
    assert str(raised.value) == ("the Dask cluster has had no workers for 1 s; the index is "
                                 "as it was: run the same command again")
    assert searchkit.check(index_dir).paragraphs == before.paragraphs


@needs_dask
def test_a_scheduler_lost_mid_build_is_a_one_line_error(tmp_path):
    """The scheduler (its own process) killed as the worker starts reading: one line, the
    index as it was."""
    from cluster_hooks import DieOnTask

    index_dir = tmp_path / "index"
    before = searchkit.build_index([SEEDS], index_dir)
    file = tmp_path / "scheduler.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file", str(file),
         "--port", "0", "--no-dashboard"], env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.monotonic() + 120
        while not file.exists() or not file.read_text():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.05)
        address = json.loads(file.read_text())["address"]
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--no-nanny", "--no-dashboard"], env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        armed = tmp_path / "armed"
        armed.touch()
        with searchkit.Cluster(address=address) as cluster:
            cluster.client.register_plugin(DieOnTask(str(armed), str(tmp_path / "fired"),
                                                     victim=scheduler.pid))
            with pytest.raises(searchkit.ClusterError) as raised:
                searchkit.build_index([SEEDS, _wire(tmp_path)], index_dir, cluster=cluster)
        message = str(raised.value)
        assert message.startswith("the Dask cluster could not finish the build (")
        assert "\n" not in message
        assert searchkit.check(index_dir).paragraphs == before.paragraphs
    finally:
        for process in (scheduler, worker):
            if process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextlib.contextmanager
def _one_worker(tmp_path, cwd=None, hidden=None, instead=None):
    """The address of a Dask scheduler whose one worker runs in its own process from the
    folder ``cwd``; with ``hidden``, in a mount namespace of its own with an empty file
    system mounted over that folder (holding a copy of the folder ``instead``, if given): a
    worker on a machine that does not see that folder, or sees another one there."""
    import distributed

    command = [sys.executable, "-m", "distributed.cli.dask_worker", "--nthreads", "1",
               "--no-nanny", "--no-dashboard"]
    if hidden is not None:
        trial = tmp_path / "mount-trial"
        trial.mkdir()
        if subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs none '{trial}'"],
                          capture_output=True).returncode != 0:
            pytest.skip("needs `unshare -m` and tmpfs mounts to hide a folder from a worker")
        copy = f" && cp -R '{instead}/.' '{hidden}/'" if instead is not None else ""
        command = ["unshare", "-m", "sh", "-c", f"mount -t tmpfs none '{hidden}'{copy} && exec "
                   + " ".join(f"'{part}'" for part in command) + ' "$0"']
    scheduler = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None)
    address = scheduler.scheduler_address
    worker = subprocess.Popen(command + [address], cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    try:
        with distributed.Client(address) as client:
            client.wait_for_workers(1, timeout=120)
            client.run(__import__, "searchkit.index.build")  # imported before any check
        yield address
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        scheduler.close()


@needs_dask
def test_a_worker_that_cannot_see_the_index_folder_is_a_clear_error(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    before = searchkit.build_index([SEEDS], shared / "index")
    with _one_worker(tmp_path, hidden=shared) as address, \
            searchkit.Cluster(address=address) as cluster:
        with pytest.raises(searchkit.ClusterError) as raised:
            searchkit.build_index([SEEDS, _wire(tmp_path)], shared / "index", cluster=cluster)
    message = str(raised.value)
    assert f"cannot see the index folder {(shared / 'index').resolve()}" in message
    assert "same paths" in message and "\n" not in message
    assert searchkit.check(shared / "index").paragraphs == before.paragraphs
    assert sorted(os.listdir(shared)) == ["index"]  # nothing written beside it


@needs_dask
def test_a_worker_that_sees_another_index_folder_is_a_clear_error(tmp_path):
    """A worker whose machine has a folder of the same name, not the shared one: it passes
    the first check (the folder is there) but not the one under the lock (the client's file
    is not in it); nothing is left behind."""
    shared = tmp_path / "shared"
    other = tmp_path / "other"
    (other / "index").mkdir(parents=True)
    before = searchkit.build_index([SEEDS], shared / "index")
    with _one_worker(tmp_path, hidden=shared, instead=other) as address, \
            searchkit.Cluster(address=address) as cluster:
        with pytest.raises(searchkit.ClusterError) as raised:
            searchkit.build_index([SEEDS, _wire(tmp_path)], shared / "index", cluster=cluster)
    assert f"cannot see the index folder {(shared / 'index').resolve()}" in str(raised.value)
    assert searchkit.check(shared / "index").paragraphs == before.paragraphs
    _clean(shared / "index")


@needs_dask
def test_files_a_worker_sees_otherwise_are_read_by_the_client(tmp_path):
    """A worker that sees a stale copy of a folder (same names, other contents): what it
    read is not trusted, the client reads those files itself."""
    paths = _corpus("samples", tmp_path)
    stale = tmp_path / "stale"
    samples.write_wire(stale, stories=120, seed=7)  # the same names, other stories
    searchkit.build_index(paths, tmp_path / "alone")
    with _one_worker(tmp_path, hidden=tmp_path / "in" / "wire", instead=stale) as address, \
            searchkit.Cluster(address=address) as cluster:
        summary = searchkit.build_index(paths, tmp_path / "spread", cluster=cluster)
    assert not summary.skipped_files
    assert any(w.endswith("a worker could not read or saw otherwise were read on this "
                          "machine; check that every worker sees the files at the same paths")
               for w in summary.warnings), summary.warnings
    assert content(tmp_path / "spread") == content(tmp_path / "alone")


@needs_dask
def test_files_a_worker_cannot_see_are_read_by_the_client(tmp_path):
    """A worker that sees the folders given but not one folder inside them (a mount missing
    on its machine): the files it could not read are read here, none is skipped, and the
    summary says so."""
    paths = _corpus("samples", tmp_path)
    searchkit.build_index(paths, tmp_path / "alone")
    with _one_worker(tmp_path, hidden=tmp_path / "in" / "wire") as address, \
            searchkit.Cluster(address=address) as cluster:
        summary = searchkit.build_index(paths, tmp_path / "spread", cluster=cluster)
    assert not summary.skipped_files
    assert [w for w in summary.warnings if "a worker could not read" in w] == [
        "120 files a worker could not read or saw otherwise were read on this machine; check "
        "that every worker sees the files at the same paths"]
    assert content(tmp_path / "spread") == content(tmp_path / "alone")


@needs_dask
def test_relative_paths_mean_the_same_files_on_a_worker_elsewhere(tmp_path, monkeypatch):
    """Relative PATHS and --index, and a worker whose working folder is another one: it
    reads and writes the files this machine means."""
    paths = _corpus("samples", tmp_path)
    searchkit.build_index(paths, tmp_path / "alone")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "in").mkdir(parents=True)  # a folder of the same name, empty, over there
    monkeypatch.chdir(tmp_path)
    relative = [p if p.is_relative_to(SEEDS) else p.relative_to(tmp_path) for p in paths]
    with _one_worker(tmp_path, cwd=elsewhere) as address, \
            searchkit.Cluster(address=address) as cluster:
        summary = searchkit.build_index(relative, Path("spread"), cluster=cluster)
    assert not summary.skipped_files
    assert not [w for w in summary.warnings if "a worker could not read" in w]
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    assert sorted(p.name for p in elsewhere.iterdir()) == ["in"]


@needs_dask
def test_the_command_line_builds_on_a_local_cluster(tmp_path):
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(
        main, ["index", str(SEEDS), str(_wire(tmp_path)), "--index", str(index_dir),
               "--workers", "2", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "building on the Dask cluster started here (2 workers; dashboard: http://127.0.0.1:" \
        in result.stderr
    workers = [line for line in result.stderr.splitlines() if line.startswith("worker tcp://")]
    assert len(workers) == 2 and all("files read" in line for line in workers)
    _clean(index_dir)
    assert searchkit.search("minister", index_dir).hits


@needs_dask
def test_workers_given_override_the_cluster_of_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCHKIT_CLUSTER", "tcp://127.0.0.1:9")  # nothing listens there
    result = CliRunner().invoke(main, ["index", str(SEEDS), "--index", str(tmp_path / "i"),
                                       "--workers", "1", "-q"])
    assert result.exit_code == 0, result.output
    assert searchkit.check(tmp_path / "i").ok


def test_cluster_and_workers_together_are_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["index", str(SEEDS), "--index", str(tmp_path / "i"),
                                       "--cluster", "tcp://127.0.0.1:9", "--workers", "2"])
    assert result.exit_code == 2
    assert "--cluster and --workers contradict each other; give one" in result.stderr
    assert not (tmp_path / "i").exists()


def test_without_dask_the_command_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    result = CliRunner().invoke(main, ["index", str(SEEDS), "--index", str(tmp_path / "i"),
                                       "--cluster", "tcp://127.0.0.1:8786"])
    assert result.exit_code != 0
    assert "pip install 'searchkit[cluster]'" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "i").exists()


@needs_dask
@pytest.mark.parametrize("address, reason", [
    ("tcp://127.0.0.1:9", "cannot use the Dask cluster at tcp://127.0.0.1:9"),
    ("http://127.0.0.1:8787", "'http://127.0.0.1:8787' is not a Dask scheduler's address"),
    ("tcp://127.0.0.1:port", "'tcp://127.0.0.1:port' is not a Dask scheduler's address"),
])
def test_a_scheduler_that_cannot_be_used_is_a_one_line_error(tmp_path, monkeypatch, address,
                                                             reason):
    monkeypatch.setattr("searchkit.index.cluster.CONNECT_SECONDS", 2.0)
    result = CliRunner().invoke(main, ["index", str(SEEDS), "--index", str(tmp_path / "i"),
                                       "--cluster", address])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {reason}")
    assert len(result.stderr.strip().splitlines()) == 1


CLIENT = """
import sys
from pathlib import Path
import searchkit
from cluster_hooks import StallWhileWriting

if __name__ == "__main__":
    index_dir, stalled, *paths = sys.argv[1:]
    with searchkit.Cluster(workers=2) as cluster:
        cluster.client.register_plugin(StallWhileWriting(index_dir, stalled))
        searchkit.build_index([Path(p) for p in paths], Path(index_dir), cluster=cluster)
"""


@needs_dask
def test_a_client_killed_mid_build_leaves_the_last_index_and_the_next_run_cleans_up(tmp_path):
    """The client (and its local cluster) killed while the workers write segments: the last
    commit stays as it was, and the next run removes what the stopped one wrote."""
    wire = _wire(tmp_path)
    index_dir = tmp_path / "index"
    searchkit.build_index([SEEDS], index_dir)
    before = content(index_dir)
    stalled = tmp_path / "stalled"
    script = tmp_path / "client.py"
    script.write_text(CLIENT, encoding="utf-8")
    tests = str(Path(__file__).parent)
    run = subprocess.Popen(
        [sys.executable, str(script), str(index_dir), str(stalled), str(SEEDS), str(wire)],
        env={**os.environ, "PYTHONPATH": tests}, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not stalled.exists():  # a worker holds a write task
            assert run.poll() is None, "the build ended before its workers wrote anything"
            assert time.monotonic() < deadline, "no write task started"
            time.sleep(0.05)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the client and its local cluster's workers
        run.wait()
    assert content(index_dir) == before
    leftovers = searchkit.check(index_dir).leftovers
    assert any(n.startswith("MAIN_cluster_") for n in leftovers), leftovers
    searchkit.build_index([SEEDS, wire], index_dir)
    _clean(index_dir)
