"""Optional dependencies, imported when a feature that needs one is used, with a one-line error saying how to get it."""

from __future__ import annotations

import warnings
from types import ModuleType

from loyaltysim.errors import InputError

__all__ = ["ema_workbench"]


def ema_workbench() -> ModuleType:
    """Import EMA Workbench quietly (it warns about optional back ends at import), or say how to install it.

    Raises
    ------
    InputError
        When it is not installed: ``pip install 'loyaltysim[ema]'``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench
            from ema_workbench.analysis import feature_scoring, prim  # noqa: F401
    except ImportError:
        raise InputError(
            "ema_workbench", None, None, "not installed: pip install 'loyaltysim[ema]' (EMA Workbench)"
        ) from None
    return ema_workbench
