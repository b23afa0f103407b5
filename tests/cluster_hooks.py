"""Dask worker plugins for tests/test_cluster.py: a worker that dies, or stalls, as a task
starts executing on it, from the moment a file of the test's says so."""

import glob
import os
import signal
import time

from distributed import WorkerPlugin


class DieOnTask(WorkerPlugin):
    """Kill the worker (or the process ``victim``) as a task starts while ``armed`` exists
    (``after``: as it has run, before its result is reported): once (noted in ``fired``, a
    line per kill), or ``every_time``."""

    name = "searchkit-test-die-on-task"

    def __init__(self, armed: str, fired: str, every_time: bool = False, after: bool = False,
                 victim=None):
        self.armed, self.fired, self.every_time, self.after = armed, fired, every_time, after
        self.victim = victim

    def transition(self, key, start, finish, **kwargs):
        moment = (start, finish) == ("executing", "memory") if self.after \
            else finish == "executing"
        if not moment or not os.path.exists(self.armed):
            return
        try:  # once: the first worker to create the file (both may start a task at once)
            with open(self.fired, "a" if self.every_time else "x", encoding="utf-8") as handle:
                handle.write(f"{key}\n")
        except FileExistsError:
            return
        os.kill(self.victim or os.getpid(), signal.SIGKILL)


class StallWhileWriting(WorkerPlugin):
    """Hold every task that starts while the index folder has a scratch folder of a cluster
    build (its segments being written), after noting it in ``stalled``."""

    name = "searchkit-test-stall-while-writing"

    def __init__(self, index_dir: str, stalled: str):
        self.index_dir, self.stalled = index_dir, stalled

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and glob.glob(os.path.join(self.index_dir, "MAIN_cluster_*")):
            with open(self.stalled, "a", encoding="utf-8") as handle:
                handle.write(f"{key}\n")
            time.sleep(300)  # the test kills the build meanwhile
