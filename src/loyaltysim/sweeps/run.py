"""Running a sweep: every point x replication on an executor, stored as the runs finish, resumable.

Rows are tidy: one per point x replication x checkpoint, with the point, the replication, the seed, every varied
parameter, the checkpoint month and step, and one column per recorded metric (`loyaltysim.runs.metrics`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from loyaltysim.runs.executors import make_executor, run_task
from loyaltysim.runs.files import atomic_write, safe_name
from loyaltysim.runs.metrics import checkpoint_step, run_metrics, step_to_month
from loyaltysim.scenario import Scenario
from loyaltysim.sweeps.experiment import Experiment
from loyaltysim.sweeps.plan import SweepPlan, SweepTask, plan
from loyaltysim.sweeps.results import SweepResults
from loyaltysim.sweeps.store import Store, SweepLock, open_directory, tidy, write_json

__all__ = ["checkpoint_rows", "default_out", "run_sweep_task", "sweep"]


def run_sweep_task(item: SweepTask) -> pd.DataFrame:
    """Run one sweep task and return its rows: one per checkpoint, labels, seed, metrics and the run's wall time."""
    start = time.perf_counter()
    ts = run_task(item.task)
    rows = checkpoint_rows(ts, item.task.scenario, item.checkpoints, item.metrics, len(item.task.labels) + 1)
    rows["seconds"] = time.perf_counter() - start
    return rows


def checkpoint_rows(
    ts: pd.DataFrame, scenario: Scenario, checkpoints: Iterable[float] | None, metrics: Iterable[str], n_labels: int = 0
) -> pd.DataFrame:
    """Metrics of one run at its checkpoints (months); flows summed from the start, stocks read at the step.

    Parameters
    ----------
    ts
        Per-step table of one run; its first ``n_labels`` columns are labels copied to every row.
    scenario
        The run's scenario (step length, horizon, population size).
    checkpoints
        Months; None means the horizon.
    metrics
        Names from `METRICS`.
    n_labels
        How many leading columns of ``ts`` are labels.
    """
    months = (
        list(checkpoints) if checkpoints is not None else [step_to_month(scenario.n_steps, scenario.time.step_days)]
    )
    steps = [checkpoint_step(scenario, m, "checkpoints") for m in months]
    labels = {c: ts[c].iloc[0] for c in ts.columns[:n_labels]}  # each with its column's type (ids stay integers)
    rows = [
        {**labels, "month": float(month), "step": int(k), **{m: at[m] for m in metrics}}
        for month, k, at in zip(months, steps, run_metrics(ts, scenario, *steps), strict=True)
    ]
    return pd.DataFrame(rows)


def sweep(
    experiment: Experiment | str | Path,
    out: str | Path | None = None,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    executor: Any = None,
    quick: bool = False,
    progress: bool | None = None,
    flush_seconds: float = 1.0,
) -> SweepResults:
    """Run an experiment: every point x replication, on local processes or a Dask cluster.

    Parameters
    ----------
    experiment
        An experiment file or a loaded `Experiment`.
    out
        Result directory. Finished runs are written there as they finish; running the same experiment again
        into it runs only what is missing. None keeps everything in memory.
    jobs
        Local worker processes (1: in this process), each with one numba thread.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``); overrides ``jobs``.
    executor
        An executor object (context manager with ``map_unordered``) to use instead of ``jobs``/``scheduler``.
    quick
        Use the experiment's ``[quick]`` form (when given a file).
    progress
        Show a progress bar (default: when standard error is a terminal).
    flush_seconds
        Finished runs are written at most this often (one part file each time), and always on exit.

    Returns
    -------
    SweepResults

    Raises
    ------
    ScenarioError
        A bad experiment file, or ``out`` holding the results of a different experiment.
    """
    sp = plan(experiment, quick)
    if out is None:
        return _sweep(sp, None, jobs, scheduler, executor, progress, flush_seconds)
    with SweepLock(Path(out)):
        return _sweep(sp, Store(Path(out)), jobs, scheduler, executor, progress, flush_seconds)


def _sweep(sp, store, jobs, scheduler, executor, progress, flush_seconds) -> SweepResults:
    started = time.perf_counter()
    done: set[tuple[int, int]] = set()
    frames: list[pd.DataFrame] = []
    ex = executor if executor is not None else make_executor(jobs, scheduler)
    if store is not None:
        manifest = open_directory(store.directory, sp)
        manifest["executor"] = type(ex).__name__
        store.prepare()
        done = store.finished()
    todo = list(sp.tasks(skip=done))
    resumed = sp.n_tasks - len(todo)
    bar = _progress(sp, resumed, progress)
    last = time.monotonic()
    try:
        with ex:
            for _item, rows in ex.map_unordered(run_sweep_task, todo):
                if store is None:
                    frames.append(rows)
                else:
                    store.add(rows)
                    if time.monotonic() - last >= flush_seconds:
                        store.flush()
                        last = time.monotonic()
                bar.update(1)
    finally:
        bar.close()
        if store is not None:
            store.flush()
    info = {
        "tasks": sp.n_tasks,
        "ran": len(todo),
        "resumed": resumed,
        "seconds": time.perf_counter() - started,
        "executor": type(ex).__name__,
    }
    if store is None:
        frame = tidy(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
        return SweepResults(frame, sp.design, sp.experiment, sp.base, None, info)
    frame = store.read()
    atomic_write(store.directory / "results.parquet", lambda p: frame.to_parquet(p, index=False))
    manifest.update(status="complete", completed=time.strftime("%Y-%m-%dT%H:%M:%S%z"), run_seconds=store.timings())
    write_json(store.directory / "manifest.json", manifest)
    return SweepResults(frame, sp.design, sp.experiment, sp.base, store.directory, info)


def _progress(sp: SweepPlan, initial: int, show: bool | None):
    from tqdm.auto import tqdm

    if show is None:
        show = sys.stderr.isatty()
    reps = sp.experiment.replications
    unit = "run" if reps > 1 else "point"
    return tqdm(
        total=sp.n_tasks,
        initial=initial,
        disable=not show,
        unit=unit,
        dynamic_ncols=True,
        desc=f"{sp.experiment.name} ({len(sp.design)} points x {reps})",
        file=sys.stderr,
        mininterval=0.5,
        smoothing=0.1,
    )


def default_out(experiment: Experiment) -> Path:
    """``results/sweeps/<name>`` (the name made safe for a folder): where the CLI writes without ``--out``."""
    return Path("results") / "sweeps" / safe_name(experiment.name, "experiment")
