"""From a validated `Scenario` to the numbers a run needs: rule constants and per-step tables.

Interventions are resolved here once, into one row per step of touchpoint levels, market levers and costs, so the
kernels only ever read the row of the current step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyaltysim.errors import ScenarioError
from loyaltysim.rules import RuleParams
from loyaltysim.scenario import MAX_VISITS_PER_STEP, TOUCHPOINT_LEVERS, Scenario

__all__ = ["LEVEL_COLUMNS", "Plan", "make_plan"]

LEVEL_COLUMNS = ("cumulative_share", "fulfilment", "effort", "empathy", "personalization")


@dataclass(frozen=True)
class Plan:
    """Numeric form of a scenario. Arrays indexed by step start at step 1 (row 0 is the initial state)."""

    scenario: Scenario
    params: RuleParams
    n_steps: int
    months: float
    touchpoints: tuple[str, ...]
    personas: tuple[str, ...]
    levels: np.ndarray  # (steps + 1, touchpoints, 5): LEVEL_COLUMNS
    visit_rate: np.ndarray  # (steps + 1,) expected interactions of a customer in the step (Poisson mean)
    visit_none: np.ndarray  # (steps + 1,) exp(-visit_rate): chance of no interaction in the step
    marketing: np.ndarray  # (steps + 1,) Bass p per month
    price: np.ndarray  # (steps + 1,)
    service_cost: np.ndarray  # (touchpoints,) the touchpoints' own cost per interaction
    intervention_fixed_cost: np.ndarray  # (steps + 1,) one-off and running intervention costs
    intervention_interaction_cost: np.ndarray  # (steps + 1, touchpoints) the intervention part of the above
    persona_tab: np.ndarray  # (personas, 2): effort, emotion sensitivity
    persona_ab: np.ndarray  # (personas, 2): Beta a, b of churn propensity
    persona_cum: np.ndarray  # (personas,) cumulative shares
    spend: np.ndarray  # (personas,) per month at the desires stage
    stage_cum: np.ndarray  # (6,) cumulative initial stage shares
    spend_multipliers: np.ndarray  # (8,) by stage code (prospect and churned 0)


def _cumulative(shares: list[float]) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    return cum / cum[-1]


def rule_params(s: Scenario) -> RuleParams:
    """Rule constants of a scenario (per-step conversions done here)."""
    b, st, w, c = s.behaviour, s.stages, s.word_of_mouth, s.churn
    return RuleParams(
        months=s.months_per_step,
        need_weight=b.need_weight,
        ease_weight=b.ease_weight,
        feel_weight=b.feel_weight,
        empathy_share=b.empathy_share,
        effort_noise=b.effort_noise,
        feel_noise=b.feel_noise,
        effort_tolerance=b.effort_tolerance,
        loss_aversion=b.loss_aversion,
        neutral_satisfaction=b.neutral_satisfaction,
        satisfaction_sensitivity=b.satisfaction_sensitivity,
        loyalty_learning=b.loyalty_learning,
        expectation_learning=b.expectation_learning,
        market_expectation=b.market_expectation,
        market_anchor=b.market_anchor,
        loyalty_bonus=st.loyalty_bonus,
        frustration_decay=0.5 ** (s.time.step_days / b.frustration_half_life_days),
        advance_prob=st.advance_prob,
        slip_prob=st.slip_prob,
        feel_threshold=st.feel_threshold,
        ease_threshold=st.ease_threshold,
        personalization_threshold=st.personalization_threshold,
        empathy_threshold=st.empathy_threshold,
        positive_salience=w.positive_salience,
        negative_salience=w.negative_salience,
        positive_share=w.positive_share,
        negative_share=w.negative_share,
        positive_reach=w.positive_reach,
        negative_reach=w.negative_reach,
        positive_weight=w.positive_weight,
        negative_weight=w.negative_weight,
        wom_loyalty=w.loyalty_effect,
        wom_expectation=w.expectation_effect,
        churn_on=1.0 if c.enabled else 0.0,
        loyalty_effect=c.loyalty_effect,
        loyalty_reference=c.loyalty_reference,
        frustration_effect=c.frustration_effect,
        competitor_pull=s.market.competitor_pull,
        price_sensitivity=s.market.price_sensitivity,
        imitation=s.market.imitation,
        initial_loyalty=s.population.initial_loyalty,
        loyalty_spread=s.population.loyalty_spread,
        initial_expectation=s.population.initial_expectation,
    )


def make_plan(s: Scenario) -> Plan:
    """Resolve a scenario's interventions into per-step tables."""
    tps = tuple(s.touchpoints)
    n_steps = s.n_steps
    months = s.months_per_step
    base = np.array([[getattr(s.touchpoints[t], lever) for lever in TOUCHPOINT_LEVERS] for t in tps])
    base_cost = np.array([s.touchpoints[t].cost_per_interaction for t in tps])
    levels = np.zeros((n_steps + 1, len(tps), len(LEVEL_COLUMNS)))
    visit_rate = np.zeros(n_steps + 1)
    marketing = np.zeros(n_steps + 1)
    price = np.zeros(n_steps + 1)
    iv_interaction = np.zeros((n_steps + 1, len(tps)))
    iv_fixed = np.zeros(n_steps + 1)
    for t in range(1, n_steps + 1):
        day = (t - 1) * s.time.step_days
        lv = base.copy()
        mk, pr = s.market.marketing, s.market.price
        for iv in s.interventions.values():
            if iv.start_day > day:
                continue
            rows = range(len(tps)) if iv.touchpoint == "all" else [tps.index(iv.touchpoint)]
            for col, lever in enumerate(TOUCHPOINT_LEVERS):
                change = getattr(iv, lever)
                if change is not None:
                    hi = 100.0 if lever == "visits_per_month" else 1.0
                    for k in rows:
                        lv[k, col] = change.apply(lv[k, col], 0.0, hi)
            if iv.marketing is not None:
                mk = iv.marketing.apply(mk, 0.0, 1.0)
            if iv.price is not None:
                pr = iv.price.apply(pr, 1e-6, 10.0)
            for k in rows:
                iv_interaction[t, k] += iv.cost_per_interaction
            iv_fixed[t] += iv.cost_per_month * months
            if t == 1 or iv.start_day > day - s.time.step_days:  # the first step the intervention is in force
                iv_fixed[t] += iv.cost_once
        rate = lv[:, 0]
        total = float(rate.sum())
        levels[t, :, 0] = _cumulative(list(rate)) if total > 0 else 1.0
        levels[t, :, 1:] = lv[:, 1:]
        visit_rate[t] = total * months
        marketing[t] = mk
        price[t] = pr
    if visit_rate.max() > MAX_VISITS_PER_STEP:
        t = int(visit_rate.argmax())
        raise ScenarioError(
            s.source or "<scenario>",
            "interventions",
            None,
            f"with the interventions in force on step {t}, visits add up to {visit_rate[t]:.0f} interactions a "
            f"step; at most {MAX_VISITS_PER_STEP} are allowed",
        )
    ps = tuple(s.personas)
    persona = [s.personas[p] for p in ps]
    mult = np.zeros(8)
    mult[1:7] = s.stages.spend_multipliers
    return Plan(
        scenario=s,
        params=rule_params(s),
        n_steps=n_steps,
        months=months,
        touchpoints=tps,
        personas=ps,
        levels=levels,
        visit_rate=visit_rate,
        visit_none=np.exp(-visit_rate),
        marketing=marketing,
        price=price,
        service_cost=base_cost,
        intervention_fixed_cost=iv_fixed,
        intervention_interaction_cost=iv_interaction,
        persona_tab=np.array([[p.effort_sensitivity, p.emotion_sensitivity] for p in persona]),
        persona_ab=np.array([[p.churn_a, p.churn_b] for p in persona]),
        persona_cum=_cumulative([p.share for p in persona]),
        spend=np.array([p.spend_per_month for p in persona]),
        stage_cum=_cumulative(s.population.initial_stage_shares),
        spend_multipliers=mult,
    )
