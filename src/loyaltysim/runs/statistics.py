"""Confidence intervals over replications: Student t for means and paired differences, Welch for independent ones."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["LEVEL", "t_interval", "welch_interval"]

LEVEL = 0.95
"""Default confidence level."""


def _quantile(df: np.ndarray | float, level: float) -> np.ndarray:
    return stats.t.ppf(0.5 + level / 2, df)


def t_interval(x: np.ndarray, level: float = LEVEL, axis: int = -1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and Student-t confidence interval of the mean along ``axis``.

    Parameters
    ----------
    x
        Samples (replications along ``axis``); NaN anywhere in a slice makes that slice's result NaN.
    level
        Confidence level, e.g. 0.95.
    axis
        Axis of the replications.

    Returns
    -------
    mean, low, high : numpy.ndarray
        With ``axis`` removed; low and high are NaN with fewer than two samples.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan.copy()
    half = _quantile(n - 1, level) * x.std(axis=axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def welch_interval(
    x: np.ndarray, y: np.ndarray, level: float = LEVEL, axis: int = -1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference of means ``x - y`` of two independent samples with Welch's confidence interval.

    Returns
    -------
    diff, low, high : numpy.ndarray
        With ``axis`` removed; when both variances are zero the interval is the point itself.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    nx, ny = x.shape[axis], y.shape[axis]
    diff = x.mean(axis=axis) - y.mean(axis=axis)
    if nx < 2 or ny < 2:
        nan = np.full_like(diff, np.nan)
        return diff, nan, nan.copy()
    vx, vy = x.var(axis=axis, ddof=1) / nx, y.var(axis=axis, ddof=1) / ny
    se2 = vx + vy
    with np.errstate(invalid="ignore", divide="ignore"):
        df = se2**2 / (vx**2 / (nx - 1) + vy**2 / (ny - 1))
    df = np.where(se2 > 0, df, nx + ny - 2)
    half = _quantile(df, level) * np.sqrt(se2)
    return diff, diff - half, diff + half
