"""The build's array helpers give numpy's own answers."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from searchkit.index.arrays import stable_argsort, stable_order


@given(st.lists(st.integers(0, 40), max_size=200), st.sampled_from([41, 1000, 2**62]))
def test_stable_order_is_numpys_stable_argsort(keys, bound):
    """Ties keep their order; a bound too large for one number a key falls back to argsort."""
    keys = np.array(keys, np.int64)
    assert stable_order(keys, bound).tolist() == np.argsort(keys, kind="stable").tolist()


@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 5), max_size=300))
def test_stable_argsort_is_numpys_stable_argsort(values):
    """64-bit values, most of them tied with others or none (the anchors of a build)."""
    values = np.array(values, np.uint64)
    assert stable_argsort(values).tolist() == np.argsort(values, kind="stable").tolist()
