"""The ``loyaltysim`` command line.

Every command turns a bad input into one line on stderr (file, key, value, what is allowed) and exit code 2.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from loyaltysim.errors import ScenarioError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Simulate customer loyalty through the CX Spectrum.")

SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE",
    help="Change one scenario value by dotted key, e.g. --set touchpoints.phone.effort=0.3 (repeatable).")]
SeedOption = Annotated[int, typer.Option("--seed", min=0, help="Seed of population, network and draws.")]


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
            fail(f"--set {item!r}: expected KEY=VALUE, e.g. --set touchpoints.phone.effort=0.3")
        out[key.strip()] = value.strip()
    return out


def _headless() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    seed: SeedOption = 0,
    sets: SetOption = None,
    engine: Annotated[str, typer.Option(help="kernel (compiled, parallel) or reference (readable Mesa agents).")]
    = "kernel",
    out: Annotated[Path | None, typer.Option(help="Output directory [default: results/<scenario name>].")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="numba threads [default: all cores].")] = None,
) -> None:
    """Run one scenario and write timeseries.parquet, timeseries.csv and timeseries.png."""
    from loyaltysim.model import ENGINES
    from loyaltysim.scenario import load_scenario
    from loyaltysim.simulation import simulate

    _headless()
    if engine not in ENGINES:
        fail(f"--engine {engine!r}: allowed: {', '.join(ENGINES)}")
    try:
        spec = load_scenario(scenario, parse_sets(sets))
        results = simulate(spec, seed=seed, engine=engine, n_threads=threads)
    except ScenarioError as exc:
        fail(str(exc))
    directory = out or Path("results") / spec.name
    try:
        paths = results.save(directory)
    except OSError as exc:
        fail(f"{directory}: cannot write results ({exc.strerror or exc})")
    s = results.summary()
    typer.echo(f"{spec.name}: {spec.population.size:,} people, {spec.n_steps} steps of {spec.time.step_days:g} days, "
               f"seed {seed}, engine {engine}")
    typer.echo(f"  customers      {s.customers_start:>12,} -> {s.customers_end:,}  "
               f"(retention of starting base {s.retention_of_start_base_pct:.1f} %)")
    typer.echo(f"  won / lost     {s.new_customers:>12,} / {s.churned_customers:,}")
    typer.echo(f"  revenue        {s.revenue:>12,.0f}   profit {s.profit:,.0f}")
    typer.echo(f"  NPS at end     {s.nps_end:>12.1f}   mean CES {s.ces_mean:.2f} (1-7)")
    typer.echo(f"  word of mouth  {s.wom_positive:>12,} positive / {s.wom_negative:,} negative")
    typer.echo(f"  wrote {', '.join(str(p) for p in paths)}")


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editor validation)."""
    from loyaltysim.scenario import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
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
        lines.append(f"| `{row['key']}` | {_fmt(row['default'])} | {rng} | {row['unit']} | {row['meaning']} | "
                     f"{row['source']} |")
    return "\n".join(lines)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
