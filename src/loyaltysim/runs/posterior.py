"""A posterior over scenario parameters: weighted parameter sets on dotted keys, as a calibration leaves them.

`loyaltysim.calibration` writes one (``posterior.parquet`` in its output folder); `loyaltysim.comparisons` reads
it with `load_posterior` and draws one parameter set per replication (`Posterior.draws`), the same for every
compared scenario, so that a verdict's intervals cover the parameters' uncertainty as well as simulation noise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loyaltysim.errors import InputError

__all__ = ["POSTERIOR_FILE", "Posterior", "load_posterior", "moved_value", "weighted_quantile"]

_META = b"loyaltysim"
POSTERIOR_FILE = "posterior.parquet"
"""The posterior's file in a calibration's folder: one column per dotted key, and ``weight``."""


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | np.ndarray) -> np.ndarray:
    """Quantiles ``q`` of values ``x`` with weights ``w`` (the inverse of the weighted empirical CDF, midpoints)."""
    x, w = np.asarray(x, float), np.asarray(w, float)
    keep = w > 0  # a set of no weight does not stretch the range
    order = np.argsort(x[keep])
    x, w = x[keep][order], w[keep][order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, x)


class Posterior:
    """Weighted parameter sets over dotted scenario keys.

    Parameters
    ----------
    samples
        One column per dotted key, one row per parameter set.
    weights
        A weight per row (normalised here); None for equal weights.
    source
        Where it came from (a calibration folder), for messages and reports.
    fixed
        Scenario keys the calibration held fixed (its targets file's ``set``, the simulations' population size): a
        scenario compared with this posterior should share them (`check_fixed`).
    """

    def __init__(
        self,
        samples: pd.DataFrame,
        weights: np.ndarray | None = None,
        source: str = "",
        fixed: Mapping[str, Any] | None = None,
    ) -> None:
        if samples.empty or not len(samples.columns):
            raise InputError(source or "posterior", None, None, "no parameter sets: a posterior needs at least one")
        w = np.ones(len(samples)) if weights is None else np.asarray(weights, dtype=float)
        if w.shape != (len(samples),) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
            raise InputError(source or "posterior", "weight", None, "non-negative finite weights, not all zero")
        try:
            self.samples = samples.reset_index(drop=True).astype(float)
        except (TypeError, ValueError):
            raise InputError(source or "posterior", None, None, "numeric parameter columns (and weight)") from None
        self.fixed = {k: v for k, v in (fixed or {}).items() if v is not None}
        self.weights = w / w.sum()
        self.source = source

    @property
    def keys(self) -> list[str]:
        """The dotted scenario keys."""
        return list(self.samples.columns)

    @property
    def effective_size(self) -> float:
        """Kish's effective sample size, 1 / sum(w^2)."""
        return float(1.0 / np.sum(self.weights**2))

    def draws(self, n: int, seed: int) -> list[dict[str, float]]:
        """``n`` parameter sets drawn with replacement by weight, from a generator seeded with ``seed``."""
        rng = np.random.default_rng([int(seed), 0x70057])  # its own stream: not the simulation's seeds
        rows = rng.choice(len(self.samples), size=int(n), p=self.weights)
        records = self.samples.to_dict(orient="records")
        return [dict(records[i]) for i in rows]

    def quantiles(self, q: float | list[float]) -> pd.DataFrame:
        """Weighted quantiles of every key: one row per quantile, one column per key."""
        qs = np.atleast_1d(np.asarray(q, dtype=float))
        return pd.DataFrame(
            {k: weighted_quantile(self.samples[k].to_numpy(), self.weights, qs) for k in self.keys}, index=qs
        )

    def median(self) -> dict[str, float]:
        """The weighted median of every key."""
        return {k: float(v) for k, v in self.quantiles(0.5).iloc[0].items()}

    def to_frame(self) -> pd.DataFrame:
        """The parameter sets with their ``weight`` column."""
        return self.samples.assign(weight=self.weights)

    def save(self, path: str | Path) -> Path:
        """Write the parameter sets and weights as Parquet, the fixed keys in its metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        table = pa.Table.from_pandas(self.to_frame(), preserve_index=False)
        meta = {**(table.schema.metadata or {}), _META: json.dumps({"fixed": self.fixed}).encode()}
        pq.write_table(table.replace_schema_metadata(meta), path)
        return path

    def check_fixed(self, values: Mapping[str, Any], where: str) -> None:
        """Warn where ``values`` (a scenario's dotted values) differ from what the calibration held fixed."""
        from loyaltysim.errors import warn

        for key, fixed in self.fixed.items():
            if key == "population.size" or key not in values:
                continue  # the simulations' size is a numerical choice, not a property of the market
            if values[key] != fixed:
                warn(
                    f"{where}: {key} = {values[key]!r}, but the posterior in {self.source or 'use'} was fitted with "
                    f"{key} = {fixed!r}: its parameters may not carry over"
                )

    def __len__(self) -> int:
        return len(self.samples)

    def __repr__(self) -> str:
        return f"Posterior({len(self)} sets over {', '.join(self.keys)})"


def load_posterior(path: str | Path, label: str = "--posterior") -> Posterior:
    """The posterior in a calibration folder (its ``posterior.parquet``) or in a Parquet file.

    Raises
    ------
    InputError
        A missing folder or file, or one that is not a posterior (no ``weight`` column, no keys).
    """
    path = Path(path)
    file = path / POSTERIOR_FILE if path.is_dir() else path
    if not file.is_file():
        what = f"no {POSTERIOR_FILE} in this folder" if path.is_dir() else "no such file or folder"
        raise InputError(label, None, str(path), f"{what}: name the output folder of 'loyaltysim calibrate'")
    try:
        frame = pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises many kinds
        raise InputError(str(file), None, None, f"not a readable Parquet file ({type(exc).__name__})") from None
    if "weight" not in frame.columns:
        raise InputError(str(file), "weight", None, "a posterior has a weight column (written by calibrate)")
    import pyarrow.parquet as pq

    meta = pq.read_schema(file).metadata or {}
    fixed = json.loads(meta[_META]).get("fixed", {}) if _META in meta else {}
    return Posterior(frame.drop(columns="weight"), frame["weight"].to_numpy(), str(path), fixed)


def moved_value(own: float, base: float, x: float) -> float:
    """A key's value in a scenario when the baseline's value ``base`` becomes ``x``.

    ``x`` itself where the scenario shares the baseline's value ``own == base``; else the scenario's own value moved
    by the same factor (a variant that changes the key keeps its change).
    """
    return x if own == base or base == 0 else own * x / base
