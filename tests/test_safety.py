"""Inputs and outputs hardened: every bad input of issue 14 gets one line (exit 2) or a documented warning.

Nothing is read outside the scenario's folder, nothing is left half-written, nothing nonsensical passes silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import loyaltysim as ls
from conftest import SCENARIOS
from loyaltysim.cli import app

BASE = f'extends = "{SCENARIOS / "baseline.toml"}"\n'
runner = CliRunner()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def local_baseline(folder: Path) -> Path:
    """A copy of the shipped baseline inside ``folder``, so that files extending it stay inside their tree."""
    return write(folder, "baseline.toml", (SCENARIOS / "baseline.toml").read_text(encoding="utf-8"))


def one_line_exit_2(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.output.strip().splitlines() if not line.startswith("loyaltysim: warning:")]
    assert len(lines) == 1 and lines[0].startswith("loyaltysim: error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


# --- finite numbers within declared ranges --------------------------------------------------------------------


@pytest.mark.parametrize(
    "table,fragment",
    [
        ("[economics]\nacquisition_cost = inf\n", "economics.acquisition_cost"),
        ("[economics]\nacquisition_cost = nan\n", "economics.acquisition_cost"),
        ('[interventions.x]\ncost_once = "inf"\n', "interventions.x.cost_once"),
        ("[economics]\nacquisition_cost = 1e308\n", "economics.acquisition_cost"),
        ("[touchpoints.app]\ncost_per_interaction = 1e300\n", "touchpoints.app.cost_per_interaction"),
        ("[population]\nsize = true\n", "population.size"),
        ("[market]\nprice = true\n", "market.price"),
    ],
)
def test_numbers_are_finite_within_range_and_never_booleans(tmp_path, table, fragment):
    local_baseline(tmp_path)
    path = write(tmp_path, "bad.toml", 'extends = "baseline.toml"\n' + table)
    with pytest.raises(ls.InputError) as info:
        ls.load_scenario(path)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308"])
def test_set_refuses_infinite_or_huge_values(value):
    line = one_line_exit_2(["run", str(SCENARIOS / "baseline.toml"), "--set", f"economics.acquisition_cost={value}"])
    assert "economics.acquisition_cost" in line


def test_python_overrides_are_checked_the_same_way_and_named_as_such():
    with pytest.raises(ls.InputError, match=r"^overrides: economics\.acquisition_cost"):
        ls.load_scenario(SCENARIOS / "baseline.toml", {"economics.acquisition_cost": float("inf")})


# --- overrides never create structure --------------------------------------------------------------------------


def test_set_cannot_create_a_touchpoint_and_suggests_the_real_one():
    line = one_line_exit_2(["run", str(SCENARIOS / "baseline.toml"), "--set", "touchpoints.phone.effort=0.3"])
    assert "touchpoints.phone" in line and "did you mean 'phone_support'" in line
    with pytest.raises(ls.InputError, match="did you mean 'phone_support'"):
        ls.simulate(SCENARIOS / "baseline.toml", overrides={"touchpoints.phone.effort": 0.3})


def test_set_may_fill_a_declared_optional_table():
    s = ls.load_scenario(SCENARIOS / "cut-effort.toml", {"interventions.app_redesign.empathy.add": 0.1})
    assert s.interventions["app_redesign"].empathy.add == 0.1
    with pytest.raises(ls.InputError, match=r"interventions\.nowhere"):
        ls.load_scenario(SCENARIOS / "cut-effort.toml", {"interventions.nowhere.empathy.add": 0.1})


@pytest.mark.parametrize("command", ["run", "compare"])
def test_examples_in_help_texts_name_real_keys(command):
    output = runner.invoke(app, [command, "--help"], env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"}).output
    text = " ".join(output.replace("│", " ").split())
    example = text.split("e.g. --set ", 1)[1].split()[0].rstrip(").,")
    key, value = example.split("=")
    assert ls.load_scenario(SCENARIOS / "baseline.toml", {key: value})


def test_simulate_docstring_example_names_a_real_key():
    import re

    key = re.search(r'\{"(touchpoints\.[\w.]+)": ([\d.]+)\}', ls.simulate.__doc__).group(1)
    ls.load_scenario(SCENARIOS / "baseline.toml", {key: 0.3})


# --- confinement ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/etc/passwd", "../outside.txt"])
def test_edge_list_outside_the_scenario_folder_is_refused_without_echoing_it(tmp_path, target):
    write(tmp_path, "outside.txt", "secret-token 1\n")
    local_baseline(tmp_path / "s")
    path = write(
        tmp_path / "s",
        "net.toml",
        f'extends = "baseline.toml"\n[network]\nkind = "edge_list"\npath = "{target}"\n[population]\nsize = 50\n',
    )
    with pytest.raises(ls.InputError) as info:
        ls.simulate(path)
    assert "inside" in str(info.value) and "secret-token" not in str(info.value) and "root:" not in str(info.value)


def test_extends_outside_the_scenario_folder_is_refused(tmp_path):
    path = write(tmp_path / "s", "child.toml", 'extends = "../../pyproject.toml"\n')
    with pytest.raises(ls.InputError, match=r"extends.*inside"):
        ls.load_scenario(path)


def test_root_option_widens_the_allowed_folder(tmp_path):
    local_baseline(tmp_path)
    child = write(tmp_path / "variants", "v.toml", 'extends = "../baseline.toml"\nname = "v"\n')
    with pytest.raises(ls.InputError, match="inside"):
        ls.load_scenario(child)
    assert ls.load_scenario(child, root=tmp_path).name == "v"
    result = runner.invoke(app, ["run", str(child), "--root", str(tmp_path), "--set", "population.size=300",
                                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "directory"])
def test_devices_fifos_and_directories_are_refused_before_reading(tmp_path, special):
    if special == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif special == "directory":
        target = tmp_path / "folder"
        target.mkdir()
    else:
        target = Path(special)
    with pytest.raises(ls.InputError, match="not a regular file"):
        ls.load_scenario(target, root=target.parent)
    local_baseline(tmp_path)
    path = write(tmp_path, "net.toml", f'extends = "baseline.toml"\n[network]\nkind = "edge_list"\npath = "{target}"\n')
    with pytest.raises(ls.InputError, match=r"not a regular file|a file inside"):  # /dev lies outside the folder too
        ls.simulate(path, overrides={"population.size": 50})


def test_run_of_a_device_exits_2_at_once():
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("loyaltysim")), "run", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "not a regular file" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_edge_list_needs_exactly_two_ids_a_line(tmp_path):
    local_baseline(tmp_path)
    write(tmp_path, "edges.txt", "0 1 2\n3\n")
    path = write(
        tmp_path,
        "net.toml",
        'extends = "baseline.toml"\n[population]\nsize = 10\n[network]\nkind = "edge_list"\npath = "edges.txt"\n',
    )
    with pytest.raises(ls.InputError, match=r"line 1: .*two node ids"):
        ls.simulate(path)


def test_default_output_folder_is_a_sanitised_name(tmp_path, monkeypatch):
    from loyaltysim.runs.files import safe_name

    assert (
        safe_name("../../esc") == "esc" and safe_name("/tmp/x") == "tmp_x" and safe_name("cut-effort") == "cut-effort"
    )
    assert safe_name("...") == "scenario"
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["run", str(SCENARIOS / "baseline.toml"), "--set", 'name="../../esc"', "--set", "population.size=300"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "esc" / "timeseries.csv").exists()
    assert not (tmp_path.parent.parent / "esc").exists() and not Path("/tmp/x/timeseries.csv").exists()


# --- resources checked before allocation -------------------------------------------------------------------------


def test_memory_is_checked_before_anything_is_allocated():
    with pytest.raises(ls.InputError, match=r"needs about .* GB of memory.* available"):
        ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=1, **{"population.size": 200_000_000})
    with pytest.raises(ls.InputError, match=r"needs about .* GB"):
        ls.simulate(SCENARIOS / "baseline.toml", overrides={"time.step_days": 0.001, "time.horizon_days": 36500.0})


def test_memory_estimate_grows_with_size_degree_and_steps():
    from loyaltysim.engine.resources import estimate_bytes

    s = ls.load_scenario(SCENARIOS / "baseline.toml")
    small, big = estimate_bytes(s), estimate_bytes(s.with_overrides({"population.size": 100_000}))
    assert 100 * 10_000 < small < 1000 * 10_000 and big > 9 * small
    assert estimate_bytes(s.with_overrides({"network.mean_degree": 40})) > small
    assert estimate_bytes(s.with_overrides({"time.horizon_days": 3640.0})) > small
    assert estimate_bytes(s, engine="reference") > 10 * small


def test_memory_limit_can_be_named(monkeypatch):
    monkeypatch.setenv("LOYALTYSIM_MEMORY_LIMIT", "1000000")  # bytes
    with pytest.raises(ls.InputError, match="LOYALTYSIM_MEMORY_LIMIT"):
        ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=1)


# --- atomic folders -----------------------------------------------------------------------------------------------


def test_run_replaces_its_own_earlier_results_whole(tmp_path):
    out = tmp_path / "run"
    for seed in ("1", "2"):
        result = runner.invoke(
            app,
            [
                "run",
                str(SCENARIOS / "baseline.toml"),
                "--seed",
                seed,
                "--set",
                "population.size=300",
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
    import pandas as pd

    assert pd.read_parquet(out / "timeseries.parquet")["seed"].iloc[0] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left behind


def test_out_holding_other_outputs_is_refused_unless_forced(tmp_path):
    out = tmp_path / "mixed"
    out.mkdir()
    (out / "report.html").write_text("a comparison's report")
    args = ["run", str(SCENARIOS / "baseline.toml"), "--set", "population.size=300", "--out", str(out)]
    assert "--force" in one_line_exit_2(args)
    assert (out / "report.html").read_text() == "a comparison's report"
    result = runner.invoke(app, [*args, "--force"])
    assert result.exit_code == 0, result.output
    assert not (out / "report.html").exists() and (out / "timeseries.csv").exists()


def test_interrupted_write_keeps_the_old_results_whole(tmp_path, monkeypatch):
    from loyaltysim.comparisons import report

    c = ls.compare(
        [SCENARIOS / "baseline.toml", SCENARIOS / "cut-effort.toml"],
        replications=2,
        overrides={"population.size": 300},
        progress=False,
    )
    out = tmp_path / "cmp"
    c.save(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "report_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        c.save(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


def test_ctrl_c_between_the_renames_waits_until_the_new_set_is_in_place(tmp_path, monkeypatch):
    """A SIGINT that arrives while the old folder is moved aside is held until the new one is in its place."""
    import os
    import signal

    from loyaltysim.runs import files

    c = ls.compare(
        [SCENARIOS / "baseline.toml", SCENARIOS / "cut-effort.toml"],
        replications=2,
        overrides={"population.size": 300},
        horizon_months=3,
        progress=False,
    )
    out = tmp_path / "cmp"
    c.save(out)
    (out / "summary.csv").write_text("old")
    real = os.replace
    calls = []

    def replace_then_interrupt(src, dst):
        real(src, dst)
        calls.append(dst)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # right after the old folder moved aside

    monkeypatch.setattr(files.os, "replace", replace_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        c.save(out)
    assert len(calls) == 2  # the second rename still happened
    assert (out / "report.html").exists() and (out / "summary.csv").read_text() != "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]


@pytest.mark.parametrize("delay", [0.5, 2.0, 4.0, 6.0, 8.0])
def test_ctrl_c_at_any_point_leaves_the_old_set_or_the_new(tmp_path, delay):
    """``loyaltysim compare --out`` interrupted at several points: the folder holds the old set or the new, whole."""
    import signal
    import subprocess
    import sys
    import time

    exe = str(Path(sys.executable).with_name("loyaltysim"))
    args = [exe, "compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "cut-effort.toml"), "-n", "2"]
    args += ["--set", "population.size=1500", "--horizon-months", "12", "--tornado-replications", "1"]
    out = tmp_path / "cmp"
    first = subprocess.run([*args, "--no-tornado", "--out", str(out)], capture_output=True, timeout=600)
    assert first.returncode == 0, first.stderr
    old = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = subprocess.Popen(
        [*args, "--seed", "1", "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=600)
    now = {p.name: p.read_bytes() for p in out.iterdir()}
    if now != old:  # the new set, whole: every file of a report with its tornado, none of the old ones left over
        assert "tornado.csv" in now and "report.html" in now and set(old) <= set(now)
        assert all(now[name] != old[name] for name in ("summary.csv", "report.html"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cmp"]  # no temporary folder left behind


def test_save_onto_a_file_is_an_input_error(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    res = ls.simulate(SCENARIOS / "baseline.toml", overrides={"population.size": 200})
    with pytest.raises(ls.InputError, match="not a folder"):
        res.save(target)


# --- honest coercions ---------------------------------------------------------------------------------------------


def test_horizon_is_rounded_to_whole_steps_with_a_warning():
    with pytest.warns(ls.InputWarning, match=r"100 days is not a whole number of 30-day steps: running 3 steps"):
        s = ls.load_scenario(SCENARIOS / "baseline.toml", {"time.step_days": 30.0, "time.horizon_days": 100.0})
    assert s.n_steps == 3


def test_interventions_that_never_start_and_empty_edge_lists_are_warned_about(tmp_path):
    with pytest.warns(ls.InputWarning, match=r"interventions\.app_redesign.*never starts"):
        ls.simulate(
            SCENARIOS / "cut-effort.toml",
            overrides={"population.size": 200, "interventions.app_redesign.start_day": 999.0},
        )
    local_baseline(tmp_path)
    write(tmp_path, "edges.txt", "# nobody knows anybody\n")
    path = write(
        tmp_path,
        "net.toml",
        'extends = "baseline.toml"\n[population]\nsize = 10\n[network]\nkind = "edge_list"\npath = "edges.txt"\n',
    )
    with pytest.warns(ls.InputWarning, match="no edges"):
        ls.simulate(path)


def test_comparisons_across_markets_are_refused_unless_allowed():
    files = [str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "retail" / "add-empathy.toml")]
    line = one_line_exit_2(["compare", *files, "-n", "1", "--set", "population.size=300"])
    assert "--allow-different-markets" in line
    result = runner.invoke(
        app, ["compare", *files, "-n", "1", "--set", "population.size=300", "--allow-different-markets"]
    )
    assert result.exit_code == 0, result.output


def test_threads_above_the_cores_are_capped_with_a_warning():
    import numba

    with pytest.warns(ls.InputWarning, match="threads"):
        res = ls.simulate(SCENARIOS / "baseline.toml", overrides={"population.size": 200}, n_threads=99)
    assert res.info["threads"] <= numba.config.NUMBA_NUM_THREADS


# --- the Python API -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,fragment",
    [
        (lambda: ls.simulate(None), "scenario"),
        (lambda: ls.simulate(SCENARIOS / "baseline.toml", seed=1.5), "seed"),
        (lambda: ls.simulate(SCENARIOS / "baseline.toml", seed="a"), "seed"),
        (lambda: ls.simulate(SCENARIOS / "baseline.toml", seed=-1), "seed"),
        (lambda: ls.simulate(SCENARIOS / "baseline.toml", n_threads=0), "n_threads"),
        (lambda: ls.simulate(SCENARIOS / "baseline.toml", engine="fast"), "engine"),
        (lambda: ls.compare(str(SCENARIOS / "baseline.toml")), "a list of scenario files"),
        (lambda: ls.compare([SCENARIOS / "baseline.toml", SCENARIOS / "cut-effort.toml"], seed=0.5), "seed"),
    ],
)
def test_python_api_arguments_give_input_errors(call, fragment):
    with pytest.raises(ls.InputError) as info:
        call()
    assert fragment in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_cross_field_error_in_a_file_is_blamed_on_the_file_even_with_set(tmp_path):
    local_baseline(tmp_path)
    path = write(tmp_path, "bad.toml", 'extends = "baseline.toml"\n[behaviour]\nneed_weight = 0.9\n')
    line = one_line_exit_2(["run", str(path), "--set", "population.size=300"])
    assert line.startswith(f"loyaltysim: error: {path}") and "sum to 1" in line


# --- sweeps: locks and honest fingerprints -----------------------------------------------------------------------


SWEEP = """
name = "safety"
scenario = "{scenario}"
replications = 1
[set]
"population.size" = 200
"time.horizon_days" = 28.0
[parameters.pull]
key = "competitor.visibility"
levels = [0.0, 0.02]
"""


def test_a_second_sweep_into_a_locked_folder_exits_with_a_clear_line(tmp_path):
    from loyaltysim.sweeps.store import SweepLock

    exp = write(tmp_path, "exp.toml", SWEEP.format(scenario=SCENARIOS / "baseline.toml"))
    out = tmp_path / "out"
    out.mkdir()
    with SweepLock(out):
        line = one_line_exit_2(["sweep", str(exp), "--out", str(out)])
    assert "another sweep" in line
    result = runner.invoke(app, ["sweep", str(exp), "--out", str(out)])
    assert result.exit_code == 0, result.output


def test_fingerprint_covers_code_version_and_edge_list_contents(tmp_path):
    import json

    from loyaltysim.sweeps.plan import plan

    local_baseline(tmp_path)
    write(tmp_path, "edges.txt", "0 1\n1 2\n")
    write(
        tmp_path,
        "net.toml",
        'extends = "baseline.toml"\n[population]\nsize = 200\n[network]\nkind = "edge_list"\npath = "edges.txt"\n',
    )
    exp = write(tmp_path, "exp.toml", SWEEP.format(scenario=tmp_path / "net.toml"))
    first = plan(exp).fingerprint()
    write(tmp_path, "edges.txt", "0 1\n1 3\n")
    assert plan(exp).fingerprint() != first  # the same file name, other friendships
    out = tmp_path / "out"
    ls.sweep(exp, out, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    for key in ("loyaltysim", "engine_source", "python", "libraries", "command_line", "executor"):
        assert manifest[key], key
    assert "numba" in manifest["libraries"] and "git_commit" in manifest
    assert len(manifest["run_seconds"]) == 2 and all(r["seconds"] > 0 for r in manifest["run_seconds"])
    assert "seconds" not in ls.SweepResults.load(out).frame.columns  # results stay free of timings


# --- warnings reach the command line as one line each ------------------------------------------------------------


def test_warnings_are_printed_as_one_line_each(tmp_path):
    result = runner.invoke(
        app,
        [
            "run",
            str(SCENARIOS / "baseline.toml"),
            "--set",
            "population.size=300",
            "--set",
            "time.step_days=30",
            "--set",
            "time.horizon_days=100",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert any(
        line.startswith("loyaltysim: warning: ") and "whole number" in line for line in result.output.splitlines()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ls.load_scenario(SCENARIOS / "baseline.toml")  # the shipped files give no warning
