"""Runs: a scenario and a seed become `Results`; many runs are seeded, executed and measured one way.

`simulate` runs one scenario; `executors` seed replications and run tasks serially, in local processes or on Dask
(`cluster`); `metrics` is the one vocabulary of metrics and how each is read at a checkpoint; `statistics` gives the
confidence intervals; `results` holds one run (`Results`), drawn by `figures`; `files` writes atomically.

May import: `loyaltysim.engine`, `loyaltysim.scenario`, `loyaltysim.errors`, numpy, pandas, scipy, matplotlib.
"""
