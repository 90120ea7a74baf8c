#!/usr/bin/env python3
"""``arr-actors replay`` from a source checkout, installed or not.

    python scripts/replay.py session.jsonl --speed 10
    ssh -n host 'python3 -m arr_actors --record -' | python scripts/replay.py -

The replay itself is :mod:`arr_actors.recording.replay`; see ``--help``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _use_checkout() -> None:
    """Import the packages from this checkout when they are not installed.

    The screen's package is the ui/ folder, installed under the name arr_actors_ui:
    without an install, that name is given to the folder here.
    """
    if importlib.util.find_spec("arr_actors") is None:
        sys.path.insert(0, ROOT)
    if importlib.util.find_spec("arr_actors_ui") is None:
        folder = os.path.join(ROOT, "ui")
        spec = importlib.util.spec_from_file_location(
            "arr_actors_ui", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"no screen package in {folder}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["arr_actors_ui"] = module
        spec.loader.exec_module(module)


_use_checkout()

from arr_actors.recording.replay import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
