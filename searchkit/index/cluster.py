"""Building on a Dask cluster: the build's heavy, independent work (reading and parsing files,
hashing paragraphs and verifying candidate pairs for the grouping, writing segments) done by
the cluster's workers.

``build_index(..., cluster=Cluster(...))`` runs the same build as on one machine: the plan,
the ledger, the grouping's joins and the commit stay here (the client), holding the write lock
as ever. What changes is who does the work: ``Cluster.map`` sends tasks to the workers in
slices of about equal weight and returns their results in order, as ``workers.run_split``
does for a forked helper. Workers write their segments into a scratch folder of the index
(``Scratch``: journaled before it is made, so a stopped run's is removed by the next
writer); the client moves the files of the segments whose results it received into the index
and commits them. A worker that dies has its tasks run again by Dask: a task that ran twice
leaves an extra segment in the scratch folder, never in the index.

Every worker must see the index folder and the article files at the same paths as the client
(a shared filesystem): ``Cluster.check_paths`` asks each worker for the paths before any file
is read, and ``Scratch`` has each find a file the client wrote into the scratch folder and
write one there itself; a worker that cannot, or does not answer, is a ClusterError.

Dask is an optional dependency (``pip install 'searchkit[cluster]'``), imported only here.
"""

import asyncio
import logging
import os
import secrets
import shutil
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, TypeVar

from .. import __version__
from .. import arguments
from ..errors import ClusterError, IndexFolderError, UsageError
from . import durable
from .workers import by_weight

T = TypeVar("T")
R = TypeVar("R")

CONNECT_SECONDS = 15.0  # to reach a scheduler, and for its first worker to join
CHECK_SECONDS = 30.0  # for every worker to answer a check of the shared folder
WAIT_SECONDS = 5.0  # how often a map looks whether the cluster still has workers
NO_WORKERS_SECONDS = 60.0  # a cluster without workers this long is given up on
SLICES_PER_WORKER = 4  # a map's tasks are sent in about this many slices per worker
IN_FLIGHT_PER_WORKER = 2  # slices out at a time: one running, one waiting to run

Done = Callable[[object, str], None]  # (a slice's results, the worker that ran it)
# Dask's own timeouts (asyncio's class is not the built-in one before Python 3.11).
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)


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
    as a context manager; a local cluster is stopped on leaving it.

    Dask runs what its client sends and unpickles what its workers return: use a cluster
    only you (or those you trust) can reach."""

    def __init__(self, address: Optional[str] = None, workers: Optional[int] = None):
        if address is not None and workers is not None:
            raise UsageError("give a scheduler address or a number of local workers, not both")
        if address is None and workers is None:
            raise UsageError("give a scheduler address or a number of local workers")
        address = arguments.text("address", address, optional=True)
        workers = arguments.whole("workers", workers, optional=True)
        self.address = address
        self.local_workers = workers
        self.client = None
        self._local = None
        self._log_levels: Dict[str, int] = {}  # Dask's loggers' own, while it is quiet
        self.done: Dict[str, Dict[str, int]] = {}  # what -> worker -> how many
        self.seconds: Dict[str, float] = {}  # what -> seconds from sending to the last result

    def __enter__(self) -> "Cluster":
        distributed = _dask()
        where = f"at {self.address}" if self.address else "started here"
        # Dask logs its reconnection attempts with tracebacks; a lost cluster is said in one
        # line (ClusterError) instead.
        self._log_levels = _quiet_dask_logs()
        try:
            if self.address is None:
                self._local = distributed.LocalCluster(
                    n_workers=self.local_workers, threads_per_worker=1, processes=True,
                    dashboard_address="127.0.0.1:0", silence_logs=50)
                self.client = distributed.Client(self._local, timeout=CONNECT_SECONDS)
            else:
                self.client = distributed.Client(self.address, timeout=CONNECT_SECONDS)
            self.client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except (ValueError, TypeError) as error:
            self.__exit__()
            if self.address is None:
                raise ClusterError(f"cannot start {self.local_workers} local Dask workers "
                                   f"({_reason(error)})") from None
            raise ClusterError(f"{self.address!r} is not a Dask scheduler's address "
                               f"({_reason(error)}); give tcp://HOST:PORT") from None
        except RuntimeError as error:
            self.__exit__()
            if self.address is not None:
                raise ClusterError(f"cannot use the Dask cluster {where} ({_reason(error)})"
                                   ) from None
            raise ClusterError(
                f"cannot start {self.local_workers} local Dask workers ({_reason(error)}); "
                "a script that starts them must do so under `if __name__ == '__main__':` "
                "(they import it again)") from None
        except (OSError,) + _TIMEOUTS as error:
            self.__exit__()
            raise ClusterError(f"cannot use the Dask cluster {where} ({_reason(error)}); "
                               "check that its scheduler runs and has workers") from None
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        for part in (self.client, self._local):
            if part is not None:
                try:
                    part.close()
                except Exception:
                    pass
        self.client = self._local = None
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)
        self._log_levels = {}

    @property
    def workers(self) -> List[str]:
        """The addresses of the workers now."""
        try:
            return sorted(self.client.scheduler_info(n_workers=-1)["workers"])
        except Exception as error:
            raise _lost(error) from None

    @property
    def ways(self) -> int:
        """How many parts to cut work into, one a worker (at least one: between stages a
        cluster may be restarting all of them)."""
        return max(len(self.workers), 1)

    @property
    def dashboard(self) -> Optional[str]:
        try:
            return self.client.dashboard_link
        except Exception:
            return None

    def check_paths(self, index_dir: Path, paths: Sequence[Path]) -> None:
        """Every worker sees the index folder and the folders of the ``paths`` to index
        (absolute) and runs this version of searchkit; else ClusterError. (Whether what it
        sees is the same folder is checked by ``Scratch``, once a file may be written
        there.)"""
        folders = dict.fromkeys(str(p if p.is_dir() else p.parent) for p in paths)
        self._ask_each(_sees, [str(index_dir), *folders], __version__)

    def _ask_each(self, function, *args) -> None:
        """``function(*args)`` on every worker (beside its tasks, not as one): None, or what
        the worker cannot do (ClusterError naming it); no answer from every worker in
        CHECK_SECONDS is one too."""
        try:
            answers = self.client.run(function, *args, on_error="return",
                                      callback_timeout=CHECK_SECONDS)
        except _TIMEOUTS:
            raise ClusterError(
                f"a worker did not answer in {CHECK_SECONDS:.0f} s (a shared folder that "
                "hangs?); every worker must see the index folder and the files at the same "
                "paths as this machine") from None
        except Exception as error:
            raise _lost(error) from None
        if not answers:
            raise ClusterError("the Dask cluster has no workers")
        for worker, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                answer = f"failed the check ({_reason(answer)})"
            if answer is not None:
                raise ClusterError(
                    f"worker {worker} {answer}; every worker must see the index folder and "
                    "the article files at the same paths as this machine (a shared "
                    "filesystem), and run the same searchkit")

    def map(self, tasks: Sequence[T], work: Callable, what: str,
            weight: Optional[Callable[[T], int]] = None, done: Optional[Done] = None,
            prepare: Optional[Callable[[T], object]] = None,
            slices: Optional[int] = None) -> List[R]:
        """``[work(t) for t in tasks]`` (``work(prepare(t))`` with ``prepare``) on the
        workers, in slices of about equal ``weight`` (SLICES_PER_WORKER a worker, or
        ``slices``), the results in order; ``done(results, worker)`` as each slice comes
        back. At most IN_FLIGHT_PER_WORKER slices a worker are out at a time, each prepared
        as it is sent: what this process (and the scheduler) holds for them does not grow
        with the corpus. ``what`` the tasks are is counted by worker in ``self.done`` and
        timed in ``self.seconds`` (the preparing included)."""
        distributed = _dask()
        if not tasks:
            return []
        started = time.monotonic()
        workers = self.ways
        parts = iter(enumerate(by_weight(tasks, weight, slices or SLICES_PER_WORKER * workers)))
        results: Dict[int, list] = {}
        out: Dict[object, int] = {}  # future -> its slice's number
        counts = self.done.setdefault(what, {})
        without_workers: Optional[float] = None  # since when the cluster has had none

        def send() -> None:
            number, part = next(parts, (None, None))
            if part is None:
                return
            payload = [prepare(task) for task in part] if prepare else part
            with warnings.catch_warnings():  # the in-flight bound keeps the graph's size
                warnings.filterwarnings("ignore", message="Sending large graph")
                out[self.client.submit(_run_slice, work, payload, pure=False)] = number

        try:
            for _ in range(IN_FLIGHT_PER_WORKER * workers):
                send()
            while out:
                try:
                    finished, _ = distributed.wait(list(out), timeout=WAIT_SECONDS,
                                                   return_when="FIRST_COMPLETED")
                except _TIMEOUTS:
                    without_workers = self._still_workers(without_workers)
                    continue
                except Exception as error:
                    raise (_lost(error) if _of_dask(error) else error) from None
                for future in finished:
                    try:  # (a result its worker lost is being worked out again: wait on)
                        found, worker = _result(future, timeout=WAIT_SECONDS)
                    except _TIMEOUTS:
                        continue
                    results[out.pop(future)] = found
                    future.release()
                    counts[worker] = counts.get(worker, 0) + len(found)
                    if done:
                        done(found, worker)
                    send()
        finally:
            for future in out:
                future.release()
        self.seconds[what] = self.seconds.get(what, 0.0) + time.monotonic() - started
        return [result for number in sorted(results) for result in results[number]]

    def _still_workers(self, since: Optional[float]) -> Optional[float]:
        """Since when the cluster has had no workers (None: it has some); ClusterError once
        that is NO_WORKERS_SECONDS ago."""
        if self.workers:
            return None
        if since is None:
            return time.monotonic()
        if time.monotonic() - since > NO_WORKERS_SECONDS:
            raise ClusterError(f"the Dask cluster has had no workers for "
                               f"{NO_WORKERS_SECONDS:.0f} s; the index is as it was: run the "
                               "same command again")
        return since


def _quiet_dask_logs() -> Dict[str, int]:
    """Dask's loggers set to say nothing below CRITICAL (those with a level of their own
    too); their levels before."""
    names = ["distributed"] + [n for n in logging.root.manager.loggerDict
                               if n.startswith("distributed.")]
    levels = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return levels


def _result(future, timeout: Optional[float] = None):
    """A task's result; ClusterError if Dask could not give it (a failure of searchkit's own
    on a worker, a full disk say, is raised as it is); a timeout is raised as it is."""
    try:
        return future.result(timeout=timeout)
    except _TIMEOUTS:
        raise
    except Exception as error:
        if _of_dask(error):
            raise _lost(error) from None
        raise


def _of_dask(error: BaseException) -> bool:
    """Whether ``error`` is Dask's (a lost worker or connection, a task given up on) rather
    than one a task of searchkit's raised."""
    return (type(error).__module__.startswith(("distributed", "dask", "tornado"))
            or isinstance(error, _TIMEOUTS + (asyncio.CancelledError,)))


def _lost(error: BaseException) -> ClusterError:
    return ClusterError(f"the Dask cluster could not finish the build ({_reason(error)}); the "
                        "index is as it was: run the same command again")


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


def _run_slice(work, part):
    """On a worker: a slice's results, and the worker's address."""
    import distributed

    worker = distributed.get_worker().address
    return [work(task) for task in part], worker


def _sees(paths: List[str], version: str) -> Optional[str]:
    """On a worker: None if it runs searchkit ``version`` and sees ``paths`` (the index
    folder first), else what it cannot do."""
    if version != __version__:
        return f"runs searchkit {__version__}, not {version}"
    if not os.path.isdir(paths[0]):
        return f"cannot see the index folder {paths[0]}"
    for path in paths[1:]:
        if not os.path.exists(path):
            return f"cannot see {path}"
    return None


def _finds(folder: str, probe: str, token: str) -> Optional[str]:
    """On a worker: None if it finds the client's ``probe`` holding ``token`` in ``folder``
    and can write a file of its own there, else what it cannot do."""
    try:
        with open(os.path.join(folder, probe), encoding="ascii") as handle:
            if handle.read() != token:
                return f"sees another folder at {os.path.dirname(folder)}"
    except OSError:
        return f"cannot see the index folder {os.path.dirname(folder)}"
    mine = os.path.join(folder, f"worker-{secrets.token_hex(8)}")
    try:
        with open(mine, "x", encoding="ascii"):
            pass
        os.remove(mine)
    except OSError:
        return f"cannot write into the index folder {os.path.dirname(folder)}"
    return None


class Scratch:
    """The folder the workers write segments into, inside the index folder: made (journaled)
    by the writer holding the lock, checked with every worker, its segments' files moved into
    the index once their results are in; whatever else it holds goes with it."""

    def __init__(self, writer, cluster: Cluster):
        self.folder = os.path.realpath(writer.storage.folder)
        name = f"MAIN_cluster_{secrets.token_hex(6)}.tmp"
        writer.storage.temp_storage(name)  # journaled, then made
        self.path = os.path.join(self.folder, name)
        probe, token = f"probe-{secrets.token_hex(8)}", secrets.token_hex(16)
        with open(os.path.join(self.path, probe), "x", encoding="ascii") as handle:
            handle.write(token)
        cluster._ask_each(_finds, self.path, probe, token)

    def adopt(self, names: Sequence[str]) -> None:
        """Move the files the workers said they wrote for the commit's segments into the index
        folder, each journaled first (any other file here is a task that ran twice)."""
        for name in names:
            target = os.path.join(self.folder, name)
            if os.path.lexists(target):
                raise IndexFolderError(f"{target} exists already; move it out of the index "
                                       "folder")
            durable.note(self.folder, name)
            try:
                os.rename(os.path.join(self.path, name), target)
            except FileNotFoundError:
                raise ClusterError(f"a worker wrote {name} into {self.path}, but this machine "
                                   "does not see it; every worker must see the index folder "
                                   "as this machine does") from None

    def remove(self) -> None:
        """Remove the folder (the journal names it until the next writer's sweep, which
        finds it gone)."""
        shutil.rmtree(self.path, ignore_errors=True)
