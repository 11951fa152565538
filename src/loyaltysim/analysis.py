"""Analysis of sweeps: sensitivity indices (SALib), grid heatmaps, return on investment, validation figures.

Sobol and Morris indices come from SALib's analysers (``SALib.analyze.sobol`` and ``SALib.analyze.morris``) with
bootstrap confidence intervals; nothing here re-implements them. The model's output at a point is the mean of the
metric over the replications at one checkpoint. `analyze` is what ``loyaltysim analyze DIR`` runs: it picks the
analysis that suits the experiment's design, writes tables (CSV) and figures (PNG) into ``DIR/analysis`` and returns
them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.designs import problem
from loyaltysim.results import atomic_write
from loyaltysim.scenario import MONTH_DAYS
from loyaltysim.sweep import METRICS, SweepResults

__all__ = [
    "METHODS",
    "Report",
    "Sensitivity",
    "analyze",
    "bass_closed_form",
    "bass_recursion",
    "heatmap",
    "morris_indices",
    "roi",
    "sbg_survival",
    "scatter",
    "sensitivity",
    "sobol_indices",
    "validation",
]

METHODS = ("sobol", "morris", "grid", "validation")
"""Analyses ``loyaltysim analyze`` can run."""


@dataclass
class Sensitivity:
    """Sensitivity indices of one metric, with confidence intervals.

    Attributes
    ----------
    method : str
        ``"sobol"`` (columns S1, S1_conf, ST, ST_conf) or ``"morris"`` (mu, mu_star, mu_star_conf, sigma).
    metric : str
    month : float or None
        Checkpoint the indices refer to.
    table : pandas.DataFrame
        One row per parameter.
    second_order : pandas.DataFrame or None
        Sobol S2 and S2_conf per pair of parameters, when the design has them.
    conf_level : float
    """

    method: str
    metric: str
    month: float | None
    table: pd.DataFrame
    second_order: pd.DataFrame | None = None
    conf_level: float = 0.95

    def to_frame(self) -> pd.DataFrame:
        """Return the indices, one row per parameter, with method, metric and month as columns."""
        df = self.table.reset_index().rename(columns={"index": "parameter"})
        df.insert(0, "month", self.month)
        df.insert(0, "metric", self.metric)
        df.insert(0, "method", self.method)
        return df

    def plot(self, ax=None):
        """Bar chart of the indices with their confidence intervals; returns the axes."""
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7, 0.45 * len(self.table) + 1.6), layout="constrained")
        t = self.table
        y = np.arange(len(t))
        pct = f"{100 * self.conf_level:g} %"
        if self.method == "sobol":
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], label="total (ST)", color="#08519c", capsize=2)
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], label="first order (S1)", color="#9ecae1", capsize=2)
            ax.set_xlabel(f"Sobol index (bars: {pct} confidence interval)")
        else:
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color="#08519c", capsize=2, label="mu*")
            ax.plot(t["sigma"], y, "o", color="#fc8d59", label="sigma")
            ax.set_xlabel(f"elementary effect of {self.metric} (bars: {pct} confidence interval of mu*)")
        ax.set_yticks(y, t.index)
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=0.5)
        ax.legend(fontsize="small")
        when = f" at month {self.month:g}" if self.month is not None else ""
        ax.set_title(f"{self.method.capitalize()} sensitivity of {self.metric}{when}")
        return ax


def sobol_indices(
    design: pd.DataFrame,
    y: Sequence[float],
    bounds: Mapping[str, tuple[float, float]],
    second_order: bool = False,
    conf_level: float = 0.95,
    seed: int = 0,
    metric: str = "y",
    month: float | None = None,
) -> Sensitivity:
    """Sobol first-order and total indices (SALib ``analyze.sobol``) of outputs ``y`` on a Saltelli design.

    Parameters
    ----------
    design
        The points in the order `loyaltysim.designs.saltelli` made them (only its order matters here).
    y
        One output per point, same order.
    bounds
        Parameter ranges, as given to the sampler.
    second_order
        Whether the design includes the second-order block.
    conf_level
        Level of the bootstrap confidence intervals.
    seed
        Seed of the bootstrap.
    metric, month
        Labels of the output, kept in the result.
    """
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    if len(y) != len(design) or not np.all(np.isfinite(y)):
        raise ValueError(
            f"need one finite output per design point ({len(design)}), got {len(y)} "
            f"({int(np.sum(~np.isfinite(y)))} not finite)"
        )
    si = sobol.analyze(
        problem(bounds), y, calc_second_order=second_order, conf_level=conf_level, seed=seed, print_to_console=False
    )
    frames = si.to_df()
    table = frames[1].join(frames[0])[["S1", "S1_conf", "ST", "ST_conf"]]
    s2 = frames[2] if second_order else None
    return Sensitivity("sobol", metric, month, table, s2, conf_level)


def morris_indices(
    design: pd.DataFrame,
    y: Sequence[float],
    bounds: Mapping[str, tuple[float, float]],
    num_levels: int = 4,
    conf_level: float = 0.95,
    seed: int = 0,
    metric: str = "y",
    month: float | None = None,
) -> Sensitivity:
    """Morris elementary-effect statistics (SALib ``analyze.morris``) of outputs ``y`` on Morris trajectories."""
    from SALib.analyze import morris

    y = np.asarray(y, dtype=float)
    x = design[list(bounds)].to_numpy(dtype=float)
    si = morris.analyze(
        problem(bounds), x, y, conf_level=conf_level, num_levels=num_levels, seed=seed, print_to_console=False
    )
    table = si.to_df()[["mu", "mu_star", "mu_star_conf", "sigma"]]
    return Sensitivity("morris", metric, month, table, None, conf_level)


def sensitivity(
    results: SweepResults,
    method: str | None = None,
    metric: str | None = None,
    month: float | None = None,
    conf_level: float = 0.95,
) -> Sensitivity:
    """Sensitivity indices of a sweep's metric at a checkpoint (default: its design's method, first metric, last).

    The output at each point is the mean over its replications.
    """
    exp = results.experiment
    method = method or exp.design.kind
    metric = metric or exp.metrics[0]
    if method != exp.design.kind:
        raise ValueError(f"{method} indices need a {method} design; this experiment's design is '{exp.design.kind}'")
    if not results.complete:
        raise ValueError("the sweep is incomplete: run the same sweep command again to finish it first")
    means = results.point_means(metric, month)
    at = results.month(month)
    if method == "sobol":
        return sobol_indices(
            results.design, means["mean"], exp.bounds, exp.design.second_order, conf_level, exp.seed, metric, at
        )
    return morris_indices(
        results.design, means["mean"], exp.bounds, exp.design.num_levels, conf_level, exp.seed, metric, at
    )


# ---------------------------------------------------------------------------------------------------------------
# Grids


def roi(results: SweepResults, month: float | None = None) -> pd.DataFrame:
    """Return on the CX investment of each point against the experiment's reference point.

    Defined as in `loyaltysim.comparison`: for every replication (the same seed at every point: common random
    numbers) ROI = (profit - reference profit) / (intervention cost - reference intervention cost), both summed
    to the checkpoint, per unit spent (0 = break-even; profit is already net of the investment). Undefined where
    a point spends what the reference spends. Returns per point the parameters, the mean ROI over replications
    (``mean``), its standard error (``sem``) and ``n``.
    """
    exp = results.experiment
    ref = exp.analysis.reference
    if ref is None:
        raise ValueError("the experiment names no analysis.reference point")
    at = results.frame[results.frame["month"] == results.month(month)]
    mask = np.logical_and.reduce(
        [np.isclose(at[k].astype(float), float(v)) if not isinstance(v, str) else at[k] == v for k, v in ref.items()]
    )
    base = at[mask].groupby("replication")[["profit", "intervention_cost"]].mean()
    if base.empty:
        raise ValueError(f"the reference point {ref} is not in the design")
    gain = at["profit"] - at["replication"].map(base["profit"])
    invest = at["intervention_cost"] - at["replication"].map(base["intervention_cost"])
    ratio = (gain / invest).where(invest.abs() > 1e-9)
    g = ratio.groupby(at["point"])
    stats = pd.DataFrame({"mean": g.mean(), "sem": g.sem(), "n": g.count()})
    return results.design.set_index("point").join(stats, how="inner").reset_index()


def _grid_means(results: SweepResults, metric: str, month: float | None) -> pd.DataFrame:
    return roi(results, month) if metric == "roi" else results.point_means(metric, month)


def heatmap(results: SweepResults, metric: str, x: str, y: str, month: float | None = None, ax=None):
    """Mean of a metric (or ``"roi"``) over the grid of two parameters, annotated; returns the axes.

    Other varied parameters are averaged over.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 5), layout="constrained")
    means = _grid_means(results, metric, month)
    table = means.pivot_table(index=y, columns=x, values="mean", aggfunc="mean")
    im = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(table.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in table.index])
    values = table.to_numpy()
    finite = values[np.isfinite(values)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            text = "" if not np.isfinite(v) else f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
            ax.text(j, i, text, ha="center", va="center", fontsize="small", color="white" if v < mid else "black")
    unit = "%" if metric == "roi" else METRICS[metric][0]
    ax.figure.colorbar(im, ax=ax, label=f"{metric} ({unit})" if unit else metric)
    ax.set(
        xlabel=x,
        ylabel=y,
        title=f"{'ROI of the investment' if metric == 'roi' else metric} at month "
        f"{results.month(month):g} (mean of {results.experiment.replications})",
    )
    return ax


def scatter(results: SweepResults, metric: str, x: str, month: float | None = None, ax=None):
    """Mean of a metric at each point against one parameter (error bars: standard error); returns the axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    means = _grid_means(results, metric, month)
    ax.errorbar(means[x], means["mean"], yerr=means["sem"].fillna(0), fmt="o", ms=3, color="#08519c")
    ax.set(xlabel=x, ylabel=metric, title=f"{metric} at month {results.month(month):g}")
    return ax


# ---------------------------------------------------------------------------------------------------------------
# Validation against closed forms


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
    rows, groups = [], {}
    step_months = results.scenario.time.step_days / MONTH_DAYS
    for point in results.design.to_dict("records"):
        sim = curves[point["point"]].to_numpy()
        if kind == "bass":
            p, q = float(_value(results, point, "market.marketing")), float(_value(results, point, "market.imitation"))
            net = str(_value(results, point, "network.kind"))
            exact = bass_closed_form(p, q, months)
            steps = np.rint(months / step_months).astype(int)
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


# ---------------------------------------------------------------------------------------------------------------
# The report behind `loyaltysim analyze`


@dataclass
class Report:
    """What `analyze` made: tables by name and the files written."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def default_method(results: SweepResults) -> str:
    """The analysis that suits the experiment: its closed form, or its design's method, or grid heatmaps."""
    exp = results.experiment
    if exp.analysis.compare:
        return "validation"
    return exp.design.kind if exp.design.kind in ("sobol", "morris") else "grid"


def analyze(
    results: SweepResults,
    method: str | None = None,
    metrics: Sequence[str] | None = None,
    month: float | None = None,
    out: str | Path | None = None,
) -> Report:
    """Run the analysis of a sweep and write its tables (CSV) and figures (PNG) into ``out``.

    Parameters
    ----------
    results
        A finished sweep.
    method
        ``sobol``, ``morris``, ``grid`` (heatmaps, ROI) or ``validation`` (closed form); default: `default_method`.
    metrics
        Metrics to analyse (default: all the experiment recorded; for grids with a reference point, ROI too).
    month
        Checkpoint (default: the last).
    out
        Directory for the files (default: ``<sweep directory>/analysis``).
    """
    from matplotlib.figure import Figure

    method = method or default_method(results)
    exp = results.experiment
    metrics = list(metrics or exp.metrics)
    for m in metrics:
        if m not in exp.metrics and not (m == "roi" and exp.analysis.reference is not None):
            allowed = [*exp.metrics, *(["roi"] if exp.analysis.reference is not None else [])]
            raise ValueError(f"metric '{m}' was not recorded by this sweep; allowed: {', '.join(allowed)}")
    folder = Path(out) if out is not None else (results.directory or Path(".")) / "analysis"
    folder.mkdir(parents=True, exist_ok=True)
    report = Report()

    def save_table(name: str, df: pd.DataFrame) -> None:
        report.tables[name] = df
        path = folder / f"{name}.csv"
        atomic_write(path, lambda p: df.to_csv(p, index=False))
        report.files.append(path)

    def save_figure(name: str, fig) -> None:
        path = folder / f"{name}.png"
        atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
        report.files.append(path)

    if method in ("sobol", "morris"):
        for m in metrics:
            s = sensitivity(results, method, m, month)
            save_table(f"{method}_{m}", s.to_frame())
            if s.second_order is not None:
                save_table(f"{method}_{m}_second_order", s.second_order.reset_index())
            fig = Figure(figsize=(7, 0.45 * len(s.table) + 1.6), layout="constrained")
            s.plot(fig.subplots())
            save_figure(f"{method}_{m}", fig)
    elif method == "grid":
        if exp.analysis.reference is not None and "roi" not in metrics and metrics == list(exp.metrics):
            metrics.append("roi")
        names = list(exp.parameters)
        for m in metrics:
            means = _grid_means(results, m, month)
            save_table(f"grid_{m}", means)
            fig = Figure(figsize=(6.4, 5), layout="constrained")
            if len(names) >= 2:
                x, y = exp.analysis.heatmap or (names[0], names[1])
                heatmap(results, m, x, y, month, fig.subplots())
            else:
                scatter(results, m, names[0], month, fig.subplots())
            save_figure(f"heatmap_{m}" if len(names) >= 2 else f"grid_{m}", fig)
    elif method == "validation":
        table, fig = validation(results)
        save_table(f"validation_{exp.analysis.compare}", table)
        save_figure(f"validation_{exp.analysis.compare}", fig)
    else:
        raise ValueError(f"unknown method '{method}'; allowed: {', '.join(METHODS)}")
    return report
