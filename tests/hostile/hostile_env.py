"""The hostile cloud server as a process, and the environment pointing the program at it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class HostileCloud:
    grpc_address: str
    wandb_url: str

    def env(self, state_dir: Path) -> dict[str, str]:
        """The environment of a program run against this cloud (one region, state in ``state_dir``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARR_", "WANDB_"))}
        env.update(
            ARR_PROJECT="hostile-project",
            ARR_REGIONS="us-central1",
            ARR_EMULATOR_ADDRESS=self.grpc_address,
            ARR_EMULATOR_WANDB_URL=self.wandb_url,
            ARR_WANDB_ENTITY="entity",
            ARR_WANDB_PROJECT="project",
            ARR_PATHS_STATE_DIR=str(state_dir / "state"),
            ARR_PATHS_CACHE_DIR=str(state_dir / "cache"),
            PYTHONIOENCODING="utf-8",
        )
        return env


def serve(**env: str) -> Iterator[HostileCloud]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "hostile_server.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )
    try:
        assert proc.stdout is not None
        header = {}
        for line in proc.stdout:  # the server prints three lines, then serves
            key, _, value = line.strip().partition(" ")
            if key == "ready":
                break
            header[key] = value
        assert "grpc" in header and "wandb" in header, f"the hostile server did not start: {header}"
        yield HostileCloud(header["grpc"], header["wandb"])
    finally:
        proc.kill()
        proc.wait()
