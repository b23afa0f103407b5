"""The command line and the REPL: the only place click and tabulate are used.

``commands`` holds the click commands, ``render`` the output formats (fitted to the terminal,
text from files made safe to print), ``repl`` the read-search-print loop."""

from .commands import main  # noqa: F401  (the console script's entry point)
