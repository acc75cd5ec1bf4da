"""GPTBots field types and naming rules.

GPTBots has five field types (docs/provider-api-notes.md §3, create-table): TEXT, INT, FLOAT,
DATETIME, BOOLEAN. They read as the contract's ``text``, ``number`` (INT and FLOAT), ``date`` and
``checkbox``; ``number`` is created as FLOAT (see ``values``).
"""

from __future__ import annotations

import re

from anytable.schemas.fields import FieldType

TYPE_TO_CONTRACT: dict[str, FieldType] = {
    "TEXT": FieldType.text,
    "INT": FieldType.number,
    "FLOAT": FieldType.number,
    "DATETIME": FieldType.date,
    "BOOLEAN": FieldType.checkbox,
}
CONTRACT_TO_TYPE: dict[FieldType, str] = {
    FieldType.text: "TEXT",
    FieldType.number: "FLOAT",
    FieldType.date: "DATETIME",
    FieldType.checkbox: "BOOLEAN",
}
FIELD_TYPES = [t.value for t in CONTRACT_TO_TYPE]

NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
NAME_RULE = "at most 32 characters of a-z, 0-9 and _, starting with a letter"


def suggest_name(name: str) -> str:
    """A name GPTBots accepts, close to ``name`` (for error messages)."""
    slug = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "t_" + slug if slug else "table"
    return slug[:32].rstrip("_") or "table"


def name_problem(name: str) -> str | None:
    """Why GPTBots would refuse ``name`` as a table or field name (None: it is fine)."""
    if NAME_RE.fullmatch(name):
        return None
    return f"{name!r} is not a GPTBots name ({NAME_RULE}); for example {suggest_name(name)!r}"
