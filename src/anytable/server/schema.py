"""Compacting the JSON schemas pydantic generates: every byte of tools/list costs the agent context.

Titles go (the property name says it), ``anyOf [X, null]`` becomes ``type: [X, "null"]``, a
``default`` of null goes. Meaning is unchanged.
"""

from __future__ import annotations

from typing import Any


def compact_schema(schema: Any, *, nullable: bool = True) -> Any:
    """``nullable=False`` (input schemas): an optional argument is just its type; leaving it out
    is how a caller says null, and the server accepts null all the same."""
    if isinstance(schema, list):
        return [compact_schema(s, nullable=nullable) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and value is None:
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: compact_schema(sub, nullable=nullable) for name, sub in value.items()}
        else:
            out[key] = compact_schema(value, nullable=nullable)
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
        other = next(s for s in any_of if s != {"type": "null"})
        if set(other) <= {"type", "items", "description", "minItems"} and isinstance(other.get("type"), str):
            del out["anyOf"]
            merged = {**other, **out}
            merged["type"] = [other["type"], "null"] if nullable else other["type"]
            return merged
    return out
