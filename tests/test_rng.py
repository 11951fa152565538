"""The counter-based generator: uniform, independent across keys, and a pure function of its key."""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import stats

from loyaltysim.rng import Purpose, draw, draw_at, draw_keys, stream_key


@njit
def many(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = draw(key, i)
    return out


def test_uniform_and_independent_streams():
    a = many(stream_key(1, 5, Purpose.NEED), 200_000)
    b = many(stream_key(1, 5, Purpose.EFFORT), 200_000)
    c = many(stream_key(1, 6, Purpose.NEED), 200_000)
    for x in (a, b, c):
        assert stats.kstest(x, "uniform").pvalue > 1e-3
        assert x.min() >= 0 and x.max() < 1
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01 and abs(np.corrcoef(a, c)[0, 1]) < 0.01
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < 0.01  # neighbouring customers


def test_pure_function_of_key():
    keys = draw_keys(42, 3)
    assert keys[Purpose.CHURN] == stream_key(42, 3, Purpose.CHURN)
    assert draw(keys[Purpose.CHURN], 17) == draw(stream_key(42, 3, Purpose.CHURN), 17)
    assert draw_at(keys[Purpose.TELL], 5, 9) != draw_at(keys[Purpose.TELL], 9, 5)
    assert len(set(draw_keys(42, 3).tolist())) == len(draw_keys(42, 3))
