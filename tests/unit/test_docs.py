"""Every document a comment cites is in the repository: ``docs/...`` paths exist, the sections of
docs/provider-api-notes.md (``§n``) and of the Feishu reference (``A.n``) cited are there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("src", "tests", "bench") for p in (ROOT / d).rglob("*.py")] + [
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
]


def texts() -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in SOURCES if p.exists() and p != Path(__file__).resolve()}


def test_cited_docs_exist() -> None:
    missing = {
        (str(p.relative_to(ROOT)), cited)
        for p, t in texts().items()
        for cited in re.findall(r"\bdocs/[\w./-]*\w", t)
        if not (ROOT / cited).exists()
    }
    assert not missing


def test_no_citation_of_a_document_outside_the_repository() -> None:
    bare = {
        str(p.relative_to(ROOT))
        for p, t in texts().items()
        if re.search(r"(?<![/\w])(provider-api-notes|PRODUCT\.md|feishu-bitable-v1-reference)", t)
    }
    assert not bare


def test_cited_sections_exist() -> None:
    notes = (ROOT / "docs" / "provider-api-notes.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^###? (\d+(?:\.\d+)?)\.? ", notes, flags=re.M))
    reference = (ROOT / "docs" / "reference" / "feishu-bitable-v1-reference.txt").read_text(encoding="utf-8")
    parts = set(re.findall(r"^(A\.\d+) ", reference, flags=re.M))
    cited_sections: set[str] = set()
    cited_parts: set[str] = set()
    for t in texts().values():
        for first, last in re.findall(r"§\s?(\d+(?:\.\d+)?)(?:\s?-\s?(\d+\.\d+))?", t):
            cited_sections.update(x for x in (first, last) if x)
        cited_parts.update(re.findall(r"\b(A\.\d+)\b", t))
    assert cited_sections and cited_parts
    assert cited_sections <= sections, sorted(cited_sections - sections)
    assert cited_parts <= parts, sorted(cited_parts - parts)
