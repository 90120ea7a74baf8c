"""Fixtures of this folder: a hostile cloud per session (see ``hostile_env``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile_env import HostileCloud, serve


@pytest.fixture(scope="session")
def hostile_cloud() -> Iterator[HostileCloud]:
    yield from serve()


@pytest.fixture(scope="session")
def hostile_cloud_that_starts() -> Iterator[HostileCloud]:
    """A hostile cloud whose RunJob starts an execution (with a hostile name)."""
    yield from serve(HOSTILE_RUN_JOB="start")
