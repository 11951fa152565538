"""Known-answer tests: discrete Bass diffusion, network diffusion bounds, shifted-beta-geometric retention."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln

import loyaltysim as ls
from conftest import SCENARIOS

P, Q = 0.03, 0.38


def bass_recursion(p: float, q: float, steps: int) -> np.ndarray:
    f = [0.0]
    for _ in range(steps):
        f.append(f[-1] + (p + q * f[-1]) * (1 - f[-1]))
    return np.array(f)


def two_node_bound(p: float, q: float, steps: int) -> np.ndarray:
    """Expected adopted share of the two-node network (each node the other's only neighbour)."""
    none, one, both = 1.0, 0.0, 0.0
    out = [0.0]
    for _ in range(steps):
        none, one, both = (
            none * (1 - p) ** 2,
            none * 2 * p * (1 - p) + one * (1 - p - q),
            none * p * p + one * (p + q) + both,
        )
        out.append((one + 2 * both) / 2)
    return np.array(out)


def adopted_share(results: ls.Results) -> np.ndarray:
    ts = results.timeseries
    return ((ts["active"] + ts["churned"]) / results.scenario.population.size).to_numpy()


def test_bass_complete_network_follows_discrete_recursion():
    res = ls.simulate(SCENARIOS / "validation" / "bass.toml", seed=11)
    assert res.scenario.population.size == 100_000
    f = adopted_share(res)
    expected = bass_recursion(P, Q, res.scenario.n_steps)
    assert np.max(np.abs(f - expected)) < 0.01
    assert f[-1] > 0.99  # the S-curve runs its course
    assert res.timeseries["churned"].max() == 0


def test_bass_one_step_ahead_is_exact_in_expectation():
    """Given the simulated F(t-1), the step's adoptions are Binomial(N(1-F), p + q F): within 4 sigma each step."""
    n = 50_000
    res = ls.simulate(
        SCENARIOS / "validation" / "bass.toml",
        seed=5,
        overrides={"market.marketing": 0.01, "market.imitation": 0.6, "population.size": n},
    )
    f = adopted_share(res)
    prev = f[:-1]
    hazard = 0.01 + 0.6 * prev * n / (n - 1)  # the mean field excludes the person itself
    expected = hazard * (1 - prev)
    sigma = np.sqrt(n * (1 - prev) * hazard * (1 - hazard)) / n
    assert np.all(np.abs(np.diff(f) - expected) <= 4 * sigma + 1e-12)


@pytest.mark.parametrize("kind,degree", [("ring", 2), ("ring", 10), ("watts_strogatz", 10), ("erdos_renyi", 10)])
def test_network_diffusion_between_two_node_bound_and_bass(kind, degree):
    n = 20_000
    res = ls.simulate(
        SCENARIOS / "validation" / "bass.toml",
        seed=3,
        overrides={"network.kind": kind, "network.mean_degree": degree, "population.size": n},
    )
    f = adopted_share(res)
    steps = res.scenario.n_steps
    upper, lower = bass_recursion(P, Q, steps), two_node_bound(P, Q, steps)
    tol = 4 * np.sqrt(0.25 / n) + 0.002
    assert np.all(f <= upper + tol)
    assert np.all(f >= lower - tol)
    if kind == "ring" and degree == 2:  # a ring is far from the mean field: strictly inside the band
        assert f[8] < upper[8] - 0.1 and f[8] > lower[8] + 0.05


def sbg_survival(a: float, b: float, t: np.ndarray) -> np.ndarray:
    return np.exp(betaln(a, b + t) - betaln(a, b))


def test_retention_matches_shifted_beta_geometric():
    res = ls.simulate(SCENARIOS / "validation" / "sbg.toml", seed=2)
    n = res.scenario.population.size
    ts = res.timeseries
    survival = (ts["initial_active"] / n).to_numpy()
    t = np.arange(len(survival))
    expected = sbg_survival(0.704, 1.182, t)
    sigma = np.sqrt(expected * (1 - expected) / n) + 1e-12
    assert np.all(np.abs(survival - expected) < 4 * sigma + 1e-3)
    # Fader & Hardie (2007), "regular" cohort, observed after periods 1-5; their sBG fit is within 0.6 points
    published = np.array([63.1, 46.8, 38.2, 32.6, 28.9])
    assert np.all(np.abs(100 * survival[1:6] - published) < 1.0)


def test_retention_is_step_length_invariant_for_constant_hazards():
    """Halving the step changes a constant-hazard cohort's survival only by sampling noise."""
    base = {"population.size": 50_000, "time.horizon_days": 365.25 / 2}
    monthly = ls.simulate(SCENARIOS / "validation" / "sbg.toml", seed=4, overrides=base).timeseries
    weekly = ls.simulate(
        SCENARIOS / "validation" / "sbg.toml", seed=4, overrides={**base, "time.step_days": 365.25 / 24}
    ).timeseries
    s_month = monthly["initial_active"].iloc[-1] / 50_000
    s_week = weekly["initial_active"].iloc[-1] / 50_000
    assert abs(s_month - s_week) < 4 * np.sqrt(s_month * (1 - s_month) / 50_000) * np.sqrt(2)


def test_step_length_changes_results_only_by_discretisation():
    """Daily and weekly steps give the same interaction rate and, within noise, the same retention and growth."""
    outcomes = {}
    for step_days in (1.0, 7.0):
        runs = [
            ls.simulate(
                SCENARIOS / "baseline.toml",
                seed=seed,
                overrides={"population.size": 20_000, "time.step_days": step_days, "time.horizon_days": 182},
            )
            for seed in (1, 2)
        ]
        ts = [r.timeseries for r in runs]
        months = ts[0]["day"].iloc[-1] / (365.25 / 12)
        outcomes[step_days] = {
            "interactions_per_customer_month": np.mean(
                [t["interactions"].sum() / (t["active"].mean() * months) for t in ts]
            ),
            "retention": np.mean([r.summary()["retention"] for r in runs]),
            "active_end": np.mean([t["active"].iloc[-1] for t in ts]),
        }
    day, week = outcomes[1.0], outcomes[7.0]
    assert week["interactions_per_customer_month"] == pytest.approx(day["interactions_per_customer_month"], rel=0.02)
    assert abs(week["retention"] - day["retention"]) < 1.5
    assert week["active_end"] == pytest.approx(day["active_end"], rel=0.03)
