"""Calling compiled kernels cheaply from Python, for the many small steps of small runs.

Each call of a ``@njit`` function from Python works out the numba type of every argument to choose the compiled
version; for the rule parameters (a named tuple of some 75 fields) and the state that takes about 15 microseconds,
three times a step. A model calls each kernel with arguments of the same types at every step, so `Kernel` resolves
the compiled version once, at its first call, and then calls it directly. Results are the same compiled code's.

A parallel kernel run on one thread still pays for its parallel loops (starting the thread pool's work, and code
compiled for it): about 3 microseconds a loop and, at 10,000 customers, some 8 % of the kernel
(`benchmarks/run.py`'s ``small_runs``). `serial_twin` compiles the same function without parallel loops, and a
`Kernel` given one calls it whenever numba runs on one thread: small populations (`engine.threads.step_threads`),
sweeps and calibrations. The twins of the phase kernels are declared in `loyaltysim.engine.twins`. The kernels'
parts and sums do not depend on threads, so the results are the same.
"""

from __future__ import annotations

import types
from typing import Any

import numba

__all__ = ["SERIAL_SUFFIX", "Kernel", "serial_twin"]

SERIAL_SUFFIX = "_serial"
"""Added to a kernel's name for its serial twin: the twin is cached in its own file, not over the parallel one's."""


def serial_twin(dispatcher: Any, **calls: Any) -> Any:
    """The function behind a parallel ``@njit`` kernel, compiled (and cached) without parallel loops.

    ``prange`` runs as ``range``; every other compile option is the kernel's, and helper functions are the same,
    except the kernels named in ``calls``, which the twin calls instead.

    Parameters
    ----------
    dispatcher
        A kernel compiled by ``numba.njit(parallel=True, cache=True)``.
    **calls
        Names the kernel calls, mapped to what the twin calls instead: the serial twins of the parallel kernels it
        calls (``_movers=movers_serial``). With them, the twin sees its module's names as they are when it is made
        (a copy), so make it after everything it calls; without them, the module's names themselves.

    Returns
    -------
    numba dispatcher
        The twin, compiled at its first call and cached as ``<name>_serial`` (numba's cache names a file by the
        function's qualified name and does not tell compile options apart, so the twin may not share the kernel's
        name; make one twin per kernel). Without numba compilation (``NUMBA_DISABLE_JIT``) the function itself.
    """
    py_func = getattr(dispatcher, "py_func", None)
    if py_func is None:
        return dispatcher
    names = {**py_func.__globals__, **calls} if calls else py_func.__globals__
    twin = types.FunctionType(
        py_func.__code__, names, py_func.__name__ + SERIAL_SUFFIX, py_func.__defaults__, py_func.__closure__
    )
    twin.__qualname__ = py_func.__qualname__ + SERIAL_SUFFIX
    twin.__doc__ = py_func.__doc__
    twin.__annotations__ = dict(py_func.__annotations__)
    options = {k: v for k, v in getattr(dispatcher, "targetoptions", {}).items() if k not in ("parallel", "nopython")}
    return numba.njit(cache=True, **options)(twin)


class _Resolved:
    """One compiled kernel called through numba's dispatcher once, then through the version that call chose."""

    __slots__ = ("direct", "dispatcher")

    def __init__(self, dispatcher: Any) -> None:
        self.dispatcher = dispatcher
        self.direct = None

    def __call__(self, *args: Any) -> Any:
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


class Kernel:
    """A compiled kernel called without numba's type dispatch after its first call; its serial twin on one thread.

    Use one `Kernel` per model and kernel: the argument types of the first call are taken to hold for every later
    call (true of a model's state, plan and parameters). If numba does not expose the compiled version (an internal
    of the dispatcher that may change), every call goes through the dispatcher, as without this class. ``serial``
    (`serial_twin` of the kernel, or a kernel that calls such twins) runs instead when numba has one thread.
    """

    __slots__ = ("_parallel", "_serial")

    def __init__(self, dispatcher: Any, serial: Any = None) -> None:
        self._parallel = _Resolved(dispatcher)
        self._serial = _Resolved(serial) if serial is not None else None

    @property
    def dispatcher(self) -> Any:
        """The (parallel) kernel's dispatcher."""
        return self._parallel.dispatcher

    @property
    def direct(self) -> Any:
        """What a call on several threads runs: the resolved compiled version (None before the first call)."""
        return self._parallel.direct

    @property
    def resolved(self) -> tuple[Any, Any]:
        """What calls run now, (on several threads, on one thread): compiled versions, or None before a first call."""
        serial = self._serial.direct if self._serial is not None else self._parallel.direct
        return self._parallel.direct, serial

    def __call__(self, *args: Any) -> Any:
        """Run the kernel on ``args``: the serial twin on one thread, if there is one."""
        if self._serial is not None and numba.get_num_threads() == 1:
            return self._serial(*args)
        return self._parallel(*args)
