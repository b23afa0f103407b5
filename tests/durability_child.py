"""A writer for tests/test_durability.py and tests/test_damage.py, run as a child process.

    python durability_child.py sequence INDEX JSON      one indexing run per list of paths
    python durability_child.py fsize BYTES ARGS...      `searchkit ARGS`, files limited to BYTES
    python durability_child.py interrupt K ARGS...      `searchkit ARGS`, Ctrl-C at the K-th
                                                        operation (or while reading, K=0)
    python durability_child.py interrupt -1 ARGS...     `searchkit ARGS`, Ctrl-C as it ends

File operations are those of searchkit's index storage (durable.fault_hook): creating, writing,
renaming, deleting and fsyncing files, making and removing folders.
"""

import json
import os
import signal
import sys

from pathlib import Path

from searchkit.index import durable
from searchkit.index.build import build_index


def main(argv):
    mode = argv[0]
    if mode == "fsize":  # a real write error from the kernel: EFBIG past RLIMIT_FSIZE
        import resource

        from searchkit.cli.commands import main as cli

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(argv[1]), int(argv[1])))
        cli(argv[2:])
        return
    if mode == "interrupt":  # SIGINT, as Ctrl-C sends it, at a chosen point of the run
        from searchkit.index import build
        from searchkit.cli.commands import main as cli

        kill_at, count = int(argv[1]), []
        # A shell starts background jobs with SIGINT ignored, and Python keeps it so.
        signal.signal(signal.SIGINT, signal.default_int_handler)

        def interrupt(*_args):
            count.append(1)
            if len(count) == max(kill_at, 1):
                os.kill(os.getpid(), signal.SIGINT)

        if kill_at < 0:  # the command's work done, as Python exits (the console script)
            from searchkit.cli import run

            sys.argv = ["searchkit", *argv[2:]]
            try:
                run()
            finally:
                os.kill(os.getpid(), signal.SIGINT)
            return
        if kill_at:
            durable.fault_hook = interrupt
        else:  # while the first file is read, before anything is written
            read = build.read_file

            def reading(*args, **kwargs):
                interrupt()
                return read(*args, **kwargs)

            build.read_file = reading
        cli(argv[2:])
        return
    if mode == "sequence":
        index_dir, runs = argv[1], json.loads(argv[2])
        for paths in runs:
            build_index([Path(p) for p in paths], Path(index_dir), wait=30)
            print("committed", flush=True)
        return
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
