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
from loyaltysim.sweeps import figures
from loyaltysim.sweeps.experiment import Experiment
from loyaltysim.sweeps.store import Store, tidy

__all__ = ["ENVELOPE_POINTS", "SweepResults"]

ENVELOPE_POINTS = 8
"""Designs with at most this many points get one envelope per point; larger ones are grouped by a parameter."""


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)


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
        store = Store(directory)
        frame = tidy(pd.read_parquet(final)) if final.exists() else store.read()
        series = None
        if exp.series is not None:
            over_time = directory / "series.parquet"
            series = tidy(pd.read_parquet(over_time)) if over_time.exists() else store.read(series=True)
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
        """A series metric over time, summarised per design point or per group of points.

        With ``by`` None and at most `ENVELOPE_POINTS` points, each point is a group (its replications make the
        envelope). Otherwise the points are grouped by the parameter ``by`` (default: the parameter whose values
        are the most rank-correlated with the metric's point means at the last month): by its levels when it has
        at most six, else by its quantiles (``groups`` bins of equal count). Per group and month, over every run
        in the group: ``n``, ``mean``, ``median`` and the ``low`` and ``high`` quantiles.

        Parameters
        ----------
        metric
            A metric the experiment's ``[series]`` recorded.
        by
            Parameter to group the points by.
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
        s = self._series(metric)
        if by is not None and by not in self.parameters:
            raise ValueError(f"by: '{by}' is not a parameter; allowed: {', '.join(self.parameters)}")
        design = self.design.set_index("point")
        if by is None and len(design) <= ENVELOPE_POINTS:
            group = design.index.to_series()
            label = {p: ", ".join(f"{n}={_fmt(design.at[p, n])}" for n in self.parameters) for p in design.index}
        else:
            by = by or self._strongest(s, metric)
            values = design[by]
            if values.nunique() <= 6:
                levels = sorted(values.unique())
                group = values.map({v: i for i, v in enumerate(levels)})
                label = {i: f"{by}={_fmt(v)}" for i, v in enumerate(levels)}
            else:
                group = pd.Series(pd.qcut(values, groups, labels=False, duplicates="drop"), index=values.index)
                span = values.groupby(group).agg(["min", "max"])  # the values in each bin, not qcut's padded edges
                label = {i: f"{by} {_fmt(r['min'])} .. {_fmt(r['max'])}" for i, r in span.iterrows()}
        runs = s.assign(group=s["point"].map(group))
        g = runs.groupby(["group", "month"])[metric]
        table = pd.DataFrame(
            {
                "n": g.count(),
                "mean": g.mean(),
                "median": g.median(),
                "low": g.quantile(quantiles[0]),
                "high": g.quantile(quantiles[1]),
            }
        ).reset_index()
        table.insert(1, "label", table["group"].map(label))
        table.attrs.update(by=by, quantiles=tuple(quantiles), metric=metric)
        return table

    def plot_series(self, metric: str | None = None, by: str | None = None, ax=None):
        """Envelopes of a series metric over time (`envelope`): median line and quantile band per group; the axes."""
        metric = metric or self._series_metrics()[0]
        return figures.envelopes(self.envelope(metric, by), self.experiment.replications, ax=ax)

    def convergence(self, metrics: list[str] | None = None, month: float | None = None) -> pd.DataFrame:
        """How the confidence interval of each point's mean narrows with the number of replications.

        For ``n`` = 2 .. replications, using replications 0 .. n-1 of every point (the ones a sweep with ``n``
        replications runs): the half-width of the 95 % Student-t interval of each point's mean, averaged over the
        points, and that average as a % of the mean absolute value of the metric. A curve that still falls fast at
        the last ``n`` says more replications would still pay.

        Returns
        -------
        pandas.DataFrame
            ``metric``, ``replications``, ``points``, ``half_width`` and ``relative_half_width`` (%).
        """
        from scipy import stats

        reps = self.experiment.replications
        if reps < 2:
            raise ValueError("a convergence view needs at least 2 replications; this sweep has 1")
        at = self.frame[self.frame["month"] == self.month(month)]
        rows = []
        for m in metrics or self.experiment.metrics:
            wide = at.pivot_table(index="point", columns="replication", values=m, aggfunc="first")
            wide = wide.reindex(columns=range(reps))
            for n in range(2, reps + 1):
                first = wide.iloc[:, :n]
                half = stats.t.ppf(0.975, n - 1) * first.std(axis=1, ddof=1) / np.sqrt(n)
                scale = first.mean(axis=1).abs().mean()
                rows.append(
                    {
                        "metric": m,
                        "replications": n,
                        "points": int(half.count()),
                        "half_width": float(half.mean()),
                        "relative_half_width": float(100 * half.mean() / scale) if scale > 0 else np.nan,
                    }
                )
        table = pd.DataFrame(rows)
        table.attrs["month"] = self.month(month)
        return table

    def plot_convergence(self, metrics: list[str] | None = None, month: float | None = None, ax=None):
        """The `convergence` table drawn: relative half-width against replications, one line a metric; the axes."""
        return figures.convergence(self.convergence(metrics, month), ax=ax)

    def variance(self, metric: str, month: float | None = None) -> pd.DataFrame:
        """How much of a metric's variance over the sweep's runs is stochastic and how much parametric.

        The runs are read as y[p, r] = m + a_p + b_r + e_pr: a_p the effect of point p's parameters, b_r the effect
        of replication r's seed that every point shares under common random numbers, e_pr the rest of the noise.
        ``stochastic`` is the variance of a run around its point's mean (the mean over points of the variance
        between a point's replications: b and e); ``stochastic_common`` is its part shared by every point (b, zero
        with independent seeds), which cancels in comparisons between points; ``parametric`` is var(a), estimated
        as the variance of the point means less the noise they still carry, var(e) / R (var(e) from the residuals
        of the additive two-way fit; with independent seeds, the within-point variance). ``noise_in_means`` is that
        noise as a share of the point means' variance: what sensitivity indices, computed on the point means,
        still carry.

        Returns
        -------
        pandas.DataFrame
            One row: ``metric``, ``month``, ``replications``, ``stochastic``, ``stochastic_common``,
            ``parametric``, ``stochastic_share`` (stochastic / (stochastic + parametric)) and ``noise_in_means``.
        """
        reps = self.experiment.replications
        at = self.frame[self.frame["month"] == self.month(month)]
        y = at.pivot_table(index="point", columns="replication", values=metric, aggfunc="first").dropna()
        means = y.mean(axis=1)
        between = float(means.var(ddof=1))
        points = len(y)
        if reps < 2 or points < 2:
            within = common = noise = np.nan
            parametric = between
        else:
            within = float(y.var(axis=1, ddof=1).mean())
            if self.experiment.independent_seeds:
                noise, common = within, 0.0
            else:
                resid = y.sub(means, axis=0).sub(y.mean(axis=0), axis=1) + float(y.to_numpy().mean())
                noise = float((resid.to_numpy() ** 2).sum() / ((points - 1) * (reps - 1)))
                common = max(within - noise, 0.0)
            parametric = max(between - noise / reps, 0.0)
        total = parametric + within
        return pd.DataFrame(
            [
                {
                    "metric": metric,
                    "month": self.month(month),
                    "replications": reps,
                    "stochastic": within,
                    "stochastic_common": common,
                    "parametric": parametric,
                    "stochastic_share": within / total if total > 0 else np.nan,
                    "noise_in_means": (noise / reps) / between if between > 0 else np.nan,
                }
            ]
        )

    def _series_metrics(self) -> list[str]:
        if self.experiment.series is None:
            raise ValueError(
                "this sweep recorded no outcomes over time; add [series] metrics = [...] to the experiment"
            )
        return list(self.experiment.series.metrics)

    def _series(self, metric: str) -> pd.DataFrame:
        allowed = self._series_metrics()
        if metric not in allowed:
            raise ValueError(f"metric '{metric}' was not recorded over time; allowed: {', '.join(allowed)}")
        if self.series is None or self.series.empty:
            raise ValueError("no runs with outcomes over time yet")
        return self.series

    def _strongest(self, s: pd.DataFrame, metric: str) -> str:
        """The parameter whose values are the most rank-correlated with the metric's point means at the end."""
        last = s[s["month"] == s["month"].max()].groupby("point")[metric].mean()
        design = self.design.set_index("point").loc[last.index]
        rho = {n: abs(design[n].rank().corr(last.rank())) for n in self.parameters}
        return max(self.parameters, key=lambda n: -1.0 if np.isnan(rho[n]) else rho[n])

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
