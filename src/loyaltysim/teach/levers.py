"""The levers the class can pull, as sliders built from the scenario parameter declarations.

A lever names a dotted scenario key; its range, unit and meaning come from `loyaltysim.scenario.parameter_table`.
Only the top of the slider may be narrowed to a multiple of the declared default, where the declared range is far
wider than anything useful in a classroom (a monthly marketing rate of 1 would win the whole town in a month).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from loyaltysim.scenario import Scenario, parameter_table

__all__ = ["LEVERS", "Lever", "lever_values", "levers"]

TOUCHPOINT = "service"
"""The classroom's single touchpoint, to which the touchpoint levers apply."""

LEVERS: tuple[tuple[str, float | None], ...] = (
    (f"touchpoints.{TOUCHPOINT}.effort", None),
    (f"touchpoints.{TOUCHPOINT}.empathy", None),
    (f"touchpoints.{TOUCHPOINT}.personalization", None),
    (f"touchpoints.{TOUCHPOINT}.fulfilment", None),
    ("word_of_mouth.loyalty_effect", 5.0),
    ("market.marketing", 20.0),
)
"""Dotted key of each lever and, where the declared maximum is too wide, the slider top as a multiple of the
declared default."""


@dataclass(frozen=True)
class Lever:
    """One slider: key, range and texts from the parameter declaration."""

    key: str
    min: float
    max: float
    default: float
    unit: str
    meaning: str

    @property
    def step(self) -> float:
        """Slider resolution: about a hundredth of the range, rounded to 1, 2 or 5 times a power of ten."""
        raw = (self.max - self.min) / 100
        power = 10 ** math.floor(math.log10(raw))
        return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _declared_key(key: str) -> str:
    parts = key.split(".")
    if parts[0] in ("touchpoints", "personas", "interventions"):
        parts[1] = "<name>"
    return ".".join(parts)


@cache
def levers() -> tuple[Lever, ...]:
    """The levers with ranges and meanings read from the declarations."""
    rows = {row["key"]: row for row in parameter_table()}
    out = []
    for key, factor in LEVERS:
        row = rows[_declared_key(key)]
        top = float(row["max"])
        if factor is not None:
            top = min(top, factor * float(row["default"]))
        out.append(Lever(key, float(row["min"]), top, float(row["default"]), row["unit"], row["meaning"]))
    return tuple(out)


def lever_values(scenario: Scenario) -> dict[str, float]:
    """The value of every lever in ``scenario``."""
    out = {}
    for lever in levers():
        node = scenario
        for part in lever.key.split("."):
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        out[lever.key] = float(node)
    return out
