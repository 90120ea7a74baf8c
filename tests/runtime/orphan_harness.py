"""A program that runs a System with hanging fetches and then ends the way it is told.

    python orphan_harness.py MODE STATE_DIR [FAULTS [DEADLINE]]

Prints one JSON line with the pids of the tree (launcher, children, grandchildren)
once every child hangs and every grandchild the faults make is there, then:
``wait`` (until a signal ends it), ``exit`` (return without stopping the
System: only the atexit hook cleans up), ``exception`` (die of an uncaught
exception), ``quit`` (stop the System as quitting the program does, print one
JSON line with how long that took, return). ``exit``, ``exception`` and
``quit`` first wait for a line on stdin, so the test can take hold of every
process (and do things to them) before the tree goes away.

FAULTS is ``TABLE=KIND,...`` (``-`` or absent: the default set below);
DEADLINE (seconds) gives every table that fetch deadline and a short interval,
so killed fetch processes come back quickly.
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


def parse_faults(spec: str) -> tuple[tuple[str, str], ...]:
    if spec in ("", "-"):
        return FAULTS
    return tuple((table, kind) for table, _, kind in (item.partition("=") for item in spec.split(",")))


def make_settings(state_dir: str, faults: tuple[tuple[str, str], ...], deadline: float | None) -> config.Settings:
    settings = config.defaults({"paths.state_dir": state_dir}, faults=faults)
    if deadline is None:
        return settings
    settings = settings.with_values(
        {"supervision.kill_grace_s": 0.3, "supervision.backoff_initial_s": 0.3, "supervision.backoff_max_s": 1.0}
    )
    policy = config.TablePolicy(interval=0.3, budget=deadline / 2, deadline=deadline, limit=10)
    return settings.replace(tables=tuple((key, policy) for key, _ in settings.tables))


def main(mode: str, state_dir: str, faults_spec: str = "-", deadline: str = "") -> int:
    faults = parse_faults(faults_spec)
    settings = make_settings(state_dir, faults, float(deadline) if deadline else None)
    # Faults that start a grandchild: wait for each of them (at least one, as before).
    expected = max(sum(kind in ("grandchild", "escapee") for _, kind in faults), 1)
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
            if len(grandchildren) >= expected:
                break
        if time.monotonic() > end:
            print(json.dumps({"error": "the tree did not come up"}), flush=True)
            return 1
        time.sleep(0.02)
    # The fork templates the fetch processes were forked from (children of the launcher).
    templates = [p.pid for p in psutil.Process(tree.launcher_pid).children() if p.name().startswith("arr-tpl-")]
    doc = {"launcher": tree.launcher_pid, "templates": templates, "children": children, "grandchildren": grandchildren}
    print(json.dumps(doc), flush=True)
    if mode in ("exit", "exception", "quit"):
        sys.stdin.readline()
    if mode == "exit":
        return 0
    if mode == "quit":
        began = time.monotonic()
        tree.stop()
        print(json.dumps({"stop_s": round(time.monotonic() - began, 3)}), flush=True)
        return 0
    if mode == "exception":
        raise RuntimeError("the program failed")
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
