"""Behavioural rules of one customer, written once.

Each rule is a small compiled scalar function of a customer's values, the step's draws and the rule constants
(`loyaltysim.engine.params.RuleParams`). The array kernels (`loyaltysim.engine.kernels`) and the readable Mesa
agents (`loyaltysim.engine.agents`) only loop over customers, read their state, call these rules and store what they
return, so both engines follow the same rules by construction. The docking tests check they give identical
trajectories, ``tests/test_rules.py`` checks each rule against known answers and ``tests/oracle.py`` is an
independent plain-Python oracle of a whole customer-step.

Equations and the sources of their default numbers are in ``docs/model.md`` (section 7, submodels). The module is
kept whole, though about 700 lines: it is the behaviour of one customer, read in order from a touchpoint use to
the NPS question, and the docs point into it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from loyaltysim.engine.layout import (
    AT_RISK,
    DESIRES,
    EXPECTATIONS,
    PERSONALIZATION,
    PREFERENCES,
    TOP_STAGE,
    Level,
    PersonaColumn,
)

if TYPE_CHECKING:  # the rules read the constants; the type is for readers (kernels stay free of pydantic)
    from loyaltysim.engine.params import RuleParams

__all__ = [
    "DETRACTOR_MAX",
    "MAX_VISITS",
    "NEGATIVE",
    "POSITIVE",
    "PROMOTER_MIN",
    "adapt",
    "adopt",
    "adoption_probability",
    "base_hazard",
    "bell",
    "choose",
    "churn_bound",
    "churn_decision",
    "churns",
    "clip01",
    "competitor_hazard",
    "consideration_probability",
    "customer_traits",
    "delivers",
    "expectation_target",
    "felt_gap",
    "firm_hazard",
    "frustration_memory",
    "hazard_probability",
    "hear_as_prospect",
    "hear_loyalty",
    "heard_count",
    "initial_loyalty",
    "interaction",
    "is_at_risk",
    "is_customer",
    "is_prospect",
    "mean_field_influence",
    "next_stage",
    "perceive",
    "price_pain",
    "realized_level",
    "recommend_score",
    "recover",
    "satisfaction",
    "speak",
    "spread_trait",
    "step_probability",
    "visit_count",
    "willingness_to_pay",
    "wom_influence",
]

MAX_VISITS = 255
"""Largest number of interactions of one customer in one step (the Poisson draw is capped here)."""
PROMOTER_MIN = 9
"""Lowest likelihood-to-recommend score of a promoter (NPS)."""
DETRACTOR_MAX = 6
"""Highest likelihood-to-recommend score of a detractor (NPS)."""
MARGIN = 1.0 + 1e-9
"""Relative slack on upper bounds of probabilities used to skip exact evaluation (rounding is ~1e-16)."""


@njit(cache=True, inline="always")
def clip01(x: float) -> float:
    """Clip to [0, 1]."""
    return min(1.0, max(0.0, x))


@njit(cache=True, inline="always")
def step_probability(per_month: float, months: float) -> float:
    """Chance per step of an event with a given chance per month: 1 - (1 - p)^months."""
    if per_month >= 1.0:
        return 1.0
    if months == 1.0:
        return per_month
    return -math.expm1(months * math.log1p(-per_month))


@njit(cache=True, inline="always")
def hazard_probability(hazard: float, months: float) -> float:
    """Chance per step of an event with a constant hazard per month: 1 - exp(-h months)."""
    return -math.expm1(-hazard * months)


@njit(cache=True, inline="always")
def visit_count(u: float, rate: float, none_chance: float) -> int:
    """Number of interactions in a step: Poisson(``rate``) by inverse CDF; ``none_chance`` is exp(-rate)."""
    k = 0
    term = none_chance
    cdf = none_chance
    while u >= cdf and k < MAX_VISITS:
        k += 1
        term *= rate / k
        cdf += term
    return k


@njit(cache=True, inline="always")
def choose(u: float, cumulative_share: np.ndarray) -> int:
    """Index of the option chosen by ``u`` from cumulative shares (a touchpoint, a persona, a starting stage)."""
    n = cumulative_share.shape[0]
    for k in range(n - 1):
        if u < cumulative_share[k]:
            return k
    return n - 1


# ---------------------------------------------------------------------------------------------------------------
# The initial population and each customer's fixed traits


@njit(cache=True, inline="always")
def base_hazard(log_a: float, log_b: float) -> float:
    """Monthly base churn hazard -ln(1 - theta) of theta ~ Beta(a, b), from the logs of Gamma(a) and Gamma(b) draws.

    theta = Ga / (Ga + Gb), kept below 1 so that the hazard is finite.
    """
    theta = min(1.0 / (1.0 + np.exp(log_b - log_a)), 1.0 - 1e-12)
    return -np.log1p(-theta)


@njit(cache=True, inline="always")
def initial_loyalty(u: float, p: RuleParams) -> float:
    """Starting loyalty: uniform within ``loyalty_spread`` of ``initial_loyalty``, clipped to [0, 1]."""
    return clip01(p.population_initial_loyalty + p.population_loyalty_spread * (2.0 * u - 1.0))


@njit(cache=True, inline="always")
def spread_trait(u: float, mean: float, spread: float) -> float:
    """A customer's own value of a trait: uniform within ``spread`` of ``mean``, clipped to [0, 1]."""
    return clip01(mean + spread * (2.0 * u - 1.0))


@njit(cache=True, inline="always")
def customer_traits(
    u: tuple[float, float, float, float, float, float], p: RuleParams
) -> tuple[float, float, float, float, float]:
    """A customer's fixed traits from the six uniforms of its trait key (`rng.draw6`, the same at every step).

    The thresholds of the desires, preferences, personalization and empathy stages and the effort tolerance (from
    ``u[0]`` ... ``u[4]``), each spread uniformly around its mean, so that no threshold is shared by everyone (no
    cliff in a lever). ``u[5]`` is the customer's own part of willingness to pay (`willingness_to_pay`).
    """
    spread = p.stages_threshold_spread
    return (
        spread_trait(u[0], p.stages_feel_threshold, spread),
        spread_trait(u[1], p.stages_ease_threshold, spread),
        spread_trait(u[2], p.stages_personalization_threshold, spread),
        spread_trait(u[3], p.stages_empathy_threshold, spread),
        spread_trait(u[4], p.behaviour_effort_tolerance, p.behaviour_effort_tolerance_spread),
    )


# ---------------------------------------------------------------------------------------------------------------
# One interaction at a touchpoint (phase 1)


@njit(cache=True, inline="always")
def realized_level(level: float, u: float, noise: float) -> float:
    """A touchpoint's level as delivered in one interaction: the level plus uniform noise, in [0, 1]."""
    return clip01(level + noise * (2.0 * u - 1.0))


@njit(cache=True, inline="always")
def recover(u: float, recovery: float, recovery_quality: float) -> tuple[bool, bool]:
    """After a failed interaction: (a recovery contact follows, it fixes the failure), from one draw ``u``."""
    contact = u < recovery
    return contact, contact and u < recovery * recovery_quality


@njit(cache=True, inline="always")
def perceive(
    need_met: bool,
    recovered: bool,
    effort: float,
    empathy: float,
    personalization: float,
    persona: np.ndarray,
    tolerance: float,
    p: RuleParams,
) -> tuple[float, float, float, float, float, bool]:
    """Judge one interaction like the CX pyramid: need met, easy, felt good.

    ``effort``, ``empathy`` and ``personalization`` are as delivered; the persona's sensitivities make them felt.
    Returns (perceived quality in [0, 1], ease, felt emotion, felt personalization, felt empathy, frustrating). An
    unmet need makes the interaction worthless and frustrating; so does felt effort above the customer's own
    tolerance. A failure fixed by a recovery contact counts as met, plus the recovery paradox.
    """
    felt_effort = min(1.0, effort * persona[PersonaColumn.EFFORT_SENSITIVITY])
    ease = 1.0 - felt_effort
    sensitivity = persona[PersonaColumn.EMOTION_SENSITIVITY]
    felt_empathy = min(1.0, empathy * sensitivity)
    felt_personal = min(1.0, personalization * sensitivity)
    felt = p.behaviour_empathy_share * felt_empathy + (1.0 - p.behaviour_empathy_share) * felt_personal
    quality = 0.0
    if need_met:
        quality = p.behaviour_need_weight + p.behaviour_ease_weight * ease + p.behaviour_feel_weight * felt
        if recovered:
            quality = min(1.0, quality + p.behaviour_recovery_paradox)
    frustrating = (not need_met) or felt_effort > tolerance
    return quality, ease, felt, felt_personal, felt_empathy, frustrating


@njit(cache=True, inline="always")
def felt_gap(gap: float, p: RuleParams) -> float:
    """The gap to expectation as felt (Kahneman-Tversky value): |gap| ** curvature, a loss weighed by loss aversion.

    Concave in gains and convex in losses (diminishing sensitivity), steeper for losses (loss aversion).
    """
    if gap >= 0.0:
        return gap**p.behaviour_value_curvature
    return -p.behaviour_loss_aversion * (-gap) ** p.behaviour_value_curvature


@njit(cache=True, inline="always")
def adapt(x: float, target: float, rate: float) -> float:
    """Move ``x`` a share ``rate`` of the way to ``target`` (exponential smoothing)."""
    return x + rate * (target - x)


@njit(cache=True, inline="always")
def satisfaction(value: float, stage: int, pain: float, p: RuleParams) -> float:
    """Satisfaction with one interaction (expectancy-disconfirmation, with perceived value as in the ACSI).

    Neutral when expectations are exactly met, moved by the felt gap, plus the emotional bond of deeper CX
    Spectrum stages (0 at desires and at risk, ``loyalty_bonus`` at empathy), less the price's pain (`price_pain`)
    weighed by ``value_for_money``.
    """
    depth = max(stage, DESIRES) - DESIRES
    bond = p.stages_loyalty_bonus * depth / (TOP_STAGE - DESIRES)
    return clip01(
        p.behaviour_neutral_satisfaction
        + bond
        + p.behaviour_satisfaction_sensitivity * value
        - p.behaviour_value_for_money * pain
    )


@njit(cache=True, inline="always")
def expectation_target(quality: float, p: RuleParams) -> float:
    """What the expectation of a touchpoint moves towards: its experience, anchored by the market's norm.

    The norm (``market_norm``) is the market's expectation moved towards the competitor's experience (seed 002).
    """
    return (1.0 - p.behaviour_market_anchor) * quality + p.behaviour_market_anchor * p.market_norm


@njit(cache=True, inline="always")
def delivers(
    stage: int,
    need_met: bool,
    felt: float,
    ease: float,
    felt_personal: float,
    felt_empathy: float,
    traits: tuple[float, float, float, float, float],
) -> bool:
    """Whether an interaction gives what a customer stage asks for, against the customer's own threshold.

    Desires (and at risk, which asks to be desired again) ask for an interaction that felt good; preferences for
    an easy one; personalization for one felt as tailored; empathy for one felt as caring. Every stage asks for
    the need met.
    """
    if not need_met:
        return False
    if stage <= DESIRES:
        return felt >= traits[0]
    if stage == PREFERENCES:
        return ease >= traits[1]
    if stage == PERSONALIZATION:
        return felt_personal >= traits[2]
    return felt_empathy >= traits[3]


@njit(cache=True, inline="always")
def next_stage(
    stage: int,
    need_met: bool,
    value: float,
    felt: float,
    ease: float,
    felt_personal: float,
    felt_empathy: float,
    traits: tuple[float, float, float, float, float],
    u: float,
    p: RuleParams,
) -> int:
    """Move along the customer stages after an interaction.

    Up one stage (chance ``advance_prob``) after an interaction that did not disappoint and gave what the next stage
    asks for; down one (chance ``slip_prob``) after a disappointing one that missed what the current stage asks for.
    A customer at desires slips to at risk, and nobody slips further: they still pay until they churn.
    """
    if (
        stage < TOP_STAGE
        and value >= 0.0
        and u < p.stages_advance_prob
        and delivers(stage + 1, need_met, felt, ease, felt_personal, felt_empathy, traits)
    ):
        return stage + 1
    if (
        stage > AT_RISK
        and value < 0.0
        and u < p.stages_slip_prob
        and not delivers(stage, need_met, felt, ease, felt_personal, felt_empathy, traits)
    ):
        return stage - 1
    return stage


POSITIVE = 1
"""A memorable good experience (`memorable`), and `speak` telling one."""
NEGATIVE = -1
"""A memorable bad experience (`memorable`), and `speak` telling one."""


@njit(cache=True, inline="always")
def memorable(value: float, emotion_sensitivity: float, p: RuleParams) -> int:
    """Whether an experience is memorable: `POSITIVE` (a salient delight), `NEGATIVE` (a salient disappointment) or 0.

    Salience is the felt gap through the persona's emotion sensitivity, against ``positive_salience`` and
    ``negative_salience`` (seed 004's "episodios emocionales" against "una experiencia no tan recordable").
    """
    felt = value * emotion_sensitivity
    if felt >= p.word_of_mouth_positive_salience and felt > 0.0:
        return POSITIVE
    if felt <= -p.word_of_mouth_negative_salience and felt < 0.0:
        return NEGATIVE
    return 0


@njit(cache=True, inline="always")
def speak(value: float, emotion_sensitivity: float, u: float, p: RuleParams) -> int:
    """Whether this experience is told: `POSITIVE`, `NEGATIVE` or 0.

    A memorable delight (`memorable`) is told with chance ``positive_share``, a memorable disappointment with
    ``negative_share``. Every memorable interaction may be told, so the tellings of a step are a count, whatever the
    step's length.
    """
    return tell(memorable(value, emotion_sensitivity, p), u, p)


@njit(cache=True, inline="always")
def tell(kind: int, u: float, p: RuleParams) -> int:
    """`speak` for an experience already judged `memorable` (``kind``), by the draw ``u``."""
    if kind == POSITIVE and u < p.word_of_mouth_positive_share:
        return POSITIVE
    if kind == NEGATIVE and u < p.word_of_mouth_negative_share:
        return NEGATIVE
    return 0


@njit(cache=True, inline="always")
def frustration_memory(remembered: float, new: int, p: RuleParams) -> tuple[float, float]:
    """The memory of frustration at the end of a step, and its mean over the step (what churn responds to).

    Memory fades continuously by its half-life; the ``new`` frustrating interactions of the step happen at
    uniformly spread times within it. In expectation this gives the same exposure whatever the step length:
    ``frustration_carry`` = (1 - d) / ln(1/d) and ``frustration_exposure`` = (1 - carry) / ln(1/d), d the decay
    per step.
    """
    end = remembered * p.frustration_decay + new * p.frustration_carry
    mean = remembered * p.frustration_carry + new * p.frustration_exposure
    return end, mean


@njit(cache=True, inline="always")
def interaction(
    stage: int,
    loyalty: float,
    expectation: float,
    touchpoint: np.ndarray,
    persona: np.ndarray,
    traits: tuple[float, float, float, float, float],
    pain: float,
    u: tuple[float, float, float, float, float, float, float],
    p: RuleParams,
) -> tuple[int, float, float, bool, int, float, bool, bool, int, float, float, bool, float]:
    """One use of a touchpoint, from the draws to the customer's reaction.

    ``touchpoint`` is its row of the plan's levels (`Level` columns), ``persona`` the customer's persona's row
    (`PersonaColumn` columns), ``expectation`` what the customer expects of this touchpoint, ``traits`` from
    `customer_traits`, ``pain`` the price's pain this step (`price_pain`), ``u`` the draws (need, effort, empathy,
    personalization, stage move, speaking, recovery). The need is met or not (a recovery contact may fix a failure),
    effort, empathy and personalization are delivered with noise and felt, the pyramid judges them, the felt gap to this
    touchpoint's expectation moves loyalty; the expectation adapts; the stage may move; a salient experience may be
    told. Returns (stage, loyalty, expectation, frustrating, told, delivered effort, recovery contact) and then what a
    survey asks about (`loyaltysim.survey`): whether the need was met (a recovery included), `memorable`, ease, felt
    emotion, whether it felt tailored (the need met and felt personalization at or above the customer's own
    personalization threshold), and the perceived quality (the SERVQUAL gap is it minus ``expectation``).
    """
    u_need, u_effort, u_empathy, u_personal, u_stage, u_speak, u_recover = u
    need_met = u_need < touchpoint[Level.FULFILMENT]
    contact = False
    recovered = False
    if not need_met:
        contact, recovered = recover(u_recover, touchpoint[Level.RECOVERY], touchpoint[Level.RECOVERY_QUALITY])
    effort = realized_level(touchpoint[Level.EFFORT], u_effort, p.behaviour_effort_noise)
    empathy = realized_level(touchpoint[Level.EMPATHY], u_empathy, p.behaviour_feel_noise)
    personal = realized_level(touchpoint[Level.PERSONALIZATION], u_personal, p.behaviour_feel_noise)
    met = need_met or recovered
    quality, ease, felt, felt_personal, felt_empathy, frustrating = perceive(
        met, recovered, effort, empathy, personal, persona, traits[4], p
    )
    value = felt_gap(quality - expectation, p)
    new_loyalty = adapt(loyalty, satisfaction(value, stage, pain, p), p.behaviour_loyalty_learning)
    new_expectation = adapt(expectation, expectation_target(quality, p), p.behaviour_expectation_learning)
    new_stage = next_stage(stage, met, value, felt, ease, felt_personal, felt_empathy, traits, u_stage, p)
    kind = memorable(value, persona[PersonaColumn.EMOTION_SENSITIVITY], p)
    told = tell(kind, u_speak, p)  # = speak(value, sensitivity, u_speak, p)
    tailored = met and felt_personal >= traits[2]
    return (
        new_stage,
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
    )


# ---------------------------------------------------------------------------------------------------------------
# Word of mouth (phase 2)


@njit(cache=True, inline="always")
def heard_count(u: float, told: int, reach: float) -> int:
    """How many of a speaker's ``told`` stories reach one listener: Binomial(told, reach) by inverse CDF of ``u``."""
    if told <= 0 or reach <= 0.0:
        return 0
    if reach >= 1.0:
        return told
    if told == 1:
        return 1 if u < reach else 0
    q = 1.0 - reach
    term = q**told
    cdf = term
    k = 0
    while u >= cdf and k < told:
        term *= (told - k) / (k + 1.0) * reach / q
        k += 1
        cdf += term
    return k


@njit(cache=True, inline="always")
def wom_influence(
    active_neighbours: float, positive_heard: float, negative_heard: float, degree: float, p: RuleParams
) -> tuple[float, float]:
    """Adoption influence (share of neighbours who are customers) and net word of mouth heard, per neighbour."""
    if degree <= 0.0:
        return 0.0, 0.0
    net = (p.word_of_mouth_positive_weight * positive_heard - p.word_of_mouth_negative_weight * negative_heard) / degree
    return active_neighbours / degree, net


@njit(cache=True, inline="always")
def mean_field_influence(
    active: bool,
    own_positive: float,
    own_negative: float,
    n_active: float,
    n_positive: float,
    n_negative: float,
    n: int,
    p: RuleParams,
) -> tuple[float, float]:
    """`wom_influence` on the complete network: everyone hears the expected word of mouth of everyone else.

    ``n_active`` counts customers, ``n_positive`` and ``n_negative`` the step's tellings; the person's own are taken
    out. Each story reaches a listener with its reach.
    """
    return wom_influence(
        n_active - (1.0 if active else 0.0),
        p.word_of_mouth_positive_reach * (n_positive - own_positive),
        p.word_of_mouth_negative_reach * (n_negative - own_negative),
        float(n - 1),
        p,
    )


@njit(cache=True, inline="always")
def hear_as_prospect(expectation: float, heard: float, p: RuleParams) -> float:
    """A prospect's expectation of a touchpoint after the net word of mouth heard: praise raises it (seed 002).

    Only prospects at expectations (considering the firm) form expectations of its touchpoints; linear in what is
    heard (complaints lower it), so that the sum over steps does not depend on their length.
    """
    return clip01(expectation + p.word_of_mouth_expectation_effect * heard)


@njit(cache=True, inline="always")
def hear_loyalty(loyalty: float, heard: float, p: RuleParams) -> float:
    """A person's loyalty (attitude to the brand) after the net word of mouth heard this step (seed 004).

    Customers and prospects alike; linear in what is heard, so the sum over steps does not depend on their length.
    """
    return clip01(loyalty + p.word_of_mouth_loyalty_effect * heard)


# ---------------------------------------------------------------------------------------------------------------
# Prospects, price and churn (phase 3)


@njit(cache=True, inline="always")
def willingness_to_pay(u: float, loyalty: float, p: RuleParams) -> float:
    """Price (relative to the reference) a person would pay: their own spread, raised by loyalty (seed 003)."""
    own = 1.0 + p.market_wtp_spread * (2.0 * u - 1.0)
    return max(0.0, own + p.market_wtp_experience * (loyalty - p.churn_loyalty_reference))


@njit(cache=True, inline="always")
def price_pain(price: float, wtp: float, p: RuleParams) -> float:
    """How much the price hurts: its excess over willingness to pay, a loss weighed by price loss aversion.

    Negative (a gain) when the price is below what the person would pay.
    """
    excess = price - wtp
    if excess > 0.0:
        return p.market_price_loss_aversion * excess
    return excess


@njit(cache=True, inline="always")
def _step_chance(per_month: float, share: float, p: RuleParams) -> float:
    """A monthly rate as a chance in ``share`` of a step: the hazard 1 - exp(-r dt), or the discrete Bass recursion."""
    if p.market_discrete_bass:
        return step_probability(min(1.0, per_month), share * p.months)
    return hazard_probability(per_month, share * p.months)


@njit(cache=True, inline="always")
def _pull(x: float) -> float:
    """exp(x), skipped at 0 (the Bass validation and neutral prospects)."""
    return math.exp(x) if x != 0.0 else 1.0


@njit(cache=True, inline="always")
def consideration_probability(influence: float, loyalty: float, p: RuleParams) -> float:
    """Chance per step that a prospect at needs starts considering the firm (moves to expectations).

    Marketing's own rate plus imitation times influence (the share of neighbours who are customers), scaled by the
    prospect's attitude: exp(attitude_effect (loyalty - initial_loyalty)), which word of mouth moves (seed 000:
    the pre-purchase journey; seed 004: what one hears).
    """
    x = p.market_attitude_effect * (loyalty - p.population_initial_loyalty)
    return _step_chance((p.market_consideration + p.market_imitation * influence) * _pull(x), 1.0, p)


@njit(cache=True, inline="always")
def adoption_probability(
    marketing: float, influence: float, loyalty: float, pain: float, share: float, p: RuleParams
) -> float:
    """Chance that a prospect at expectations buys in ``share`` of a step: the Bass rate p + q I, scaled.

    I is the share of neighbours who are customers. The rate is multiplied by the prospect's attitude,
    exp(attitude_effect (loyalty - initial_loyalty)), which word of mouth moves, and by exp(-price_response pain).
    Word of mouth acts through the attitude, a stock, so that adoption does not depend on the step length.
    ``share`` is 1 for a prospect at expectations all step, 1/2 for one who started considering during it (the
    expected rest of the step), so that the pre-purchase journey takes as long whatever the step length (exactly to
    first order in rate x step; tests/test_model2.py checks adoption across step lengths).
    """
    x = p.market_attitude_effect * (loyalty - p.population_initial_loyalty) - p.market_price_response * pain
    return _step_chance((marketing + p.market_imitation * influence) * _pull(x), share, p)


@njit(cache=True, inline="always")
def adopt() -> tuple[int, float]:
    """A new customer's (stage, remembered frustration): the purchase happens at desires (seed 000)."""
    return DESIRES, 0.0


@njit(cache=True, inline="always")
def firm_hazard(
    base_hazard: float, loyalty: float, frustration: float, pain: float, at_risk: bool, p: RuleParams
) -> float:
    """Monthly hazard of leaving the firm for no rival in particular.

    The base propensity scaled by loyalty and by the price's pain, times ``at_risk_churn`` below desires, plus
    remembered frustration.
    """
    if not p.churn_enabled:
        return 0.0
    h = base_hazard
    x = p.churn_loyalty_effect * (p.churn_loyalty_reference - loyalty) + p.market_price_response * pain
    if x != 0.0:
        h *= math.exp(x)
    if at_risk:
        h *= p.stages_at_risk_churn
    return h + p.churn_frustration_effect * frustration


@njit(cache=True, inline="always")
def competitor_hazard(loyalty: float, price: float, p: RuleParams) -> float:
    """Monthly hazard of switching to the competitor: its visibility times the logit choice of its offer.

    The competitor's advantage is its experience quality over ``behaviour.market_expectation``, less the price it
    asks above the firm's, less the customer's loyalty above the reference; the choice is logistic in the advantage.
    """
    if not p.churn_enabled or p.competitor_visibility <= 0.0:
        return 0.0
    advantage = (
        p.competitor_quality
        - p.behaviour_market_expectation
        - p.competitor_price_weight * (p.competitor_price - price)
        - p.competitor_loyalty_weight * (loyalty - p.churn_loyalty_reference)
    )
    return p.competitor_visibility / (1.0 + math.exp(-p.competitor_choice_sensitivity * advantage))


@njit(cache=True, inline="always")
def churns(u: float, hazard: float, months: float) -> bool:
    """Whether a customer with this monthly hazard leaves in a step of ``months``, by the draw ``u``.

    1 - exp(-h m) <= h m, so a draw above h m decides without the exponential.
    """
    return hazard > 0.0 and u < hazard * months * MARGIN and u < hazard_probability(hazard, months)


@njit(cache=True, inline="always")
def churn_bound(base: float, loyalty: float, frustration: float, at_risk: bool, price: float, p: RuleParams) -> float:
    """An upper bound of the monthly churn hazard, without the exponential or the willingness-to-pay draw.

    The price's pain is largest at the lowest willingness to pay a customer of this loyalty can have, and
    exp(x) <= 1 / (1 - x) for x < 1, so `kernels.transition` decides a draw above bound x months at once.
    """
    if not p.churn_enabled:
        return 0.0
    lowest = willingness_to_pay(0.0, loyalty, p)
    x = p.churn_loyalty_effect * (p.churn_loyalty_reference - loyalty) + p.market_price_response * price_pain(
        price, lowest, p
    )
    grow = 1.0 / (1.0 - x) if x < 0.5 else math.exp(x)
    if at_risk:
        grow *= p.stages_at_risk_churn
    return base * grow + p.churn_frustration_effect * frustration + p.competitor_visibility


@njit(cache=True, inline="always")
def churn_decision(
    u: float, base: float, loyalty: float, frustration: float, pain: float, at_risk: bool, price: float, p: RuleParams
) -> tuple[bool, float]:
    """Whether a customer leaves this step by the draw ``u``, and if so the competitor's share of the hazard.

    The monthly hazard is `firm_hazard` plus `competitor_hazard`; the competitor's share attributes the churn
    (a churner counts as lost to the competitor by that share). As the rival's hazard is at most its visibility, a
    draw above (own + visibility) x months decides without the logit.
    """
    own = firm_hazard(base, loyalty, frustration, pain, at_risk, p)
    if u >= (own + p.competitor_visibility) * p.months * MARGIN:
        return False, 0.0
    rival = competitor_hazard(loyalty, price, p)
    total = own + rival
    if churns(u, total, p.months):
        return True, rival / total
    return False, 0.0


# ---------------------------------------------------------------------------------------------------------------
# What is counted (phase 4)


@njit(cache=True, inline="always")
def bell(u1: float, u2: float, u3: float) -> float:
    """A bell-shaped variate of mean 0 and variance 1 from three uniforms: 2 (u1 + u2 + u3) - 3 (Irwin-Hall).

    Close to a standard normal (kurtosis 2.6 instead of 3, bounded at +-3) and free of transcendental functions, so
    every customer can answer the NPS question every step at little cost.
    """
    return 2.0 * (u1 + u2 + u3) - 3.0


@njit(cache=True, inline="always")
def recommend_score(loyalty: float, scale_use: float, noise: float, p: RuleParams) -> int:
    """The 0-10 answer to the NPS question, from loyalty, the customer's scale use and the occasion.

    Ten times loyalty, shifted by the customer's own way of using the scale and by the occasion, rounded and kept in
    0..10. ``scale_use`` and ``noise`` are `bell` draws (mean 0, variance 1), scaled by ``nps.scale_use_sd`` and
    ``nps.answer_noise_sd``.
    """
    answer = 10.0 * loyalty + p.nps_scale_use_sd * scale_use + p.nps_answer_noise_sd * noise
    return min(10, max(0, math.floor(answer + 0.5)))


@njit(cache=True, inline="always")
def is_customer(stage: int) -> bool:
    """A customer now: at risk or at any customer stage (not a prospect, not churned)."""
    return AT_RISK <= stage <= TOP_STAGE


@njit(cache=True, inline="always")
def is_at_risk(stage: int) -> bool:
    """A customer who slipped below desires (still paying, churning more)."""
    return stage == AT_RISK


@njit(cache=True, inline="always")
def is_prospect(stage: int) -> bool:
    """A prospect now: at needs or expectations, not yet a customer."""
    return stage <= EXPECTATIONS
