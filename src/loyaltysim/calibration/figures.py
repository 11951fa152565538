"""Figures of a calibration: targets against posterior-predictive bands, marginals with priors, pairs, generations."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from loyaltysim.calibration.kpis import KPIS
from loyaltysim.survey.questions import QUESTIONS

if TYPE_CHECKING:
    from loyaltysim.calibration.result import Calibration

__all__ = ["fit_bands", "generations", "marginals", "pairs"]

QUESTIONS_BY_KEY = {q.key: q for q in QUESTIONS}


def _grid(n: int, width: float = 3.6, height: float = 2.9, cols: int = 3):
    from matplotlib.figure import Figure

    c = min(cols, max(1, n))
    r = math.ceil(n / c)
    fig = Figure(figsize=(width * c, height * r), layout="constrained")
    axes = np.atleast_1d(fig.subplots(r, c, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _short(key: str) -> str:
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else key


def fit_bands(cal: Calibration):
    """One panel per target: observed (black) and held-out (red) values ± 2 sd, posterior-predictive 90 % band."""
    fit = cal.fit_frame()
    names = list(dict.fromkeys(fit["target"]))
    fig, axes = _grid(len(names), width=max(3.6, 7.0 / len(names)))
    for ax, name in zip(axes, names, strict=True):
        d = fit[fit["target"] == name].sort_values("month")
        kpi = d["kpi"].iloc[0]
        if len(d) > 1:
            ax.fill_between(d["month"], d["low"], d["high"], color="C0", alpha=0.25, label="posterior predictive, 90 %")
            ax.plot(d["month"], d["predicted"], "-", color="C0", label="median")
        else:
            ax.errorbar(
                d["month"],
                d["predicted"],
                yerr=[d["predicted"] - d["low"], d["high"] - d["predicted"]],
                fmt="_",
                color="C0",
                ms=14,
                lw=6,
                alpha=0.5,
                label="posterior predictive, 90 %",
            )
        for held, colour, label in ((False, "black", "observed ± 2 sd"), (True, "C3", "held out ± 2 sd")):
            p = d[d["holdout"] == held]
            if len(p):
                ax.errorbar(
                    p["month"], p["value"], yerr=2 * p["sd"], fmt="o", color=colour, ms=4, capsize=2, label=label
                )
        if kpi == "survey":
            q = QUESTIONS_BY_KEY[str(cal.targets.targets.get(name, cal.targets.holdout.get(name)).statistic)]
            ylabel = f"{q.label} ({q.unit})"
        else:
            ylabel = f"{KPIS[kpi].label} ({KPIS[kpi].unit})"
        ax.set(title=name, xlabel="month", ylabel=ylabel)
        if d["month"].nunique() == 1:
            m = float(d["month"].iloc[0])
            ax.set(xlim=(m - 1, m + 1), xticks=[m])
        ax.title.set_fontsize("small")
        ax.yaxis.label.set_fontsize("x-small")
        ax.legend(fontsize="xx-small")
    fig.suptitle(f"{cal.targets.name}: targets against the posterior predictive", fontsize="medium")
    return fig


def marginals(cal: Calibration, axes=None):
    """One panel per free parameter: the weighted posterior histogram, the prior's density, median and interval."""
    from loyaltysim.calibration.targets import prior_bounds

    frame = cal.to_frame().set_index("key")
    bounds = prior_bounds(cal.base, cal.targets)
    fig = None
    if axes is None:
        fig, axes = _grid(len(cal.keys))
    w = cal.posterior["weight"].to_numpy()
    for ax, key in zip(np.atleast_1d(axes), cal.keys, strict=True):
        x = cal.posterior[key].to_numpy(float)
        spec = cal.targets.parameters[key]
        r = frame.loc[key]
        log = spec.prior == "log-uniform"
        prior = spec.distribution(bounds[key]).rvs(20_000, random_state=0)
        span = max(r["high"] - r["low"], 1e-12)
        lo, hi = max(x.min() - span, np.min(prior)), min(x.max() + span, np.max(prior))
        bins = np.geomspace(lo, hi, 40) if log and lo > 0 else np.linspace(lo, hi, 40)
        ax.hist(x, bins=bins, weights=w, density=True, color="C0", alpha=0.55, label="posterior")
        counts, _ = np.histogram(prior, bins=bins)  # the prior's own density in the window, not renormalised to it
        ax.stairs(counts / (prior.size * np.diff(bins)), bins, color="grey", ls="--", label="prior")
        ax.axvline(r["median"], color="C0", lw=1.5)
        ax.axvspan(r["low"], r["high"], color="C0", alpha=0.08)
        ax.set(title=_short(key), yticks=[], xscale="log" if log and lo > 0 else "linear")
        ax.title.set_fontsize("small")
        ax.legend(fontsize="xx-small")
    if fig is not None:
        fig.suptitle("Marginal posteriors (median, 90 % interval shaded) and priors")
    return fig if fig is not None else np.atleast_1d(axes)[0].figure


def pairs(cal: Calibration):
    """Pairwise scatter of the posterior's parameter sets (size by weight), histograms on the diagonal."""
    from matplotlib.figure import Figure

    keys = cal.keys
    n = len(keys)
    fig = Figure(figsize=(2.3 * n + 0.6, 2.3 * n + 0.4), layout="constrained")
    axes = fig.subplots(n, n, squeeze=False)
    w = cal.posterior["weight"].to_numpy()
    size = 4 + 60 * w / w.max()
    for i, yk in enumerate(keys):
        for j, xk in enumerate(keys):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            x = cal.posterior[xk].to_numpy(float)
            if i == j:
                ax.hist(x, bins=20, weights=w, color="C0", alpha=0.6)
                ax.set_yticks([])
            else:
                ax.scatter(x, cal.posterior[yk], s=size, alpha=0.4, color="C0", lw=0)
            if i == n - 1:
                ax.set_xlabel(_short(xk), fontsize="x-small")
            if j == 0 and i > 0:
                ax.set_ylabel(_short(yk), fontsize="x-small")
            ax.tick_params(labelsize="xx-small")
    fig.suptitle("Posterior pairs (point size: weight)")
    return fig


def generations(cal: Calibration):
    """Epsilon, acceptance rate and effective sample size by generation."""
    from matplotlib.figure import Figure

    p = cal.populations
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    a, b, c = fig.subplots(1, 3)
    a.plot(p["generation"], p["epsilon"], "o-")
    a.set(title="acceptance distance epsilon", xlabel="generation", yscale="log")
    b.plot(p["generation"], 100 * p["acceptance"], "o-", color="C1")
    b.set(title="acceptance rate (%)", xlabel="generation", ylim=(0, None))
    c.plot(p["generation"], p["ess"], "o-", color="C2")
    c.axhline(cal.info.get("particles", np.nan), color="grey", lw=1, ls="--")
    c.set(title="effective sample size", xlabel="generation", ylim=(0, None))
    for ax in (a, b, c):
        ax.title.set_fontsize("small")
    return fig
