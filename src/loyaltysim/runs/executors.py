"""Running many simulations: seeds for replications and the executors that run tasks in parallel.

Comparisons and sweeps both go through here, so replications are seeded one way and run one way. A `Task` is
one (scenario, seed) run; `run_task` is the function workers call; an executor maps it over tasks and yields
results as they finish. `LocalExecutor` uses processes started with *spawn* (GNU OpenMP is not fork-safe), each
with one numba thread, so ``jobs`` processes use ``jobs`` cores without oversubscription.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from loyaltysim.engine.threads import prefer_passive_threads
from loyaltysim.scenario import Scenario

__all__ = [
    "LocalExecutor",
    "SerialExecutor",
    "Task",
    "init_worker",
    "make_executor",
    "replication_seeds",
    "run_task",
    "spawn_pool",
]

_SEED_STRIDE = 1_000_003  # spacing of independent seeds (a prime, so streams of two scenarios never share seeds)


def replication_seeds(seed: int, replications: int, scenario_index: int = 0, independent: bool = False) -> list[int]:
    """Seeds of the replications of one scenario.

    Paired (the default): replication ``r`` of every scenario uses seed ``seed + r``, so scenarios share
    population, network and draws (common random numbers) and their differences are paired. Independent:
    each scenario gets its own seeds, ``seed + r + stride * scenario_index``.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    offset = _SEED_STRIDE * scenario_index if independent else 0
    return [seed + offset + r for r in range(replications)]


@dataclass(frozen=True)
class Task:
    """One run: a scenario, a seed, and labels that travel with the result (scenario name, replication, point)."""

    scenario: Scenario
    seed: int
    labels: dict[str, Any] = field(default_factory=dict)


def run_task(task: Task) -> pd.DataFrame:
    """Simulate one task and return its per-step table with the task's labels and seed as columns."""
    from loyaltysim.runs.simulate import simulate

    df = simulate(task.scenario, seed=task.seed).timeseries
    for i, (key, value) in enumerate(task.labels.items()):
        df.insert(i, key, value)
    df.insert(len(task.labels), "seed", task.seed)
    return df


def init_worker() -> None:
    """Give a fresh worker process one numba thread.

    Set before numba loads (``import loyaltysim`` does not load it), so the worker starts one thread, not one
    per core.
    """
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = "1"
    prefer_passive_threads()
    import numba

    numba.set_num_threads(1)


def spawn_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of ``jobs`` processes started with *spawn*, each with one numba thread (`init_worker`)."""
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=init_worker)


class SerialExecutor:
    """Runs tasks one after the other in this process (``jobs=1``); same interface as `LocalExecutor`.

    Like the workers of the other executors, it runs each task with one numba thread: replications are the
    parallel unit, and results never depend on the number of threads.
    """

    jobs = 1

    def __init__(self) -> None:
        self._threads: int | None = None

    def __enter__(self) -> SerialExecutor:
        prefer_passive_threads()
        import numba

        self._threads = numba.get_num_threads()
        numba.set_num_threads(1)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._threads is not None:
            import numba

            numba.set_num_threads(self._threads)
            self._threads = None

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, fn(item))`` for every item."""
        for item in items:
            yield item, fn(item)


class LocalExecutor:
    """Runs tasks in ``jobs`` spawned processes with one numba thread each; use as a context manager."""

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        self._pool = spawn_pool(self.jobs)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)
            self._pool = None

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, fn(item))`` as each finishes; at most ``2 * jobs`` tasks are queued at once."""
        if self._pool is None:
            raise RuntimeError("use LocalExecutor as a context manager")
        pending: dict[Future, Any] = {}
        it = iter(items)
        for item in it:
            pending[self._pool.submit(fn, item)] = item
            if len(pending) >= 2 * self.jobs:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                item = pending.pop(fut)
                yield item, fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending[self._pool.submit(fn, nxt)] = nxt


def make_executor(jobs: int = 1, scheduler: str | None = None):
    """The executor for a command line: serial for one job, local processes for more, Dask for an address."""
    if scheduler:
        from loyaltysim.runs.cluster import DaskExecutor

        return DaskExecutor(scheduler)
    return SerialExecutor() if jobs == 1 else LocalExecutor(jobs)
