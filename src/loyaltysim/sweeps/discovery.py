"""Scenario discovery on a sweep: where in parameter space a metric is above (or below) a threshold.

PRIM (the Patient Rule Induction Method of Friedman & Fisher 1999, in EMA Workbench's implementation for scenario
discovery, Bryant & Lempert 2010) finds boxes of the parameters, each a range per restricted parameter, that hold
many of the points of interest (coverage) and few others (density). Extra-trees feature scores (scikit-learn,
through EMA Workbench) rank the parameters by how much they explain the metric. Nothing here re-implements them;
EMA Workbench is the optional extra ``loyaltysim[ema]``.

The output of a point is the mean of the metric over its replications at one checkpoint, as in the other analyses.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltysim.runs.files import output_folder
from loyaltysim.runs.optional import ema_workbench
from loyaltysim.sweeps.results import SweepResults

__all__ = ["DENSITY", "SIGNIFICANCE", "Discovery", "default_folder", "discover"]

DENSITY = 0.8
"""Default density a chosen box must reach: on each box's peeling trajectory the box with the largest coverage among
those at least this dense is chosen (the usual reading of the trade-off, Bryant & Lempert 2010)."""

SIGNIFICANCE = 0.05
"""Default level above which a chosen box's restriction is dropped as insignificant (its quasi-p values)."""


@dataclass
class Discovery:
    """PRIM boxes and feature scores of one metric of a sweep.

    Attributes
    ----------
    metric, month, threshold : str, float, float
    below : bool
        Points of interest are those whose metric is below the threshold (else above).
    points : pandas.DataFrame
        Per design point: the parameters, the metric's mean over replications and ``interest`` (bool).
    boxes : pandas.DataFrame
        Per box and restricted parameter: ``min``, ``max`` (the box's limits), ``low``, ``high`` (the parameter's
        range in the sweep) and the quasi-p values of the two limits.
    stats : pandas.DataFrame
        Per box: ``coverage``, ``density``, ``mass``, ``res_dim``, ``n`` (points in the box), ``chosen`` (the index
        on its peeling trajectory).
    trajectory : pandas.DataFrame
        Every box's peeling trajectory: ``box``, ``id``, ``step`` (``peel``, or ``drop`` for the wider boxes tried
        when an insignificant restriction was dropped), ``chosen``, ``coverage``, ``density``, ``mass``,
        ``res_dim``, ``n``.
    density : float
        The density a chosen box had to reach. No box is reported when the points (left) already reach it without
        any restriction.
    scores : pandas.DataFrame
        Extra-trees feature score of each parameter for the metric (regression on the point means), descending.
    unmeasured : int
        Points left out because the metric has no value there (e.g. a mean over no interactions).
    """

    metric: str
    month: float
    threshold: float
    below: bool
    points: pd.DataFrame
    boxes: pd.DataFrame
    stats: pd.DataFrame
    trajectory: pd.DataFrame
    density: float
    scores: pd.DataFrame
    unmeasured: int = 0

    @property
    def condition(self) -> str:
        """``retention > 75`` or ``retention < 75``."""
        return f"{self.metric} {'<' if self.below else '>'} {self.threshold:g}"

    def to_frame(self) -> pd.DataFrame:
        """The boxes' limits joined with their statistics, one row per box and restricted parameter."""
        return self.boxes.merge(self.stats, on="box", how="left")

    def text(self) -> str:
        """The boxes in words, for the command line."""
        share = self.points["interest"].mean()
        lines = [
            f"{self.condition} at month {self.month:g}: {int(self.points['interest'].sum())} of {len(self.points)} "
            f"points ({100 * share:.0f} %)"
            + (f"; {self.unmeasured} points without a value left out" if self.unmeasured else "")
        ]
        for _, s in self.stats.iterrows():
            lines.append(
                f"  box {int(s['box'])}: coverage {100 * s['coverage']:.0f} %, density {100 * s['density']:.0f} %, "
                f"{int(s['n'])} points, {int(s['res_dim'])} parameters restricted"
            )
            for _, b in self.boxes[self.boxes["box"] == s["box"]].iterrows():
                lines.append(
                    f"    {b['parameter']}: {b['min']:.4g} .. {b['max']:.4g} (of {b['low']:.4g} .. {b['high']:.4g})"
                )
        if self.stats.empty:
            lines.append(
                f"  no box: the whole design is already {100 * share:.0f} % dense in the points of interest, at least "
                f"the {100 * self.density:.0f} % asked for; ask for a higher density to find where they concentrate"
            )
        top = ", ".join(f"{p} {v:.2f}" for p, v in zip(self.scores["parameter"], self.scores["score"], strict=True))
        lines.append(f"  feature scores (extra trees): {top}")
        return "\n".join(lines)

    def plot(self, ax=None):
        """Coverage against density along the first box's peeling trajectory, the chosen box marked; the axes."""
        from loyaltysim.sweeps import figures

        return figures.tradeoff(self.trajectory, self.stats, self.condition, ax=ax)

    def plot_boxes(self, ax=None):
        """Each box's limits as a share of every restricted parameter's range; the axes."""
        from loyaltysim.sweeps import figures

        return figures.boxes(self.boxes, self.stats, self.condition, ax=ax)

    def plot_scores(self, ax=None):
        """Bar chart of the feature scores; the axes."""
        from loyaltysim.sweeps import figures

        return figures.scores(self.scores, self.metric, ax=ax)

    def save(self, directory: str | Path, force: bool = False) -> list[Path]:
        """Write the tables (CSV) and figures (PNG) into ``directory`` (replaced whole); the paths written."""
        from matplotlib.figure import Figure

        directory = Path(directory)
        tables = {
            "boxes": self.to_frame(),
            "trajectory": self.trajectory,
            "scores": self.scores,
            "points": self.points,
        }
        draw = {
            "tradeoff": (self.plot, (6.4, 4.6)),
            "boxes": (self.plot_boxes, (7, 4)),
            "scores": (self.plot_scores, (6.4, 4)),
        }
        written = []
        with output_folder(directory, "discover", force) as tmp:
            for name, df in tables.items():
                df.to_csv(tmp / f"{name}.csv", index=False)
                written.append(directory / f"{name}.csv")
            for name, (plot, size) in draw.items():
                fig = Figure(figsize=size, layout="constrained")
                plot(fig.subplots())
                fig.savefig(tmp / f"{name}.png", dpi=110)
                written.append(directory / f"{name}.png")
        return written


def discover(
    results: SweepResults,
    metric: str,
    threshold: float,
    *,
    below: bool = False,
    month: float | None = None,
    density: float = DENSITY,
    boxes: int = 1,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
    significance: float | None = SIGNIFICANCE,
) -> Discovery:
    """Find the boxes of parameter space where a metric's point means are above (or below) a threshold.

    Parameters
    ----------
    results
        A complete sweep with a sampled design (Latin hypercube, Sobol or Morris) or a grid; PRIM needs many points.
    metric
        A recorded metric.
    threshold
        Points whose mean is above it (or below, with ``below``) are the cases of interest.
    below
        Look for points below the threshold.
    month
        Checkpoint (default: the last).
    density
        On each box's peeling trajectory, choose the box of largest coverage among those at least this dense.
    boxes
        How many boxes to look for (each next box on the points the earlier ones left).
    mass_min, peel_alpha
        PRIM's smallest share of points in a box, and the share peeled at each step.
    significance
        A restriction whose quasi-p values (Bryant & Lempert 2010: how likely a box that wide in that parameter holds
        as many points of interest by chance) all exceed this is dropped from the chosen box, as an analyst would,
        unless the box would then be less dense than ``density``; None keeps every restriction PRIM made.

    Returns
    -------
    Discovery

    Raises
    ------
    ValueError
        A metric not recorded, an incomplete sweep, or a threshold that no point (or every point) passes.
    """
    ema_workbench()
    exp = results.experiment
    if metric not in exp.metrics:
        raise ValueError(f"metric '{metric}' was not recorded by this sweep; allowed: {', '.join(exp.metrics)}")
    if not results.complete:
        raise ValueError("the sweep is incomplete: run the same sweep command again to finish it first")
    if not 0 < density <= 1 or boxes < 1:
        raise ValueError(f"density {density} must be in (0, 1] and boxes {boxes} at least 1")
    names = results.parameters
    for name in names:
        if not pd.api.types.is_numeric_dtype(results.design[name]):
            raise ValueError(f"parameter '{name}' takes names, not numbers; allowed: a sweep of numeric parameters")
    at = results.month(month)
    means = results.point_means(metric, month)
    unmeasured = int(means["mean"].isna().sum())  # e.g. a mean over no interactions
    means = means[means["mean"].notna()].reset_index(drop=True)
    x = means[names].astype(float)
    y = means["mean"].to_numpy(dtype=float)
    interest = y < threshold if below else y > threshold
    condition = f"{metric} {'<' if below else '>'} {threshold:g}"
    if interest.all() or not interest.any():
        span = f"the point means range {y.min():.4g} .. {y.max():.4g}" if len(y) else "no point has a value"
        raise ValueError(
            f"{condition} holds at {int(interest.sum())} of {len(y)} points at month {at:g} ({span}); "
            "allowed: a threshold that some points pass and some do not"
        )
    found, trajectory = _peel(x, interest, density, boxes, mass_min, peel_alpha, significance)
    limits, stats = _tables(found, x)
    return Discovery(
        metric,
        at,
        float(threshold),
        below,
        means[["point", *names, "mean"]].assign(interest=interest),
        limits,
        stats,
        trajectory,
        density,
        _scores(x, y, exp.seed + 1),
        unmeasured,
    )


def _peel(x, interest, density, boxes, mass_min, peel_alpha, significance):
    """PRIM's boxes (each with the index chosen on its trajectory) and every box's trajectory, drops included."""
    from ema_workbench.analysis import prim

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, interest, peel_alpha=peel_alpha, mass_min=mass_min)
        found, paths = [], []
        for b in range(1, boxes + 1):
            box = finder.find_box()
            if box is None:
                break
            peeled = len(box.peeling_trajectory)
            chosen = _choose(box.peeling_trajectory, density)
            restricted = box.peeling_trajectory["res_dim"].iloc[chosen] > 0  # else: dense enough as the points are
            if restricted:
                box.select(chosen)
                if significance is not None:
                    chosen = _drop_insignificant(box, chosen, significance, density)
                found.append((box, chosen))
            path = box.peeling_trajectory[["id", "coverage", "density", "mass", "res_dim", "n"]]
            rows = np.arange(len(path))
            paths.append(
                path.assign(box=b, step=np.where(rows < peeled, "peel", "drop"), chosen=restricted & (rows == chosen))
            )
            if not restricted:
                break
    columns = ["box", "id", "step", "chosen", "coverage", "density", "mass", "res_dim", "n"]
    return found, pd.concat(paths, ignore_index=True)[columns]


def _tables(found, x: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each box's limits per restricted parameter (with quasi-p values), and each box's statistics."""
    lo, hi = x.min(), x.max()
    rows, stats = [], []
    for b, (box, chosen) in enumerate(found, start=1):
        summary, limits = box.inspect(chosen, style="data")[0]
        stats.append(
            {"box": b, **{k: summary[k] for k in ("coverage", "density", "mass", "res_dim", "n")}, "chosen": chosen}
        )
        for name in limits.index:
            # EMA's columns: (box, min), (box, max), (box, qp value) twice: the lower then the upper limit's
            qp_low, qp_high = limits.loc[name].to_numpy(dtype=float)[2:4]
            rows.append(
                {
                    "box": b,
                    "parameter": name,
                    "min": float(box.box_lims[chosen].at[0, name]),
                    "max": float(box.box_lims[chosen].at[1, name]),
                    "low": float(lo[name]),
                    "high": float(hi[name]),
                    "qp_min": qp_low,
                    "qp_max": qp_high,
                }
            )
    columns = ["box", "parameter", "min", "max", "low", "high", "qp_min", "qp_max"]
    stat_columns = ["box", "coverage", "density", "mass", "res_dim", "n", "chosen"]
    return pd.DataFrame(rows, columns=columns), pd.DataFrame(stats, columns=stat_columns)


def _scores(x: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Extra-trees feature scores of the parameters for the metric (regression), largest first."""
    from ema_workbench.analysis import feature_scoring

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scored, _forest = feature_scoring.get_ex_feature_scores(
            x,
            y,
            mode=feature_scoring.RuleInductionType.REGRESSION,
            max_features=max(1, round(x.shape[1] / 3)),
            random_state=seed,
        )
    return pd.DataFrame({"parameter": scored.index.astype(str), "score": scored.iloc[:, 0].to_numpy(float)})


def _drop_insignificant(box, chosen: int, significance: float, density: float) -> int:
    """Drop the chosen box's insignificant restrictions, as long as the box stays dense enough; its new index.

    A restriction is insignificant when its quasi-p values all exceed ``significance``. The least significant goes
    first; a drop that takes the box's density below ``density`` (or below what it was, if it was already below)
    is undone.
    """
    _, limits = box.inspect(chosen, style="data")[0]
    qp = {name: np.nanmin(limits.loc[name].to_numpy(dtype=float)[2:], initial=np.inf) for name in limits.index}
    for name in sorted((n for n, q in qp.items() if np.isfinite(q) and q > significance), key=lambda n: -qp[n]):
        floor = min(density, box.peeling_trajectory["density"].iloc[chosen])
        box.drop_restriction(name)  # appends the wider box to the trajectory and selects it
        wider = len(box.peeling_trajectory) - 1
        if box.peeling_trajectory["density"].iloc[wider] >= floor:
            chosen = wider
        else:
            box.select(chosen)
    return chosen


def _choose(trajectory: pd.DataFrame, density: float) -> int:
    """The box of largest coverage at least ``density`` dense (the densest of equals), else the densest box."""
    cov, dens = trajectory["coverage"].to_numpy(), trajectory["density"].to_numpy()
    if not (dens >= density).any():
        return int(dens.argmax())
    cov = np.where(dens >= density, cov, -np.inf)
    return int(np.lexsort((-dens, -cov))[0])  # the largest coverage; among equal ones the densest


def default_folder(results: SweepResults, d: Discovery) -> Path:
    """``DIR/analysis/discover/<metric>-<above|below>-<threshold>_month-M``."""
    side = "below" if d.below else "above"
    return (
        (results.directory or Path("."))
        / "analysis"
        / "discover"
        / (f"{d.metric}-{side}-{d.threshold:g}_month-{round(d.month, 2):g}")
    )
