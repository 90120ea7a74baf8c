"""The ``wandb-core`` helper process a W&B table's fetch starts, and how it is stopped.

wandb 0.31's ``wandb.Api`` sends every request through a helper process it
starts on first use (``wandb-core``, W&B's Go program): about 22 MB that
checks on its parent ten times a second. A W&B table fetches for a second or
two every 30 or 60, so its process keeps no helper between fetches
(``Clients.wandb_api``): :func:`stop` ends it when a fetch ends.

``wandb.teardown`` asks the helper to exit and waits for it without a limit;
with a request to a server that never answers still in flight, the helper
sometimes never exits. So the wait is bounded: past :data:`STOP_WAIT_S` the
helper is killed, which ends wandb's wait (and the helper's request) at once.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

#: How long a helper may take to exit when asked (it takes 0.01-0.1 s).
STOP_WAIT_S = 2.0
#: The helper's process name.
HELPER_NAME = b"wandb-core"


def stop(*, wait_s: float = STOP_WAIT_S) -> None:
    """Stop this process's helper, if one runs, within about ``2 * wait_s``; the next ``wandb.Api`` starts another."""
    wandb = sys.modules.get("wandb")
    if wandb is None:
        return  # never imported: no helper either
    done = threading.Event()

    def teardown() -> None:
        try:
            wandb.teardown()
        except (OSError, SystemExit):
            # The helper died already (its socket is closed) or ended with an
            # error status (killed below): it is gone either way, and wandb
            # has forgotten it.
            pass
        finally:
            done.set()

    threading.Thread(target=teardown, name="wandb-teardown", daemon=True).start()
    if done.wait(wait_s):
        return
    for pid in running():
        _kill(pid)
    # wandb reaps the killed helper and returns; if it does not, its thread is
    # left behind: wandb has forgotten that helper, the next Api starts anew.
    done.wait(wait_s)


def running() -> list[int]:
    """The live helper processes this process started (found in ``/proc``; none where it is missing)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    return [int(entry) for entry in entries if entry.isdigit() and _is_own_helper(int(entry))]


def _is_own_helper(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            stat = stat_file.read()
    except OSError:
        return False
    # "pid (name) state ppid ...": the name may hold spaces and parentheses.
    name = stat[stat.find(b"(") + 1 : stat.rfind(b")")]
    fields = stat[stat.rfind(b")") + 2 :].split()
    return name == HELPER_NAME and len(fields) > 1 and fields[0] not in (b"Z", b"X") and int(fields[1]) == os.getpid()


def _kill(pid: int) -> None:
    # Through a pidfd checked after it is open: the helper is reaped by
    # wandb's own wait, which may end between the look and the kill, and the
    # pid must not name another process then.
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return
    try:
        if _is_own_helper(pid):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except OSError:
        pass  # it exited meanwhile
    finally:
        os.close(pidfd)


__all__ = ["HELPER_NAME", "STOP_WAIT_S", "running", "stop"]
