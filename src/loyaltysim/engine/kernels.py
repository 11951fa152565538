"""Array kernels: one phase of a step over all customers, in parallel.

Kernels import only numpy, numba, the layout, the rng and the scalar rules; they take the state arrays, a few
tables and the rule parameters, loop over customers, call the rules and store what they return, in place (the
interact and tally kernels return their counts). All randomness comes from `loyaltysim.engine.rng` keyed by
(seed, step, customer, purpose), so the thread count never changes a result.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import (
    ACTIVE,
    ADOPTED,
    CHURNED,
    COHORT,
    COUNTED,
    FIRST_STAGE,
    LEFT,
    N_STATES,
    PROSPECT,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
    STEP_BITS,
    Level,
    Propensity,
    Sum,
    Tally,
)
from loyaltysim.engine.params import RuleParams
from loyaltysim.engine.rng import Purpose, draw, draw3, draw_at, stream_key

__all__ = [
    "MAX_DEGREE",
    "TALLY_CHUNK",
    "CustomerState",
    "count_signals",
    "init_population",
    "interact",
    "listen",
    "listen_mean_field",
    "new_state",
    "tally",
    "transition",
]

_FIELD_BITS = 21
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_ONE_POSITIVE = 1 << _FIELD_BITS
_ONE_NEGATIVE = 1 << (2 * _FIELD_BITS)
MAX_DEGREE = _FIELD_MASK
"""Largest number of neighbours a person may have (the counts of `listen` are packed into 21-bit fields)."""

N_TALLY = len(Tally)
N_SUMS = len(Sum)

TALLY_CHUNK = 16384
"""Customers per tally chunk: partial sums are fixed per chunk, so totals do not depend on threads."""


class CustomerState(NamedTuple):
    """Structure-of-arrays state of every person in the market (index = customer id)."""

    stage: np.ndarray  # int8: a stage code of `loyaltysim.engine.layout`
    persona: np.ndarray  # int8
    flags: np.ndarray  # uint8: the flag bits of `loyaltysim.engine.layout`
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
    p: RuleParams,
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
        m = r.choose(draw(k_pers, i), persona_cum)
        persona[i] = m
        log_a = _log_gamma(k_prop, i, persona_ab[m, Propensity.CHURN_A])
        log_b = _log_gamma(k_prop_b, i, persona_ab[m, Propensity.CHURN_B])
        theta = min(1.0 / (1.0 + np.exp(log_b - log_a)), 1.0 - 1e-12)  # Beta(a, b) = Ga / (Ga + Gb)
        base_hazard[i] = -np.log1p(-theta)
        expectation[i] = p.population_initial_expectation
        loyalty[i] = r.clip01(p.population_initial_loyalty + p.population_loyalty_spread * (2.0 * draw(k_loy, i) - 1.0))
        frustration[i] = 0.0
        neighbourhood[i] = 0
        if draw(k_cust, i) < initial_customers:
            stage[i] = FIRST_STAGE + r.choose(draw(k_stage, i), stage_cum)
            flags[i] = COHORT | ACTIVE
        else:
            stage[i] = PROSPECT
            flags[i] = 0


@njit(parallel=True, cache=True)
def interact(
    st: CustomerState,
    keys: np.ndarray,
    levels: np.ndarray,
    visit_rate: float,
    none_chance: float,
    persona_tab: np.ndarray,
    p: RuleParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: each customer uses touchpoints a Poisson number of times, judges each use and reacts.

    After each interaction the customer updates expectation, loyalty, frustration and stage, and may decide to
    tell others (the last salient experience of the step is what is told). The number of interactions is
    Poisson(``visit_rate``), ``none_chance`` = exp(-visit_rate). ``levels``: one row per touchpoint (`Level`
    columns); ``persona_tab``: one row per persona (`Sensitivity` columns); the rule is `rules.interaction`.
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
    cum = levels[:, Level.CUMULATIVE_SHARE]
    for c in prange(n_chunks):
        effort_sum = 0.0
        for i in range(c * TALLY_CHUNK, min(n, (c + 1) * TALLY_CHUNK)):
            s = stage[i]
            flags[i] &= np.uint8(~STEP_BITS & 0xFF)
            if not r.is_customer(s):
                continue
            frustration[i] = r.decay_frustration(float(frustration[i]), p)
            signal = ACTIVE
            m = persona[i]
            for v in range(r.visit_count(draw(keys[Purpose.VISIT], i), visit_rate, none_chance)):
                u_channel, u_need, u_effort = draw3(keys[Purpose.CHANNEL], i, v)
                u_feel, u_stage, u_speak = draw3(keys[Purpose.FEEL], i, v)
                k = r.choose(u_channel, cum)
                s, new_loyalty, new_expectation, new_frustration, told, effort = r.interaction(
                    s,
                    float(loyalty[i]),
                    float(expectation[i]),
                    float(frustration[i]),
                    levels[k],
                    persona_tab[m],
                    (u_need, u_effort, u_feel, u_stage, u_speak),
                    p,
                )
                loyalty[i] = new_loyalty
                expectation[i] = new_expectation
                frustration[i] = new_frustration
                if told:
                    signal = ACTIVE | told
                uses[c, k] += 1
                effort_sum += effort
            stage[i] = s
            flags[i] |= np.uint8(signal)
        effort_sums[c] = effort_sum
    return uses, effort_sums


@njit(cache=True, inline="always")
def _must_push(f):
    """Whether a person pushes this step.

    Those whose status changed since the last call (ACTIVE differs from COUNTED) and customers who speak.
    """
    changed = ((f & ACTIVE) != 0) != ((f & COUNTED) != 0)
    speaks = (f & ACTIVE) != 0 and (f & (SPOKE_POSITIVE | SPOKE_NEGATIVE)) != 0
    return changed or speaks


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
            active = f & ACTIVE
            moved = 0
            if active and not f & COUNTED:
                moved = 1
            elif f & COUNTED and not active:
                moved = -1
            if moved != 0:
                flags[j] = f ^ np.uint8(COUNTED)
            message = 0
            reach = 0.0
            if active and f & SPOKE_POSITIVE:
                message, reach = _ONE_POSITIVE, positive_reach
            elif active and f & SPOKE_NEGATIVE:
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
    _spread(
        st, indptr, indices, keys[Purpose.TELL], p.word_of_mouth_positive_reach, p.word_of_mouth_negative_reach, parts
    )
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
            if f & SPOKE_POSITIVE:
                s_pos += 1
            elif f & SPOKE_NEGATIVE:
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


@njit(parallel=True, cache=True)
def transition(st: CustomerState, keys: np.ndarray, marketing: float, price: float, p: RuleParams) -> None:
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
    adopt_cap = r.adoption_probability(marketing, 1.0, 0.0, p) * r.MARGIN
    for i in prange(stage.shape[0]):
        s = stage[i]
        if s == CHURNED:
            continue
        if s == PROSPECT:
            u = draw(keys[Purpose.ADOPT], i)
            if u >= adopt_cap:
                continue
            h = float(heard[i])
            if u < r.adoption_probability(marketing, float(influence[i]), h, p):
                new_stage, new_expectation, new_frustration = r.adopt(h, p)
                stage[i] = new_stage
                expectation[i] = new_expectation
                frustration[i] = new_frustration
                flags[i] |= np.uint8(ADOPTED)
            continue
        h = float(heard[i])
        loyalty[i] = r.loyalty_after_hearing(float(loyalty[i]), h, p)
        expectation[i] = r.expectation_after_hearing(float(expectation[i]), h, p)
        hazard = r.churn_hazard(float(base_hazard[i]), float(loyalty[i]), float(frustration[i]), price, p)
        if r.churns(draw(keys[Purpose.CHURN], i), hazard, p.months):
            stage[i] = CHURNED
            flags[i] |= np.uint8(LEFT)


@njit(parallel=True, cache=True)
def tally(st: CustomerState, n_personas: int) -> tuple[np.ndarray, np.ndarray]:
    """Phase 4: per-chunk counts for the step's outputs.

    Returns ``counts`` (chunks x [`N_STATES` stage codes x personas | `Tally` slots]) and ``sums`` (chunks x `Sum`
    slots, over customers).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    n = stage.shape[0]
    n_chunks = (n + TALLY_CHUNK - 1) // TALLY_CHUNK
    extra = N_STATES * n_personas
    counts = np.zeros((n_chunks, extra + N_TALLY), np.int64)
    sums = np.zeros((n_chunks, N_SUMS), np.float64)
    for c in prange(n_chunks):
        for i in range(c * TALLY_CHUNK, min(n, (c + 1) * TALLY_CHUNK)):
            s = stage[i]
            counts[c, s * n_personas + persona[i]] += 1
            f = flags[i]
            if f & ADOPTED:
                counts[c, extra + Tally.ADOPTED] += 1
            if f & LEFT:
                counts[c, extra + Tally.LEFT] += 1
            if f & SPOKE_POSITIVE:
                counts[c, extra + Tally.WOM_POSITIVE] += 1
            if f & SPOKE_NEGATIVE:
                counts[c, extra + Tally.WOM_NEGATIVE] += 1
            if not r.is_customer(s):
                continue
            score = r.recommend_score(loyalty[i])
            if score >= r.PROMOTER_MIN:
                counts[c, extra + Tally.PROMOTERS] += 1
            elif score <= r.DETRACTOR_MAX:
                counts[c, extra + Tally.DETRACTORS] += 1
            if f & COHORT:
                counts[c, extra + Tally.COHORT] += 1
            sums[c, Sum.LOYALTY] += loyalty[i]
            sums[c, Sum.EXPECTATION] += expectation[i]
    return counts, sums
