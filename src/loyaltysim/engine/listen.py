"""Phase 2 kernels: word of mouth over the social network, and its mean field on the complete network.

Each person counts neighbours who are customers and hears the stories speaking neighbours tell: of a speaker's
``told`` good (bad) stories this step, Binomial(told, reach) reach each listener, drawn from the key (step,
listener, speaker). The result is that of pulling from every
neighbour (as the readable agents do), computed by pushing from the few who changed or spoke. Imports only numpy,
numba, the layout, the rng and the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import ACTIVE, CHURNED, COUNTED, SPOKE_NEGATIVE, SPOKE_POSITIVE
from loyaltysim.engine.prefetch import prefetch
from loyaltysim.engine.rng import Purpose, draw_at
from loyaltysim.engine.state import CustomerState

if TYPE_CHECKING:
    from loyaltysim.engine.params import RuleParams

__all__ = ["MAX_DEGREE", "count_signals", "listen", "listen_mean_field", "stories_along", "tellings"]

AHEAD = 4
"""How many movers ahead `_spread` prefetches a mover's neighbours (its row of the network twice as far ahead)."""
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
    speaks = active & ((f & (SPOKE_POSITIVE | SPOKE_NEGATIVE)) != 0)  # told a story this step, without branches
    return changed | speaks


@njit(cache=True, inline="always")
def stories_along(key: np.uint64, listener: int, speaker: int, told: int, reach: float) -> int:
    """How many of a speaker's ``told`` stories reach one listener.

    Binomial(told, reach) drawn from the key (step, listener, speaker): the one rule of an edge, used by the push
    (`_spread`) and by `tellings`.
    """
    if told == 0:
        return 0
    return r.heard_count(draw_at(key, listener, speaker), told, reach)


@njit(parallel=True, cache=True)
def _movers(flags, bounds):
    """Ids of the people who must push this step (`_must_push`), in id order, and where each part's ids start.

    ``bounds``: the parts' id ranges (part ``t`` is ``bounds[t]`` to ``bounds[t + 1]``); each part is counted and
    listed in parallel.
    """
    parts = bounds.shape[0] - 1
    first = np.zeros(parts + 1, np.int64)
    for t in prange(parts):
        k = 0
        for j in range(bounds[t], bounds[t + 1]):
            k += _must_push(flags[j])
        first[t + 1] = k
    for t in range(parts):
        first[t + 1] += first[t]
    movers = np.empty(first[parts], np.int32)
    for t in prange(parts):
        k = first[t]
        for j in range(bounds[t], bounds[t + 1]):
            if _must_push(flags[j]):
                movers[k] = j
                k += 1
    return movers, first


@njit(parallel=True, cache=True)
def _spread(st, indptr, indices, key_good, key_bad, p, parts):
    """Push from the few people whose signal matters this step, in parallel.

    Those who became or stopped being customers since the last call update their neighbours' customer counts (flipping
    their COUNTED bit); each speaker's good and bad stories reach each listener by the draws keyed by (listener,
    speaker) (what churned people hear is cleared unread). Part ``t`` of the id range pushes from its own movers and
    writes only to its own listeners; contributions to other parts' listeners are buffered and applied after, in one
    thread. Contributions are integer counts, so neither their order nor the number of parts changes the result.
    """
    stage = st.stage
    flags = st.flags
    neighbourhood = st.neighbourhood
    told_positive = st.told_positive
    told_negative = st.told_negative
    reach_good = p.word_of_mouth_positive_reach
    reach_bad = p.word_of_mouth_negative_reach
    n = stage.shape[0]
    bounds = np.empty(parts + 1, np.int64)
    for t in range(parts + 1):
        bounds[t] = n * t // parts
    movers, first = _movers(flags, bounds)
    room = np.zeros(parts + 1, np.int64)  # buffer offsets: a part never defers more than its movers' degrees
    if parts > 1:
        for t in prange(parts):
            for q in range(first[t], first[t + 1]):
                room[t + 1] += indptr[movers[q] + 1] - indptr[movers[q]]
        for t in range(parts):
            room[t + 1] += room[t]
    who = np.empty(room[parts], np.int32)
    what = np.empty(room[parts], np.int64)
    used = room[:parts].copy()
    for t in prange(parts):
        lo = bounds[t]
        hi = bounds[t + 1]
        k = room[t]
        end = first[t + 1]
        for q in range(first[t], end):
            # The movers' rows and listeners are scattered: ask for them ahead (a hint, the result is the same).
            if q + 2 * AHEAD < end:
                prefetch(indptr, movers[q + 2 * AHEAD])
            if q + AHEAD < end:
                ahead = movers[q + AHEAD]
                if indptr[ahead] < indices.shape[0]:
                    prefetch(indices, indptr[ahead])
                prefetch(neighbourhood, ahead)
                prefetch(flags, ahead)
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
            good = int(told_positive[j]) if active else 0
            bad = int(told_negative[j]) if active else 0
            for e in range(indptr[j], indptr[j + 1]):
                i = indices[e]
                change = moved  # what churned listeners hear is cleared unread (`_hear`)
                change += stories_along(key_good, i, j, good, reach_good) * _ONE_POSITIVE
                change += stories_along(key_bad, i, j, bad, reach_bad) * _ONE_NEGATIVE
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
    """Influence and net word of mouth of everyone who has not churned, from the packed counts; clears messages.

    Messages to churned people are cleared too (they hear nothing), so one won back hears only the step's stories.
    Returns how many good and bad stories were heard in all (each story once per listener it reached).
    """
    stage = st.stage
    neighbourhood = st.neighbourhood
    influence = st.influence
    heard = st.heard
    heard_good = 0
    heard_bad = 0
    for i in prange(stage.shape[0]):
        packed = neighbourhood[i]
        if stage[i] == CHURNED:
            neighbourhood[i] = packed & _FIELD_MASK
            continue
        customers = packed & _FIELD_MASK
        good = (packed >> _FIELD_BITS) & _FIELD_MASK
        bad = (packed >> (2 * _FIELD_BITS)) & _FIELD_MASK
        heard_good += good
        heard_bad += bad
        influence[i], heard[i] = r.wom_influence(
            float(customers), float(good), float(bad), float(indptr[i + 1] - indptr[i]), p
        )
        neighbourhood[i] = customers
    return heard_good, heard_bad


@njit(cache=True)
def listen(
    st: CustomerState, indptr: np.ndarray, indices: np.ndarray, keys: np.ndarray, p: RuleParams, parts: int
) -> tuple[int, int]:
    """Phase 2: each person counts neighbours who are customers and hears their word of mouth.

    Of each speaking neighbour's good (bad) stories, Binomial(told, reach) reach each listener, drawn from the keys
    (step, listener, speaker) of `Purpose.TELL` (`Purpose.TELL_NEGATIVE`). The result is that of pulling from every
    neighbour (as the readable path does), computed by pushing from the few who changed or spoke (in parallel, see
    `_spread`): about 1 % of people change status and 5 % speak in a step, so this reads a few percent of the edges
    instead of all of them. Counts are integers, so the order of pushes does not matter. ``st.neighbourhood`` and the
    COUNTED flag bit carry the count from call to call; both start at zero (`new_state`, `init_population`) and the
    network must stay the same. ``parts``: how many pieces the push is split into (the number of threads; it does not
    change the result). Returns how many good and bad stories reached a listener in all.
    """
    _spread(st, indptr, indices, keys[Purpose.TELL], keys[Purpose.TELL_NEGATIVE], p, parts)
    return _hear(st, indptr, p)


@njit(cache=True)
def tellings(
    st: CustomerState,
    indptr: np.ndarray,
    indices: np.ndarray,
    keys: np.ndarray,
    p: RuleParams,
    good: np.ndarray,
    bad: np.ndarray,
) -> None:
    """Write the good and bad stories that went along each edge in the step just taken: who told whom (for display).

    Entry ``e`` of ``good`` and ``bad`` (one per entry of ``indices``) is the edge from speaker ``j`` (the row) to
    listener ``indices[e]``; its counts are those `_spread` added to that listener, by the same rule
    (`stories_along`) and keys, so they sum to what the step's listeners heard (a churned listener's share included:
    reached, then ignored). Read after the step, before the next: ``told_positive`` and ``told_negative`` are set by
    `kernels.interact` for the step's customers only (zero for everyone else), which is who `_spread` lets speak.
    """
    key_good = keys[Purpose.TELL]
    key_bad = keys[Purpose.TELL_NEGATIVE]
    for j in range(indptr.shape[0] - 1):
        told_good = int(st.told_positive[j])
        told_bad = int(st.told_negative[j])
        for e in range(indptr[j], indptr[j + 1]):
            i = indices[e]
            good[e] = stories_along(key_good, i, j, told_good, p.word_of_mouth_positive_reach)
            bad[e] = stories_along(key_bad, i, j, told_bad, p.word_of_mouth_negative_reach)


@njit(cache=True)
def count_signals(st: CustomerState) -> tuple[int, int, int]:
    """Customers and their good and bad stories told this step (for the complete network's mean field)."""
    flags = st.flags
    a = 0
    s_pos = 0
    s_neg = 0
    for i in range(flags.shape[0]):
        if flags[i] & ACTIVE:
            a += 1
            s_pos += st.told_positive[i]
            s_neg += st.told_negative[i]
    return a, s_pos, s_neg


@njit(parallel=True, cache=True)
def listen_mean_field(st: CustomerState, n_active: float, n_pos: float, n_neg: float, p: RuleParams) -> None:
    """Phase 2 on the complete network: everyone hears the expected word of mouth of everyone else."""
    stage = st.stage
    flags = st.flags
    influence = st.influence
    heard = st.heard
    n = stage.shape[0]
    told_positive = st.told_positive
    told_negative = st.told_negative
    for i in prange(n):
        if stage[i] == CHURNED:
            continue
        active = (flags[i] & ACTIVE) != 0
        influence[i], heard[i] = r.mean_field_influence(
            active,
            float(told_positive[i]) if active else 0.0,
            float(told_negative[i]) if active else 0.0,
            n_active,
            n_pos,
            n_neg,
            n,
            p,
        )
