"""Runs record_headless with a message source, for the headless recording tests.

    python headless_driver.py MODE

MODE ``session`` tells the sample session's messages over and over (one every
20 ms) from a thread, like a running system; ``idle`` tells nothing after the
first round. The source prints ``stopped`` to stderr when ``stop()`` is called,
so the tests can see the system was shut down.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recording_samples import session_messages  # noqa: E402

from arr_actors import config, recording  # noqa: E402


class MessageSource:
    def __init__(self, subscriber, *, idle: bool) -> None:
        self._subscriber = subscriber
        self._idle = idle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        messages = [msg for _t, msg in session_messages()]
        while not self._stop.is_set():
            for msg in messages:
                if self._stop.wait(0.02):
                    return
                self._subscriber.tell(msg)
            if self._idle:
                print("idle", file=sys.stderr, flush=True)
                return

    def tell(self, command) -> None:
        pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        print("stopped", file=sys.stderr, flush=True)


def main() -> int:
    mode = sys.argv[1]
    settings = config.defaults(project="demo-project")
    return recording.record_headless(
        settings, start_system=lambda sub: MessageSource(sub, idle=mode == "idle")
    )


if __name__ == "__main__":
    sys.exit(main())
