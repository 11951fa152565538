"""Settings of the teaching server read from the environment, each checked with a one-line error."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from loyaltysim.errors import InputError

__all__ = ["DEFAULT_KEEP_SECONDS", "KERNEL_CULL", "keep_seconds", "kernel_cull"]

DEFAULT_KEEP_SECONDS = 30 * 60.0
"""How long a browser's run is kept after its last use, unless ``LOYALTYSIM_TEACH_KEEP_SECONDS`` says otherwise."""


KERNEL_CULL = "2m"
"""How long Solara keeps a closed page's widgets (its default is a day), unless ``SOLARA_KERNEL_CULL_TIMEOUT`` says
otherwise; the run itself is kept longer (`keep_seconds`), so a reload still finds it."""
_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def kernel_cull(environ: Mapping[str, str] = os.environ) -> str:
    """``SOLARA_KERNEL_CULL_TIMEOUT`` (seconds, or a number with d, h, m or s, as Solara reads it), else `KERNEL_CULL`.

    A bad value is an `InputError`, raised before Solara would fail on it with a traceback.
    """
    raw = environ.get("SOLARA_KERNEL_CULL_TIMEOUT")
    if raw is None:
        return KERNEL_CULL
    if not 0 < _seconds(raw, units=True) < math.inf:
        raise InputError(
            "environment",
            "SOLARA_KERNEL_CULL_TIMEOUT",
            repr(raw),
            "a time above 0: seconds, or a number and d, h, m or s",
        )
    return raw


def keep_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """``LOYALTYSIM_TEACH_KEEP_SECONDS`` (seconds above 0), else `DEFAULT_KEEP_SECONDS`; a bad value: `InputError`."""
    raw = environ.get("LOYALTYSIM_TEACH_KEEP_SECONDS")
    if raw is None:
        return DEFAULT_KEEP_SECONDS
    value = _seconds(raw, units=False)
    if not 0 < value < math.inf:
        raise InputError("environment", "LOYALTYSIM_TEACH_KEEP_SECONDS", repr(raw), "a number of seconds above 0")
    return value


def _seconds(raw: str, units: bool) -> float:
    """``raw`` in seconds: a number (and, with ``units``, maybe d, h, m or s after it); NaN if it is not one."""
    number, unit = (raw[:-1], raw[-1]) if units and raw[-1:] in _UNITS else (raw, "s")
    try:
        return float(number) * _UNITS[unit]
    except ValueError:
        return math.nan
