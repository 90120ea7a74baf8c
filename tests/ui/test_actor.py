from __future__ import annotations

import os
import threading

import pykka
import pytest
import ui_samples as S
import urwid
from ui_screens import QuietScreen, text_of, wait_for_frame

from arr_actors.messages import FetchStarted, PauseChanged, TableSnapshot
from arr_actors.tables import TABLE_KEYS
from ui import palette
from ui.actor import QuitRequested, UiActor
from ui.context import RenderContext

CTX = RenderContext()


class RecordingUiActor(UiActor):
    """Records the thread every message is handled on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.threads: set[int] = set()

    def on_receive(self, message):
        self.threads.add(threading.get_ident())
        return super().on_receive(message)


@pytest.fixture
def actor():
    made = RecordingUiActor.open(CTX)
    yield made
    made.detach()
    made.finish()


def make_loop(actor: UiActor, screen: QuietScreen) -> urwid.MainLoop:
    loop = urwid.MainLoop(actor.widget, palette.entries(), screen=screen, handle_mouse=False)
    actor.attach(loop)
    return loop


def snapshot(table: str, seq: int) -> TableSnapshot:
    return S.ok_snapshot(table, seq=seq)


def tell_from_threads(ref, messages, threads: int = 5) -> None:
    """Send from several threads at once; with five threads each table's
    messages come from one thread, in order."""
    chunks = [messages[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=lambda c=c: [ref.tell(m) for m in c]) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)


def test_a_burst_writes_one_wake_byte_and_one_drain_takes_it_all(actor: UiActor) -> None:
    read_fd, write_fd = os.pipe()
    try:
        actor.actor_inbox.connect(write_fd)
        messages = [snapshot(TABLE_KEYS[i % 5], i) for i in range(400)]
        tell_from_threads(actor.actor_ref, messages)
        wake_bytes = os.read(read_fd, 4096)
        assert 1 <= len(wake_bytes) <= 5  # at most one per racing sender
        assert actor.drain() == 400
        assert {k: s.seq for k, s in actor.state.snapshots.items()} == {
            key: max(i for i in range(400) if i % 5 == n) for n, key in enumerate(TABLE_KEYS)
        }
        actor.actor_ref.tell(PauseChanged(True))  # the next message wakes again
        assert os.read(read_fd, 4096) == b"\x00"
    finally:
        actor.actor_inbox.disconnect()
        os.close(read_fd)
        os.close(write_fd)


@pytest.mark.timeout(20)
def test_messages_are_handled_on_the_loop_thread_and_bursts_redraw_once(actor: RecordingUiActor) -> None:
    screen = QuietScreen()
    loop = make_loop(actor, screen)
    messages = [snapshot(TABLE_KEYS[i % 5], i) for i in range(500)]

    def system() -> None:
        screen.first_frame.wait(10)
        tell_from_threads(actor.actor_ref, messages)
        wait_for_frame(screen, "CUDA out of me")
        actor.actor_ref.tell(QuitRequested("done"))

    sender = threading.Thread(target=system)
    sender.start()
    loop.run()
    sender.join(10)
    assert actor.threads == {threading.get_ident()}
    assert actor.quit_reason == "done"
    assert len(actor.state.snapshots) == 5
    assert actor.drains < len(messages) / 5  # bursts were collapsed
    assert len(screen.frames) < len(messages) / 5  # and so were redraws
    assert "vertex-ai-launcher" not in text_of(screen.frames[0])
    assert "CUDA out of me" in text_of(screen.frames[-1])


@pytest.mark.timeout(20)
def test_ask_from_another_thread_is_answered_by_the_loop(actor: UiActor) -> None:
    screen = QuietScreen()
    loop = make_loop(actor, screen)
    answers = []

    def system() -> None:
        answers.append(actor.actor_ref.ask(PauseChanged(True), timeout=10))
        answers.append(actor.actor_ref.proxy().state.get(timeout=10).paused)
        wait_for_frame(screen, "PAUSED")
        actor.actor_ref.tell(QuitRequested())

    sender = threading.Thread(target=system)
    sender.start()
    loop.run()
    sender.join(10)
    assert answers == [None, True]
    assert "PAUSED" in text_of(screen.frames[-1])


@pytest.mark.timeout(20)
def test_stopping_the_actor_from_outside_ends_the_loop(actor: UiActor) -> None:
    screen = QuietScreen()
    loop = make_loop(actor, screen)
    result = []
    stopper = threading.Thread(target=lambda: result.append(actor.actor_ref.stop(timeout=10)))
    stopper.start()
    loop.run()
    stopper.join(10)
    assert result == [True]
    assert actor.quit_reason == "stopped"
    with pytest.raises(pykka.ActorDeadError):
        actor.actor_ref.tell(PauseChanged(True))


def test_a_bad_message_is_shown_not_fatal(actor: UiActor) -> None:
    class Weird(TableSnapshot):
        __slots__ = ()

    actor.actor_ref.tell(object.__new__(Weird))  # a snapshot missing every field
    actor.actor_ref.tell(snapshot("runner", 1))
    assert actor.drain() == 2
    assert "runner" in actor.state.snapshots
    assert any("display error" in t.text for t in actor.state.toasts)


def test_alarm_only_while_something_moves(actor: UiActor) -> None:
    screen = QuietScreen()
    make_loop(actor, screen)
    assert actor.next_wakeup is None  # nothing on screen moves
    now = actor.clock()
    actor.actor_ref.tell(FetchStarted("runner", 1, now, now + 30))
    actor.drain()
    assert actor.next_wakeup is not None and actor.next_wakeup - now <= 0.125 + 0.05
    quiet = TableSnapshot(table="runner", seq=2, state="ok")  # no age, no countdown
    actor.actor_ref.tell(quiet)
    actor.drain()
    assert actor.next_wakeup is None


def test_tell_after_the_end_raises(actor: UiActor) -> None:
    actor.finish()
    with pytest.raises(pykka.ActorDeadError):
        actor.actor_ref.tell(PauseChanged(True))
    assert actor.actor_ref not in pykka.ActorRegistry.get_all()


class RecordingSystem:
    def __init__(self) -> None:
        self.commands: list[object] = []

    def tell(self, command: object) -> None:
        self.commands.append(command)


def test_keys_pressed_on_the_screen_widget_send_commands_and_change_the_view(actor: UiActor) -> None:
    from urwid.testing import press, render_text

    from arr_actors.messages import RefreshRequest, SetPaused

    system = RecordingSystem()
    actor.system = system
    for message in S.all_ok():
        actor.actor_ref.tell(message)
    actor.drain()
    size = (80, 24)
    assert press(actor.widget, size, "tab", "r", "R", "p", "x") == ["x"]  # x is not bound
    assert system.commands == [RefreshRequest("builds"), RefreshRequest(""), SetPaused(True)]
    screen = render_text(actor.widget, size)
    assert screen[-1].startswith(" PAUSED ")
    assert any(line.startswith("▶ Cloud Builds") for line in screen)
    press(actor.widget, size, "down", "enter")
    assert render_text(actor.widget, size)[0].startswith(" Cloud Builds › b4f0c0de")
    press(actor.widget, size, "esc", "/", "1", "3", "b", "enter")
    screen = "\n".join(render_text(actor.widget, size))
    assert "llama-13b-base" in screen and "llama-7b-warmup" not in screen
    with pytest.raises(urwid.ExitMainLoop):
        press(actor.widget, size, "q")
    assert actor.quit_reason == "quit"
