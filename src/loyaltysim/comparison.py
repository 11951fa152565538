"""Comparing scenarios: replications with common random numbers, confidence intervals, ROI and CLV.

The first scenario is the baseline, the others are variants (levers a strategist might pull). Every scenario is
run ``replications`` times through `loyaltysim.execution` (the same `Task` / `run_task` / executor machinery the
sweeps use). Paired (the default): replication ``r`` of every scenario uses the same seed, so the same people on
the same network get the same draws (common random numbers) and most of the noise cancels in the differences.
Independent: every scenario gets its own seeds and differences use Welch's interval.

Metrics are read from each run at checkpoints (months) and at the horizon; see `METRICS` and ``docs/comparison.md``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from loyaltysim.errors import ScenarioError
from loyaltysim.execution import Task, make_executor, replication_seeds, run_task
from loyaltysim.outputs import at_checkpoint
from loyaltysim.scenario import MONTH_DAYS, STAGES, Scenario, load_scenario

__all__ = [
    "DEFAULT_CHECKPOINTS",
    "METRICS",
    "SERIES",
    "Comparison",
    "Metric",
    "check_metrics",
    "checkpoint_steps",
    "compare",
    "t_interval",
    "welch_interval",
]

DEFAULT_CHECKPOINTS = (3.0, 6.0, 12.0)
"""Checkpoints (months) read besides the horizon, clipped to the horizon."""

LEVEL = 0.95


class Metric(NamedTuple):
    """A comparison metric: table label, unit, decimals shown, and meaning."""

    label: str
    unit: str
    decimals: int
    meaning: str


METRICS: dict[str, Metric] = {
    "retention": Metric(
        "retention of starting base",
        "%",
        1,
        "Share of the customers at month 0 who are still customers at the checkpoint.",
    ),
    "active": Metric("active customers", "customers", 0, "Customers at any stage at the checkpoint."),
    "churn_rate": Metric(
        "churn rate", "%/month", 2, "Customers lost up to the checkpoint per customer-month at risk, per month."
    ),
    "new_customers": Metric("new customers", "customers", 0, "Prospects won up to the checkpoint."),
    "revenue": Metric("revenue", "currency", 0, "Revenue up to the checkpoint."),
    "cost": Metric("cost", "currency", 0, "All costs up to the checkpoint, intervention costs included."),
    "profit": Metric("profit", "currency", 0, "Revenue minus all costs up to the checkpoint."),
    "intervention_cost": Metric(
        "intervention cost",
        "currency",
        0,
        "One-off, running and per-interaction intervention costs up to the checkpoint.",
    ),
    "nps": Metric("NPS", "points", 1, "Net Promoter Score of active customers at the checkpoint (-100..100)."),
    "ces": Metric("CES", "1-7", 2, "Mean Customer Effort Score of the interactions up to the checkpoint."),
    **{
        f"stage_{s}": Metric(
            f"customers at {s} stage",
            "customers",
            0,
            f"Customers at the {s} stage of the CX Spectrum at the checkpoint.",
        )
        for s in STAGES
    },
    "clv": Metric(
        "customer lifetime value",
        "currency",
        1,
        "Margin-based CLV m r / (1 + d - r) from simulated margin per customer-month m and monthly "
        "retention r up to the checkpoint, discount d per month.",
    ),
    "roi": Metric(
        "ROI vs baseline",
        "per unit spent",
        2,
        "(variant profit - baseline profit) / (variant intervention cost - baseline intervention cost) "
        "up to the checkpoint; 0 = break-even, 1 = every unit spent comes back twice.",
    ),
}
"""Metrics of a comparison, in table order: name -> (label, unit, decimals, meaning)."""

SERIES = {
    "active": ("Active customers", "customers"),
    "retention": ("Retention of the starting base", "% of month-0 customers"),
    "cumulative_profit": ("Cumulative profit", "currency"),
    "nps": ("Net Promoter Score", "points"),
}
"""Time series with confidence bands that `Comparison.bands` and `Comparison.plot` draw."""


def check_metrics(metrics: Iterable[str] | None, label: str = "metric") -> list[str]:
    """Return the metric names in table order, or all of them; raise `ScenarioError` for an unknown one."""
    if metrics is None:
        return list(METRICS)
    chosen = list(metrics)
    for m in chosen:
        if m not in METRICS:
            raise ScenarioError("compare", label, repr(m), f"one of {', '.join(METRICS)}")
    return [m for m in METRICS if m in chosen]


# ---------------------------------------------------------------------------------------------------------------
# Confidence intervals


def _quantile(df: np.ndarray | float, level: float) -> np.ndarray:
    return stats.t.ppf(0.5 + level / 2, df)


def t_interval(x: np.ndarray, level: float = LEVEL, axis: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t confidence interval of the mean along ``axis``.

    Parameters
    ----------
    x
        Samples (replications along ``axis``); NaN anywhere in a slice makes that slice's result NaN.
    level
        Confidence level, e.g. 0.95.
    axis
        Axis of the replications.

    Returns
    -------
    mean, low, high : numpy.ndarray
        With ``axis`` removed; low and high are NaN with fewer than two samples.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan.copy()
    half = _quantile(n - 1, level) * x.std(axis=axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def welch_interval(
    x: np.ndarray, y: np.ndarray, level: float = LEVEL, axis: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of means ``x - y`` of two independent samples with Welch's confidence interval.

    Returns
    -------
    diff, low, high : numpy.ndarray
        With ``axis`` removed; when both variances are zero the interval is the point itself.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    nx, ny = x.shape[axis], y.shape[axis]
    diff = x.mean(axis=axis) - y.mean(axis=axis)
    if nx < 2 or ny < 2:
        nan = np.full_like(diff, np.nan)
        return diff, nan, nan.copy()
    vx, vy = x.var(axis=axis, ddof=1) / nx, y.var(axis=axis, ddof=1) / ny
    se2 = vx + vy
    with np.errstate(invalid="ignore", divide="ignore"):
        df = se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    df = np.where(se2 > 0, df, nx + ny - 2)
    half = _quantile(df, level) * np.sqrt(se2)
    return diff, diff - half, diff + half


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints and metrics of runs


def checkpoint_steps(scenario: Scenario, months: Iterable[float] = DEFAULT_CHECKPOINTS) -> list[tuple[float, int]]:
    """``(month, step)`` of each checkpoint within the horizon, and of the horizon itself, in time order.

    A checkpoint is the step that ends closest to it; checkpoints past the horizon are dropped. The horizon is
    labelled with its own month (one decimal) unless a checkpoint falls on the same step.
    """
    out: dict[int, float] = {}
    step_days = scenario.time.step_days
    for m in months:
        if not m > 0 or not math.isfinite(m):
            raise ScenarioError("compare", "checkpoints", f"{m:g}", "months greater than 0, e.g. 3,6,12")
        step = max(1, round(m * MONTH_DAYS / step_days))
        if step <= scenario.n_steps:
            out.setdefault(step, float(m))
    out.setdefault(scenario.n_steps, round(scenario.n_steps * step_days / MONTH_DAYS, 1))
    return sorted(((month, step) for step, month in out.items()), key=lambda p: p[1])


def _cube(runs: pd.DataFrame, column: str, shape: tuple[int, int, int]) -> np.ndarray:
    return runs[column].to_numpy(dtype=np.float64).reshape(shape)


def _window_metrics(
    c: Mapping[str, np.ndarray], k: int, months: float, monthly_discount: float
) -> dict[str, np.ndarray]:
    """Metrics of every (scenario, replication) at step ``k`` from arrays shaped (scenarios, replications, steps)."""
    at = at_checkpoint(c, k)
    at_risk = c["active"][..., :k].sum(axis=-1) * months  # customer-months at risk of churning
    served = c["active"][..., 1 : k + 1].sum(axis=-1) * months  # customer-months billed
    with np.errstate(invalid="ignore", divide="ignore"):
        churn = at["churned_step"] / at_risk
        margin = (at["profit"] + at["acquisition_cost"]) / served
        keep = np.clip(1.0 - churn, 0.0, 1.0)
        clv = margin * keep / (1.0 + monthly_discount - keep)
    out = {
        "retention": at["retention"],
        "active": at["active"],
        "churn_rate": 100.0 * churn,
        "new_customers": at["new_customers"],
        "revenue": at["revenue"],
        "cost": at["cost"],
        "profit": at["profit"],
        "intervention_cost": at["intervention_cost"],
        "nps": at["nps"],
        "ces": at["ces"],
        **{f"stage_{s}": at[s] for s in STAGES},
        "clv": clv,
    }
    d_profit = out["profit"] - out["profit"][:1]
    d_cost = out["intervention_cost"] - out["intervention_cost"][:1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["roi"] = np.where(np.abs(d_cost) > 1e-9, d_profit / np.where(d_cost == 0, 1.0, d_cost), np.nan)
    out["roi"][0] = np.nan
    return out


# ---------------------------------------------------------------------------------------------------------------
# The comparison


@dataclass
class Comparison:
    """Replicated runs of a baseline and its variants, their metrics, and their differences.

    Attributes
    ----------
    scenarios : list of Scenario
        Baseline first, then the variants, as run (``--set`` overrides applied).
    replications, seed : int
        Replications per scenario and the first seed.
    independent : bool
        False: paired seeds (common random numbers); True: independent seeds per scenario.
    checkpoints : list of (float, int)
        ``(month, step)`` of each checkpoint; the last one is the horizon.
    runs : pandas.DataFrame
        Raw per-step time series of every run: ``scenario``, ``replication``, ``seed``, then the columns of
        `loyaltysim.outputs.COLUMNS`; sorted by scenario (baseline first), replication and step.
    replicates : pandas.DataFrame
        One row per scenario, replication and checkpoint with every metric of `METRICS` as a column.
    discount_rate : float
        Yearly discount rate used for CLV.
    level : float
        Confidence level of the intervals.
    """

    scenarios: list[Scenario]
    replications: int
    seed: int
    independent: bool
    checkpoints: list[tuple[float, int]]
    runs: pd.DataFrame
    replicates: pd.DataFrame
    discount_rate: float = 0.10
    level: float = LEVEL
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def baseline(self) -> str:
        """Name of the baseline scenario."""
        return self.scenarios[0].name

    @property
    def names(self) -> list[str]:
        """Scenario names, baseline first."""
        return [s.name for s in self.scenarios]

    @property
    def horizon_month(self) -> float:
        """Month label of the horizon checkpoint."""
        return self.checkpoints[-1][0]

    def to_frame(self, metrics: Iterable[str] | None = None) -> pd.DataFrame:
        """The comparison table in long form: one row per scenario, checkpoint and metric.

        Columns: ``scenario``, ``month``, ``step``, ``metric``, ``unit``, ``n``, ``mean``, ``ci_low``, ``ci_high``
        (mean over replications and its t-interval), ``diff``, ``diff_low``, ``diff_high`` (difference to the
        baseline and its interval: paired t over replications, or Welch with independent seeds) and
        ``excludes_zero`` (whether that interval excludes zero). ROI is itself a comparison with the baseline:
        its difference columns are empty and ``excludes_zero`` refers to its own interval.
        """
        if self._frame is None:
            self._frame = self._summarise()
        chosen = check_metrics(metrics)
        df = self._frame
        return df[df["metric"].isin(chosen)].reset_index(drop=True)

    def _summarise(self) -> pd.DataFrame:
        rows = []
        n_s, n_r = len(self.scenarios), self.replications
        for month, step in self.checkpoints:
            block = self.replicates[self.replicates["step"] == step]
            for metric, spec in METRICS.items():
                x = block[metric].to_numpy(dtype=np.float64).reshape(n_s, n_r)
                mean, lo, hi = t_interval(x, self.level)
                if self.independent:
                    diff, dlo, dhi = welch_interval(x, x[:1], self.level)
                else:
                    diff, dlo, dhi = t_interval(x - x[:1], self.level)
                for i, name in enumerate(self.names):
                    if metric == "roi":
                        if i == 0:
                            continue
                        diff_i, dlo_i, dhi_i = math.nan, math.nan, math.nan
                        test_lo, test_hi = lo[i], hi[i]
                    else:
                        diff_i, dlo_i, dhi_i = (diff[i], dlo[i], dhi[i]) if i else (math.nan,) * 3
                        test_lo, test_hi = dlo_i, dhi_i
                    rows.append(
                        {
                            "scenario": name,
                            "month": month,
                            "step": step,
                            "metric": metric,
                            "unit": spec.unit,
                            "n": int(np.isfinite(x[i]).sum()),
                            "mean": mean[i],
                            "ci_low": lo[i],
                            "ci_high": hi[i],
                            "diff": diff_i,
                            "diff_low": dlo_i,
                            "diff_high": dhi_i,
                            "excludes_zero": bool(test_lo > 0 or test_hi < 0),
                        }
                    )
        return pd.DataFrame(rows)

    def value(self, scenario: str, metric: str, column: str = "mean", month: float | None = None) -> float:
        """One number of the table, e.g. ``value("cut-effort", "retention", "diff")`` at the horizon."""
        df = self.to_frame([metric])
        month = self.horizon_month if month is None else month
        hit = df[(df["scenario"] == scenario) & (df["month"] == month)]
        if hit.empty:
            raise KeyError(f"no row for scenario {scenario!r}, metric {metric!r}, month {month:g}")
        return float(hit[column].iloc[0])

    def bands(self, series: str = "active") -> pd.DataFrame:
        """Mean and confidence band over replications of a time series (see `SERIES`), per scenario and step.

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario``, ``step``, ``month``, ``mean``, ``ci_low``, ``ci_high``.
        """
        if series not in SERIES:
            raise ScenarioError("compare", "series", repr(series), f"one of {', '.join(SERIES)}")
        n_s, n_r = len(self.scenarios), self.replications
        n_t = len(self.runs) // (n_s * n_r)
        shape = (n_s, n_r, n_t)
        if series == "retention":
            cohort = _cube(self.runs, "initial_active", shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                y = 100.0 * cohort / cohort[..., :1]
        elif series == "cumulative_profit":
            y = np.cumsum(_cube(self.runs, "profit", shape), axis=-1)
        else:
            y = _cube(self.runs, series, shape)
        mean, lo, hi = t_interval(y, self.level, axis=1)
        days = self.runs["day"].to_numpy()[:n_t]
        frames = [
            pd.DataFrame(
                {
                    "scenario": name,
                    "step": np.arange(n_t),
                    "month": days / MONTH_DAYS,
                    "mean": mean[i],
                    "ci_low": lo[i],
                    "ci_high": hi[i],
                }
            )
            for i, name in enumerate(self.names)
        ]
        return pd.concat(frames, ignore_index=True)

    def plot(self, series: str = "active", ax=None):
        """Draw one time series per scenario with its confidence band (see `SERIES`).

        Parameters
        ----------
        series
            ``"active"``, ``"retention"``, ``"cumulative_profit"`` or ``"nps"``.
        ax
            matplotlib Axes to draw into; None makes a new figure.

        Returns
        -------
        matplotlib.axes.Axes
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
        title, unit = SERIES.get(series, (series, ""))
        df = self.bands(series)
        for i, name in enumerate(self.names):
            d = df[df["scenario"] == name]
            colour = _colour(i)
            ax.plot(d["month"], d["mean"], color=colour, lw=2 if i == 0 else 1.5, label=name)
            ax.fill_between(d["month"], d["ci_low"], d["ci_high"], color=colour, alpha=0.2, lw=0)
        ax.set(
            title=f"{title} (mean, {self.level:.0%} CI over {self.replications} replications)",
            xlabel="month",
            ylabel=unit,
        )
        ax.legend(fontsize="small")
        return ax

    def plot_stages(self, axes=None):
        """Mean number of customers at each CX Spectrum stage over time, one panel per scenario.

        Parameters
        ----------
        axes
            A sequence of matplotlib Axes, one per scenario; None makes a new figure.

        Returns
        -------
        list of matplotlib Axes
        """
        from loyaltysim.results import STAGE_COLOURS

        if axes is None:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=(3.6 * len(self.scenarios), 3.8), layout="constrained")
            axes = fig.subplots(1, len(self.scenarios), sharey=True, squeeze=False)[0]
        n_s, n_r = len(self.scenarios), self.replications
        n_t = len(self.runs) // (n_s * n_r)
        months = self.runs["day"].to_numpy()[:n_t] / MONTH_DAYS
        means = {s: _cube(self.runs, s, (n_s, n_r, n_t)).mean(axis=1) for s in STAGES}
        for i, (name, ax) in enumerate(zip(self.names, axes, strict=True)):
            ax.stackplot(
                months, *(means[s][i] for s in STAGES), labels=STAGES, colors=[STAGE_COLOURS[s] for s in STAGES]
            )
            ax.set(title=name, xlabel="month")
        axes[0].set_ylabel("customers (mean over replications)")
        axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="x-small")
        return list(axes)

    def plot_differences(self, metric: str = "profit", month: float | None = None, ax=None):
        """Difference of each variant to the baseline with its confidence interval (a forest plot).

        Parameters
        ----------
        metric
            A name from `METRICS` (for ``"roi"`` the ROI itself is drawn).
        month
            Checkpoint month; default the horizon.
        ax
            matplotlib Axes to draw into; None makes a new figure.

        Returns
        -------
        matplotlib.axes.Axes
        """
        check_metrics([metric])
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * len(self.scenarios)), layout="constrained")
        month = self.horizon_month if month is None else month
        df = self.to_frame([metric])
        df = df[(df["month"] == month) & (df["scenario"] != self.baseline)]
        cols = ("mean", "ci_low", "ci_high") if metric == "roi" else ("diff", "diff_low", "diff_high")
        y = np.arange(len(df))[::-1]
        for yi, (_, row), i in zip(y, df.iterrows(), range(1, len(df) + 1), strict=True):
            ax.errorbar(
                row[cols[0]],
                yi,
                xerr=[[row[cols[0]] - row[cols[1]]], [row[cols[2]] - row[cols[0]]]],
                fmt="o",
                color=_colour(i),
                capsize=4,
            )
        from matplotlib.ticker import MaxNLocator, StrMethodFormatter

        ax.axvline(0, color="#636363", lw=1)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        decimals = 2 if metric == "roi" else METRICS[metric].decimals
        ax.xaxis.set_major_formatter(StrMethodFormatter(f"{{x:,.{decimals}f}}"))
        ax.set_yticks(y, df["scenario"])
        spec = METRICS[metric]
        what = spec.label if metric == "roi" else f"{spec.label}: difference to {self.baseline}"
        ax.set(title=f"{what}, month {month:g} ({self.level:.0%} CI)", xlabel=spec.unit)
        return ax

    def save(self, directory: str | Path) -> list[Path]:
        """Write the report (``report.html``, figures, tables, raw runs) into ``directory``; see `loyaltysim.report`."""
        from loyaltysim.report import write_report

        return write_report(self, directory)


_PALETTE = ("#252525", "#2171b5", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf")


def _colour(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]


# ---------------------------------------------------------------------------------------------------------------
# Running a comparison


def _load(item: Scenario | str | Path, overrides: Mapping[str, Any]) -> Scenario:
    if isinstance(item, Scenario):
        return item.with_overrides(overrides) if overrides else item
    return load_scenario(item, overrides)


def _check_alike(scenarios: Sequence[Scenario]) -> None:
    base = scenarios[0]
    names = {base.name}
    for s in scenarios[1:]:
        where = s.source or s.name
        for key, a, b in (
            ("population.size", base.population.size, s.population.size),
            ("time.horizon_days", base.time.horizon_days, s.time.horizon_days),
            ("time.step_days", base.time.step_days, s.time.step_days),
        ):
            if a != b:
                raise ScenarioError(
                    where,
                    key,
                    f"{b:g}",
                    f"{a:g} as in the baseline {base.source or base.name} "
                    "(compared scenarios must share population size, horizon and step length)",
                )
        if s.name in names:
            raise ScenarioError(where, "name", repr(s.name), "a name no other compared scenario has")
        names.add(s.name)


def compare(
    scenarios: Sequence[Scenario | str | Path],
    replications: int = 20,
    seed: int = 0,
    *,
    independent: bool = False,
    jobs: int = 1,
    overrides: Mapping[str, Any] | None = None,
    checkpoints: Iterable[float] = DEFAULT_CHECKPOINTS,
    discount_rate: float = 0.10,
    level: float = LEVEL,
    progress: bool | None = None,
) -> Comparison:
    """Run a baseline and its variants over replications and compare them.

    Parameters
    ----------
    scenarios
        Baseline first, then one or more variants: `Scenario` objects or scenario files. They must share
        population size, horizon and step length, and have distinct names.
    replications
        Runs per scenario (at least 1; confidence intervals need 2 or more).
    seed
        Seed of replication 0; replication ``r`` uses ``seed + r`` (see `loyaltysim.execution.replication_seeds`).
    independent
        False (default): every scenario uses the same seeds (common random numbers, paired differences). True:
        independent seeds per scenario and Welch intervals for the differences.
    jobs
        Processes to run replications in (each with one numba thread); the numbers do not depend on it.
    overrides
        Dotted scenario keys applied to every scenario, e.g. ``{"population.size": 5000}``.
    checkpoints
        Months at which metrics are read besides the horizon (clipped to the horizon).
    discount_rate
        Yearly discount rate of the CLV (greater than 0).
    level
        Confidence level of the intervals.
    progress
        Show a progress bar on stderr; None: only when stderr is a terminal.

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        A bad scenario file or override, scenarios that cannot be compared, or a bad argument.
    """
    if len(scenarios) < 2:
        raise ScenarioError("compare", "scenarios", str(len(scenarios)), "a baseline and at least one variant")
    if not isinstance(replications, int | np.integer) or replications < 1:
        raise ScenarioError("compare", "replications", repr(replications), "a whole number of at least 1")
    if not isinstance(jobs, int | np.integer) or jobs < 1:
        raise ScenarioError("compare", "jobs", repr(jobs), "a whole number of at least 1")
    if not 0 < discount_rate <= 1:
        raise ScenarioError("compare", "discount_rate", f"{discount_rate:g}", "a yearly rate in (0, 1]")
    if not 0 < level < 1:
        raise ScenarioError("compare", "level", f"{level:g}", "a confidence level in (0, 1), e.g. 0.95")
    specs = [_load(s, overrides or {}) for s in scenarios]
    _check_alike(specs)
    marks = checkpoint_steps(specs[0], checkpoints)
    runs = _run_all(specs, int(replications), int(seed), independent, int(jobs), progress)
    replicates = _replicate_metrics(specs, int(replications), runs, marks, discount_rate)
    return Comparison(specs, int(replications), int(seed), independent, marks, runs, replicates, discount_rate, level)


def _run_all(
    specs: list[Scenario], replications: int, seed: int, independent: bool, jobs: int, progress: bool | None
) -> pd.DataFrame:
    from tqdm.auto import tqdm

    seeds = [replication_seeds(seed, replications, i, independent) for i in range(len(specs))]
    tasks = [
        Task(spec, seeds[i][r], {"scenario": spec.name, "replication": r})
        for r in range(replications)
        for i, spec in enumerate(specs)
    ]
    show = sys.stderr.isatty() if progress is None else progress
    frames = []
    with (
        make_executor(jobs) as executor,  # one numba thread per run: replications are the parallel unit
        tqdm(total=len(tasks), disable=not show, file=sys.stderr, unit="run", desc="compare", leave=False) as bar,
    ):
        for _, df in executor.map_unordered(run_task, tasks):
            frames.append(df)
            bar.update(1)
    runs = pd.concat(frames, ignore_index=True)
    order = pd.Categorical(runs["scenario"], categories=[s.name for s in specs], ordered=True)
    runs = runs.assign(scenario=order).sort_values(["scenario", "replication", "step"], kind="stable")
    runs["scenario"] = runs["scenario"].astype(str)
    return runs.reset_index(drop=True)


def _replicate_metrics(
    specs: list[Scenario], replications: int, runs: pd.DataFrame, marks: list[tuple[float, int]], discount_rate: float
) -> pd.DataFrame:
    n_s = len(specs)
    n_t = specs[0].n_steps + 1
    shape = (n_s, replications, n_t)
    needed = {
        "active",
        "initial_active",
        "interactions",
        "churned_step",
        "profit",
        "acquisition_cost",
        "ces",
        "new_customers",
        "revenue",
        "cost",
        "intervention_cost",
        "nps",
        *STAGES,
    }
    cubes = {c: _cube(runs, c, shape) for c in needed}
    monthly = (1.0 + discount_rate) ** (1.0 / 12.0) - 1.0
    seeds = runs["seed"].to_numpy().reshape(shape)[..., 0]
    frames = []
    for month, step in marks:
        values = _window_metrics(cubes, step, specs[0].months_per_step, monthly)
        frame = pd.DataFrame(
            {
                "scenario": np.repeat([s.name for s in specs], replications),
                "replication": np.tile(np.arange(replications), n_s),
                "seed": seeds.ravel(),
                "month": month,
                "step": step,
            }
        )
        for metric in METRICS:
            frame[metric] = values[metric].ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
