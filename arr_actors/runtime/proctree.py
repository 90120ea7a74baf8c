"""Find and end every process the runtime started, however it was re-parented.

The launcher kills and reaps its tree itself — while it runs. When it is
SIGKILLed or stopped, its children die of ``PR_SET_PDEATHSIG``, but what they
started is re-parented to init, and a process that made a session of its own
(wandb-core does) is in no group anyone signals. So every process of the tree
also carries two marks that survive re-parenting, and the UI process (or the
launcher on its way out) ends whatever carries one of them:

* **An environment variable** (:data:`MARK`, a token unique to one running
  program), put into the launcher's environment and so inherited by every
  descendant through fork and exec. ``/proc/PID/environ`` shows the
  environment a process was started with: ``setenv``/``unsetenv`` change a copy,
  not that record, and ``setsid``, ``setpgid`` and re-parenting leave it alone.
  Only a descendant that execs with a scrubbed environment (or overwrites that
  memory on purpose) loses it.
* **The launcher's session**: the launcher leads a session of its own, and
  fetch processes only make process groups, so whatever they start without
  ``setsid`` stays in that session — also after an exec with an empty
  environment. While any member lives, the kernel does not reuse the
  session's number as a pid, so the id cannot name a stranger.

Neither depends on parentage, on privileges or on cgroup delegation (which a
normal user often lacks); together they miss only a descendant that both made
a new session and scrubbed its environment. Signals go through a pidfd opened
before the marks are checked, so a pid that was reused in between is never
hit. Linux only: where ``/proc`` is missing nothing is found and nothing is
signalled (the launcher's own kills still work there).
"""

from __future__ import annotations

import os
import select
import signal
import time
import uuid
from collections.abc import Iterable, Mapping

#: The environment variable that marks every process of one program's tree (not ARR_*: those are settings).
MARK = "ARRACTORS_PROCESS_TREE"
PROC = "/proc"
#: Most of a process's environment read when looking for the mark.
ENVIRON_MAX_BYTES = 1 << 20
#: How long :func:`end` waits for signalled processes to die before it looks again.
WAIT_ROUND_S = 0.2


def new_token() -> str:
    """A token no other running program uses."""
    return f"{os.getpid()}-{uuid.uuid4().hex}"


def marked_env(env: Mapping[str, str], token: str) -> dict[str, str]:
    """``env`` with the mark of ``token`` added."""
    return {**env, MARK: token}


def own_token() -> str:
    """The mark this process carries ("" if none): the launcher learns its tree's token this way."""
    return os.environ.get(MARK, "")


def members(token: str, *, sessions: Iterable[int] = (), exclude: Iterable[int] = ()) -> list[int]:
    """Live processes (not zombies) carrying ``token``'s mark or in one of ``sessions``, minus ``exclude`` and us."""
    skip = {os.getpid(), *exclude}
    wanted = set(sessions)
    try:
        entries = os.listdir(PROC)
    except OSError:
        return []
    found = []
    for entry in entries:
        if entry.isdigit() and int(entry) not in skip and _is_member(int(entry), token, wanted):
            found.append(int(entry))
    return found


def signal_members(
    token: str, sig: int, *, sessions: Iterable[int] = (), exclude: Iterable[int] = ()
) -> dict[int, int]:
    """Send ``sig`` to every member; returns the pids signalled, each with its pidfd (-1 without pidfds).

    The caller closes the pidfds (:func:`close_all`).
    """
    wanted = set(sessions)
    signalled: dict[int, int] = {}
    for pid in members(token, sessions=wanted, exclude=exclude):
        pidfd = _send(pid, sig, token, wanted)
        if pidfd is not None:
            signalled[pid] = pidfd
    return signalled


def close_all(pidfds: Iterable[int]) -> None:
    for pidfd in pidfds:
        if pidfd >= 0:
            os.close(pidfd)


def end(token: str, *, sessions: Iterable[int] = (), exclude: Iterable[int] = (), within: float = 2.0) -> list[int]:
    """SIGKILL every member until none is left or ``within`` seconds passed; returns those still left.

    SIGKILL because nothing wants these processes any more, and because a
    stopped process acts on it without being continued (SIGTERM would wait
    for a SIGCONT). Looking again after each round catches what a member
    forked just before it died: a killed process forks no more, so this ends.
    """
    wanted = set(sessions)
    if not token and not wanted:
        return []
    deadline = time.monotonic() + within
    while True:
        pidfds = signal_members(token, signal.SIGKILL, sessions=wanted, exclude=exclude)
        try:
            if not pidfds:
                return []
            _wait_exited(list(pidfds.values()), until=min(deadline, time.monotonic() + WAIT_ROUND_S))
        finally:
            close_all(pidfds.values())
        if time.monotonic() >= deadline:
            return members(token, sessions=wanted, exclude=exclude)


def _send(pid: int, sig: int, token: str, sessions: set[int]) -> int | None:
    """Signal ``pid`` if it is a member; its pidfd (-1 without pidfds) when signalled, else None.

    The pidfd is opened before the marks are read: if the pid was reused in
    between, the marks read are the newcomer's, and a signal through the pidfd
    would reach the dead process, never the newcomer.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except (ProcessLookupError, PermissionError):
        return None
    except (AttributeError, OSError):
        # No pidfds (before Linux 5.3): plain kill, with the small risk of a
        # reused pid between the check and the signal.
        if _is_member(pid, token, sessions):
            try:
                os.kill(pid, sig)
                return -1
            except (ProcessLookupError, PermissionError):
                pass
        return None
    try:
        if _is_member(pid, token, sessions):
            signal.pidfd_send_signal(pidfd, sig)
            return pidfd
    except (ProcessLookupError, PermissionError):
        pass
    os.close(pidfd)
    return None


def _wait_exited(pidfds: list[int], *, until: float) -> None:
    """Wait until every pidfd reports its process exited, or ``until`` (monotonic).

    Without pidfds (-1) there is nothing to wait on: pause briefly, the caller looks again.
    """
    if any(fd < 0 for fd in pidfds):
        time.sleep(min(0.02, max(until - time.monotonic(), 0.0)))
    left = [fd for fd in pidfds if fd >= 0]
    while left:
        timeout = until - time.monotonic()
        if timeout <= 0:
            return
        try:
            ready, _, _ = select.select(left, [], [], timeout)
        except (OSError, ValueError):
            return
        left = [fd for fd in left if fd not in ready]


def _is_member(pid: int, token: str, sessions: set[int]) -> bool:
    stat = _stat_fields(pid)
    if stat is None or stat[0] in (b"Z", b"X"):
        return False
    if sessions and len(stat) > 3 and int(stat[3]) in sessions:
        return True
    return bool(token) and _has_mark(pid, token)


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return stat[stat.rfind(b")") + 2 :].split()


def _has_mark(pid: int, token: str) -> bool:
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as fh:
            environ = fh.read(ENVIRON_MAX_BYTES)
    except OSError:  # gone, or not ours to read (another user's, or not dumpable)
        return False
    return f"\0{MARK}={token}\0".encode() in b"\0" + environ + b"\0"


__all__ = ["MARK", "close_all", "end", "marked_env", "members", "new_token", "own_token", "signal_members"]
