"""``arr-actors view HOST``: watch a monitor running on another host, over ssh.

    arr-actors view me@gpu-box                                  # python3 -m arr_actors there
    arr-actors view me@gpu-box -- ~/arr/.venv/bin/python        # that host's environment
    arr-actors view me@gpu-box -- ~/arr/.venv/bin/python --demo # and monitor flags after it

Runs ``ssh -n -T HOST 'PYTHON -m arr_actors --record - [FLAGS]'`` and replays its
output on this screen, as ``ssh -n HOST '...' | arr-actors replay -`` does:
``-n`` keeps ssh off the terminal, so every key reaches the viewer; ``-T`` asks
for no remote terminal, so the stream stays bytes. When the viewer quits, ssh is
ended; the remote monitor stops within 2 s (its heartbeat finds the closed pipe).
Needs only ssh here; the remote host needs the program with its gcp extra.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import IO

from arr_actors.recording.format import RecordingError
from arr_actors.recording.reader import read_recording
from arr_actors.recording.replay import run_ui
from arr_actors.usage import EXIT_USAGE, Parser, UsageError

PROG = "arr-actors view"
DEFAULT_PYTHON = "python3"
#: How long ssh may take to end after the viewer quit before it is killed.
SSH_STOP_S = 2.0
#: Lines of ssh's own error output shown when the remote side failed.
ERROR_LINES = 5

_SAFE_HOME_PATH = re.compile(r"~[\w.-]*(/[\w@%+=:,./-]*)?")


def parser() -> Parser:
    p = Parser(
        prog=PROG,
        description=(
            "Watch a monitor running on another host: runs it there with --record - over ssh "
            "and replays the stream here (only urwid and pykka needed on this side)."
        ),
    )
    p.add_argument("host", metavar="[USER@]HOST", help="where to run the monitor (anything ssh accepts)")
    p.add_argument("remote", nargs="*", metavar="-- PYTHON [FLAGS...]",
                   help=f"the remote Python (default {DEFAULT_PYTHON}), then monitor flags such as --demo")
    p.add_argument("--ssh", default="ssh", metavar="COMMAND", help="the ssh program (default ssh)")
    return p


def remote_command(python: str, flags: Sequence[str]) -> str:
    """The shell command run on the remote host; a leading ``~`` of the Python path still expands there."""
    shown = python if _SAFE_HOME_PATH.fullmatch(python) else shlex.quote(python)
    return " ".join([shown, "-m", "arr_actors", "--record", "-", *(shlex.quote(f) for f in flags)])


def ssh_argv(ssh: str, host: str, command: str) -> list[str]:
    # -n: stdin from /dev/null, so ssh never reads the terminal the viewer reads keys from;
    # -T: no remote terminal (a pty would turn the JSON stream's newlines into CR LF).
    return [*shlex.split(ssh), "-n", "-T", host, command]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        if args.host.startswith("-"):
            raise UsageError(f"{args.host!r} is not a host")
        python, *flags = args.remote or [DEFAULT_PYTHON]
        if shutil.which(shlex.split(args.ssh)[0] if args.ssh.strip() else "") is None:
            raise UsageError(f"{args.ssh!r} not found: install an ssh client or name one with --ssh")
        if not sys.stdin.isatty():
            raise UsageError("standard input is not a terminal: the viewer needs one to read keys from")
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return view(ssh_argv(args.ssh, args.host, remote_command(python, flags)), host=args.host)


def view(argv: list[str], *, host: str) -> int:
    """Run ``argv`` (an ssh command streaming a recording) and replay its output until the viewer quits.

    Exit status: the viewer's, or 1 when no recording came back (ssh's last words say why).
    """
    print(f"{PROG}: starting the monitor on {host}...", file=sys.stderr, flush=True)
    with tempfile.TemporaryFile() as errors:
        # ssh's own messages would scribble over the screen: keep them for after.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        stream = proc.stdout
        try:
            stop = threading.Event()
            try:
                rec = read_recording(stream, stop=stop)
            except RecordingError as exc:
                _end(proc)
                print(f"{PROG}: {host}: no recording came back: {_last_lines(errors) or exc}", file=sys.stderr)
                return 1
            return run_ui(rec, speed=1.0, live=True, stop=stop)
        except KeyboardInterrupt:
            return 130
        finally:
            with contextlib.suppress(OSError):
                stream.close()
            _end(proc)


def _end(proc: subprocess.Popen[bytes]) -> None:
    """End ssh now: the remote monitor then finds its output closed and stops (terminate, then kill)."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(SSH_STOP_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _last_lines(errors: IO[bytes]) -> str:
    try:
        errors.seek(0)
        text = errors.read().decode(errors="replace")
    except (OSError, ValueError):
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[-ERROR_LINES:])


