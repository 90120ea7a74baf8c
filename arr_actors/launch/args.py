"""The ``launch`` command line: flags in, a frozen :class:`Options` out."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

from arr_actors.usage import Parser, UsageError, seconds

PROG = "python -m arr_actors launch"
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_POLL_S = 5.0


@dataclass(frozen=True, slots=True)
class Options:
    region: str  # "" = the first configured region
    queue: str  # "" = the configured queue
    timeout_s: float
    poll_s: float
    json: bool
    demo: bool
    scenario: str
    config: str | None


def _region(text: str) -> str:
    if not text or text != text.lower() or not all(c.isalnum() or c == "-" for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a region name (e.g. us-central1)")
    return text


def _queue(text: str) -> str:
    if not text.strip() or not text.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a queue name")
    return text.strip()


def parser() -> Parser:
    p = Parser(
        prog=PROG,
        description=(
            "Start one execution of the runner job (Cloud Run) and follow it until the training job "
            "shows up in Vertex AI, the runner fails, or the timeout passes. "
            "Exit status: 0 job submitted, 1 runner failed (or could not be started), 2 usage error, "
            "3 no job before the timeout (or the runner ended without one), 130 interrupted."
        ),
    )
    p.add_argument(
        "--region",
        type=_region,
        default=None,
        metavar="R",
        help="region of the runner job and of the Vertex AI jobs to watch (default: the first configured region)",
    )
    p.add_argument(
        "--queue",
        type=_queue,
        default=None,
        metavar="Q",
        help="W&B Launch queue the runner serves, passed as LAUNCH_QUEUE (default: the configured queue)",
    )
    p.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"give up waiting for the training job after this long (default {DEFAULT_TIMEOUT_S:g})",
    )
    p.add_argument(
        "--poll",
        type=seconds,
        default=DEFAULT_POLL_S,
        metavar="SECONDS",
        help=f"seconds between looks at Vertex AI and the execution (default {DEFAULT_POLL_S:g})",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON document with the outcome (progress goes to stderr)"
    )
    p.add_argument("--demo", action="store_true", help="run against the embedded emulator (no cloud needed)")
    p.add_argument(
        "--scenario",
        metavar="NAME",
        default="",
        help="emulator scenario with --demo (e.g. launch-ok, launch-runner-fails, launch-no-job)",
    )
    p.add_argument("--config", metavar="FILE", help="settings file (default ./arr_actors.toml, then the user config)")
    return p


def parse(argv: Sequence[str]) -> Options:
    """Options from the command line; UsageError says what is wrong."""
    ns = parser().parse_args(list(argv))
    if ns.scenario and not ns.demo:
        raise UsageError("--scenario needs --demo (scenarios belong to the embedded emulator)")
    from arr_actors.cli import check_scenario

    check_scenario(ns.scenario)
    return Options(
        region=ns.region or "",
        queue=ns.queue or "",
        timeout_s=ns.timeout,
        poll_s=ns.poll,
        json=ns.json,
        demo=ns.demo,
        scenario=ns.scenario,
        config=ns.config,
    )
