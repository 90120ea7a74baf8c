"""Plain text and the shapes inside it: box borders (Terraform), console prefixes (Cloud Build), kubectl describe, flattened tracebacks."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from arr_actors.diagnostics.readers.common import Reading, _newest_first

_TRACE_SPLIT = re.compile(
    r"\s+(?=File \"|Traceback \(most recent call last\)|During handling of the above exception"
    r"|The above exception was the direct cause"
    r"|(?:[a-z_][A-Za-z0-9_]*\.)*_?[A-Z][A-Za-z0-9_]*(?:Error|Exception|Exhausted|Denied|Argument|NotFound"
    r"|Unavailable|Exceeded|Interrupt|Exit|Failure|Timeout|RpcError)\b:? )"
)


_CONSOLE_PREFIX = re.compile(r"^\s*\|(?: |$)")


_BOX = ("\u2577", "\u2502", "\u2575")  # ╷ │ ╵


def _plain(text: str, *, newest_first: bool) -> Reading:
    lines = text.splitlines()
    fmt = "text"
    if any(line.lstrip().startswith(_BOX) for line in lines):
        lines, fmt = _unbox(lines), "terraform"
    prefixed = sum(1 for line in lines if _CONSOLE_PREFIX.match(line))
    if prefixed >= 3 and prefixed >= len(lines) / 3:
        lines = [_CONSOLE_PREFIX.sub("", line, count=1) for line in lines if line.strip() != "--"]
        fmt = "console"
    elif fmt == "text" and _is_kubectl_describe(lines):
        fmt = "kubectl"
    turn = newest_first or _newest_first(lines)
    return Reading(fmt, tuple(reversed(lines) if turn else lines), turn)


def _unbox(lines: list[str]) -> list[str]:
    """Terraform's diagnostics: box borders dropped, each wrapped paragraph joined onto one line."""
    out: list[str] = []
    paragraph: list[str] = []
    in_box = False

    def flush() -> None:
        if paragraph:
            out.append(" ".join(paragraph))
            paragraph.clear()

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("\u2577"):  # ╷ opens a box
            flush()
            in_box = True
            continue
        if stripped.startswith("\u2575"):  # ╵ closes it
            flush()
            in_box = False
            continue
        if stripped.startswith("\u2502"):
            body = stripped[1:].strip()
            if not body:
                flush()
            elif body.startswith(("with ", "on ")) or re.match(r"^\d+:", body):
                flush()
                out.append(body)  # the resource and source line the error points at
            else:
                paragraph.append(body)
            continue
        flush()
        if not in_box or stripped:
            out.append(line)
    flush()
    return out


def _is_kubectl_describe(lines: list[str]) -> bool:
    head = lines[:5]
    return any(line.startswith("Name:") for line in head) and any(line.startswith("Events:") for line in lines)


# Markers of a log's start and end: seeing an end before a start means newest first.


def _unflatten(lines: Sequence[str]) -> Iterator[str]:
    """Tracebacks flattened onto one line (joined with spaces, or with literal ``\\n``) split back."""
    for line in lines:
        if len(line) > 200 and "Traceback (most recent call last)" in line:
            if "\\n" in line:
                line = line.replace("\\r\\n", "\n").replace("\\n", "\n").replace('\\"', '"')
            for part in line.split("\n"):
                if len(part) > 200 and "File \"" in part:
                    yield from (piece for piece in _TRACE_SPLIT.split(part) if piece.strip())
                else:
                    yield part
        else:
            yield line
