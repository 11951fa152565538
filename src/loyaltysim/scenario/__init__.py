"""Scenarios: every model parameter declared once, and how TOML files with ``extends`` and ``--set`` become one.

The bottom of the flow: this package imports only pydantic, `loyaltysim.errors` and `loyaltysim.vocabulary`;
everything else imports it.

- `declare`: how a parameter is declared (`param`, `Section`, limits, levers), `STAGES` and `MONTH_DAYS`;
- `sections`: the market and behaviour tables; `journey`: touchpoints, personas, interventions;
- `core`: the complete `Scenario`, its cross-table checks and validation with one-line errors;
- `files`: reading files (`load_scenario`); `catalogue`: the declarations as data (`parameter_table`, `json_schema`).
"""

from loyaltysim.scenario.catalogue import json_schema, parameter_table
from loyaltysim.scenario.core import Scenario, dotted_values, key_bounds, parse_value, scenario_from_dict
from loyaltysim.scenario.declare import MONTH_DAYS, STAGES, clip_bounds, limits, param
from loyaltysim.scenario.files import load_scenario
from loyaltysim.scenario.journey import (
    LEVERS,
    MARKET_LEVERS,
    MAX_VISITS_PER_STEP,
    TOUCHPOINT_LEVERS,
    Change,
    Intervention,
    Persona,
    Touchpoint,
    lever_owner,
)
from loyaltysim.scenario.sections import (
    Behaviour,
    Churn,
    Competitor,
    Economics,
    Market,
    Network,
    Nps,
    Population,
    Stages,
    Time,
    WordOfMouth,
)

__all__ = [
    "LEVERS",
    "MARKET_LEVERS",
    "MAX_VISITS_PER_STEP",
    "MONTH_DAYS",
    "STAGES",
    "TOUCHPOINT_LEVERS",
    "Behaviour",
    "Change",
    "Churn",
    "Competitor",
    "Economics",
    "Intervention",
    "Market",
    "Network",
    "Nps",
    "Persona",
    "Population",
    "Scenario",
    "Stages",
    "Time",
    "Touchpoint",
    "WordOfMouth",
    "clip_bounds",
    "dotted_values",
    "json_schema",
    "key_bounds",
    "lever_owner",
    "limits",
    "load_scenario",
    "param",
    "parameter_table",
    "parse_value",
    "scenario_from_dict",
]
