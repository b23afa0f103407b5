"""The order a group's members are listed in, which is also the order its leaders are
taken in (``dedup.stars``): earliest printing first, undated last, then by article and
paragraph number. Light on purpose: the searcher imports it for every query."""

import re
from datetime import date
from typing import Optional

UNDATED = 1 << 62  # day_number of an undated paragraph's article: after every date
_DIGITS = re.compile(r"(\d+)")


def day_number(day: Optional[date]) -> int:
    """A date as ``stars`` orders paragraphs: its day's ordinal, UNDATED (after every day)
    for None."""
    return UNDATED if day is None else day.toordinal()


def in_number_order(text: str) -> tuple:
    """A sort key for ids that reads their runs of digits as numbers ("feed:9" before
    "feed:10", as a file's articles are numbered); the text itself breaks ties ("01", "1")."""
    parts = _DIGITS.split(text)  # text at even places, digits at odd ones: never compared mixed
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), text


def listing_order(pid: str, day: int = UNDATED) -> tuple:
    """Where a paragraph (its id, its article's ``day_number``) comes among its group's
    members as they are listed: earliest first, then by article (``in_number_order``) and
    paragraph number."""
    article, _, number = pid.rpartition("#")
    return (day, in_number_order(article or pid), int(number) if number.isdecimal() else 0, pid)
