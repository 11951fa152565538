"""Array kernels: one phase of a step over all customers, in parallel.

Kernels import only numpy, numba and the scalar rules; they take the state arrays, a few tables and the rule
parameters, write in place and return nothing (the tally returns its counts). All randomness comes from
`loyaltysim.rng` keyed by (seed, step, customer, purpose), so the thread count never changes a result.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from loyaltysim import rules as r
from loyaltysim.rng import Purpose, draw, draw3, draw_at, stream_key

__all__ = [
    "COUNTED",
    "MAX_DEGREE",
    "TALLY_CHUNK",
    "CustomerState",
    "count_signals",
    "init_population",
    "interact",
    "listen",
    "listen_mean_field",
    "new_state",
    "prefer_passive_threads",
    "tally",
    "transition",
]

COUNTED = 64
"""Flag bit kept by `listen` (not a model flag): this person is counted in its neighbours' `neighbourhood`."""

_MARGIN = 1.0 + 1e-9
"""Relative slack on the upper bounds of probabilities used to skip exact evaluation (rounding is ~1e-16)."""

_FIELD_BITS = 21
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_ONE_POSITIVE = 1 << _FIELD_BITS
_ONE_NEGATIVE = 1 << (2 * _FIELD_BITS)
MAX_DEGREE = _FIELD_MASK
"""Largest number of neighbours a person may have (the counts of `listen` are packed into 21-bit fields)."""

TALLY_CHUNK = 16384
"""Customers per tally chunk: partial sums are fixed per chunk, so totals do not depend on threads."""


def prefer_passive_threads() -> None:
    """Ask the OpenMP runtime, before it loads, to let idle threads sleep instead of spinning.

    Spinning threads are a small gain on a quiet many-core machine but take the core from the serial parts of a
    step on a small or shared one (measured: about 3x slower steps with two threads on two busy cores). A value
    the user set is kept. Called by `LoyaltyModel` before its first parallel kernel; no effect once loaded.
    """
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class CustomerState(NamedTuple):
    """Structure-of-arrays state of every person in the market (index = customer id)."""

    stage: np.ndarray  # int8: 0 prospect, 1-6 CX Spectrum stage, 7 churned
    persona: np.ndarray  # int8
    flags: np.ndarray  # uint8: rules.ACTIVE | SPOKE_* | ADOPTED | LEFT | COHORT
    loyalty: np.ndarray  # float32 in [0, 1]
    expectation: np.ndarray  # float32 in [0, 1]
    frustration: np.ndarray  # float32: remembered frustrating experiences
    base_hazard: np.ndarray  # float32: -log(1 - theta), theta ~ Beta(a, b) of the persona
    influence: np.ndarray  # float32: share of neighbours who are customers
    heard: np.ndarray  # float32: net word of mouth heard this step, per neighbour
    neighbourhood: np.ndarray  # int64, packed by `listen`: customers among the neighbours (bits 0-20, kept from
    # step to step) and positive (bits 21-41) and negative (bits 42-62) messages heard this step (zero between calls)


def new_state(n: int) -> CustomerState:
    """Allocate the state of ``n`` people (35 bytes each)."""
    i1, f4 = np.int8, np.float32
    return CustomerState(
        stage=np.zeros(n, i1),
        persona=np.zeros(n, i1),
        flags=np.zeros(n, np.uint8),
        loyalty=np.zeros(n, f4),
        expectation=np.zeros(n, f4),
        frustration=np.zeros(n, f4),
        base_hazard=np.zeros(n, f4),
        influence=np.zeros(n, f4),
        heard=np.zeros(n, f4),
        neighbourhood=np.zeros(n, np.int64),
    )


@njit(cache=True)
def _log_gamma(key, i, shape):
    """Log of a Gamma(shape, 1) variate by Marsaglia & Tsang (2000), from counter draws (sub-index = attempt).

    In logs, so that shapes well below 1 (whose variates underflow to 0) still give a finite value.
    """
    log_boost = 0.0
    if shape < 1.0:
        log_boost = np.log(1.0 - draw_at(key, i, 0)) / shape
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    for attempt in range(1, 1000):
        u1 = draw_at(key, i, 3 * attempt)
        u2 = draw_at(key, i, 3 * attempt + 1)
        z = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)  # Box-Muller normal
        v = (1.0 + c * z) ** 3
        if v <= 0.0:
            continue
        u = draw_at(key, i, 3 * attempt + 2)
        if np.log(1.0 - u) < 0.5 * z * z + d - d * v + d * np.log(v):
            return np.log(d * v) + log_boost
    return np.log(d) + log_boost


@njit(parallel=True, cache=True)
def init_population(
    st: CustomerState,
    seed: int,
    persona_cum: np.ndarray,
    persona_ab: np.ndarray,
    stage_cum: np.ndarray,
    initial_customers: float,
    p: r.RuleParams,
) -> None:
    """Draw every person's persona, churn propensity, starting stage and loyalty from the seed alone."""
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    base_hazard = st.base_hazard
    neighbourhood = st.neighbourhood
    k_cust = stream_key(seed, -1, Purpose.INIT_CUSTOMER)
    k_stage = stream_key(seed, -1, Purpose.INIT_STAGE)
    k_pers = stream_key(seed, -1, Purpose.INIT_PERSONA)
    k_loy = stream_key(seed, -1, Purpose.INIT_LOYALTY)
    k_prop = stream_key(seed, -1, Purpose.INIT_PROPENSITY)
    k_prop_b = stream_key(seed, -1, Purpose.INIT_PROPENSITY_B)
    for i in prange(stage.shape[0]):
        m = r.choose_touchpoint(draw(k_pers, i), persona_cum)
        persona[i] = m
        log_a = _log_gamma(k_prop, i, persona_ab[m, 0])
        log_b = _log_gamma(k_prop_b, i, persona_ab[m, 1])
        theta = min(1.0 / (1.0 + np.exp(log_b - log_a)), 1.0 - 1e-12)  # Beta(a, b) = Ga / (Ga + Gb)
        base_hazard[i] = -np.log1p(-theta)
        expectation[i] = p.initial_expectation
        loyalty[i] = r.clip01(p.initial_loyalty + p.loyalty_spread * (2.0 * draw(k_loy, i) - 1.0))
        frustration[i] = 0.0
        neighbourhood[i] = 0
        if draw(k_cust, i) < initial_customers:
            stage[i] = 1 + r.choose_touchpoint(draw(k_stage, i), stage_cum)
            flags[i] = r.COHORT | r.ACTIVE
        else:
            stage[i] = r.PROSPECT
            flags[i] = 0


@njit(parallel=True, cache=True)
def interact(
    st: CustomerState,
    keys: np.ndarray,
    levels: np.ndarray,
    visit_rate: float,
    none_chance: float,
    persona_tab: np.ndarray,
    p: r.RuleParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: each customer uses touchpoints a Poisson number of times, judges each use and reacts.

    After each interaction the customer updates expectation, loyalty, frustration and stage, and may decide to
    tell others (the last salient experience of the step is what is told). The number of interactions is
    Poisson(``visit_rate``), ``none_chance`` = exp(-visit_rate). ``levels`` rows: cumulative visit
    share, fulfilment, effort, empathy, personalization; ``persona_tab`` rows: effort and emotion sensitivity.
    Returns per-chunk interactions by touchpoint and summed effort (fixed chunks: totals do not depend on
    the number of threads).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    n = stage.shape[0]
    n_chunks = (n + TALLY_CHUNK - 1) // TALLY_CHUNK
    uses = np.zeros((n_chunks, levels.shape[0]), np.int64)
    effort_sums = np.zeros(n_chunks, np.float64)
    cum = levels[:, 0]
    for c in prange(n_chunks):
        effort_sum = 0.0
        for i in range(c * TALLY_CHUNK, min(n, (c + 1) * TALLY_CHUNK)):
            s = stage[i]
            flags[i] &= np.uint8(~r.STEP_BITS & 0xFF)
            if s == r.PROSPECT or s == r.CHURNED:
                continue
            frustration[i] *= p.frustration_decay
            signal = r.ACTIVE
            m = persona[i]
            for v in range(r.visit_count(draw(keys[Purpose.VISIT], i), visit_rate, none_chance)):
                u_channel, u_need, u_effort = draw3(keys[Purpose.CHANNEL], i, v)
                u_feel, u_stage, u_speak = draw3(keys[Purpose.FEEL], i, v)
                k = r.choose_touchpoint(u_channel, cum)
                need = u_need < levels[k, 1]
                effort = r.realized_effort(levels[k, 2], u_effort, p.effort_noise)
                feel = r.realized_feel(levels[k, 3], levels[k, 4], u_feel, p)
                quality, ease, felt, frustrating = r.perceive(
                    need, effort, feel, persona_tab[m, 0], persona_tab[m, 1], p
                )
                expected = float(expectation[i])
                value = r.disconfirmation(quality, expected, p.loss_aversion)
                loyalty[i] = r.adapt(float(loyalty[i]), r.satisfaction(value, s, p), p.loyalty_learning)
                expectation[i] = r.adapt(expected, r.expectation_target(quality, p), p.expectation_learning)
                if frustrating:
                    frustration[i] += 1.0
                meets = r.meets_stage(s, need, quality - expected, felt, ease, levels[k, 4], levels[k, 3], p)
                s = r.next_stage(s, meets, value, u_stage, p)
                told = r.speak(value, persona_tab[m, 1], u_speak, p)
                if told:
                    signal = r.ACTIVE | told
                uses[c, k] += 1
                effort_sum += effort
            stage[i] = s
            flags[i] |= np.uint8(signal)
        effort_sums[c] = effort_sum
    return uses, effort_sums


@njit(cache=True)
def _movers(flags):
    """Ids of the people who must push this step.

    Those whose status changed since the last call (ACTIVE bit differs from COUNTED bit) and customers who speak.
    """
    k = 0
    for j in range(flags.shape[0]):
        f = flags[j]
        k += ((f ^ (f >> 6)) & r.ACTIVE) | ((f & r.ACTIVE) & ((f >> 1) | (f >> 2)))
    movers = np.empty(k, np.int32)
    k = 0
    for j in range(flags.shape[0]):
        f = flags[j]
        if ((f ^ (f >> 6)) & r.ACTIVE) | ((f & r.ACTIVE) & ((f >> 1) | (f >> 2))):
            movers[k] = j
            k += 1
    return movers


@njit(parallel=True, cache=True)
def _spread(st, indptr, indices, key, positive_reach, negative_reach, parts):
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
            active = f & r.ACTIVE
            moved = 0
            if active and not f & COUNTED:
                moved = 1
            elif f & COUNTED and not active:
                moved = -1
            if moved != 0:
                flags[j] = f ^ np.uint8(COUNTED)
            message = 0
            reach = 0.0
            if active and f & r.SPOKE_POSITIVE:
                message, reach = _ONE_POSITIVE, positive_reach
            elif active and f & r.SPOKE_NEGATIVE:
                message, reach = _ONE_NEGATIVE, negative_reach
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
        if stage[i] == r.CHURNED:
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
    st: CustomerState, indptr: np.ndarray, indices: np.ndarray, keys: np.ndarray, p: r.RuleParams, parts: int
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
    _spread(st, indptr, indices, keys[Purpose.TELL], p.positive_reach, p.negative_reach, parts)
    _hear(st, indptr, p)


@njit(cache=True)
def count_signals(flags: np.ndarray) -> tuple[int, int, int]:
    """Customers, positive and negative speakers this step (for the complete network's mean field)."""
    a = 0
    s_pos = 0
    s_neg = 0
    for i in range(flags.shape[0]):
        f = flags[i]
        if f & r.ACTIVE:
            a += 1
            if f & r.SPOKE_POSITIVE:
                s_pos += 1
            elif f & r.SPOKE_NEGATIVE:
                s_neg += 1
    return a, s_pos, s_neg


@njit(parallel=True, cache=True)
def listen_mean_field(st: CustomerState, n_active: float, n_pos: float, n_neg: float, p: r.RuleParams) -> None:
    """Phase 2 on the complete network: everyone hears the expected word of mouth of everyone else."""
    stage = st.stage
    flags = st.flags
    influence = st.influence
    heard = st.heard
    n = stage.shape[0]
    degree = float(n - 1)
    for i in prange(n):
        if stage[i] == r.CHURNED:
            continue
        f = flags[i]
        own_a = 1.0 if f & r.ACTIVE else 0.0
        own_p = 1.0 if (f & r.ACTIVE) and (f & r.SPOKE_POSITIVE) else 0.0
        own_n = 1.0 if (f & r.ACTIVE) and (f & r.SPOKE_NEGATIVE) and not (f & r.SPOKE_POSITIVE) else 0.0
        influence[i], heard[i] = r.wom_influence(
            n_active - own_a, p.positive_reach * (n_pos - own_p), p.negative_reach * (n_neg - own_n), degree, p
        )


@njit(parallel=True, cache=True)
def transition(st: CustomerState, keys: np.ndarray, marketing: float, price: float, p: r.RuleParams) -> None:
    """Phase 3: prospects adopt (Bass with word of mouth); customers take in word of mouth, then may churn."""
    stage = st.stage
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    base_hazard = st.base_hazard
    influence = st.influence
    heard = st.heard
    # Influence and heard enter adoption only through clip01(influence + heard) <= 1, so no prospect's chance
    # exceeds the chance at influence 1 (the margin covers rounding): a draw above it decides without the
    # transcendental functions of the rule. The same holds for churn, as 1 - exp(-x) <= x.
    adopt_cap = r.adoption_probability(marketing, 1.0, 0.0, p) * _MARGIN
    for i in prange(stage.shape[0]):
        s = stage[i]
        if s == r.CHURNED:
            continue
        if s == r.PROSPECT:
            u = draw(keys[Purpose.ADOPT], i)
            if u >= adopt_cap:
                continue
            h = float(heard[i])
            if u < r.adoption_probability(marketing, float(influence[i]), h, p):
                stage[i] = 1
                flags[i] |= np.uint8(r.ADOPTED)
                expectation[i] = r.expectation_after_hearing(p.initial_expectation, h, p)
                frustration[i] = 0.0
            continue
        h = float(heard[i])
        loyalty[i] = r.loyalty_after_hearing(float(loyalty[i]), h, p)
        expectation[i] = r.expectation_after_hearing(float(expectation[i]), h, p)
        hazard = r.churn_hazard(float(base_hazard[i]), float(loyalty[i]), float(frustration[i]), price, p)
        if hazard <= 0.0:
            continue
        u = draw(keys[Purpose.CHURN], i)
        if u < hazard * p.months * _MARGIN and u < r.hazard_probability(hazard, p.months):
            stage[i] = r.CHURNED
            flags[i] |= np.uint8(r.LEFT)


@njit(parallel=True, cache=True)
def tally(st: CustomerState, n_personas: int) -> tuple[np.ndarray, np.ndarray]:
    """Phase 4: per-chunk counts for the step's outputs.

    Returns ``counts`` (chunks x [8 stages x personas | promoters, detractors, positive speakers, negative
    speakers, adopted, left, cohort still active]) and ``sums`` (chunks x [loyalty, expectation] of customers).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    n = stage.shape[0]
    n_chunks = (n + TALLY_CHUNK - 1) // TALLY_CHUNK
    extra = 8 * n_personas
    counts = np.zeros((n_chunks, extra + 7), np.int64)
    sums = np.zeros((n_chunks, 2), np.float64)
    for c in prange(n_chunks):
        for i in range(c * TALLY_CHUNK, min(n, (c + 1) * TALLY_CHUNK)):
            s = stage[i]
            counts[c, s * n_personas + persona[i]] += 1
            f = flags[i]
            if f & r.ADOPTED:
                counts[c, extra + 4] += 1
            if f & r.LEFT:
                counts[c, extra + 5] += 1
            if f & r.SPOKE_POSITIVE:
                counts[c, extra + 2] += 1
            if f & r.SPOKE_NEGATIVE:
                counts[c, extra + 3] += 1
            if s == r.PROSPECT or s == r.CHURNED:
                continue
            score = r.recommend_score(loyalty[i])
            if score >= 9:
                counts[c, extra] += 1
            elif score <= 6:
                counts[c, extra + 1] += 1
            if f & r.COHORT:
                counts[c, extra + 6] += 1
            sums[c, 0] += loyalty[i]
            sums[c, 1] += expectation[i]
    return counts, sums
