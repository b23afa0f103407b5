"""Building on a Dask cluster: the build's heavy, independent work (reading and parsing files,
hashing paragraphs for the grouping, writing segments) done by the cluster's workers.

``build_index(..., cluster=Cluster(...))`` runs the same build as on one machine: the plan,
the ledger, the grouping's joins and the commit stay here (the client), holding the write lock
as ever. What changes is who does the work: ``Cluster.map`` sends tasks to the workers in
slices of about equal weight and returns their results in order, as ``workers.run_split``
does for a forked helper. Workers write their segments into a scratch folder of the index
(journaled before it is made, so a stopped run's is removed by the next writer); the client
moves the files of the segments whose results it received into the index and commits them.
A worker that dies has its tasks run again by Dask: a task that ran twice leaves an extra
segment in the scratch folder, never in the index.

Every worker must see the index folder and the article files at the same paths as the client
(a shared filesystem): ``Cluster.check`` asks each worker to find a file the client wrote
into the scratch folder and the paths given, and a worker that cannot is a ClusterError
before any work is sent.

Dask is an optional dependency (``pip install 'searchkit[cluster]'``), imported only here.
"""

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

import numpy as np

from ..errors import ClusterError, SearchkitError, UsageError
from . import durable

T = TypeVar("T")
R = TypeVar("R")

CONNECT_SECONDS = 15.0  # to reach a scheduler, and for its first worker to join
CHECK_SECONDS = 30.0  # for every worker to answer the shared-folder check
SLICES_PER_WORKER = 4  # a map's tasks are sent in about this many slices per worker
IN_FLIGHT_PER_WORKER = 2  # slices out at a time: one running, one waiting to run

Done = Callable[[object, str], None]  # (a slice's results, the worker that ran it)


def _dask():
    try:
        import distributed
    except ImportError:
        raise UsageError(
            "building on a cluster needs Dask; install it with: "
            "pip install 'searchkit[cluster]'") from None
    return distributed


class Cluster:
    """A connection to a Dask cluster for builds: a running scheduler's ``address``
    (``tcp://host:8786``), or a local cluster of ``workers`` processes started here. Use it
    as a context manager; a local cluster is stopped on leaving it."""

    def __init__(self, address: Optional[str] = None, workers: Optional[int] = None):
        if (address is None) == (workers is None):
            raise UsageError("give a scheduler address or a number of local workers, not both")
        if workers is not None and workers < 1:
            raise UsageError(f"a local cluster needs at least 1 worker, not {workers}")
        self.address = address
        self.local_workers = workers
        self.client = None
        self._local = None
        self.done: Dict[str, Dict[str, int]] = {}  # what -> worker -> how many
        self.seconds: Dict[str, float] = {}  # what -> seconds from sending to the last result

    def __enter__(self) -> "Cluster":
        distributed = _dask()
        try:
            if self.address is None:
                self._local = distributed.LocalCluster(
                    n_workers=self.local_workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=50)
                self.client = distributed.Client(self._local, timeout=CONNECT_SECONDS)
            else:
                self.client = distributed.Client(self.address, timeout=CONNECT_SECONDS)
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except RuntimeError as error:  # Dask's "Nanny failed to start"
            self.__exit__(None, None, None)
            raise ClusterError(
                f"cannot start {self.local_workers} local Dask workers ({_reason(error)}); "
                "a script that starts them must do so under `if __name__ == '__main__':` "
                "(they import it again)") from None
        except (OSError, TimeoutError) as error:
            self.__exit__(None, None, None)
            where = self.address or "a local cluster"
            raise ClusterError(f"cannot use the Dask cluster at {where}: "
                               f"{str(error).splitlines()[0] if str(error) else 'timed out'}; "
                               "check that its scheduler runs and has workers") from None
        return self

    def __exit__(self, *exc) -> None:
        for part in (self.client, self._local):
            if part is not None:
                try:
                    part.close()
                except Exception:
                    pass
        self.client = self._local = None

    @property
    def workers(self) -> List[str]:
        """The addresses of the workers now."""
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def dashboard(self) -> Optional[str]:
        try:
            return self.client.dashboard_link
        except Exception:
            return None

    def check(self, folder: str, paths: Sequence[Path]) -> None:
        """Every worker sees ``folder`` (it finds a file written here into it, and can write
        there itself) and the ``paths`` to index, at the same paths; else ClusterError."""
        probe = f".searchkit-probe-{secrets.token_hex(8)}"
        token = secrets.token_hex(16)
        with open(os.path.join(folder, probe), "w", encoding="ascii") as handle:
            handle.write(token)
        try:
            answers = self.client.run(_can_see, folder, probe, token,
                                      [str(Path(p).resolve()) for p in paths],
                                      on_error="return", wait=True)
        finally:
            try:
                os.remove(os.path.join(folder, probe))
            except OSError:
                pass
        if not answers:
            raise ClusterError("the Dask cluster has no workers")
        for worker, answer in sorted(answers.items()):
            if answer is not None:
                if isinstance(answer, BaseException):
                    answer = f"it failed the check ({type(answer).__name__})"
                raise ClusterError(
                    f"worker {worker} {answer}; every worker must see the index folder and "
                    "the article files at the same paths as this machine (a shared "
                    "filesystem)")

    def map(self, tasks: Sequence[T], work: Callable, what: str,
            weight: Optional[Callable[[T], int]] = None, done: Optional[Done] = None,
            prepare: Optional[Callable[[T], object]] = None) -> List[R]:
        """``[work(t) for t in tasks]`` (``work(prepare(t))`` with ``prepare``) on the
        workers, in slices of about equal ``weight``, the results in order; ``done(results,
        worker)`` as each slice comes back. At most IN_FLIGHT_PER_WORKER slices a worker are
        out at a time, each prepared as it is sent: what this process holds for them does not
        grow with the corpus. ``what`` the tasks are is counted by worker in ``self.done``
        and timed in ``self.seconds``."""
        distributed = _dask()
        if not tasks:
            return []
        started = time.monotonic()
        workers = max(len(self.workers), 1)
        slices = iter(enumerate(_slices(tasks, weight, SLICES_PER_WORKER * workers)))
        results: Dict[int, list] = {}
        out: Dict[str, Tuple[int, object]] = {}  # future key -> (slice number, future)
        arriving = distributed.as_completed()
        counts = self.done.setdefault(what, {})

        def send() -> None:
            for number, part in slices:
                payload = [prepare(task) for task in part] if prepare else part
                future = self.client.submit(_run_slice, work, payload, pure=False)
                out[future.key] = (number, future)
                arriving.add(future)
                return

        for _ in range(IN_FLIGHT_PER_WORKER * workers):
            send()
        try:
            for future in arriving:
                found, worker = _result(future)
                number, _ = out.pop(future.key)
                future.release()
                results[number] = found
                counts[worker] = counts.get(worker, 0) + len(found)
                if done:
                    done(found, worker)
                send()
        finally:
            for _, future in out.values():
                future.release()
        self.seconds[what] = self.seconds.get(what, 0.0) + time.monotonic() - started
        return [result for number in sorted(results) for result in results[number]]


def _result(future):
    """A slice's result; ClusterError if Dask could not give it (a failure of searchkit's own
    on a worker is raised as it is)."""
    try:
        return future.result()
    except (SearchkitError, OSError, MemoryError):
        raise
    except Exception as error:
        if not type(error).__module__.startswith(("distributed", "dask")):
            raise
        raise ClusterError(
            f"the Dask cluster could not finish the build ({_reason(error)}); "
            "the index is as it was: run the same command again") from None


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def _slices(tasks: Sequence[T], weight: Optional[Callable[[T], int]], count: int) -> List[list]:
    """``tasks`` cut into at most ``count`` runs of about equal total weight, in order."""
    count = max(1, min(count, len(tasks)))
    weights = np.array([weight(t) for t in tasks] if weight else [1] * len(tasks), np.float64)
    cumulative = np.cumsum(np.maximum(weights, 1))
    cuts = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, count) / count)
    bounds = [0, *sorted(set(int(c) + 1 for c in cuts if 0 <= c < len(tasks) - 1)), len(tasks)]
    return [list(tasks[lo:hi]) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]


def _run_slice(work, part):
    """On a worker: a slice's results, and the worker's address."""
    import distributed

    worker = distributed.get_worker().address
    return [work(task) for task in part], worker


def _can_see(folder: str, probe: str, token: str, paths: List[str]) -> Optional[str]:
    """On a worker: None if it sees the client's probe in ``folder``, can write there, and
    sees ``paths``; else what it cannot do."""
    try:
        with open(os.path.join(folder, probe), encoding="ascii") as handle:
            if handle.read() != token:
                return f"sees another folder at {folder}"
    except OSError:
        return f"cannot see the index folder {folder}"
    mine = os.path.join(folder, f"{probe}-{os.getpid()}")
    try:
        with open(mine, "w", encoding="ascii"):
            pass
        os.remove(mine)
    except OSError:
        return f"cannot write into the index folder {folder}"
    for path in paths:
        if not os.path.exists(path):
            return f"cannot see {path}"
    return None


class Scratch:
    """The folder the workers write segments into: made (journaled) by the writer holding
    the lock, its segments' files moved into the index once their results are in."""

    def __init__(self, writer):
        self.folder = writer.storage.folder
        self.storage = writer.storage.temp_storage(f"MAIN_cluster_{secrets.token_hex(6)}.tmp")
        self.path = self.storage.folder

    def adopt(self, segments) -> None:
        """Move the files of ``segments`` into the index folder, each journaled first (these
        are the commit's; any other file here is a task that ran twice)."""
        names = sorted(os.listdir(self.path))
        for segment in segments:
            prefix = segment.segment_id() + "."
            for name in names:
                if name.startswith(prefix):
                    durable.note(self.folder, name)
                    os.rename(os.path.join(self.path, name), os.path.join(self.folder, name))

    def remove(self) -> None:
        """Remove the folder (after the commit; the journal still names it until the next
        writer's sweep, which finds it gone)."""
        shutil.rmtree(self.path, ignore_errors=True)
