"""The KPIs a calibration can fit, each declared once, and how each is measured from one simulated run.

A firm reports its KPIs over periods: retention of a cohort at a month, churn or acquisition per month over a
window, NPS and its shares at a month, CES and contacts over a window, and survey statistics. `KPIS` declares them
(label, unit, meaning, whether a window applies, and the function that reads it); `measure` reads one of them from a
`Run` (the per-step columns of one simulation, its interactions by touchpoint, and survey panels where the targets
ask for them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from loyaltysim.runs.metrics import METRICS
from loyaltysim.survey.panel import Panel
from loyaltysim.survey.questions import QUESTIONS

__all__ = ["KPIS", "SURVEY_STATISTICS", "Kpi", "Run", "Where", "kpi_markdown", "measure"]

_QUESTIONS = {q.key: q for q in QUESTIONS}


@dataclass
class Run:
    """What one simulation leaves for measuring: per-step columns, interactions by touchpoint, survey panels.

    ``columns`` map output columns to arrays over steps 0..last; ``uses`` is (steps + 1, touchpoints);
    ``panels`` maps (window steps, survey step) to the `Panel` of that survey.
    """

    columns: Mapping[str, np.ndarray]
    uses: np.ndarray
    touchpoints: tuple[str, ...]
    months_per_step: float
    size: int
    panels: dict[tuple[int, int], Panel] = field(default_factory=dict)


class Where(NamedTuple):
    """Where a KPI is read: step ``k``, a window of ``w`` steps before it, and what the target names."""

    k: int
    w: int
    touchpoint: str | None = None
    statistic: str | None = None
    survey_window: int = 0


def _ratio(a: float, b: float, scale: float = 1.0) -> float:
    return scale * a / b if b > 0 else float("nan")


def _window(run: Run, at: Where) -> tuple[slice, float, float]:
    """Steps of the window ending at step k, its active customer-months, and its customer-months at risk."""
    lo = max(1, at.k - at.w + 1)
    active = run.columns["active"]
    served = float(active[lo : at.k + 1].sum()) * run.months_per_step
    at_risk = float(active[lo - 1 : at.k].sum()) * run.months_per_step
    return slice(lo, at.k + 1), served, at_risk


def _retention(run: Run, at: Where) -> float:
    col = run.columns["initial_active"]  # as `loyaltysim.runs.metrics.at_checkpoint` reads retention
    return _ratio(float(col[at.k]), float(col[0]), 100.0)


def _churn(run: Run, at: Where) -> float:
    steps, _, at_risk = _window(run, at)
    return _ratio(float(run.columns["churned_step"][steps].sum()), at_risk, 100.0)


def _acquisition(run: Run, at: Where) -> float:
    steps, served, _ = _window(run, at)
    return _ratio(float(run.columns["new_customers"][steps].sum()), served, 100.0)


def _complaints(run: Run, at: Where) -> float:
    steps, served, _ = _window(run, at)
    return _ratio(float(run.columns["recoveries"][steps].sum()), served, 100.0)


def _contacts(run: Run, at: Where) -> float:
    steps, served, _ = _window(run, at)
    return _ratio(float(run.uses[steps, run.touchpoints.index(at.touchpoint)].sum()), served)


def _ces(run: Run, at: Where) -> float:
    steps, _, _ = _window(run, at)
    n = run.columns["interactions"][steps].astype(float)
    used = n.sum()
    return float(np.nan_to_num(run.columns["ces"][steps] * n).sum() / used) if used > 0 else float("nan")


def _nps(run: Run, at: Where) -> float:
    return float(run.columns["nps"][at.k])


def _share_of_active(column: str) -> Callable[[Run, Where], float]:
    def read(run: Run, at: Where) -> float:
        return _ratio(float(run.columns[column][at.k]), float(run.columns["active"][at.k]), 100.0)

    return read


def _market_share(run: Run, at: Where) -> float:
    return _ratio(float(run.columns["active"][at.k]), run.size, 100.0)


def _survey(run: Run, at: Where) -> float:
    return float(_QUESTIONS[at.statistic].measure(run.panels[(at.survey_window, at.k)]))


class Kpi(NamedTuple):
    """A KPI: label, unit, meaning, whether it is read over a window of months before each month, and its reader."""

    label: str
    unit: str
    meaning: str
    windowed: bool
    read: Callable[[Run, Where], float]


KPIS: dict[str, Kpi] = {
    "retention": Kpi(METRICS["retention"].label, "%", METRICS["retention"].meaning, False, _retention),
    "churn": Kpi(
        "churn per month",
        "%/month",
        "Customers lost in the window per customer-month at risk (active at the start of each step), in percent.",
        True,
        _churn,
    ),
    "acquisition": Kpi(
        "acquisition per month",
        "%/month",
        "New customers won in the window per active customer-month, in percent of the customer base (gross adds).",
        True,
        _acquisition,
    ),
    "complaints": Kpi(
        "complaints per 100 customers a month",
        "per 100/month",
        "Recovery contacts (a customer whose need went unmet asking for help: a complaint) in the window per 100 "
        "active customer-months.",
        True,
        _complaints,
    ),
    "contacts": Kpi(
        "contacts per customer a month at a touchpoint",
        "per customer/month",
        "Interactions at the target's touchpoint in the window per active customer-month.",
        True,
        _contacts,
    ),
    "ces": Kpi(
        "CES",
        "1-7",
        "Mean Customer Effort Score of the interactions in the window (1 = very easy, 7 = very hard).",
        True,
        _ces,
    ),
    "nps": Kpi("NPS", "score", "Net Promoter Score of the active customers at the month.", False, _nps),
    "promoters": Kpi(
        "promoters",
        "%",
        "Share of active customers answering 9 or 10 at the month.",
        False,
        _share_of_active("promoters"),
    ),
    "detractors": Kpi(
        "detractors",
        "%",
        "Share of active customers answering 0 to 6 at the month.",
        False,
        _share_of_active("detractors"),
    ),
    "market_share": Kpi(
        "customers in the market", "%", "Active customers as a share of the market at the month.", False, _market_share
    ),
    "survey": Kpi(
        "a statistic of the virtual survey",
        "as the statistic",
        "One statistic of `loyaltysim survey` (its ``statistic`` key), with the survey's windows ending at the month.",
        False,
        _survey,
    ),
}
"""Every KPI a target may name, by name."""

SURVEY_STATISTICS = [q.key for q in QUESTIONS if q.tag != "not expressible"]
"""The survey statistics a target may fit (``kpi = "survey"``, ``statistic = ...``)."""


def measure(run: Run, kpi: str, at: Where) -> float:
    """The value of ``kpi`` in ``run`` where ``at`` says (NaN where it cannot be measured, e.g. no customers)."""
    return KPIS[kpi].read(run, at)


def kpi_markdown() -> str:
    """The rows of the KPI table of ``docs/calibration.md`` (between its ``kpis`` markers)."""
    rows = []
    for name, k in KPIS.items():
        window = " Windowed." if k.windowed else ""
        rows.append(f"| `{name}` | {k.unit} | {k.meaning}{window} |")
    return "\n".join(rows)
