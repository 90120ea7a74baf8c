"""The replay feeder: pace, speed, pause, stop, warnings and the replay clock."""

from __future__ import annotations

import io
import threading
import time

import pytest
from recording_samples import NOW, sample_snapshots

from arr_actors import messages as m
from arr_actors import recording as rec


class Screen:
    """Stands in for the UI's subscriber: notes what arrives and when."""

    def __init__(self) -> None:
        self.got: list[tuple[float, object]] = []
        self.changed = threading.Condition()

    def tell(self, message) -> None:
        with self.changed:
            self.got.append((time.monotonic(), message))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.got) >= count, timeout), self.got

    @property
    def messages(self) -> list:
        return [msg for _at, msg in self.got]


def recording_of(settings, entries, *, extra: bytes = b"") -> rec.Recording:
    data = rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(t, x) for t, x in entries) + extra
    return rec.read_recording(io.BytesIO(data))


@pytest.mark.timeout(20)
def test_messages_arrive_at_the_recorded_pace_times_speed(settings):
    entries = [(0.0, m.PauseChanged(True)), (1.0, m.PauseChanged(False)), (2.0, m.PauseChanged(True))]
    screen = Screen()
    player = rec.Player(recording_of(settings, entries), speed=8.0)
    started = time.monotonic()
    player(screen)
    assert player.finished.wait(10)
    player.stop()
    assert screen.messages[:3] == [x for _t, x in entries]
    at = [when - started for when, _msg in screen.got[:3]]
    assert at[1] >= 1.0 / 8 - 0.01 and at[2] >= 2.0 / 8 - 0.01
    assert at[2] < 5
    end = screen.messages[3]
    assert isinstance(end, m.Notice) and end.text == "replay: end of recording (3 messages)"


@pytest.mark.timeout(20)
def test_skipped_lines_become_warnings_on_screen(settings):
    screen = Screen()
    player = rec.Player(recording_of(settings, [(0.0, m.PauseChanged(True))], extra=b"junk\n"), speed=100)
    player(screen)
    assert player.finished.wait(10)
    warning, end, ended = screen.messages[1:]
    assert isinstance(ended, m.PlaybackEnded)
    assert warning.level == "warning"
    assert warning.text == "replay: line 3 skipped: not valid JSON (Expecting value: line 1 column 1 (char 0))"
    assert end.text == "replay: end of recording (1 messages, 1 lines skipped)"


@pytest.mark.timeout(20)
def test_pause_holds_playback_and_resume_continues(settings):
    entries = [(0.0, m.Notice("first")), (0.3, m.Notice("second"))]
    screen = Screen()
    player = rec.Player(recording_of(settings, entries))
    player(screen)
    screen.wait_for(1)
    player.tell(m.SetPaused(True))
    held_from = time.monotonic()
    # While paused nothing more is delivered, however long the pause.
    time.sleep(0.8)
    assert [x.text for x in screen.messages if isinstance(x, m.Notice)] == ["first"]
    player.tell(m.SetPaused(False))
    resumed = time.monotonic()
    screen.wait_for(4)
    player.stop()
    assert screen.messages[1:3] == [m.PauseChanged(True), m.PauseChanged(False)]
    second_at = next(at for at, x in screen.got if isinstance(x, m.Notice) and x.text == "second")
    # The paused time does not count: "second" comes ~0.3 s of playing time after "first".
    assert second_at - held_from >= 0.8
    assert second_at - resumed < 3


@pytest.mark.timeout(20)
def test_stop_ends_a_long_wait_at_once(settings):
    entries = [(0.0, m.Notice("now")), (3600.0, m.Notice("in an hour"))]
    screen = Screen()
    player = rec.Player(recording_of(settings, entries))
    player(screen)
    screen.wait_for(1)
    started = time.monotonic()
    player.stop()
    assert time.monotonic() - started < 1.5
    assert player.finished.is_set()
    assert [x.text for x in screen.messages] == ["now"]


@pytest.mark.timeout(20)
def test_refresh_requests_are_ignored(settings):
    screen = Screen()
    player = rec.Player(recording_of(settings, []))
    player(screen)
    player.tell(m.RefreshRequest())
    assert player.finished.wait(10)
    player.stop()
    assert [type(x) for x in screen.messages] == [m.Notice, m.PlaybackEnded]


@pytest.mark.timeout(20)
def test_moments_are_moved_to_the_replay_clock(settings):
    snap = sample_snapshots(NOW)["runner"]
    screen = Screen()
    replay_now = NOW + 86_400.0  # replayed a day later
    player = rec.Player(recording_of(settings, [(2.0, snap)]), speed=100, wall_clock=lambda: replay_now)
    player(screen)
    assert player.finished.wait(10)
    shown = screen.messages[0]
    delta = replay_now - (NOW + 2.0)
    assert shown.fetched_at == snap.fetched_at + delta
    assert shown.rows[0].created_at == snap.rows[0].created_at + delta
    # So the age on screen is what it was when recorded: 2 s after start, fetched 2 s before NOW.
    assert replay_now - shown.fetched_at == pytest.approx((NOW + 2.0) - snap.fetched_at)


@pytest.mark.timeout(20)
def test_speed_must_be_positive(settings):
    with pytest.raises(ValueError, match="greater than 0"):
        rec.Player(recording_of(settings, []), speed=0)


@pytest.mark.timeout(20)
def test_a_live_stream_catches_up_after_a_pause(settings):
    """With the replay clock frozen after a long pause, only catching up can deliver "second"."""
    entries = [(0.0, m.Notice("first")), (0.3, m.Notice("second"))]
    clock = [0.0]
    screen = Screen()
    player = rec.Player(recording_of(settings, entries), live=True, clock=lambda: clock[0])
    player(screen)
    screen.wait_for(1)
    clock[0] = 0.1
    player.tell(m.SetPaused(True))
    clock[0] = 60.0
    player.tell(m.SetPaused(False))
    screen.wait_for(4)
    player.stop()
    assert [x.text for x in screen.messages if isinstance(x, m.Notice)][:2] == ["first", "second"]


@pytest.mark.timeout(20)
def test_clock_tells_the_recordings_own_time(settings):
    """The screen's "now" during a replay: recording time at the playback position."""
    mono = [500.0]
    player = rec.Player(recording_of(settings, [(3600.0, m.Notice("late"))]), speed=4.0, shift=False,
                        clock=lambda: mono[0])
    screen = Screen()
    player(screen)
    try:
        assert player.clock() == NOW
        mono[0] = 510.0
        assert player.clock() == NOW + 40.0  # ten seconds at four times the speed
        player.tell(m.SetPaused(True))
        mono[0] = 600.0
        assert player.clock() == NOW + 40.0  # stands still while paused
        player.tell(m.SetPaused(False))
        mono[0] = 601.0
        assert player.clock() == NOW + 44.0
    finally:
        player.stop()
    assert screen.messages == [m.PauseChanged(True), m.PauseChanged(False)]


@pytest.mark.timeout(20)
def test_without_shift_messages_keep_their_recorded_moments(settings):
    snap = sample_snapshots(NOW)["runner"]
    screen = Screen()
    player = rec.Player(recording_of(settings, [(0.0, snap)]), shift=False, wall_clock=lambda: NOW + 86_400.0)
    player(screen)
    assert player.finished.wait(10)
    assert screen.messages[0] == snap
    assert screen.messages[1].at == pytest.approx(NOW, abs=5)  # the end notice is stamped in recording time


@pytest.mark.timeout(20)
def test_the_end_is_told_with_the_moment_of_the_last_message(settings):
    entries = [(0.0, m.Notice("first")), (0.5, m.Notice("last"))]
    screen = Screen()
    player = rec.Player(recording_of(settings, entries), speed=10, shift=False)
    player(screen)
    assert player.finished.wait(10)
    assert screen.messages[-1] == m.PlaybackEnded(at=NOW + 0.5)
    player.stop()
