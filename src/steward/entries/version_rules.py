"""A version entry checked without pydantic, for the questions that must answer at start-up speed.

`steward which` reads every version of one model and must refuse to answer if any of them is
broken (it could be the real holder of the stage). Importing pydantic and building the entry
models costs more than the CLI's whole start-up, so `checked_version` applies the rules of
`steward.entries.models.VersionEntry` in plain Python first. It is *conservative*: it returns
the version's facts only for data the model certainly accepts, and None for anything else,
valid or not. The caller then validates with the model, which accepts exactly what it always
did and names every problem. So the plain check decides how fast an answer comes, never what
it is; `tests/test_version_rules.py` holds its fields to the model's and compares the two on
many valid and broken entries.

Rules it does not restate (a new field, a value it has no rule for) make it unsure, not lenient.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.entries.names import (
    COMMIT_PATTERN,
    LOGIN_PATTERN,
    MD5_PATTERN,
    METRIC_PATTERN,
    RFC3339_PATTERN,
    SHA256_PATTERN,
    is_name,
    is_version,
    path_identity,
    relative_path_problem,
)
from steward.entries.yamlio import FORBIDDEN

if TYPE_CHECKING:
    from steward.entries.models import VersionEntry

# `steward.entries.models.STAGES`, without importing the entry models (a test holds them equal).
STAGE_NAMES = ("development", "staging", "production", "archived", "retired")


@dataclass(frozen=True)
class ArtifactFile:
    path: str
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        """As the entry model dumps it (`model_dump(mode="json")`)."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class ArtifactFacts:
    md5: str
    size: int
    format: str
    files: tuple[ArtifactFile, ...]


@dataclass(frozen=True)
class CheckedVersion:
    """What `which` tells of a valid version entry: its names, its stage and its artifact."""

    model: str
    version: str
    stage: str
    artifact: ArtifactFacts

    @classmethod
    def of(cls, entry: VersionEntry) -> CheckedVersion:
        """The same facts of an entry the model validated."""
        artifact = entry.artifact
        files = tuple(ArtifactFile(f.path, f.sha256, f.size) for f in artifact.files)
        facts = ArtifactFacts(artifact.md5, artifact.size, artifact.format, files)
        return cls(entry.model, entry.version, entry.stage, facts)


class _Unsure(Exception):
    """The data is not certainly valid: leave it to the entry model."""


def _require(condition: bool) -> None:
    if not condition:
        raise _Unsure


Check = Callable[[Any], Any]


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


def _stage(value: Any) -> str:
    text = _string(value)
    _require(text in STAGE_NAMES)
    return text


def _size(value: Any) -> int:
    _require(type(value) is int and value >= 0)
    return int(value)


def _number(value: Any) -> None:
    # A float field takes an int too (not a bool), if it converts: 10**400 does not. The loader
    # refuses NaN and infinity, and so does the model.
    if type(value) is int:
        _require(abs(value) <= sys.float_info.max)  # an exact comparison, int with float
    else:
        _require(type(value) is float and math.isfinite(value))


def _timestamp(value: Any) -> None:
    text = _string(value)
    _require(_RFC3339.fullmatch(text) is not None)
    try:
        datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Unsure from None


def _json_value(value: Any, depth: int = 0) -> None:
    _require(depth < 64)  # deeper nesting is left to the model and its recursion limit
    if type(value) in (str, bool, int) or value is None:
        return
    if type(value) is float:
        _require(math.isfinite(value))
    elif type(value) is list:
        for item in value:
            _json_value(item, depth + 1)
    elif type(value) is dict:
        for key, item in value.items():
            _string(key)
            _json_value(item, depth + 1)
    else:
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


def _fields(required: Mapping[str, Check], optional: Mapping[str, Check]) -> Check:
    def checked(value: Any) -> dict[str, Any]:
        _require(type(value) is dict)
        _require(all(key in required or key in optional for key in value))
        _require(all(key in value for key in required))
        return {key: (required.get(key) or optional[key])(item) for key, item in value.items()}

    return checked


def _column(value: Any) -> str:
    text = _text(value)
    _require(1 <= len(text) <= 256)
    return text


def _unique_paths(files: list[dict[str, Any]]) -> None:
    identities = [path_identity(item["path"]) for item in files]
    _require(len(set(identities)) == len(identities))


def _relative_path(value: Any) -> str:
    text = _string(value)
    _require(relative_path_problem(text) is None)
    return text


def _non_negative(value: Any) -> None:
    _number(value)
    _require(value >= 0)


_RFC3339 = re.compile(RFC3339_PATTERN, re.ASCII)
_md5 = _pattern(MD5_PATTERN)
_metric_name = _pattern(METRIC_PATTERN)
_optional_text = _optional(_text)

# Each entry model's fields as (required, optional) checks, named as `models` names them.
Spec = tuple[Mapping[str, Check], Mapping[str, Check]]
ARTIFACT_FILE: Spec = (
    {"path": _relative_path, "sha256": _pattern(SHA256_PATTERN), "size": _size},
    {},
)
ARTIFACT: Spec = (
    {
        "dvc": _text,
        "md5": _md5,
        "size": _size,
        "format": _name,
        "files": _list(_fields(*ARTIFACT_FILE), min_length=1),
    },
    {},
)
DATASET_REF: Spec = (
    {"id": _name},
    {"version": _optional_text, "uri": _optional_text, "columns": _list(_column)},
)
CODE_REF: Spec = (
    {"commit": _pattern(COMMIT_PATTERN)},
    {"repo": _optional_text, "path": _optional_text},
)
TRAINING: Spec = (
    {},
    {
        "datasets": _list(_fields(*DATASET_REF)),
        "features": _list(_text),
        "hyperparameters": _mapping(_string, _json_value),
        "duration_s": _optional(_non_negative),
        "code": _optional(_fields(*CODE_REF)),
        "run": _optional_text,
    },
)
ENVIRONMENT: Spec = (
    {},
    {
        "python": _optional_text,
        "platform": _optional_text,
        "framework": _optional_text,
        "packages": _mapping(_string, _text),
        "hardware": _optional_text,
        "image": _optional_text,
    },
)
METRIC_POINT: Spec = (
    {"at": _timestamp, "metrics": _mapping(_metric_name, _number)},
    {"source": _optional_text, "breaches": _list(_text)},
)
VERSION: Spec = (
    {
        "model": _name,
        "version": _version,
        "stage": _stage,
        "created_at": _timestamp,
        "created_by": _pattern(LOGIN_PATTERN),
        "artifact": _fields(*ARTIFACT),
    },
    {
        "description": _optional_text,
        "tags": _list(_name),
        "training": _fields(*TRAINING),
        "metrics": _mapping(_metric_name, _number),
        "environment": _fields(*ENVIRONMENT),
        "dependencies": _list(_text),
        "production_metrics": _list(_fields(*METRIC_POINT)),
        "retired_at": _optional(_timestamp),
        "retired_reason": _optional_text,
    },
)
_check_version = _fields(*VERSION)


def checked_version(data: Any) -> CheckedVersion | None:
    """The facts of `data` (a version file as the strict YAML loader gives it) if it is
    certainly a valid version entry; None if it is not, or if this check cannot tell."""
    try:
        entry = _check_version(data)
        artifact = entry["artifact"]
        _unique_paths(artifact["files"])
    except _Unsure:
        return None
    files = tuple(ArtifactFile(f["path"], f["sha256"], f["size"]) for f in artifact["files"])
    facts = ArtifactFacts(artifact["md5"], artifact["size"], artifact["format"], files)
    return CheckedVersion(entry["model"], entry["version"], entry["stage"], facts)
