"""The counter-based generator: uniform, independent across keys, and a pure function of its key."""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import stats

from loyaltysim.engine.rng import Purpose, draw, draw3, draw_at, draw_keys, stream_key


@njit
def many(key, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = draw(key, i)
    return out


def test_uniform_and_independent_streams():
    a = many(stream_key(1, 5, Purpose.CHANNEL), 200_000)
    b = many(stream_key(1, 5, Purpose.FEEL), 200_000)
    c = many(stream_key(1, 6, Purpose.CHANNEL), 200_000)
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


@njit
def triples(key, n):
    out = np.empty((n, 3))
    for i in range(n):
        out[i, 0], out[i, 1], out[i, 2] = draw3(key, i // 2, i % 2)
    return out


def test_three_uniforms_from_one_mix_are_uniform_and_uncorrelated():
    u = triples(stream_key(3, 2, Purpose.CHANNEL), 200_000)
    for col in range(3):
        assert stats.kstest(u[:, col], "uniform").pvalue > 1e-3
    corr = np.corrcoef(u.T)
    assert np.all(np.abs(corr[np.triu_indices(3, 1)]) < 0.01)
    assert draw3(stream_key(3, 2, Purpose.CHANNEL), 0, 0) != draw3(stream_key(3, 2, Purpose.CHANNEL), 0, 1)
