"""The one error type users see: a bad input, explained on one line."""

from __future__ import annotations

__all__ = ["ScenarioError", "first_error"]


class ScenarioError(ValueError):
    """A bad scenario, experiment or input file.

    The message is one line: ``FILE: KEY = VALUE: what is allowed``.

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


def first_error(exc) -> dict:
    """The pydantic error to report: a typo'd key first (it usually explains a 'missing' one), else the first."""
    errors = exc.errors(include_url=False)
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
