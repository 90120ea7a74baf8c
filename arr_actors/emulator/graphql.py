"""A small GraphQL executor: enough of the language for the queries ``wandb.Api`` sends.

Supported: query documents with named or anonymous operations, variables
(with defaults), arguments of every literal kind, aliases, fragments and
inline fragments, ``@include``/``@skip``, ``__typename``. Objects are ``Obj``
values whose fields are plain values or functions of the field's arguments;
asking for a field an object does not have is an error, as on a real server,
so a query the emulator cannot answer faithfully fails loudly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from arr_actors.emulator import lexing
from arr_actors.emulator.lexing import Token


class GraphQLError(Exception):
    """A syntax or execution error; the message goes back to the client."""


@dataclass(frozen=True, slots=True)
class Obj:
    """An object of the schema: its type name and its fields (values or resolvers taking the arguments)."""

    typename: str
    fields: Mapping[str, Any]
    implements: tuple[str, ...] = ()


Resolver = Callable[[dict[str, Any]], Any]

# ------------------------------------------------------------------- lexer

_LEX = re.compile(
    r'''
    (?P<skip>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>"""(?:[^"\\]|\\.|"(?!""))*""")
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<spread>\.\.\.)
  | (?P<punct>[!$&()\:=@\[\]{|}])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
    ''',
    re.VERBOSE,
)


def _lex(source: str) -> list[Token]:
    try:
        return lexing.tokenize(source, _LEX)
    except lexing.UnexpectedCharacter as exc:
        raise GraphQLError(f"Syntax Error: unexpected character {exc.char!r} at offset {exc.pos}") from None


# ------------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class Var:
    name: str


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    alias: str
    arguments: tuple[tuple[str, Any], ...]
    directives: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    selections: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Spread:
    name: str
    directives: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


@dataclass(frozen=True, slots=True)
class Inline:
    type_condition: str
    directives: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]
    selections: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Operation:
    kind: str  # query, mutation, subscription
    name: str
    variables: tuple[tuple[str, Any], ...]  # name -> default (or _NO_DEFAULT)
    selections: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Fragment:
    name: str
    type_condition: str
    selections: tuple[Any, ...]


@dataclass(slots=True)
class Document:
    operations: list[Operation] = field(default_factory=list)
    fragments: dict[str, Fragment] = field(default_factory=dict)


_NO_DEFAULT = object()


class _Parser:
    def __init__(self, source: str) -> None:
        self.toks = _lex(source)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise GraphQLError("Syntax Error: unexpected end of document")
        self.i += 1
        return tok

    def expect(self, text: str) -> Token:
        tok = self.next()
        if tok.text != text:
            raise GraphQLError(f"Syntax Error: expected {text!r}, found {tok.text!r} at offset {tok.pos}")
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text and tok.kind in ("punct", "spread", "name")

    def name(self) -> str:
        tok = self.next()
        if tok.kind != "name":
            raise GraphQLError(f"Syntax Error: expected a name, found {tok.text!r} at offset {tok.pos}")
        return tok.text

    def document(self) -> Document:
        doc = Document()
        if self.peek() is None:
            raise GraphQLError("Syntax Error: the document has no operation")
        while self.peek() is not None:
            tok = self.peek()
            assert tok is not None
            if tok.text == "{":
                doc.operations.append(Operation("query", "", (), self.selection_set()))
            elif tok.kind == "name" and tok.text in ("query", "mutation", "subscription"):
                doc.operations.append(self.operation())
            elif tok.kind == "name" and tok.text == "fragment":
                frag = self.fragment()
                doc.fragments[frag.name] = frag
            else:
                raise GraphQLError(f"Syntax Error: unexpected {tok.text!r} at offset {tok.pos}")
        return doc

    def operation(self) -> Operation:
        kind = self.next().text
        name = self.name() if (t := self.peek()) is not None and t.kind == "name" else ""
        variables: list[tuple[str, Any]] = []
        if self.at("("):
            self.next()
            while not self.at(")"):
                self.expect("$")
                var = self.name()
                self.expect(":")
                self.type_ref()
                default: Any = _NO_DEFAULT
                if self.at("="):
                    self.next()
                    default = self.value(const=True)
                self.directives()
                variables.append((var, default))
            self.expect(")")
        self.directives()
        return Operation(kind, name, tuple(variables), self.selection_set())

    def type_ref(self) -> None:
        if self.at("["):
            self.next()
            self.type_ref()
            self.expect("]")
        else:
            self.name()
        if self.at("!"):
            self.next()

    def fragment(self) -> Fragment:
        self.next()
        name = self.name()
        if name == "on":
            raise GraphQLError("Syntax Error: a fragment cannot be named 'on'")
        on = self.next()
        if on.text != "on":
            raise GraphQLError(f"Syntax Error: expected 'on', found {on.text!r} at offset {on.pos}")
        type_condition = self.name()
        self.directives()
        return Fragment(name, type_condition, self.selection_set())

    def selection_set(self) -> tuple[Any, ...]:
        self.expect("{")
        items = []
        while not self.at("}"):
            items.append(self.selection())
        self.expect("}")
        if not items:
            raise GraphQLError("Syntax Error: empty selection set")
        return tuple(items)

    def selection(self) -> Any:
        if self.at("..."):
            self.next()
            tok = self.peek()
            if tok is not None and tok.kind == "name" and tok.text != "on":
                return Spread(self.name(), self.directives())
            type_condition = ""
            if tok is not None and tok.text == "on":
                self.next()
                type_condition = self.name()
            return Inline(type_condition, self.directives(), self.selection_set())
        alias = name = self.name()
        if self.at(":"):
            self.next()
            name = self.name()
        arguments = self.arguments()
        directives = self.directives()
        selections = self.selection_set() if self.at("{") else ()
        return Field(name, alias, arguments, directives, selections)

    def arguments(self) -> tuple[tuple[str, Any], ...]:
        if not self.at("("):
            return ()
        self.next()
        args = []
        while not self.at(")"):
            key = self.name()
            self.expect(":")
            args.append((key, self.value(const=False)))
        self.expect(")")
        return tuple(args)

    def directives(self) -> tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]:
        out = []
        while self.at("@"):
            self.next()
            out.append((self.name(), self.arguments()))
        return tuple(out)

    def value(self, *, const: bool) -> Any:
        tok = self.next()
        if tok.text == "$" and tok.kind == "punct":
            if const:
                raise GraphQLError(f"Syntax Error: variable not allowed here (offset {tok.pos})")
            return Var(self.name())
        if tok.kind == "number":
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "string":
            return json.loads(tok.text)
        if tok.kind == "block":
            return tok.text[3:-3].replace('\\"""', '"""')
        if tok.kind == "name":
            return {"true": True, "false": False, "null": None}.get(tok.text, tok.text)
        if tok.text == "[":
            items = []
            while not self.at("]"):
                items.append(self.value(const=const))
            self.expect("]")
            return items
        if tok.text == "{":
            obj = {}
            while not self.at("}"):
                key = self.name()
                self.expect(":")
                obj[key] = self.value(const=const)
            self.expect("}")
            return obj
        raise GraphQLError(f"Syntax Error: unexpected {tok.text!r} at offset {tok.pos}")


def parse(source: str) -> Document:
    return _Parser(source).document()


# ------------------------------------------------------------------- execution


def execute(
    source: str,
    root: Obj,
    *,
    variables: Mapping[str, Any] | None = None,
    operation_name: str | None = None,
) -> dict[str, Any]:
    """Run a query document against ``root``; returns the response document ({"data": ...})."""
    try:
        return _execute(source, root, variables=variables, operation_name=operation_name)
    except RecursionError:
        raise GraphQLError("the query is nested too deeply") from None


def _execute(source: str, root: Obj, *, variables: Mapping[str, Any] | None, operation_name: str | None) -> dict[str, Any]:
    doc = parse(source)
    operations = [op for op in doc.operations if not operation_name or op.name == operation_name]
    if not operations:
        raise GraphQLError(f"Unknown operation named {operation_name!r}")
    if len(operations) > 1:
        raise GraphQLError("Must provide operation name if query contains multiple operations")
    op = operations[0]
    if op.kind != "query":
        raise GraphQLError(f"{op.kind} operations are not supported by this emulator")
    values: dict[str, Any] = {}
    given = dict(variables or {})
    for name, default in op.variables:
        if name in given:
            values[name] = given[name]
        elif default is not _NO_DEFAULT:
            values[name] = default
        else:
            values[name] = None
    run = _Run(doc.fragments, values)
    return {"data": run.select(root, op.selections)}


class _Run:
    def __init__(self, fragments: dict[str, Fragment], variables: dict[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables
        self.expanding: set[str] = set()  # fragments being spread, to refuse cycles

    def resolve_value(self, value: Any) -> Any:
        if isinstance(value, Var):
            return self.variables.get(value.name)
        if isinstance(value, list):
            return [self.resolve_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve_value(v) for k, v in value.items()}
        return value

    def included(self, directives: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]) -> bool:
        for name, args in directives:
            condition = bool(self.resolve_value(dict(args).get("if")))
            if name == "include" and not condition:
                return False
            if name == "skip" and condition:
                return False
        return True

    def collect(self, obj: Obj, selections: tuple[Any, ...], out: list[Field]) -> None:
        for sel in selections:
            if isinstance(sel, Field):
                if self.included(sel.directives):
                    out.append(sel)
            elif isinstance(sel, Spread):
                frag = self.fragments.get(sel.name)
                if frag is None:
                    raise GraphQLError(f'Unknown fragment "{sel.name}"')
                if sel.name in self.expanding:
                    raise GraphQLError(f'Cannot spread fragment "{sel.name}" within itself.')
                if self.included(sel.directives) and self.applies(obj, frag.type_condition):
                    self.expanding.add(sel.name)
                    try:
                        self.collect(obj, frag.selections, out)
                    finally:
                        self.expanding.discard(sel.name)
            elif self.included(sel.directives) and self.applies(obj, sel.type_condition):
                self.collect(obj, sel.selections, out)

    @staticmethod
    def applies(obj: Obj, type_condition: str) -> bool:
        return not type_condition or type_condition == obj.typename or type_condition in obj.implements

    def select(self, obj: Obj, selections: tuple[Any, ...]) -> dict[str, Any]:
        fields: list[Field] = []
        self.collect(obj, selections, fields)
        result: dict[str, Any] = {}
        for f in fields:
            if f.name == "__typename":
                result[f.alias] = obj.typename
                continue
            if f.name not in obj.fields:
                raise GraphQLError(f'Cannot query field "{f.name}" on type "{obj.typename}".')
            value = obj.fields[f.name]
            if callable(value):
                args = {k: self.resolve_value(v) for k, v in f.arguments}
                value = value(args)
            result[f.alias] = self.complete(value, f, obj.typename)
        return result

    def complete(self, value: Any, f: Field, parent: str) -> Any:
        if isinstance(value, Obj):
            if not f.selections:
                raise GraphQLError(f'Field "{f.name}" of type "{value.typename}" must have a selection of subfields.')
            return self.select(value, f.selections)
        if isinstance(value, (list, tuple)):
            return [self.complete(v, f, parent) for v in value]
        if f.selections and value is not None:
            raise GraphQLError(f'Field "{f.name}" on type "{parent}" is a scalar and has no subfields.')
        return value
