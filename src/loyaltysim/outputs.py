"""The per-step outputs: each column declared once (name, unit, meaning) and computed from a step's tally."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from loyaltysim.plan import Plan
from loyaltysim.scenario import STAGES

__all__ = ["COLUMNS", "FLOWS", "at_checkpoint", "step_outputs"]

COLUMNS: dict[str, tuple[str, str]] = {
    "step": ("", "Step number; 0 is the initial state."),
    "day": ("days", "Time at the end of the step."),
    "prospects": ("people", "People who are not (yet) customers."),
    **{s: ("customers", f"Customers at the {s} stage of the CX Spectrum.") for s in STAGES},
    "active": ("customers", "Customers at any stage."),
    "churned": ("people", "Former customers (cumulative)."),
    "new_customers": ("customers", "Prospects who adopted this step."),
    "churned_step": ("customers", "Customers who left this step."),
    "initial_active": ("customers", "Customers of the starting base who are still customers."),
    "interactions": ("interactions", "Touchpoint interactions this step."),
    "revenue": ("currency", "Spend of customers this step."),
    "service_cost": ("currency", "Cost of this step's interactions at the touchpoints' cost."),
    "acquisition_cost": ("currency", "Cost of this step's new customers."),
    "retention_cost": ("currency", "Cost to serve active customers this step."),
    "intervention_cost": ("currency", "One-off, running and per-interaction costs of interventions this step."),
    "cost": ("currency", "All costs this step, cost of goods (1 - gross margin) x revenue included."),
    "profit": ("currency", "Revenue minus cost this step."),
    "nps": ("points", "Net Promoter Score of active customers: % promoters (9-10) - % detractors (0-6)."),
    "ces": ("1-7", "Mean Customer Effort Score of this step's interactions (1 = very easy, 7 = very hard)."),
    "mean_loyalty": ("score", "Mean loyalty of active customers."),
    "mean_expectation": ("score", "Mean expectation of active customers."),
    "wom_positive": ("customers", "Customers who spread positive word of mouth this step."),
    "wom_negative": ("customers", "Customers who spread negative word of mouth this step."),
}
"""Output columns of `Results.timeseries`, in order, with unit and meaning."""

FLOWS = (
    "new_customers",
    "churned_step",
    "interactions",
    "revenue",
    "service_cost",
    "acquisition_cost",
    "retention_cost",
    "intervention_cost",
    "cost",
    "profit",
    "wom_positive",
    "wom_negative",
)
"""Columns that count what happened in a step (summed to a checkpoint); the others are states at the step's end."""


def at_checkpoint(series: Mapping[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    """The outputs of one or many runs at step ``k``, as comparisons and sweeps report them.

    ``series`` maps column names to arrays whose last axis is the step (0 = initial state), e.g. shaped (steps,)
    for one run or (scenarios, replications, steps). Flows are summed over steps 1..k, states read at step k;
    ``retention`` is the share (%) of the starting customers still customers, ``ces`` the mean effort score of
    all interactions up to k (NaN without any).
    """
    out: dict[str, np.ndarray] = {}
    for name, values in series.items():
        if name in FLOWS:
            out[name] = np.asarray(values)[..., 1 : k + 1].sum(axis=-1)
        elif name not in ("step", "day", "ces"):
            out[name] = np.asarray(values)[..., k]
    start = np.asarray(series["initial_active"])[..., 0].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["retention"] = np.where(start > 0, 100.0 * np.asarray(series["initial_active"])[..., k] / start, np.nan)
        ces = np.asarray(series["ces"])[..., 1 : k + 1]
        n = np.asarray(series["interactions"])[..., 1 : k + 1]
        used = n.sum(axis=-1)
        out["ces"] = np.where(used > 0, np.nan_to_num(ces * n).sum(axis=-1) / np.where(used > 0, used, 1), np.nan)
    return out


def step_outputs(
    plan: Plan, step: int, counts: np.ndarray, sums: np.ndarray, uses: np.ndarray, effort_sums: np.ndarray
) -> dict[str, float]:
    """One row of outputs from a step's chunked counts.

    ``counts`` and ``sums`` come from `loyaltysim.kernels.tally`, ``uses`` (interactions by touchpoint) and
    ``effort_sums`` from `loyaltysim.kernels.interact`, all with one row per chunk.
    """
    total = counts.sum(axis=0)
    fsum = sums.sum(axis=0)
    n_p = len(plan.personas)
    by_stage_persona = total[: 8 * n_p].reshape(8, n_p)
    by_stage = by_stage_persona.sum(axis=1)
    interactions_by_tp = uses.sum(axis=0)
    effort = float(effort_sums.sum())
    promoters, detractors, pos, neg, adopted, left, cohort = (int(x) for x in total[8 * n_p :])
    active = int(by_stage[1:7].sum())
    interactions = int(interactions_by_tp.sum())
    econ = plan.scenario.economics
    row: dict[str, float] = {"step": step, "day": step * plan.scenario.time.step_days, "prospects": int(by_stage[0])}
    for k, s in enumerate(STAGES, start=1):
        row[s] = int(by_stage[k])
    row.update(
        active=active,
        churned=int(by_stage[7]),
        new_customers=adopted,
        churned_step=left,
        initial_active=cohort,
        interactions=interactions,
    )
    if step == 0:
        revenue = service = acquisition = retention = intervention = 0.0
    else:
        spend = (by_stage_persona * plan.spend_multipliers[:, None] * plan.spend[None, :]).sum()
        revenue = float(spend * plan.price[step] * plan.months)
        service = float(interactions_by_tp @ plan.service_cost)
        acquisition = adopted * econ.acquisition_cost
        retention = active * econ.cost_to_serve_per_month * plan.months
        intervention = float(
            plan.intervention_fixed_cost[step] + interactions_by_tp @ plan.intervention_interaction_cost[step]
        )
    cost = (1 - econ.gross_margin) * revenue + service + acquisition + retention + intervention
    row.update(
        revenue=revenue,
        service_cost=service,
        acquisition_cost=acquisition,
        retention_cost=retention,
        intervention_cost=intervention,
        cost=cost,
        profit=revenue - cost,
    )
    row["nps"] = 100.0 * (promoters - detractors) / active if active else math.nan
    row["ces"] = 1.0 + 6.0 * effort / interactions if interactions else math.nan
    row["mean_loyalty"] = fsum[0] / active if active else math.nan
    row["mean_expectation"] = fsum[1] / active if active else math.nan
    row.update(wom_positive=pos, wom_negative=neg)
    return row
