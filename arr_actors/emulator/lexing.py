"""One scanner for the emulator's small languages (list filters in filters.py, GraphQL in graphql.py).

A language is a regular expression of named alternatives, tried in order at
each position; the name of the group that matched is the token's kind, and a
group named ``skip`` (blanks, comments) makes no token. Each language keeps
its own grammar and wraps ``UnexpectedCharacter`` in its own error wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # the name of the group that matched
    text: str
    pos: int  # offset in the source


class UnexpectedCharacter(ValueError):
    """No alternative of the language matches at ``pos``."""

    def __init__(self, char: str, pos: int) -> None:
        super().__init__(f"unexpected character {char!r} at {pos}")
        self.char = char
        self.pos = pos


def tokenize(text: str, language: re.Pattern[str]) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = language.match(text, pos)
        if match is None:
            raise UnexpectedCharacter(text[pos], pos)
        kind = match.lastgroup or ""
        if kind != "skip":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens
