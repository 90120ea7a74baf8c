"""Durations, ages and moments as people read them: one module for every format.

Pure functions of plain numbers (epoch seconds, durations in seconds); the
local time zone is the only thing read. Light enough for any process: the
screen, the command line and the diagnostics all import it.
"""

from __future__ import annotations

import functools
import time


def format_span(seconds: float) -> str:
    """A duration for a table cell: ``45s``, ``12m03s``, ``3h04m``, ``2d03h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_ago(seconds: float) -> str:
    """An age in words that changes at most once a second: ``12 s``, ``3 min``, ``2 h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h"
    return f"{s // 86400} d"


def human_duration(seconds: int) -> str:
    """``3357`` -> ``"55m 57s"``, as the launcher wrapper's final stats print durations."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def format_clock(epoch: float, now: float) -> str:
    """When something was created: the time today, the date and time otherwise."""
    moment = time.localtime(epoch)
    if time.localtime(now)[:3] == moment[:3]:
        return time.strftime("%H:%M:%S", moment)
    return time.strftime("%b %d %H:%M", moment)


def format_timestamp(epoch: float | None) -> str:
    """A full local date and time, ``-`` for a moment that never came."""
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


@functools.lru_cache(maxsize=64)
def day_start(second: int) -> float:
    """The local midnight that begins the day ``second`` falls in.

    What ``format_clock`` shows changes only when this does, so callers use
    it as the time a cached clock text depends on.
    """
    day = time.localtime(second)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))


__all__ = ["day_start", "format_ago", "format_clock", "format_span", "format_timestamp", "human_duration"]
