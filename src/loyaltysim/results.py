"""`Results` of one run: the per-step table, a summary, figures, and files."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltysim.outputs import at_checkpoint
from loyaltysim.scenario import MONTH_DAYS, STAGES, Scenario

__all__ = ["Results", "atomic_write"]

STAGE_COLOURS = {
    "prospects": "#d9d9d9",
    "needs": "#fdd49e",
    "expectations": "#fdbb84",
    "desires": "#fc8d59",
    "preferences": "#9ecae1",
    "personalization": "#4292c6",
    "empathy": "#08519c",
    "churned": "#636363",
}
"""One colour per stage, shared by every figure and the teaching app."""


@dataclass
class Results:
    """Outcome of one simulated run.

    Attributes
    ----------
    timeseries : pandas.DataFrame
        One row per step (0 = initial state), columns as in `loyaltysim.outputs.COLUMNS`.
    scenario : Scenario
        The scenario that was run.
    seed : int
        The seed of the run.
    engine : str
        ``"kernel"`` or ``"reference"``.
    info : dict
        Run facts: threads, wall time, network size.
    """

    timeseries: pd.DataFrame
    scenario: Scenario
    seed: int
    engine: str = "kernel"
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The per-step table with the scenario name and seed as columns (stackable across runs)."""
        df = self.timeseries.copy()
        df.insert(0, "seed", self.seed)
        df.insert(0, "scenario", self.scenario.name)
        return df

    def summary(self) -> pd.Series:
        """Key figures at the horizon: customers, retention of the starting base, money, NPS and CES."""
        ts = self.timeseries
        k = len(ts) - 1
        at = at_checkpoint({name: ts[name].to_numpy() for name in ts.columns}, k)
        return pd.Series(
            {
                "months": round(float(ts["day"].iloc[-1]) / MONTH_DAYS, 2),
                "customers_start": int(ts["active"].iloc[0]),
                "customers_end": int(at["active"]),
                "retention_of_start_base_pct": float(at["retention"]),
                "new_customers": int(at["new_customers"]),
                "churned_customers": int(at["churned_step"]),
                "revenue": float(at["revenue"]),
                "cost": float(at["cost"]),
                "profit": float(at["profit"]),
                "nps_end": float(at["nps"]),
                "ces_mean": float(at["ces"]),
                "wom_positive": int(at["wom_positive"]),
                "wom_negative": int(at["wom_negative"]),
            },
            name=self.scenario.name,
        )

    def plot(self, ax=None):
        """Stages over time, active customers and revenue per step.

        Parameters
        ----------
        ax
            Three matplotlib axes to draw into; None makes a new figure.

        Returns
        -------
        numpy.ndarray of matplotlib Axes
        """
        if ax is None:
            import matplotlib.pyplot as plt

            ax = _panels(
                plt.figure(figsize=(15, 4.2), layout="constrained"), f"{self.scenario.name} (seed {self.seed})"
            )
        ts = self.timeseries
        months = ts["day"] / MONTH_DAYS
        cols = ["prospects", *STAGES, "churned"]
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

    def save(self, directory: str | Path) -> list[Path]:
        """Write ``timeseries.parquet``, ``timeseries.csv`` and ``timeseries.png`` into ``directory``.

        Each file is written to a temporary name and renamed, so an interrupted save never leaves a
        half-written file in place of a good one.
        """
        from matplotlib.figure import Figure

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        df = self.to_frame()
        paths = [out / "timeseries.parquet", out / "timeseries.csv", out / "timeseries.png"]
        atomic_write(paths[0], lambda p: df.to_parquet(p, index=False))
        atomic_write(paths[1], lambda p: df.to_csv(p, index=False))
        fig = Figure(figsize=(15, 4.2), layout="constrained")
        self.plot(_panels(fig, f"{self.scenario.name} (seed {self.seed})"))
        atomic_write(paths[2], lambda p: fig.savefig(p, dpi=110, format="png"))
        return paths


def _panels(fig, title: str):
    fig.suptitle(title)
    return fig.subplots(1, 3)


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the mode a plain open() would
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
