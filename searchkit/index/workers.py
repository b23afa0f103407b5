"""Independent tasks over two cores: this process takes the first half, a forked helper the
second, and the results come back in order.

The helper is forked, so it starts with everything this process holds (no task data is
sent to it, unless its tasks are prepared here: see ``run_split``) and sends back only its
results, pickled. An exception in the helper is raised
here (an OSError with its errno, so a full disk stays a full disk); a helper that dies
raises WorkerError. Without ``fork`` (not Linux or macOS) everything runs here.
"""

import ctypes
import gc
import multiprocessing
import os
import pickle
import time
import traceback
from contextlib import contextmanager
from typing import Callable, List, Optional, Sequence, TypeVar

import numpy as np

from ..errors import SearchkitError

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter

T = TypeVar("T")
R = TypeVar("R")


class WorkerError(SearchkitError):
    """The helper process stopped without its results."""


def return_freed_arrays() -> None:
    """Have glibc give every allocation of 1 MB or more its own mapping, returned to the
    system when freed. By default glibc raises that threshold as large blocks are freed and
    serves later ones from its heap, which keeps what they freed: a build's many temporary
    arrays then add up to its peak memory. No-op where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):
        pass


@contextmanager
def no_garbage_collection():
    """Python's cyclic garbage collector off (as a ``with`` block or a decorator): a build
    makes millions of objects that hold no cycles (records, tuples, sets), and every
    collection their making sets off walks everything alive, which grows with the corpus."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def idle_cores(sample: float = 0.05) -> Optional[float]:
    """How many cores were idle (or waiting for the disk) over the next ``sample`` seconds,
    from Linux's /proc/stat; None where it cannot be read. Unlike the load average, which
    trails the last minute (a build just finished counts for a while), this is the machine
    now."""

    def idle_and_total():
        with open("/proc/stat", "rb") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:9]]  # without guest time
        return ticks[3] + ticks[4], sum(ticks)

    try:
        idle, total = idle_and_total()
        time.sleep(sample)
        idle_after, total_after = idle_and_total()
    except (OSError, ValueError, IndexError):
        return None
    if total_after <= total:
        return None
    return (os.cpu_count() or 1) * (idle_after - idle) / (total_after - total)


def run_split(tasks: Sequence[T], work: Callable[[T], R], parallel: bool,
              weight: Optional[Callable[[T], int]] = None,
              prepare: Optional[Callable[[T], object]] = None) -> List[R]:
    """``[work(t) for t in tasks]``, the second half in a forked helper when ``parallel``;
    with ``weight`` (a task's expected cost), the half of the total weight. ``prepare``:
    ``work`` takes ``prepare(t)`` instead; the helper's are made here before the fork and
    handed over pickled, so that the helper does not touch the objects they are made of
    (every page of this process it writes to, a reference count, is copied)."""
    ready = prepare or (lambda task: task)
    if not parallel or len(tasks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [work(ready(task)) for task in tasks]
    mine, theirs = by_weight(tasks, weight, 2)
    if prepare:
        theirs = [pickle.dumps(prepare(task), pickle.HIGHEST_PROTOCOL) for task in theirs]
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # the helper
        status = 1
        try:
            receive.close()
            try:
                payload = (True, [work(_unpickled(theirs, k) if prepare else task)
                                  for k, task in enumerate(theirs)])
            except BaseException as error:  # noqa: B902 - handed to the parent
                payload = (False, _portable(error))
            send.send_bytes(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
            send.close()
            status = 0
        finally:
            os._exit(status)
    send.close()
    theirs = None  # the helper's copy is the one left
    try:
        results = [work(ready(task)) for task in mine]
        try:
            ok, found = pickle.loads(receive.recv_bytes())
        except EOFError:
            raise WorkerError("a helper process writing the index stopped unexpectedly; "
                              "run the same command again") from None
    except BaseException:
        _stop(pid)
        raise
    finally:
        receive.close()
    _reap(pid)
    if not ok:
        raise found
    return results + found


def _unpickled(pickled: list, k: int):
    """The object pickled in ``pickled[k]``, letting go of its bytes."""
    data, pickled[k] = pickled[k], None
    return pickle.loads(data)


def by_weight(tasks: Sequence[T], weight: Optional[Callable[[T], int]],
              parts: int) -> List[list]:
    """``tasks`` cut into at most ``parts`` runs of about equal total ``weight`` (a task's
    expected cost, at least 1; without it, 1 each), in order. A run ends with the task that
    crosses its share of the total; a cut that would fall after the last task falls before
    it, so that every cut leaves tasks on both sides."""
    if not tasks:
        return []
    parts = max(1, min(parts, len(tasks)))
    weights = [weight(task) for task in tasks] if weight else [1] * len(tasks)
    cumulative = np.cumsum(np.maximum(np.array(weights, np.float64), 1))
    cuts = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, parts) / parts)
    bounds = [0, *sorted({min(int(c) + 1, len(tasks) - 1) for c in cuts}), len(tasks)]
    return [list(tasks[lo:hi]) for lo, hi in zip(bounds, bounds[1:]) if hi > lo]


def _portable(error: BaseException) -> BaseException:
    """The helper's exception as one that survives pickling."""
    if isinstance(error, OSError):
        return OSError(error.errno, error.strerror, error.filename)
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        reason = "".join(traceback.format_exception_only(error)).strip()
        return WorkerError(f"a helper process failed: {reason}")


def _stop(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    _reap(pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass
