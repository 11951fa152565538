"""`Results` of one run: the per-step table, a summary, figures, and files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltysim.runs import figures
from loyaltysim.runs.files import output_folder
from loyaltysim.runs.metrics import SUMMARY_METRICS, checkpoint_step, run_metrics, step_to_month
from loyaltysim.scenario import Scenario

__all__ = ["Results"]


@dataclass
class Results:
    """Outcome of one simulated run.

    Attributes
    ----------
    timeseries : pandas.DataFrame
        One row per step (0 = initial state), columns as in `loyaltysim.engine.layout.COLUMNS`.
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

    def metrics(self, month: float | None = None) -> dict[str, float]:
        """Every metric but ROI at a checkpoint.

        Parameters
        ----------
        month
            Months from the start (the step that ends closest to it); default: the horizon.

        Returns
        -------
        dict
            Metric name (`loyaltysim.runs.metrics.METRICS`) to its value.

        Raises
        ------
        ScenarioError
            For a month outside the horizon.
        """
        s = self.scenario
        k = s.n_steps if month is None else checkpoint_step(s, month, "Results.metrics")
        return run_metrics(self.timeseries, s, k)[0]

    def summary(self) -> pd.Series:
        """Key figures at the horizon.

        Returns
        -------
        pandas.Series
            ``months`` (the horizon), then `loyaltysim.runs.metrics.SUMMARY_METRICS` by metric name.
        """
        at = self.metrics()
        months = step_to_month(self.scenario.n_steps, self.scenario.time.step_days)
        return pd.Series({"months": months, **{m: at[m] for m in SUMMARY_METRICS}}, name=self.scenario.name)

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
        return figures.plot_run(self.timeseries, self._title(), ax)

    def _title(self) -> str:
        return f"{self.scenario.name} (seed {self.seed})"

    def save(self, directory: str | Path, force: bool = False) -> list[Path]:
        """Write ``timeseries.parquet``, ``timeseries.csv`` and ``timeseries.png`` into ``directory``.

        The folder is written whole beside ``directory`` and then put in its place (`output_folder`), so an
        interrupted save leaves the earlier results as they were.

        Parameters
        ----------
        directory
            The results folder; one holding another command's outputs is refused unless ``force``.
        force
            Replace whatever ``directory`` holds.

        Returns
        -------
        list of pathlib.Path
            The files, at their final place.
        """
        from matplotlib.figure import Figure

        out = Path(directory)
        names = ["timeseries.parquet", "timeseries.csv", "timeseries.png"]
        df = self.to_frame()
        fig = Figure(figsize=(15, 4.2), layout="constrained")
        self.plot(figures.run_panels(fig, self._title()))
        with output_folder(out, "run", force) as tmp:
            df.to_parquet(tmp / names[0], index=False)
            df.to_csv(tmp / names[1], index=False)
            fig.savefig(tmp / names[2], dpi=110, format="png")
        return [out / name for name in names]
