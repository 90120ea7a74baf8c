"""The launcher: a small process that forks, owns, kills and reaps every fetch process.

Run as ``python -m arr_actors.runtime.launcher CONTROL_FD PARENT_PID`` by the
System's process-starter thread. It is single-threaded, imports only what a
fetch process needs before its source (never gRPC or pykka), and so can fork
children cheaply and safely — the same guarantee a fork server gives.

Why a process of its own rather than starting children from the UI process:

* It is the *subreaper* of the whole tree. Grandchildren left behind by a
  killed child are re-parented to it and reaped, also where PID 1 reaps
  nothing (containers without an init).
* It alone reaps, so it can signal a process group with no risk of hitting a
  recycled pid: a group is only signalled while its leader is still unreaped.
* When the UI process goes away — quit, crash, SIGKILL — the control socket
  reaches end-of-file and the launcher kills every group, reaps them and exits.

Protocol: messages of :mod:`arr_actors.messages` in its strict, versioned JSON
codec over a SOCK_SEQPACKET socket, one message per packet:
  parent -> launcher: LauncherInit (settings, source_factory, sys_path), first;
                      SpawnChild + the child's socket end (SCM_RIGHTS);
                      KillChild; StopLauncher
  launcher -> parent: LauncherReady, then ChildSpawned, ChildSpawnFailed, ChildExited
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arr_actors import messages
from arr_actors.messages import (
    LAUNCHER_MESSAGE_TYPES,
    ChildExited,
    ChildSpawned,
    ChildSpawnFailed,
    KillChild,
    LauncherInit,
    LauncherReady,
    SpawnChild,
    StopLauncher,
)
from arr_actors.runtime import child, proctree

if TYPE_CHECKING:
    from arr_actors.config import Settings

LauncherMessage = LauncherInit | SpawnChild | KillChild | StopLauncher
Report = LauncherReady | ChildSpawned | ChildSpawnFailed | ChildExited

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
MAX_PACKET = 1 << 20
#: How long the launcher keeps reaping after it killed everything on shutdown.
SHUTDOWN_REAP_S = 3.0
#: Signals the launcher handles (through its wakeup pipe).
HANDLED_SIGNALS = (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP)


@dataclass(slots=True)
class Tracked:
    """A child the launcher forked and has not reaped yet (launcher-private, mutable)."""

    token: int
    pid: int
    table: str
    kill_at: float | None = None  # when SIGTERM's grace ends and SIGKILL follows


class Launcher:
    def __init__(self, control: socket.socket, *, parent_pid: int, wake_fd: int) -> None:
        self.control = control
        self.pid = os.getpid()
        self.parent_pid = parent_pid
        self.wake_fd = wake_fd
        self.settings: Settings | None = None
        self.source_factory = ""
        self.children: dict[int, Tracked] = {}  # by pid
        self.stopping = False

    def send(self, report: Report) -> None:
        try:
            self.control.send(messages.to_json(report).encode())
        except OSError:
            # The parent is gone; end-of-file on the next receive shuts us down.
            pass

    def receive(self) -> tuple[LauncherMessage | None, list[int]]:
        """The next message and the fds that came with it; None at end-of-file. CodecError (a ValueError) if bad."""
        data, fds, _flags, _addr = socket.recv_fds(self.control, MAX_PACKET, 4)
        if not data:
            for fd in fds:
                os.close(fd)
            return None, []
        try:
            return messages.from_json(data, expect=LAUNCHER_MESSAGE_TYPES), fds
        except messages.CodecError:
            for fd in fds:
                os.close(fd)
            raise

    def handle(self, message: LauncherMessage, fds: list[int]) -> None:
        if isinstance(message, LauncherInit):
            self.settings = message.settings
            self.source_factory = message.source_factory
            sys.path[:] = message.sys_path
        elif isinstance(message, SpawnChild):
            self.spawn(message, fds)
            fds = []
        elif isinstance(message, KillChild):
            self.kill(message.token, message.grace)
        elif isinstance(message, StopLauncher):
            self.stopping = True
        for fd in fds:  # anything passed with a message that takes none
            os.close(fd)

    def spawn(self, order: SpawnChild, fds: list[int]) -> None:
        token, table = order.token, order.table
        settings = self.settings
        if len(fds) != 1 or settings is None:
            for fd in fds:
                os.close(fd)
            error = "launcher protocol error: spawn without a socket or init"
            self.send(ChildSpawnFailed(token=token, error=error))
            return
        (conn_fd,) = fds
        # Until the child has dropped our handlers, a signal sent to it would run
        # them and write to the wakeup pipe it shares with us (a SIGTERM meant
        # for the child would read as one for the launcher): hold signals back
        # across the fork; the child lets them through once its own are set.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            os.close(conn_fd)
            self.send(ChildSpawnFailed(token=token, error=f"fork failed: {exc.strerror}"))
            return
        if pid == 0:
            self.become_child(conn_fd, order, settings, mask)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        # Both sides set the group, so it exists before either can be signalled.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        os.close(conn_fd)
        self.children[pid] = Tracked(token=token, pid=pid, table=table)
        self.send(ChildSpawned(token=token, pid=pid))

    def become_child(self, conn_fd: int, order: SpawnChild, settings: Settings, mask: Iterable[int]) -> None:
        """In the forked child: drop everything of the launcher, then serve fetches."""
        try:
            signal.set_wakeup_fd(-1)
            for sig in (*HANDLED_SIGNALS, signal.SIGINT):
                signal.signal(sig, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending SIGTERM now ends us, as it should
            self.control.detach()
            if conn_fd != 3:
                os.dup2(conn_fd, 3)
            os.closerange(4, _max_fd())
            child.run(
                3,
                settings=settings,
                table=order.table,
                generation=order.generation,
                source_factory=self.source_factory,
                launcher_pid=self.pid,
            )
        finally:
            os._exit(child.EXIT_CODE_INTERNAL)

    def kill(self, token: int, grace: float) -> None:
        tracked = next((t for t in self.children.values() if t.token == token), None)
        if tracked is None:
            return  # already reaped; its exit was reported
        if grace <= 0:
            _signal_group(tracked.pid, signal.SIGKILL)
            return
        _signal_group(tracked.pid, signal.SIGTERM)
        # A stopped process only acts on SIGTERM once continued.
        _signal_group(tracked.pid, signal.SIGCONT)
        tracked.kill_at = time.monotonic() + grace

    def escalate(self) -> None:
        now = time.monotonic()
        for tracked in self.children.values():
            if tracked.kill_at is not None and now >= tracked.kill_at:
                tracked.kill_at = None
                _signal_group(tracked.pid, signal.SIGKILL)

    def next_timeout_ms(self) -> int:
        pending = [t.kill_at for t in self.children.values() if t.kill_at is not None]
        if not pending:
            return -1
        return max(int((min(pending) - time.monotonic()) * 1000) + 1, 0)

    def reap(self) -> None:
        """Reap whatever has exited: our children and orphans re-parented to us."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None or info.si_pid == 0:
                return
            pid = info.si_pid
            tracked = self.children.pop(pid, None)
            if tracked is not None:
                # The child is a zombie here, so its group id cannot have been
                # reused: take down whatever it left running in its group.
                _signal_group(pid, signal.SIGKILL)
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:
                continue
            if tracked is not None:
                returncode = os.waitstatus_to_exitcode(status)
                self.send(ChildExited(token=tracked.token, pid=pid, returncode=returncode))
            # What the dead process started outside its group (e.g. wandb-core,
            # which makes a session of its own) has just been re-parented to us;
            # so have the children of an orphan we killed before.
            self.kill_orphans()

    def kill_orphans(self) -> None:
        """SIGKILL every process re-parented to us: its parent is dead, nothing wants it.

        Safe against pid reuse: a child of ours keeps its pid until we reap it.
        """
        for pid in adopted_orphans(os.getpid(), exclude=self.children.keys()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def shutdown(self) -> None:
        """Kill every group and every marked process, reap everything (grandchildren included), then return."""
        for tracked in list(self.children.values()):
            _signal_group(tracked.pid, signal.SIGKILL)
        # What made a session of its own is in no group: it carries the tree's
        # mark (what stayed in our session is caught by it as well). This also
        # ends what an earlier launcher of this program left when it was killed.
        sessions = (self.pid,) if os.getsid(0) == self.pid else ()  # only a session of our own
        marked = proctree.signal_members(
            proctree.tree(proctree.own_token(), sessions=sessions), signal.SIGKILL, exclude=(self.pid, self.parent_pid)
        )
        proctree.close_all(marked.values())
        end = time.monotonic() + SHUTDOWN_REAP_S
        while time.monotonic() < end:
            self.kill_orphans()
            self.reap()
            try:
                if os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    # Children remain but none has exited yet: wait for SIGCHLD.
                    select.select([self.wake_fd], [], [], 0.05)
                    _drain(self.wake_fd)
            except ChildProcessError:
                return

    def run(self) -> None:
        poller = select.poll()
        poller.register(self.control, select.POLLIN)
        poller.register(self.wake_fd, select.POLLIN)
        self.send(LauncherReady(pid=os.getpid()))
        while not self.stopping:
            for fd, _events in poller.poll(self.next_timeout_ms()):
                if fd == self.wake_fd:
                    signals = _drain(self.wake_fd)
                    if signal.SIGTERM in signals or signal.SIGHUP in signals:
                        self.stopping = True
                else:
                    try:
                        message, fds = self.receive()
                    except (OSError, ValueError):
                        message, fds = None, []
                    if message is None:
                        self.stopping = True
                    else:
                        self.handle(message, fds)
            self.escalate()
            self.reap()
        self.shutdown()


def adopted_orphans(me: int, *, exclude: Iterable[int] = ()) -> list[int]:
    """Live processes whose parent is ``me`` other than ``exclude`` (read from /proc)."""
    skip = set(exclude)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in skip:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and fields[0] != b"Z" and int(fields[1]) == me:
            found.append(int(entry))
    return found


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _drain(fd: int) -> set[int]:
    signals: set[int] = set()
    while True:
        try:
            data = os.read(fd, 512)
        except (BlockingIOError, InterruptedError):
            return signals
        if not data:
            return signals
        signals.update(data)


def _max_fd() -> int:
    try:
        return os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        return 65536


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}) failed")


def main(argv: list[str]) -> int:
    control_fd, parent_pid = int(argv[0]), int(argv[1])
    # SIGTERM when the starter thread (and so the UI process) dies; the handler
    # only wakes the loop, which then kills and reaps everything.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    for sig in HANDLED_SIGNALS:
        signal.signal(sig, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    child.name_process("arr-launcher")
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:
        return 0
    control = socket.socket(fileno=control_fd)
    launcher = Launcher(control, parent_pid=parent_pid, wake_fd=wake_r)
    try:
        message, fds = launcher.receive()
    except (OSError, ValueError):
        return 1
    if not isinstance(message, LauncherInit):
        return 1
    launcher.handle(message, fds)
    launcher.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
