"""Watching a monitor on another host: a recorder piped through an ssh-like relay into the viewer.

The relay (fake_ssh.py) behaves like the ssh client: it forwards its standard
input and the remote command's output, and notices that the viewer quit only
when it next writes. The recorder here is the real headless recorder
(``record_headless``) fed by a message source that falls silent after one round,
so only its heartbeat can make the relay notice.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
import time
from pathlib import Path

import pytest

from arr_actors.recording import remote

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from e2e.pty import Terminal, wait_gone  # noqa: E402

PYTHON = sys.executable
FAKE_SSH = HERE / "fake_ssh.py"
DRIVER = ROOT / "tests" / "recording" / "headless_driver.py"

#: The remote side must be gone this soon after the viewer quit (README: "within 2 s").
STOP_WITHIN_S = 2.0


def program_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["FAKE_SSH_PIDFILE"] = str(tmp_path / "remote.pid")
    env["FAKE_SSH_STDIN_LOG"] = str(tmp_path / "stdin.log")
    return env


def remote_pid(tmp_path: Path) -> int:
    return int((tmp_path / "remote.pid").read_text())


def quit_and_time_the_remote(term: Terminal, tmp_path: Path) -> float:
    """Press q; seconds until the remote recorder is gone (the viewer must exit 0)."""
    pid = remote_pid(tmp_path)
    term.press("q")
    pressed = time.monotonic()
    assert term.wait_exit(timeout=10) == 0
    assert wait_gone([pid], timeout=10) == [], "the remote recorder is still running"
    return time.monotonic() - pressed


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_quitting_the_viewer_ends_an_idle_remote_recorder_within_2_s(tmp_path):
    remote_side = f"{shlex.quote(PYTHON)} {shlex.quote(str(DRIVER))} idle"
    pipeline = (
        f"{shlex.quote(PYTHON)} {shlex.quote(str(FAKE_SSH))} -n host {shlex.quote(remote_side)}"
        f" | {shlex.quote(PYTHON)} -m arr_actors replay -"
    )
    env = program_env(tmp_path)
    with Terminal(["/bin/sh", "-c", pipeline], cols=120, rows=40, env=env, cwd=str(tmp_path)) as term:
        term.wait_text("REPLAY", timeout=20)
        term.wait_text("calm-sea-10", timeout=20)
        # The source has told everything and stays silent from here: only heartbeats flow.
        time.sleep(0.2)  # not a wait for a condition: the silence itself is what is tested
        took = quit_and_time_the_remote(term, tmp_path)
    assert took < STOP_WITHIN_S, f"the remote recorder ended {took:.1f} s after q"


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_view_keeps_ssh_off_the_terminal_and_stops_the_remote_side(tmp_path):
    # The "remote Python" ignores `-m arr_actors --record -` and runs the recorder driver instead.
    python = tmp_path / "remote-python"
    python.write_text(f"#!/bin/sh\nexec {shlex.quote(PYTHON)} {shlex.quote(str(DRIVER))} idle\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    ssh = f"{shlex.quote(PYTHON)} {shlex.quote(str(FAKE_SSH))}"
    argv = [PYTHON, "-m", "arr_actors", "view", "--ssh", ssh, "me@gpu-box", "--", str(python)]
    env = program_env(tmp_path)
    with Terminal(argv, cols=120, rows=40, env=env, cwd=str(tmp_path)) as term:
        term.wait_text("REPLAY", timeout=20)
        term.wait_text("calm-sea-10", timeout=20)
        term.press(*"jjjjjjjjj")
        term.press("tab")
        term.wait_for(lambda t: "Cloud Builds" in t.text(), timeout=5)
        took = quit_and_time_the_remote(term, tmp_path)
    # ssh never read the terminal: not one key went to it, all went to the viewer.
    assert not (tmp_path / "stdin.log").exists(), (tmp_path / "stdin.log").read_bytes()
    assert took < STOP_WITHIN_S, f"the remote side ended {took:.1f} s after q"


def test_the_remote_command_keeps_a_home_relative_python_expandable():
    assert remote.remote_command("~/arr/.venv/bin/python", []) == "~/arr/.venv/bin/python -m arr_actors --record -"
    assert remote.remote_command("python3", ["--demo", "--scenario", "launch ok"]) == (
        "python3 -m arr_actors --record - --demo --scenario 'launch ok'"
    )
    assert remote.remote_command("/opt/my env/python", []) == "'/opt/my env/python' -m arr_actors --record -"
    assert remote.ssh_argv("ssh -p 2222", "me@box", "cmd") == ["ssh", "-p", "2222", "-n", "-T", "me@box", "cmd"]


@pytest.mark.timeout(30)
def test_view_errors_are_one_line(tmp_path):
    import subprocess

    proc = subprocess.run(
        [PYTHON, "-m", "arr_actors", "view", "--ssh", "no-such-ssh-client", "host"],
        capture_output=True, timeout=20, env=program_env(tmp_path),
    )
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert "'no-such-ssh-client' not found" in err


@pytest.mark.gcp
@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_the_real_monitor_through_ssh_stops_within_2_s_of_the_viewer_quitting(tmp_path):
    remote_side = f"{shlex.quote(PYTHON)} -m arr_actors --record - --demo"
    pipeline = (
        f"{shlex.quote(PYTHON)} {shlex.quote(str(FAKE_SSH))} -n host {shlex.quote(remote_side)}"
        f" | {shlex.quote(PYTHON)} -m arr_actors replay -"
    )
    env = program_env(tmp_path)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    with Terminal(["/bin/sh", "-c", pipeline], cols=160, rows=60, env=env, cwd=str(tmp_path)) as term:
        term.wait_text("REPLAY", timeout=30)
        term.wait_for(lambda t: "rows" in (t.line_with("Cloud Builds") or ""), timeout=60, what="builds with rows")
        took = quit_and_time_the_remote(term, tmp_path)
    assert took < STOP_WITHIN_S, f"the remote monitor ended {took:.1f} s after q"
