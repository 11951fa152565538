"""Parameter recovery: does a targets file identify its parameters? Fit targets the model made at known values.

For each truth (a parameter set), `synthetic_targets` simulates the scenario there: the observed values come from
one run, and each value's sd is the spread of that KPI over independent runs at the truth (the noise a firm's own
figure would carry if the model were right). `recovery` calibrates each synthetic file and reports, per parameter
and truth, whether the posterior's 90 % interval covers the truth and how much narrower than the prior it is.
A well-identified targets file covers the truth about 90 % of the time and narrows every parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from loyaltysim.calibration.simulate import Simulator
from loyaltysim.calibration.targets import Targets, load_targets, prior_bounds, statistic, to_toml
from loyaltysim.scenario import Scenario

__all__ = ["recovery", "synthetic_targets", "truths_from_priors"]

SD_FLOOR = 0.02
"""Smallest sd of a synthetic value, as a share of its absolute value (plus 0.01): a KPI that barely varies between
runs is not taken as known exactly."""


def truths_from_priors(targets: Targets, scenario: Scenario, n: int, seed: int, central: float = 0.6) -> list[dict]:
    """``n`` parameter sets drawn from the priors' central ``central`` mass (away from the edges), seeded."""
    rng = np.random.default_rng(seed)
    bounds = prior_bounds(scenario, targets)
    lo_q, hi_q = (1 - central) / 2, (1 + central) / 2
    out = []
    for _ in range(n):
        u = rng.uniform(lo_q, hi_q, size=len(targets.parameters))
        out.append(
            {
                k: float(p.distribution(bounds[k]).ppf(x))
                for (k, p), x in zip(targets.parameters.items(), u, strict=True)
            }
        )
    return out


def synthetic_targets(
    targets: Targets, fitted: Scenario, truth: Mapping[str, float], seed: int, replications: int = 8
) -> Targets:
    """``targets`` with every fitted value made by the model at ``truth``.

    The values come from one run (seed ``seed``), each sd from the spread over ``replications`` runs (seeds
    ``seed + 1`` on), floored by `SD_FLOOR`; held-out targets are dropped.
    """
    sim = Simulator(fitted, targets)
    observed = sim(truth, seed=seed)
    spread = pd.DataFrame([sim(truth, seed=seed + 1 + r) for r in range(replications)])
    data = targets.model_dump(exclude_unset=True)
    for name, t in data["targets"].items():
        keys = [statistic(name, m) for m in t["months"]]
        t["values"] = [float(observed[k]) for k in keys]
        t["sd"] = [float(max(np.nanstd(spread[k], ddof=1), SD_FLOOR * abs(observed[k]) + 0.01)) for k in keys]
    data["holdout"] = {}
    return Targets.model_validate(data)


def recovery(
    scenario: Scenario,
    targets: str | Path,
    truths: Sequence[Mapping[str, float]],
    out: str | Path,
    *,
    subsets: Mapping[str, Sequence[str]] | None = None,
    jobs: int = 1,
    seed: int = 9000,
) -> pd.DataFrame:
    """Calibrate synthetic targets made at each truth, for each subset of the targets; one row per parameter.

    Parameters
    ----------
    scenario
        The scenario calibrated.
    targets
        A targets file: its priors, KPIs, months and ABC settings are used; its observed values are replaced.
    truths
        Parameter sets (dotted keys of the targets file's parameters).
    out
        Folder for each calibration (``<subset>-<truth>``) and the synthetic targets files.
    subsets
        Named subsets of the target names to fit (default: all of them, as ``"all"``); the posterior should
        narrow as targets are added.
    jobs
        Processes per calibration.
    seed
        Seed of the synthetic observations (truth ``i`` uses ``seed + 100 i``).

    Returns
    -------
    pandas.DataFrame
        ``subset``, ``truth``, ``key``, ``value`` (the truth), ``median``, ``low``, ``high``, ``covered``,
        ``width`` and ``prior_width`` (of the 90 % intervals), ``narrowing``.
    """
    from loyaltysim.calibration.fit import calibrate

    base, fitted = load_targets(targets, scenario)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subsets = dict(subsets or {"all": list(base.targets)})
    rows = []
    for i, truth in enumerate(truths):
        made = synthetic_targets(base, fitted, truth, seed + 100 * i)
        for label, names in subsets.items():
            chosen = made.model_copy(update={"targets": {n: made.targets[n] for n in names}, "name": f"{label}-{i}"})
            path = out / f"{label}-{i}.toml"
            path.write_text(to_toml(chosen))
            cal = calibrate(scenario, path, out / f"{label}-{i}", jobs=jobs, force=True)
            for r in cal.to_frame().itertuples():
                value = float(truth[r.key])
                rows.append(
                    {
                        "subset": label,
                        "truth": i,
                        "key": r.key,
                        "value": value,
                        "median": r.median,
                        "low": r.low,
                        "high": r.high,
                        "covered": bool(r.low <= value <= r.high),
                        "width": r.high - r.low,
                        "prior_width": r.prior_high - r.prior_low,
                        "narrowing": r.narrowing,
                    }
                )
    return pd.DataFrame(rows)
