"""loyaltysim: customer loyalty dynamics through the CX Spectrum, agent-based and fast.

The data flow: a scenario file becomes a validated `Scenario` (`load_scenario`); a scenario and a seed become a
run of `LoyaltyModel` (`simulate`); a run yields `Results`.
"""

from loyaltysim.errors import ScenarioError
from loyaltysim.model import LoyaltyModel
from loyaltysim.results import Results
from loyaltysim.scenario import STAGES, Scenario, load_scenario
from loyaltysim.simulation import simulate

__all__ = ["STAGES", "LoyaltyModel", "Results", "Scenario", "ScenarioError", "load_scenario", "simulate"]
__version__ = "0.1.0"
