"""Figures of a sweep: heatmaps, a metric against parameters, envelopes over time, convergence with replications.

They take a `SweepResults` (``results.grid_means``, ``results.month``, ``results.experiment``) or one of its tables
without importing it, so `SweepResults.plot` calls them downwards.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltysim.runs.figures import line_colour
from loyaltysim.runs.metrics import METRICS

__all__ = ["boxes", "convergence", "envelopes", "heatmap", "scatter", "scatters", "scores", "tradeoff"]


def _axes(ax, size):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def envelopes(table, replications: int, ax=None):
    """Draw `SweepResults.envelope`'s table: per group, the median over time and the quantile band; the axes."""
    ax = _axes(ax, (7.5, 4.6))
    metric = table.attrs["metric"]
    lo, hi = table.attrs["quantiles"]
    for i, (_, g) in enumerate(table.groupby("group", sort=True)):
        colour = line_colour(i)
        ax.fill_between(g["month"], g["low"], g["high"], color=colour, alpha=0.18, lw=0)
        ax.plot(g["month"], g["median"], color=colour, lw=1.6, label=g["label"].iloc[0])
    unit = METRICS[metric].unit
    by = table.attrs.get("by")
    runs = f"runs of each point ({replications} replications)" if by is None else "runs in each group"
    ax.set(
        xlabel="month",
        ylabel=f"{metric} ({unit})" if unit else metric,
        title=f"{metric} over time: median and {100 * lo:g}-{100 * hi:g} % of the {runs}",
    )
    ax.legend(fontsize="small", title=by, title_fontsize="small")
    return ax


def convergence(table, ax=None):
    """Draw `SweepResults.convergence`'s table: relative half-width against replications, one colour a metric.

    Observed replications are a solid line, the projection beyond them dashed.
    """
    ax = _axes(ax, (6.4, 4.2))
    for i, (metric, g) in enumerate(table.groupby("metric", sort=False)):
        colour = line_colour(i)
        seen, ahead = g[~g["projected"]], g[g["projected"]]
        ax.plot(seen["replications"], seen["relative_half_width"], "o-", ms=3, color=colour, label=metric)
        tail = pd.concat([seen.tail(1), ahead])
        ax.plot(tail["replications"], tail["relative_half_width"], "--", color=colour, lw=1)
    ax.set_yscale("log")
    ax.set(
        xlabel="replications (dashed: projected from the pooled spread of all replications)",
        ylabel="95 % half-width of a point's mean, % of the mean",
        title=f"Intervals against replications at month {table.attrs.get('month', float('nan')):g}",
    )
    ax.legend(fontsize="small")
    return ax


def heatmap(results, metric: str, x: str, y: str, month: float | None = None, ax=None):
    """Mean of a metric (or ``"roi"``) over the grid of two parameters, annotated; returns the axes.

    Other varied parameters are averaged over.
    """
    ax = _axes(ax, (6.4, 5))
    means = results.grid_means(metric, month)
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
    unit = METRICS[metric].unit
    ax.figure.colorbar(im, ax=ax, label=f"{metric} ({unit})" if unit else metric)
    ax.set(
        xlabel=x,
        ylabel=y,
        title=f"{'ROI of the investment' if metric == 'roi' else metric} at month "
        f"{results.month(month):g} (mean of {results.experiment.replications})",
    )
    return ax


def scatter(results, metric: str, x: str, month: float | None = None, ax=None):
    """Mean of a metric at each point against one parameter (error bars: standard error); returns the axes."""
    ax = _axes(ax, (6.4, 4.2))
    means = results.grid_means(metric, month)
    ax.errorbar(means[x], means["mean"], yerr=means["sem"].fillna(0), fmt="o", ms=3, color="#08519c")
    ax.set(xlabel=x, ylabel=metric, title=f"{metric} at month {results.month(month):g}")
    return ax


def scatters(results, metric: str, month: float | None = None, fig=None):
    """A sampled design's points: the metric (mean over replications) against each parameter, one panel each.

    Each panel's title gives the parameter's partial rank correlation (`loyaltysim.sweeps.sensitivity.prcc_indices`)
    with the metric; returns the figure.
    """
    from loyaltysim.sweeps.sensitivity import prcc_indices

    names = results.parameters
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(3.4 * cols, 2.9 * rows + 0.5), layout="constrained")
    means = results.point_means(metric, month)
    prcc = prcc_indices(means, means["mean"], names).table["prcc"] if len(means) > len(names) + 2 else None
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    unit = METRICS[metric].unit
    for ax, name in zip(axes.flat, names, strict=False):
        ax.plot(means[name], means["mean"], "o", ms=3, alpha=0.7, color="#08519c")
        ax.set_xlabel(name, fontsize="small")
        if prcc is not None:
            ax.set_title(f"PRCC {prcc[name]:+.2f}", fontsize="small")
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
    fig.suptitle(f"{metric} at month {results.month(month):g} over the design ({len(means)} points)")
    return fig


def tradeoff(trajectory, stats, condition: str, ax=None):
    """PRIM's peeling trajectory of the first box: coverage against density, coloured by restricted parameters.

    The wider boxes tried when an insignificant restriction was dropped are crosses; the chosen box is circled.
    """
    ax = _axes(ax, (6.4, 4.6))
    first = trajectory[trajectory["box"] == 1]
    peel, drop = first[first["step"] == "peel"], first[first["step"] == "drop"]
    top = max(int(first["res_dim"].max()), 1)
    sc = ax.scatter(peel["coverage"], peel["density"], c=peel["res_dim"], cmap="viridis", vmin=0, vmax=top, s=18)
    ax.scatter(drop["coverage"], drop["density"], c=drop["res_dim"], cmap="viridis", vmin=0, vmax=top, marker="x")
    ax.figure.colorbar(sc, ax=ax, label="parameters restricted")
    chosen = first[first["chosen"]]
    if len(chosen):
        ax.plot(chosen["coverage"], chosen["density"], "o", ms=12, mfc="none", mec="#d55e00", mew=2, label="chosen")
        ax.legend(fontsize="small", loc="lower left")
    ax.set(
        xlabel="coverage (share of the points of interest in the box)",
        ylabel="density (share of the box's points of interest)",
        xlim=(0, 1.02),
        ylim=(0, 1.02),
        title=f"PRIM trade-off: {condition}",
    )
    return ax


def boxes(limits, stats, condition: str, ax=None):
    """Each PRIM box's limits as a share of every restricted parameter's range (bars), one colour a box."""
    ax = _axes(ax, (7, 4))
    rows = list(limits.itertuples(index=False))
    for i, row in enumerate(rows):
        span = (row.high - row.low) or 1.0
        lo, hi = (row.min - row.low) / span, (row.max - row.low) / span
        colour = line_colour(int(row.box) - 1)
        ax.barh(i, hi - lo, left=lo, color=colour, alpha=0.8, height=0.6)
        ax.text(1.01, i, f"{row.min:.3g} .. {row.max:.3g}", va="center", fontsize="small")
    ax.set_yticks(range(len(rows)), [f"box {int(r.box)}: {r.parameter}" for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.35)
    ax.axvline(1, color="grey", lw=0.5)
    ax.set_xlabel("share of the parameter's range in the sweep")
    parts = [f"box {int(s.box)}: coverage {s.coverage:.0%}, density {s.density:.0%}" for s in stats.itertuples()]
    ax.set_title(f"Where {condition}\n" + "; ".join(parts), fontsize="medium")
    return ax


def scores(table, metric: str, ax=None):
    """Extra-trees feature scores of the parameters for a metric, largest first."""
    ax = _axes(ax, (6.4, 4))
    y = np.arange(len(table))
    ax.barh(y, table["score"], color="#0072b2", height=0.6)
    ax.set_yticks(y, table["parameter"])
    ax.invert_yaxis()
    ax.set(xlabel="feature score (extra trees, sums to 1)", title=f"What drives {metric}")
    return ax
