"""Benchmarks of loyaltysim: speed of the kernel engine against the readable path and against the machine's limits.

    .venv/bin/python benchmarks/run.py [--quick] [--out FILE] [--repeats N]

Writes a JSON file of results (default ``benchmarks/results/latest.json``) and prints a table. Every timing is the
median of several runs after a warm-up; comparisons (kernel / readable, 1 / 2 threads, kernel / bandwidth limit)
are measured side by side in the same run. Wall-clock medians are the figures; CPU-time medians are kept next to
them because the machine may be shared (if CPU time per thread is well below wall time, other processes were
taking the cores). ``--quick`` runs every section on small sizes in about half a minute: it proves the code
works (CI), its numbers mean nothing.

Sections: ``throughput`` (customer-steps per second of the full model by size and threads), ``readable`` (the
Mesa-agent path at 10,000 customers), ``phases`` (time per phase of a step), ``networks`` (build time per kind),
``memory`` (peak RSS per customer in a fresh process), ``startup`` (new process, cold and warm compile cache),
``bandwidth`` (numba read-modify-write over 400 MB), ``traffic`` (bytes a step moves per customer) and
``small_runs`` (whole runs per second at 10,000 customers x 52 weeks on one thread, as sweeps and calibrations run
them, and where a run's time goes outside the compiled kernels) and ``regression`` (a step against a baseline kernel
in the same run; ``--check`` exits 1 when the ratio falls below the committed baseline's tolerance, as CI runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# On a shared machine OpenMP threads that spin while waiting at a barrier burn the time slices the other thread
# needs (a 10,000-customer step went from 0.4 ms to 48 ms with 2 threads under a load of 5): wait passively
# unless told otherwise. Recorded in the results.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import numba
import numpy as np
from numba import njit, prange

import loyaltysim
from loyaltysim.engine import kernels, listen, twins
from loyaltysim.engine.calls import Kernel
from loyaltysim.engine.model import LoyaltyModel
from loyaltysim.engine.network import build_network
from loyaltysim.engine.rng import Purpose, draw_keys
from loyaltysim.engine.state import new_state
from loyaltysim.engine.threads import threads

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"
DEGREE = 10
NETWORK_KINDS = ("watts_strogatz", "barabasi_albert", "erdos_renyi", "ring")
FULL = {
    "sizes": [10_000, 100_000, 1_000_000, 10_000_000],
    "steps": {10_000: 30, 100_000: 15, 1_000_000: 7, 10_000_000: 3},
    "readable_n": 10_000,
    "readable_steps": 3,
    "phase_n": 1_000_000,
    "network_n": 1_000_000,
    "memory_sizes": [1_000_000, 10_000_000],
    "bandwidth_mb": 400,
    "small_sizes": [100, 10_000],
    "small_runs": 15,
}
QUICK = {
    "sizes": [10_000, 100_000],
    "steps": {10_000: 5, 100_000: 3},
    "readable_n": 1_000,
    "readable_steps": 2,
    "phase_n": 100_000,
    "network_n": 100_000,
    "memory_sizes": [100_000],
    "bandwidth_mb": 40,
    "small_sizes": [100, 10_000],
    "small_runs": 3,
}


def thread_counts() -> list[int]:
    """1 and 2 threads (or what the machine has)."""
    return sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)})


def bench_model(n: int, steps: int, engine: str = "kernel", seed: int = 1) -> LoyaltyModel:
    """The benchmark scenario: the shipped baseline, word of mouth on, average degree 10, enough steps."""
    overrides = {"population.size": n, "network.mean_degree": DEGREE, "time.horizon_days": 7.0 * (steps + 2)}
    return LoyaltyModel(str(SCENARIO), rng=seed, engine=engine, **overrides)


def time_steps(model: LoyaltyModel, steps: int) -> tuple[list[float], list[float]]:
    """Wall and process-CPU seconds of ``steps`` successive steps."""
    wall, cpu = [], []
    for _ in range(steps):
        w, c = time.perf_counter(), time.process_time()
        model.step()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return wall, cpu


def summary(wall: list[float], cpu: list[float], n: int) -> dict:
    """Median wall and CPU seconds per step and customer-steps per second (wall)."""
    w, c = statistics.median(wall), statistics.median(cpu)
    return {"n": n, "runs": len(wall), "seconds_per_step": w, "cpu_seconds_per_step": c, "customer_steps_per_s": n / w}


def throughput(cfg: dict) -> list[dict]:
    """Full model steps (interact, listen, settle = transition and tally, outputs) by size and thread count."""
    rows = []
    for n in cfg["sizes"]:
        steps = cfg["steps"][n]
        model = bench_model(n, (steps + 1) * len(thread_counts()))
        for th in thread_counts():
            with threads(th):
                model.step()  # warm-up
                wall, cpu = time_steps(model, steps)
            rows.append({"threads": th, **summary(wall, cpu, n)})
        del model
    return rows


def readable(cfg: dict) -> dict:
    """The readable Mesa-agent path against the kernel on the same scenario, same size, same run."""
    n, steps = cfg["readable_n"], cfg["readable_steps"]
    ref = bench_model(n, steps + 1, engine="reference")
    ref.step()
    ref_row = summary(*time_steps(ref, steps), n)
    out = {"readable": ref_row}
    for th in thread_counts():
        model = bench_model(n, 4 * steps + 1)
        with threads(th):
            model.step()
            row = summary(*time_steps(model, 4 * steps), n)
        out[f"kernel_{th}_threads"] = row
        out[f"ratio_{th}_threads"] = row["customer_steps_per_s"] / ref_row["customer_steps_per_s"]
    return out


def phase_times(model: LoyaltyModel, t: int) -> dict[str, float]:
    """Seconds of each phase of step ``t``, calling the kernels as `LoyaltyModel.step` does.

    On one thread, the kernels' serial twins (`loyaltysim.engine.twins`), as the model calls them.
    """
    plan, p, st, net = model.plan, model.plan.params, model.state, model.network
    one = numba.get_num_threads() == 1  # the push and the hear pass, called apart, have no `Kernel` to choose
    interact, settle = model._interact, model._settle
    spread = twins.spread_serial if one else listen._spread
    hear = twins.hear_serial if one else listen._hear
    keys = draw_keys(model.seed, t)
    clock = [time.perf_counter()]
    interact(
        st,
        keys,
        model.trait_key,
        plan.levels[t],
        plan.visit_rate[t],
        plan.visit_none[t],
        plan.price[t],
        plan.persona_table,
        p,
        model.diary,
    )
    clock.append(time.perf_counter())
    spread(
        st,
        net.indptr,
        net.indices,
        keys[Purpose.TELL],
        keys[Purpose.TELL_NEGATIVE],
        p,
        numba.get_num_threads(),
    )
    clock.append(time.perf_counter())
    hear(st, net.indptr, p)
    clock.append(time.perf_counter())
    settle(
        st,
        keys,
        model.trait_key,
        plan.marketing[t],
        plan.price[t],
        len(plan.personas),
        model.scale_key,
        plan.visit_share[t],
        p,
    )
    clock.append(time.perf_counter())
    names = ("interact", "listen_push", "listen_hear", "settle")
    return {k: clock[i + 1] - clock[i] for i, k in enumerate(names)}


def phases(cfg: dict, repeats: int) -> list[dict]:
    """Median seconds per phase at the phase size, 1 and 2 threads (listen = its serial push + parallel hear)."""
    n = cfg["phase_n"]
    model = bench_model(n, 2 * (repeats + 1) + 2)
    model.step()  # the first listen pushes every customer once: not a typical step
    rows, t = [], model.steps + 1
    for th in thread_counts():
        samples = []
        with threads(th):
            for _ in range(repeats + 1):
                samples.append(phase_times(model, t))
                t += 1
        med = {k: statistics.median(s[k] for s in samples[1:]) for k in samples[0]}
        med["listen"] = med["listen_push"] + med["listen_hear"]
        med["step"] = med["interact"] + med["listen"] + med["settle"]
        rows.append({"n": n, "threads": th, "seconds": med, "customer_steps_per_s": n / med["step"]})
    return rows


def networks(cfg: dict, repeats: int) -> list[dict]:
    """Build time of each generated network kind at average degree 10 (complete needs no arrays)."""
    n, rows = cfg["network_n"], []
    for kind in NETWORK_KINDS:
        build_network(kind, 1000, DEGREE, 1)  # compile
        times = []
        for r in range(repeats):
            start = time.perf_counter()
            net = build_network(kind, n, DEGREE, r)
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "kind": kind,
                "n": n,
                "seconds": statistics.median(times),
                "runs": repeats,
                "edges": net.n_edges,
                "mean_degree": 2 * net.n_edges / n,
            }
        )
    return rows


_MEMORY_CHILD = """
import resource, sys
import loyaltysim
from loyaltysim.engine.model import LoyaltyModel
n = int(sys.argv[1])
if n:
    m = LoyaltyModel(sys.argv[2], rng=1, **{"population.size": n, "network.mean_degree": 10,
                                           "time.horizon_days": 21.0})
    m.run()
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork and exec, so it would report the parent's peak
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM")]
print(int(hwm[0].split()[1]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


KERNEL_CALLS = (
    (kernels, "init_population"),
    (listen, "listen_mean_field"),
)
"""The compiled kernels a run calls through numba's dispatcher (module, name); the phase kernels go through the
model's `loyaltysim.engine.calls.Kernel` (timed there, so its direct calls and serial twins stay as they run)."""


def small_runs(cfg: dict) -> list[dict]:
    """Whole runs (`loyaltysim.simulate`: build, 52 weekly steps, the output table) on one thread, by size.

    Each kernel call is timed from Python, as the model makes it (through its `Kernel`, or numba's dispatcher for
    the initial population); the rest of a run is its overhead: scenario, plan, network, outputs rows, the data
    collector and the table. At 100 customers a run is mostly overhead.
    """
    from loyaltysim import load_scenario, simulate

    rows = []
    for n in cfg["small_sizes"]:
        spec = load_scenario(SCENARIO, {"population.size": n})
        with threads(1):
            simulate(spec, seed=0, n_threads=1)  # warm-up: compiled kernels loaded
            spent: dict[str, float] = {}
            saved = [(mod, name, getattr(mod, name)) for mod, name in KERNEL_CALLS]
            saved.append((Kernel, "__call__", Kernel.__call__))
            for mod, name, fn in saved[:-1]:
                setattr(mod, name, _timed(fn, lambda _args, name=name: name, spent))
            Kernel.__call__ = _timed(Kernel.__call__, lambda args: args[0].dispatcher.__name__, spent)
            try:
                wall = []
                for seed in range(cfg["small_runs"]):
                    start = time.perf_counter()
                    simulate(spec, seed=seed, n_threads=1)
                    wall.append(time.perf_counter() - start)
            finally:
                for mod, name, fn in saved:
                    setattr(mod, name, fn)
        runs = len(wall)
        kernel = sum(spent.values()) / runs
        median = statistics.median(wall)
        rows.append(
            {
                "n": n,
                "steps": spec.n_steps,
                "runs": runs,
                "seconds_per_run": median,
                "runs_per_s": 1 / median,
                "kernel_seconds_per_run": {k: v / runs for k, v in spent.items()},
                "overhead_seconds_per_run": statistics.mean(wall) - kernel,
                "overhead_share": 1 - kernel / statistics.mean(wall),
            }
        )
    return rows


def _timed(fn, label, spent: dict[str, float]):
    """``fn`` adding the seconds of each call to ``spent[label(args)]``."""

    def call(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            name = label(args)
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

    return call


def child_peak_rss(n: int) -> int:
    """Peak RSS in bytes of a fresh interpreter that imports loyaltysim and builds and runs ``n`` customers."""
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, str(n), str(SCENARIO)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1])


def memory(cfg: dict) -> list[dict]:
    """Peak memory per customer: (peak RSS of a run - RSS of an interpreter with loyaltysim imported) / n, and the
    same beyond a 1,000-customer run (which has the compiled kernels loaded too: the marginal cost of a customer)."""
    base = child_peak_rss(0)
    tiny = child_peak_rss(1000)
    state = sum(a.dtype.itemsize for a in new_state(1))
    rows = []
    for n in cfg["memory_sizes"]:
        peak = child_peak_rss(n)
        rows.append(
            {
                "n": n,
                "peak_rss_bytes": peak,
                "baseline_rss_bytes": base,
                "bytes_per_customer": (peak - base) / n,
                "small_run_rss_bytes": tiny,
                "bytes_per_customer_beyond_small_run": (peak - tiny) / n,
                "state_bytes_per_customer": state,
                "network_bytes_per_customer": 8 + 4 * DEGREE,
            }
        )
    return rows


_STARTUP_CHILD = """
import sys, time
t = {"start": float(sys.argv[1])}
import loyaltysim
from loyaltysim.engine.model import LoyaltyModel
t["imported"] = time.time()
m = LoyaltyModel(sys.argv[2], rng=1)
t["built"] = time.time()
m.step()
t["first_step"] = time.time()
m.run()
t["done"] = time.time()
print(repr({k: v - t["start"] for k, v in t.items()}))
"""


def startup_run(cache_dir: str) -> dict:
    """Seconds from launching a new interpreter to: import done, model built (computing starts), end of the
    first step, end of the run of the shipped baseline scenario."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", _STARTUP_CHILD, repr(time.time()), str(SCENARIO)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    marks = eval(out.stdout.strip().splitlines()[-1])  # a dict literal printed by our own child
    return {
        "import": marks["imported"],
        "start_computing": marks["built"],
        "first_step_done": marks["first_step"],
        "total": marks["done"],
    }


def startup(repeats: int) -> dict:
    """A new process with an empty compile cache (cold), then with the cache it left (warm)."""
    with tempfile.TemporaryDirectory(prefix="loyaltysim-numba-") as cache:
        cold = startup_run(cache)
        warm = [startup_run(cache) for _ in range(repeats)]
    return {"cold": cold, "warm": {k: statistics.median(w[k] for w in warm) for k in warm[0]}, "warm_runs": repeats}


@njit(parallel=True)  # no cache: this file is run both as a script and imported by the tests
def _read_modify_write(a):
    for i in prange(a.shape[0]):
        a[i] = a[i] * 1.0001 + 1.0


REGRESSION_N = 100_000
"""Customers of the regression check (`regression`), the same in quick and full runs so CI compares like with like."""
REGRESSION_PASSES = 50
"""Baseline passes timed together per sample: about as long as a step, so timer noise weighs on both alike."""
REGRESSION_BASELINE = ROOT / "benchmarks" / "results" / "regression-baseline.json"
"""The committed ratio the regression check compares against, and its tolerance."""


def regression(repeats: int) -> dict:
    """The model's step against a baseline kernel in the same run: a ratio, so a slower machine does not matter.

    On one thread, interleaved (so both see the same load): one step of the benchmark scenario at `REGRESSION_N`
    customers, then `REGRESSION_PASSES` read-modify-write passes over a float64 array of as many elements. ``ratio``
    is the median time of a pass over the step's: the step costs 1 / ratio passes (higher is faster).
    `check_regression` compares it with `REGRESSION_BASELINE`.
    """
    n = REGRESSION_N
    model = bench_model(n, 3 * repeats + 10)
    a = np.ones(n)
    with threads(1):
        model.step()
        _read_modify_write(a)
        step_s, pass_s = [], []
        for _ in range(3 * repeats):
            start = time.perf_counter()
            model.step()
            step_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(REGRESSION_PASSES):
                _read_modify_write(a)
            pass_s.append((time.perf_counter() - start) / REGRESSION_PASSES)
    step, one_pass = statistics.median(step_s), statistics.median(pass_s)
    return {"n": n, "threads": 1, "step_seconds": step, "pass_seconds": one_pass, "ratio": one_pass / step}


def check_regression(res: dict, baseline_path: Path = REGRESSION_BASELINE) -> tuple[bool, str]:
    """Whether ``res``'s regression ratio is at least the baseline's times its tolerance, and a one-line verdict."""
    base = json.loads(baseline_path.read_text())
    got = res["regression"]["ratio"]
    floor = base["ratio"] * base["tolerance"]
    ok = got >= floor
    verdict = "ok" if ok else "REGRESSION"
    return ok, (
        f"regression check: {verdict}: a step of {REGRESSION_N:,} customers costs {1 / got:.1f} passes of the baseline "
        f"kernel (ratio {got:.4f}; baseline {base['ratio']:.4f} measured {base['measured']}, floor {floor:.4f})"
    )


def bandwidth(cfg: dict, repeats: int) -> list[dict]:
    """Memory bandwidth of a parallel numba read-modify-write over a large float64 array (bytes read + written)."""
    a = np.ones(cfg["bandwidth_mb"] * 1_000_000 // 8)
    rows = []
    for th in thread_counts():
        with threads(th):
            _read_modify_write(a)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                _read_modify_write(a)
                times.append(time.perf_counter() - start)
        sec = statistics.median(times)
        rows.append({"threads": th, "array_bytes": a.nbytes, "seconds": sec, "gb_per_s": 2 * a.nbytes / sec / 1e9})
    return rows


# Bytes each phase moves per customer on the benchmark scenario, counting every array a phase touches as streamed
# once (read) and, if written, once more (write), at whole-array granularity: with 30 % customers spread over
# the population almost every cache line of a per-customer array is touched. The few rows of the network read
# by listen's push (movers: customers who changed status or spoke, about 5 % of people) are counted separately.
TRAFFIC = {
    "interact": {
        "stage": (1, 1),
        "flags": (1, 1),
        "persona": (1, 0),
        "frustration": (4, 4),
        "exposure": (0, 4),
        "loyalty": (4, 4),
        "expectation": (20, 20),  # (people, touchpoints): a customer's line, read and written (an upper bound)
        "told_positive": (0, 1),
        "told_negative": (0, 1),
    },
    "listen_hear": {
        "stage": (1, 0),
        "flags": (1, 0),
        "indptr": (8, 0),
        "neighbourhood": (8, 8),
        "influence": (0, 4),
        "heard": (0, 4),
    },
    "settle": {  # transition and tally in one pass: each array read once
        "stage": (1, 1),
        "persona": (1, 0),
        "flags": (1, 1),
        "heard": (4, 0),
        "influence": (4, 0),
        "loyalty": (4, 4),
        "expectation": (20, 0),  # every touchpoint of every customer (five in the benchmark scenario)
        "exposure": (4, 0),
        "base_hazard": (4, 0),
        "told_positive": (1, 0),
        "told_negative": (1, 0),
    },
}


def traffic(mover_share: float) -> dict:
    """Bytes per customer-step by phase; a pull over every edge is shown for comparison."""
    per_phase = {ph: sum(r + w for r, w in arrays.values()) for ph, arrays in TRAFFIC.items()}
    # each mover: its indptr line (64 B) and its row (4 * degree B, about 2 lines), plus its listeners' lines
    per_phase["listen_push"] = mover_share * (64 + 2 * 64 + 64)
    total = sum(per_phase.values())
    pull = 8 + 4 * DEGREE + 1  # indptr, indices, own stage: neighbours' flags are cache hits
    return {
        "bytes_per_customer_step": per_phase,
        "total": total,
        "pull_listen_would_read": pull,
        "mover_share": mover_share,
    }


def mover_share(n: int = 100_000) -> float:
    """Share of people who push in listen on a typical step of the benchmark scenario."""
    model = bench_model(n, 4)
    for _ in range(3):
        model.step()
    t = model.steps + 1
    kernels.interact(
        model.state,
        draw_keys(model.seed, t),
        model.trait_key,
        model.plan.levels[t],
        model.plan.visit_rate[t],
        model.plan.visit_none[t],
        model.plan.price[t],
        model.plan.persona_table,
        model.plan.params,
        model.diary,
    )
    return len(listen._movers(model.state.flags, np.array([0, n]))[0]) / n


def machine() -> dict:
    """Facts about the machine and the load on it while the benchmark ran."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "threading_layer": _threading_layer(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "loyaltysim": loyaltysim.__version__ if hasattr(loyaltysim, "__version__") else "",
        "load_average_at_start": os.getloadavg(),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _threading_layer() -> str:
    try:
        return numba.threading_layer()
    except ValueError:
        return "not initialised"


def run(quick: bool, repeats: int, only: list[str] | None = None, previous: dict | None = None) -> dict:
    """Every section (or those in ``only``, keeping the others from ``previous``) as a JSON-ready dict."""
    cfg = QUICK if quick else FULL
    if only and previous:
        res = previous
        res.setdefault("reruns", []).append({"sections": only, "machine": machine()})
    else:
        res = {
            "quick": quick,
            "machine": machine(),
            "scenario": str(SCENARIO.relative_to(ROOT)),
            "mean_degree": DEGREE,
        }
    sections = [
        ("bandwidth", lambda: bandwidth(cfg, repeats)),
        ("throughput", lambda: throughput(cfg)),
        ("readable", lambda: readable(cfg)),
        ("phases", lambda: phases(cfg, repeats)),
        ("networks", lambda: networks(cfg, repeats)),
        ("traffic", lambda: traffic(mover_share(cfg["phase_n"] // 10))),
        ("memory", lambda: memory(cfg)),
        ("startup", lambda: startup(max(1, repeats // 2))),
        ("small_runs", lambda: small_runs(cfg)),
        ("regression", lambda: regression(repeats)),
    ]
    for name, fn in sections:
        if only and name not in only:
            continue
        start = time.perf_counter()
        res[name] = fn()
        print(f"[{name}: {time.perf_counter() - start:.1f} s]", file=sys.stderr, flush=True)
    res["machine"]["threading_layer"] = _threading_layer()
    if not only:
        res["machine"]["load_average_at_end"] = os.getloadavg()
    res["limits"] = limits(res)
    return res


def limits(res: dict) -> dict:
    """The kernel against the memory system: the speed the bandwidth allows for the bytes a step moves."""
    out = {}
    if not all(k in res for k in ("bandwidth", "traffic", "phases")):
        return out
    for bw in res["bandwidth"]:
        th = bw["threads"]
        bound = bw["gb_per_s"] * 1e9 / res["traffic"]["total"]
        ph = next(r for r in res["phases"] if r["threads"] == th)
        out[f"{th}_threads"] = {
            "bandwidth_bound_customer_steps_per_s": bound,
            "phases_customer_steps_per_s": ph["customer_steps_per_s"],
            "fraction_of_bound": ph["customer_steps_per_s"] / bound,
        }
    return out


def table(res: dict) -> str:
    """The results as a plain-text table (the sections that were run)."""
    m = res["machine"]
    lines = [
        f"loyaltysim benchmarks  {m['date']}  {m['cpu']}  {m['cores']} cores  load {m['load_average_at_start']}",
        f"scenario {res['scenario']} (word of mouth on), average degree {res['mean_degree']}",
    ]
    for name, part in SECTION_LINES.items():
        if name in res:
            lines += ["", *part(res)]
    for k, v in res.get("limits", {}).items():
        lines.append(
            f"  {k.replace('_', ' ')}: bandwidth bound {v['bandwidth_bound_customer_steps_per_s'] / 1e6:.0f} "
            f"M cs/s, phases {v['phases_customer_steps_per_s'] / 1e6:.1f} M cs/s = "
            f"{100 * v['fraction_of_bound']:.1f} % of the bound"
        )
    return "\n".join(lines)


def _throughput_lines(res: dict) -> list[str]:
    lines = ["throughput (full model step, median)      n   threads   ms/step   cpu ms   M customer-steps/s"]
    for r in res["throughput"]:
        lines.append(
            f"{'':40}{r['n']:>9,} {r['threads']:>6} {1e3 * r['seconds_per_step']:>10.2f} "
            f"{1e3 * r['cpu_seconds_per_step']:>8.2f} {r['customer_steps_per_s'] / 1e6:>12.2f}"
        )
    return lines


def _readable_lines(res: dict) -> list[str]:
    rd = res["readable"]
    lines = [
        f"readable path at {rd['readable']['n']:,}: {rd['readable']['customer_steps_per_s']:,.0f} "
        "customer-steps/s; kernel / readable, same size: "
        + ", ".join(f"{rd[k]:,.0f}x ({k.split('_')[1]} thr)" for k in rd if k.startswith("ratio")),
    ]
    if "throughput" in res:
        best = max(r["customer_steps_per_s"] for r in res["throughput"])
        lines.append(f"best kernel throughput / readable: {best / rd['readable']['customer_steps_per_s']:,.0f}x")
    return lines


def _phase_lines(res: dict) -> list[str]:
    lines = ["phases (ms, median)     n  threads  interact  push  hear  settle   step  M cs/s"]
    for r in res["phases"]:
        s = r["seconds"]
        lines.append(
            f"{r['n']:>16,} {r['threads']:>6} {1e3 * s['interact']:>9.2f} {1e3 * s['listen_push']:>5.2f} "
            f"{1e3 * s['listen_hear']:>5.2f} {1e3 * s['settle']:>7.2f} "
            f"{1e3 * s['step']:>6.2f} {r['customer_steps_per_s'] / 1e6:>7.2f}"
        )
    return lines


def _network_lines(res: dict) -> list[str]:
    return [
        "network build (median s)   "
        + "  ".join(f"{r['kind']} {r['seconds']:.3f}" for r in res["networks"])
        + f"   at n = {res['networks'][0]['n']:,}"
    ]


def _memory_lines(res: dict) -> list[str]:
    return [
        "peak memory per customer: "
        + "; ".join(
            f"n = {r['n']:,}: {r['bytes_per_customer']:.0f} B over import, "
            f"{r['bytes_per_customer_beyond_small_run']:.0f} B over a 1,000-customer run "
            f"(state {r['state_bytes_per_customer']} B, network {r['network_bytes_per_customer']} B)"
            for r in res["memory"]
        )
    ]


def _startup_lines(res: dict) -> list[str]:
    su = res["startup"]
    return [
        "start-up, new process (s)     import  start computing  first step done  total",
        *(
            f"{k + ' cache':>28} {su[k]['import']:>7.2f} {su[k]['start_computing']:>16.2f} "
            f"{su[k]['first_step_done']:>16.2f} {su[k]['total']:>6.2f}"
            for k in ("cold", "warm")
        ),
    ]


def _bandwidth_lines(res: dict) -> list[str]:
    return [
        "bandwidth (numba RMW): "
        + ", ".join(f"{b['gb_per_s']:.1f} GB/s ({b['threads']} thr)" for b in res["bandwidth"])
    ]


def _traffic_lines(res: dict) -> list[str]:
    tr = res["traffic"]
    return [
        f"bytes per customer-step: {tr['total']:.1f} ("
        + ", ".join(f"{k} {v:.1f}" for k, v in tr["bytes_per_customer_step"].items())
        + ")"
    ]


def _small_run_lines(res: dict) -> list[str]:
    lines = ["small runs (52 weeks, 1 thread)     n   ms/run  runs/s  kernels ms  overhead ms  overhead share"]
    for r in res["small_runs"]:
        kernel = sum(r["kernel_seconds_per_run"].values())
        lines.append(
            f"{'':30}{r['n']:>7,} {1e3 * r['seconds_per_run']:>8.2f} {r['runs_per_s']:>7.1f} {1e3 * kernel:>11.2f} "
            f"{1e3 * r['overhead_seconds_per_run']:>12.2f} {100 * r['overhead_share']:>14.0f} %"
        )
    return lines


SECTION_LINES = {
    "throughput": _throughput_lines,
    "readable": _readable_lines,
    "phases": _phase_lines,
    "networks": _network_lines,
    "memory": _memory_lines,
    "startup": _startup_lines,
    "bandwidth": _bandwidth_lines,
    "traffic": _traffic_lines,
    "small_runs": _small_run_lines,
}
"""Lines of the printed table, per section, in the order printed."""


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the code works (CI)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.json")
    ap.add_argument("--repeats", type=int, default=None, help="runs per timing (default 7, quick 3)")
    ap.add_argument("--only", nargs="+", default=None, help="rerun these sections, keeping the rest of --out")
    ap.add_argument(
        "--check", action="store_true", help="exit 1 if the step is slower than the committed regression baseline"
    )
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    previous = json.loads(args.out.read_text()) if args.only and args.out.exists() else None
    res = run(args.quick, repeats, args.only, previous)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1))
    print(table(res))
    print(f"\nwritten {args.out}")
    if args.check and "regression" in res:
        ok, line = check_regression(res)
        print(line)
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
