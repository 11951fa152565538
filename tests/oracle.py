"""A plain, independent oracle of one step of every person in model 2, written from docs/model.md (section 7).

Nothing here comes from loyaltysim's rules, kernels, listen, rng, params, plan or agents: the random numbers, the
resolution of the touchpoint levels, the derived constants and every rule are written again, in plain Python over
plain lists, one person at a time (the way stumpy's ``tests/naive.py`` re-implements its kernels). Only the
`Scenario` object is read, for parameter values. numpy is used only to read the state arrays and to round to
float32 where the model stores a value.

One step has three phases here (the fourth, the tally, only counts):

1. Interact: each customer (at risk to empathy) uses touchpoints a Poisson number of times. Each use may fail and be
   followed by a recovery contact; it is judged like the CX pyramid against the customer's own traits (stage
   thresholds, effort tolerance), the gap to that touchpoint's expectation is felt through a prospect-theory value
   (curvature, loss aversion) and moves loyalty (less the price's pain), the expectation adapts towards the
   experience anchored by the market's norm, the stage may move one rung and the experience may be told. The
   step's frustrations enter a fading memory (end of step) and its mean over the step (what churn responds to).
2. Listen: everyone who has not churned counts neighbours who are customers and hears Binomial(told, reach) of each
   speaking neighbour's good and bad stories (on the complete network: the expected word of mouth of everyone).
3. Transition: former customers may come back among the prospects; prospects hear, may start considering the firm
   and may buy (price pain against willingness to pay); customers hear, then may churn to no one in particular or to
   the competitor.

Floating-point operations are written in the order the model's rules perform them, so that the results agree bit
for bit: Python floats are IEEE doubles, and CPython's ``math`` and float ``**`` call the same libm as numba's
compiled code. One exception is written out by hand: numba raises a float to an *integer* power by repeated
squaring, not by libm's ``pow`` (`int_power`), which the Binomial draw of word of mouth uses.

Entry point: `oracle_step`.
"""

from __future__ import annotations

import math

import numpy as np

# Stage codes (docs/model.md, section 2): prospects at needs or expectations, customers from at risk to empathy.
NEEDS = 0
EXPECTATIONS = 1
AT_RISK = 2
DESIRES = 3
PREFERENCES = 4
PERSONALIZATION = 5
EMPATHY = 6
CHURNED = 7

# Flag bits (docs/model.md, section 2). Bit 64 is bookkeeping of the word-of-mouth push: kept as given.
ACTIVE = 1
SPOKE_POSITIVE = 2
SPOKE_NEGATIVE = 4
ADOPTED = 8
LEFT = 16
COHORT = 32
WON_BACK = 128
PER_STEP_BITS = ACTIVE | SPOKE_POSITIVE | SPOKE_NEGATIVE | ADOPTED | LEFT | WON_BACK

MONTH_DAYS = 365.25 / 12
MAX_VISITS = 255
MAX_TOLD = 255

# Purposes of the random streams (docs/model.md, section 7; numbers as in the project).
VISIT = 1
CHANNEL = 2
FEEL = 5
RECOVER = 6
TELL_NEGATIVE = 7
TELL = 8
ADOPT = 9
CHURN = 10
WIN_BACK = 12
INIT_TRAITS = 27

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
    """Key of the stream of one (seed, step, purpose); step -1 is initialisation (fixed traits)."""
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
    """Three 21-bit uniforms of the v-th triple of person i: the low, middle and high 21-bit fields."""
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


def int_power(a, n):
    """``a ** n`` for a float a and an integer n >= 0, by repeated squaring (as compiled code computes it)."""
    r = 1.0
    while n:
        if n & 1:
            r *= a
        n >>= 1
        a *= a
    return r


# --- constants of the run, derived from the scenario (docs/model.md, sections 7.6 and 7.15) --------------------


class Constants:
    """Per-step values the rules use that are not scenario keys themselves."""

    def __init__(self, scenario):
        b, c = scenario.behaviour, scenario.competitor
        self.months = scenario.time.step_days / MONTH_DAYS
        # Memory of frustration fades by its half-life; a frustration at a uniform time within the step leaves
        # `carry` at the step's end and `exposure` on average over the step.
        d = 0.5 ** (scenario.time.step_days / b.frustration_half_life_days)
        rate = -math.log(d)
        self.decay = d
        self.carry = -math.expm1(-rate) / rate
        self.exposure = (1.0 - self.carry) / rate
        feel = b.empathy_share * c.empathy + (1.0 - b.empathy_share) * c.personalization
        quality = b.need_weight + b.ease_weight * (1.0 - c.effort) + b.feel_weight * feel
        self.competitor_quality = c.fulfilment * quality
        # The norm customers anchor their expectations to: the market's, moved towards the competitor's experience.
        self.market_norm = (1.0 - c.norm_share) * b.market_expectation + c.norm_share * self.competitor_quality


# --- the step's touchpoint levels and market levers (docs/model.md, section 7.17) --------------------------------

TOUCHPOINT_LEVERS = (
    "visits_per_month",
    "fulfilment",
    "effort",
    "empathy",
    "personalization",
    "recovery",
    "recovery_quality",
)


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
        levels[name] = {lever: getattr(scenario.touchpoints[name], lever) for lever in TOUCHPOINT_LEVERS}
    marketing = scenario.market.marketing
    price = scenario.market.price
    start_of_step = (step - 1) * scenario.time.step_days
    for iv in scenario.interventions.values():
        if iv.start_day > start_of_step:
            continue
        targets = names if iv.touchpoint == "all" else [iv.touchpoint]
        for lever in TOUCHPOINT_LEVERS:
            change = getattr(iv, lever)
            if change is None:
                continue
            upper = 100.0 if lever == "visits_per_month" else 1.0
            for name in targets:
                levels[name][lever] = change_value(change, levels[name][lever], 0.0, upper)
        if iv.marketing is not None:
            marketing = change_value(iv.marketing, marketing, 0.0, 1.0)
        if iv.price is not None:
            price = change_value(iv.price, price, 1e-6, 10.0)  # price > 0: kept a hair above 0
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


# --- rules of one person (docs/model.md, sections 7.1-7.16) -----------------------------------------------------


def poisson_count(u, mean, none_chance):
    """Smallest n with u < P(N <= n), N ~ Poisson(mean), by summing the probabilities in turn; at most 255."""
    n = 0
    term = none_chance
    total = term
    while u >= total and n < MAX_VISITS:
        n += 1
        term = term * (mean / n)
        total = total + term
    return n


def binomial_count(u, told, reach):
    """Smallest k with u < P(K <= k), K ~ Binomial(told, reach), by summing the probabilities in turn."""
    if told <= 0 or reach <= 0.0:
        return 0
    if reach >= 1.0:
        return told
    if told == 1:
        return 1 if u < reach else 0
    q = 1.0 - reach
    term = int_power(q, told)
    total = term
    k = 0
    while u >= total and k < told:
        term = term * ((told - k) / (k + 1.0) * reach / q)
        k += 1
        total = total + term
    return k


def traits_of(trait_key, i, scenario):
    """A customer's own thresholds of desires, preferences, personalization and empathy, effort tolerance and the
    uniform of willingness to pay: fixed, drawn from the customer's own key (the same at every step)."""
    st, b = scenario.stages, scenario.behaviour
    a1, a2, a3 = draw3(trait_key, i, 0)
    b1, b2, b3 = draw3(trait_key, i, 1)
    spread = st.threshold_spread
    return {
        "feel": clip(st.feel_threshold + spread * (2.0 * a1 - 1.0)),
        "ease": clip(st.ease_threshold + spread * (2.0 * a2 - 1.0)),
        "personalization": clip(st.personalization_threshold + spread * (2.0 * a3 - 1.0)),
        "empathy": clip(st.empathy_threshold + spread * (2.0 * b1 - 1.0)),
        "tolerance": clip(b.effort_tolerance + b.effort_tolerance_spread * (2.0 * b2 - 1.0)),
        "wtp_draw": b3,
    }


def felt_value(gap, b):
    """Prospect-theory value of the gap to expectation: |gap| ** curvature, a shortfall times loss aversion."""
    if gap >= 0.0:
        return gap**b.value_curvature
    return -b.loss_aversion * (-gap) ** b.value_curvature


def stage_asks(stage, need_met, felt, ease, felt_personal, felt_empathy, traits):
    """Whether an interaction gives what ``stage`` asks for (desires and at risk: felt good; preferences: easy;
    personalization: felt tailored; empathy: felt cared for), always with the need met."""
    if not need_met:
        return False
    if stage <= DESIRES:
        return felt >= traits["feel"]
    if stage == PREFERENCES:
        return ease >= traits["ease"]
    if stage == PERSONALIZATION:
        return felt_personal >= traits["personalization"]
    return felt_empathy >= traits["empathy"]


def ladder(stage, need_met, value, felt, ease, felt_personal, felt_empathy, traits, u, st):
    """Up one stage after a non-disappointing interaction that gives what the next stage asks for; down one after a
    disappointing one that misses what this stage asks for (never below at risk)."""
    asks = (need_met, felt, ease, felt_personal, felt_empathy, traits)
    if stage < EMPATHY and value >= 0.0 and u < st.advance_prob and stage_asks(stage + 1, *asks):
        return stage + 1
    if stage > AT_RISK and value < 0.0 and u < st.slip_prob and not stage_asks(stage, *asks):
        return stage - 1
    return stage


def telling(value, emotion_sensitivity, u, w):
    """+1 if this interaction is told as a good story, -1 as a bad one, 0 if not told."""
    salience = value * emotion_sensitivity
    if salience >= w.positive_salience and salience > 0.0:
        return 1 if u < w.positive_share else 0
    if salience <= -w.negative_salience and salience < 0.0 and u < w.negative_share:
        return -1
    return 0


def one_interaction(scenario, k, stage, loyalty, expected, tp, me, traits, pain, draws):
    """One use of a touchpoint: (stage, loyalty, expectation, frustrating, told, recovery contact), unrounded.

    ``pain``: the price's pain this step (`price_pain`), which lowers satisfaction by ``value_for_money`` per unit.
    """
    b, st, w = scenario.behaviour, scenario.stages, scenario.word_of_mouth
    u_need, u_effort, u_empathy, u_personal, u_stage, u_speak, u_recover = draws
    need_met = u_need < tp["fulfilment"]
    contact = recovered = False
    if not need_met:  # a failure may be followed by a recovery contact, which may fix it
        contact = u_recover < tp["recovery"]
        recovered = contact and u_recover < tp["recovery"] * tp["recovery_quality"]
    effort = clip(tp["effort"] + b.effort_noise * (2.0 * u_effort - 1.0))
    empathy = clip(tp["empathy"] + b.feel_noise * (2.0 * u_empathy - 1.0))
    personal = clip(tp["personalization"] + b.feel_noise * (2.0 * u_personal - 1.0))
    met = need_met or recovered
    # The CX pyramid: need met, easy, felt good.
    felt_effort = min(1.0, effort * me.effort_sensitivity)
    ease = 1.0 - felt_effort
    felt_empathy = min(1.0, empathy * me.emotion_sensitivity)
    felt_personal = min(1.0, personal * me.emotion_sensitivity)
    felt = b.empathy_share * felt_empathy + (1.0 - b.empathy_share) * felt_personal
    quality = 0.0
    if met:
        quality = b.need_weight + b.ease_weight * ease + b.feel_weight * felt
        if recovered:
            quality = min(1.0, quality + b.recovery_paradox)
    frustrating = (not met) or felt_effort > traits["tolerance"]
    value = felt_value(quality - expected, b)
    bond = st.loyalty_bonus * (max(stage, DESIRES) - DESIRES) / (EMPATHY - DESIRES)
    sat = clip(b.neutral_satisfaction + bond + b.satisfaction_sensitivity * value - b.value_for_money * pain)
    new_loyalty = loyalty + b.loyalty_learning * (sat - loyalty)
    target = (1.0 - b.market_anchor) * quality + b.market_anchor * k.market_norm
    new_expected = expected + b.expectation_learning * (target - expected)
    new_stage = ladder(stage, met, value, felt, ease, felt_personal, felt_empathy, traits, u_stage, st)
    told = telling(value, me.emotion_sensitivity, u_speak, w)
    return new_stage, new_loyalty, new_expected, frustrating, told, contact


def willingness_to_pay(u, loyalty, scenario):
    mk = scenario.market
    own = 1.0 + mk.wtp_spread * (2.0 * u - 1.0)
    return max(0.0, own + mk.wtp_experience * (loyalty - scenario.churn.loyalty_reference))


def price_pain(price, wtp, scenario):
    """Excess of the price over willingness to pay, weighed by price loss aversion (a gain when negative)."""
    excess = price - wtp
    if excess > 0.0:
        return scenario.market.price_loss_aversion * excess
    return excess


def chance_per_step(per_month, scenario, k, share=1.0):
    """A monthly rate as a chance in ``share`` of a step (of ``share`` x months months): 1 - exp(-r months), or the
    discrete Bass 1 - (1 - r)^months."""
    months = share * k.months
    if scenario.market.discrete_bass:
        p = min(1.0, per_month)
        if p >= 1.0:
            return 1.0
        if months == 1.0:
            return p
        return -math.expm1(months * math.log1p(-p))
    return -math.expm1(-per_month * months)


def firm_hazard(scenario, base, loyalty, exposure, pain, at_risk):
    """Monthly hazard of leaving for no rival in particular."""
    c, mk = scenario.churn, scenario.market
    if not c.enabled:
        return 0.0
    h = base
    x = c.loyalty_effect * (c.loyalty_reference - loyalty) + mk.price_response * pain
    if x != 0.0:
        h = h * math.exp(x)
    if at_risk:
        h = h * scenario.stages.at_risk_churn
    return h + c.frustration_effect * exposure


def rival_hazard(scenario, loyalty, price, k):
    """Monthly hazard of switching to the competitor: its visibility times a logit choice of its offer."""
    c, comp = scenario.churn, scenario.competitor
    if not c.enabled or comp.visibility <= 0.0:
        return 0.0
    advantage = (
        k.competitor_quality
        - scenario.behaviour.market_expectation
        - comp.price_weight * (comp.price - price)
        - comp.loyalty_weight * (loyalty - c.loyalty_reference)
    )
    return comp.visibility / (1.0 + math.exp(-comp.choice_sensitivity * advantage))


# --- the step ------------------------------------------------------------------------------------------------


def oracle_step(scenario, seed, step, state, indptr, indices, complete):
    """State of every person after ``step`` (1, 2, ...) of a run with ``seed``, from the state before it.

    ``state``: dict of arrays stage, persona, flags, loyalty, expectation (people x touchpoints), frustration,
    exposure, base_hazard, influence, heard, told_positive, told_negative (the snapshot before the step).
    ``indptr``, ``indices``: the network in CSR form (unused when ``complete``). Returns a dict of new arrays with
    the same keys (flags keep any bit that is not a step bit as given) plus ``interactions`` and ``recoveries``,
    each person's number of interactions and of recovery contacts this step.
    """
    w, mk = scenario.word_of_mouth, scenario.market
    k = Constants(scenario)
    months = k.months
    personas = list(scenario.personas.values())

    stage = [int(x) for x in state["stage"]]
    persona = [int(x) for x in state["persona"]]
    flags = [int(x) for x in state["flags"]]
    loyalty = [float(x) for x in state["loyalty"]]
    expectation = [[float(x) for x in row] for row in state["expectation"]]
    frustration = [float(x) for x in state["frustration"]]
    exposure = [float(x) for x in state["exposure"]]
    base_hazard = [float(x) for x in state["base_hazard"]]
    influence = [float(x) for x in state["influence"]]
    heard = [float(x) for x in state["heard"]]
    told_positive = [int(x) for x in state["told_positive"]]
    told_negative = [int(x) for x in state["told_negative"]]
    n = len(stage)
    interactions = [0] * n
    recoveries = [0] * n

    tps, marketing, price = levels_of_step(scenario, step)
    shares = cumulative_shares([tp["visits_per_month"] for tp in tps])
    total_visits = 0.0
    for tp in tps:
        total_visits += tp["visits_per_month"]
    mean_visits = total_visits * months
    none_chance = math.exp(-mean_visits)
    trait_key = stream_key(seed, -1, INIT_TRAITS)
    key = {p: stream_key(seed, step, p) for p in (VISIT, CHANNEL, FEEL, RECOVER, TELL, TELL_NEGATIVE, ADOPT, CHURN)}
    key[WIN_BACK] = stream_key(seed, step, WIN_BACK)

    def is_customer(s):
        return AT_RISK <= s <= EMPATHY

    # (1) Interact: customers use touchpoints a Poisson number of times and react to each use.
    for i in range(n):
        flags[i] &= ~PER_STEP_BITS & 0xFF
        told_positive[i] = told_negative[i] = 0
        if not is_customer(stage[i]):
            continue
        me = personas[persona[i]]
        visits = poisson_count(draw(key[VISIT], i), mean_visits, none_chance)
        interactions[i] = visits
        frustrating_count = good = bad = 0
        traits = traits_of(trait_key, i, scenario)
        # The price's pain, at the loyalty the customer starts the step with.
        pain = price_pain(price, willingness_to_pay(traits["wtp_draw"], loyalty[i], scenario), scenario)
        for v in range(visits):
            u_channel, u_need, u_effort = draw3(key[CHANNEL], i, v)
            u_empathy, u_personal, u_stage = draw3(key[FEEL], i, v)
            u_speak, u_recover, _ = draw3(key[RECOVER], i, v)
            t = pick(u_channel, shares)
            draws = (u_need, u_effort, u_empathy, u_personal, u_stage, u_speak, u_recover)
            s, loy, x, frustrating, told, contact = one_interaction(
                scenario, k, stage[i], loyalty[i], expectation[i][t], tps[t], me, traits, pain, draws
            )
            stage[i] = s
            loyalty[i] = f32(loy)
            expectation[i][t] = f32(x)
            frustrating_count += 1 if frustrating else 0
            good += 1 if told == 1 else 0
            bad += 1 if told == -1 else 0
            recoveries[i] += 1 if contact else 0
        # Memory of frustration: the remembered part fades, the step's frustrations enter at uniform times.
        remembered = frustration[i]
        frustration[i] = f32(remembered * k.decay + frustrating_count * k.carry)
        exposure[i] = f32(remembered * k.carry + frustrating_count * k.exposure)
        told_positive[i] = min(good, MAX_TOLD)
        told_negative[i] = min(bad, MAX_TOLD)
        flags[i] |= ACTIVE | (SPOKE_POSITIVE if good else 0) | (SPOKE_NEGATIVE if bad else 0)

    # (2) Listen: influence and net word of mouth of everyone who has not churned, pulled from every neighbour.
    if complete:
        customers = praise = complaints = 0
        for i in range(n):
            if flags[i] & ACTIVE:
                customers += 1
                praise += told_positive[i]
                complaints += told_negative[i]
        others = float(n - 1)
        for i in range(n):
            if stage[i] == CHURNED:
                continue
            if others <= 0.0:
                influence[i], heard[i] = 0.0, 0.0
                continue
            mine = bool(flags[i] & ACTIVE)
            my_praise = float(told_positive[i]) if mine else 0.0
            my_complaints = float(told_negative[i]) if mine else 0.0
            expected_praise = w.positive_reach * (praise - my_praise)
            expected_complaints = w.negative_reach * (complaints - my_complaints)
            influence[i] = f32((customers - (1.0 if mine else 0.0)) / others)
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
                if told_positive[j]:
                    praise += binomial_count(draw_at(key[TELL], i, j), told_positive[j], w.positive_reach)
                if told_negative[j]:
                    complaints += binomial_count(draw_at(key[TELL_NEGATIVE], i, j), told_negative[j], w.negative_reach)
            d = float(len(neighbours))
            influence[i] = f32(customers / d)
            heard[i] = f32((w.positive_weight * praise - w.negative_weight * complaints) / d)

    # (3) Transition: former customers may come back; prospects consider and buy; customers hear, then may churn.
    come_back = -math.expm1(-scenario.churn.win_back * months)
    for i in range(n):
        s = stage[i]
        if s == CHURNED:
            if come_back > 0.0 and draw(key[WIN_BACK], i) < come_back:
                stage[i] = EXPECTATIONS
                flags[i] |= WON_BACK
            continue
        h = heard[i]
        if h != 0.0:  # word of mouth moves everyone's attitude to the brand, prospects' and customers' alike
            loyalty[i] = f32(clip(loyalty[i] + w.loyalty_effect * h))
        if s <= EXPECTATIONS:  # a prospect
            if s == EXPECTATIONS and h != 0.0:  # only those considering the firm form expectations of it
                expectation[i] = [f32(clip(x + w.expectation_effect * h)) for x in expectation[i]]
            u = draw(key[ADOPT], i)
            attitude = mk.attitude_effect * (loyalty[i] - scenario.population.initial_loyalty)
            share = 1.0  # of the step spent considering the firm
            if s == NEEDS:
                rate = (mk.consideration + mk.imitation * influence[i]) * (
                    math.exp(attitude) if attitude != 0.0 else 1.0
                )
                if u >= chance_per_step(rate, scenario, k):
                    continue
                # Starts considering, and may buy in the (expected) rest of the step, on a draw of its own.
                stage[i] = EXPECTATIONS
                share = 0.5
                u = draw_at(key[ADOPT], i, 0)
            traits = traits_of(trait_key, i, scenario)
            pain = price_pain(price, willingness_to_pay(traits["wtp_draw"], loyalty[i], scenario), scenario)
            x = mk.attitude_effect * (loyalty[i] - scenario.population.initial_loyalty) - mk.price_response * pain
            per_month = (marketing + mk.imitation * influence[i]) * (math.exp(x) if x != 0.0 else 1.0)
            if u < chance_per_step(per_month, scenario, k, share):
                stage[i] = DESIRES
                frustration[i] = 0.0
                flags[i] |= ADOPTED
            continue
        traits = traits_of(trait_key, i, scenario)
        pain = price_pain(price, willingness_to_pay(traits["wtp_draw"], loyalty[i], scenario), scenario)
        own = firm_hazard(scenario, base_hazard[i], loyalty[i], exposure[i], pain, s == AT_RISK)
        total = own + rival_hazard(scenario, loyalty[i], price, k)
        if total > 0.0 and draw(key[CHURN], i) < -math.expm1(-total * months):
            stage[i] = CHURNED
            flags[i] = (flags[i] | LEFT) & ~COHORT

    return {
        "stage": np.array(stage, np.int8),
        "persona": np.array(persona, np.int8),
        "flags": np.array(flags, np.uint8),
        "loyalty": np.array(loyalty, np.float32),
        "expectation": np.array(expectation, np.float32).reshape(np.shape(state["expectation"])),
        "frustration": np.array(frustration, np.float32),
        "exposure": np.array(exposure, np.float32),
        "base_hazard": np.array(base_hazard, np.float32),
        "influence": np.array(influence, np.float32),
        "heard": np.array(heard, np.float32),
        "told_positive": np.array(told_positive, np.uint8),
        "told_negative": np.array(told_negative, np.uint8),
        "interactions": np.array(interactions, np.int64),
        "recoveries": np.array(recoveries, np.int64),
    }
