"""Upsert keys are trimmed of the same white space in Python and in SQL: ``SPACE`` is exactly what
``str.strip()`` removes."""

from anytable.schemas.values import SPACE


def test_space_is_every_character_python_strips() -> None:
    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == SPACE
