"""Known answers of every rule of one customer, and the bounds the kernels' shortcuts rely on.

Each rule is called on its own with hand-computed inputs. CI runs this file a second time with
``NUMBA_DISABLE_JIT=1``, so the rules are also checked as plain Python (and coverage can see them).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyaltysim.engine import rules as r
from loyaltysim.engine.layout import (
    ACTIVE,
    CHURNED,
    DESIRES,
    EMPATHY,
    EXPECTATIONS,
    FIRST_STAGE,
    NEEDS,
    PERSONALIZATION,
    PREFERENCES,
    PROSPECT,
    SPOKE_NEGATIVE,
    SPOKE_POSITIVE,
    TOP_STAGE,
    Level,
    PersonaColumn,
)
from loyaltysim.engine.params import rule_params
from loyaltysim.scenario import Scenario

P = rule_params(Scenario())  # the documented defaults
STAGE_ORDER = list(range(FIRST_STAGE, TOP_STAGE + 1))
unit = st.floats(0.0, 1.0, allow_nan=False)


def test_the_defaults_are_what_the_hand_computations_assume():
    assert (P.behaviour_need_weight, P.behaviour_ease_weight, P.behaviour_feel_weight) == (0.4, 0.08, 0.52)
    assert (P.behaviour_loss_aversion, P.behaviour_neutral_satisfaction, P.stages_loyalty_bonus) == (2.25, 0.7, 0.15)
    assert P.months == pytest.approx(7 / (365.25 / 12))


def test_rule_constants_come_from_the_declarations_but_levers_from_the_plan():
    fields = set(P._fields)
    assert {"behaviour_loss_aversion", "word_of_mouth_loyalty_effect", "churn_loyalty_effect"} <= fields
    assert not {"market_marketing", "market_price"} & fields  # levers change per step: read from the plan
    assert STAGE_ORDER == [NEEDS, EXPECTATIONS, DESIRES, PREFERENCES, PERSONALIZATION, EMPATHY]


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


def test_perceive_like_the_pyramid():
    quality, ease, felt, frustrating = r.perceive(True, 0.5, 0.5, 1.0, 1.0, P)
    assert (quality, ease, felt, frustrating) == pytest.approx((0.4 + 0.08 * 0.5 + 0.52 * 0.5, 0.5, 0.5, False))
    assert r.perceive(False, 0.1, 1.0, 1.0, 1.0, P)[0] == 0.0 and r.perceive(False, 0.1, 1.0, 1.0, 1.0, P)[3]
    assert r.perceive(True, 0.61, 0.5, 1.0, 1.0, P)[3]  # felt effort above the 0.6 tolerance frustrates
    assert not r.perceive(True, 0.59, 0.5, 1.0, 1.0, P)[3]
    assert r.perceive(True, 0.4, 0.5, 2.0, 1.0, P)[3]  # an effort-sensitive persona feels 0.8


def test_disconfirmation_weighs_a_shortfall_by_loss_aversion():
    assert r.disconfirmation(0.7, 0.5, 2.25) == pytest.approx(0.2)
    assert r.disconfirmation(0.3, 0.5, 2.25) == pytest.approx(-0.45)
    assert r.disconfirmation(0.5, 0.5, 2.25) == 0.0


@given(unit, unit, st.floats(1.0, 10.0))
def test_disconfirmation_is_asymmetric(quality, expectation, loss):
    gap = quality - expectation
    assert r.disconfirmation(quality, expectation, loss) == (gap if gap >= 0 else loss * gap)


def test_satisfaction_and_smoothing():
    assert r.satisfaction(0.0, FIRST_STAGE, P) == pytest.approx(0.7)
    assert r.satisfaction(0.0, TOP_STAGE, P) == pytest.approx(0.85)  # the bond of the empathy stage
    assert r.satisfaction(0.1, FIRST_STAGE, P) == pytest.approx(0.85)
    assert r.satisfaction(1.0, TOP_STAGE, P) == 1.0 and r.satisfaction(-1.0, FIRST_STAGE, P) == 0.0
    assert r.adapt(0.0, 1.0, 0.2) == pytest.approx(0.2)
    assert r.expectation_target(1.0, P) == pytest.approx(0.7 + 0.3 * 0.5)


LADDER = [  # stage, need met, gap, felt, ease, empathy, personalization -> meets
    (NEEDS, True, -0.5, 0.0, 0.0, 0.0, 0.0, True),
    (NEEDS, False, 0.5, 1.0, 1.0, 1.0, 1.0, False),
    (EXPECTATIONS, True, -0.01, 1.0, 1.0, 1.0, 1.0, False),
    (EXPECTATIONS, True, 0.0, 0.0, 0.0, 0.0, 0.0, True),
    (DESIRES, True, 0.0, 0.49, 1.0, 1.0, 1.0, False),
    (DESIRES, True, 0.0, 0.5, 0.0, 0.0, 0.0, True),
    (PREFERENCES, True, 0.0, 0.5, 0.54, 1.0, 1.0, False),
    (PREFERENCES, True, 0.0, 0.5, 0.55, 0.0, 0.0, True),
    (PERSONALIZATION, True, 0.0, 0.5, 0.55, 1.0, 0.49, False),
    (PERSONALIZATION, True, 0.0, 0.5, 0.55, 0.0, 0.5, True),
    (EMPATHY, True, 0.0, 0.5, 0.55, 0.59, 0.5, False),
    (EMPATHY, True, 0.0, 0.5, 0.55, 0.6, 0.5, True),
]


@pytest.mark.parametrize("stage,need,gap,felt,ease,empathy,pers,meets", LADDER)
def test_each_stage_asks_for_the_one_below_and_one_thing_more(stage, need, gap, felt, ease, empathy, pers, meets):
    assert r.meets_stage(stage, need, gap, felt, ease, empathy, pers, P) is meets


def test_stage_moves_up_on_meeting_and_down_on_disappointment():
    assert r.next_stage(DESIRES, True, 0.1, 0.24, P) == PREFERENCES  # advance_prob 0.25
    assert r.next_stage(DESIRES, True, 0.1, 0.25, P) == DESIRES
    assert r.next_stage(TOP_STAGE, True, 0.1, 0.0, P) == TOP_STAGE
    assert r.next_stage(DESIRES, False, -0.1, 0.29, P) == EXPECTATIONS  # slip_prob 0.3
    assert r.next_stage(DESIRES, False, -0.1, 0.3, P) == DESIRES
    assert r.next_stage(DESIRES, False, 0.0, 0.0, P) == DESIRES  # not met, but no disappointment
    assert r.next_stage(FIRST_STAGE, False, -1.0, 0.0, P) == FIRST_STAGE


def test_speaking_needs_salience_and_its_chance():
    assert r.speak(0.08, 1.0, 0.69, P) == SPOKE_POSITIVE  # positive_salience 0.08, positive_share 0.70
    assert r.speak(0.08, 1.0, 0.70, P) == 0
    assert r.speak(0.079, 1.0, 0.0, P) == 0
    assert r.speak(0.05, 2.0, 0.0, P) == SPOKE_POSITIVE  # felt through emotion sensitivity
    assert r.speak(-0.08, 1.0, 0.60, P) == SPOKE_NEGATIVE  # negative_share 0.61
    assert r.speak(-0.08, 1.0, 0.61, P) == 0
    assert r.speak(0.0, 1.0, 0.0, P) == 0


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
        f = r.decay_frustration(f, p)
    assert f == pytest.approx(0.5)  # one half-life later, half the memory is left


def test_one_interaction_by_hand():
    touchpoint = np.zeros(len(Level))
    touchpoint[[Level.CUMULATIVE_SHARE, Level.FULFILMENT, Level.EFFORT, Level.EMPATHY, Level.PERSONALIZATION]] = (
        1.0,
        0.9,
        0.4,
        0.4,
        0.3,
    )
    persona = np.ones(len(PersonaColumn))
    stage, loyalty, expectation, frustration, told, effort = r.interaction(
        DESIRES, 0.6, 0.5, 2.0, touchpoint, persona, (0.5, 0.5, 0.5, 0.99, 0.99), P
    )
    quality = 0.4 + 0.08 * 0.6 + 0.52 * (0.5 * 0.4 + 0.5 * 0.3)  # need met, effort 0.4, feel 0.35
    satisfaction = 0.7 + 0.15 * 2 / 5 + 1.5 * (quality - 0.5)
    assert effort == pytest.approx(0.4)
    assert loyalty == pytest.approx(0.6 + 0.1 * (satisfaction - 0.6))
    assert expectation == pytest.approx(0.5 + 0.2 * (0.7 * quality + 0.3 * 0.5 - 0.5))
    assert frustration == 2.0 and told == 0
    assert stage == DESIRES  # desires asks to feel 0.5; it felt 0.35, but no disappointment: no slip
    # the need unmet: worthless, frustrating, told (u_speak below negative_share), slipping (u_stage below slip_prob)
    stage, loyalty, _, frustration, told, _ = r.interaction(
        DESIRES, 0.6, 0.5, 2.0, touchpoint, persona, (0.95, 0.5, 0.5, 0.1, 0.1), P
    )
    assert (stage, frustration, told) == (EXPECTATIONS, 3.0, SPOKE_NEGATIVE) and loyalty < 0.6


# --- word of mouth, adoption, churn ----------------------------------------------------------------------------


def test_word_of_mouth_heard_per_neighbour():
    assert r.wom_influence(3.0, 2.0, 1.0, 10.0, P) == pytest.approx((0.3, 0.1))
    assert r.wom_influence(3.0, 2.0, 1.0, 0.0, P) == (0.0, 0.0)
    everyone = r.mean_field_influence(ACTIVE | SPOKE_POSITIVE, 11.0, 4.0, 2.0, 101, P)
    expected = r.wom_influence(10.0, P.word_of_mouth_positive_reach * 3, P.word_of_mouth_negative_reach * 2, 100, P)
    assert everyone == pytest.approx(expected)  # one's own word of mouth is not heard
    assert r.expectation_after_hearing(0.5, -1.0, P) == 0.5  # complaints do not lower expectations
    assert r.expectation_after_hearing(0.5, 0.5, P) == pytest.approx(0.6)
    assert r.loyalty_after_hearing(0.5, -0.5, P) == pytest.approx(0.35)
    assert r.loyalty_after_hearing(0.99, 1.0, P) == 1.0
    assert r.hear(0.5, 0.5, 0.5, P) == pytest.approx((0.65, 0.6))
    assert [r.message(f) for f in (ACTIVE | SPOKE_POSITIVE, ACTIVE | SPOKE_NEGATIVE, SPOKE_POSITIVE, ACTIVE)] == [
        r.POSITIVE,
        r.NEGATIVE,
        0,
        0,
    ]  # former customers and prospects tell nobody
    assert (r.reach(r.POSITIVE, P), r.reach(r.NEGATIVE, P), r.reach(0, P)) == (0.1, 0.4, 0.0)  # bad news 4x further


def test_the_push_bookkeeping_agrees_with_who_speaks():
    from loyaltysim.engine.layout import COUNTED
    from loyaltysim.engine.listen import _must_push

    for f in range(256):
        changed = bool(f & ACTIVE) != bool(f & COUNTED)
        assert bool(_must_push(np.uint8(f))) == (changed or r.message(f) != 0), f


def test_initial_population_rules():
    assert r.initial_loyalty(0.5, P) == pytest.approx(0.68)
    assert (r.initial_loyalty(0.0, P), r.initial_loyalty(1.0, P)) == pytest.approx((0.43, 0.93))
    theta = 0.02
    log_a, log_b = math.log(theta), math.log(1 - theta)  # Ga / (Ga + Gb) = theta
    assert r.base_hazard(log_a, log_b) == pytest.approx(-math.log(1 - theta))
    assert math.isfinite(r.base_hazard(0.0, -800.0))  # theta near 1 stays finite


def test_adoption_is_bass_p_plus_q_influence():
    p = P._replace(months=1.0)
    assert r.adoption_probability(0.01, 0.5, 0.0, p) == pytest.approx(0.01 + 0.032 * 0.5)
    assert r.adoption_probability(0.01, 0.5, 0.25, p) == pytest.approx(0.01 + 0.032 * 0.75)
    assert r.adoption_probability(0.99, 1.0, 0.0, p) == 1.0
    stage, expectation, frustration = r.adopt(0.5, P)
    assert (stage, expectation, frustration) == (FIRST_STAGE, pytest.approx(0.6), 0.0)


def test_churn_hazard_terms():
    h = r.churn_hazard(0.02, 0.6, 0.0, 1.0, P)  # at the reference loyalty: the base, plus the competitor's pull
    assert h == pytest.approx(0.02 + 0.01 * 0.4)
    assert r.churn_hazard(0.02, 0.4, 0.0, 1.0, P) == pytest.approx(0.02 * math.exp(2.0 * 0.2) + 0.01 * 0.6)
    assert r.churn_hazard(0.02, 0.6, 2.0, 1.0, P) == pytest.approx(h + 0.015 * 2)
    assert r.churn_hazard(0.02, 0.6, 0.0, 1.5, P) == pytest.approx(h + 0.05 * 0.5)
    assert r.churn_hazard(0.02, 0.6, 0.0, 0.5, P) == pytest.approx(h)  # a lower price does not lower churn
    assert r.churn_hazard(0.02, 0.0, 9.0, 9.0, P._replace(churn_enabled=False)) == 0.0


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 20.0))
def test_churn_hazard_falls_with_loyalty(low, high, frustration):
    low, high = min(low, high), max(low, high)
    assert r.churn_hazard(0.02, high, frustration, 1.0, P) <= r.churn_hazard(0.02, low, frustration, 1.0, P)


def test_churn_decision_and_the_nps_question():
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
    assert [r.is_customer(s) for s in (PROSPECT, FIRST_STAGE, TOP_STAGE, CHURNED)] == [False, True, True, False]


# --- bounds the kernels' shortcuts rely on -----------------------------------------------------------------------


def test_adoption_cap_bounds_the_rule():
    """`kernels.transition` skips the rule when the draw is above its value at influence 1: it must be a bound."""
    rng = np.random.default_rng(0)
    for marketing in (0.0, 0.0025, 0.3, 1.0):
        cap = r.adoption_probability(marketing, 1.0, 0.0, P)
        for influence, heard in zip(rng.random(500), rng.uniform(-2, 2, 500), strict=True):
            assert r.adoption_probability(marketing, influence, heard, P) <= cap


def test_churn_probability_is_below_hazard_times_step():
    """`rules.churns` skips the exact churn chance when the draw is above hazard x months."""
    for h in np.geomspace(1e-8, 50, 200):
        for months in (7 / 30.44, 1.0, 3.0):
            assert r.hazard_probability(h, months) <= h * months * r.MARGIN
