"""The declarations as data: the parameter table (docs, sliders, sweep axes) and the JSON Schema of scenario files."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from loyaltysim.scenario.core import Scenario, section_type
from loyaltysim.scenario.journey import Change

__all__ = ["json_schema", "parameter_table"]


def parameter_table() -> list[dict[str, Any]]:
    """Every declared parameter as rows: dotted key, default, limits, unit, meaning, source.

    Table sections appear as ``section.key``; per-touchpoint, per-persona and per-intervention fields as
    ``touchpoints.<name>.key`` etc.
    """
    rows: list[dict[str, Any]] = []
    sections: list[tuple[str, type[BaseModel]]] = [
        (name, section_type(f.annotation))
        for name, f in Scenario.model_fields.items()
        if section_type(f.annotation) is not None
    ]
    for prefix, model in sections:
        if prefix in ("touchpoints", "personas", "interventions"):
            prefix = f"{prefix}.<name>"
        for key, field in model.model_fields.items():
            if section_type(field.annotation) is Change:
                continue
            extra = field.json_schema_extra or {}
            limits = {
                k: getattr(m, k)
                for m in field.metadata
                for k in ("ge", "gt", "le", "lt")
                if getattr(m, k, None) is not None
            }
            rows.append(
                {
                    "key": f"{prefix}.{key}",
                    "default": field.default,
                    "min": limits.get("ge", limits.get("gt")),
                    "max": limits.get("le", limits.get("lt")),
                    "unit": extra.get("unit", ""),
                    "meaning": field.description or "",
                    "source": extra.get("source", "assumption"),
                }
            )
    return rows


def json_schema() -> dict[str, Any]:
    """JSON Schema of scenario files (``extends`` included), for editors and CI checks."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["properties"]["extends"] = {"type": "string", "description": "Scenario file this one builds on."}
    schema["properties"].pop("source", None)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "loyaltysim scenario"
    schema["description"] = (Scenario.__doc__ or "").strip().split("\n")[0]
    return schema
