"""The fetcher actor of one table: owns that table's child process.

The watchdog decides *when* (StartFetch, KillFetch); the fetcher does the
process work: start a child through the launcher, send it the StartFetch as it
is, and pass what comes back on to the watchdog — the child's FetchReady and
FetchResult as they are, once checked; a FetchResult with the error when the
child cannot answer (it could not be started, sent something invalid or too
large); ChildGone once the launcher reaped it.

A reader thread per child blocks on the child's connection and forwards every
message to the actor. Each child has a token; anything from a child that is not
the current one (a killed child's late answer) is dropped. A child is only
reported gone once both its exit (from the launcher) and its end-of-file (from
the reader) are in, so a result it sent just before dying is never lost or
reordered behind its death.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

import pykka

from arr_actors import messages
from arr_actors.messages import ChildExited, ChildSpawned, ChildSpawnFailed, FetchReady, FetchResult, StartFetch
from arr_actors.runtime.protocol import ChildClosed, ChildGone, ChildLaunched, ChildMessage, ChildOversize, KillFetch
from arr_actors.runtime.starter import LauncherError, ProcessStarter

if TYPE_CHECKING:
    from arr_actors.runtime.watchdog import Watchdog

log = logging.getLogger(__name__)

#: How long stopping a fetcher waits for a reader thread to finish.
READER_JOIN_S = 0.5


class ChildReader:
    """Reads one child's connection on its own thread until end-of-file."""

    def __init__(self, sock: socket.socket, *, token: int, deliver: Callable[[Any], None], max_bytes: int) -> None:
        self._sock = sock
        self._conn = Connection(os.dup(sock.fileno()))
        self._token = token
        self._deliver = deliver
        self._max_bytes = max_bytes
        self._thread = threading.Thread(target=self._run, name=f"reader-{token}", daemon=True)
        self._thread.start()

    def send(self, payload: bytes) -> bool:
        try:
            self._conn.send_bytes(payload)
            return True
        except OSError:
            return False  # the child is gone; its exit report is on the way

    def end_input(self) -> None:
        """No more data can come (the child is reaped): let the reader reach end-of-file.

        Data already queued on the socket is still read first; this only stops
        a process that escaped the child's group from holding the stream open.
        """
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.end_input()
        if self._thread is not threading.current_thread():
            self._thread.join(READER_JOIN_S)
        if not self._thread.is_alive():
            self._conn.close()
            self._sock.close()
        # else: a reader stuck in delivery keeps its fds; they close with the thread.

    def _run(self) -> None:
        try:
            while True:
                try:
                    payload = self._conn.recv_bytes(self._max_bytes)
                except EOFError:
                    return
                except OSError as exc:
                    if str(exc) == "bad message length":
                        self._deliver(ChildOversize(self._token, self._max_bytes))
                        self._discard_rest()
                    return
                self._deliver(ChildMessage(self._token, bytes(payload)))
        except Exception:  # the actor is gone: nobody to tell
            log.debug("reader %s stopped delivering", self._token, exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                self._deliver(ChildClosed(self._token))

    def _discard_rest(self) -> None:
        # The stream is out of step after an oversized message; drain it so a
        # child blocked writing is not stuck on us while it is being killed.
        fd = self._conn.fileno()
        while True:
            try:
                if not os.read(fd, 1 << 16):
                    return
            except OSError:
                return


@dataclass(slots=True)
class _Child:
    """One incarnation of the table's child (actor-private, mutable)."""

    token: int
    generation: int
    reader: ChildReader
    pid: int | None = None
    seq: int | None = None  # the fetch it is running
    ready: bool = False  # it said FetchReady (its source is loaded)
    kill_reason: str = ""
    killed_at: float | None = None  # monotonic time of the kill order
    exited: bool = False
    closed: bool = False
    cause: str = ""


class Fetcher(pykka.ThreadingActor):
    use_daemon_thread = True

    def __init__(
        self,
        table: str,
        *,
        starter: ProcessStarter,
        watchdog: pykka.ActorRef[Watchdog],
        kill_grace: float,
        max_result_bytes: int,
    ) -> None:
        super().__init__()
        self.table = table
        self._starter = starter
        self._watchdog = watchdog
        self._kill_grace = kill_grace
        self._max_bytes = max_result_bytes
        self._current: _Child | None = None
        self._children: dict[int, _Child] = {}  # every child not yet reported gone, by token

    def on_receive(self, message: Any) -> None:
        # One bad message must never stop the actor.
        try:
            self._handle(message)
        except Exception:
            log.exception("%s fetcher: error handling %r", self.table, type(message).__name__)

    def on_stop(self) -> None:
        for child in list(self._children.values()):
            self._starter.kill(child.token, grace=0.0)
            child.reader.close()
        self._children.clear()
        self._current = None

    def _handle(self, message: Any) -> None:
        if isinstance(message, StartFetch):
            self._start_fetch(message)
        elif isinstance(message, KillFetch):
            if self._current is not None and self._current.generation == message.generation:
                self._retire(self._current, message.reason)
        elif isinstance(message, ChildMessage):
            self._on_message(message)
        elif isinstance(message, ChildSpawned):
            child = self._children.get(message.token)
            if child is not None:
                child.pid = message.pid
                self._tell_watchdog(ChildLaunched(self.table, child.generation, message.pid))
        elif isinstance(message, ChildSpawnFailed):
            child = self._children.get(message.token)
            if child is not None:
                if child.seq is not None:
                    seq, child.seq = child.seq, None
                    self._fail(child.generation, seq, f"could not start the fetch process: {message.error}")
                self._on_exit(child, f"could not start: {message.error}")
        elif isinstance(message, ChildExited):
            child = self._children.get(message.token)
            if child is not None:
                self._on_exit(child, describe_exit(message.returncode, killed=bool(child.kill_reason)))
        elif isinstance(message, ChildOversize):
            self._on_oversize(message)
        elif isinstance(message, ChildClosed):
            child = self._children.get(message.token)
            if child is not None:
                child.closed = True
                self._finish_if_gone(child)
        else:
            log.warning("%s fetcher: unexpected message %r", self.table, type(message).__name__)

    def _start_fetch(self, message: StartFetch) -> None:
        current = self._current
        if current is not None and (current.generation != message.generation or current.exited):
            self._retire(current, "replaced")
            current = None
        if current is None:
            try:
                current = self._spawn(message.generation)
            except LauncherError as exc:
                self._fail(message.generation, message.seq, f"could not start the fetch process: {exc}")
                return
        current.seq = message.seq
        current.reader.send(messages.to_json(message).encode())

    def _spawn(self, generation: int) -> _Child:
        deliver = self.actor_ref.tell
        token, sock = self._starter.spawn(self.table, deliver, generation=generation)
        reader = ChildReader(sock, token=token, deliver=deliver, max_bytes=self._max_bytes)
        child = _Child(token=token, generation=generation, reader=reader)
        self._children[token] = child
        self._current = child
        return child

    def _on_message(self, message: ChildMessage) -> None:
        child = self._children.get(message.token)
        if child is None or child is not self._current:
            return  # a late answer from a child we gave up on
        try:
            answer = messages.from_json(message.payload, expect=(FetchResult, FetchReady))
            if (answer.table, answer.generation) != (self.table, child.generation):
                raise messages.CodecError(
                    f"it answered as generation {answer.generation} of {answer.table!r}, "
                    f"not {child.generation} of {self.table!r}"
                )
        except messages.CodecError as exc:
            if child.seq is None:
                return  # nothing waits for it; the next fetch will find out
            seq, child.seq = child.seq, None
            self._fail(child.generation, seq, f"the fetch process sent an invalid result: {exc}")
            self._retire(child, "invalid result")
            return
        if isinstance(answer, FetchReady):
            if not child.ready:
                child.ready = True
                self._tell_watchdog(answer)
            return
        if child.seq is None or answer.seq != child.seq:
            return
        if not answer.partial:
            child.seq = None
        self._tell_watchdog(answer)

    def _on_oversize(self, message: ChildOversize) -> None:
        child = self._children.get(message.token)
        if child is None:
            return
        if child is self._current and child.seq is not None:
            seq, child.seq = child.seq, None
            error = (
                f"result too large: more than {message.limit:,} bytes; fetch process restarted "
                "(lower the table's row limit or raise supervision.max_result_bytes)"
            )
            self._fail(child.generation, seq, error)
        self._retire(child, "oversize")

    def _on_exit(self, child: _Child, cause: str) -> None:
        child.exited = True
        child.cause = cause
        child.reader.end_input()
        self._finish_if_gone(child)

    def _finish_if_gone(self, child: _Child) -> None:
        if not (child.exited and child.closed):
            return
        child.reader.close()
        self._children.pop(child.token, None)
        if self._current is child:
            self._current = None
        kill_s = None if child.killed_at is None else time.monotonic() - child.killed_at
        self._tell_watchdog(
            ChildGone(
                self.table,
                child.generation,
                child.seq,
                cause=child.cause,
                killed=bool(child.kill_reason),
                kill_s=kill_s,
            )
        )

    def _retire(self, child: _Child, reason: str) -> None:
        """Kill a child; it is reported gone once the launcher has reaped it."""
        if not child.kill_reason:
            child.kill_reason = reason
            child.killed_at = time.monotonic()
            self._starter.kill(child.token, grace=self._kill_grace)
        if self._current is child:
            self._current = None

    def _fail(self, generation: int, seq: int, error: str) -> None:
        """Answer fetch ``seq`` with ``error``: its child could not."""
        self._tell_watchdog(FetchResult(table=self.table, generation=generation, seq=seq, error=error))

    def _tell_watchdog(self, message: Any) -> None:
        try:
            self._watchdog.tell(message)
        except pykka.ActorDeadError:
            pass  # shutting down


def describe_exit(returncode: int | None, *, killed: bool) -> str:
    """How a child ended, in words: ``SIGSEGV``, ``exit status 3``, ``killed (SIGKILL)``."""
    if returncode is None:
        return "the fetch process launcher went away"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"killed ({name})" if killed else name
    if returncode == 0:
        return "killed (exited)" if killed else "exited"
    return f"killed (exit status {returncode})" if killed else f"exit status {returncode}"
