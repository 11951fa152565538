"""Sweeps: experiment files, designs, resumable storage, executors, sensitivity analysis, shipped experiments."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loyaltysim.cli import app
from loyaltysim.errors import ScenarioError
from loyaltysim.runs.executors import SerialExecutor, replication_seeds
from loyaltysim.sweeps import analysis, designs, sensitivity
from loyaltysim.sweeps.experiment import load_experiment
from loyaltysim.sweeps.plan import plan
from loyaltysim.sweeps.results import SweepResults
from loyaltysim.sweeps.run import sweep

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.toml"))

SMALL = f"""
name = "small"
scenario = "{BASELINE}"
replications = 2
seed = 7
checkpoints = [1, 3]
metrics = ["retention", "active", "profit", "adoption", "ces"]

[set]
"population.size" = 300
"time.horizon_days" = 91.0

[parameters."touchpoints.phone_support.effort"]
levels = [0.3, 0.6]

[parameters.pull]
key = "competitor.visibility"
levels = [0.0, 0.02, 0.05]
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------------
# Designs and the tidy table


def test_grid_rows_are_tidy_and_seeded_by_the_shared_mechanism(tmp_path):
    res = sweep(write(tmp_path, SMALL), tmp_path / "out")
    df = res.to_frame()
    assert len(df) == 2 * 3 * 2 * 2  # points x replications x checkpoints
    for col in ("point", "replication", "seed", "touchpoints.phone_support.effort", "pull", "month", "step"):
        assert col in df.columns
    assert sorted(df["seed"].unique()) == replication_seeds(7, 2)  # paired: same seeds at every point
    assert set(df["step"]) == {4, 13}  # months 1 and 3 in weekly steps
    assert res.complete and res.info["ran"] == 12
    design = pd.read_parquet(tmp_path / "out" / "design.parquet")
    assert len(design) == 6 and list(design["pull"]) == [0.0, 0.02, 0.05] * 2
    assert (tmp_path / "out" / "experiment.toml").read_text() == (tmp_path / "exp.toml").read_text()
    pd.testing.assert_frame_equal(SweepResults.load(tmp_path / "out").frame, res.frame)
    # more competitor pull never raises retention (common random numbers)
    at = res.point_means("retention", 3).set_index(["touchpoints.phone_support.effort", "pull"])["mean"]
    assert at.loc[(0.3, 0.0)] >= at.loc[(0.3, 0.02)] >= at.loc[(0.3, 0.05)]


def test_checkpoint_metrics_match_the_run_itself(tmp_path):
    from loyaltysim import load_scenario, simulate

    res = sweep(write(tmp_path, SMALL))
    row = res.frame[(res.frame.point == 4) & (res.frame.replication == 1) & (res.frame.month == 3)].iloc[0]
    spec = load_scenario(
        BASELINE,
        {
            "population.size": 300,
            "time.horizon_days": 91.0,
            "touchpoints.phone_support.effort": 0.6,
            "competitor.visibility": 0.02,
        },
    )
    ts = simulate(spec, seed=int(row["seed"])).timeseries
    assert row["profit"] == pytest.approx(ts["profit"].sum())
    assert row["active"] == ts["active"].iloc[13]
    assert row["retention"] == pytest.approx(100 * ts["initial_active"].iloc[13] / ts["initial_active"].iloc[0])
    assert row["adoption"] == pytest.approx((ts["active"].iloc[13] + ts["churned"].iloc[13]) / 300)
    assert row["ces"] == pytest.approx((ts["ces"] * ts["interactions"]).sum() / ts["interactions"].sum())


def test_sampled_designs_come_from_salib_and_stay_in_range():
    bounds = {"a": (0.0, 1.0), "b": (-2.0, 2.0)}
    lhs = designs.latin(bounds, 20, seed=1)
    assert len(lhs) == 20 and lhs["a"].between(0, 1).all() and lhs["b"].between(-2, 2).all()
    # a Latin hypercube has exactly one point in each of the 20 strata of every parameter
    assert sorted(np.floor(lhs["a"] * 20).astype(int)) == list(range(20))
    assert len(designs.saltelli(bounds, 16, False, 1)) == 16 * (2 + 2)  # N (D + 2)
    assert len(designs.saltelli(bounds, 16, True, 1)) == 16 * (2 * 2 + 2)  # N (2 D + 2)
    assert len(designs.morris(bounds, 5, 4, 1)) == 5 * (2 + 1)  # N (D + 1)


# ---------------------------------------------------------------------------------------------------------------
# Sensitivity analysis


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_pipeline_recovers_ishigami_indices():
    bounds = {f"x{i}": (-math.pi, math.pi) for i in range(1, 4)}
    design = designs.saltelli(bounds, 2048, second_order=False, seed=3)
    s = sensitivity.sobol_indices(design, ishigami(design.to_numpy()), bounds, seed=3).table
    a, b = 7.0, 0.1  # analytic indices of the Ishigami function
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    assert s["S1"].to_numpy() == pytest.approx([v1 / var, v2 / var, 0.0], abs=0.04)
    assert s["ST"].to_numpy() == pytest.approx([(v1 + v13) / var, v2 / var, v13 / var], abs=0.04)
    assert (s["ST_conf"] > 0).all() and (s["ST_conf"] < 0.1).all()


def test_morris_pipeline_ranks_a_linear_function():
    bounds = {"big": (0.0, 1.0), "small": (0.0, 1.0), "none": (0.0, 1.0)}
    design = designs.morris(bounds, 20, 4, seed=1)
    x = design.to_numpy()
    s = sensitivity.morris_indices(design, 5 * x[:, 0] + 1 * x[:, 1], bounds, 4).table
    assert s.loc["big", "mu_star"] == pytest.approx(5) and s.loc["small", "mu_star"] == pytest.approx(1)
    assert s.loc["none", "mu_star"] == 0 and s.loc["big", "sigma"] == pytest.approx(0, abs=1e-9)


def test_parameter_without_effect_gets_sobol_index_near_zero(tmp_path):
    exp = write(
        tmp_path,
        f"""
        name = "sobol-small"
        scenario = "{BASELINE}"
        metrics = ["retention", "profit"]
        [set]
        "population.size" = 400
        "time.horizon_days" = 182.0
        [parameters."competitor.visibility"]
        range = [0.0, 0.1]
        [parameters."touchpoints.phone_support.effort"]
        range = [0.2, 0.9]
        [parameters."economics.gross_margin"]
        range = [0.4, 0.8]
        [parameters."touchpoints.app.cost_per_interaction"]
        range = [0.0, 1.0]
        [design]
        kind = "sobol"
        samples = 32
        """,
    )
    res = sweep(exp, tmp_path / "out", jobs=2)
    ret = sensitivity.sensitivity(res, metric="retention").table
    for no_effect in ("economics.gross_margin", "touchpoints.app.cost_per_interaction"):
        assert abs(ret.loc[no_effect, "ST"]) < 0.01 and abs(ret.loc[no_effect, "S1"]) < 0.02
    assert ret.loc["competitor.visibility", "ST"] > 0.2
    profit = sensitivity.sensitivity(res, metric="profit").table
    assert profit.loc["economics.gross_margin", "ST"] > 0.2  # it does feed profit
    report = analysis.analyze(res)
    m = f"_month-{round(res.month(), 2):g}"
    names = {p.name for p in report.files}
    assert names >= {f"sobol_retention{m}.csv", f"sobol_retention{m}.png", f"sobol_profit{m}.png"}


# ---------------------------------------------------------------------------------------------------------------
# Resuming


class StopAfter(SerialExecutor):
    """A serial executor that is 'interrupted' (Ctrl-C) after n tasks."""

    def __init__(self, n: int) -> None:
        self.n = n

    def map_unordered(self, fn, items):
        for k, pair in enumerate(super().map_unordered(fn, items)):
            if k == self.n:
                raise KeyboardInterrupt
            yield pair


def test_interrupted_then_resumed_equals_uninterrupted(tmp_path):
    exp = write(tmp_path, SMALL)
    whole = sweep(exp, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        sweep(exp, tmp_path / "resumed", executor=StopAfter(5), flush_seconds=3600)
    saved = pd.concat(pd.read_parquet(p) for p in (tmp_path / "resumed" / "parts").glob("part-*.parquet"))
    assert len(saved[["point", "replication"]].drop_duplicates()) == 5  # flushed on the way out
    assert not (tmp_path / "resumed" / "results.parquet").exists()
    again = sweep(exp, tmp_path / "resumed")
    assert again.info["ran"] == 7 and again.info["resumed"] == 5
    pd.testing.assert_frame_equal(again.frame, whole.frame)
    assert sweep(exp, tmp_path / "resumed").info["ran"] == 0  # nothing left to do


def test_killed_process_and_half_written_files_do_not_corrupt(tmp_path):
    exp = write(tmp_path, SMALL.replace("replications = 2", "replications = 6").replace("= 300", "= 3000"))
    whole = sweep(exp, tmp_path / "whole", jobs=2)
    out = tmp_path / "killed"
    code = f"from loyaltysim.sweeps.run import sweep; sweep({str(exp)!r}, {str(out)!r}, flush_seconds=0)"
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    while len(list((out / "parts").glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # no clean-up at all
    proc.wait()
    n_parts = len(list((out / "parts").glob("part-*.parquet")))
    assert 3 <= n_parts < 36
    (out / "parts" / ".part-0000.parquet.tmp").write_bytes(b"PAR1 half a file")  # a write cut short
    (out / "parts" / "part-99999999999999999999-deadbeef.parquet").write_bytes(b"PAR1 truncated")
    again = sweep(exp, out, jobs=2)
    assert again.info["resumed"] < 36
    pd.testing.assert_frame_equal(again.frame, whole.frame)
    assert (out / "parts" / "part-99999999999999999999-deadbeef.parquet.corrupt").exists()
    assert not (out / "parts" / ".part-0000.parquet.tmp").exists()


def test_changed_experiment_is_refused_against_old_directory(tmp_path):
    exp = write(tmp_path, SMALL)
    sweep(exp, tmp_path / "out")
    exp.write_text(SMALL.replace("levels = [0.0, 0.02, 0.05]", "levels = [0.0, 0.03]"))
    with pytest.raises(ScenarioError, match="different experiment"):
        sweep(exp, tmp_path / "out")
    result = CliRunner().invoke(app, ["sweep", str(exp), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "different experiment" in result.output and "Traceback" not in result.output
    exp.write_text("# a comment changes nothing that matters\n" + SMALL)
    assert sweep(exp, tmp_path / "other").info["ran"] == 12
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="not a sweep result directory"):
        sweep(exp, tmp_path / "full")


# ---------------------------------------------------------------------------------------------------------------
# Dask


def test_dask_local_cluster_equals_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    exp = write(tmp_path, SMALL)
    local = sweep(exp, tmp_path / "local", jobs=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = sweep(exp, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert remote.info["executor"] == "DaskExecutor"
    pd.testing.assert_frame_equal(remote.frame, local.frame)


def _worker_of(x):
    """A task that takes a moment and says which worker ran it."""
    import distributed

    time.sleep(0.15)
    return distributed.get_worker().address


def test_dask_workers_that_join_during_a_run_receive_tasks():
    distributed = pytest.importorskip("distributed")
    from loyaltysim.runs.cluster import DaskExecutor

    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        ran_on, most = [], 0
        with DaskExecutor(cluster.scheduler_address, poll=0.1) as ex:
            for i, (_item, worker) in enumerate(ex.map_unordered(_worker_of, range(40))):
                if i == 1:
                    cluster.scale(3)  # two more workers join after the run started
                ran_on.append(worker)
                in_flight = sum(len(v) for v in ex.client.processing().values())
                assert in_flight <= 2 * 3
                most = max(most, in_flight)
    assert len(ran_on) == 40
    assert most > 2  # the window grew beyond the 2 x 1 thread it started with
    assert len(set(ran_on)) == 3  # the late workers got tasks
    late = [w for w in set(ran_on) if w != ran_on[0]]
    assert all(ran_on.count(w) >= 5 for w in late), {w: ran_on.count(w) for w in set(ran_on)}


def test_dask_scheduler_lost_mid_sweep_is_one_line_and_a_rerun_resumes(tmp_path):
    distributed = pytest.importorskip("distributed")
    from loyaltysim.runs.cluster import DaskExecutor

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )

    class Dies(DaskExecutor):
        def map_unordered(self, fn, items):
            for i, done in enumerate(super().map_unordered(fn, items)):
                yield done
                if i == 2:
                    cluster.close()  # the scheduler goes away with tasks in flight

    exp = write(tmp_path, SMALL)
    with pytest.raises(ScenarioError, match="lost the Dask scheduler") as err:
        sweep(exp, tmp_path / "out", executor=Dies(cluster.scheduler_address, poll=0.1), flush_seconds=0.0)
    assert "\n" not in str(err.value) and "rerun the same command" in str(err.value)
    resumed = sweep(exp, tmp_path / "out")
    assert resumed.info["resumed"] >= 3 and resumed.complete
    pd.testing.assert_frame_equal(resumed.frame, sweep(exp, tmp_path / "fresh").frame)


# ---------------------------------------------------------------------------------------------------------------
# Bad experiment files


BAD = [
    ("name = [", None, "not valid TOML"),
    ('name = "x"\n[parameters.a]\nkey = "market.price"\nlevels = [1.0]', "scenario", "required"),
    ("replicatons = 3\n" + SMALL, "replicatons", "did you mean 'replications'"),
    (
        SMALL.replace("touchpoints.phone_support.effort", "touchpoints.phonesupport.effort"),
        "parameters.touchpoints.phonesupport.effort",
        "not a scenario key",
    ),
    (
        SMALL.replace('key = "competitor.visibility"', 'key = "competitor.visibilit"'),
        "parameters.pull",
        "did you mean 'visibility'",
    ),
    (
        SMALL.replace("levels = [0.3, 0.6]", "levels = [0.3, 1.6]"),
        "parameters.touchpoints.phone_support.effort.levels",
        "less than or equal to 1",
    ),
    (
        SMALL.replace("levels = [0.3, 0.6]", "range = [0.6, 0.3]"),
        "parameters.touchpoints.phone_support.effort",
        "low < high",
    ),
    (
        SMALL.replace("levels = [0.3, 0.6]", "levels = [0.3]\nrange = [0.1, 0.3]"),
        "parameters.touchpoints.phone_support.effort",
        "exactly one of levels",
    ),
    (SMALL + '\n[design]\nkind = "sobol"\nsamples = 16', "parameters.touchpoints.phone_support.effort", "give range"),
    (
        SMALL.replace("levels = [0.3, 0.6]", "range = [0.3, 0.6]").replace(
            "levels = [0.0, 0.02, 0.05]", "range = [0.0, 0.1]"
        )
        + '\n[design]\nkind = "sobol"\nsamples = 10',
        "design",
        "power of 2",
    ),
    (SMALL + '\n[design]\nkind = "factorial"', "design.kind", "'grid', 'lhs', 'sobol' or 'morris'"),
    (SMALL.replace('"ces"]', '"cess"]'), "metrics", "did you mean 'ces'"),
    (SMALL.replace("checkpoints = [1, 3]", "checkpoints = [1, 30]"), "checkpoints", "within the horizon"),
    (SMALL.replace("replications = 2", "replications = 0"), "replications", "greater than or equal to 1"),
    (SMALL + '\n[derived]\n"economics.acquisition_cost" = "__import__(1)"', "derived", "only min, max and abs"),
    (SMALL + '\n[derived]\n"economics.acquisition_cost" = "10 * nope"', "derived", "'nope' is not a parameter"),
    (SMALL.replace(str(BASELINE), "missing.toml"), "scenario", "not found"),
    (
        SMALL.replace('"population.size" = 300', '"population.size" = -5'),
        "set.population.size",
        "greater than or equal to 1",
    ),
    (  # each level is fine alone; 20 contacts among 12 people is not
        SMALL + '\n[parameters."population.size"]\nlevels = [300, 12]\n[parameters."network.mean_degree"]\n'
        "levels = [10, 20]",
        "parameters (point 3",
        "must be below population.size",
    ),
    (SMALL + '\n[analysis]\nheatmap = ["pull", "effort"]', "analysis", "not a parameter"),
    (SMALL + '\n[quick]\nreplications = "one"', "quick.replications", "valid integer"),
    (SMALL + '\n[parameters."touchpoints.app"]\nlevels = [1]', "parameters.touchpoints.app", "a table, not a value"),
]


@pytest.mark.parametrize(("text", "key", "message"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_every_bad_experiment_file_gets_its_error(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        plan(path)
    err = info.value
    text = str(err)
    assert "\n" not in text and str(path) in text and message in text, text
    if key is not None:
        assert err.key is not None and err.key.startswith(key), text


def test_cli_bad_experiment_is_one_line_and_exit_2(tmp_path):
    path = write(tmp_path, SMALL.replace("levels = [0.3, 0.6]", "levels = [0.3, 1.6]"))
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loyaltysim: error: ") and "1.6" in lines[0]
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "not a sweep result directory" in result.output


# ---------------------------------------------------------------------------------------------------------------
# Shipped experiments, each in its quick form, through the command line


@pytest.mark.parametrize("path", EXPERIMENTS, ids=[p.stem for p in EXPERIMENTS])
def test_shipped_experiment_runs_quick_and_analyzes(tmp_path, path):
    load_experiment(path)  # the full form is valid too
    full = plan(path)
    assert full.n_tasks > plan(path, quick=True).n_tasks
    out = tmp_path / path.stem
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(path), "--quick", "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ points x \d+ replications", result.output)
    result = runner.invoke(app, ["analyze", str(out)])
    assert result.exit_code == 0, result.output
    pngs = list((out / "analysis").glob("*/*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
    res = SweepResults.load(out)
    assert res.complete
    tables = {re.sub(r"_month-[\d.]+$", "", p.stem): pd.read_csv(p) for p in (out / "analysis").glob("*/*.csv")}
    if path.stem == "bass-validation":
        t = tables["validation_bass"]
        complete = t[t["network"] == "complete"]
        assert (complete["max_gap_recursion_pp"] < 5).all()  # the discrete Bass model, 2,000 people
        assert (t[t["network"] != "complete"]["max_gap_recursion_pp"] > 0).all()
    if path.stem == "sbg-validation":
        assert (tables["validation_sbg"]["max_gap_closed_form_pp"] < 3).all()
    if path.stem == "effort-empathy":
        roi = tables["grid_roi"]
        assert roi["mean"].isna().sum() == 1 and np.isfinite(roi["mean"].dropna()).all()
        assert "heatmap_retention_month-12.png" in {p.name for p in pngs}
    if path.stem == "sobol-levers":
        assert set(tables["sobol_retention"]["parameter"]) == set(res.parameters)
    if path.stem == "discover-retention":
        assert {f"envelope_{m}" for m in res.experiment.series.metrics} <= set(tables)
        assert res.series["month"].max() == 12.0 and "variance_retention" in tables
        middle = res.point_means("retention")["mean"].median()
        result = runner.invoke(app, ["discover", str(out), "--metric", "retention", "--threshold", f"{middle}"])
        assert result.exit_code == 0, result.output
        assert "feature scores (extra trees)" in result.output


# ---------------------------------------------------------------------------------------------------------------
# The examples of docs/experiments.md


def test_docs_python_examples_run(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for name in ("experiments", "scenarios"):
        os.symlink(ROOT / name, tmp_path / name)
    for code in blocks:
        exec(compile(code, "docs/experiments.md", "exec"), {"__name__": "__main__"})
    assert (tmp_path / "results" / "sweeps").exists()


def test_a_typo_is_reported_before_the_key_it_hides(tmp_path):

    path = tmp_path / "typo.toml"
    path.write_text(
        f'name = "t"\nscenario = "{(Path(__file__).parent.parent / "scenarios" / "baseline.toml").as_posix()}"\n'
        "replicatons = 2\n"
    )
    with pytest.raises(ScenarioError, match=r"replicatons = 2: unknown key.*did you mean 'replications'"):
        load_experiment(path)


def test_analyses_of_two_months_keep_both_and_ids_are_integers(tmp_path):
    res = sweep(write(tmp_path, SMALL), tmp_path / "out")
    for col in ("point", "replication", "seed", "step"):
        assert res.frame[col].dtype == np.int64, col
    assert SweepResults.load(tmp_path / "out").frame["seed"].dtype == np.int64
    runner = CliRunner()
    for month in ("1", "3"):
        result = runner.invoke(app, ["analyze", str(tmp_path / "out"), "--month", month])
        assert result.exit_code == 0, result.output
    one = sorted(p.name for p in (tmp_path / "out" / "analysis" / "month-1").glob("*.csv"))
    three = sorted(p.name for p in (tmp_path / "out" / "analysis" / "month-3").glob("*.csv"))
    assert one and all(n.endswith("_month-1.csv") for n in one)
    assert [n.replace("_month-1", "_month-3") for n in one] == three
    first = (tmp_path / "out" / "analysis" / "month-1" / "grid_retention_month-1.csv").read_text()
    assert first.splitlines()[1].startswith("0,")  # integer point ids in the tables
    assert runner.invoke(app, ["analyze", str(tmp_path / "out"), "--month", "1"]).exit_code == 0
    assert (tmp_path / "out" / "analysis" / "month-1" / "grid_retention_month-1.csv").read_text() == first


def test_prcc_equals_the_partial_correlation_of_the_ranks_precision_matrix():
    """Oracle: partial correlations read off the inverse of the rank correlation matrix (another route)."""
    from scipy import stats

    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(size=(80, 4)), columns=list("abcd"))
    y = 3 * x["a"] + np.exp(2 * x["b"]) - 2 * x["c"] ** 3 + rng.normal(0, 0.3, 80)
    got = sensitivity.prcc_indices(x, y, list("abcd")).table
    ranks = np.column_stack([stats.rankdata(x[c]) for c in "abcd"] + [stats.rankdata(y)])
    prec = np.linalg.inv(np.corrcoef(ranks, rowvar=False))
    oracle = [-prec[j, 4] / np.sqrt(prec[j, j] * prec[4, 4]) for j in range(4)]
    np.testing.assert_allclose(got["prcc"], oracle, atol=1e-10)
    assert got.loc["a", "prcc"] > 0.8 and got.loc["b", "prcc"] > 0.8 and got.loc["c", "prcc"] < -0.5
    assert abs(got.loc["d", "prcc"]) < 0.3 and got.loc["d", "p_value"] > 0.01  # no effect
    assert (got["conf_low"] < got["prcc"]).all() and (got["prcc"] < got["conf_high"]).all()
    with pytest.raises(ValueError, match="at least 7 points"):
        sensitivity.prcc_indices(x.head(6), y.head(6), list("abcd"))


def test_latin_hypercube_sweep_gets_prcc_and_scatter_panels_not_a_heatmap(tmp_path):
    exp = write(
        tmp_path,
        f"""
        name = "lhs"
        scenario = "{BASELINE}"
        replications = 1
        seed = 5
        checkpoints = [3]
        metrics = ["retention", "active"]
        [set]
        "population.size" = 300
        "time.horizon_days" = 91.0
        [parameters."competitor.visibility"]
        range = [0.0, 0.1]
        [parameters."economics.gross_margin"]
        range = [0.4, 0.8]
        [design]
        kind = "lhs"
        samples = 24
        """,
    )
    res = sweep(exp, tmp_path / "out")
    assert analysis.default_method(res) == "prcc"
    result = CliRunner().invoke(app, ["analyze", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / "analysis" / "month-3"
    names = {p.name for p in folder.iterdir()}
    assert {"prcc_retention_month-3.csv", "prcc_retention_month-3.png", "scatter_retention_month-3.png"} <= names
    assert not any(n.startswith("heatmap") for n in names)
    table = pd.read_csv(folder / "prcc_retention_month-3.csv").set_index("parameter")
    assert table.loc["competitor.visibility", "prcc"] < -0.5  # a more visible rival lowers retention
    assert res.plot("retention").axes  # a figure of panels
    grid = sweep(write(tmp_path, SMALL, "grid.toml"), tmp_path / "grid")
    with pytest.raises(ValueError, match="sampled design"):
        sensitivity.sensitivity(grid, "prcc", "retention")


def test_paired_differences_to_the_reference_point(tmp_path):
    text = SMALL.replace("replications = 2", "replications = 4") + (
        '\n[analysis]\nreference = { "touchpoints.phone_support.effort" = 0.6, pull = 0.0 }\n'
    )
    res = sweep(write(tmp_path, text), tmp_path / "out")
    d = res.differences("retention").set_index(["touchpoints.phone_support.effort", "pull"])
    assert d.loc[(0.6, 0.0), "difference"] == 0.0 and d.loc[(0.6, 0.0), "sem"] == 0.0
    # oracle: by hand, replication by replication
    at = res.frame[res.frame["month"] == 3]
    ref = at[(at["touchpoints.phone_support.effort"] == 0.6) & (at["pull"] == 0.0)].set_index("replication")
    point = at[(at["touchpoints.phone_support.effort"] == 0.3) & (at["pull"] == 0.05)].set_index("replication")
    by_hand = point["retention"] - ref["retention"]
    row = d.loc[(0.3, 0.05)]
    assert row["difference"] == pytest.approx(by_hand.mean()) and row["sem"] == pytest.approx(by_hand.sem())
    assert row["conf_low"] < row["difference"] < row["conf_high"] and row["n"] == 4
    # common random numbers: the paired interval is narrower than the unpaired one
    unpaired = np.sqrt(point["retention"].var() / 4 + ref["retention"].var() / 4)
    assert row["sem"] < unpaired
    report = analysis.analyze(res)
    assert "difference_retention_month-3" in report.tables and "difference_roi_month-3" not in report.tables
    with pytest.raises(ValueError, match=r"no analysis\.reference"):
        sweep(write(tmp_path, SMALL, "noref.toml"), tmp_path / "noref").differences("retention")


def test_dry_run_prints_the_design_size_and_an_estimate_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exp = write(tmp_path, SMALL)
    result = CliRunner().invoke(app, ["sweep", str(exp), "--dry-run", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "6 points x 2 replications = 12 runs (grid design, 2 parameters)" in result.output
    assert re.search(r"one run took \d+\.\d+ s .* about \d+ s on 2 processes; nothing was written", result.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]
    bad = write(tmp_path, SMALL.replace("replications = 2", "replications = 0"), "bad.toml")
    result = CliRunner().invoke(app, ["sweep", str(bad), "--dry-run"])
    assert result.exit_code == 2 and "replications" in result.output and "Traceback" not in result.output


def test_experiment_schema_is_published_and_current():
    import json

    from loyaltysim.sweeps.experiment import Experiment

    result = CliRunner().invoke(app, ["schema", "--experiment"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert {"parameters", "design", "replications", "analysis"} <= set(schema["properties"])
    published = json.loads((ROOT / "experiments" / "experiment.schema.json").read_text())
    assert published == json.loads(json.dumps(Experiment.model_json_schema())), (
        "run: loyaltysim schema --experiment --out experiments/experiment.schema.json"
    )


def test_more_replications_run_only_the_new_ones_and_fewer_are_refused(tmp_path):
    exp = write(tmp_path, SMALL)
    first = sweep(exp, tmp_path / "out")
    assert first.info["ran"] == 12
    exp.write_text(textwrap.dedent(SMALL).replace("replications = 2", "replications = 3"))
    more = sweep(exp, tmp_path / "out")
    assert more.info["ran"] == 6 and more.info["resumed"] == 12 and more.complete
    pd.testing.assert_frame_equal(more.frame, sweep(exp, tmp_path / "fresh").frame)  # as if run with 3 at once
    loaded = SweepResults.load(tmp_path / "out")
    assert loaded.experiment.replications == 3 and loaded.complete
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["replications"] == 3 and manifest["tasks"] == 18 and manifest["replications_added"][0]["from"] == 2
    assert "replications = 3" in (tmp_path / "out" / "experiment.toml").read_text()
    exp.write_text(textwrap.dedent(SMALL).replace("replications = 2", "replications = 1"))
    with pytest.raises(ScenarioError, match=r"replications = 1: this directory holds 3 replications"):
        sweep(exp, tmp_path / "out")


def test_sensitivity_intervals_are_the_same_on_every_analysis():
    """The bootstrap is seeded (SALib takes seed 0 as no seed, so the analysis uses the experiment's seed + 1)."""
    bounds = {"a": (-np.pi, np.pi), "b": (-np.pi, np.pi), "c": (-np.pi, np.pi)}
    design = designs.saltelli(bounds, 128, second_order=False, seed=1)
    y = ishigami(design.to_numpy())
    first = sensitivity.sobol_indices(design, y, bounds, seed=1).table
    again = sensitivity.sobol_indices(design, y, bounds, seed=1).table
    pd.testing.assert_frame_equal(first, again)
    with pytest.raises(ValueError, match="at least 1"):
        sensitivity.sobol_indices(design, y, bounds, seed=0)


def test_every_command_help_keeps_its_option_texts():
    """No option description loses text to markup ("[quick]", "[default: ...]")."""
    import re

    import click
    from typer.main import get_command

    from loyaltysim.cli import app

    group = get_command(app)
    for name, command in group.commands.items():
        text = CliRunner().invoke(app, [name, "--help"], terminal_width=200).output
        flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                assert " ".join(param.help.split()) in flat, (name, param.help)
        assert "[quick]" in flat or name != "sweep"
