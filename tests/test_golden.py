"""Restructuring changes no number: time series, a comparison and a sweep equal the recorded golden files bit for bit.

The files in ``tests/golden`` were recorded (``python tests/golden/record.py``) before the restructuring of issue 9,
and recorded again only where a commit meant to change numbers (the NPS response model of issue 10: only ``nps``
changed, ``promoters`` and ``detractors`` were added).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numba
import pandas as pd
import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(GOLDEN))

import record  # noqa: E402

from loyaltysim import STAGES  # noqa: E402

RENAMED = {f"stage_{s}": s for s in STAGES}
"""The one vocabulary of metrics names a stage metric after its output column: ``needs``, no longer
``stage_needs``. Names only: every number stays."""


def golden(name: str) -> pd.DataFrame:
    df = pd.read_parquet(GOLDEN / name)
    if "metric" in df.columns:
        df["metric"] = df["metric"].replace(RENAMED)
    return df.rename(columns=RENAMED)


@pytest.mark.parametrize("threads", [1, 2])
def test_timeseries_of_shipped_scenarios_are_unchanged(threads):
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    expected = golden(f"timeseries-{threads}-threads.parquet")
    pd.testing.assert_frame_equal(record.timeseries(threads), expected, check_exact=True)


def test_comparison_is_unchanged():
    table, replicates = record.comparison()
    pd.testing.assert_frame_equal(table, golden("comparison.parquet"), check_exact=True)
    pd.testing.assert_frame_equal(replicates, golden("replicates.parquet"), check_exact=True)


def test_sweep_is_unchanged():
    with tempfile.TemporaryDirectory() as tmp:
        frame = record.sweep_results(Path(tmp))
    pd.testing.assert_frame_equal(frame, golden("sweep.parquet"), check_exact=True)


def test_money_sums_are_fused_in_index_order_whatever_blas_does():
    """Costs over touchpoints do not go through BLAS, whose kernel (and last bit) depends on processor and version."""
    import math
    from fractions import Fraction

    import numpy as np

    from loyaltysim.engine import outputs

    rng = np.random.default_rng(4)
    for _ in range(200):
        a, b = rng.integers(0, 500, 6).astype(float), np.round(rng.uniform(0, 5, 6), 2)
        want = 0.0
        for x, y in zip(a, b, strict=True):
            want = float(Fraction(x) * Fraction(y) + Fraction(want))  # one rounding a term
        assert outputs._dot(a, b) == want
        x, y, z = rng.normal(size=3)
        assert outputs._fma_exact(x, y, z) == (math.fma(x, y, z) if hasattr(math, "fma") else outputs._fma(x, y, z))
