"""A program that runs a System with hanging fetches and then ends the way it is told.

    python orphan_harness.py MODE STATE_DIR

Prints one JSON line with the pids of the tree (launcher, children, grandchildren)
once every child hangs, then: ``wait`` (until a signal ends it), ``exit`` (return
without stopping the System: only the atexit hook cleans up), ``exception``
(die of an uncaught exception). ``exit`` and ``exception`` first wait for a line
on stdin, so the test can take hold of every process before the tree goes away.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psutil  # noqa: E402
from runtime_fake_sources import FACTORY  # noqa: E402

from arr_actors import config  # noqa: E402
from arr_actors.runtime import system  # noqa: E402

FAULTS = (
    ("runner", "hang"),
    ("builds", "ignore-term"),
    ("vertex", "grandchild"),
    ("active", "block"),
    ("completed", "stop"),
)


def main(mode: str, state_dir: str) -> int:
    settings = config.defaults(faults=FAULTS, values={"paths.state_dir": state_dir})
    tree = system.start(settings, [], source_factory=FACTORY)
    end = time.monotonic() + 30
    while True:
        children = [pid for pids in tree.child_pids().values() for pid in pids]
        grandchildren = []
        if tree.launcher_pid and len(children) == 5:
            for pid in children:
                try:
                    grandchildren += [p.pid for p in psutil.Process(pid).children()]
                except psutil.NoSuchProcess:
                    pass
            if grandchildren:
                break
        if time.monotonic() > end:
            print(json.dumps({"error": "the tree did not come up"}), flush=True)
            return 1
        time.sleep(0.02)
    print(json.dumps({"launcher": tree.launcher_pid, "children": children, "grandchildren": grandchildren}), flush=True)
    if mode in ("exit", "exception"):
        sys.stdin.readline()
    if mode == "exit":
        return 0
    if mode == "exception":
        raise RuntimeError("the program failed")
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
