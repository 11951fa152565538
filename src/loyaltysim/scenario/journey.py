"""The customer journey's tables: touchpoints, personas, and the interventions a strategist pulls.

The levers an intervention may change are the fields declared with ``lever=True`` on `Touchpoint` and `Market`;
`Intervention` gets one `Change` per lever from those declarations, so a new lever is declared in one place.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, create_model, model_validator

from loyaltysim.scenario.declare import Section, clip_bounds, levers, param
from loyaltysim.scenario.sections import Market

__all__ = [
    "LEVERS",
    "MARKET_LEVERS",
    "MAX_VISITS_PER_STEP",
    "TOUCHPOINT_LEVERS",
    "Change",
    "Intervention",
    "Persona",
    "Touchpoint",
    "lever_owner",
]

MAX_VISITS_PER_STEP = 150
"""Largest expected number of interactions of one customer in one step (well below the cap on the Poisson draw,
`loyaltysim.engine.rules.MAX_VISITS`)."""


class Touchpoint(Section):
    """One channel of the customer journey and the experience it gives (seed 002: journey touchpoints)."""

    visits_per_month: float = param(
        0.5, "How often an average customer uses this touchpoint.", unit="1/month", ge=0, le=100, lever=True
    )
    fulfilment: float = param(
        0.9,
        "Chance the need is met at this touchpoint (1 - failure rate).",
        unit="probability",
        ge=0,
        le=1,
        lever=True,
    )
    effort: float = param(0.4, "Mean effort it takes (0 effortless, 1 torture).", unit="score", ge=0, le=1, lever=True)
    empathy: float = param(
        0.4, "How much the customer feels understood and cared for.", unit="score", ge=0, le=1, lever=True
    )
    personalization: float = param(
        0.3, "How much the interaction is tailored to the customer.", unit="score", ge=0, le=1, lever=True
    )
    recovery: float = param(
        0.0,
        "Chance a failed interaction is followed by a recovery contact (service recovery).",
        unit="probability",
        ge=0,
        le=1,
        lever=True,
    )
    recovery_quality: float = param(
        0.5, "Chance a recovery contact fixes the failure.", unit="probability", ge=0, le=1, lever=True
    )
    cost_per_interaction: float = param(1.0, "Cost to the company of one interaction.", unit="currency", ge=0, le=1e6)
    recovery_cost: float = param(0.0, "Cost to the company of one recovery contact.", unit="currency", ge=0, le=1e6)


class Persona(Section):
    """A buyer persona (seed 001): a share of the market with its own spend and sensitivities."""

    share: float = param(1.0, "Share of the market.", unit="fraction", ge=0, le=1)
    spend_per_month: float = param(30.0, "Monthly spend at the desires stage.", unit="currency/month", ge=0, le=1e6)
    effort_sensitivity: float = param(1.0, "How strongly effort is felt (1 = as measured).", unit="ratio", ge=0, le=5)
    emotion_sensitivity: float = param(
        1.0, "How strongly empathy and personalization are felt.", unit="ratio", ge=0, le=5
    )
    churn_a: float = param(
        0.8,
        "Beta a of the base monthly churn propensity.",
        unit="",
        ge=0.01,
        le=1000,
        source="assumption: Beta(0.8, 40), mean 2 %/month, typical mobile-telecom churn",
    )
    churn_b: float = param(
        40.0,
        "Beta b of the base monthly churn propensity.",
        unit="",
        ge=0.01,
        le=10000,
        source="assumption: see churn_a",
    )


class Change(Section):
    """How an intervention changes one level: exactly one of set, scale, add."""

    set: float | None = param(None, "New value.", unit="")
    scale: float | None = param(None, "Multiply the current value by this.", unit="ratio", ge=0, le=1e6)
    add: float | None = param(None, "Add this to the current value.", unit="", ge=-1e6, le=1e6)

    @model_validator(mode="after")
    def _one(self) -> Change:
        given = [k for k in ("set", "scale", "add") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of set, scale, add (got {given or 'none'})")
        return self

    def apply(self, value: float, lo: float, hi: float) -> float:
        """Return ``value`` changed, clipped to ``[lo, hi]``."""
        if self.set is not None:
            out = self.set
        elif self.scale is not None:
            out = value * self.scale
        else:
            out = value + self.add
        return min(hi, max(lo, out))


TOUCHPOINT_LEVERS = levers(Touchpoint)
"""Touchpoint levels an intervention may change, in declaration order."""
MARKET_LEVERS = levers(Market)
"""Market levels an intervention may change."""
LEVERS = (*TOUCHPOINT_LEVERS, *MARKET_LEVERS)
"""Every lever, touchpoint levers first."""


def lever_owner(lever: str) -> type[BaseModel]:
    """The table that declares a lever (`Touchpoint` or `Market`)."""
    return Touchpoint if lever in TOUCHPOINT_LEVERS else Market


def _change(lever: str) -> tuple[Any, Any]:
    field = lever_owner(lever).model_fields[lever]
    unit = (field.json_schema_extra or {}).get("unit", "")
    return Change | None, param(None, f"Change of {lever}: {field.description}", unit=unit)


class _InterventionBase(Section):
    """A lever a strategist pulls from a given day on, with what it costs (seed 002: the to-be journey)."""

    start_day: float = param(0.0, "Day from which the change holds.", unit="days", ge=0, le=36525)
    touchpoint: str = param("all", "Touchpoint the level changes apply to, or 'all'.", unit="")

    def changes(self) -> dict[str, Change]:
        """The levers this intervention changes: lever name -> `Change`."""
        return {lever: getattr(self, lever) for lever in LEVERS if getattr(self, lever) is not None}

    def apply(self, lever: str, value: float) -> float:
        """``value`` changed by this intervention's change of ``lever`` (if any), clipped to the declared range."""
        change = getattr(self, lever)
        return value if change is None else change.apply(value, *clip_bounds(lever_owner(lever), lever))


Intervention = create_model(
    "Intervention",
    __base__=_InterventionBase,
    __module__=__name__,
    __doc__=_InterventionBase.__doc__,
    **{lever: _change(lever) for lever in LEVERS},
    cost_once=(
        float,
        param(
            0.0,
            "One-off cost, paid in the first step that starts on or after start_day.",
            unit="currency",
            ge=0,
            le=1e12,
        ),
    ),
    cost_per_month=(
        float,
        param(0.0, "Running cost per month from the start day.", unit="currency/month", ge=0, le=1e10),
    ),
    cost_per_interaction=(
        float,
        param(0.0, "Extra cost per interaction at the touchpoint(s).", unit="currency", ge=0, le=1e6),
    ),
    cost_per_customer=(
        float,
        param(
            0.0,
            "Running cost per active customer and month from the start day (a loyalty perk, a licence per seat).",
            unit="currency/customer-month",
            ge=0,
            le=1e6,
        ),
    ),
)
