"""Scenario files: every shipped file loads and runs; every kind of bad input gets a one-line error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import loyaltysim as ls
from conftest import ROOT, SCENARIOS
from loyaltysim.scenario import json_schema

SHIPPED = sorted(p for p in SCENARIOS.rglob("*.toml"))
QUICK = {"population.size": 1500, "time.horizon_days": 56}


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(SCENARIOS)) for p in SHIPPED])
def test_every_shipped_scenario_loads_and_runs(path):
    scenario = ls.load_scenario(path, QUICK)
    res = ls.simulate(scenario, seed=1)
    assert len(res.timeseries) == scenario.n_steps + 1
    assert scenario.description


def test_variants_change_only_what_they_say():
    base = ls.load_scenario(SCENARIOS / "baseline.toml")
    variant = ls.load_scenario(SCENARIOS / "cut-effort.toml")
    assert variant.touchpoints == base.touchpoints and variant.personas == base.personas
    assert set(variant.interventions) == {"callback_and_context", "app_redesign"}
    assert variant.interventions["callback_and_context"].effort.scale == 0.7


def test_json_schema_is_published_and_current():
    published = json.loads((SCENARIOS / "scenario.schema.json").read_text())
    assert published == json.loads(json.dumps(json_schema())), (
        "run: loyaltysim schema --out scenarios/scenario.schema.json"
    )


def test_overrides_parse_toml_values(baseline_path):
    s = ls.load_scenario(
        baseline_path,
        {
            "network.kind": "ring",
            "churn.enabled": "false",
            "stages.spend_multipliers": "[1, 1, 1, 1]",
            "population.size": "500",
        },
    )
    assert s.network.kind == "ring" and s.churn.enabled is False and s.population.size == 500
    assert s.stages.spend_multipliers == [1, 1, 1, 1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a file beside a copy of the shipped baseline (files extend it from their own folder)."""
    copy = tmp_path / "baseline.toml"
    if not copy.exists():
        copy.write_text((SCENARIOS / "baseline.toml").read_text())
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = 'extends = "baseline.toml"\n'

BAD = {
    "unknown-key": (BASE + "[touchpoints.app]\nefort = 0.2\n", "touchpoints.app.efort", "did you mean 'effort'"),
    "unknown-section": (BASE + "[marketting]\np = 1\n", "marketting", "unknown key"),
    "wrong-type": (BASE + '[population]\nsize = "many"\n', "population.size", "'many'"),
    "out-of-range": (
        BASE + "[touchpoints.phone_support]\neffort = 1.5\n",
        "touchpoints.phone_support.effort",
        "less than or equal to 1",
    ),
    "negative": (BASE + "[market]\nmarketing = -0.1\n", "market.marketing", "greater than or equal to 0"),
    "shares": (BASE + "[personas.value_seeker]\nshare = 0.9\n", "persona shares must sum to 1", "got 1.5"),
    "weights": (BASE + "[behaviour]\nneed_weight = 0.9\n", "behaviour", "must sum to 1"),
    "bad-change": (
        BASE + "[interventions.x]\neffort = { scale = 0.5, add = 0.1 }\n",
        "interventions.x.effort",
        "exactly one of set, scale, add",
    ),
    "bad-touchpoint": (BASE + '[interventions.x]\ntouchpoint = "fax"\n', "'fax' is not a touchpoint", "'app'"),
    "bad-toml": ("[population\nsize = 3\n", "not valid TOML", ""),
    "missing-extends": ('extends = "nowhere.toml"\n', "nowhere.toml", "file not found"),
    "extends-not-string": ("extends = 3\n", "extends = 3", "a file name"),
    "odd-degree": (BASE + "[network]\nmean_degree = 5\n", "network", "must be even"),
    "network-kind": (BASE + '[network]\nkind = "scale_free"\n', "network.kind", "'watts_strogatz'"),
    "set-out-of-range": (
        BASE + "[interventions.x]\neffort = { set = 5 }\n",
        "interventions.x.effort.set = 5",
        "range [0, 1]",
    ),
    "horizon-shorter-than-step": (BASE + "[time]\nstep_days = 30\nhorizon_days = 10\n", "time", "at least one step"),
    "too-many-visits": (
        BASE + "[time]\nstep_days = 366\nhorizon_days = 366\n[touchpoints.app]\nvisits_per_month = 100\n",
        "interactions a step",
        "at most 150",
    ),
    "tiny-beta": (
        BASE + "[personas.family_plan]\nchurn_a = 0.001\n",
        "personas.family_plan.churn_a",
        "greater than or equal to 0.01",
    ),
    # Scenarios written for model 1: a key model 2 replaced names what replaced it; a six-stage list says it changed.
    "old-competitor-pull": (
        BASE + "[market]\ncompetitor_pull = 0.01\n",
        "market.competitor_pull",
        "no longer a key",
        "[competitor] table",
    ),
    "old-price-sensitivity": (
        BASE + "[market]\nprice_sensitivity = 0.05\n",
        "market.price_sensitivity",
        "replaced by market.price_response",
    ),
    "old-six-stage-shares": (
        BASE + "[population]\ninitial_stage_shares = [0.15, 0.20, 0.30, 0.15, 0.12, 0.08]\n",
        "population",
        "now lists the 4 customer stages (desires, preferences, personalization, empathy)",
    ),
    "old-six-spend-multipliers": (
        BASE + "[stages]\nspend_multipliers = [0.7, 0.85, 1.0, 1.05, 1.15, 1.25]\n",
        "stages",
        "now lists the 4 customer stages",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_scenario_gives_one_line_error(tmp_path, case):
    text, *fragments = BAD[case]
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ls.ScenarioError) as info:
        ls.load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message or "nowhere.toml" in message
    for fragment in fragments:
        assert fragment in message, message


def test_an_override_of_a_replaced_key_names_what_replaced_it(baseline_path):
    with pytest.raises(
        ls.ScenarioError, match=r"market.competitor_pull: no longer a key: replaced by the \[competitor\]"
    ):
        ls.load_scenario(baseline_path, {"market.competitor_pull": 0.02})


def test_cyclic_extends(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ls.ScenarioError, match=r"extends.*no cycles"):
        ls.load_scenario(tmp_path / "a.toml")


def test_error_names_the_file_that_set_the_key(tmp_path):
    write(tmp_path, "parent.toml", BASE + "[touchpoints.app]\nempathy = 2.0\n")
    child = write(tmp_path, "child.toml", 'extends = "parent.toml"\nname = "child"\n')
    with pytest.raises(ls.ScenarioError) as info:
        ls.load_scenario(child)
    assert str(info.value).startswith(str(tmp_path / "parent.toml") + ": touchpoints.app.empathy = 2.0")


def test_missing_file():
    with pytest.raises(ls.ScenarioError, match="file not found"):
        ls.load_scenario("no/such/scenario.toml")


def test_bad_override_key_and_value(baseline_path):
    with pytest.raises(ls.ScenarioError, match=r"overrides: market\.imitaton: .*did you mean 'imitation'"):
        ls.load_scenario(baseline_path, {"market.imitaton": 0.1})
    with pytest.raises(ls.ScenarioError, match=r"population\.initial_customers = 2"):
        ls.load_scenario(baseline_path, {"population.initial_customers": 2})


def test_edge_list_network(tmp_path):
    edges = write(tmp_path, "edges.txt", "# friends\n0 1\n1,2\n2\t3\n3 0\n0 2\n")
    scenario = write(
        tmp_path, "s.toml", BASE + '[population]\nsize = 4\n[network]\nkind = "edge_list"\npath = "edges.txt"\n'
    )
    model = ls.LoyaltyModel(scenario, rng=1)
    assert model.network.degree().tolist() == [3, 2, 3, 2]
    assert str(edges) == model.params.network.path


@pytest.mark.parametrize(
    "content,fragment",
    [
        ("0 1\n1 x\n", "line 2: expected two node ids"),
        ("0 1\n2\n", "line 2"),
        ("0 1\n1 9\n", "line 2: node ids must lie in 0..3"),
    ],
)
def test_unreadable_edge_list(tmp_path, content, fragment):
    write(tmp_path, "edges.txt", content)
    scenario = write(
        tmp_path, "s.toml", BASE + '[population]\nsize = 4\n[network]\nkind = "edge_list"\npath = "edges.txt"\n'
    )
    with pytest.raises(ls.ScenarioError) as info:
        ls.LoyaltyModel(scenario, rng=1)
    assert fragment in str(info.value) and "network.path" in str(info.value)


def test_missing_edge_list(tmp_path):
    scenario = write(tmp_path, "s.toml", BASE + '[network]\nkind = "edge_list"\npath = "gone.txt"\n')
    with pytest.raises(ls.ScenarioError, match=r"gone\.txt.*edge-list file not found"):
        ls.simulate(scenario)


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("loyaltysim")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_cli_run_writes_outputs(tmp_path):
    out = tmp_path / "run"
    proc = cli("run", "scenarios/cut-effort.toml", "--seed", "3", "--set", "population.size=2000", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "retention of starting base" in proc.stdout
    for name in ("timeseries.parquet", "timeseries.csv", "timeseries.png"):
        assert (out / name).stat().st_size > 0
    import pandas as pd

    df = pd.read_parquet(out / "timeseries.parquet")
    assert df["scenario"].iloc[0] == "cut-effort" and df["seed"].iloc[0] == 3


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["run", "scenarios/nope.toml"], "file not found"),
        (["run", "scenarios/baseline.toml", "--set", "touchpoints.app.effort=3"], "touchpoints.app.effort = 3"),
        (["run", "scenarios/baseline.toml", "--set", "population.size"], "expected KEY=VALUE"),
        (["run", "scenarios/baseline.toml", "--engine", "fast"], "allowed: kernel, reference"),
    ],
)
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, fragment):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "timeseries.csv").write_text("precious")
    proc = cli(*args, "--out", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "timeseries.csv").read_text() == "precious"


def test_cli_params_and_schema():
    proc = cli("params")
    assert proc.returncode == 0 and "touchpoints.<name>.effort" in proc.stdout
    proc = cli("schema")
    assert json.loads(proc.stdout)["title"] == "loyaltysim scenario"


def test_variant_without_name_is_named_after_its_file(tmp_path):
    path = write(tmp_path, "my-variant.toml", BASE + "[market]\nprice = 1.1\n")
    assert ls.load_scenario(path).name == "my-variant"
    assert ls.load_scenario(path, {"name": "chosen"}).name == "chosen"


def test_interventions_that_push_visits_too_high_are_refused(tmp_path):
    path = write(
        tmp_path,
        "v.toml",
        BASE + "[time]\nstep_days = 91\nhorizon_days = 364\n"
        "[interventions.flood]\nstart_day = 100\nvisits_per_month = { set = 60 }\n",
    )
    with pytest.raises(ls.ScenarioError, match="interventions in force on step 3"):
        ls.simulate(path, overrides={"population.size": 100})


def test_edge_list_with_huge_id(tmp_path):
    write(tmp_path, "edges.txt", "0 1\n1 99999999999999999999999\n")
    scenario = write(
        tmp_path, "s.toml", BASE + '[population]\nsize = 4\n[network]\nkind = "edge_list"\npath = "edges.txt"\n'
    )
    with pytest.raises(ls.ScenarioError, match=r"network\.path"):
        ls.LoyaltyModel(scenario, rng=1)
