"""`calibrate`: fit a scenario's free parameters to a firm's KPIs with pyabc's ABC-SMC; resumable, local or on Dask.

The sampler, the populations, the adaptive epsilon and the perturbation kernels are pyabc's (Klinger, Rickert &
Hasenauer 2018); this module only wires the model in: priors from the targets file, `Simulator` as the model (with
Gaussian noise of each observation's stated sd added to its simulated statistic, so that the posterior accounts for
the observations' error as well as the simulation's: "noisy ABC", exact under that error model as epsilon falls,
Wilkinson 2013), a weighted distance, and the stopping rules. pyabc keeps its history in ``history.db`` (SQLite)
in the output folder, so a calibration that was stopped resumes where it stopped (``resume=True``): a generation
is written in one transaction when it ends, so a kill mid-generation loses only that generation's work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.calibration.result import Calibration, build_calibration
from loyaltysim.calibration.simulate import Simulator
from loyaltysim.calibration.targets import Prior, Targets, load_targets, prior_bounds, statistic
from loyaltysim.errors import InputError, check_int
from loyaltysim.runs.executors import spawn_pool
from loyaltysim.runs.files import MARKER, atomic_write, check_output_folder, safe_name
from loyaltysim.scenario import Scenario, load_scenario

__all__ = ["HISTORY", "WeightedDistance", "calibrate", "default_out", "fingerprint", "log_keys", "observed"]

HISTORY = "history.db"
"""pyabc's SQLite history in the output folder."""
MANIFEST = "calibration.json"
"""What the calibration in a folder fits (scenario, targets and their fingerprint), checked on resume."""
MISSING_RESIDUAL = 1e3
"""Standardised residual of a statistic a simulation could not measure (no customers left, say): far from any data."""


class WeightedDistance:
    """sqrt(sum_i w_i ((s_i - o_i) / sd_i)^2) over every target month i: a diagonal Mahalanobis distance.

    ``sd_i`` is the observed value's standard deviation as the targets file states it and ``w_i`` its target's
    weight; a statistic the run could not measure counts as `MISSING_RESIDUAL` standard deviations off.
    """

    def __init__(self, sd: Mapping[str, float], weight: Mapping[str, float]) -> None:
        self.names = list(sd)
        self.sd = np.array([sd[n] for n in self.names])
        self.weight = np.array([weight[n] for n in self.names])

    def residuals(self, x: Mapping[str, float], x0: Mapping[str, float]) -> np.ndarray:
        """Standardised residuals (s - o) / sd in target order."""
        s = np.array([x[n] for n in self.names], dtype=float)
        o = np.array([x0[n] for n in self.names], dtype=float)
        z = (s - o) / self.sd
        return np.where(np.isfinite(z), z, MISSING_RESIDUAL)

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        """The distance between simulated ``x`` and observed ``x0``."""
        return float(np.sqrt(np.sum(self.weight * self.residuals(x, x0) ** 2)))


def _rv(prior: Prior, bounds: tuple[float, float]):
    import pyabc

    lo, hi = prior.support
    if prior.prior == "uniform":
        return pyabc.RV("uniform", lo, hi - lo)
    if prior.prior == "log-uniform":  # sampled as a uniform log: the perturbation kernel moves on a log scale
        return pyabc.RV("uniform", math.log(lo), math.log(hi) - math.log(lo))
    if prior.prior == "beta":
        return pyabc.RV("beta", prior.a, prior.b, loc=lo, scale=hi - lo)
    lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return pyabc.RV("truncnorm", (lo - prior.mean) / prior.sd, (hi - prior.mean) / prior.sd, prior.mean, prior.sd)


def log_keys(targets: Targets) -> tuple[str, ...]:
    """Keys with a log-uniform prior: the sampler holds their natural logarithms."""
    return tuple(k for k, p in targets.parameters.items() if p.prior == "log-uniform")


def observed(targets: Targets, holdout: bool = False) -> dict[str, tuple[float, float, float]]:
    """``{target@month: (value, sd, weight)}`` of the fitted targets (or of the held-out ones)."""
    group = targets.holdout if holdout else targets.targets
    return {
        statistic(name, m): (float(v), float(s), t.weight)
        for name, t in group.items()
        for m, v, s in zip(t.months, t.values, t.sds, strict=True)
    }


def fingerprint(scenario: Scenario, targets: Targets) -> str:
    """Hash of what a calibration fits: the scenario it starts from, the priors, targets and population size.

    Stopping rules, name and description are left out: a calibration resumed with more generations (or time) is
    the same fit.
    """
    blob = json.dumps([scenario.model_dump(mode="json"), targets.fingerprint_data()], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _sampler(jobs: int, scheduler: Any):
    """The pyabc sampler for one process, ``jobs`` spawned processes or a Dask cluster, and what to close after.

    A ``distributed.Client`` passed in stays the caller's (not closed); an address gets a client of its own.
    """
    import pyabc

    if scheduler is not None and (not isinstance(scheduler, str) or scheduler):
        from loyaltysim.runs.cluster import DaskExecutor

        cluster = DaskExecutor(scheduler).__enter__()  # connects, or one line; a client passed in stays open
        return pyabc.sampler.DaskDistributedSampler(dask_client=cluster.client), cluster.__exit__
    if jobs == 1:
        return pyabc.sampler.SingleCoreSampler(), None
    pool = spawn_pool(jobs)
    return pyabc.sampler.ConcurrentFutureSampler(cfuture_executor=pool, client_max_jobs=jobs), pool.shutdown


def default_out(name: str) -> Path:
    """Where a calibration goes without ``out``: ``results/calibrations/<name>``, the targets file's name made safe."""
    return Path("results") / "calibrations" / safe_name(name, "calibration")


def _prepare_folder(out: Path, stamp: dict[str, Any], resume: bool, force: bool) -> tuple[bool, Path | None]:
    """Make ``out`` ready: whether it holds a history to resume, and where its old contents wait (``force``).

    With ``force`` the old contents are moved aside, not deleted: `calibrate` deletes them once the new calibration
    is complete, and puts them back if it fails or is interrupted.
    """
    db = out / HISTORY
    if resume:
        if not db.is_file():
            raise InputError(str(out), None, None, f"no {HISTORY} to resume: run without --resume to start one")
        try:
            held = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(str(out), MANIFEST, None, "unreadable: start over with --force") from None
        if held.get("fingerprint") != stamp["fingerprint"]:
            raise InputError(
                str(out),
                "fingerprint",
                held.get("fingerprint"),
                f"{stamp['fingerprint']}: the folder holds a calibration of another scenario or targets file; "
                "choose another --out, or --force to start over",
            )
        return True, None
    if db.exists() and not force:
        raise InputError(
            str(out), None, None, "holds a calibration; add --resume to continue it, or --force to start over"
        )
    check_output_folder(out, "calibrate", force)
    old = None
    if out.exists() and force and any(out.iterdir()):
        old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(out, old)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in ((MANIFEST, stamp), (MARKER, {"command": "calibrate", **stamp["versions"]})):
        atomic_write(out / name, lambda tmp, d=data: Path(tmp).write_text(json.dumps(d, indent=1) + "\n"))
    return False, old


def calibrate(
    scenario: Scenario | str | Path,
    targets: str | Path,
    out: str | Path | None = None,
    *,
    jobs: int = 1,
    scheduler: Any = None,
    resume: bool = False,
    force: bool = False,
    root: str | Path | None = None,
    verbose: bool = False,
) -> Calibration:
    """Fit the free parameters of ``scenario`` to the KPIs of a targets file (ABC-SMC, pyabc).

    Parameters
    ----------
    scenario
        A scenario file (or `Scenario`) to calibrate.
    targets
        A targets file (see ``docs/calibration.md``): priors, observed KPIs with their uncertainty, stopping rules.
    out
        Output folder (default `default_out`: ``results/calibrations/<targets name>``): ``history.db`` (pyabc's
        SQLite history), ``posterior.parquet``, ``calibrated.toml``, ``report.html`` and tables.
    jobs
        Processes to simulate in (spawned, one numba thread each).
    scheduler
        A Dask scheduler address (``tcp://host:8786``) or ``distributed.Client``: simulate on that cluster.
    resume
        Continue the calibration in ``out`` from its last complete generation.
    force
        Start over in an ``out`` that holds a calibration (or other outputs).
    root
        Folder a scenario file may extend and read edge lists from (default: its own folder).
    verbose
        Show pyabc's line per generation on standard error.

    Returns
    -------
    Calibration

    Raises
    ------
    InputError
        A bad scenario, targets file, folder or argument (one line).
    """
    try:
        import pyabc
    except ImportError:
        raise InputError("calibrate", None, None, "pyabc: pip install 'loyaltysim[calibrate]'") from None
    jobs = check_int(jobs, "jobs", 1, "calibrate")
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, root=root)
    tgt, fitted = load_targets(targets, spec)
    out = default_out(tgt.name) if out is None else Path(out)
    from loyaltysim._version import __version__

    stamp = {
        "fingerprint": fingerprint(fitted, tgt),
        "scenario": os.path.relpath(spec.source, out.resolve()) if spec.source else None,
        "targets": os.path.relpath(tgt.source, out.resolve()) if tgt.source else None,
        "versions": {"loyaltysim": __version__, "pyabc": pyabc.__version__},
    }
    resuming, old = _prepare_folder(out, stamp, resume, force)
    try:
        result = _fit(spec, fitted, tgt, out, stamp, resuming, jobs, scheduler, verbose)
    except BaseException:
        if old is not None:  # the new calibration did not finish: the old one comes back
            shutil.rmtree(out, ignore_errors=True)
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return result


def _fit(
    spec: Scenario,
    fitted: Scenario,
    tgt: Targets,
    out: Path,
    stamp: dict[str, Any],
    resuming: bool,
    jobs: int,
    scheduler: Any,
    verbose: bool,
) -> Calibration:
    """Run (or continue) the ABC-SMC in ``out`` and build its `Calibration`."""
    import pyabc

    atomic_write(out / "targets.toml", lambda tmp: shutil.copyfile(tgt.source, tmp))
    obs = observed(tgt)
    distance = WeightedDistance({k: v[1] for k, v in obs.items()}, {k: v[2] for k, v in obs.items()})
    bounds = prior_bounds(spec, tgt)
    prior = pyabc.Distribution(**{k: _rv(p, bounds[k]) for k, p in tgt.parameters.items()})
    sampler, closer = _sampler(jobs, scheduler)
    logging.getLogger("ABC").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("ABC.History").setLevel(logging.WARNING)
    logging.getLogger("ABC.Sampler").setLevel(logging.WARNING)
    a = tgt.abc
    started = time.perf_counter()
    try:
        abc = pyabc.ABCSMC(
            Simulator(fitted, tgt, log_keys=log_keys(tgt), noise={k: v[1] for k, v in obs.items()}),
            prior,
            distance,
            population_size=a.population,
            sampler=sampler,
            eps=pyabc.epsilon.QuantileEpsilon(alpha=0.5),
        )
        db = "sqlite:///" + str((out / HISTORY).resolve())
        if resuming:
            history = abc.load(db, 1)
        else:
            history = abc.new(db, {k: v[0] for k, v in obs.items()}, meta_info={"fingerprint": stamp["fingerprint"]})
        done = max(history.max_t + 1, 0)
        left, why = _budget(history, a, done)
        if left > 0:
            np.random.seed((a.seed + 7919 * done) % 2**32)  # a resumed run does not repeat the first one's draws
            history = abc.run(
                minimum_epsilon=a.min_epsilon,
                max_nr_populations=left,
                max_total_nr_simulations=a.max_simulations or np.inf,
                max_walltime=_walltime(history, a),
            )
    finally:
        if closer is not None:
            closer()
    seconds = time.perf_counter() - started
    result = build_calibration(spec, fitted, tgt, history, out, stop_reason(history, a, why), seconds, resuming)
    result.save(out)
    return result


def _budget(history, a, done: int) -> tuple[int, str]:
    """Generations still to run, and why none are left."""
    left = a.generations - done
    if left <= 0:
        return 0, "generations"
    if done and a.max_simulations and history.total_nr_simulations >= a.max_simulations:
        return 0, "max_simulations"
    if done:
        pops = history.get_all_populations()
        eps = float(pops["epsilon"].iloc[-1])
        if eps <= a.min_epsilon:
            return 0, "min_epsilon"
        if a.max_minutes and _elapsed(history) >= a.max_minutes * 60:
            return 0, "max_minutes"
    return left, ""


def _elapsed(history) -> float:
    """Seconds the fit has run so far: every generation's wall time, the calibration sample's (t = -1) included."""
    pops = history.get_all_populations()
    return float(pops["wall_time"].sum()) if len(pops) else 0.0


def _walltime(history, a) -> timedelta | None:
    if not a.max_minutes:
        return None
    return timedelta(seconds=max(1.0, a.max_minutes * 60 - _elapsed(history)))


def stop_reason(history, a, why: str) -> str:
    """Which stopping rule ended the calibration (or that it stopped early, to be resumed)."""
    if why:
        return why
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    n = len(pops)
    if n >= a.generations:
        return "generations"
    if float(pops["epsilon"].iloc[-1]) <= a.min_epsilon:
        return "min_epsilon"
    if a.max_simulations and history.total_nr_simulations >= a.max_simulations:
        return "max_simulations"
    if a.max_minutes and _elapsed(history) >= a.max_minutes * 60 * 0.999:
        return "max_minutes"
    return "stopped"
