"""Fixtures for the recording, replay and warm-start tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from arr_actors import config


@pytest.fixture
def settings(tmp_path: Path) -> config.Settings:
    return config.defaults(project="demo-project", values={"paths.state_dir": str(tmp_path / "state"), "paths.cache_dir": str(tmp_path / "cache")})
