from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import ui_samples as S
from ui_screens import QuietScreen, text_of, wait_for_frame
from urwid_testing import ScriptedScreen

from arr_actors import config
from arr_actors.messages import RefreshRequest, SetPaused
from arr_actors_ui import app

SETTINGS = config.defaults(project="demo-project")


class FakeSystem:
    """Stands in for the runtime: records commands and stop; can send messages."""

    def __init__(self, *, stop_takes: float = 0.0) -> None:
        self.subscriber = None
        self.commands: list[object] = []
        self.stopped = threading.Event()
        self.stop_takes = stop_takes

    def __call__(self, subscriber):
        self.subscriber = subscriber
        return self

    def tell(self, command) -> None:
        self.commands.append(command)

    def stop(self) -> None:
        if self.stop_takes:
            time.sleep(self.stop_takes)
        self.stopped.set()


@pytest.mark.timeout(20)
def test_keys_reach_the_system_and_q_stops_it() -> None:
    system = FakeSystem()
    screen = ScriptedScreen(size=(80, 24), inputs=[["r"], ["tab", "R"], ["p"], ["q"]])
    code = app.run(SETTINGS, start_system=system, initial_messages=S.all_ok(), screen=screen)
    assert code == 0
    assert system.commands == [RefreshRequest("runner"), RefreshRequest(""), SetPaused(True)]
    assert system.stopped.is_set()
    assert "CUDA out of me" in "\n".join(screen.canvases[0].decoded_text)  # initial messages are in the first frame
    assert "PAUSED" in screen.last_text[-1]


@pytest.mark.timeout(20)
def test_the_subscriber_is_an_actor_ref_that_updates_the_screen() -> None:
    system = FakeSystem()
    screen = QuietScreen()

    def start(subscriber):
        system(subscriber)

        def feed() -> None:
            screen.first_frame.wait(10)
            for message in S.all_ok():
                subscriber.tell(message)
            wait_for_frame(screen, "llama-13b-base")
            subscriber.tell(app.QuitRequested("test"))

        threading.Thread(target=feed, daemon=True).start()
        return system

    assert app.run(SETTINGS, start_system=start, screen=screen) == 0
    assert "waiting for the first refresh" in text_of(screen.frames[0])
    assert "llama-13b-base" in text_of(screen.frames[-1])
    assert system.stopped.is_set()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_quit_cleanly(signum: int) -> None:
    system = FakeSystem()
    screen = QuietScreen()
    before = signal.getsignal(signum)

    def start(subscriber):
        def kill() -> None:
            screen.first_frame.wait(10)
            os.kill(os.getpid(), signum)

        threading.Thread(target=kill, daemon=True).start()
        return system(subscriber)

    assert app.run(SETTINGS, start_system=start, screen=screen) == 0
    assert system.stopped.is_set()
    assert signal.getsignal(signum) == before


@pytest.mark.timeout(20)
def test_a_system_that_will_not_stop_does_not_hold_the_exit(capsys: pytest.CaptureFixture[str]) -> None:
    system = FakeSystem(stop_takes=8.0)
    started = time.monotonic()
    assert app.run(SETTINGS, start_system=system, screen=ScriptedScreen(inputs=[["q"]])) == 0
    assert time.monotonic() - started < app.STOP_TIMEOUT_S + 1.5
    assert "did not stop within" in capsys.readouterr().err


@pytest.mark.timeout(20)
def test_log_records_become_notices_instead_of_text_over_the_screen(capsys: pytest.CaptureFixture[str]) -> None:
    system = FakeSystem()
    screen = QuietScreen()

    def start(subscriber):
        def log() -> None:
            screen.first_frame.wait(10)
            logging.getLogger("pykka").error("Unhandled exception in Fetcher (urn:x):\nTraceback ...")
            wait_for_frame(screen, "pykka: Unhandled exception in Fetcher (urn:x):")
            subscriber.tell(app.QuitRequested())

        threading.Thread(target=log, daemon=True).start()
        return system(subscriber)

    app.run(SETTINGS, start_system=start, screen=screen)
    assert "pykka: Unhandled exception in Fetcher (urn:x):" in text_of(screen.frames[-1])
    assert "Unhandled exception" not in capsys.readouterr().err


@pytest.mark.timeout(20)
def test_the_system_starts_once_the_first_frame_is_drawn() -> None:
    screen = ScriptedScreen(inputs=[["q"]])
    system = FakeSystem()
    drawn_when_started: list[int] = []

    def start(subscriber):
        drawn_when_started.append(screen.draw_count)
        return system(subscriber)

    assert app.run(SETTINGS, start_system=start, initial_messages=S.all_ok(), screen=screen) == 0
    assert drawn_when_started == [1]
    assert "CUDA out of me" in "\n".join(screen.canvases[0].decoded_text)
    assert system.stopped.is_set()


class KeysBeforeTheFirstFrame(ScriptedScreen):
    """Feeds ``early`` as soon as the loop runs, before anything is drawn; then the scripted batches."""

    def __init__(self, early: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.early = early
        self.drawn_before_early: int | None = None

    def hook_event_loop(self, event_loop, callback) -> None:
        super().hook_event_loop(event_loop, callback)

        def feed() -> None:
            self.drawn_before_early = self.draw_count
            callback(self.early, [])

        event_loop.alarm(0, feed)


@pytest.mark.timeout(20)
def test_keys_pressed_before_the_system_starts_reach_it_in_order() -> None:
    system = FakeSystem()
    screen = KeysBeforeTheFirstFrame(["r", "p"], inputs=[["q"]])
    assert app.run(SETTINGS, start_system=system, initial_messages=S.all_ok(), screen=screen) == 0
    assert screen.drawn_before_early == 0  # the keys really came before the first frame
    assert system.commands == [RefreshRequest("runner"), SetPaused(True)]


@pytest.mark.timeout(60)
def test_the_first_frame_is_drawn_before_what_only_later_screens_need(tmp_path) -> None:
    # A fresh interpreter: what is imported when the first frame is drawn, and when the system starts.
    code = """
import sys
from urwid_testing import ScriptedScreen
from arr_actors import config
from arr_actors_ui import app

class Screen(ScriptedScreen):
    def draw_screen(self, size, canvas):
        if not self.draw_count:
            print("frame", *sorted(sys.modules))
        super().draw_screen(size, canvas)

class System:
    def tell(self, command):
        pass
    def stop(self):
        pass

def start(subscriber):
    print("start", *sorted(sys.modules))
    return System()

settings = config.defaults(project="demo-project", values={"paths.state_dir": sys.argv[1]})
app.run(settings, start_system=start, screen=Screen(inputs=[["q"]]))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.dirname(__file__)), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=50, check=True, env=env
    )
    lines = {line.split()[0]: set(line.split()[1:]) for line in out.stdout.splitlines()}
    assert list(lines) == ["frame", "start"], out.stdout[:500]
    later = {*app.LATER_MODULES, "arr_actors.diagnostics.registry", "arr_actors.runtime.system"}
    assert not later & lines["frame"]
    assert not later & lines["start"]  # the start comes right after that frame, before the preload


@pytest.mark.timeout(20)
def test_replay_label_is_shown() -> None:
    screen = ScriptedScreen(inputs=[["q"]])
    app.run(SETTINGS, start_system=FakeSystem(), replay_label="REPLAY", screen=screen)
    assert " REPLAY " in screen.last_text[-1]


@pytest.mark.parametrize(
    ("env", "utf8_mode", "encoding", "expected"),
    [
        ({"LANG": "en_US.UTF-8"}, False, "UTF-8", True),
        ({"LANG": "C.UTF-8"}, False, "utf-8", True),
        ({"LC_ALL": "C"}, True, "utf-8", False),  # UTF-8 mode only because the locale is C
        ({"LC_ALL": "C", "PYTHONUTF8": "1"}, True, "utf-8", True),
        ({"LANG": "en_US.ISO-8859-1"}, False, "ISO-8859-1", False),
    ],
)
def test_terminal_is_utf8(env: dict[str, str], utf8_mode: bool, encoding: str, expected: bool) -> None:
    assert app.terminal_is_utf8(env, utf8_mode=utf8_mode, encoding=encoding) is expected


@pytest.mark.timeout(60)
def test_the_ui_never_imports_cloud_libraries() -> None:
    # Namespace stubs such as "google" may exist from the start (.pth files):
    # only what importing the UI adds counts.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import arr_actors_ui, arr_actors_ui.app, arr_actors_ui.actor, arr_actors_ui.screen, arr_actors_ui.views.tables, "
        "arr_actors_ui.views.detail, arr_actors_ui.model, arr_actors_ui.keys, arr_actors_ui.palette, arr_actors.inert\n"
        "import arr_actors.cli\n"
        "added = set(sys.modules) - before\n"
        "bad = sorted(m for m in added if m.split('.')[0] in ('google', 'wandb', 'grpc', 'proto'))\n"
        "print(' '.join(bad))\n"
        "print(len(added), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50, check=True)
    assert out.stdout.strip() == ""
