"""Phase 2 kernels: word of mouth over the social network, and its mean field on the complete network.

Each person counts neighbours who are customers and hears what speaking neighbours say, each speaker reaching each
listener with its own chance drawn from the key (step, listener, speaker). The result is that of pulling from every
neighbour (as the readable agents do), computed by pushing from the few who changed or spoke. Imports only numpy,
numba, the layout, the rng and the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import ACTIVE, CHURNED, COUNTED, SPOKE_NEGATIVE, SPOKE_POSITIVE
from loyaltysim.engine.rng import Purpose, draw_at
from loyaltysim.engine.state import CustomerState

if TYPE_CHECKING:
    from loyaltysim.engine.params import RuleParams

__all__ = ["MAX_DEGREE", "count_signals", "listen", "listen_mean_field"]

_FIELD_BITS = 21
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_ONE_POSITIVE = 1 << _FIELD_BITS
_ONE_NEGATIVE = 1 << (2 * _FIELD_BITS)
MAX_DEGREE = _FIELD_MASK
"""Largest number of neighbours a person may have (the counts of `listen` are packed into 21-bit fields)."""


@njit(cache=True, inline="always")
def _must_push(f):
    """Whether a person pushes this step.

    Those whose status changed since the last call (ACTIVE differs from COUNTED) and customers who speak.
    """
    active = (f & ACTIVE) != 0
    changed = active != ((f & COUNTED) != 0)
    speaks = active & ((f & (SPOKE_POSITIVE | SPOKE_NEGATIVE)) != 0)  # rules.message(f) != 0, without branches
    return changed | speaks


@njit(cache=True)
def _movers(flags):
    """Ids of the people who must push this step (`_must_push`), in id order."""
    k = 0
    for j in range(flags.shape[0]):
        k += _must_push(flags[j])
    movers = np.empty(k, np.int32)
    k = 0
    for j in range(flags.shape[0]):
        if _must_push(flags[j]):
            movers[k] = j
            k += 1
    return movers


@njit(parallel=True, cache=True)
def _spread(st, indptr, indices, key, p, parts):
    """Push from the few people whose signal matters this step, in parallel.

    Those who became or stopped being customers since the last call update their neighbours' customer counts
    (flipping their COUNTED bit); each speaker reaches each listener with the draw keyed by (listener, speaker)
    (what churned people hear is never read). Part ``t`` of the id range pushes from its own movers and writes
    only to its own listeners; contributions to other parts' listeners are buffered and applied after, in one
    thread. Contributions are integer counts, so neither their order nor the number of parts changes the result.
    """
    stage = st.stage
    flags = st.flags
    neighbourhood = st.neighbourhood
    n = stage.shape[0]
    movers = _movers(flags)
    bounds = np.empty(parts + 1, np.int64)
    for t in range(parts + 1):
        bounds[t] = n * t // parts
    first = np.searchsorted(movers, bounds)
    room = np.zeros(parts + 1, np.int64)  # buffer offsets: a part never defers more than its movers' degrees
    for t in range(parts):
        room[t + 1] = room[t]
        for q in range(first[t], first[t + 1]):
            room[t + 1] += indptr[movers[q] + 1] - indptr[movers[q]]
    who = np.empty(room[parts], np.int32)
    what = np.empty(room[parts], np.int64)
    used = room[:parts].copy()
    for t in prange(parts):
        lo = bounds[t]
        hi = bounds[t + 1]
        k = room[t]
        for q in range(first[t], first[t + 1]):
            j = movers[q]
            f = flags[j]
            active = f & ACTIVE
            moved = 0
            if active and not f & COUNTED:
                moved = 1
            elif f & COUNTED and not active:
                moved = -1
            if moved != 0:
                flags[j] = f ^ np.uint8(COUNTED)
            told = r.message(f)
            reach = r.reach(told, p)
            message = _ONE_POSITIVE if told == r.POSITIVE else _ONE_NEGATIVE if told == r.NEGATIVE else 0
            for e in range(indptr[j], indptr[j + 1]):
                i = indices[e]
                change = moved
                if message and draw_at(key, i, j) < reach:  # churned listeners' counts are never read
                    change += message
                if change == 0:
                    continue
                if lo <= i < hi:
                    neighbourhood[i] += change
                else:
                    who[k] = i
                    what[k] = change
                    k += 1
        used[t] = k
    for t in range(parts):
        for k in range(room[t], used[t]):
            neighbourhood[who[k]] += what[k]


@njit(parallel=True, cache=True)
def _hear(st, indptr, p):
    """Influence and net word of mouth of everyone who has not churned, from the packed counts; clears messages."""
    stage = st.stage
    neighbourhood = st.neighbourhood
    influence = st.influence
    heard = st.heard
    for i in prange(stage.shape[0]):
        if stage[i] == CHURNED:
            continue
        packed = neighbourhood[i]
        customers = packed & _FIELD_MASK
        influence[i], heard[i] = r.wom_influence(
            float(customers),
            float((packed >> _FIELD_BITS) & _FIELD_MASK),
            float((packed >> (2 * _FIELD_BITS)) & _FIELD_MASK),
            float(indptr[i + 1] - indptr[i]),
            p,
        )
        neighbourhood[i] = customers


@njit(cache=True)
def listen(
    st: CustomerState, indptr: np.ndarray, indices: np.ndarray, keys: np.ndarray, p: RuleParams, parts: int
) -> None:
    """Phase 2: each person counts neighbours who are customers and hears their word of mouth.

    Each speaking neighbour reaches each listener with its own chance, drawn from the key (step, listener,
    speaker). The result is that of pulling from every neighbour (as the readable path does), computed by pushing from
    the few who changed or spoke (in parallel, see `_spread`): about 1 % of people change status and 5 % speak
    in a step, so this reads a few percent of the edges instead of all of them. Counts are integers, so the
    order of pushes does not
    matter. ``st.neighbourhood`` and the COUNTED flag bit carry the count from call to call; both start at
    zero (`new_state`, `init_population`) and the network must stay the same. ``parts``: how many pieces
    the push is split into (the number of threads; it does not change the result).
    """
    _spread(st, indptr, indices, keys[Purpose.TELL], p, parts)
    _hear(st, indptr, p)


@njit(cache=True)
def count_signals(flags: np.ndarray) -> tuple[int, int, int]:
    """Customers, positive and negative speakers this step (for the complete network's mean field)."""
    a = 0
    s_pos = 0
    s_neg = 0
    for i in range(flags.shape[0]):
        f = flags[i]
        if f & ACTIVE:
            a += 1
        told = r.message(f)
        if told == r.POSITIVE:
            s_pos += 1
        elif told == r.NEGATIVE:
            s_neg += 1
    return a, s_pos, s_neg


@njit(parallel=True, cache=True)
def listen_mean_field(st: CustomerState, n_active: float, n_pos: float, n_neg: float, p: RuleParams) -> None:
    """Phase 2 on the complete network: everyone hears the expected word of mouth of everyone else."""
    stage = st.stage
    flags = st.flags
    influence = st.influence
    heard = st.heard
    n = stage.shape[0]
    for i in prange(n):
        if stage[i] == CHURNED:
            continue
        influence[i], heard[i] = r.mean_field_influence(flags[i], n_active, n_pos, n_neg, n, p)
