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

The token names the program's process (pid, start time, pid namespace): when it
is gone, nothing can want its tree any more. Such a tree remains only when the
program was SIGKILLed while its launcher was stopped (or both were killed at
once); the next start of the program ends it (:func:`abandoned`).
"""

from __future__ import annotations

import os
import select
import signal
import time
import uuid
from collections.abc import Callable, Iterable, Mapping

#: The environment variable that marks every process of one program's tree (not ARR_*: those are settings).
MARK = "ARRACTORS_PROCESS_TREE"
PROC = "/proc"
#: Most of a process's environment read when looking for the mark.
ENVIRON_MAX_BYTES = 1 << 20
#: How long :func:`end` waits for signalled processes to die before it looks again.
WAIT_ROUND_S = 0.2

#: Decides whether a pid belongs to the processes looked for (read from /proc each time).
Selector = Callable[[int], bool]


def new_token() -> str:
    """A token no other program uses: this process (its owner) by pid, start time and pid namespace, and a random part."""
    return f"{os.getpid()}.{_start_time(os.getpid()) or 0}.{_pid_namespace()}.{uuid.uuid4().hex}"


def marked_env(env: Mapping[str, str], token: str) -> dict[str, str]:
    """``env`` with the mark of ``token`` added, first: only the start of a large environment is read."""
    return {MARK: token, **{key: value for key, value in env.items() if key != MARK}}


def own_token() -> str:
    """The mark this process carries ("" if none): the launcher learns its tree's token this way."""
    return os.environ.get(MARK, "")


def tree(token: str, *, sessions: Iterable[int] = ()) -> Selector:
    """Live processes (not zombies) carrying ``token``'s mark or in one of ``sessions``."""
    wanted = set(sessions)

    def selector(pid: int) -> bool:
        stat = _stat_fields(pid)
        if stat is None or stat[0] in (b"Z", b"X"):
            return False
        if wanted and len(stat) > 3 and int(stat[3]) in wanted:
            return True
        return bool(token) and _mark(pid) == token

    return selector


def abandoned(pid: int) -> bool:
    """A live process marked by a program whose own process is gone (a :data:`Selector`)."""
    stat = _stat_fields(pid)
    if stat is None or stat[0] in (b"Z", b"X"):
        return False
    owner, started, namespace, *_ = ((_mark(pid) or "").split(".") + ["", "", ""])[:4]
    if not (owner.isdigit() and started.isdigit() and started != "0"):
        return False  # unmarked, or a mark this code did not make
    if namespace != _pid_namespace() or not namespace:
        return False  # the owner's pid means another process in another pid namespace
    return _start_time(int(owner)) != int(started)


def members(selector: Selector, *, exclude: Iterable[int] = ()) -> list[int]:
    """Pids ``selector`` accepts, minus ``exclude`` and this process."""
    skip = {os.getpid(), *exclude}
    try:
        entries = os.listdir(PROC)
    except OSError:
        return []
    return [int(e) for e in entries if e.isdigit() and int(e) not in skip and selector(int(e))]


def signal_members(selector: Selector, sig: int, *, exclude: Iterable[int] = ()) -> dict[int, int]:
    """Send ``sig`` to every member; returns the pids signalled, each with its pidfd (-1 without pidfds).

    The caller closes the pidfds (:func:`close_all`).
    """
    signalled: dict[int, int] = {}
    for pid in members(selector, exclude=exclude):
        pidfd = _send(pid, sig, selector)
        if pidfd is not None:
            signalled[pid] = pidfd
    return signalled


def close_all(pidfds: Iterable[int]) -> None:
    for pidfd in pidfds:
        if pidfd >= 0:
            os.close(pidfd)


def end(selector: Selector, *, exclude: Iterable[int] = (), within: float = 2.0) -> list[int]:
    """SIGKILL every member until none is left or ``within`` seconds passed; returns those still left.

    SIGKILL because nothing wants these processes any more, and because a
    stopped process acts on it without being continued (SIGTERM would wait
    for a SIGCONT). Looking again after each round catches what a member
    forked just before it died: a killed process forks no more, so this ends.
    """
    deadline = time.monotonic() + within
    while True:
        pidfds = signal_members(selector, signal.SIGKILL, exclude=exclude)
        try:
            if not pidfds:
                return []
            _wait_exited(list(pidfds.values()), until=min(deadline, time.monotonic() + WAIT_ROUND_S))
        finally:
            close_all(pidfds.values())
        if time.monotonic() >= deadline:
            return members(selector, exclude=exclude)


def _send(pid: int, sig: int, selector: Selector) -> int | None:
    """Signal ``pid`` if it is a member; its pidfd (-1 without pidfds) when signalled, else None.

    The pidfd is opened before membership is checked: if the pid was reused in
    between, what is checked is the newcomer, and a signal through the pidfd
    would reach the dead process, never the newcomer.
    """
    try:
        pidfd = os.pidfd_open(pid)
    except (ProcessLookupError, PermissionError):
        return None
    except (AttributeError, OSError):
        # No pidfds (before Linux 5.3): plain kill, with the small risk of a
        # reused pid between the check and the signal.
        if selector(pid):
            try:
                os.kill(pid, sig)
                return -1
            except (ProcessLookupError, PermissionError):
                pass
        return None
    try:
        if selector(pid):
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


def _stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ..."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields follow the last ')'.
    return stat[stat.rfind(b")") + 2 :].split()


def _start_time(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot): with the pid, it names one process for good."""
    stat = _stat_fields(pid)
    if stat is None or len(stat) < 20 or stat[0] in (b"Z", b"X"):
        return None
    return int(stat[19])


def _pid_namespace() -> str:
    """This process's pid namespace ("" if unknown): pids are only comparable inside one."""
    try:
        return str(os.stat(f"{PROC}/self/ns/pid").st_ino)
    except OSError:
        return ""


def _mark(pid: int) -> str | None:
    """The value of the mark in ``pid``'s initial environment, or None."""
    try:
        with open(f"{PROC}/{pid}/environ", "rb") as fh:
            environ = fh.read(ENVIRON_MAX_BYTES)
    except OSError:  # gone, or not ours to read (another user's, or not dumpable)
        return None
    key = f"{MARK}=".encode()
    for item in environ.split(b"\0"):
        if item.startswith(key):
            return item[len(key) :].decode("ascii", "replace")
    return None


__all__ = [
    "MARK",
    "Selector",
    "abandoned",
    "close_all",
    "end",
    "marked_env",
    "members",
    "new_token",
    "own_token",
    "signal_members",
    "tree",
]
