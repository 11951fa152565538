"""Known answers of diffusion and retention, and a sweep's simulated curves against them.

The Bass model (closed form and the discrete recursion the model follows) and shifted-beta-geometric retention.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.sweeps.results import SweepResults

__all__ = ["bass_closed_form", "bass_recursion", "sbg_survival", "validation"]


def bass_closed_form(p: float, q: float, t: np.ndarray) -> np.ndarray:
    """Continuous Bass adopter fraction F(t) = (1 - e^-(p+q)t) / (1 + (q/p) e^-(p+q)t), t in rate units."""
    e = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return (1 - e) / (1 + (q / p) * e) if p > 0 else np.zeros_like(e)


def bass_recursion(p: float, q: float, steps: int, dt: float = 1.0) -> np.ndarray:
    """Discrete Bass model F(t) = F(t-1) + (p + q F(t-1)) (1 - F(t-1)) per step of ``dt`` rate units, F(0) = 0.

    With ``dt != 1`` the chance per step is ``1 - (1 - (p + qF))^dt``, as the model converts monthly chances.
    """
    f = np.zeros(steps + 1)
    for k in range(1, steps + 1):
        chance = min(1.0, p + q * f[k - 1])
        f[k] = f[k - 1] + (1 - (1 - chance) ** dt) * (1 - f[k - 1])
    return f


def sbg_survival(a: float, b: float, t: np.ndarray) -> np.ndarray:
    """Shifted-beta-geometric survival S(t) = B(a, b + t) / B(a, b) (Fader & Hardie 2007)."""
    t = np.asarray(t, dtype=float)
    lb = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return np.exp([math.lgamma(a) + math.lgamma(b + x) - math.lgamma(a + b + x) - lb for x in t])


def _value(results: SweepResults, row: Mapping[str, Any], key: str) -> Any:
    exp = results.experiment
    for name in exp.parameters:
        if exp.key(name) == key:
            return row[name]
    if key in exp.derived:
        return row[key]
    node: Any = results.scenario.model_dump()
    for part in key.split("."):
        node = node[part]
    return node


def validation(results: SweepResults) -> tuple[pd.DataFrame, Any]:
    """Simulated curves against the closed form named by ``analysis.compare`` (``bass`` or ``sbg``).

    Returns
    -------
    table : pandas.DataFrame
        Per point: its parameters, the largest absolute gap (percentage points) between the mean simulated curve
        and the closed form (for Bass also the discrete recursion the model follows exactly on a complete network).
    figure : matplotlib.figure.Figure
        One panel per combination of the non-network parameters, one line per point, closed form dashed.
    """
    from matplotlib.figure import Figure

    kind = results.experiment.analysis.compare
    if kind is None:
        raise ValueError("the experiment names no analysis.compare closed form")
    metric = "adoption" if kind == "bass" else "retention"
    if metric not in results.experiment.metrics:
        raise ValueError(f"analysis.compare = '{kind}' needs metric '{metric}'")
    curves = results.frame.groupby(["point", "month"])[metric].mean().unstack("point")
    months = curves.index.to_numpy(dtype=float)
    steps = results.frame.groupby("month")["step"].first().loc[curves.index].to_numpy(dtype=int)
    rows, groups = [], {}
    step_months = results.scenario.months_per_step
    for point in results.design.to_dict("records"):
        sim = curves[point["point"]].to_numpy()
        if kind == "bass":
            p, q = float(_value(results, point, "market.marketing")), float(_value(results, point, "market.imitation"))
            net = str(_value(results, point, "network.kind"))
            exact = bass_closed_form(p, q, months)
            rec = bass_recursion(p, q, int(steps.max()), step_months)[steps]
            label, group = net, f"p = {p:g}, q = {q:g}"
            rows.append(
                {
                    **point,
                    "network": net,
                    "max_gap_closed_form_pp": 100 * np.max(np.abs(sim - exact)),
                    "max_gap_recursion_pp": 100 * np.max(np.abs(sim - rec)),
                }
            )
            sim_pct = 100 * sim
        else:
            a, b = _value_persona(results, point)
            exact = 100 * sbg_survival(a, b, months)  # theta is per month, whatever the step
            rec = None
            label, group = f"a = {a:g}, b = {b:g}", "sBG cohorts"
            rows.append({**point, "max_gap_closed_form_pp": np.max(np.abs(sim - exact))})
            sim_pct = sim
        groups.setdefault(group, []).append(
            (label, sim_pct, 100 * exact if kind == "bass" else exact, None if rec is None else 100 * rec)
        )
    fig = Figure(figsize=(4.6 * min(3, len(groups)), 3.8 * math.ceil(len(groups) / 3)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(math.ceil(len(groups) / 3), min(3, len(groups)), squeeze=False)).ravel()
    for ax, (group, lines) in zip(axes, groups.items(), strict=False):
        for i, (label, sim, exact, rec) in enumerate(lines):
            colour = f"C{i}"
            ax.plot(months, sim, "o-", ms=3, color=colour, label=f"{label} (simulated)")
            ax.plot(
                months,
                exact,
                "--",
                color=colour if kind == "sbg" else "black",
                lw=1,
                label=("closed form" if i == 0 else None) if kind == "bass" else f"{label} (sBG)",
            )
            if rec is not None and i == 0:
                ax.plot(months, rec, ":", color="grey", lw=1.5, label="discrete recursion")
        ax.set(title=group, xlabel="month", ylabel="adopters (%)" if kind == "bass" else "retained (%)")
        ax.legend(fontsize="x-small")
    for ax in axes[len(groups) :]:
        ax.set_visible(False)
    fig.suptitle(
        "Bass diffusion: simulation vs closed form"
        if kind == "bass"
        else "Retention: simulation vs shifted-beta-geometric"
    )
    return pd.DataFrame(rows), fig


def _value_persona(results: SweepResults, point: Mapping[str, Any]) -> tuple[float, float]:
    personas = results.scenario.personas
    if len(personas) != 1:
        raise ValueError("the sBG comparison needs a scenario with a single persona")
    name = next(iter(personas))
    return (
        float(_value(results, point, f"personas.{name}.churn_a")),
        float(_value(results, point, f"personas.{name}.churn_b")),
    )
