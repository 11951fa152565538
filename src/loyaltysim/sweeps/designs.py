"""Experimental designs: which parameter points a sweep runs.

A full factorial grid is built here; every sampling design comes from SALib's samplers (Latin hypercube,
Saltelli's scheme for Sobol indices, Morris trajectories), never re-implemented, so the points can be handed back to
SALib's analysers in the same order. Each function returns a DataFrame with one row per point and one column per
parameter, in the order the analysers expect.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["grid", "latin", "morris", "problem", "saltelli"]


def problem(bounds: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """SALib's problem description for parameters with uniform ``(low, high)`` ranges."""
    return {
        "num_vars": len(bounds),
        "names": list(bounds),
        "bounds": [[float(lo), float(hi)] for lo, hi in bounds.values()],
    }


def grid(levels: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """Full factorial design: every combination of the levels, the last parameter varying fastest."""
    names = list(levels)
    rows = list(itertools.product(*(list(levels[n]) for n in names)))
    return pd.DataFrame(rows, columns=names)


def latin(bounds: Mapping[str, tuple[float, float]], samples: int, seed: int) -> pd.DataFrame:
    """Latin hypercube of ``samples`` points (SALib ``sample.latin``)."""
    from SALib.sample import latin as sampler

    x = sampler.sample(problem(bounds), samples, seed=seed)
    return pd.DataFrame(x, columns=list(bounds))


def saltelli(bounds: Mapping[str, tuple[float, float]], samples: int, second_order: bool, seed: int) -> pd.DataFrame:
    """Saltelli's sampling scheme for Sobol indices (SALib ``sample.sobol``).

    Makes ``samples * (D + 2)`` points, or ``samples * (2 D + 2)`` with second-order indices; ``samples`` must be a
    power of two.
    """
    from SALib.sample import sobol as sampler

    x = sampler.sample(problem(bounds), samples, calc_second_order=second_order, scramble=True, seed=seed)
    return pd.DataFrame(x, columns=list(bounds))


def morris(bounds: Mapping[str, tuple[float, float]], trajectories: int, num_levels: int, seed: int) -> pd.DataFrame:
    """Morris elementary-effects trajectories (SALib ``sample.morris``): ``trajectories * (D + 1)`` points."""
    from SALib.sample import morris as sampler

    x = sampler.sample(problem(bounds), trajectories, num_levels=num_levels, seed=seed)
    return pd.DataFrame(x, columns=list(bounds))
