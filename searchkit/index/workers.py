"""Independent tasks over two cores: this process takes the first half, a helper forked for the
work the second, and the results come back in order. Or a ``Helper`` forked earlier, while this
process was small, takes tasks from the last back while this process takes them from the first,
until they meet. Or two helpers, forked for the work or earlier (``Helpers``), take the tasks in
turn, and this process only receives the results (``run_in_helpers``).

The helper is forked, so it starts with everything this process holds (no task data is
sent to it, unless its tasks are prepared here: see ``run_split``) and sends back only its
results, pickled. An exception in the helper is raised
here (an OSError with its errno, so a full disk stays a full disk); a helper that dies
raises WorkerError. Without ``fork`` (not Linux or macOS) everything runs here.
"""

import collections
import ctypes
import gc
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import threading
import time
import traceback
from contextlib import contextmanager
from typing import Callable, Iterable, List, Optional, Sequence, TypeVar

import numpy as np

from ..errors import SearchkitError

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter

T = TypeVar("T")
R = TypeVar("R")


class WorkerError(SearchkitError):
    """The helper process stopped without its results."""


# Arrays from this size on are mapped with huge pages by numpy: a new one costs few page
# faults, where one just under it, mapped anew each time, costs a fault every 4 KB.
REUSED_BELOW = 4 << 20


def return_freed_arrays(from_size: int = 1 << 20) -> None:
    """Have glibc give every allocation of ``from_size`` bytes or more its own mapping,
    returned to the system when freed. By default glibc raises that threshold as large
    blocks are freed and serves later ones from its heap, which keeps what they freed: a
    build's many temporary arrays then add up to its peak memory. (A smaller block is
    served from the heap, where a freed one is reused without page faults.) No-op where
    there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, from_size)
    except (OSError, AttributeError):
        pass


def _trim() -> None:
    """Give the memory freed since back to the system (glibc keeps it for later allocations
    otherwise: an idle helper would go on counting it). No-op where there is no glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
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
              prepare: Optional[Callable[[T], object]] = None,
              helper: Optional["Helper"] = None,
              each: Optional[Callable[[R], object]] = None) -> list:
    """``[work(t) for t in tasks]``, the second half in a forked helper when ``parallel``;
    with ``weight`` (a task's expected cost), the half of the total weight. ``prepare``:
    ``work`` takes ``prepare(t)`` instead; the helper's are made here before the fork and
    handed over pickled, so that the helper does not touch the objects they are made of
    (every page of this process it writes to, a reference count, is copied). A started
    ``helper`` takes tasks from the last back instead, as many as it gets through while this
    process works from the first on (``Helper.share``; ``work`` and the tasks are then
    pickled). ``each``: applied here to each result as it is made or unpickled, and its
    answer kept instead (what each result holds need not be held for all of them at once)."""
    ready = prepare or (lambda task: task)
    keep = each or (lambda result: result)
    if not parallel or len(tasks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [keep(work(ready(task))) for task in tasks]
    if helper is not None and helper.started:
        return helper.share(work, list(tasks), ready, keep)
    mine, theirs = by_weight(tasks, weight, 2)

    def handed(part):
        return [pickle.dumps(prepare(task), pickle.HIGHEST_PROTOCOL) for task in part] \
            if prepare else part

    running = {}  # pid -> the end its results come from
    try:
        second = _forked(work, handed(theirs), prepare is not None, running)
        theirs = None  # the helper's copy is the one left
        results = [keep(work(ready(task))) for task in mine]
        return results + [keep(result) for result in _results_of_child(second, running)]
    except BaseException:
        for pid in running:
            _stop(pid)
        raise
    finally:
        for receive in running.values():
            receive.close()


def run_in_helpers(tasks: Sequence[T], work: Callable[[T], R], parallel: bool,
                   done: Optional[Callable[[int], None]] = None,
                   keep: Optional[Callable[[int, R], R]] = None,
                   helpers: Optional["Helpers"] = None) -> List[R]:
    """``[work(t) for t in tasks]``, when ``parallel`` in two helpers forked now (the tasks
    pickled for them): each takes the next task not yet taken as it finishes one (the faster
    one does more) and sends its result back at once. This process only receives them (none
    of the work's garbage is left among them), while the helpers go on. ``done(k)``: task k's
    result has arrived; ``keep(k, result)``: what of it is kept in the list (the rest handed
    on as it comes). Started ``helpers`` take the tasks instead of two forked now (``work``
    is then pickled too)."""
    keep = keep or (lambda _k, result: result)
    if not parallel or len(tasks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        found = []
        for k, task in enumerate(tasks):
            found.append(keep(k, work(task)))
            if done:
                done(k)
        return found
    if helpers is not None and helpers.started:
        return helpers.share_out(tasks, work, done, keep)
    context = multiprocessing.get_context("fork")
    taken = context.Value("q", 0)  # the next task to take (with its lock)
    found = [None] * len(tasks)
    running = {}  # the end results come from -> its helper's pid
    # (pickled for the helpers: a helper that took the objects themselves would write their
    # reference counts, and so copy every page they are on, in the end most of those of
    # every task)
    packed = [pickle.dumps(task, pickle.HIGHEST_PROTOCOL) for task in tasks]
    try:
        for _ in range(2):
            pid, receive = _fork(lambda send: _take_tasks(packed, work, taken, send))
            running[receive] = pid
        arrived = 0
        waiting = list(running)  # until each end is closed: all sent, or its helper died
        while waiting:
            for receive in multiprocessing.connection.wait(waiting):
                try:
                    ok, k, result = pickle.loads(receive.recv_bytes())
                except EOFError:
                    waiting.remove(receive)
                    continue
                if not ok:
                    raise result
                found[k] = keep(k, result)
                arrived += 1
                if done:
                    done(k)
        if arrived < len(tasks):
            raise _stopped()  # a helper died with a task taken
        return found
    except BaseException:
        for pid in running.values():
            _stop(pid)
        raise
    finally:
        for receive, pid in running.items():
            receive.close()
            _reap(pid)


def _take_tasks(tasks: List[bytes], work: Callable, taken, send) -> None:
    """A helper of ``run_in_helpers``: take tasks (pickled) until none is left or one fails,
    each result sent as made (or the error)."""
    while True:
        with taken.get_lock():
            k = taken.value
            taken.value += 1
        if k >= len(tasks):
            return
        try:
            payload = (True, k, work(_unpickled(tasks, k)))
        except BaseException as error:  # noqa: B902 - handed to the parent
            payload = (False, k, _portable(error))
        send.send_bytes(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
        if not payload[0]:
            return


def _forked(work: Callable, tasks: list, pickled: bool, running: dict) -> int:
    """A helper forked now that runs ``work`` over ``tasks`` (each pickled, if ``pickled``)
    and sends the results back: its pid, in ``running`` with the end they come from."""

    def child(send) -> None:
        try:
            payload = (True, [work(_unpickled(tasks, k) if pickled else task)
                              for k, task in enumerate(tasks)])
        except BaseException as error:  # noqa: B902 - handed to the parent
            payload = (False, _portable(error))
        send.send_bytes(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))

    pid, receive = _fork(child)
    running[pid] = receive
    return pid


def _fork(child: Callable) -> tuple:
    """A helper forked now that runs ``child(send)`` (``send``: the end of a pipe to this
    process) and exits: (its pid, the end its results come from)."""
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    # (this process's objects kept out of the helper's garbage collections: one walks every
    # object it holds, writing to it, and so copies the pages they are on)
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the helper
        status = 1
        try:
            receive.close()
            child(send)
            send.close()
            status = 0
        finally:
            os._exit(status)
    gc.unfreeze()
    send.close()
    return pid, receive


def _results_of_child(pid: int, running: dict) -> list:
    found = _received(running[pid])  # (raising, it is still running: run_split stops it)
    running.pop(pid).close()
    _reap(pid)
    return found


class _Closing:
    """As a ``with`` block: ``close`` at its end, or ``stop`` if it ended with an error."""

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        if kind is None:
            self.close()
        else:
            self.stop()


class _Claims:
    """Tasks taken from both ends, by this process from the first on and for the helper from
    the last back, each once."""

    def __init__(self, count: int):
        self._lock = threading.Lock()
        self._here, self._there = 0, count  # the next task here; the helper's last one
        self._count = count

    def next_here(self) -> Optional[int]:
        with self._lock:
            if self._here >= self._there:
                return None
            self._here += 1
            return self._here - 1

    def next_there(self, leave: int = 0) -> Optional[int]:
        """The helper's next task, unless no more than ``leave`` are left."""
        with self._lock:
            if self._there - self._here <= leave:
                return None
            self._there -= 1
            return self._there

    def theirs(self) -> range:
        """The helper's tasks so far, in the order it took them."""
        return range(self._count - 1, self._there - 1, -1)


class Helper(_Closing):
    """A helper process forked by ``start`` and kept for its share of later work
    (``run_split``, or ``map`` as a cluster of two; or, one of ``Helpers``, tasks of
    ``run_in_helpers``): forked while this process is small, it
    holds its tasks and their results and little else. (A helper forked when the tasks come
    shares every page this process has by then, and each page either process writes to
    afterwards, a reference count or a freed slot reused, is copied into both.) ``work``
    and its tasks reach it pickled; without ``fork``, or not started, it runs nothing."""

    ways = 2  # as a cluster: this process and the helper

    def __init__(self):
        self.pid: Optional[int] = None
        self._tasks = self._results = None

    @property
    def started(self) -> bool:
        return self.pid is not None

    def start(self) -> None:
        if self.started or "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        tasks_in, self._tasks = context.Pipe(duplex=False)
        self._results, results_out = context.Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                self._tasks.close()
                self._results.close()
                _serve(tasks_in, results_out)
                status = 0
            finally:
                os._exit(status)
        tasks_in.close()
        results_out.close()
        self.pid = pid

    def share(self, work: Callable, tasks: list, ready: Callable, keep: Callable) -> list:
        """``[keep(work(ready(t))) for t in tasks]``: this process takes the tasks from the first
        on while a thread hands the helper tasks from the last back, until they meet (the
        faster does more: with half each, this process, which also makes the helper's tasks
        ready, would finish last). Each of the helper's is made ready while it works on the
        one before (what is in hand for it does not grow with their number, and it starts as
        soon as its first is ready); its results are unpickled and kept here between this
        process's own tasks, as they have come."""
        results: list = [None] * len(tasks)
        arrived: list = [None] * len(tasks)  # the helper's results' bytes, until kept
        failed: List[BaseException] = []
        claimed = _Claims(len(tasks))
        # (the helper's first task taken before this process takes any: it gets the last)
        feeding = threading.Thread(
            target=self._feed, name="searchkit-helper-feed", daemon=True,
            args=(work, tasks, ready, claimed, claimed.next_there(), arrived, failed))

        def keep_arrived() -> None:
            for k in claimed.theirs():
                if arrived[k] is not None and arrived[k] is not _TAKEN:
                    results[k] = keep(_unpacked(arrived[k])[0])
                    arrived[k] = _TAKEN  # (its bytes let go of)

        feeding.start()
        try:
            while True:
                k = claimed.next_here()
                if k is None:
                    break
                results[k] = keep(work(ready(tasks[k])))
                keep_arrived()
        except BaseException:
            self.stop()  # (the thread's wait for a result ends with the helper)
            raise
        finally:
            feeding.join()
        try:
            if failed:
                raise failed[0]
            keep_arrived()
            return results
        except BaseException:
            self.stop()
            raise

    def _feed(self, work: Callable, tasks: list, ready: Callable, claimed: "_Claims",
              working: Optional[int], arrived: list, failed: list) -> None:
        """``share``'s thread: the helper's task ``working`` sent, then its next one claimed
        and sent while it works on the one before (its reading thread takes it: ``_serve``),
        what the helper sends back for each put in ``arrived`` as it came (unpickled by
        ``share``: in this thread, its objects would be put in a heap of its own); an error
        (the helper gone, or making a task ready) in ``failed``."""
        try:
            if working is not None:
                self._send_message(self._message(work, [ready(tasks[working])]))
            while working is not None:
                # The next one taken and sent ahead, but for the last task left: this process,
                # busy with a task begun before the helper's, likely finishes first.
                following = claimed.next_there(leave=1)
                if following is not None:
                    self._send_message(self._message(work, [ready(tasks[following])]))
                arrived[working] = _received_bytes(self._results)
                if following is None:
                    following = claimed.next_there()
                    if following is not None:
                        self._send_message(self._message(work, [ready(tasks[following])]))
                working = following
        except BaseException as error:  # noqa: B902 - raised by share
            failed.append(error)

    def map(self, tasks: Sequence[T], work: Callable, what: str,
            weight: Optional[Callable[[T], int]] = None,
            prepare: Optional[Callable[[T], object]] = None, slices: Optional[int] = None):
        """``cluster.Cluster.map`` over this process and the started helper, a task at a time
        (what a task carries may be large: the memory for them does not grow with their
        number): this process takes the tasks from the first on, the helper from the last
        back, each sent as the helper finishes the one before, until they meet (``what``,
        ``weight`` and ``slices`` unused: the work shares itself out)."""
        ready = prepare or (lambda task: task)
        found: list = [None] * len(tasks)
        here, there = 0, len(tasks)  # the next task here; the helper's last one
        out = None  # the task the helper has
        try:
            while here < there or out is not None:
                if out is None and there - here > 1:  # the helper is free, a task is left
                    there -= 1
                    out = there
                    self._send(work, [ready(tasks[out])])
                elif out is not None and (here == there or self._results.poll()):
                    found[out] = self._results_of()[0]  # (waiting only with nothing to do)
                    out = None
                else:
                    found[here] = work(ready(tasks[here]))
                    here += 1
        except BaseException:
            self.stop()
            raise
        return found

    def start_work(self, work: Callable, tasks: list) -> None:
        """``[work(t) for t in tasks]`` begun in the helper while this process goes on:
        ``finish_work`` waits for the results."""
        try:
            self._send(work, tasks)
        except BaseException:
            self.stop()
            raise

    def finish_work(self) -> list:
        try:
            return self._results_of()
        except BaseException:
            self.stop()
            raise

    def _send(self, work: Callable, tasks: Iterable) -> None:
        self._send_message(self._message(work, tasks))

    @staticmethod
    def _message(work: Callable, tasks: Iterable) -> bytes:
        pickled = [pickle.dumps(task, pickle.HIGHEST_PROTOCOL) for task in tasks]
        return pickle.dumps((work, pickled), pickle.HIGHEST_PROTOCOL)

    def _send_message(self, message: bytes) -> None:
        try:
            self._tasks.send_bytes(message)
        except BrokenPipeError:
            raise _stopped() from None

    def _results_of(self) -> list:
        return _received(self._results)

    def close(self) -> None:
        """Let the helper finish: told so, not left to see the pipe close (a process forked
        since holds its end open too)."""
        if self.started:
            try:
                self._tasks.send_bytes(b"")
            except OSError:  # it is gone already
                pass
            self._tasks.close()
            self._results.close()
            _reap(self.pid)
            self.pid = None

    def stop(self) -> None:
        if self.started:
            self._tasks.close()
            self._results.close()
            _stop(self.pid)
            self.pid = None


class Helpers(_Closing):
    """Helpers (``Helper``) forked together by ``start``, while this process is small, to
    take ``run_in_helpers``' tasks later: each then holds what its tasks need and little
    else, where helpers forked for the work would copy the pages of this process they write
    to (a reference count, a freed slot reused), in the end most of what it holds."""

    def __init__(self, count: int = 2):
        self.each = [Helper() for _ in range(count)]

    @property
    def started(self) -> bool:
        return all(helper.started for helper in self.each)

    def start(self) -> None:
        for helper in self.each:
            helper.start()

    def close(self) -> None:
        for helper in self.each:
            helper.close()

    def stop(self) -> None:
        for helper in self.each:
            helper.stop()

    def share_out(self, tasks: Sequence[T], work: Callable[[T], R],
                  done: Optional[Callable[[int], None]], keep: Callable[[int, R], R]) -> list:
        """``run_in_helpers`` in these helpers: each is sent a task as it sends back the
        results of the one before the one it works on (its next is at hand when it ends one;
        what is sent out does not grow with the tasks' number)."""
        found: list = [None] * len(tasks)
        sent = {helper._results: collections.deque() for helper in self.each}  # task numbers
        by_end = {helper._results: helper for helper in self.each}
        following = iter(range(len(tasks)))

        def send_next(end) -> None:
            k = next(following, None)
            if k is not None:
                by_end[end]._send(work, [tasks[k]])
                sent[end].append(k)

        try:
            for _ in range(2):  # (in turn: with two tasks, one each)
                for end in sent:
                    send_next(end)
            while any(sent.values()):
                for end in multiprocessing.connection.wait([e for e in sent if sent[e]]):
                    result = by_end[end]._results_of()[0]
                    k = sent[end].popleft()
                    send_next(end)
                    found[k] = keep(k, result)
                    if done:
                        done(k)
            return found
        except BaseException:
            self.stop()
            raise


def _stopped() -> WorkerError:
    return WorkerError("a helper process writing the index stopped unexpectedly; run the "
                       "same command again")


def _received(connection) -> list:
    """The results a helper sent back; the error it sent instead, raised here."""
    return _unpacked(_received_bytes(connection))


_TAKEN = b""  # a helper's result, once unpickled and kept


def _received_bytes(connection) -> bytes:
    """What a helper sent back, as it came; WorkerError if it stopped without sending it."""
    try:
        return connection.recv_bytes()
    except EOFError:
        raise _stopped() from None


def _unpacked(data: bytes) -> list:
    """The results in what a helper sent back; the error it sent instead, raised here."""
    ok, found = pickle.loads(data)
    if not ok:
        raise found
    return found


def _serve(tasks, results) -> None:
    """The helper's loop: run each list of tasks sent, send back their results. A thread
    reads the next list while it works, another sends the results of the one before: it
    neither waits for this process to send the next list nor to take the results (of at most
    one list read ahead: ``share`` sends the next only once it has the results before)."""
    incoming: queue.Queue = queue.Queue(maxsize=1)
    outgoing: queue.Queue = queue.Queue()
    reading = threading.Thread(target=_read_ahead, args=(tasks, incoming), daemon=True)
    sending = threading.Thread(target=_send_on, args=(results, outgoing), daemon=True)
    reading.start()
    sending.start()
    try:
        while True:
            data = incoming.get()
            if not data:  # closed
                return
            try:
                work, pickled = pickle.loads(data)
                data = None
                payload = (True, [work(_unpickled(pickled, k)) for k in range(len(pickled))])
            except BaseException as error:  # noqa: B902 - handed to the parent
                payload = (False, _portable(error))
            pickled = None
            outgoing.put(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
            payload = None
            _trim()
    finally:
        outgoing.put(None)
        sending.join()


def _read_ahead(tasks, incoming: queue.Queue) -> None:
    """The helper's reading thread: each message as it comes, b"" at the end."""
    while True:
        try:
            data = tasks.recv_bytes()
        except (EOFError, OSError):
            data = b""
        incoming.put(data)
        if not data:
            return


def _send_on(results, outgoing: queue.Queue) -> None:
    """The helper's sending thread: each payload put in ``outgoing``, until None."""
    while True:
        payload = outgoing.get()
        if payload is None:
            return
        try:
            results.send_bytes(payload)
        except OSError:  # this process is gone: nothing to send to
            return


def _unpickled(pickled: list, k: int):
    """The object pickled in ``pickled[k]``, letting go of its bytes."""
    data, pickled[k] = pickled[k], None
    return pickle.loads(data)


def by_weight(tasks: Sequence[T], weight: Optional[Callable[[T], int]],
              parts: int) -> List[Sequence[T]]:
    """``tasks`` cut into at most ``parts`` runs (slices) of about equal total ``weight`` (a
    task's expected cost, at least 1; without it, 1 each), in order. A run ends with the task
    that crosses its share of the total; a cut that would fall after the last task falls
    before it, so that every cut leaves tasks on both sides."""
    if not tasks:
        return []
    parts = max(1, min(parts, len(tasks)))
    weights = [weight(task) for task in tasks] if weight else [1] * len(tasks)
    cumulative = np.cumsum(np.maximum(np.array(weights, np.float64), 1))
    cuts = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, parts) / parts)
    bounds = [0, *sorted({min(int(c) + 1, len(tasks) - 1) for c in cuts}), len(tasks)]
    return [tasks[lo:hi] for lo, hi in zip(bounds, bounds[1:]) if hi > lo]


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
