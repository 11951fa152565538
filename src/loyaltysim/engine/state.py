"""The per-customer state: structure-of-arrays, one entry per person (index = customer id), and its chunks.

Plain numpy; the kernels (`loyaltysim.engine.kernels`, `loyaltysim.engine.listen`) write it in place and the
readable agents read and write it one customer at a time.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["TALLY_CHUNK", "CustomerState", "n_chunks", "new_state", "state_bytes"]

TALLY_CHUNK = 16384
"""Customers per tally chunk: partial sums are fixed per chunk, so totals do not depend on threads."""


class CustomerState(NamedTuple):
    """Structure-of-arrays state of every person in the market (index = customer id)."""

    stage: np.ndarray  # int8: a stage code of `loyaltysim.engine.layout`
    persona: np.ndarray  # int8
    flags: np.ndarray  # uint8: the flag bits of `loyaltysim.engine.layout`
    loyalty: np.ndarray  # float32 in [0, 1]
    expectation: np.ndarray  # float32 in [0, 1], (people, touchpoints): what each person expects of each touchpoint
    # (person-major: a person's expectations share a cache line, whichever touchpoint they use or hear about)
    frustration: np.ndarray  # float32: remembered frustrating experiences at the end of the step
    exposure: np.ndarray  # float32: remembered frustration, averaged over the step (what churn responds to)
    base_hazard: np.ndarray  # float32: -log(1 - theta), theta ~ Beta(a, b) of the persona
    influence: np.ndarray  # float32: share of neighbours who are customers
    heard: np.ndarray  # float32: net word of mouth heard this step, per neighbour
    told_positive: np.ndarray  # uint8: good experiences told this step
    told_negative: np.ndarray  # uint8: bad experiences told this step
    neighbourhood: np.ndarray  # int64, packed by `listen`: customers among the neighbours (bits 0-20, kept from
    # step to step) and positive (bits 21-41) and negative (bits 42-62) messages heard this step (zero between calls)


def state_bytes(touchpoints: int) -> int:
    """Bytes of state per person with ``touchpoints`` touchpoints."""
    return 37 + 4 * touchpoints


def new_state(n: int, touchpoints: int = 1) -> CustomerState:
    """Allocate the state of ``n`` people (`state_bytes` each)."""
    i1, f4 = np.int8, np.float32
    return CustomerState(
        stage=np.zeros(n, i1),
        persona=np.zeros(n, i1),
        flags=np.zeros(n, np.uint8),
        loyalty=np.zeros(n, f4),
        expectation=np.zeros((n, touchpoints), f4),
        frustration=np.zeros(n, f4),
        exposure=np.zeros(n, f4),
        base_hazard=np.zeros(n, f4),
        influence=np.zeros(n, f4),
        heard=np.zeros(n, f4),
        told_positive=np.zeros(n, np.uint8),
        told_negative=np.zeros(n, np.uint8),
        neighbourhood=np.zeros(n, np.int64),
    )


@njit(cache=True)
def n_chunks(n: int) -> int:
    """Number of tally chunks of ``n`` people."""
    return (n + TALLY_CHUNK - 1) // TALLY_CHUNK
