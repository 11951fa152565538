"""The recovery study of docs/calibration.md: five truths, two target sets, coverage and narrowing.

    .venv/bin/python calibration/run_recovery.py [--jobs 2] [--truths 5] [--out results/recovery]

Writes docs/calibration-recovery.csv (one row per subset, truth and parameter) and docs/calibration-recovery.png,
and prints the coverage of the 90 % intervals and the mean narrowing per subset.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBSETS = {
    "retention+nps": ["retention", "nps"],
    "all": ["retention", "nps", "churn", "acquisition", "promoters", "shared_bad", "competitor_left"],
}


def main() -> None:
    """Run the study and write its table and figure."""
    from matplotlib.figure import Figure

    from loyaltysim.calibration.recovery import recovery, truths_from_priors
    from loyaltysim.calibration.targets import load_targets
    from loyaltysim.scenario import load_scenario

    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--truths", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "recovery")
    args = ap.parse_args()
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml")
    path = ROOT / "calibration" / "recovery.toml"
    targets, _ = load_targets(path, scenario)
    truths = truths_from_priors(targets, scenario, args.truths, seed=2026)
    start = time.perf_counter()
    frame = recovery(scenario, path, truths, args.out, subsets=SUBSETS, jobs=args.jobs)
    seconds = time.perf_counter() - start
    frame.to_csv(ROOT / "docs" / "calibration-recovery.csv", index=False)
    summary = frame.groupby("subset", sort=False).agg(
        coverage=("covered", "mean"), narrowing=("narrowing", "mean"), width=("width", "mean")
    )
    print(summary.to_string())
    print(f"{len(truths)} truths x {len(SUBSETS)} subsets in {seconds:.0f} s")
    keys = list(dict.fromkeys(frame["key"]))
    fig = Figure(figsize=(3.3 * len(keys), 3.4), layout="constrained")
    axes = fig.subplots(1, len(keys))
    for ax, key in zip(axes, keys, strict=True):
        for j, (label, colour) in enumerate(zip(SUBSETS, ("C1", "C0"), strict=False)):
            d = frame[(frame["key"] == key) & (frame["subset"] == label)]
            x = d["truth"] + (j - 0.5) * 0.25
            ax.errorbar(
                x,
                d["median"],
                yerr=[d["median"] - d["low"], d["high"] - d["median"]],
                fmt="o",
                ms=3,
                color=colour,
                label=label,
                capsize=2,
            )
        d = frame[(frame["key"] == key) & (frame["subset"] == "all")]
        ax.scatter(d["truth"], d["value"], marker="x", color="black", zorder=3, label="truth")
        ax.set(title=key.split(".", 1)[-1], xlabel="truth", xticks=range(len(truths)))
        ax.title.set_fontsize("small")
    axes[0].legend(fontsize="x-small")
    fig.suptitle("Recovery: 90 % posterior intervals against the truth, with few and with all targets")
    fig.savefig(ROOT / "docs" / "calibration-recovery.png", dpi=100)


if __name__ == "__main__":
    main()
