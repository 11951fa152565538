"""`compare`: load and check the scenarios, run every replication, read the metrics at the checkpoints.

The first scenario is the baseline, the others are variants (levers a strategist might pull). Every scenario is
run ``replications`` times through `loyaltysim.runs.executors` (the same `Task` / `run_task` / executor machinery
the sweeps use).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.comparisons.comparison import Comparison, cube
from loyaltysim.comparisons.tornado import ranges, tornado_frame
from loyaltysim.engine.layout import COLUMNS
from loyaltysim.errors import ScenarioError, check_int, warn
from loyaltysim.runs.executors import Task, make_executor, replication_seeds, run_task
from loyaltysim.runs.metrics import (
    COMPARISON_METRICS,
    DEFAULT_CHECKPOINTS,
    DISCOUNT_RATE,
    HORIZON_MONTHS,
    PRACTICAL,
    RELATIVE_METRICS,
    TORNADO_REPLICATIONS,
    at_checkpoint,
    break_even,
    checkpoint_steps,
    monthly_discount,
    payback,
    roi,
)
from loyaltysim.runs.posterior import Posterior, load_posterior, moved_value
from loyaltysim.runs.statistics import LEVEL
from loyaltysim.scenario import MONTH_DAYS, Scenario, dotted_values, load_scenario

__all__ = ["DEFAULT_CHECKPOINTS", "HORIZON_MONTHS", "compare"]


def _window_metrics(
    c: Mapping[str, np.ndarray], k: int, months: float, size: int, discount: float
) -> dict[str, np.ndarray]:
    """Metrics of every (scenario, replication) at step ``k`` from arrays shaped (scenarios, replications, steps)."""
    out = at_checkpoint(c, k, months, size, discount)
    out["roi"] = roi(out["profit"], out["intervention_cost"], out["profit"][:1], out["intervention_cost"][:1])
    out["payback"] = payback(c["profit"], c["profit"][:1], k, months)
    out["break_even"] = break_even(
        out["value"], out["intervention_value"], out["value"][:1], out["intervention_value"][:1]
    )
    for name in RELATIVE_METRICS:
        out[name][0] = np.nan
    return out


def _load(item: Scenario | str | Path, overrides: Mapping[str, Any], root: Path | None, label: str) -> Scenario:
    if isinstance(item, Scenario):
        return item.with_overrides(overrides, label) if overrides else item
    if not isinstance(item, str | Path):
        raise ScenarioError("compare", "scenarios", type(item).__name__, "scenario files or Scenario objects")
    return load_scenario(item, overrides, root=root, label=label)


def _market(s: Scenario) -> dict[str, Any]:
    """What two compared scenarios must share.

    The people, the horizon, the network, the journey's touchpoints and the personas: a lever changes how the market
    is served, not which market it is.
    """
    return {  # size, horizon and step length are checked first, with their own message
        "population": s.population.model_dump(),
        "network": s.network.model_dump(),
        "touchpoints": sorted(s.touchpoints),
        "personas": {name: (p.share, p.spend_per_month) for name, p in s.personas.items()},
    }


def _check_alike(scenarios: Sequence[Scenario], allow_different_markets: bool) -> None:
    base = scenarios[0]
    names = {base.name}
    reference = _market(base)
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
        other = _market(s)
        differ = [key for key in reference if reference[key] != other[key]]
        if differ and not allow_different_markets:
            raise ScenarioError(
                where,
                ", ".join(differ),
                None,
                f"the same as in the baseline {base.source or base.name}: a variant serves the same market "
                "differently; compare different markets only with --allow-different-markets "
                "(allow_different_markets=True)",
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
    horizon_months: float | None = HORIZON_MONTHS,
    discount_rate: float = DISCOUNT_RATE,
    level: float = LEVEL,
    progress: bool | None = None,
    allow_different_markets: bool = False,
    root: str | Path | None = None,
    overrides_label: str = "overrides",
    practical: float = PRACTICAL,
    tornado: bool = False,
    uncertain: Mapping[str, tuple[float, float]] | None = None,
    tornado_replications: int = TORNADO_REPLICATIONS,
    posterior: str | Path | Posterior | None = None,
) -> Comparison:
    """Run a baseline and its variants over replications and compare them.

    Parameters
    ----------
    scenarios
        Baseline first, then one or more variants: `Scenario` objects or scenario files (a list, not one
        file). They must share the market (population, horizon, step length, network, touchpoints, personas) and
        have distinct names.
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
    horizon_months
        How long every scenario runs, in months (rounded to whole steps; default three years); None: the
        scenarios' own ``time.horizon_days``.
    discount_rate
        Yearly discount rate of the CLV (greater than 0).
    level
        Confidence level of the intervals.
    progress
        Show a progress bar on stderr; None: only when stderr is a terminal.
    allow_different_markets
        Compare scenarios of different markets (e.g. a telecom and a retailer) all the same.
    root
        The folder scenario files may extend and read edge lists from (default: each file's own folder).
    overrides_label
        What errors call the overrides (the command line says ``--set``).
    practical
        The smallest difference that matters, as a share of the baseline's value (default 0.1 %): smaller
        differences are not marked, whatever their interval.
    tornado
        Also find what the verdict hinges on (`Comparison.tornado`): run the comparison again with each uncertain
        parameter at the low and the high end of its range (`loyaltysim.comparisons.tornado`).
    uncertain
        Ranges ``{dotted key: (low, high)}`` that replace or add to the tornado's defaults.
    tornado_replications
        Paired replications of each end of each range (the first ones of the comparison's seeds).
    posterior
        A calibration folder (`loyaltysim.calibration`), a posterior file, or a `Posterior`: each replication
        draws one parameter set from it, the same for every scenario (a key a variant changes itself keeps its
        change, moved by the same factor), so that the intervals cover parameter uncertainty as well as noise.
        The tornado then leaves out the posterior's keys (their uncertainty is in the intervals already).

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        A bad scenario file or override, scenarios that cannot be compared, or a bad argument.
    """
    if isinstance(scenarios, str | Path | Scenario) or not isinstance(scenarios, Sequence):
        raise ScenarioError(
            "compare", "scenarios", repr(scenarios)[:60], "a list of scenario files (baseline first), not one"
        )
    if len(scenarios) < 2:
        raise ScenarioError("compare", "scenarios", str(len(scenarios)), "a baseline and at least one variant")
    replications = check_int(replications, "replications", 1, "compare")
    jobs = check_int(jobs, "jobs", 1, "compare")
    seed = check_int(seed, "seed", 0, "compare")
    if not 0 < discount_rate <= 1:
        raise ScenarioError("compare", "discount_rate", f"{discount_rate:g}", "a yearly rate in (0, 1]")
    if isinstance(practical, bool) or not isinstance(practical, int | float) or not 0 <= practical < 1:
        raise ScenarioError("compare", "practical", repr(practical), "a share in [0, 1), e.g. 0.001")
    if not 0 < level < 1:
        raise ScenarioError("compare", "level", f"{level:g}", "a confidence level in (0, 1), e.g. 0.95")
    if horizon_months is not None and (
        isinstance(horizon_months, bool)
        or not isinstance(horizon_months, int | float)
        or not 0 < horizon_months <= 1200
        or not math.isfinite(horizon_months)
    ):
        raise ScenarioError("compare", "horizon_months", repr(horizon_months), "months in (0, 1200], e.g. 36")
    specs = [_load(s, overrides or {}, Path(root) if root is not None else None, overrides_label) for s in scenarios]
    if horizon_months is not None:
        specs = [_with_horizon(s, float(horizon_months)) for s in specs]
    _check_alike(specs, allow_different_markets)
    marks = checkpoint_steps(specs[0], checkpoints, "compare")
    post = None if posterior is None else posterior if isinstance(posterior, Posterior) else load_posterior(posterior)
    draws = None if post is None else post.draws(int(replications), int(seed))
    pinned = sorted(set(overrides or {}) & set(post.keys)) if post is not None else []
    if pinned:  # what the user sets wins over the posterior's draws of it
        warn(
            f"--posterior {post.source}: {', '.join(pinned)} set by {overrides_label}: those values are used, not "
            "the posterior's draws of them"
        )
        draws = [{k: v for k, v in d.items() if k not in pinned} for d in draws]
    if post is not None:
        post.check_fixed(dotted_values(specs[0].model_dump()), f"--posterior {post.source}")
        _per_replication(specs, draws[:1], f"--posterior {post.source}")  # a key they lack fails before any run
    runs = _run_all(specs, int(replications), int(seed), independent, int(jobs), progress, draws)
    replicates = _replicate_metrics(specs, int(replications), runs, marks, discount_rate)
    comparison = Comparison(
        specs, int(replications), int(seed), independent, marks, runs, replicates, discount_rate, level, practical
    )
    if post is not None:
        comparison.posterior = post.source or "a posterior"
        comparison.draws = pd.DataFrame(draws).rename_axis("replication")
    if tornado:
        n = min(check_int(tornado_replications, "tornado_replications", 1, "compare"), int(replications))
        spans = ranges(specs[0], uncertain)
        if post is not None:
            spans = {k: v for k, v in spans.items() if k not in post.keys}

        def value_at(moved: list[Scenario]) -> np.ndarray:
            moved_runs = _run_all(moved, n, int(seed), independent, int(jobs), progress, draws)
            reps = _replicate_metrics(moved, n, moved_runs, marks[-1:], discount_rate)
            return reps["value"].to_numpy(dtype=np.float64).reshape(len(moved), n)

        comparison.tornado = tornado_frame(specs, _central(comparison, n), value_at, spans)
        comparison.tornado_replications = n
    return comparison


def _central(c: Comparison, n: int) -> pd.DataFrame:
    """Each variant's mean value difference and extra discounted cost over the first ``n`` replications."""
    at = c.replicates[(c.replicates["step"] == c.checkpoints[-1][1]) & (c.replicates["replication"] < n)]
    value = at.pivot(index="replication", columns="scenario", values="value")
    cost = at.pivot(index="replication", columns="scenario", values="intervention_value")
    horizon = c.to_frame(["value"])
    horizon = horizon[horizon["month"] == c.horizon_month].set_index("scenario")
    answers = {
        s: "unclear" if not horizon.loc[s, "marked"] else ("pays" if horizon.loc[s, "diff"] > 0 else "loses money")
        for s in c.names[1:]
    }
    return pd.DataFrame(
        {
            "scenario": c.names[1:],
            "value": [float((value[s] - value[c.baseline]).mean()) for s in c.names[1:]],
            "cost": [float((cost[s] - cost[c.baseline]).mean()) for s in c.names[1:]],
            "answer": [answers[s] for s in c.names[1:]],
        }
    )


def _with_horizon(spec: Scenario, months: float) -> Scenario:
    """``spec`` run for ``months`` (whole steps, at least one)."""
    steps = max(1, round(months * MONTH_DAYS / spec.time.step_days))
    return spec.with_overrides({"time.horizon_days": steps * spec.time.step_days}, "horizon_months")


def _per_replication(specs: list[Scenario], draws: list[dict[str, float]], label: str) -> list[list[Scenario]]:
    """Each scenario at each drawn parameter set (``[replication][scenario]``), a variant's own changes kept."""
    base = dotted_values(specs[0].model_dump())
    own = [dotted_values(s.model_dump()) for s in specs]
    try:
        return [[s.with_overrides(_drawn(d, own[i], base), label) for i, s in enumerate(specs)] for d in draws]
    except KeyError as exc:
        raise ScenarioError(
            label, str(exc.args[0]), None, "the posterior's key is not a key of the compared scenarios"
        ) from None


def _drawn(draw: Mapping[str, float], own: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, float]:
    return {k: moved_value(float(own[k]), float(base[k]), float(x)) for k, x in draw.items()}


def _run_all(
    specs: list[Scenario],
    replications: int,
    seed: int,
    independent: bool,
    jobs: int,
    progress: bool | None,
    draws: list[dict[str, float]] | None = None,
) -> pd.DataFrame:
    from tqdm.auto import tqdm

    seeds = [replication_seeds(seed, replications, i, independent) for i in range(len(specs))]
    drawn = _per_replication(specs, draws[:replications], "posterior") if draws else None
    tasks = [
        Task(spec if drawn is None else drawn[r][i], seeds[i][r], {"scenario": spec.name, "replication": r})
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
