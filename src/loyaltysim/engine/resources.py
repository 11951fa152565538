"""Memory a run needs, estimated before anything is allocated, against what the machine has free.

The estimate counts the per-person state, the social network and its construction, the per-step plan and the
per-step output rows (the benchmarks measure about 140-190 bytes a person at degree 10, `docs/performance.md`).
`check_memory` refuses a run that would not fit with one line naming the estimate and the limit. The limit is the
machine's available memory (``MemAvailable`` of ``/proc/meminfo``), or ``LOYALTYSIM_MEMORY_LIMIT`` (bytes) if set.
"""

from __future__ import annotations

import os

from loyaltysim.engine.layout import COLUMNS, LEVEL_COLUMNS
from loyaltysim.engine.state import state_bytes
from loyaltysim.errors import InputError
from loyaltysim.scenario import Scenario

__all__ = ["available_memory", "check_memory", "estimate_bytes"]

NETWORK_BYTES_PER_NEIGHBOUR = 12
"""Peak bytes per neighbour slot while a network is built: edge ends (int32 x 2), CSR indices, deduplicated copy."""
ROW_BYTES_PER_COLUMN = 40
"""Bytes per output value kept per step (a Python number in the DataCollector's lists, then a DataFrame cell)."""
REFERENCE_BYTES = 3000
"""Bytes per person of the readable engine (a Mesa agent and its cell)."""
REFERENCE_BYTES_PER_NEIGHBOUR = 400
"""Bytes per neighbour of the readable engine (networkx's graph and Mesa's space)."""
HEADROOM = 0.8
"""Share of the available memory a run may plan to use."""


def estimate_bytes(scenario: Scenario, engine: str = "kernel") -> int:
    """Bytes a run of ``scenario`` will hold at its peak (an estimate)."""
    n = scenario.population.size
    degree = 0 if scenario.network.kind in ("complete", "edge_list") else scenario.network.mean_degree
    steps = scenario.n_steps + 1
    touchpoints = len(scenario.touchpoints)
    people = n * (state_bytes(touchpoints) + 8 + NETWORK_BYTES_PER_NEIGHBOUR * degree)
    plan = steps * 8 * (touchpoints * (len(LEVEL_COLUMNS) + 1) + 6)
    rows = steps * ROW_BYTES_PER_COLUMN * len(COLUMNS)
    total = people + plan + rows
    if engine == "reference":
        total += n * (REFERENCE_BYTES + REFERENCE_BYTES_PER_NEIGHBOUR * max(degree, 1))
    return int(total)


def available_memory() -> tuple[int, str]:
    """Bytes a run may use and where the figure comes from."""
    limit = os.environ.get("LOYALTYSIM_MEMORY_LIMIT")
    if limit:
        try:
            return int(float(limit)), "LOYALTYSIM_MEMORY_LIMIT"
        except ValueError:
            raise InputError(
                "environment", "LOYALTYSIM_MEMORY_LIMIT", repr(limit), "a number of bytes, e.g. 8e9"
            ) from None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "available now"
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "free now"
    except (ValueError, OSError, AttributeError):
        return 1 << 62, "unknown"


def check_memory(scenario: Scenario, engine: str = "kernel") -> None:
    """Refuse a run whose estimated peak memory exceeds `HEADROOM` of what is available."""
    need = estimate_bytes(scenario, engine)
    have, source = available_memory()
    limit = have * (1.0 if source == "LOYALTYSIM_MEMORY_LIMIT" else HEADROOM)
    if need <= limit:
        return
    s = scenario
    raise InputError(
        s.source or "<scenario>",
        None,
        None,
        f"population.size = {s.population.size:,} with network.mean_degree {s.network.mean_degree} over {s.n_steps:,} "
        f"steps ({engine} engine) needs about {need / 1e9:.3g} GB of memory; {limit / 1e9:.3g} GB may be used "
        f"({source}, {(source == 'LOYALTYSIM_MEMORY_LIMIT' and 'as set') or f'{HEADROOM:.0%} of what is available'}): "
        "lower population.size, the degree or the number of steps",
    )
