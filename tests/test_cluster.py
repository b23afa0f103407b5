"""Building on a Dask cluster (``searchkit index --workers N`` / ``--cluster ADDRESS``): a
local cluster of two worker processes builds the same index as one process (paragraphs,
groups, scores), also when a worker is killed mid-build, and a worker that cannot see the
index folder is a clear error."""

import contextlib
import json
import os
import shutil
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


if _why_not():
    if os.environ.get("SEARCHKIT_TEST_CLUSTER") == "required":
        raise RuntimeError(f"SEARCHKIT_TEST_CLUSTER=required, but this test {_why_not()}")
    pytest.skip(_why_not(), allow_module_level=True)

QUERIES = ["minister", "oil prices", '"trade minister"', "bank AND grain", "election -labour",
           "Blair", "profits rose", "Castle Bank shares"]


@pytest.fixture(scope="module")
def cluster():
    with searchkit.Cluster(workers=2) as opened:
        yield opened


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


@pytest.mark.parametrize("corpus", samples_and("bbc"))
def test_a_cluster_builds_what_one_process_builds(cluster, tmp_path, corpus):
    paths = _corpus(corpus, tmp_path)
    alone = searchkit.build_index(paths, tmp_path / "alone")
    spread = searchkit.build_index(paths, tmp_path / "spread", cluster=cluster)
    assert spread.paragraphs == alone.paragraphs > 300
    assert spread.duplicate_groups == alone.duplicate_groups > 0
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    # Both workers took part in every stage, and the folder holds no scratch left over.
    assert all(len(by_worker) == 2 for by_worker in cluster.done.values()), cluster.done
    assert not [n for n in os.listdir(tmp_path / "spread") if n.endswith(".tmp")]
    assert searchkit.check(tmp_path / "spread").ok


def test_incremental_runs_on_a_cluster_match_one_process(cluster, tmp_path):
    wire = _wire(tmp_path)
    more = samples.write_folder(tmp_path / "in" / "more")
    for name, options in (("alone", {}), ("spread", {"cluster": cluster})):
        index_dir = tmp_path / name
        searchkit.build_index([SEEDS, wire], index_dir, **options)
        added = searchkit.build_index([SEEDS, wire, more], index_dir, **options)
        assert added.added > 0 and added.unchanged > 100
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    # A changed file and a removed one, with --prune.
    (wire / "7.txt").write_text("Changed\n\nA paragraph written anew for this test.\n",
                                encoding="utf-8")
    (wire / "8.txt").unlink()
    for name, options in (("alone", {}), ("spread", {"cluster": cluster})):
        summary = searchkit.build_index([SEEDS, wire, more], tmp_path / name, prune=True,
                                        **options)
        assert (summary.updated, summary.removed) == (1, 1)
    assert content(tmp_path / "spread") == content(tmp_path / "alone")


@pytest.mark.parametrize("stage", ["reading on the cluster", "indexing"])
def test_a_worker_killed_mid_build_leaves_an_exact_index(cluster, tmp_path, stage):
    paths = _corpus("samples", tmp_path)
    searchkit.build_index(paths, tmp_path / "alone")
    killed = []

    def progress(label, _total):
        def update(_done, _count):
            if label == stage and not killed:
                busy = {w for w, keys in cluster.client.processing().items() if keys}
                pids = cluster.client.run(os.getpid, workers=sorted(busy) or None)
                victim = sorted(pids)[0]
                os.kill(pids[victim], signal.SIGKILL)
                killed.append(victim)
        return update

    summary = searchkit.build_index(paths, tmp_path / "spread", cluster=cluster,
                                    progress=progress)
    assert killed, f"no progress was reported in stage {stage!r}"
    assert summary.paragraphs == searchkit.check(tmp_path / "spread").paragraphs
    assert content(tmp_path / "spread") == content(tmp_path / "alone")
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny starts it again


@contextlib.contextmanager
def _worker_without(hidden: Path):
    """The address of a Dask scheduler whose one worker runs in a mount namespace of its own,
    where an empty file system is mounted over ``hidden``: a worker on a machine that does
    not see that folder."""
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs `unshare -m` (a mount namespace) to hide a folder from a worker")
    import distributed

    scheduler = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None)
    worker = subprocess.Popen(
        ["unshare", "-m", "sh", "-c",
         f"mount -t tmpfs none '{hidden}' && exec '{sys.executable}' "
         f"-m distributed.cli.dask_worker '{scheduler.scheduler_address}' "
         "--nthreads 1 --no-nanny --no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield scheduler.scheduler_address
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        scheduler.close()


def test_a_worker_that_cannot_see_the_index_folder_is_a_clear_error(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    before = searchkit.build_index([SEEDS], shared / "index")
    with _worker_without(shared) as address, searchkit.Cluster(address=address) as cluster:
        with pytest.raises(searchkit.ClusterError) as raised:
            searchkit.build_index([SEEDS, _wire(tmp_path)], shared / "index", cluster=cluster)
    message = str(raised.value)
    assert f"cannot see the index folder {(shared / 'index').resolve()}" in message
    assert "same paths" in message and "\n" not in message
    assert searchkit.check(shared / "index").paragraphs == before.paragraphs


def test_files_a_worker_cannot_see_are_read_by_the_client(tmp_path):
    """A worker that sees the folders given but not one folder inside them (a mount missing
    on its machine): the files it could not read are read here, none is skipped."""
    paths = _corpus("samples", tmp_path)
    hidden = tmp_path / "in" / "wire"
    searchkit.build_index(paths, tmp_path / "alone")
    with _worker_without(hidden) as address, searchkit.Cluster(address=address) as cluster:
        summary = searchkit.build_index(paths, tmp_path / "spread", cluster=cluster)
    assert not summary.skipped_files
    assert content(tmp_path / "spread") == content(tmp_path / "alone")


def test_the_command_line_builds_on_a_local_cluster(tmp_path):
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(
        main, ["index", str(SEEDS), str(_wire(tmp_path)), "--index", str(index_dir),
               "--workers", "2", "--verbose"])
    assert result.exit_code == 0, result.output
    assert "building on the Dask cluster started here (2 workers" in result.stderr
    workers = [line for line in result.stderr.splitlines() if line.startswith("worker tcp://")]
    assert len(workers) == 2 and all("files read" in line for line in workers)
    assert searchkit.check(index_dir).ok
    assert searchkit.search("minister", index_dir).hits


def test_without_dask_the_command_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    result = CliRunner().invoke(main, ["index", str(SEEDS), "--index", str(tmp_path / "i"),
                                       "--cluster", "tcp://127.0.0.1:8786"])
    assert result.exit_code != 0
    assert "pip install 'searchkit[cluster]'" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not (tmp_path / "i").exists()


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr("searchkit.index.cluster.CONNECT_SECONDS", 2.0)
    result = CliRunner().invoke(main, ["index", str(SEEDS), "--index", str(tmp_path / "i"),
                                       "--cluster", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot use the Dask cluster at tcp://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_client_killed_mid_build_leaves_the_last_index_and_the_next_run_cleans_up(tmp_path):
    wire = _wire(tmp_path)
    index_dir = tmp_path / "index"
    searchkit.build_index([SEEDS], index_dir)
    before = content(index_dir)
    run = subprocess.Popen(
        [sys.executable, "-m", "searchkit", "index", str(SEEDS), str(wire), "--index",
         str(index_dir), "--workers", "2", "-q"],
        start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any(n.startswith("MAIN_cluster_") for n in os.listdir(index_dir)):
            assert run.poll() is None, "the build ended before its workers wrote anything"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # the client and its local cluster's workers
        run.wait()
    assert content(index_dir) == before
    leftovers = searchkit.check(index_dir).leftovers
    assert any(n.startswith("MAIN_cluster_") for n in leftovers)
    searchkit.build_index([SEEDS, wire], index_dir)
    assert not [n for n in os.listdir(index_dir) if n.endswith(".tmp")]
    assert searchkit.check(index_dir).ok
    shutil.rmtree(index_dir)
