"""The benchmark code works (quick mode); timings are never asserted. Also: the kernel's shortcut bounds hold."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.engine import rules as r
from loyaltysim.engine.plan import make_plan
from loyaltysim.scenario import Scenario

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_quick_benchmark_writes_json_table_and_figure(tmp_path, capsys):
    run = _load("run")
    out = tmp_path / "bench.json"
    assert run.main(["--quick", "--out", str(out), "--repeats", "2"]) == 0
    res = json.loads(out.read_text())
    for section in ("throughput", "readable", "phases", "networks", "memory", "startup", "bandwidth", "traffic"):
        assert section in res
    assert {row["threads"] for row in res["throughput"]} >= {1}
    assert all(row["customer_steps_per_s"] > 0 for row in res["throughput"])
    assert {row["kind"] for row in res["networks"]} == set(run.NETWORK_KINDS)
    assert "throughput" in capsys.readouterr().out
    png = tmp_path / "scaling.png"
    assert _load("plot").main([str(out), "--out", str(png)]) == 0
    assert png.stat().st_size > 0


def test_adoption_cap_bounds_the_rule():
    """`kernels.transition` skips the rule when the draw is above its value at influence 1: it must be a bound."""
    p = make_plan(Scenario()).params
    rng = np.random.default_rng(0)
    for marketing in (0.0, 0.0025, 0.3, 1.0):
        cap = r.adoption_probability(marketing, 1.0, 0.0, p)
        for influence, heard in zip(rng.random(500), rng.uniform(-2, 2, 500), strict=True):
            assert r.adoption_probability(marketing, influence, heard, p) <= cap


def test_churn_probability_is_below_hazard_times_step():
    """`kernels.transition` skips the exact churn chance when the draw is above hazard x months."""
    for h in np.geomspace(1e-8, 50, 200):
        for months in (7 / 30.44, 1.0, 3.0):
            assert r.hazard_probability(h, months) <= h * months * (1 + 1e-9)
