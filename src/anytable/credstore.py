"""Where sign-ins are kept between runs: the OS keychain, or a file only the user can read.

``ANYTABLE_TOKEN_STORE`` chooses: ``keyring`` (the OS keychain through the ``keyring`` package, the
``keyring`` extra), ``file`` (``credentials.json`` in the user config directory, mode 0600, in a
0700 directory), or the path of such a file. By default the keychain is used when ``keyring`` is
installed and has a working backend, else the file. Values are JSON texts under a key (one per
provider, app and host); they hold tokens, so nothing here logs or returns them.

Everything here blocks (file and keychain I/O): async code calls it through ``anyio.to_thread``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

from anytable.errors import ConfigError

SERVICE = "anytable"
FILE_NAME = "credentials.json"
_file_lock = threading.Lock()  # one writer at a time within the process (read-modify-write)


class CredentialStore(Protocol):
    where: str  # for messages: "the OS keychain (...)" or the file's path

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> bool: ...


class FileStore:
    """A JSON object ``{key: value}`` in a file readable and writable by the user only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ConfigError(f"Cannot read the sign-in file {self.path} ({exc.strerror}).") from None
        try:
            data = json.loads(text)
        except ValueError:
            raise ConfigError(
                f"The sign-in file {self.path} is not valid JSON: delete it and sign in again."
            ) from None
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, Any]) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=directory)  # created 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get(self, key: str) -> str | None:
        value = self._read().get(key)
        return value if isinstance(value, str) else None

    def put(self, key: str, value: str) -> None:
        with _file_lock:
            data = self._read()
            data[key] = value
            self._write(data)

    def delete(self, key: str) -> bool:
        with _file_lock:
            data = self._read()
            if key not in data:
                return False
            del data[key]
            if data:
                self._write(data)
            else:
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            return True


class KeyringStore:
    """The OS keychain (macOS Keychain, Windows Credential Locker, Secret Service...)."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.where = f"the OS keychain ({type(backend).__name__}, service {SERVICE!r})"

    def get(self, key: str) -> str | None:
        try:
            value = self.backend.get_password(SERVICE, key)
        except Exception as exc:  # a locked or broken keychain: say so, never crash
            raise self._failed("read", exc) from None
        return value if isinstance(value, str) else None

    def put(self, key: str, value: str) -> None:
        try:
            self.backend.set_password(SERVICE, key, value)
        except Exception as exc:
            raise self._failed("write", exc) from None

    def delete(self, key: str) -> bool:
        if self.get(key) is None:
            return False
        try:
            self.backend.delete_password(SERVICE, key)
        except Exception as exc:
            raise self._failed("remove", exc) from None
        return True

    def _failed(self, what: str, exc: Exception) -> ConfigError:
        return ConfigError(
            f"Cannot {what} the sign-in in {self.where} ({type(exc).__name__}): unlock the keychain, or set "
            "ANYTABLE_TOKEN_STORE=file and sign in again."
        )


def default_file() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("anytable", appauthor=False)) / FILE_NAME


def _keyring_backend() -> Any | None:
    """The keyring backend when the package is installed and has a usable one, else None."""
    try:
        import keyring  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration: use the file
        return None
    priority = getattr(backend, "priority", 0)
    module = type(backend).__module__
    if module.endswith(("fail", "null")) or not isinstance(priority, int | float) or priority <= 0:
        return None
    return backend


def open_store(setting: str | None) -> CredentialStore:
    """The store ``ANYTABLE_TOKEN_STORE`` names (see the module docstring)."""
    value = (setting or "").strip()
    if value.lower() == "keyring":
        backend = _keyring_backend()
        if backend is None:
            raise ConfigError(
                "ANYTABLE_TOKEN_STORE=keyring, but no usable OS keychain was found: install the keyring "
                "extra (pip install 'anytable[keyring]') on a desktop session, or set ANYTABLE_TOKEN_STORE=file."
            )
        return KeyringStore(backend)
    if value.lower() == "file":
        return FileStore(default_file())
    if value:
        return FileStore(Path(value).expanduser())
    backend = _keyring_backend()
    return KeyringStore(backend) if backend is not None else FileStore(default_file())
