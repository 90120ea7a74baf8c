"""``python -m arr_actors.emulator``: the same as ``python -m arr_actors emulator``."""

from __future__ import annotations

import sys

from arr_actors.emulator import main

if __name__ == "__main__":
    sys.exit(main())
