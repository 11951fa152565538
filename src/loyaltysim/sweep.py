"""Sweeps: an experiment file becomes a design of parameter points, runs, and a tidy, resumable dataset.

The data flow: `load_experiment` validates a TOML experiment file (pydantic, one-line `ScenarioError`s like scenario
files); `plan` expands its design (`loyaltysim.designs`) into parameter points, checks every point against the
scenario's own declarations (`Scenario.with_overrides`) and pairs each point with the replication seeds of
`loyaltysim.execution.replication_seeds`, the one seeding mechanism comparisons use too; `sweep` runs the tasks on
an executor (serial, local processes or Dask) and returns `SweepResults`.

A result directory says exactly how it was made and can be resumed::

    DIR/manifest.json      experiment hash, status, counts, the validated experiment and base scenario
    DIR/experiment.toml    the experiment file as written
    DIR/design.parquet     the expanded design (also design.csv): one row per point
    DIR/parts/part-*.parquet  finished runs, written atomically as they finish
    DIR/results.parquet    every run, sorted, once the sweep is complete

Rows are tidy: one per point x replication x checkpoint, with the point, the replication, the seed, every varied
parameter, the checkpoint month and step, and one column per recorded metric.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import math
import operator
import re
import sys
import time
import tomllib
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from loyaltysim import designs
from loyaltysim.errors import ScenarioError, first_error
from loyaltysim.execution import Task, make_executor, replication_seeds, run_task
from loyaltysim.outputs import COLUMNS, FLOWS, at_checkpoint
from loyaltysim.results import atomic_write
from loyaltysim.scenario import MONTH_DAYS, Scenario, load_scenario

__all__ = [
    "METRICS",
    "Design",
    "Experiment",
    "ParameterSpec",
    "SweepPlan",
    "SweepResults",
    "load_experiment",
    "plan",
    "run_sweep_task",
    "sweep",
]


def _metrics() -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for name, (unit, meaning) in COLUMNS.items():
        if name in ("step", "day"):
            continue
        if name in FLOWS:
            out[name] = (unit, f"Total from the start to the checkpoint. {meaning.replace('this step', '')}".strip())
        elif name == "ces":
            out[name] = (unit, "Mean Customer Effort Score of the interactions from the start to the checkpoint.")
        else:
            out[name] = (unit, f"At the checkpoint. {meaning}")
    out["retention"] = ("%", "Share of the starting customer base still a customer at the checkpoint.")
    out["adoption"] = ("fraction", "Share of the market that has ever been a customer (Bass F(t)).")
    return out


METRICS: dict[str, tuple[str, str]] = _metrics()
"""Metrics a sweep can record at its checkpoints: name -> (unit, meaning)."""


# ---------------------------------------------------------------------------------------------------------------
# The experiment file


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


Level = bool | int | float | str


class ParameterSpec(_Section):
    """One varied parameter: a dotted scenario key with levels (grid) or a range (every design)."""

    key: str | None = Field(None, description="Dotted scenario key; defaults to the parameter's name.")
    levels: list[Level] | None = Field(None, min_length=1, description="Values a grid takes, in order.")
    range: tuple[float, float] | None = Field(
        None, description="[low, high] for sampled designs, or a grid with `steps`."
    )
    steps: int | None = Field(None, ge=2, le=1000, description="Evenly spaced grid levels across `range`.")

    @model_validator(mode="after")
    def _one(self) -> ParameterSpec:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give exactly one of levels = [...] or range = [low, high]")
        if self.steps is not None and self.range is None:
            raise ValueError("steps goes with range = [low, high], not with levels")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        return self

    def grid_levels(self) -> list[Any]:
        """Return the levels this parameter takes in a grid."""
        if self.levels is not None:
            return list(self.levels)
        if self.steps is None:
            raise ValueError("a grid needs levels, or range with steps")
        return [float(x) for x in np.linspace(self.range[0], self.range[1], self.steps)]


class Design(_Section):
    """How parameter points are chosen."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = Field(
        "grid", description="Full grid, Latin hypercube, Saltelli (Sobol indices) or Morris trajectories."
    )
    samples: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="lhs: points; sobol: base samples N "
        "(a power of 2; N (D+2) points); morris: trajectories (N (D+1) points).",
    )
    second_order: bool = Field(False, description="sobol: also second-order indices (N (2D+2) points).")
    num_levels: int = Field(4, ge=2, le=100, description="morris: levels of the grid trajectories move on.")

    @model_validator(mode="after")
    def _samples(self) -> Design:
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"design kind '{self.kind}' needs samples = N")
        if self.kind == "grid" and self.samples is not None:
            raise ValueError("a grid takes no samples (its size is the product of the levels)")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol samples must be a power of 2 (Saltelli/Sobol' sequence), got {self.samples}")
        if self.kind == "morris" and self.num_levels % 2:
            raise ValueError(f"morris num_levels must be even, got {self.num_levels}")
        return self


class AnalysisSpec(_Section):
    """What `loyaltysim analyze` draws by default."""

    heatmap: tuple[str, str] | None = Field(None, description="Two parameters for grid heatmaps (x, y).")
    reference: dict[str, Level] | None = Field(
        None, description="The reference point (parameter values) for paired differences and the return on investment."
    )
    compare: Literal["bass", "sbg"] | None = Field(None, description="Closed-form curve to compare with.")


class Experiment(_Section):
    """A validated experiment: base scenario, varied parameters, design, replications, checkpoints, metrics."""

    name: str = Field("experiment", description="Short name, used for the default output directory.")
    description: str = ""
    scenario: str = Field(description="Base scenario file, relative to the experiment file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fixed scenario changes (dotted keys, like --set).")
    parameters: dict[str, ParameterSpec] = Field(min_length=1, description="Varied parameters by column name.")
    derived: dict[str, str] = Field(
        default_factory=dict,
        description="Dotted scenario keys computed from "
        "parameters by an arithmetic expression, e.g. a cost that grows with a lever.",
    )
    design: Design = Field(default_factory=Design)
    replications: int = Field(1, ge=1, le=100_000)
    seed: int = Field(0, ge=0, description="Seed of replication 0 and of the design's sampler.")
    independent_seeds: bool = Field(
        False,
        description="false: every point uses the same replication seeds "
        "(common random numbers); true: each point its own.",
    )
    checkpoints: list[float] | None = Field(
        None, min_length=1, description="Months at which metrics are recorded; default: the horizon."
    )
    metrics: list[str] = Field(default_factory=lambda: ["active", "retention", "revenue", "profit"], min_length=1)
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    source: str | None = Field(None, exclude=True)

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for m in value:
            if m not in METRICS:
                hint = difflib.get_close_matches(m, list(METRICS), n=1)
                more = f" (did you mean '{hint[0]}'?)" if hint else ""
                raise ValueError(f"unknown metric '{m}'{more}; allowed: {', '.join(METRICS)}")
        return value

    @field_validator("checkpoints")
    @classmethod
    def _positive(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(not (m >= 0 and math.isfinite(m)) for m in value):
            raise ValueError(f"checkpoints are months >= 0, got {value}")
        return sorted(set(value)) if value is not None else None

    @model_validator(mode="after")
    def _cross(self) -> Experiment:
        kind = self.design.kind
        for name, spec in self.parameters.items():
            if kind != "grid" and spec.range is None:
                raise ValueError(f"parameters.{name}: design '{kind}' samples ranges; give range = [low, high]")
            if kind == "grid" and spec.levels is None and spec.steps is None:
                raise ValueError(f"parameters.{name}: a grid needs levels = [...], or range with steps = n")
        for key, expr in self.derived.items():
            _compile(expr, set(self.parameters), f"derived.{key}")
        a = self.analysis
        for name in (*(a.heatmap or ()), *(a.reference or {})):
            if name not in self.parameters:
                raise ValueError(f"analysis: '{name}' is not a parameter; allowed: {', '.join(self.parameters)}")
        if a.reference is not None and not {"profit", "intervention_cost"} <= set(self.metrics):
            raise ValueError(
                "analysis.reference: the return on investment needs metrics 'profit' and 'intervention_cost'"
            )
        return self

    def key(self, name: str) -> str:
        """Dotted scenario key of a parameter."""
        return self.parameters[name].key or name

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Ranges of the parameters (sampled designs)."""
        return {n: tuple(p.range) for n, p in self.parameters.items() if p.range is not None}


_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCS = {"min": min, "max": max, "abs": abs}


def _compile(expr: str, names: set[str], where: str) -> ast.Expression:
    """Parse an arithmetic expression over parameter names; anything else is an error."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ValueError(f"{where}: '{expr}' is not an arithmetic expression") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in names and node.id not in _FUNCS:
            raise ValueError(f"{where}: '{node.id}' is not a parameter; allowed: {', '.join(sorted(names))}")
        ok = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load, ast.Call, *_OPS)
        if not isinstance(node, ok) or (isinstance(node, ast.Constant) and not isinstance(node.value, int | float)):
            raise ValueError(f"{where}: '{expr}' may use numbers, parameter names, + - * / **, min, max, abs")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCS):
            raise ValueError(f"{where}: only min, max and abs may be called")
    return tree


def _evaluate(node: ast.AST, values: Mapping[str, Any]) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _OPS[type(node.op)](_evaluate(node.left, values), _evaluate(node.right, values))
    if isinstance(node, ast.UnaryOp):
        return _OPS[type(node.op)](_evaluate(node.operand, values))
    return _FUNCS[node.func.id](*(_evaluate(a, values) for a in node.args))


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key != "set":
            out[key] = _deep_merge(out[key], value)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def load_experiment(path: str | Path, quick: bool = False) -> Experiment:
    """Read and validate an experiment file.

    Parameters
    ----------
    path
        TOML experiment file (see ``docs/experiments.md``).
    quick
        Apply the file's ``[quick]`` table (merged over the file): a small form of the experiment for tests and
        a first look, e.g. a smaller population, fewer samples, one replication.

    Raises
    ------
    ScenarioError
        With a one-line message naming the file, the key, the value and what is allowed.
    """
    path = Path(path)
    label = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(label, None, None, "experiment file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(label, None, None, f"cannot read file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(label, None, None, f"not valid TOML: {exc}") from None
    quick_table = data.pop("quick", {})
    if not isinstance(quick_table, dict):
        raise ScenarioError(label, "quick", repr(quick_table), "a table of experiment keys to change")
    full = _validate(data, label, "")
    small = _validate(_deep_merge(data, quick_table), label, "quick.")  # a bad [quick] table fails either way
    exp = small if quick else full
    exp.source = str(path.resolve())
    return exp


def _validate(data: Mapping[str, Any], label: str, prefix: str) -> Experiment:
    try:
        return Experiment.model_validate(dict(data))
    except ValidationError as exc:
        err = first_error(exc)
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union"))]
        loc = [p for p in loc if p not in ("bool", "int", "float", "str")]  # union branches of a level
        key = prefix + ".".join(loc) if loc else None
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = _allowed(loc[:-1])
            hint = difflib.get_close_matches(loc[-1], allowed, n=1)
            more = f"; did you mean '{hint[0]}'?" if hint else ""
            raise ScenarioError(
                label, key, _short(value), f"unknown key; allowed here: {', '.join(allowed)}{more}"
            ) from None
        if err["type"] == "missing":
            raise ScenarioError(label, key, None, "this key is required") from None
        msg = err["msg"].removeprefix("Value error, ")
        named = re.match(r"^([A-Za-z_][\w.]*): (.+)$", msg) if not loc else None
        if named:  # a rule across keys names its key first
            key, msg, value = prefix + named[1], named[2], None
        shown = _short(value) if key and value is not None else None
        raise ScenarioError(label, key, shown, msg[0].lower() + msg[1:]) from None


def _allowed(loc: list[str]) -> list[str]:
    model: type[BaseModel] = Experiment
    for part in loc:
        f = model.model_fields.get(part)
        if f is None:
            continue  # a parameter's name
        sub = next(
            (
                a
                for a in (f.annotation, *getattr(f.annotation, "__args__", ()))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if sub is None:
            for arg in getattr(f.annotation, "__args__", ()):
                sub = next(
                    (a for a in getattr(arg, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)), sub
                )
        if sub is None:
            return []
        model = sub
    return [k for k in model.model_fields if k != "source"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------------------------------------------
# Expanding the design


@dataclass(frozen=True)
class SweepTask:
    """One run of a sweep: the `Task` (scenario, seed, labels) and what to record from it."""

    task: Task
    checkpoints: tuple[float, ...] | None
    metrics: tuple[str, ...]

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
                yield SweepTask(Task(scenario, seed, labels), checkpoints, tuple(exp.metrics))

    def fingerprint(self) -> str:
        """Hash of what determines the results: the validated experiment and the base scenario."""
        text = json.dumps(
            {"experiment": self.experiment.model_dump(mode="json"), "scenario": self.base.model_dump(mode="json")},
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


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
        tree = _compile(expr, set(exp.parameters), f"derived.{key}")
        design[key] = [float(_evaluate(tree, row)) for row in design[list(exp.parameters)].to_dict("records")]
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
        horizon = s.n_steps * s.time.step_days / MONTH_DAYS
        late = [m for m in exp.checkpoints if round(m * MONTH_DAYS / s.time.step_days) > s.n_steps]
        if late:
            raise ScenarioError(label, "checkpoints", repr(late), f"months within the horizon (0 .. {horizon:.4g})")


# ---------------------------------------------------------------------------------------------------------------
# Running one task (in a worker)


def run_sweep_task(item: SweepTask) -> pd.DataFrame:
    """Run one sweep task and return its rows: one per checkpoint, labels, seed and metrics as columns."""
    ts = run_task(item.task)
    return checkpoint_rows(ts, item.task.scenario, item.checkpoints, item.metrics, len(item.task.labels) + 1)


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
    days = scenario.time.step_days
    months = list(checkpoints) if checkpoints is not None else [scenario.n_steps * days / MONTH_DAYS]
    steps = [min(scenario.n_steps, round(m * MONTH_DAYS / days)) for m in months]
    labels = ts.iloc[0, :n_labels].to_dict()
    series = {name: ts[name].to_numpy() for name in COLUMNS}
    size = scenario.population.size
    rows = []
    for month, k in zip(months, steps, strict=True):
        at = at_checkpoint(series, k)
        at["adoption"] = (at["active"] + at["churned"]) / size
        rows.append({**labels, "month": float(month), "step": int(k), **{m: float(at[m]) for m in metrics}})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# The result directory


class _Store:
    """Finished runs as Parquet part files in ``DIR/parts``, each written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.parts = directory / "parts"
        self._buffer: list[pd.DataFrame] = []

    def prepare(self) -> None:
        self.parts.mkdir(parents=True, exist_ok=True)
        for stale in self.parts.glob(".part-*"):  # temporary files of an interrupted write
            stale.unlink(missing_ok=True)

    def finished(self) -> set[tuple[int, int]]:
        """(point, replication) of every run on disk; an unreadable part is set aside and its runs redone."""
        done: set[tuple[int, int]] = set()
        for part in sorted(self.parts.glob("part-*.parquet")):
            try:
                ids = pd.read_parquet(part, columns=["point", "replication"])
            except Exception:  # any damage means: run these tasks again
                part.rename(part.with_name(part.name + ".corrupt"))
                continue
            done.update(zip(ids["point"].tolist(), ids["replication"].tolist(), strict=True))
        return done

    def add(self, rows: pd.DataFrame) -> None:
        self._buffer.append(rows)

    def flush(self) -> None:
        if not self._buffer:
            return
        df = pd.concat(self._buffer, ignore_index=True)
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        atomic_write(self.parts / name, lambda p: df.to_parquet(p, index=False))
        self._buffer.clear()

    def read(self) -> pd.DataFrame:
        files = sorted(self.parts.glob("part-*.parquet"))
        if not files:
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        return _tidy(df)


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    if df.empty:
        return df
    df = df.drop_duplicates(subset=["point", "replication", "month"], keep="last")
    return df.sort_values(["point", "replication", "month"], kind="stable").reset_index(drop=True)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    text = json.dumps(data, indent=2, default=str) + "\n"
    atomic_write(path, lambda p: Path(p).write_text(text, encoding="utf-8"))


def _open_directory(directory: Path, sp: SweepPlan) -> dict[str, Any]:
    """Create the result directory, or check that an existing one holds this very experiment."""
    manifest_path = directory / "manifest.json"
    digest = sp.fingerprint()
    if manifest_path.exists():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ScenarioError(
                str(manifest_path), None, None, "unreadable manifest; use a new --out directory"
            ) from None
        if old.get("hash") != digest:
            raise ScenarioError(
                str(manifest_path),
                "hash",
                old.get("hash"),
                f"this directory holds results of a different experiment; "
                f"{sp.experiment.source or 'the experiment'} now hashes to {digest} (it or its "
                f"scenario changed): use a new --out directory, or delete this one to start over",
            )
        _write_copies(directory, sp)
        return old
    if directory.exists() and any(directory.iterdir()):
        raise ScenarioError(
            str(directory),
            None,
            None,
            "exists and is not a sweep result directory; choose an empty or new --out directory",
        )
    directory.mkdir(parents=True, exist_ok=True)
    from loyaltysim import __version__

    exp = sp.experiment
    manifest = {
        "name": exp.name,
        "hash": digest,
        "status": "running",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "loyaltysim": __version__,
        "experiment_file": exp.source,
        "points": len(sp.design),
        "replications": exp.replications,
        "tasks": sp.n_tasks,
        "seeds": sp.seeds if not exp.independent_seeds else "per point: see the seed column of the results",
        "experiment": exp.model_dump(mode="json"),
        "scenario": sp.base.model_dump(mode="json"),
    }
    _write_json(manifest_path, manifest)
    _write_copies(directory, sp)
    return manifest


def _write_copies(directory: Path, sp: SweepPlan) -> None:
    """Write the experiment file as written and the expanded design, unless a first attempt already did."""
    if sp.experiment.source and not (directory / "experiment.toml").exists():
        text = Path(sp.experiment.source).read_text(encoding="utf-8")
        atomic_write(directory / "experiment.toml", lambda p: Path(p).write_text(text, encoding="utf-8"))
    if not (directory / "design.parquet").exists():
        atomic_write(directory / "design.parquet", lambda p: sp.design.to_parquet(p, index=False))
        atomic_write(directory / "design.csv", lambda p: sp.design.to_csv(p, index=False))


# ---------------------------------------------------------------------------------------------------------------
# Results


@dataclass
class SweepResults:
    """Outcome of a sweep: the tidy table of runs and the design that produced it.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per point x replication x checkpoint: ``point``, ``replication``, every parameter (and derived
        key), ``seed``, ``month``, ``step`` and one column per metric.
    design : pandas.DataFrame
        One row per point.
    experiment : Experiment
    scenario : Scenario
        The base scenario (with the experiment's fixed changes).
    directory : pathlib.Path or None
    info : dict
        Run facts: tasks run, tasks resumed, wall time, executor.
    """

    frame: pd.DataFrame
    design: pd.DataFrame
    experiment: Experiment
    scenario: Scenario
    directory: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: str | Path) -> SweepResults:
        """Read a result directory written by `sweep` (complete or not)."""
        directory = Path(directory)
        manifest_path = directory / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ScenarioError(str(directory), None, None, "not a sweep result directory (no manifest.json)") from None
        except (OSError, ValueError) as exc:
            raise ScenarioError(str(manifest_path), None, None, f"unreadable manifest: {exc}") from None
        exp = Experiment.model_validate(manifest["experiment"])
        exp.source = manifest.get("experiment_file")
        scenario = Scenario.model_validate(manifest["scenario"])
        final = directory / "results.parquet"
        frame = _tidy(pd.read_parquet(final)) if final.exists() else _Store(directory).read()
        design = pd.read_parquet(directory / "design.parquet")
        info = {k: manifest.get(k) for k in ("status", "tasks", "hash", "created")}
        return cls(frame, design, exp, scenario, directory, info)

    @property
    def parameters(self) -> list[str]:
        """Names of the varied parameters."""
        return list(self.experiment.parameters)

    @property
    def complete(self) -> bool:
        """Whether every point x replication has its rows."""
        if self.frame.empty:
            return False
        runs = self.frame[["point", "replication"]].drop_duplicates()
        return len(runs) == len(self.design) * self.experiment.replications

    def to_frame(self) -> pd.DataFrame:
        """Return the tidy table (a copy)."""
        return self.frame.copy()

    def month(self, month: float | None = None) -> float:
        """Return the checkpoint nearest ``month`` (default: the last)."""
        months = np.sort(self.frame["month"].unique())
        if month is None:
            return float(months[-1])
        return float(months[np.argmin(np.abs(months - month))])

    def point_means(self, metric: str, month: float | None = None) -> pd.DataFrame:
        """Per point at one checkpoint: parameters, mean over replications, its standard error and count."""
        at = self.frame[self.frame["month"] == self.month(month)]
        g = at.groupby("point")[metric]
        stats = pd.DataFrame({"mean": g.mean(), "sem": g.sem(), "n": g.count()})
        return self.design.set_index("point").join(stats, how="inner").reset_index()

    def plot(self, metric: str | None = None, ax=None, month: float | None = None):
        """Draw a grid's heatmap over two parameters, else the metric against the first parameter.

        Parameters
        ----------
        metric
            Metric to show (default: the experiment's first).
        ax
            Matplotlib axes (None: a new figure).
        month
            Checkpoint (default: the last).

        Returns
        -------
        matplotlib.axes.Axes
        """
        from loyaltysim import analysis

        metric = metric or self.experiment.metrics[0]
        names = self.parameters
        if self.experiment.design.kind == "grid" and len(names) >= 2:
            x, y = self.experiment.analysis.heatmap or (names[0], names[1])
            return analysis.heatmap(self, metric, x, y, month=month, ax=ax)
        return analysis.scatter(self, metric, names[0], month=month, ax=ax)


# ---------------------------------------------------------------------------------------------------------------
# Running a sweep


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
    started = time.perf_counter()
    store = _Store(Path(out)) if out is not None else None
    done: set[tuple[int, int]] = set()
    frames: list[pd.DataFrame] = []
    if store is not None:
        manifest = _open_directory(store.directory, sp)
        store.prepare()
        done = store.finished()
    todo = list(sp.tasks(skip=done))
    resumed = sp.n_tasks - len(todo)
    bar = _progress(sp, resumed, progress)
    ex = executor if executor is not None else make_executor(jobs, scheduler)
    last = time.monotonic()
    try:
        with ex:
            for _item, rows in ex.map_unordered(run_sweep_task, todo):
                if store is None:
                    frames.append(rows)
                else:
                    store.add(rows)
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
        frame = _tidy(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
        return SweepResults(frame, sp.design, sp.experiment, sp.base, None, info)
    frame = store.read()
    atomic_write(store.directory / "results.parquet", lambda p: frame.to_parquet(p, index=False))
    manifest.update(status="complete", completed=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    _write_json(store.directory / "manifest.json", manifest)
    return SweepResults(frame, sp.design, sp.experiment, sp.base, store.directory, info)


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
    """``results/sweeps/<name>``: where the CLI writes when no ``--out`` is given."""
    return Path("results") / "sweeps" / experiment.name
