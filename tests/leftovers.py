"""Find processes a program left behind, however they were re-parented.

Every process inherits its parent's environment: a program started with
``marked(env)`` passes the mark to every process it starts, so whatever still
carries the mark after the program exited was left behind. (Walking the tree
from the program's pid misses orphans, which are re-parented to init or to a
subreaper; other tests' processes never carry this test's mark.)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import psutil

MARK = "ARRACTORS_TEST_RUN"  # not ARR_*: those are settings


def marked(env: Mapping[str, str]) -> tuple[dict[str, str], str]:
    token = uuid.uuid4().hex
    return {**env, MARK: token}, token


def processes_left(token: str) -> list[str]:
    left = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and proc.environ().get(MARK) == token:
                left.append(f"{proc.pid} {' '.join(proc.info['cmdline'] or [])}")
        except psutil.Error:
            continue
    return left
