"""Scenario files: TOML with ``extends`` (inheritance relative to the file) and ``--set`` overrides.

`load_scenario` reads a chain of files, remembers which file set each key (so an error names the right file) and
validates the merged result with `loyaltysim.scenario.core.scenario_from_dict`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loyaltysim.errors import ScenarioError, inside, read_input
from loyaltysim.scenario.core import Scenario, parse_value, scenario_from_dict

__all__ = ["SCENARIO_FILE_LIMIT", "load_scenario"]


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


SCENARIO_FILE_LIMIT = 1 << 20
"""Largest scenario file read, in bytes (1 MiB)."""


def _read_toml(path: Path, chain: tuple[Path, ...], origin: dict, root: Path) -> dict:
    label = str(path)
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(label, "extends", str(path), f"no cycles (extends chain {cycle})")
    where = f"{chain[-1]}: extends" if chain else "scenario file"
    raw = read_input(path, SCENARIO_FILE_LIMIT, label, None, "scenario file", missing=f"file not found ({where})")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError(label, None, None, "not a text file (UTF-8 TOML expected)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(label, None, None, f"not valid TOML: {exc}") from None
    parent = data.pop("extends", None)
    _resolve_network_path(data, path, root, label)
    if parent is None:
        _mark(origin, "", data, label)
        origin.pop("", None)
        for key, value in data.items():
            _mark(origin, key, value, label)
        return data
    if not isinstance(parent, str):
        raise ScenarioError(label, "extends", repr(parent), "a file name (string) relative to this file")
    target = (path.parent / parent).resolve()
    if not inside(target, root):
        raise ScenarioError(label, "extends", repr(parent), _outside(root))
    base = _read_toml(target, (*chain, path), origin, root)
    return _deep_merge(base, data, origin, label)


def _outside(root: Path) -> str:
    return f"a file inside {root} (the scenario's folder; name a wider one with --root or root=)"


def _resolve_network_path(data: dict, path: Path, root: Path, label: str) -> None:
    """Make an edge-list path absolute (relative to the file that names it) and keep it inside ``root``."""
    network = data.get("network")
    if not isinstance(network, dict) or network.get("path") is None:
        return
    if not isinstance(network["path"], str):
        raise ScenarioError(label, "network.path", repr(network["path"]), "a file name (string)")
    target = (path.parent / network["path"]).resolve()
    if not inside(target, root):
        raise ScenarioError(label, "network.path", repr(network["path"]), _outside(root))
    network["path"] = str(target)


def load_scenario(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    root: str | Path | None = None,
    label: str = "overrides",
) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    The file is validated as written first (so its own mistakes are blamed on it), then the overrides are applied
    to existing keys only.

    Parameters
    ----------
    path
        TOML file. ``extends = "other.toml"`` (relative to the file) inherits everything the file does not set.
    overrides
        Dotted keys to change after reading, e.g. ``{"touchpoints.phone_support.effort": 0.3}``; strings are parsed
        as TOML values (``"0.3"``, ``"true"``, ``"[1, 2]"``). A key the scenario does not have is an error.
    root
        The folder that ``extends`` and edge-list files must lie in (default: the folder of ``path``).
    label
        What errors call the overrides (the command line says ``--set``).

    Raises
    ------
    InputError
        With a one-line message naming the file, the key, the value and what is allowed.
    """
    path = Path(path).resolve()
    root = path.parent if root is None else Path(root).resolve()
    if not inside(path, root):
        raise ScenarioError(str(path), None, None, _outside(root))
    origin: dict[str, str] = {}
    data = _read_toml(path, (), origin, root)
    if origin.get("name") != str(path):  # named after its own file, not the one it extends
        data["name"] = path.stem
    scenario = scenario_from_dict(data, label=str(path), origin=origin, source=str(path))
    if not overrides:
        return scenario
    changes = dict(overrides)
    if isinstance(changes.get("network.path"), str):
        probe = {"network": {"path": parse_value(changes["network.path"])}}
        _resolve_network_path(probe, path, root, label)
        changes["network.path"] = probe["network"]["path"]
    return scenario.with_overrides(changes, label=label)
