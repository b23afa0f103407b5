"""What the library's entry points accept: each check returns the argument in the form searchkit
works with, or raises UsageError saying in one line what is expected. The readings given for
convenience: one path (str or Path) where paths are expected is that path; one string where
names are expected is that name; a date string as the command line reads it. Light (no numpy),
so that every entry point can afford it."""

import math
import numbers
import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

from .errors import QueryError, UsageError

_PATH_TYPES = (str, os.PathLike)


def refused(name: str, expected: str, value: Any) -> UsageError:
    """The UsageError for ``value`` given as ``name`` where ``expected`` is wanted."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return UsageError(f"{name} must be {expected}, not {shown}")


def whole(name: str, value: Any, least: int = 1, optional: bool = False) -> Optional[int]:
    """An int of at least ``least`` (None too if ``optional``)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise refused(name, f"a whole number of {least} or more", value)
    return int(value)


def number(name: str, value: Any, least: float = 0.0, most: Optional[float] = None,
           above: bool = False) -> float:
    """A real number from ``least`` (excluded if ``above``) to ``most``."""
    wanted = (f"a number {'above' if above else 'of at least'} {least:g}"
              + (f" and at most {most:g}" if most is not None else ""))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise refused(name, wanted, value)
    given = float(value)
    if not math.isfinite(given) or not (given > least if above else given >= least) or (
            most is not None and given > most):
        raise refused(name, wanted, value)
    return given


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise refused(name, "True or False", value)
    return value


def flags(**given: Any) -> None:
    """``flag`` of each one given by name."""
    for name, value in given.items():
        flag(name, value)


def text(name: str, value: Any, optional: bool = False, hint: str = "") -> Optional[str]:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise refused(name, "a str" + hint, value)
    return value


def choice(name: str, value: Any, choices: Tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise refused(name, "one of " + ", ".join(map(repr, choices)), value)
    return value


def names(name: str, value: Any, choices: Optional[Tuple[str, ...]] = None) -> Tuple[str, ...]:
    """A tuple of names; one str is one name (not its letters). With ``choices``, each must be
    one of them."""
    if isinstance(value, str):
        value = (value,)
    wanted = ("names (a str, or a tuple of them)" if choices is None else
              "one or more of " + ", ".join(map(repr, choices)) + " (a str or a tuple)")
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise refused(name, wanted, value)
    given = tuple(value)
    for item in given:
        if not isinstance(item, str) or not item.strip() or \
                (choices is not None and item not in choices):
            raise refused(name, wanted, item)
    return given


def path(name: str, value: Any) -> Path:
    if isinstance(value, Path):  # (most calls, file by file: not parsed again)
        return value
    if not isinstance(value, _PATH_TYPES):
        raise refused(name, "a path (a str or a Path)", value)
    return Path(value)


def paths(name: str, value: Any) -> List[Path]:
    """A list of paths; one path (a str or a Path) is a list of that one."""
    if isinstance(value, _PATH_TYPES):
        return [Path(value)]
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise refused(name, "a path or a list of paths (str or Path)", value)
    return [path(f"each of {name}", item) for item in value]


def day(name: str, value: Any, end: bool = False) -> Optional[date]:
    """A date, or None; a datetime is its day; a str is read as the command line reads it
    ("2020-08-18"; "2020" or "2020-08": its first day, its last with ``end``)."""
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        from .retrieval.plan import date_bound

        try:
            return date_bound(value, end)
        except QueryError as error:
            raise UsageError(f"{name}: {error}") from None
    raise refused(name, "a date, or a str like '2020-08-18'", value)


def instance(name: str, value: Any, kind: type, optional: bool = False, hint: str = "") -> Any:
    """``value`` if it is a ``kind`` (or None if ``optional``)."""
    if (value is None and optional) or isinstance(value, kind):
        return value
    raise refused(name, f"a {kind.__name__}" + (" or None" if optional else "") + hint, value)


def function(name: str, value: Any) -> Optional[Callable]:
    """A callable, or None."""
    if value is not None and not callable(value):
        raise refused(name, "a function or None", value)
    return value
