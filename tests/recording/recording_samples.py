"""Sample sessions and helpers for the recording, replay and warm-start tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from arr_actors import messages as m

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "scripts" / "replay.py"
PYTHON = sys.executable

NOW = 1_714_555_800.0  # 2024-05-01 09:30 UTC


def sample_snapshots(now: float = NOW, *, seq: int = 1) -> dict[str, m.TableSnapshot]:
    """One realistic snapshot per table, a few rows each."""
    runner = tuple(
        m.RunnerRow(
            execution=f"vertex-ai-launcher-{i:05d}",
            region=("us-central1", "europe-west4")[i % 2],
            queue="vertex-ai-queue",
            status=("RUNNING", "FAILED", "FINISHED")[i % 3],
            runs=i,
            created_at=now - 600 * (i + 1),
            started_at=now - 600 * (i + 1) + 5,
            completed_at=None if i % 3 == 0 else now - 300 * (i + 1),
            note="" if i % 3 != 1 else "FATAL ERROR DETECTED: quota exceeded for NVIDIA_L4",
            category="" if i % 3 != 1 else "quota",
        )
        for i in range(4)
    )
    builds = (
        m.BuildRow("b1a2c3", "WORKING", "us-docker.pkg.dev/p/train:abc", "global", now - 120, now - 110),
        m.BuildRow("d4e5f6", "SUCCESS", "us-docker.pkg.dev/p/train:def", "global", now - 3600, now - 3590, now - 3300),
        m.BuildRow("a7b8c9", "FAILURE", "us-docker.pkg.dev/p/train:0ff", "us-central1",
                   now - 7200, now - 7190, now - 7000),
    )
    vertex = (
        m.VertexRow("1234567890123456789", "train-resnet", "us-central1", "RUNNING", now - 900, now - 850),
        m.VertexRow("9876543210987654321", "train-vit", "europe-west4", "FAILED", now - 5000, now - 4900, now - 4000,
                    note="Resources are insufficient in region: europe-west4."),
    )
    active = (m.WandbRunRow("r1abcd", "lively-sun-12", "running", now - 800, 790.0),)
    completed = (
        m.WandbRunRow("r0zzzz", "brisk-wind-11", "failed", now - 9000, 1200.0, note="exit code 1"),
        m.WandbRunRow("r0yyyy", "calm-sea-10", "finished", now - 20000, 5400.0),
    )
    out = {}
    for key, rows in (("runner", runner), ("builds", builds), ("vertex", vertex), ("active", active),
                      ("completed", completed)):
        out[key] = m.TableSnapshot(
            table=key,
            seq=seq,
            state="ok",
            rows=rows,
            fetched_at=now - 2,
            updated_at=now - 2,
            duration_s=1.25,
            budget_pct=12.5,
            attempts=1,
            next_refresh_at=now + 28,
        )
    return out


def session_messages(now: float = NOW) -> list[tuple[float, Any]]:
    """A short monitor session as (t, message): spinners, snapshots, a notice, a pause, a failure."""
    first = sample_snapshots(now, seq=1)
    second = sample_snapshots(now + 30, seq=2)
    out: list[tuple[float, Any]] = []
    t = 0.0
    for table in first:
        out.append((t, m.FetchStarted(table, 1, now + t, now + t + 30)))
        t += 0.05
    for snap in first.values():
        out.append((t, snap))
        t += 0.05
    out.append((t, m.Notice("builds: 2 of 18 regions failed", "warning", "builds", now + t)))
    out.append((t, m.PauseChanged(True)))
    out.append((t + 0.1, m.PauseChanged(False)))
    t = 0.5
    for key, snap in second.items():
        if key == "vertex":
            snap = m.TableSnapshot(
                table="vertex", seq=2, state="timeout", rows=first["vertex"].rows,
                error="refresh took longer than 45 s: killed", fetched_at=first["vertex"].fetched_at,
                updated_at=now + 30, attempts=2, restarts=1, next_refresh_at=now + 32,
            )
        out.append((t, snap))
        t += 0.05
    return out


def final_snapshots(messages: list[tuple[float, Any]]) -> dict[str, m.TableSnapshot]:
    latest = {}
    for _t, msg in messages:
        if isinstance(msg, m.TableSnapshot):
            latest[msg.table] = msg
    return latest


def blocked_imports_prelude(blocked: tuple[str, ...] = ("google", "grpc", "wandb", "proto")) -> str:
    """Python source that makes importing any of ``blocked`` (or their submodules) fail."""
    return (
        "import sys\n"
        f"BLOCKED = {blocked!r}\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError(f'import of {name} blocked by the test')\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Block())\n"
    )


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env
