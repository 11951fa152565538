"""What a comparison's verdict hinges on: each lever's value difference when one assumption moves over its range.

For every uncertain parameter, the comparison is run again at the low and at the high end of the parameter's range,
every scenario with the same seeds (common random numbers), and each lever's value difference to the baseline is
read at the horizon. The lever's own costs move analytically (a cost multiplier scales the discounted intervention
cost, `loyaltysim.runs.metrics.break_even`). An assumption *flips* the verdict when the lever's value difference
changes sign at one end of its range. Used by `loyaltysim.comparisons.run.compare` (``tornado=True``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from loyaltysim.errors import ScenarioError
from loyaltysim.runs.posterior import moved_value
from loyaltysim.scenario import Scenario, dotted_values, parameter_table

__all__ = ["COST_RANGE", "SPREAD", "UNCERTAIN", "hinge_lines", "ranges", "tornado_frame"]

UNCERTAIN = (
    "economics.acquisition_cost",
    "economics.gross_margin",
    "economics.cost_to_serve_per_month",
    "churn.loyalty_effect",
    "competitor.visibility",
    "market.imitation",
    "word_of_mouth.loyalty_effect",
    "behaviour.satisfaction_sensitivity",
    "behaviour.loss_aversion",
)
"""Parameters a comparison moves by default: the economics a strategist is least sure of and the behavioural
assumptions the lever's effect rests on (word of mouth, churn's response to loyalty, the rival, the value function)."""

SPREAD = 0.5
"""Default range of an uncertain parameter: its baseline value x (1 - SPREAD) to x (1 + SPREAD), within its declared
bounds (assumption: wide enough to show which assumption matters, not an estimate of the truth)."""

COST_RANGE = (0.5, 1.5)
"""Multipliers of each lever's own intervention costs in the tornado."""

COST_KEY = "lever's own costs"
"""The tornado row of the lever's costs."""


def ranges(baseline: Scenario, uncertain: Mapping[str, tuple[float, float]] | None = None) -> dict[str, tuple]:
    """Low and high value of each uncertain parameter: `UNCERTAIN` around the baseline's values, then ``uncertain``.

    A stated range replaces (or adds to) the defaults; a key that is not a parameter, or a range whose low is not
    below its high, is a `ScenarioError`.
    """
    bounds = {row["key"]: (row["min"], row["max"]) for row in parameter_table()}
    values = dotted_values(baseline.model_dump())
    out: dict[str, tuple[float, float]] = {}
    for key in UNCERTAIN:
        v = float(values[key])
        lo_bound, hi_bound = bounds[key]
        out[key] = (max(lo_bound, v * (1 - SPREAD)), min(hi_bound, v * (1 + SPREAD)))
    for key, rng in (uncertain or {}).items():
        if key not in values:
            raise ScenarioError("compare", "uncertain", repr(key), "a dotted key of the scenario, e.g. churn.win_back")
        try:
            lo, hi = (float(x) for x in rng)
        except (TypeError, ValueError):
            raise ScenarioError("compare", f"uncertain.{key}", repr(rng), "a (low, high) pair of numbers") from None
        if not lo < hi:
            raise ScenarioError("compare", f"uncertain.{key}", f"{lo:g}:{hi:g}", "a low value below the high one")
        out[key] = (lo, hi)
    return out


def tornado_frame(
    specs: Sequence[Scenario],
    central: pd.DataFrame,
    value_at: Callable[[list[Scenario]], np.ndarray],
    spans: Mapping[str, tuple[float, float]],
) -> pd.DataFrame:
    """Each lever's value difference at the low and high end of every range, and whether the verdict flips there.

    ``central``: one row per variant with ``scenario``, ``value`` (its mean value difference), ``cost`` (its mean
    discounted extra intervention cost) and ``answer``. ``value_at(scenarios)`` runs the scenarios with the
    comparison's seeds and returns each one's value per replication, shaped (scenarios, replications).

    Returns one row per variant and assumption: ``scenario``, ``parameter``, ``low``, ``high``, ``diff_low``,
    ``diff_high``, ``central``, ``swing`` (the distance between the two ends) and ``flips`` (an end has the other
    sign than ``central``, the difference over the same replications, for a lever with a verdict), sorted by swing.
    """
    rows = []
    base_names = [s.name for s in specs]
    ends: dict[str, dict[str, np.ndarray]] = {}
    base = dotted_values(specs[0].model_dump())
    base_values = {key: base[key] for key in spans}
    for key, (lo, hi) in spans.items():
        ends[key] = {}
        for end, x in (("low", lo), ("high", hi)):
            moved = [s.with_overrides({key: _moved(s, key, x, base_values[key])}, "tornado") for s in specs]
            value = value_at(moved)
            ends[key][end] = (value[1:] - value[:1]).mean(axis=1)
    for row in central.itertuples():
        idx = base_names.index(row.scenario) - 1
        cases = {key: (spans[key][0], spans[key][1], e["low"][idx], e["high"][idx]) for key, e in ends.items()}
        k_lo, k_hi = COST_RANGE
        cases[COST_KEY] = (k_lo, k_hi, row.value - (k_lo - 1) * row.cost, row.value - (k_hi - 1) * row.cost)
        for key, (lo, hi, d_lo, d_hi) in cases.items():
            rows.append(
                {
                    "scenario": row.scenario,
                    "parameter": key,
                    "low": lo,
                    "high": hi,
                    "diff_low": float(d_lo),
                    "diff_high": float(d_hi),
                    "central": float(row.value),
                    "swing": float(abs(d_hi - d_lo)),
                    "flips": _flips(row.answer, row.value, d_lo, d_hi),
                }
            )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["scenario", "swing"], ascending=[True, False], kind="stable").reset_index(drop=True)


def _moved(spec: Scenario, key: str, x: float, base: float) -> float:
    """The value of ``key`` in ``spec`` at the end ``x`` of the baseline's range.

    ``x`` itself where the scenario shares the baseline's value, else the scenario's own value moved by the same
    factor (a lever that changes the key keeps its change).
    """
    return moved_value(float(dotted_values(spec.model_dump())[key]), base, x)


def _flips(answer: str, central: float, d_lo: float, d_hi: float) -> bool:
    """Whether an end has the other sign than the central difference of the same replications (a decided verdict)."""
    if answer == "unclear" or central == 0:
        return False
    return bool(min(d_lo, d_hi) < 0 < central or max(d_lo, d_hi) > 0 > central)


def hinge_lines(frame: pd.DataFrame, names: Sequence[str]) -> list[str]:
    """One line per lever of ``names``: the assumption with the widest swing, and every one that flips the verdict."""
    lines = []
    for name in names:
        d = frame[frame["scenario"] == name]
        top = d.iloc[0]
        line = f"{name}: hinges most on {top['parameter']} ({top['low']:g} to {top['high']:g}: value difference "
        line += f"{top['diff_low']:+,.0f} to {top['diff_high']:+,.0f})"
        flips = d[d["flips"]]
        if flips.empty:
            lines.append(line + "; no assumption in its range flips the verdict")
            continue
        parts = []
        for r in flips.itertuples():
            low_flips = (r.diff_low < 0) != (r.central < 0)
            end, x, d_x = ("low", r.low, r.diff_low) if low_flips else ("high", r.high, r.diff_high)
            parts.append(f"{r.parameter} at its {end} end ({x:g}: {d_x:+,.0f})")
        lines.append(line + "; the verdict flips with " + ", ".join(parts))
    return lines
