"""The survey's figure: each seed's stated figure against the simulated one, with its confidence interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["stated_vs_simulated"]


def stated_vs_simulated(frame: pd.DataFrame, month: float, title: str, ax=None):
    """Draw each seed's figure against the simulated one at ``month``.

    For the statistics with a stated figure: the seed's figure, the band that counts as reproducing it and the
    simulated mean with its interval; shares in percent on the axis, ratios scaled onto it (x 10).
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
    rows = frame[(frame["month"] == month) & frame["stated"].notna()].reset_index(drop=True)
    scale = np.where(rows["unit"] == "x", 10.0, 1.0)
    y = np.arange(len(rows))[::-1]
    stated = rows["stated"].to_numpy(float) * scale
    sim = rows["simulated"].to_numpy(float) * scale
    low = rows["low"].to_numpy(float) * scale
    high = rows["high"].to_numpy(float) * scale
    from loyaltysim.survey.questions import QUESTIONS

    bounds = {q.key: (q.low, q.high) for q in QUESTIONS}
    for yi, key, s in zip(y, rows["key"], scale, strict=True):
        lo, hi = bounds[key]
        ax.barh(yi, (hi - lo) * s, left=lo * s, height=0.6, color="#dfe8f3", zorder=0)
    ax.scatter(stated, y, marker="|", s=300, color="#333333", label="stated by the seed", zorder=2)
    err = np.vstack([np.nan_to_num(sim - low), np.nan_to_num(high - sim)])
    ax.errorbar(sim, y, xerr=err, fmt="o", color="#c0392b", label="simulated (95 % CI)", zorder=3)
    labels = [
        f"{s} ({u if u == '%' else 'ratio x 10'}, seed {seed})"
        for s, u, seed in zip(rows["statistic"], rows["unit"], rows["seed"], strict=True)
    ]
    for yi, tag in zip(y, rows["tag"], strict=True):
        if tag == "not expressible":
            ax.annotate("not expressible", (2, yi), va="center", fontsize=8, color="#777777")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("percent (ratios x 10); shaded: where the seed counts as reproduced")
    ax.set_title(f"{title}: the seeds' statistics, stated and simulated (month {month:g})")
    ax.legend(loc="lower right", fontsize=8)
    return ax
