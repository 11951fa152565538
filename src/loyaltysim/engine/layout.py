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

from loyaltysim.vocabulary import CUSTOMER_STAGES, PROSPECT_STAGES, STAGES

__all__ = [
    "ACTIVE",
    "ADOPTED",
    "AT_RISK",
    "CHURNED",
    "COHORT",
    "COLUMNS",
    "COUNTED",
    "CUSTOMER_STAGES",
    "DESIRES",
    "EMPATHY",
    "EXPECTATIONS",
    "LEFT",
    "LEVEL_COLUMNS",
    "NEEDS",
    "N_STATES",
    "PERSONALIZATION",
    "PREFERENCES",
    "PROSPECT_STAGES",
    "SPOKE_NEGATIVE",
    "SPOKE_POSITIVE",
    "STAGES",
    "STAGE_CODES",
    "STATE_NAMES",
    "STEP_BITS",
    "TOP_STAGE",
    "WON_BACK",
    "Column",
    "Diary",
    "Kind",
    "Level",
    "PersonaColumn",
    "Sum",
    "Tally",
    "columns_of_kind",
]

# ---------------------------------------------------------------------------------------------------------------
# Stage codes: one int8 per person. Prospects are at needs or expectations (the pre-purchase journey), the purchase
# happens at desires, and a customer who slips below desires is at risk: still a customer, still paying.

NEEDS = 0
"""A prospect with a need, not yet considering the firm."""
EXPECTATIONS = 1
"""A prospect considering the firm, forming expectations from what they hear."""
AT_RISK = 2
"""A customer who has slipped below desires: still paying, but no longer wanting the brand (churns more)."""
DESIRES = 3
"""The stage of the purchase: where every new customer starts."""
PREFERENCES = 4
PERSONALIZATION = 5
EMPATHY = 6
TOP_STAGE = EMPATHY
"""Code of the deepest stage."""
CHURNED = 7
"""Code of a former customer (who may be won back into the prospects at expectations)."""
N_STATES = CHURNED + 1
"""Number of codes."""
STATE_NAMES = ("needs", "expectations", "at_risk", "desires", "preferences", "personalization", "empathy", "churned")
"""Name of each code, in code order (the output columns of the same names count them)."""
STAGE_CODES = {name: STATE_NAMES.index(name) for name in STAGES}
"""Code of each CX Spectrum stage, by name."""

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
"""Has been a customer since the start without a break (for retention of the starting base)."""
COUNTED = 64
"""Bookkeeping of the word-of-mouth push (not a model flag): counted in the neighbours' customer counts."""
WON_BACK = 128
"""A former customer who came back into the prospects this step."""
STEP_BITS = ACTIVE | SPOKE_POSITIVE | SPOKE_NEGATIVE | ADOPTED | LEFT | WON_BACK
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
    RECOVERY = 5  # chance a failed interaction is followed by a recovery contact
    RECOVERY_QUALITY = 6  # chance a recovery contact fixes the failure


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
    WON_BACK = 6
    COHORT = 7


class Sum(IntEnum):
    """Float sums of the tally over active customers."""

    LOYALTY = 0
    EXPECTATION = 1  # visit-weighted mean of the customer's touchpoint expectations


class Diary(IntEnum):
    """Rows of the optional per-customer diary of one step (``LoyaltyModel(diary=True)``), read by the survey.

    `loyaltysim.engine.kernels.interact` adds each interaction of the step to its customer's column: the counts of
    interactions and of those whose need was met, frustrating, memorable bad, memorable good
    (`loyaltysim.engine.rules.memorable`) and tailored
    ones, and the sums of felt ease, felt emotion, perceived quality and of what the customer expected of the
    touchpoint before it (the SERVQUAL gap of the step is the mean quality minus the mean expectation).
    """

    USES = 0
    MET = 1
    FRUSTRATING = 2
    BAD = 3
    GOOD = 4
    TAILORED = 5
    EASE = 6
    FEEL = 7
    QUALITY = 8
    EXPECTED = 9


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
    "prospects": Column("prospects", "people", "People who are not (yet) customers: at needs or expectations", "state"),
    **{
        s: Column(f"prospects at {s} stage", "people", f"Prospects at the {s} stage of the CX Spectrum", "state")
        for s in PROSPECT_STAGES
    },
    **{
        s: Column(f"customers at {s} stage", "customers", f"Customers at the {s} stage of the CX Spectrum", "state")
        for s in CUSTOMER_STAGES
    },
    "at_risk": Column(
        "customers at risk", "customers", "Customers who slipped below desires: still paying, churning more", "state"
    ),
    "active": Column("active customers", "customers", "Customers at any stage, at risk included", "state"),
    "churned": Column("former customers", "people", "Former customers not (yet) back among the prospects", "state"),
    "new_customers": Column("new customers", "customers", "Prospects who became customers", "flow"),
    "churned_step": Column("customers lost", "customers", "Customers who left", "flow"),
    "lost_to_competitor": Column(
        "customers lost to the competitor",
        "customers",
        "Customers who left, each counted by the competitor's share of their churn hazard",
        "flow",
    ),
    "won_back": Column("customers won back", "people", "Former customers who came back into the prospects", "flow"),
    "initial_active": Column(
        "starting customers kept", "customers", "Customers of the starting base who are still customers", "state"
    ),
    "interactions": Column("interactions", "interactions", "Touchpoint interactions", "flow"),
    "recoveries": Column(
        "recovery contacts", "contacts", "Recovery contacts after failed interactions (successful or not)", "flow"
    ),
    "revenue": Column("revenue", "currency", "Spend of customers", "flow"),
    "service_cost": Column(
        "service cost", "currency", "Cost of interactions and recovery contacts at the touchpoints' own cost", "flow"
    ),
    "acquisition_cost": Column("acquisition cost", "currency", "Cost of winning new customers", "flow"),
    "retention_cost": Column("cost to serve", "currency", "Cost to serve active customers", "flow"),
    "intervention_cost": Column(
        "intervention cost", "currency", "One-off, running and per-interaction costs of interventions", "flow"
    ),
    "one_off_cost": Column(
        "one-off intervention cost", "currency", "The one-off part of the intervention cost (cost_once)", "flow"
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
    "mean_expectation": Column(
        "mean expectation",
        "score",
        "Mean expectation (0-1) of active customers, touchpoints weighted by visits",
        "state",
    ),
    "wom_positive": Column("positive word of mouth", "tellings", "Good experiences customers told others of", "flow"),
    "wom_negative": Column("negative word of mouth", "tellings", "Bad experiences customers told others of", "flow"),
}
"""Output columns of `Results.timeseries`, in order, with label, unit, meaning and kind."""


def columns_of_kind(kind: Kind) -> tuple[str, ...]:
    """Names of the output columns of one kind, in table order."""
    return tuple(name for name, col in COLUMNS.items() if col.kind == kind)
