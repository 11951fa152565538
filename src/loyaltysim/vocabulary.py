"""The model's fixed vocabulary, below everything: the stages of the CX Spectrum and the month rates are stated in.

Imports nothing, so the compiled kernels can use it without loading the scenario declarations (pydantic).
"""

from __future__ import annotations

__all__ = ["CUSTOMER_STAGES", "MONTH_DAYS", "PROSPECT_STAGES", "STAGES"]

MONTH_DAYS = 365.25 / 12
"""Length of the month in which every rate is stated, in days."""

STAGES = ("needs", "expectations", "desires", "preferences", "personalization", "empathy")
"""The six stages of the CX Spectrum (seed 000), shallowest first; the engine's stage codes follow this order."""

PROSPECT_STAGES = STAGES[: STAGES.index("desires")]
"""The stages of prospects (needs, expectations): the pre-purchase journey."""
CUSTOMER_STAGES = STAGES[STAGES.index("desires") :]
"""The stages of customers (the purchase happens at desires, seed 000): shares and spend multipliers list them."""
