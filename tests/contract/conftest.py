"""Fixtures of the contract suite beyond the provider harness."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import Harness


@pytest.fixture
def files(h: Harness, tmp_path: Path) -> Path:
    """A folder the file tools may use (ANYTABLE_FILE_ROOTS), set on the running server."""
    folder = tmp_path / "files"
    folder.mkdir()
    h.svc.settings = h.svc.settings.model_copy(update={"file_roots": str(folder)})
    return folder
