"""The emulator's options: one parser for the command line, one validation for ``spawn``."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass

from arr_actors.config import DEFAULT_REGIONS, DEMO_PROJECT
from arr_actors.emulator import faults, latency
from arr_actors.emulator.world import SCENARIOS
from arr_actors.usage import Parser, UsageError

PROG = "python -m arr_actors emulator"
#: On by default: what the real service may do, the tests and the demo meet too.
DEFAULT_LOG_GAPS = 0.25


@dataclass(frozen=True, slots=True)
class Options:
    port: int = 0
    http_port: int = 0
    project: str = DEMO_PROJECT
    scenario: str = "default"
    faults: tuple[str, ...] = ()  # "SERVICE=KIND", applied in order
    latency: str = "none"
    seed: int = 1
    speed: float = 1.0
    regions: tuple[str, ...] = DEFAULT_REGIONS
    #: Share of entries.list page positions first answered with an empty page and a token, as
    #: Cloud Logging documents it may ("did not have time to search all the possible log entries").
    log_gaps: float = DEFAULT_LOG_GAPS
    parent_pid: int = 0  # set by spawn(): the emulator dies with that process


def validate(options: Options) -> Options:
    """Check every field; raises UsageError naming the first bad one."""
    for name, port in (("--port", options.port), ("--http-port", options.http_port)):
        if not 0 <= port <= 65535:
            raise UsageError(f"{name} {port}: a port must be 0-65535 (0 picks a free one)")
    if not options.project or not all(c.isalnum() or c in "-_." for c in options.project):
        raise UsageError(f"--project {options.project!r}: use letters, digits, '-', '_' or '.'")
    if options.scenario not in SCENARIOS:
        raise UsageError(f"--scenario {options.scenario!r}: unknown (scenarios: {', '.join(SCENARIOS)})")
    try:
        faults.build_table(list(options.faults))
    except faults.FaultError as exc:
        raise UsageError(f"--fault: {exc}") from None
    try:
        latency.check_profile(options.latency)
    except latency.LatencyError as exc:
        raise UsageError(f"--latency: {exc}") from None
    if not math.isfinite(options.speed) or options.speed <= 0:
        raise UsageError(f"--speed {options.speed!r}: must be a number greater than 0 (1 = real time)")
    if not (math.isfinite(options.log_gaps) and 0 <= options.log_gaps < 1):
        raise UsageError(f"--log-gaps {options.log_gaps!r}: a share from 0 (never) to below 1, e.g. 0.25")
    if not options.regions:
        raise UsageError("--regions: give at least one region, e.g. us-central1,europe-west4")
    for region in options.regions:
        if not region or not all(c.isalnum() or c == "-" for c in region) or region != region.lower():
            raise UsageError(f"--regions: {region!r} is not a region name (lower case letters, digits and dashes)")
    if len(set(options.regions)) != len(options.regions):
        raise UsageError("--regions: a region is listed twice")
    return options


def parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=PROG,
        description=(
            "Serve a local fake Google Cloud (Cloud Run, Vertex AI, Cloud Build, Cloud Logging over gRPC) "
            "and W&B (GraphQL over HTTP) on 127.0.0.1. Prints 'grpc HOST:PORT', 'wandb URL', 'project ID' "
            "and 'ready', one per line, then serves until SIGTERM or Ctrl-C."
        ),
    )
    p.add_argument("--port", type=int, default=0, help="gRPC port (default 0: a free port)")
    p.add_argument("--http-port", type=int, default=0, help="W&B GraphQL and control port (default 0: a free port)")
    p.add_argument("--project", default=DEMO_PROJECT, help=f"project id of the world (default {DEMO_PROJECT})")
    p.add_argument("--scenario", default="default", help=f"what RunJob does: {', '.join(SCENARIOS)}")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SERVICE=KIND",
        help=f"inject a fault (repeatable); services: {', '.join(faults.SERVICES)}, all; kinds: {', '.join(faults.KINDS)}",
    )
    p.add_argument("--latency", default="none", help=f"latency profile: {', '.join(latency.PROFILES)}, optionally :FACTOR (e.g. realistic:0.2)")
    p.add_argument("--seed", type=int, default=1, help="world seed (same seed, same world)")
    p.add_argument("--speed", type=float, default=1.0, help="how much faster than real time the world runs after start")
    p.add_argument("--regions", default=",".join(DEFAULT_REGIONS), help="comma-separated regions of the runner job")
    p.add_argument(
        "--log-gaps", type=float, default=DEFAULT_LOG_GAPS, metavar="SHARE",
        help=f"share of Cloud Logging pages first answered empty with a page token, as the real service may (default {DEFAULT_LOG_GAPS}; 0 = never)",
    )
    p.add_argument("--parent-pid", type=int, default=0, help=argparse.SUPPRESS)
    return p


def parse_args(argv: Sequence[str]) -> Options:
    args = parser().parse_args(list(argv))
    regions = tuple(r.strip() for r in args.regions.split(",") if r.strip())
    return validate(
        Options(
            port=args.port,
            http_port=args.http_port,
            project=args.project,
            scenario=args.scenario,
            faults=tuple(args.fault),
            latency=args.latency,
            seed=args.seed,
            speed=args.speed,
            regions=regions,
            log_gaps=args.log_gaps,
            parent_pid=args.parent_pid,
        )
    )


def to_argv(options: Options) -> list[str]:
    argv = [
        f"--port={options.port}",
        f"--http-port={options.http_port}",
        f"--project={options.project}",
        f"--scenario={options.scenario}",
        f"--latency={options.latency}",
        f"--seed={options.seed}",
        f"--speed={options.speed!r}",
        f"--regions={','.join(options.regions)}",
        f"--log-gaps={options.log_gaps!r}",
    ]
    argv += [f"--fault={f}" for f in options.faults]
    if options.parent_pid:
        argv.append(f"--parent-pid={options.parent_pid}")
    return argv
