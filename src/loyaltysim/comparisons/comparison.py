"""`Comparison`: replicated runs of a baseline and its variants, their metrics, and their differences.

Made by `loyaltysim.comparisons.run.compare`. Paired (the default): replication ``r`` of every scenario uses the
same seed, so the same people on the same network get the same draws (common random numbers) and most of the
noise cancels in the differences. Independent: every scenario gets its own seeds and differences use Welch's
interval. Metrics (`loyaltysim.runs.metrics.COMPARISON_METRICS`) are read from each run at checkpoints (months)
and at the horizon; see ``docs/comparison.md``. `Comparison` draws itself with `loyaltysim.comparisons.figures`
and writes its report with `loyaltysim.comparisons.report`, both below it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltysim.comparisons import figures, report, tornado
from loyaltysim.errors import ScenarioError
from loyaltysim.runs.metrics import (
    COMPARISON_METRICS,
    DISCOUNT_RATE,
    METRICS,
    PRACTICAL,
    RELATIVE_METRICS,
    check_metrics,
)
from loyaltysim.runs.statistics import LEVEL, t_interval, welch_interval
from loyaltysim.scenario import MONTH_DAYS, STAGES, Scenario

__all__ = ["NULL", "SERIES", "Comparison", "comparison_metrics", "cube"]

NULL = {"roi": 0.0, "break_even": 1.0}
"""What a relative metric's interval is tested against: ROI 0 and a break-even cost multiple of 1 mean the lever
just pays for itself."""


SERIES = {
    "active": ("Active customers", "customers"),
    "retention": ("Retention of the starting base", "% of month-0 customers"),
    "cumulative_profit": ("Cumulative profit", "currency"),
    "profit_difference": ("Cumulative profit, difference to the baseline (payback where it crosses zero)", "currency"),
    "retention_difference": ("Retention of the starting base, difference to the baseline", "points"),
    "nps": ("Net Promoter Score", "points"),
}
"""Time series with confidence bands that `Comparison.bands` and `Comparison.plot` draw."""


def cube(runs: pd.DataFrame, column: str, shape: tuple[int, int, int]) -> np.ndarray:
    """One column of the sorted runs as a float array shaped (scenarios, replications, steps)."""
    return runs[column].to_numpy(dtype=np.float64).reshape(shape)


def comparison_metrics(metrics: Iterable[str] | None, label: str = "metric") -> list[str]:
    """The comparison's metric names in table order, or all of them; a `ScenarioError` for an unknown one."""
    return check_metrics(metrics, COMPARISON_METRICS, label, "compare")


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
        `loyaltysim.engine.layout.COLUMNS`; sorted by scenario (baseline first), replication and step.
    replicates : pandas.DataFrame
        One row per scenario, replication and checkpoint with every metric of `METRICS` as a column.
    discount_rate : float
        Yearly discount rate used for CLV.
    level : float
        Confidence level of the intervals.
    practical : float
        The smallest difference that matters, as a share of the baseline's value (a difference is marked only when
        its interval excludes zero and it is at least this large).
    tornado : pandas.DataFrame or None
        What the verdict hinges on (``compare(..., tornado=True)``): per variant and assumption, the value
        difference at the low and high end of its range and whether the verdict flips there
        (`loyaltysim.comparisons.tornado.tornado_frame`); None when not asked for.
    tornado_replications : int
        Paired replications behind each end of the tornado.
    posterior : str
        Where the parameter sets drawn per replication came from (``compare(..., posterior=DIR)``), or "" when the
        scenarios' own values were used: then the intervals cover simulation noise only.
    draws : pandas.DataFrame or None
        The parameter set of each replication (one row per replication), when drawn from a posterior.
    """

    scenarios: list[Scenario]
    replications: int
    seed: int
    independent: bool
    checkpoints: list[tuple[float, int]]
    runs: pd.DataFrame
    replicates: pd.DataFrame
    discount_rate: float = DISCOUNT_RATE
    level: float = LEVEL
    practical: float = PRACTICAL
    tornado: pd.DataFrame | None = None
    tornado_replications: int = 0
    posterior: str = ""
    draws: pd.DataFrame | None = None
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
        baseline and its interval: paired t over replications, or Welch with independent seeds),
        ``excludes_zero`` (whether that interval excludes zero) and ``marked`` (it excludes zero and the difference
        is large enough to matter, ``practical``). ROI, payback and break-even cost are themselves comparisons
        with the baseline: their difference columns are empty and ``excludes_zero`` says whether their own interval
        excludes the value at which the lever just pays (`NULL`: ROI 0, break-even 1; never for payback).
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
                x = block[metric].to_numpy(dtype=np.float64).reshape(n_s, n_r)
                mean, lo, hi = t_interval(x, self.level)
                if self.independent:
                    diff, dlo, dhi = welch_interval(x, x[:1], self.level)
                else:
                    diff, dlo, dhi = t_interval(x - x[:1], self.level)
                for i, name in enumerate(self.names):
                    if metric in RELATIVE_METRICS:
                        if i == 0:
                            continue
                        finite = x[i][np.isfinite(x[i])]  # a payback that never comes is left out (n says so)
                        if finite.size:
                            mean[i], lo[i], hi[i] = t_interval(finite, self.level)
                        diff_i, dlo_i, dhi_i = math.nan, math.nan, math.nan
                        null = NULL.get(metric)  # payback has no null value: it is never marked
                        test_lo, test_hi = (lo[i] - null, hi[i] - null) if null is not None else (math.nan,) * 2
                    else:
                        diff_i, dlo_i, dhi_i = (diff[i], dlo[i], dhi[i]) if i else (math.nan,) * 3
                        test_lo, test_hi = dlo_i, dhi_i
                    rows.append(
                        {
                            "scenario": name,
                            "month": month,
                            "step": step,
                            "metric": metric,
                            "unit": self.unit(metric),
                            "n": int(np.isfinite(x[i]).sum()),
                            "mean": mean[i],
                            "ci_low": lo[i],
                            "ci_high": hi[i],
                            "diff": diff_i,
                            "diff_low": dlo_i,
                            "diff_high": dhi_i,
                            "excludes_zero": bool(test_lo > 0 or test_hi < 0),
                            "marked": bool(test_lo > 0 or test_hi < 0)
                            and (metric in RELATIVE_METRICS or self._practical(metric, diff_i, mean[0])),
                        }
                    )
        return pd.DataFrame(rows)

    @property
    def currency(self) -> str:
        """The baseline's currency label (``economics.currency``)."""
        return self.scenarios[0].economics.currency

    def unit(self, metric: str) -> str:
        """A metric's unit as the tables show it: money in the scenario's currency."""
        unit = METRICS[metric].unit
        return self.currency if unit == "currency" else unit.replace("currency", self.currency)

    def _practical(self, metric: str, diff: float, base: float) -> bool:
        """Whether a difference is large enough to matter.

        It must show as non-zero at the metric's decimals and be at least ``practical`` (a share) of the baseline's
        magnitude.
        """
        if not math.isfinite(diff):
            return False
        shown = 0.5 * 10.0 ** -METRICS[metric].decimals
        return abs(diff) >= max(shown, self.practical * abs(base) if math.isfinite(base) else 0.0)

    def value(self, scenario: str, metric: str, column: str = "mean", month: float | None = None) -> float:
        """One number of the table, e.g. ``value("cut-effort", "retention", "diff")`` at the horizon.

        Parameters
        ----------
        scenario
            A compared scenario's name.
        metric
            A name of `COMPARISON_METRICS`.
        column
            A column of `to_frame`: ``mean``, ``ci_low``, ``ci_high``, ``diff``, ``diff_low``, ``diff_high``, ``n``.
        month
            A checkpoint month; default: the horizon.

        Returns
        -------
        float
        """
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
            cohort = cube(self.runs, "initial_active", shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                y = 100.0 * cohort / cohort[..., :1]
        elif series == "retention_difference":
            cohort = cube(self.runs, "initial_active", shape)
            with np.errstate(invalid="ignore", divide="ignore"):
                y = 100.0 * cohort / cohort[..., :1]
            y = y - y[:1]  # paired by replication (common random numbers)
        elif series in ("cumulative_profit", "profit_difference"):
            y = np.cumsum(cube(self.runs, "profit", shape), axis=-1)
            if series == "profit_difference":
                y = y - y[:1]
        else:
            y = cube(self.runs, series, shape)
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
        means = {s: cube(self.runs, s, (n_s, n_r, n_t)).mean(axis=1) for s in STAGES}
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
            A name of `SERIES`: ``"active"``, ``"retention"``, ``"cumulative_profit"``, ``"profit_difference"``,
            ``"retention_difference"`` or ``"nps"``.
        ax
            matplotlib Axes to draw into; None makes a new figure.

        Returns
        -------
        matplotlib.axes.Axes
        """
        title, unit = SERIES.get(series, (series, ""))
        unit = self.currency if unit == "currency" else unit
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

    def plot_tornado(self, axes=None):
        """What the verdict hinges on: one tornado panel per lever (needs ``compare(..., tornado=True)``).

        Returns
        -------
        list of matplotlib Axes
        """
        if self.tornado is None:
            raise ScenarioError("compare", "tornado", "None", "a comparison run with tornado=True (--tornado)")
        title = (
            f"Value difference when one assumption moves over its range ({self.tornado_replications} paired "
            "replications; dashed: zero)"
        )
        return figures.tornado(self.tornado, self.names[1:], title, axes, currency=self.currency)

    def hinges(self) -> list[str]:
        """One line per lever: the assumption with the widest swing and any that flips the verdict (tornado)."""
        return [] if self.tornado is None else tornado.hinge_lines(self.tornado, self.names[1:])

    def save(self, directory: str | Path, force: bool = False) -> list[Path]:
        """Write the report (``report.html``, figures, tables, raw runs) into ``directory``, whole.

        See `loyaltysim.comparisons.report.write_report`; ``force`` replaces a folder holding other outputs.
        """
        return report.write_report(self, directory, force)
