"""The virtual survey: each statistic on scenarios whose answer is known by construction, the baseline against the
seeds, the diary changes nothing, and bad inputs give one-line errors (exit 2 on the command line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from loyaltysim.errors import InputError
from loyaltysim.survey import QUESTIONS, survey
from loyaltysim.survey.questions import driver_shares

BASE = ROOT / "scenarios" / "baseline.toml"
SMALL = {
    "population.size": 3000,
    "time.horizon_days": 364.0,
}
EXE = str(Path(sys.executable).with_name("loyaltysim"))


def value(result, key: str, month: float | None = None) -> float:
    frame = result.to_frame()
    month = result.months[-1] if month is None else month
    return float(frame.loc[(frame["key"] == key) & (frame["month"] == month), "simulated"].iloc[0])


def small(**changes) -> dict:
    return {**SMALL, **changes}


def test_diary_changes_no_result():
    from loyaltysim.engine.model import LoyaltyModel

    plain = LoyaltyModel(BASE, rng=3, **SMALL)
    kept = LoyaltyModel(BASE, rng=3, diary=True, **SMALL)
    plain.run(10)
    kept.run(10)
    for a, b in zip(plain.state, kept.state, strict=True):
        assert np.array_equal(a, b)
    assert kept.diary.shape[1] == 3000 and plain.diary.shape[1] == 0
    assert kept.diary.sum() > 0
    assert plain.timeseries().equals(kept.timeseries())


def test_diary_counts_every_interaction():
    """The diary's interactions of a step are the step's interactions by touchpoint, summed."""
    from loyaltysim.engine.layout import Diary
    from loyaltysim.engine.model import LoyaltyModel

    model = LoyaltyModel(BASE, rng=1, diary=True, **SMALL)
    for _ in range(5):
        model.step()
        assert model.diary[Diary.USES].sum() == model.last["interactions"]
        assert (model.diary[Diary.FRUSTRATING] <= model.diary[Diary.USES]).all()
        assert (model.diary[Diary.BAD] + model.diary[Diary.GOOD] <= model.diary[Diary.USES]).all()
        # perceived quality and the expectation before each interaction are each in [0, 1]; an unmet need is worth 0
        assert (model.diary[Diary.QUALITY] <= model.diary[Diary.MET] + 1e-5).all()
        assert (model.diary[Diary.EXPECTED] <= model.diary[Diary.USES] + 1e-5).all() and model.diary.min() >= 0


def test_everyone_leaves_after_a_frustration_and_nobody_otherwise():
    certain = survey(BASE, replications=2, overrides=small(**{"churn.frustration_effect": 10.0}))
    assert value(certain, "frustrated_left") == 100.0
    never = survey(BASE, replications=2, overrides=small(**{"churn.enabled": False}))
    assert value(never, "frustrated_left") == 0.0


def test_nobody_tells_and_everyone_tells():
    silent = {"word_of_mouth.positive_share": 0.0, "word_of_mouth.negative_share": 0.0}
    result = survey(BASE, replications=2, overrides=small(**silent))
    assert value(result, "shared_bad") == 0.0 and value(result, "shared_good") == 0.0
    assert np.isnan(value(result, "retold"))
    loud = {"word_of_mouth.positive_share": 1.0, "word_of_mouth.negative_share": 1.0}
    result = survey(BASE, replications=2, overrides=small(**loud))
    assert value(result, "shared_bad") == 100.0 and value(result, "shared_good") == 100.0


@pytest.mark.parametrize("ratio", [1.0, 4.0])
def test_retold_is_the_ratio_of_reach_when_everyone_tells(ratio):
    reach = {
        "word_of_mouth.positive_share": 1.0,
        "word_of_mouth.negative_share": 1.0,
        "word_of_mouth.positive_reach": 0.1,
        "word_of_mouth.negative_reach": 0.1 * ratio,
    }
    result = survey(BASE, replications=3, overrides=small(**reach))
    assert value(result, "retold") == pytest.approx(ratio, rel=0.08)


def test_competitor_share_of_churn():
    none = survey(BASE, replications=2, overrides=small(**{"competitor.visibility": 0.0}))
    assert value(none, "competitor_left") == 0.0
    only = {
        "competitor.visibility": 0.2,
        "churn.frustration_effect": 0.0,
        **{f"personas.{p}.churn_b": 1e4 for p in ("value_seeker", "digital_native", "family_plan")},
    }
    result = survey(BASE, replications=2, overrides=small(**only))
    assert value(result, "competitor_left") > 99.0


@pytest.mark.parametrize("price,expected", [(0.5, 100.0), (1.5, 0.0)])
def test_pay_more_with_a_known_willingness_to_pay(price, expected):
    fixed = {"market.wtp_spread": 0.0, "market.wtp_experience": 0.0, "market.price": price}
    assert value(survey(BASE, replications=2, overrides=small(**fixed)), "pay_more") == expected


def test_nobody_buys_more_when_stages_never_advance():
    result = survey(BASE, replications=2, overrides=small(**{"stages.advance_prob": 0.0}))
    assert value(result, "personalised") == 0.0


def test_acquisition_ratio_from_the_money_flows():
    free = {f"touchpoints.{t}.cost_per_interaction": 0.0 for t in ("app", "web", "phone_support", "store", "billing")}
    free |= {f"touchpoints.{t}.recovery_cost": 0.0 for t in ("phone_support", "store")}
    costs = {"economics.acquisition_cost": 120.0, "economics.cost_to_serve_per_month": 2.0, **free}
    result = survey(BASE, replications=2, overrides=small(**costs))
    assert value(result, "acquisition_ratio") == pytest.approx(120.0 / 24.0, rel=1e-9)


def test_driver_shares_known_answers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20000, 2))
    y = 1.0 * x[:, 0] + 2.0 * x[:, 1]
    assert driver_shares(y, x) == pytest.approx([0.2, 0.8], abs=0.01)
    same = np.column_stack([x[:, 0], x[:, 0]])
    assert driver_shares(x[:, 0], same) == pytest.approx([0.5, 0.5])
    assert driver_shares(x[:, 1] + 0.01 * x[:, 0], x) == pytest.approx([0.0, 1.0], abs=0.001)


def test_effort_share_follows_the_pyramid_weights():
    ease_only = survey(
        BASE, replications=2, overrides=small(**{"behaviour.ease_weight": 0.6, "behaviour.feel_weight": 0.0})
    )
    feel_only = survey(
        BASE, replications=2, overrides=small(**{"behaviour.ease_weight": 0.0, "behaviour.feel_weight": 0.6})
    )
    assert value(ease_only, "effort_share") > 50 > value(feel_only, "effort_share")


def test_nps_is_the_model_own_answer_and_stage_shares_add_up():
    from loyaltysim.runs.simulate import simulate

    result = survey(BASE, replications=1, months=[6], overrides=SMALL)
    run = simulate(BASE, seed=0, overrides=SMALL)
    row = run.to_frame().iloc[26]  # month 6 of weekly steps
    assert value(result, "nps") == pytest.approx(row["nps"], abs=1e-9)
    stages = [value(result, q.key) for q in QUESTIONS if q.key.startswith("stage_")]
    assert sum(stages) == pytest.approx(100.0)
    answers = result.answers
    assert answers[[str(k) for k in range(11)]].sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_every_statistic_is_defined_in_the_docs():
    doc = (ROOT / "docs" / "survey.md").read_text(encoding="utf-8")
    for q in QUESTIONS:
        assert f"`{q.key}`" in doc, q.key
        assert q.definition
    assert all(q.tag in ("emergent", "input", "not expressible") for q in QUESTIONS)


REPRODUCED = ("shared_bad", "shared_good", "retold", "pay_more", "acquisition_ratio")
"""The seed statistics the shipped baseline reproduces; docs/survey.md says why the others do not (competitor_left:
the telecom calibration trades it for the retention curve, docs/calibration.md)."""


@pytest.mark.slow
def test_baseline_reproduces_the_seeds():
    result = survey(BASE, replications=5)
    frame = result.to_frame().set_index("key")
    for key in REPRODUCED:
        q = next(q for q in QUESTIONS if q.key == key)
        row = frame.loc[key]
        assert q.low <= row["simulated"] <= q.high, (key, row["simulated"], q.low, q.high)
        assert row["verdict"].startswith("within"), (key, row["verdict"])
    assert frame.loc["experience_as_product", "verdict"] == "not expressible"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"replications": 0}, "replications"),
        ({"months": [13]}, "month = 13"),
        ({"months": [3]}, "month = 3"),
        ({"months": ["soon"]}, "month = 'soon'"),
        ({"window_days": 0}, "window_days"),
        ({"window_days": 1}, "window_days"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match) as info:
        survey(BASE, **kwargs)
    assert "\n" not in str(info.value)


def cli(*args, cwd=ROOT):
    return subprocess.run([EXE, "survey", *args], capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.mark.parametrize(
    "args,match",
    [
        (["--replications", "0"], "--replications 0"),
        (["--month", "13"], "--month 13"),
        (["--month", "2"], "--month 2"),
        (["--month", "soon"], "month"),
        (["--format", "xml"], "--format 'xml'"),
        (["--set", "market.price=-1"], "market.price"),
    ],
)
def test_cli_bad_inputs_exit_2(args, match):
    proc = cli(str(BASE), *args)
    assert proc.returncode == 2, proc.stderr
    assert match in proc.stderr
    if "soon" not in args:
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_cli_text_csv_json_and_out(tmp_path):
    sets = ["--set", "population.size=2000", "-n", "2"]
    text = cli(str(BASE), *sets)
    assert text.returncode == 0, text.stderr
    assert "stop doing business after a frustrating experience" in text.stdout and "verdict" in text.stdout
    csv = cli(str(BASE), *sets, "--format", "csv", "--month", "8", "--month", "12")
    assert csv.returncode == 0 and csv.stdout.startswith("month,key,statistic")
    assert csv.stdout.count("\n8.0,") == len(QUESTIONS)
    out = tmp_path / "survey"
    js = cli(str(BASE), *sets, "--format", "json", "--out", str(out))
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["replications"] == 2 and len(data["rows"]) == len(QUESTIONS)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "answers.csv",
        "loyaltysim.json",
        "survey.csv",
        "survey.json",
        "survey.png",
    ]
    again = cli(str(BASE), *sets, "--out", str(out))
    assert again.returncode == 0, again.stderr
