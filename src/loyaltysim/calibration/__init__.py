"""Calibration: fit a scenario to a firm's own KPIs (ABC-SMC with pyabc), and carry the posterior into decisions.

- `targets`: the targets file (free parameters with priors, observed KPIs with their uncertainty, stopping rules);
- `kpis`: every KPI a target may name, and how it is measured from one run;
- `simulate`: one simulation at a parameter set, every target measured (`Simulator`, what the sampler calls);
- `fit`: `calibrate`, the ABC-SMC run (pyabc), resumable from its SQLite history, local or on Dask;
- `result`: `Calibration` (posterior, fit, generations, the calibrated scenario), `load_calibration`;
- `figures`, `report`: the figures and the self-contained ``report.html``.

It sits above the survey, in the layer of the classroom: it may import the survey, runs, engine, scenario and
errors, and nothing above them; comparisons read its posterior through `loyaltysim.runs.posterior`. pyabc is an
optional extra (``pip install 'loyaltysim[calibrate]'``); `load_calibration` and the posterior's use in
``compare --posterior`` (`loyaltysim.runs.posterior`) do not need it.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loyaltysim.calibration.fit import calibrate
    from loyaltysim.calibration.kpis import KPIS
    from loyaltysim.calibration.result import Calibration, load_calibration
    from loyaltysim.calibration.targets import Targets, load_targets

__all__ = ["KPIS", "Calibration", "Targets", "calibrate", "load_calibration", "load_targets"]

_HOMES = {
    "calibrate": "fit",
    "KPIS": "kpis",
    "Calibration": "result",
    "load_calibration": "result",
    "Targets": "targets",
    "load_targets": "targets",
}


def __getattr__(name: str) -> Any:
    """Import the public names when first used (reading a targets file loads neither numba nor Mesa)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'loyaltysim.calibration' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"loyaltysim.calibration.{_HOMES[name]}"), name)
