"""Expanding an experiment: its design into parameter points, and the runs.

Each point is checked against the scenario's declarations and paired with the replication seeds of
`loyaltysim.runs.executors.replication_seeds` (the one seeding mechanism comparisons use too).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.errors import ScenarioError
from loyaltysim.runs.executors import Task, replication_seeds
from loyaltysim.runs.metrics import checkpoint_step, step_to_month
from loyaltysim.runs.provenance import code_hash, file_hash
from loyaltysim.scenario import Scenario, load_scenario
from loyaltysim.sweeps import designs
from loyaltysim.sweeps.experiment import Experiment, SeriesSpec, load_experiment
from loyaltysim.sweeps.expressions import compile_expression, evaluate

__all__ = ["SweepPlan", "SweepTask", "plan"]


@dataclass(frozen=True)
class SweepTask:
    """One run of a sweep: the `Task` (scenario, seed, labels) and what to record from it."""

    task: Task
    checkpoints: tuple[float, ...] | None
    metrics: tuple[str, ...]
    series: SeriesSpec | None = None

    @property
    def id(self) -> tuple[int, int]:
        """(point, replication)."""
        return self.task.labels["point"], self.task.labels["replication"]


@dataclass
class SweepPlan:
    """An expanded experiment: the base scenario, the design (one row per point) and the runs.

    Attributes
    ----------
    experiment : Experiment
    base : Scenario
        The experiment's scenario with its fixed ``set`` changes.
    design : pandas.DataFrame
        Column ``point``, one column per parameter and per derived key.
    seeds : list of int
        Seeds of the replications (shared by every point unless ``independent_seeds``).
    """

    experiment: Experiment
    base: Scenario
    design: pd.DataFrame
    seeds: list[int]
    scenarios: list[Scenario] = field(repr=False)

    @property
    def n_tasks(self) -> int:
        """Number of runs (points x replications)."""
        return len(self.scenarios) * self.experiment.replications

    def tasks(self, skip: set[tuple[int, int]] | frozenset = frozenset()) -> Iterator[SweepTask]:
        """Yield the runs not in ``skip``, point by point."""
        exp = self.experiment
        names = [*exp.parameters, *exp.derived]
        checkpoints = tuple(exp.checkpoints) if exp.checkpoints is not None else None
        for i, scenario in enumerate(self.scenarios):
            row = self.design.iloc[i]
            seeds = replication_seeds(exp.seed, exp.replications, i, exp.independent_seeds)
            for r, seed in enumerate(seeds):
                if (i, r) in skip:
                    continue
                labels = {"point": i, "replication": r, **{n: _plain(row[n]) for n in names}}
                yield SweepTask(Task(scenario, seed, labels), checkpoints, tuple(exp.metrics), exp.series)

    def fingerprint(self) -> str:
        """Hash of what determines the results (`fingerprint_data`)."""
        text = json.dumps(self.fingerprint_data(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def fingerprint_data(self) -> dict[str, Any]:
        """What determines the results, as the fingerprint hashes it.

        The validated experiment without its replication count (replication ``r`` has the same seed whatever the
        count, so a finished sweep can be given more replications) and without an unset ``series`` (so sweeps
        written before series existed keep their hash), the base scenario, the package version, the model's source
        (`loyaltysim.runs.provenance.code_hash`) and the contents of every edge-list file the runs read.
        """
        from loyaltysim._version import __version__

        edges = sorted({s.network.path for s in self.scenarios if s.network.kind == "edge_list" and s.network.path})
        left_out = {"replications"} | ({"series"} if self.experiment.series is None else set())
        return {
            "experiment": self.experiment.model_dump(mode="json", exclude=left_out),
            "scenario": self.base.model_dump(mode="json"),
            "loyaltysim": __version__,
            "engine_source": code_hash(),
            "edge_lists": {path: file_hash(path) for path in edges},
        }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def plan(experiment: Experiment | str | Path, quick: bool = False) -> SweepPlan:
    """Expand an experiment's design and check every point against the scenario's declarations.

    Raises
    ------
    ScenarioError
        A parameter key that the scenario does not have, a level or range end outside the declared range, or a
        point that breaks a rule between parameters (e.g. weights that must sum to 1).
    """
    exp = experiment if isinstance(experiment, Experiment) else load_experiment(experiment, quick)
    label = exp.source or "<experiment>"
    scenario_path = Path(exp.source).parent / exp.scenario if exp.source else Path(exp.scenario)
    if not scenario_path.is_file():
        raise ScenarioError(label, "scenario", repr(exp.scenario), f"a scenario file ({scenario_path} not found)")
    try:
        base = load_scenario(scenario_path)
    except ScenarioError as exc:
        raise ScenarioError(label, "scenario", repr(exp.scenario), f"a valid scenario file; {exc}") from None
    try:
        base = base.with_overrides(exp.set)
    except ScenarioError as exc:
        raise ScenarioError(label, f"set.{exc.key}" if exc.key else "set", exc.value, exc.allowed) from None
    dump = base.model_dump(mode="json")
    for name in exp.parameters:
        _check_key(dump, exp.key(name), label, f"parameters.{name}")
        _check_values(base, exp, name, label)
    for key in exp.derived:
        _check_key(dump, key, label, f"derived.{key}")
    design = _expand(exp, dump)
    scenarios = _point_scenarios(base, exp, design, label)
    _check_checkpoints(exp, scenarios, label)
    _check_series(exp, scenarios, label)
    seeds = replication_seeds(exp.seed, exp.replications)
    return SweepPlan(exp, base, design, seeds, scenarios)


def _check_key(dump: Mapping[str, Any], key: str, label: str, where: str) -> None:
    node: Any = dump
    parts = key.split(".")
    for i, part in enumerate(parts):
        if node is None:
            return  # an optional table the base leaves unset (e.g. an intervention's effort change)
        if not isinstance(node, Mapping):
            raise ScenarioError(label, where, repr(key), f"'{'.'.join(parts[:i])}' has no sub-keys")
        if part not in node:
            allowed = sorted(node)
            hint = difflib.get_close_matches(part, allowed, n=1)
            more = f"; did you mean '{hint[0]}'?" if hint else ""
            head = ".".join(parts[:i]) or "the scenario"
            raise ScenarioError(label, where, repr(key), f"not a scenario key: {head} has {', '.join(allowed)}{more}")
        node = node[part]
    if isinstance(node, Mapping):
        raise ScenarioError(label, where, repr(key), f"a table, not a value; name one of its keys: {', '.join(node)}")


def _check_values(base: Scenario, exp: Experiment, name: str, label: str) -> None:
    spec = exp.parameters[name]
    values = spec.grid_levels() if spec.levels is not None or spec.steps else list(spec.range)
    where = f"parameters.{name}." + ("levels" if spec.levels is not None else "range")
    for v in values:
        try:
            base.with_overrides({exp.key(name): v})
        except ScenarioError as exc:
            raise ScenarioError(
                label, where, repr(v), f"{exc.key}: {exc.allowed}" if exc.key else exc.allowed
            ) from None


def _expand(exp: Experiment, dump: Mapping[str, Any]) -> pd.DataFrame:
    d = exp.design
    if d.kind == "grid":
        design = designs.grid({n: p.grid_levels() for n, p in exp.parameters.items()})
    elif d.kind == "lhs":
        design = designs.latin(exp.bounds, d.samples, exp.seed)
    elif d.kind == "sobol":
        design = designs.saltelli(exp.bounds, d.samples, d.second_order, exp.seed)
    else:
        design = designs.morris(exp.bounds, d.samples, d.num_levels, exp.seed)
    for name in exp.parameters:  # sampled values of an integer parameter are rounded
        if d.kind != "grid" and _is_int(dump, exp.key(name)):
            design[name] = design[name].round().astype(int)
    for key, expr in exp.derived.items():
        tree = compile_expression(expr, set(exp.parameters), f"derived.{key}")
        design[key] = [float(evaluate(tree, row)) for row in design[list(exp.parameters)].to_dict("records")]
    design.insert(0, "point", np.arange(len(design)))
    return design


def _is_int(dump: Mapping[str, Any], key: str) -> bool:
    node: Any = dump
    for part in key.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return isinstance(node, int) and not isinstance(node, bool)


def _point_scenarios(base: Scenario, exp: Experiment, design: pd.DataFrame, label: str) -> list[Scenario]:
    names = list(exp.parameters)
    out = []
    for row in design.to_dict("records"):
        overrides = {exp.key(n): _plain(row[n]) for n in names} | {k: _plain(row[k]) for k in exp.derived}
        try:
            out.append(base.with_overrides(overrides))
        except ScenarioError as exc:
            point = ", ".join(f"{n}={row[n]!r}" for n in names)
            raise ScenarioError(
                label,
                f"parameters (point {row['point']}: {point})",
                None,
                f"{exc.key} = {exc.value}: {exc.allowed}" if exc.key else exc.allowed,
            ) from None
    return out


def _check_checkpoints(exp: Experiment, scenarios: list[Scenario], label: str) -> None:
    if exp.checkpoints is None:
        return
    for s in {(sc.time.step_days, sc.n_steps): sc for sc in scenarios}.values():
        for m in exp.checkpoints:
            try:
                checkpoint_step(s, m, label)
            except ScenarioError as exc:
                raise ScenarioError(label, "checkpoints", repr(m), exc.allowed) from None


def _check_series(exp: Experiment, scenarios: list[Scenario], label: str) -> None:
    if exp.series is None:
        return
    horizon = min(step_to_month(s.n_steps, s.time.step_days) for s in scenarios)
    if exp.series.every > horizon:
        raise ScenarioError(
            label, "series.every", f"{exp.series.every:g}", f"months up to the horizon ({horizon:.4g} months)"
        )
