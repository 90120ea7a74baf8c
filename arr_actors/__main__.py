"""``python -m arr_actors``: see arr_actors.cli."""

from __future__ import annotations

import sys

from arr_actors.cli import main

# Guarded: child processes started with "spawn" import this module again as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
