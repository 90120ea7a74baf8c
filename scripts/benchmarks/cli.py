"""The command line of ``scripts/bench.py``: flags, the chosen measurements, the table or JSON, the exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from arr_actors.usage import EXIT_USAGE, Parser, UsageError
from benchmarks.report import format_table
from benchmarks.run import MEASUREMENTS, run

PROG = "bench.py"
DESCRIPTION = "Benchmarks: what users feel, measured against the old design in one run."
EXIT_OK, EXIT_MISSED = 0, 1


def parser() -> Parser:
    p = Parser(prog=PROG, description=DESCRIPTION)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--quick", action="store_true", help="CI-sized run: under a minute, scaled-down latencies")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this measurement (repeatable): " + ", ".join(name for name, _ in MEASUREMENTS),
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        unknown = [name for name in args.only if name not in dict(MEASUREMENTS)]
        if unknown:
            names = ", ".join(n for n, _ in MEASUREMENTS)
            raise UsageError(f"unknown measurement {unknown[0]!r} (measurements: {names})")
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = run(quick=args.quick, progress=sys.stderr, only=args.only)
    doc = report.document()
    print(json.dumps(doc, indent=2) if args.json else format_table(doc))
    return EXIT_OK if not doc["errors"] and all(g["met"] for g in doc["goals"].values()) else EXIT_MISSED
