"""What every command line of the program shares: one usage error, one parser, checked numbers.

A usage error is the user's to fix: it is printed as one line naming the flag, what was
wrong and where to look (``see PROG --help``), and the command exits 2 without a traceback.
"""

from __future__ import annotations

import argparse
import math
from typing import NoReturn

EXIT_USAGE = 2


class UsageError(Exception):
    """A flag, value or input the user gave is wrong; the message says which and what to do."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line instead of usage + message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def number(text: str, *, what: str = "a number", low: float = 0.0, high: float = 1e6, example: str = "") -> float:
    """A finite number with ``low < value <= high``, or an argparse error naming the range."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not math.isfinite(value) or not low < value <= high:
        hint = f" ({example})" if example else ""
        raise argparse.ArgumentTypeError(f"{text!r} must be {what} greater than {low:g} and at most {high:g}{hint}")
    return value


def seconds(text: str) -> float:
    """A number of seconds greater than 0 and at most one day."""
    return number(text, what="a number of seconds", high=86400.0)
