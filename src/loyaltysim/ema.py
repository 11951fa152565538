"""EMA Workbench interop: the loyalty model as an EMA Workbench `Model`, so EMA's own toolbox works on it.

`model` turns a scenario into an ``ema_workbench.Model`` whose levers, uncertainties and outcomes come from this
project's declarations: a lever or an uncertainty is a dotted scenario key whose range defaults to the limits the
scenario declares for it (`loyaltysim.scenario.key_bounds`), the default uncertainties are the assumptions a
comparison's tornado moves (`loyaltysim.comparisons.tornado.ranges`), and an outcome is a metric of
`loyaltysim.runs.metrics.METRICS` read at a month, with the direction EMA's optimisers need. A researcher can then
use EMA's samplers, robust optimisation, PRIM, CART and feature scoring directly. EMA Workbench is the optional extra
``loyaltysim[ema]``.

May import: `loyaltysim.runs`, `loyaltysim.comparisons`, `loyaltysim.scenario`, `loyaltysim.errors`; EMA Workbench.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.comparisons.tornado import ranges
from loyaltysim.errors import InputError
from loyaltysim.runs.metrics import (
    BETTER,
    METRICS,
    RELATIVE_METRICS,
    check_metrics,
    checkpoint_step,
    run_metrics,
    series_steps,
    step_to_month,
)
from loyaltysim.runs.optional import ema_workbench
from loyaltysim.scenario import Scenario, key_bounds, load_scenario

__all__ = ["DEFAULT_OUTCOMES", "LEVER_ATTRIBUTES", "Simulation", "model", "name_of"]

DEFAULT_OUTCOMES = ("retention", "active", "profit", "nps")
"""Outcomes of the EMA model unless others are named."""

LEVER_ATTRIBUTES = ("effort", "empathy", "personalization", "fulfilment")
"""The CX attributes of every touchpoint that are the default levers (over their declared limits, 0 to 1)."""


@dataclass(frozen=True)
class Simulation:
    """The function EMA calls: a scenario's keys set from EMA's values, run, its outcomes read at one month.

    Picklable, so EMA's multiprocessing evaluator can send it to its workers (start them with *spawn*: GNU OpenMP,
    which numba may use, is not fork-safe).

    Attributes
    ----------
    base : Scenario
    outcomes : tuple of str
        Metrics read at ``month``.
    month : float
        Checkpoint month.
    replications : int
        Runs per experiment, seeds ``seed`` .. ``seed + replications - 1`` (the same for every experiment: common
        random numbers); outcomes are their means.
    seed : int
    series : tuple of str
        Metrics also returned as monthly series (EMA ``ArrayOutcome`` named ``<metric>_series``), month 0 to the
        horizon (`loyaltysim.runs.metrics.series_steps`).
    """

    base: Scenario
    outcomes: tuple[str, ...]
    month: float
    replications: int = 1
    seed: int = 0
    series: tuple[str, ...] = ()

    def __call__(self, **values: Any) -> dict[str, Any]:
        """Run one EMA experiment: ``values`` by dotted key; returns every outcome by name."""
        from loyaltysim.runs.simulate import simulate

        spec = self.base.with_overrides(values)
        steps = [checkpoint_step(spec, self.month, "month")]
        if self.series:
            steps += [k for _, k in series_steps(spec, 1.0)]
        runs = [
            run_metrics(simulate(spec, seed=self.seed + r).timeseries, spec, *steps) for r in range(self.replications)
        ]
        out: dict[str, Any] = {m: float(np.mean([run[0][m] for run in runs])) for m in self.outcomes}
        for m in self.series:
            out[f"{m}_series"] = np.mean([[at[m] for at in run[1:]] for run in runs], axis=0)
        return out


def model(
    scenario: Scenario | str | Path,
    *,
    levers: Iterable[str] | Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Iterable[str] | Mapping[str, tuple[float, float]] | None = None,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    month: float | None = None,
    replications: int = 1,
    seed: int = 0,
    series: Sequence[str] = (),
    name: str = "loyaltysim",
) -> Any:
    """An EMA Workbench ``Model`` of a scenario.

    Parameters
    ----------
    scenario
        A `Scenario` or a scenario file.
    levers
        Dotted keys a decision maker sets, each over the limits the scenario declares for it, or a mapping of key to
        (low, high). Default: the CX attributes (`LEVER_ATTRIBUTES`) of every touchpoint, 0 to 1.
    uncertainties
        Dotted keys (over their declared limits) or a mapping of key to (low, high). Default: the assumptions a
        comparison's tornado moves, each from 0.5 to 1.5 times its value in the scenario within its limits (an
        assumption the scenario sets to 0 has no such range and is left out).
    outcomes
        Metrics (`loyaltysim.runs.metrics.METRICS`, all but the ones relative to a baseline) read at ``month``;
        a metric declared better higher or lower (`loyaltysim.runs.metrics.BETTER`) is maximised or minimised by
        EMA's optimisers, any other is for information.
    month
        Checkpoint month of the outcomes (default: the horizon).
    replications
        Runs per experiment with seeds ``seed`` .. ``seed + replications - 1``, the same in every experiment (common
        random numbers); outcomes are their means.
    seed
        Seed of the first replication.
    series
        Metrics also returned month by month as ``<metric>_series`` (EMA ``ArrayOutcome``).
    name
        The EMA model's name (letters, digits and underscores).

    Returns
    -------
    ema_workbench.Model
        (typed ``Any``: EMA Workbench is an optional dependency). Its parameters are named by `name_of`
        (``touchpoints__phone_support__effort``): EMA Workbench 3 wants Python identifiers.

    Raises
    ------
    InputError
        A key the scenario does not have or cannot vary over a range, a range outside the declared limits, a key
        that is both lever and uncertainty, an unknown metric, a month beyond the horizon, EMA Workbench missing.
    """
    ema = ema_workbench()
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    label = base.source or "ema.model"
    data = base.model_dump(mode="json")
    if levers is None:
        levers = [f"touchpoints.{tp}.{attr}" for tp in base.touchpoints for attr in LEVER_ATTRIBUTES]
    lever_ranges = _ranges(data, levers, label, "levers")
    if uncertainties is None:  # the tornado's ranges, less those of assumptions at 0 (no width)
        uncertainties = {k: (lo, hi) for k, (lo, hi) in ranges(base).items() if lo < hi}
    uncertain = _ranges(data, uncertainties, label, "uncertainties")
    both = sorted(set(lever_ranges) & set(uncertain))
    if both:
        raise InputError(label, "levers", ", ".join(both), "keys that are not uncertainties too (name each once)")
    allowed = [m for m in METRICS if m not in RELATIVE_METRICS]
    chosen = list(outcomes)
    check_metrics(chosen, allowed, "outcomes", label)
    check_metrics(list(series), allowed, "series", label)
    horizon = step_to_month(base.n_steps, base.time.step_days)
    month = horizon if month is None else float(month)
    checkpoint_step(base, month, label)
    if replications < 1:
        raise InputError(label, "replications", str(replications), "a whole number of at least 1")
    function = Simulation(base, tuple(chosen), month, int(replications), int(seed), tuple(series))
    m = ema.Model(name, function=function)
    m.levers = [ema.RealParameter(name_of(k), lo, hi, variable_name=k) for k, (lo, hi) in lever_ranges.items()]
    m.uncertainties = [ema.RealParameter(name_of(k), lo, hi, variable_name=k) for k, (lo, hi) in uncertain.items()]
    m.outcomes = [ema.ScalarOutcome(o, kind=_kind(ema, o)) for o in chosen]
    m.outcomes += [ema.ArrayOutcome(f"{s}_series") for s in series]
    return m


def name_of(key: str) -> str:
    """EMA's name of a dotted scenario key: dots become double underscores (EMA 3 wants Python identifiers).

    ``touchpoints.phone_support.effort`` is the column ``touchpoints__phone_support__effort`` of EMA's experiments;
    the model's function still receives the dotted key.
    """
    return key.replace(".", "__")


def _kind(ema, metric: str):
    """EMA's direction of an outcome from the metric's declaration (`loyaltysim.runs.metrics.BETTER`)."""
    better = BETTER.get(metric)
    if better == "higher":
        return ema.ScalarOutcome.MAXIMIZE
    if better == "lower":
        return ema.ScalarOutcome.MINIMIZE
    return ema.ScalarOutcome.INFO


def _ranges(
    data: Mapping[str, Any], keys: Iterable[str] | Mapping[str, tuple[float, float]], label: str, where: str
) -> dict[str, tuple[float, float]]:
    """Range of each real-valued key: given, or the scenario's declared limits; checked against those limits."""
    given = dict(keys) if isinstance(keys, Mapping) else dict.fromkeys(keys)
    if not given:
        raise InputError(label, where, "[]", "at least one dotted scenario key")
    out = {}
    for key, rng in given.items():
        lo_limit, hi_limit = key_bounds(data, key, label)
        if rng is None:
            lo, hi = lo_limit, hi_limit
            if not np.isfinite([lo, hi]).all():
                raise InputError(
                    label, f"{where}.{key}", None, f"a (low, high) range: its declared limits {lo:g} .. {hi:g} are open"
                )
        else:
            try:
                lo, hi = (float(x) for x in rng)
            except (TypeError, ValueError):
                raise InputError(label, f"{where}.{key}", repr(rng), "a (low, high) pair of numbers") from None
        if not (lo_limit <= lo < hi <= hi_limit and np.isfinite([lo, hi]).all()):
            raise InputError(
                label, f"{where}.{key}", f"({lo:g}, {hi:g})", f"low < high within {lo_limit:g} .. {hi_limit:g}"
            )
        out[key] = (lo, hi)
    return out
