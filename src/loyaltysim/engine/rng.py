"""Counter-based random numbers: every draw is a pure function of (seed, step, customer, purpose).

A draw depends on nothing but its key, so results are the same for any thread count, any chunking and either
engine, and two scenarios run with one seed give each customer the same draws on the same step (common random
numbers). The mixer is the SplitMix64 finalizer (Steele, Lea & Flood 2014), which passes BigCrush when fed a
Weyl sequence, as it is here.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import int64, njit, uint64

__all__ = ["Purpose", "customer_key", "draw", "draw3", "draw3_of", "draw6", "draw_at", "draw_keys", "stream_key"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_N_PURPOSES = 32


class Purpose(IntEnum):
    """What a draw is for: one independent stream per purpose."""

    VISIT = 1
    CHANNEL = 2
    FEEL = 5
    RECOVER = 6  # also the speaking draw of an interaction
    TELL_NEGATIVE = 7
    TELL = 8  # good news; bad news has TELL_NEGATIVE
    ADOPT = 9
    CHURN = 10
    ANSWER = 11
    WIN_BACK = 12
    INIT_CUSTOMER = 20
    INIT_STAGE = 21
    INIT_PERSONA = 22
    INIT_LOYALTY = 23
    INIT_PROPENSITY = 24
    INIT_PROPENSITY_B = 25
    INIT_SCALE_USE = 26
    INIT_TRAITS = 27  # stage thresholds, effort tolerance and willingness to pay
    NETWORK = 30


@njit(cache=True, inline="always")
def _mix(z: uint64) -> uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream_key(seed: int, step: int, purpose: int) -> uint64:
    """Key of the stream of draws for one (seed, step, purpose); step -1 is initialisation."""
    k = _mix(uint64(seed) * _GOLDEN + uint64(purpose))
    return _mix(k + uint64(step + 1) * _GOLDEN)


@njit(cache=True, inline="always")
def draw(key: uint64, customer: int) -> float:
    """Uniform on [0, 1) for one customer from a stream key."""
    return float(int64(_mix(uint64(key) + uint64(customer) * _GOLDEN) >> _S11)) * _TO_UNIT


@njit(cache=True, inline="always")
def draw_at(key: uint64, customer: int, slot: int) -> float:
    """Uniform on [0, 1) for one customer and a sub-index (a neighbour slot, a rejection attempt)."""
    sub_key = _mix(uint64(key) + uint64(customer) * _GOLDEN)
    return float(int64(_mix(uint64(sub_key) + uint64(slot + 1) * _GOLDEN) >> _S11)) * _TO_UNIT


@njit(cache=True)
def draw_keys(seed: int, step: int) -> np.ndarray:
    """Stream keys of every purpose for one step, indexed by `Purpose` value."""
    keys = np.empty(_N_PURPOSES, dtype=np.uint64)
    for p in range(_N_PURPOSES):
        keys[p] = stream_key(seed, step, p)
    return keys


_S21 = np.uint64(21)
_S42 = np.uint64(42)
_MASK21 = np.uint64((1 << 21) - 1)
_TO_UNIT21 = 1.0 / 2097152.0  # 2**-21


@njit(cache=True, inline="always")
def customer_key(key: uint64, customer: int) -> uint64:
    """One customer's own key in a stream: what `draw3` mixes first (computed once for several triples)."""
    return _mix(key + uint64(customer) * _GOLDEN)


@njit(cache=True, inline="always")
def draw3_of(own: uint64, n: int) -> tuple[float, float, float]:
    """The ``n``-th triple of `draw3` from the customer's own key (`customer_key`): the same numbers."""
    z = _mix(own + uint64(n + 1) * _GOLDEN) if n else own
    a = float(int64(z & _MASK21)) * _TO_UNIT21
    b = float(int64((z >> _S21) & _MASK21)) * _TO_UNIT21
    c = float(int64((z >> _S42) & _MASK21)) * _TO_UNIT21
    return a, b, c


@njit(cache=True, inline="always")
def draw3(key: uint64, customer: int, n: int) -> tuple[float, float, float]:
    """Three uniforms on [0, 1) with 21-bit resolution from one mix: the ``n``-th triple of a customer's stream.

    For the several draws of one interaction; a resolution of 2**-21 (about 5e-7) is far below any probability
    the model uses.
    """
    return draw3_of(customer_key(key, customer), n)


@njit(cache=True, inline="always")
def draw6(key: uint64, customer: int) -> tuple[float, float, float, float, float, float]:
    """Six 21-bit uniforms of one customer: `draw3` of sub-indices 0 and 1 (a customer's fixed traits)."""
    a, b, c = draw3(key, customer, 0)
    d, e, f = draw3(key, customer, 1)
    return a, b, c, d, e, f
