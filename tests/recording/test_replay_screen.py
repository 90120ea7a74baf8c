"""A replayed screen is the live screen: same messages in, same text and attributes out."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from recording_samples import NOW, session_messages

from arr_actors import messages as m
from arr_actors import recording as rec
from ui import model, screen
from ui.context import RenderContext

SIZES = ((80, 24), (120, 40), (200, 60))


class Screen:
    """The UI's part of a replay: folds every message into the UI state, as the UI actor does."""

    def __init__(self, clock) -> None:
        self.state = model.UiState()
        self._clock = clock
        self._lock = threading.Lock()

        self.own_notices: list[m.Notice] = []

    def tell(self, message) -> None:
        if isinstance(message, m.Notice) and message.text.startswith("replay: "):
            # The replay's own news ("end of recording"), not part of what was recorded.
            self.own_notices.append(message)
            return
        with self._lock:
            self.state = model.receive(self.state, message, now=self._clock())


def hostile_session() -> list[tuple[float, object]]:
    """The sample session plus outside text that tries to drive the terminal."""
    out = list(session_messages())
    t, last = out[-1]
    runner = next(msg for _t, msg in reversed(out) if isinstance(msg, m.TableSnapshot) and msg.table == "runner")
    evil = dataclasses.replace(runner.rows[1], note="boom\x1b]0;pwned\x07\x1b[2J\x1b[31mred\r\x08 end")
    out.append((t + 0.1, dataclasses.replace(runner, seq=9, rows=(runner.rows[0], evil, *runner.rows[2:]))))
    return out


def live_state(messages) -> model.UiState:
    state = model.UiState()
    for t, msg in messages:
        state = model.receive(state, msg, now=NOW + t)
    return state


def replayed_state(settings, messages, tmp_path) -> model.UiState:
    """Record the messages to a file, then play the file back into a screen."""
    path = tmp_path / "session.jsonl"
    clock = [0.0]
    recorder = rec.Recorder.open(str(path), settings, clock=lambda: clock[0], wall_clock=lambda: NOW)
    for t, msg in messages:
        clock[0] = t
        recorder.tell(msg)
    recorder.stop()
    with open(path, "rb") as fh:
        recording = rec.read_recording(fh)
        player = rec.Player(recording, speed=1000.0, shift=False)
        screen = Screen(player.clock)
        player(screen)
        assert player.finished.wait(20)
        player.stop()
    assert recording.skipped == 0
    assert [n.text for n in screen.own_notices] == [f"replay: end of recording ({len(messages)} messages)"]
    return screen.state


def lines(state: model.UiState, *, now: float, size: tuple[int, int]) -> list:
    cols, rows = size
    ctx = RenderContext(regions=18, replay_label="")
    return screen.screen_lines(state, now=now, cols=cols, rows=rows, ctx=ctx)


def text_of(markup_lines) -> str:
    return "\n".join("".join(text for _style, text in line) for line in markup_lines)


@pytest.mark.timeout(60)
def test_replayed_screen_is_identical_to_the_live_one(settings, tmp_path):
    messages = hostile_session()
    live = live_state(messages)
    replayed = replayed_state(settings, messages, tmp_path)
    assert replayed.snapshots == live.snapshots
    # The recording's last moment: a replay that has ended stands still there (toasts still showing).
    now = NOW + messages[-1][0]
    for size in SIZES:
        expected = lines(live, now=now, size=size)
        got = lines(replayed, now=now, size=size)
        assert text_of(got) == text_of(expected), size
        assert got == expected, size  # attributes too, not only the text
    shown = text_of(lines(replayed, now=now, size=(200, 60)))
    assert "boom" in shown and "TIMED OUT" in shown and "calm-sea-10" in shown
    assert "\x1b" not in shown and "\x07" not in shown
    # The open detail view of a row renders the same as well.
    for state_name in ("live", "replayed"):
        state = live if state_name == "live" else replayed
        state, _commands, handled = model.press(state, "enter", now=now)
        assert handled and state.detail is not None
        if state_name == "live":
            live_detail = lines(state, now=now, size=(120, 40))
        else:
            assert lines(state, now=now, size=(120, 40)) == live_detail
