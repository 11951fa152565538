"""Array kernels of phases 1, 3 and 4 (and the initial population): one phase over all customers, in parallel.

Phase 2, word of mouth, is in `loyaltysim.engine.listen`. Kernels import only numpy, numba, the layout, the state,
the rng and the scalar rules; they take the state arrays, a few tables and the rule parameters, loop over
customers, call the rules and store what they return, in place (the interact and tally kernels return their
counts). All randomness comes from `loyaltysim.engine.rng` keyed by (seed, step, customer, purpose), so the thread
count never changes a result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import (
    ACTIVE,
    ADOPTED,
    CHURNED,
    COHORT,
    FIRST_STAGE,
    LEFT,
    N_STATES,
    PROSPECT,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
    STEP_BITS,
    Level,
    PersonaColumn,
    Sum,
    Tally,
)
from loyaltysim.engine.rng import Purpose, draw, draw3, draw_at, stream_key
from loyaltysim.engine.state import TALLY_CHUNK, CustomerState, n_chunks

if TYPE_CHECKING:
    from loyaltysim.engine.params import RuleParams

__all__ = ["init_population", "interact", "tally", "transition"]

N_TALLY = len(Tally)
N_SUMS = len(Sum)


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
    persona_table: np.ndarray,
    stage_cum: np.ndarray,
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
        log_a = _log_gamma(k_prop, i, persona_table[m, PersonaColumn.CHURN_A])
        log_b = _log_gamma(k_prop_b, i, persona_table[m, PersonaColumn.CHURN_B])
        base_hazard[i] = r.base_hazard(log_a, log_b)
        expectation[i] = p.population_initial_expectation
        loyalty[i] = r.initial_loyalty(draw(k_loy, i), p)
        frustration[i] = 0.0
        neighbourhood[i] = 0
        if draw(k_cust, i) < p.population_initial_customers:
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
    persona_table: np.ndarray,
    p: RuleParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: each customer uses touchpoints a Poisson number of times, judges each use and reacts.

    After each interaction the customer updates expectation, loyalty, frustration and stage, and may decide to
    tell others (the last salient experience of the step is what is told). The number of interactions is
    Poisson(``visit_rate``), ``none_chance`` = exp(-visit_rate). ``levels``: one row per touchpoint (`Level`
    columns); ``persona_table``: one row per persona (`PersonaColumn` columns); the rule is `rules.interaction`.
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
    chunks = n_chunks(n)
    uses = np.zeros((chunks, levels.shape[0]), np.int64)
    effort_sums = np.zeros(chunks, np.float64)
    cum = levels[:, Level.CUMULATIVE_SHARE]
    for c in prange(chunks):
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
                    persona_table[m],
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
        new_loyalty, new_expectation = r.hear(float(loyalty[i]), float(expectation[i]), float(heard[i]), p)
        loyalty[i] = new_loyalty
        expectation[i] = new_expectation
        hazard = r.churn_hazard(float(base_hazard[i]), float(loyalty[i]), float(frustration[i]), price, p)
        if r.churns(draw(keys[Purpose.CHURN], i), hazard, p.months):
            stage[i] = CHURNED
            flags[i] |= np.uint8(LEFT)


@njit(parallel=True, cache=True)
def tally(
    st: CustomerState, n_personas: int, keys: np.ndarray, scale_key: np.uint64, p: RuleParams
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 4: per-chunk counts for the step's outputs, the answers to the NPS question among them.

    Each customer answers from loyalty, a personal scale use drawn once from ``scale_key`` (the same at every
    step) and the step's own noise (``keys[Purpose.ANSWER]``): `rules.recommend_score`.

    Returns ``counts`` (chunks x [`N_STATES` stage codes x personas | `Tally` slots]) and ``sums`` (chunks x `Sum`
    slots, over customers).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    n = stage.shape[0]
    chunks = n_chunks(n)
    extra = N_STATES * n_personas
    counts = np.zeros((chunks, extra + N_TALLY), np.int64)
    sums = np.zeros((chunks, N_SUMS), np.float64)
    for c in prange(chunks):
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
            s1, s2, s3 = draw3(scale_key, i, 0)
            a1, a2, a3 = draw3(keys[Purpose.ANSWER], i, 0)
            score = r.recommend_score(float(loyalty[i]), r.bell(s1, s2, s3), r.bell(a1, a2, a3), p)
            if score >= r.PROMOTER_MIN:
                counts[c, extra + Tally.PROMOTERS] += 1
            elif score <= r.DETRACTOR_MAX:
                counts[c, extra + Tally.DETRACTORS] += 1
            if f & COHORT:
                counts[c, extra + Tally.COHORT] += 1
            sums[c, Sum.LOYALTY] += loyalty[i]
            sums[c, Sum.EXPECTATION] += expectation[i]
    return counts, sums
