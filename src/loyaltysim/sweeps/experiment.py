"""Experiment files: a base scenario, varied parameters, a design, replications, checkpoints and metrics.

`load_experiment` validates a TOML experiment file (pydantic, one-line `ScenarioError`s like scenario files) and
applies its ``[quick]`` form on request. Expanding it into runs is `loyaltysim.sweeps.plan`'s job.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loyaltysim.errors import ScenarioError
from loyaltysim.runs.inputs import read_toml, validate_model
from loyaltysim.runs.metrics import METRICS, RELATIVE_METRICS
from loyaltysim.sweeps.expressions import compile_expression

__all__ = [
    "SWEEP_METRICS",
    "AnalysisSpec",
    "Design",
    "Experiment",
    "ParameterSpec",
    "SeriesSpec",
    "load_experiment",
]

SWEEP_METRICS = [name for name in METRICS if name not in RELATIVE_METRICS]
"""Metrics a sweep can record at its checkpoints (ROI is computed by the analysis, against a reference point)."""


# ---------------------------------------------------------------------------------------------------------------
# The experiment file


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


LevelValue = bool | int | float | str
"""A value a grid level or a reference point may take."""


class ParameterSpec(_Section):
    """One varied parameter: a dotted scenario key with levels (grid) or a range (every design)."""

    key: str | None = Field(None, description="Dotted scenario key; defaults to the parameter's name.")
    levels: list[LevelValue] | None = Field(None, min_length=1, description="Values a grid takes, in order.")
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


def _check_metrics(value: list[str]) -> list[str]:
    for m in value:
        if m not in SWEEP_METRICS:
            hint = difflib.get_close_matches(m, SWEEP_METRICS, n=1)
            more = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ValueError(f"unknown metric '{m}'{more}; allowed: {', '.join(SWEEP_METRICS)}")
    return value


class SeriesSpec(_Section):
    """Outcomes over time: metrics recorded every ``every`` months of every run, besides the checkpoints."""

    metrics: list[str] = Field(min_length=1, description="Metrics recorded over time (any checkpoint metric).")
    every: float = Field(
        1.0, gt=0, le=120, description="Months between two recorded values, from month 0 to the horizon."
    )

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _check_metrics(value)


class AnalysisSpec(_Section):
    """What `loyaltysim analyze` draws by default."""

    heatmap: tuple[str, str] | None = Field(None, description="Two parameters for grid heatmaps (x, y).")
    reference: dict[str, LevelValue] | None = Field(
        None,
        description="The reference point (parameter values) for paired differences, and for the return on "
        "investment when profit and intervention_cost are recorded.",
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
    series: SeriesSpec | None = Field(
        None, description="Outcomes over time: metrics recorded every few months of every run (series.parquet)."
    )
    analysis: AnalysisSpec = Field(default_factory=AnalysisSpec)
    source: str | None = Field(None, exclude=True)

    @field_validator("metrics")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return _check_metrics(value)

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
            compile_expression(expr, set(self.parameters), f"derived.{key}")
        a = self.analysis
        for name in (*(a.heatmap or ()), *(a.reference or {})):
            if name not in self.parameters:
                raise ValueError(f"analysis: '{name}' is not a parameter; allowed: {', '.join(self.parameters)}")
        return self

    @property
    def has_roi(self) -> bool:
        """Whether the analysis can give a return on investment: a reference point, profit and intervention cost."""
        return self.analysis.reference is not None and {"profit", "intervention_cost"} <= set(self.metrics)

    def key(self, name: str) -> str:
        """Dotted scenario key of a parameter."""
        return self.parameters[name].key or name

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Ranges of the parameters (sampled designs)."""
        return {n: tuple(p.range) for n, p in self.parameters.items() if p.range is not None}


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
    data = read_toml(path, "experiment file")
    quick_table = data.pop("quick", {})
    if not isinstance(quick_table, dict):
        raise ScenarioError(label, "quick", repr(quick_table), "a table of experiment keys to change")
    full = _validate(data, label, "")
    small = _validate(_deep_merge(data, quick_table), label, "quick.")  # a bad [quick] table fails either way
    exp = small if quick else full
    exp.source = str(path.resolve())
    return exp


def _validate(data: Mapping[str, Any], label: str, prefix: str) -> Experiment:
    return validate_model(Experiment, data, label, prefix)
