"""The properties model 2 promises (issue 10), as statistical tests with common random numbers.

Every test runs the baseline telecom with at least 20,000 people over at least 5 seeds; the same seed gives the same
people, network and draws in every variant, so differences between variants are paired and small. "Never worse
beyond noise" is a one-sided paired Student-t test of each step between adjacent levels at alpha = 0.001 (with 5
seeds the standard error is itself estimated from 4 degrees of freedom, and the lever test makes 234 such
comparisons, so about 0.2 false alarms are expected over all of them), with a standard error of at least one
customer's worth of the metric; "no cliff" means that, where a lever's whole effect exceeds five standard errors, no
step between adjacent levels is more than three times the mean step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from conftest import SCENARIOS
from loyaltysim.engine.layout import (
    ADOPTED,
    AT_RISK,
    CHURNED,
    DESIRES,
    EMPATHY,
    EXPECTATIONS,
    NEEDS,
    STAGE_CODES,
)
from loyaltysim.engine.model import LoyaltyModel
from loyaltysim.vocabulary import MONTH_DAYS

BASELINE = SCENARIOS / "baseline.toml"
SIZE = 20_000
SEEDS = (1, 2, 3, 4, 5)
TOUCHPOINTS = ("app", "web", "phone_support", "store", "billing")
YEAR = 364.0
T_CRITICAL = float(student_t.ppf(0.999, len(SEEDS) - 1))
"""One-sided paired t-test at alpha = 0.001 with len(SEEDS) - 1 degrees of freedom (7.17 for 5 seeds)."""


def run(overrides=None, seed=1, size=SIZE, days=YEAR, path=BASELINE):
    """The time series of one run of the baseline with overrides."""
    o = {"population.size": size, "time.horizon_days": days}
    o.update(overrides or {})
    model = LoyaltyModel(path, rng=seed, **o)
    model.run()
    return model.timeseries()


def outcomes(ts):
    """12-month retention of the starting base (%), NPS and active customers at the end."""
    last = ts.iloc[-1]
    return {
        "retention": 100.0 * last.initial_active / ts.initial_active.iloc[0],
        "nps": float(last.nps),
        "active": float(last.active),
    }


def all_touchpoints(lever, add):
    """Overrides that add ``add`` to one lever of every baseline touchpoint (clipped to [0, 1])."""
    from loyaltysim.scenario import load_scenario

    s = load_scenario(BASELINE)
    return {f"touchpoints.{t}.{lever}": min(1.0, max(0.0, getattr(s.touchpoints[t], lever) + add)) for t in TOUCHPOINTS}


def levels_of(lever_key, values):
    if callable(lever_key):
        return [lever_key(v) for v in values]
    return [{lever_key: v} for v in values]


# Each lever: (name, how a level becomes overrides, 7 levels in the direction that should help).
LEVERS = [
    ("fulfilment, phone", "touchpoints.phone_support.fulfilment", np.linspace(0.6, 0.96, 7)),
    ("fulfilment, all", lambda d: all_touchpoints("fulfilment", d), np.linspace(-0.15, 0.04, 7)),
    ("effort down, phone", "touchpoints.phone_support.effort", np.linspace(0.9, 0.3, 7)),
    ("effort down, all", lambda d: all_touchpoints("effort", d), np.linspace(0.3, -0.25, 7)),
    ("empathy, phone", "touchpoints.phone_support.empathy", np.linspace(0.2, 0.95, 7)),
    ("empathy, all", lambda d: all_touchpoints("empathy", d), np.linspace(-0.1, 0.4, 7)),
    ("personalization, phone", "touchpoints.phone_support.personalization", np.linspace(0.1, 0.9, 7)),
    ("personalization, all", lambda d: all_touchpoints("personalization", d), np.linspace(-0.15, 0.4, 7)),
    ("recovery, phone", "touchpoints.phone_support.recovery", np.linspace(0.0, 0.9, 7)),
    ("recovery, all", lambda d: all_touchpoints("recovery", d), np.linspace(0.0, 0.6, 7)),
    ("marketing", "market.marketing", np.linspace(0.0005, 0.008, 7)),
    ("price down", "market.price", np.linspace(1.3, 0.7, 7)),
    (
        "competitor experience down",
        lambda e: {"competitor.empathy": e, "competitor.personalization": e},
        np.linspace(0.7, 0.1, 7),
    ),
]


COHORT = 0.3 * SIZE  # population.initial_customers of the baseline
RESOLUTION = {"retention": 100.0 / COHORT, "nps": 100.0 / (0.25 * SIZE), "active": 1.0}
"""One customer in each metric (of the starting base, of the customers, a count): no test can resolve less."""


def dose_response(lever_key, values, seeds=SEEDS):
    """Outcome by level and seed: {metric: array (levels, seeds)}."""
    table = {k: np.zeros((len(values), len(seeds))) for k in ("retention", "nps", "active")}
    for a, overrides in enumerate(levels_of(lever_key, values)):
        for b, seed in enumerate(seeds):
            for k, v in outcomes(run(overrides, seed)).items():
                table[k][a, b] = v
    return table


@pytest.mark.slow
@pytest.mark.parametrize(("name", "lever_key", "values"), LEVERS, ids=[lv[0] for lv in LEVERS])
def test_levers_are_monotone_without_cliffs(name, lever_key, values):
    table = dose_response(lever_key, values)
    moved = {}
    for metric, x in table.items():
        steps = np.diff(x, axis=0)  # (levels - 1, seeds): paired differences of adjacent levels
        mean = steps.mean(axis=1)
        se = steps.std(axis=1, ddof=1) / math.sqrt(len(SEEDS))
        floor = RESOLUTION[metric]
        worse = mean < -T_CRITICAL * np.maximum(se, floor)
        assert not worse.any(), f"{name}: {metric} gets worse between levels {np.flatnonzero(worse)}: {mean} +- {se}"
        whole = x[-1] - x[0]
        whole_se = whole.std(ddof=1) / math.sqrt(len(SEEDS))
        moved[metric] = whole.mean() > 5.0 * max(whole_se, floor)
        if moved[metric]:
            assert np.max(np.abs(mean)) <= 3.0 * np.mean(np.abs(mean)), f"{name}: a cliff in {metric}: steps {mean}"
    assert any(moved.values()), f"{name}: the lever moves none of {list(table)} by five standard errors"


@pytest.mark.slow
def test_every_customer_stage_is_reached_and_none_dominates():
    """Stages desires ... empathy hold >= 3 % of customers at months 12 and 36; >= 1 % of adopters reach empathy."""
    for seed in SEEDS:
        model = LoyaltyModel(BASELINE, rng=seed, **{"population.size": SIZE, "time.horizon_days": 3 * YEAR})
        adopters = np.zeros(SIZE, bool)
        reached = np.zeros(SIZE, bool)
        for step in range(1, model.plan.n_steps + 1):
            model.step()
            if step <= 104:
                adopters |= (model.state.flags & ADOPTED) != 0
                reached |= adopters & (model.state.stage == EMPATHY)
            if step in (52, 156):
                row = model.last
                for stage in ("desires", "preferences", "personalization", "empathy"):
                    share = row[stage] / row["active"]
                    assert 0.03 <= share <= 0.60, f"seed {seed}, step {step}: {stage} holds {share:.1%}"
        assert adopters.sum() > 500
        assert reached.sum() / adopters.sum() >= 0.01, f"seed {seed}: {reached.sum()} of {adopters.sum()} adopters"


def test_purchase_happens_at_desires_and_prospects_are_at_needs_and_expectations():
    model = LoyaltyModel(BASELINE, rng=4, **{"population.size": 5000})
    plan = model.plan
    assert plan.spend_multipliers[NEEDS] == plan.spend_multipliers[EXPECTATIONS] == plan.spend_multipliers[CHURNED] == 0
    assert plan.spend_multipliers[AT_RISK] == plan.spend_multipliers[DESIRES] > 0  # slipping below: still paying
    new = 0
    for _ in range(plan.n_steps):
        model.step()
        stage, flags = model.state.stage, model.state.flags
        adopted = (flags & ADOPTED) != 0
        assert (stage[adopted] == DESIRES).all()  # every purchase at desires
        new += int(adopted.sum())
        row = model.last
        assert row["prospects"] == row["needs"] + row["expectations"] == int((stage <= EXPECTATIONS).sum())
        customers = (stage >= AT_RISK) & (stage <= EMPATHY)
        assert row["active"] == int(customers.sum())
        assert row["at_risk"] == int((stage == AT_RISK).sum())
        spend = plan.spend[model.state.persona] * plan.spend_multipliers[stage]
        assert row["revenue"] == pytest.approx(spend.sum() * plan.price[model.steps] * plan.months)
        assert (spend[~customers] == 0).all()
    assert new > 100


def test_customers_who_slip_below_desires_churn_more():
    """At risk: still paying, and with the same loyalty, more likely to leave (stages.at_risk_churn)."""
    ts_base = [run({"stages.at_risk_churn": 1.0}, seed) for seed in SEEDS[:3]]
    ts_risk = [run({"stages.at_risk_churn": 3.0}, seed) for seed in SEEDS[:3]]
    assert all(t.at_risk.iloc[-1] > 0.03 * t.active.iloc[-1] for t in ts_base)
    churn = [(b.churned_step.sum(), r.churned_step.sum()) for b, r in zip(ts_base, ts_risk, strict=True)]
    assert all(r > b for b, r in churn)


def _paired(metric, a_over, b_over, seeds=SEEDS, days=YEAR, path=BASELINE):
    diffs = []
    for seed in seeds:
        diffs.append(metric(run(b_over, seed, days=days, path=path)) - metric(run(a_over, seed, days=days, path=path)))
    d = np.array(diffs)
    return d.mean(), d.std(ddof=1) / math.sqrt(len(d))


def _retention(ts):
    return outcomes(ts)["retention"]


def _adoption(ts):
    return float(ts.new_customers.sum())


@pytest.mark.slow
def test_price_cut_raises_adoption_and_retention_and_a_rise_lowers_them():
    for metric in (_retention, _adoption):
        cut, se_cut = _paired(metric, {}, {"market.price": 0.9})
        rise, se_rise = _paired(metric, {}, {"market.price": 1.1})
        assert cut > 3 * se_cut, f"{metric.__name__}: a 10 % cut changes it by {cut:+.2f} +- {se_cut:.2f}"
        assert rise < -3 * se_rise, f"{metric.__name__}: a 10 % rise changes it by {rise:+.2f} +- {se_rise:.2f}"


def terminal_value(ts, scenario_months_per_step, annual_discount=0.1):
    """Discounted expected margin of the customers active at the end, under the churn of the last year.

    Each customer's monthly margin (profit before acquisition, per active customer-month, over the last year) is
    received while they stay; with monthly churn c and monthly discount rate r the expected value is m / (c + r).
    """
    last_year = ts.iloc[-round(12 / scenario_months_per_step) :]
    months = scenario_months_per_step * len(last_year)
    customer_months = float(last_year.active.mean()) * months
    if customer_months == 0:
        return 0.0
    margin = float((last_year.profit + last_year.acquisition_cost).sum()) / customer_months
    churn = float(last_year.churned_step.sum()) / customer_months
    r = (1 + annual_discount) ** (1 / 12) - 1
    return float(ts.active.iloc[-1]) * margin / (churn + r)


@pytest.mark.slow
def test_profit_maximising_price_lies_inside_the_allowed_range():
    """Over five years with the terminal value of the customers kept, the best price is neither tiny nor huge."""
    prices = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0]
    value = np.zeros((len(prices), 2))
    for a, price in enumerate(prices):
        for b, seed in enumerate((1, 2)):
            ts = run({"market.price": price}, seed, days=5 * YEAR)
            value[a, b] = ts.profit.sum() + terminal_value(ts, 7.0 / MONTH_DAYS)
    best = int(value.mean(axis=1).argmax())
    assert 0 < best < len(prices) - 1, f"profit by price: {dict(zip(prices, value.mean(axis=1).round(), strict=True))}"


@pytest.mark.slow
def test_step_length_changes_nothing_beyond_noise():
    """Daily, weekly and monthly steps: same retention, NPS, word of mouth per customer-month and adoption."""
    seeds = range(1, 11)

    def measures(step_days):
        rows = []
        for seed in seeds:
            ts = run({"time.step_days": step_days}, seed)
            months = step_days / MONTH_DAYS
            customer_months = float(ts.active.iloc[1:].sum()) * months
            rows.append(
                [
                    outcomes(ts)["retention"],
                    float(ts.nps.iloc[-1]),
                    float((ts.wom_positive + ts.wom_negative).sum()) / customer_months,
                    float(ts.new_customers.sum()),
                ]
            )
        return np.array(rows)

    weekly = measures(7.0)
    for step_days in (1.0, YEAR / 12):
        other = measures(step_days)
        diff = other.mean(axis=0) - weekly.mean(axis=0)
        se = np.sqrt(other.var(axis=0, ddof=1) / len(other) + weekly.var(axis=0, ddof=1) / len(weekly))
        names = ["retention", "nps", "tellings per customer-month", "adoption"]
        bad = {n: (round(d, 3), round(s, 3)) for n, d, s in zip(names, diff, se, strict=True) if abs(d) > 3 * s}
        assert not bad, f"step of {step_days:g} days vs weekly: {bad}"


def test_a_better_competitor_draws_more_churn_and_an_invisible_one_none():
    better = {"competitor.empathy": 0.7, "competitor.personalization": 0.7, "competitor.effort": 0.2}
    for seed in SEEDS[:3]:
        base = run({}, seed)
        strong = run(better, seed)
        hidden = run({"competitor.visibility": 0.0}, seed)
        assert strong.lost_to_competitor.sum() > base.lost_to_competitor.sum() > 0
        assert strong.churned_step.sum() > base.churned_step.sum() > hidden.churned_step.sum()
        assert hidden.lost_to_competitor.sum() == 0.0


def test_conservation_with_win_back():
    ts = run({"churn.win_back": 0.2, "population.size": 5000}, 2, days=2 * YEAR)
    assert ts.won_back.sum() > 50
    people = ts.prospects + ts.active + ts.churned
    assert (people == 5000).all()
    flows = ts.new_customers - ts.churned_step
    assert (ts.active.diff().iloc[1:] == flows.iloc[1:]).all()
    assert (ts.churned.diff().iloc[1:] == (ts.churned_step - ts.won_back).iloc[1:]).all()
    assert (ts.prospects.diff().iloc[1:] == (ts.won_back - ts.new_customers).iloc[1:]).all()
    assert (ts.initial_active.diff().iloc[1:] <= 0).all()  # a customer won back is not the starting base again


def test_stage_codes_follow_the_spectrum():
    assert [
        STAGE_CODES[s] for s in ("needs", "expectations", "desires", "preferences", "personalization", "empathy")
    ] == [
        NEEDS,
        EXPECTATIONS,
        DESIRES,
        DESIRES + 1,
        DESIRES + 2,
        EMPATHY,
    ]


EFFORT_FIRST = SCENARIOS / "alternatives" / "effort-first.toml"
LESS_EFFORT = {
    "touchpoints.phone_support.effort": 0.3,
    "touchpoints.app.effort": 0.15,
    "touchpoints.web.effort": 0.2,
    "touchpoints.store.effort": 0.25,
    "touchpoints.billing.effort": 0.2,
}
MORE_EMPATHY = {
    "touchpoints.phone_support.empathy": 0.75,
    "touchpoints.app.empathy": 0.5,
    "touchpoints.web.empathy": 0.5,
    "touchpoints.store.empathy": 0.85,
    "touchpoints.billing.empathy": 0.4,
}


def _flat(data, prefix=""):
    out = {}
    for k, v in data.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def test_effort_first_is_the_baseline_but_for_its_marked_keys():
    from loyaltysim.scenario import load_scenario

    base = _flat(load_scenario(BASELINE).model_dump())
    alt = _flat(load_scenario(EFFORT_FIRST).model_dump())
    table, marked = None, set()
    for line in EFFORT_FIRST.read_text().splitlines():
        if line.startswith("["):
            table = line.strip("[]")
        elif "# effort-first:" in line:
            marked.add(f"{table}.{line.split('=')[0].strip()}")
    differ = {k for k in base if base[k] != alt[k]}
    assert differ == marked | {"name", "description"}


@pytest.mark.slow
def test_the_two_views_disagree_on_which_lever_keeps_customers():
    """Baseline (seed 004): more empathy keeps more customers than less effort; effort-first: the other way round."""
    for path, emotion_wins in ((BASELINE, True), (EFFORT_FIRST, False)):
        effort, se_e = _paired(_retention, {}, LESS_EFFORT, path=path)
        empathy, se_m = _paired(_retention, {}, MORE_EMPATHY, path=path)
        assert effort > 3 * se_e and empathy > 3 * se_m
        gap = empathy - effort if emotion_wins else effort - empathy
        assert gap > 3 * math.hypot(se_e, se_m), f"{path.name}: effort {effort:+.2f}, empathy {empathy:+.2f}"


@pytest.mark.slow
def test_the_findings_script_writes_its_table_and_figure(tmp_path):
    """experiments/findings.py (docs/findings.md and its figure) keeps working: a quick run writes both."""
    import importlib.util

    path = SCENARIOS.parent / "experiments" / "findings.py"
    spec = importlib.util.spec_from_file_location("findings", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--out", str(tmp_path)])
    text = (tmp_path / "findings.md").read_text()
    assert "| purchase at desires |" in text and "profit-maximising price" in text
    assert (tmp_path / "dose-response.png").stat().st_size > 10_000
