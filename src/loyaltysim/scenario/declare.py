"""How a parameter is declared: default, limits, unit, meaning, source, and whether a strategist may pull it.

Every scenario table is a `Section`; every value in it is a `param`. Everything else reads these declarations:
validation (pydantic), the JSON Schema, the parameter table of ``docs/model.md``, the CLI's ``--set``, the
intervention levers and their clipping, the rule constants of the engine, the teaching sliders and sweep axes.
This module imports only pydantic and `loyaltysim.vocabulary` (`STAGES`, `MONTH_DAYS`).
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from loyaltysim.vocabulary import MONTH_DAYS, STAGES

__all__ = ["MONTH_DAYS", "STAGES", "Section", "clip_bounds", "is_lever", "levers", "limits", "param"]


EXCLUSIVE_MARGIN = 1e-6
"""How far inside an exclusive bound (gt, lt) a changed value is clipped."""


def param(
    default: Any, doc: str, *, unit: str = "", source: str = "assumption", lever: bool = False, **limits: Any
) -> Any:
    """Declare a scenario parameter: default, limits (ge, le, gt, lt), unit, meaning and source.

    ``lever=True`` makes it a lever that interventions can change (``set``, ``scale`` or ``add``).
    """
    extra: dict[str, Any] = {"unit": unit, "source": source}
    if lever:
        extra["lever"] = True
    return Field(default, description=doc, json_schema_extra=extra, **limits)


class Section(BaseModel):
    """Base of every scenario table: unknown keys are errors, values are checked on assignment.

    Numbers must be finite (no ``inf`` or ``nan``, written or as strings) and a boolean is never taken for a number.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and _numeric(cls.model_fields[info.field_name].annotation):
            raise ValueError("a number, not true or false")
        return value


def _numeric(annotation: Any) -> bool:
    """Whether a field holds numbers (int, float, optionally None, or a list of them)."""
    if annotation in (int, float):
        return True
    return any(_numeric(a) for a in typing.get_args(annotation) if a is not type(None))


def is_lever(model: type[BaseModel], name: str) -> bool:
    """Whether a field was declared with ``lever=True``."""
    extra = model.model_fields[name].json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("lever"))


def levers(model: type[BaseModel]) -> tuple[str, ...]:
    """Names of a section's levers, in declaration order."""
    return tuple(name for name in model.model_fields if is_lever(model, name))


def limits(model: type[BaseModel], field: str) -> tuple[float | None, float | None]:
    """Declared lower and upper limits of a field (ge or gt, le or lt); None where there is none."""
    lo = hi = None
    for m in model.model_fields[field].metadata:
        lo = next((getattr(m, k) for k in ("ge", "gt") if getattr(m, k, None) is not None), lo)
        hi = next((getattr(m, k) for k in ("le", "lt") if getattr(m, k, None) is not None), hi)
    return lo, hi


def clip_bounds(model: type[BaseModel], field: str) -> tuple[float, float]:
    """The closed interval a changed value is clipped to: the declared limits, kept inside exclusive ones."""
    lo, hi = -float("inf"), float("inf")
    for m in model.model_fields[field].metadata:
        if getattr(m, "ge", None) is not None:
            lo = float(m.ge)
        if getattr(m, "gt", None) is not None:
            lo = float(m.gt) + EXCLUSIVE_MARGIN
        if getattr(m, "le", None) is not None:
            hi = float(m.le)
        if getattr(m, "lt", None) is not None:
            hi = float(m.lt) - EXCLUSIVE_MARGIN
    return lo, hi
