"""Injected faults: real misbehaviour inside a table's fetch process (``--fault TABLE=KIND``).

``--fault TABLE=KIND`` (``settings.faults``) makes that table's child process
misbehave right before the source runs, on every fetch. The faults are the
real thing, not simulations: a C call that holds the GIL, a read that never
returns, a segfault. They exist so the supervision can be shown to work — in
tests and on the command line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

from arr_actors.messages import BuildRow, TableData

#: Every kind ``apply_fault`` understands. ``flood`` (write more than the parent
#: accepts, bypassing the child's own size check) exists to test the parent's check.
FAULT_KINDS = (
    "hang",
    "block",
    "loop",
    "exit",
    "segv",
    "abort",
    "ignore-term",
    "huge",
    "grandchild",
    "escapee",
    "stop",
    "slow",
    "error",
    "flood",
)

HANG_SECONDS = 3600


class InjectedError(RuntimeError):
    """The ``error`` fault: a fetch that fails the ordinary way."""


def parse(kind: str) -> tuple[str, float | None]:
    """``"slow:2.5"`` -> ``("slow", 2.5)``; ValueError naming the problem otherwise."""
    name, sep, arg = kind.partition(":")
    if name not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r} (kinds: {', '.join(FAULT_KINDS)})")
    if name == "slow":
        try:
            seconds = float(arg)
        except ValueError:
            raise ValueError(f"fault {kind!r}: slow needs seconds, e.g. slow:3") from None
        if not seconds >= 0:
            raise ValueError(f"fault {kind!r}: seconds must be 0 or more")
        return name, seconds
    if sep:
        raise ValueError(f"fault {kind!r}: {name} takes no argument")
    return name, None


def hang_holding_the_gil() -> None:
    # Imported here: the monitor's command line imports this module for the
    # fault kinds, before its first frame.
    import ctypes

    # PyDLL keeps the GIL across the call: no Python thread, signal handler or
    # KeyboardInterrupt runs in this process until the C sleep returns.
    ctypes.PyDLL(None).sleep(HANG_SECONDS)


def huge_result(max_result_bytes: int) -> TableData:
    """Rows whose encoded size is well past ``max_result_bytes``."""
    pad = "x" * 1000
    count = max_result_bytes // 1000 + 16
    rows = tuple(
        BuildRow(build_id=f"huge-{i}", status="SUCCESS", image=pad, region="us-central1", created_at=0.0)
        for i in range(count)
    )
    return TableData(rows=rows)


def apply_fault(kind: str, *, max_result_bytes: int, send_raw: Callable[[bytes], None]) -> TableData | None:
    """Misbehave as ``kind`` says.

    Returns rows to send instead of calling the source (``huge``), None when the
    source should run afterwards (``slow``), raises (``error``), or never returns.
    """
    name, seconds = parse(kind)
    if name == "hang":
        hang_holding_the_gil()
    elif name == "block":
        left, right = socket.socketpair()
        left.recv(1)  # nobody ever writes to ``right``
        del right
    elif name == "loop":
        while True:
            pass
    elif name == "exit":
        os._exit(3)
    elif name == "segv":
        import ctypes  # see hang_holding_the_gil

        ctypes.string_at(0)
    elif name == "abort":
        os.abort()
    elif name == "ignore-term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        hang_holding_the_gil()
    elif name == "huge":
        return huge_result(max_result_bytes)
    elif name == "grandchild":
        # Stays in this process group (no new session): killing the group must take it too.
        subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", f"import time; time.sleep({HANG_SECONDS})"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        hang_holding_the_gil()
    elif name == "escapee":
        # A session of its own, as wandb-core makes: killing the group misses it,
        # so only the launcher (its subreaper once this process dies) can end it.
        subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", f"import time; time.sleep({HANG_SECONDS})"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        hang_holding_the_gil()
    elif name == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
        hang_holding_the_gil()
    elif name == "slow":
        time.sleep(seconds or 0.0)
        return None
    elif name == "error":
        raise InjectedError("injected fault: error")
    elif name == "flood":
        send_raw(b"\0" * (max_result_bytes + 1))
        hang_holding_the_gil()
    return None  # pragma: no cover - every branch above returns, raises or never ends
