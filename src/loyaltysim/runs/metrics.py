"""One vocabulary of metrics, and how each is read from a run at a checkpoint.

Every metric a run's summary, a comparison, a sweep or the teaching app reports is declared here once: its label,
unit, decimals shown and meaning, and how it is read. The per-step output columns of
`loyaltysim.engine.layout.COLUMNS` are metrics by their own name (states read at the checkpoint, flows summed from
the start, means weighted by interactions); the derived ones (retention, adoption, churn rate, CLV, ROI) are
declared below with the one function that computes them, and `BETTER` says which way each is better for the firm.
Checkpoints are months, turned into steps by `month_to_step` and nowhere else. The module is kept whole, a little
over 400 lines: one vocabulary is easier to keep consistent in one place than split across files.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple

import numpy as np

from loyaltysim.engine.layout import COLUMNS, STAGES, Kind, columns_of_kind
from loyaltysim.errors import ScenarioError
from loyaltysim.scenario import MONTH_DAYS, Scenario

__all__ = [
    "BETTER",
    "COMPARISON_METRICS",
    "DEFAULT_CHECKPOINTS",
    "DISCOUNT_RATE",
    "HORIZON_MONTHS",
    "METRICS",
    "PRACTICAL",
    "RELATIVE_METRICS",
    "SUMMARY_METRICS",
    "SURVEY_WINDOW_DAYS",
    "TORNADO_REPLICATIONS",
    "VALUE_WINDOW_MONTHS",
    "Metric",
    "at_checkpoint",
    "break_even",
    "check_metrics",
    "checkpoint_step",
    "checkpoint_steps",
    "clv",
    "month_to_step",
    "monthly_discount",
    "payback",
    "roi",
    "run_metrics",
    "series_steps",
    "step_to_month",
]


DEFAULT_CHECKPOINTS = (3.0, 6.0, 12.0)
"""Checkpoints (months) a comparison reads besides the horizon, clipped to the horizon."""

DISCOUNT_RATE = 0.10
"""Yearly discount rate of the CLV unless a comparison is given another (assumption: a typical cost of capital)."""

HORIZON_MONTHS = 36.0
"""Default horizon of a comparison: three years, so that levers whose costs come first are judged on what they
keep (with the terminal value of the customers active at the end)."""

PRACTICAL = 0.001
"""Default practical threshold of a comparison: a difference smaller than 0.1 % of the baseline's value is not
marked."""

TORNADO_REPLICATIONS = 3
"""Default paired replications behind each end of each range of a comparison's tornado (common random numbers make
the differences precise)."""

SURVEY_WINDOW_DAYS = 90.0
"""Default length of the virtual survey's windows (the look-back window, and the follow-up after a frustration)."""

VALUE_WINDOW_MONTHS = 12.0
"""The trailing window (months up to a checkpoint) whose margin per customer-month and churn the CLV and the terminal
value carry forward (assumption: a year smooths seasonality and the one-off costs of day 0 drop out after it)."""


class Metric(NamedTuple):
    """A metric: table label, unit, decimals shown, meaning, and how a checkpoint reads it (a column's kind)."""

    label: str
    unit: str
    decimals: int
    meaning: str
    read: Kind | Literal["derived"]


_DECIMALS = {"customers": 0, "people": 0, "interactions": 0, "currency": 0, "points": 1, "1-7": 2}
"""Decimals shown by unit; other units show 3."""
_WHEN = {"state": "at the checkpoint", "flow": "from the start to the checkpoint", "mean": "up to the checkpoint"}

METRICS: dict[str, Metric] = {
    **{
        name: Metric(col.label, col.unit, _DECIMALS.get(col.unit, 3), f"{col.meaning}, {_WHEN[col.kind]}.", col.kind)
        for name, col in COLUMNS.items()
        if col.kind != "label"
    },
    "retention": Metric(
        "retention of starting base",
        "%",
        1,
        "Share of the customers at month 0 who are still customers at the checkpoint.",
        "derived",
    ),
    "adoption": Metric(
        "adoption", "fraction", 3, "Share of the market that has ever been a customer (Bass F(t)).", "derived"
    ),
    "churn_rate": Metric(
        "churn rate",
        "%/month",
        2,
        "Customers lost up to the checkpoint per customer-month at risk, per month.",
        "derived",
    ),
    "clv": Metric(
        "customer lifetime value",
        "currency",
        1,
        "Expected discounted margin of one customer from the checkpoint on, m r / (1 + d - r): margin m per "
        "customer-month (after every cost but acquisition and one-off costs) and monthly retention r over the "
        f"{VALUE_WINDOW_MONTHS:g} months up to the checkpoint, discount d per month (from a yearly rate, "
        f"{DISCOUNT_RATE:.0%} unless a comparison is given another).",
        "derived",
    ),
    "terminal_value": Metric(
        "terminal value",
        "currency",
        0,
        "The customers active at the checkpoint times their CLV, discounted back to month 0: what the customers "
        "kept are worth after the horizon.",
        "derived",
    ),
    "value": Metric(
        "value (profit + terminal value)",
        "currency",
        0,
        "Profit of every month up to the checkpoint discounted to month 0, plus the terminal value.",
        "derived",
    ),
    "intervention_value": Metric(
        "intervention cost, discounted",
        "currency",
        0,
        "Intervention costs up to the checkpoint discounted to month 0, plus their share of the terminal value "
        "(the running costs the kept customers still cause): what a cost multiplier scales.",
        "derived",
    ),
    "payback": Metric(
        "payback month",
        "month",
        1,
        "First month from which the cumulative profit difference to the baseline stays above zero up to the "
        "checkpoint (undiscounted, without terminal value); n/a where it never does.",
        "derived",
    ),
    "break_even": Metric(
        "break-even cost",
        "x costs",
        2,
        "The largest multiplier of the variant's extra intervention costs at which its value still matches the "
        "baseline's: 1 + value difference / discounted intervention cost difference.",
        "derived",
    ),
    "roi": Metric(
        "ROI vs baseline",
        "per unit spent",
        2,
        "(profit - reference profit) / (intervention cost - reference intervention cost) up to the checkpoint, "
        "against the baseline (comparisons) or the reference point (sweeps); 0 = break-even, 1 = every unit spent "
        "comes back twice.",
        "derived",
    ),
}
"""Every metric by name."""

_HIGHER = (
    "active", "new_customers", "won_back", "initial_active", "revenue", "profit", "promoters", "nps", "mean_loyalty",
    "wom_positive", "retention", "adoption", "clv", "terminal_value", "value", "roi", "break_even",
)  # fmt: skip
_LOWER = (
    "at_risk", "churned", "churned_step", "lost_to_competitor", "service_cost", "acquisition_cost", "retention_cost",
    "intervention_cost", "one_off_cost", "cost", "detractors", "ces", "wom_negative", "churn_rate",
    "intervention_value", "payback",
)  # fmt: skip
BETTER: dict[str, Literal["higher", "lower"]] = dict.fromkeys(_HIGHER, "higher") | dict.fromkeys(_LOWER, "lower")
"""Which way a metric is better for the firm, where one way is (an optimiser maximises or minimises it); the
others (stage counts, prospects, interactions, expectations) describe the market and are neither."""

COMPARISON_METRICS = (
    "retention",
    "active",
    "churn_rate",
    "new_customers",
    "revenue",
    "cost",
    "profit",
    "intervention_cost",
    "nps",
    "ces",
    *STAGES,
    "clv",
    "terminal_value",
    "value",
    "intervention_value",
    "roi",
    "payback",
    "break_even",
)
"""Metrics of a comparison, in table order."""

RELATIVE_METRICS = ("roi", "payback", "break_even")
"""Metrics that are themselves comparisons with the baseline (a comparison shows their own value, not a
difference, and none for the baseline)."""

SUMMARY_METRICS = (
    "active",
    "retention",
    "new_customers",
    "churned_step",
    "revenue",
    "cost",
    "profit",
    "nps",
    "ces",
    "wom_positive",
    "wom_negative",
)
"""Metrics of `Results.summary`."""

_FLOWS = columns_of_kind("flow")
_STATES = columns_of_kind("state")
_MEANS = columns_of_kind("mean")


def check_metrics(metrics: Iterable[str] | None, allowed: Iterable[str], label: str, where: str) -> list[str]:
    """The metric names in the order of ``allowed`` (all of them for None); a `ScenarioError` for any other."""
    allowed = list(allowed)
    if metrics is None:
        return allowed
    chosen = list(metrics)
    for m in chosen:
        if m not in allowed:
            raise ScenarioError(where, label, repr(m), f"one of {', '.join(allowed)}")
    return [m for m in allowed if m in chosen]


def month_to_step(month: float, step_days: float) -> int:
    """The step that ends closest to ``month`` (months of `MONTH_DAYS` days); the one conversion of months."""
    return round(month * MONTH_DAYS / step_days)


def step_to_month(step: float, step_days: float) -> float:
    """The month at the end of ``step`` (any array of steps too); the one conversion back."""
    return step * step_days / MONTH_DAYS


def checkpoint_step(scenario: Scenario, month: float, where: str = "month") -> int:
    """The step of one checkpoint month within the horizon; a `ScenarioError` for a month outside it."""
    horizon = step_to_month(scenario.n_steps, scenario.time.step_days)
    step = month_to_step(month, scenario.time.step_days) if month >= 0 and math.isfinite(month) else -1
    if not 0 <= step <= scenario.n_steps:
        raise ScenarioError(where, "month", f"{month:g}", f"a month within the horizon (0 .. {horizon:.4g})")
    return step


def checkpoint_steps(
    scenario: Scenario, months: Iterable[float], where: str = "checkpoints"
) -> list[tuple[float, int]]:
    """``(month, step)`` of each checkpoint within the horizon, and of the horizon itself, in time order.

    Checkpoints past the horizon are dropped. The horizon is labelled with its own month (one decimal) unless a
    checkpoint falls on the same step.
    """
    out: dict[int, float] = {}
    for m in months:
        if not m >= 0 or not math.isfinite(m):
            raise ScenarioError(where, "checkpoints", f"{m:g}", "months of at least 0, e.g. 3,6,12")
        step = month_to_step(m, scenario.time.step_days)
        if step <= scenario.n_steps:
            out.setdefault(step, float(m))
    out.setdefault(scenario.n_steps, round(step_to_month(scenario.n_steps, scenario.time.step_days), 1))
    return sorted(((month, step) for step, month in out.items()), key=lambda p: p[1])


def series_steps(scenario: Scenario, every: float) -> list[tuple[float, int]]:
    """``(month, step)`` every ``every`` months from month 0, and the horizon, in time order (`checkpoint_steps`)."""
    horizon = step_to_month(scenario.n_steps, scenario.time.step_days)
    return checkpoint_steps(scenario, np.arange(0.0, horizon + every / 2, every).round(6).tolist(), "series.every")


def monthly_discount(yearly: float) -> float:
    """The monthly discount rate equivalent to a yearly one."""
    return (1.0 + yearly) ** (1.0 / 12.0) - 1.0


def clv(margin: np.ndarray, keep: np.ndarray, discount: float) -> np.ndarray:
    """Margin-based customer lifetime value m r / (1 + d - r): margin m per customer-month, monthly retention r."""
    return margin * keep / (1.0 + discount - keep)


def roi(profit: np.ndarray, cost: np.ndarray, reference_profit: np.ndarray, reference_cost: np.ndarray) -> np.ndarray:
    """Return on an intervention: extra profit per extra unit of intervention cost against a reference.

    Profit is already net of intervention cost, so 0 is break-even. NaN where the cost equals the reference's.
    """
    d_profit = np.asarray(profit, dtype=np.float64) - reference_profit
    d_cost = np.asarray(cost, dtype=np.float64) - reference_cost
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.abs(d_cost) > 1e-9, d_profit / np.where(d_cost == 0, 1.0, d_cost), np.nan)


def at_checkpoint(
    series: Mapping[str, np.ndarray], k: int, months: float, size: int, discount: float | None = None
) -> dict[str, np.ndarray]:
    """Every metric but ROI of one or many runs at step ``k``.

    ``series`` maps output columns to arrays whose last axis is the step (0 = initial state), shaped (steps,) for one
    run or e.g. (scenarios, replications, steps); ``months`` is the step length in months, ``size`` the market
    size and ``discount`` the monthly discount rate of the CLV (default: `DISCOUNT_RATE` a year). Flows are summed
    over steps 1..k, states read at
    step k, CES weighted by interactions (NaN without any).
    """
    if discount is None:
        discount = monthly_discount(DISCOUNT_RATE)
    col = {name: np.asarray(values) for name, values in series.items()}
    out: dict[str, np.ndarray] = {name: col[name][..., 1 : k + 1].sum(axis=-1) for name in _FLOWS}
    out.update({name: col[name][..., k] for name in _STATES})
    start = col["initial_active"][..., 0].astype(float)
    active = col["active"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["retention"] = np.where(start > 0, 100.0 * col["initial_active"][..., k] / start, np.nan)
        n = col["interactions"][..., 1 : k + 1]
        used = n.sum(axis=-1)
        for name in _MEANS:  # means per interaction, weighted by the interactions of each step
            per_step = col[name][..., 1 : k + 1]
            out[name] = np.where(
                used > 0, np.nan_to_num(per_step * n).sum(axis=-1) / np.where(used > 0, used, 1), np.nan
            )
        out["adoption"] = (out["active"] + out["churned"]) / size
        at_risk = active[..., :k].sum(axis=-1) * months  # customer-months at risk of churning
        churn = out["churned_step"] / at_risk
        out["churn_rate"] = 100.0 * churn
        out.update(_value(col, k, months, discount))
    return out


def _value(col: Mapping[str, np.ndarray], k: int, months: float, discount: float) -> dict[str, np.ndarray]:
    """CLV, terminal value, value and discounted intervention cost at step ``k`` (see `METRICS`)."""
    w = max(1, min(k, round(VALUE_WINDOW_MONTHS / months))) if k else 1
    lo = max(k - w + 1, 1)
    window = slice(lo, k + 1)
    active = col["active"]
    served = active[..., window].sum(axis=-1) * months
    at_risk = active[..., lo - 1 : k].sum(axis=-1) * months
    once = col["one_off_cost"][..., window].sum(axis=-1)  # one-off costs do not recur after the horizon
    margin = (col["profit"][..., window] + col["acquisition_cost"][..., window]).sum(axis=-1) + once
    margin = margin / served
    running = (col["intervention_cost"][..., window].sum(axis=-1) - once) / served
    keep = np.clip(1.0 - col["churned_step"][..., window].sum(axis=-1) / at_risk, 0.0, 1.0)
    factor = (1.0 + discount) ** (-months * np.arange(k + 1))  # month-0 value of one unit at the end of each step
    per_customer = clv(margin, keep, discount)
    terminal = active[..., k] * per_customer * factor[k]
    carried_cost = active[..., k] * clv(running, keep, discount) * factor[k]
    return {
        "clv": per_customer,
        "terminal_value": terminal,
        "value": (col["profit"][..., 1 : k + 1] * factor[1:]).sum(axis=-1) + terminal,
        "intervention_value": (col["intervention_cost"][..., 1 : k + 1] * factor[1:]).sum(axis=-1) + carried_cost,
    }


def payback(profit: np.ndarray, reference_profit: np.ndarray, k: int, months: float) -> np.ndarray:
    """Payback month of each run against its reference (per-step profits, last axis the step; step 0 is month 0).

    The first month from which the cumulative profit difference stays above zero through step ``k``; NaN where it
    is not above zero at ``k``.
    """
    diff = np.cumsum(np.asarray(profit, float)[..., : k + 1] - np.asarray(reference_profit, float)[..., : k + 1], -1)
    above = diff > 1e-9
    last_not = np.where(~above, np.arange(k + 1), -1).max(axis=-1)  # the last step not above zero
    return np.where(last_not < k, (last_not + 1) * months, np.nan)


def break_even(value: np.ndarray, cost: np.ndarray, reference_value: np.ndarray, reference_cost: np.ndarray):
    """The multiplier of a variant's extra (discounted) intervention cost at which its value equals the reference's.

    value(m) = value - (m - 1) x extra cost, so m = 1 + (value - reference) / extra cost; NaN without extra cost.
    """
    extra = np.asarray(cost, float) - reference_cost
    gain = np.asarray(value, float) - reference_value
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(extra > 1e-9, 1.0 + gain / np.where(extra > 1e-9, extra, 1.0), np.nan)


def run_metrics(ts, scenario: Scenario, *steps: int) -> list[dict[str, float]]:
    """Every metric but ROI of one run (its per-step table ``ts``) at each of ``steps``."""
    series = {name: ts[name].to_numpy() for name in COLUMNS}
    out = []
    for k in steps:
        at = at_checkpoint(series, k, scenario.months_per_step, scenario.population.size)
        out.append({name: float(value) for name, value in at.items()})
    return out
