"""Run a program in a real pseudo-terminal and read its screen: end-to-end tests and the benchmark.

``Terminal`` spawns a command with pexpect at a fixed size and feeds everything
it writes into a pyte screen, so a caller can ask what a person would see: the
text of each row, the attributes of a cell, the window title. Callers wait for
a condition on the screen with ``wait_for`` (seconds it took) or ``wait_until``
(the moment the bytes that made it true arrived), polling the pty with a
deadline; they never sleep a fixed time.

    with Terminal([sys.executable, "-m", "arr_actors", "--demo"]) as term:
        term.wait_for(lambda t: "Cloud Builds" in t.text(), timeout=10)
        term.press("q")
        assert term.wait_exit(timeout=5) == 0

This is the one implementation: ``scripts/bench.py`` uses it too. It lives
with the tests because pexpect and pyte are test extras (so never inside the
installed packages) and because tests must not depend on a script; the
benchmark, a repository script that already needs those extras, puts
``tests/`` on its import path and imports it as ``e2e.pty``, the same name
the tests use.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pexpect
import psutil
import pyte

#: Byte sequences an xterm-like terminal sends for named keys.
KEYS: dict[str, str] = {
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "home": "\x1b[H",
    "end": "\x1b[F",
    "page up": "\x1b[5~",
    "page down": "\x1b[6~",
    "tab": "\t",
    "shift tab": "\x1b[Z",
    "enter": "\r",
    "esc": "\x1b",
    "backspace": "\x7f",
    "ctrl c": "\x03",
}


class ScreenTimeout(AssertionError):
    """A condition on the screen did not come true in time; the message shows the screen."""


@dataclass(frozen=True, slots=True)
class Cell:
    char: str
    fg: str
    bg: str
    bold: bool
    underline: bool
    reverse: bool


class Terminal:
    """A program running in a pty of ``cols`` x ``rows``, rendered by pyte."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cols: int = 80,
        rows: int = 24,
        env: Mapping[str, str] | None = None,
        term: str = "xterm-256color",
        cwd: str | None = None,
    ) -> None:
        environment = dict(os.environ if env is None else env)
        environment["TERM"] = term
        environment.setdefault("LANG", "C.UTF-8")
        environment.setdefault("LC_ALL", environment["LANG"])
        environment.pop("COLUMNS", None)
        environment.pop("LINES", None)
        self.cols, self.rows = cols, rows
        self._screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self._screen)
        self._unparsed = bytearray()  # read, not yet taken in by the screen (see ``screen``)
        self.output = bytearray()  # every byte the program wrote
        self.started_at = time.monotonic()
        self.first_output_at: float | None = None
        self.last_read_at: float | None = None  # when the last bytes were read, before the screen took them in
        self.child = pexpect.spawn(
            argv[0], list(argv[1:]), dimensions=(rows, cols), env=environment, cwd=cwd, echo=False
        )
        # pexpect waits 50 ms before every send by default; keys must be timed exactly.
        self.child.delaybeforesend = None
        self._eof = False

    # ------------------------------------------------------------- reading

    @property
    def pid(self) -> int:
        return int(self.child.pid)

    def pump(self, timeout: float = 0.05) -> bool:
        """Read what the program wrote within ``timeout`` s into the screen; True if anything came."""
        if self._eof:
            return False
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return False
        except pexpect.EOF:
            self._eof = True
            return False
        if data:
            self.last_read_at = time.monotonic()
            if self.first_output_at is None:
                self.first_output_at = self.last_read_at
            self.output.extend(data)
            self._unparsed.extend(data)
            return True
        return False

    def drain(self, quiet: float = 0.05, limit: float = 2.0) -> None:
        """Read until the program has been quiet for ``quiet`` s (or ``limit`` s passed)."""
        end = time.monotonic() + limit
        while time.monotonic() < end and self.pump(quiet):
            pass

    def read_for(self, seconds: float) -> None:
        """Keep reading for ``seconds`` (so the program never blocks on a full pty)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if not self.pump(min(left, 0.1)) and self._eof:
                time.sleep(min(left, 0.1))  # nothing more can come; the caller asked for this long

    def wait_until(self, predicate: Callable[[Terminal], object], *, timeout: float = 10.0, what: str = "") -> float:
        """Read the pty until ``predicate(self)`` is true; the monotonic time at which the
        bytes that made it true had arrived (now, if it is true already).

        A frame reaches the pty in pieces: everything already buffered is read
        before the predicate judges the screen. The time is when the last bytes
        were read, not when the terminal emulator here had parsed them (tens of
        milliseconds for a whole screen of changes, which is this side's cost).
        Raises ScreenTimeout with the screen's text if it is not true within
        ``timeout`` or the program exits first.
        """
        now = time.monotonic()
        deadline = now + timeout
        if predicate(self):
            return now
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScreenTimeout(f"not true within {timeout:.1f} s: {what or predicate!r}\n{self.dump()}")
            arrived = None
            if self.pump(min(0.05, max(0.001, left))):
                arrived = self.last_read_at
                while self.pump(0):
                    arrived = self.last_read_at
            if predicate(self):
                return arrived if arrived is not None else time.monotonic()
            if self._eof:
                raise ScreenTimeout(f"program exited while waiting for {what or predicate!r}\n{self.dump()}")

    def wait_for(self, predicate: Callable[[Terminal], object], *, timeout: float = 10.0, what: str = "") -> float:
        """Read the pty until ``predicate(self)`` is true; returns the seconds it took.

        Raises ScreenTimeout with the screen's text if it is not true within ``timeout``.
        """
        start = time.monotonic()
        return self.wait_until(predicate, timeout=timeout, what=what) - start

    def wait_text(self, text: str, *, timeout: float = 10.0) -> float:
        return self.wait_for(lambda t: text in t.text(), timeout=timeout, what=f"{text!r} on screen")

    # ----------------------------------------------------------- the screen

    @property
    def screen(self) -> pyte.Screen:
        """The screen, with everything read so far taken in.

        Bytes are parsed when the screen is looked at, not as they are read:
        pyte takes milliseconds for a screenful, and a program's frame comes
        through the pty a few KiB at a time, so parsing between reads would
        hold back the rest of the frame and count this side's parsing as the
        program's time (a real terminal parses far faster).
        """
        if self._unparsed:
            data, self._unparsed = bytes(self._unparsed), bytearray()
            self._stream.feed(data)
        return self._screen

    def lines(self) -> list[str]:
        return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def line_with(self, text: str) -> str | None:
        return next((line for line in self.lines() if text in line), None)

    def find(self, text: str) -> tuple[int, int] | None:
        """``(row, col)`` of the first occurrence of ``text``."""
        for row, line in enumerate(self.lines()):
            col = line.find(text)
            if col >= 0:
                return row, col
        return None

    def cell(self, row: int, col: int) -> Cell:
        char = self.screen.buffer[row][col]
        return Cell(char.data, char.fg, char.bg, char.bold, char.underscore, char.reverse)

    @property
    def title(self) -> str:
        return str(self.screen.title)

    def dump(self) -> str:
        width = self.cols
        border = "+" + "-" * width + "+"
        return "\n".join([border, *(f"|{line}|" for line in self.lines()), border])

    # --------------------------------------------------------------- input

    def send(self, data: str | bytes) -> float:
        """Send ``data`` as it is; the monotonic time it left."""
        sent = time.monotonic()
        self.child.send(data)
        return sent

    def press(self, *keys: str) -> None:
        """Send keys by name (``up``, ``tab``, ``enter``, ``esc``...) or as literal text."""
        for key in keys:
            self.child.send(KEYS.get(key, key))

    def press_and_measure(self, key: str, predicate: Callable[[Terminal], object], *, timeout: float = 5.0) -> float:
        """Seconds from sending ``key`` until ``predicate`` holds on screen."""
        self.drain(quiet=0.0, limit=0.0)
        start = time.monotonic()
        self.press(key)
        return self.wait_until(predicate, timeout=timeout, what=f"screen change after {key!r}") - start

    def resize(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.screen.resize(rows, cols)
        self.child.setwinsize(rows, cols)

    # ----------------------------------------------------------- processes

    def descendants(self) -> list[psutil.Process]:
        """Every live process below the spawned one (not counting zombies)."""
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        alive = []
        for proc in children:
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        return alive

    def wait_exit(self, *, timeout: float = 5.0) -> int:
        """Read until the program exits; its exit code (128+N for signal N).

        Raises ScreenTimeout if it is still running after ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() >= deadline:
                raise ScreenTimeout(f"still running after {timeout:.1f} s\n{self.dump()}")
            self.pump(0.05)
            if self._eof:
                time.sleep(0.02)  # the pty closed; poll for the process to finish
        self.child.close()
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus or 0)

    def quit(self, key: str = "q", *, timeout: float = 5.0) -> int | None:
        """Quit the way a user does (``key``), reading meanwhile; force it if the
        program has not gone within ``timeout``. Its exit status (None after a signal)."""
        if self.child.isalive():
            with contextlib.suppress(OSError):
                self.child.send(key)
            deadline = time.monotonic() + timeout
            while self.child.isalive() and time.monotonic() < deadline:
                self.pump(0.1)
                if self._eof:
                    break
        with contextlib.suppress(Exception):
            self.child.close(force=True)
        self._eof = True
        return self.child.exitstatus

    def close(self) -> None:
        """Kill the program and everything it started (used on test failure)."""
        procs = []
        with contextlib.suppress(psutil.NoSuchProcess):
            procs = psutil.Process(self.pid).children(recursive=True)
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.kill()
        # The spawned process itself is reaped by pexpect, never by psutil.
        self.child.close(force=True)
        psutil.wait_procs(procs, timeout=3)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.child.isalive() or self.descendants():
            self.close()


def wait_gone(pids: Sequence[int], *, timeout: float = 5.0) -> list[int]:
    """Wait for processes to disappear; the pids still alive (not zombies) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


__all__ = ["KEYS", "Cell", "ScreenTimeout", "Terminal", "wait_gone"]
