"""Research tools on sweeps: outcomes over time, convergence of the intervals, stochastic vs parametric variance."""

from __future__ import annotations

import re
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


def _lhs(pull: tuple[float, float], price: tuple[float, float], samples: int) -> str:
    """OVER_TIME as a Latin hypercube over the competitor's pull and the price."""
    grid = '[parameters.pull]\nkey = "competitor.visibility"\nlevels = [0.0, 0.05]'
    return OVER_TIME.replace(grid, "") + textwrap.dedent(
        f"""
        [parameters.pull]
        key = "competitor.visibility"
        range = [{pull[0]}, {pull[1]}]

        [parameters."market.price"]
        range = [{price[0]}, {price[1]}]

        [design]
        kind = "lhs"
        samples = {samples}
        """
    )


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
    before_series = {  # the experiment's fields hashed before [series] existed
        "name", "description", "scenario", "set", "parameters", "derived", "design", "seed",
        "independent_seeds", "checkpoints", "metrics", "analysis",
    }  # fmt: skip
    assert set(plan(exp).fingerprint_data()["experiment"]) == before_series
    with_series = plan(exp.model_copy(update={"series": SeriesSpec(metrics=["active"])}))
    assert set(with_series.fingerprint_data()["experiment"]) == before_series | {"series"}
    assert plan(exp).fingerprint() != with_series.fingerprint()


def test_a_damaged_series_part_is_run_again_and_more_replications_add_series(tmp_path, over_time):
    exp = write(tmp_path, OVER_TIME)
    out = tmp_path / "out"
    sweep(exp, out, flush_seconds=0)  # a part file per run
    damaged = sorted((out / "series").glob("part-*.parquet"))[2]
    damaged.write_bytes(b"not parquet")
    (out / "results.parquet").unlink()
    loaded = SweepResults.load(out)  # reading changes nothing on disk and leaves the run out of both tables
    assert damaged.exists() and len(loaded.frame[["point", "replication"]].drop_duplicates()) == 5
    assert len(loaded.series[["point", "replication"]].drop_duplicates()) == 5
    again = sweep(exp, out)
    assert again.info["ran"] == 1 and (out / "series" / (damaged.name + ".corrupt")).exists()
    pd.testing.assert_frame_equal(again.series, over_time.series)
    pd.testing.assert_frame_equal(again.frame, over_time.frame)
    exp.write_text(textwrap.dedent(OVER_TIME).replace("replications = 3", "replications = 4"))
    more = sweep(exp, out)
    assert more.info["ran"] == 2 and len(more.series) == 2 * 4 * 5
    pd.testing.assert_frame_equal(more.series, sweep(exp, tmp_path / "fresh").series)


def test_dask_runs_return_their_series(tmp_path, over_time):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = sweep(write(tmp_path, OVER_TIME), tmp_path / "dask", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(remote.series, over_time.series)


def test_analysis_written_elsewhere_keeps_its_envelopes_inside(tmp_path, over_time):
    from loyaltysim.sweeps.analysis import analyze

    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "mine.txt").write_text("not the sweep's")
    report = analyze(over_time, out=tmp_path / "report")
    assert (tmp_path / "report" / "series" / "envelope_active.png").exists()
    assert (tmp_path / "series" / "mine.txt").exists()  # nothing outside the folder asked for
    assert all(str(p).startswith(str(tmp_path / "report")) for p in report.files)


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


def test_convergence_pools_the_spread_of_complete_points_and_projects_it(over_time):
    from scipy import stats

    rng = np.random.default_rng(8)
    points, reps = 30, 4
    a, b, e = rng.normal(0, 5, points), rng.normal(0, 2, reps), rng.normal(0, 1, (points, reps))
    y = 100 + a[:, None] + b[None, :] + e
    design = pd.DataFrame({"point": range(points), "x": rng.uniform(0, 3, points)})
    frame = pd.DataFrame(
        {
            "point": np.repeat(range(points), reps),
            "replication": np.tile(range(reps), points),
            "month": 2.0,
            "active": y.ravel(),
        }
    )
    frame = frame[~((frame.point == 0) & (frame.replication == 3))]  # a sweep still running its 4th replication
    conv = _synthetic(frame, design, reps).convergence(["active"]).set_index("replications")
    assert list(conv.index) == list(range(2, 11)) and conv["projected"].tolist() == [False] * 3 + [True] * 6
    sd3 = np.sqrt(y[:, :3].var(axis=1, ddof=1).mean())
    assert conv.at[3, "points"] == 30 and conv.at[3, "sd"] == pytest.approx(sd3)
    assert conv.at[3, "half_width"] == pytest.approx(stats.t.ppf(0.975, 2) * sd3 / np.sqrt(3))
    sd4 = np.sqrt(y[1:, :].var(axis=1, ddof=1).mean())  # point 0 lacks a run: left out
    assert conv.at[4, "points"] == 29 and conv.at[4, "sd"] == pytest.approx(sd4)
    assert conv.at[8, "sd"] == pytest.approx(sd4)  # projected from all the replications there are
    assert conv.at[8, "half_width"] == pytest.approx(stats.t.ppf(0.975, 7) * sd4 / np.sqrt(8))
    scale = np.abs(pd.Series(y.mean(axis=1)).where(lambda m: m.index > 0, y[0, :3].mean())).mean()
    assert conv.at[8, "relative_half_width"] == pytest.approx(100 * conv.at[8, "half_width"] / scale)
    # differences between points shed the seed's shared effect: var(e) = 1, not var(b) + var(e) = 5
    assert conv.at[4, "difference_half_width"] == pytest.approx(stats.t.ppf(0.975, 3) * np.sqrt(2 / 4), rel=0.35)
    assert conv.at[4, "difference_half_width"] < conv.at[4, "half_width"]
    ax = over_time.plot_convergence(["active", "retention"])
    assert len(ax.get_lines()) == 4  # seen and projected, per metric
    with pytest.raises(ValueError, match="'ces' was not recorded"):
        over_time.convergence(["ces"])
    with pytest.raises(ValueError, match="at least 2 replications"):
        _synthetic(frame[frame.replication == 0], design, 1).convergence()


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
    text = _lhs(pull=(0.0, 0.05), price=(0.9, 1.1), samples=8)
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


# ---------------------------------------------------------------------------------------------------------------
# Scenario discovery (PRIM through EMA Workbench) and feature scores


def _box_sweep(n=300, seed=5):
    """A sweep whose metric is high exactly in a known box: x1 > 0.6 and x2 < 0.4; x3 does nothing."""
    rng = np.random.default_rng(seed)
    design = pd.DataFrame({"point": range(n), "x1": rng.uniform(0, 1, n), "x2": rng.uniform(0, 1, n)})
    design["x3"] = rng.uniform(0, 1, n)
    inside = (design["x1"] > 0.6) & (design["x2"] < 0.4)
    frame = pd.DataFrame(
        {
            "point": design["point"],
            "replication": 0,
            "month": 2.0,
            "active": 100 + 50 * inside + rng.normal(0, 5, n),
        }
    )
    res = _synthetic(frame, design, replications=1)
    return res, inside


def test_prim_finds_the_known_box_and_feature_scores_rank_the_drivers():
    from loyaltysim.sweeps.discovery import discover

    res, inside = _box_sweep()
    found = discover(res, "active", 125.0)
    assert found.points["interest"].sum() == inside.sum()
    box = found.boxes.set_index("parameter")
    assert set(box.index) == {"x1", "x2"}  # x3 is left free
    assert box.at["x1", "min"] == pytest.approx(0.6, abs=0.05) and box.at["x1", "max"] == pytest.approx(1.0, abs=0.01)
    assert box.at["x2", "max"] == pytest.approx(0.4, abs=0.05) and box.at["x2", "min"] == pytest.approx(0.0, abs=0.01)
    stats = found.stats.iloc[0]
    assert stats["coverage"] > 0.9 and stats["density"] >= 0.8
    assert (found.boxes[["qp_min", "qp_max"]].min(axis=1) <= 0.05).all()  # insignificant restrictions dropped
    kept = discover(res, "active", 125.0, significance=None)
    assert set(kept.boxes["parameter"]) >= set(found.boxes["parameter"])
    assert found.scores["parameter"].iloc[-1] == "x3" and found.scores["score"].sum() == pytest.approx(1.0)
    assert "active > 125" in found.text() and re.search(r"x1: 0\.[56]\d* \.\. 0\.99", found.text())
    # below: the complement, restricted on the same parameters
    low = discover(res, "active", 125.0, below=True)
    assert low.points["interest"].sum() == (~inside).sum() and low.condition == "active < 125"
    assert low.stats.empty and "no box: the whole design is already 83 % dense" in low.text()  # 0.83 >= 0.8
    low = discover(res, "active", 125.0, below=True, density=0.99)
    assert low.stats["density"].iloc[0] >= 0.99 and {"x1", "x2"} & set(low.boxes["parameter"])


def test_discover_command_writes_its_files_and_refuses_bad_input(tmp_path):
    text = _lhs(pull=(0.0, 0.1), price=(0.8, 1.2), samples=30).replace("replications = 3", "replications = 1")
    out = tmp_path / "lhs"
    runner = CliRunner()
    assert runner.invoke(app, ["sweep", str(write(tmp_path, text)), "--out", str(out)]).exit_code == 0
    res = SweepResults.load(out)
    middle = float(res.point_means("retention")["mean"].median())
    result = runner.invoke(app, ["discover", str(out), "--metric", "retention", "--threshold", f"{middle}"])
    assert result.exit_code == 0, result.output
    assert f"retention > {middle:g} at month 4" in result.output and "feature scores" in result.output
    folder = out / "analysis" / "discover" / f"retention-above-{middle:g}_month-4"
    names = {p.name for p in folder.iterdir()}
    assert {"boxes.csv", "scores.csv", "trajectory.csv", "points.csv", "tradeoff.png", "boxes.png"} <= names
    assert set(pd.read_csv(folder / "scores.csv")["parameter"]) == {"pull", "market.price"}
    first = {p.name: p.read_bytes() for p in folder.glob("*.csv")}
    result = runner.invoke(app, ["discover", str(out), "--metric", "retention", "--threshold", f"{middle}"])
    assert result.exit_code == 0 and first == {p.name: p.read_bytes() for p in folder.glob("*.csv")}  # reproducible
    bad = [
        (["--metric", "retention", "--threshold", "1000"], "holds at 0 of 30 points"),
        (["--metric", "retension", "--threshold", "50"], "'retension' was not recorded"),
        (["--metric", "retention", "--threshold", "50", "--density", "1.5"], "--density 1.5"),
    ]
    for args, message in bad:
        result = runner.invoke(app, ["discover", str(out), *args])
        assert result.exit_code == 2 and message in result.output
        assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(app, ["discover", str(tmp_path / "missing"), "--metric", "retention", "--threshold", "1"])
    assert result.exit_code == 2 and "not a sweep result directory" in result.output


def test_discover_keeps_the_chosen_box_in_its_trajectory_and_refuses_what_it_cannot_use():
    from loyaltysim.sweeps.discovery import discover

    res, _ = _box_sweep()
    found = discover(res, "active", 125.0)
    chosen = found.trajectory[found.trajectory["chosen"]]
    assert len(chosen) == 1 and chosen["id"].iloc[0] == found.stats["chosen"].iloc[0]
    assert chosen[["coverage", "density"]].to_numpy() == pytest.approx(found.stats[["coverage", "density"]].to_numpy())
    res.frame.loc[res.frame.point < 3, "active"] = np.nan  # e.g. a mean over no interactions
    some = discover(res, "active", 125.0)
    assert some.unmeasured == 3 and len(some.points) == 297 and "3 points without a value left out" in some.text()
    res.design["x3"] = "a"
    with pytest.raises(ValueError, match="parameter 'x3' takes names, not numbers"):
        discover(res, "active", 125.0)


def test_discover_without_ema_workbench_says_how_to_install_it(monkeypatch):
    import sys

    from loyaltysim.errors import InputError
    from loyaltysim.sweeps.discovery import discover

    res, _ = _box_sweep(60)
    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    with pytest.raises(InputError, match=r"pip install 'loyaltysim\[ema\]'"):
        discover(res, "active", 125.0)


# ---------------------------------------------------------------------------------------------------------------
# The EMA Workbench adapter


def test_an_ema_study_of_twenty_experiments_runs_the_model_itself():
    import warnings

    from loyaltysim import load_scenario, simulate
    from loyaltysim.ema import model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench import perform_experiments

    spec = load_scenario(BASELINE, {"population.size": 600, "time.horizon_days": 182.0})
    m = model(
        spec,
        levers={"touchpoints.phone_support.effort": (0.2, 0.6)},
        uncertainties=["competitor.visibility"],
        outcomes=["retention", "active", "churn_rate", "ces", "interactions"],
        month=6,
        replications=2,
        seed=3,
        series=["active"],
    )
    from loyaltysim.scenario import key_bounds

    assert [p.name for p in m.levers] == ["touchpoints__phone_support__effort"]
    visibility = m.uncertainties["competitor__visibility"]
    limits = key_bounds(spec.model_dump(mode="json"), "competitor.visibility", "")
    assert (visibility.lower_bound, visibility.upper_bound) == limits  # the declared limits
    kinds = {o.name: o.kind for o in m.outcomes}
    assert (kinds["retention"], kinds["churn_rate"], kinds["ces"], kinds["interactions"]) == (1, -1, -1, 0)
    experiments, outcomes = perform_experiments(m, scenarios=10, policies=2)
    assert len(experiments) == 20 and outcomes["retention"].shape == (20,)
    assert outcomes["active_series"].shape == (20, 7)  # months 0..6
    row = experiments.iloc[13]
    changed = load_scenario(
        BASELINE,
        {
            "population.size": 600,
            "time.horizon_days": 182.0,
            "touchpoints.phone_support.effort": float(row["touchpoints__phone_support__effort"]),
            "competitor.visibility": float(row["competitor__visibility"]),
        },
    )
    runs = [run_metrics(simulate(changed, seed=s).timeseries, changed, 26)[0] for s in (3, 4)]
    assert outcomes["retention"][13] == pytest.approx(np.mean([r["retention"] for r in runs]))
    assert outcomes["active"][13] == pytest.approx(np.mean([r["active"] for r in runs]))
    # EMA's own analysis runs on what the adapter gives
    from ema_workbench.analysis import prim

    y = outcomes["retention"] > np.median(outcomes["retention"])
    box = prim.Prim(experiments[["touchpoints__phone_support__effort", "competitor__visibility"]], y).find_box()
    assert box.peeling_trajectory["coverage"].iloc[0] == 1.0


def test_ema_model_defaults_come_from_the_declarations():
    from loyaltysim.comparisons.tornado import UNCERTAIN
    from loyaltysim.ema import LEVER_ATTRIBUTES, model, name_of
    from loyaltysim.runs.metrics import BETTER, METRICS

    assert set(BETTER) <= set(METRICS)
    m = model(BASELINE)
    assert len(m.levers) == 5 * len(LEVER_ATTRIBUTES)
    assert {p.name for p in m.uncertainties} == {name_of(k) for k in UNCERTAIN}
    assert {p.variable_name[0] for p in m.uncertainties} == set(UNCERTAIN)
    assert [o.name for o in m.outcomes] == ["retention", "active", "profit", "nps"]
    # an assumption the scenario sets to 0 has no range to move: left out of the default uncertainties
    bass = model(ROOT / "scenarios" / "validation" / "bass.toml")
    assert "competitor__visibility" not in {p.name for p in bass.uncertainties}
    assert all(p.lower_bound < p.upper_bound for p in bass.uncertainties)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"levers": ["touchpoints.phone_suport.effort"]}, "did you mean 'phone_support'"),
        ({"levers": {"touchpoints.app.effort": (0.5, 1.5)}}, r"low < high within 0 .. 1"),
        ({"levers": ["population.size"]}, "a real-valued key"),
        ({"levers": ["competitor.visibility"], "uncertainties": ["competitor.visibility"]}, "not uncertainties too"),
        ({"outcomes": ["retension"]}, "outcomes = 'retension'"),
        ({"outcomes": ["roi"]}, "outcomes = 'roi'"),
        ({"month": 99}, "a month within the horizon"),
        ({"levers": []}, "at least one dotted scenario key"),
    ],
)
def test_ema_model_bad_input_is_one_line(kwargs, message):
    from loyaltysim.ema import model
    from loyaltysim.errors import InputError

    with pytest.raises(InputError, match=message) as err:
        model(BASELINE, **kwargs)
    assert "\n" not in str(err.value)
