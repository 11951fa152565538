"""Behavioural rules of one customer, written once.

Each rule is a small compiled scalar function. The array kernels (`loyaltysim.kernels`) call them inside their
loops and the readable Mesa agents (`loyaltysim.agents`) call them one customer at a time, so both engines follow
the same rules by construction; the docking tests check they give identical trajectories.

Equations and the sources of their default numbers are in ``docs/model.md`` (section 7, submodels).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from numba import njit

__all__ = [
    "ACTIVE",
    "ADOPTED",
    "CHURNED",
    "COHORT",
    "LEFT",
    "PROSPECT",
    "SPOKE_NEGATIVE",
    "SPOKE_POSITIVE",
    "TOP_STAGE",
    "RuleParams",
    "adapt",
    "adoption_probability",
    "choose_touchpoint",
    "churn_hazard",
    "clip01",
    "disconfirmation",
    "expectation_after_hearing",
    "expectation_target",
    "hazard_probability",
    "loyalty_after_hearing",
    "meets_stage",
    "next_stage",
    "perceive",
    "realized_effort",
    "realized_feel",
    "recommend_score",
    "satisfaction",
    "speak",
    "step_probability",
    "visit_count",
    "wom_influence",
]

PROSPECT = 0
"""Stage code of a person who is not (yet) a customer; stages 1-6 are the CX Spectrum."""
TOP_STAGE = 6
CHURNED = 7

# Bits of the per-customer flags byte.
ACTIVE = 1  # a customer this step (read by neighbours as adoption influence)
SPOKE_POSITIVE = 2  # told neighbours about a good experience this step
SPOKE_NEGATIVE = 4  # told neighbours about a bad experience this step
ADOPTED = 8  # became a customer this step
LEFT = 16  # churned this step
COHORT = 32  # was a customer at the start (for retention of the starting base)
STEP_BITS = ACTIVE | SPOKE_POSITIVE | SPOKE_NEGATIVE | ADOPTED | LEFT


class RuleParams(NamedTuple):
    """Behavioural constants of one run, in the units the rules use (probabilities per step where noted)."""

    months: float  # length of a step in months
    need_weight: float
    ease_weight: float
    feel_weight: float
    empathy_share: float
    effort_noise: float
    feel_noise: float
    effort_tolerance: float
    loss_aversion: float
    neutral_satisfaction: float
    satisfaction_sensitivity: float
    loyalty_learning: float
    expectation_learning: float
    market_expectation: float
    market_anchor: float
    loyalty_bonus: float
    frustration_decay: float  # memory kept per step
    advance_prob: float
    slip_prob: float
    feel_threshold: float
    ease_threshold: float
    personalization_threshold: float
    empathy_threshold: float
    positive_salience: float
    negative_salience: float
    positive_share: float
    negative_share: float
    positive_reach: float
    negative_reach: float
    positive_weight: float
    negative_weight: float
    wom_loyalty: float
    wom_expectation: float
    churn_on: float
    loyalty_effect: float
    loyalty_reference: float
    frustration_effect: float
    competitor_pull: float
    price_sensitivity: float
    imitation: float
    initial_loyalty: float
    loyalty_spread: float
    initial_expectation: float


@njit(cache=True)
def clip01(x: float) -> float:
    """Clip to [0, 1]."""
    return min(1.0, max(0.0, x))


@njit(cache=True)
def step_probability(per_month: float, months: float) -> float:
    """Chance per step of an event with a given chance per month: 1 - (1 - p)^months."""
    if per_month >= 1.0:
        return 1.0
    if months == 1.0:
        return per_month
    return -math.expm1(months * math.log1p(-per_month))


@njit(cache=True)
def hazard_probability(hazard: float, months: float) -> float:
    """Chance per step of an event with a constant hazard per month: 1 - exp(-h months)."""
    return -math.expm1(-hazard * months)


@njit(cache=True)
def visit_count(u: float, rate: float, none_chance: float) -> int:
    """Number of interactions in a step: Poisson(``rate``) by inverse CDF; ``none_chance`` is exp(-rate)."""
    k = 0
    term = none_chance
    cdf = none_chance
    while u >= cdf and k < 255:
        k += 1
        term *= rate / k
        cdf += term
    return k


@njit(cache=True)
def choose_touchpoint(u: float, cumulative_share: float) -> int:
    """Index of the touchpoint chosen by ``u`` from cumulative visit shares (a 1-D array)."""
    n = cumulative_share.shape[0]
    for k in range(n - 1):
        if u < cumulative_share[k]:
            return k
    return n - 1


@njit(cache=True)
def realized_effort(level: float, u: float, noise: float) -> float:
    """Effort of one interaction: the touchpoint's level plus uniform noise, in [0, 1]."""
    return clip01(level + noise * (2.0 * u - 1.0))


@njit(cache=True)
def realized_feel(empathy: float, personalization: float, u: float, p: RuleParams) -> float:
    """How good one interaction feels before personal sensitivity: empathy and personalization plus noise."""
    base = p.empathy_share * empathy + (1.0 - p.empathy_share) * personalization
    return clip01(base + p.feel_noise * (2.0 * u - 1.0))


@njit(cache=True)
def perceive(
    need_met: bool, effort: float, feel: float, effort_sensitivity: float, emotion_sensitivity: float, p: RuleParams
) -> tuple[float, float, float, bool]:
    """Judge one interaction like the CX pyramid: need met, easy, felt good.

    Returns (perceived quality in [0, 1], ease, felt emotion, frustrating). An unmet need makes the whole
    interaction worthless and frustrating; so does felt effort above the tolerance.
    """
    felt_effort = min(1.0, effort * effort_sensitivity)
    ease = 1.0 - felt_effort
    felt = min(1.0, feel * emotion_sensitivity)
    quality = 0.0
    if need_met:
        quality = p.need_weight + p.ease_weight * ease + p.feel_weight * felt
    frustrating = (not need_met) or felt_effort > p.effort_tolerance
    return quality, ease, felt, frustrating


@njit(cache=True)
def disconfirmation(quality: float, expectation: float, loss_aversion: float) -> float:
    """SERVQUAL gap valued asymmetrically: a shortfall weighs ``loss_aversion`` times an equal surplus."""
    gap = quality - expectation
    return gap if gap >= 0.0 else loss_aversion * gap


@njit(cache=True)
def adapt(x: float, target: float, rate: float) -> float:
    """Move ``x`` a share ``rate`` of the way to ``target`` (exponential smoothing)."""
    return x + rate * (target - x)


@njit(cache=True)
def satisfaction(value: float, stage: int, p: RuleParams) -> float:
    """Satisfaction with one interaction (expectancy-disconfirmation).

    Neutral when expectations are exactly met, moved by the loss-weighted gap, plus the emotional bond of
    deeper CX Spectrum stages.
    """
    bond = p.loyalty_bonus * (stage - 1) / (TOP_STAGE - 1)
    return clip01(p.neutral_satisfaction + bond + p.satisfaction_sensitivity * value)


@njit(cache=True)
def expectation_target(quality: float, p: RuleParams) -> float:
    """What expectations move towards: own experience, anchored by the market's norm."""
    return (1.0 - p.market_anchor) * quality + p.market_anchor * p.market_expectation


@njit(cache=True)
def meets_stage(
    stage: int,
    need_met: bool,
    gap: float,
    felt: float,
    ease: float,
    personalization: float,
    empathy: float,
    p: RuleParams,
) -> bool:
    """Whether an interaction gives what the customer's current CX Spectrum stage asks for.

    Each stage asks for everything the one below asks for, plus: needs -> need met; expectations -> no gap;
    desires -> felt good; preferences -> easy; personalization -> a tailored touchpoint; empathy -> an
    empathetic one.
    """
    if not need_met:
        return False
    if stage >= 2 and gap < 0.0:
        return False
    if stage >= 3 and felt < p.feel_threshold:
        return False
    if stage >= 4 and ease < p.ease_threshold:
        return False
    if stage >= 5 and personalization < p.personalization_threshold:
        return False
    if stage >= 6 and empathy < p.empathy_threshold:  # noqa: SIM103 - one line per stage reads like the seed
        return False
    return True


@njit(cache=True)
def next_stage(stage: int, meets: bool, value: float, u: float, p: RuleParams) -> int:
    """Move up or down the CX Spectrum after an interaction.

    Up one stage (chance ``advance_prob``) after an interaction that meets the stage; down one (chance
    ``slip_prob``) after one that neither meets it nor lives up to expectations.
    """
    if meets:
        if stage < TOP_STAGE and u < p.advance_prob:
            return stage + 1
    elif value < 0.0 and stage > 1 and u < p.slip_prob:
        return stage - 1
    return stage


@njit(cache=True)
def speak(value: float, emotion_sensitivity: float, u: float, p: RuleParams) -> int:
    """Word-of-mouth bit after an experience: salient delight or disappointment is told with its own chance.

    Salience is the loss-weighted disconfirmation felt through the persona's emotion sensitivity.
    """
    felt = value * emotion_sensitivity
    if felt >= p.positive_salience and felt > 0.0:
        if u < p.positive_share:
            return SPOKE_POSITIVE
    elif felt <= -p.negative_salience and felt < 0.0 and u < p.negative_share:
        return SPOKE_NEGATIVE
    return 0


@njit(cache=True)
def wom_influence(
    active_neighbours: float, positive_heard: float, negative_heard: float, degree: float, p: RuleParams
) -> tuple[float, float]:
    """Adoption influence (share of neighbours who are customers) and net word of mouth heard, per neighbour."""
    if degree <= 0.0:
        return 0.0, 0.0
    net = (p.positive_weight * positive_heard - p.negative_weight * negative_heard) / degree
    return active_neighbours / degree, net


@njit(cache=True)
def expectation_after_hearing(expectation: float, heard: float, p: RuleParams) -> float:
    """Expectation after word of mouth: praise raises it.

    Complaints erode loyalty instead (see `loyalty_after_hearing`) and do not make a customer expect less.
    """
    return clip01(expectation + p.wom_expectation * max(heard, 0.0))


@njit(cache=True)
def loyalty_after_hearing(loyalty: float, heard: float, p: RuleParams) -> float:
    """Net word of mouth heard moves loyalty (seed 004)."""
    return clip01(loyalty + p.wom_loyalty * heard)


@njit(cache=True)
def adoption_probability(marketing: float, influence: float, heard: float, p: RuleParams) -> float:
    """Chance per step that a prospect adopts: Bass p + q I per month, converted to the step.

    I is the share of neighbours who are customers plus the net word of mouth heard, which is a flow in the step
    and so enters as a rate per month (``heard / months``).
    """
    per_month = marketing + p.imitation * clip01(influence + heard / p.months)
    return step_probability(min(1.0, per_month), p.months)


@njit(cache=True)
def churn_hazard(base_hazard: float, loyalty: float, frustration: float, price: float, p: RuleParams) -> float:
    """Monthly churn hazard: base propensity scaled by loyalty, plus frustration, competitor pull and price."""
    if p.churn_on == 0.0:
        return 0.0
    h = base_hazard
    if p.loyalty_effect != 0.0:
        h *= math.exp(p.loyalty_effect * (p.loyalty_reference - loyalty))
    h += p.frustration_effect * frustration
    h += p.competitor_pull * (1.0 - loyalty)
    h += p.price_sensitivity * max(0.0, price - 1.0)
    return h


@njit(cache=True)
def recommend_score(loyalty: float) -> int:
    """0-10 likelihood to recommend (the NPS question) from loyalty in [0, 1]."""
    return min(10, int(11.0 * loyalty))
