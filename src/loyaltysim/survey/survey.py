"""`survey`: the seeds' statistics measured from a scenario's simulated customers; `Survey`, its result."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.engine.model import resolve_scenario
from loyaltysim.errors import InputError, ScenarioError, check_int
from loyaltysim.runs.files import json_ready, output_folder
from loyaltysim.runs.metrics import SURVEY_WINDOW_DAYS, checkpoint_step, step_to_month
from loyaltysim.runs.statistics import LEVEL, t_interval
from loyaltysim.scenario import Scenario, load_scenario
from loyaltysim.survey.panel import observe
from loyaltysim.survey.questions import QUESTIONS, customers

__all__ = ["WINDOW_DAYS", "Survey", "survey"]

WINDOW_DAYS = SURVEY_WINDOW_DAYS
"""Default length of the survey's windows (`loyaltysim.runs.metrics.SURVEY_WINDOW_DAYS`)."""
SEEDS = {"000": "000_f5ec50075a066283.txt", "003": "003_8576692b29b0026c.txt", "004": "004_745745809940b12e.txt"}
"""The seed articles the stated figures come from (in ``shared/seeds``)."""


class Survey:
    """The answers of a virtual survey: each statistic per survey month, over replications, beside the seed's figure.

    Attributes
    ----------
    values : pandas.DataFrame
        One row per (month, statistic, replication): ``month``, ``key``, ``replication``, ``seed``, ``value``.
    answers : pandas.DataFrame
        Share of customers giving each answer 0-10 to the NPS question, per month (mean over replications).
    """

    def __init__(
        self,
        scenario: str,
        seed: int,
        replications: int,
        window_days: float,
        values: pd.DataFrame,
        answers: pd.DataFrame,
        level: float = LEVEL,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.replications = replications
        self.window_days = window_days
        self.values = values
        self.answers = answers
        self.level = level

    @property
    def months(self) -> list[float]:
        """The survey months."""
        return sorted(self.values["month"].unique().tolist())

    def to_frame(self) -> pd.DataFrame:
        """One row per (month, statistic): stated figure, simulated mean with its CI, tag, verdict and definition."""
        rows = []
        for month in self.months:
            at = self.values[self.values["month"] == month]
            for q in QUESTIONS:
                x = at.loc[at["key"] == q.key, "value"].to_numpy(float)
                ok = x[~np.isnan(x)]
                mean, low, high = (float(v) for v in t_interval(ok, self.level)) if ok.size else (math.nan,) * 3
                rows.append(
                    {
                        "month": month,
                        "key": q.key,
                        "statistic": q.label,
                        "seed": q.seed,
                        "stated": q.stated,
                        "unit": q.unit,
                        "simulated": mean,
                        "low": low,
                        "high": high,
                        "tag": q.tag,
                        "verdict": q.verdict(mean),
                        "note": q.note,
                        "definition": q.definition,
                    }
                )
        return pd.DataFrame(rows)

    def text(self) -> str:
        """The survey as one plain-text table: statistic, seed file, stated, simulated with CI, tag, verdict."""
        frame = self.to_frame()
        lines = [
            f"{self.scenario}: virtual survey, {self.replications} replication(s) from seed {self.seed}, windows of "
            f"{self.window_days:g} days, {self.level:.0%} CIs over replications"
        ]
        for month in self.months:
            lines.append("")
            lines.append(f"month {month:g}")
            header = f"  {'statistic':<56} {'seed':<4} {'stated':>7}  {'simulated (CI)':<24} {'tag':<15} verdict"
            lines.append(header)
            lines.append("  " + "-" * (len(header) - 2))
            for r in frame[frame["month"] == month].itertuples():
                stated = "" if math.isnan(r.stated) else _fmt(r.stated, r.unit)
                sim = _fmt(r.simulated, r.unit)
                if not math.isnan(r.low):
                    sim += f" ({_fmt(r.low, r.unit, False)}, {_fmt(r.high, r.unit, False)})"
                if r.tag == "not expressible":
                    sim = "-"
                lines.append(f"  {r.statistic:<56} {r.seed:<4} {stated:>7}  {sim:<24} {r.tag:<15} {r.verdict}")
        notes = {q.key: q.note for q in QUESTIONS if q.note}
        if notes:
            lines.append("")
            lines.extend(f"  {QUESTIONS_BY_KEY[k].label}: {v}" for k, v in notes.items())
        lines.append("  definitions: docs/survey.md; seeds: " + ", ".join(f"{k} = {v}" for k, v in SEEDS.items()))
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The survey as plain data (NaN as None)."""
        rows = [json_ready(row) for row in self.to_frame().to_dict(orient="records")]
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "replications": self.replications,
            "window_days": self.window_days,
            "level": self.level,
            "months": self.months,
            "rows": rows,
            "answers": self.answers.to_dict(orient="records"),
        }

    def plot(self, ax=None):
        """Stated against simulated (with CIs) for the statistics the seeds state, at the last survey month."""
        from loyaltysim.survey.figures import stated_vs_simulated

        return stated_vs_simulated(self.to_frame(), self.months[-1], self.scenario, ax)

    def save(self, directory: str | Path, force: bool = False) -> list[Path]:
        """Write ``survey.csv``, ``survey.json``, ``answers.csv`` and ``survey.png``; the folder is replaced whole."""
        from matplotlib.figure import Figure

        out = Path(directory)
        names = ["survey.csv", "survey.json", "answers.csv", "survey.png"]
        fig = Figure(figsize=(10, 5.5), layout="constrained")
        self.plot(fig.subplots())
        frame = self.to_frame()
        with output_folder(out, "survey", force) as tmp:
            frame.to_csv(tmp / names[0], index=False)
            (tmp / names[1]).write_text(json.dumps(self.to_json(), indent=1) + "\n")
            self.answers.to_csv(tmp / names[2], index=False)
            fig.savefig(tmp / names[3], dpi=110, format="png")
        return [out / name for name in names]

    def __repr__(self) -> str:
        return f"Survey({self.scenario!r}, months={self.months}, replications={self.replications})"


QUESTIONS_BY_KEY = {q.key: q for q in QUESTIONS}


def _fmt(x: float, unit: str, suffix: bool = True) -> str:
    if math.isnan(x):
        return "n/a"
    if unit == "%":
        return f"{x:.1f}" + (" %" if suffix else "")
    if unit == "x":
        return f"{x:.2f}" + ("x" if suffix else "")
    return f"{x:.2f}"


def survey_steps(spec: Scenario, months: Sequence[float] | None, window: int, where: str) -> list[tuple[float, int]]:
    """(month, step) of each survey month; a `ScenarioError` for a month outside the horizon or too early."""
    horizon = step_to_month(spec.n_steps, spec.time.step_days)
    if months is None:
        months = [round(horizon, 1)]
    out = []
    for month in months:
        if not isinstance(month, int | float) or isinstance(month, bool):
            raise ScenarioError(where, "month", repr(month), "a number of months")
        step = checkpoint_step(spec, float(month), where)
        if step < 2 * window:
            first = step_to_month(2 * window, spec.time.step_days)
            raise ScenarioError(
                where,
                "month",
                f"{month:g}",
                f"a month from {first:.1f} on: the survey looks back two windows of "
                f"{window * spec.time.step_days:g} days",
            )
        out.append((float(month), step))
    return sorted(set(out), key=lambda p: p[1])


def survey(
    scenario: Scenario | str | Path | Mapping,
    seed: int = 0,
    replications: int = 5,
    months: Sequence[float] | None = None,
    window_days: float = WINDOW_DAYS,
    overrides: Mapping[str, Any] | None = None,
    root: str | Path | None = None,
    overrides_label: str = "overrides",
) -> Survey:
    """Administer the virtual survey to a scenario's simulated customers.

    Parameters
    ----------
    scenario
        A `Scenario`, a scenario file path or a nested dict.
    seed
        Seed of the first replication; replication ``r`` uses ``seed + r``.
    replications
        Independent runs; each statistic's CI is over them.
    months
        Survey months (default: the horizon). Each must leave two windows before it.
    window_days
        Length of the look-back window and of the follow-up after a frustration (at least one step).
    overrides
        Dotted scenario keys to change.
    root
        Folder that extends and edge-list files may come from (a scenario file's own folder by default).
    overrides_label
        How error messages name the overrides (the command line says ``--set``).

    Returns
    -------
    Survey

    Raises
    ------
    InputError
        For a bad scenario, override or argument.
    """
    seed = check_int(seed, "seed", 0, "survey")
    replications = check_int(replications, "replications", 1, "survey")
    if isinstance(scenario, str | Path):
        spec = load_scenario(scenario, overrides, root=root, label=overrides_label)
    else:
        spec = resolve_scenario(scenario, overrides)
    if not isinstance(window_days, int | float) or isinstance(window_days, bool) or not window_days > 0:
        raise InputError("survey", "window_days", repr(window_days), "a number of days above 0, e.g. 90")
    window = round(window_days / spec.time.step_days)
    if window < 1:
        raise InputError(
            "survey", "window_days", f"{window_days:g}", f"at least one step ({spec.time.step_days:g} days)"
        )
    steps = survey_steps(spec, months, window, "survey")
    values, answers = [], []
    for r in range(replications):
        for panel in observe(spec, seed + r, steps, window):
            for q in QUESTIONS:
                values.append(
                    {"month": panel.month, "key": q.key, "replication": r, "seed": seed + r, "value": q.measure(panel)}
                )
            a = panel.answers[customers(panel)]
            counts = np.bincount(a, minlength=11) / max(a.size, 1)
            answers.append({"month": panel.month, "replication": r, **{str(k): counts[k] for k in range(11)}})
    answer_frame = pd.DataFrame(answers).drop(columns="replication").groupby("month", as_index=False).mean()
    return Survey(spec.name, seed, replications, window * spec.time.step_days, pd.DataFrame(values), answer_frame)
