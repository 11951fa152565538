"""Comparing scenarios: replications with common random numbers, confidence intervals, ROI and CLV.

The first scenario is the baseline, the others are variants (levers a strategist might pull). Every scenario is
run ``replications`` times through `loyaltysim.runs.executors` (the same `Task` / `run_task` / executor machinery
the sweeps use). Paired (the default): replication ``r`` of every scenario uses the same seed, so the same people on
the same network get the same draws (common random numbers) and most of the noise cancels in the differences.
Independent: every scenario gets its own seeds and differences use Welch's interval.

Metrics (`loyaltysim.runs.metrics.COMPARISON_METRICS`) are read from each run at checkpoints (months) and at the
horizon; see ``docs/comparison.md``. `Comparison` draws itself with `loyaltysim.comparisons.figures` and writes its
report with `loyaltysim.comparisons.report`, both below it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.comparisons import figures, report
from loyaltysim.engine.layout import COLUMNS
from loyaltysim.errors import ScenarioError
from loyaltysim.runs.executors import Task, make_executor, replication_seeds, run_task
from loyaltysim.runs.metrics import (
    COMPARISON_METRICS,
    METRICS,
    at_checkpoint,
    check_metrics,
    checkpoint_steps,
    monthly_discount,
    roi,
)
from loyaltysim.runs.statistics import LEVEL, t_interval, welch_interval
from loyaltysim.scenario import MONTH_DAYS, STAGES, Scenario, load_scenario

__all__ = ["DEFAULT_CHECKPOINTS", "SERIES", "Comparison", "compare", "comparison_metrics"]

DEFAULT_CHECKPOINTS = (3.0, 6.0, 12.0)
"""Checkpoints (months) read besides the horizon, clipped to the horizon."""

SERIES = {
    "active": ("Active customers", "customers"),
    "retention": ("Retention of the starting base", "% of month-0 customers"),
    "cumulative_profit": ("Cumulative profit", "currency"),
    "nps": ("Net Promoter Score", "points"),
}
"""Time series with confidence bands that `Comparison.bands` and `Comparison.plot` draw."""


def _cube(runs: pd.DataFrame, column: str, shape: tuple[int, int, int]) -> np.ndarray:
    return runs[column].to_numpy(dtype=np.float64).reshape(shape)


def comparison_metrics(metrics: Iterable[str] | None, label: str = "metric") -> list[str]:
    """The comparison's metric names in table order, or all of them; a `ScenarioError` for an unknown one."""
    return check_metrics(metrics, COMPARISON_METRICS, label, "compare")


def _window_metrics(
    c: Mapping[str, np.ndarray], k: int, months: float, size: int, discount: float
) -> dict[str, np.ndarray]:
    """Metrics of every (scenario, replication) at step ``k`` from arrays shaped (scenarios, replications, steps)."""
    out = at_checkpoint(c, k, months, size, discount)
    out["roi"] = roi(out["profit"], out["intervention_cost"], out["profit"][:1], out["intervention_cost"][:1])
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
        chosen = comparison_metrics(metrics)
        df = self._frame
        return df[df["metric"].isin(chosen)].reset_index(drop=True)

    def _summarise(self) -> pd.DataFrame:
        rows = []
        n_s, n_r = len(self.scenarios), self.replications
        for month, step in self.checkpoints:
            block = self.replicates[self.replicates["step"] == step]
            for metric in COMPARISON_METRICS:
                spec = METRICS[metric]
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

    def stage_means(self) -> pd.DataFrame:
        """Mean number of customers at each CX Spectrum stage over replications, per scenario and step.

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario``, ``step``, ``month`` and one per stage.
        """
        n_s, n_r = len(self.scenarios), self.replications
        n_t = len(self.runs) // (n_s * n_r)
        months = self.runs["day"].to_numpy()[:n_t] / MONTH_DAYS
        means = {s: _cube(self.runs, s, (n_s, n_r, n_t)).mean(axis=1) for s in STAGES}
        frames = [
            pd.DataFrame(
                {"scenario": name, "step": np.arange(n_t), "month": months, **{s: means[s][i] for s in STAGES}}
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
        title, unit = SERIES.get(series, (series, ""))
        what = f"{title} (mean, {self.level:.0%} CI over {self.replications} replications)"
        return figures.bands(self.bands(series), self.names, what, unit, ax)

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
        return figures.stages(self.stage_means(), self.names, axes)

    def plot_differences(self, metric: str = "profit", month: float | None = None, ax=None):
        """Difference of each variant to the baseline with its confidence interval (a forest plot).

        Parameters
        ----------
        metric
            A name from `COMPARISON_METRICS` (for ``"roi"`` the ROI itself is drawn).
        month
            Checkpoint month; default the horizon.
        ax
            matplotlib Axes to draw into; None makes a new figure.

        Returns
        -------
        matplotlib.axes.Axes
        """
        comparison_metrics([metric])
        month = self.horizon_month if month is None else month
        df = self.to_frame([metric])
        df = df[(df["month"] == month) & (df["scenario"] != self.baseline)]
        spec = METRICS[metric]
        what = spec.label if metric == "roi" else f"{spec.label}: difference to {self.baseline}"
        title = f"{what}, month {month:g} ({self.level:.0%} CI)"
        return figures.differences(df, metric, title, ax)

    def save(self, directory: str | Path) -> list[Path]:
        """Write the report (``report.html``, figures, tables, raw runs) into ``directory``.

        See `loyaltysim.comparisons.report.write_report`.
        """
        return report.write_report(self, directory)


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
    marks = checkpoint_steps(specs[0], checkpoints, "compare")
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
    needed = [name for name, col in COLUMNS.items() if col.kind != "label"]
    cubes = {c: _cube(runs, c, shape) for c in needed}
    discount = monthly_discount(discount_rate)
    size = specs[0].population.size
    seeds = runs["seed"].to_numpy().reshape(shape)[..., 0]
    frames = []
    for month, step in marks:
        values = _window_metrics(cubes, step, specs[0].months_per_step, size, discount)
        frame = pd.DataFrame(
            {
                "scenario": np.repeat([s.name for s in specs], replications),
                "replication": np.tile(np.arange(replications), n_s),
                "seed": seeds.ravel(),
                "month": month,
                "step": step,
            }
        )
        for metric in COMPARISON_METRICS:
            frame[metric] = values[metric].ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
