"""Known answers of every rule of one customer, and the bounds the kernels' shortcuts rely on.

Each rule is called on its own with hand-computed inputs. CI runs this file a second time with
``NUMBA_DISABLE_JIT=1``, so the rules are also checked as plain Python (and coverage can see them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import (
    ACTIVE,
    AT_RISK,
    CHURNED,
    DESIRES,
    EMPATHY,
    EXPECTATIONS,
    NEEDS,
    PERSONALIZATION,
    PREFERENCES,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
    TOP_STAGE,
    Level,
    PersonaColumn,
)
from loyaltysim.engine.params import rule_params
from loyaltysim.scenario import Scenario

P = rule_params(Scenario())  # the documented defaults
STAGE_ORDER = list(range(NEEDS, TOP_STAGE + 1))
TRAITS = (0.3, 0.55, 0.45, 0.45, 0.7)  # every threshold and the effort tolerance at its mean
unit = st.floats(0.0, 1.0, allow_nan=False)


def test_the_defaults_are_what_the_hand_computations_assume():
    assert (P.behaviour_need_weight, P.behaviour_ease_weight, P.behaviour_feel_weight) == (0.4, 0.08, 0.52)
    assert (P.behaviour_loss_aversion, P.behaviour_neutral_satisfaction, P.stages_loyalty_bonus) == (2.25, 0.62, 0.15)
    assert (P.behaviour_value_curvature, P.behaviour_value_for_money, P.behaviour_recovery_paradox) == (0.88, 0.1, 0.1)
    assert P.months == pytest.approx(7 / (365.25 / 12))


def test_rule_constants_come_from_the_declarations_but_levers_from_the_plan():
    fields = set(P._fields)
    assert {"behaviour_loss_aversion", "word_of_mouth_loyalty_effect", "churn_loyalty_effect"} <= fields
    assert not {"market_marketing", "market_price"} & fields  # levers change per step: read from the plan
    assert STAGE_ORDER == [NEEDS, EXPECTATIONS, AT_RISK, DESIRES, PREFERENCES, PERSONALIZATION, EMPATHY]


# --- conversions and draws -----------------------------------------------------------------------------------------


def test_step_and_hazard_probabilities():
    assert r.step_probability(0.5, 1.0) == 0.5
    assert r.step_probability(0.5, 2.0) == pytest.approx(0.75)
    assert r.step_probability(1.0, 0.25) == 1.0
    assert r.hazard_probability(math.log(2), 1.0) == pytest.approx(0.5)


def test_visit_count_is_the_inverse_poisson_cdf():
    rate = 2.0
    cdf = np.cumsum([math.exp(-rate) * rate**k / math.factorial(k) for k in range(12)])
    assert r.visit_count(0.0, rate, math.exp(-rate)) == 0
    for k in range(10):
        assert r.visit_count(cdf[k] - 1e-12, rate, math.exp(-rate)) == k
        assert r.visit_count(cdf[k] + 1e-12, rate, math.exp(-rate)) == k + 1
    assert r.visit_count(1.0 - 1e-17, 500.0, math.exp(-500.0)) == r.MAX_VISITS  # capped


def test_choose_picks_from_cumulative_shares():
    cum = np.array([0.2, 0.5, 1.0])
    assert [r.choose(u, cum) for u in (0.0, 0.19, 0.2, 0.49, 0.5, 0.99, 1.0)] == [0, 0, 1, 1, 2, 2, 2]


# --- one interaction -------------------------------------------------------------------------------------------

PERSONA = np.ones(len(PersonaColumn))


def test_traits_are_spread_around_their_means():
    assert r.customer_traits((0.5,) * 6, P) == pytest.approx(TRAITS)
    low = r.customer_traits((0.0,) * 6, P)
    high = r.customer_traits((1.0,) * 6, P)
    assert low == pytest.approx((0.05, 0.3, 0.2, 0.2, 0.5)) and high == pytest.approx((0.55, 0.8, 0.7, 0.7, 0.9))
    assert r.spread_trait(0.0, 0.1, 0.5) == 0.0 and r.spread_trait(1.0, 0.9, 0.5) == 1.0  # kept in [0, 1]


def test_perceive_like_the_pyramid():
    quality, ease, felt, felt_personal, felt_empathy, frustrating = r.perceive(
        True, False, 0.5, 0.6, 0.4, PERSONA, 0.7, P
    )
    assert (quality, ease, felt, felt_personal, felt_empathy) == pytest.approx(
        (0.4 + 0.08 * 0.5 + 0.52 * 0.5, 0.5, 0.5, 0.4, 0.6)
    )
    assert not frustrating
    unmet = r.perceive(False, False, 0.1, 1.0, 1.0, PERSONA, 0.7, P)
    assert unmet[0] == 0.0 and unmet[5]  # an unmet need: worthless and frustrating
    assert r.perceive(True, False, 0.71, 0.5, 0.5, PERSONA, 0.7, P)[5]  # felt effort above one's own tolerance
    assert not r.perceive(True, False, 0.71, 0.5, 0.5, PERSONA, 0.8, P)[5]  # a more patient customer
    sensitive = PERSONA.copy()
    sensitive[PersonaColumn.EFFORT_SENSITIVITY] = 2.0
    assert r.perceive(True, False, 0.4, 0.5, 0.5, sensitive, 0.7, P)[5]  # an effort-sensitive persona feels 0.8
    fixed = r.perceive(True, True, 0.5, 0.6, 0.4, PERSONA, 0.7, P)[0]
    assert fixed == pytest.approx(quality + 0.1)  # a fixed failure: the recovery paradox
    assert r.perceive(True, True, 0.0, 1.0, 1.0, PERSONA, 0.7, P)[0] == 1.0  # capped at 1


def test_recovery_contacts_and_fixes():
    assert r.recover(0.1, 0.4, 0.5) == (True, True)  # below recovery x quality = 0.2: contacted and fixed
    assert r.recover(0.3, 0.4, 0.5) == (True, False)  # contacted, not fixed
    assert r.recover(0.5, 0.4, 0.5) == (False, False)
    assert r.recover(0.0, 0.0, 1.0) == (False, False)


def test_the_gap_is_felt_with_loss_aversion_and_diminishing_sensitivity():
    assert r.felt_gap(0.2, P) == pytest.approx(0.2**0.88)
    assert r.felt_gap(-0.2, P) == pytest.approx(-2.25 * 0.2**0.88)
    assert r.felt_gap(0.0, P) == 0.0
    linear = P._replace(behaviour_value_curvature=1.0)
    assert r.felt_gap(-0.2, linear) == pytest.approx(-0.45) and r.felt_gap(0.2, linear) == pytest.approx(0.2)
    # diminishing sensitivity: the second tenth of a gap is felt less than the first
    assert r.felt_gap(0.2, P) - r.felt_gap(0.1, P) < r.felt_gap(0.1, P)


@settings(deadline=None)  # the first call compiles the rule
@given(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))
def test_the_felt_gap_is_monotone_and_loss_averse(a, b):
    lo, hi = min(a, b), max(a, b)
    assert r.felt_gap(lo, P) <= r.felt_gap(hi, P)
    assert r.felt_gap(-abs(a), P) <= -r.felt_gap(abs(a), P) + 1e-12


def test_satisfaction_and_smoothing():
    assert r.satisfaction(0.0, DESIRES, 0.0, P) == pytest.approx(0.62)
    assert r.satisfaction(0.0, AT_RISK, 0.0, P) == pytest.approx(0.62)  # no bond below desires
    assert r.satisfaction(0.0, TOP_STAGE, 0.0, P) == pytest.approx(0.77)  # the bond of the empathy stage
    assert r.satisfaction(0.1, DESIRES, 0.0, P) == pytest.approx(0.77)
    assert r.satisfaction(0.0, DESIRES, 0.5, P) == pytest.approx(0.62 - 0.1 * 0.5)  # the price hurts (ACSI value)
    assert r.satisfaction(0.0, DESIRES, -0.5, P) == pytest.approx(0.67)  # a bargain pleases
    assert r.satisfaction(1.0, TOP_STAGE, 0.0, P) == 1.0 and r.satisfaction(-1.0, DESIRES, 0.0, P) == 0.0
    assert r.adapt(0.0, 1.0, 0.2) == pytest.approx(0.2)
    norm = 0.5 * 0.5 + 0.5 * P.competitor_quality  # half the market's norm is the competitor's experience
    assert P.market_norm == pytest.approx(norm)
    assert r.expectation_target(1.0, P) == pytest.approx(0.7 + 0.3 * norm)


LADDER = [  # stage, need met, felt, ease, felt personalization, felt empathy -> delivers (thresholds TRAITS)
    (AT_RISK, True, 0.3, 0.0, 0.0, 0.0, True),  # at risk asks to be desired again
    (DESIRES, True, 0.29, 1.0, 1.0, 1.0, False),
    (DESIRES, True, 0.3, 0.0, 0.0, 0.0, True),
    (DESIRES, False, 1.0, 1.0, 1.0, 1.0, False),  # every stage asks for the need met
    (PREFERENCES, True, 0.0, 0.54, 1.0, 1.0, False),
    (PREFERENCES, True, 0.0, 0.55, 0.0, 0.0, True),
    (PERSONALIZATION, True, 1.0, 1.0, 0.44, 1.0, False),
    (PERSONALIZATION, True, 0.0, 0.0, 0.45, 0.0, True),
    (EMPATHY, True, 1.0, 1.0, 1.0, 0.44, False),
    (EMPATHY, True, 0.0, 0.0, 0.0, 0.45, True),
]


@pytest.mark.parametrize("stage,need,felt,ease,personal,empathy,delivers", LADDER)
def test_each_stage_asks_for_its_own_felt_attribute(stage, need, felt, ease, personal, empathy, delivers):
    assert r.delivers(stage, need, felt, ease, personal, empathy, TRAITS) is delivers


def test_stage_moves_up_on_delivery_and_down_on_disappointment():
    up = (True, 0.1, 1.0, 1.0, 1.0, 1.0, TRAITS)  # need met, no disappointment, everything delivered
    assert r.next_stage(DESIRES, *up, 0.24, P) == PREFERENCES  # advance_prob 0.25
    assert r.next_stage(DESIRES, *up, 0.25, P) == DESIRES
    assert r.next_stage(AT_RISK, *up, 0.0, P) == DESIRES  # back from at risk
    assert r.next_stage(TOP_STAGE, *up, 0.0, P) == TOP_STAGE
    assert r.next_stage(DESIRES, True, -0.1, 1.0, 1.0, 1.0, 1.0, TRAITS, 0.0, P) == DESIRES  # disappointing: no rise
    down = (False, -0.1, 0.0, 0.0, 0.0, 0.0, TRAITS)  # a disappointing failure
    assert r.next_stage(PREFERENCES, *down, 0.14, P) == DESIRES  # slip_prob 0.15
    assert r.next_stage(PREFERENCES, *down, 0.15, P) == PREFERENCES
    assert r.next_stage(DESIRES, *down, 0.0, P) == AT_RISK  # below desires: at risk, still a customer
    assert r.next_stage(AT_RISK, *down, 0.0, P) == AT_RISK  # and no further
    assert r.next_stage(EMPATHY, True, -0.1, 0.0, 0.0, 0.0, 0.9, TRAITS, 0.0, P) == EMPATHY  # felt cared for: stays
    assert r.next_stage(DESIRES, False, 0.0, 0.0, 0.0, 0.0, 0.0, TRAITS, 0.0, P) == DESIRES  # no disappointment


def test_speaking_needs_salience_and_its_chance():
    assert r.speak(0.08, 1.0, 0.34, P) == r.POSITIVE  # positive_salience 0.08, positive_share 0.35
    assert r.speak(0.08, 1.0, 0.35, P) == 0
    assert r.speak(0.079, 1.0, 0.0, P) == 0
    assert r.speak(0.05, 2.0, 0.0, P) == r.POSITIVE  # felt through emotion sensitivity
    assert r.speak(-0.08, 1.0, 0.46, P) == r.NEGATIVE  # negative_share 0.47
    assert r.speak(-0.08, 1.0, 0.47, P) == 0
    assert r.speak(0.0, 1.0, 0.0, P) == 0


def test_memorable_is_what_may_be_told():
    assert r.memorable(0.08, 1.0, P) == r.POSITIVE and r.memorable(0.079, 1.0, P) == 0
    assert r.memorable(-0.08, 1.0, P) == r.NEGATIVE and r.memorable(-0.05, 2.0, P) == r.NEGATIVE
    assert r.memorable(0.0, 1.0, P._replace(word_of_mouth_positive_salience=0.0)) == 0
    for value in np.linspace(-0.3, 0.3, 61):
        told = r.speak(value, 1.0, 0.0, P)
        assert told == r.memorable(value, 1.0, P)  # with a draw of 0, every memorable experience is told


@pytest.mark.parametrize("step_days,half_life", [(7.0, 28.0), (1.0, 30.0), (30.4375, 60.875)])
def test_frustration_fades_by_its_half_life(step_days, half_life):
    scenario = Scenario.model_validate(
        {
            "time": {"step_days": step_days, "horizon_days": 10 * step_days},
            "behaviour": {"frustration_half_life_days": half_life},
        }
    )
    p = rule_params(scenario)
    f = 1.0
    for _ in range(round(half_life / step_days)):
        f, _ = r.frustration_memory(f, 0, p)
    assert f == pytest.approx(0.5)  # one half-life later, half the memory is left


@pytest.mark.parametrize("step_days", [1.0, 7.0, 30.4375])
def test_frustration_exposure_does_not_depend_on_the_step(step_days):
    """One frustration adds half-life / ln 2 days of remembered frustration in all, whatever the step length."""
    p = rule_params(Scenario.model_validate({"time": {"step_days": step_days, "horizon_days": 5000.0}}))
    memory, exposure = r.frustration_memory(0.0, 1, p)
    total = exposure * step_days
    for _ in range(round(3000 / step_days)):
        memory, exposure = r.frustration_memory(memory, 0, p)
        total += exposure * step_days
    assert total == pytest.approx(30.0 / math.log(2), rel=1e-6)


def test_one_interaction_by_hand():
    touchpoint = np.zeros(len(Level))
    touchpoint[[Level.CUMULATIVE_SHARE, Level.FULFILMENT, Level.EFFORT, Level.EMPATHY, Level.PERSONALIZATION]] = (
        1.0,
        0.9,
        0.4,
        0.4,
        0.3,
    )
    touchpoint[[Level.RECOVERY, Level.RECOVERY_QUALITY]] = (0.5, 0.5)
    # draws: need, effort, empathy, personalization, stage, speaking, recovery (0.5: no noise)
    stage, loyalty, expectation, frustrating, told, effort, contact, met, kind, ease, felt, tailored, perceived = (
        r.interaction(DESIRES, 0.6, 0.5, touchpoint, PERSONA, TRAITS, 0.0, (0.5, 0.5, 0.5, 0.5, 0.99, 0.99, 0.9), P)
    )
    quality = 0.4 + 0.08 * 0.6 + 0.52 * (0.5 * 0.4 + 0.5 * 0.3)  # need met, effort 0.4, feel 0.35
    assert perceived == pytest.approx(quality)  # the SERVQUAL gap of this interaction: 0.58 - 0.5
    value = (quality - 0.5) ** 0.88  # quality 0.58 beats the expected 0.5: a gain, felt with diminishing sensitivity
    satisfaction = 0.62 + 1.5 * value
    assert effort == pytest.approx(0.4)
    assert loyalty == pytest.approx(0.6 + 0.1 * (satisfaction - 0.6))
    assert expectation == pytest.approx(0.5 + 0.2 * (0.7 * quality + 0.3 * P.market_norm - 0.5))
    assert not frustrating and not contact and told == 0  # salient, but u_speak 0.99 is above positive_share
    assert stage == DESIRES  # u_stage 0.99: no move
    # what the survey's diary records: met, memorable (value 0.108 >= salience 0.08), ease, emotion, not tailored
    assert met and kind == r.POSITIVE and ease == pytest.approx(0.6) and felt == pytest.approx(0.35)
    assert not tailored  # felt personalization 0.3 is below the threshold 0.45


def test_a_failed_interaction_by_hand():
    touchpoint = np.zeros(len(Level))
    touchpoint[[Level.FULFILMENT, Level.EFFORT, Level.EMPATHY, Level.PERSONALIZATION]] = (0.9, 0.4, 0.4, 0.3)
    touchpoint[[Level.RECOVERY, Level.RECOVERY_QUALITY]] = (0.5, 0.5)
    draws = (0.95, 0.5, 0.5, 0.5, 0.1, 0.1, 0.9)  # the need unmet, no recovery contact (0.9 > 0.5)
    stage, loyalty, _, frustrating, told, _, contact, met, kind, *_ = r.interaction(
        DESIRES, 0.6, 0.5, touchpoint, PERSONA, TRAITS, 0.0, draws, P
    )
    assert (stage, frustrating, told, contact) == (AT_RISK, True, r.NEGATIVE, False) and loyalty < 0.6
    assert not met and kind == r.NEGATIVE
    fixed = (0.95, 0.5, 0.5, 0.5, 0.99, 0.99, 0.1)  # a recovery contact that fixes it (0.1 < 0.25)
    stage, fixed_loyalty, _, frustrating, _, _, contact, met, *_ = r.interaction(
        DESIRES, 0.6, 0.5, touchpoint, PERSONA, TRAITS, 0.0, fixed, P
    )
    assert contact and not frustrating and fixed_loyalty > loyalty and met
    plain = r.interaction(DESIRES, 0.6, 0.5, touchpoint, PERSONA, TRAITS, 0.0, (0.5, *fixed[1:]), P)[1]
    assert fixed_loyalty > plain  # the recovery paradox: better than no failure at all


# --- word of mouth, adoption, churn ----------------------------------------------------------------------------


def test_heard_counts_are_binomial():
    assert r.heard_count(0.09, 1, 0.1) == 1 and r.heard_count(0.1, 1, 0.1) == 0
    assert r.heard_count(0.5, 0, 0.4) == 0 and r.heard_count(0.5, 3, 1.0) == 3 and r.heard_count(0.0, 3, 0.0) == 0
    told, reach = 5, 0.4
    pmf = [math.comb(told, k) * reach**k * (1 - reach) ** (told - k) for k in range(told + 1)]
    cdf = np.cumsum(pmf)
    for k in range(told):
        assert r.heard_count(cdf[k] - 1e-9, told, reach) == k
        assert r.heard_count(cdf[k] + 1e-9, told, reach) == k + 1
    u = np.random.default_rng(3).random(100_000)
    mean = np.mean([r.heard_count(x, told, reach) for x in u[:20_000]])
    assert mean == pytest.approx(told * reach, abs=0.03)


def test_word_of_mouth_heard_per_neighbour():
    assert r.wom_influence(3.0, 2.0, 1.0, 10.0, P) == pytest.approx((0.3, 0.1))
    assert r.wom_influence(3.0, 2.0, 1.0, 0.0, P) == (0.0, 0.0)
    everyone = r.mean_field_influence(True, 2.0, 0.0, 11.0, 6.0, 2.0, 101, P)
    expected = r.wom_influence(10.0, P.word_of_mouth_positive_reach * 4, P.word_of_mouth_negative_reach * 2, 100, P)
    assert everyone == pytest.approx(expected)  # one's own stories are not heard
    assert r.hear_as_prospect(0.5, -0.5, P) == pytest.approx(0.4)  # linear: complaints lower it
    assert r.hear_as_prospect(0.5, 0.5, P) == pytest.approx(0.6)
    assert r.hear_loyalty(0.5, -0.5, P) == pytest.approx(0.35)
    assert r.hear_loyalty(0.99, 1.0, P) == 1.0


def test_the_push_bookkeeping_agrees_with_who_speaks():
    from loyaltysim.engine.layout import COUNTED
    from loyaltysim.engine.listen import _must_push

    for f in range(256):
        changed = bool(f & ACTIVE) != bool(f & COUNTED)
        speaks = bool(f & ACTIVE) and bool(f & (SPOKE_POSITIVE | SPOKE_NEGATIVE))
        assert bool(_must_push(np.uint8(f))) == (changed or speaks), f


def test_initial_population_rules():
    assert r.initial_loyalty(0.5, P) == pytest.approx(0.7)
    assert (r.initial_loyalty(0.0, P), r.initial_loyalty(1.0, P)) == pytest.approx((0.45, 0.95))
    theta = 0.02
    log_a, log_b = math.log(theta), math.log(1 - theta)  # Ga / (Ga + Gb) = theta
    assert r.base_hazard(log_a, log_b) == pytest.approx(-math.log(1 - theta))
    assert math.isfinite(r.base_hazard(0.0, -800.0))  # theta near 1 stays finite


def test_willingness_to_pay_and_the_pain_of_a_price():
    assert r.willingness_to_pay(0.5, 0.6, P) == pytest.approx(1.0)  # the reference, at the reference loyalty
    assert r.willingness_to_pay(1.0, 0.6, P) == pytest.approx(1.4)
    assert r.willingness_to_pay(0.0, 0.6, P) == pytest.approx(0.6)
    assert r.willingness_to_pay(0.5, 0.85, P) == pytest.approx(1.0 + 0.65 * 0.25)  # grows with the experience
    assert r.price_pain(1.1, 1.0, P) == pytest.approx(0.2)  # a loss: twice its size
    assert r.price_pain(0.9, 1.0, P) == pytest.approx(-0.1)  # a gain


def test_consideration_and_adoption_are_bass_rates():
    neutral = 0.7  # population.initial_loyalty: the attitude of an average prospect
    p = P._replace(months=1.0, market_discrete_bass=True)
    assert r.adoption_probability(0.01, 0.5, neutral, 0.0, 1.0, p) == pytest.approx(0.01 + 0.032 * 0.5)
    assert r.adoption_probability(0.99, 1.0, neutral, 0.0, 1.0, p) == 1.0
    hazard = P._replace(months=1.0)
    assert r.adoption_probability(0.01, 0.5, neutral, 0.0, 1.0, hazard) == pytest.approx(1 - math.exp(-0.026))
    assert r.adoption_probability(0.01, 0.5, neutral, 0.0, 0.5, hazard) == pytest.approx(1 - math.exp(-0.013))
    assert r.adoption_probability(0.01, 0.5, neutral, 0.2, 1.0, hazard) == pytest.approx(
        1 - math.exp(-0.026 * math.exp(-0.5 * 0.2))
    )  # the price's pain slows the purchase
    assert r.adoption_probability(0.01, 0.5, 0.8, 0.0, 1.0, hazard) == pytest.approx(
        1 - math.exp(-0.026 * math.exp(4.0 * 0.1))
    )  # praise heard raised the attitude: a faster purchase
    assert r.consideration_probability(0.5, neutral, hazard) == pytest.approx(1 - math.exp(-(0.1 + 0.032 * 0.5)))
    assert r.consideration_probability(0.5, 0.6, hazard) < r.consideration_probability(0.5, neutral, hazard)
    assert r.adopt() == (DESIRES, 0.0)  # the purchase happens at desires


def test_churn_hazard_terms():
    base = r.firm_hazard(0.02, 0.6, 0.0, 0.0, False, P)
    assert base == pytest.approx(0.02)
    assert r.firm_hazard(0.02, 0.4, 0.0, 0.0, False, P) == pytest.approx(0.02 * math.exp(2.0 * 0.2))
    assert r.firm_hazard(0.02, 0.6, 2.0, 0.0, False, P) == pytest.approx(0.02 + 0.01 * 2)
    assert r.firm_hazard(0.02, 0.6, 0.0, 0.2, False, P) == pytest.approx(0.02 * math.exp(0.5 * 0.2))
    assert r.firm_hazard(0.02, 0.6, 0.0, -0.2, False, P) < base  # a price below willingness to pay keeps customers
    assert r.firm_hazard(0.02, 0.6, 0.0, 0.0, True, P) == pytest.approx(0.02 * 1.25)  # at risk
    assert r.firm_hazard(0.02, 0.0, 9.0, 9.0, True, P._replace(churn_enabled=False)) == 0.0
    advantage = P.competitor_quality - 0.5
    assert r.competitor_hazard(0.6, 1.0, P) == pytest.approx(0.06 / (1 + math.exp(-8.0 * advantage)))
    assert r.competitor_hazard(0.9, 1.0, P) < r.competitor_hazard(0.6, 1.0, P)  # loyalty holds customers back
    assert r.competitor_hazard(0.6, 1.2, P) > r.competitor_hazard(0.6, 1.0, P)  # our dearer price pushes them
    assert r.competitor_hazard(0.6, 1.0, P._replace(competitor_visibility=0.0)) == 0.0
    better = P._replace(competitor_quality=P.competitor_quality + 0.2)
    assert r.competitor_hazard(0.6, 1.0, better) > r.competitor_hazard(0.6, 1.0, P)


@settings(deadline=None)  # the first call compiles the rule
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 20.0), st.floats(-2.0, 2.0))
def test_churn_hazard_falls_with_loyalty(low, high, frustration, pain):
    low, high = min(low, high), max(low, high)
    assert r.firm_hazard(0.02, high, frustration, pain, False, P) <= r.firm_hazard(
        0.02, low, frustration, pain, False, P
    )
    assert r.competitor_hazard(high, 1.0, P) <= r.competitor_hazard(low, 1.0, P)


def test_churn_decision_attributes_the_competitor_share():
    months = P.months
    own = r.firm_hazard(0.02, 0.6, 0.0, 0.0, False, P)
    rival = r.competitor_hazard(0.6, 1.0, P)
    prob = r.hazard_probability(own + rival, months)
    assert r.churn_decision(prob - 1e-12, 0.02, 0.6, 0.0, 0.0, False, 1.0, P) == (
        True,
        pytest.approx(rival / (own + rival)),
    )
    assert r.churn_decision(prob + 1e-12, 0.02, 0.6, 0.0, 0.0, False, 1.0, P) == (False, 0.0)
    hidden = P._replace(competitor_visibility=0.0)
    assert r.churn_decision(0.0, 0.02, 0.6, 0.0, 0.0, False, 1.0, hidden) == (True, 0.0)


def test_churn_and_the_nps_question():
    prob = r.hazard_probability(0.1, 1.0)
    assert r.churns(prob - 1e-12, 0.1, 1.0) and not r.churns(prob + 1e-12, 0.1, 1.0)
    assert not r.churns(0.0, 0.0, 1.0)
    assert [r.recommend_score(x, 0.0, 0.0, P) for x in (0.0, 0.5, 0.64, 0.66, 0.84, 0.86, 1.0)] == [
        0,
        5,
        6,
        7,
        8,
        9,
        10,
    ]
    assert r.recommend_score(0.7, 1.0, 0.0, P) == 9  # a generous scale user: 7 + 1.5 points
    assert r.recommend_score(0.7, -1.0, -1.0, P) == 5  # a severe one on a bad day: 7 - 1.5 - 1
    assert r.recommend_score(0.99, 3.0, 3.0, P) == 10 and r.recommend_score(0.01, -3.0, -3.0, P) == 0
    assert (r.bell(0.5, 0.5, 0.5), r.bell(0.0, 0.0, 0.0), r.bell(1.0, 1.0, 1.0)) == (0.0, -3.0, 3.0)
    u = np.random.default_rng(1).random((3, 200_000))
    z = r.bell(u[0], u[1], u[2])
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    codes = (NEEDS, EXPECTATIONS, AT_RISK, DESIRES, TOP_STAGE, CHURNED)
    assert [r.is_customer(s) for s in codes] == [False, False, True, True, True, False]
    assert [r.is_prospect(s) for s in codes] == [True, True, False, False, False, False]


# --- bounds the kernels' shortcuts rely on -----------------------------------------------------------------------


def test_adoption_and_consideration_caps_bound_the_rules():
    """`kernels.transition` skips a rule when the draw is above its value at influence 1 and the least pain."""
    rng = np.random.default_rng(0)
    for price in (0.5, 1.0, 3.0):
        least_pain = r.price_pain(price, r.willingness_to_pay(1.0, 1.0, P), P)
        for marketing in (0.0, 0.0025, 0.3, 1.0):
            cap = r.adoption_probability(marketing, 1.0, 1.0, least_pain, 1.0, P)
            for influence, u, loyalty in zip(rng.random(300), rng.random(300), rng.random(300), strict=True):
                pain = r.price_pain(price, r.willingness_to_pay(u, loyalty, P), P)
                for share in (0.5, 1.0):
                    assert r.adoption_probability(marketing, influence, loyalty, pain, share, P) <= cap
                assert r.consideration_probability(influence, loyalty, P) <= r.consideration_probability(1.0, 1.0, P)


@settings(deadline=None)  # the first call compiles the rule
@given(
    st.floats(1e-6, 5.0),
    st.floats(0.0, 1.0),
    st.floats(0.0, 50.0),
    st.booleans(),
    st.floats(0.1, 10.0),
    st.floats(0.0, 1.0),
)
def test_churn_bound_bounds_the_hazard(base, loyalty, frustration, at_risk, price, u):
    """`kernels.transition` decides draws above `rules.churn_bound` at once: it must bound the hazard for any WTP."""
    bound = r.churn_bound(base, loyalty, frustration, at_risk, price, P)
    pain = r.price_pain(price, r.willingness_to_pay(u, loyalty, P), P)
    hazard = r.firm_hazard(base, loyalty, frustration, pain, at_risk, P) + r.competitor_hazard(loyalty, price, P)
    assert hazard <= bound * (1 + 1e-12)


def test_churn_probability_is_below_hazard_times_step():
    """`rules.churns` skips the exact churn chance when the draw is above hazard x months."""
    for h in np.geomspace(1e-8, 50, 200):
        for months in (7 / 30.44, 1.0, 3.0):
            assert r.hazard_probability(h, months) <= h * months * r.MARGIN
