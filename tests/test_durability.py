"""The index store under crashes, failing disks and concurrent use: SIGKILLed writers, injected
disk-full / read-only / permission errors, a busy lock, readers during commits, checksums,
`check` and `optimize`.

The crash and fault loops stop a writer at its k-th file operation (durable.fault_hook counts
them: creating, writing, renaming, deleting, fsyncing files, making and removing folders), for
k just before and just after the commit point and spread over the rest of a run. The writers
killed are forked from the test process (no interpreter to start). SEARCHKIT_KILL_TRIALS and
SEARCHKIT_FAULT_TRIALS set the numbers of trials: 12 and 6 by default, twice as many in CI
(.ci/run), more for a long run.
"""

import errno
import itertools
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
import traceback
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import S000, S001, S002, S003, S004, SEEDS, as_user_nobody
from samples import write_wire

from searchkit.index import build, durable, integrity, layout, store, workers
from searchkit import open_index
from searchkit.cli.commands import main
from searchkit.errors import IndexLockedError, IndexWriteError
from searchkit.index.build import build_index

CHILD = Path(__file__).with_name("durability_child.py")
KILL_TRIALS = int(os.environ.get("SEARCHKIT_KILL_TRIALS") or 12)
FAULT_TRIALS = int(os.environ.get("SEARCHKIT_FAULT_TRIALS") or 6)


CORPUS = SEEDS  # a copy of the seeds from the `corpus` fixture on


def seed(*stems):
    return [CORPUS / f"{stem}.txt" for stem in stems]


FRESH = COMMAND = None  # set by the `corpus` fixture


@pytest.fixture(scope="module", autouse=True)
def corpus(tmp_path_factory):
    """A copy of the seeds, so that `states` can change a file the base index holds."""
    global CORPUS, FRESH, COMMAND
    CORPUS = tmp_path_factory.mktemp("corpus")
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, CORPUS)
    FRESH = seed(S000, S001)  # a first build into an empty folder
    COMMAND = seed(S003, S004, S000)  # an update: two new files, one changed (by `states`)
    yield CORPUS
    CORPUS = SEEDS


def ids(index_dir):
    """The paragraph ids in the index, sorted (duplicates kept), or None without an index."""
    if not store.exists(index_dir):
        return None
    with store.open_index(index_dir).searcher() as searcher:
        return sorted(fields["id"] for fields in searcher.all_stored_fields())


def child(*args, **kwargs):
    return subprocess.run(
        [sys.executable, str(CHILD), *map(str, args)],
        capture_output=True, text=True, timeout=120, **kwargs,
    )


def copy(source, target):
    """A copy of an index with fresh times, so that no generation of it has expired."""
    shutil.copytree(source, target, copy_function=shutil.copy)


def spread(items, count):
    """``count`` items of ``items`` evenly spread from first to last."""
    if count >= len(items):
        return list(items)
    if count <= 1:
        return [items[len(items) // 2]] if count == 1 else []
    return [items[round(j * (len(items) - 1) / (count - 1))] for j in range(count)]


def stop_points(operations, count):
    """1-based operation numbers: two thirds among the creations, renames, fsyncs and
    deletions (where a commit is made or undone), the rest among the writes."""
    others = [i for i, op in enumerate(operations, 1) if op != "write"]
    writes = [i for i, op in enumerate(operations, 1) if op == "write"]
    return sorted(set(spread(others, count * 2 // 3) + spread(writes, count - count * 2 // 3)))


def commit_point(log):
    """The 1-based number of the operation that renames the new TOC into place."""
    return next(i for i, (op, name) in enumerate(log, 1)
                if op == "rename" and durable.TOC_FILE.match(name))


def kill_points(log, count):
    """``count`` stop points: the last operation before the commit lands and the first after
    it, the rest spread by stop_points."""
    commit = commit_point(log)
    return sorted({commit, commit + 1} | set(stop_points([op for op, _ in log], count - 2)))


def write(index_dir, paths):
    """What the writers under test do: index ``paths``, or optimize for ["--optimize"]."""
    if paths == ["--optimize"]:
        store.optimize(index_dir, wait=30)
    else:
        build_index(paths, index_dir)


def operations(index_dir, paths):
    """write(), recording its file operations as (operation, file name)."""
    log = []
    durable.fault_hook = lambda operation, name: log.append((operation, name))
    try:
        write(index_dir, paths)
    finally:
        durable.fault_hook = None
    return log


def forked_writer(index_dir, paths, kill_at=None, kill_before=None):
    """The pid of a child process running write(), SIGKILLed just before its ``kill_at``-th file
    operation if given, or the first for which ``kill_before(operation, name)`` is true (its
    own: not a helper's); it exits with status 0 when done, 1 on an error."""
    pid = os.fork()
    if pid:
        return pid
    status = 1  # the child: never returns into pytest
    try:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(120)  # a child stuck after the fork dies rather than hangs the tests
        if kill_at or kill_before:
            counted, writer = itertools.count(1), os.getpid()

            def hook(operation, name):
                if os.getpid() == writer and (next(counted) == kill_at or (
                        kill_before and kill_before(operation, name))):
                    os.kill(writer, signal.SIGKILL)

            durable.fault_hook = hook
        write(index_dir, paths)
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(status)


def killed(pid):
    """Whether the child ``pid`` ended by SIGKILL (waiting for it)."""
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """The index before COMMAND (two commits), the ids before and after it, and after FRESH."""
    root = tmp_path_factory.mktemp("states")
    base = root / "base"
    build_index(seed(S000, S001), base)
    build_index(seed(S002), base)
    changed = seed(S000)[0]  # the update re-indexes it, leaving a segment mostly deleted
    changed.write_text(changed.read_text() + "\n\nA paragraph added after the base index.\n")
    after = root / "after"
    copy(base, after)
    build_index(COMMAND, after)
    # The update merges (its replaced file leaves a segment mostly deleted), so killing it
    # also kills merges.
    assert store.check(after).segments <= store.check(base).segments
    fresh = root / "fresh"
    build_index(FRESH, fresh)
    assert len(set(ids(after))) == len(ids(after)) > len(ids(base)) > 0
    return {"base": base, "before": ids(base), "after": ids(after),
            "fresh": ids(fresh)}


def _recover(index_dir, paths, allowed, expected, segments=None):
    """After a crash: the index holds one of the ``allowed`` states exactly, searches and has
    no damage; the same command again gives ``expected``, no duplicates, no leftovers."""
    found = ids(index_dir)
    assert found in allowed, f"{len(found or [])} paragraphs: not a committed state"
    if found:
        with open_index(index_dir) as searcher:
            assert searcher.search("Belarus").total > 0
        assert store.check(index_dir).problems == ()
    if paths == ["--optimize"]:
        store.optimize(index_dir)
    else:
        build_index(paths, index_dir)
    assert ids(index_dir) == expected
    report = store.check(index_dir)
    assert report.ok and not report.leftovers, (report.problems, report.leftovers, report.notes)
    assert segments is None or report.segments == segments
    names = os.listdir(index_dir)
    assert not [n for n in names if n.endswith(".tmp") or ".toc." in n], names
    return "after" if found == expected else "before"


def test_sigkill_at_any_point_leaves_the_last_commit(states, tmp_path):
    """Kill points over an update (reading, adding, merging, committing), a first build and
    an optimize (merging everything), and a few by the clock."""
    update_trials, fresh_trials, optimize_trials = (
        KILL_TRIALS * 55 // 100, KILL_TRIALS * 20 // 100, max(KILL_TRIALS * 15 // 100, 2))
    timed = max(KILL_TRIALS - update_trials - fresh_trials - optimize_trials, 1)
    before, after = states["before"], states["after"]
    counted = tmp_path / "count"
    copy(states["base"], counted)
    started = time.monotonic()
    update_ops = operations(counted, COMMAND)
    clean = time.monotonic() - started  # how long an update runs, for the kills by the clock
    # The base index has two segments: an optimize of the updated one (one segment, nothing
    # deleted) would do nothing, so there would be nothing to kill.
    optimized = tmp_path / "count-optimize"
    copy(states["base"], optimized)
    optimize_ops = operations(optimized, ["--optimize"])
    fresh_ops = operations(tmp_path / "count-fresh", FRESH)
    assert {"rename", "fsync"} <= {op for op, _ in update_ops} & {op for op, _ in optimize_ops}

    outcomes = Counter()
    for k in kill_points(update_ops, update_trials):
        index_dir = tmp_path / f"update-{k}"
        copy(states["base"], index_dir)
        assert killed(forked_writer(index_dir, COMMAND, kill_at=k)), k
        outcomes["update " + _recover(index_dir, COMMAND, [before, after], after)] += 1
    for k in kill_points(fresh_ops, fresh_trials):
        index_dir = tmp_path / f"fresh-{k}"
        assert killed(forked_writer(index_dir, FRESH, kill_at=k)), k
        outcomes["fresh " + _recover(index_dir, FRESH, [None, [], states["fresh"]],
                                     states["fresh"])] += 1
    for k in kill_points(optimize_ops, optimize_trials):
        index_dir = tmp_path / f"optimize-{k}"
        copy(states["base"], index_dir)
        assert killed(forked_writer(index_dir, ["--optimize"], kill_at=k)), k
        _recover(index_dir, ["--optimize"], [before], before, segments=1)
        outcomes["optimize"] += 1
    # A few kills by the clock as well, wherever the writer happens to be (its outcome may be
    # either commit).
    for j in range(timed):
        index_dir = tmp_path / f"timed-{j}"
        copy(states["base"], index_dir)
        writer = forked_writer(index_dir, COMMAND)
        time.sleep(clean * (0.4 + 0.6 * (j + 1) / (timed + 1)))
        os.kill(writer, signal.SIGKILL)
        killed(writer)
        outcomes["timed " + _recover(index_dir, COMMAND, [before, after], after)] += 1
    print(f"\nSIGKILL trials: {sum(outcomes.values())} {dict(outcomes)}; operations: "
          f"{len(update_ops)} in an update, {len(fresh_ops)} in a first build, "
          f"{len(optimize_ops)} in an optimize")
    # The kill points straddle the commit point: both outcomes happen.
    assert outcomes["update before"] and outcomes["update after"]


class Faults:
    """Fail every file operation from the ``at``-th on with ``code`` (deletions still work,
    as they do on a full disk), like a disk that fills up or turns read-only mid-run."""

    def __init__(self, at, code):
        self.at, self.code, self.count = at, code, 0

    def __call__(self, operation, name):
        self.count += 1
        if self.count >= self.at and operation not in ("delete", "rmdir"):
            raise OSError(self.code, os.strerror(self.code), name)


HINTS = {errno.ENOSPC: "free some space", errno.EROFS: "make it writable",
         errno.EACCES: "check the folder's permissions"}


def test_a_writer_killed_while_its_helper_writes_leaves_nothing_running(tmp_path,
                                                                        monkeypatch):
    """The writer SIGKILLed as it writes its first segment, while the helper forked before
    its reading writes one too: the helper ends by itself, the folder holds no index yet, and
    the next run builds the whole index with no leftovers."""
    monkeypatch.setattr(build, "PARALLEL_FROM", 10)
    monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)
    helpers = tmp_path / "helpers"
    start = workers.Helper.start

    def recorded(helper):
        start(helper)
        with open(helpers, "a") as out:
            out.write(f"{helper.pid}\n")

    monkeypatch.setattr(workers.Helper, "start", recorded)
    expected = tmp_path / "expected"
    build_index(FRESH, expected)
    assert len(helpers.read_text().split()) == 1  # the early helper took part
    index_dir = tmp_path / "ix"
    assert killed(forked_writer(index_dir, FRESH, kill_before=lambda operation, name: (
        operation == "create" and name.endswith(".pst"))))
    started = helpers.read_text().split()
    assert len(started) == 2  # the killed writer had one too
    helper = int(started[-1])
    deadline = time.monotonic() + 30
    while _running(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(helper)
    _recover(index_dir, FRESH, [None, []], ids(expected))


def _running(pid) -> bool:
    """Whether the process exists and is not a zombie (an orphan's parent may never reap)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_write_errors_leave_the_index_intact_and_unlocked(states, tmp_path, monkeypatch):
    counted = tmp_path / "count"
    copy(states["base"], counted)
    log = operations(counted, COMMAND)
    commit = commit_point(log)
    plan = [(errno.ENOSPC, k) for k in kill_points(log, FAULT_TRIALS * 2 // 3)]
    plan += [(code, k) for code in (errno.EROFS, errno.EACCES)
             for k in stop_points([op for op, _ in log], FAULT_TRIALS // 6)]
    outcomes = Counter()
    for code, k in plan:
        index_dir = tmp_path / f"{errno.errorcode[code]}-{k}"
        copy(states["base"], index_dir)
        files_before = set(os.listdir(index_dir))
        monkeypatch.setattr(durable, "fault_hook", Faults(k, code))
        try:
            build_index(COMMAND, index_dir)
            error = None
        except IndexWriteError as raised:
            error = str(raised)
        finally:
            monkeypatch.setattr(durable, "fault_hook", None)
        if k <= commit:  # failed before the commit point: nothing changed
            assert error is not None, (code, k)
            assert "\n" not in error and HINTS[code] in error and "not locked" in error, error
            assert ids(index_dir) == states["before"], (code, k)
            left = set(os.listdir(index_dir)) - files_before
            assert not left, (code, k, left)  # the failed run's files are gone
            outcomes["error, index as before"] += 1
        else:  # the commit landed; only its bookkeeping may have failed
            assert ids(index_dir) == states["after"], (code, k)
            outcomes["committed" + (", then an error" if error else "")] += 1
        assert store.check(index_dir).problems == ()
        writer = store.open_writer(store.open_index(index_dir), wait=0)  # not locked
        store.cancel(writer)
    print(f"\nfault trials: {len(plan)} {dict(outcomes)}; commit point at operation "
          f"{commit} of {len(log)}")
    assert outcomes["error, index as before"]


def test_the_journal_is_replaced_whole_and_meets_disk_errors(tmp_path, monkeypatch):
    """The one file searchkit replaces (the journal, rewritten by each sweep) is written aside,
    fsynced and renamed through the fault hook; failing at any of those steps after a commit
    keeps the commit, and the next writer removes what was left."""
    aside = durable.JOURNAL + ".tmp"
    log = operations(tmp_path / "counted", FRESH)
    steps = [op for op, name in log if name in (aside, durable.JOURNAL)]
    assert ["create", "write", "fsync", "rename"] == steps[-4:], steps
    for step in ("create", "write", "fsync", "rename"):
        index_dir = tmp_path / step
        failing = (step, durable.JOURNAL if step == "rename" else aside)

        def hook(operation, name):
            if (operation, name) == failing:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)

        monkeypatch.setattr(durable, "fault_hook", hook)
        build_index(FRESH, index_dir)  # after the commit: the sweep's failure is left for later
        monkeypatch.setattr(durable, "fault_hook", None)
        assert ids(index_dir) == ids(tmp_path / "counted")
        build_index(seed(S002), index_dir)
        assert not (index_dir / aside).exists()
        report = store.check(index_dir)
        assert report.ok and not report.leftovers, (step, report.problems, report.leftovers)


@pytest.mark.parametrize("limit", [4_000, 20_000, 45_000])
def test_a_real_write_error_leaves_the_index_intact_and_unlocked(states, tmp_path, limit):
    """The kernel refuses writes past RLIMIT_FSIZE (EFBIG) in a child `searchkit index`:
    buffered data fails on flush and close, not where the fault hook would raise."""
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    files_before = set(os.listdir(index_dir))
    result = child("fsize", limit, "index", *COMMAND, "--index", index_dir, "-q")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: cannot write the index in {index_dir}: a file grew")
    assert "not locked; raise the limit (ulimit -f)" in result.stderr
    assert ids(index_dir) == states["before"]
    assert set(os.listdir(index_dir)) <= files_before
    assert store.check(index_dir).ok
    build_index(COMMAND, index_dir, wait=0)
    assert ids(index_dir) == states["after"]


def _index_command(paths, index_dir):
    result = CliRunner().invoke(main, ["index", *paths, "--index", index_dir])
    return result.exit_code, result.stderr


def test_a_read_only_index_folder_gives_a_one_line_error(states, open_tmp):
    index_dir = open_tmp / "ix"
    copy(states["base"], index_dir)
    corpus = open_tmp / "corpus"
    corpus.mkdir()
    paths = [shutil.copy(path, corpus) for path in COMMAND]
    index_dir.chmod(0o555)
    try:  # as root: as user nobody, so that the folder's mode bites
        code, stderr = as_user_nobody(_index_command, paths, str(index_dir))
    finally:
        index_dir.chmod(0o755)
    assert code == 1
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert "permission" in stderr
    assert ids(index_dir) == states["before"]
    store.cancel(store.open_writer(store.open_index(index_dir), wait=0))


class _Clock:
    """The store's clock in a test: a sleep moves it on at once, so that a wait is counted, not
    spent (and does not depend on the machine's speed)."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_a_second_writer_gets_a_busy_error_within_its_wait(states, tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    holder = store.open_writer(store.open_index(index_dir))
    holder.add_document(**_document("held#1"))
    in_progress = set(os.listdir(index_dir)) | set(os.listdir(index_dir / "MAIN.tmp"))
    try:
        clock = _Clock()
        monkeypatch.setattr(store, "time", clock)
        with pytest.raises(IndexLockedError, match="busy: another searchkit process"):
            build_index(COMMAND, index_dir, wait=0.5)
        assert 0.5 <= clock.now < 0.5 + 0.2  # it waited its wait, then gave up
        clock.now = 0.0
        result = CliRunner().invoke(
            main, ["index", *map(str, COMMAND), "--index", str(index_dir), "--wait", "1"])
        assert result.exit_code == 1 and 1 <= clock.now < 1 + 0.2
        assert result.stderr.strip() == (
            f"Error: the index in {index_dir} is busy: another searchkit process is writing "
            "it; try again later or pass --wait SECONDS")
        optimized = CliRunner().invoke(main, ["optimize", "--index", str(index_dir), "--wait", "0"])
        assert optimized.exit_code == 1 and "busy" in optimized.stderr
        # The waiting writers touched none of the running writer's files; `check` lists them
        # as in use, and the index as ok.
        assert in_progress <= set(os.listdir(index_dir)) | set(os.listdir(index_dir / "MAIN.tmp"))
        checked = CliRunner().invoke(main, ["check", "--index", str(index_dir)])
        live = [line for line in checked.stdout.splitlines()
                if line.startswith("in use by a running `searchkit index`: ")]
        assert checked.exit_code == 0 and checked.stdout.endswith("ok\n"), checked.stdout
        assert live and "leftover" not in checked.stdout
        assert {line.rsplit(" ", 1)[1] for line in live} <= in_progress
        store.commit(holder)
    except BaseException:
        store.cancel(holder)
        raise
    assert ids(index_dir) == sorted(states["before"] + ["held#1"])
    # A document added outside `searchkit index` is in no file's ledger; nothing else is wrong.
    count = len(states["before"])
    assert store.check(index_dir).problems == (
        f"the file ledger lists {count} paragraphs, the index holds {count + 1}",)
    build_index(COMMAND, index_dir, wait=0)  # free again at once


def _document(paragraph_id):
    return dict(id=paragraph_id, article_id=paragraph_id.split("#")[0], path="held.txt",
                paragraph=1, kind="body", title="Held", source="test", text="held open",
                dup_group=paragraph_id)


def test_a_writer_started_meanwhile_waits_for_the_lock(states, tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    holder = store.open_writer(store.open_index(index_dir))
    waits = []

    class ReleasedWhileWaiting(_Clock):
        """The other writer finishes while this one waits for the lock."""

        def sleep(self, seconds):
            if not waits:
                store.cancel(holder)
            waits.append(seconds)
            super().sleep(seconds)

    monkeypatch.setattr(store, "time", ReleasedWhileWaiting())
    build_index(COMMAND, index_dir, wait=30)
    assert len(waits) == 1  # it waited, found the lock free and wrote
    assert ids(index_dir) == states["after"]


def test_searches_during_commits_see_whole_commits_and_never_fail(tmp_path):
    runs = [seed(S001), seed(S002), seed(S003), seed(S004), seed(S000, S001)]
    reference = tmp_path / "reference"
    build_index(seed(S000), reference)
    counts = {len(ids(reference))}
    for paths in runs:
        build_index(paths, reference)
        counts.add(len(ids(reference)))
    index_dir = tmp_path / "ix"
    build_index(seed(S000), index_dir)
    long_lived = open_index(index_dir)
    writer = subprocess.Popen(
        [sys.executable, str(CHILD), "sequence", index_dir,
         json.dumps([[str(p) for p in paths] for paths in runs])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, searches = set(), 0
    try:
        while writer.poll() is None or searches < 20:
            with open_index(index_dir) as searcher:
                stats = searcher.stats()
                assert searcher.search("Belarus", limit=3).total > 0
            seen.add(stats.paragraphs)
            assert long_lived.search("Merkel OR Putin", limit=5, facets=True).total > 0
            searches += 1
    finally:
        out, err = writer.communicate(timeout=120)
        long_lived.close()
    assert writer.returncode == 0, err
    assert out.count("committed") == len(runs)
    assert seen <= counts, (seen, counts)
    assert len(ids(index_dir)) == len(ids(reference))
    print(f"\n{searches} searches during {len(runs)} commits saw counts {sorted(seen)}")


def test_check_finds_a_damaged_file_and_names_the_repair(states, tmp_path):
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    runner = CliRunner()
    good = runner.invoke(main, ["check", "--index", str(index_dir)])
    assert good.exit_code == 0, good.output
    assert good.stdout.splitlines()[-1] == "ok"
    assert f"{len(states['before'])} paragraphs" in good.stdout
    sums = durable.load_record(str(index_dir), durable.generations(str(index_dir))[-1]).files
    damaged = sorted(name for name in sums if name.endswith(".pst"))[0]
    data = bytearray((index_dir / damaged).read_bytes())
    data[len(data) // 2] ^= 0x01
    (index_dir / damaged).write_bytes(bytes(data))
    bad = runner.invoke(main, ["check", "--index", str(index_dir)])
    assert bad.exit_code == 1
    assert (f"problem: {damaged}: its bytes differ from those its commit wrote (checksum "
            "mismatch)") in bad.stdout
    assert f"--index {index_dir} --rebuild" in bad.stdout
    assert "how to repair: searchkit index" in bad.stdout


def test_check_reports_leftovers_and_the_next_run_removes_them(states, tmp_path):
    """A writer that stopped without cleaning up (its lock gone with its process) leaves the
    files it journaled: `check` lists them, the index is ok, the next run removes them. Files
    searchkit did not write, whatever their names, are neither listed nor removed."""
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    stopped = store.open_writer(store.open_index(index_dir))
    stopped.add_document(**_document("stopped#1"))
    stopped.writelock.release()  # as if its process had been killed
    left = set(os.listdir(index_dir)) - set(os.listdir(states["base"]))
    assert any(durable.SEGMENT_FILE.match(n) for n in left) and "MAIN.tmp" in left
    foreign = {"MAIN_0123456789abcdef.trm": b"orphan?", "_MAIN_9.toc.1234.5": b"temp toc?",
               "checksums-700.json": b"{}", "files-300.json": b"[]", "MAIN_notes.txt": b"notes"}
    for name, data in foreign.items():
        (index_dir / name).write_bytes(data)
    (index_dir / "backup.tmp").mkdir()
    (index_dir / "backup.tmp" / "copy").write_bytes(b"the user's")
    result = CliRunner().invoke(main, ["check", "--index", str(index_dir)])
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert {f"leftover: {name}" for name in left - {durable.JOURNAL}} <= set(lines)
    assert not [line for line in lines if line.startswith("problem")]
    assert not [name for name in [*foreign, "backup.tmp"] if name in result.stdout]
    assert "the next `searchkit index` run removes" in result.stdout and lines[-1] == "ok"
    build_index(COMMAND, index_dir)
    assert store.check(index_dir).ok and store.check(index_dir).leftovers == ()
    assert ids(index_dir) == states["after"]
    names = set(os.listdir(index_dir))
    assert not (left - {durable.JOURNAL}) & names
    assert set(foreign) | {"backup.tmp"} <= names
    assert (index_dir / "backup.tmp" / "copy").read_bytes() == b"the user's"


def test_check_on_a_missing_index(tmp_path):
    result = CliRunner().invoke(main, ["check", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no index" in result.stdout


@pytest.mark.parametrize("idle, load, segments", [
    (2.0, None, 2), (0.9, None, 1), (None, 0.0, 2), (None, 8.0, 1)])
def test_helper_processes_only_on_a_machine_with_a_core_to_spare(tmp_path, monkeypatch, idle,
                                                                 load, segments):
    """Idle cores decide where /proc/stat says how many there are; else the load average."""
    monkeypatch.setattr(build, "PARALLEL_FROM", 10)
    monkeypatch.setattr(build.workers, "idle_cores", lambda: idle)
    monkeypatch.setattr(build.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(build.os, "cpu_count", lambda: 4)
    build_index([SEEDS], tmp_path / "ix")
    report = store.check(tmp_path / "ix")
    assert report.ok and report.segments == segments and report.paragraphs == 341, report


@pytest.mark.parametrize("early_helper", [False, True])
def test_parallel_writing_goes_through_the_durable_storage(tmp_path, monkeypatch, early_helper):
    """Above PARALLEL_FROM paragraphs, helper processes write segments (one forked then, or
    the one forked before the reading, which groups too): their files are fsynced and summed
    like the others (by the early helper, while this process writes the commit's own files),
    and optimize merges them into one."""
    monkeypatch.setattr(build, "BYTES_A_PARAGRAPH", 400 if early_helper else 10**12)
    monkeypatch.setattr(build, "PARALLEL_FROM", 10)
    monkeypatch.setattr(build, "PARALLEL_SPARE_CORES", None)  # whatever the machine's load
    monkeypatch.setattr(durable, "synced_entry", _noting_where_synced)
    index_dir = tmp_path / "ix"
    build_index([SEEDS], index_dir)
    report = store.check(index_dir)
    assert report.ok and report.segments >= 2 and report.paragraphs == 341, report
    sums = durable.load_record(str(index_dir), report.generation).files
    segment_files = [n for n in os.listdir(index_dir) if durable.SEGMENT_FILE.match(n)]
    assert sum(n.endswith(".rank") for n in segment_files) == report.segments
    assert sorted(n for n in sums if durable.SEGMENT_FILE.match(n)) == sorted(segment_files)
    synced = [line.split() for line in (index_dir / SYNCED_BY).read_text().splitlines()]
    here = str(os.getpid())
    assert sorted(n for _, n in synced if durable.SEGMENT_FILE.match(n)) == sorted(
        segment_files)  # each once
    assert {name for pid, name in synced if pid != here} == (
        set(segment_files) if early_helper else set())
    result = CliRunner().invoke(main, ["optimize", "--index", str(index_dir)])
    assert result.exit_code == 0, result.stderr
    assert re.search(rf"{report.segments} segments -> 1, 341 paragraphs", result.stderr)
    after = store.check(index_dir)
    assert after.ok and after.segments == 1 and after.paragraphs == 341


SYNCED_BY = "synced-by.txt"  # (not a file the index's check knows)
_synced_entry = durable.synced_entry


def _noting_where_synced(folder, name, on_disk=None):
    """durable.synced_entry, each file's name noted in the folder with the process's id."""
    with open(os.path.join(folder, SYNCED_BY), "a") as notes:
        notes.write(f"{os.getpid()} {name}\n")
    return _synced_entry(folder, name, on_disk)


def test_work_is_shared_by_weight_and_comes_back_in_order():
    """A helper process takes the tasks after half the total weight (files are split by their
    bytes): one large task is this process's share; the results keep the tasks' order."""
    sizes = [10, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    here = os.getpid()
    found = workers.run_split(sizes, lambda size: (size, os.getpid()), True,
                              weight=lambda size: size)
    assert [size for size, _ in found] == sizes
    assert [pid == here for _, pid in found] == [True] + [False] * 9
    by_count = workers.run_split(sizes, lambda size: os.getpid(), True)
    assert [pid == here for pid in by_count] == [True] * 5 + [False] * 5
    assert workers.run_split([0, 0], lambda size: os.getpid(), True,
                             weight=lambda size: size)[0] == here


def test_the_helpers_tasks_are_prepared_here_and_handed_over():
    """With ``prepare``, every task is prepared in this process (the helper's before the
    fork, then sent pickled) and ``work`` takes what it made, in the tasks' order."""
    here = os.getpid()
    found = workers.run_split(list(range(6)), lambda made: (made, os.getpid()), True,
                              prepare=lambda task: (task * 10, os.getpid()))
    assert [made for made, _ in found] == [(task * 10, here) for task in range(6)]
    assert [pid == here for _, pid in found] == [True] * 3 + [False] * 3
    assert workers.run_split([1, 2], str, False, prepare=lambda task: task + 1) == ["2", "3"]
    # ``each`` of every result, here, in the tasks' order: its answers kept instead
    seen = []
    kept = workers.run_split(list(range(6)), lambda task: (task, os.getpid()), True,
                             each=lambda found: seen.append(found) or found[0] * 2)
    assert kept == [task * 2 for task in range(6)]
    assert [task for task, _ in seen] == list(range(6)) and seen[0][1] == here != seen[-1][1]
    assert workers.run_split([1, 2], str, False, each=len) == [1, 1]


def test_work_kept_out_of_this_process_runs_in_two_helpers_in_order():
    """``run_in_helpers``: two helpers take the tasks in turn (here each one's first task
    waits for the other's), the results come back in the tasks' order, none made here, each
    told as it arrives; an error in either arrives as it was raised (a full disk stays a full
    disk); a killed one is WorkerError; not parallel, everything runs here."""
    here = os.getpid()
    both_started = multiprocessing.get_context("fork").Barrier(2)

    def first_two_wait(task):
        if task < 2:
            both_started.wait(timeout=60)
        return task, os.getpid()

    arrived = []
    found = workers.run_in_helpers(list(range(8)), first_two_wait, True, arrived.append)
    assert [task for task, _ in found] == list(range(8))
    assert sorted(arrived) == list(range(8))
    pids = {pid for _, pid in found}
    assert here not in pids and len(pids) == 2
    for tasks in ([5, 6, 7, 8], [1, 2, 3, 5]):  # the failing task first, or last
        with pytest.raises(OSError) as raised:
            workers.run_in_helpers(tasks, _fail, True)
        assert raised.value.errno == errno.ENOSPC
    with pytest.raises(workers.WorkerError, match="stopped unexpectedly"):
        workers.run_in_helpers([0, 1, 2], _killed_in_the_second_half, True)
    arrived.clear()
    assert workers.run_in_helpers([1, 2], _with_pid, False, arrived.append) == [
        (1, here), (2, here)]
    assert arrived == [0, 1]


def test_helpers_forked_early_take_the_tasks_in_turn():
    """Started ``Helpers`` take ``run_in_helpers``' tasks instead of two forked for them:
    both work (each is sent its next task as it finishes one), the results come back in the
    tasks' order, each told as it arrives; an error in either is raised here and stops both;
    a killed one is WorkerError."""
    with workers.Helpers() as helpers:
        helpers.start()
        pids = {helper.pid for helper in helpers.each}
        arrived = []
        found = workers.run_in_helpers(list(range(12)), _timed, True, arrived.append,
                                       helpers=helpers)
        assert [task for task, *_ in found] == list(range(12))
        assert sorted(arrived) == list(range(12))
        assert {pid for _, pid, *_ in found} == pids  # none here, none forked now
        kept = workers.run_in_helpers([3, 4], _with_pid, True,
                                      keep=lambda k, result: (k, *result), helpers=helpers)
        assert [(k, task) for k, task, _ in kept] == [(0, 3), (1, 4)]
        assert {pid for *_, pid in kept} == pids  # the same helpers again, one task each
        with pytest.raises(OSError) as raised:
            workers.run_in_helpers([1, 5, 2, 3], _fail, True, helpers=helpers)
        assert raised.value.errno == errno.ENOSPC
        assert all(helper.pid is None for helper in helpers.each)  # both stopped
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, 0)  # reaped
    with workers.Helpers() as helpers:
        helpers.start()
        os.kill(helpers.each[1].pid, signal.SIGKILL)
        with pytest.raises(workers.WorkerError, match="stopped unexpectedly"):
            workers.run_in_helpers(list(range(6)), _with_pid, True, helpers=helpers)


def _killed_in_the_second_half(task):
    if task == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return task


def _with_pid(task):
    return task, os.getpid()


def _fail(task):
    if task == 5:
        raise OSError(errno.ENOSPC, "No space left on device", "segment")
    return task


def _fail_here_stall_there(task):
    if task == 0:
        raise ValueError("this process's own task failed")
    time.sleep(60)


def test_a_helper_forked_early_takes_later_tasks_in_order():
    """A started Helper takes the tasks of each ``run_split`` given it (sent pickled) from the
    last back, and ``map``'s a task at a time, the same process each time; closing ends it."""
    here = os.getpid()
    with workers.Helper() as helper:
        assert not helper.started
        helper.start()
        pid = helper.pid
        seen = []
        first = workers.run_split(list(range(8)), _with_pid, True, helper=helper,
                                  each=lambda found: seen.append(os.getpid()) or found)
        again = helper.map(list(range(10, 16)), _with_pid, "tasks",
                           prepare=lambda task: task * 2)
    assert [task for task, _ in first] == list(range(8))
    pids = [p for _, p in first]  # this process from the first on, the helper from the last
    assert pids[0] == here and pids[-1] == pid and pids == sorted(pids, key=lambda p: p == pid)
    assert seen == [here] * 8  # ``each`` of the helper's results too, here
    assert [task for task, _ in again] == [task * 2 for task in range(10, 16)]
    # map shares the tasks out as they are done: this process from the first on, the helper
    # from the last back (it gets the last task first)
    pids = [p for _, p in again]
    assert pids[0] == here and pids[-1] == pid and set(pids) == {here, pid}
    assert pids == sorted(pids, key=lambda p: p == pid)
    assert not helper.started
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)  # reaped


def _timed(made):
    started = time.monotonic()
    return made, os.getpid(), started, time.monotonic()


def test_a_started_helper_is_handed_its_tasks_one_at_a_time():
    """The helper's tasks of a ``run_split`` with ``prepare`` are prepared here a task at a
    time: a task is made ready only once the helper has sent back the results of the one two
    before it (what is in hand for the helper does not grow with the tasks' number); an error
    making one ready is raised, and the helper stopped."""
    here = os.getpid()
    made = {}

    def prepare(task):
        made[task] = time.monotonic()
        return task

    with workers.Helper() as helper:
        helper.start()
        found = workers.run_split(list(range(10)), _timed, True, prepare=prepare, helper=helper)
        assert [task for task, *_ in found] == list(range(10))
        mine = [pid == here for _, pid, *_ in found]
        assert mine[0] and not mine[-1] and mine == sorted(mine, reverse=True)
        theirs = [f for f in reversed(found) if f[1] != here]  # in the order it took them
        for earlier, (task, *_) in zip(theirs, theirs[2:]):
            assert made[task] > earlier[3]  # after the helper's task two before it ended

        def fails_for_the_helper(task):
            if task == 7:
                raise ValueError("cannot make task 7")
            return task

        with pytest.raises(ValueError, match="cannot make task 7"):
            workers.run_split(list(range(10)), _timed, True, prepare=fails_for_the_helper,
                              helper=helper)
        assert not helper.started


def _slow_here(task):
    number, parent = task
    if os.getpid() == parent:
        time.sleep(0.5)
    return number, os.getpid()


def test_a_started_helper_takes_more_tasks_where_this_process_is_slower():
    """``run_split``'s tasks are shared as they are done, not cut in halves: the helper,
    whose tasks take no time, does most of them while this process is busy with its own."""
    here = os.getpid()
    with workers.Helper() as helper:
        helper.start()
        found = workers.run_split([(n, here) for n in range(12)], _slow_here, True,
                                  helper=helper)
    assert [number for number, _ in found] == list(range(12))
    assert sum(pid == here for _, pid in found) < 6  # (the helper starved for seconds: 6+)


def test_closing_a_helper_does_not_wait_for_processes_forked_since():
    """A process forked after the helper holds its pipe's end too: closing tells the helper
    to stop rather than waiting for an end of file that would not come."""

    def too_long(*_):
        raise TimeoutError("close() waited for the helper")

    first, second = workers.Helper(), workers.Helper()
    first.start()
    second.start()  # holds a copy of the first one's pipe
    pid = first.pid
    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(20)
    try:
        first.close()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        second.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_a_helpers_error_comes_back_and_a_dead_helper_is_a_worker_error():
    with workers.Helper() as helper:
        helper.start()
        pid = helper.pid
        with pytest.raises(OSError) as raised:
            workers.run_split(list(range(6)), _fail, True, helper=helper)
        assert raised.value.errno == errno.ENOSPC  # a full disk stays a full disk
        assert not helper.started
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)
    with workers.Helper() as helper:
        helper.start()
        os.kill(helper.pid, signal.SIGKILL)
        with pytest.raises(workers.WorkerError, match="stopped unexpectedly"):
            workers.run_split([1, 2], _with_pid, True, helper=helper)
    with workers.Helper() as helper:  # an error here stops the helper, busy or not
        helper.start()
        pid = helper.pid
        with pytest.raises(ValueError):
            workers.run_split([0, 1], _fail_here_stall_there, True, helper=helper)
        assert not helper.started
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_optimize_records_the_previous_commits_files_not_a_leftover(tmp_path, monkeypatch):
    """A commit that writes no side file of its own (optimize) carries the previous commit's,
    even where a stopped run left one of the same generation that the sweep could not
    remove."""
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    index_dir = tmp_path / "ix"
    build_index([folder], index_dir)
    write_wire(folder / "wire", stories=3)
    build_index([folder], index_dir)  # two segments: optimize has work to do
    before = store.latest_generation(index_dir)
    kept = {kind: store.read_committed(index_dir, before, kind)
            for kind in ("dupindex", "vocabulary", "ledger")}
    for kind in kept:  # a stopped run's files for the next generation, journaled
        store.write_committed(index_dir, before + 1, kind, b"left by a stopped run")
    monkeypatch.setattr(durable, "sweep", lambda folder, keep_scratch=False: [])
    store.optimize(index_dir)
    assert store.latest_generation(index_dir) == before + 1
    for kind, data in kept.items():
        assert store.read_committed(index_dir, before + 1, kind) == data, kind


def test_a_carried_side_file_is_copied_a_piece_at_a_time(tmp_path, monkeypatch):
    """What optimize's commit carries (the grouping file of a large index, say)
    is copied through checked reads of a piece each, never held whole."""
    folder = tmp_path / "corpus"
    write_wire(folder, stories=300)
    index_dir = tmp_path / "ix"
    build_index([folder], index_dir)
    generation = store.latest_generation(index_dir)
    committed = store.read_committed(index_dir, generation, "dupindex")
    assert len(committed) > 100_000
    monkeypatch.setattr(integrity, "_CHECKED_AT_A_TIME", 4096)
    copy = store.committed_copy(index_dir, generation, "dupindex")
    with open(tmp_path / "carried", "wb") as out:
        tracemalloc.start()
        try:
            copy(out)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert (tmp_path / "carried").read_bytes() == committed
    assert peak < len(committed) / 4, (peak, len(committed))


def test_a_searcher_opened_before_commits_keeps_working(states, tmp_path):
    """Whoosh opens some segment files only when first needed: the files of a replaced
    generation stay for durable.KEEP_SUPERSEDED_SECONDS."""
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    with open_index(index_dir) as searcher:
        build_index(COMMAND, index_dir, rebuild=True)
        build_index(seed(S001), index_dir)
        results = searcher.search("Merkel", limit=5, facets=True, sort="-date")
        assert results.total > 0 and results.groups[0].leader.text
        assert not searcher.is_current()


def test_a_searcher_whose_commit_was_removed_still_suggests(states, tmp_path, monkeypatch):
    """Its files stay open, but its commit's vocabulary is read on first use: the current
    commit's serves once its own is gone."""
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    with open_index(index_dir) as searcher:
        assert searcher.search("Belarus", limit=3, facets=True).total > 0
        monkeypatch.setattr(durable, "KEEP_SUPERSEDED_SECONDS", 0.0)
        build_index(COMMAND, index_dir)
        build_index(seed(S001), index_dir)
        assert not store.has_commit(index_dir, searcher._generation)
        assert searcher.search("Merkle").suggestion == "Merkel"


def test_superseded_generations_expire(states, tmp_path, monkeypatch):
    index_dir = tmp_path / "ix"
    copy(states["base"], index_dir)
    build_index(COMMAND, index_dir)
    assert len(durable.generations(str(index_dir))) > 1
    monkeypatch.setattr(durable, "KEEP_SUPERSEDED_SECONDS", 0.0)
    build_index(seed(S001), index_dir)
    current = durable.generations(str(index_dir))
    assert len(current) == 1
    toc = durable.read_toc(str(index_dir), current[0])
    live = {s.segment_id() for s in toc.segments}
    assert {durable.SEGMENT_FILE.match(n).group(1) for n in os.listdir(index_dir)
            if durable.SEGMENT_FILE.match(n)} == live
    assert os.listdir(index_dir).count(f"checksums-{current[0]}.json") == 1
    assert len([n for n in os.listdir(index_dir) if n.startswith("checksums-")]) == 1
    assert sorted(n for n in os.listdir(index_dir) if layout.SIDE_FILE.match(n)) == sorted(
        durable.side_file(kind, current[0]) for kind in durable.SIDE_FILES)


class _Segment:
    def __init__(self, name, total, deleted=0):
        self.name, self.total, self.deleted = name, total, deleted

    def segment_id(self):
        return self.name

    def doc_count_all(self):
        return self.total

    def doc_count(self):
        return self.total - self.deleted

    def has_deletions(self):
        return self.deleted > 0


def test_the_incremental_merge_policy_bounds_the_work(monkeypatch):
    read = []

    def merged(writer, segments):  # (the segments are read in their order in the index)
        read.extend(s.name for s in segments)
        return _Segment("merged", sum(s.doc_count() for s in segments))

    def merge(*segments):
        read.clear()
        kept = [s.name for s in durable.INCREMENTAL_MERGE(None, list(segments))]
        assert ("merged" in kept) == bool(read) and (not read or kept[-1] == "merged")
        return [name for name in kept if name != "merged"]

    monkeypatch.setattr(durable, "merged", merged)
    small, budget, pile = durable.SMALL_SEGMENT_DOCS, durable.MERGE_BUDGET_DOCS, durable.MERGE_AT
    big = _Segment("big", budget * 10)
    gone = _Segment("gone", 50, deleted=50)
    # Fewer than MERGE_AT small segments: nothing is read; an all-deleted one just goes.
    few = [_Segment(f"s{i}", 10 + i) for i in range(pile - 1)]
    assert merge(big, gone, *few) == ["big"] + [s.name for s in few] and read == []
    # MERGE_AT of them: merged, smallest first, within the budget; big ones stay.
    many = [_Segment(f"s{i}", small - i * 100) for i in range(pile + 3)]
    kept = merge(big, *many)
    assert "big" in kept and "big" not in read and read
    assert sum(s.doc_count_all() for s in many if s.name in read) <= budget
    sizes = [s.doc_count_all() for s in many]
    assert sorted(sizes)[: len(read)] == sorted(s.doc_count_all() for s in many
                                                if s.name in read)
    assert set(kept) | set(read) == {"big"} | {s.name for s in many}
    # A mostly deleted segment within the budget is compacted at once.
    mostly = _Segment("mostly-deleted", budget, deleted=budget * 3 // 4)
    assert merge(big, mostly) == ["big"] and read == ["mostly-deleted"]


def test_idle_cores_reads_this_machine():
    idle = workers.idle_cores()
    if idle is None:
        pytest.skip("no /proc/stat on this system")
    assert 0 <= idle <= (os.cpu_count() or 1) + 0.01
