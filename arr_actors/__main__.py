"""``python -m arr_actors``: see arr_actors.cli."""

from __future__ import annotations

import gc
import sys

if __name__ == "__main__":
    # Off until the monitor's first frame is drawn (arr_actors.cli.main turns it on again).
    gc.disable()

from arr_actors.cli import main  # noqa: E402 - after the collector is off: the imports are most of the start

# Guarded: child processes started with "spawn" import this module again as __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
