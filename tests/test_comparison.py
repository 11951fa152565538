"""Scenario comparison: interval coverage, common random numbers, determinism, shipped levers, report, CLI errors."""

from __future__ import annotations

import base64
import json
import re
import shlex

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import loyaltysim as ls
from conftest import ROOT, SCENARIOS
from loyaltysim.cli import app
from loyaltysim.comparisons.report import FIGURES
from loyaltysim.comparisons.run import DEFAULT_CHECKPOINTS, compare
from loyaltysim.comparisons.text import format_value, text_table
from loyaltysim.runs.metrics import checkpoint_steps
from loyaltysim.runs.statistics import t_interval, welch_interval

SMALL = {"population.size": 2000}
TELECOM = [SCENARIOS / f"{n}.toml" for n in ("baseline", "cut-effort", "add-empathy", "personalize")]
RETAIL = [SCENARIOS / "retail" / f"{n}.toml" for n in ("baseline", "cut-effort", "add-empathy", "personalize")]


@pytest.fixture(scope="module")
def small() -> ls.comparison.Comparison:
    return compare(TELECOM[:3], replications=4, seed=3, overrides=SMALL)


# --- intervals ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 8, 30])
def test_t_interval_covers_known_mean_at_nominal_rate(n):
    trials = 6000
    x = np.random.default_rng(n).normal(3.0, 2.0, size=(trials, n))
    mean, lo, hi = t_interval(x, 0.95, axis=1)
    coverage = np.mean((lo <= 3.0) & (hi >= 3.0))
    assert abs(coverage - 0.95) < 4 * np.sqrt(0.95 * 0.05 / trials)
    np.testing.assert_allclose(mean, x.mean(axis=1))


def test_welch_interval_covers_known_difference_with_unequal_variances():
    rng = np.random.default_rng(7)
    trials = 6000
    x, y = rng.normal(1.0, 1.0, (trials, 6)), rng.normal(0.0, 3.0, (trials, 6))
    _diff, lo, hi = welch_interval(x, y, 0.95, axis=1)
    coverage = np.mean((lo <= 1.0) & (hi >= 1.0))
    assert abs(coverage - 0.95) < 4 * np.sqrt(0.95 * 0.05 / trials)


def test_one_replication_has_no_interval():
    mean, lo, hi = t_interval(np.array([[2.0], [3.0]]))
    assert list(mean) == [2.0, 3.0] and np.isnan(lo).all() and np.isnan(hi).all()


# --- metrics ------------------------------------------------------------------------------------------------------


def test_checkpoints_are_clipped_to_the_horizon():
    spec = ls.load_scenario(TELECOM[0], {"time.horizon_days": 182})
    assert checkpoint_steps(spec, DEFAULT_CHECKPOINTS) == [(3.0, 13), (6.0, 26)]
    assert checkpoint_steps(spec, [1, 12]) == [(1.0, 4), (6.0, 26)]
    assert checkpoint_steps(ls.load_scenario(TELECOM[0]), DEFAULT_CHECKPOINTS)[-1] == (12.0, 52)
    assert checkpoint_steps(spec, [0]) == [(0.0, 0), (6.0, 26)]  # month 0 is the initial state, as in sweeps


def test_metrics_follow_their_definitions(small):
    runs, reps = small.runs, small.replicates
    month, step = small.checkpoints[-1]
    months = small.scenarios[0].months_per_step
    for (name, rep), run in runs.groupby(["scenario", "replication"]):
        row = reps[(reps["scenario"] == name) & (reps["replication"] == rep) & (reps["step"] == step)].iloc[0]
        window = run[(run["step"] >= 1) & (run["step"] <= step)]
        assert row["retention"] == pytest.approx(100 * run["initial_active"].iloc[step] / run["initial_active"].iloc[0])
        assert row["profit"] == pytest.approx(window["profit"].sum())
        churn = window["churned_step"].sum() / (run["active"].iloc[:step].sum() * months)
        assert row["churn_rate"] == pytest.approx(100 * churn)
        year = run[(run["step"] > step - 52) & (run["step"] <= step)]  # the last 12 months (52 weekly steps)
        served = year["active"].sum() * months
        margin = (year["profit"].sum() + year["acquisition_cost"].sum() + year["one_off_cost"].sum()) / served
        keep = 1 - year["churned_step"].sum() / (run["active"].iloc[step - 52 : step].sum() * months)
        d = 1.1 ** (1 / 12) - 1
        assert row["clv"] == pytest.approx(margin * keep / (1 + d - keep))
        discount = (1 + d) ** (-months * window["step"].to_numpy())
        terminal = run["active"].iloc[step] * row["clv"] * (1 + d) ** (-months * step)
        assert row["terminal_value"] == pytest.approx(terminal)
        assert row["value"] == pytest.approx((window["profit"].to_numpy() * discount).sum() + terminal)
        base = reps[(reps["scenario"] == small.baseline) & (reps["replication"] == rep) & (reps["step"] == step)]
        if name != small.baseline:
            expected = (row["profit"] - base["profit"].iloc[0]) / (row["intervention_cost"] - 0.0)
            assert row["roi"] == pytest.approx(expected)
            extra = row["intervention_value"] - base["intervention_value"].iloc[0]
            assert row["break_even"] == pytest.approx(1 + (row["value"] - base["value"].iloc[0]) / extra)
        else:
            assert np.isnan(row["roi"]) and np.isnan(row["payback"]) and np.isnan(row["break_even"])
    df = small.to_frame(["retention"])
    horizon = df[(df["month"] == month) & (df["scenario"] == "cut-effort")].iloc[0]
    d = reps[reps["step"] == step].pivot(index="replication", columns="scenario", values="retention")
    assert horizon["diff"] == pytest.approx((d["cut-effort"] - d[small.baseline]).mean())


def test_value_of_a_constant_churn_cohort_is_the_closed_form():
    """Discounted profit plus terminal value of a cohort that keeps r a month and earns m is m A r / (1 + d - r),
    whatever the horizon (the terminal value carries the same churn forward)."""
    from loyaltysim.runs.metrics import at_checkpoint

    steps, a0, r, m, d = 48, 1000.0, 0.97, 12.0, 0.01
    active = a0 * r ** np.arange(steps + 1)
    zero = np.zeros(steps + 1)
    series = {name: zero.copy() for name in ls.engine.layout.COLUMNS}
    series.update(active=active, initial_active=active, profit=np.r_[0.0, m * active[1:]])
    series["churned_step"] = np.r_[0.0, active[:-1] - active[1:]]
    series["interactions"] = np.ones(steps + 1)
    for k in (12, 24, 48):
        out = at_checkpoint(series, k, 1.0, 10_000, d)
        assert out["clv"] == pytest.approx(m * r / (1 + d - r))
        assert out["terminal_value"] == pytest.approx(active[k] * m * r / (1 + d - r) / (1 + d) ** k)
        assert out["value"] == pytest.approx(m * a0 * r / (1 + d - r))


def test_every_sweep_metric_is_read_from_one_run():
    """Sweeps record every metric that one run gives; the relative ones (ROI, payback, break-even) need a baseline."""
    from loyaltysim.runs.metrics import RELATIVE_METRICS
    from loyaltysim.sweeps.experiment import SWEEP_METRICS

    res = ls.simulate(TELECOM[0], seed=1, overrides={"population.size": 1000})
    got = res.metrics(6)
    assert set(SWEEP_METRICS) <= set(got) and not set(RELATIVE_METRICS) & set(SWEEP_METRICS)


def test_payback_and_break_even_of_a_known_lever():
    """A lever costing 100 in month 1 and gaining 10 a month after pays back in month 12 (cumulative 0 at 11)."""
    from loyaltysim.runs.metrics import break_even, payback

    base = np.zeros(37)
    lever = np.r_[0.0, -100.0, np.full(35, 10.0)]
    assert payback(lever, base, 36, 1.0) == pytest.approx(12.0)
    assert payback(lever, base, 24, 0.5) == pytest.approx(6.0)  # half-month steps: step 12
    assert np.isnan(payback(lever, base, 10, 1.0))  # not yet above zero at month 10
    assert np.isnan(payback(-lever, base, 36, 1.0))
    dip = lever.copy()
    dip[20] = -150.0  # cumulative 80 at month 19, -70 at 20, 0 at 27: payback only after the dip
    assert payback(dip, base, 36, 1.0) == pytest.approx(28.0)
    # value gain 250 on an extra discounted cost of 100: the lever still pays at 3.5 x its cost
    assert break_even(np.array(1250.0), np.array(100.0), np.array(1000.0), np.array(0.0)) == pytest.approx(3.5)
    assert np.isnan(break_even(np.array(1.0), np.array(0.0), np.array(0.0), np.array(0.0)))


def test_zero_effects_are_not_marked(small):
    """A difference is marked only if its interval excludes zero and it is large enough to matter."""
    table = small.to_frame()
    assert not (table["marked"] & ~table["excludes_zero"]).any()
    tiny = table[(table["scenario"] != small.baseline) & table["diff"].notna()]
    for _, row in tiny.iterrows():
        base = table[(table["scenario"] == small.baseline) & (table["metric"] == row["metric"])]
        base = base[base["month"] == row["month"]]["mean"].iloc[0]
        if row["marked"]:
            assert abs(row["diff"]) >= small.practical * abs(base)
            assert format_value(row["diff"], row["metric"], True).strip("+-0.,") != ""


# --- common random numbers, determinism -------------------------------------------------------------------------


def test_paired_intervals_much_narrower_than_independent():
    base = ls.load_scenario(TELECOM[0], {"population.size": 3000})
    lever = base.with_overrides({"name": "phone-effort-minus-10pct", "touchpoints.phone_support.effort": 0.54})
    widths = {}
    for independent in (False, True):
        df = compare([base, lever], replications=8, seed=5, independent=independent).to_frame(["retention", "active"])
        row = df[(df["scenario"] == lever.name)].groupby("metric").last()
        widths[independent] = row["diff_high"] - row["diff_low"]
    ratio = widths[False] / widths[True]
    assert (ratio < 0.25).all(), ratio.to_dict()  # measured: about 0.07


def test_jobs_two_equals_jobs_one_exactly():
    one = compare(TELECOM[:2], replications=3, seed=11, overrides=SMALL, jobs=1)
    two = compare(TELECOM[:2], replications=3, seed=11, overrides=SMALL, jobs=2)
    pd.testing.assert_frame_equal(one.runs, two.runs, check_exact=True)
    pd.testing.assert_frame_equal(one.to_frame(), two.to_frame(), check_exact=True)


def test_same_seed_same_table_other_seed_other_table(small):
    again = compare(TELECOM[:3], replications=4, seed=3, overrides=SMALL)
    pd.testing.assert_frame_equal(small.to_frame(), again.to_frame(), check_exact=True)
    assert text_table(small) == text_table(again)
    other = compare(TELECOM[:3], replications=4, seed=4, overrides=SMALL)
    assert not small.to_frame()["mean"].equals(other.to_frame()["mean"])


def test_independent_seeds_differ_between_scenarios():
    c = compare(TELECOM[:2], replications=2, seed=0, overrides=SMALL, independent=True)
    seeds = c.runs.groupby("scenario")["seed"].unique()
    assert set(seeds["baseline"]).isdisjoint(seeds["cut-effort"])


@pytest.mark.parametrize("files", [TELECOM, RETAIL], ids=["telecom", "retail"])
def test_cutting_effort_raises_retention_in_shipped_scenarios(files):
    c = compare([files[0], files[1]], replications=10, seed=0)
    row = c.to_frame(["retention", "ces"])
    horizon = row[(row["month"] == c.horizon_month) & (row["scenario"] == c.names[1])].set_index("metric")
    assert horizon.loc["retention", "diff_low"] > 0 and horizon.loc["retention", "excludes_zero"]
    assert horizon.loc["ces", "diff_high"] < 0  # and it is felt as easier


def test_shipped_variants_state_their_costs():
    for files in (TELECOM, RETAIL):
        for path in files[1:]:
            spec = ls.load_scenario(path)
            assert spec.interventions, path
            assert (
                sum(iv.cost_once + iv.cost_per_month + iv.cost_per_interaction for iv in spec.interventions.values())
                > 0
            ), path


# --- report -------------------------------------------------------------------------------------------------------


def test_report_files_exist_embed_figures_and_contain_the_numbers(small, tmp_path):
    paths = small.save(tmp_path / "report")
    names = {p.name for p in paths}
    expected = {
        "report.html",
        "summary.csv",
        "summary.parquet",
        "replicates.parquet",
        "runs.parquet",
        *(f"{k}.png" for k in FIGURES if k != "tornado"),  # no tornado asked for
    }
    assert names == expected and all(p.stat().st_size > 0 for p in paths)
    page = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == len(FIGURES) - 1
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert "<script" not in page and 'src="http' not in page and 'href="http' not in page  # opens offline
    table = small.to_frame()
    horizon = table[(table["month"] == small.horizon_month) & (table["scenario"] != small.baseline)]
    for _, row in horizon[horizon["metric"] != "roi"].iterrows():
        assert format_value(row["diff"], row["metric"], signed=True) in page, row["metric"]
    for _, row in table[table["scenario"] == small.baseline].iterrows():
        if row["month"] == small.horizon_month:
            assert format_value(row["mean"], row["metric"]) in page, row["metric"]
    assert "callback_and_context" in page and "15,000" in page  # assumptions: the intervention and its cost
    saved = pd.read_csv(tmp_path / "report" / "summary.csv")
    np.testing.assert_allclose(saved["mean"], table["mean"])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "report" / "summary.parquet"), table)
    runs = pd.read_parquet(tmp_path / "report" / "runs.parquet")
    assert len(runs) == 3 * 4 * (small.scenarios[0].n_steps + 1)


def test_plots_return_axes(small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for series in ("active", "retention", "cumulative_profit", "nps"):
        ax = small.plot(series)
        assert ax.get_lines(), series
    assert len(small.plot_stages()) == 3
    assert small.plot_differences("roi").get_yticklabels()
    plt.close("all")


# --- command line -------------------------------------------------------------------------------------------------

runner = CliRunner()


def _cli(*args: str):
    return runner.invoke(app, ["compare", *map(str, args)])


def test_cli_table_json_csv_and_report(tmp_path):
    args = [*TELECOM[:2], "-n", "3", "--set", "population.size=2000", "--seed", "2"]
    res = _cli(*args)
    assert res.exit_code == 0, res.output
    assert "Which lever pays?" in res.stdout and "retention of starting base" in res.stdout
    js = json.loads(_cli(*args, "--format", "json", "--metric", "profit").stdout)
    assert js["paired"] and {r["metric"] for r in js["rows"]} == {"profit"}
    csv = _cli(*args, "--format", "csv", "--out", tmp_path / "r").stdout
    assert csv.startswith("scenario,month,step,metric")
    assert (tmp_path / "r" / "report.html").exists()


def _variant(tmp_path, body: str):
    path = tmp_path / "variant.toml"
    (path.parent / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    path.write_text(f'extends = "baseline.toml"\nname = "other"\n{body}\n')
    return path


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (lambda t: [TELECOM[0], _variant(t, "[population]\nsize = 5000")], "population.size = 5000"),
        (
            lambda t: [TELECOM[0], _variant(t, "[time]\nhorizon_days = 182"), "--horizon-months", "0"],
            "time.horizon_days = 182",
        ),
        (lambda t: [*TELECOM[:2], "--horizon-months", "-3"], "horizon_months"),
        (lambda t: [*TELECOM[:2], "--replications", "0"], "--replications 0"),
        (lambda t: [*TELECOM[:2], "--metric", "happiness"], "'happiness'"),
        (lambda t: [*TELECOM[:2], "--format", "xml"], "--format 'xml'"),
        (lambda t: [*TELECOM[:2], "--checkpoints", "3,x"], "--checkpoints"),
        (lambda t: [TELECOM[0], TELECOM[0]], "name"),
        (lambda t: [TELECOM[0], t / "missing.toml"], "file not found"),
    ],
    ids=[
        "population",
        "horizon",
        "bad-horizon",
        "zero-replications",
        "unknown-metric",
        "format",
        "checkpoints",
        "same-name",
        "missing",
    ],
)
def test_cli_bad_inputs_one_line_exit_2(tmp_path, args, needle):
    res = _cli(*args(tmp_path))
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert "Traceback" not in res.output


def test_python_api_rejects_bad_arguments():
    with pytest.raises(ls.ScenarioError, match="replications"):
        compare(TELECOM[:2], replications=0)
    with pytest.raises(ls.ScenarioError, match="baseline and at least one variant"):
        compare(TELECOM[:1])
    with pytest.raises(ls.ScenarioError, match="happiness"):
        compare(TELECOM[:2], replications=2, overrides=SMALL).to_frame(["happiness"])


# --- the docs' examples run as written ------------------------------------------------------------------------------


def _blocks(lang: str) -> list[str]:
    text = (ROOT / "docs" / "comparison.md").read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_docs_python_example_runs(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    (code,) = _blocks("python")
    scope: dict = {}
    exec(compile(code, "docs/comparison.md", "exec"), scope)
    assert scope["comparison"].value("cut-effort", "retention", "diff") > 0


def test_docs_commands_run(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    commands = [shlex.split(line) for block in _blocks("bash") for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    for cmd in commands:
        assert cmd[:2] == ["loyaltysim", "compare"]
        args = [str(tmp_path / "out") if prev == "--out" else a for prev, a in zip(["", *cmd[:-1]], cmd, strict=True)]
        res = runner.invoke(app, args[1:])
        assert res.exit_code == 0, res.output
        assert "Which lever pays?" in res.stdout
    assert (tmp_path / "out" / "report.html").exists()


def test_report_fits_1024_pixels(tmp_path):
    """At 1024 px every column of every table is on screen: nothing scrolls sideways (the strategist's laptop)."""
    from playwright.sync_api import sync_playwright

    c = compare(TELECOM, replications=3, seed=1, overrides={"population.size": 2000}, horizon_months=12)
    c.save(tmp_path / "report")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True)
        page = browser.new_page(viewport={"width": 1024, "height": 800})
        page.goto((tmp_path / "report" / "report.html").as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 1024
        for scroll, client in page.evaluate(
            "Array.from(document.querySelectorAll('table')).map(t => [t.scrollWidth, t.parentElement.clientWidth])"
        ):
            assert scroll <= client
        assert "payback" in page.inner_text("body") and "break-even cost" in page.inner_text("body")
        browser.close()


def _no_effect_lever(tmp_path):
    """A lever that costs 20,000 once and changes nothing."""
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    path = tmp_path / "useless.toml"
    path.write_text(
        'extends = "baseline.toml"\nname = "useless"\n[interventions.nothing]\ntouchpoint = "app"\n'
        "effort = { scale = 1.0 }\ncost_once = 20000.0\n"
    )
    return [tmp_path / "baseline.toml", path]


def test_tornado_of_a_lever_that_only_costs(tmp_path):
    """With common random numbers a lever that changes nothing differs by its cost alone, whatever the assumption:
    every behavioural and economic row is flat, and the cost row moves by the cost exactly."""
    spans = {"churn.win_back": (0.005, 0.02)}
    c = compare(
        _no_effect_lever(tmp_path),
        replications=3,
        overrides={"population.size": 1500},
        horizon_months=12,
        tornado=True,
        uncertain=spans,
        tornado_replications=2,
    )
    t = c.tornado
    assert set(t["parameter"]) == {*ls.comparisons.tornado.UNCERTAIN, "churn.win_back", "lever's own costs"}
    cost = t[t["parameter"] == "lever's own costs"].iloc[0]
    central = cost["central"]
    assert central < 0
    assert cost["diff_low"] == pytest.approx(central / 2) and cost["diff_high"] == pytest.approx(central * 1.5)
    for _, row in t[t["parameter"] != "lever's own costs"].iterrows():
        assert row["diff_low"] == pytest.approx(central, rel=1e-6) and row["diff_high"] == pytest.approx(
            central, rel=1e-6
        )
        assert not row["flips"]
    assert len(c.hinges()) == 1 and "no assumption in its range flips" in c.hinges()[0]
    assert "What the verdict hinges on" in text_table(c)
    paths = c.save(tmp_path / "report")
    assert {"tornado.csv", "tornado.png"} <= {p.name for p in paths}


def test_tornado_names_the_assumption_that_flips_the_verdict():
    """Personalize pays at today's margin; at a gross margin near zero its extra customers are worth nothing."""
    c = compare(
        [TELECOM[0], TELECOM[3]],
        replications=3,
        overrides={"population.size": 2000},
        horizon_months=24,
        tornado=True,
        uncertain={"economics.gross_margin": (0.05, 0.6)},
        tornado_replications=2,
    )
    row = c.tornado[c.tornado["parameter"] == "economics.gross_margin"].iloc[0]
    assert row["central"] > 0 and row["diff_low"] < 0 and row["flips"]
    assert "economics.gross_margin at its low end" in c.hinges()[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--uncertain", "churn.win_back"], "KEY=LOW:HIGH"),
        (["--uncertain", "churn.nothing=0:1"], "'churn.nothing'"),
        (["--uncertain", "churn.win_back=0.2:0.1"], "a low value below the high one"),
        (["--tornado-replications", "0"], "tornado_replications"),
    ],
)
def test_tornado_bad_inputs_one_line_exit_2(args, needle):
    res = _cli(*TELECOM[:2], "-n", "2", "--set", "population.size=1000", *args)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_cost_per_customer_is_charged_on_active_customers(tmp_path):
    """cost_per_customer x active customers x months, every step the intervention is in force, and nothing else."""
    small = {"population.size": 1500, "time.horizon_days": 84}
    base = ls.load_scenario(TELECOM[0], small)
    path = _variant(tmp_path, '[interventions.perk]\ntouchpoint = "app"\ncost_per_customer = 2.0')
    perk = ls.load_scenario(path, small)
    a = ls.simulate(base, seed=4).to_frame()
    b = ls.simulate(perk, seed=4).to_frame()
    months = base.months_per_step
    expected = np.r_[0.0, 2.0 * b["active"].to_numpy()[1:] * months]
    np.testing.assert_allclose(b["intervention_cost"], expected)
    np.testing.assert_allclose(b["profit"], a["profit"] - expected)  # behaviour unchanged (no level change)


def test_money_is_labelled_in_the_scenario_currency():
    res = _cli(
        *TELECOM[:2],
        "-n",
        "2",
        "--set",
        "population.size=1000",
        "--set",
        "economics.currency=USD",
        "--no-tornado",
        "--horizon-months",
        "6",
    )
    assert res.exit_code == 0, res.output
    assert "Money in USD" in res.stdout and " USD " in res.stdout and "currency" not in res.stdout
    bad = _cli(*TELECOM[:2], "-n", "2", "--set", "economics.currency=1 dollar")
    assert bad.exit_code == 2 and "economics.currency" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_an_out_that_is_a_file_is_refused_before_anything_is_computed(tmp_path):
    """A run this size would take hours; the refusal comes first, and the file is left as it was."""
    import subprocess
    import sys
    from pathlib import Path

    target = tmp_path / "report.html"
    target.write_text("mine")
    exe = str(Path(sys.executable).with_name("loyaltysim"))
    proc = subprocess.run(
        [exe, "compare", *map(str, TELECOM[:2]), "-n", "500", "--set", "population.size=5000000", "--out", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "not a folder" in proc.stderr
    assert target.read_text() == "mine"


def test_tornado_keeps_a_lever_that_changes_an_assumption():
    """A variant that sets an uncertain key itself is moved by the same factor as the baseline, not overwritten."""
    from loyaltysim.comparisons.tornado import _moved

    base = ls.load_scenario(TELECOM[0])
    lever = base.with_overrides({"economics.cost_to_serve_per_month": 0.5})
    assert _moved(base, "economics.cost_to_serve_per_month", 1.5, 1.0) == 1.5
    assert _moved(lever, "economics.cost_to_serve_per_month", 1.5, 1.0) == pytest.approx(0.75)
