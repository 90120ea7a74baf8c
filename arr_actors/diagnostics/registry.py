"""The pattern registry: every log line the diagnostics recognise, as data.

``patterns.toml`` next to this module is the one list. Each entry names a
pattern (id, kind, category, priority, source), how it matches, whether the
runner wrapper bails out on it (``fatal``), how its summary is cut out of the
line, and example lines that the tests check. Loading validates everything and
compiles every regex once; errors name the file and the entry.

Categories (``Pattern.category``, and so ``Diagnosis.category``), each in one of
the groups the monitor's region health and alerts count by (``CATEGORIES``
maps a category to its group; a category a registry file adds on its own is
in the group ``other``):

=====================  =============  ==================================================
category               group          meaning
=====================  =============  ==================================================
capacity               capacity       zone/region stockout: no machines of that kind now
quota                  quota          a quota (or a rate limit) is used up
service_error          service        a Google API failed (5xx, UNAVAILABLE, INTERNAL)
wandb_service_error    service        the W&B API failed (5xx, retry loops), not Google
http_error             service        another HTTP error with its code
timeout                service        a deadline passed
memory                 memory         killed for memory: OOMKilled, exit 137, -9, CUDA OOM
permission_denied      permission     an IAM permission (or W&B 401/403) was refused
image_pull             image          the image cannot be pulled (manifest unknown, ...)
image_start            image          the image's entrypoint cannot run (exec format ...)
machine_type           configuration  machine type and accelerator do not go together
invalid_argument       configuration  the request is invalid
invalid_project        configuration  the project is not a project ID (CONSUMER_INVALID)
not_found              configuration  a named resource does not exist
wandb_api_error        configuration  the W&B API refused the request (4xx)
wrapper_config         configuration  the runner's environment is incomplete or invalid
build_dependency       build          pip cannot install a requirement
build_failed           build          a Cloud Build step or Docker build command failed
python_exception       code           an exception in the program
container_exit         code           a container or replica exited non-zero (a symptom)
wandb_error            code           the W&B agent reported an error
agent_exit             runner         the agent exited non-zero
signal                 runner         the runner was stopped by a signal
wrapper_bailout        runner         the wrapper bailed out (cause not recognised)
=====================  =============  ==================================================

Outcome-only categories a ``Diagnosis`` may carry besides: ``completed``,
``running``, ``unknown``. Priorities follow the same logic: a named cause
(capacity, memory, permission, image) outranks the symptom it produces (a 503,
an exit status, an exception line).

Run as a program to export the wrapper's grep patterns::

    python -m arr_actors.diagnostics.registry --export-fatal   > launcher-image/fatal-patterns.txt
    python -m arr_actors.diagnostics.registry --export-success > launcher-image/success-patterns.txt
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import tomllib

DEFAULT_PATH = Path(__file__).with_name("patterns.toml")

KINDS = ("error", "bailout", "info", "success")
#: Error category -> the group the monitor counts it in (see the module docstring).
CATEGORIES: Mapping[str, str] = MappingProxyType({
    "capacity": "capacity",
    "quota": "quota",
    "service_error": "service",
    "wandb_service_error": "service",
    "http_error": "service",
    "timeout": "service",
    "memory": "memory",
    "permission_denied": "permission",
    "image_pull": "image",
    "image_start": "image",
    "machine_type": "configuration",
    "invalid_argument": "configuration",
    "invalid_project": "configuration",
    "not_found": "configuration",
    "wandb_api_error": "configuration",
    "wrapper_config": "configuration",
    "build_dependency": "build",
    "build_failed": "build",
    "python_exception": "code",
    "container_exit": "code",
    "wandb_error": "code",
    "agent_exit": "runner",
    "signal": "runner",
    "wrapper_bailout": "runner",
})  # fmt: skip
#: Categories of the non-error kinds.
OTHER_CATEGORIES = ("info", "job_submitted")


def group_of(category: str) -> str:
    """The group a category is counted in: ``CATEGORIES``, else ``other``."""
    return CATEGORIES.get(category, "other")
SOURCES = ("wrapper", "gcp", "k8s", "python", "wandb")
SCHEMA = 1

_ID = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]*$")
_TEMPLATE_FIELD = re.compile(r"\{([a-z_]+)\}")
# Python-only regex syntax that POSIX ERE (grep -E, bash =~) lacks or reads differently.
_NOT_ERE = re.compile(r"\(\?|\\[dDwWsSbBAZzGnrtfv0-9]|[*+?}]\?|\[\[:")
_ERE_SPECIAL = re.compile(r"([.\[\]()*+?{}|^$\\])")


class RegistryError(ValueError):
    """The registry file is invalid; the message names the file, the entry and the problem."""


@dataclass(frozen=True, slots=True)
class Cut:
    """A substitution that trims a matched line towards its summary."""

    id: str
    regex: re.Pattern[str]
    replace: str = ""


@dataclass(frozen=True, slots=True)
class Example:
    line: str
    summary: str | None = None


@dataclass(frozen=True, slots=True)
class Pattern:
    id: str
    kind: str
    category: str
    priority: int
    source: str
    regex: str
    ignore_case: bool
    fatal: bool
    cut: tuple[str, ...]
    summary: tuple[str, ...]
    examples: tuple[Example, ...]
    #: lowercase substrings, one of which every line this pattern matches contains
    needles: tuple[str, ...]
    compiled: re.Pattern[str] = field(compare=False, repr=False)
    fields: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = field(default=(), compare=False, repr=False)
    #: the match in POSIX ERE, for the wrapper (substring entries are escaped)
    ere: str = ""


@dataclass(frozen=True, slots=True)
class Classified:
    """What one line is: the best pattern of each kind that matched (or None)."""

    bailout: Pattern | None
    success: Pattern | None
    info: Pattern | None
    error: Pattern | None


@dataclass(frozen=True, slots=True)
class Registry:
    origin: str
    patterns: tuple[Pattern, ...]
    cuts: Mapping[str, Cut] = field(compare=False, repr=False)
    #: the needles of every error and bailout pattern, deduplicated
    needles: tuple[str, ...] = field(compare=False, repr=False)
    #: True when a lowercased line contains a needle: only then can it be an error or a bailout
    may_match: Callable[[str], bool] = field(compare=False, repr=False)
    _by_kind: Mapping[str, tuple[Pattern, ...]] = field(compare=False, repr=False)

    def pattern(self, pattern_id: str) -> Pattern:
        for candidate in self.patterns:
            if candidate.id == pattern_id:
                return candidate
        raise KeyError(pattern_id)

    def of_kind(self, kind: str) -> tuple[Pattern, ...]:
        """Patterns of one kind, highest priority first."""
        return self._by_kind.get(kind, ())

    def classify(self, line: str) -> Classified | None:
        """What ``line`` is when it is an error or a bailout, else None (the common case).

        A line without any needle is rejected by a few substring tests, far
        cheaper than running the regexes. Info and success patterns are only
        tried on lines that look like errors: their job there is to say "not
        an error after all".
        """
        if not self.may_match(line.lower()):
            return None
        error = _first(self._by_kind.get("error", ()), line)
        bailout = _first(self._by_kind.get("bailout", ()), line)
        if error is None and bailout is None:
            return None
        info = _first(self._by_kind.get("info", ()), line)
        success = _first(self._by_kind.get("success", ()), line)
        return Classified(bailout, success, info, error)

    def classify_all(self, line: str) -> Classified:
        """Every kind's best match for ``line``, without the needle shortcut (tests, tools)."""
        return Classified(
            _first(self._by_kind.get("bailout", ()), line),
            _first(self._by_kind.get("success", ()), line),
            _first(self._by_kind.get("info", ()), line),
            _first(self._by_kind.get("error", ()), line),
        )

    def summarize(self, pattern: Pattern, line: str) -> str:
        """The summary ``pattern`` gives for ``line`` (not yet cut to a length)."""
        text = line.strip()
        for cut_id in pattern.cut:
            text = self.cuts[cut_id].regex.sub(self.cuts[cut_id].replace, text, count=1)
        text = text.strip()
        if pattern.summary:
            values: dict[str, str] = {}
            for name, regexes in pattern.fields:
                # The cut line first; then the whole line (a cut may drop a prefix that names the step).
                for regex in regexes:
                    match = regex.search(text) or regex.search(line)
                    if match is not None and match.group(1):
                        values[name] = match.group(1).strip()
                        break
            for template in pattern.summary:
                needed = _TEMPLATE_FIELD.findall(template)
                if all(name in values for name in needed):
                    return template.format(**values)
        return text or line.strip()

    def fatal_ere(self) -> tuple[str, ...]:
        """The wrapper's bail-out patterns, POSIX ERE, highest priority first."""
        return tuple(p.ere for p in self.patterns if p.fatal)

    def success_ere(self) -> tuple[str, ...]:
        """Agent lines that mean a job was submitted (the wrapper counts them)."""
        return tuple(p.ere for p in self.of_kind("success") if p.source != "wrapper")


def _first(patterns: tuple[Pattern, ...], line: str) -> Pattern | None:
    for candidate in patterns:
        if candidate.compiled.search(line) is not None:
            return candidate
    return None


def _needle_test(needles: tuple[str, ...]) -> Callable[[str], bool]:
    """``lambda low: "a" in low or "b" in low ...``: one expression is about twice
    as fast as ``any()`` over a tuple, and this runs for every log line. The
    needles are inserted with repr(), so they are string literals only."""
    if not needles:
        return lambda low: False
    source = "lambda low: " + " or ".join(f"{needle!r} in low" for needle in needles)
    return eval(compile(source, "<registry needles>", "eval"), {"__builtins__": {}})  # noqa: S307


def load(path: str | Path | None = None) -> Registry:
    """Read and validate a registry file (default: the packaged ``patterns.toml``)."""
    path = DEFAULT_PATH if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the pattern registry ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return loads(text, origin=str(path))


@functools.cache
def default() -> Registry:
    """The packaged registry, loaded once per process (it is immutable)."""
    return load(DEFAULT_PATH)


def loads(text: str, *, origin: str = "<registry>") -> Registry:
    """Validate registry TOML text; ``origin`` names it in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{origin}: not valid TOML: {exc}") from None
    return _build(doc, origin=origin)


def _build(doc: Mapping[str, Any], *, origin: str) -> Registry:
    unknown = set(doc) - {"schema", "default_cut", "cut", "pattern"}
    if unknown:
        raise RegistryError(f"{origin}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    if doc.get("schema") != SCHEMA:
        raise RegistryError(f"{origin}: schema must be {SCHEMA}, got {doc.get('schema')!r}")
    cuts: dict[str, Cut] = {}
    for index, entry in enumerate(_tables(doc.get("cut", []), f"{origin}: cut")):
        where = f"{origin}: cut #{index + 1}"
        _only(entry, {"id", "regex", "replace"}, where)
        cut_id = _str(entry, "id", where)
        where = f"{origin}: cut {cut_id!r}"
        if cut_id in cuts:
            raise RegistryError(f"{where}: defined twice")
        cuts[cut_id] = Cut(cut_id, _compile(_str(entry, "regex", where), where), _str(entry, "replace", where, default=""))
    default_cut = tuple(_str_list(doc, "default_cut", f"{origin}: default_cut", default=[]))
    for cut_id in default_cut:
        if cut_id not in cuts:
            raise RegistryError(f"{origin}: default_cut names unknown cut {cut_id!r}")
    patterns: list[Pattern] = []
    seen: set[str] = set()
    entries = _tables(doc.get("pattern", []), f"{origin}: pattern")
    if not entries:
        raise RegistryError(f"{origin}: no [[pattern]] entries")
    for index, entry in enumerate(entries):
        pattern = _pattern(entry, index=index, origin=origin, cuts=cuts, default_cut=default_cut)
        if pattern.id in seen:
            raise RegistryError(f"{origin}: pattern {pattern.id!r}: id used twice")
        seen.add(pattern.id)
        patterns.append(pattern)
    patterns.sort(key=lambda p: (-p.priority, p.id))
    by_kind = {kind: tuple(p for p in patterns if p.kind == kind) for kind in KINDS}
    needles = _minimal({n for p in patterns if p.kind in ("error", "bailout") for n in p.needles})
    return Registry(
        origin,
        tuple(patterns),
        MappingProxyType(cuts),
        needles,
        _needle_test(needles),
        MappingProxyType({k: v for k, v in by_kind.items() if v}),
    )


def _minimal(needles: set[str]) -> tuple[str, ...]:
    """Drop needles that contain another needle: the shorter one already finds them."""
    return tuple(sorted(n for n in needles if not any(other != n and other in n for other in needles)))


def _pattern(
    entry: Mapping[str, Any], *, index: int, origin: str, cuts: Mapping[str, Cut], default_cut: tuple[str, ...]
) -> Pattern:
    where = f"{origin}: pattern #{index + 1}"
    allowed = {
        "id", "kind", "category", "priority", "source", "substring", "regex", "needles", "ignore_case",
        "fatal", "cut", "summary", "fields", "example",
    }  # fmt: skip
    pattern_id = _str(entry, "id", where)
    where = f"{origin}: pattern {pattern_id!r}"
    _only(entry, allowed, where)
    if not _ID.match(pattern_id):
        raise RegistryError(f"{where}: id must look like 'source.what' (lowercase, dotted)")
    kind = _str(entry, "kind", where, default="error")
    if kind not in KINDS:
        raise RegistryError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    category = _str(entry, "category", where)
    if not _CATEGORY.match(category):
        raise RegistryError(f"{where}: category must be lowercase words joined by '_', got {category!r}")
    priority = entry.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 1000:
        raise RegistryError(f"{where}: priority must be a whole number from 0 to 1000, got {priority!r}")
    source = _str(entry, "source", where)
    if source not in SOURCES:
        raise RegistryError(f"{where}: source must be one of {', '.join(SOURCES)}, got {source!r}")
    if ("substring" in entry) == ("regex" in entry):
        raise RegistryError(f"{where}: give exactly one of 'substring' or 'regex'")
    ignore_case = _bool(entry, "ignore_case", where)
    fatal = _bool(entry, "fatal", where)
    if "substring" in entry:
        literal = _str(entry, "substring", where)
        if not literal:
            raise RegistryError(f"{where}: substring is empty")
        regex, ere = re.escape(literal), _ERE_SPECIAL.sub(r"\\\1", literal)
    else:
        regex = _str(entry, "regex", where)
        ere = regex
    compiled = _compile(regex, where, flags=re.ASCII | (re.IGNORECASE if ignore_case else 0))
    if compiled.search("") is not None:
        raise RegistryError(f"{where}: the match also matches an empty line; make it specific")
    if fatal:
        if kind != "error" or source == "wrapper":
            raise RegistryError(f"{where}: only errors of external systems can be fatal (the wrapper bails out on them)")
        if ignore_case:
            raise RegistryError(f"{where}: fatal patterns are case-sensitive (the wrapper matches them with grep -E)")
        bad = _NOT_ERE.search(ere)
        if bad:
            raise RegistryError(
                f"{where}: fatal patterns must also be POSIX ERE for the wrapper; {bad.group(0)!r} is Python-only "
                "(use [0-9], [[:space:]]-free classes like [ ], and no (?...) groups or lazy quantifiers)"
            )
    if "substring" in entry:
        needles = tuple(_str_list(entry, "needles", f"{where}: needles", default=[literal.lower()]))
    else:
        needles = tuple(_str_list(entry, "needles", f"{where}: needles", default=[]))
        if not needles and kind in ("error", "bailout"):
            raise RegistryError(
                f"{where}: error and bailout regexes need needles: lowercase substrings, one of which "
                "every matching line contains"
            )
    for needle in needles:
        if not needle or needle != needle.lower():
            raise RegistryError(f"{where}: needle {needle!r} must be a non-empty lowercase string")
    cut = tuple(_str_list(entry, "cut", f"{where}: cut", default=list(default_cut)))
    for cut_id in cut:
        if cut_id not in cuts:
            raise RegistryError(f"{where}: cut names unknown cut {cut_id!r} (known: {', '.join(cuts) or 'none'})")
    fields: list[tuple[str, tuple[re.Pattern[str], ...]]] = []
    raw_fields = entry.get("fields", {})
    if not isinstance(raw_fields, dict):
        raise RegistryError(f"{where}: fields must be a table of name = regex")
    for name, value in raw_fields.items():
        sources = [value] if isinstance(value, str) else value
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
            raise RegistryError(f"{where}: field {name!r} must be a regex or a list of regexes")
        compiled_fields = []
        for source_regex in sources:
            field_regex = _compile(source_regex, f"{where}: field {name!r}")
            if field_regex.groups < 1:
                raise RegistryError(f"{where}: field {name!r}: regex {source_regex!r} needs a (group) to capture")
            compiled_fields.append(field_regex)
        fields.append((name, tuple(compiled_fields)))
    summary = tuple(_str_list(entry, "summary", f"{where}: summary", default=[]))
    for template in summary:
        for name in _TEMPLATE_FIELD.findall(template):
            if name not in raw_fields:
                raise RegistryError(f"{where}: summary {template!r} uses {{{name}}}, which is not in fields")
    examples = []
    raw_examples = _tables(entry.get("example", []), f"{where}: example")
    if not raw_examples:
        raise RegistryError(f"{where}: needs at least one [[pattern.example]]")
    for number, raw in enumerate(raw_examples, start=1):
        ex_where = f"{where}: example #{number}"
        _only(raw, {"line", "summary"}, ex_where)
        line = _str(raw, "line", ex_where)
        expected = _str(raw, "summary", ex_where, default=None)
        if kind in ("error", "bailout") and expected is None:
            raise RegistryError(f"{ex_where}: errors need the summary their example gives")
        if compiled.search(line) is None:
            raise RegistryError(f"{ex_where}: {line!r} does not match the pattern")
        if needles and not any(needle in line.lower() for needle in needles):
            raise RegistryError(f"{ex_where}: {line!r} contains none of the needles {list(needles)}")
        examples.append(Example(line, expected))
    return Pattern(
        id=pattern_id,
        kind=kind,
        category=category,
        priority=priority,
        source=source,
        regex=regex,
        ignore_case=ignore_case,
        fatal=fatal,
        cut=cut,
        summary=summary,
        examples=tuple(examples),
        needles=needles,
        compiled=compiled,
        fields=tuple(fields),
        ere=ere,
    )


def _compile(source: str, where: str, *, flags: int = 0) -> re.Pattern[str]:
    try:
        return re.compile(source, flags)
    except re.error as exc:
        raise RegistryError(f"{where}: invalid regex {source!r}: {exc}") from None


def _tables(value: Any, where: str) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RegistryError(f"{where}: must be an array of tables ([[...]])")
    return value


def _only(entry: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(entry) - allowed
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(allowed))})")


_MISSING: Any = object()


def _str(entry: Mapping[str, Any], key: str, where: str, *, default: Any = _MISSING) -> Any:
    value = entry.get(key, _MISSING)
    if value is _MISSING:
        if default is _MISSING:
            raise RegistryError(f"{where}: missing {key!r}")
        return default
    if not isinstance(value, str):
        raise RegistryError(f"{where}: {key!r} must be a string, got {value!r}")
    return value


def _bool(entry: Mapping[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise RegistryError(f"{where}: {key!r} must be true or false, got {value!r}")
    return value


def _str_list(entry: Mapping[str, Any], key: str, where: str, *, default: list[str]) -> list[str]:
    value = entry.get(key, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RegistryError(f"{where}: must be a list of strings")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m arr_actors.diagnostics.registry",
        description="Validate the pattern registry, or export the runner wrapper's grep -E patterns from it.",
    )
    parser.add_argument("--registry", metavar="FILE", help="registry file (default: the packaged patterns.toml)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--export-fatal", action="store_true", help="print the fatal patterns, one POSIX ERE per line")
    what.add_argument("--export-success", action="store_true", help="print the job-submitted patterns, one POSIX ERE per line")
    args = parser.parse_args(argv)
    try:
        registry = load(args.registry)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.export_fatal:
        lines = registry.fatal_ere()
    elif args.export_success:
        lines = registry.success_ere()
    else:
        kinds = ", ".join(f"{len(registry.of_kind(k))} {k}" for k in KINDS)
        print(f"{registry.origin}: {len(registry.patterns)} patterns ({kinds})")
        return 0
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
