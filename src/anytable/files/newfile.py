"""Give a finished temporary file a name that must not exist yet, never replacing another file.

A hard link does it atomically; on a file system without hard links (some network shares, FAT,
some container mounts ``os.link`` raises a plain ``OSError``) the file is copied into a name
created exclusively instead. Either way ``FileExistsError`` means the name is taken.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def link_new(tmp: Path, target: Path) -> None:
    """Make ``target`` a copy of ``tmp`` (``tmp`` is left in place); ``FileExistsError`` if taken."""
    try:
        os.link(tmp, target)
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # no hard links here: copy into a name created exclusively
    with open(target, "xb") as out:  # "x": FileExistsError when the name is taken, atomically
        try:
            with open(tmp, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
        except BaseException:
            out.close()
            target.unlink(missing_ok=True)
            raise
