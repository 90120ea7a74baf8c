"""What drawing needs beyond the state: the settings and terminal facts, and the glyphs they imply.

On a terminal that is not UTF-8 every character we draw ourselves has an ASCII
form: the glyph set (``ASCII_GLYPHS``) for spinners, rules, arrows and
ellipses, and ``ASCII_FORMS`` for the typography in texts that reach the screen
as data (a runner note such as ``Running…``, punctuation in outside text). Only
a character with no ASCII form becomes ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass

from arr_actors.inert import ascii_only, inert

#: Spinner frames per second while a fetch runs.
SPINNER_FPS = 8.0


@dataclass(frozen=True, slots=True)
class Glyphs:
    spinner: tuple[str, ...]
    ellipsis: str  # marks a cut cell: one column
    dots: str  # ends a sentence such as "loading"
    divider: str
    focus: str
    arrow: str


UTF8_GLYPHS = Glyphs(spinner=tuple("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"), ellipsis="…", dots="…", divider="─", focus="▶", arrow="›")
ASCII_GLYPHS = Glyphs(spinner=tuple("|/-\\"), ellipsis="~", dots="...", divider="-", focus=">", arrow=">")

#: ASCII forms of the non-ASCII characters our own texts use (and of common
#: typography in outside text), so that on a non-UTF-8 terminal ``Running…``
#: reads ``Running...`` rather than ``Running?``.
ASCII_FORMS: dict[str, str] = {
    "…": "...",
    "▲": "^",
    "▼": "v",
    "─": "-",
    "━": "-",
    "│": "|",
    "—": "-",
    "–": "-",
    "‐": "-",
    "−": "-",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "▶": ">",
    "►": ">",
    "›": ">",
    "‹": "<",
    "»": ">>",
    "«": "<<",
    "•": "*",
    "·": ".",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "×": "x",
    "≤": "<=",
    "≥": ">=",
    "±": "+/-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    **dict.fromkeys(UTF8_GLYPHS.spinner, "*"),
}
_ASCII_TABLE = str.maketrans(ASCII_FORMS)


def to_ascii(text: str) -> str:
    """``text`` for a terminal that is not UTF-8: our typography in its ASCII
    form, anything else that is not ASCII as ``?``."""
    if text.isascii():
        return text
    return ascii_only(text.translate(_ASCII_TABLE))


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What rendering needs to know beyond the state: settings and terminal facts."""

    regions: int = 18
    ascii: bool = False  # the terminal's encoding is not UTF-8
    replay_label: str = ""

    @property
    def glyphs(self) -> Glyphs:
        return ASCII_GLYPHS if self.ascii else UTF8_GLYPHS

    def text(self, value: str) -> str:
        """One line of outside text, made inert (and ASCII on a non-UTF-8 terminal)."""
        clean = inert(value)
        return to_ascii(clean) if self.ascii else clean

    def plain(self, value: str) -> str:
        """Text that is already inert (our own, or a log line split by ``inert_lines``), ASCII when it must be."""
        return to_ascii(value) if self.ascii else value


__all__ = ["ASCII_FORMS", "ASCII_GLYPHS", "SPINNER_FPS", "UTF8_GLYPHS", "Glyphs", "RenderContext", "to_ascii"]
