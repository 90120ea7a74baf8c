"""The log reader's machine: one read at a time, its deadline, following, stopping."""

from __future__ import annotations

from arr_actors import config
from arr_actors.messages import (
    FetchReady,
    FetchResult,
    LogCursor,
    LogPage,
    LogRequest,
    LogSource,
    LogStop,
    StartFetch,
    Tick,
)
from arr_actors.runtime.policy import Publish, logreads
from arr_actors.runtime.protocol import ChildGone, KillFetch
from arr_actors.tables import LOG_READER

SETTINGS = config.defaults(values={"api.log_read_deadline_s": 30.0, "api.log_follow_s": 10.0, "supervision.startup_deadline_s": 60.0})
SOURCE = LogSource("runner", "r/x", "execution x", "x", "r", 100.0, None)


class Machine:
    def __init__(self) -> None:
        self.state = logreads.ReaderState()

    def feed(self, event: object, now: float) -> tuple:
        self.state, commands = logreads.handle(self.state, event, now, SETTINGS)
        return commands


def starts(commands: tuple) -> list[StartFetch]:
    return [c for c in commands if isinstance(c, StartFetch)]


def pages(commands: tuple) -> list[LogPage]:
    return [c.message for c in commands if isinstance(c, Publish) and isinstance(c.message, LogPage)]


def test_a_request_starts_a_read_whose_deadline_waits_for_the_new_process() -> None:
    m = Machine()
    (start,) = starts(m.feed(LogRequest(1, SOURCE), 0.0))
    assert start.table == LOG_READER and start.log == LogRequest(1, SOURCE)
    assert m.state.deadline_at == 60.0 + 30.0
    m.feed(FetchReady(LOG_READER, 1, 2.0), 2.0)
    assert m.state.deadline_at == 32.0 and logreads.next_tick_at(m.state) == 32.0


def test_pages_go_to_the_view_and_a_followed_read_comes_back_after_the_interval() -> None:
    m = Machine()
    m.feed(LogRequest(1, SOURCE, follow=True), 0.0)
    m.feed(FetchReady(LOG_READER, 1, 1.0), 1.0)
    partial = LogPage(1, ("b",), done=False)
    assert pages(m.feed(FetchResult(LOG_READER, 1, 1, partial=True, log=partial), 2.0)) == [partial]
    cursor = LogCursor("2026-01-01T00:00:00Z", ("id1",))
    final = LogPage(1, ("a",), older=True, cursor=cursor)
    (told,) = pages(m.feed(FetchResult(LOG_READER, 1, 1, log=final), 3.0))
    assert told.next_read_at == 13.0 and told.lines == ("a",)
    assert starts(m.feed(Tick(12.9), 12.9)) == []
    (again,) = starts(m.feed(Tick(13.0), 13.0))
    assert again.log == LogRequest(1, SOURCE, follow=True, after=cursor)


def test_a_throttled_read_follows_when_the_budget_frees() -> None:
    m = Machine()
    m.feed(LogRequest(1, SOURCE, follow=True), 0.0)
    m.feed(FetchReady(LOG_READER, 1, 1.0), 1.0)
    (told,) = pages(m.feed(FetchResult(LOG_READER, 1, 1, log=LogPage(1, error="limit", throttled_until=50.0)), 2.0))
    assert told.next_read_at == 50.0 and told.error == "limit"


def test_a_read_past_its_deadline_is_killed_and_the_view_told() -> None:
    m = Machine()
    m.feed(LogRequest(1, SOURCE), 0.0)
    m.feed(FetchReady(LOG_READER, 1, 1.0), 1.0)
    commands = m.feed(Tick(31.0), 31.0)
    assert [c for c in commands if isinstance(c, KillFetch)] == [KillFetch(LOG_READER, 1, 1, "deadline")]
    (told,) = pages(commands)
    assert told.request == 1 and "timed out after 30 s" in told.error
    assert m.state.generation == 2 and not m.state.child_ready
    # The next log opens in a new process: the start-up allowance again.
    (start,) = starts(m.feed(LogRequest(2, SOURCE), 40.0))
    assert start.generation == 2 and m.state.deadline_at == 40.0 + 60.0 + 30.0


def test_a_crash_is_told_and_a_late_answer_of_the_old_read_ignored() -> None:
    m = Machine()
    m.feed(LogRequest(1, SOURCE), 0.0)
    m.feed(FetchReady(LOG_READER, 1, 1.0), 1.0)
    (told,) = pages(m.feed(ChildGone(LOG_READER, 1, 1, cause="SIGSEGV", killed=False), 2.0))
    assert "the log reader died (SIGSEGV)" in told.error
    assert pages(m.feed(FetchResult(LOG_READER, 1, 1, log=LogPage(1, ("late",))), 3.0)) == []


def test_a_request_during_a_read_waits_and_replaces_an_older_waiting_one() -> None:
    m = Machine()
    m.feed(LogRequest(1, SOURCE, follow=True), 0.0)
    m.feed(FetchReady(LOG_READER, 1, 1.0), 1.0)
    assert starts(m.feed(LogRequest(2, SOURCE), 2.0)) == []
    assert starts(m.feed(LogRequest(3, SOURCE), 3.0)) == []
    commands = m.feed(FetchResult(LOG_READER, 1, 1, log=LogPage(1, ("x",))), 4.0)
    (told,) = pages(commands)
    assert told.next_read_at is None  # request 1 is no longer followed: another view replaced it
    (start,) = starts(commands)
    assert start.log is not None and start.log.request == 3


def test_stop_ends_following() -> None:
    m = Machine()
    m.feed(LogRequest(1, SOURCE, follow=True), 0.0)
    m.feed(FetchReady(LOG_READER, 1, 1.0), 1.0)
    m.feed(FetchResult(LOG_READER, 1, 1, log=LogPage(1, ("x",), cursor=LogCursor("2026-01-01T00:00:00Z"))), 2.0)
    assert logreads.next_tick_at(m.state) == 12.0
    m.feed(LogStop(1), 3.0)
    assert logreads.next_tick_at(m.state) is None
    assert starts(m.feed(Tick(20.0), 20.0)) == []


def test_tables_events_are_not_the_readers() -> None:
    assert not logreads.concerns(FetchResult("runner", 1, 1))
    assert logreads.concerns(FetchResult(LOG_READER, 1, 1)) and logreads.concerns(LogStop(1))
