"""One hostile string, and the check that output bytes hold nothing a terminal could act on."""

from __future__ import annotations

import re
import unicodedata

#: Everything a terminal could act on or that shows differently from what it is.
HOSTILE = (
    "q\u200bevil"  # a zero width space inside a word: shown and searched as "qevil"
    "\x1b]52;c;cHduZWQ=\x07"  # OSC 52: set the clipboard
    "\x1b]0;pwned title\x1b\\"  # OSC 0: set the window title, ST-terminated
    "\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\"  # OSC 8 hyperlink
    "\x1b[2J\x1b[H\x1b[31m\x1b[?1049h"  # CSI: clear screen, home, colour, alternate screen
    "\x1bP1$r0m\x1b\\"  # DCS
    "\x1bXsos\x1b\\\x1b^pm\x1b\\\x1b_apc\x1b\\"  # SOS, PM, APC
    "\x1b7\x1b8\x1bc\x1b(B"  # two-byte ESC sequences (save, restore, reset, charset)
    "\x9b2J\x9d0;c1 title\x9c\x90c1 dcs\x9c\x85"  # 8-bit CSI, OSC, DCS, NEL
    "\x07\x08\x08\r\x7f\x00\x0b\x0c"  # BEL, BS, CR, DEL, NUL, VT, FF
    "\u202eevil\u202c\u202a\u202b\u202d\u2066\u2067\u2068iso\u2069\u200e\u200f\u061c"  # bidi
    "\u200c\u200d\ufeff\u2060\u2061\u2062\u2063\u2064\u180e\u00ad\u034f"  # zero width and format
    "\u3164\u115f\u1160\uffa0"  # Hangul fillers (blank, 0 or 2 columns depending on who counts)
    "\U000e0001\U000e0065\U000e0076\U000e007f"  # tag characters
    "\ufe0f\U000e0100"  # variation selectors standing alone
    "\u2028\u2029\ue000\U0010fffd"  # line and paragraph separators, private use
    " tail"
)

#: What must survive of HOSTILE when it is made inert (proof that the text got through at all).
SURVIVOR = "qevil"

# Default-ignorable characters that str.isprintable() accepts.
_HIDDEN = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")


def offences(data: bytes) -> list[str]:
    """What in ``data`` (output bytes) a terminal could act on, or that is invisible; [] when inert.

    Newlines are the only control allowed. The bytes must be UTF-8.
    """
    found = []
    if b"\x1b" in data:
        found.append("ESC byte")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [*found, f"not UTF-8: {exc}"]
    for index, char in enumerate(text):
        if char == "\n":
            continue
        if not char.isprintable() or _HIDDEN.match(char):
            name = unicodedata.name(char, "") or unicodedata.category(char)
            found.append(f"U+{ord(char):04X} {name} at {index}: ...{text[max(0, index - 30) : index]!r}")
    return found


def assert_inert(data: bytes, *, what: str) -> None:
    found = offences(data)
    assert not found, f"{what}: {len(found)} offending characters, first: " + "; ".join(found[:5])
