"""A small, strict parser for the list-filter languages of the emulated APIs.

Cloud Logging's query language and the AIP-160 filters of Vertex AI and Cloud
Build share the subset implemented here::

    filter      := conjunction
    conjunction := disjunction ( ["AND"] disjunction )*     juxtaposition is AND
    disjunction := unary ( "OR" unary )*                    OR binds tighter than AND
    unary       := ("NOT" | "-") unary | "(" filter ")" | restriction
    restriction := field op value | field op "(" value ( "OR" value )* ")"
    field       := segment ( "." segment )*                 segment: name or "quoted"
    op          := "=" | "!=" | ">" | ">=" | "<" | "<=" | ":"
    value       := "quoted string" | bare-word

As in both real languages, OR has higher precedence than AND. Fields are
checked against a schema per API, so a filter the emulator cannot answer
faithfully is rejected with a message instead of being half understood.
Tokens come from the scanner shared with the GraphQL parser (lexing.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from arr_actors.compat import fromisoformat
from arr_actors.emulator import lexing
from arr_actors.emulator.lexing import Token


class FilterError(ValueError):
    """The filter is malformed or uses something this emulator does not support."""


#: Cloud Logging's limit on the length of a filter.
MAX_LENGTH = 20_000

#: Field kinds a schema can declare.
STRING, TIMESTAMP, SEVERITY = "string", "timestamp", "severity"

SEVERITIES: tuple[str, ...] = (
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
)

_OPS = ("!=", ">=", "<=", "=", ">", "<", ":")
_TOKEN = re.compile(
    r"""
    (?P<skip>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<op>!=|>=|<=|=~|!~|=|>|<|:)
  | (?P<paren>[()])
  | (?P<dot>\.)
  | (?P<word>[^\s"()=<>!:.]+(?:\.[^\s"()=<>!:.]+)*)
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    try:
        return lexing.tokenize(text, _TOKEN)
    except lexing.UnexpectedCharacter as exc:
        raise FilterError(f"unexpected character {exc.char!r} at position {exc.pos}") from None


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


# ------------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class Restriction:
    field: tuple[str, ...]
    op: str
    values: tuple[str, ...]  # several = "field=(a OR b)"


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Node


Node = Restriction | And | Or | Not


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends too early")
        self.pos += 1
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "word" and token.text == word

    def parse(self) -> Node:
        node = self.conjunction()
        token = self.peek()
        if token is not None:
            raise FilterError(f"unexpected {token.text!r} at position {token.pos}")
        return node

    def conjunction(self) -> Node:
        parts = [self.disjunction()]
        while True:
            token = self.peek()
            if token is None or (token.kind == "paren" and token.text == ")"):
                break
            if self.is_word("AND"):
                self.take()
            parts.append(self.disjunction())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def disjunction(self) -> Node:
        parts = [self.unary()]
        while self.is_word("OR"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends too early (expected a comparison)")
        if self.is_word("NOT") or (token.kind == "word" and token.text == "-"):
            self.take()
            return Not(self.unary())
        if token.kind == "word" and token.text.startswith("-"):
            # "-resource.type=x" negates the comparison that follows the dash.
            self.tokens[self.pos] = Token("word", token.text[1:], token.pos + 1)
            return Not(self.unary())
        if token.kind == "paren" and token.text == "(":
            self.take()
            node = self.conjunction()
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise FilterError(f"missing ')' for the '(' at position {token.pos}")
            self.take()
            return node
        if token.kind == "word" and token.text in ("AND", "OR"):
            raise FilterError(f"{token.text} at position {token.pos} has nothing on its left")
        return self.restriction()

    def restriction(self) -> Restriction:
        field = self.field()
        op_token = self.peek()
        if op_token is None or op_token.kind != "op":
            at = f"at position {op_token.pos}" if op_token else "at the end"
            raise FilterError(
                f"expected a comparison after {'.'.join(field)!r} {at}; "
                "global text search is not supported, write FIELD=VALUE"
            )
        self.take()
        if op_token.text not in _OPS:
            raise FilterError(f"operator {op_token.text!r} is not supported (supported: {' '.join(_OPS)})")
        token = self.peek()
        if token is not None and token.kind == "paren" and token.text == "(":
            self.take()
            values = [self.value()]
            while self.is_word("OR"):
                self.take()
                values.append(self.value())
            closing = self.peek()
            if closing is None or closing.text != ")":
                raise FilterError(f"missing ')' after the values at position {token.pos}")
            self.take()
            return Restriction(field, op_token.text, tuple(values))
        return Restriction(field, op_token.text, (self.value(),))

    def field(self) -> tuple[str, ...]:
        segments = self.segment()
        while (token := self.peek()) is not None and token.kind == "dot":
            self.take()
            segments.extend(self.segment())
        return tuple(segments)

    def segment(self) -> list[str]:
        token = self.take()
        if token.kind == "string":
            return [_unquote(token.text)]
        if token.kind == "word" and token.text not in ("AND", "OR", "NOT"):
            # "resource.labels.job_name" arrives as one bare word.
            return token.text.split(".")
        raise FilterError(f"expected a field name at position {token.pos}, found {token.text!r}")

    def value(self) -> str:
        token = self.take()
        if token.kind == "string":
            return _unquote(token.text)
        if token.kind != "word":
            raise FilterError(f"expected a value at position {token.pos}, found {token.text!r}")
        # A bare timestamp (2025-11-18T08:00:00Z) arrives as words joined by ':'.
        text, end = token.text, token.pos + len(token.text)
        while self.pos + 1 < len(self.tokens):
            colon, word = self.tokens[self.pos], self.tokens[self.pos + 1]
            if not (colon.text == ":" and colon.pos == end and word.kind == "word" and word.pos == end + 1):
                break
            self.pos += 2
            text += ":" + word.text
            end = word.pos + len(word.text)
        return text


def parse(text: str) -> Node | None:
    """The syntax tree of ``text``; ``None`` for an empty filter (matches everything)."""
    if not text.strip():
        return None
    return _Parser(text).parse()


# ------------------------------------------------------------------- evaluation


@dataclass(frozen=True, slots=True)
class Field:
    """One filterable field of an API: its kind and, for enums, the allowed values."""

    kind: str
    choices: tuple[str, ...] = ()  # enum values (strings compared with = and != only)
    ops: tuple[str, ...] = ()  # the operators the API documents for the field; () = all its kind allows


Schema = Mapping[tuple[str, ...], Field]
#: Field path -> value of one item (None when the item has no such field).
Getter = Callable[[tuple[str, ...]], object]


def _lookup(path: tuple[str, ...], schema: Schema, *, wildcard_maps: tuple[str, ...]) -> Field:
    if path in schema:
        return schema[path]
    # Map fields such as labels.KEY accept any key.
    if len(path) == 2 and path[0] in wildcard_maps:
        return Field(STRING)
    known = ", ".join(".".join(f'"{s}"' if "/" in s or "." in s else s for s in k) for k in schema)
    known += "".join(f", {m}.KEY" for m in wildcard_maps)
    raise FilterError(f"unsupported filter field {_show(path)!r} (supported: {known})")


def _show(path: tuple[str, ...]) -> str:
    return ".".join(f'"{s}"' if "/" in s or "." in s else s for s in path)


_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?", re.I)


def _timestamp(text: str) -> int:
    """RFC 3339 with up to nanoseconds (``2025-11-18T08:00:00.123456789Z``) -> epoch nanoseconds; no zone is UTC."""
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise FilterError(f"{text!r} is not an RFC 3339 timestamp (e.g. 2025-11-18T08:00:00Z)")
    stamp, fraction, zone = match.groups()
    zone = "+00:00" if zone is None or zone.upper() == "Z" else zone
    try:
        moment = fromisoformat(stamp.replace(" ", "T") + zone)
    except ValueError:
        raise FilterError(f"{text!r} is not an RFC 3339 timestamp (e.g. 2025-11-18T08:00:00Z)") from None
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return int(moment.timestamp()) * 1_000_000_000 + nanos


Predicate = Callable[[Getter], bool]


def compile_filter(text: str, schema: Schema, *, wildcard_maps: tuple[str, ...] = ()) -> Predicate:
    """A predicate over items for ``text``; raises FilterError naming what is wrong."""
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is {len(text)} characters long; at most {MAX_LENGTH} are allowed")
    try:
        node = parse(text)
        if node is None:
            return lambda get: True
        return _compile(node, schema, wildcard_maps=wildcard_maps)
    except RecursionError:
        raise FilterError("the filter is nested too deeply") from None


def _compile(node: Node, schema: Schema, *, wildcard_maps: tuple[str, ...]) -> Predicate:
    if isinstance(node, And):
        parts = [_compile(p, schema, wildcard_maps=wildcard_maps) for p in node.parts]
        return lambda get: all(p(get) for p in parts)
    if isinstance(node, Or):
        parts = [_compile(p, schema, wildcard_maps=wildcard_maps) for p in node.parts]
        return lambda get: any(p(get) for p in parts)
    if isinstance(node, Not):
        inner = _compile(node.part, schema, wildcard_maps=wildcard_maps)
        return lambda get: not inner(get)
    return _restriction(node, schema, wildcard_maps=wildcard_maps)


def _restriction(node: Restriction, schema: Schema, *, wildcard_maps: tuple[str, ...]) -> Predicate:
    path = node.field
    spec = _lookup(path, schema, wildcard_maps=wildcard_maps)
    name = _show(path)
    op = node.op
    if spec.ops and op not in spec.ops:
        raise FilterError(f"{name}: operator {op!r} is not supported for this field (supported: {' '.join(spec.ops)})")
    if spec.kind == TIMESTAMP:
        if op == ":":
            raise FilterError(f"{name}: ':' does not apply to timestamps; use = != < <= > >=")
        moments = [_timestamp(v) for v in node.values]
        # Items give timestamps as epoch nanoseconds too, so equal instants compare equal.
        return _any_value(path, op, wanted=moments, convert=lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None)
    if spec.kind == SEVERITY:
        ranks = []
        for value in node.values:
            if value.upper() not in SEVERITIES:
                raise FilterError(f"{name}: unknown severity {value!r} (severities: {', '.join(SEVERITIES)})")
            ranks.append(SEVERITIES.index(value.upper()))
        return _any_value(path, op, wanted=ranks, convert=lambda v: SEVERITIES.index(v) if v in SEVERITIES else None)
    if spec.choices:
        for value in node.values:
            if value not in spec.choices:
                raise FilterError(f"{name}: unknown value {value!r} (values: {', '.join(spec.choices)})")
        if op not in ("=", "!="):
            raise FilterError(f"{name}: only = and != apply to this field")
    elif op not in ("=", "!=", ":"):
        raise FilterError(f"{name}: only =, != and ':' apply to text fields")
    return _any_value(path, op, wanted=list(node.values), convert=lambda v: v if isinstance(v, str) else None)


def _any_value(path: tuple[str, ...], op: str, *, wanted: list, convert: Callable[[object], object]) -> Predicate:
    def values_of(get: Getter) -> list[object]:
        raw = get(path)
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        return [have for have in (convert(v) for v in items) if have is not None]

    if op == "!=":
        # "field != (a OR b)": none of them; an item without the field matches, as in both real languages.
        return lambda get: all(have != w for have in values_of(get) for w in wanted)
    return lambda get: any(_compare(have, op, w) for have in values_of(get) for w in wanted)


def _compare(have: object, op: str, want: object) -> bool:
    if op == "=":
        return have == want
    if op == ":":
        return isinstance(have, str) and isinstance(want, str) and want in have
    if op == ">":
        return have > want  # type: ignore[operator]
    if op == ">=":
        return have >= want  # type: ignore[operator]
    if op == "<":
        return have < want  # type: ignore[operator]
    if op == "<=":
        return have <= want  # type: ignore[operator]
    raise FilterError(f"operator {op!r} is not supported")
