"""Every file the program reads is untrusted; every file it writes lives where no one else can reach.

Damaged or planted files (warm start, recordings, terminal-state memory, the
limiter file) become a one-line notice or a skipped line, never a traceback, a
hang or a wrong number on screen. State and cache files are never written
through a symbolic link, their directories are private whatever the umask, and
a full disk leaves the previous content whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from arr_actors import config, recording
from arr_actors import messages as m
from arr_actors import warmstart as ws
from arr_actors.diagnostics.extract import Diagnosis
from arr_actors.diagnostics.memory import TerminalMemory
from arr_actors.runtime import eventlog, starter
from arr_actors.runtime.policy import LogEvent
from arr_actors.sources.limiter import LoggingLimiter
from arr_actors_ui import keypress, model, screen
from arr_actors_ui.context import RenderContext
from arr_actors_ui.stderr import divert_stderr

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_700_000_000.0
DEEP = 100_000  # arrays nested far past the interpreter's recursion limit
HUGE_INT = "9" * 400
TARGET_TEXT = b"someone else's file\n"
#: The latest moment a document may name: 9999-01-01 UTC.
MAX_EPOCH = 253_370_764_800.0


def settings_in(tmp_path: Path) -> config.Settings:
    return config.defaults(project="demo-project", values={"paths.state_dir": str(tmp_path / "state"), "paths.cache_dir": str(tmp_path / "cache")})


def build_row(**changes: Any) -> dict[str, Any]:
    row = {"type": "BuildRow", "build_id": "b1", "status": "SUCCESS", "image": "img", "region": "us-central1",
           "created_at": NOW - 60, "started_at": NOW - 50, "finished_at": NOW - 10}
    row.update(changes)
    return row


def snapshot_doc(*, rows: list[Any] | None = None, **changes: Any) -> dict[str, Any]:
    doc = {"type": "TableSnapshot", "table": "builds", "seq": 3, "state": "ok",
           "rows": [build_row()] if rows is None else rows, "fetched_at": NOW, "updated_at": NOW}
    doc.update(changes)
    return doc


def warm_file(snapshots: Any) -> str:
    return json.dumps({"kind": ws.WARM_START_KIND, "schema": ws.WARM_START_SCHEMA, "saved_at": NOW,
                       "snapshots": snapshots})


def raw_value(doc: str, field: str, raw: str) -> str:
    """``doc`` with the number of ``field`` replaced by ``raw`` (JSON that json.dumps would not write)."""
    marker = f'"{field}": 424242.5'
    assert marker in doc
    return doc.replace(marker, f'"{field}": {raw}')


DAMAGED_WARM_FILES = {
    "nested arrays": warm_file([]).replace('"snapshots": []', '"snapshots": ' + "[" * DEEP + "]" * DEEP),
    "nested rows": warm_file([snapshot_doc(rows=[])]).replace('"rows": []', '"rows": ' + "[" * DEEP + "]" * DEEP),
    "400-digit integer seq": raw_value(warm_file([snapshot_doc(seq=424242.5)]), "seq", HUGE_INT),
    "400-digit integer time": raw_value(warm_file([snapshot_doc(fetched_at=424242.5)]), "fetched_at", HUGE_INT),
    "timestamp 1e308": warm_file([snapshot_doc(fetched_at=1e308)]),
    "row created 1e308": warm_file([snapshot_doc(rows=[build_row(created_at=1e308)])]),
    "row created before 1970": warm_file([snapshot_doc(rows=[build_row(created_at=-1e12)])]),
    "duration 1e300": warm_file([snapshot_doc(duration_s=1e300)]),
    "NaN": raw_value(warm_file([snapshot_doc(updated_at=424242.5)]), "updated_at", "NaN"),
    "Infinity": raw_value(warm_file([snapshot_doc(fetched_at=424242.5)]), "fetched_at", "-Infinity"),
    "invalid UTF-8": warm_file([snapshot_doc()]).replace("img", "\udcff"),
}


def write_warm(settings: config.Settings, content: str) -> Path:
    path = Path(ws.warm_start_path(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    return path


def in_thread(fn: Callable[[], Any], *, timeout: float) -> Any:
    """``fn()`` run where a hang cannot hang the test: fails if it does not return within ``timeout``."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still blocked after {timeout} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def planted_link(directory: Path, name: str, tmp_path: Path) -> Path:
    """A symbolic link at ``directory/name`` to a file of someone else's (mode 0644); returns the target."""
    target = tmp_path / f"target-of-{name}"
    target.write_bytes(TARGET_TEXT)
    target.chmod(0o644)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    (directory / name).symlink_to(target)
    return target


def assert_untouched(target: Path) -> None:
    assert target.read_bytes() == TARGET_TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


# ------------------------------------------------------------------ warm start


@pytest.mark.timeout(30)
@pytest.mark.parametrize("damage", sorted(DAMAGED_WARM_FILES))
def test_a_damaged_warm_start_file_is_a_one_line_notice(tmp_path: Path, damage: str) -> None:
    settings = settings_in(tmp_path)
    path = write_warm(settings, DAMAGED_WARM_FILES[damage])
    initial, notice = ws.load_warm_start(settings)
    assert initial == ()
    assert notice is not None and notice.level == "warning"
    assert notice.text.startswith(f"warm start file {path} ignored: ") and "\n" not in notice.text
    # The writer of the same run starts over instead of dying on it.
    writer = ws.WarmStartWriter(settings)
    writer.tell(m.decode(snapshot_doc(), expect=(m.TableSnapshot,)))
    writer.stop()
    assert writer.failure is None and writer.writes == 1
    assert [s.table for s in ws.load_warm_start(settings)[0]] == ["builds"]


@pytest.mark.timeout(30)
def test_a_fifo_at_the_warm_start_path_does_not_hang_the_start(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    path = Path(ws.warm_start_path(settings))
    path.parent.mkdir(parents=True, mode=0o700)
    os.mkfifo(path)
    initial, notice = in_thread(lambda: ws.load_warm_start(settings), timeout=5)
    assert initial == () and notice is not None and "FIFO" in notice.text


def test_a_warm_start_file_planted_as_a_link_is_not_read_nor_written_through(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    state = Path(ws.warm_start_path(settings)).parent  # this project's own state directory
    target = planted_link(state, ws.FILE_NAME, tmp_path)
    target.write_text(warm_file([snapshot_doc()]))
    before = target.read_bytes()
    initial, notice = ws.load_warm_start(settings)
    assert initial == () and notice is not None and "symbolic link" in notice.text
    ws.write_file(str(state / ws.FILE_NAME), {"builds": m.decode(snapshot_doc(), expect=(m.TableSnapshot,))},
                  saved_at=NOW)
    assert target.read_bytes() == before  # the link was replaced, its target left alone
    assert not (state / ws.FILE_NAME).is_symlink()


@pytest.mark.parametrize("mode", [0o777, 0o703])
def test_a_state_directory_others_may_write_to_is_refused(tmp_path: Path, mode: int) -> None:
    settings = settings_in(tmp_path)
    write_warm(settings, warm_file([snapshot_doc()]))
    Path(ws.warm_start_path(settings)).parent.chmod(mode)
    initial, notice = ws.load_warm_start(settings)
    assert initial == () and notice is not None
    assert "writable by other users" in notice.text and "chmod o-w" in notice.text


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_state_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    project_dir = Path(ws.warm_start_path(settings)).parent
    write_warm(settings, warm_file([snapshot_doc()]))
    os.chown(project_dir, 12345, 12345)
    initial, notice = ws.load_warm_start(settings)
    assert initial == () and notice is not None and "owned by another user (uid 12345)" in notice.text
    from arr_actors import safefile

    with pytest.raises(safefile.UnsafeFile, match="owned by another user"):
        safefile.private_dir(str(project_dir))
    limiter = LoggingLimiter(project_dir / "logging-reads-x.json", 5)
    with pytest.raises(OSError, match="owned by another user"):
        limiter.try_acquire()


# ------------------------------------------------------------------ recordings


def recording_lines() -> list[tuple[str, bytes]]:
    """(what is wrong, line) in the order they are written after the header."""
    good = json.dumps({"t": 0.5, "message": snapshot_doc()})
    return [
        ("", good.encode()),
        ("nested arrays", b'{"t": 1, "message": ' + b"[" * DEEP + b"]" * DEEP + b"}"),
        ("t of 1e300", json.dumps({"t": 1e300, "message": {"type": "PauseChanged", "paused": True}}).encode()),
        ("t of 400 digits", b'{"t": ' + HUGE_INT.encode() + b', "message": {"type": "PauseChanged", "paused": true}}'),
        ("row created 1e308", json.dumps({"t": 1.0, "message": snapshot_doc(rows=[build_row(created_at=1e308)])}).encode()),
        ("fetched 1e308", json.dumps({"t": 1.0, "message": snapshot_doc(fetched_at=1e308)}).encode()),
        ("notice at 1e300", json.dumps({"t": 1.0, "message": {"type": "Notice", "text": "x", "at": 1e300}}).encode()),
        ("deadline of 400 digits", b'{"t": 1.0, "message": {"type": "FetchStarted", "table": "builds", "generation": 1, '
         b'"started_at": 1700000000, "deadline_at": ' + HUGE_INT.encode() + b"}}"),
        ("", json.dumps({"t": 1.5, "message": snapshot_doc(seq=4)}).encode()),
    ]


def write_recording(path: Path, *, started_at: str = "2023-11-14T22:13:20.000+00:00") -> list[int]:
    """A recording with damaged lines between good ones; returns the numbers of the damaged lines."""
    header = json.dumps({"kind": recording.RECORDING_KIND, "schema": 1, "started_at": started_at, "settings": {}})
    lines = [header.encode()] + [line for _, line in recording_lines()]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return [number for number, (what, _) in enumerate(recording_lines(), start=2) if what]


@pytest.mark.timeout(30)
def test_damaged_recording_lines_are_skipped_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    damaged = write_recording(path)
    with path.open("rb") as fh:
        items = list(recording.read_recording(fh))
    skipped = [item for item in items if isinstance(item, recording.Skipped)]
    assert [item.line for item in skipped] == damaged
    assert all(item.text.startswith(f"line {item.line} skipped: ") and "\n" not in item.text for item in skipped)
    entries = [item for item in items if isinstance(item, recording.Entry)]
    assert [e.message.seq for e in entries] == [3, 4]  # the lines after the damage still come


@pytest.mark.timeout(30)
def test_live_replay_goes_on_past_damaged_lines(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    damaged = write_recording(path)
    seen: list[Any] = []
    with path.open("rb") as fh:
        player = recording.Player(recording.read_recording(fh), speed=1000.0, live=True)
        player(type("Screen", (), {"tell": staticmethod(seen.append)})())
        assert player.finished.wait(10), "the player thread is stuck"
    warnings = [msg.text for msg in seen if isinstance(msg, m.Notice) and msg.level == "warning"]
    assert [int(text.split()[2]) for text in warnings] == damaged
    assert [msg.seq for msg in seen if isinstance(msg, m.TableSnapshot)] == [3, 4]
    assert any(isinstance(msg, m.Notice) and "end of recording" in msg.text for msg in seen)
    assert not any(isinstance(msg, m.Notice) and msg.level == "error" for msg in seen)


@pytest.mark.parametrize("started_at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "nonsense"])
def test_a_header_time_out_of_range_gives_a_replay_clock_that_renders(tmp_path: Path, started_at: str) -> None:
    path = tmp_path / "rec.jsonl"
    write_recording(path, started_at=started_at)
    with path.open("rb") as fh:
        rec = recording.read_recording(fh)
        player = recording.Player(rec, speed=1000.0, shift=False)
        assert rec.header.started_epoch is None
        state = model.UiState()
        for item in rec:
            if isinstance(item, recording.Entry):
                state = model.receive(state, item.message, now=player.clock())
    lines = screen.screen_lines(state, now=player.clock(), cols=120, rows=30, ctx=RenderContext())
    assert len(lines) == 30


def test_a_header_policy_out_of_range_is_dropped(tmp_path: Path) -> None:
    good = {"interval": 30.0, "budget": 5.0, "deadline": 30.0, "limit": 10}
    tables = {"builds": {**good, "limit": 10**20}, "vertex": {**good, "deadline": 1e308}, "runner": good,
              "active": {**good, "interval": "soon"}, "completed": [1, 2]}
    header = {"kind": recording.RECORDING_KIND, "schema": 1, "started_at": "2023-11-14T22:13:20+00:00",
              "settings": {"project": "p", "tables": tables}}
    parsed = recording.parse_header(json.dumps(header).encode())
    assert parsed.settings["tables"] == {"runner": good}
    assert parsed.settings["project"] == "p"


def test_the_latest_and_earliest_moments_the_codec_accepts_render(tmp_path: Path) -> None:
    state = model.UiState()
    for created, now in ((MAX_EPOCH, MAX_EPOCH), (0.0, MAX_EPOCH), (MAX_EPOCH, 0.0), (0.0, 0.0)):
        snap = m.decode(snapshot_doc(rows=[build_row(created_at=created, started_at=created, finished_at=None,
                                                     status="WORKING")], fetched_at=created, updated_at=created),
                        expect=(m.TableSnapshot,))
        state = model.receive(state, snap, now=now).replace(focus="builds")
        for view in (state, keypress.press(state, "enter", now=now)[0]):  # the table, then the row's detail
            for cols, rows in ((80, 24), (200, 50)):
                assert len(screen.screen_lines(view, now=now, cols=cols, rows=rows, ctx=RenderContext())) == rows


@pytest.mark.timeout(60)
def test_replay_once_reports_damaged_lines_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    damaged = write_recording(path)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "replay.py"), str(path), "--once", "--json"],
                          capture_output=True, text=True, timeout=50)
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    assert [int(line.split("line ")[1].split()[0]) for line in proc.stderr.splitlines()] == damaged
    assert json.loads(proc.stdout)["tables"]["builds"]["rows"]


# --------------------------------------------------------- terminal-state memory


def diagnosis_doc(**changes: Any) -> str:
    doc = {"outcome": "failed", "summary": "boom", "category": "quota", "pattern": "p", "runs": 2, "context": ["a"]}
    doc.update(changes)
    return json.dumps(doc)


def plant_diagnosis(memory: TerminalMemory, execution: str, raw: str) -> None:
    db = memory._db
    assert db is not None
    with db:
        db.execute("INSERT OR REPLACE INTO terminal VALUES (?, ?, ?, ?, ?)",
                   (memory.project, execution, "FAILED", raw, time.time()))


@pytest.mark.parametrize(
    "raw",
    [
        '{"outcome": "failed", "summary": "x", "category": "c", "pattern": null, "runs": ' + HUGE_INT + ', "context": []}',
        diagnosis_doc(summary="x" * 100_000),
        diagnosis_doc(context=["line"] * 100_000),
        '{"outcome": "failed", "summary": "x", "category": "c", "pattern": null, "runs": 1, "context": '
        + "[" * DEEP + "]" * DEEP + "}",
    ],
    ids=["runs of 400 digits", "huge summary", "endless context", "nested context"],
)
def test_a_stored_diagnosis_out_of_bounds_is_dropped_and_read_again(tmp_path: Path, raw: str) -> None:
    with TerminalMemory(tmp_path / "cache", "proj") as memory:
        plant_diagnosis(memory, "exec-1", raw)
        plant_diagnosis(memory, "exec-2", diagnosis_doc())
        assert memory.get("exec-1") is None
        assert memory.get("exec-2") == Diagnosis("failed", "boom", "quota", "p", 2, ("a",))
        assert len(memory) == 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize("suffix", ["", "-wal", "-journal"])
def test_a_fifo_in_place_of_the_memory_does_not_hang_the_runner(tmp_path: Path, suffix: str) -> None:
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    os.mkfifo(cache / f"terminal.sqlite3{suffix}")
    memory = in_thread(lambda: TerminalMemory(cache, "proj"), timeout=5)
    with memory:
        assert "memory only" in memory.notice and "\n" not in memory.notice
        assert memory.put("exec-1", "FAILED", Diagnosis("failed", "boom", "quota", "p", 2, ()))
        assert memory.get("exec-1") is not None


def test_memory_planted_as_a_link_is_not_written_through(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    target = planted_link(cache, "terminal.sqlite3", tmp_path)
    with TerminalMemory(cache, "proj") as memory:
        assert "symbolic link" in memory.notice or "not a regular file" in memory.notice
        memory.put("exec-1", "FAILED", Diagnosis("failed", "boom", "quota", "p", 2, ()))
    assert_untouched(target)


# ------------------------------------------------------------- limiter file


@pytest.mark.parametrize(
    "content",
    [
        "[" * DEEP + "]" * DEEP,
        "[" + HUGE_INT + "]",
        "[1e308, 1e308, 1e308]",
        '[NaN, Infinity, "x", true, null]',
        "\udcff\udcfe",
    ],
    ids=["nested", "400 digits", "far future", "not times", "not UTF-8"],
)
def test_a_damaged_limiter_file_is_taken_as_no_history(tmp_path: Path, content: str) -> None:
    path = tmp_path / "state" / "logging-reads.json"
    path.parent.mkdir(mode=0o700)
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    clock = [NOW]
    limiter = LoggingLimiter(path, 3, clock=lambda: clock[0])
    # Far-future stamps count at most for one window: they cannot block log reads for good.
    clock[0] += 2 * 60 + 1
    assert [limiter.try_acquire() for _ in range(4)] == [True, True, True, False]


@pytest.mark.timeout(30)
def test_a_fifo_at_the_limiter_path_does_not_hang_log_reads(tmp_path: Path) -> None:
    path = tmp_path / "state" / "logging-reads.json"
    path.parent.mkdir(mode=0o700)
    os.mkfifo(path)
    assert in_thread(lambda: LoggingLimiter(path, 2).try_acquire(), timeout=5)


def test_the_limiter_file_planted_as_a_link_is_not_written_through(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = planted_link(state, "logging-reads.json", tmp_path)
    limiter = LoggingLimiter(state / "logging-reads.json", 2)
    assert limiter.try_acquire()
    assert_untouched(target)
    assert limiter.used() == 1


def test_the_limiter_lock_planted_as_a_link_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = planted_link(state, "logging-reads.json.lock", tmp_path)
    with pytest.raises(OSError, match="symbolic link"):
        LoggingLimiter(state / "logging-reads.json", 2).try_acquire()
    assert_untouched(target)


FULL_DISK = """
import json, os, resource, signal, sys
from arr_actors.sources.limiter import LoggingLimiter
path = sys.argv[1]
clock = [1700000000.0]
limiter = LoggingLimiter(path, 100, clock=lambda: clock[0])
for _ in range(5):
    clock[0] += 1
    assert limiter.try_acquire()
before = open(path, "rb").read()
# The disk fills up: no file may grow past what the limiter file holds now.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (len(before), resource.RLIM_INFINITY))
clock[0] += 1
try:
    limiter.try_acquire()
except OSError as exc:
    print("refused:", exc.strerror)
after = open(path, "rb").read()
print(json.dumps({"before": before.decode(), "after": after.decode()}))
"""


@pytest.mark.timeout(60)
def test_a_full_disk_leaves_the_limiter_history_whole(tmp_path: Path) -> None:
    path = tmp_path / "state" / "logging-reads.json"
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, str(path)], capture_output=True, text=True, timeout=50,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert len(json.loads(result["before"])) == 5
    assert result["after"] == result["before"]
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


# ------------------------------------------------- logs and directories


def test_the_event_log_planted_as_a_link_is_not_appended_to(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = planted_link(state, eventlog.FILE_NAME, tmp_path)
    log = eventlog.EventLog(str(state))
    log.write(LogEvent(at=NOW, table="builds", generation=1, event="failed"))
    log.close()
    assert_untouched(target)


def test_the_launcher_log_planted_as_a_link_is_not_appended_to(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = planted_link(state, starter.LOG_NAME, tmp_path)
    fd = starter._open_log(str(state))
    if fd != subprocess.DEVNULL:
        os.write(fd, b"launcher output\n")
        os.close(fd)
    assert_untouched(target)


@pytest.mark.timeout(30)
def test_the_monitor_stderr_log_planted_as_a_link_is_not_appended_to(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = planted_link(state, "monitor-stderr.log", tmp_path)
    seen: list[str] = []
    with divert_stderr(str(state / "monitor-stderr.log"), on_line=seen.append, force=True) as diversion:
        os.write(2, b"stray line\n")
    assert diversion is not None
    diversion._done.wait(5)
    assert seen == ["stray line"]
    assert "symbolic link" in diversion.log_error
    assert_untouched(target)


@pytest.mark.timeout(30)
def test_state_and_cache_directories_are_private_under_umask_000(tmp_path: Path) -> None:
    settings = config.defaults(project="p", values={"paths.state_dir": str(tmp_path / "s" / "state"), "paths.cache_dir": str(tmp_path / "c" / "cache")})
    with umask(0):
        TerminalMemory(settings.paths.cache_dir, settings.project).close()
        ws.write_file(ws.warm_start_path(settings), {}, saved_at=NOW)
        log = eventlog.EventLog(settings.paths.state_dir + "-events")
        log.write(LogEvent(at=NOW, table="builds", generation=1, event="failed"))
        log.close()
        LoggingLimiter(Path(settings.paths.state_dir + "-limiter") / "l.json", 2).try_acquire()
    warm = Path(ws.warm_start_path(settings)).relative_to(tmp_path)
    for directory in ("s", "s/state", "s/state/projects", str(warm.parent), "c", "c/cache", "s/state-events",
                      "s/state-limiter"):
        assert stat.S_IMODE((tmp_path / directory).stat().st_mode) == 0o700, directory
    for file in (str(warm), "s/state-events/events.jsonl", "s/state-limiter/l.json", "c/cache/terminal.sqlite3"):
        assert stat.S_IMODE((tmp_path / file).stat().st_mode) & 0o077 == 0, file


@pytest.mark.parametrize("value", [1e308, -1.0, int(HUGE_INT), "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_w_and_b_time_out_of_range_is_unknown_not_a_failed_table(value: Any) -> None:
    # A run's times and summary come from other people's code: one bad run must not
    # make the codec refuse the whole table's result.
    from arr_actors.sources.wandb_runs import parse_time, runtime_of

    assert parse_time(value) is None
    runtime = runtime_of({"_runtime": value}, state="finished", created_at=NOW, heartbeat_at=NOW + 5, now=NOW)
    assert runtime == 5.0
