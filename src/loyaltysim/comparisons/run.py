"""`compare`: load and check the scenarios, run every replication, read the metrics at the checkpoints.

The first scenario is the baseline, the others are variants (levers a strategist might pull). Every scenario is
run ``replications`` times through `loyaltysim.runs.executors` (the same `Task` / `run_task` / executor machinery
the sweeps use).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.comparisons.comparison import Comparison, cube
from loyaltysim.engine.layout import COLUMNS
from loyaltysim.errors import ScenarioError
from loyaltysim.runs.executors import Task, make_executor, replication_seeds, run_task
from loyaltysim.runs.metrics import COMPARISON_METRICS, at_checkpoint, checkpoint_steps, monthly_discount, roi
from loyaltysim.runs.statistics import LEVEL
from loyaltysim.scenario import Scenario, load_scenario

__all__ = ["DEFAULT_CHECKPOINTS", "compare"]

DEFAULT_CHECKPOINTS = (3.0, 6.0, 12.0)
"""Checkpoints (months) read besides the horizon, clipped to the horizon."""


def _window_metrics(
    c: Mapping[str, np.ndarray], k: int, months: float, size: int, discount: float
) -> dict[str, np.ndarray]:
    """Metrics of every (scenario, replication) at step ``k`` from arrays shaped (scenarios, replications, steps)."""
    out = at_checkpoint(c, k, months, size, discount)
    out["roi"] = roi(out["profit"], out["intervention_cost"], out["profit"][:1], out["intervention_cost"][:1])
    out["roi"][0] = np.nan
    return out


def _load(item: Scenario | str | Path, overrides: Mapping[str, Any]) -> Scenario:
    if isinstance(item, Scenario):
        return item.with_overrides(overrides) if overrides else item
    return load_scenario(item, overrides)


def _check_alike(scenarios: Sequence[Scenario]) -> None:
    base = scenarios[0]
    names = {base.name}
    for s in scenarios[1:]:
        where = s.source or s.name
        for key, a, b in (
            ("population.size", base.population.size, s.population.size),
            ("time.horizon_days", base.time.horizon_days, s.time.horizon_days),
            ("time.step_days", base.time.step_days, s.time.step_days),
        ):
            if a != b:
                raise ScenarioError(
                    where,
                    key,
                    f"{b:g}",
                    f"{a:g} as in the baseline {base.source or base.name} "
                    "(compared scenarios must share population size, horizon and step length)",
                )
        if s.name in names:
            raise ScenarioError(where, "name", repr(s.name), "a name no other compared scenario has")
        names.add(s.name)


def compare(
    scenarios: Sequence[Scenario | str | Path],
    replications: int = 20,
    seed: int = 0,
    *,
    independent: bool = False,
    jobs: int = 1,
    overrides: Mapping[str, Any] | None = None,
    checkpoints: Iterable[float] = DEFAULT_CHECKPOINTS,
    discount_rate: float = 0.10,
    level: float = LEVEL,
    progress: bool | None = None,
) -> Comparison:
    """Run a baseline and its variants over replications and compare them.

    Parameters
    ----------
    scenarios
        Baseline first, then one or more variants: `Scenario` objects or scenario files. They must share
        population size, horizon and step length, and have distinct names.
    replications
        Runs per scenario (at least 1; confidence intervals need 2 or more).
    seed
        Seed of replication 0; replication ``r`` uses ``seed + r`` (see `loyaltysim.runs.executors.replication_seeds`).
    independent
        False (default): every scenario uses the same seeds (common random numbers, paired differences). True:
        independent seeds per scenario and Welch intervals for the differences.
    jobs
        Processes to run replications in (each with one numba thread); the numbers do not depend on it.
    overrides
        Dotted scenario keys applied to every scenario, e.g. ``{"population.size": 5000}``.
    checkpoints
        Months at which metrics are read besides the horizon (clipped to the horizon).
    discount_rate
        Yearly discount rate of the CLV (greater than 0).
    level
        Confidence level of the intervals.
    progress
        Show a progress bar on stderr; None: only when stderr is a terminal.

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        A bad scenario file or override, scenarios that cannot be compared, or a bad argument.
    """
    if len(scenarios) < 2:
        raise ScenarioError("compare", "scenarios", str(len(scenarios)), "a baseline and at least one variant")
    if not isinstance(replications, int | np.integer) or replications < 1:
        raise ScenarioError("compare", "replications", repr(replications), "a whole number of at least 1")
    if not isinstance(jobs, int | np.integer) or jobs < 1:
        raise ScenarioError("compare", "jobs", repr(jobs), "a whole number of at least 1")
    if not 0 < discount_rate <= 1:
        raise ScenarioError("compare", "discount_rate", f"{discount_rate:g}", "a yearly rate in (0, 1]")
    if not 0 < level < 1:
        raise ScenarioError("compare", "level", f"{level:g}", "a confidence level in (0, 1), e.g. 0.95")
    specs = [_load(s, overrides or {}) for s in scenarios]
    _check_alike(specs)
    marks = checkpoint_steps(specs[0], checkpoints, "compare")
    runs = _run_all(specs, int(replications), int(seed), independent, int(jobs), progress)
    replicates = _replicate_metrics(specs, int(replications), runs, marks, discount_rate)
    return Comparison(specs, int(replications), int(seed), independent, marks, runs, replicates, discount_rate, level)


def _run_all(
    specs: list[Scenario], replications: int, seed: int, independent: bool, jobs: int, progress: bool | None
) -> pd.DataFrame:
    from tqdm.auto import tqdm

    seeds = [replication_seeds(seed, replications, i, independent) for i in range(len(specs))]
    tasks = [
        Task(spec, seeds[i][r], {"scenario": spec.name, "replication": r})
        for r in range(replications)
        for i, spec in enumerate(specs)
    ]
    show = sys.stderr.isatty() if progress is None else progress
    frames = []
    with (
        make_executor(jobs) as executor,  # one numba thread per run: replications are the parallel unit
        tqdm(total=len(tasks), disable=not show, file=sys.stderr, unit="run", desc="compare", leave=False) as bar,
    ):
        for _, df in executor.map_unordered(run_task, tasks):
            frames.append(df)
            bar.update(1)
    runs = pd.concat(frames, ignore_index=True)
    order = pd.Categorical(runs["scenario"], categories=[s.name for s in specs], ordered=True)
    runs = runs.assign(scenario=order).sort_values(["scenario", "replication", "step"], kind="stable")
    runs["scenario"] = runs["scenario"].astype(str)
    return runs.reset_index(drop=True)


def _replicate_metrics(
    specs: list[Scenario], replications: int, runs: pd.DataFrame, marks: list[tuple[float, int]], discount_rate: float
) -> pd.DataFrame:
    n_s = len(specs)
    n_t = specs[0].n_steps + 1
    shape = (n_s, replications, n_t)
    needed = [name for name, col in COLUMNS.items() if col.kind != "label"]
    cubes = {c: cube(runs, c, shape) for c in needed}
    discount = monthly_discount(discount_rate)
    size = specs[0].population.size
    seeds = runs["seed"].to_numpy().reshape(shape)[..., 0]
    frames = []
    for month, step in marks:
        values = _window_metrics(cubes, step, specs[0].months_per_step, size, discount)
        frame = pd.DataFrame(
            {
                "scenario": np.repeat([s.name for s in specs], replications),
                "replication": np.tile(np.arange(replications), n_s),
                "seed": seeds.ravel(),
                "month": month,
                "step": step,
            }
        )
        for metric in COMPARISON_METRICS:
            frame[metric] = values[metric].ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
