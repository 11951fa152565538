"""Input files other than scenarios (experiments, calibration targets): read TOML, validate with one-line errors.

`read_toml` reads a bounded regular file and parses it; `validate_model` validates a dict with a pydantic model and
turns the first problem into an `InputError` naming the file, the dotted key, the value and what is allowed (a
typo'd key gets a suggestion; a rule across keys names its key first, as ``key.path: message``).
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from loyaltysim.errors import InputError, first_error, read_input

__all__ = ["read_toml", "short", "toml_key", "toml_text", "toml_value", "validate_model"]

MAX_BYTES = 1_000_000
"""Largest input file read (bytes)."""


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """The parsed TOML file at ``path``; an `InputError` for a missing, unreadable or invalid one."""
    label = str(path)
    raw = read_input(Path(path), MAX_BYTES, label, what=what)
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(label, None, None, "cannot read file: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(label, None, None, f"not valid TOML: {exc}") from None


def short(value: Any) -> str:
    """``repr(value)``, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate_model[M: BaseModel](model: type[M], data: Mapping[str, Any], label: str, prefix: str = "") -> M:
    """``model`` validated from ``data``; the first problem as a one-line `InputError` about file ``label``."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        err = first_error(exc)
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union"))]
        loc = [p for p in loc if p not in ("bool", "int", "float", "str", "list[float]")]  # union branches
        key = prefix + ".".join(loc) if loc else None
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            allowed = _allowed(model, loc[:-1])
            hint = difflib.get_close_matches(loc[-1], allowed, n=1)
            more = f"; did you mean '{hint[0]}'?" if hint else ""
            raise InputError(
                label, key, short(value), f"unknown key; allowed here: {', '.join(allowed)}{more}"
            ) from None
        if err["type"] == "missing":
            raise InputError(label, key, None, "this key is required") from None
        msg = err["msg"].removeprefix("Value error, ")
        named = re.match(r"^([A-Za-z_][\w.\"-]*): (.+)$", msg) if not loc else None
        if named:  # a rule across keys names its key first
            key, msg, value = prefix + named[1], named[2], None
        shown = short(value) if key and value is not None else None
        raise InputError(label, key, shown, msg[0].lower() + msg[1:]) from None


def _allowed(model: type[BaseModel], loc: list[str]) -> list[str]:
    for part in loc:
        f = model.model_fields.get(part)
        if f is None:
            continue  # a name of the user's (a parameter, a target)
        sub = next(
            (
                a
                for a in (f.annotation, *getattr(f.annotation, "__args__", ()))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
        if sub is None:
            for arg in getattr(f.annotation, "__args__", ()):
                sub = next(
                    (a for a in getattr(arg, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)), sub
                )
        if sub is None:
            return []
        model = sub
    return [k for k in model.model_fields if k != "source"]


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A dotted key for TOML: each part bare where it can be, quoted where not (``parameters."a.b"``)."""
    return ".".join(p if _BARE.match(p) else json.dumps(p) for p in key.split("."))


def toml_value(value: Any, digits: int | None = None) -> str:
    """A number, boolean, string or list as TOML; floats exact, or to ``digits`` significant digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if digits is None else f"{value:.{digits}g}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v, digits) for v in value) + "]"
    return json.dumps(str(value))


def toml_text(data: Mapping[str, Any]) -> str:
    """Nested dicts of values as TOML text: top-level values, then one ``[table]`` per dict of values."""
    lines: list[str] = []

    def table(path: list[str], body: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in body.items() if not isinstance(v, Mapping)}
        if path and (scalars or not body):
            lines.append(f"\n[{'.'.join(toml_key(p) if '.' not in p else json.dumps(p) for p in path)}]")
        lines.extend(
            f"{json.dumps(k) if '.' in k or not _BARE.match(k) else k} = {toml_value(v)}" for k, v in scalars.items()
        )
        for k, v in body.items():
            if isinstance(v, Mapping):
                table([*path, k], v)

    table([], data)
    return "\n".join(lines).lstrip() + "\n"
