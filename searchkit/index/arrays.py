"""Array helpers the build shares."""

import numpy as np

_LIMIT = np.iinfo(np.int64).max


def ranges(starts, sizes) -> np.ndarray:
    """The numbers of [starts[i], starts[i] + sizes[i]) for each i, one range after another
    (to gather runs of an array at once)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    ends = np.cumsum(sizes)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - sizes), sizes) + np.arange(
        int(ends[-1]) if ends.size else 0)


def stable_order(keys: np.ndarray, bound: int) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for whole numbers in [0, bound): each key and its
    index made one number and sorted by value, which numpy does with SIMD instructions,
    several times faster than its stable argsort (the index breaks ties as stability does)."""
    count = len(keys)
    if bound * max(count, 1) > _LIMIT:
        return np.argsort(keys, kind="stable")
    combined = keys.astype(np.int64) * count
    combined += np.arange(count, dtype=np.int64)
    combined.sort()
    combined %= max(count, 1)
    return combined


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind="stable")``: numpy's unstable argsort, much the faster on
    64-bit values, then the indices of each run of equal values put back in order (by one
    sort of numbers, as in ``stable_order``)."""
    order = np.argsort(values)
    count = len(order)
    ordered = values[order]
    tied = ordered[1:] == ordered[:-1]  # tied[i]: position i + 1 holds what position i does
    del ordered
    if not tied.any():
        return order
    if count * count > _LIMIT:
        return np.argsort(values, kind="stable")
    in_run = np.zeros(count, bool)
    in_run[1:] = tied
    in_run[:-1] |= tied
    at = np.flatnonzero(in_run)
    combined = np.cumsum(np.r_[True, ~tied])[at] * count  # each one's run, then its index
    combined += order[at]
    combined.sort()
    order[at] = combined % count
    return order
