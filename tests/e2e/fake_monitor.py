"""The monitor screen driven by a stand-in system, for end-to-end tests of the UI alone.

    python -m e2e.fake_monitor --commands FILE [--mode ok|hang] [--deadline S] [--hostile]

``ok``: every table refreshes every few seconds (a spinner, then rows).
``hang``: every fetch hangs; at its deadline the table turns "timed out" and is
retried after a short backoff, as the real watchdog does; ``--late S`` sends
that report S seconds after the deadline. ``--hostile`` puts
escape sequences into a run name. ``--fail-later`` makes the running Vertex AI
job fail (a stockout) from the vertex table's third refresh on; ``--notify``
is the monitor's flag of that name. Every command the UI sends is appended to
FILE as a JSON line, and ``stopped`` when the system is stopped, so a test can
check what a key did and that quitting stopped the system.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))

import ui_samples

from arr_actors import config
from arr_actors.messages import (
    FetchStarted,
    PauseChanged,
    RefreshRequest,
    SetPaused,
    TableSnapshot,
    WandbRunRow,
    to_json,
)
from arr_actors.tables import TABLE_KEYS

STOCKOUT = "The zone us-central1-a does not have enough resources available to fulfill the request."
INTERVAL_S = 4.0
FETCH_S = 0.4
BACKOFF_S = 1.5


class FakeSystem:
    def __init__(
        self, subscriber, *, mode: str, deadline: float, hostile: bool, log: Path, late: float = 0.0,
        fail_later: bool = False,
    ) -> None:
        self._subscriber = subscriber
        self._fail_later = fail_later
        self._late = late
        self._mode = mode
        self._deadline = deadline
        self._hostile = hostile
        self._log = log
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._paused = False
        now = time.time()
        # table -> (phase, due): phase "idle" waits to start, "fetching" waits to finish
        self._plan = {key: ("idle", now + 0.1 * i) for i, key in enumerate(TABLE_KEYS)}
        self._seq = dict.fromkeys(TABLE_KEYS, 0)
        self._rows: dict[str, tuple] = dict.fromkeys(TABLE_KEYS, ())
        self._thread = threading.Thread(target=self._run, name="fake-system", daemon=True)
        self._thread.start()

    def tell(self, command) -> None:
        with self._log.open("a") as out:
            out.write(to_json(command) + "\n")
        with self._lock:
            if isinstance(command, RefreshRequest):
                now = time.time()
                for key in [command.table] if command.table else TABLE_KEYS:
                    if self._plan[key][0] == "idle":
                        self._plan[key] = ("idle", now)
            elif isinstance(command, SetPaused):
                self._paused = command.paused
                self._subscriber.tell(PauseChanged(command.paused))
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(2)
        with self._log.open("a") as out:
            out.write("stopped\n")

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.time()
            with self._lock:
                due = [(key, phase) for key, (phase, at) in self._plan.items() if at <= now]
                for key, phase in due:
                    self._step(key, phase, now)
                next_due = min(at for _, at in self._plan.values())
            self._wake.wait(max(0.0, min(next_due - time.time(), 1.0)))
            self._wake.clear()

    def _step(self, key: str, phase: str, now: float) -> None:
        if phase == "idle":
            if self._paused:
                self._plan[key] = ("idle", now + 0.5)
                return
            self._subscriber.tell(FetchStarted(key, 1, now, now + self._deadline))
            finish = now + (self._deadline + self._late if self._mode == "hang" else FETCH_S)
            self._plan[key] = ("fetching", finish)
            return
        self._seq[key] += 1
        if self._mode == "hang":
            snapshot = TableSnapshot(
                table=key,
                seq=self._seq[key],
                state="timeout",
                rows=self._rows[key],
                error=f"refresh took longer than its {self._deadline:g} s deadline; the fetch process was killed",
                updated_at=now,
                attempts=self._seq[key],
                restarts=self._seq[key],
                next_refresh_at=now + BACKOFF_S,
            )
            self._plan[key] = ("idle", now + BACKOFF_S)
        else:
            rows = ui_samples.ROWS[key](now)
            if self._fail_later and key == "vertex" and self._seq[key] >= 3:
                rows = tuple(
                    dataclasses.replace(r, state="FAILED", ended_at=now - 1, note=STOCKOUT) if r.state == "RUNNING" else r
                    for r in rows
                )
            if self._hostile and key == "active":
                rows = (*rows, WandbRunRow("rhostile", ui_samples.HOSTILE_NAME, "running", now - 30, runtime_s=20.0))
            self._rows[key] = rows
            snapshot = TableSnapshot(
                table=key,
                seq=self._seq[key],
                state="ok",
                rows=rows,
                fetched_at=now,
                updated_at=now,
                duration_s=FETCH_S,
                budget_pct=8.0,
                attempts=1,
                next_refresh_at=now + INTERVAL_S,
            )
            self._plan[key] = ("idle", now + INTERVAL_S)
        self._subscriber.tell(snapshot)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", required=True, type=Path)
    parser.add_argument("--mode", choices=("ok", "hang"), default="ok")
    parser.add_argument("--deadline", type=float, default=30.0)
    parser.add_argument("--hostile", action="store_true")
    parser.add_argument("--late", type=float, default=0.0)
    parser.add_argument("--replay-label", default="")
    parser.add_argument("--fail-later", action="store_true")
    parser.add_argument("--notify", action="store_true")
    args = parser.parse_args()

    from ui import app

    settings = config.defaults(project="demo-project")
    return app.run(
        settings,
        start_system=lambda sub: FakeSystem(
            sub, mode=args.mode, deadline=args.deadline, hostile=args.hostile, log=args.commands, late=args.late,
            fail_later=args.fail_later,
        ),
        replay_label=args.replay_label,
        notify=args.notify,
    )


if __name__ == "__main__":
    sys.exit(main())
