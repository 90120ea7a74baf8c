"""A stand-in for ssh that relays like the real client, for the remote-viewing tests.

    python fake_ssh.py [-n] [-T] HOST COMMAND

Runs COMMAND with ``sh -c`` (the "remote" side) and relays as ssh does: its own
standard input to the command's (unless ``-n``: then nothing, as ssh reads
/dev/null), the command's output to its own. Like ssh, it learns that its reader
went away only when it next writes; then it closes the command's pipes and exits,
which is how a remote command sees the viewer quit. Whatever it read from its
standard input is appended to $FAKE_SSH_STDIN_LOG, and the command's pid written
to $FAKE_SSH_PIDFILE, so tests can check both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading


def main(argv: list[str]) -> int:
    no_stdin = False
    while argv and argv[0].startswith("-"):
        option = argv.pop(0)
        no_stdin = no_stdin or option == "-n"
    host, command = argv[0], " ".join(argv[1:])
    del host  # there is only this machine
    remote = subprocess.Popen(["/bin/sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert remote.stdin is not None and remote.stdout is not None
    pidfile = os.environ.get("FAKE_SSH_PIDFILE")
    if pidfile:
        with open(pidfile, "w") as fh:
            fh.write(str(remote.pid))
    if no_stdin:
        remote.stdin.close()
    else:
        threading.Thread(target=relay_stdin, args=(remote.stdin,), daemon=True).start()
    out = sys.stdout.buffer
    while True:
        chunk = os.read(remote.stdout.fileno(), 65536)
        if not chunk:
            break
        try:
            out.write(chunk)
            out.flush()
        except BrokenPipeError:
            # The viewer quit: drop the connection at once, as ssh does; the remote
            # command is left to notice its closed output by itself.
            os._exit(255)
    return remote.wait()


def relay_stdin(to_remote) -> None:
    log = os.environ.get("FAKE_SSH_STDIN_LOG")
    while True:
        try:
            data = os.read(0, 1024)
        except OSError:
            return
        if not data:
            return
        if log:
            with open(log, "ab") as fh:
                fh.write(data)
        try:
            to_remote.write(data)
            to_remote.flush()
        except (BrokenPipeError, ValueError):
            return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
