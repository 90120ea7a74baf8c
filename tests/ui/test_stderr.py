from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ui_screens import QuietScreen, text_of, wait_for_frame

from arr_actors import config
from ui import app
from ui.stderr import divert_stderr

CHILD = "import sys; sys.stderr.write('absl warning \\x1b[2Jcleared\\nsecond line\\npartial')"


@pytest.mark.timeout(30)
def test_children_write_to_the_log_and_the_callback_not_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "state" / "stderr.log"
    seen: list[str] = []
    with divert_stderr(str(log), on_line=seen.append, force=True) as diversion:
        subprocess.run([sys.executable, "-c", CHILD], check=True, timeout=20)
    assert diversion is not None
    assert seen == ["absl warning cleared", "second line", "partial"]
    assert diversion.lines == 3
    assert log.read_bytes() == b"absl warning \x1b[2Jcleared\nsecond line\npartial\n"
    os.write(2, b"after the diversion\n")
    assert b"after" not in log.read_bytes()


def test_output_redirected_by_the_user_is_left_alone(tmp_path: Path) -> None:
    if os.isatty(2):
        pytest.skip("descriptor 2 is a terminal here")
    with divert_stderr(str(tmp_path / "x.log"), on_line=print) as diversion:
        pass
    assert diversion is None


def test_an_unwritable_log_is_reported_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    seen: list[str] = []
    with divert_stderr(str(blocker / "sub" / "x.log"), on_line=seen.append, force=True) as diversion:
        os.write(2, b"still shown\n")
    assert diversion is not None
    diversion._done.wait(5)
    assert seen == ["still shown"]
    assert "x.log" in diversion.log_error


@pytest.mark.timeout(30)
def test_the_screen_shows_stray_output_as_a_notice(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    settings = config.defaults(project="demo-project").with_values({"paths.state_dir": str(tmp_path)})
    screen = QuietScreen()

    class System:
        def tell(self, command: object) -> None:
            pass

        def stop(self) -> None:
            pass

    def start(subscriber):
        def noisy() -> None:
            screen.first_frame.wait(10)
            subprocess.run([sys.executable, "-c", CHILD], check=True, timeout=20)
            wait_for_frame(screen, "stderr: second line")
            subscriber.tell(app.QuitRequested())

        threading.Thread(target=noisy, daemon=True).start()
        return System()

    assert app.run(settings, start_system=start, screen=screen, divert=True) == 0
    assert "stderr: second line" in text_of(screen.frames[-1])
    err = capfd.readouterr().err
    assert "absl warning" not in err
    assert f"3 line(s) of diagnostic output were written to {tmp_path / app.STDERR_LOG}" in err
