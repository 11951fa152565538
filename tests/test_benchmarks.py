"""The benchmark code works (quick mode); timings are never asserted."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

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
    assert run.main(["--quick", "--out", str(out), "--repeats", "2", "--check"]) == 0  # and no 2x regression
    res = json.loads(out.read_text())
    for section in ("throughput", "readable", "phases", "networks", "memory", "startup", "bandwidth", "traffic"):
        assert section in res
    for section in ("small_runs",):
        assert section in res
    assert {row["threads"] for row in res["throughput"]} >= {1}
    assert all(row["customer_steps_per_s"] > 0 for row in res["throughput"])
    assert {row["kind"] for row in res["networks"]} == set(run.NETWORK_KINDS)
    small = {row["n"]: row for row in res["small_runs"]}
    assert set(small) == {100, 10_000} and all(0 < r["overhead_share"] < 1 for r in small.values())
    assert {"interact", "settle", "listen", "init_population"} <= set(small[10_000]["kernel_seconds_per_run"])
    printed = capsys.readouterr().out
    assert "throughput" in printed and "regression check: ok" in printed
    assert res["regression"]["n"] == run.REGRESSION_N and res["regression"]["ratio"] > 0
    png = tmp_path / "scaling.png"
    assert _load("plot").main([str(out), "--out", str(png)]) == 0
    assert png.stat().st_size > 0


def test_the_regression_check_fails_below_the_baseline_tolerance(tmp_path):
    run = _load("run")
    base = tmp_path / "baseline.json"
    base.write_text(json.dumps({"ratio": 0.01, "tolerance": 0.5, "measured": "today"}))
    assert run.check_regression({"regression": {"ratio": 0.006}}, base)[0]
    ok, line = run.check_regression({"regression": {"ratio": 0.004}}, base)
    assert not ok and line.startswith("regression check: REGRESSION") and "floor 0.0050" in line
    committed = json.loads(run.REGRESSION_BASELINE.read_text())
    assert 0 < committed["tolerance"] < 1 and committed["ratio"] > 0
