"""What drawing needs beyond the state: the settings and terminal facts, and the glyphs they imply."""

from __future__ import annotations

from dataclasses import dataclass

from ui.safe import ascii_only, inert

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
        return ascii_only(clean) if self.ascii else clean


__all__ = ["ASCII_GLYPHS", "SPINNER_FPS", "UTF8_GLYPHS", "Glyphs", "RenderContext"]
