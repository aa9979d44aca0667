"""The one strict YAML loader and the one writer used for every file Steward reads or writes.

Registry files are written by people and by bots and judged by a gate, so the loader accepts a
small, unsurprising subset of YAML and refuses everything else with `file:line: message`:

- input larger than `MAX_FILE_BYTES` (1 MiB) or nested deeper than `MAX_DEPTH` (32);
- non-UTF-8 bytes, a byte-order mark, NUL bytes, tabs in indentation;
- anchors and aliases, explicit tags (`!!python/...`, `!!binary`, `!!set`, even `!!str`),
  directives, more than one document, duplicate keys, keys that are not strings, NaN and infinity.

Plain scalars are resolved by YAML 1.2's core rules, narrowed so that nothing is coerced behind the
user's back: only `true`/`false` are booleans (`yes`, `no`, `on`, `off` stay strings), only
canonical decimals are numbers (`0755`, `1_000`, `0x1f`, `1:30` stay strings), dates stay strings.
A number where a string is expected (`version: 1.10`) is then refused by the entry's strict type,
and the message quotes the text as written thanks to `Loaded.source_text`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from steward.errors import YamlError

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

Loc = tuple[str | int, ...]

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NAN_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
# The indentation of a line: spaces, and the `- ` of block sequence entries.
_INDENT = re.compile(r"^(?:[ \t]*-(?=[ \t]))*[ \t]*", re.MULTILINE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# YAML treats these as line breaks; editors and `git diff` do not, so what a reviewer sees in a
# diff would not be what Steward reads. Bidirectional overrides reorder what a reviewer sees
# ("Trojan Source"). None may appear anywhere in a file, raw.
_UNICODE_LINE_BREAKS = ("\x85", "\u2028", "\u2029")
_INVISIBLE_TRAPS = re.compile("\r(?!\n)|[\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Characters no value or key may hold however it is written (quoted strings can spell them as
# escapes): C0 controls but tab and newline, DEL, C1 controls, line and paragraph separators, and
# bidirectional overrides.
FORBIDDEN_CHARACTERS = (
    "".join(map(chr, (*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0))))
    + "\u2028\u2029"
    + "".join(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))
)
FORBIDDEN = re.compile(f"[{re.escape(FORBIDDEN_CHARACTERS)}]")


class _NotAllowed(ValueError):
    """A plain scalar that resolves to something we refuse (NaN, infinity, an unusable number)."""


def resolve_plain(text: str) -> object:
    """Resolve an unquoted scalar: None, bool, int, float, or the text itself as a string."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    first = text[0]
    if not (first.isdigit() or first in "+-."):
        return text
    if _INT.fullmatch(text):
        try:
            return int(text)
        except ValueError as exc:  # more digits than Python converts
            raise _NotAllowed(f"integer {text[:20]}... is too large") from exc
    if _FLOAT.fullmatch(text) and any(c.isdigit() for c in text):
        number = float(text)
        if not math.isfinite(number):
            shown = text if len(text) <= 24 else f"{text[:20]}..."
            raise _NotAllowed(f"number {shown} is out of range")
        return number
    if _NAN_INF.fullmatch(text):
        raise _NotAllowed(
            f"{text} is not allowed: NaN and infinity are not numbers a registry can hold"
        )
    return text


@dataclass(frozen=True)
class Loaded:
    """A parsed document, the line of every key and item, and the text of non-string scalars."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    source_text: dict[Loc, str] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """The line of the nearest enclosing key or item that has one."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(loc[:end])
            if line is not None:
                return line
        return None


def too_large(size: int) -> str:
    return f"file is {size} bytes; the limit is {MAX_FILE_BYTES} bytes"


def loads(raw: bytes, path: str) -> Loaded:
    """Parse `raw` strictly; `path` is only used in messages. Raises YamlError."""
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(path, None, too_large(len(raw)))
    if raw.startswith(_BOMS):
        raise YamlError(
            path, 1, "byte-order mark (BOM) is not allowed; save the file as UTF-8 without BOM"
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        if nul < 4:  # "a\0:\0" or "\0a\0:": text encoded as UTF-16 or UTF-32 without a BOM
            raise YamlError(path, 1, "file looks like UTF-16 or UTF-32; save it as UTF-8")
        raise YamlError(path, raw.count(b"\n", 0, nul) + 1, "NUL byte is not allowed")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise YamlError(path, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from exc
    trap = _INVISIBLE_TRAPS.search(text)
    if trap is not None:
        line = text.count("\n", 0, trap.start()) + 1
        raise YamlError(path, line, _describe_trap(trap.group()))
    return _Builder(path, text).build()


def _describe_trap(character: str) -> str:
    if character == "\r":
        return "carriage return without a newline: a line break that `git diff` does not show"
    if character in _UNICODE_LINE_BREAKS:
        return f"Unicode line break U+{ord(character):04X} is not allowed; use a newline"
    return (
        f"bidirectional control U+{ord(character):04X} is not allowed: it makes the text read "
        "differently from what it is"
    )


def _character_name(character: str) -> str:
    import unicodedata

    return unicodedata.name(character, "control character")


def _tab_indented_line(text: str, error_line: int | None) -> int | None:
    """The line the parser failed on, or the one before, if its indentation holds a tab.

    YAML forbids tabs in indentation and libyaml refuses them, but with a message about tokens;
    this names the cause. Tabs inside block-scalar text or flow collections are fine, which is
    why this runs only after the parser has failed, and only near where it failed."""
    if error_line is None or "\t" not in text:
        return None
    lines = text.split("\n")
    for line in (error_line - 1, error_line):
        if 1 <= line <= len(lines):
            match = _INDENT.match(lines[line - 1])
            if match is not None and "\t" in match.group():
                return line
    return None


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return mark.line + 1 if mark is not None else 0


class _Builder:
    """Builds plain data from PyYAML's event stream, refusing what a registry file must not hold."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.lines: dict[Loc, int] = {}
        self.source_text: dict[Loc, str] = {}

    def fail(self, event: yaml.Event, message: str) -> YamlError:
        return YamlError(self.path, _line(event), message)

    def build(self) -> Loaded:
        events = self._events()
        data: Any = None
        documents = 0
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise self.fail(event, "more than one YAML document; a file holds exactly one")
                if event.version is not None or event.tags:
                    raise self.fail(event, "YAML directives (%YAML, %TAG) are not allowed")
                root = next(events)
                self.lines[()] = _line(root)
                data = self._node(root, (), 1, events)
        return Loaded(data, self.lines, self.source_text)

    def _events(self) -> Iterator[yaml.Event]:
        try:
            yield from yaml.parse(self.text, Loader=_Parser)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            tab_line = _tab_indented_line(self.text, line)
            if tab_line is not None:
                message = "tab used for indentation; indent with spaces"
                raise YamlError(self.path, tab_line, message) from exc
            detail = " ".join(part for part in (exc.context, exc.problem) if part)
            raise YamlError(self.path, line, f"invalid YAML: {detail}") from exc
        except yaml.reader.ReaderError as exc:
            code = exc.character if isinstance(exc.character, int) else ord(exc.character)
            # libyaml counts the position in bytes, the Python reader in characters: find it.
            line = self.text.count("\n", 0, max(self.text.find(chr(code)), 0)) + 1
            raise YamlError(
                self.path, line, f"control character U+{code:04X} is not allowed"
            ) from exc
        except yaml.YAMLError as exc:
            raise YamlError(self.path, None, f"invalid YAML: {exc}") from exc

    def _refuse_decorations(self, event: yaml.NodeEvent) -> None:
        if isinstance(event, yaml.AliasEvent):
            raise self.fail(event, f"alias *{event.anchor} is not allowed; write the value out")
        if event.anchor is not None:
            raise self.fail(event, f"anchor &{event.anchor} is not allowed")
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            advice = (
                "quote the value instead"
                if isinstance(event, yaml.ScalarEvent)
                else "write a plain list or mapping"
            )
            raise self.fail(event, f"tag {shown} is not allowed; {advice}")

    def _node(self, event: yaml.Event, loc: Loc, depth: int, events: Iterator[yaml.Event]) -> Any:
        assert isinstance(event, yaml.NodeEvent)
        self._refuse_decorations(event)
        if isinstance(event, yaml.ScalarEvent):
            return self._scalar(event, loc)
        if depth > MAX_DEPTH:  # depth counts lists and mappings, the root one being 1
            raise self.fail(event, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            for item in events:
                if isinstance(item, yaml.SequenceEndEvent):
                    return items
                item_loc = (*loc, len(items))
                self.lines[item_loc] = _line(item)
                items.append(self._node(item, item_loc, depth + 1, events))
        elif isinstance(event, yaml.MappingStartEvent):
            mapping: dict[str, Any] = {}
            for key_event in events:
                if isinstance(key_event, yaml.MappingEndEvent):
                    return mapping
                key = self._key(key_event, loc)
                key_loc = (*loc, key)
                if key in mapping:
                    first = self.lines[key_loc]
                    raise self.fail(key_event, f"duplicate key '{key}' (first on line {first})")
                self.lines[key_loc] = _line(key_event)
                mapping[key] = self._node(next(events), key_loc, depth + 1, events)
        raise self.fail(event, "unexpected end of a list or mapping")

    def _key(self, event: yaml.Event, loc: Loc) -> str:
        if not isinstance(event, yaml.ScalarEvent):
            self._refuse_decorations(event)  # type: ignore[arg-type]
            raise self.fail(event, "keys must be plain strings, not lists or mappings")
        self._refuse_decorations(event)
        if event.value == "<<" and not event.style:
            raise self.fail(event, "merge keys (<<) are not allowed; write the keys out")
        key = self._scalar(event, loc, record=False)
        if key == "":
            raise self.fail(event, "keys must not be empty")
        if not isinstance(key, str):
            shown = event.value if event.value else "an empty key"
            raise self.fail(event, f"keys must be strings: {shown} is not; quote it")
        return key

    def _scalar(self, event: yaml.ScalarEvent, loc: Loc, record: bool = True) -> Any:
        forbidden = FORBIDDEN.search(event.value)
        if forbidden is not None:
            character = forbidden.group()
            raise self.fail(
                event,
                f"character U+{ord(character):04X} ({_character_name(character)}) is not allowed",
            )
        if event.style:  # quoted, literal or folded: always a string (plain is None or "")
            return event.value
        try:
            value = resolve_plain(event.value)
        except _NotAllowed as exc:
            raise self.fail(event, str(exc)) from exc
        if record and value is not None and not isinstance(value, str):
            self.source_text[loc] = event.value
        return value


# --- writing ---------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:  # noqa: ARG002 - PyYAML's signature
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if "\n" in value:
        style = "|"
    else:
        try:
            plain_is_string = isinstance(resolve_plain(value), str) if value else False
        except _NotAllowed:
            plain_is_string = False
        if not plain_is_string:
            style = "'"  # our resolver would read it as something else
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def dumps(data: Any, header: str | None = None) -> str:
    """Write `data` (plain JSON-like values) as YAML that `loads` reads back to equal data."""
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=4096,
        indent=2,
    )
    text = f"{header}\n{body}" if header else body
    reread = loads(text.encode("utf-8"), "<written>").data
    if reread != data:
        raise ValueError(f"internal error: YAML written does not read back equal: {data!r}")
    return text


def schema_comment(schema_ref: str) -> str:
    """The first line of an entry file, so that editors with yaml-language-server validate it."""
    return f"# yaml-language-server: $schema={schema_ref}"


def replace_top_level_value(text: str, key: str, value: str, path: str) -> str:
    """Change one top-level `key: value` line and nothing else: comments, order and every other
    byte stay, so the diff of a promotion is one line. Re-reads the result to prove it."""
    pattern = re.compile(
        rf"^{re.escape(key)}:[ \t]*(?P<value>[^#\n]*?)[ \t]*(?P<comment>#[^\n]*)?$", re.MULTILINE
    )
    matches = list(pattern.finditer(text))
    if len(matches) != 1:
        raise YamlError(path, None, f"expected one top-level '{key}:' line, found {len(matches)}")
    match = matches[0]
    written = value if isinstance(resolve_plain(value), str) and value else f"'{value}'"
    edited = text[: match.start("value")] + written + text[match.end("value") :]
    before = loads(text.encode("utf-8"), path).data
    after = loads(edited.encode("utf-8"), path).data
    if not isinstance(before, dict) or after != {**before, key: value}:
        line = text.count("\n", 0, match.start()) + 1
        raise YamlError(path, line, f"could not change '{key}' without changing anything else")
    return edited
