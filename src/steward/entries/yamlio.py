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
from typing import Any

import yaml

from steward.errors import YamlError

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32

Loc = tuple[str | int, ...]

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _libyaml_parser() -> Any:
    """libyaml's parser class, or None where PyYAML was built without it (then every file goes
    through `_Builder`)."""
    try:
        from yaml._yaml import CParser
    except ImportError:
        return None
    return CParser


_CParser: Any = _libyaml_parser()

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


class Loaded:
    """A parsed document, the line of every key and item, and the text of non-string scalars.

    Built either from `_Builder`'s dictionaries or, on the fast path, from the node tree the C
    composer made: then `line_of` walks that tree, and `lines` and `source_text` are made from it
    only when asked (a file that validates needs a few lines, not all of them)."""

    __slots__ = ("_lines", "_root", "_source_text", "data")

    def __init__(
        self,
        data: Any,
        lines: dict[Loc, int] | None = None,
        source_text: dict[Loc, str] | None = None,
        root: yaml.Node | None = None,
    ) -> None:
        self.data = data
        self._root = root
        self._lines = lines if lines is not None or root is not None else {}
        self._source_text = source_text if source_text is not None or root is not None else {}

    @property
    def lines(self) -> dict[Loc, int]:
        if self._lines is None:
            self._lines, self._source_text = _locations(self._root)
        return self._lines

    @property
    def source_text(self) -> dict[Loc, str]:
        if self._source_text is None:
            self._lines, self._source_text = _locations(self._root)
        return self._source_text

    def line_of(self, loc: Loc) -> int | None:
        """The line of the nearest enclosing key or item that has one."""
        if self._lines is None:
            return _line_in_tree(self._root, loc)
        for end in range(len(loc), -1, -1):
            line = self._lines.get(loc[:end])
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
    loaded = _composed(raw, text)
    return loaded if loaded is not None else _Builder(path, text).build()


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


# --- the fast path: libyaml's node tree, judged by the builder's rules ------------------------
#
# Most files are plain block YAML. For them libyaml's composer (C) builds the node tree and
# `_plain` turns it into data with the same checks `_Builder` makes, refusing nothing itself: at the
# first thing it is unsure of, the file goes to `_Builder`, which reads it or names what is wrong.
# So the fast path can only be wrong by accepting what the builder refuses or reading it
# differently, and `tests/test_yamlio.py` compares the two on generated files.
#
# What the tree cannot show is kept out of it before composing: the composer resolves aliases to
# the anchored node and drops anchors, tags and directives, so a file with `&`, `*`, `!` anywhere or
# `%` at a line's start goes to the builder. The composer recurses in C once per level of nesting;
# every list or mapping owns at least one of `:-[{?`, so a file with at most `_MOST_INDICATORS` of
# them nests at most that deep, and a deeper one (an attack: `[[[[...`) never reaches it.

_SUSPECT = re.compile(r"[&*!]|^%", re.MULTILINE)
_NESTING_INDICATORS = ":-[{?"
_MOST_INDICATORS = 1000


class _Unsure(Exception):
    """The fast path leaves this file to `_Builder`."""


if _CParser is not None:

    class _Composer(_CParser):  # type: ignore[misc]
        """libyaml's parser and composer with PyYAML's tag resolution switched off: `_plain`
        resolves scalars by Steward's own rules and never reads a node's tag."""

        def resolve(self, kind: type, value: Any, implicit: Any) -> str:  # noqa: ARG002
            return ""

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:  # noqa: ARG002
            return None

        def ascend_resolver(self) -> None:
            return None


def _composed(raw: bytes, text: str) -> Loaded | None:
    """`raw` read through the fast path, or None when `_Builder` must read it."""
    if _CParser is None or _SUSPECT.search(text) is not None:
        return None
    if sum(map(text.count, _NESTING_INDICATORS)) > _MOST_INDICATORS:
        return None
    try:
        root = _Composer(raw).get_single_node()
        if root is None:  # no document: only comments, or nothing
            return Loaded(None, {}, {})
        return Loaded(_plain(root, 1), root=root)
    except Exception:  # whatever it is, the builder judges the file and names it
        return None


def _plain(node: yaml.Node, depth: int) -> Any:
    """The data of `node`, by `_Builder`'s rules; `_Unsure` (or `_NotAllowed`) where it would
    refuse the file."""
    kind = node.__class__
    if kind is yaml.ScalarNode:
        value: str = node.value
        if FORBIDDEN.search(value) is not None:
            raise _Unsure
        return value if node.style else resolve_plain(value)  # type: ignore[attr-defined]
    if depth > MAX_DEPTH:
        raise _Unsure
    if kind is yaml.SequenceNode:
        return [_plain(item, depth + 1) for item in node.value]
    mapping: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.__class__ is not yaml.ScalarNode:
            raise _Unsure
        key = key_node.value
        if not key or key in mapping or FORBIDDEN.search(key) is not None:
            raise _Unsure
        if not key_node.style and (key == "<<" or not isinstance(resolve_plain(key), str)):
            raise _Unsure
        mapping[key] = _plain(value_node, depth + 1)
    return mapping


def _locations(root: yaml.Node | None) -> tuple[dict[Loc, int], dict[Loc, str]]:
    """The `lines` and `source_text` `_Builder` would have made for the tree at `root`."""
    lines: dict[Loc, int] = {}
    texts: dict[Loc, str] = {}
    if root is None:
        return lines, texts
    lines[()] = root.start_mark.line + 1
    pending: list[tuple[Loc, yaml.Node]] = [((), root)]
    while pending:
        loc, node = pending.pop()
        kind = node.__class__
        if kind is yaml.ScalarNode:
            if not node.style:  # type: ignore[attr-defined]
                value = resolve_plain(node.value)
                if value is not None and not isinstance(value, str):
                    texts[loc] = node.value
        elif kind is yaml.SequenceNode:
            for index, item in enumerate(node.value):
                lines[(*loc, index)] = item.start_mark.line + 1
                pending.append(((*loc, index), item))
        else:
            for key_node, value_node in node.value:
                lines[(*loc, key_node.value)] = key_node.start_mark.line + 1
                pending.append(((*loc, key_node.value), value_node))
    return lines, texts


def _line_in_tree(root: yaml.Node | None, loc: Loc) -> int | None:
    """`Loaded.line_of` on the tree: the line of the deepest key or item of `loc` that exists."""
    if root is None:
        return None
    node = root
    line: int = root.start_mark.line + 1
    for part in loc:
        kind = node.__class__
        if kind is yaml.MappingNode and isinstance(part, str):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    line, node = key_node.start_mark.line + 1, value_node
                    break
            else:
                return line
        elif kind is yaml.SequenceNode and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


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
