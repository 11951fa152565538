"""Serial twins of the phase kernels: the same functions compiled without parallel loops, for steps on one thread.

A model's `loyaltysim.engine.calls.Kernel` runs a twin whenever numba has one thread (small populations, sweeps,
calibration runs), where a parallel kernel would still start its parallel loops and run code compiled for them
(`loyaltysim.engine.calls.serial_twin`). The twins of `listen` and of its push call the twins of the parallel
kernels they call. Declared here, once, so that the kernel modules import only numpy, numba and the engine's
bottom; imports only those kernel modules and `loyaltysim.engine.calls`.
"""

from __future__ import annotations

from loyaltysim.engine import kernels, listen
from loyaltysim.engine.calls import serial_twin

__all__ = ["hear_serial", "interact_serial", "listen_serial", "movers_serial", "settle_serial", "spread_serial"]

interact_serial = serial_twin(kernels.interact)
"""`loyaltysim.engine.kernels.interact` without parallel loops."""
settle_serial = serial_twin(kernels.settle)
"""`loyaltysim.engine.kernels.settle` without parallel loops."""
movers_serial = serial_twin(listen._movers)
"""Who pushes word of mouth this step (`loyaltysim.engine.listen`'s ``_movers``) without parallel loops."""
spread_serial = serial_twin(listen._spread, _movers=movers_serial)
"""The word-of-mouth push (``listen._spread``) without parallel loops, calling `movers_serial`."""
hear_serial = serial_twin(listen._hear)
"""The hear pass (``listen._hear``) without parallel loops."""
listen_serial = serial_twin(listen.listen, _spread=spread_serial, _hear=hear_serial)
"""`loyaltysim.engine.listen.listen` without parallel loops, calling `spread_serial` and `hear_serial`."""
