"""Snapshots for the UI tests: every table in a realistic state, at a fixed moment."""

from __future__ import annotations

from arr_actors.messages import (
    BuildRow,
    FetchStarted,
    RunnerRow,
    TableSnapshot,
    VertexRow,
    WandbRunRow,
)

NOW = 1_750_000_000.0  # a fixed "now" for every rendering test

HOSTILE_NAME = "evil\x1b]0;pwned\x07name\x1b[2J\x1b[31mred\r\x08\x9b1;1H"

FAILED_NOTE = "CUDA out of memory. Tried to allocate 2.00 GiB"
CONTEXT = (
    "Runs: 3",
    "Runner alive: 2 jobs submitted",
    "Traceback (most recent call last):",
    '  File "train.py", line 10, in <module>',
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
    "FATAL ERROR DETECTED: CUDA out of memory",
    "Killing agent",
)


def runner_rows(now: float = NOW) -> tuple[RunnerRow, ...]:
    return (
        RunnerRow(
            execution="vertex-ai-launcher-abc12",
            region="us-central1",
            queue="vertex-queue",
            status="RUNNING",
            runs=2,
            created_at=now - 600,
            started_at=now - 590,
        ),
        RunnerRow(
            execution="vertex-ai-launcher-def34",
            region="europe-west4",
            queue="vertex-queue",
            status="FAILED",
            runs=3,
            created_at=now - 7200,
            started_at=now - 7190,
            completed_at=now - 6000,
            note=FAILED_NOTE,
            category="oom",
            pattern="cuda_oom",
            context=CONTEXT,
        ),
        RunnerRow(
            execution="vertex-ai-launcher-ghi56",
            region="asia-northeast1",
            queue="vertex-queue",
            status="FINISHED",
            runs=1,
            created_at=now - 90000,
            started_at=now - 89990,
            completed_at=now - 88000,
            note="completed: 1 run",
        ),
    )


def build_rows(now: float = NOW) -> tuple[BuildRow, ...]:
    return (
        BuildRow(
            "b1f0c0de", "SUCCESS", "us-docker.pkg.dev/p/r/trainer:v1", "us-central1", now - 3000, now - 2990, now - 2700
        ),
        BuildRow("b2f0c0de", "WORKING", "us-docker.pkg.dev/p/r/trainer:v2", "us-central1", now - 100, now - 95),
        BuildRow(
            "b3f0c0de", "FAILURE", "us-docker.pkg.dev/p/r/trainer:v0", "global", now - 9000, now - 8990, now - 8900
        ),
        BuildRow("b4f0c0de", "QUEUED", "us-docker.pkg.dev/p/r/eval:v2", "global", now - 20),
    )


def vertex_rows(now: float = NOW) -> tuple[VertexRow, ...]:
    return (
        VertexRow("1234567890123456789", "train-llama-7b", "us-central1", "RUNNING", now - 500, now - 400),
        VertexRow(
            "9876543210987654321",
            "train-llama-13b",
            "europe-west4",
            "FAILED",
            now - 8000,
            now - 7900,
            now - 7000,
            note="The replica workerpool0-0 exited with a non-zero status of 1.",
        ),
    )


def active_rows(now: float = NOW) -> tuple[WandbRunRow, ...]:
    return (WandbRunRow("r1a2b3c4", "llama-7b-lr3e-4", "running", now - 500, runtime_s=400.0),)


def completed_rows(now: float = NOW) -> tuple[WandbRunRow, ...]:
    return (
        WandbRunRow("r9z8y7x6", "llama-13b-base", "failed", now - 9000, runtime_s=1200.0, note="exit code 1"),
        WandbRunRow("r5t4s3r2", "llama-7b-warmup", "finished", now - 20000, runtime_s=3600.0, note="exit code 0"),
    )


ROWS = {
    "runner": runner_rows,
    "builds": build_rows,
    "vertex": vertex_rows,
    "active": active_rows,
    "completed": completed_rows,
}


def ok_snapshot(table: str, *, rows=None, seq: int = 1, now: float = NOW, **changes) -> TableSnapshot:
    fields = dict(
        table=table,
        seq=seq,
        state="ok",
        rows=ROWS[table](now) if rows is None else rows,
        fetched_at=now - 12,
        updated_at=now - 12,
        duration_s=1.2,
        budget_pct=12.0,
        attempts=1,
        next_refresh_at=now + 18,
    )
    fields.update(changes)
    return TableSnapshot(**fields)


def all_ok() -> list[TableSnapshot]:
    return [ok_snapshot(key) for key in ROWS]


def fetch_started(table: str, *, started: float = NOW - 3, deadline: float = 30.0) -> FetchStarted:
    return FetchStarted(table=table, generation=1, started_at=started, deadline_at=started + deadline)
