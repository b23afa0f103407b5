"""searchkit's exceptions. Every message says what went wrong and what to do next."""


class SearchkitError(Exception):
    """Base class: anything searchkit reports to a user."""


class IndexMissingError(SearchkitError):
    """There is no index where one was expected."""


class IndexSettingsError(SearchkitError):
    """The index was built with other settings (analyzer, schema) than this version uses."""


class IndexDamagedError(SearchkitError):
    """A file of the index is missing, damaged or holds what searchkit does not write."""


class IndexChangedError(SearchkitError):
    """The index was updated since a Searcher opened it, and the files of the commit the
    Searcher reads are gone (they are kept a while after a newer commit): open it again."""


class IndexEmptyError(SearchkitError):
    """The index holds no paragraphs (a first build that was stopped, or nothing to index)."""


class IndexFolderError(SearchkitError):
    """The folder given for the index cannot hold one: it holds other files, or it is inside a
    folder being indexed (or the other way round)."""


class IndexLockedError(SearchkitError):
    """Another writer holds the index lock."""


class QueryError(SearchkitError):
    """A query that cannot be run."""


class UsageError(SearchkitError):
    """An option, argument or command given wrong (a REPL command unknown or without the value
    it needs, a setting out of range): what was typed must change."""


class QueryFileError(SearchkitError):
    """A query file (``search --batch``) that cannot be read as UTF-8 text."""


class NotFoundError(SearchkitError):
    """No paragraph or article with the id asked for."""


class CorpusError(SearchkitError):
    """The paths given to the indexer cannot be read as a corpus."""


class TooManyParagraphs(CorpusError):
    """A file would give more paragraphs than a file may (config.MAX_PARAGRAPHS_PER_FILE)."""

    def __init__(self, limit: int):
        super().__init__(f"over {limit:,} paragraphs (lines, records or blocks of text); split "
                         "it into smaller files")


class IndexWriteError(SearchkitError):
    """The index could not be written (disk full, read-only, no permission); the previous
    index is left as it was and unlocked."""


class ClusterError(SearchkitError):
    """A Dask cluster cannot be used for a build: not reachable, no workers, a worker that
    cannot see the index folder or the files, or one that Dask gave up on."""
