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
  launcher -> parent: LauncherReady, then ChildSpawned, ChildSpawnFailed, ChildExited;
                      TemplateReady, TemplateFailed (for the event log)

Fork templates (:mod:`arr_actors.runtime.template`): the first SpawnChild of a
table with a template (``tables.FORK_TEMPLATES``) makes the launcher fork that
template, which loads the libraries its tables share. A table's SpawnChild goes to its
template once that is ready (until then it waits there, queued: the table
needs those libraries first anyway); the template forks the child, which the
launcher adopts — it is the launcher's child, tracked, killed and reaped like
any other. Once every table it forks for has its process and it has been idle
a while, the template exits (``retire_idle_templates``) and is started again by
the next spawn that needs it. A
template that dies, or is still loading at its deadline, is killed and given
up: its queued and unanswered spawns, and every later one, are forked by the
launcher itself, as without templates.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from arr_actors import messages
from arr_actors.messages import (
    LAUNCHER_MESSAGE_TYPES,
    TEMPLATE_REPORT_TYPES,
    ChildAdopted,
    ChildExited,
    ChildSpawned,
    ChildSpawnFailed,
    KillChild,
    LauncherInit,
    LauncherReady,
    SpawnChild,
    StopLauncher,
    TemplateFailed,
    TemplateReady,
)
from arr_actors.runtime import child, proctree, template
from arr_actors.tables import FORK_TEMPLATES, LOG_READER, template_of

if TYPE_CHECKING:
    from arr_actors.config import Settings

LauncherMessage = LauncherInit | SpawnChild | KillChild | StopLauncher
Report = LauncherReady | ChildSpawned | ChildSpawnFailed | ChildExited | TemplateReady | TemplateFailed

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
MAX_PACKET = 1 << 20
#: How long a fork template stays after its last fork once every table it forks for has its process.
RETIRE_IDLE_S = 10.0
#: Where the launcher's stderr goes (the starter opens it), for messages that point there.
LOG_NAME = "fetch.log"
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


@dataclass(slots=True)
class Template:
    """A fork template the launcher forked and still relies on (launcher-private, mutable)."""

    name: str
    pid: int
    sock: socket.socket
    deadline_at: float  # still loading then: killed and given up
    ready: bool = False
    # Spawns waiting for the template to be ready, and spawns it was sent but
    # has not answered, each with the launcher's own copy of the child's
    # socket: with it the launcher forks the child itself if the template fails.
    queued: list[tuple[SpawnChild, int]] = field(default_factory=list)
    sent: dict[int, tuple[SpawnChild, int]] = field(default_factory=dict)
    tables: set[str] = field(default_factory=set)  # the tables it was asked to fork for
    last_used: float = 0.0  # monotonic time of its last spawn order


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
        self.poller = select.poll()
        self.templates: dict[str, Template] = {}  # by name, only those alive and relied on
        self.templates_started: set[str] = set()  # started and not retired; never again once given up
        self.template_tokens = itertools.count(-1, -1)
        self.template_socks: dict[int, Template] = {}  # by socket fd, for the poll loop
        self.pending_kills: dict[int, float] = {}  # token -> grace, for children a template has not forked yet

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
        """Fork the child of ``order``: through its table's template when there is one, else here."""
        if len(fds) != 1 or self.settings is None:
            for fd in fds:
                os.close(fd)
            error = "launcher protocol error: spawn without a socket or init"
            self.send(ChildSpawnFailed(token=order.token, error=error))
            return
        (conn_fd,) = fds
        name = template_of(order.table)
        if name and name not in self.templates_started:
            # Started by the first spawn that needs it: a runtime with fewer tables starts fewer.
            self.templates_started.add(name)
            self.start_template(name, FORK_TEMPLATES[name])
        tpl = self.templates.get(name)
        if tpl is None:
            self.fork_child(order, conn_fd)
            return
        tpl.tables.add(order.table)
        tpl.last_used = time.monotonic()
        if tpl.ready:
            self.send_to_template(tpl, order, conn_fd)
        else:
            tpl.queued.append((order, conn_fd))

    def fork_child(self, order: SpawnChild, conn_fd: int) -> None:
        """Fork the child of ``order`` from the launcher itself (``conn_fd`` is closed here)."""
        token, table = order.token, order.table
        settings = self.settings
        assert settings is not None  # spawn() checked it
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
            self.pending_kills.pop(token, None)
            self.send(ChildSpawnFailed(token=token, error=f"fork failed: {exc.strerror}"))
            return
        if pid == 0:
            self.become_child(conn_fd, order, settings, mask)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        # Both sides set the group, so it exists before either can be signalled.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        os.close(conn_fd)
        self.adopt(token, pid, table)

    def become_child(self, conn_fd: int, order: SpawnChild, settings: Settings, mask: Iterable[int]) -> None:
        """In the forked child: drop everything of the launcher, then serve fetches."""
        try:
            self.drop_launcher_state(mask)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
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

    def adopt(self, token: int, pid: int, table: str) -> None:
        """Track a new child (forked here, or by a template) and report it; carry out a kill asked for meanwhile."""
        self.children[pid] = Tracked(token=token, pid=pid, table=table)
        self.send(ChildSpawned(token=token, pid=pid))
        grace = self.pending_kills.pop(token, None)
        if grace is not None:
            self.kill(token, grace)

    # ------------------------------------------------------- fork templates

    def start_template(self, name: str, modules: tuple[str, ...]) -> None:
        settings = self.settings
        assert settings is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            ours.close()
            theirs.close()
            self.send(TemplateFailed(name=name, error=f"fork failed: {exc.strerror}"))
            return
        if pid == 0:
            try:
                self.drop_launcher_state(mask)
                ours.detach()
                fd = theirs.detach()
                if fd != 3:
                    os.dup2(fd, 3)
                os.closerange(4, _max_fd())
                template.run(
                    3,
                    name=name,
                    modules=modules,
                    settings=settings,
                    source_factory=self.source_factory,
                    launcher_pid=self.pid,
                )
            finally:
                os._exit(child.EXIT_CODE_INTERNAL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        theirs.close()
        ours.setblocking(False)
        tpl = Template(name=name, pid=pid, sock=ours, deadline_at=time.monotonic() + template.load_deadline(settings))
        self.templates[name] = tpl
        self.template_socks[ours.fileno()] = tpl
        self.poller.register(ours, select.POLLIN)
        # Tracked like a child (a token no spawn uses, never reported as one:
        # the starter knows no such token): never taken for an orphan, killed
        # with the rest at shutdown, reaped when it exits.
        self.children[pid] = Tracked(token=next(self.template_tokens), pid=pid, table=f"template:{name}")

    def send_to_template(self, tpl: Template, order: SpawnChild, conn_fd: int) -> None:
        """Ask ``tpl`` to fork the child of ``order``; keep a copy of its socket for a fallback."""
        try:
            spare = os.dup(conn_fd)
        except OSError:
            self.fork_child(order, conn_fd)
            return
        try:
            socket.send_fds(tpl.sock, [messages.to_json(order).encode()], [conn_fd], socket.MSG_DONTWAIT)
        except OSError as exc:
            os.close(conn_fd)
            tpl.queued.append((order, spare))
            self.drop_template(tpl, f"stopped answering ({exc.strerror or exc})")
            return
        os.close(conn_fd)
        tpl.sent[order.token] = (order, spare)

    def template_report(self, tpl: Template) -> None:
        """Read what ``tpl`` says; a template that closed its socket or talks nonsense is given up."""
        while tpl.name in self.templates:
            try:
                data = tpl.sock.recv(MAX_PACKET)
            except BlockingIOError:
                return
            except OSError as exc:
                data, error = b"", f"lost its socket ({exc.strerror or exc})"
            else:
                error = "exited while loading its libraries" if not tpl.ready else "exited"
            if not data:
                self.drop_template(tpl, f"{error} (see {LOG_NAME} in the state directory)")
                return
            try:
                report = messages.from_json(data, expect=TEMPLATE_REPORT_TYPES)
            except messages.CodecError as exc:
                self.drop_template(tpl, f"sent a bad report: {exc}")
                return
            if isinstance(report, TemplateReady):
                tpl.ready = True
                self.send(report)
                queued, tpl.queued = tpl.queued, []
                for order, conn_fd in queued:
                    self.send_to_template(tpl, order, conn_fd)
            elif isinstance(report, ChildSpawned):
                answered = tpl.sent.pop(report.token, None)
                if answered is None:
                    continue
                order, spare = answered
                os.close(spare)
                self.adopt(report.token, report.pid, order.table)
                try:
                    tpl.sock.send(messages.to_json(ChildAdopted(token=report.token)).encode(), socket.MSG_DONTWAIT)
                except OSError as exc:
                    # Killing the template (and its intermediate) ends the wait of the
                    # adopted child, which then exits and is reaped here like any other.
                    self.drop_template(tpl, f"stopped answering ({exc.strerror or exc})")
                    return
            elif isinstance(report, ChildSpawnFailed):
                answered = tpl.sent.pop(report.token, None)
                if answered is not None:
                    self.fork_child(*answered)  # the launcher can fork even when the template could not

    def retire_idle_templates(self) -> None:
        """Let a template exit once every table it forks for has its fetch process and
        it has forked nothing for RETIRE_IDLE_S.

        From then on it would only hold memory: the pages its children still
        share stay shared among them, and what only the template holds (pages
        every child has copied since) is given back. The next spawn that needs
        it starts it again; a table whose processes keep being killed and
        restarted keeps it busy, and so alive.
        """
        now = time.monotonic()
        running = {t.table for t in self.children.values()}
        for tpl in list(self.templates.values()):
            if not tpl.ready or tpl.queued or tpl.sent or now < tpl.last_used + RETIRE_IDLE_S:
                continue
            # The log reader runs only while logs are read: waiting for it would keep the template forever.
            if tpl.tables - {LOG_READER} <= running:
                self.forget_template(tpl)
                tpl.sock.close()  # it reads end-of-file, exits, and is reaped like any child
                self.templates_started.discard(tpl.name)

    def forget_template(self, tpl: Template) -> None:
        self.templates.pop(tpl.name, None)
        self.template_socks.pop(tpl.sock.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self.poller.unregister(tpl.sock)

    def drop_template(self, tpl: Template, why: str) -> None:
        """Give ``tpl`` up for good: kill it, say so, and fork what waited for it from the launcher."""
        self.forget_template(tpl)
        tpl.sock.close()
        if tpl.pid in self.children:  # not reaped yet, so its group id cannot have been reused
            _signal_group(tpl.pid, signal.SIGKILL)
        self.send(TemplateFailed(name=tpl.name, error=why))
        waiting = [*tpl.sent.values(), *tpl.queued]
        tpl.sent, tpl.queued = {}, []
        for order, conn_fd in waiting:
            self.fork_child(order, conn_fd)

    def check_template_deadlines(self) -> None:
        now = time.monotonic()
        for tpl in list(self.templates.values()):
            if not tpl.ready and now >= tpl.deadline_at:
                assert self.settings is not None
                self.drop_template(tpl, f"still loading its libraries after {template.load_deadline(self.settings):g} s")

    def template_timeout_ms(self) -> int:
        now = time.monotonic()
        # A loading template's deadline; a ready one's retirement, while it is still ahead (one
        # already due but not retirable is looked at again on the next event, not in a busy loop).
        pending = [
            t.deadline_at if not t.ready else t.last_used + RETIRE_IDLE_S
            for t in self.templates.values()
            if not t.ready or t.last_used + RETIRE_IDLE_S > now
        ]
        if not pending:
            return -1
        return max(int((min(pending) - time.monotonic()) * 1000) + 1, 0)

    def drop_launcher_state(self, mask: Iterable[int]) -> None:
        """In a process just forked from the launcher: drop its signal handling and sockets."""
        signal.set_wakeup_fd(-1)
        for sig in HANDLED_SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a pending SIGTERM now ends us, as it should
        self.control.detach()
        for tpl in self.templates.values():
            tpl.sock.detach()

    def kill(self, token: int, grace: float) -> None:
        if any(token in t.sent or any(o.token == token for o, _ in t.queued) for t in self.templates.values()):
            # Not forked yet: killed as soon as it is.
            self.pending_kills[token] = grace
            return
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
        poller = self.poller
        poller.register(self.control, select.POLLIN)
        poller.register(self.wake_fd, select.POLLIN)
        self.send(LauncherReady(pid=os.getpid()))
        while not self.stopping:
            timeouts = [t for t in (self.next_timeout_ms(), self.template_timeout_ms()) if t >= 0]
            for fd, _events in poller.poll(min(timeouts, default=-1)):
                tpl = self.template_socks.get(fd)
                if tpl is not None:
                    self.template_report(tpl)
                elif fd == self.wake_fd:
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
            self.check_template_deadlines()
            self.retire_idle_templates()
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
