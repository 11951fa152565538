"""Array kernels of phases 1, 3 and 4 (and the initial population): one phase over all customers, in parallel.

Phase 2, word of mouth, is in `loyaltysim.engine.listen`. Kernels import only numpy, numba, the layout, the state,
the rng and the scalar rules; they take the state arrays, a few tables and the rule parameters, loop over
customers, call the rules and store what they return, in place (the interact, transition and tally kernels return
their per-chunk counts and sums). A customer's fixed traits (stage thresholds, effort tolerance, willingness to pay)
are drawn again whenever they are needed from the customer's own key (``trait_key``), so they take no memory.
All randomness comes from `loyaltysim.engine.rng` keyed by (seed, step, customer, purpose), so the thread count
never changes a result. The module is kept whole, a little over 400 lines: every phase's loop side by side, with
the two small kernels the survey asks (`answers`, `willingness`) beside the tally whose answer rule they share.
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
    DESIRES,
    EXPECTATIONS,
    LEFT,
    N_STATES,
    NEEDS,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
    STEP_BITS,
    WON_BACK,
    Diary,
    Level,
    PersonaColumn,
    Sum,
    Tally,
)
from loyaltysim.engine.prefetch import prefetch
from loyaltysim.engine.rng import Purpose, customer_key, draw, draw3, draw3_of, draw6, draw_at, stream_key
from loyaltysim.engine.state import TALLY_CHUNK, CustomerState, n_chunks

if TYPE_CHECKING:
    from loyaltysim.engine.params import RuleParams

__all__ = ["answers", "init_population", "interact", "settle", "tally", "transition", "willingness"]

AHEAD = 32
"""How many people ahead a kernel asks for the scattered memory it will need (`loyaltysim.engine.prefetch`)."""
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
    """Draw every person's persona, churn propensity, starting stage and loyalty from the seed alone.

    Starting customers are spread over the customer stages (desires and deeper) by ``stage_cum``; prospects start
    at expectations with chance ``population.initial_considering``, else at needs.
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    exposure = st.exposure
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
        for k in range(expectation.shape[1]):
            expectation[i, k] = p.population_initial_expectation
        loyalty[i] = r.initial_loyalty(draw(k_loy, i), p)
        frustration[i] = 0.0
        exposure[i] = 0.0
        neighbourhood[i] = 0
        u_stage = draw(k_stage, i)
        if draw(k_cust, i) < p.population_initial_customers:
            stage[i] = DESIRES + r.choose(u_stage, stage_cum)
            flags[i] = COHORT | ACTIVE
        else:
            stage[i] = EXPECTATIONS if u_stage < p.population_initial_considering else NEEDS
            flags[i] = 0


@njit(cache=True, inline="always")
def _customers(stage: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, int]:
    """Ids of the customers among people ``lo`` to ``hi`` and how many there are, listed without a branch.

    A loop over them then takes predictable branches (customers and prospects are interleaved by id).
    """
    ids = np.empty(hi - lo + 1, np.int32)
    n = 0
    for i in range(lo, hi):
        ids[n] = i  # written always, kept when it counts
        n += r.is_customer(stage[i])
    return ids, n


@njit(parallel=True, cache=True)
def interact(
    st: CustomerState,
    keys: np.ndarray,
    trait_key: np.uint64,
    levels: np.ndarray,
    visit_rate: float,
    none_chance: float,
    price: float,
    persona_table: np.ndarray,
    p: RuleParams,
    diary: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase 1: each customer uses touchpoints a Poisson number of times, judges each use and reacts.

    After each interaction the customer updates loyalty, the expectation of that touchpoint and the stage, may count
    it as frustrating and may tell others about it (`rules.interaction`); the step's frustrating interactions enter
    the memory of frustration (`rules.frustration_memory`) and its tellings are counted. The number of interactions
    is Poisson(``visit_rate``), ``none_chance`` = exp(-visit_rate). ``levels``: one row per touchpoint (`Level`
    columns); ``persona_table``: one row per persona (`PersonaColumn` columns). ``diary``: `Diary` rows x people, to
    which each interaction is added (zero it before the step), or no columns to keep none. Returns per-chunk
    interactions by
    touchpoint, summed effort and recovery contacts by touchpoint (fixed chunks: totals do not depend on the
    number of threads).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    frustration = st.frustration
    exposure = st.exposure
    told_positive = st.told_positive
    told_negative = st.told_negative
    n = stage.shape[0]
    chunks = n_chunks(n)
    uses = np.zeros((chunks, levels.shape[0]), np.int64)
    recoveries = np.zeros((chunks, levels.shape[0]), np.int64)
    effort_sums = np.zeros(chunks, np.float64)
    cum = levels[:, Level.CUMULATIVE_SHARE]
    record = diary.shape[1] > 0
    touchpoints = expectation.shape[1]
    flat_expectation = expectation.reshape(expectation.size)
    clear = np.uint8(~STEP_BITS & 0xFF)
    for c in prange(chunks):
        effort_sum = 0.0
        lo = c * TALLY_CHUNK
        hi = min(n, lo + TALLY_CHUNK)
        for i in range(lo, hi):
            flags[i] &= clear
            told_positive[i] = 0
            told_negative[i] = 0
        customers, n_customers = _customers(stage, lo, hi)
        for q in range(n_customers):
            if q + AHEAD < n_customers:  # the touchpoint's expectation: a line that may not be in cache
                prefetch(flat_expectation, customers[q + AHEAD] * touchpoints)
            i = customers[q]
            s = stage[i]
            visits = r.visit_count(draw(keys[Purpose.VISIT], i), visit_rate, none_chance)
            new = 0
            n_pos = 0
            n_neg = 0
            if visits > 0:
                own = draw6(trait_key, i)
                traits = r.customer_traits(own, p)
                pain = r.price_pain(price, r.willingness_to_pay(own[5], float(loyalty[i]), p), p)
                m = persona[i]
                own_channel = customer_key(keys[Purpose.CHANNEL], i)  # each visit's triples: one mix each
                own_feel = customer_key(keys[Purpose.FEEL], i)
                own_recover = customer_key(keys[Purpose.RECOVER], i)
                for v in range(visits):
                    u_channel, u_need, u_effort = draw3_of(own_channel, v)
                    u_empathy, u_personal, u_stage = draw3_of(own_feel, v)
                    u_speak, u_recover, _ = draw3_of(own_recover, v)
                    k = r.choose(u_channel, cum)
                    expected = float(expectation[i, k])
                    (
                        s,
                        new_loyalty,
                        new_expectation,
                        frustrating,
                        told,
                        effort,
                        contact,
                        met,
                        kind,
                        ease,
                        felt,
                        tailored,
                        quality,
                    ) = r.interaction(
                        s,
                        float(loyalty[i]),
                        expected,
                        levels[k],
                        persona_table[m],
                        traits,
                        pain,
                        (u_need, u_effort, u_empathy, u_personal, u_stage, u_speak, u_recover),
                        p,
                    )
                    loyalty[i] = new_loyalty
                    expectation[i, k] = new_expectation
                    new += frustrating
                    n_pos += told == r.POSITIVE
                    n_neg += told == r.NEGATIVE
                    uses[c, k] += 1
                    recoveries[c, k] += contact
                    effort_sum += effort
                    if record:
                        diary[Diary.USES, i] += 1.0
                        diary[Diary.MET, i] += met
                        diary[Diary.FRUSTRATING, i] += frustrating
                        diary[Diary.BAD, i] += kind == r.NEGATIVE
                        diary[Diary.GOOD, i] += kind == r.POSITIVE
                        diary[Diary.TAILORED, i] += tailored
                        diary[Diary.EASE, i] += ease
                        diary[Diary.FEEL, i] += felt
                        diary[Diary.QUALITY, i] += quality
                        diary[Diary.EXPECTED, i] += expected
            remembered, mean = r.frustration_memory(float(frustration[i]), new, p)
            frustration[i] = remembered
            exposure[i] = mean
            told_positive[i] = min(n_pos, 255)
            told_negative[i] = min(n_neg, 255)
            stage[i] = s
            flags[i] |= np.uint8(ACTIVE | (SPOKE_POSITIVE if n_pos else 0) | (SPOKE_NEGATIVE if n_neg else 0))
        effort_sums[c] = effort_sum
    return uses, effort_sums, recoveries


@njit(cache=True)
def _transition_caps(marketing: float, price: float, p: RuleParams) -> tuple[float, float, float]:
    """Bounds that let `_transition_chunk` decide most draws at once, and the chance of coming back.

    Influence is at most 1, the attitude's pull is largest at loyalty 1 (attitude_effect >= 0) and the price's pain
    smallest at the highest willingness to pay, so no prospect's chance exceeds these caps (the margin covers
    rounding; tests/test_rules.py checks the bounds): a draw above one decides without the rule's exponentials.
    """
    consider_cap = r.consideration_probability(1.0, 1.0, p) * r.MARGIN
    least_pain = r.price_pain(price, r.willingness_to_pay(1.0, 1.0, p), p)
    adopt_cap = r.adoption_probability(marketing, 1.0, 1.0, least_pain, 1.0, p) * r.MARGIN
    return consider_cap, adopt_cap, r.hazard_probability(p.churn_win_back, p.months)


@njit(cache=True, inline="always")
def _adopt(st, i, u, share, trait_key, marketing, price, adopt_cap, p):
    """A prospect at expectations buys by the draw ``u`` in ``share`` of a step (`rules.adoption_probability`)."""
    if u < adopt_cap:
        loyalty = float(st.loyalty[i])
        influence = float(st.influence[i])
        pain = r.price_pain(price, r.willingness_to_pay(draw6(trait_key, i)[5], loyalty, p), p)
        if u < r.adoption_probability(marketing, influence, loyalty, pain, share, p):
            new_stage, new_frustration = r.adopt()
            st.stage[i] = new_stage
            st.frustration[i] = new_frustration
            st.flags[i] |= np.uint8(ADOPTED)


@njit(cache=True)
def _transition_chunk(
    st: CustomerState,
    lo: int,
    hi: int,
    keys: np.ndarray,
    trait_key: np.uint64,
    marketing: float,
    price: float,
    caps: tuple[float, float, float],
    p: RuleParams,
) -> float:
    """Phase 3 for people ``lo`` to ``hi``; returns their churners counted by the competitor's share of the hazard."""
    stage = st.stage
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    base_hazard = st.base_hazard
    exposure = st.exposure
    influence = st.influence
    heard = st.heard
    consider_cap, adopt_cap, come_back = caps
    k_win_back = keys[Purpose.WIN_BACK]
    k_adopt = keys[Purpose.ADOPT]
    k_churn = keys[Purpose.CHURN]
    touchpoints = expectation.shape[1]
    flat_expectation = expectation.reshape(expectation.size)
    lost_sum = 0.0
    for i in range(lo, hi):
        ahead = i + AHEAD
        if ahead < hi and heard[ahead] != 0.0 and stage[ahead] == EXPECTATIONS:  # its expectations: a cache miss
            prefetch(flat_expectation, ahead * touchpoints)
        s = stage[i]
        if s == CHURNED:
            if come_back > 0.0 and draw(k_win_back, i) < come_back:
                stage[i] = EXPECTATIONS
                flags[i] |= np.uint8(WON_BACK)
            continue
        h = float(heard[i])
        if h != 0.0:
            loyalty[i] = r.hear_loyalty(float(loyalty[i]), h, p)
        if r.is_prospect(s):
            if s == EXPECTATIONS and h != 0.0:  # considering the firm: forming expectations of it
                for k in range(touchpoints):
                    expectation[i, k] = r.hear_as_prospect(float(expectation[i, k]), h, p)
            u = draw(k_adopt, i)
            share = 1.0
            if s == NEEDS:
                if u >= consider_cap or u >= r.consideration_probability(float(influence[i]), float(loyalty[i]), p):
                    continue
                stage[i] = EXPECTATIONS  # and may buy in the rest of the step, on a draw of its own
                share = 0.5
                u = draw_at(k_adopt, i, 0)
            _adopt(st, i, u, share, trait_key, marketing, price, adopt_cap, p)
            continue
        u = draw(k_churn, i)
        at_risk = r.is_at_risk(s)
        bound = r.churn_bound(float(base_hazard[i]), float(loyalty[i]), float(exposure[i]), at_risk, price, p)
        if u >= bound * p.months * r.MARGIN:  # decided without the exponential (`rules.churn_bound`)
            continue
        wtp = r.willingness_to_pay(draw6(trait_key, i)[5], float(loyalty[i]), p)
        leaves, share = r.churn_decision(
            u,
            float(base_hazard[i]),
            float(loyalty[i]),
            float(exposure[i]),
            r.price_pain(price, wtp, p),
            at_risk,
            price,
            p,
        )
        if leaves:
            stage[i] = CHURNED
            flags[i] = np.uint8((flags[i] | LEFT) & ~COHORT & 0xFF)
            lost_sum += share
    return lost_sum


@njit(parallel=True, cache=True)
def transition(
    st: CustomerState, keys: np.ndarray, trait_key: np.uint64, marketing: float, price: float, p: RuleParams
) -> np.ndarray:
    """Phase 3: former customers may come back; the others take in word of mouth; prospects buy; customers churn.

    Prospects at needs may start considering the firm, those at expectations may buy; customers may churn.

    Returns per chunk the churners counted by the competitor's share of their hazard (churn lost to the rival).
    """
    n = st.stage.shape[0]
    chunks = n_chunks(n)
    lost = np.zeros(chunks, np.float64)
    caps = _transition_caps(marketing, price, p)
    for c in prange(chunks):
        lost[c] = _transition_chunk(
            st, c * TALLY_CHUNK, min(n, (c + 1) * TALLY_CHUNK), keys, trait_key, marketing, price, caps, p
        )
    return lost


@njit(cache=True, inline="always")
def _answer(scale_key, answer_key, i, loyalty, p):
    """Customer ``i``'s 0-10 answer to the NPS question: its own scale use and the occasion's noise."""
    s1, s2, s3 = draw3(scale_key, i, 0)
    a1, a2, a3 = draw3(answer_key, i, 0)
    return r.recommend_score(loyalty, r.bell(s1, s2, s3), r.bell(a1, a2, a3), p)


@njit(parallel=True, cache=True)
def answers(st: CustomerState, keys: np.ndarray, scale_key: np.uint64, p: RuleParams) -> np.ndarray:
    """Every customer's 0-10 answer to the NPS question this step (-1 for people who are not customers).

    The same answers `tally` counts as promoters and detractors (the same draws).
    """
    stage = st.stage
    loyalty = st.loyalty
    out = np.full(stage.shape[0], -1, np.int8)
    for i in prange(stage.shape[0]):
        if r.is_customer(stage[i]):
            out[i] = _answer(scale_key, keys[Purpose.ANSWER], i, float(loyalty[i]), p)
    return out


@njit(parallel=True, cache=True)
def willingness(st: CustomerState, trait_key: np.uint64, p: RuleParams) -> np.ndarray:
    """Everyone's willingness to pay now (`rules.willingness_to_pay`, from the customer's own trait draw)."""
    loyalty = st.loyalty
    out = np.empty(loyalty.shape[0], np.float32)
    for i in prange(loyalty.shape[0]):
        out[i] = r.willingness_to_pay(draw6(trait_key, i)[5], float(loyalty[i]), p)
    return out


@njit(cache=True)
def _tally_chunk(
    st: CustomerState,
    lo: int,
    hi: int,
    n_personas: int,
    answer_key: np.uint64,
    scale_key: np.uint64,
    weights: np.ndarray,
    p: RuleParams,
    counts: np.ndarray,
    sums: np.ndarray,
) -> None:
    """Phase 4 for people ``lo`` to ``hi``: their counts and sums into one chunk's rows (`tally`).

    Two loops, everyone then the customers (`_customers`), each with its counts in local variables: two small loops
    with predictable branches run faster than one that does both (the chunk stays in cache between them).
    """
    stage = st.stage
    persona = st.persona
    flags = st.flags
    loyalty = st.loyalty
    expectation = st.expectation
    told_positive = st.told_positive
    told_negative = st.told_negative
    extra = N_STATES * n_personas
    by_stage = np.zeros(extra, np.int64)
    adopted = 0
    left = 0
    won_back = 0
    told_good = 0
    told_bad = 0
    for i in range(lo, hi):
        by_stage[stage[i] * n_personas + persona[i]] += 1
        f = flags[i]
        adopted += (f & ADOPTED) != 0
        left += (f & LEFT) != 0
        won_back += (f & WON_BACK) != 0
        told_good += told_positive[i]
        told_bad += told_negative[i]
    customers, n_customers = _customers(stage, lo, hi)
    promoters = 0
    detractors = 0
    cohort = 0
    loyalty_sum = 0.0
    expectation_sum = 0.0
    for q in range(n_customers):
        i = customers[q]
        score = _answer(scale_key, answer_key, i, float(loyalty[i]), p)
        promoters += score >= r.PROMOTER_MIN
        detractors += score <= r.DETRACTOR_MAX
        cohort += (flags[i] & COHORT) != 0
        loyalty_sum += loyalty[i]
        x = 0.0
        for k in range(weights.shape[0]):
            x += weights[k] * expectation[i, k]
        expectation_sum += x
    for j in range(extra):
        counts[j] = by_stage[j]
    counts[extra + Tally.ADOPTED] = adopted
    counts[extra + Tally.LEFT] = left
    counts[extra + Tally.WON_BACK] = won_back
    counts[extra + Tally.WOM_POSITIVE] = told_good
    counts[extra + Tally.WOM_NEGATIVE] = told_bad
    counts[extra + Tally.PROMOTERS] = promoters
    counts[extra + Tally.DETRACTORS] = detractors
    counts[extra + Tally.COHORT] = cohort
    sums[Sum.LOYALTY] = loyalty_sum
    sums[Sum.EXPECTATION] = expectation_sum


@njit(parallel=True, cache=True)
def tally(
    st: CustomerState,
    n_personas: int,
    keys: np.ndarray,
    scale_key: np.uint64,
    weights: np.ndarray,
    p: RuleParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase 4: per-chunk counts for the step's outputs, the answers to the NPS question among them.

    Each customer answers from loyalty, a personal scale use drawn once from ``scale_key`` (the same at every
    step) and the step's own noise (``keys[Purpose.ANSWER]``): `rules.recommend_score`. ``weights``: the step's
    share of visits by touchpoint, for the mean expectation.

    Returns ``counts`` (chunks x [`N_STATES` stage codes x personas | `Tally` slots]) and ``sums`` (chunks x `Sum`
    slots, over customers).
    """
    n = st.stage.shape[0]
    chunks = n_chunks(n)
    counts = np.zeros((chunks, N_STATES * n_personas + N_TALLY), np.int64)
    sums = np.zeros((chunks, N_SUMS), np.float64)
    answer_key = keys[Purpose.ANSWER]
    for c in prange(chunks):
        lo = c * TALLY_CHUNK
        _tally_chunk(
            st, lo, min(n, lo + TALLY_CHUNK), n_personas, answer_key, scale_key, weights, p, counts[c], sums[c]
        )
    return counts, sums


@njit(parallel=True, cache=True)
def settle(
    st: CustomerState,
    keys: np.ndarray,
    trait_key: np.uint64,
    marketing: float,
    price: float,
    n_personas: int,
    scale_key: np.uint64,
    weights: np.ndarray,
    p: RuleParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phases 3 and 4 in one pass: `transition` then `tally`, chunk by chunk while the chunk is in cache.

    The same numbers as calling the two kernels one after the other (each chunk's tally reads only its own people,
    after their transitions). Returns (lost, counts, sums) as the two kernels do.
    """
    n = st.stage.shape[0]
    chunks = n_chunks(n)
    lost = np.zeros(chunks, np.float64)
    counts = np.zeros((chunks, N_STATES * n_personas + N_TALLY), np.int64)
    sums = np.zeros((chunks, N_SUMS), np.float64)
    caps = _transition_caps(marketing, price, p)
    answer_key = keys[Purpose.ANSWER]
    for c in prange(chunks):
        lo = c * TALLY_CHUNK
        hi = min(n, lo + TALLY_CHUNK)
        lost[c] = _transition_chunk(st, lo, hi, keys, trait_key, marketing, price, caps, p)
        _tally_chunk(st, lo, hi, n_personas, answer_key, scale_key, weights, p, counts[c], sums[c])
    return lost, counts, sums
