"""The folders the file tools may use, and every path checked against them.

The allowed folders are the client's MCP roots when it declares the roots capability and sends
some, else ``ANYTABLE_FILE_ROOTS`` (an OS path list). A path is resolved (symlinks followed) and
must lie inside one of them after resolving: ``..``, absolute paths elsewhere and links leading
out are refused with an error naming the allowed folders and how to set them. Nothing outside is
ever read, listed or written.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from anytable.errors import InputError

log = logging.getLogger("anytable.files")

HOW_TO_SET = (
    "Allowed folders are the client's roots, or else ANYTABLE_FILE_ROOTS (folders separated by "
    f"{os.pathsep!r}, e.g. ANYTABLE_FILE_ROOTS=/home/me/data{os.pathsep}/tmp/exports)."
)


@dataclass(frozen=True)
class FileRoots:
    folders: tuple[Path, ...]  # resolved, existing folders
    source: str  # "client roots" or "ANYTABLE_FILE_ROOTS"

    @classmethod
    def from_list(cls, entries: list[str], source: str) -> FileRoots:
        folders: list[Path] = []
        for entry in entries:
            if not entry.strip():
                continue
            path = Path(entry.strip()).expanduser()
            if not path.is_absolute():
                log.warning("%s: %r is not an absolute path; ignored", source, entry)
                continue
            resolved = path.resolve()
            if not resolved.is_dir():
                log.warning("%s: %s is not an existing folder; ignored", source, entry)
                continue
            if resolved not in folders:
                folders.append(resolved)
        return cls(tuple(folders), source)

    @classmethod
    def from_setting(cls, value: str | None) -> FileRoots:
        return cls.from_list((value or "").split(os.pathsep), "ANYTABLE_FILE_ROOTS")

    def describe(self) -> str:
        if not self.folders:
            return "no folder is allowed (the client sent no roots and ANYTABLE_FILE_ROOTS is not set)"
        return f"the allowed folders ({self.source}) are {', '.join(str(f) for f in self.folders)}"

    def refuse(self, what: str) -> InputError:
        return InputError(f"{what}; {self.describe()}. {HOW_TO_SET}")

    # ----------------------------------------------------------------------------- checks
    def _resolve(self, raw: Any, arg: str) -> Path:
        if not isinstance(raw, str) or not raw.strip():
            raise InputError(f"{arg} must be a file path inside an allowed folder. {HOW_TO_SET}")
        if not self.folders:
            raise self.refuse(f"{arg} {raw!r} cannot be used")
        path = Path(raw.strip()).expanduser()
        if ".." in path.parts:
            raise self.refuse(f"{arg} {raw!r} contains '..'; give a path without it")
        if not path.is_absolute():
            path = self.folders[0] / path
        resolved = path.resolve()
        if not self.inside(resolved):
            lead = " (a link leads out)" if resolved != Path(os.path.abspath(path)) else ""
            raise self.refuse(f"{arg} {raw!r} is outside the allowed folders{lead}")
        return resolved

    def inside(self, resolved: Path) -> bool:
        return any(resolved == f or resolved.is_relative_to(f) for f in self.folders)

    def readable(self, raw: Any, max_bytes: int, arg: str = "path") -> Path:
        """An existing regular file inside the roots, at most ``max_bytes`` long."""
        path = self._resolve(raw, arg)
        if not path.exists():
            raise InputError(f"{arg} {raw!r}: no such file.")
        if not path.is_file():
            raise InputError(f"{arg} {raw!r} is not a file.")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{arg} {raw!r} is {size:,} bytes; the most this takes is {max_bytes:,} bytes. Nothing was changed."
            )
        return path

    def writable(self, raw: Any, overwrite: bool, arg: str = "path") -> Path:
        """A file path inside the roots whose folder exists; an existing file only with overwrite."""
        path = self._resolve(raw, arg)
        if not path.parent.is_dir():
            raise self.refuse(f"{arg} {raw!r}: the folder {path.parent} does not exist; create it first")
        if path.is_dir():
            raise InputError(f"{arg} {raw!r} is a folder; give a file name inside it.")
        if path.exists() and not overwrite:
            raise InputError(
                f"{arg} {raw!r} already exists; pass overwrite: true to replace it, or another path."
            )
        return path

    def folder(self, raw: Any, arg: str = "dir") -> Path:
        """An existing folder inside the roots."""
        path = self._resolve(raw, arg)
        if not path.is_dir():
            raise self.refuse(f"{arg} {raw!r} is not an existing folder; create it first")
        return path


def roots_from_uris(uris: list[str]) -> FileRoots:
    """The client's roots (``file://`` URIs; others are ignored)."""
    paths: list[str] = []
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            continue
        paths.append(url2pathname(parsed.path))
    return FileRoots.from_list(paths, "client roots")
