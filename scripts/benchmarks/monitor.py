"""``python -m arr_actors`` in a real pseudo-terminal, its process tree sampled for memory.

The pseudo-terminal is the end-to-end tests' ``Terminal`` (``tests/e2e/pty.py``),
the one implementation both use; see that module for why it lives there. It is
imported on first use, so ``bench.py --help`` works without the test extras
(pexpect, pyte).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import psutil

from benchmarks.plan import REPO_ROOT, TERMINAL_COLS, TERMINAL_ROWS
from benchmarks.process_tree import TreeSampler, label_process, tree

if TYPE_CHECKING:
    from e2e.pty import Terminal

TESTS_DIR = os.path.join(REPO_ROOT, "tests")


def spawn_terminal(argv: Sequence[str], *, env: Mapping[str, str], cwd: str) -> Terminal:
    """``argv`` in a pseudo-terminal of the benchmark's size."""
    if TESTS_DIR not in sys.path:
        # Appended, not prepended: tests/ holds folders named like real packages (ui, sources...).
        sys.path.append(TESTS_DIR)
    from e2e.pty import Terminal

    return Terminal(argv, env=env, cwd=cwd, rows=TERMINAL_ROWS, cols=TERMINAL_COLS)


class Monitor:
    """The program as a user starts it, in a pseudo-terminal; its tree sampled for memory."""

    def __init__(self, argv_extra: Sequence[str], *, env: Mapping[str, str], home: str) -> None:
        self.term = spawn_terminal([sys.executable, "-m", "arr_actors", *argv_extra], env=env, cwd=home)
        self.sampler = TreeSampler({"ui": self.term.pid}, interval_s=0.1, label=label_process)

    def __enter__(self) -> Monitor:
        self.sampler.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.quit()
        finally:
            self.sampler.__exit__()

    def quit(self) -> None:
        """Quit with ``q`` and check that the whole tree went with it."""
        root = psutil.Process(self.term.pid) if psutil.pid_exists(self.term.pid) else None
        members = tree(root) if root is not None else []
        self.term.quit("q")
        _gone, alive = psutil.wait_procs(members, timeout=5)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if alive:
            raise RuntimeError(f"{len(alive)} processes of the monitor were still running 5 s after it quit")

    def since_start(self, at: float) -> float:
        """Seconds from spawning the program to the monotonic time ``at``."""
        return float(at - self.term.started_at)
