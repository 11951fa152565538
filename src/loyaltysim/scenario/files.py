"""Scenario files: TOML with ``extends`` (inheritance relative to the file) and ``--set`` overrides.

`load_scenario` reads a chain of files, remembers which file set each key (so an error names the right file) and
validates the merged result with `loyaltysim.scenario.core.scenario_from_dict`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loyaltysim.errors import ScenarioError
from loyaltysim.scenario.core import Scenario, scenario_from_dict, set_dotted

__all__ = ["load_scenario"]


def _deep_merge(base: dict, over: dict, origin: dict, label: str, prefix: str = "") -> dict:
    out = dict(base)
    for key, value in over.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value, origin, label, dotted + ".")
        else:
            out[key] = value
            _mark(origin, dotted, value, label)
    return out


def _mark(origin: dict, dotted: str, value: Any, label: str) -> None:
    origin[dotted] = label
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(origin, f"{dotted}.{k}", v, label)


def _read_toml(path: Path, chain: tuple[Path, ...], origin: dict) -> dict:
    label = str(path)
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(label, "extends", str(path), f"no cycles (extends chain {cycle})")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = f"{chain[-1]}: extends" if chain else "scenario file"
        raise ScenarioError(label, None, None, f"file not found ({where})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(label, None, None, f"cannot read file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(label, None, None, f"not valid TOML: {exc}") from None
    parent = data.pop("extends", None)
    if parent is None:
        _mark(origin, "", data, label)
        origin.pop("", None)
        for key, value in data.items():
            _mark(origin, key, value, label)
        if isinstance(data.get("network"), dict) and "path" in data["network"]:
            data["network"]["path"] = str((path.parent / str(data["network"]["path"])).resolve())
        return data
    if not isinstance(parent, str):
        raise ScenarioError(label, "extends", repr(parent), "a file name (string) relative to this file")
    base = _read_toml((path.parent / parent).resolve(), (*chain, path), origin)
    if isinstance(data.get("network"), dict) and "path" in data["network"]:
        data["network"]["path"] = str((path.parent / str(data["network"]["path"])).resolve())
    return _deep_merge(base, data, origin, label)


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path
        TOML file. ``extends = "other.toml"`` (relative to the file) inherits everything the file does not set.
    overrides
        Dotted keys to change after reading, e.g. ``{"touchpoints.phone.effort": 0.3}``; strings are parsed as
        TOML values (``"0.3"``, ``"true"``, ``"[1, 2]"``).

    Raises
    ------
    ScenarioError
        With a one-line message naming the file, the key, the value and what is allowed.
    """
    path = Path(path).resolve()
    origin: dict[str, str] = {}
    data = _read_toml(path, (), origin)
    for key, value in (overrides or {}).items():
        set_dotted(data, key, value, label="--set")
        origin[key] = "--set"
    if origin.get("name") not in (str(path), "--set"):  # named after its own file, not the one it extends
        data["name"] = path.stem
    return scenario_from_dict(data, label=str(path), origin=origin, source=str(path))
