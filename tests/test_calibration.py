"""Calibration: targets files and their one-line errors, each KPI against an independent reading of the same run,
the distance and the posterior's draws, a small fit end to end, resume after a kill, Dask, and the posterior carried
into a comparison (exact against --set on common random numbers)."""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from loyaltysim.calibration import calibrate, load_calibration, load_targets
from loyaltysim.calibration.fit import WeightedDistance
from loyaltysim.calibration.simulate import Simulator
from loyaltysim.errors import InputError
from loyaltysim.runs.metrics import run_metrics
from loyaltysim.runs.posterior import Posterior, load_posterior, weighted_quantile
from loyaltysim.scenario import load_scenario

fits = pytest.mark.skipif(importlib.util.find_spec("pyabc") is None, reason="pyabc (loyaltysim[calibrate]) missing")

BASE = ROOT / "scenarios" / "baseline.toml"
SBG = ROOT / "scenarios" / "validation" / "sbg.toml"
EXE = str(Path(sys.executable).with_name("loyaltysim"))

SBG_TARGETS = """
name = "sbg-small"
[set]
"time.horizon_days" = 365.25
[parameters."personas.regular.churn_a"]
prior = "log-uniform"
low = 0.1
high = 10.0
[parameters."personas.regular.churn_b"]
prior = "log-uniform"
low = 0.1
high = 20.0
[targets.retention]
months = [1, 2, 3, 4, 5, 6, 7]
values = [63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
sd = [1.53, 1.58, 1.54, 1.48, 1.43, 1.39, 1.35]
[holdout.retention]
months = [8, 10, 12]
values = [22.3, 19.4, 17.3]
sd = 1.3
[abc]
population = {population}
generations = {generations}
customers = 5000
predictive = 20
"""


def write(tmp_path: Path, text: str, name: str = "targets.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def sbg_targets(tmp_path: Path, population: int = 60, generations: int = 4) -> Path:
    return write(tmp_path, SBG_TARGETS.format(population=population, generations=generations))


# ---------------------------------------------------------------------------------------------------------------
# Targets files and their errors

BASE_PRIOR = '[parameters."competitor.visibility"]\nprior = "uniform"\nlow = 0.01\nhigh = 0.2\n'
BASE_TARGET = "[targets.retention]\nmonths = [6, 12]\nvalues = [88, 75]\nsd = 2\n"


@pytest.mark.parametrize(
    "text,key,match",
    [
        (BASE_PRIOR + BASE_TARGET + "colour = 1\n", "colour", "unknown key"),
        (BASE_PRIOR.replace("low", "lwo") + BASE_TARGET, "lwo", "did you mean 'low'"),
        (
            '[parameters."competitor.visiblity"]\nprior = "uniform"\nlow = 0\nhigh = 1\n' + BASE_TARGET,
            "competitor.visiblity",
            "did you mean 'visibility'",
        ),
        (
            '[parameters."personas.nobody.churn_a"]\nprior = "uniform"\nlow = 0.1\nhigh = 1\n' + BASE_TARGET,
            "personas.nobody",
            "no such name",
        ),
        (
            '[parameters."network.kind"]\nprior = "uniform"\nlow = 0\nhigh = 1\n' + BASE_TARGET,
            "network.kind",
            "real-valued key",
        ),
        (BASE_PRIOR.replace("0.01", "0.3") + BASE_TARGET, "parameters.", "improper prior"),
        (
            BASE_PRIOR.replace("high = 0.2", "high = 20") + BASE_TARGET,
            "competitor.visibility",
            "inside the key's limits 0 .. 10",
        ),
        (
            '[parameters."competitor.visibility"]\nprior = "log-uniform"\nlow = 0\nhigh = 1\n' + BASE_TARGET,
            "parameters.",
            "low above 0",
        ),
        (
            '[parameters."competitor.visibility"]\nprior = "normal"\nmean = 0.1\n' + BASE_TARGET,
            "parameters.",
            "takes mean and sd",
        ),
        (BASE_PRIOR + BASE_TARGET.replace("[6, 12]", "[6, 24]"), "targets.retention.months", "horizon of 11.96"),
        (BASE_PRIOR + "[targets]\n", "targets", "empty target set"),
        (BASE_PRIOR, "targets", "required"),
        (BASE_PRIOR + BASE_TARGET.replace("values = [88, 75]", "values = [88]"), "values", "one per month"),
        (BASE_PRIOR + BASE_TARGET.replace("sd = 2", "sd = 0"), "sd", "above 0"),
        (BASE_PRIOR + BASE_TARGET.replace("retention", "retension"), "kpi", "did you mean 'retention'"),
        (
            BASE_PRIOR + "[targets.calls]\nkpi = 'contacts'\nmonths = [6]\nvalues = [1]\nsd = 0.1\n",
            "touchpoint",
            "need a touchpoint",
        ),
        (
            BASE_PRIOR
            + "[targets.calls]\nkpi = 'contacts'\ntouchpoint = 'fax'\nmonths = [6]\nvalues = [1]\nsd = 0.1\n",
            "touchpoint",
            "one of app, web",
        ),
        (
            BASE_PRIOR + "[targets.s]\nkpi = 'survey'\nstatistic = 'nps'\nmonths = [3]\nvalues = [1]\nsd = 1\n",
            "targets.s.months",
            "from 6.0 on",
        ),
        (
            BASE_PRIOR
            + "[targets.s]\nkpi = 'survey'\nstatistic = 'experience_as_product'\nmonths = [9]\nvalues = [83]\n"
            "sd = 1\n",
            "statistic",
            "one of frustrated_left",
        ),
        (
            BASE_PRIOR + BASE_TARGET + "[holdout.retention]\nmonths = [12]\nvalues = [75]\nsd = 2\n",
            "holdout.retention.months",
            "fitted in targets.retention",
        ),
        (BASE_PRIOR + BASE_TARGET + "[abc]\npopulation = 2\n", "abc.population", "greater than or equal to 10"),
        (BASE_PRIOR + BASE_TARGET + '[set]\n"market.price" = -1\n', "set.market.price", "greater than 0"),
        (BASE_PRIOR + BASE_TARGET + "[abc]\ncustomers = 10\n", "abc.customers", "greater than or equal to 100"),
        (
            '[parameters."competitor.visibility"]\nprior = "normal"\nmean = 50\nsd = 0.01\n' + BASE_TARGET,
            "competitor.visibility",
            "mass inside the key's limits",
        ),
        (
            '[parameters."population.size"]\nprior = "uniform"\nlow = 100\nhigh = 200\n' + BASE_TARGET,
            "population.size",
            "real-valued key",
        ),
        (BASE_PRIOR + BASE_TARGET.replace("sd = 2", "sd = 2\nwindow_months = 3"), "window_months", "read at the month"),
        (
            BASE_PRIOR + "[targets.churn]\nmonths = [2]\nvalues = [2]\nsd = 1\nwindow_months = 3\n",
            "window_months",
            "at most the month 2",
        ),
        ("name = [\n", None, "not valid TOML"),
    ],
)
def test_bad_targets_one_line(tmp_path, text, key, match):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_targets(path, load_scenario(BASE))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path)) and message.count(str(path)) == 1, message
    assert match in message, message
    if key:
        assert key in message, message


def test_missing_targets_file(tmp_path):
    with pytest.raises(InputError, match="targets file not found"):
        load_targets(tmp_path / "nope.toml", load_scenario(BASE))


def cli(*args, cwd=ROOT, **kw):
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=600, cwd=cwd, **kw)


@pytest.mark.parametrize(
    "extra,match",
    [
        ("colour = 1\n", "unknown key"),
        ("[targets]\n", "empty target set"),
    ],
)
def test_cli_bad_targets_exit_2(tmp_path, extra, match):
    text = BASE_PRIOR + (BASE_TARGET if "targets]" not in extra else "") + extra
    proc = cli("calibrate", str(BASE), str(write(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert match in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert not (tmp_path / "out").exists()


def test_cli_missing_files_exit_2(tmp_path):
    proc = cli("calibrate", str(BASE), str(tmp_path / "none.toml"), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "targets file not found" in proc.stderr
    proc = cli("calibrate", str(tmp_path / "none.toml"), str(sbg_targets(tmp_path)), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_targets_schema():
    proc = cli("schema", "--targets")
    assert proc.returncode == 0
    import json

    schema = json.loads(proc.stdout)
    assert {"parameters", "targets", "holdout", "abc"} <= set(schema["properties"])


# ---------------------------------------------------------------------------------------------------------------
# KPIs, distance, posterior draws


KPI_TARGETS = """
[parameters."competitor.visibility"]
prior = "uniform"
low = 0.01
high = 0.2
[targets.retention]
months = [6, 11.96]
values = [1, 1]
sd = 1
[targets.churn]
months = [6]
values = [1]
sd = 1
window_months = 3
[targets.acquisition]
months = [6]
values = [1]
sd = 1
window_months = 3
[targets.complaints]
months = [9]
values = [1]
sd = 1
[targets.calls]
kpi = "contacts"
touchpoint = "phone_support"
months = [9]
values = [1]
sd = 1
[targets.nps]
months = [9]
values = [1]
sd = 1
[targets.promoters]
months = [9]
values = [1]
sd = 1
[targets.ces]
months = [9]
values = [1]
sd = 1
window_months = 2
[targets.share]
kpi = "market_share"
months = [9]
values = [1]
sd = 1
[targets.frustrated]
kpi = "survey"
statistic = "frustrated_left"
months = [9]
values = [50]
sd = 5
"""


def test_each_kpi_reads_the_run_as_an_independent_reading_does(tmp_path):
    """Each KPI of a simulation equals the same quantity read independently from the run's own table."""
    spec = load_scenario(BASE, {"population.size": 2000})
    targets, fitted = load_targets(write(tmp_path, KPI_TARGETS), spec)
    sim = Simulator(fitted, targets)
    got = sim({"competitor.visibility": 0.08}, seed=5)
    from loyaltysim.runs.simulate import simulate
    from loyaltysim.survey import survey

    changed = fitted.with_overrides({"competitor.visibility": 0.08})
    ts = simulate(changed, seed=5).timeseries
    week = 7.0 / 30.4375
    k6, k9 = round(6 / week), round(9 / week)
    assert got["retention@6"] == pytest.approx(run_metrics(ts, changed, k6)[0]["retention"], rel=1e-12)
    assert got["retention@11.96"] == pytest.approx(run_metrics(ts, changed, 52)[0]["retention"], rel=1e-12)
    w3 = round(3 / week)
    lost = ts["churned_step"].iloc[k6 - w3 + 1 : k6 + 1].sum()
    at_risk = ts["active"].iloc[k6 - w3 : k6].sum() * week
    assert got["churn@6"] == pytest.approx(100 * lost / at_risk)
    served6 = ts["active"].iloc[k6 - w3 + 1 : k6 + 1].sum() * week
    assert got["acquisition@6"] == pytest.approx(100 * ts["new_customers"].iloc[k6 - w3 + 1 : k6 + 1].sum() / served6)
    w1 = round(1 / week)
    served9 = ts["active"].iloc[k9 - w1 + 1 : k9 + 1].sum() * week
    assert got["complaints@9"] == pytest.approx(100 * ts["recoveries"].iloc[k9 - w1 + 1 : k9 + 1].sum() / served9)
    assert got["nps@9"] == pytest.approx(ts["nps"].iloc[k9])
    assert got["promoters@9"] == pytest.approx(100 * ts["promoters"].iloc[k9] / ts["active"].iloc[k9])
    assert got["share@9"] == pytest.approx(100 * ts["active"].iloc[k9] / 2000)
    w2 = round(2 / week)
    n = ts["interactions"].iloc[k9 - w2 + 1 : k9 + 1]
    assert got["ces@9"] == pytest.approx((ts["ces"].iloc[k9 - w2 + 1 : k9 + 1] * n).sum() / n.sum())
    # contacts at one touchpoint: counted from the model's per-touchpoint tally, at most all interactions
    assert 0 < got["calls@9"] * served9 <= ts["interactions"].iloc[k9 - w1 + 1 : k9 + 1].sum()
    # the survey statistic is the survey's own, for the same seed
    s = survey(changed, seed=5, replications=1, months=[9])
    frame = s.to_frame()
    assert got["frustrated@9"] == pytest.approx(
        float(frame.loc[frame["key"] == "frustrated_left", "simulated"].iloc[0])
    )


def test_contacts_of_all_touchpoints_add_up_to_interactions(tmp_path):
    spec = load_scenario(BASE, {"population.size": 1500})
    text = BASE_PRIOR + "".join(
        f"[targets.{tp}]\nkpi = 'contacts'\ntouchpoint = '{tp}'\nmonths = [6]\nvalues = [1]\nsd = 1\n"
        for tp in spec.touchpoints
    )
    targets, fitted = load_targets(write(tmp_path, text), spec)
    got = Simulator(fitted, targets)({"competitor.visibility": 0.06}, seed=2)
    from loyaltysim.runs.simulate import simulate

    ts = simulate(fitted.with_overrides({"competitor.visibility": 0.06}), seed=2).timeseries
    week = 7.0 / 30.4375
    k, w = round(6 / week), round(1 / week)
    served = ts["active"].iloc[k - w + 1 : k + 1].sum() * week
    total = sum(got[f"{tp}@6"] for tp in spec.touchpoints) * served
    assert total == pytest.approx(ts["interactions"].iloc[k - w + 1 : k + 1].sum())


def test_weighted_distance_known_answer():
    d = WeightedDistance({"a@1": 2.0, "b@1": 0.5}, {"a@1": 1.0, "b@1": 4.0})
    assert d({"a@1": 3.0, "b@1": 1.0}, {"a@1": 1.0, "b@1": 0.5}) == pytest.approx(math.sqrt(1 + 4 * 1))
    assert d({"a@1": 1.0, "b@1": 0.5}, {"a@1": 1.0, "b@1": 0.5}) == 0
    assert d({"a@1": float("nan"), "b@1": 0.5}, {"a@1": 1.0, "b@1": 0.5}) == pytest.approx(1e3)


def test_posterior_draws_follow_weights_and_quantiles_are_weighted():
    post = Posterior(pd.DataFrame({"k": [1.0, 2.0, 3.0]}), np.array([0.2, 0.3, 0.5]))
    draws = pd.Series([d["k"] for d in post.draws(20000, seed=3)])
    freq = draws.value_counts(normalize=True).sort_index().to_numpy()
    assert np.allclose(freq, [0.2, 0.3, 0.5], atol=0.015)
    assert post.draws(5, 3) == post.draws(5, 3) and post.draws(5, 3) != post.draws(5, 4)
    assert weighted_quantile(np.array([1.0, 2.0, 3.0]), np.ones(3), 0.5) == pytest.approx(2.0)
    assert post.effective_size == pytest.approx(1 / (0.04 + 0.09 + 0.25))
    # midpoint CDF of (1, 2, 3) with weights (0.2, 0.3, 0.5): 0.1, 0.35, 0.75; the median lies between 2 and 3
    assert post.median()["k"] == pytest.approx(2 + (0.5 - 0.35) / (0.75 - 0.35))
    # a value of no weight does not stretch the range
    assert weighted_quantile(np.array([1.0, 3.0, 5.0]), np.array([1.0, 1.0, 0.0]), 0.99) == pytest.approx(3.0)


def test_load_posterior_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        load_posterior(tmp_path / "nothing")
    with pytest.raises(InputError, match=r"no posterior\.parquet"):
        load_posterior(tmp_path)
    pd.DataFrame({"k": [1.0]}).to_parquet(tmp_path / "posterior.parquet")
    with pytest.raises(InputError, match="weight column"):
        load_posterior(tmp_path)
    (tmp_path / "posterior.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="not a readable Parquet"):
        load_posterior(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# A small fit end to end


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    pytest.importorskip("pyabc")
    tmp = tmp_path_factory.mktemp("fit")
    out = tmp / "out"
    cal = calibrate(SBG, sbg_targets(tmp, population=80, generations=5), out, root=ROOT)
    return cal, out


def test_small_fit_writes_everything_and_covers_the_published_estimate(small_fit):
    cal, out = small_fit
    for name in (
        "history.db",
        "posterior.parquet",
        "calibrated.toml",
        "report.html",
        "parameters.csv",
        "fit.csv",
        "populations.csv",
        "predictive.parquet",
        "fit.png",
        "marginals.png",
        "pairs.png",
        "generations.png",
    ):
        assert (out / name).is_file(), name
    frame = cal.to_frame().set_index("key")
    for key, mle in (("personas.regular.churn_a", 0.704), ("personas.regular.churn_b", 1.182)):
        assert frame.loc[key, "low"] < mle < frame.loc[key, "high"], frame
        assert frame.loc[key, "narrowing"] > 0.5
    assert len(cal.posterior) == 80 and cal.posterior["weight"].sum() == pytest.approx(1)
    assert list(cal.populations["generation"]) == list(range(5))
    assert (cal.populations["epsilon"].diff().dropna() < 0).all()
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "http" not in page.replace("http-equiv", "")
    fit = cal.fit_frame()
    assert fit["holdout"].sum() == 3 and fit["predicted"].notna().all()


def test_calibrated_scenario_carries_medians_and_intervals(small_fit):
    cal, out = small_fit
    text = (out / "calibrated.toml").read_text()
    assert "90% interval" in text and "extends = " in text
    # calibrated.toml extends the input by a relative path: load it with a root above both
    common = Path(os.path.commonpath([out.resolve(), SBG.resolve()]))
    loaded = load_scenario(out / "calibrated.toml", root=common)
    medians = cal.to_frame().set_index("key")["median"]
    assert loaded.personas["regular"].churn_a == pytest.approx(medians["personas.regular.churn_a"], rel=1e-5)
    assert loaded.time.horizon_days == 365.25
    assert cal.scenario().personas["regular"].churn_b == pytest.approx(medians["personas.regular.churn_b"])


def test_load_calibration_round_trips(small_fit):
    cal, out = small_fit
    again = load_calibration(out)
    pd.testing.assert_frame_equal(again.to_frame(), cal.to_frame())
    assert again.text() == cal.text()
    with pytest.raises(InputError, match="not a finished calibration"):
        load_calibration(out.parent)


def test_rerun_refused_without_resume_or_force(small_fit, tmp_path):
    _, out = small_fit
    proc = cli("calibrate", str(SBG), str(sbg_targets(tmp_path)), "--out", str(out), "--root", str(ROOT))
    assert proc.returncode == 2 and "--resume" in proc.stderr and proc.stderr.count("\n") == 1
    other = write(tmp_path, SBG_TARGETS.format(population=60, generations=3).replace("20.0", "30.0"), "other.toml")
    proc = cli("calibrate", str(SBG), str(other), "--out", str(out), "--root", str(ROOT), "--resume")
    assert proc.returncode == 2 and "another scenario or targets file" in proc.stderr
    proc = cli("calibrate", str(SBG), str(other), "--out", str(tmp_path / "empty"), "--root", str(ROOT), "--resume")
    assert proc.returncode == 2 and "nothing" not in proc.stderr and "no history.db" in proc.stderr


@fits
def test_one_job_is_reproducible_and_resume_continues_with_more_generations(tmp_path):
    """The same seed gives the same posterior; raising generations and resuming runs only the new ones."""
    two = sbg_targets(tmp_path, population=30, generations=2)
    a = calibrate(SBG, two, tmp_path / "a", root=ROOT)
    b = calibrate(SBG, two, tmp_path / "b", root=ROOT)
    pd.testing.assert_frame_equal(a.posterior, b.posterior)
    three = write(tmp_path, SBG_TARGETS.format(population=30, generations=3), "three.toml")
    c = calibrate(SBG, three, tmp_path / "a", root=ROOT, resume=True)
    assert list(c.populations["generation"]) == [0, 1, 2]
    assert c.populations["epsilon"].iloc[:2].tolist() == a.populations["epsilon"].tolist()
    assert c.info["resumed"] and c.info["simulations"] > a.info["simulations"]
    again = calibrate(SBG, three, tmp_path / "a", root=ROOT, resume=True)  # nothing left to run
    assert again.info["simulations"] == c.info["simulations"] and again.info["stop"] == "generations"


@fits
def test_calibration_of_a_scenario_object_writes_a_whole_valid_scenario(tmp_path):
    import tomllib

    spec = load_scenario(SBG)
    spec.source = None
    cal = calibrate(spec, sbg_targets(tmp_path, population=20, generations=1), tmp_path / "obj")
    text = (tmp_path / "obj" / "calibrated.toml").read_text()
    assert "extends =" not in text
    tomllib.loads(text)
    loaded = load_scenario(tmp_path / "obj" / "calibrated.toml")
    assert loaded.personas["regular"].churn_a == pytest.approx(
        cal.to_frame().set_index("key").loc["personas.regular.churn_a", "median"], rel=1e-5
    )


@fits
def test_force_keeps_the_old_calibration_until_the_new_one_is_done(small_fit, tmp_path, monkeypatch):
    import shutil

    import loyaltysim.calibration.fit as fit

    _, out = small_fit
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = sorted(p.name for p in copy.iterdir())

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fit, "_fit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        calibrate(SBG, sbg_targets(tmp_path, population=20, generations=1), copy, root=ROOT, force=True)
    assert sorted(p.name for p in copy.iterdir()) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".copy.old-")]


@fits
def test_resume_after_a_kill_mid_generation(tmp_path):
    """Killed (SIGKILL) during a generation and resumed: the history is intact and the posterior is complete."""
    targets = sbg_targets(tmp_path, population=150, generations=5)
    out = tmp_path / "out"
    args = ["calibrate", str(SBG), str(targets), "--out", str(out), "--root", str(ROOT), "--quiet"]
    proc = subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    db = out / "history.db"
    deadline = time.time() + 300
    done = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.is_file():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
                    done = con.execute("select count(*) from populations where t >= 0").fetchone()[0]
            except sqlite3.Error:
                continue
            if done >= 2:
                break
    assert proc.poll() is None, "the calibration finished before it could be killed"
    time.sleep(0.3)  # into the next generation
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "posterior.parquet").exists()
    with sqlite3.connect(db) as con:
        before = con.execute("select t, epsilon, nr_samples from populations where t >= 0 order by t").fetchall()
    assert len(before) >= 2
    proc = cli(*args, "--resume")
    assert proc.returncode == 0, proc.stderr
    cal = load_calibration(out)
    assert list(cal.populations["generation"]) == list(range(5))
    with sqlite3.connect(db) as con:
        after = con.execute("select t, epsilon, nr_samples from populations where t >= 0 order by t").fetchall()
    assert after[: len(before)] == before  # the generations done before the kill are untouched
    assert len(cal.posterior) == 150 and np.isfinite(cal.posterior.drop(columns="weight").to_numpy()).all()
    with sqlite3.connect(db) as con:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"


@fits
def test_jobs_and_dask_give_a_valid_posterior(tmp_path):
    """Two spawned processes, and a Dask cluster of worker processes (the simulator is pickled to them); a client
    passed in stays open."""
    distributed = pytest.importorskip("distributed")
    targets = sbg_targets(tmp_path, population=40, generations=2)
    cal = calibrate(SBG, targets, tmp_path / "jobs", jobs=2, root=ROOT)
    assert len(cal.posterior) == 40 and cal.info["generations"] == 2
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        cal = calibrate(SBG, targets, tmp_path / "dask", scheduler=client, root=ROOT)
        assert client.status == "running"
    assert len(cal.posterior) == 40 and cal.info["generations"] == 2
    proc = cli(
        "calibrate",
        str(SBG),
        str(targets),
        "--out",
        str(tmp_path / "x"),
        "--scheduler",
        "nonsense://",
        "--root",
        str(ROOT),
    )
    assert proc.returncode == 2 and proc.stderr.startswith("loyaltysim: error: --scheduler"), proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


# ---------------------------------------------------------------------------------------------------------------
# The posterior in a comparison


def test_compare_with_a_posterior_is_paired_and_exact(tmp_path):
    """A posterior with one parameter set gives exactly the comparison at that value (--set), every scenario and
    replication drawing the same set; a spread posterior widens the baseline's intervals."""
    from loyaltysim.comparisons.run import compare

    scenarios = [BASE, ROOT / "scenarios" / "cut-effort.toml"]
    common = {"population.size": 1500, "time.horizon_days": 182.0}
    one = Posterior(pd.DataFrame({"competitor.visibility": [0.09]}))
    a = compare(scenarios, replications=3, overrides=common, horizon_months=None, posterior=one)
    b = compare(scenarios, replications=3, overrides={**common, "competitor.visibility": 0.09}, horizon_months=None)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    from loyaltysim.comparisons.text import text_table

    assert "parameter uncertainty" in text_table(a) and "simulation noise only" in text_table(b)
    spread = Posterior(pd.DataFrame({"competitor.visibility": [0.02, 0.3]}))
    c = compare(scenarios, replications=6, overrides=common, horizon_months=None, posterior=spread)
    assert set(c.draws["competitor.visibility"]) <= {0.02, 0.3} and c.posterior
    assert len(set(c.draws["competitor.visibility"])) == 2
    at = c.replicates[c.replicates["step"] == c.checkpoints[-1][1]]
    ref = b.replicates[b.replicates["step"] == b.checkpoints[-1][1]]
    assert at[at["scenario"] == "baseline"]["active"].std() > 2 * ref[ref["scenario"] == "baseline"]["active"].std()


@fits
def test_compare_posterior_cli(small_fit, tmp_path):
    _, out = small_fit
    sbg_variant = tmp_path / "variant.toml"
    sbg_variant.write_text(f'extends = "{SBG}"\nname = "variant"\n[market]\nprice = 1.1\n')
    proc = cli(
        "compare",
        str(SBG),
        str(sbg_variant),
        "-n",
        "3",
        "--posterior",
        str(out),
        "--no-tornado",
        "--horizon-months",
        "6",
        "--set",
        "population.size=2000",
        "--root",
        "/",
    )
    assert proc.returncode == 0, proc.stderr
    assert "parameter uncertainty" in proc.stdout and "personas.regular.churn_a" in proc.stdout
    proc = cli(
        "compare",
        str(BASE),
        str(ROOT / "scenarios" / "cut-effort.toml"),
        "-n",
        "2",
        "--posterior",
        str(out),
        "--no-tornado",
        "--set",
        "population.size=1000",
    )
    assert proc.returncode == 2 and "--posterior" in proc.stderr and "personas.regular" in proc.stderr
    proc = cli("compare", str(BASE), str(ROOT / "scenarios" / "cut-effort.toml"), "--posterior", str(tmp_path))
    assert proc.returncode == 2 and "no posterior.parquet" in proc.stderr


# ---------------------------------------------------------------------------------------------------------------
# The shipped calibrations' promises, in a smaller form


def _smaller(path: Path, tmp_path: Path, **abc) -> Path:
    import tomllib

    from loyaltysim.calibration.targets import Targets, to_toml

    data = tomllib.loads(path.read_text())
    data["abc"] = {**data.get("abc", {}), **abc}
    out = tmp_path / path.name
    out.write_text(to_toml(Targets.model_validate(data)))
    return out


@fits
@pytest.mark.slow
def test_fader_hardie_fit_covers_the_mle_and_projects_years_8_to_12(tmp_path):
    targets = _smaller(
        ROOT / "calibration" / "sbg-fader-hardie.toml",
        tmp_path,
        population=150,
        generations=8,
        customers=5000,
        predictive=40,
    )
    cal = calibrate(SBG, targets, tmp_path / "fh", root=ROOT)
    frame = cal.to_frame().set_index("key")
    assert frame.loc["personas.regular.churn_a", "low"] < 0.704 < frame.loc["personas.regular.churn_a", "high"]
    assert frame.loc["personas.regular.churn_b", "low"] < 1.182 < frame.loc["personas.regular.churn_b", "high"]
    fit = cal.fit_frame()
    held = fit[fit["holdout"]]
    assert list(held["month"]) == [8, 9, 10, 11, 12]
    assert (held["predicted"] - held["value"]).abs().max() < 1.5, held


@fits
@pytest.mark.slow
def test_recovery_covers_the_truth_and_narrows_every_parameter(tmp_path):
    from loyaltysim.calibration.recovery import recovery, truths_from_priors

    scenario = load_scenario(BASE)
    path = _smaller(ROOT / "calibration" / "recovery.toml", tmp_path, population=80, generations=5, predictive=4)
    targets, _ = load_targets(path, scenario)
    truths = truths_from_priors(targets, scenario, 1, seed=7)
    frame = recovery(scenario, path, truths, tmp_path / "rec")
    assert len(frame) == 4
    assert frame["covered"].sum() >= 3, frame
    assert (frame["narrowing"] > 0).all(), frame


def test_docs_kpi_table_is_current():
    from loyaltysim.calibration.kpis import kpi_markdown

    text = (ROOT / "docs" / "calibration.md").read_text()
    table = text.split("<!-- kpis:begin -->", 1)[1].split("<!-- kpis:end -->", 1)[0].strip()
    assert table == kpi_markdown()


def test_shipped_targets_files_load():
    for name, scenario in (("telecom", BASE), ("recovery", BASE), ("sbg-fader-hardie", SBG)):
        targets, fitted = load_targets(ROOT / "calibration" / f"{name}.toml", load_scenario(scenario))
        assert targets.parameters and targets.targets and fitted.n_steps > 0, name


def test_shipped_baseline_carries_the_telecom_posterior_medians():
    """scenarios/baseline.toml states the telecom calibration's posterior medians (to 2 significant digits), each
    inside its 90 % interval; the committed calibration reads back without pyabc."""
    cal = load_calibration(ROOT / "calibration" / "telecom")
    from loyaltysim.scenario import dotted_values

    values = dotted_values(load_scenario(BASE).model_dump())
    for r in cal.to_frame().itertuples():
        assert values[r.key] == pytest.approx(float(f"{r.median:.2g}")), r.key
        assert r.low <= values[r.key] <= r.high, r.key


def test_compare_set_pins_a_posterior_key_with_a_warning():
    from loyaltysim.comparisons.run import compare
    from loyaltysim.comparisons.text import draw_lines
    from loyaltysim.errors import InputWarning

    scenarios = [BASE, ROOT / "scenarios" / "cut-effort.toml"]
    common = {"population.size": 1000, "time.horizon_days": 91.0}
    spread = Posterior(pd.DataFrame({"competitor.visibility": [0.02, 0.3]}))
    with pytest.warns(InputWarning, match="competitor.visibility set by"):
        a = compare(
            scenarios,
            replications=2,
            overrides={**common, "competitor.visibility": 0.1},
            horizon_months=None,
            posterior=spread,
        )
    b = compare(scenarios, replications=2, overrides={**common, "competitor.visibility": 0.1}, horizon_months=None)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    assert "too few" in draw_lines(a)[-1]


def test_unquoted_dotted_parameter_says_to_quote_it(tmp_path):
    path = write(
        tmp_path, '[parameters.competitor.visibility]\nprior = "uniform"\nlow = 0.01\nhigh = 0.2\n' + BASE_TARGET
    )
    with pytest.raises(
        InputError, match=r'quote a dotted key in the table name: \[parameters\."competitor\.visibility"\]'
    ):
        load_targets(path, load_scenario(BASE))
