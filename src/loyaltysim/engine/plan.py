"""From a validated `Scenario` to the numbers a run needs: rule constants and per-step tables.

Interventions are resolved here once, into one row per step of touchpoint levels, market levers and costs, so the
kernels only ever read the row of the current step. Levers and their clipping ranges come from the declarations
(`loyaltysim.scenario.LEVERS`, `Intervention.apply`); table columns from `loyaltysim.engine.layout`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loyaltysim.engine.layout import AT_RISK, DESIRES, LEVEL_COLUMNS, N_STATES, TOP_STAGE, Level, PersonaColumn
from loyaltysim.engine.params import RuleParams, rule_params
from loyaltysim.errors import ScenarioError, warn
from loyaltysim.scenario import MARKET_LEVERS, MAX_VISITS_PER_STEP, TOUCHPOINT_LEVERS, Scenario

__all__ = ["Plan", "make_plan"]

_TOUCHPOINT_COLUMNS = ("visits_per_month", *(c for c in LEVEL_COLUMNS if c != "cumulative_share"))
"""The touchpoint values a plan tracks per step: visits (for the shares) and one per `Level` column of that name."""
_COLUMN = {name: i for i, name in enumerate(_TOUCHPOINT_COLUMNS)}


@dataclass(frozen=True)
class Plan:
    """Numeric form of a scenario. Arrays indexed by step start at step 1 (row 0 is the initial state)."""

    scenario: Scenario
    params: RuleParams
    n_steps: int
    months: float
    touchpoints: tuple[str, ...]
    personas: tuple[str, ...]
    levels: np.ndarray  # (steps + 1, touchpoints, len(Level))
    visit_rate: np.ndarray  # (steps + 1,) expected interactions of a customer in the step (Poisson mean)
    visit_none: np.ndarray  # (steps + 1,) exp(-visit_rate): chance of no interaction in the step
    marketing: np.ndarray  # (steps + 1,) Bass p per month
    price: np.ndarray  # (steps + 1,)
    visit_share: np.ndarray  # (steps + 1, touchpoints) share of visits by touchpoint
    service_cost: np.ndarray  # (touchpoints,) the touchpoints' own cost per interaction
    recovery_cost: np.ndarray  # (touchpoints,) the touchpoints' cost per recovery contact
    intervention_fixed_cost: np.ndarray  # (steps + 1,) one-off and running intervention costs
    intervention_once_cost: np.ndarray  # (steps + 1,) the one-off part of them
    intervention_customer_cost: np.ndarray  # (steps + 1,) intervention cost per active customer in the step
    intervention_interaction_cost: np.ndarray  # (steps + 1, touchpoints) the intervention part of the above
    persona_table: np.ndarray  # (personas, len(PersonaColumn)): sensitivities, churn propensity Beta(a, b)
    persona_cum: np.ndarray  # (personas,) cumulative shares
    spend: np.ndarray  # (personas,) per month at the desires stage
    stage_cum: np.ndarray  # (customer stages,) cumulative initial shares of desires ... empathy
    spend_multipliers: np.ndarray  # (N_STATES,) by stage code (prospects and churned 0; at risk as desires)


def _cumulative(shares: list[float]) -> np.ndarray:
    cum = np.cumsum(np.asarray(shares, dtype=np.float64))
    return cum / cum[-1]


def make_plan(s: Scenario) -> Plan:
    """Resolve a scenario's interventions into per-step tables."""
    tps = tuple(s.touchpoints)
    n_steps = s.n_steps
    last_start = (n_steps - 1) * s.time.step_days  # the day the last step starts
    for name, iv in s.interventions.items():
        if iv.start_day > last_start:
            warn(
                f"{s.source or '<scenario>'}: interventions.{name}.start_day = {iv.start_day:g} never starts: the last "
                f"step starts on day {last_start:g} (time.horizon_days = {s.time.horizon_days:g})"
            )
    months = s.months_per_step
    base = np.array([[getattr(s.touchpoints[t], col) for col in _TOUCHPOINT_COLUMNS] for t in tps])
    levels = np.zeros((n_steps + 1, len(tps), len(Level)))
    visit_rate = np.zeros(n_steps + 1)
    market = {lever: np.zeros(n_steps + 1) for lever in MARKET_LEVERS}
    iv_interaction = np.zeros((n_steps + 1, len(tps)))
    iv_fixed = np.zeros(n_steps + 1)
    iv_once = np.zeros(n_steps + 1)
    iv_customer = np.zeros(n_steps + 1)
    for t in range(1, n_steps + 1):
        day = (t - 1) * s.time.step_days
        lv = base.copy()
        mk = {lever: getattr(s.market, lever) for lever in MARKET_LEVERS}
        for iv in s.interventions.values():
            if iv.start_day > day:
                continue
            rows = range(len(tps)) if iv.touchpoint == "all" else [tps.index(iv.touchpoint)]
            for name in TOUCHPOINT_LEVERS:
                col = _COLUMN[name]
                for k in rows:
                    lv[k, col] = iv.apply(name, lv[k, col])
            for lever in MARKET_LEVERS:
                mk[lever] = iv.apply(lever, mk[lever])
            for k in rows:
                iv_interaction[t, k] += iv.cost_per_interaction
            iv_fixed[t] += iv.cost_per_month * months
            iv_customer[t] += iv.cost_per_customer * months
            if t == 1 or iv.start_day > day - s.time.step_days:  # the first step the intervention is in force
                iv_fixed[t] += iv.cost_once
                iv_once[t] += iv.cost_once
        rate = lv[:, _COLUMN["visits_per_month"]]
        total = float(rate.sum())
        levels[t, :, Level.CUMULATIVE_SHARE] = _cumulative(list(rate)) if total > 0 else 1.0
        for name in _TOUCHPOINT_COLUMNS[1:]:
            levels[t, :, Level[name.upper()]] = lv[:, _COLUMN[name]]
        visit_rate[t] = total * months
        for lever in MARKET_LEVERS:
            market[lever][t] = mk[lever]
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
    mult = np.zeros(N_STATES)
    mult[DESIRES : TOP_STAGE + 1] = s.stages.spend_multipliers
    mult[AT_RISK] = mult[DESIRES]  # still paying
    table = np.zeros((len(ps), len(PersonaColumn)))
    for column in PersonaColumn:
        table[:, column] = [getattr(p, column.name.lower()) for p in persona]
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
        marketing=market["marketing"],
        price=market["price"],
        visit_share=np.diff(levels[:, :, Level.CUMULATIVE_SHARE], axis=1, prepend=0.0),
        service_cost=np.array([s.touchpoints[t].cost_per_interaction for t in tps]),
        recovery_cost=np.array([s.touchpoints[t].recovery_cost for t in tps]),
        intervention_fixed_cost=iv_fixed,
        intervention_once_cost=iv_once,
        intervention_customer_cost=iv_customer,
        intervention_interaction_cost=iv_interaction,
        persona_table=table,
        persona_cum=_cumulative([p.share for p in persona]),
        spend=np.array([p.spend_per_month for p in persona]),
        stage_cum=_cumulative(s.population.initial_stage_shares),
        spend_multipliers=mult,
    )
