"""Problems found in registry files, and how pydantic's errors become messages pointing at a place.

A problem renders as `path:line: field.path: message`, e.g.
`registry/models/fraud/1.3.0.yaml:12: metrics.auc: expected a number, got 'high'`.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steward.entries.yamlio import Loaded, Loc

# pydantic only where its errors are turned into problems: reading cached answers (a warm
# `list`, `which`, a federated `impact`) uses `Problem` without paying for pydantic's import.
if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from pydantic_core import ErrorDetails


@dataclass(frozen=True)
class Problem:
    path: str
    line: int | None
    field: str
    message: str

    def render(self) -> str:
        """One line, whatever the path or value holds: a newline in a file name must not forge
        another report line (or an Actions `::command::`)."""
        path = printable(self.path)
        where = path if self.line is None else f"{path}:{self.line}"
        message = printable(self.message)
        return (
            f"{where}: {printable(self.field)}: {message}" if self.field else f"{where}: {message}"
        )

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.field, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "field": self.field, "message": self.message}


def printable(text: str) -> str:
    """`text` with every non-printable character (and undecodable byte) escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=Problem.sort_key)


def field_path(loc: Loc) -> str:
    """('training', 'datasets', 0, 'id') -> 'training.datasets[0].id'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def problem_at(path: str, loaded: Loaded | None, loc: Loc, message: str) -> Problem:
    line = loaded.line_of(loc) if loaded is not None else None
    return Problem(path, line, field_path(loc), message)


def describe(value: object, source: str | None = None) -> str:
    """How a value read from YAML is shown in a message: as the user wrote it where we know it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {source if source is not None else repr(value)}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _field_names(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names allowed at `loc` inside `model`, for 'did you mean' hints."""
    from pydantic import BaseModel

    current: Any = model
    for part in loc:
        current = _descend(current, part)
        if current is None:
            return []
    current = _unwrap(current)
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` -> X, and `X | None` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _descend(annotation: Any, part: str | int) -> Any:
    """The annotation one step down a `loc`: a model's field, a list's item, a dict's value."""
    from pydantic import BaseModel

    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = annotation.model_fields
        info = fields.get(str(part)) or next((f for f in fields.values() if f.alias == part), None)
        return None if info is None else info.annotation
    origin = typing.get_origin(annotation)
    if origin is list and isinstance(part, int):
        return typing.get_args(annotation)[0]
    if origin is dict:
        return typing.get_args(annotation)[1]
    return None


_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}

# Fields people put in the wrong place, with where they belong.
_MOVED_FIELDS = {
    "single": "`single` belongs to a stage: stages: {production: {single: true}}",
}


def _items(count: object) -> str:
    return "item" if count == 1 else "items"


def closest(word: str, choices: Sequence[str]) -> str | None:
    """The choice `word` most likely meant: the one it starts (`prod` -> `production`), else the
    nearest spelling (`lst` -> `list`); None when nothing is close."""
    starting = [choice for choice in choices if choice.startswith(word)] if word else []
    if len(starting) == 1:
        return starting[0]
    near = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return near[0] if near else None


def message_for(error: ErrorDetails, loaded: Loaded | None, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    value = error.get("input")
    source = loaded.source_text.get(loc) if loaded is not None else None
    shown = describe(value, source)
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(loc[-1])
        if name in _MOVED_FIELDS:
            return f"unknown field; {_MOVED_FIELDS[name]}"
        hint = difflib.get_close_matches(name, _field_names(model, loc[:-1]), n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"unknown field{suggestion}"
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {shown}"
        if kind == "string_type" and source is not None:
            message += f"; quote it to keep it as written: '{source}'"
        return message
    if kind == "literal_error":
        listed = str(ctx.get("expected"))
        guess = closest(value, re.findall(r"'([^']*)'", listed)) if isinstance(value, str) else None
        did_you_mean = f"; did you mean '{guess}'?" if guess else ""
        return f"expected {listed}, got {shown}{did_you_mean}"
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        return f"expected {words} {ctx.get(key)}, got {shown}"
    if kind == "too_short":
        minimum, actual = ctx.get("min_length"), ctx.get("actual_length")
        got = "an empty list" if actual == 0 else f"{actual}"
        return f"expected at least {minimum} {_items(minimum)}, got {got}"
    if kind == "too_long":
        maximum, actual = ctx.get("max_length"), ctx.get("actual_length")
        return f"expected at most {maximum} {_items(maximum)}, got {actual}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def summarize_validation(exc: ValidationError, prefix: Loc = ()) -> str:
    """One line for errors in values built in code (options, API arguments), not read from a
    file: `field.path: message; ...`."""
    return "; ".join(
        f"{field_path((*prefix, *error['loc']))}: {error['msg']}" for error in exc.errors()
    )


def problems_from_validation(
    path: str, loaded: Loaded | None, exc: ValidationError, model: type[BaseModel]
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        if loc and loc[-1] == "[key]":  # a dict key failed its type: point at the key
            loc = loc[:-1]
        problems.append(problem_at(path, loaded, loc, message_for(error, loaded, model)))
    return problems
