"""Model, version and dataset entries checked without pydantic, for the questions that must answer
at start-up speed.

`steward which` and `steward show` read one model's entries and must refuse, or report, what is
broken. Importing pydantic and building the entry models costs more than the CLI's whole
start-up, so `plain_entry` applies the rules of `steward.entries.models` in plain Python first.
It is *conservative*: it returns an entry only for data the model certainly accepts, holding the
same values (`PlainEntry`: the fields as attributes, `model_dump(mode="json")` as the model dumps
them), and None for anything else, valid or not. The caller then validates with the model,
which accepts exactly what it always did and names every problem. So the plain check decides
how fast an answer comes, never what it is; `tests/test_plain_entries.py` holds every field,
default and order to the models' and compares the two on thousands of valid and broken entries.

Rules it does not restate (a new field, a value it has no rule for) make it unsure, not lenient.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steward.entries.layout import Kind
from steward.entries.names import (
    COMMIT_PATTERN,
    LOGIN_PATTERN,
    MD5_PATTERN,
    METRIC_PATTERN,
    PRINCIPAL_PATTERN,
    RFC3339_PATTERN,
    SHA256_PATTERN,
    format_timestamp,
    is_name,
    is_version,
    path_identity,
    relative_path_problem,
)
from steward.entries.yamlio import FORBIDDEN

# The models' literals, without importing them (a test holds each pair equal).
STAGE_NAMES = ("development", "staging", "production", "archived", "retired")
RISK_CLASSES = ("minimal", "limited", "high", "prohibited")
CARD_SECTIONS = (
    "intended_use",
    "out_of_scope_use",
    "factors",
    "limitations",
    "ethical_considerations",
    "caveats_and_recommendations",
    "evaluation_data",
)


class PlainEntry:
    """A checked entry, or part of one, as its model would hold it: each field an attribute (a
    nested model a PlainEntry, a timestamp an aware datetime in UTC, a float field a float), and
    `model_dump(mode="json")` the model's dump. Read-only."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # no field is; `_values` itself before it is set (copying)
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a checked entry is read-only: {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainEntry) and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # mutable values inside, as the models' lists

    def __repr__(self) -> str:
        return f"PlainEntry({self._values!r})"

    def __reduce__(self) -> tuple[type[PlainEntry], tuple[dict[str, Any]]]:
        return (PlainEntry, (self._values,))  # copies and pickles as the models' entries do

    def __deepcopy__(self, memo: dict[int, Any]) -> PlainEntry:
        import copy

        return PlainEntry(copy.deepcopy(self._values, memo))

    def model_dump(self, mode: str = "json") -> dict[str, Any]:
        if mode != "json":
            raise ValueError("a checked entry dumps only as JSON data")
        return {name: _dumped(value) for name, value in self._values.items()}


def _dumped(value: Any) -> Any:
    if isinstance(value, PlainEntry):
        return value.model_dump()
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, list):
        return [_dumped(item) for item in value]
    if isinstance(value, dict):
        return {key: _dumped(item) for key, item in value.items()}
    return value


class _Unsure(Exception):
    """The data is not certainly valid: leave it to the entry model."""


def _require(condition: bool) -> None:
    if not condition:
        raise _Unsure


Check = Callable[[Any], Any]  # the value the model would hold, or _Unsure


@dataclass(frozen=True)
class Field:
    check: Check
    default: Callable[[], Any] | None = None  # None: required


Spec = dict[str, Field]  # a model's fields, in the model's order (its dump's order)


def _string(value: Any) -> str:
    _require(type(value) is str)
    return str(value)


def _text(value: Any) -> str:
    text = _string(value)
    _require(FORBIDDEN.search(text) is None)
    return text


def _pattern(pattern: str) -> Check:
    compiled = re.compile(pattern, re.ASCII)

    def check(value: Any) -> str:
        text = _string(value)
        _require(compiled.fullmatch(text) is not None)
        return text

    return check


def _name(value: Any) -> str:
    text = _string(value)
    _require(is_name(text))
    return text


def _version(value: Any) -> str:
    text = _string(value)
    _require(is_version(text))
    return text


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any) -> str:
        text = _string(value)
        _require(text in choices)
        return text

    return check


def _size(value: Any) -> int:
    _require(type(value) is int and value >= 0)
    return int(value)


def _number(value: Any) -> float:
    # A float field takes an int too (not a bool), if it converts: 10**400 does not. The loader
    # refuses NaN and infinity, and so does the model.
    if type(value) is int:
        _require(abs(value) <= sys.float_info.max)  # an exact comparison, int with float
    else:
        _require(type(value) is float and math.isfinite(value))
    return float(value)


def _non_negative(value: Any) -> float:
    number = _number(value)
    _require(number >= 0)
    return number


def _timestamp(value: Any) -> datetime:
    text = _string(value)
    _require(_RFC3339.fullmatch(text) is not None)
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Unsure from None


def _json_value(value: Any, depth: int = 0) -> Any:
    _require(depth < 64)  # deeper nesting is left to the model and its recursion limit
    if type(value) in (str, bool, int) or value is None:
        return value
    if type(value) is float:
        _require(math.isfinite(value))
        return value
    if type(value) is list:
        return [_json_value(item, depth + 1) for item in value]
    if type(value) is dict:
        return {_string(key): _json_value(item, depth + 1) for key, item in value.items()}
    raise _Unsure


def _optional(check: Check) -> Check:
    return lambda value: None if value is None else check(value)


def _list(check: Check, min_length: int = 0) -> Check:
    def checked(value: Any) -> list[Any]:
        _require(type(value) is list and len(value) >= min_length)
        return [check(item) for item in value]

    return checked


def _mapping(key: Check, item: Check) -> Check:
    def checked(value: Any) -> dict[Any, Any]:
        _require(type(value) is dict)
        return {key(k): item(v) for k, v in value.items()}

    return checked


def _model(spec: Spec, after: Callable[[PlainEntry], None] | None = None) -> Check:
    def checked(value: Any) -> PlainEntry:
        _require(type(value) is dict)
        _require(all(key in spec for key in value))
        values: dict[str, Any] = {}
        for name, field in spec.items():
            if name in value:
                values[name] = field.check(value[name])
            elif field.default is None:  # a required field is missing
                raise _Unsure
            else:
                values[name] = field.default()
        entry = PlainEntry(values)
        if after is not None:
            after(entry)
        return entry

    return checked


def _column_name(value: Any) -> str:
    text = _text(value)
    _require(1 <= len(text) <= 256)
    return text


def _non_empty_text(value: Any) -> str:
    text = _text(value)
    _require(text != "")
    return text


def _relative_path(value: Any) -> str:
    text = _string(value)
    _require(relative_path_problem(text) is None)
    return text


def _paths_unique(artifact: PlainEntry) -> None:
    identities = [path_identity(item.path) for item in artifact.files]
    _require(len(set(identities)) == len(identities))


def _columns_unique(dataset: PlainEntry) -> None:
    names = [column.name for column in dataset.columns]
    _require(len(set(names)) == len(names))


def _none() -> None:
    return None


def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


def _optional_text() -> Field:
    return Field(_optional(_text), _none)


def _list_of(check: Check) -> Field:
    return Field(_list(check), _empty_list)


def _of_defaults(spec: Spec) -> Callable[[], PlainEntry]:
    """A nested model's default: the model made of its own defaults."""
    return lambda: _model(spec)({})


_RFC3339 = re.compile(RFC3339_PATTERN, re.ASCII)
_md5 = _pattern(MD5_PATTERN)
_metric_name = _pattern(METRIC_PATTERN)
_principal = _pattern(PRINCIPAL_PATTERN)

# --- model.yaml -------------------------------------------------------------------------------

MODEL_CARD: Spec = {section: _optional_text() for section in CARD_SECTIONS}
CONSUMER: Spec = {
    "name": Field(_name),
    "owner": Field(_optional(_principal), _none),
    "description": _optional_text(),
}
MODEL: Spec = {
    "name": Field(_name),
    "owner": Field(_principal),
    "team": Field(_name),
    "data_steward": Field(_optional(_principal), _none),
    "description": _optional_text(),
    "risk": Field(_one_of(RISK_CLASSES)),
    "classification": _list_of(_name),
    "license": _optional_text(),
    "tags": _list_of(_name),
    "card": Field(_model(MODEL_CARD), _of_defaults(MODEL_CARD)),
    "downstream": _list_of(_model(CONSUMER)),
    "custom": Field(_mapping(_string, _json_value), _empty_dict),
}

# --- <version>.yaml ---------------------------------------------------------------------------

ARTIFACT_FILE: Spec = {
    "path": Field(_relative_path),
    "sha256": Field(_pattern(SHA256_PATTERN)),
    "size": Field(_size),
}
ARTIFACT: Spec = {
    "dvc": Field(_text),
    "md5": Field(_md5),
    "size": Field(_size),
    "format": Field(_name),
    "files": Field(_list(_model(ARTIFACT_FILE), min_length=1)),
}
DATASET_REF: Spec = {
    "id": Field(_name),
    "version": _optional_text(),
    "uri": _optional_text(),
    "columns": _list_of(_column_name),
}
CODE_REF: Spec = {
    "repo": _optional_text(),
    "commit": Field(_pattern(COMMIT_PATTERN)),
    "path": _optional_text(),
}
TRAINING: Spec = {
    "datasets": _list_of(_model(DATASET_REF)),
    "features": _list_of(_text),
    "hyperparameters": Field(_mapping(_string, _json_value), _empty_dict),
    "duration_s": Field(_optional(_non_negative), _none),
    "code": Field(_optional(_model(CODE_REF)), _none),
    "run": _optional_text(),
}
ENVIRONMENT: Spec = {
    "python": _optional_text(),
    "platform": _optional_text(),
    "framework": _optional_text(),
    "packages": Field(_mapping(_string, _text), _empty_dict),
    "hardware": _optional_text(),
    "image": _optional_text(),
}
METRIC_POINT: Spec = {
    "at": Field(_timestamp),
    "metrics": Field(_mapping(_metric_name, _number)),
    "source": _optional_text(),
    "breaches": _list_of(_text),
}
VERSION: Spec = {
    "model": Field(_name),
    "version": Field(_version),
    "stage": Field(_one_of(STAGE_NAMES)),
    "created_at": Field(_timestamp),
    "created_by": Field(_pattern(LOGIN_PATTERN)),
    "description": _optional_text(),
    "tags": _list_of(_name),
    "artifact": Field(_model(ARTIFACT, after=_paths_unique)),
    "training": Field(_model(TRAINING), _of_defaults(TRAINING)),
    "metrics": Field(_mapping(_metric_name, _number), _empty_dict),
    "environment": Field(_model(ENVIRONMENT), _of_defaults(ENVIRONMENT)),
    "dependencies": _list_of(_text),
    "production_metrics": _list_of(_model(METRIC_POINT)),
    "retired_at": Field(_optional(_timestamp), _none),
    "retired_reason": _optional_text(),
}

# --- registry/datasets/<name>.yaml ------------------------------------------------------------

COLUMN: Spec = {
    "name": Field(_column_name),
    "type": _optional_text(),
    "description": _optional_text(),
    "classification": _list_of(_name),
}
DATASET: Spec = {
    "name": Field(_name),
    "description": _optional_text(),
    "owner": Field(_principal),
    "uri": Field(_non_empty_text),
    "classification": _list_of(_name),
    "columns": _list_of(_model(COLUMN)),
    "tags": _list_of(_name),
}

_CHECKS: dict[Kind, Check] = {
    Kind.MODEL: _model(MODEL),
    Kind.VERSION: _model(VERSION),
    Kind.DATASET: _model(DATASET, after=_columns_unique),
}


def plain_entry(kind: Kind, data: Any) -> PlainEntry | None:
    """`data` (a file of `kind` as the strict YAML loader gives it) as its model would hold it,
    if it is certainly a valid entry; None if it is not, or if this check cannot tell.
    `kind`: a model, version or dataset file."""
    try:
        entry: PlainEntry = _CHECKS[kind](data)
    except _Unsure:
        return None
    return entry
