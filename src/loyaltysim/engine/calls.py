"""Calling compiled kernels without numba's per-call type dispatch, for the many small steps of small runs.

Each call of a ``@njit`` function from Python works out the numba type of every argument to choose the compiled
version; for the rule parameters (a named tuple of some 75 fields) and the state that takes about 15 microseconds,
three times a step. A model calls each kernel with arguments of the same types at every step, so `Kernel` resolves
the compiled version once, at its first call, and then calls it directly. Results are the same compiled code's.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Kernel"]


class Kernel:
    """A compiled kernel called through numba's dispatcher once, then through the version that call chose.

    Use one `Kernel` per model and kernel: the argument types of the first call are taken to hold for every later
    call (true of a model's state, plan and parameters). If numba does not expose the compiled version (an internal
    of the dispatcher that may change), every call goes through the dispatcher, as without this class.
    """

    __slots__ = ("direct", "dispatcher")

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher
        self.direct = None

    def __call__(self, *args: Any) -> Any:
        """Run the kernel on ``args``."""
        if self.direct is not None:
            return self.direct(*args)
        out = self.dispatcher(*args)  # compiles or loads from the cache if needed, with the usual type checks
        try:
            overloads = self.dispatcher.overloads
            if len(overloads) == 1:  # the only compiled version is the one this call ran (typing args costs ~0.1 ms)
                self.direct = next(iter(overloads.values())).entry_point
            else:
                signature = tuple(self.dispatcher.typeof_pyval(a) for a in args)
                self.direct = overloads[signature].entry_point
        except (AttributeError, KeyError):  # numba internals changed: keep dispatching
            self.direct = self.dispatcher
        return out
