"""Figures of one run, and the colours every figure of the project shares (reports, the teaching app).

Called by `Results.plot` and `Results.save`; imports matplotlib only inside the functions that draw.
"""

from __future__ import annotations

from loyaltysim.engine.layout import STATE_NAMES
from loyaltysim.vocabulary import MONTH_DAYS

__all__ = ["LINE_COLOURS", "STAGE_COLOURS", "line_colour", "plot_run", "run_panels"]

LINE_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")
"""Okabe & Ito's colour-blind-safe colours, for lines and bands that are told apart by colour alone."""


def line_colour(i: int) -> str:
    """The ``i``-th of `LINE_COLOURS`, cycling."""
    return LINE_COLOURS[i % len(LINE_COLOURS)]


STAGE_COLOURS = dict(
    zip(
        STATE_NAMES,
        ("#dddddd", "#f5ec6e", "#d55e00", "#e69f00", "#56b4e9", "#0072b2", "#cc79a7", "#555555"),
        strict=True,
    )
)
"""One colour per stage code's name, told apart also by colour-blind readers (Okabe & Ito's palette and greys):
prospects at needs (light grey) and expectations (light yellow), customers at risk (vermillion), the customer stages
desires (orange), preferences (sky blue), personalization (blue), empathy (reddish purple), churned (dark grey)."""


def run_panels(fig, title: str):
    """The three panels of a run's figure on ``fig``."""
    fig.suptitle(title)
    return fig.subplots(1, 3)


def plot_run(ts, title: str, ax=None):
    """Stages over time, active customers and money per step of one run's time series; returns the axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        ax = run_panels(plt.figure(figsize=(15, 4.2), layout="constrained"), title)
    months = ts["day"] / MONTH_DAYS
    cols = list(STATE_NAMES)
    ax[0].stackplot(months, *(ts[c] for c in cols), labels=cols, colors=[STAGE_COLOURS[c] for c in cols])
    ax[0].set(title="People by CX Spectrum stage", xlabel="month", ylabel="people")
    ax[0].legend(loc="lower left", fontsize="x-small", ncols=2, framealpha=0.85)
    ax[1].plot(months, ts["active"], color="#08519c")
    ax[1].set(title="Active customers", xlabel="month", ylabel="customers")
    ax[2].plot(months[1:], ts["revenue"][1:], label="revenue", color="#238b45")
    ax[2].plot(months[1:], ts["profit"][1:], label="profit", color="#fc8d59")
    ax[2].set(title="Money per step", xlabel="month", ylabel="currency")
    ax[2].legend(fontsize="small")
    return ax
