"""``python -m arr_actors doctor``: is this machine ready to watch and launch on the configured project?

One screen of pass/fail lines, each failure with the exact command that fixes
it: Google credentials (which account), the project, each API, each
permission the monitor and ``launch`` need, where the runner job is deployed,
the W&B key, entity, project and launch queue. ``--demo`` asks the embedded
emulator instead. Exit 0 when everything passed, 1 when something needs
fixing, 2 for a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from arr_actors.inert import inert
from arr_actors.usage import EXIT_USAGE, Parser, UsageError

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.doctor.checks import Result

PROG = "python -m arr_actors doctor"
EXIT_OK, EXIT_FIX = 0, 1
_MARKS = {True: "PASS", False: "FAIL", None: "SKIP"}
_NAME_WIDTH = 18


def parser() -> Parser:
    p = Parser(
        prog=PROG,
        description=(
            "Check credentials, project, APIs, permissions, the runner job's regions and W&B before pointing "
            "the monitor at a real project. Every failure prints the command that fixes it. "
            "Exit 0: all good; 1: something to fix; 2: usage error."
        ),
    )
    p.add_argument("--demo", action="store_true", help="check against the embedded emulator instead")
    p.add_argument("--config", metavar="FILE", help="settings file (default ./arr_actors.toml, then the user's)")
    return p


def format_result(result: Result) -> str:
    """One check's line (and its fix); details quote the services' own messages, so they are made inert."""
    line = f"{_MARKS[result.ok]}  {result.check:<{_NAME_WIDTH}} {inert(result.detail)}"
    if result.fix:
        line += f"\n      fix: {inert(result.fix)}"
    return line


def header(settings: Settings) -> str:
    where = f"the emulator at {settings.emulator.address}" if settings.emulator.address else "Google Cloud"
    wandb = f"{settings.wandb.entity or '(default entity)'}/{settings.wandb.project or '?'}"
    return inert(f"{PROG}: project {settings.project or '?'} on {where}; W&B {wandb}")


def main(argv: Sequence[str] | None = None) -> int:
    from arr_actors import config

    try:
        args = parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        settings = config.load(config_file=args.config, demo=args.demo)
    except (UsageError, config.ConfigError) as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    from arr_actors.cli import StartupError, cloud_endpoints
    from arr_actors.doctor import guard

    def show(result: Result) -> None:
        print(format_result(result), flush=True)

    try:
        with cloud_endpoints(settings) as live:
            print(header(live), flush=True)
            results = guard.run(live, show=show)
    except StartupError as exc:
        print(f"{PROG}: error: {inert(str(exc))}", file=sys.stderr)
        return EXIT_FIX
    except KeyboardInterrupt:
        return 130
    failures = sum(1 for r in results if r.ok is False)
    print(f"{failures} to fix" if failures else "all good", flush=True)
    return EXIT_FIX if failures else EXIT_OK


__all__ = ["main"]
