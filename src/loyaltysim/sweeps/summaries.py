"""Summaries of a sweep's runs across replications: envelopes over time, convergence, stochastic vs parametric variance.

Plain functions of the tidy tables (`SweepResults` calls them with its ``series`` or its rows at one checkpoint), so
each can be checked against a hand-made table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ENVELOPE_POINTS", "convergence", "envelope", "variance"]

ENVELOPE_POINTS = 8
"""Designs with at most this many points get one envelope per point; larger ones are grouped by a parameter."""


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)


def envelope(
    series: pd.DataFrame,
    design: pd.DataFrame,
    parameters: Sequence[str],
    metric: str,
    by: str | None = None,
    groups: int = 4,
    quantiles: tuple[float, float] = (0.05, 0.95),
) -> pd.DataFrame:
    """A metric over time, summarised per design point or per group of points.

    With ``by`` None and at most `ENVELOPE_POINTS` points, each point is a group (its replications make the
    envelope). Otherwise the points are grouped by the parameter ``by`` (default: the parameter whose values are the
    most rank-correlated with the metric's point means at the last month): by its levels when it has at most six,
    else by its quantiles (``groups`` bins of equal count). Per group and month, over every run in the group:
    ``n``, ``mean``, ``median`` and the ``low`` and ``high`` quantiles.

    Parameters
    ----------
    series
        Tidy rows over time: ``point``, ``replication``, ``month`` and the metric.
    design
        One row per point: ``point`` and the parameters.
    parameters
        The varied parameters.
    metric, by, groups, quantiles
        As above.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``label``, ``month``, ``n``, ``mean``, ``median``, ``low``, ``high``; ``attrs`` hold ``by``,
        ``quantiles`` and ``metric``.
    """
    design = design.set_index("point")
    if by is None and len(design) <= ENVELOPE_POINTS:
        group = design.index.to_series()
        label = {p: ", ".join(f"{n}={_fmt(design.at[p, n])}" for n in parameters) for p in design.index}
    else:
        by = by or _strongest(series, design, parameters, metric)
        values = design[by]
        if values.nunique() <= 6:
            levels = sorted(values.unique())
            group = values.map({v: i for i, v in enumerate(levels)})
            label = {i: f"{by}={_fmt(v)}" for i, v in enumerate(levels)}
        else:
            group = pd.Series(pd.qcut(values, groups, labels=False, duplicates="drop"), index=values.index)
            span = values.groupby(group).agg(["min", "max"])  # the values in each bin, not qcut's padded edges
            label = {i: f"{by} {_fmt(r['min'])} .. {_fmt(r['max'])}" for i, r in span.iterrows()}
    runs = series.assign(group=series["point"].map(group))
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


def _strongest(series: pd.DataFrame, design: pd.DataFrame, parameters: Sequence[str], metric: str) -> str:
    """The parameter whose values are the most rank-correlated with the metric's point means at the last month."""
    last = series[series["month"] == series["month"].max()].groupby("point")[metric].mean()
    at = design.loc[last.index]
    rho = {n: abs(at[n].rank().corr(last.rank())) for n in parameters}
    return max(parameters, key=lambda n: -1.0 if np.isnan(rho[n]) else rho[n])


def convergence(
    rows: pd.DataFrame, metrics: Sequence[str], replications: int, independent_seeds: bool = False, level: float = 0.95
) -> pd.DataFrame:
    """How the confidence interval of a point's mean narrows with the number of replications, and what more would buy.

    For ``n`` = 2 .. replications (*observed*), with the first ``n`` replications of every point that has them all
    (the runs a sweep with ``n`` replications has): the pooled standard deviation s_n of a run around its point's
    mean (the root of the mean over points of their variances) and the half-width t(n-1) s_n / sqrt(n) of a point's
    interval. Beyond them (*projected*, up to ``max(2 R, 10)``): the same half-width with s from all R replications,
    what raising ``replications`` would give. ``relative_half_width`` is the half-width as a % of the mean absolute
    value of the point means. ``difference_half_width`` is the half-width of the difference between two points'
    means: under common random numbers only the noise the points do not share counts (var(e) of `variance`, twice),
    which is why paired comparisons between points are much tighter than each point's own interval.

    Parameters
    ----------
    rows
        Tidy rows at one checkpoint: ``point``, ``replication`` and the metrics.
    metrics
        Metrics to follow.
    replications
        The sweep's replications R (at least 2).
    independent_seeds
        Whether the points had their own seeds (then the whole within-point variance separates two points).
    level
        Confidence level.

    Returns
    -------
    pandas.DataFrame
        ``metric``, ``replications``, ``projected``, ``points``, ``sd``, ``half_width``, ``relative_half_width``
        (%) and ``difference_half_width``.
    """
    from scipy import stats

    out = []
    for m in metrics:
        wide = rows.pivot_table(index="point", columns="replication", values=m, aggfunc="first")
        wide = wide.reindex(columns=range(replications))
        scale = wide.mean(axis=1).abs().mean()
        complete = wide.dropna()
        for n in range(2, max(2 * replications, 10) + 1):
            projected = n > replications
            first = complete if projected else wide.iloc[:, :n].dropna()
            sd = float(np.sqrt(first.var(axis=1, ddof=1).mean())) if len(first) else np.nan
            noise = _noise(first, independent_seeds) if len(first) >= 2 else np.nan
            t = stats.t.ppf(0.5 + level / 2, n - 1)
            out.append(
                {
                    "metric": m,
                    "replications": n,
                    "projected": projected,
                    "points": len(first),
                    "sd": sd,
                    "half_width": t * sd / np.sqrt(n),
                    "relative_half_width": 100 * t * sd / np.sqrt(n) / scale if scale > 0 else np.nan,
                    "difference_half_width": t * np.sqrt(2 * noise / n),
                }
            )
    return pd.DataFrame(out)


def _noise(y: pd.DataFrame, independent: bool) -> float:
    """The noise var(e) two points do not share: the two-way fit's residual mean square, or the within-point variance.

    ``y`` is points x replications; with independent seeds nothing is shared and the within-point variance is used.
    """
    if independent:
        return float(y.var(axis=1, ddof=1).mean())
    points, reps = y.shape
    resid = y.sub(y.mean(axis=1), axis=0).sub(y.mean(axis=0), axis=1) + float(y.to_numpy().mean())
    return float((resid.to_numpy() ** 2).sum() / ((points - 1) * (reps - 1)))


def variance(rows: pd.DataFrame, metric: str, independent_seeds: bool = False) -> pd.DataFrame:
    """How much of a metric's variance over a sweep's runs is stochastic and how much parametric.

    The runs are read as y[p, r] = m + a_p + b_r + e_pr: a_p the effect of point p's parameters, b_r the effect of
    replication r's seed that every point shares under common random numbers, e_pr the rest of the noise.
    ``stochastic`` is the variance of a run around its point's mean (the mean over points of the variance between a
    point's replications: b and e); ``stochastic_common`` is its part shared by every point (b; zero with
    independent seeds), which cancels in comparisons between points; ``parametric`` is var(a), estimated as the
    variance of the point means less the noise they still carry, var(e) / R (var(e) from the residuals of the
    additive two-way fit; with independent seeds, the within-point variance). ``noise_in_means`` is that noise as a
    share of the point means' variance: what sensitivity indices, computed on the point means, still carry.

    Parameters
    ----------
    rows
        Tidy rows at one checkpoint: ``point``, ``replication`` and the metric.
    metric
        The metric.
    independent_seeds
        Whether the points had their own seeds (no common random numbers).

    Only the points that have every replication present count; R is the number of those replications.

    Returns
    -------
    pandas.DataFrame
        One row: ``metric``, ``replications``, ``points``, ``stochastic``, ``stochastic_common``, ``parametric``,
        ``stochastic_share`` (stochastic / (stochastic + parametric)) and ``noise_in_means``.
    """
    y = rows.pivot_table(index="point", columns="replication", values=metric, aggfunc="first").dropna()
    reps = y.shape[1]  # the replications every point used has (a sweep still running may have fewer)
    means = y.mean(axis=1)
    between = float(means.var(ddof=1))
    points = len(y)
    if reps < 2 or points < 2:
        within = common = noise = np.nan
        parametric = between
    else:
        within = float(y.var(axis=1, ddof=1).mean())
        noise = _noise(y, independent_seeds)
        common = max(within - noise, 0.0) if not independent_seeds else 0.0
        parametric = max(between - noise / reps, 0.0)
    total = parametric + within
    return pd.DataFrame(
        [
            {
                "metric": metric,
                "replications": reps,
                "points": points,
                "stochastic": within,
                "stochastic_common": common,
                "parametric": parametric,
                "stochastic_share": within / total if total > 0 else np.nan,
                "noise_in_means": (noise / reps) / between if between > 0 else np.nan,
            }
        ]
    )
