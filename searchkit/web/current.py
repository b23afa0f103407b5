"""The index a server answers from: one open ``Searcher``, replaced by a new one when another
process (`searchkit index`, `optimize`) has committed, so that a page never shows a stale
index and nobody has to restart the server."""

import sys
import threading
from pathlib import Path
from typing import Optional

from .. import Searcher, open_index
from ..config import SearchOptions
from ..errors import IndexMissingError, SearchkitError


class CurrentIndex:
    """``get()`` returns a Searcher on the index's latest commit. A new commit that cannot be
    opened (a writer midway, damage) leaves the one already open in use, with a warning; an
    index no longer there is missing (IndexMissingError) until it is built again."""

    def __init__(self, index_dir: Path, searcher: Optional[Searcher] = None,
                 options: SearchOptions = SearchOptions()):
        self.index_dir = Path(index_dir)
        self.options = options
        self._searcher = searcher
        self._lock = threading.Lock()
        self._warned: Optional[str] = None

    def get(self) -> Searcher:
        with self._lock:
            old = self._searcher
            if old is not None and old.is_current():
                return old
            try:
                fresh = open_index(self.index_dir, self.options)
            except IndexMissingError:
                # Deleted or moved: the files the open one reads lazily are gone too, so it
                # would answer some pages and call the index damaged on others.
                self._searcher = None
                if old is not None:
                    old.close()
                raise
            except (SearchkitError, OSError) as error:
                if old is None:
                    raise
                self._warn(f"kept the index opened before: {error}")
                return old
            self._searcher, self._warned = fresh, None
        if old is not None:
            old.close()  # waits for a search running on it (the Searcher's own lock)
        return fresh

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def _warn(self, message: str) -> None:
        if message != self._warned:  # once per problem, not once per request
            from ..cli.render import printable

            print(printable(f"searchkit serve: warning: {message}"), file=sys.stderr)
            self._warned = message
