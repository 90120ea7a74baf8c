"""What differs between the Python versions the program runs on (3.10 to 3.13), in one place.

Monitors run on hosts with whatever Python they have; cloud VMs and ML images often
carry 3.10. Code elsewhere uses these names instead of the 3.11-only ones.
"""

from __future__ import annotations

import datetime
import re
import sys
import warnings

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, published as tomli before it joined the standard library
    import tomli as tomllib

__all__ = ["tomllib", "fromisoformat", "quiet_python_support_warnings"]

# Before 3.11, fromisoformat reads only what isoformat writes: no "Z", exactly 3 or 6
# fraction digits, a colon in the offset. RFC 3339 text from services has all three.
_RFC3339_TAIL = re.compile(r"(.*\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?(Z|z|[+-]\d{2}:?\d{2})?")


def fromisoformat(text: str) -> datetime.datetime:
    """``datetime.fromisoformat`` as 3.11 reads RFC 3339 text, on every supported version."""
    if sys.version_info >= (3, 11):
        return datetime.datetime.fromisoformat(text)
    match = _RFC3339_TAIL.fullmatch(text)
    if match is None:
        return datetime.datetime.fromisoformat(text)
    moment, fraction, zone = match.groups()
    if fraction:
        moment += "." + fraction[:6].ljust(6, "0")
    if zone:
        moment += "+00:00" if zone in ("Z", "z") else f"{zone[:3]}:{zone[-2:]}"
    return datetime.datetime.fromisoformat(moment)


def quiet_python_support_warnings() -> None:
    """Silence the Google client libraries' notice that this Python is old or past its end of life.

    It is printed at import, in the middle of a one-line error or a drawn screen, and
    the user can do nothing about it from here: the program supports the version.
    """
    warnings.filterwarnings(
        "ignore",
        message=r"You are using a (non-supported )?Python version",
        category=FutureWarning,
    )
