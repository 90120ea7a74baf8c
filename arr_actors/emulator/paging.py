"""Page tokens and page cutting for the emulated list methods.

Tokens are keyset cursors: they carry the sort key of the last item handed
out, so new items arriving at the head of a list between two page calls do
not shift later pages. A token is bound to the query it came from (parent,
filter, order), as the real APIs bind theirs; reusing it with another query
is an INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
SortKey = tuple[float | str, ...]


class PageTokenError(ValueError):
    """A page token that this emulator did not issue for this query."""


@dataclass(frozen=True, slots=True)
class PageRules:
    """The page sizes one method allows (as the real API documents them)."""

    default: int
    maximum: int
    reject_above_maximum: bool = False  # Cloud Logging rejects, the others clamp

    def size(self, requested: int) -> int:
        if requested < 0:
            raise PageTokenError(f"page_size must not be negative (got {requested})")
        if requested == 0:
            return self.default
        if requested > self.maximum:
            if self.reject_above_maximum:
                raise PageTokenError(f"page_size must be at most {self.maximum} (got {requested})")
            return self.maximum
        return requested


def fingerprint(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=6).hexdigest()


def encode_token(key: SortKey, query: str) -> str:
    raw = json.dumps({"k": list(key), "q": query}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, query: str) -> SortKey:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
        key = doc["k"]
        issued_for = doc["q"]
        if not isinstance(key, list) or not all(isinstance(k, (int, float, str)) for k in key):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise PageTokenError(f"invalid page_token {token[:40]!r}: not a token this service issued") from None
    if issued_for != query:
        raise PageTokenError("page_token was issued for a different request (parent, filter or order changed)")
    return tuple(key)


def cut_page(
    items: Sequence[T],
    key: Callable[[T], SortKey],
    *,
    descending: bool,
    page_size: int,
    page_token: str,
    query: str,
) -> tuple[list[T], str]:
    """One page of ``items`` (already sorted by ``key``, in that direction) and the next token."""
    start = 0
    if page_token:
        last = decode_token(page_token, query)
        start = len(items)
        for index, item in enumerate(items):
            k = key(item)
            if (k < last) if descending else (k > last):
                start = index
                break
    page = list(items[start : start + page_size])
    more = start + page_size < len(items)
    return page, (encode_token(key(page[-1]), query) if more and page else "")
