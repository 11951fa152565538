"""Scaling curve of the kernel engine from a benchmark JSON file (``benchmarks/run.py``).

    .venv/bin/python benchmarks/plot.py [RESULTS.json] [--out docs/scaling.png]

Customer-steps per second of the full model against population size, one line per thread count, with the
readable path and the memory-bandwidth bound as reference lines.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def plot(res: dict, ax=None):
    """Draw the scaling curve on ``ax`` (a new figure if None) and return the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    rows = res["throughput"]
    for th in sorted({r["threads"] for r in rows}):
        pts = sorted((r["n"], r["customer_steps_per_s"]) for r in rows if r["threads"] == th)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"kernel, {th} thread{'s' if th > 1 else ''}")
    rd = res["readable"]["readable"]
    ax.plot([rd["n"]], [rd["customer_steps_per_s"]], "s", color="k", label="readable Mesa agents")
    for key, lim in res.get("limits", {}).items():
        ax.axhline(lim["bandwidth_bound_customer_steps_per_s"], ls=":", lw=1, color="grey")
        ax.annotate(
            f"bandwidth bound, {key.split('_')[0]} thr",
            (rows[0]["n"], lim["bandwidth_bound_customer_steps_per_s"]),
            fontsize=7,
            color="grey",
            va="bottom",
        )
    ax.axhline(50e6, ls="--", lw=1, color="tab:red")
    ax.annotate("target at 1M, 2 threads", (rows[0]["n"], 50e6), fontsize=7, color="tab:red", va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("customers")
    ax.set_ylabel("customer-steps per second")
    m = res["machine"]
    ax.set_title(f"loyaltysim full model, degree {res['mean_degree']}: {m['cores']} cores, {m['date']}", fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    return ax


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path, nargs="?", default=ROOT / "benchmarks" / "results" / "latest.json")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "scaling.png")
    args = ap.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    ax = plot(json.loads(args.results.read_text()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    ax.figure.savefig(args.out, dpi=120, bbox_inches="tight")
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
