"""Figures of a comparison, drawn from its tables: bands over time, stages, and differences to the baseline.

`Comparison.plot`, `Comparison.plot_stages` and `Comparison.plot_differences` call these with their own tables, so
this module needs no `Comparison` (arrows point down). matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from loyaltysim.comparisons.text import variant_columns
from loyaltysim.runs.figures import STAGE_COLOURS
from loyaltysim.runs.metrics import METRICS
from loyaltysim.scenario import STAGES

__all__ = ["PALETTE", "bands", "colour", "differences", "stages", "tornado"]

PALETTE = ("#252525", "#2171b5", "#e6550d", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf")
"""Colour of each scenario, baseline first."""


def colour(i: int) -> str:
    """Colour of the ``i``-th scenario."""
    return PALETTE[i % len(PALETTE)]


def bands(df: pd.DataFrame, names: Sequence[str], title: str, unit: str, ax=None):
    """One line per scenario with its confidence band, from `Comparison.bands`; returns the axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    for i, name in enumerate(names):
        d = df[df["scenario"] == name]
        ax.plot(d["month"], d["mean"], color=colour(i), lw=2 if i == 0 else 1.5, label=name)
        ax.fill_between(d["month"], d["ci_low"], d["ci_high"], color=colour(i), alpha=0.2, lw=0)
    ax.set(title=title, xlabel="month", ylabel=unit)
    ax.legend(fontsize="small")
    return ax


def stages(df: pd.DataFrame, names: Sequence[str], axes=None) -> list:
    """Customers by CX Spectrum stage over time, one panel per scenario, from `Comparison.stage_means`."""
    if axes is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(3.6 * len(names), 3.8), layout="constrained")
        axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
    for name, ax in zip(names, axes, strict=True):
        d = df[df["scenario"] == name]
        ax.stackplot(d["month"], *(d[s] for s in STAGES), labels=STAGES, colors=[STAGE_COLOURS[s] for s in STAGES])
        ax.set(title=name, xlabel="month")
    axes[0].set_ylabel("customers (mean over replications)")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="x-small")
    return list(axes)


def differences(df: pd.DataFrame, metric: str, title: str, ax=None):
    """A forest plot of each variant's difference to the baseline (ROI: its own value) with its interval.

    ``df`` holds the variants' rows of `Comparison.to_frame` for one metric and checkpoint.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * (len(df) + 1)), layout="constrained")
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    cols = variant_columns(metric)
    y = np.arange(len(df))[::-1]
    for yi, (_, row), i in zip(y, df.iterrows(), range(1, len(df) + 1), strict=True):
        ax.errorbar(
            row[cols[0]],
            yi,
            xerr=[[row[cols[0]] - row[cols[1]]], [row[cols[2]] - row[cols[0]]]],
            fmt="o",
            color=colour(i),
            capsize=4,
        )
    spec = METRICS[metric]
    ax.axvline(0, color="#636363", lw=1)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.xaxis.set_major_formatter(StrMethodFormatter(f"{{x:,.{spec.decimals}f}}"))
    ax.set_yticks(y, df["scenario"])
    ax.set(title=title, xlabel=str(df["unit"].iloc[0]) if len(df) else spec.unit)  # money in the currency
    return ax


def tornado(frame: pd.DataFrame, names: Sequence[str], title: str, axes=None, top: int = 8, currency: str = ""):
    """One panel per lever: its value difference at the low and high end of each assumption, widest swing on top.

    ``frame`` is `Comparison.tornado`; the vertical line is the lever's central value difference and the dashed one
    zero (a bar that crosses it flips the verdict). Returns the axes.
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), layout="constrained", squeeze=False)
        axes = axes[0]
    for ax, name in zip(axes, names, strict=True):
        d = frame[frame["scenario"] == name].head(top).iloc[::-1]
        y = np.arange(len(d))
        central = float(d["central"].iloc[0]) if len(d) else 0.0
        for yi, row in zip(y, d.itertuples(), strict=True):
            for end, x, colour_ in (("low", row.diff_low, "#2171b5"), ("high", row.diff_high, "#e6550d")):
                ax.barh(yi, x - central, left=central, color=colour_, height=0.6, label=end if yi == y[-1] else None)
        ax.axvline(central, color="#252525", lw=1)
        ax.axvline(0.0, color="#c0392b", lw=1, ls="--")
        ax.set_yticks(
            y,
            [f"{p} ({lo:g} / {hi:g})" for p, lo, hi in zip(d["parameter"], d["low"], d["high"], strict=True)],
            fontsize=7,
        )
        ax.set_title(f"{name}", fontsize="small")
        ax.set_xlabel(f"value difference to the baseline ({currency})")
        ax.legend(fontsize=7, loc="lower right", title="assumption at its", title_fontsize=7)
    axes[0].figure.suptitle(title, fontsize="medium")
    return axes
