"""The log view's reads against the emulator's Cloud Logging: the right entries, newest page first, following."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from source_helpers import emulator_settings, start_emulator

from arr_actors.messages import LogPage, LogRequest, LogSource
from arr_actors.sources import limiter as limiter_mod
from arr_actors.sources import logread
from arr_actors.sources.clients import Clients

pytestmark = pytest.mark.timeout(120)

NOW = time.time()


@pytest.fixture(scope="module")
def world():
    emu, clock = start_emulator(NOW)
    emu.control.set_log_gaps(0.0)
    yield emu, clock
    emu.stop()


def lines_of(pages: list[LogPage]) -> tuple[str, ...]:
    """The lines of a read's pages as a view holds them: each ``older`` page before what came earlier."""
    out: tuple[str, ...] = ()
    for page in pages:
        out = page.lines + out if page.older else out + page.lines
    return out


def read_all(settings, request: LogRequest) -> tuple[list[LogPage], LogPage]:
    pages: list[LogPage] = []
    clients = Clients(settings)
    try:
        last = logread.read(settings, request, send=pages.append, clients=clients)
    finally:
        clients.close()
    return pages, last


def test_a_failed_execution_reads_whole_and_names_its_failure_line(world, tmp_path: Path) -> None:
    emu, _ = world
    settings = emulator_settings(emu, tmp_path)
    ex = next(e for e in emu.world.all_executions(NOW) if e.outcome == "FAILED" and e.ended < NOW)
    source = LogSource("runner", f"{ex.region}/{ex.name}", ex.name, ex.name, ex.region, ex.created, ex.ended, failed=True)
    pages, last = read_all(settings, LogRequest(1, source))
    assert pages == [] and last.done and not last.cut
    assert last.lines == tuple(line.text for line in ex.visible_lines(NOW))
    assert last.error_line and any(last.error_line in line for line in last.lines)
    assert last.calls == 1 and last.cursor is not None


def test_ten_thousand_lines_come_newest_page_first_and_stop_at_the_bound(world, tmp_path: Path) -> None:
    emu, _ = world
    settings = emulator_settings(emu, tmp_path, values={"api.log_max_lines": 10_000})
    ex = next(e for e in emu.world.all_executions(NOW) if e.outcome == "FAILED" and e.ended < NOW)
    source = LogSource("runner", f"{ex.region}/{ex.name}", ex.name, ex.name, ex.region, ex.created, ex.ended, failed=True)
    emu.control.set_log_volume(10_000)
    try:
        pages, last = read_all(settings, LogRequest(7, source))
    finally:
        emu.control.set_log_volume(0)
    # 10,000 filler lines and the execution's own: more than the bound, so the oldest are cut.
    assert [len(p.lines) for p in pages] == [1000] * 9 and len(last.lines) == 1000
    assert last.cut and last.calls == 10
    assert not pages[0].older and all(p.older for p in pages[1:]) and last.older
    assert pages[0].lines[-1] == ex.lines[-1].text  # the newest line came first
    assert pages[0].error_line  # the failure is in the newest page, found there
    whole = lines_of([*pages, last])
    assert len(whole) == 10_000 and whole[-1] == ex.lines[-1].text


@pytest.mark.parametrize("kind", ["vertex", "builds"])
def test_a_job_or_a_build_reads_only_its_own_entries(world, tmp_path: Path, kind: str) -> None:
    emu, _ = world
    settings = emulator_settings(emu, tmp_path)
    if kind == "vertex":
        job = next(j for j in emu.world.vertex_jobs(None, NOW) if j.outcome == "FAILED" and j.ended < NOW)
        source = LogSource("vertex", job.job_id, job.display_name, job.job_id, job.region, job.created, job.ended, failed=True)
        marker, failure = f"Starting training: {job.display_name}", "RuntimeError:"
    else:
        build = next(b for b in emu.world.builds(None, NOW) if b.outcome == "FAILURE" and b.finished < NOW)
        source = LogSource("builds", build.build_id, build.build_id, build.build_id, "", build.created, build.finished, failed=True)
        marker, failure = f'starting build "{build.build_id}"', "ERROR:"
    _, last = read_all(settings, LogRequest(2, source))
    assert last.lines[0].startswith(marker)
    assert sum(marker in line for line in last.lines) == 1  # no other item's entries
    assert last.error_line.startswith(failure)


def test_following_reads_only_what_was_added(world, tmp_path: Path) -> None:
    emu, clock = world
    settings = emulator_settings(emu, tmp_path)
    build = next(b for b in emu.world.builds(None, NOW) if b.status(NOW) == "WORKING")
    source = LogSource("builds", build.build_id, build.build_id, build.build_id, "", build.created, None)
    _, first = read_all(settings, LogRequest(3, source, follow=True))
    try:
        clock.set(build.finished + 1.0)
        _, more = read_all(settings, LogRequest(3, source, follow=True, after=first.cursor))
        _, nothing = read_all(settings, LogRequest(3, source, follow=True, after=more.cursor))
    finally:
        clock.set(NOW)
    everything = tuple(line.text for line in __import__("arr_actors.emulator.itemlogs", fromlist=["x"]).build_lines(build, now=build.finished + 1.0))
    assert first.lines + more.lines == everything  # nothing twice, nothing missed
    assert more.lines and nothing.lines == () and nothing.cursor == more.cursor


def test_a_full_limiter_makes_no_call_and_says_until_when(world, tmp_path: Path) -> None:
    emu, _ = world
    settings = emulator_settings(emu, tmp_path, values={"api.logging_reads_per_minute": 1, "api.log_read_deadline_s": 0.2})
    limiter = limiter_mod.for_settings(settings)
    assert limiter.try_acquire()
    before = emu.control.stats().get("ListLogEntries", 0)
    ex = emu.world.all_executions(NOW)[0]
    source = LogSource("runner", f"{ex.region}/{ex.name}", ex.name, ex.name, ex.region, ex.created, None)
    with pytest.raises(logread.ThrottledRead) as raised:
        read_all(settings, LogRequest(4, source))
    assert raised.value.free_at is not None and raised.value.free_at > time.time()
    assert "read limit reached" in str(raised.value)
    assert emu.control.stats().get("ListLogEntries", 0) == before


def test_a_huge_line_is_cut_with_a_note() -> None:
    class Entry:
        text_payload = "x" * (logread.LINE_LIMIT + 10) + "\nshort"
        json_payload = None

    lines = logread._lines(Entry())
    assert lines[0] == "x" * logread.LINE_LIMIT + " [10 more characters cut]" and lines[1] == "short"
