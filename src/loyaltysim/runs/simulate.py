"""`simulate`: one scenario and one seed in, `Results` out."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numba

from loyaltysim.engine.model import ENGINES, LoyaltyModel, resolve_scenario
from loyaltysim.engine.threads import threads
from loyaltysim.errors import InputError, check_int
from loyaltysim.runs.results import Results
from loyaltysim.scenario import Scenario

__all__ = ["simulate"]


def simulate(
    scenario: Scenario | str | Path | Mapping,
    seed: int = 0,
    engine: str = "kernel",
    overrides: Mapping[str, Any] | None = None,
    n_threads: int | None = None,
) -> Results:
    """Run a scenario to its horizon.

    Parameters
    ----------
    scenario
        A `Scenario`, a scenario file path or a nested dict.
    seed
        Seed of the population, network and every draw. The same seed in two scenarios gives common random
        numbers; the result does not depend on the number of threads.
    engine
        ``"kernel"`` (compiled, parallel) or ``"reference"`` (readable Mesa agents; small populations).
    overrides
        Dotted scenario keys to change, e.g. ``{"touchpoints.phone_support.effort": 0.3}``; only keys the
        scenario has.
    n_threads
        numba threads for this run (default: numba's setting, all cores; more than the cores are capped, with a
        warning).

    Returns
    -------
    Results

    Raises
    ------
    InputError
        For a bad scenario, override or argument, or a run that would not fit in memory.
    """
    if scenario is None:
        raise InputError("simulate", "scenario", "None", "a Scenario, a scenario file's path or a nested dict")
    seed = check_int(seed, "seed", 0, "simulate")
    if engine not in ENGINES:
        raise InputError("simulate", "engine", repr(engine), f"one of {', '.join(ENGINES)}")
    if n_threads is not None:
        n_threads = check_int(n_threads, "n_threads", 1, "simulate")
    spec = resolve_scenario(scenario, overrides)
    with threads(n_threads):
        start = time.perf_counter()
        model = LoyaltyModel(spec, rng=int(seed), engine=engine)
        built = time.perf_counter()
        model.run()
        done = time.perf_counter()
        used = numba.get_num_threads()
    info = {
        "threads": used,
        "setup_seconds": built - start,
        "run_seconds": done - built,
        "edges": model.network.n_edges if not model.network.complete else None,
    }
    return Results(model.timeseries(), spec, int(seed), engine, info)
