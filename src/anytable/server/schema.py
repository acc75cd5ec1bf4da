"""Compacting the JSON schemas pydantic generates: every byte of tools/list costs the agent context.

Input schemas: titles go (the property name says it), ``anyOf [X, null]`` becomes ``X`` (leaving an
argument out is how a caller says null), defaults go (the descriptions and the server instructions
say what is assumed), and the addressing arguments (provider, base, table: in all but one tool) are
listed by name with an empty schema: the server instructions say once what they are (a provider id,
a base id or share URL, a table id or name: strings). The server still checks every argument's type
when called (a number for ``table`` is refused with a clear error). Output schemas are ``{"type": "object"}``: the shapes of the results are
the tool contract's, the values self-describing JSON, and a list of property names with no schema
of their own would validate nothing more (the server validates each result against its model
before it leaves).
"""

from __future__ import annotations

from typing import Any

ADDRESSING = ("provider", "base", "table")


def compact_input(schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = _compact(schema, nullable=False)
    if not out.get("properties"):
        out.pop("properties", None)  # a tool without arguments: {"type": "object"} says it
    props = out.get("properties", {})
    for name in ADDRESSING:
        if name in props:
            props[name] = {}
    return out


def compact_output(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"type": "object"}``: every result is a pydantic model's (see the module's docstring)."""
    return {"type": schema.get("type", "object")}


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
        if "enum" in other and "type" not in other and not nullable:
            del out["anyOf"]
            return {**other, **out}  # an enum compacted already (its type went, the values say it)
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
