"""Shared fixtures of the end-to-end tests: spawn a program in a real pty."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from e2e.pty import Terminal

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent


def program_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


@pytest.fixture
def spawn() -> Iterator[Callable[..., Terminal]]:
    """``spawn(argv, cols=80, rows=24, env=None, term=...)``; every terminal is
    closed (and its processes killed) when the test ends."""
    made: list[Terminal] = []

    def start(argv: list[str], *, env: dict[str, str] | None = None, **kwargs: object) -> Terminal:
        term = Terminal(argv, env=env or program_env(), cwd=str(REPO), **kwargs)  # type: ignore[arg-type]
        made.append(term)
        return term

    yield start
    for term in made:
        term.__exit__(None, None, None)


@pytest.fixture
def fake_monitor(spawn: Callable[..., Terminal], tmp_path: Path) -> Callable[..., tuple[Terminal, Path]]:
    """Start the UI with a stand-in system (tests/e2e/fake_monitor.py); returns
    the terminal and the file the system writes received commands to."""

    def start(*args: str, env: dict[str, str] | None = None, **kwargs: object) -> tuple[Terminal, Path]:
        commands = tmp_path / f"commands-{len(list(tmp_path.iterdir()))}.jsonl"
        commands.touch()
        argv = [sys.executable, "-m", "e2e.fake_monitor", "--commands", str(commands), *args]
        return spawn(argv, env=env, **kwargs), commands

    return start
