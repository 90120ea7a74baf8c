"""The chain in a real terminal, from a replayed recording: selecting a W&B run
underlines its Vertex job and the execution that created it, ``]`` jumps along
the chain, a broken link reads unknown, and quitting leaves nothing behind."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from arr_actors import config
from arr_actors import messages as m
from arr_actors import recording as rec
from e2e.conftest import REPO, program_env
from e2e.pty import Terminal, wait_gone

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

REPLAY = REPO / "scripts" / "replay.py"
NOW = 1_750_000_000.0
IMAGE = "us-docker.pkg.dev/p/arr/arr-trainer:abc1234"


def snapshots() -> list[m.TableSnapshot]:
    rows: dict[str, tuple] = {
        "runner": (
            m.RunnerRow("vertex-ai-launcher-aaa11", "us-central1", "vertex-queue", "RUNNING", 2, NOW - 600, NOW - 590,
                        note="Running…"),
            m.RunnerRow("vertex-ai-launcher-bbb22", "us-central1", "vertex-queue", "FAILED", 1, NOW - 7200, NOW - 7190,
                        NOW - 60, note="CUDA out of memory", job_ids=("1111111111",)),
        ),
        "builds": (m.BuildRow("b-0001", "SUCCESS", IMAGE, "global", NOW - 9000, NOW - 8990, NOW - 8700),),
        "vertex": (
            m.VertexRow("2222222222", "wild-orbit-3", "europe-west4", "FAILED", NOW - 500, note="no run"),
            m.VertexRow("1111111111", "gentle-pine-1", "us-central1", "FAILED", NOW - 7100, NOW - 7000, NOW - 100,
                        note="OOM", run_id="runaaaa1", image=IMAGE),
        ),
        "active": (m.WandbRunRow("runzzzz9", "other-run", "running", NOW - 100, runtime_s=90.0),),
        "completed": (m.WandbRunRow("runaaaa1", "gentle-pine-1", "failed", NOW - 6900, runtime_s=6800.0, note="exit code 1"),),
    }  # fmt: skip
    return [
        m.TableSnapshot(table=key, seq=1, state="ok", rows=table_rows, fetched_at=NOW - 2, updated_at=NOW - 2,
                        duration_s=1.2, budget_pct=12.0, attempts=1, next_refresh_at=NOW + 28)
        for key, table_rows in rows.items()
    ]  # fmt: skip


@pytest.fixture
def screen(spawn: Callable[..., Terminal], tmp_path: Path) -> Terminal:
    path = tmp_path / "chain.jsonl"
    settings = config.defaults(project="demo-project")
    path.write_bytes(rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(0.0, x) for x in snapshots()))
    term = spawn([sys.executable, str(REPLAY), str(path)], cols=100, rows=30, env=program_env())
    term.wait_for(lambda t: "runaaaa1" in t.text() and "2222222222" in t.text(), timeout=15)
    term.drain()
    return term


def close_detail(term: Terminal) -> None:
    # Its own key press: an escape followed at once by ``]`` reads as one escape sequence.
    term.press("esc")
    term.wait_for(lambda t: "Completed W&B runs" in t.text(), timeout=5)


def underlined(term: Terminal, text: str) -> bool:
    at = term.find(text)
    assert at is not None, f"{text!r} not on screen\n{term.dump()}"
    return term.cell(*at).underline


def test_selecting_a_wandb_run_marks_its_job_and_execution_and_jumping_follows_the_chain(screen: Terminal) -> None:
    assert not underlined(screen, "runaaaa1")
    screen.press("shift tab")  # from the runner table back to the completed runs: the run is selected
    screen.wait_for(lambda t: underlined(t, "1111111111"), timeout=5)
    assert underlined(screen, "bbb22") and underlined(screen, "b-0001")
    assert not underlined(screen, "2222222222") and not underlined(screen, "aaa11") and not underlined(screen, "runzzzz9")
    # ] walks the chain in table order: the execution, the build, the job, back to the run.
    screen.press("]", "enter")
    screen.wait_text("W&B Launch agent › us-central1/vertex-ai-launcher-bbb22")
    assert "1111111111 gentle-pine-1 (us-central1) FAILED" in screen.text()
    assert "runaaaa1 gentle-pine-1 failed" in screen.text()
    close_detail(screen)
    screen.press("]", "]", "enter")
    screen.wait_text("Vertex AI jobs › us-central1/1111111111")
    pids = [p.pid for p in screen.descendants()] + [screen.pid]
    assert screen.quit() == 0
    assert wait_gone(pids) == []


def test_a_broken_chain_shows_unknown(screen: Terminal) -> None:
    screen.press("tab", "tab", "enter")  # the Vertex table's first row: a job nothing links to
    screen.wait_text("Vertex AI jobs › europe-west4/2222222222")
    text = screen.text()
    assert "unknown: no execution in the table logged creating it" in text
    assert "unknown: the job has no wandb-run-id label" in text
    close_detail(screen)
    screen.press("]")
    screen.wait_text("no other row of this chain")
    assert screen.quit() == 0
