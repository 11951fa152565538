"""A plain, independent oracle of one step of every person, written from docs/model.md (section 7).

Nothing here comes from loyaltysim's rules, kernels, rng, plan or agents: the random numbers, the resolution of the
touchpoint levels and every rule are written again, in plain Python over plain lists, one person at a time (the
way stumpy's ``tests/naive.py`` re-implements its kernels). Only the `Scenario` object is read, for parameter
values. numpy is used only to read the state arrays and to round to float32 where the model stores a value.

Entry point: `oracle_step`.
"""

from __future__ import annotations

import math

import numpy as np

# Flag bits (docs/model.md, section 2).
ACTIVE = 1
SPOKE_POSITIVE = 2
SPOKE_NEGATIVE = 4
ADOPTED = 8
LEFT = 16
COHORT = 32
PER_STEP_BITS = ACTIVE | SPOKE_POSITIVE | SPOKE_NEGATIVE | ADOPTED | LEFT

PROSPECT = 0
NEEDS = 1
EMPATHY = 6
CHURNED = 7

MONTH_DAYS = 365.25 / 12

# Purposes of the random streams (docs/model.md, section 7.18; numbers as in the project).
VISIT = 1
CHANNEL = 2
FEEL = 5
TELL = 8
ADOPT = 9
CHURN = 10

# --- counter-based random numbers: SplitMix64 finalizer on Python ints, arithmetic modulo 2**64 ---------------

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix(z):
    """SplitMix64 finalizer of a 64-bit integer."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def stream_key(seed, step, purpose):
    """Key of the stream of one (seed, step, purpose)."""
    k = mix(seed * GOLDEN + purpose)
    return mix(k + (step + 1) * GOLDEN)


def to_unit53(z):
    """Top 53 bits of a 64-bit integer as a uniform number in [0, 1)."""
    return (z >> 11) / 2.0**53


def draw(key, i):
    """The uniform of person i in a stream."""
    return to_unit53(mix(key + i * GOLDEN))


def draw_at(key, i, slot):
    """The uniform of person i and a second index (here: the speaker heard by listener i)."""
    return to_unit53(mix(mix(key + i * GOLDEN) + (slot + 1) * GOLDEN))


def draw3(key, i, v):
    """Three 21-bit uniforms of the v-th interaction of person i: the low, middle and high 21-bit fields."""
    z = mix(key + i * GOLDEN)
    if v > 0:
        z = mix(z + (v + 1) * GOLDEN)
    field = (1 << 21) - 1
    scale = 2.0**-21
    return (z & field) * scale, ((z >> 21) & field) * scale, ((z >> 42) & field) * scale


# --- small helpers ---------------------------------------------------------------------------------------------


def f32(x):
    """The value as stored in a float32 state array."""
    return float(np.float32(x))


def clip(x, lo=0.0, hi=1.0):
    return min(hi, max(lo, x))


# --- the step's touchpoint levels and market levers (docs/model.md, section 7.17) --------------------------------


def change_value(change, value, lo, hi):
    """Apply one intervention change (set, scale or add) and clip to its range."""
    if change.set is not None:
        new = change.set
    elif change.scale is not None:
        new = value * change.scale
    else:
        new = value + change.add
    return clip(new, lo, hi)


def levels_of_step(scenario, step):
    """Touchpoint levels and market levers in force at ``step``, after the interventions in force that step."""
    names = list(scenario.touchpoints)
    levels = {}
    for name in names:
        tp = scenario.touchpoints[name]
        levels[name] = {
            "visits_per_month": tp.visits_per_month,
            "fulfilment": tp.fulfilment,
            "effort": tp.effort,
            "empathy": tp.empathy,
            "personalization": tp.personalization,
        }
    marketing = scenario.market.marketing
    price = scenario.market.price
    start_of_step = (step - 1) * scenario.time.step_days
    for iv in scenario.interventions.values():
        if iv.start_day > start_of_step:
            continue
        targets = names if iv.touchpoint == "all" else [iv.touchpoint]
        for lever in ("visits_per_month", "fulfilment", "effort", "empathy", "personalization"):
            change = getattr(iv, lever)
            if change is None:
                continue
            upper = 100.0 if lever == "visits_per_month" else 1.0
            for name in targets:
                levels[name][lever] = change_value(change, levels[name][lever], 0.0, upper)
        if iv.marketing is not None:
            marketing = change_value(iv.marketing, marketing, 0.0, 1.0)
        if iv.price is not None:
            price = change_value(iv.price, price, 1e-6, 10.0)
    return [levels[name] for name in names], marketing, price


def cumulative_shares(weights):
    """Cumulative shares of a list of weights (the last one is 1); all 1 when the weights add up to 0."""
    running = []
    total = 0.0
    for w in weights:
        total += w
        running.append(total)
    if total <= 0.0:
        return [1.0] * len(weights)
    return [r / total for r in running]


def pick(u, cumulative):
    """First index whose cumulative share exceeds u (the last index otherwise)."""
    for k in range(len(cumulative) - 1):
        if u < cumulative[k]:
            return k
    return len(cumulative) - 1


# --- rules of one person (docs/model.md, sections 7.1-7.13) -----------------------------------------------------


def poisson_count(u, mean):
    """Smallest n with u < P(N <= n), N ~ Poisson(mean), by summing the probabilities in turn; at most 255."""
    n = 0
    term = math.exp(-mean)
    total = term
    while u >= total and n < 255:
        n += 1
        term = term * (mean / n)
        total = total + term
    return n


def judge(need_met, effort, feel, effort_sensitivity, emotion_sensitivity, b):
    """CX pyramid: (perceived quality, ease, felt emotion, frustrating)."""
    felt_effort = min(1.0, effort * effort_sensitivity)
    ease = 1.0 - felt_effort
    felt = min(1.0, feel * emotion_sensitivity)
    if need_met:
        quality = b.need_weight + b.ease_weight * ease + b.feel_weight * felt
    else:
        quality = 0.0
    frustrating = (not need_met) or felt_effort > b.effort_tolerance
    return quality, ease, felt, frustrating


def stage_is_met(stage, need_met, gap, felt, ease, tp, st):
    """Whether an interaction gives everything the stage and those below it ask for (table of 7.9)."""
    asks = [
        need_met,  # 1 needs
        gap >= 0.0,  # 2 expectations
        felt >= st.feel_threshold,  # 3 desires
        ease >= st.ease_threshold,  # 4 preferences
        tp["personalization"] >= st.personalization_threshold,  # 5 personalization
        tp["empathy"] >= st.empathy_threshold,  # 6 empathy
    ]
    return all(asks[:stage])


def move_stage(stage, met, value, u, st):
    if met:
        if stage < EMPATHY and u < st.advance_prob:
            return stage + 1
        return stage
    if value < 0.0 and stage > NEEDS and u < st.slip_prob:
        return stage - 1
    return stage


def story_told(value, emotion_sensitivity, u, w):
    """The word-of-mouth bit this interaction adds (0 if nothing is told)."""
    salience = value * emotion_sensitivity
    if salience > 0.0 and salience >= w.positive_salience:
        return SPOKE_POSITIVE if u < w.positive_share else 0
    if salience < 0.0 and salience <= -w.negative_salience and u < w.negative_share:
        return SPOKE_NEGATIVE
    return 0


def chance_per_step(per_month, months):
    """1 - (1 - p)^months for a monthly chance p."""
    if per_month >= 1.0:
        return 1.0
    if months == 1.0:
        return per_month
    return -math.expm1(months * math.log1p(-per_month))


def monthly_churn_hazard(scenario, base_hazard, loyalty, frustration, price):
    c, mk = scenario.churn, scenario.market
    if not c.enabled:
        return 0.0
    h = base_hazard
    if c.loyalty_effect != 0.0:
        h = h * math.exp(c.loyalty_effect * (c.loyalty_reference - loyalty))
    h = h + c.frustration_effect * frustration
    h = h + mk.competitor_pull * (1.0 - loyalty)
    h = h + mk.price_sensitivity * max(0.0, price - 1.0)
    return h


# --- the step ------------------------------------------------------------------------------------------------


def oracle_step(scenario, seed, step, state, indptr, indices, complete):
    """State of every person after ``step`` (1, 2, ...) of a run with ``seed``, from the state before it.

    ``state``: dict of arrays stage, persona, flags, loyalty, expectation, frustration, base_hazard, influence,
    heard (the snapshot before the step). ``indptr``, ``indices``: the network in CSR form (unused when
    ``complete``). Returns a dict of new arrays with the same keys (flags keep any bit above the model bits as
    given) plus ``interactions``, each person's number of interactions this step.
    """
    b, st, w = scenario.behaviour, scenario.stages, scenario.word_of_mouth
    months = scenario.time.step_days / MONTH_DAYS
    decay = 0.5 ** (scenario.time.step_days / b.frustration_half_life_days)
    personas = list(scenario.personas.values())

    stage = [int(x) for x in state["stage"]]
    persona = [int(x) for x in state["persona"]]
    flags = [int(x) for x in state["flags"]]
    loyalty = [float(x) for x in state["loyalty"]]
    expectation = [float(x) for x in state["expectation"]]
    frustration = [float(x) for x in state["frustration"]]
    base_hazard = [float(x) for x in state["base_hazard"]]
    influence = [float(x) for x in state["influence"]]
    heard = [float(x) for x in state["heard"]]
    n = len(stage)
    interactions = [0] * n

    tps, marketing, price = levels_of_step(scenario, step)
    shares = cumulative_shares([tp["visits_per_month"] for tp in tps])
    mean_visits = sum(tp["visits_per_month"] for tp in tps) * months
    k_visit = stream_key(seed, step, VISIT)
    k_channel = stream_key(seed, step, CHANNEL)
    k_feel = stream_key(seed, step, FEEL)
    k_tell = stream_key(seed, step, TELL)
    k_adopt = stream_key(seed, step, ADOPT)
    k_churn = stream_key(seed, step, CHURN)

    # (1) Interact.
    for i in range(n):
        flags[i] = flags[i] & ~PER_STEP_BITS
        if stage[i] == PROSPECT or stage[i] == CHURNED:
            continue
        frustration[i] = f32(frustration[i] * decay)
        me = personas[persona[i]]
        told_bit = 0
        visits = poisson_count(draw(k_visit, i), mean_visits)
        interactions[i] = visits
        for v in range(visits):
            u_channel, u_need, u_effort = draw3(k_channel, i, v)
            u_feel, u_stage, u_speak = draw3(k_feel, i, v)
            tp = tps[pick(u_channel, shares)]
            need_met = u_need < tp["fulfilment"]
            effort = clip(tp["effort"] + b.effort_noise * (2.0 * u_effort - 1.0))
            mood = b.empathy_share * tp["empathy"] + (1.0 - b.empathy_share) * tp["personalization"]
            feel = clip(mood + b.feel_noise * (2.0 * u_feel - 1.0))
            quality, ease, felt, frustrating = judge(
                need_met, effort, feel, me.effort_sensitivity, me.emotion_sensitivity, b
            )
            expected = expectation[i]
            gap = quality - expected
            value = gap if gap >= 0.0 else b.loss_aversion * gap
            bond = st.loyalty_bonus * (stage[i] - 1) / 5
            sat = clip(b.neutral_satisfaction + bond + b.satisfaction_sensitivity * value)
            loyalty[i] = f32(loyalty[i] + b.loyalty_learning * (sat - loyalty[i]))
            target = (1.0 - b.market_anchor) * quality + b.market_anchor * b.market_expectation
            expectation[i] = f32(expected + b.expectation_learning * (target - expected))
            if frustrating:
                frustration[i] = f32(frustration[i] + 1.0)
            met = stage_is_met(stage[i], need_met, gap, felt, ease, tp, st)
            stage[i] = move_stage(stage[i], met, value, u_stage, st)
            bit = story_told(value, me.emotion_sensitivity, u_speak, w)
            if bit:
                told_bit = bit
        flags[i] = flags[i] | ACTIVE | told_bit

    # (2) Listen: influence and net word of mouth, pulled from every neighbour.
    if complete:
        customers = sum(1 for f in flags if f & ACTIVE)
        praising = sum(1 for f in flags if f & ACTIVE and f & SPOKE_POSITIVE)
        complaining = sum(1 for f in flags if f & ACTIVE and f & SPOKE_NEGATIVE)
        others = n - 1
        for i in range(n):
            if stage[i] == CHURNED:
                continue
            if others <= 0:
                influence[i], heard[i] = 0.0, 0.0
                continue
            mine = flags[i] & ACTIVE
            my_praise = 1 if mine and flags[i] & SPOKE_POSITIVE else 0
            my_complaint = 1 if mine and flags[i] & SPOKE_NEGATIVE else 0
            expected_praise = w.positive_reach * (praising - my_praise)
            expected_complaints = w.negative_reach * (complaining - my_complaint)
            influence[i] = f32((customers - (1 if mine else 0)) / others)
            heard[i] = f32((w.positive_weight * expected_praise - w.negative_weight * expected_complaints) / others)
    else:
        for i in range(n):
            if stage[i] == CHURNED:
                continue
            neighbours = [int(j) for j in indices[int(indptr[i]) : int(indptr[i + 1])]]
            if not neighbours:
                influence[i], heard[i] = 0.0, 0.0
                continue
            customers = praise = complaints = 0
            for j in neighbours:
                if not flags[j] & ACTIVE:
                    continue
                customers += 1
                if flags[j] & SPOKE_POSITIVE:
                    if draw_at(k_tell, i, j) < w.positive_reach:
                        praise += 1
                elif flags[j] & SPOKE_NEGATIVE and draw_at(k_tell, i, j) < w.negative_reach:
                    complaints += 1
            d = len(neighbours)
            influence[i] = f32(customers / d)
            heard[i] = f32((w.positive_weight * praise - w.negative_weight * complaints) / d)

    # (3) Transition: prospects may adopt; customers take in word of mouth, then may churn.
    x0 = scenario.population.initial_expectation
    for i in range(n):
        if stage[i] == CHURNED:
            continue
        h = heard[i]
        if stage[i] == PROSPECT:
            per_month = marketing + scenario.market.imitation * clip(influence[i] + h / months)
            if draw(k_adopt, i) < chance_per_step(min(1.0, per_month), months):
                stage[i] = NEEDS
                flags[i] = flags[i] | ADOPTED
                expectation[i] = f32(clip(x0 + w.expectation_effect * max(0.0, h)))
                frustration[i] = 0.0
            continue
        loyalty[i] = f32(clip(loyalty[i] + w.loyalty_effect * h))
        expectation[i] = f32(clip(expectation[i] + w.expectation_effect * max(0.0, h)))
        hazard = monthly_churn_hazard(scenario, base_hazard[i], loyalty[i], frustration[i], price)
        if hazard > 0.0 and draw(k_churn, i) < -math.expm1(-hazard * months):
            stage[i] = CHURNED
            flags[i] = flags[i] | LEFT

    return {
        "stage": np.array(stage, np.int8),
        "persona": np.array(persona, np.int8),
        "flags": np.array(flags, np.uint8),
        "loyalty": np.array(loyalty, np.float32),
        "expectation": np.array(expectation, np.float32),
        "frustration": np.array(frustration, np.float32),
        "base_hazard": np.array(base_hazard, np.float32),
        "influence": np.array(influence, np.float32),
        "heard": np.array(heard, np.float32),
        "interactions": np.array(interactions, np.int64),
    }
