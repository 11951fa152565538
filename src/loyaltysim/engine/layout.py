"""The layout of the engine's arrays, declared once by name.

Stage codes, flag bits, table columns, tally slots and output columns.

No other module indexes these arrays by a number: kernels write ``counts[c, extra + Tally.ADOPTED]`` and read
``levels[k, Level.EFFORT]``; `loyaltysim.engine.outputs` reads the same names. `IntEnum` members compile to plain
integers in numba. Stage names come from `loyaltysim.vocabulary.STAGES` (the scenario files' vocabulary); their
codes follow that order. This module imports nothing heavier than that, so the kernels may use it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal, NamedTuple

from loyaltysim.vocabulary import STAGES

__all__ = [
    "ACTIVE",
    "ADOPTED",
    "CHURNED",
    "COHORT",
    "COLUMNS",
    "COUNTED",
    "DESIRES",
    "EMPATHY",
    "EXPECTATIONS",
    "FIRST_STAGE",
    "LEFT",
    "LEVEL_COLUMNS",
    "NEEDS",
    "N_STATES",
    "PERSONALIZATION",
    "PREFERENCES",
    "PROSPECT",
    "SPOKE_NEGATIVE",
    "SPOKE_POSITIVE",
    "STAGES",
    "STAGE_CODES",
    "STATE_NAMES",
    "STEP_BITS",
    "TOP_STAGE",
    "Column",
    "Kind",
    "Level",
    "PersonaColumn",
    "Sum",
    "Tally",
    "columns_of_kind",
]

# ---------------------------------------------------------------------------------------------------------------
# Stage codes: one int8 per person

PROSPECT = 0
"""Code of a person who is not (yet) a customer."""
FIRST_STAGE = 1
"""Code of the first CX Spectrum stage (needs); stage ``STAGES[k]`` has code ``FIRST_STAGE + k``."""
TOP_STAGE = FIRST_STAGE + len(STAGES) - 1
"""Code of the deepest stage (empathy)."""
CHURNED = TOP_STAGE + 1
"""Code of a former customer."""
N_STATES = CHURNED + 1
"""Number of codes."""
STATE_NAMES = ("prospects", *STAGES, "churned")
"""Name of each code, in code order (the output columns of the same names count them)."""
STAGE_CODES = {name: FIRST_STAGE + k for k, name in enumerate(STAGES)}
"""Code of each CX Spectrum stage, by name."""
NEEDS = STAGE_CODES["needs"]
EXPECTATIONS = STAGE_CODES["expectations"]
DESIRES = STAGE_CODES["desires"]
PREFERENCES = STAGE_CODES["preferences"]
PERSONALIZATION = STAGE_CODES["personalization"]
EMPATHY = STAGE_CODES["empathy"]

# ---------------------------------------------------------------------------------------------------------------
# Flag bits: one uint8 per person

ACTIVE = 1
"""A customer this step (read by neighbours as adoption influence)."""
SPOKE_POSITIVE = 2
"""Told neighbours about a good experience this step."""
SPOKE_NEGATIVE = 4
"""Told neighbours about a bad experience this step."""
ADOPTED = 8
"""Became a customer this step."""
LEFT = 16
"""Churned this step."""
COHORT = 32
"""Was a customer at the start (for retention of the starting base)."""
COUNTED = 64
"""Bookkeeping of the word-of-mouth push (not a model flag): counted in the neighbours' customer counts."""
STEP_BITS = ACTIVE | SPOKE_POSITIVE | SPOKE_NEGATIVE | ADOPTED | LEFT
"""The bits that describe one step; cleared at the start of every step."""

# ---------------------------------------------------------------------------------------------------------------
# Columns of the plan's tables


class Level(IntEnum):
    """Columns of a touchpoint's row in the plan's ``levels`` table (one row per touchpoint and step)."""

    CUMULATIVE_SHARE = 0  # cumulative share of visits up to this touchpoint (from visits_per_month)
    FULFILMENT = 1
    EFFORT = 2
    EMPATHY = 3
    PERSONALIZATION = 4


LEVEL_COLUMNS = tuple(level.name.lower() for level in Level)
"""Names of the `Level` columns; every one but the first is the touchpoint lever of the same name."""


class PersonaColumn(IntEnum):
    """Columns of the plan's per-persona ``persona_table``: sensitivities and the Beta(a, b) of churn propensity."""

    EFFORT_SENSITIVITY = 0
    EMOTION_SENSITIVITY = 1
    CHURN_A = 2
    CHURN_B = 3


# ---------------------------------------------------------------------------------------------------------------
# Slots of the tally: after one count per (stage code, persona), these


class Tally(IntEnum):
    """Count slots of `loyaltysim.engine.kernels.tally`, after the ``N_STATES x personas`` block of stage counts."""

    PROMOTERS = 0
    DETRACTORS = 1
    WOM_POSITIVE = 2
    WOM_NEGATIVE = 3
    ADOPTED = 4
    LEFT = 5
    COHORT = 6


class Sum(IntEnum):
    """Float sums of the tally over active customers."""

    LOYALTY = 0
    EXPECTATION = 1


# ---------------------------------------------------------------------------------------------------------------
# Output columns: one row per step

Kind = Literal["label", "state", "flow", "mean"]


class Column(NamedTuple):
    """An output column of the per-step table.

    ``kind`` says what it is and how a checkpoint reads it: ``label`` (step, day), ``state`` (a count or level at
    the end of the step, read at the checkpoint), ``flow`` (what happened during the step, summed over the steps up
    to the checkpoint) or ``mean`` (a mean over the step's interactions, weighted by interactions up to the
    checkpoint). ``meaning`` names the quantity; ``kind`` says when it is measured.
    """

    label: str
    unit: str
    meaning: str
    kind: Kind


COLUMNS: dict[str, Column] = {
    "step": Column("step", "", "Step number; 0 is the initial state", "label"),
    "day": Column("day", "days", "Time at the end of the step", "label"),
    "prospects": Column("prospects", "people", "People who are not (yet) customers", "state"),
    **{
        s: Column(f"customers at {s} stage", "customers", f"Customers at the {s} stage of the CX Spectrum", "state")
        for s in STAGES
    },
    "active": Column("active customers", "customers", "Customers at any stage", "state"),
    "churned": Column("former customers", "people", "Former customers (everyone who has left)", "state"),
    "new_customers": Column("new customers", "customers", "Prospects who became customers", "flow"),
    "churned_step": Column("customers lost", "customers", "Customers who left", "flow"),
    "initial_active": Column(
        "starting customers kept", "customers", "Customers of the starting base who are still customers", "state"
    ),
    "interactions": Column("interactions", "interactions", "Touchpoint interactions", "flow"),
    "revenue": Column("revenue", "currency", "Spend of customers", "flow"),
    "service_cost": Column("service cost", "currency", "Cost of interactions at the touchpoints' own cost", "flow"),
    "acquisition_cost": Column("acquisition cost", "currency", "Cost of winning new customers", "flow"),
    "retention_cost": Column("cost to serve", "currency", "Cost to serve active customers", "flow"),
    "intervention_cost": Column(
        "intervention cost", "currency", "One-off, running and per-interaction costs of interventions", "flow"
    ),
    "cost": Column(
        "cost", "currency", "All costs, cost of goods (1 - gross margin) x revenue and interventions included", "flow"
    ),
    "profit": Column("profit", "currency", "Revenue minus all costs", "flow"),
    "promoters": Column("promoters", "customers", "Active customers answering 9 or 10 to the NPS question", "state"),
    "detractors": Column("detractors", "customers", "Active customers answering 0 to 6 to the NPS question", "state"),
    "nps": Column(
        "NPS", "points", "Net Promoter Score of active customers: % promoters (9-10) - % detractors (0-6)", "state"
    ),
    "ces": Column("CES", "1-7", "Mean Customer Effort Score of interactions (1 = very easy, 7 = very hard)", "mean"),
    "mean_loyalty": Column("mean loyalty", "score", "Mean loyalty (0-1) of active customers", "state"),
    "mean_expectation": Column("mean expectation", "score", "Mean expectation (0-1) of active customers", "state"),
    "wom_positive": Column(
        "positive word of mouth", "customers", "Customers who spread positive word of mouth", "flow"
    ),
    "wom_negative": Column(
        "negative word of mouth", "customers", "Customers who spread negative word of mouth", "flow"
    ),
}
"""Output columns of `Results.timeseries`, in order, with label, unit, meaning and kind."""


def columns_of_kind(kind: Kind) -> tuple[str, ...]:
    """Names of the output columns of one kind, in table order."""
    return tuple(name for name, col in COLUMNS.items() if col.kind == kind)
