#!/usr/bin/env python3
"""``arr-actors replay`` from a source checkout, installed or not.

    python scripts/replay.py session.jsonl --speed 10
    ssh -n host 'python3 -m arr_actors --record -' | python scripts/replay.py -

The replay itself is :mod:`arr_actors.recording.replay`; see ``--help``.
"""

from __future__ import annotations

import os
import sys

try:
    import arr_actors  # noqa: F401
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from arr_actors.recording.replay import main

if __name__ == "__main__":
    sys.exit(main())
