"""What the screen does to the terminal besides drawing: the clipboard, the bell, desktop notices.

The OSC 52 sequence is the one escape sequence written on purpose outside
urwid's drawing: it asks the terminal (over SSH too, and through tmux with
``set-clipboard on``) to put text on the clipboard. The text travels base64
encoded, so nothing in it can act on the terminal. The bell is the plain BEL
control character. ``notify-send`` runs as a short-lived child that the loop
never waits for: a thread reaps it (and kills it if it hangs).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)

BELL = "\a"
#: How long a notify-send may take before it is killed.
NOTIFY_TIMEOUT_S = 5.0
#: The most notify-send children alive at once; more notices are dropped.
MAX_NOTIFIERS = 4


def osc52(text: str) -> str:
    """The escape sequence that puts ``text`` on the system clipboard."""
    return "\x1b]52;c;" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "\x07"


class Effects:
    """Writes to the terminal through ``write`` (the screen's own output, so it
    lands between frames) and runs ``notify-send`` when asked to and found."""

    def __init__(self, write: Callable[[str], None] | None = None, *, notify: bool = False) -> None:
        self._write = write
        self.notify_command = shutil.which("notify-send") if notify else None
        self._notifiers = 0
        self._lock = threading.Lock()

    def attach(self, write: Callable[[str], None] | None) -> None:
        self._write = write

    def copy(self, text: str) -> None:
        self._out(osc52(text))

    def bell(self) -> None:
        self._out(BELL)

    def _out(self, data: str) -> None:
        if self._write is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self._write(data)

    def notify(self, title: str, body: str) -> None:
        """Start ``notify-send`` without waiting for it (nothing when not found)."""
        if self.notify_command is None:
            return
        with self._lock:
            if self._notifiers >= MAX_NOTIFIERS:
                return
            self._notifiers += 1
        try:
            child = subprocess.Popen(
                [self.notify_command, "--app-name=arr_actors", title, body],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
        except OSError as exc:
            self._done()
            logger.debug("notify-send failed to start: %s", exc)
            return
        threading.Thread(target=self._reap, args=(child,), name="notify-send", daemon=True).start()

    def _reap(self, child: subprocess.Popen[bytes]) -> None:
        try:
            child.wait(NOTIFY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._notifiers -= 1


__all__ = ["BELL", "Effects", "osc52"]
