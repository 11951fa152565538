"""Settings of the teaching server read from the environment, each checked with a one-line error."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from loyaltysim.errors import InputError

__all__ = ["DEFAULT_KEEP_SECONDS", "keep_seconds"]

DEFAULT_KEEP_SECONDS = 30 * 60.0
"""How long a browser's run is kept after its last use, unless ``LOYALTYSIM_TEACH_KEEP_SECONDS`` says otherwise."""


def keep_seconds(environ: Mapping[str, str] = os.environ) -> float:
    """``LOYALTYSIM_TEACH_KEEP_SECONDS`` (seconds above 0), else `DEFAULT_KEEP_SECONDS`; a bad value: `InputError`."""
    raw = environ.get("LOYALTYSIM_TEACH_KEEP_SECONDS")
    if raw is None:
        return DEFAULT_KEEP_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise InputError("environment", "LOYALTYSIM_TEACH_KEEP_SECONDS", repr(raw), "a number of seconds above 0")
    return value
