"""loyaltysim: customer loyalty dynamics through the CX Spectrum, agent-based and fast.

The data flow: a scenario file becomes a validated `Scenario` (`load_scenario`); a scenario and a seed become a
run of `LoyaltyModel` (`simulate`); a run yields `Results`; many runs become a `Comparison` (`compare`).

Names are imported on first use, so ``import loyaltysim`` is quick and loads neither numba nor Mesa (worker
processes can set numba's thread count before numba loads).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loyaltysim.errors import ScenarioError
from loyaltysim.scenario import STAGES, Scenario, load_scenario

if TYPE_CHECKING:
    from loyaltysim.model import LoyaltyModel
    from loyaltysim.results import Results
    from loyaltysim.simulation import simulate

__all__ = ["STAGES", "LoyaltyModel", "Results", "Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"

_LAZY = {"LoyaltyModel": "loyaltysim.model", "Results": "loyaltysim.results", "simulate": "loyaltysim.simulation"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loyaltysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
