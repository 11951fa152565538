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
from loyaltysim.rng import Purpose, draw, draw_at, stream_key

__all__ = [
    "CustomerState",
    "new_state",
    "init_population",
    "interact",
    "listen",
    "listen_mean_field",
    "transition",
    "tally",
    "TALLY_CHUNK",
]

TALLY_CHUNK = 16384
"""Customers per tally chunk: partial sums are fixed per chunk, so totals do not depend on threads."""


class CustomerState(NamedTuple):
    """Structure-of-arrays state of every person in the market (index = customer id)."""

    stage: np.ndarray  # int8: 0 prospect, 1-6 CX Spectrum stage, 7 churned
    persona: np.ndarray  # int8
    flags: np.ndarray  # uint8: rules.ACTIVE | SPOKE_* | ADOPTED | LEFT | COHORT
    last_touchpoint: np.ndarray  # int8: touchpoint of this step's interaction, -1 for none
    loyalty: np.ndarray  # float32 in [0, 1]
    expectation: np.ndarray  # float32 in [0, 1]
    frustration: np.ndarray  # float32: remembered frustrating experiences
    base_hazard: np.ndarray  # float32: -log(1 - theta), theta ~ Beta(a, b) of the persona
    last_effort: np.ndarray  # float32: effort of this step's interaction
    influence: np.ndarray  # float32: share of neighbours who are customers
    heard: np.ndarray  # float32: net word of mouth heard this step, per neighbour


def new_state(n: int) -> CustomerState:
    """Allocate the state of ``n`` people (about 31 bytes each)."""
    i1, f4 = np.int8, np.float32
    return CustomerState(
        np.zeros(n, i1),
        np.zeros(n, i1),
        np.zeros(n, np.uint8),
        np.full(n, -1, i1),
        np.zeros(n, f4),
        np.zeros(n, f4),
        np.zeros(n, f4),
        np.zeros(n, f4),
        np.zeros(n, f4),
        np.zeros(n, f4),
        np.zeros(n, f4),
    )


@njit(cache=True)
def _gamma(key, i, shape):
    """Gamma(shape, 1) variate by Marsaglia & Tsang (2000), from counter draws (sub-index = attempt)."""
    boost = 1.0
    if shape < 1.0:
        boost = draw_at(key, i, 0) ** (1.0 / shape)
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
            return d * v * boost
    return d * boost


@njit(parallel=True, cache=True)
def init_population(st, seed, persona_cum, persona_ab, stage_cum, initial_customers, p):
    """Draw every person's persona, churn propensity, starting stage and loyalty from the seed alone."""
    stage = st.stage
    persona = st.persona
    flags = st.flags
    last_touchpoint = st.last_touchpoint
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    base_hazard = st.base_hazard
    k_cust = stream_key(seed, -1, Purpose.INIT_CUSTOMER)
    k_stage = stream_key(seed, -1, Purpose.INIT_STAGE)
    k_pers = stream_key(seed, -1, Purpose.INIT_PERSONA)
    k_loy = stream_key(seed, -1, Purpose.INIT_LOYALTY)
    k_prop = stream_key(seed, -1, Purpose.INIT_PROPENSITY)
    for i in prange(stage.shape[0]):
        m = r.choose_touchpoint(draw(k_pers, i), persona_cum)
        persona[i] = m
        ga = _gamma(k_prop, i, persona_ab[m, 0])
        gb = _gamma(k_prop, i + stage.shape[0], persona_ab[m, 1])
        theta = min(ga / (ga + gb), 1.0 - 1e-12)
        base_hazard[i] = -np.log1p(-theta)
        expectation[i] = p.initial_expectation
        loyalty[i] = r.clip01(p.initial_loyalty + p.loyalty_spread * (2.0 * draw(k_loy, i) - 1.0))
        last_touchpoint[i] = -1
        frustration[i] = 0.0
        if draw(k_cust, i) < initial_customers:
            stage[i] = 1 + r.choose_touchpoint(draw(k_stage, i), stage_cum)
            flags[i] = r.COHORT | r.ACTIVE
        else:
            stage[i] = r.PROSPECT
            flags[i] = 0


@njit(parallel=True, cache=True)
def interact(st, keys, levels, visit_prob, persona_tab, p):
    """Phase 1: each customer may use one touchpoint, judges it, updates expectation, loyalty, frustration and
    stage, and decides whether to tell others. ``levels`` rows: cumulative visit share, fulfilment, effort,
    empathy, personalization; ``persona_tab`` rows: effort and emotion sensitivity."""
    stage = st.stage
    persona = st.persona
    flags = st.flags
    last_touchpoint = st.last_touchpoint
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    last_effort = st.last_effort
    cum = levels[:, 0]
    for i in prange(stage.shape[0]):
        s = stage[i]
        flags[i] &= np.uint8(~r.STEP_BITS & 0xFF)
        last_touchpoint[i] = -1
        if s == r.PROSPECT or s == r.CHURNED:
            continue
        frustration[i] *= p.frustration_decay
        signal = r.ACTIVE
        if draw(keys[Purpose.VISIT], i) < visit_prob:
            k = r.choose_touchpoint(draw(keys[Purpose.CHANNEL], i), cum)
            need = draw(keys[Purpose.NEED], i) < levels[k, 1]
            effort = r.realized_effort(levels[k, 2], draw(keys[Purpose.EFFORT], i), p.effort_noise)
            feel = r.realized_feel(levels[k, 3], levels[k, 4], draw(keys[Purpose.FEEL], i), p)
            m = persona[i]
            quality, ease, felt, frustrating = r.perceive(need, effort, feel, persona_tab[m, 0], persona_tab[m, 1], p)
            expected = float(expectation[i])
            value = r.disconfirmation(quality, expected, p.loss_aversion)
            loyalty[i] = r.adapt(float(loyalty[i]), r.satisfaction(value, s, p), p.loyalty_learning)
            expectation[i] = r.adapt(expected, r.expectation_target(quality, p), p.expectation_learning)
            if frustrating:
                frustration[i] += 1.0
            meets = r.meets_stage(s, need, quality - expected, felt, ease, levels[k, 4], levels[k, 3], p)
            stage[i] = r.next_stage(s, meets, value, draw(keys[Purpose.STAGE], i), p)
            signal |= r.speak(value, persona_tab[m, 1], draw(keys[Purpose.SPEAK], i), p)
            last_touchpoint[i] = k
            last_effort[i] = effort
        flags[i] |= np.uint8(signal)


@njit(parallel=True, cache=True)
def listen(st, indptr, indices, keys, p):
    """Phase 2: each person counts neighbours who are customers and hears their word of mouth (pull, so no
    two threads write the same place). Each speaking neighbour reaches each listener with its own chance."""
    stage = st.stage
    flags = st.flags
    influence = st.influence
    heard = st.heard
    key = keys[Purpose.TELL]
    for i in prange(stage.shape[0]):
        if stage[i] == r.CHURNED:
            continue
        active = 0.0
        pos = 0.0
        neg = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            f = flags[j]
            if f & r.ACTIVE:
                active += 1.0
                if f & r.SPOKE_POSITIVE:
                    if draw_at(key, i, j) < p.positive_reach:
                        pos += 1.0
                elif f & r.SPOKE_NEGATIVE:
                    if draw_at(key, i, j) < p.negative_reach:
                        neg += 1.0
        influence[i], heard[i] = r.wom_influence(active, pos, neg, float(indptr[i + 1] - indptr[i]), p)


@njit(cache=True)
def count_signals(flags):
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
def listen_mean_field(st, n_active, n_pos, n_neg, p):
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
def transition(st, keys, marketing, price, p):
    """Phase 3: prospects adopt (Bass with word of mouth); customers take in word of mouth, then may churn."""
    stage = st.stage
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    base_hazard = st.base_hazard
    influence = st.influence
    heard = st.heard
    for i in prange(stage.shape[0]):
        s = stage[i]
        if s == r.CHURNED:
            continue
        h = float(heard[i])
        if s == r.PROSPECT:
            prob = r.adoption_probability(marketing, float(influence[i]), h, p)
            if draw(keys[Purpose.ADOPT], i) < prob:
                stage[i] = 1
                flags[i] |= np.uint8(r.ADOPTED)
                expectation[i] = r.expectation_after_hearing(p.initial_expectation, h, p)
                frustration[i] = 0.0
            continue
        loyalty[i] = r.loyalty_after_hearing(float(loyalty[i]), h, p)
        expectation[i] = r.expectation_after_hearing(float(expectation[i]), h, p)
        hazard = r.churn_hazard(float(base_hazard[i]), float(loyalty[i]), float(frustration[i]), price, p)
        if hazard > 0.0 and draw(keys[Purpose.CHURN], i) < r.hazard_probability(hazard, p.months):
            stage[i] = r.CHURNED
            flags[i] |= np.uint8(r.LEFT)


@njit(parallel=True, cache=True)
def tally(st, n_touchpoints, n_personas):
    """Phase 4: per-chunk counts for the step's outputs.

    Returns ``counts`` (chunks x [8 stages x personas | touchpoint interactions | promoters, detractors,
    positive speakers, negative speakers, adopted, left, cohort still active]) and ``sums`` (chunks x [effort,
    loyalty, expectation] over customers / interactions).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    last_touchpoint = st.last_touchpoint
    loyalty = st.loyalty
    expectation = st.expectation
    last_effort = st.last_effort
    n = stage.shape[0]
    n_chunks = (n + TALLY_CHUNK - 1) // TALLY_CHUNK
    base = 8 * n_personas
    extra = base + n_touchpoints
    counts = np.zeros((n_chunks, extra + 7), np.int64)
    sums = np.zeros((n_chunks, 3), np.float64)
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
            k = last_touchpoint[i]
            if k >= 0:  # this step's interaction, also of a customer who then left
                counts[c, base + k] += 1
                sums[c, 0] += last_effort[i]
            if s == r.PROSPECT or s == r.CHURNED:
                continue
            score = r.recommend_score(loyalty[i])
            if score >= 9:
                counts[c, extra] += 1
            elif score <= 6:
                counts[c, extra + 1] += 1
            if f & r.COHORT:
                counts[c, extra + 6] += 1
            sums[c, 1] += loyalty[i]
            sums[c, 2] += expectation[i]
    return counts, sums
