"""Threads of the compiled kernels: how many, and how idle OpenMP threads wait.

Nothing here runs at import. `prefer_passive_threads` is called where runs start, before anything touches numba's
thread pool (asking numba for its thread count launches the OpenMP layer): by `threads`, which wraps a run in
``simulate``, by the executors' workers, and by `LoyaltyModel.__init__` for a model built by hand.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from loyaltysim.errors import warn

__all__ = ["ONE_THREAD_BELOW", "prefer_passive_threads", "step_threads", "threads"]

ONE_THREAD_BELOW = 20_000
"""Populations smaller than this step on one thread whatever the thread count: waking a second thread for each
parallel loop costs more than it saves (measured on the 2-core machine, baseline scenario: a step 1.7x slower with
two threads at 1,000 customers and 1.4x at 10,000; faster with two from about 30,000)."""


def prefer_passive_threads() -> None:
    """Ask the OpenMP runtime, before it loads, to let idle threads sleep instead of spinning.

    Spinning threads are a small gain on a quiet many-core machine but take the core from the serial parts of a
    step on a small or shared one (measured: about 3x slower steps with two threads on two busy cores). A value
    the user set in ``OMP_WAIT_POLICY`` is kept; once the runtime has loaded, this has no effect.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextmanager
def step_threads(population: int):
    """Run one step of a model of ``population`` people on one thread if it is small (`ONE_THREAD_BELOW`).

    Results do not depend on the thread count (the kernels' parts and sums are fixed by the population, not by the
    threads), so this changes only the time a step takes.
    """
    with threads(1 if population < ONE_THREAD_BELOW else None):
        yield


@contextmanager
def threads(n: int | None):
    """Run the enclosed code with ``n`` numba threads (None: leave as is)."""
    prefer_passive_threads()
    import numba

    if n is None:
        yield
        return
    before = numba.get_num_threads()
    cores = numba.config.NUMBA_NUM_THREADS
    if n > cores:
        warn(f"threads: {n} asked for, {cores} available: running with {cores}")
    wanted = max(1, min(n, cores))
    if wanted != before:  # already so at every step of a small run: setting it costs some 10 us a call
        numba.set_num_threads(wanted)
    try:
        yield
    finally:
        if numba.get_num_threads() != before:
            numba.set_num_threads(before)
