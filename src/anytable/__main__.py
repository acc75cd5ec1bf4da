"""``python -m anytable``, or this file run by path (the desktop bundle's entry point)."""

import sys
from pathlib import Path

if not __package__:  # run by path: import the package from src/, never its modules as top-level names
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from anytable.cli import main

raise SystemExit(main())
