"""Make untrusted log text inert: decode, cap, drop escape sequences and control characters.

Log lines come from other people's programs. Anything that reaches a terminal, a
regex or a cache goes through ``clean_line`` first, so an escape sequence can
never move the cursor or recolour the screen, and a huge line costs a bounded
amount of work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: Characters of one raw line looked at; the rest is dropped before any regex runs.
RAW_LIMIT = 8192
#: Characters kept of one cleaned line.
LINE_LIMIT = 2000
#: Characters looked at of one log item (an item may hold many lines, e.g. a traceback).
ITEM_LIMIT = 1 << 20

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC strings, and
# two-character escapes; C1 CSI (0x9b) too. An unterminated sequence is dropped
# up to the end of the line.
_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~]?)"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
)
# Space separators other than " " (no-break space and friends) read as a space.
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def to_text(item: object) -> str:
    """Any log item (str, bytes, or anything else) as a bounded str; never raises."""
    try:
        if isinstance(item, str):
            return item
        if isinstance(item, (bytes, bytearray, memoryview)):
            return bytes(item[:ITEM_LIMIT]).decode("utf-8", "replace")
        if item is None:
            return ""
        return str(item)[:ITEM_LIMIT]
    except Exception:  # a hostile __str__ or a broken buffer
        return ""


def clean_line(text: str) -> str:
    """One physical line made inert: no escapes, only printable characters, tabs as spaces.

    Trailing whitespace is dropped, leading indentation kept (tracebacks read
    better with it). A carriage return keeps what a terminal would show: the
    text after the last one.
    """
    if len(text) > RAW_LIMIT:
        text = text[:RAW_LIMIT]
    if not text.isprintable():
        text = text.rstrip("\r\n")
        if "\r" in text:
            text = text[text.rfind("\r") + 1 :]
        if "\x1b" in text or "\x9b" in text:
            text = _ESCAPE.sub("", text)
        text = _SPACES.sub(" ", text.replace("\t", "    "))
        # Everything else that is not printable goes: C0/C1 controls, zero-width and
        # bidirectional formatting (which can reorder what a reader sees), line
        # separators, lone surrogates, private-use and unassigned code points (a
        # newer terminal may give them a meaning).
        text = "".join(filter(str.isprintable, text))
    if len(text) > LINE_LIMIT:
        text = text[: LINE_LIMIT - 1] + "\u2026"
    return text.rstrip()


def physical_lines(items: Iterable[object]) -> Iterator[str]:
    """Clean lines from log items; an item holding several lines yields each.

    Items are cut to ``ITEM_LIMIT`` characters before splitting, so one
    enormous entry costs bounded work.
    """
    for item in items:
        # The common case, cheaply: one printable line (no newline, no controls).
        if type(item) is str and len(item) <= LINE_LIMIT and item.isprintable():
            yield item.rstrip()
            continue
        text = to_text(item)
        if "\n" not in text:
            yield clean_line(text)
            continue
        if len(text) > ITEM_LIMIT:
            text = text[:ITEM_LIMIT]
        start = 0
        while True:
            end = text.find("\n", start)
            if end < 0:
                if start < len(text):  # "a\n" is one line, not "a" and ""
                    yield clean_line(text[start:])
                break
            yield clean_line(text[start:end])
            start = end + 1


def one_line(text: str, *, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marking the cut with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "\u2026"
