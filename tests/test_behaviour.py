"""Monotonicity under common random numbers, conservation, and the accounting of interventions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import loyaltysim as ls
from conftest import SCENARIOS

TOUCHPOINTS = ("app", "web", "phone_support", "store", "billing")
SEEDS = (1, 2, 3)


def mean_over_seeds(path, overrides, column, how="last"):
    values = []
    for seed in SEEDS:
        ts = ls.simulate(path, seed=seed, overrides=overrides).timeseries
        values.append(ts[column].iloc[-1] if how == "last" else ts[column].sum())
    return float(np.mean(values))


@pytest.mark.slow
def test_less_effort_never_lowers_retention():
    retention = []
    for effort in (0.7, 0.55, 0.4, 0.25, 0.1):
        overrides = {"population.size": 20_000, **{f"touchpoints.{t}.effort": effort for t in TOUCHPOINTS}}
        retention.append(mean_over_seeds(SCENARIOS / "baseline.toml", overrides, "initial_active"))
    assert all(b >= a for a, b in itertools.pairwise(retention)), retention
    assert retention[-1] > retention[0] * 1.02  # and the lever matters


@pytest.mark.slow
def test_more_negative_word_of_mouth_weight_never_raises_revenue():
    revenue = []
    for weight in (0.0, 1.0, 2.0, 4.0, 8.0):
        overrides = {"population.size": 20_000, "word_of_mouth.negative_weight": weight}
        revenue.append(mean_over_seeds(SCENARIOS / "baseline.toml", overrides, "revenue", how="sum"))
    assert all(b <= a for a, b in itertools.pairwise(revenue)), revenue
    assert revenue[-1] < revenue[0]


@pytest.mark.parametrize("path", ["baseline.toml", "cut-effort.toml", "validation/bass.toml"])
def test_conservation_and_bookkeeping(path):
    res = ls.simulate(SCENARIOS / path, seed=4, overrides={"population.size": 3000})
    ts = res.timeseries
    n = res.scenario.population.size
    assert (ts["prospects"] + ts["active"] + ts["churned"] == n).all()
    assert (ts[["needs", "expectations"]].sum(axis=1) == ts["prospects"]).all()  # prospects before the purchase
    customer_stages = ["at_risk", "desires", "preferences", "personalization", "empathy"]
    assert (ts[customer_stages].sum(axis=1) == ts["active"]).all()
    assert (ts["churned"] == (ts["churned_step"] - ts["won_back"]).cumsum()).all()
    assert (ts["prospects"].diff().iloc[1:] == (ts["won_back"] - ts["new_customers"]).iloc[1:]).all()
    assert (ts["lost_to_competitor"] <= ts["churned_step"] + 1e-9).all()
    assert (ts["initial_active"].diff().iloc[1:] <= 0).all()
    assert np.allclose(ts["profit"], ts["revenue"] - ts["cost"])
    assert ((ts["nps"].dropna() >= -100) & (ts["nps"].dropna() <= 100)).all()
    assert ((ts["ces"].dropna() >= 1) & (ts["ces"].dropna() <= 7)).all()


def test_intervention_costs_are_booked_once_per_month_and_per_interaction():
    # on every touchpoint, so that the per-interaction part is 0.3 x the interactions the outputs count
    overrides = {"population.size": 2000, "interventions.callback_and_context.touchpoint": "all"}
    scenario = ls.load_scenario(SCENARIOS / "cut-effort.toml", overrides)
    ts = ls.simulate(scenario, seed=1).timeseries
    expected = 1500 * scenario.months_per_step + 0.3 * ts["interactions"]
    expected.iloc[0] = 0.0  # the initial state costs nothing
    expected.iloc[1] += 15000 + 20000  # both one-off costs in the first step
    assert ts["interactions"].iloc[1:].min() > 0
    assert np.allclose(ts["intervention_cost"], expected, rtol=1e-12)


def test_interventions_start_on_their_day():
    late = ls.load_scenario(
        SCENARIOS / "cut-effort.toml",
        {
            "population.size": 2000,
            "interventions.callback_and_context.start_day": 70,
            "interventions.app_redesign.start_day": 70,
        },
    )
    ts = ls.simulate(late, seed=1).timeseries
    base = ls.simulate(SCENARIOS / "baseline.toml", seed=1, overrides={"population.size": 2000}).timeseries
    before = ts["step"] <= 10  # days 0-70: steps 1-10 start before day 70
    assert ts.loc[before, "ces"].equals(base.loc[before, "ces"])
    assert ts["ces"].iloc[12] < base["ces"].iloc[12]
    assert ts.loc[before, "intervention_cost"].sum() == 0
    assert ts["intervention_cost"].iloc[11] >= 35000


def test_price_lever_raises_revenue_per_customer_and_churn():
    base = ls.simulate(SCENARIOS / "baseline.toml", seed=2, overrides={"population.size": 5000}).timeseries
    dear = ls.simulate(
        SCENARIOS / "baseline.toml", seed=2, overrides={"population.size": 5000, "market.price": 1.5}
    ).timeseries
    assert dear["revenue"].iloc[1] > 1.4 * base["revenue"].iloc[1]
    assert dear["churned"].iloc[-1] > base["churned"].iloc[-1]


def test_nps_answers_spread_like_a_real_survey():
    """Issue 10: promoters and detractors each 15-45 % of the baseline's customers after one and three years."""
    for seed in range(1, 6):
        overrides = {"population.size": 20_000, "time.horizon_days": 3 * 364.0}
        ts = ls.simulate(SCENARIOS / "baseline.toml", seed=seed, overrides=overrides).timeseries
        for step in (52, 156):
            row = ts.iloc[step]
            for share in (row["promoters"] / row["active"], row["detractors"] / row["active"]):
                assert 0.15 <= share <= 0.45, (seed, step, share)
            assert row["nps"] == pytest.approx(100 * (row["promoters"] - row["detractors"]) / row["active"])


def test_more_loyal_customers_answer_higher():
    """Raising everyone's loyalty by the same amount raises NPS (the same people and draws: common random numbers)."""
    low = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=3, **{"population.size": 5000})
    high = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=3, **{"population.size": 5000})
    high.state.loyalty[:] = np.minimum(1.0, high.state.loyalty + 0.1)
    low._tally(0)
    high._tally(0)
    assert high.last["nps"] > low.last["nps"] + 10
