"""The fetch process itself: what it loads, how it answers, how it ends when nobody else ends it."""

from __future__ import annotations

import math
import queue
import signal
import sys
import time
import types
from pathlib import Path

import pytest
from runtime_fake_sources import FACTORY
from runtime_helpers import Recorder, is_snapshot, make_settings

from arr_actors import messages
from arr_actors.messages import BuildRow, ChildExited, ChildSpawned, FetchReady, FetchResult, StartFetch, TableData
from arr_actors.runtime import child, injected, system
from arr_actors.runtime.fetcher import ChildReader, describe_exit
from arr_actors.runtime.protocol import ChildClosed, ChildMessage
from arr_actors.runtime.starter import ProcessStarter
from arr_actors.tables import load_function


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("template_fault", "loaded"),
    [
        # Forked by its fork template: the W&B package (which loads protobuf, under
        # google.) is there before the source runs, and nothing else.
        ("", "google,wandb"),
        # The template given up, forked by the launcher: nothing at all, e.g.
        # "grpc,pykka" if the launcher had imported them.
        ("exit", ""),
    ],
)
def test_a_fetch_process_loads_no_ui_actor_or_cloud_library_of_its_own(
    tmp_path: Path, template_fault: str, loaded: str
) -> None:
    faults = (("template", template_fault),) if template_fault else ()
    settings = make_settings(tmp_path, faults=faults, values={"supervision.startup_deadline_s": 20.0})
    rec = Recorder()
    factory = "runtime_fake_sources:open_import_report_source"
    tree = system._start(settings, [rec], source_factory=factory, tables=("active",))
    try:
        _, snap = rec.wait_for(is_snapshot("active"), timeout=40)
    finally:
        tree.stop()
    assert snap.state == "ok"
    assert snap.rows[0].note == loaded


@pytest.mark.timeout(30)
def test_a_child_nobody_kills_ends_itself_after_its_deadline(tmp_path: Path) -> None:
    """The faulthandler timer is the last resort: here no watchdog is running at all."""
    settings = make_settings(tmp_path, deadline=0.2, faults=(("builds", "hang"),), values={"supervision.kill_grace_s": 0.0})
    starter = ProcessStarter(settings, source_factory=FACTORY)
    starter.start()
    reports: queue.Queue[object] = queue.Queue()
    try:
        token, sock = starter.spawn("builds", reports.put, generation=1)
        reader = ChildReader(sock, token=token, deliver=reports.put, max_bytes=settings.supervision.max_result_bytes)
        assert isinstance(reports.get(timeout=20), ChildSpawned)
        sent = time.monotonic()
        assert reader.send(messages.to_json(StartFetch(table="builds", generation=1, seq=1)).encode())
        exited = next(r for r in iter(lambda: reports.get(timeout=10), None) if isinstance(r, ChildExited))
        took = time.monotonic() - sent
        reader.close()
    finally:
        starter.close()
    limit = 0.2 + child.SELF_DESTRUCT_MARGIN_S
    assert exited.returncode == 1  # faulthandler's exit, not a signal
    assert limit - 0.1 <= took <= limit + 1.5
    log = (Path(settings.paths.state_dir) / "fetch.log").read_text()
    assert "Timeout" in log and "hang_holding_the_gil" in log


@pytest.mark.timeout(30)
def test_a_child_stuck_loading_its_source_ends_itself_after_the_start_up_allowance(tmp_path: Path) -> None:
    """The start-up has a faulthandler timer too; no watchdog is running here."""
    settings = make_settings(tmp_path, values={"supervision.startup_deadline_s": 0.2, "supervision.kill_grace_s": 0.0})
    starter = ProcessStarter(settings, source_factory="runtime_fake_sources:open_hanging_source")
    starter.start()
    reports: queue.Queue[object] = queue.Queue()
    try:
        token, sock = starter.spawn("builds", reports.put, generation=1)
        reader = ChildReader(sock, token=token, deliver=reports.put, max_bytes=settings.supervision.max_result_bytes)
        assert isinstance(reports.get(timeout=20), ChildSpawned)
        spawned = time.monotonic()
        seen = []
        while not any(isinstance(r, ChildExited) for r in seen):
            seen.append(reports.get(timeout=10))
        took = time.monotonic() - spawned
        reader.close()
    finally:
        starter.close()
    (exited,) = [r for r in seen if isinstance(r, ChildExited)]
    assert exited.returncode == 1  # faulthandler's exit
    assert not [r for r in seen if isinstance(r, ChildMessage)]  # it never said ready
    assert took <= 0.2 + child.SELF_DESTRUCT_MARGIN_S + 1.5
    log = (Path(settings.paths.state_dir) / "fetch.log").read_text()
    assert "open_hanging_source" in log


@pytest.mark.timeout(30)
def test_a_source_that_cannot_be_built_says_why_when_ready_and_on_each_fetch(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    starter = ProcessStarter(settings, source_factory="no_such_module_here:open_source")
    starter.start()
    reports: queue.Queue[object] = queue.Queue()
    try:
        token, sock = starter.spawn("builds", reports.put, generation=1)
        reader = ChildReader(sock, token=token, deliver=reports.put, max_bytes=settings.supervision.max_result_bytes)
        payloads = []
        for seq in (1, 2):
            reader.send(messages.to_json(StartFetch(table="builds", generation=1, seq=seq)).encode())
        while len(payloads) < 3:
            report = reports.get(timeout=20)
            if isinstance(report, ChildMessage):
                payloads.append(report.payload)
        starter.kill(token, grace=0.0)
        reader.close()
    finally:
        starter.close()
    ready = messages.from_json(payloads[0], expect=(FetchReady,))
    first, second = (messages.from_json(p, expect=(FetchResult,)) for p in payloads[1:])
    assert "cannot import source module 'no_such_module_here'" in ready.error
    assert (first.seq, first.data, first.error) == (1, None, ready.error)
    # The next fetch tries to build the source again (what was missing may be there by now).
    assert second.seq == 2 and second.data is None and "no_such_module_here" in second.error


@pytest.mark.timeout(30)
def test_the_reader_delivers_results_then_end_of_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    starter = ProcessStarter(settings, source_factory=FACTORY)
    starter.start()
    reports: queue.Queue[object] = queue.Queue()
    try:
        token, sock = starter.spawn("vertex", reports.put, generation=7)
        reader = ChildReader(sock, token=token, deliver=reports.put, max_bytes=settings.supervision.max_result_bytes)
        reader.send(messages.to_json(StartFetch(table="vertex", generation=7, seq=3)).encode())
        got = [reports.get(timeout=20) for _ in range(3)]
        # The child says it is ready (source loaded) before it answers anything.
        ready, message = [r for r in got if isinstance(r, ChildMessage)]
        loaded = messages.from_json(ready.payload, expect=(FetchReady,))
        assert loaded.error == "" and 0 < loaded.startup_s < 20
        assert (loaded.table, loaded.generation) == ("vertex", 7)
        result = messages.from_json(message.payload, expect=(FetchResult,))
        assert (result.table, result.generation, result.seq, result.error) == ("vertex", 7, 3, "")
        assert result.data is not None and result.data.rows[0].job_id.startswith("job-")
        starter.kill(token, grace=0.0)
        rest = [reports.get(timeout=10) for _ in range(2)]
        assert {type(r) for r in rest} == {ChildExited, ChildClosed}
        reader.close()
    finally:
        starter.close()


@pytest.mark.timeout(60)
def test_sigterm_right_after_the_fork_reaches_only_the_child(tmp_path: Path) -> None:
    """Spawn and SIGTERM back to back: the signal lands while the child still has the launcher's handlers.

    The launcher must hold signals back across the fork; otherwise the child's
    inherited handler reports the SIGTERM through the wakeup pipe it shares
    with the launcher, and the launcher shuts down as if told to.
    """
    settings = make_settings(tmp_path, faults=(("builds", "hang"),))
    starter = ProcessStarter(settings, source_factory=FACTORY)
    starter.start()
    reports: queue.Queue[object] = queue.Queue()
    ends = []
    try:
        assert starter.wait_ready()
        for _ in range(300):
            token, sock = starter.spawn("builds", reports.put, generation=1)
            ends.append(sock)
            starter.kill(token, grace=1.0)
        exits = []
        while len(exits) < 300:
            report = reports.get(timeout=20)
            if isinstance(report, ChildExited):
                exits.append(report)
        assert starter.launches == 1
        assert {e.returncode for e in exits} <= {-signal.SIGTERM, -signal.SIGKILL}
    finally:
        for sock in ends:
            sock.close()
        starter.close()


def request() -> StartFetch:
    return StartFetch(table="builds", generation=2, seq=5)


def test_results_over_the_limit_become_an_error_naming_the_setting() -> None:
    data = injected.huge_result(10_000)
    payload = child.encode_result(request(), data=data, error="", limit=10_000)
    result = messages.from_json(payload, expect=(FetchResult,))
    assert result.data is None and (result.table, result.generation, result.seq) == ("builds", 2, 5)
    assert result.error.startswith("result too large: ") and "supervision.max_result_bytes" in result.error
    assert len(payload) < 10_000


def test_rows_that_cannot_be_encoded_become_an_error() -> None:
    bad = TableData(rows=(BuildRow(build_id="b", status="S", image="i", region="r", created_at=math.nan),))
    result = messages.from_json(child.encode_result(request(), data=bad, error="", limit=10**6))
    assert "cannot be encoded" in result.error and "non-finite" in result.error


def test_errors_read_like_the_source_meant_them(monkeypatch: pytest.MonkeyPatch) -> None:
    errors = types.ModuleType("arr_actors.sources.errors")

    class SourceError(Exception):
        pass

    errors.SourceError = SourceError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "arr_actors.sources.errors", errors)
    assert child.describe_error(SourceError("no credentials: run gcloud auth application-default login")) == (
        "no credentials: run gcloud auth application-default login"
    )
    assert child.describe_error(ValueError("bad value")) == "ValueError: bad value"
    assert child.describe_error(TimeoutError()) == "TimeoutError"


def test_source_factory_errors_name_the_spec() -> None:
    with pytest.raises(ValueError, match="is not 'module:function'"):
        load_function("no_colon")
    with pytest.raises(AttributeError, match="has no 'nope'"):
        load_function("runtime_fake_sources:nope")
    assert load_function(FACTORY) is not None


def test_fault_kinds_are_checked() -> None:
    assert injected.parse("slow:2.5") == ("slow", 2.5)
    assert injected.parse("hang") == ("hang", None)
    with pytest.raises(ValueError, match="unknown fault kind 'melt'"):
        injected.parse("melt")
    with pytest.raises(ValueError, match="slow needs seconds"):
        injected.parse("slow:soon")
    with pytest.raises(ValueError, match="takes no argument"):
        injected.parse("hang:3")


def test_exit_descriptions() -> None:
    assert describe_exit(-11, killed=False) == "SIGSEGV"
    assert describe_exit(-9, killed=True) == "killed (SIGKILL)"
    assert describe_exit(3, killed=False) == "exit status 3"
    assert describe_exit(None, killed=False) == "the fetch process launcher went away"
