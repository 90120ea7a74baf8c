"""Make untrusted log text inert: decode, cap, and clean with the program's one sanitizer.

Log lines come from other people's programs. Anything that reaches a terminal, a
regex or a cache goes through ``clean_line`` first (which uses
:mod:`arr_actors.inert`), so an escape sequence can never move the cursor or
recolour the screen, and a huge line costs a bounded amount of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from arr_actors.inert import inert_line, is_inert

#: Characters of one raw line looked at; the rest is dropped before any regex runs.
RAW_LIMIT = 8192
#: Characters kept of one cleaned line.
LINE_LIMIT = 2000
#: Characters looked at of one log item (an item may hold many lines, e.g. a traceback).
ITEM_LIMIT = 1 << 20


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
    if not is_inert(text):
        text = text.rstrip("\r\n")
        if "\r" in text:
            text = text[text.rfind("\r") + 1 :]
        # The one sanitizer: escape sequences, C0/C1 controls, bidi and other format
        # characters, invisible fillers, lone surrogates, private-use and unassigned
        # code points all go (a newer terminal may give them a meaning).
        text = inert_line(text.replace("\t", "    "))
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
        if type(item) is str and len(item) <= LINE_LIMIT and is_inert(item):
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
