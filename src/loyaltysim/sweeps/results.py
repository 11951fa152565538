"""`SweepResults`: the tidy table of a sweep's runs, the design behind it, and what can be read from it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.errors import ScenarioError
from loyaltysim.runs.metrics import roi
from loyaltysim.scenario import Scenario
from loyaltysim.sweeps import figures, summaries
from loyaltysim.sweeps.experiment import Experiment
from loyaltysim.sweeps.store import Store, tidy

__all__ = ["SweepResults"]


@dataclass
class SweepResults:
    """Outcome of a sweep: the tidy table of runs and the design that produced it.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per point x replication x checkpoint: ``point``, ``replication``, every parameter (and derived
        key), ``seed``, ``month``, ``step`` and one column per metric.
    design : pandas.DataFrame
        One row per point.
    experiment : Experiment
    scenario : Scenario
        The base scenario (with the experiment's fixed changes).
    directory : pathlib.Path or None
    info : dict
        Run facts: tasks run, tasks resumed, wall time, executor.
    series : pandas.DataFrame or None
        Outcomes over time, for an experiment with ``[series]``: the same columns as ``frame`` with one row per
        point x replication x month (every ``series.every`` months from 0 to the horizon) and the series metrics.
    """

    frame: pd.DataFrame
    design: pd.DataFrame
    experiment: Experiment
    scenario: Scenario
    directory: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)
    series: pd.DataFrame | None = None

    @classmethod
    def load(cls, directory: str | Path) -> SweepResults:
        """Read a result directory written by `sweep` (complete or not)."""
        directory = Path(directory)
        manifest_path = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ScenarioError(str(directory), None, None, "not a sweep result directory (no manifest.json)") from None
        except (OSError, ValueError) as exc:
            raise ScenarioError(str(manifest_path), None, None, f"unreadable manifest: {exc}") from None
        exp = Experiment.model_validate(manifest["experiment"])
        exp.source = manifest.get("experiment_file")
        scenario = Scenario.model_validate(manifest["scenario"])
        final = directory / "results.parquet"
        store = Store(directory, series=exp.series is not None)
        complete = final.exists() and (exp.series is None or (directory / "series.parquet").exists())
        frame = tidy(pd.read_parquet(final)) if complete else store.read()
        series = None
        if exp.series is not None:  # read from the same place as the checkpoint rows, so the two tables agree
            series = tidy(pd.read_parquet(directory / "series.parquet")) if complete else store.read(series=True)
        design = pd.read_parquet(directory / "design.parquet")
        info = {k: manifest.get(k) for k in ("status", "tasks", "hash", "created")}
        return cls(frame, design, exp, scenario, directory, info, series)

    @property
    def parameters(self) -> list[str]:
        """Names of the varied parameters."""
        return list(self.experiment.parameters)

    @property
    def complete(self) -> bool:
        """Whether every point x replication has its rows."""
        if self.frame.empty:
            return False
        runs = self.frame[["point", "replication"]].drop_duplicates()
        return len(runs) == len(self.design) * self.experiment.replications

    def to_frame(self) -> pd.DataFrame:
        """Return the tidy table (a copy)."""
        return self.frame.copy()

    def month(self, month: float | None = None) -> float:
        """Return the checkpoint nearest ``month`` (default: the last)."""
        months = np.sort(self.frame["month"].unique())
        if month is None:
            return float(months[-1])
        return float(months[np.argmin(np.abs(months - month))])

    def point_means(self, metric: str, month: float | None = None) -> pd.DataFrame:
        """Per point at one checkpoint: parameters, mean over replications, its standard error and count.

        Parameters
        ----------
        metric
            A recorded metric.
        month
            Checkpoint (the nearest recorded one); default: the last.

        Returns
        -------
        pandas.DataFrame
            The design's columns, then ``mean``, ``sem`` and ``n``.
        """
        at = self.frame[self.frame["month"] == self.month(month)]
        g = at.groupby("point")[metric]
        stats = pd.DataFrame({"mean": g.mean(), "sem": g.sem(), "n": g.count()})
        return self.design.set_index("point").join(stats, how="inner").reset_index()

    def roi(self, month: float | None = None) -> pd.DataFrame:
        """Return on the CX investment of each point against the experiment's reference point.

        `loyaltysim.runs.metrics.roi` per replication (the same seed at every point: common random numbers):
        (profit - reference profit) / (intervention cost - reference intervention cost), both summed to the
        checkpoint. Undefined where a point spends what the reference spends.

        Parameters
        ----------
        month
            Checkpoint (the nearest recorded one); default: the last.

        Returns
        -------
        pandas.DataFrame
            Per point: the parameters, the mean ROI over replications (``mean``), its standard error (``sem``)
            and ``n``.
        """
        at, base = self._reference(["profit", "intervention_cost"], month)
        ratio = pd.Series(
            roi(
                at["profit"].to_numpy(),
                at["intervention_cost"].to_numpy(),
                at["replication"].map(base["profit"]).to_numpy(),
                at["replication"].map(base["intervention_cost"]).to_numpy(),
            ),
            index=at.index,
        )
        g = ratio.groupby(at["point"])
        stats = pd.DataFrame({"mean": g.mean(), "sem": g.sem(), "n": g.count()})
        return self.design.set_index("point").join(stats, how="inner").reset_index()

    def differences(self, metric: str, month: float | None = None, conf_level: float = 0.95) -> pd.DataFrame:
        """Each point's difference to the reference point in a metric, paired by replication, with its interval.

        Replication ``r`` of every point runs with the same seed (common random numbers), so the difference is
        taken per replication, metric(point, r) - metric(reference, r), then averaged; the interval is Student's t
        over the replications' differences (none with one replication). The reference point's own row is 0.

        Parameters
        ----------
        metric
            A recorded metric.
        month
            Checkpoint (the nearest recorded one); default: the last.
        conf_level
            Level of the interval.

        Returns
        -------
        pandas.DataFrame
            Per point: the parameters, ``difference`` (mean), ``sem``, ``conf_low``, ``conf_high`` and ``n``.
        """
        from scipy import stats

        if self.experiment.independent_seeds:
            raise ValueError("paired differences need common random numbers; this sweep has independent_seeds")
        at, base = self._reference([metric], month)
        diff = at[metric] - at["replication"].map(base[metric])
        g = diff.groupby(at["point"])
        mean, sem, n = g.mean(), g.sem(), g.count()
        half = stats.t.ppf(0.5 + conf_level / 2, np.maximum(n - 1, 1)) * sem
        table = pd.DataFrame(
            {"difference": mean, "sem": sem, "conf_low": mean - half, "conf_high": mean + half, "n": n}
        )
        return self.design.set_index("point").join(table, how="inner").reset_index()

    def _reference(self, metrics: list[str], month: float | None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Rows at the checkpoint, and the reference point's metrics per replication."""
        ref = self.experiment.analysis.reference
        if ref is None:
            raise ValueError("the experiment names no analysis.reference point")
        at = self.frame[self.frame["month"] == self.month(month)]
        mask = np.logical_and.reduce(
            [
                np.isclose(at[k].astype(float), float(v)) if not isinstance(v, str) else at[k] == v
                for k, v in ref.items()
            ]
        )
        base = at[mask].groupby("replication")[metrics].mean()
        if base.empty:
            raise ValueError(f"the reference point {ref} is not in the design")
        return at, base

    def envelope(
        self, metric: str, by: str | None = None, groups: int = 4, quantiles: tuple[float, float] = (0.05, 0.95)
    ) -> pd.DataFrame:
        """A series metric over time per design point or per group of points (`summaries.envelope`).

        Parameters
        ----------
        metric
            A metric the experiment's ``[series]`` recorded.
        by
            Parameter to group the points by (default: per point for small designs, else the parameter whose
            values are the most rank-correlated with the metric's point means at the last month).
        groups
            Quantile bins of a parameter with more than six values.
        quantiles
            The envelope's lower and upper quantile.

        Returns
        -------
        pandas.DataFrame
            ``group``, ``label``, ``month``, ``n``, ``mean``, ``median``, ``low``, ``high``; ``attrs["by"]`` names
            the grouping parameter (None: per point).
        """
        if self.experiment.series is None:
            raise ValueError(
                "this sweep recorded no outcomes over time; add [series] metrics = [...] to the experiment"
            )
        allowed = list(self.experiment.series.metrics)
        if metric not in allowed:
            raise ValueError(f"metric '{metric}' was not recorded over time; allowed: {', '.join(allowed)}")
        if self.series is None or self.series.empty:
            raise ValueError("no runs with outcomes over time yet")
        if by is not None and by not in self.parameters:
            raise ValueError(f"by: '{by}' is not a parameter; allowed: {', '.join(self.parameters)}")
        return summaries.envelope(self.series, self.design, self.parameters, metric, by, groups, quantiles)

    def plot_series(self, metric: str | None = None, by: str | None = None, ax=None):
        """Envelopes of a series metric over time (`envelope`): median line and quantile band per group; the axes."""
        if metric is None and self.experiment.series is not None:
            metric = self.experiment.series.metrics[0]
        return figures.envelopes(self.envelope(metric, by), self.experiment.replications, ax=ax)

    def convergence(self, metrics: list[str] | None = None, month: float | None = None) -> pd.DataFrame:
        """How a point's confidence interval narrows with replications, seen and projected (`summaries.convergence`).

        Returns
        -------
        pandas.DataFrame
            ``metric``, ``replications``, ``projected``, ``points``, ``sd``, ``half_width``, ``relative_half_width``
            (%) and ``difference_half_width``.
        """
        if self.experiment.replications < 2:
            raise ValueError("a convergence view needs at least 2 replications; this sweep has 1")
        metrics = list(metrics or self.experiment.metrics)
        for m in metrics:
            self._recorded(m)
        at = self.frame[self.frame["month"] == self.month(month)]
        exp = self.experiment
        table = summaries.convergence(at, metrics, exp.replications, exp.independent_seeds)
        table.attrs["month"] = self.month(month)
        return table

    def plot_convergence(self, metrics: list[str] | None = None, month: float | None = None, ax=None):
        """The `convergence` table drawn: relative half-width against replications, one line a metric; the axes."""
        return figures.convergence(self.convergence(metrics, month), ax=ax)

    def variance(self, metric: str, month: float | None = None) -> pd.DataFrame:
        """How much of a metric's variance over the runs is stochastic and how much parametric (`summaries.variance`).

        Returns
        -------
        pandas.DataFrame
            One row: ``metric``, ``month``, ``replications``, ``points``, ``stochastic``, ``stochastic_common``,
            ``parametric``, ``stochastic_share`` and ``noise_in_means``.
        """
        at = self.frame[self.frame["month"] == self.month(month)]
        exp = self.experiment
        self._recorded(metric)
        table = summaries.variance(at, metric, exp.independent_seeds)
        table.insert(1, "month", self.month(month))
        return table

    def _recorded(self, metric: str) -> None:
        if metric not in self.experiment.metrics:
            allowed = ", ".join(self.experiment.metrics)
            raise ValueError(f"metric '{metric}' was not recorded by this sweep; allowed: {allowed}")

    def grid_means(self, metric: str, month: float | None = None) -> pd.DataFrame:
        """`point_means` of a metric, or `roi` for ``"roi"`` (what heatmaps and grid tables show)."""
        return self.roi(month) if metric == "roi" else self.point_means(metric, month)

    def plot(self, metric: str | None = None, ax=None, month: float | None = None):
        """Draw a grid's heatmap, a Latin hypercube's panels, else the metric against the first parameter.

        A grid over two or more parameters gets the heatmap of two; a Latin hypercube (without ``ax``) a figure of
        one panel per parameter with its PRCC.

        Parameters
        ----------
        metric
            Metric to show (default: the experiment's first).
        ax
            Matplotlib axes (None: a new figure).
        month
            Checkpoint (default: the last).

        Returns
        -------
        matplotlib.axes.Axes or matplotlib.figure.Figure
        """
        metric = metric or self.experiment.metrics[0]
        names = self.parameters
        if self.experiment.design.kind == "lhs" and ax is None:
            return figures.scatters(self, metric, month=month)
        if self.experiment.design.kind == "grid" and len(names) >= 2:
            x, y = self.experiment.analysis.heatmap or (names[0], names[1])
            return figures.heatmap(self, metric, x, y, month=month, ax=ax)
        return figures.scatter(self, metric, names[0], month=month, ax=ax)
