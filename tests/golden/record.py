"""Golden results of issue 9's restructuring: recorded before it, compared bit for bit after it.

``python tests/golden/record.py`` rewrites the files; `tests/test_golden.py` compares the current code with them.
Only regenerate them when a change is *meant* to change numbers (and say so in the commit).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCENARIOS = ROOT / "scenarios"

SHIPPED = (  # the scenarios shipped when the golden files were recorded
    "add-empathy.toml",
    "baseline.toml",
    "cut-effort.toml",
    "personalize.toml",
    "retail/add-empathy.toml",
    "retail/baseline.toml",
    "retail/cut-effort.toml",
    "retail/personalize.toml",
    "validation/bass.toml",
    "validation/sbg.toml",
)
SIZE = {"population.size": 2000}
NETWORKS = {
    "complete": {"network.kind": "complete"},
    "barabasi_albert": {"network.kind": "barabasi_albert", "network.mean_degree": 6},
    "erdos_renyi": {"network.kind": "erdos_renyi"},
    "ring-daily": {"network.kind": "ring", "time.step_days": 1.0, "time.horizon_days": 60.0},
}
SEEDS = (0, 1, 2)

PROGRAMME = 'extends = "baseline.toml"\n[interventions.programme]\neffort = { add = 0.0 }\n'

SWEEP = """
name = "golden"
scenario = "programme.toml"
replications = 2
seed = 3
checkpoints = [0, 1, 3]
metrics = ["retention", "active", "profit", "adoption", "ces", "needs", "churned_step", "intervention_cost"]

[set]
"population.size" = 400
"time.horizon_days" = 91.0

[parameters.effort_cut]
key = "interventions.programme.effort.add"
levels = [0.0, -0.2]

[parameters.pull]
key = "competitor.visibility"
levels = [0.0, 0.05]

[derived]
"interventions.programme.cost_per_interaction" = "2 * abs(effort_cut)"
"""


def timeseries(threads: int) -> pd.DataFrame:
    """Every shipped scenario (and the baseline on other networks) at 2,000 people, three seeds."""
    import loyaltysim as ls

    cases = [(name, name, {}) for name in SHIPPED] + [
        (f"baseline.toml@{k}", "baseline.toml", v) for k, v in NETWORKS.items()
    ]
    frames = []
    for label, path, extra in cases:
        for seed in SEEDS:
            df = ls.simulate(SCENARIOS / path, seed=seed, overrides={**SIZE, **extra}, n_threads=threads).timeseries
            df.insert(0, "seed", seed)
            df.insert(0, "case", label)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def comparison() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The README's comparison, small: its table and its per-replication metrics."""
    from loyaltysim.comparisons.run import compare

    files = [SCENARIOS / f for f in ("baseline.toml", "cut-effort.toml", "add-empathy.toml", "personalize.toml")]
    c = compare(files, replications=3, seed=5, overrides=SIZE, progress=False)
    return c.to_frame(), c.replicates


def sweep_results(tmp: Path) -> pd.DataFrame:
    """A small grid sweep with a derived cost and a checkpoint at month 0."""
    from loyaltysim.sweeps.run import sweep

    (tmp / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp / "programme.toml").write_text(PROGRAMME, encoding="utf-8")  # the intervention the sweep varies
    exp = tmp / "golden.toml"
    exp.write_text(textwrap.dedent(SWEEP), encoding="utf-8")
    return sweep(exp, progress=False).frame


def main() -> int:
    import tempfile

    for threads in (1, 2):
        timeseries(threads).to_parquet(HERE / f"timeseries-{threads}-threads.parquet", index=False)
    table, replicates = comparison()
    table.to_parquet(HERE / "comparison.parquet", index=False)
    replicates.to_parquet(HERE / "replicates.parquet", index=False)
    with tempfile.TemporaryDirectory() as tmp:
        sweep_results(Path(tmp)).to_parquet(HERE / "sweep.parquet", index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
