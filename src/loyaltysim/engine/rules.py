"""Behavioural rules of one customer, written once.

Each rule is a small compiled scalar function of a customer's values, the step's draws and the rule constants
(`loyaltysim.engine.params.RuleParams`). The array kernels (`loyaltysim.engine.kernels`) and the readable Mesa
agents (`loyaltysim.engine.agents`) only loop over customers, read their state, call these rules and store what they
return, so both engines follow the same rules by construction. The docking tests check they give identical
trajectories, ``tests/test_rules.py`` checks each rule against known answers and ``tests/oracle.py`` is an
independent plain-Python oracle of a whole customer-step.

Equations and the sources of their default numbers are in ``docs/model.md`` (section 7, submodels). The module is
kept whole, though about 400 lines: it is the behaviour of one customer, read in order from a touchpoint use to
the NPS question, and the docs point into it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from loyaltysim.engine.layout import (
    ACTIVE,
    CHURNED,
    DESIRES,
    EMPATHY,
    EXPECTATIONS,
    FIRST_STAGE,
    PERSONALIZATION,
    PREFERENCES,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
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
    "churn_hazard",
    "churns",
    "clip01",
    "decay_frustration",
    "disconfirmation",
    "expectation_after_hearing",
    "expectation_target",
    "hazard_probability",
    "hear",
    "initial_loyalty",
    "interaction",
    "is_customer",
    "loyalty_after_hearing",
    "mean_field_influence",
    "meets_stage",
    "message",
    "next_stage",
    "perceive",
    "reach",
    "realized_effort",
    "realized_feel",
    "recommend_score",
    "satisfaction",
    "speak",
    "step_probability",
    "visit_count",
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
    while u >= cdf and k < MAX_VISITS:
        k += 1
        term *= rate / k
        cdf += term
    return k


@njit(cache=True)
def choose(u: float, cumulative_share: np.ndarray) -> int:
    """Index of the option chosen by ``u`` from cumulative shares (a touchpoint, a persona, a starting stage)."""
    n = cumulative_share.shape[0]
    for k in range(n - 1):
        if u < cumulative_share[k]:
            return k
    return n - 1


# ---------------------------------------------------------------------------------------------------------------
# The initial population


@njit(cache=True)
def base_hazard(log_a: float, log_b: float) -> float:
    """Monthly base churn hazard -ln(1 - theta) of theta ~ Beta(a, b), from the logs of Gamma(a) and Gamma(b) draws.

    theta = Ga / (Ga + Gb), kept below 1 so that the hazard is finite.
    """
    theta = min(1.0 / (1.0 + np.exp(log_b - log_a)), 1.0 - 1e-12)
    return -np.log1p(-theta)


@njit(cache=True)
def initial_loyalty(u: float, p: RuleParams) -> float:
    """Starting loyalty: uniform within ``loyalty_spread`` of ``initial_loyalty``, clipped to [0, 1]."""
    return clip01(p.population_initial_loyalty + p.population_loyalty_spread * (2.0 * u - 1.0))


# ---------------------------------------------------------------------------------------------------------------
# One interaction at a touchpoint (phase 1)


@njit(cache=True)
def realized_effort(level: float, u: float, noise: float) -> float:
    """Effort of one interaction: the touchpoint's level plus uniform noise, in [0, 1]."""
    return clip01(level + noise * (2.0 * u - 1.0))


@njit(cache=True)
def realized_feel(empathy: float, personalization: float, u: float, p: RuleParams) -> float:
    """How good one interaction feels before personal sensitivity: empathy and personalization plus noise."""
    base = p.behaviour_empathy_share * empathy + (1.0 - p.behaviour_empathy_share) * personalization
    return clip01(base + p.behaviour_feel_noise * (2.0 * u - 1.0))


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
        quality = p.behaviour_need_weight + p.behaviour_ease_weight * ease + p.behaviour_feel_weight * felt
    frustrating = (not need_met) or felt_effort > p.behaviour_effort_tolerance
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
    bond = p.stages_loyalty_bonus * (stage - FIRST_STAGE) / (TOP_STAGE - FIRST_STAGE)
    return clip01(p.behaviour_neutral_satisfaction + bond + p.behaviour_satisfaction_sensitivity * value)


@njit(cache=True)
def expectation_target(quality: float, p: RuleParams) -> float:
    """What expectations move towards: own experience, anchored by the market's norm."""
    return (1.0 - p.behaviour_market_anchor) * quality + p.behaviour_market_anchor * p.behaviour_market_expectation


@njit(cache=True)
def meets_stage(
    stage: int,
    need_met: bool,
    gap: float,
    felt: float,
    ease: float,
    empathy: float,
    personalization: float,
    p: RuleParams,
) -> bool:
    """Whether an interaction gives what the customer's current CX Spectrum stage asks for.

    Each stage asks for everything the one below asks for, plus: needs -> need met; expectations -> no gap;
    desires -> felt good; preferences -> easy; personalization -> a tailored touchpoint; empathy -> an
    empathetic one.
    """
    if not need_met:
        return False
    if stage >= EXPECTATIONS and gap < 0.0:
        return False
    if stage >= DESIRES and felt < p.stages_feel_threshold:
        return False
    if stage >= PREFERENCES and ease < p.stages_ease_threshold:
        return False
    if stage >= PERSONALIZATION and personalization < p.stages_personalization_threshold:
        return False
    if stage >= EMPATHY and empathy < p.stages_empathy_threshold:  # noqa: SIM103 - a line per stage
        return False
    return True


@njit(cache=True)
def next_stage(stage: int, meets: bool, value: float, u: float, p: RuleParams) -> int:
    """Move up or down the CX Spectrum after an interaction.

    Up one stage (chance ``advance_prob``) after an interaction that meets the stage; down one (chance
    ``slip_prob``) after one that neither meets it nor lives up to expectations.
    """
    if meets:
        if stage < TOP_STAGE and u < p.stages_advance_prob:
            return stage + 1
    elif value < 0.0 and stage > FIRST_STAGE and u < p.stages_slip_prob:
        return stage - 1
    return stage


@njit(cache=True)
def speak(value: float, emotion_sensitivity: float, u: float, p: RuleParams) -> int:
    """Word-of-mouth bit after an experience: salient delight or disappointment is told with its own chance.

    Salience is the loss-weighted disconfirmation felt through the persona's emotion sensitivity.
    """
    felt = value * emotion_sensitivity
    if felt >= p.word_of_mouth_positive_salience and felt > 0.0:
        if u < p.word_of_mouth_positive_share:
            return SPOKE_POSITIVE
    elif felt <= -p.word_of_mouth_negative_salience and felt < 0.0 and u < p.word_of_mouth_negative_share:
        return SPOKE_NEGATIVE
    return 0


@njit(cache=True)
def decay_frustration(frustration: float, p: RuleParams) -> float:
    """The memory of frustrating experiences fades by its half-life, once per step of a customer."""
    return frustration * p.frustration_decay


@njit(cache=True)
def interaction(
    stage: int,
    loyalty: float,
    expectation: float,
    frustration: float,
    touchpoint: np.ndarray,
    persona: np.ndarray,
    u: tuple[float, float, float, float, float],
    p: RuleParams,
) -> tuple[int, float, float, float, int, float]:
    """One use of a touchpoint, from the draws to the customer's reaction.

    ``touchpoint`` is its row of the plan's levels (`Level` columns), ``persona`` the customer's persona's row
    (`PersonaColumn` columns), ``u`` the draws (need, effort, feel, stage move, speaking). The need is
    met or not, effort and feel are realised, the pyramid judges them, the loss-weighted gap to expectation moves
    loyalty; expectation adapts; a frustrating use is remembered; the stage may move; a salient experience may be
    told. Returns (stage, loyalty, expectation, frustration, word-of-mouth bit, realised effort).
    """
    u_need, u_effort, u_feel, u_stage, u_speak = u
    empathy = touchpoint[Level.EMPATHY]
    personalization = touchpoint[Level.PERSONALIZATION]
    emotion_sensitivity = persona[PersonaColumn.EMOTION_SENSITIVITY]
    need_met = u_need < touchpoint[Level.FULFILMENT]
    effort = realized_effort(touchpoint[Level.EFFORT], u_effort, p.behaviour_effort_noise)
    feel = realized_feel(empathy, personalization, u_feel, p)
    quality, ease, felt, frustrating = perceive(
        need_met, effort, feel, persona[PersonaColumn.EFFORT_SENSITIVITY], emotion_sensitivity, p
    )
    value = disconfirmation(quality, expectation, p.behaviour_loss_aversion)
    new_loyalty = adapt(loyalty, satisfaction(value, stage, p), p.behaviour_loyalty_learning)
    new_expectation = adapt(expectation, expectation_target(quality, p), p.behaviour_expectation_learning)
    if frustrating:
        frustration = frustration + 1.0
    meets = meets_stage(stage, need_met, quality - expectation, felt, ease, empathy, personalization, p)
    new_stage = next_stage(stage, meets, value, u_stage, p)
    told = speak(value, emotion_sensitivity, u_speak, p)
    return new_stage, new_loyalty, new_expectation, frustration, told, effort


# ---------------------------------------------------------------------------------------------------------------
# Word of mouth (phase 2)

POSITIVE = 1
"""`message` of a customer who tells about a good experience this step."""
NEGATIVE = -1
"""`message` of a customer who tells about a bad experience this step."""


@njit(cache=True)
def message(flags: int) -> int:
    """What a person tells its neighbours this step: `POSITIVE`, `NEGATIVE` or 0 (only customers speak)."""
    if not flags & ACTIVE:
        return 0
    if flags & SPOKE_POSITIVE:
        return POSITIVE
    if flags & SPOKE_NEGATIVE:
        return NEGATIVE
    return 0


@njit(cache=True)
def reach(told: int, p: RuleParams) -> float:
    """Chance that a message reaches one neighbour: bad news travels further (seed 004)."""
    if told == POSITIVE:
        return p.word_of_mouth_positive_reach
    if told == NEGATIVE:
        return p.word_of_mouth_negative_reach
    return 0.0


@njit(cache=True)
def wom_influence(
    active_neighbours: float, positive_heard: float, negative_heard: float, degree: float, p: RuleParams
) -> tuple[float, float]:
    """Adoption influence (share of neighbours who are customers) and net word of mouth heard, per neighbour."""
    if degree <= 0.0:
        return 0.0, 0.0
    net = (p.word_of_mouth_positive_weight * positive_heard - p.word_of_mouth_negative_weight * negative_heard) / degree
    return active_neighbours / degree, net


@njit(cache=True)
def mean_field_influence(
    flags: int, n_active: float, n_positive: float, n_negative: float, n: int, p: RuleParams
) -> tuple[float, float]:
    """`wom_influence` on the complete network: everyone hears the expected word of mouth of everyone else.

    ``n_active``, ``n_positive`` and ``n_negative`` count customers and speakers this step (the person's own
    flags are taken out); each speaker reaches a listener with the chance of their message's reach.
    """
    own_a = 1.0 if flags & ACTIVE else 0.0
    own_p = 1.0 if message(flags) == POSITIVE else 0.0
    own_n = 1.0 if message(flags) == NEGATIVE else 0.0
    return wom_influence(
        n_active - own_a,
        p.word_of_mouth_positive_reach * (n_positive - own_p),
        p.word_of_mouth_negative_reach * (n_negative - own_n),
        float(n - 1),
        p,
    )


@njit(cache=True)
def expectation_after_hearing(expectation: float, heard: float, p: RuleParams) -> float:
    """Expectation after word of mouth: praise raises it.

    Complaints erode loyalty instead (see `loyalty_after_hearing`) and do not make a customer expect less.
    """
    return clip01(expectation + p.word_of_mouth_expectation_effect * max(heard, 0.0))


@njit(cache=True)
def loyalty_after_hearing(loyalty: float, heard: float, p: RuleParams) -> float:
    """Net word of mouth heard moves loyalty (seed 004)."""
    return clip01(loyalty + p.word_of_mouth_loyalty_effect * heard)


@njit(cache=True)
def hear(loyalty: float, expectation: float, heard: float, p: RuleParams) -> tuple[float, float]:
    """A customer's (loyalty, expectation) after taking in the net word of mouth heard this step."""
    return loyalty_after_hearing(loyalty, heard, p), expectation_after_hearing(expectation, heard, p)


# ---------------------------------------------------------------------------------------------------------------
# Adoption and churn (phase 3)


@njit(cache=True)
def adoption_probability(marketing: float, influence: float, heard: float, p: RuleParams) -> float:
    """Chance per step that a prospect adopts: Bass p + q I per month, converted to the step.

    I is the share of neighbours who are customers plus the net word of mouth heard, which is a flow in the step
    and so enters as a rate per month (``heard / months``).
    """
    per_month = marketing + p.market_imitation * clip01(influence + heard / p.months)
    return step_probability(min(1.0, per_month), p.months)


@njit(cache=True)
def adopt(heard: float, p: RuleParams) -> tuple[int, float, float]:
    """A new customer's (stage, expectation, frustration).

    The first stage, expectations raised by praise heard, no remembered frustration.
    """
    return FIRST_STAGE, expectation_after_hearing(p.population_initial_expectation, heard, p), 0.0


@njit(cache=True)
def churn_hazard(base_hazard: float, loyalty: float, frustration: float, price: float, p: RuleParams) -> float:
    """Monthly churn hazard: base propensity scaled by loyalty, plus frustration, competitor pull and price."""
    if not p.churn_enabled:
        return 0.0
    h = base_hazard
    if p.churn_loyalty_effect != 0.0:
        h *= math.exp(p.churn_loyalty_effect * (p.churn_loyalty_reference - loyalty))
    h += p.churn_frustration_effect * frustration
    h += p.market_competitor_pull * (1.0 - loyalty)
    h += p.market_price_sensitivity * max(0.0, price - 1.0)
    return h


@njit(cache=True)
def churns(u: float, hazard: float, months: float) -> bool:
    """Whether a customer with this monthly hazard leaves in a step of ``months``, by the draw ``u``.

    1 - exp(-h m) <= h m, so a draw above h m decides without the exponential.
    """
    return hazard > 0.0 and u < hazard * months * MARGIN and u < hazard_probability(hazard, months)


# ---------------------------------------------------------------------------------------------------------------
# What is counted (phase 4)


@njit(cache=True)
def bell(u1: float, u2: float, u3: float) -> float:
    """A bell-shaped variate of mean 0 and variance 1 from three uniforms: 2 (u1 + u2 + u3) - 3 (Irwin-Hall).

    Close to a standard normal (kurtosis 2.6 instead of 3, bounded at +-3) and free of transcendental functions, so
    every customer can answer the NPS question every step at little cost.
    """
    return 2.0 * (u1 + u2 + u3) - 3.0


@njit(cache=True)
def recommend_score(loyalty: float, scale_use: float, noise: float, p: RuleParams) -> int:
    """The 0-10 answer to the NPS question, from loyalty, the customer's scale use and the occasion.

    Ten times loyalty, shifted by the customer's own way of using the scale and by the occasion, rounded and kept in
    0..10. ``scale_use`` and ``noise`` are `bell` draws (mean 0, variance 1), scaled by ``nps.scale_use_sd`` and
    ``nps.answer_noise_sd``.
    """
    answer = 10.0 * loyalty + p.nps_scale_use_sd * scale_use + p.nps_answer_noise_sd * noise
    return min(10, max(0, math.floor(answer + 0.5)))


@njit(cache=True)
def is_customer(stage: int) -> bool:
    """A customer now, at any CX Spectrum stage (not a prospect, not churned)."""
    return FIRST_STAGE <= stage < CHURNED
