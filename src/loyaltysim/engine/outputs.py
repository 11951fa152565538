"""One row of per-step outputs (the columns of `loyaltysim.engine.layout.COLUMNS`) from a step's tally."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from loyaltysim.engine.layout import (
    AT_RISK,
    CHURNED,
    CUSTOMER_STAGES,
    N_STATES,
    PROSPECT_STAGES,
    STAGE_CODES,
    TOP_STAGE,
    Sum,
    Tally,
)
from loyaltysim.engine.plan import Plan

__all__ = ["step_outputs"]


def step_outputs(
    plan: Plan,
    step: int,
    counts: np.ndarray,
    sums: np.ndarray,
    uses: np.ndarray,
    effort_sums: np.ndarray,
    recoveries: np.ndarray,
    lost: np.ndarray,
) -> dict[str, float]:
    """One row of outputs from a step's chunked counts.

    ``counts`` and ``sums`` come from `loyaltysim.engine.kernels.tally`; ``uses`` (interactions by touchpoint),
    ``effort_sums`` and ``recoveries`` (recovery contacts by touchpoint) from `loyaltysim.engine.kernels.interact`;
    ``lost`` (churners weighted by the competitor's share) from `loyaltysim.engine.kernels.transition`; all with
    one row per chunk.
    """
    total = counts.sum(axis=0)
    fsum = sums.sum(axis=0)
    n_p = len(plan.personas)
    by_stage_persona = total[: N_STATES * n_p].reshape(N_STATES, n_p)
    by_stage = by_stage_persona.sum(axis=1)
    slot = {t: int(total[N_STATES * n_p + t]) for t in Tally}
    interactions_by_tp = uses.sum(axis=0)
    effort = float(effort_sums.sum())
    active = int(by_stage[AT_RISK : TOP_STAGE + 1].sum())
    interactions = int(interactions_by_tp.sum())
    econ = plan.scenario.economics
    row: dict[str, float] = {
        "step": step,
        "day": step * plan.scenario.time.step_days,
        "prospects": int(sum(by_stage[STAGE_CODES[s]] for s in PROSPECT_STAGES)),
    }
    for s in (*PROSPECT_STAGES, *CUSTOMER_STAGES):
        row[s] = int(by_stage[STAGE_CODES[s]])
    adopted = slot[Tally.ADOPTED]
    recovery_contacts = recoveries.sum(axis=0)
    row.update(
        at_risk=int(by_stage[AT_RISK]),
        active=active,
        churned=int(by_stage[CHURNED]),
        new_customers=adopted,
        churned_step=slot[Tally.LEFT],
        lost_to_competitor=float(lost.sum()),
        won_back=slot[Tally.WON_BACK],
        initial_active=slot[Tally.COHORT],
        interactions=interactions,
        recoveries=int(recovery_contacts.sum()),
    )
    if step == 0:
        revenue = service = acquisition = retention = intervention = once = 0.0
    else:
        spend = (by_stage_persona * plan.spend_multipliers[:, None] * plan.spend[None, :]).sum()
        revenue = float(spend * plan.price[step] * plan.months)
        service = float(_dot(interactions_by_tp, plan.service_cost) + _dot(recovery_contacts, plan.recovery_cost))
        acquisition = adopted * econ.acquisition_cost
        retention = active * econ.cost_to_serve_per_month * plan.months
        intervention = float(
            plan.intervention_fixed_cost[step]
            + _dot(interactions_by_tp, plan.intervention_interaction_cost[step])
            + active * plan.intervention_customer_cost[step]
        )
        once = float(plan.intervention_once_cost[step])
    cost = (1 - econ.gross_margin) * revenue + service + acquisition + retention + intervention
    row.update(
        revenue=revenue,
        service_cost=service,
        acquisition_cost=acquisition,
        retention_cost=retention,
        intervention_cost=intervention,
        one_off_cost=once,
        cost=cost,
        profit=revenue - cost,
    )
    promoters, detractors = slot[Tally.PROMOTERS], slot[Tally.DETRACTORS]
    row.update(promoters=promoters, detractors=detractors)
    row["nps"] = 100.0 * (promoters - detractors) / active if active else math.nan
    row["ces"] = 1.0 + 6.0 * effort / interactions if interactions else math.nan
    row["mean_loyalty"] = fsum[Sum.LOYALTY] / active if active else math.nan
    row["mean_expectation"] = fsum[Sum.EXPECTATION] / active if active else math.nan
    row.update(wom_positive=slot[Tally.WOM_POSITIVE], wom_negative=slot[Tally.WOM_NEGATIVE])
    return row


def _dot(a, b) -> float:
    """Sum of products in index order, each product fused into the sum (one rounding a term, as FMA does).

    Money sums over touchpoints are written out instead of ``a @ b`` because BLAS picks its own kernel and order by
    processor and version, so the last bit of a cost moved between machines; this gives the same bits everywhere
    (and the bits BLAS gave when the golden files were recorded).
    """
    s = 0.0
    for x, y in zip(np.asarray(a, float).tolist(), np.asarray(b, float).tolist(), strict=True):
        s = _fma(x, y, s)
    return s


def _fma_exact(x: float, y: float, z: float) -> float:
    """The fused x * y + z, rounded once, where Python (< 3.13) has no math.fma: exact rationals, then a float."""
    return float(Fraction(x) * Fraction(y) + Fraction(z))


_fma = getattr(math, "fma", _fma_exact)
