"""A writer for tests/test_durability.py, run as a child process.

    python durability_child.py sequence INDEX JSON      one indexing run per list of paths
    python durability_child.py fsize BYTES ARGS...      `searchkit ARGS`, files limited to BYTES
"""

import json
import signal
import sys

from pathlib import Path

from searchkit.indexer import build_index


def main(argv):
    mode = argv[0]
    if mode == "fsize":  # a real write error from the kernel: EFBIG past RLIMIT_FSIZE
        import resource

        from searchkit.cli import main as cli

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(argv[1]), int(argv[1])))
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
