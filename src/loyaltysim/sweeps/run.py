"""Running a sweep: every point x replication on an executor, stored as the runs finish, resumable.

Rows are tidy: one per point x replication x checkpoint, with the point, the replication, the seed, every varied
parameter, the checkpoint month and step, and one column per recorded metric (`loyaltysim.runs.metrics`). An
experiment with ``[series]`` also gets the same rows every few months (outcomes over time), kept apart.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from loyaltysim.runs.executors import make_executor, run_task
from loyaltysim.runs.files import atomic_write, safe_name
from loyaltysim.runs.metrics import checkpoint_step, run_metrics, series_steps, step_to_month
from loyaltysim.scenario import Scenario
from loyaltysim.sweeps.experiment import Experiment
from loyaltysim.sweeps.plan import SweepPlan, SweepTask, plan
from loyaltysim.sweeps.results import SweepResults
from loyaltysim.sweeps.store import Store, SweepLock, open_directory, tidy, write_json

__all__ = ["RunRows", "checkpoint_rows", "default_out", "run_sweep_task", "series_rows", "sweep"]


class RunRows(NamedTuple):
    """What one run of a sweep gives: its checkpoint rows (with the run's wall time) and its series rows, if any."""

    checkpoints: pd.DataFrame
    series: pd.DataFrame | None = None


def run_sweep_task(item: SweepTask) -> RunRows:
    """Run one sweep task: rows per checkpoint (labels, seed, metrics, the run's wall time) and its series rows."""
    start = time.perf_counter()
    ts = run_task(item.task)
    n_labels = len(item.task.labels) + 1
    rows = checkpoint_rows(ts, item.task.scenario, item.checkpoints, item.metrics, n_labels)
    spec = item.series
    series = series_rows(ts, item.task.scenario, spec.every, spec.metrics, n_labels) if spec is not None else None
    rows["seconds"] = time.perf_counter() - start
    return RunRows(rows, series)


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
    return _rows(ts, scenario, list(zip(months, steps, strict=True)), metrics, n_labels)


def series_rows(
    ts: pd.DataFrame, scenario: Scenario, every: float, metrics: Iterable[str], n_labels: int = 0
) -> pd.DataFrame:
    """Metrics of one run every ``every`` months from month 0 to the horizon (`series_steps`), as `checkpoint_rows`."""
    return _rows(ts, scenario, series_steps(scenario, every), metrics, n_labels)


def _rows(ts, scenario, points: list[tuple[float, int]], metrics: Iterable[str], n_labels: int) -> pd.DataFrame:
    labels = {c: ts[c].iloc[0] for c in ts.columns[:n_labels]}  # each with its column's type (ids stay integers)
    steps = [k for _, k in points]
    rows = [
        {**labels, "month": float(month), "step": int(k), **{m: at[m] for m in metrics}}
        for (month, k), at in zip(points, run_metrics(ts, scenario, *steps), strict=True)
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
        store = Store(Path(out), series=sp.experiment.series is not None)
        return _sweep(sp, store, jobs, scheduler, executor, progress, flush_seconds)


def _sweep(sp, store, jobs, scheduler, executor, progress, flush_seconds) -> SweepResults:
    started = time.perf_counter()
    done: set[tuple[int, int]] = set()
    frames: list[RunRows] = []
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
                    store.add(*rows)
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
        frame = tidy(pd.concat([f.checkpoints for f in frames], ignore_index=True)) if frames else pd.DataFrame()
        series = [f.series for f in frames if f.series is not None]
        over_time = tidy(pd.concat(series, ignore_index=True)) if series else None
        return SweepResults(frame, sp.design, sp.experiment, sp.base, None, info, over_time)
    frame = store.read()
    over_time = store.read(series=True) if sp.experiment.series is not None else None
    if over_time is not None:  # written first: results.parquet marks a complete sweep
        atomic_write(store.directory / "series.parquet", lambda p: over_time.to_parquet(p, index=False))
    atomic_write(store.directory / "results.parquet", lambda p: frame.to_parquet(p, index=False))
    manifest.update(status="complete", completed=time.strftime("%Y-%m-%dT%H:%M:%S%z"), run_seconds=store.timings())
    write_json(store.directory / "manifest.json", manifest)
    return SweepResults(frame, sp.design, sp.experiment, sp.base, store.directory, info, over_time)


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
