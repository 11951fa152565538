"""The rule constants of one run, built from the scenario declarations (nothing is re-listed here).

`RuleParams` is a flat named tuple (numba passes it to parallel kernels; nested tuples it cannot), with one field
per scalar parameter of the behaviour tables, named ``<table>_<key>`` after its dotted scenario key: the rules read
``p.behaviour_loss_aversion`` for ``behaviour.loss_aversion`` and ``p.churn_loyalty_effect`` for
``churn.loyalty_effect``. The fields are generated from the declarations, so a parameter added to one of
`RULE_TABLES` is in `RuleParams` without further ado. Levers are left out: interventions change them per step, so
the kernels read them from the plan's per-step tables. Only the genuinely derived per-step values of `DERIVED` are
written by hand, once.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable
from typing import Any

from loyaltysim.scenario import Scenario
from loyaltysim.scenario.declare import is_lever

__all__ = ["DERIVED", "RULE_TABLES", "RuleParams", "rule_fields", "rule_params"]

RULE_TABLES = ("population", "market", "behaviour", "stages", "word_of_mouth", "churn", "competitor", "nps")
"""Scenario tables whose scalar values the rules read."""


def _decay(s: Scenario) -> float:
    return 0.5 ** (s.time.step_days / s.behaviour.frustration_half_life_days)


def _carry(s: Scenario) -> float:
    rate = -math.log(_decay(s))
    return -math.expm1(-rate) / rate


def _competitor_quality(s: Scenario) -> float:
    b, c = s.behaviour, s.competitor
    feel = b.empathy_share * c.empathy + (1.0 - b.empathy_share) * c.personalization
    return c.fulfilment * (b.need_weight + b.ease_weight * (1.0 - c.effort) + b.feel_weight * feel)


def _market_norm(s: Scenario) -> float:
    w = s.competitor.norm_share
    return (1.0 - w) * s.behaviour.market_expectation + w * _competitor_quality(s)


DERIVED: dict[str, tuple[str, Callable[[Scenario], float]]] = {
    "months": ("length of a step in months (rates are stated per month)", lambda s: s.months_per_step),
    "frustration_decay": (
        "share of the memory of frustration kept per step: d = 0.5 ** (step_days / frustration_half_life_days)",
        _decay,
    ),
    "frustration_carry": (
        "memory at the end of a step of one frustration at a uniform time within it: (1 - d) / ln(1/d)",
        _carry,
    ),
    "frustration_exposure": (
        "mean memory over its step of one frustration at a uniform time within it: (1 - carry) / ln(1/d)",
        lambda s: (1.0 - _carry(s)) / -math.log(_decay(s)),
    ),
    "competitor_quality": (
        "the competitor's expected experience quality: fulfilment x (need + ease + feel weights at its levels)",
        _competitor_quality,
    ),
    "market_norm": (
        "the market's norm of experience: behaviour.market_expectation moved a share competitor.norm_share towards "
        "the competitor's quality",
        _market_norm,
    ),
}
"""Per-step values derived from the declarations: name -> (meaning, how)."""

_SCALARS = (float, int, bool)


def _table_type(name: str) -> Any:
    return Scenario.model_fields[name].annotation


def rule_fields() -> list[tuple[str, str, str]]:
    """``(field, table, key)`` of every declared scalar of `RULE_TABLES`, in declaration order."""
    out = []
    for table in RULE_TABLES:
        model = _table_type(table)
        for key, field in model.model_fields.items():
            if field.annotation in _SCALARS and not is_lever(model, key):
                out.append((f"{table}_{key}", table, key))
    return out


_FIELDS = rule_fields()

RuleParams = namedtuple("RuleParams", [f for f, _, _ in _FIELDS] + list(DERIVED), module=__name__)
RuleParams.__doc__ = (
    "Rule constants of one run: ``<table>_<key>`` for every scalar of "
    + ", ".join(RULE_TABLES)
    + "; then "
    + "; ".join(f"``{k}``: {meaning}" for k, (meaning, _) in DERIVED.items())
    + "."
)


def rule_params(s: Scenario) -> RuleParams:
    """The rule constants of a scenario."""
    values = [getattr(getattr(s, table), key) for _, table, key in _FIELDS]
    return RuleParams(*values, *(how(s) for _, how in DERIVED.values()))
