"""The command line and the REPL: the only place click and tabulate are used.

``commands`` holds the click commands, ``render`` the output formats (fitted to the terminal,
text from files made safe to print), ``repl`` the read-search-print loop."""

import signal
import sys


def run() -> None:
    """The console script's entry point: ``commands.main``, a Ctrl-C while Python still loads
    it (the first ~0.1 s) ending as one after (no traceback; status 130, as shells report)."""
    try:
        from .commands import main
    except KeyboardInterrupt:
        sys.stderr.write("searchkit: stopped by Ctrl-C before it began; nothing was changed\n")
        raise SystemExit(130) from None
    try:
        main(prog_name="searchkit")
    finally:
        # The command has said how it ended: a Ctrl-C while Python exits would end the
        # process by the signal, status 130, as if it had stopped an index run.
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def __getattr__(name: str):
    if name == "main":  # (the click group, loaded when asked for: ``run`` guards its loading)
        from .commands import main
        return main
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
