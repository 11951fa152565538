"""The ``loyaltysim`` command line.

Every command turns a bad input into one line on stderr (file, key, value, what is allowed) and exit code 2, and an
odd one (`loyaltysim.errors.InputWarning`) into one line ``loyaltysim: warning: ...``. The module is kept whole,
though a little over 400 lines: one function a command, in the order ``loyaltysim --help`` lists them.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

from loyaltysim.errors import InputWarning, ScenarioError
from loyaltysim.runs.metrics import (
    DEFAULT_CHECKPOINTS,
    DISCOUNT_RATE,
    HORIZON_MONTHS,
    PRACTICAL,
    SURVEY_WINDOW_DAYS,
    TORNADO_REPLICATIONS,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[quick]" and "[default: ...]" are shown, not read as markup
    help="Simulate customer loyalty through the CX Spectrum.",
)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Change one scenario value by dotted key, e.g. --set touchpoints.phone_support.effort=0.3 (repeatable).",
    ),
]
SeedOption = Annotated[int, typer.Option("--seed", min=0, help="Seed of population, network and draws.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Replace an --out folder that holds other outputs (it is replaced whole).")
]
RootOption = Annotated[
    Path | None,
    typer.Option(help="Folder that extends and edge-list files may come from [default: the scenario's folder]."),
]


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Input warnings as one line each on standard error; other warnings as Python shows them."""
    if issubclass(category, InputWarning):
        typer.echo(f"loyaltysim: warning: {message}", err=True)
    else:
        _python_showwarning(message, category, filename, lineno, file, line)


_python_showwarning = warnings.showwarning


@app.callback()
def _setup() -> None:
    """Simulate customer loyalty through the CX Spectrum."""
    warnings.showwarning = _show_warning


def fail(message: str) -> None:
    """Print a one-line error and exit with status 2."""
    typer.echo(f"loyaltysim: error: {message}", err=True)
    raise typer.Exit(2)


def parse_sets(sets: list[str] | None) -> dict[str, Any]:
    """``["a.b=1", ...]`` to ``{"a.b": "1"}``; values are parsed later, as TOML."""
    out: dict[str, Any] = {}
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set {item!r}: expected KEY=VALUE, e.g. --set touchpoints.phone_support.effort=0.3")
        out[key.strip()] = value.strip()
    return out


def _ranges(items: list[str] | None) -> dict[str, tuple[float, float]]:
    """``["k=lo:hi", ...]`` to ``{"k": (lo, hi)}``; a one-line error for anything else."""
    out = {}
    for item in items or []:
        key, sep, span = item.partition("=")
        lo, colon, hi = span.partition(":")
        try:
            if not sep or not colon or not key.strip():
                raise ValueError
            out[key.strip()] = (float(lo), float(hi))
        except ValueError:
            fail(f"--uncertain {item!r}: expected KEY=LOW:HIGH, e.g. --uncertain churn.win_back=0.005:0.02")
    return out


def _headless() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: SeedOption = 0,
    sets: SetOption = None,
    engine: Annotated[
        str, typer.Option(help="kernel (compiled, parallel) or reference (readable Mesa agents).")
    ] = "kernel",
    out: Annotated[Path | None, typer.Option(help="Output directory [default: results/<scenario name>].")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="numba threads [default: all cores].")] = None,
    root: RootOption = None,
    force: ForceOption = False,
) -> None:
    """Run one scenario and write timeseries.parquet, timeseries.csv and timeseries.png."""
    from loyaltysim.engine.model import ENGINES
    from loyaltysim.runs.files import check_output_folder, safe_name
    from loyaltysim.runs.simulate import simulate
    from loyaltysim.scenario import load_scenario

    _headless()
    if engine not in ENGINES:
        fail(f"--engine {engine!r}: allowed: {', '.join(ENGINES)}")
    try:
        spec = load_scenario(scenario, parse_sets(sets), root=root, label="--set")
        directory = out or Path("results") / safe_name(spec.name)
        check_output_folder(directory, "run", force)
        results = simulate(spec, seed=seed, engine=engine, n_threads=threads)
        paths = results.save(directory, force)
    except ScenarioError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{directory}: cannot write results ({exc.strerror or exc})")
    s = results.summary()
    start = results.metrics(0)["active"]
    typer.echo(
        f"{spec.name}: {spec.population.size:,} people, {spec.n_steps} steps of {spec.time.step_days:g} days, "
        f"seed {seed}, engine {engine}"
    )
    typer.echo(
        f"  customers      {int(start):>12,} -> {int(s.active):,}  (retention of starting base {s.retention:.1f} %)"
    )
    typer.echo(f"  won / lost     {int(s.new_customers):>12,} / {int(s.churned_step):,}")
    typer.echo(f"  revenue        {s.revenue:>12,.0f}   profit {s.profit:,.0f}")
    typer.echo(f"  NPS at end     {s.nps:>12.1f}   mean CES {s.ces:.2f} (1-7)")
    typer.echo(f"  word of mouth  {int(s.wom_positive):>12,} positive / {int(s.wom_negative):,} negative")
    typer.echo(f"  wrote {', '.join(str(p) for p in paths)}")


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
    targets: Annotated[
        bool, typer.Option("--targets", help="The schema of calibration targets files instead.")
    ] = False,
    experiment: Annotated[
        bool, typer.Option("--experiment", help="The schema of experiment (sweep) files instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (or of targets or experiment files), for editor validation."""
    if targets and experiment:
        fail("--targets and --experiment: allowed: one of them")
    if experiment:
        from loyaltysim.sweeps.experiment import Experiment

        data = Experiment.model_json_schema()
    elif targets:
        from loyaltysim.calibration.targets import Targets

        data = Targets.model_json_schema()
    else:
        from loyaltysim.scenario import json_schema

        data = json_schema()
    text = json.dumps(data, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@app.command()
def params(
    markdown: Annotated[bool, typer.Option("--markdown", help="Print as a Markdown table.")] = False,
) -> None:
    """List every scenario parameter with default, range, unit, meaning and source."""
    from loyaltysim.scenario import parameter_table

    rows = parameter_table()
    if markdown:
        typer.echo(parameter_markdown(rows))
        return
    for row in rows:
        rng = f"[{_fmt(row['min'])}, {_fmt(row['max'])}]"
        typer.echo(f"{row['key']:<52} {_fmt(row['default']):>24} {rng:<16} {row['unit']:<16} {row['meaning']}")


def _fmt(value: Any) -> str:
    return "" if value is None else str(value)


def parameter_markdown(rows: list[dict[str, Any]]) -> str:
    """The parameter table as Markdown (used in docs/model.md)."""
    lines = ["| key | default | range | unit | meaning | source of the default |", "|---|---|---|---|---|---|"]
    for row in rows:
        rng = f"{_fmt(row['min'])} .. {_fmt(row['max'])}" if row["min"] is not None or row["max"] is not None else ""
        lines.append(
            f"| `{row['key']}` | {_fmt(row['default'])} | {rng} | {row['unit']} | {row['meaning']} | {row['source']} |"
        )
    return "\n".join(lines)


@app.command("compare")
def compare_command(
    baseline: Annotated[Path, typer.Argument(help="Baseline scenario TOML file.")],
    variants: Annotated[list[Path], typer.Argument(help="One or more variant scenario files.")],
    replications: Annotated[int, typer.Option("--replications", "-n", help="Runs per scenario.")] = 20,
    seed: SeedOption = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Processes (one numba thread each); same numbers.")] = 1,
    independent: Annotated[
        bool, typer.Option("--independent", help="Independent seeds per scenario instead of common random numbers.")
    ] = False,
    sets: SetOption = None,
    out: Annotated[Path | None, typer.Option(help="Write report.html, figures and tables into this directory.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="Metric to show at every checkpoint (repeatable) [default: all at the horizon]."),
    ] = None,
    checkpoints: Annotated[str, typer.Option(help="Checkpoint months, comma-separated.")] = ",".join(
        f"{m:g}" for m in DEFAULT_CHECKPOINTS
    ),
    horizon_months: Annotated[
        float, typer.Option(help="Months every scenario runs (0: the scenarios' own time.horizon_days).")
    ] = HORIZON_MONTHS,
    discount_rate: Annotated[
        float, typer.Option(help="Yearly discount rate of profit, CLV and terminal value.")
    ] = DISCOUNT_RATE,
    practical: Annotated[
        float, typer.Option(help="Smallest difference that counts, as a share of the baseline's value.")
    ] = PRACTICAL,
    tornado: Annotated[
        bool, typer.Option("--tornado/--no-tornado", help="Find what the verdict hinges on (runs more).")
    ] = True,
    uncertain: Annotated[
        list[str] | None,
        typer.Option(
            "--uncertain",
            metavar="KEY=LOW:HIGH",
            help="Range of an assumption for the tornado, e.g. churn.win_back=0.005:0.02 (repeatable).",
        ),
    ] = None,
    tornado_replications: Annotated[
        int, typer.Option(help="Paired replications per end of each range.")
    ] = TORNADO_REPLICATIONS,
    allow_different_markets: Annotated[
        bool,
        typer.Option(
            "--allow-different-markets", help="Compare scenarios of different markets (people, touchpoints, personas)."
        ),
    ] = False,
    posterior: Annotated[
        Path | None,
        typer.Option(
            help="Calibration folder (loyaltysim calibrate): each replication draws its parameters from its posterior."
        ),
    ] = None,
    root: RootOption = None,
    force: ForceOption = False,
) -> None:
    """Compare a baseline with variants over replications: differences, 95 % CIs, ROI, and a report."""
    from loyaltysim.comparisons.comparison import comparison_metrics
    from loyaltysim.comparisons.run import compare as run_comparison
    from loyaltysim.comparisons.text import text_table, verdict
    from loyaltysim.runs.files import check_output_folder, json_ready

    _headless()
    if replications < 1:
        fail(f"--replications {replications}: allowed: a whole number of at least 1 (e.g. 20)")
    if jobs < 1:
        fail(f"--jobs {jobs}: allowed: a whole number of at least 1")
    if fmt not in ("table", "json", "csv"):
        fail(f"--format {fmt!r}: allowed: table, json, csv")
    try:
        months = [float(x) for x in checkpoints.split(",") if x.strip()]
    except ValueError:
        fail(f"--checkpoints {checkpoints!r}: allowed: months separated by commas, e.g. 3,6,12")
    try:
        chosen = comparison_metrics(metric, "--metric") if metric else None
        if out is not None:
            check_output_folder(out, "compare", force)
        comparison = run_comparison(
            [baseline, *variants],
            replications=replications,
            seed=seed,
            jobs=jobs,
            independent=independent,
            overrides=parse_sets(sets),
            checkpoints=months,
            horizon_months=horizon_months or None,
            discount_rate=discount_rate,
            practical=practical,
            tornado=tornado,
            uncertain=_ranges(uncertain),
            tornado_replications=tornado_replications,
            allow_different_markets=allow_different_markets,
            root=root,
            overrides_label="--set",
            posterior=posterior,
        )
    except ScenarioError as exc:
        fail(str(exc))
    if fmt == "table":
        typer.echo(text_table(comparison, chosen))
    else:
        table = comparison.to_frame(chosen)
        if fmt == "csv":
            sys.stdout.write(table.to_csv(index=False))
        else:
            rows = [json_ready(r) for r in table.to_dict(orient="records")]
            meta = {
                "baseline": comparison.baseline,
                "variants": comparison.names[1:],
                "replications": comparison.replications,
                "seed": comparison.seed,
                "paired": not comparison.independent,
                "level": comparison.level,
                "checkpoints": [m for m, _ in comparison.checkpoints],
                "discount_rate": comparison.discount_rate,
                "practical": comparison.practical,
                "decision": [json_ready(d) for d in verdict(comparison)],
                "rows": rows,
            }
            sys.stdout.write(json.dumps(meta, indent=1) + "\n")
    if out is not None:
        try:
            comparison.save(out, force)
        except ScenarioError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{out}: cannot write report ({exc.strerror or exc})")
        typer.echo(f"wrote {out / 'report.html'} and its figures and tables", err=fmt != "table")


@app.command("survey")
def survey_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: SeedOption = 0,
    replications: Annotated[int, typer.Option("--replications", "-n", help="Runs; CIs are over them.")] = 5,
    month: Annotated[
        list[float] | None, typer.Option("--month", help="Survey month (repeatable; default: the horizon).")
    ] = None,
    window_days: Annotated[
        float, typer.Option(help="Days of the look-back window and of the follow-up after a frustration.")
    ] = SURVEY_WINDOW_DAYS,
    sets: SetOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Write survey.csv, survey.json, answers.csv, survey.png here.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, csv or json.")] = "text",
    root: RootOption = None,
    force: ForceOption = False,
) -> None:
    """Ask the simulated customers the seeds' survey questions; print stated against simulated, with CIs."""
    from loyaltysim.runs.files import check_output_folder
    from loyaltysim.survey import survey

    _headless()
    if replications < 1:
        fail(f"--replications {replications}: allowed: a whole number of at least 1 (e.g. 5)")
    if fmt not in ("text", "csv", "json"):
        fail(f"--format {fmt!r}: allowed: text, csv, json")
    try:
        if out is not None:
            check_output_folder(out, "survey", force)
        result = survey(
            scenario, seed, replications, month or None, window_days, parse_sets(sets), root, overrides_label="--set"
        )
        paths = result.save(out, force) if out is not None else []
    except ScenarioError as exc:
        if exc.file == "survey" and exc.key in ("month", "window_days"):
            fail(f"--{exc.key.replace('_', '-')} {exc.value}: allowed: {exc.allowed}")
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot write the survey ({exc.strerror or exc})")
    if fmt == "text":
        typer.echo(result.text())
    elif fmt == "csv":
        sys.stdout.write(result.to_frame().to_csv(index=False))
    else:
        sys.stdout.write(json.dumps(result.to_json(), indent=1) + "\n")
    if paths:
        typer.echo(f"wrote {', '.join(str(p) for p in paths)}", err=fmt != "text")


@app.command("sweep")
def sweep_command(
    experiment: Annotated[Path, typer.Argument(help="Experiment TOML file (see experiments/).")],
    out: Annotated[
        Path | None, typer.Option(help="Result directory [default: results/sweeps/<experiment name>].")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Local processes, one numba thread each.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786) to run on instead of --jobs.")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Run the experiment's [quick] form (small population, few points).")
    ] = False,
    progress: Annotated[
        bool | None, typer.Option("--progress/--no-progress", help="Progress bar [default: on a terminal].")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the design's size and a wall-time estimate from one probe run; write nothing."
        ),
    ] = False,
) -> None:
    """Run a parameter sweep into DIR; running it again resumes, running only what is missing."""
    from concurrent.futures.process import BrokenProcessPool

    from loyaltysim.sweeps.experiment import load_experiment
    from loyaltysim.sweeps.run import default_out, sweep

    _headless()
    if jobs < 1:
        fail(f"--jobs {jobs}: allowed: a whole number of at least 1")
    directory = out
    if dry_run:
        _dry_run(experiment, quick, jobs, scheduler)
        return
    try:
        exp = load_experiment(experiment, quick=quick)
        directory = out or Path(f"{default_out(exp)}{'-quick' if quick else ''}")
        results = sweep(exp, directory, jobs=jobs, scheduler=scheduler, progress=progress)
    except ScenarioError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo(
            f"loyaltysim: interrupted; finished runs are saved in {directory}: run the same command again to resume",
            err=True,
        )
        raise typer.Exit(130) from None
    except BrokenProcessPool:
        fail(f"a worker process died; finished runs are saved in {directory}: run the same command again to resume")
    except OSError as exc:
        fail(f"{directory}: {exc.strerror or exc}")
    info = results.info
    resumed = f", {info['resumed']:,} already done" if info["resumed"] else ""
    typer.echo(
        f"{exp.name}: {len(results.design):,} points x {exp.replications} replications = {info['tasks']:,} "
        f"runs ({info['ran']:,} run now{resumed}) in {info['seconds']:.1f} s on {info['executor']}"
    )
    series = f", series.parquet ({len(results.series):,} rows)" if results.series is not None else ""
    typer.echo(
        f"  wrote {directory / 'results.parquet'} ({len(results.frame):,} rows){series}, design.parquet, "
        f"manifest.json, experiment.toml"
    )


def _dry_run(experiment: Path, quick: bool, jobs: int, scheduler: str | None) -> None:
    """`sweep --dry-run`: the design's size, and the wall time one probe run suggests."""
    import time

    import numba

    from loyaltysim.sweeps.plan import plan
    from loyaltysim.sweeps.run import run_sweep_task

    try:
        sp = plan(experiment, quick=quick)
        probe = next(iter(sp.tasks()))
        numba.set_num_threads(1)  # as each sweep run has
        run_sweep_task(probe)  # compiles (cached after the first time)
        start = time.perf_counter()
        run_sweep_task(probe)
        seconds = time.perf_counter() - start
    except ScenarioError as exc:
        fail(str(exc))
    workers = "the cluster's worker threads" if scheduler else f"{jobs} process{'es' if jobs > 1 else ''}"
    parallel = 1 if scheduler else jobs
    exp = sp.experiment
    typer.echo(
        f"{exp.name}: {len(sp.design):,} points x {exp.replications} replications = {sp.n_tasks:,} runs "
        f"({exp.design.kind} design, {len(exp.parameters)} parameters)"
    )
    typer.echo(
        f"  one run took {seconds:.2f} s (point 0, after compiling); about {seconds * sp.n_tasks / parallel:,.0f} s "
        f"on {workers}{' (divide by their number)' if scheduler else ''}; nothing was written"
    )


@app.command("calibrate")
def calibrate_command(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file to calibrate.")],
    targets: Annotated[Path, typer.Argument(help="Targets TOML file: priors, observed KPIs, stopping rules.")],
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: results/calibrations/<targets name>].")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Local processes, one numba thread each.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (tcp://host:8786) to simulate on instead of --jobs.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the calibration in --out from its last complete generation.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress on standard error (pyabc's log lines of each generation).")
    ] = False,
    root: RootOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Start over in an --out folder that holds a calibration or other outputs.")
    ] = False,
) -> None:
    """Fit a scenario's free parameters to a firm's KPIs (ABC-SMC): posterior, calibrated.toml and report.html."""
    from loyaltysim.calibration.fit import calibrate, default_out
    from loyaltysim.calibration.targets import Targets
    from loyaltysim.runs.inputs import read_toml

    _headless()
    if jobs < 1:
        fail(f"--jobs {jobs}: allowed: a whole number of at least 1")
    if resume and force:
        fail("--resume --force: allowed: one of them (continue the calibration, or start over)")
    directory = out
    try:
        if directory is None:
            name = read_toml(targets, "targets file").get("name", Targets.model_fields["name"].default)
            directory = default_out(str(name))
        result = calibrate(
            scenario,
            targets,
            directory,
            jobs=jobs,
            scheduler=scheduler,
            resume=resume,
            force=force,
            root=root,
            verbose=not quiet,
        )
    except ScenarioError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        typer.echo(
            f"loyaltysim: interrupted; finished generations are saved in {directory}: add --resume to continue",
            err=True,
        )
        raise typer.Exit(130) from None
    except OSError as exc:
        fail(f"{directory}: {exc.strerror or exc}")
    typer.echo(result.text())
    typer.echo(f"  wrote {directory / 'report.html'}, calibrated.toml, posterior.parquet and tables in {directory}")


@app.command("analyze")
def analyze_command(
    directory: Annotated[Path, typer.Argument(help="Result directory of `loyaltysim sweep`.")],
    method: Annotated[
        str | None, typer.Option(help="sobol, morris, prcc, grid or validation [default: suits the design].")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Metric to analyse (repeatable) [default: all recorded].")
    ] = None,
    month: Annotated[float | None, typer.Option(help="Checkpoint month [default: the last].")] = None,
) -> None:
    """Sensitivity indices with confidence intervals, grid heatmaps or validation figures of a sweep."""
    from loyaltysim.sweeps.analysis import METHODS, analyze
    from loyaltysim.sweeps.results import SweepResults

    _headless()
    if method is not None and method not in METHODS:
        fail(f"--method {method!r}: allowed: {', '.join(METHODS)}")
    try:
        results = SweepResults.load(directory)
        report = analyze(results, method=method, metrics=metric, month=month)
    except ScenarioError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"{directory}: {exc}")
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        for name, table in report.tables.items():
            if name.startswith("envelope_"):  # over time: the last month here, every month in the file
                table = table[table["month"] == table["month"].max()]
                name = f"{name} (last month; every month in analysis/series)"
            typer.echo(f"{name}:")
            plain = [c for c in ("method", "metric") if c in table.columns and table[c].nunique() <= 1]
            shown = table.drop(columns=plain)
            typer.echo(shown.to_string(index=False))
            typer.echo("")
    typer.echo(f"wrote {', '.join(str(p) for p in report.files)}")


@app.command("discover")
def discover_command(
    directory: Annotated[
        Path, typer.Argument(help="Result directory of `loyaltysim sweep` (many points: lhs, sobol).")
    ],
    metric: Annotated[str, typer.Option(help="Recorded metric whose high (or low) values to explain.")],
    threshold: Annotated[float, typer.Option(help="Points whose mean metric is above it are of interest.")],
    below: Annotated[bool, typer.Option("--below", help="Points below the threshold are of interest instead.")] = False,
    month: Annotated[float | None, typer.Option(help="Checkpoint month [default: the last].")] = None,
    density: Annotated[float, typer.Option(help="Choose the box of largest coverage at least this dense (0-1).")] = 0.8,
    boxes: Annotated[int, typer.Option(min=1, max=10, help="Boxes to look for, each on the points left.")] = 1,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for tables and figures [default: DIR/analysis/discover/METRIC-above-T_month-M]."),
    ] = None,
) -> None:
    """Scenario discovery: PRIM boxes of the parameters where a metric passes a threshold, and feature scores."""
    from loyaltysim.sweeps.discovery import default_folder, discover
    from loyaltysim.sweeps.results import SweepResults

    _headless()
    if not 0 < density <= 1:
        fail(f"--density {density:g}: allowed: a share above 0 and at most 1, e.g. 0.8")
    try:
        results = SweepResults.load(directory)
        found = discover(results, metric, threshold, below=below, month=month, density=density, boxes=boxes)
        folder = out or default_folder(results, found)
        written = found.save(folder)
    except ScenarioError as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(f"{directory}: {exc}")
    except OSError as exc:
        fail(f"{out or directory}: {exc.strerror or exc}")
    typer.echo(found.text())
    typer.echo(f"wrote {', '.join(p.name for p in written)} in {folder}")


@app.command()
def teach(
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind; 0.0.0.0 lets a whole classroom connect.")] = "127.0.0.1",
    lang: Annotated[str, typer.Option(help="Starting language of the page: es or en.")] = "es",
    lesson: Annotated[str, typer.Option(help="Starting lesson (see docs/teaching.md).")] = "pyramid",
    export: Annotated[
        Path | None,
        typer.Option(help="Instead of serving, run the lesson and write a slide (.png) or animation (.gif) here."),
    ] = None,
    steps: Annotated[
        int | None, typer.Option(min=0, help="Steps to run before --export [default: the lesson's year].")
    ] = None,
) -> None:
    """Start the interactive CX Spectrum classroom in the browser (or export a lesson run with --export)."""
    from loyaltysim.teach.lessons import LESSON_IDS
    from loyaltysim.teach.translations import LANGUAGES

    _headless()
    if lang not in LANGUAGES:
        fail(f"--lang {lang!r}: allowed: {', '.join(LANGUAGES)}")
    if lesson not in LESSON_IDS:
        fail(f"--lesson {lesson!r}: allowed: {', '.join(LESSON_IDS)}")
    if export is not None:
        from loyaltysim.teach.classroom import Classroom
        from loyaltysim.teach.export import save_export

        room = Classroom(lesson)
        room.run(room.horizon if steps is None else steps)
        try:
            path = save_export(room, export, lang, every=max(1, room.steps // 40))
        except ValueError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{export}: cannot write ({exc.strerror or exc})")
        typer.echo(f"wrote {path} ({lesson}, {room.steps} steps)")
        return
    from loyaltysim.teach.server import configure, serve

    problem = configure(lang, lesson)
    if problem:
        fail(problem)
    if port == 0:
        import socket

        with socket.socket() as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
    typer.echo(f"loyaltysim teach: open http://{host}:{port}/ in a browser (Ctrl+C stops)", err=False)
    serve(host=host, port=port)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
