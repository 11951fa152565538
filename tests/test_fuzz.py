"""Fuzzing the inputs: a few hundred malformed scenario files each load (and run, when small) or give one line.

Files are made from the shipped baseline by hypothesis: lines deleted or duplicated, values swapped for other types,
extreme numbers, infinities, garbage bytes. In process, every outcome must be a valid scenario or an `InputError`
with a one-line message, never another exception. A few of them also go through the command line under a memory
limit and a timeout: exit 0, or exit 2 with one line on stderr; never a traceback, a hang or a memory blow-up.
"""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loyaltysim as ls
from conftest import SCENARIOS

LINES = (SCENARIOS / "baseline.toml").read_text(encoding="utf-8").splitlines()
VALUE_LINES = [i for i, line in enumerate(LINES) if "=" in line and not line.lstrip().startswith("#")]

WEIRD = st.sampled_from(
    [
        "inf",
        "-inf",
        "nan",
        '"inf"',
        "1e308",
        "-1e308",
        "1e-320",
        "0",
        "-1",
        "true",
        "false",
        '"text"',
        '""',
        "[]",
        "[1, 2, 3]",
        "{}",
        "{ add = 1e9 }",
        "200000000",
        "99999999999999999999999",
        "0.000001",
        '"../../../etc/passwd"',
        '"/dev/zero"',
        "1979-05-27",
    ]
)


@st.composite
def malformed(draw) -> bytes:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["swap", "swap", "swap", "delete", "duplicate", "garbage", "key"]))
        i = draw(st.sampled_from(VALUE_LINES))
        if i >= len(lines):
            continue
        key = lines[i].split("=", 1)[0]
        if kind == "swap":
            lines[i] = f"{key}= {draw(WEIRD)}"
        elif kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(i, lines[i])
        elif kind == "key":
            lines[i] = draw(st.sampled_from(["nonsense", "effort", "size", "[x]", "a.b.c"])) + " = 1"
        else:
            lines[i] = draw(st.binary(min_size=1, max_size=20)).decode("latin-1")
    return "\n".join(lines).encode("utf-8", errors="surrogateescape")


def outcome(path: Path) -> str:
    """Load (and, when small, run) a scenario; 'ok' or the one-line error; anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ls.InputWarning)
        try:
            scenario = ls.load_scenario(path)
            from loyaltysim.engine.resources import check_memory

            check_memory(scenario)  # the file as written fits, or says so
            small = {  # then a small run of it, to see it computes
                "population.size": min(scenario.population.size, 400),
                "time.horizon_days": min(scenario.n_steps, 12) * scenario.time.step_days,
            }
            if scenario.network.kind not in ("complete", "edge_list"):
                small["network.mean_degree"] = min(scenario.network.mean_degree, 10)
            res = ls.simulate(scenario.with_overrides(small), seed=1)
            assert math.isfinite(res.timeseries["profit"].sum())
        except ls.InputError as exc:
            message = str(exc)
            assert message and "\n" not in message, message
            return message
    return "ok"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=malformed())
def test_malformed_scenarios_load_or_give_one_line(tmp_path, text):
    path = tmp_path / "fuzzed.toml"
    path.write_bytes(text)
    outcome(path)


def _limit_memory() -> None:  # in the child process, before it starts
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=malformed())
def test_the_command_line_exits_0_or_2_with_one_line_under_a_memory_limit(tmp_path, text):
    path = tmp_path / "fuzzed.toml"
    path.write_bytes(text)
    exe = Path(sys.executable).with_name("loyaltysim")
    args = [str(exe), "run", str(path), "--set", "population.size=2000", "--out", str(tmp_path / "out"), "--force"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, preexec_fn=_limit_memory, cwd=tmp_path)
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("loyaltysim: warning: ")]
    assert proc.returncode in (0, 2), proc.stderr
    assert "Traceback" not in proc.stderr
    if proc.returncode == 2:
        assert len(errors) == 1 and errors[0].startswith("loyaltysim: error: "), proc.stderr


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(min_size=0, max_size=300))
def test_arbitrary_bytes_give_one_line(tmp_path, garbage):
    path = tmp_path / "garbage.toml"
    path.write_bytes(garbage)
    outcome(path)
