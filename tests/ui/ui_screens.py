"""Screens without a terminal for driving the UI's real MainLoop in tests."""

from __future__ import annotations

import threading
import time
from typing import Any

import urwid
from urwid_testing import ScriptedScreen


class QuietScreen(urwid.display.BaseScreen):
    """A screen with no input at all: the loop runs on wake-ups and alarms
    only, until something makes it quit. Records every frame drawn."""

    def __init__(self, size: tuple[int, int] = (80, 24)) -> None:
        super().__init__()
        self.size = size
        self.frames: list[list[str]] = []
        self.first_frame = threading.Event()

    def get_cols_rows(self) -> tuple[int, int]:
        return self.size

    def draw_screen(self, size: tuple[int, int], canvas: Any) -> None:
        self.frames.append([line.decode() for line in canvas.text])
        self.first_frame.set()

    def hook_event_loop(self, event_loop: Any, callback: Any) -> None:
        pass

    def unhook_event_loop(self, event_loop: Any) -> None:
        pass


class EndlessScriptedScreen(ScriptedScreen):
    """A ScriptedScreen that waits (instead of quitting) once its inputs are used up."""

    def get_input(self, raw_keys: bool = False):  # type: ignore[override]
        if not self._inputs:
            return ([], []) if raw_keys else []
        return super().get_input(raw_keys)


def text_of(frame: list[str]) -> str:
    return "\n".join(frame)


def wait_for_frame(screen: QuietScreen, needle: str, timeout: float = 10.0) -> None:
    """Wait (from another thread) until a drawn frame shows ``needle``; the
    caller's own assertion reports what was on screen if it never does."""
    deadline = time.monotonic() + timeout
    while not any(needle in text_of(frame) for frame in list(screen.frames)):
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)
