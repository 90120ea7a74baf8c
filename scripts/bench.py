#!/usr/bin/env python3
"""Benchmarks: what users feel, measured against the old design in one run.

    python scripts/bench.py            # a readable table with goals and pass/fail marks
    python scripts/bench.py --json     # one JSON object
    python scripts/bench.py --quick    # CI-sized: under a minute, scaled-down latencies

Everything runs against a local emulator on 127.0.0.1 with its ``realistic``
latency profile. The program under test is started the way users start it
(``python -m arr_actors`` in a pseudo-terminal) or through the runtime API;
the old design is reproduced with the product's own clients and mapping code,
calling each region and each execution's log read one after another. Every
process started here is stopped before the script exits, and a final check
looks for any left behind.

The measurements live in the ``benchmarks`` package beside this script (its
docstring lists the modules); this file only makes it importable and runs it.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import arr_actors  # noqa: F401
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, os.path.dirname(HERE))
if HERE not in sys.path:  # loaded by file path (tests) rather than run as a script
    sys.path.insert(0, HERE)

from benchmarks.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
