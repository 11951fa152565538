"""Research tools on sweeps: outcomes over time, convergence of the intervals, stochastic vs parametric variance."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loyaltysim.cli import app
from loyaltysim.errors import ScenarioError
from loyaltysim.runs.metrics import run_metrics
from loyaltysim.sweeps.experiment import Experiment, SeriesSpec
from loyaltysim.sweeps.plan import plan
from loyaltysim.sweeps.results import SweepResults
from loyaltysim.sweeps.run import sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

OVER_TIME = f"""
name = "over-time"
scenario = "{BASELINE}"
replications = 3
seed = 11
checkpoints = [2, 4]
metrics = ["retention", "active", "profit"]

[set]
"population.size" = 400
"time.horizon_days" = 119.0

[series]
metrics = ["retention", "active", "nps", "profit"]
every = 1

[parameters.pull]
key = "competitor.visibility"
levels = [0.0, 0.05]
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def over_time(tmp_path_factory) -> SweepResults:
    tmp = tmp_path_factory.mktemp("over-time")
    return sweep(write(tmp, OVER_TIME), tmp / "out")


# ---------------------------------------------------------------------------------------------------------------
# Outcomes over time


def test_series_rows_are_the_runs_own_metrics_every_month(over_time):
    from loyaltysim import simulate

    s = over_time.series
    assert list(s.columns[:4]) == ["point", "replication", "pull", "seed"]
    assert sorted(s["month"].unique()) == [0.0, 1.0, 2.0, 3.0, 4.0]  # from month 0 to the horizon (4 months)
    assert len(s) == 2 * 3 * 5 and s[["point", "replication", "seed", "step"]].dtypes.eq("int64").all()
    row = s[(s.point == 1) & (s.replication == 2)]
    spec = plan(over_time.experiment).scenarios[1]
    ts = simulate(spec, seed=int(row["seed"].iloc[0])).timeseries
    want = run_metrics(ts, spec, *row["step"])
    for metric in ("retention", "active", "nps", "profit"):
        assert row[metric].tolist() == pytest.approx([w[metric] for w in want], nan_ok=True)
    # the checkpoint table and the series agree where they meet
    both = over_time.frame.merge(s, on=["point", "replication", "month"], suffixes=("", "_series"))
    assert len(both) == len(over_time.frame)
    for metric in ("retention", "active", "profit"):
        assert np.allclose(both[metric], both[f"{metric}_series"])


def test_series_are_saved_read_back_and_survive_a_resume(tmp_path, over_time):
    from test_sweep import StopAfter

    exp = write(tmp_path, OVER_TIME)
    with pytest.raises(KeyboardInterrupt):
        sweep(exp, tmp_path / "out", executor=StopAfter(4), flush_seconds=3600)
    partial = SweepResults.load(tmp_path / "out")
    assert len(partial.series[["point", "replication"]].drop_duplicates()) == 4
    again = sweep(exp, tmp_path / "out")
    assert again.info["ran"] == 2
    pd.testing.assert_frame_equal(again.series, over_time.series)
    assert (tmp_path / "out" / "series.parquet").exists()
    pd.testing.assert_frame_equal(SweepResults.load(tmp_path / "out").series, over_time.series)


def test_an_experiment_without_series_keeps_its_hash():
    exp = Experiment.model_validate({"scenario": str(BASELINE), "parameters": {"market.price": {"levels": [1.0]}}})
    assert "series" in exp.model_dump()
    sp = plan(exp)
    with_series = plan(exp.model_copy(update={"series": SeriesSpec(metrics=["active"])}))
    assert sp.fingerprint() != with_series.fingerprint()
    dump = exp.model_dump(mode="json", exclude={"replications", "series"})
    assert "series" not in dump  # what the fingerprint hashes when series is unset


def test_envelope_per_point_is_the_quantiles_of_its_replications(over_time):
    env = over_time.envelope("active")
    assert env.attrs["by"] is None and set(env["group"]) == {0, 1}
    s = over_time.series
    runs = s[(s.point == 1) & (s.month == 3.0)]["active"]
    row = env[(env.group == 1) & (env.month == 3.0)].iloc[0]
    assert row["n"] == 3 and row["label"] == "pull=0.05"
    assert row["median"] == np.median(runs) and row["low"] == pytest.approx(np.quantile(runs, 0.05))
    assert row["high"] == pytest.approx(np.quantile(runs, 0.95))
    ax = over_time.plot_series("active")
    assert len(ax.get_lines()) == 2 and "active over time" in ax.get_title()


def test_envelope_groups_points_by_a_parameter_when_the_design_is_large():
    design = pd.DataFrame({"point": range(40), "a": np.linspace(0, 1, 40), "b": np.tile([1.0, 2.0], 20)})
    rng = np.random.default_rng(1)
    rows = [
        {"point": p, "replication": r, "month": m, "y": 10 * design.at[p, "a"] * m + rng.normal()}
        for p in range(40)
        for r in range(2)
        for m in (0.0, 1.0, 2.0)
    ]
    res = _synthetic(pd.DataFrame(rows), design, replications=2, series=["y"])
    env = res.envelope("y")
    assert env.attrs["by"] == "a"  # the parameter the metric follows
    assert env["group"].nunique() == 4 and env.groupby("month")["n"].sum().eq(80).all()
    last = env[env.month == 2.0].sort_values("group")
    assert last["median"].is_monotonic_increasing
    assert last["label"].iloc[0] == "a 0 .. 0.231"
    by_b = res.envelope("y", by="b")
    assert by_b["label"].unique().tolist() == ["b=1", "b=2"]
    with pytest.raises(ValueError, match="not a parameter"):
        res.envelope("y", by="c")


def test_series_errors_are_one_line(tmp_path, over_time):
    bad_metric = OVER_TIME.replace('metrics = ["retention", "active", "nps", "profit"]', 'metrics = ["retension"]')
    with pytest.raises(ScenarioError, match=r"series\.metrics.*did you mean 'retention'"):
        plan(write(tmp_path, bad_metric))
    too_long = OVER_TIME.replace("every = 1", "every = 6")
    with pytest.raises(ScenarioError, match=r"series\.every.*up to the horizon"):
        plan(write(tmp_path, too_long))
    with pytest.raises(ValueError, match="not recorded over time; allowed: retention, active, nps, profit"):
        over_time.envelope("ces")
    no_series = SweepResults(
        over_time.frame, over_time.design, over_time.experiment.model_copy(update={"series": None}), over_time.scenario
    )
    with pytest.raises(ValueError, match=r"add \[series\]"):
        no_series.envelope("active")
    result = CliRunner().invoke(app, ["sweep", str(write(tmp_path, too_long)), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------------------------
# Convergence with replications, and stochastic vs parametric variance


def _synthetic(frame, design, replications, series=None, independent=False):
    exp = Experiment.model_validate(
        {
            "scenario": str(BASELINE),
            "parameters": {n: {"range": [0.0, 3.0]} for n in design.columns if n != "point"},
            "design": {"kind": "lhs", "samples": len(design)},
            "replications": replications,
            "metrics": ["active"],
            "independent_seeds": independent,
            **({"series": {"metrics": ["active"]}} if series else {}),
        }
    )
    from loyaltysim import load_scenario

    if series:
        exp.series.metrics = series
        return SweepResults(frame[frame.month == 2.0], design, exp, load_scenario(BASELINE), series=frame)
    return SweepResults(frame, design, exp, load_scenario(BASELINE))


def test_convergence_is_the_t_interval_of_the_first_n_replications(over_time):
    from scipy import stats

    conv = over_time.convergence(["active"], month=4)
    assert conv["replications"].tolist() == [2, 3] and (conv["points"] == 2).all()
    at = over_time.frame[over_time.frame.month == 4]
    first2 = at[at.replication < 2].groupby("point")["active"]
    half = stats.t.ppf(0.975, 1) * first2.std() / np.sqrt(2)
    assert conv.iloc[0]["half_width"] == pytest.approx(half.mean())
    scale = first2.mean().abs().mean()
    assert conv.iloc[0]["relative_half_width"] == pytest.approx(100 * half.mean() / scale)
    ax = over_time.plot_convergence(["active", "retention"])
    assert len(ax.get_lines()) == 2


def test_variance_split_recovers_known_components():
    rng = np.random.default_rng(3)
    points, reps = 200, 30
    a = rng.normal(0, 2.0, points)  # parametric: variance 4
    b = rng.normal(0, 3.0, reps)  # the seed's effect shared by every point (common random numbers): 9
    e = rng.normal(0, 1.0, (points, reps))  # the rest: 1
    y = 50 + a[:, None] + b[None, :] + e
    design = pd.DataFrame({"point": range(points), "x": rng.uniform(0, 3, points)})
    frame = pd.DataFrame(
        {
            "point": np.repeat(range(points), reps),
            "replication": np.tile(range(reps), points),
            "month": 2.0,
            "active": y.ravel(),
        }
    )
    v = _synthetic(frame, design, reps).variance("active").iloc[0]
    var_b = np.var(b, ddof=1)  # the components as drawn
    assert v["stochastic"] == pytest.approx(var_b + 1.0, rel=0.05)
    assert v["stochastic_common"] == pytest.approx(var_b, rel=0.05)
    assert v["parametric"] == pytest.approx(np.var(a, ddof=1), rel=0.02)
    assert v["stochastic_share"] == pytest.approx((var_b + 1) / (var_b + 1 + np.var(a, ddof=1)), abs=0.02)
    assert v["noise_in_means"] == pytest.approx((1 / reps) / np.var(y.mean(axis=1), ddof=1), rel=0.1)
    # with independent seeds there is no shared part and the whole within-point variance is noise in the means
    frame["active"] = (50 + a[:, None] + e).ravel()
    v = _synthetic(frame, design, reps, independent=True).variance("active").iloc[0]
    assert v["stochastic_common"] == 0.0 and v["stochastic"] == pytest.approx(1.0, rel=0.1)
    # a parameter without effect: no parametric variance
    frame["active"] = (50 + b[None, :] + e).ravel()
    v = _synthetic(frame, design, reps).variance("active").iloc[0]
    assert v["parametric"] < 0.01 and v["stochastic_share"] > 0.99


def test_sensitivity_reports_its_variance_split_and_analyze_writes_it(tmp_path):
    text = OVER_TIME.replace('[parameters.pull]\nkey = "competitor.visibility"\nlevels = [0.0, 0.05]', "")
    text += textwrap.dedent(
        """
        [parameters.pull]
        key = "competitor.visibility"
        range = [0.0, 0.05]

        [parameters."market.price"]
        range = [0.9, 1.1]

        [design]
        kind = "lhs"
        samples = 8
        """
    )
    out = tmp_path / "lhs"
    result = CliRunner().invoke(app, ["sweep", str(write(tmp_path, text)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["analyze", str(out), "--metric", "active"])
    assert result.exit_code == 0, result.output
    assert "variance_active_month-4:" in result.output and "convergence_month-4:" in result.output
    assert "envelope_active (last month" in result.output
    v = pd.read_csv(out / "analysis" / "month-4" / "variance_active_month-4.csv")
    assert 0 < v["stochastic_share"].iloc[0] < 1
    files = {p.name for p in (out / "analysis").rglob("*.png")}
    assert {"convergence_month-4.png", "envelope_active.png", "envelope_nps.png"} <= files
    env = pd.read_csv(out / "analysis" / "series" / "envelope_retention.csv")
    assert env["month"].max() == 4.0
