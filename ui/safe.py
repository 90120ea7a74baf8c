"""Make text from outside inert before it reaches the terminal.

Log lines, job names, run names and error messages come from other people's
code. Anything that a terminal could act on is removed: escape sequences (CSI,
OSC including title and hyperlink sets, DCS/SOS/PM/APC strings, two-byte ESC
sequences, a bare ESC), their 8-bit C1 forms, every other C0/C1 control and
DEL, and the Unicode controls that reorder what is displayed (bidi overrides).
Tabs become spaces; carriage returns and backspaces are dropped, so a line
cannot overwrite itself.

The result is always handed to urwid as a plain ``str`` inside markup we build,
so it is never read as markup either.
"""

from __future__ import annotations

import re

# A string sequence (OSC, DCS, SOS, PM, APC) runs to its terminator: BEL or ST
# (ESC \ or 8-bit 0x9c). An unterminated one swallows the rest of the text: a
# terminal would do the same, and showing its payload would show garbage.
_STRING_SEQUENCE = r"(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)"
# CSI: ESC [ or 8-bit 0x9b, parameter bytes, intermediate bytes, one final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
# Other escape sequences: ESC, intermediate bytes, one final byte (e.g. ESC ( B, ESC 7, ESC c).
_ESC_OTHER = r"\x1b[ -/]*[0-~]?"
_SEQUENCE = re.compile("|".join((_STRING_SEQUENCE, _CSI, _ESC_OTHER)))

# Controls left after sequences are gone: C0 except tab and newline, DEL, C1,
# and the bidi embedding/override/isolate marks that reorder displayed text.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WHITESPACE_RUN = re.compile(r"[ \t\n]+")


def inert_lines(text: str, *, tab_width: int = 4) -> list[str]:
    """Text from outside as display lines with nothing a terminal could act on.

    Newlines split lines; every other control is removed and tabs become
    ``tab_width`` spaces.
    """
    text = _SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    text = text.replace("\t", " " * tab_width)
    return text.split("\n")


def inert(text: str) -> str:
    """Text from outside as one display line: sequences and controls removed,
    newlines and tabs folded into single spaces, ends trimmed."""
    text = _SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    return _WHITESPACE_RUN.sub(" ", text).strip()


def ascii_only(text: str) -> str:
    """Replace what a non-UTF-8 terminal cannot show with ``?``."""
    if text.isascii():
        return text
    return text.encode("ascii", "replace").decode("ascii")


__all__ = ["ascii_only", "inert", "inert_lines"]
