"""loyaltysim: customer loyalty dynamics through the CX Spectrum, agent-based and fast.

The data flow, one package a step: a scenario file becomes a validated `Scenario` (`loyaltysim.scenario`,
`load_scenario`); a scenario and a seed become a run of `LoyaltyModel` (`loyaltysim.engine`); a run yields
`Results` (`loyaltysim.runs`, `simulate`); many runs become a `Comparison` (`loyaltysim.comparisons`, `compare`) or a
sweep (`loyaltysim.sweeps`, `sweep` and `SweepResults`); the classroom (`loyaltysim.teach`) and the command line
(`loyaltysim.cli`) sit on top. Imports point down that list only (``docs/architecture.md``).

Names are imported on first use, so ``import loyaltysim`` is quick and loads neither numba nor Mesa (worker
processes can set numba's thread count before numba loads).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loyaltysim._version import __version__ as __version__
from loyaltysim.errors import InputError, InputWarning, ScenarioError
from loyaltysim.scenario import STAGES, Scenario, load_scenario

if TYPE_CHECKING:
    from loyaltysim.comparisons.comparison import Comparison
    from loyaltysim.comparisons.run import compare
    from loyaltysim.engine.model import LoyaltyModel
    from loyaltysim.runs.results import Results
    from loyaltysim.runs.simulate import simulate
    from loyaltysim.sweeps.results import SweepResults
    from loyaltysim.sweeps.run import sweep

__all__ = [
    "STAGES",
    "Comparison",
    "InputError",
    "InputWarning",
    "LoyaltyModel",
    "Results",
    "Scenario",
    "ScenarioError",
    "SweepResults",
    "compare",
    "load_scenario",
    "simulate",
    "sweep",
]

_LAZY = {
    "LoyaltyModel": "loyaltysim.engine.model",
    "Results": "loyaltysim.runs.results",
    "simulate": "loyaltysim.runs.simulate",
    "Comparison": "loyaltysim.comparisons.comparison",
    "compare": "loyaltysim.comparisons.run",
    "SweepResults": "loyaltysim.sweeps.results",
    "sweep": "loyaltysim.sweeps.run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'loyaltysim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
