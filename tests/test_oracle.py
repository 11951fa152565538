"""The compiled kernel engine agrees with an independent, plain oracle of one step (tests/oracle.py).

The oracle shares no code with loyaltysim: it re-implements the random numbers, the step's touchpoint levels and
every rule from docs/model.md. For each case and seed the model runs a few steps; before each checked step the test
snapshots the state, lets the kernels compute the step, runs the oracle from the snapshot and compares:

- ``stage`` exactly, ``flags`` exactly on the model bits (0x3F; bit 64 is bookkeeping of ``listen.listen``);
- ``loyalty``, ``expectation``, ``frustration``, ``influence``, ``heard`` exactly (bit for bit): both sides compute in
  float64 and round to float32 where the model stores a value, so any difference is a difference in the rules;
- ``persona`` and ``base_hazard`` are unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest

import loyaltysim
from conftest import SCENARIOS
from oracle import oracle_step

FIELDS = ("stage", "persona", "flags", "loyalty", "expectation", "frustration", "base_hazard", "influence", "heard")
MODEL_BITS = 0x3F  # ACTIVE 1, SPOKE_POSITIVE 2, SPOKE_NEGATIVE 4, ADOPTED 8, LEFT 16, COHORT 32
SPOKE, ADOPTED, LEFT = 2 | 4, 8, 16
EXACT = ("stage", "persona", "loyalty", "expectation", "frustration", "base_hazard", "influence", "heard")

# name: (scenario, overrides, steps run before the first checked step, checked steps)
CASES = {
    "baseline": (SCENARIOS / "baseline.toml", {"population.size": 400}, 0, 4),
    "cut-effort": (SCENARIOS / "cut-effort.toml", {"population.size": 400}, 2, 3),
    "complete-network": (SCENARIOS / "baseline.toml", {"population.size": 400, "network.kind": "complete"}, 1, 4),
    "daily-erdos-renyi": (
        SCENARIOS / "baseline.toml",
        {"population.size": 500, "time.step_days": 1.0, "network.kind": "erdos_renyi"},
        3,
        5,
    ),
    # Interventions that take force mid-run, with set / add on touchpoint and market levers.
    "late-interventions": (
        SCENARIOS / "cut-effort.toml",
        {
            "population.size": 300,
            "interventions.app_redesign.start_day": 14.0,
            "interventions.callback_and_context.start_day": 10.0,  # overrides fill existing interventions only
            "interventions.callback_and_context.touchpoint": "store",
            "interventions.callback_and_context.empathy": {"add": 0.3},
            "interventions.callback_and_context.marketing": {"add": 0.05},
            "interventions.callback_and_context.price": {"set": 1.3},
            "interventions.callback_and_context.visits_per_month": {"set": 2.0},
        },
        1,
        3,
    ),
}
SEEDS = (0, 11, 2024)


def _snapshot(m):
    return {f: getattr(m.state, f).copy() for f in FIELDS}


def _compare(case, seed, step, before, after, expected):
    where = f"{case}, seed {seed}, step {step}"
    for f in EXACT:
        got, want = after[f], expected[f]
        bad = np.flatnonzero(got != want)
        assert bad.size == 0, (
            f"{where}: {f} differs for {bad.size} people, first id {bad[0]}: kernel {got[bad[0]]!r}, "
            f"oracle {want[bad[0]]!r} (stage before {before['stage'][bad[0]]}, after {after['stage'][bad[0]]})"
        )
    got, want = after["flags"] & MODEL_BITS, expected["flags"] & MODEL_BITS
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"{where}: flags differ for {bad.size} people, first id {bad[0]}: {got[bad[0]]} vs {want[bad[0]]}"
    )


def _check(case):
    """Run one case over every seed, comparing each checked step; return counts of what the steps exercised."""
    path, overrides, warmup, checked = CASES[case]
    seen = {"interactions": 0, "stage_changes": 0, "spoke": 0, "heard": 0, "adopted": 0, "left": 0}
    for seed in SEEDS:
        m = loyaltysim.LoyaltyModel(path, rng=seed, **overrides)
        for _ in range(warmup):
            m.step()
        for _ in range(checked):
            before = _snapshot(m)
            m.step()
            step = m.steps  # the step just computed
            after = _snapshot(m)
            net = m.network
            expected = oracle_step(m.params, m.seed, step, before, net.indptr, net.indices, net.complete)
            _compare(case, seed, step, before, after, expected)
            seen["interactions"] += int(expected["interactions"].sum())
            seen["stage_changes"] += int(np.count_nonzero((before["stage"] != after["stage"]) & (before["stage"] > 0)))
            seen["spoke"] += int(np.count_nonzero(after["flags"] & SPOKE))
            seen["heard"] += int(np.count_nonzero(after["heard"] != 0))
            seen["adopted"] += int(np.count_nonzero(after["flags"] & ADOPTED))
            seen["left"] += int(np.count_nonzero(after["flags"] & LEFT))
    return seen


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_step_matches_the_oracle(case):
    seen = _check(case)
    # The compared steps exercised the rules: interactions, stage changes, telling, hearing, adoption and churn.
    assert min(seen.values()) > 0, seen
