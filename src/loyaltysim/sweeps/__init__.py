"""Sweeps: an experiment file becomes a design of parameter points, runs, and a tidy, resumable dataset.

The flow: `experiment` validates the file (`load_experiment`), with `expressions` for its derived keys; `plan`
expands its design (`designs`, SALib's samplers) into points checked against the scenario's declarations and
paired with replication seeds; `run` executes them (`sweep`) into a `store`; `results` holds them
(`SweepResults`), drawn by `figures`; `sensitivity`, `validation` and `analysis` (what ``loyaltysim analyze`` runs)
read them.

May import: `loyaltysim.runs`, `loyaltysim.engine.layout`, `loyaltysim.scenario`, `loyaltysim.errors`, SALib.
"""
