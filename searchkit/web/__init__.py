"""`searchkit serve`: a web page over an index, a fourth way in beside the command line, the
REPL and the library (the optional extra ``searchkit[web]``: Starlette, Jinja2, uvicorn).

``app`` makes the ASGI application (pages and the JSON API under /api/), ``params`` reads and
checks what the URL asks for, ``pages`` turns the library's answers into what the templates
show, ``current`` keeps the index open and reopens it after a new commit, ``local`` tells this
machine's addresses (and refuses requests naming another host), and ``server`` binds the
address and runs uvicorn. Only the library's public API and ``cli.render``'s record and
printable helpers are used: the page is one more client of the library.
"""

from importlib.util import find_spec
from typing import List

# What the extra installs (import names): see [project.optional-dependencies] in pyproject.toml.
NEEDED = ("starlette", "jinja2", "uvicorn")
INSTALL = "pip install 'searchkit[web]'"


def missing() -> List[str]:
    """The packages of the ``web`` extra that are not installed (none: serve can run)."""
    return [name for name in NEEDED if find_spec(name) is None]
