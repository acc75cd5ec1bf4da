"""The layers import one way: ``server`` -> ``tools`` -> ``core`` -> ``providers`` -> ``schemas``.
``tools`` names no provider and no server module; providers know nothing of the engine or the tools."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "anytable"


def imports(package: str) -> dict[str, set[str]]:
    """Each module of ``package`` -> the anytable modules it imports (at any level)."""
    out: dict[str, set[str]] = {}
    for path in sorted((SRC / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        out[str(path.relative_to(SRC))] = {n for n in names if n.startswith("anytable.")}
    return out


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("tools", ("anytable.providers", "anytable.server")),
        ("core", ("anytable.tools", "anytable.server")),
        ("providers", ("anytable.core", "anytable.tools", "anytable.server")),
        ("schemas", ("anytable.core", "anytable.tools", "anytable.server", "anytable.providers")),
    ],
)
def test_layers_import_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    wrong = {
        module: sorted(n for n in names if n.startswith(forbidden))
        for module, names in imports(package).items()
        if any(n.startswith(forbidden) for n in names)
    }
    assert not wrong


def test_the_server_package_imports_its_app_directly() -> None:
    text = (SRC / "server" / "__init__.py").read_text(encoding="utf-8")
    assert "from anytable.server.app import" in text and "def build_server" not in text
