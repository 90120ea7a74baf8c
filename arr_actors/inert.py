"""Make text from outside inert before it reaches a terminal: the one sanitizer of the program.

Log lines, job names, run names and error messages come from other people's
code, and a recording or a log file may come from anywhere. Anything a terminal
could act on, or that shows differently from what it is, is removed before
such text is printed, drawn on the screen, or matched by a search:

- escape sequences: CSI, OSC (title, clipboard, hyperlinks), DCS/SOS/PM/APC
  strings, two-byte ESC sequences, a bare ESC, and their 8-bit C1 forms;
- every other C0 and C1 control and DEL (a carriage return or backspace
  cannot overwrite a line);
- bidi embeddings, overrides, isolates and marks (they reorder what is shown);
- invisible and format characters: every character of category ``Cf`` (zero
  width space, joiners, word joiner, BOM, soft hyphen, tag characters...), the
  other default-ignorable code points Python calls printable (Hangul fillers,
  variation selectors, the combining grapheme joiner), line and paragraph
  separators, lone surrogates, private-use and unassigned code points.

Inert is preferred over pretty: a zero width joiner inside an emoji sequence
goes too, so a family emoji shows as its members, each as wide as a terminal
and urwid both count it. Spaces of any kind become an ASCII space.

JSON documents we print (``--once --json``, ``diagnose --json``, ``launch
--json``, recordings) keep the text as it came but escape the same characters
as ``\\uXXXX`` (``json.dumps`` escapes C0 itself, never C1 or format
characters), so their bytes are as inert as the text output.

This module imports nothing but the standard library: the UI imports it.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A string sequence (OSC, DCS, SOS, PM, APC) runs to its terminator: BEL or ST
# (ESC \ or 8-bit 0x9c). An unterminated one swallows the rest of the text: a
# terminal would do the same, and showing its payload would show garbage.
_STRING_SEQUENCE = r"(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)"
# CSI: ESC [ or 8-bit 0x9b, parameter bytes, intermediate bytes, one final byte.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
# Other escape sequences: ESC, intermediate bytes, one final byte (e.g. ESC ( B, ESC 7, ESC c).
_ESC_OTHER = r"\x1b[ -/]*[0-~]?"
_SEQUENCE = re.compile("|".join((_STRING_SEQUENCE, _CSI, _ESC_OTHER)))
# Where a sequence can start: no search for sequences without one of these.
_INTRODUCERS = re.compile("[\x1b\x90\x98\x9b\x9d\x9e\x9f]")

# Default-ignorable code points that str.isprintable() keeps (everything else
# invisible is category Cf, Cc, Cs, Co, Cn, Zl or Zp, which it rejects).
# urwid counts the Hangul fillers as 0 or 2 columns, terminals as 0, 1 or 2:
# left in, they misalign columns or wrap a row.
_HIDDEN = "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef"
_HIDDEN_CHAR = re.compile(f"[{_HIDDEN}]")
# Space separators other than " " read as a space (str.isprintable() rejects them).
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_WHITESPACE_RUN = re.compile(r"[ \t\n]+")
# Runs of non-ASCII characters in a JSON document: only those are looked at.
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]+")


def is_inert(text: str) -> bool:
    """Whether ``text`` has nothing to remove: printable, no hidden characters (newlines and tabs not allowed)."""
    if text.isascii():
        return text.isprintable()
    return text.isprintable() and _HIDDEN_CHAR.search(text) is None


def _printable(text: str) -> str:
    """Every character that is not printable or is hidden removed (sequences already gone)."""
    if text.isascii():
        return text if text.isprintable() else "".join(filter(str.isprintable, text))
    text = _SPACES.sub(" ", text)
    text = _HIDDEN_CHAR.sub("", text)
    if text.isprintable():
        return text
    return "".join(filter(str.isprintable, text))


def strip_sequences(text: str) -> str:
    """``text`` without escape sequences (7-bit and 8-bit); controls and other characters left as they are."""
    if _INTRODUCERS.search(text) is None:
        return text
    return _SEQUENCE.sub("", text)


def inert_line(text: str) -> str:
    """One physical line (no newline expected) made inert; tabs become one space each,
    everything else that is not plainly visible is removed. Nothing is trimmed."""
    if is_inert(text):
        return text
    return _printable(strip_sequences(text).replace("\t", " "))


def inert_lines(text: str, *, tab_width: int = 4) -> list[str]:
    """Text from outside as display lines with nothing a terminal could act on.

    Newlines (and Unicode line and paragraph separators) split lines; tabs
    become ``tab_width`` spaces; every other control and invisible character is
    removed. Indentation is kept.
    """
    text = strip_sequences(text).replace("\t", " " * tab_width)
    if not text.isascii():
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return [_printable(line) for line in text.split("\n")]


def inert(text: str) -> str:
    """Text from outside as one display line: sequences, controls and invisible
    characters removed, newlines and tabs folded into single spaces, ends trimmed."""
    if not is_inert(text):
        # Whitespace first: a tab or newline between two words leaves a space, not nothing.
        text = strip_sequences(text)
        if not text.isascii():
            text = text.replace("\u2028", " ").replace("\u2029", " ")
        text = _printable(_WHITESPACE_RUN.sub(" ", text))
    return _WHITESPACE_RUN.sub(" ", text).strip()


def inert_block(text: str) -> str:
    """Several lines of our own output holding outside text, each line made inert, newlines kept.

    Only our own newlines break lines: a Unicode line separator inside a quoted name reads as a space.
    """
    if not text.isascii():
        text = text.replace("\u2028", " ").replace("\u2029", " ")
    return "\n".join(line.rstrip() for line in inert_lines(text))


def ascii_only(text: str) -> str:
    """Replace what a non-UTF-8 terminal cannot show with ``?``."""
    if text.isascii():
        return text
    return text.encode("ascii", "replace").decode("ascii")


def _escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as JSON writes characters past the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _escape_run(match: re.Match[str]) -> str:
    run = match.group()
    if run.isprintable() and _HIDDEN_CHAR.search(run) is None:
        return run
    return "".join(c if c.isprintable() and _HIDDEN_CHAR.match(c) is None else _escape_char(c) for c in run)


def escape_json(document: str) -> str:
    """A JSON text (as ``json.dumps`` writes it) with every C1, format, invisible or
    unassigned character escaped as ``\\uXXXX``; the value it stands for is unchanged."""
    # json.dumps escapes every C0 control itself, but not DEL.
    if "\x7f" in document:
        document = document.replace("\x7f", "\\u007f")
    if document.isascii():
        return document
    return _NON_ASCII_RUN.sub(_escape_run, document)


def dumps(
    value: Any, *, indent: int | None = None, separators: tuple[str, str] | None = None, allow_nan: bool = True
) -> str:
    """``json.dumps`` for documents that may reach a terminal: readable UTF-8, inert bytes."""
    return escape_json(json.dumps(value, indent=indent, separators=separators, ensure_ascii=False, allow_nan=allow_nan))


__all__ = [
    "ascii_only",
    "dumps",
    "escape_json",
    "inert",
    "inert_block",
    "inert_line",
    "inert_lines",
    "is_inert",
    "strip_sequences",
]
