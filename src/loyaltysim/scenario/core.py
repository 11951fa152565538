"""The complete `Scenario`: its tables, the checks across tables, and validation of a dict with one-line errors.

`scenario_from_dict` turns the first pydantic problem into a `ScenarioError` naming the file (or ``--set``) that
set the offending key; `Scenario.with_overrides` changes dotted keys and validates again the same way.
"""

from __future__ import annotations

import difflib
import math
import tomllib
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from loyaltysim.errors import ScenarioError, first_error
from loyaltysim.scenario.declare import MONTH_DAYS, Section, clip_bounds, limits, param
from loyaltysim.scenario.journey import MAX_VISITS_PER_STEP, Intervention, Persona, Touchpoint, lever_owner
from loyaltysim.scenario.sections import (
    Behaviour,
    Churn,
    Competitor,
    Economics,
    Market,
    Network,
    Nps,
    Population,
    Stages,
    Time,
    WordOfMouth,
)

__all__ = [
    "REPLACED",
    "Scenario",
    "check_override_key",
    "dotted_values",
    "key_bounds",
    "parse_value",
    "scenario_from_dict",
    "section_type",
    "set_dotted",
]


class Scenario(Section):
    """A complete, validated scenario: everything a run needs besides the seed.

    Attributes
    ----------
    name, description
        How tables and figures call it, and what it represents.
    time, population, market, behaviour, stages, word_of_mouth, churn, competitor, nps, economics, network
        The tables of `loyaltysim.scenario.sections`.
    touchpoints, personas, interventions
        Named `Touchpoint`, `Persona` and `Intervention` tables.
    source
        The file it was read from (None when built in Python); not part of the scenario's content.
    """

    name: str = param("scenario", "Short name used in tables and figures.", unit="")
    description: str = param("", "What this scenario represents.", unit="")
    time: Time = Field(default_factory=Time)
    population: Population = Field(default_factory=Population)
    market: Market = Field(default_factory=Market)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    stages: Stages = Field(default_factory=Stages)
    word_of_mouth: WordOfMouth = Field(default_factory=WordOfMouth)
    churn: Churn = Field(default_factory=Churn)
    competitor: Competitor = Field(default_factory=Competitor)
    nps: Nps = Field(default_factory=Nps)
    economics: Economics = Field(default_factory=Economics)
    network: Network = Field(default_factory=Network)
    touchpoints: dict[str, Touchpoint] = Field(
        default_factory=lambda: {"service": Touchpoint()}, min_length=1, max_length=120
    )
    personas: dict[str, Persona] = Field(default_factory=lambda: {"customer": Persona()}, min_length=1, max_length=120)
    interventions: dict[str, Intervention] = Field(default_factory=dict)
    source: str | None = Field(None, exclude=True, description="File the scenario was read from.")

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        total = sum(p.share for p in self.personas.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"persona shares must sum to 1, got {total:g}")
        for name, iv in self.interventions.items():
            for lever, change in iv.changes().items():
                if change.set is not None:
                    lo, hi = limits(lever_owner(lever), lever)
                    if (lo is not None and change.set < lo) or (hi is not None and change.set > hi):
                        raise ValueError(
                            f"interventions.{name}.{lever}.set = {change.set:g} is outside {lever}'s range "
                            f"[{_fmt_limit(lo)}, {_fmt_limit(hi)}]"
                        )
            if iv.touchpoint != "all" and iv.touchpoint not in self.touchpoints:
                raise ValueError(
                    f"interventions.{name}.touchpoint '{iv.touchpoint}' is not a touchpoint; "
                    f"allowed: 'all', {', '.join(repr(t) for t in self.touchpoints)}"
                )
        if (
            self.network.kind != "complete"
            and self.network.kind != "edge_list"
            and self.network.mean_degree >= self.population.size
        ):
            raise ValueError(
                f"network.mean_degree ({self.network.mean_degree}) must be below population.size "
                f"({self.population.size})"
            )
        visits = sum(t.visits_per_month for t in self.touchpoints.values()) * self.months_per_step
        if visits > MAX_VISITS_PER_STEP:
            raise ValueError(
                f"touchpoints' visits_per_month add up to {visits:.0f} interactions a step; at most "
                f"{MAX_VISITS_PER_STEP} are allowed: shorten time.step_days or lower visits_per_month"
            )
        return self

    @property
    def n_steps(self) -> int:
        """Number of steps in the horizon."""
        return max(1, math.floor(self.time.horizon_days / self.time.step_days + 0.5))

    @property
    def months_per_step(self) -> float:
        """Step length in the month in which rates are stated."""
        return self.time.step_days / MONTH_DAYS

    def with_overrides(self, overrides: Mapping[str, Any], label: str = "overrides") -> Scenario:
        """Return a copy with dotted keys changed, validated like a file.

        An override changes a key the scenario has (or fills a declared optional table, such as an intervention's
        ``effort`` change); it never creates a touchpoint, persona or intervention.

        Parameters
        ----------
        overrides
            Dotted keys and values, e.g. ``{"touchpoints.phone_support.effort": 0.3}``; strings are read as TOML
            values (``"0.3"``, ``"true"``).
        label
            What errors name as the origin of the overrides (``--set`` on the command line).

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            With a one-line message naming the key, the value and what is allowed.
        """
        data = self.model_dump(exclude={"source"})
        origin: dict[str, str] = {}
        for key, value in overrides.items():
            check_override_key(data, key, value, label)
            set_dotted(data, key, value, label=label)
            origin[key] = label
        return scenario_from_dict(data, label=self.source or "<scenario>", origin=origin, source=self.source)


def _fmt_limit(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


# ---------------------------------------------------------------------------------------------------------------
# Validation with one-line errors


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as TOML (numbers, booleans, lists, quoted strings); fall back to a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def check_override_key(data: Mapping[str, Any], key: str, value: Any, label: str) -> None:
    """Refuse an override whose dotted key the scenario does not have (with a suggestion), or that names a table.

    ``data`` is the scenario's dump. Declared optional tables left unset (None) may be filled; names of touchpoints,
    personas and interventions must exist.
    """
    if not isinstance(key, str) or not key:
        raise ScenarioError(label, repr(key), None, "a dotted scenario key such as touchpoints.app.effort")
    parts = key.split(".")
    node: Any = data
    model: type[BaseModel] | None = Scenario
    named = False  # node is a table of named entries (touchpoints, personas, interventions)
    for i, part in enumerate(parts):
        here = ".".join(parts[: i + 1])
        if named:
            if part not in node:
                raise _unknown(label, here, part, list(node), f"no such name in {'.'.join(parts[:i])}")
            node, named = node[part], False
            continue
        fields = [f for f in (model.model_fields if model else {}) if f != "source"]
        if here in REPLACED and (model is None or part not in fields):
            raise ScenarioError(label, here, None, f"no longer a key: {REPLACED[here]}")
        if model is None or part not in fields:
            where = ".".join(parts[:i]) or "the scenario"
            raise _unknown(label, here, part, fields, f"not a key of {where}")
        annotation = model.model_fields[part].annotation
        model = section_type(annotation)
        named = typing.get_origin(annotation) is dict
        node = node.get(part) if isinstance(node, Mapping) else None
    if (model is not None or named) and not isinstance(value, Mapping):
        raise ScenarioError(label, key, _short(value), "a table, not a value: name one of its keys")


def key_bounds(data: Mapping[str, Any], key: str, label: str) -> tuple[float, float]:
    """The closed interval a numeric dotted key may take (`clip_bounds` of its declaration).

    ``data`` is the scenario's dump; a key the scenario does not have, or one that is not a number, is a
    `ScenarioError` naming ``label``.
    """
    check_override_key(data, key, 0.0, label)
    parts = key.split(".")
    model: type[BaseModel] = Scenario
    i = 0
    while i < len(parts) - 1:
        annotation = model.model_fields[parts[i]].annotation
        model = section_type(annotation)  # type: ignore[assignment]
        i += 2 if typing.get_origin(annotation) is dict else 1  # a named table skips the name
    field = parts[-1]
    if not _is_number(model.model_fields[field].annotation):
        raise ScenarioError(
            label, key, None, "a real-valued key (not a whole number such as population.size, a name or a list)"
        )
    return clip_bounds(model, field)


def _is_number(annotation: Any) -> bool:
    """Whether a field holds one real number (float, optionally None): not a whole number, a name or a list."""
    if annotation is float:
        return True
    args = typing.get_args(annotation)
    return typing.get_origin(annotation) is not list and float in args and all(a in (float, type(None)) for a in args)


def _unknown(label: str, key: str, part: str, allowed: list[str], what: str) -> ScenarioError:
    hint = difflib.get_close_matches(part, allowed, n=1) or [a for a in allowed if a.startswith(part)][:1]
    more = f"; did you mean '{hint[0]}'?" if hint else ""
    return ScenarioError(label, key, None, f"{what}; allowed here: {', '.join(allowed) or 'none'}{more}")


def dotted_values(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested dict (a scenario's ``model_dump()``) as ``{dotted key: value}``, the keys ``--set`` takes."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.update(dotted_values(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def set_dotted(data: dict, key: str, value: Any, label: str) -> None:
    """Set a dotted key in nested dicts (a string value is parsed as TOML), creating tables on the way."""
    if isinstance(value, str):
        value = parse_value(value)
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            raise ScenarioError(label, ".".join(parts[: i + 1]), repr(nxt), "a table, so it has no sub-keys")
        node = nxt
    node[parts[-1]] = value


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    label: str = "<dict>",
    origin: Mapping[str, str] | None = None,
    source: str | None = None,
) -> Scenario:
    """Validate a nested dict as a `Scenario`, turning the first problem into a one-line `ScenarioError`."""
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise _friendly(exc, label, origin or {}) from None
    scenario.source = source
    return scenario


def _friendly(exc: ValidationError, label: str, origin: Mapping[str, str]) -> ScenarioError:
    err = first_error(exc)
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc)
    value = err.get("input")
    where = (
        (_section_origin(origin, key, label) if isinstance(value, dict) else None)
        or origin.get(key)
        or _closest_origin(origin, key)
        or label
    )
    kind = err["type"]
    if kind == "extra_forbidden" and key in REPLACED:
        return ScenarioError(where, key, _short(value), f"no longer a key: {REPLACED[key]}")
    if kind == "extra_forbidden":
        parent = loc[:-1]
        allowed = _allowed_keys(parent)
        hint = difflib.get_close_matches(loc[-1], allowed, n=1)
        more = f"; did you mean '{hint[0]}'?" if hint else ""
        return ScenarioError(where, key, _short(value), f"unknown key; allowed here: {', '.join(allowed)}{more}")
    if kind == "missing":
        return ScenarioError(where, key, None, "this key is required")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    shown = None if not key or isinstance(value, dict) else _short(value)  # a table's own check says what is wrong
    return ScenarioError(where, key or None, shown, msg[0].lower() + msg[1:])


REPLACED = {
    "market.competitor_pull": "replaced by the [competitor] table (visibility, fulfilment, effort, empathy, "
    "personalization, price, choice_sensitivity): switching is now a choice between the two offers",
    "market.price_sensitivity": "replaced by market.price_response (with market.price_loss_aversion, wtp_spread, "
    "wtp_experience): price acts on churn and on purchase through each customer's willingness to pay",
}
"""Keys of the first model's scenario format that model 2 replaced, with what replaced them (a one-line error)."""


def _section_origin(origin: Mapping[str, str], key: str, label: str) -> str | None:
    """For a whole table's check: the file that was read (or --set) if it set anything in that table."""
    prefix = f"{key}." if key else ""
    files = {f for k, f in origin.items() if k.startswith(prefix)}
    for preferred in ("--set", label):
        if preferred in files:
            return preferred
    return None


def _closest_origin(origin: Mapping[str, str], key: str) -> str | None:
    parts = key.split(".")
    while parts:
        parts.pop()
        hit = origin.get(".".join(parts))
        if hit:
            return hit
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _allowed_keys(loc: list[str]) -> list[str]:
    model: type[BaseModel] = Scenario
    for part in loc:
        field = model.model_fields.get(part)
        if field is None:
            continue  # a dict key (touchpoint or persona name)
        ann = field.annotation
        sub = section_type(ann)
        if sub is None:
            return []
        model = sub
    return [k for k in model.model_fields if k != "source"]


def section_type(ann: Any) -> type[BaseModel] | None:
    """The scenario table type inside an annotation (``Touchpoint`` of ``dict[str, Touchpoint]``), or None."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        found = section_type(arg)
        if found is not None:
            return found
    return None
