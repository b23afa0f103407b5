"""Array helpers the build shares."""

import numpy as np

_LIMIT = np.iinfo(np.int64).max


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
