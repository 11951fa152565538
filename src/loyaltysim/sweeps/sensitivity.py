"""Sensitivity indices of a sweep (Sobol, Morris) from SALib's analysers, with bootstrap confidence intervals.

Nothing here re-implements them. The model's output at a point is the mean of the metric over its replications at
one checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltysim.sweeps.designs import problem
from loyaltysim.sweeps.results import SweepResults

__all__ = ["Sensitivity", "morris_indices", "prcc_indices", "sensitivity", "sobol_indices"]


@dataclass
class Sensitivity:
    """Sensitivity indices of one metric, with confidence intervals.

    Attributes
    ----------
    method : str
        ``"sobol"`` (columns S1, S1_conf, ST, ST_conf), ``"morris"`` (mu, mu_star, mu_star_conf, sigma) or
        ``"prcc"`` (prcc, conf_low, conf_high, p_value).
    metric : str
    month : float or None
        Checkpoint the indices refer to.
    table : pandas.DataFrame
        One row per parameter.
    second_order : pandas.DataFrame or None
        Sobol S2 and S2_conf per pair of parameters, when the design has them.
    conf_level : float
    variance : pandas.DataFrame or None
        How much of the metric's variance over the runs is stochastic (between replications) and how much
        parametric (`SweepResults.variance`), when the sweep has replications.
    """

    method: str
    metric: str
    month: float | None
    table: pd.DataFrame
    second_order: pd.DataFrame | None = None
    conf_level: float = 0.95
    variance: pd.DataFrame | None = None

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
        elif self.method == "prcc":
            err = np.vstack([t["prcc"] - t["conf_low"], t["conf_high"] - t["prcc"]])
            ax.barh(y, t["prcc"], 0.6, xerr=err, color="#08519c", capsize=2, label="PRCC")
            ax.set_xlim(-1.05, 1.05)
            ax.set_xlabel(f"partial rank correlation with {self.metric} (bars: {pct} confidence interval)")
        else:
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color="#08519c", capsize=2, label="mu*")
            ax.plot(t["sigma"], y, "o", color="#fc8d59", label="sigma")
            ax.set_xlabel(f"elementary effect of {self.metric} (bars: {pct} confidence interval of mu*)")
        ax.set_yticks(y, t.index)
        ax.invert_yaxis()
        ax.axvline(0, color="grey", lw=0.5)
        ax.legend(fontsize="small")
        when = f" at month {self.month:g}" if self.month is not None else ""
        title = f"{self.method.capitalize()} sensitivity of {self.metric}{when}"
        if self.variance is not None and np.isfinite(self.variance["stochastic_share"].iloc[0]):
            v = self.variance.iloc[0]
            title += (
                f"\nvariance over runs: {100 * v['stochastic_share']:.1f} % stochastic; "
                f"noise in the point means {100 * v['noise_in_means']:.1f} %"
            )
        ax.set_title(title, fontsize="medium")
        return ax


def sobol_indices(
    design: pd.DataFrame,
    y: Sequence[float],
    bounds: Mapping[str, tuple[float, float]],
    second_order: bool = False,
    conf_level: float = 0.95,
    seed: int = 1,
    metric: str = "y",
    month: float | None = None,
) -> Sensitivity:
    """Sobol first-order and total indices (SALib ``analyze.sobol``) of outputs ``y`` on a Saltelli design.

    Parameters
    ----------
    design
        The points in the order `loyaltysim.sweeps.designs.saltelli` made them (only its order matters here).
    y
        One output per point, same order.
    bounds
        Parameter ranges, as given to the sampler.
    second_order
        Whether the design includes the second-order block.
    conf_level
        Level of the bootstrap confidence intervals.
    seed
        Seed of the bootstrap, at least 1 (SALib takes 0 as "no seed", which would change the intervals on every
        call); `sensitivity` passes the experiment's seed + 1.
    metric, month
        Labels of the output, kept in the result.
    """
    from SALib.analyze import sobol

    if seed < 1:
        raise ValueError(f"seed {seed}: the bootstrap needs a seed of at least 1 (SALib takes 0 as no seed)")

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
    seed: int = 1,
    metric: str = "y",
    month: float | None = None,
) -> Sensitivity:
    """Morris elementary-effect statistics (SALib ``analyze.morris``) of outputs ``y`` on Morris trajectories.

    ``seed`` (at least 1, as for `sobol_indices`) seeds the bootstrap of the confidence intervals.
    """
    from SALib.analyze import morris

    if seed < 1:
        raise ValueError(f"seed {seed}: the bootstrap needs a seed of at least 1 (SALib takes 0 as no seed)")

    y = np.asarray(y, dtype=float)
    x = design[list(bounds)].to_numpy(dtype=float)
    si = morris.analyze(
        problem(bounds), x, y, conf_level=conf_level, num_levels=num_levels, seed=seed, print_to_console=False
    )
    table = si.to_df()[["mu", "mu_star", "mu_star_conf", "sigma"]]
    return Sensitivity("morris", metric, month, table, None, conf_level)


def prcc_indices(
    design: pd.DataFrame,
    y: Sequence[float],
    parameters: Sequence[str],
    conf_level: float = 0.95,
    metric: str = "y",
    month: float | None = None,
) -> Sensitivity:
    """Partial rank correlation coefficients (PRCC) of outputs ``y`` with each parameter of a sampled design.

    The measure for Latin hypercube (and other space-filling) designs of Marino, Hogue, Ray & Kirschner (2008,
    J. Theor. Biol. 254:178): parameters and output are rank-transformed, the linear effect of the other
    parameters' ranks is removed from both, and the residuals are correlated. It measures the strength of a
    monotone relation while the other parameters vary; the p-value is the t test with n - 2 - (k - 1) degrees
    of freedom, the interval Fisher's z with n - 3 - (k - 1).

    Parameters
    ----------
    design
        One row per point; the columns ``parameters`` are used.
    y
        One output per point, same order.
    parameters
        The varied parameters.
    conf_level
        Level of the confidence intervals.
    metric, month
        Labels of the output, kept in the result.
    """
    from scipy import stats

    y = np.asarray(y, dtype=float)
    names = list(parameters)
    x = design[names].to_numpy(dtype=float)
    n, k = x.shape
    dof = n - 2 - (k - 1)
    if len(y) != n or not np.all(np.isfinite(y)):
        raise ValueError(f"need one finite output per design point ({n}), got {len(y)}")
    if dof < 2:
        raise ValueError(f"PRCC of {k} parameters needs at least {k + 3} points, the design has {n}")
    ranks = np.column_stack([stats.rankdata(x[:, j]) for j in range(k)])
    ry = stats.rankdata(y)
    rho = np.full(k, np.nan)
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(ranks, j, axis=1)])
        res_x = ranks[:, j] - others @ np.linalg.lstsq(others, ranks[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        denom = np.sqrt((res_x @ res_x) * (res_y @ res_y))
        rho[j] = (res_x @ res_y) / denom if denom > 0 else np.nan
    clipped = np.clip(rho, -1 + 1e-15, 1 - 1e-15)
    t = clipped * np.sqrt(dof / (1 - clipped**2))
    half = stats.norm.ppf(0.5 + conf_level / 2) / np.sqrt(max(n - 3 - (k - 1), 1))
    table = pd.DataFrame(
        {
            "prcc": rho,
            "conf_low": np.tanh(np.arctanh(clipped) - half),
            "conf_high": np.tanh(np.arctanh(clipped) + half),
            "p_value": 2 * stats.t.sf(np.abs(t), dof),
        },
        index=pd.Index(names),
    )
    return Sensitivity("prcc", metric, month, table, None, conf_level)


def sensitivity(
    results: SweepResults,
    method: str | None = None,
    metric: str | None = None,
    month: float | None = None,
    conf_level: float = 0.95,
) -> Sensitivity:
    """Sensitivity indices of a sweep's metric at a checkpoint.

    The output at each point is the mean over its replications. With two or more replications the result also
    says how much of the metric's variance is stochastic rather than parametric (``variance``).

    Parameters
    ----------
    results
        A complete sweep with a Sobol, Morris or Latin hypercube design.
    method
        ``"sobol"`` or ``"morris"`` (the design's own; the default for those designs), or ``"prcc"`` (any design
        with ranges; the default for Latin hypercubes).
    metric
        A recorded metric; default: the experiment's first.
    month
        Checkpoint; default: the last.
    conf_level
        Level of the bootstrap confidence intervals.

    Returns
    -------
    Sensitivity

    Raises
    ------
    ValueError
        For a method that does not fit the design, or an incomplete sweep.
    """
    exp = results.experiment
    method = method or ("prcc" if exp.design.kind == "lhs" else exp.design.kind)
    metric = metric or exp.metrics[0]
    if method == "prcc" and exp.design.kind == "grid":
        raise ValueError("PRCC needs a sampled design (lhs, sobol or morris); this experiment's design is 'grid'")
    if method != "prcc" and method != exp.design.kind:
        raise ValueError(f"{method} indices need a {method} design; this experiment's design is '{exp.design.kind}'")
    if not results.complete:
        raise ValueError("the sweep is incomplete: run the same sweep command again to finish it first")
    means = results.point_means(metric, month)
    at = results.month(month)
    if method == "prcc":
        out = prcc_indices(results.design, means["mean"], list(exp.bounds), conf_level, metric, at)
    elif method == "sobol":
        out = sobol_indices(
            results.design, means["mean"], exp.bounds, exp.design.second_order, conf_level, exp.seed + 1, metric, at
        )
    else:
        out = morris_indices(
            results.design, means["mean"], exp.bounds, exp.design.num_levels, conf_level, exp.seed + 1, metric, at
        )
    if exp.replications >= 2:
        out.variance = results.variance(metric, month)
    return out
