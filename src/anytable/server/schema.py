"""Compacting the JSON schemas pydantic generates: every byte of tools/list costs the agent context.

Input schemas: titles go (the property name says it), ``anyOf [X, null]`` becomes ``X`` (leaving an
argument out is how a caller says null), defaults go (the descriptions and the server instructions
say what is assumed), and the addressing arguments carry no description (the instructions say how a
table is addressed, once). Output schemas keep their top level (each property's type, what is
type) and say ``object``/``array`` below it: the shapes are the tool contract's, and the
values themselves are self-describing JSON.
"""

from __future__ import annotations

from typing import Any

ADDRESSING = ("provider", "base", "table")


def compact_input(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _compact(schema, nullable=False)
    for name in ADDRESSING:
        prop = out.get("properties", {}).get(name)
        if isinstance(prop, dict):
            prop.pop("description", None)
    return out


def compact_output(schema: dict[str, Any]) -> dict[str, Any]:
    """The names of the result's properties (their shapes are the tool contract's, their values
    self-describing JSON)."""
    out: dict[str, Any] = {"type": "object"}
    props = schema.get("properties")
    if isinstance(props, dict):
        out["properties"] = {name: {} for name in props}
    return out


def _compact(schema: Any, *, nullable: bool) -> Any:
    if isinstance(schema, list):
        return [_compact(s, nullable=nullable) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default":
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: _compact(sub, nullable=nullable) for name, sub in value.items()}
        else:
            out[key] = _compact(value, nullable=nullable)
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
        other = next(s for s in any_of if s != {"type": "null"})
        if set(other) <= {
            "type",
            "items",
            "description",
            "minItems",
            "minimum",
            "maximum",
            "additionalProperties",
            "enum",
        } and isinstance(other.get("type"), str):
            del out["anyOf"]
            merged = {**other, **out}
            merged.pop("additionalProperties", None)
            merged["type"] = [other["type"], "null"] if nullable else other["type"]
            if "enum" in merged and not nullable:
                del merged["type"]  # the enum says it
            return merged
    if "enum" in out and isinstance(out.get("type"), str):
        del out["type"]
    return out
