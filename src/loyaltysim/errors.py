"""What users see when an input is wrong or odd: one error type and one warning type, each a single line.

Also the safe reading of input files: only regular files, of a bounded size, inside an allowed folder, and no
error message that repeats what a file contains.
"""

from __future__ import annotations

import numbers
import os
import stat
import warnings
from pathlib import Path

__all__ = ["InputError", "InputWarning", "ScenarioError", "check_int", "first_error", "inside", "read_input", "warn"]


class InputError(ValueError):
    """A bad scenario, experiment, argument or input file.

    The message is one line: ``FILE: KEY = VALUE: what is allowed``; the command line prints it and exits with 2.

    Attributes
    ----------
    file, key, value, allowed
        The parts of the message; ``key`` and ``value`` may be None when the whole file is at fault.
    """

    def __init__(self, file: str, key: str | None, value: str | None, allowed: str) -> None:
        self.file, self.key, self.value, self.allowed = file, key, value, allowed
        where = file
        if key:
            where += f": {key}"
            if value is not None:
                where += f" = {value}"
        super().__init__(f"{where}: {' '.join(allowed.split())}")


ScenarioError = InputError
"""The name `InputError` had before it covered every input (kept: the same class)."""


class InputWarning(UserWarning):
    """An input that runs, but perhaps not as its author meant (a rounded horizon, an intervention that never starts).

    The command line prints each as one line ``loyaltysim: warning: ...`` on standard error.
    """


def warn(message: str) -> None:
    """Emit an `InputWarning` (one line)."""
    warnings.warn(InputWarning(" ".join(message.split())), stacklevel=3)


def first_error(exc) -> dict:
    """The pydantic error to report: a typo'd key first (it usually explains a 'missing' one), else the first."""
    errors = exc.errors(include_url=False)
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def check_int(value: object, name: str, minimum: int | None = None, where: str = "arguments") -> int:
    """``value`` as an int if it is a whole number (not a bool) of at least ``minimum``; else an `InputError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(where, name, repr(value), "a whole number" + (f" of at least {minimum}" if minimum else ""))
    if minimum is not None and value < minimum:
        raise InputError(where, name, repr(value), f"a whole number of at least {minimum}")
    return int(value)


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (resolved, links followed) lies in the folder tree of ``root``."""
    return Path(path).resolve().is_relative_to(Path(root).resolve())


def read_input(
    path: Path, limit: int, label: str, key: str | None = None, what: str = "file", missing: str | None = None
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked before it is opened for reading.

    Devices, FIFOs, sockets and folders are refused (so nothing blocks or grows without bound); an error never
    repeats what the file contains. ``missing`` is what to say when there is no such file (default: "WHAT not
    found").
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(label, key, None, missing or f"{what} not found") from None
    except OSError as exc:
        raise InputError(label, key, None, f"cannot read {what} ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(label, key, None, f"not a regular file (a {what} must be an ordinary file)")
    if info.st_size > limit:
        raise InputError(label, key, None, f"{what} of {info.st_size:,} bytes; at most {limit:,} are read")
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)[:limit]
    except OSError as exc:
        raise InputError(label, key, None, f"cannot read {what} ({exc.strerror})") from None
