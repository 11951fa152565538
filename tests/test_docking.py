"""The kernel and the readable Mesa agents follow the same rules: identical trajectories; runs are reproducible."""

from __future__ import annotations

import mesa
import numba
import pandas as pd
import pytest

import loyaltysim as ls
from conftest import SCENARIOS

SMALL = {"population.size": 300, "time.horizon_days": 7 * 16}
CASES = {
    "baseline": (SCENARIOS / "baseline.toml", {}),
    "cut-effort": (SCENARIOS / "cut-effort.toml", {}),
    "complete-network": (SCENARIOS / "baseline.toml", {"network.kind": "complete"}),
    "barabasi-albert": (SCENARIOS / "add-empathy.toml", {"network.kind": "barabasi_albert", "network.mean_degree": 6}),
    "daily-steps-erdos-renyi": (
        SCENARIOS / "personalize.toml",
        {"network.kind": "erdos_renyi", "time.step_days": 1.0, "time.horizon_days": 40},
    ),
    "bass": (SCENARIOS / "validation" / "bass.toml", {"network.kind": "watts_strogatz"}),
    # Model 2's rarer paths, made frequent: win-back, consider-then-buy in one step, a price above willingness to
    # pay, recovery contacts and a visible, better competitor.
    "win-back-price-recovery": (
        SCENARIOS / "baseline.toml",
        {
            "churn.win_back": 0.5,
            "market.consideration": 2.0,
            "market.price": 1.5,
            "touchpoints.app.recovery": 0.8,
            "competitor.visibility": 0.3,
            "competitor.empathy": 0.8,
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_and_reference_agents_give_identical_timeseries(case):
    path, extra = CASES[case]
    overrides = {**SMALL, **extra}
    kernel = ls.simulate(path, seed=7, overrides=overrides).timeseries
    reference = ls.simulate(path, seed=7, engine="reference", overrides=overrides).timeseries
    assert kernel["active"].iloc[-1] > 0
    assert kernel["interactions"].sum() > 0 or case == "bass"
    if case == "win-back-price-recovery":
        assert min(kernel[c].sum() for c in ("won_back", "recoveries", "new_customers", "lost_to_competitor")) > 0
    pd.testing.assert_frame_equal(kernel, reference, check_exact=True)


def test_reference_agents_live_on_a_mesa_network():
    model = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=3, engine="reference", **SMALL)
    agents = list(model.agents)
    assert len(agents) == 300
    first = agents[0]
    neighbours = {a.idx for a in first.cell.neighborhood.agents}
    ptr = model.network.indptr
    assert neighbours == set(model.network.indices[ptr[0] : ptr[1]].tolist())
    model.step()
    assert {a.stage for a in agents} <= set(range(8))


def test_same_seed_same_results_and_different_seed_different():
    a = ls.simulate(SCENARIOS / "baseline.toml", seed=1, overrides={"population.size": 5000}).timeseries
    b = ls.simulate(SCENARIOS / "baseline.toml", seed=1, overrides={"population.size": 5000}).timeseries
    c = ls.simulate(SCENARIOS / "baseline.toml", seed=2, overrides={"population.size": 5000}).timeseries
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not a.equals(c)


def test_one_and_two_threads_identical():
    overrides = {"population.size": 40_000, "time.horizon_days": 7 * 12}  # several tally chunks
    one = ls.simulate(SCENARIOS / "baseline.toml", seed=9, overrides=overrides, n_threads=1).timeseries
    two = ls.simulate(
        SCENARIOS / "baseline.toml", seed=9, overrides=overrides, n_threads=min(2, numba.config.NUMBA_NUM_THREADS)
    ).timeseries
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_common_random_numbers_same_population_and_network():
    a = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=5, **SMALL)
    b = ls.LoyaltyModel(SCENARIOS / "cut-effort.toml", rng=5, **SMALL)
    for field in ("stage", "persona", "loyalty", "base_hazard"):
        assert (getattr(a.state, field) == getattr(b.state, field)).all()
    assert (a.network.indices == b.network.indices).all()


def test_mesa_batch_run_accepts_the_model():
    results = mesa.batch_run(
        ls.LoyaltyModel,
        parameters={
            "scenario": str(SCENARIOS / "baseline.toml"),
            "population.size": 500,
            "time.horizon_days": 28,
            "touchpoints.phone_support.effort": [0.3, 0.6],
        },
        rng=[1, 2],
        max_steps=100,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    df = pd.DataFrame(results)
    assert len(df) == 2 * 2 * 5  # 2 effort levels x 2 seeds x (initial + 4 steps)
    assert {"active", "revenue", "nps"} <= set(df.columns)
    assert df.groupby(["touchpoints.phone_support.effort", "rng"])["Step"].max().eq(4).all()


def test_stepping_past_the_horizon_is_a_clear_error():
    model = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=1, **{"population.size": 200, "time.horizon_days": 14})
    model.run()
    assert model.steps == 2 and not model.running
    with pytest.raises(RuntimeError, match="past the scenario's horizon of 2 steps"):
        model.step()


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two threads")
def test_small_populations_step_on_one_thread_and_give_the_thread_count_back():
    from loyaltysim.engine.threads import ONE_THREAD_BELOW, step_threads, threads

    with threads(2):
        with step_threads(ONE_THREAD_BELOW - 1):
            assert numba.get_num_threads() == 1
        assert numba.get_num_threads() == 2
        with step_threads(ONE_THREAD_BELOW):
            assert numba.get_num_threads() == 2
        with threads(2):  # already so: nothing set, but a change inside is still undone
            numba.set_num_threads(1)
        assert numba.get_num_threads() == 2
        model = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=3, **SMALL)
        model.step()
        assert numba.get_num_threads() == 2  # restored after the step


def test_kernels_called_without_type_dispatch_give_the_dispatchers_results():
    from loyaltysim.engine import twins
    from loyaltysim.engine.calls import Kernel
    from loyaltysim.engine.listen import count_signals

    model = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=4, **SMALL)
    model.step()
    kernel = Kernel(count_signals)
    first = kernel(model.state)
    assert kernel.direct is not None and kernel.direct is not count_signals  # resolved to the compiled version
    assert kernel(model.state) == first == count_signals(model.state)
    twice = numba.njit(lambda x: x * 2)
    assert twice(3) == 6 and len(twice.overloads) == 1
    several = Kernel(twice)
    assert several(1.5) == 3.0 and len(twice.overloads) == 2  # two compiled versions: the call's own is found
    assert several(2.5) == 5.0 and several.direct is not twice
    plain = Kernel(lambda x: x + 1)  # not compiled (as under NUMBA_DISABLE_JIT): called as it is
    assert plain(1) == 2 and plain(2) == 3
    fast = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=2, **SMALL)
    slow = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=2, **SMALL)
    for name in ("_interact", "_settle", "_listen_push"):  # every call through numba's dispatchers
        for resolved in (getattr(slow, name)._parallel, getattr(slow, name)._serial):
            resolved.direct = resolved.dispatcher
    fast.run()
    slow.run()
    twin = fast._interact.resolved[1]  # one thread: the serial twin's compiled version, not its dispatcher
    assert twin is not None and twin is not twins.interact_serial
    pd.testing.assert_frame_equal(fast.timeseries(), slow.timeseries(), check_exact=True)


def test_serial_twins_run_on_one_thread_with_the_parallel_kernels_results():
    from loyaltysim.engine import kernels, listen, twins
    from loyaltysim.engine.calls import Kernel, serial_twin
    from loyaltysim.engine.threads import threads

    assert twins.interact_serial.py_func.__qualname__ == "interact_serial"  # cached in a file of its own
    assert twins.interact_serial.py_func.__code__ is kernels.interact.py_func.__code__  # the same code
    assert "parallel" not in twins.interact_serial.targetoptions and kernels.interact.targetoptions["parallel"]
    assert twins.listen_serial.py_func.__globals__["_spread"] is twins.spread_serial  # calls the serial twins
    assert twins.listen_serial.py_func.__globals__["_hear"] is twins.hear_serial
    assert twins.spread_serial.py_func.__globals__["_movers"] is twins.movers_serial
    assert listen._spread.py_func.__globals__["_movers"] is listen._movers  # the parallel kernel is untouched
    plain = lambda x: x  # noqa: E731 - not compiled (as under NUMBA_DISABLE_JIT): its own twin
    assert serial_twin(plain) is plain
    calls = []
    kernel = Kernel(lambda x: calls.append("parallel") or x, lambda x: calls.append("serial") or x)
    with threads(1):
        kernel(1)
    with threads(min(2, numba.config.NUMBA_NUM_THREADS)):
        kernel(2)
    assert calls[0] == "serial" and calls[1] == ("parallel" if numba.config.NUMBA_NUM_THREADS > 1 else "serial")
    # two tally chunks, on one thread: the twins (as a model runs them) and the parallel kernels give the same series
    overrides = {"population.size": 20_000, "time.horizon_days": 7 * 6}
    serial = ls.simulate(SCENARIOS / "baseline.toml", seed=5, overrides=overrides, n_threads=1).timeseries
    with threads(1):
        model = ls.LoyaltyModel(SCENARIOS / "baseline.toml", rng=5, **overrides)
        model._interact = Kernel(kernels.interact)  # no twins: the parallel kernels, on one thread
        model._settle = Kernel(kernels.settle)
        model._listen_push = Kernel(listen.listen)
        model.run()
        assert model._interact.resolved[0] is not None  # the parallel kernel ran
    pd.testing.assert_frame_equal(serial, model.timeseries(), check_exact=True)
