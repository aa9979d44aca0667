"""Reading one file of a known kind: strict YAML, then its strict model; every problem collected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from steward.entries.dvcfile import DvcPointer
from steward.entries.layout import Kind
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry
from steward.entries.problems import Problem, problems_from_validation
from steward.entries.yamlio import Loaded, loads
from steward.errors import StewardError, YamlError

ENTRY_CLASSES: dict[Kind, type[BaseModel]] = {
    Kind.MODEL: ModelEntry,
    Kind.VERSION: VersionEntry,
    Kind.DATASET: DatasetEntry,
    Kind.POINTER: DvcPointer,
}


def model_of_kind(kind: Kind) -> type[BaseModel]:
    """The strict model a file of `kind` is validated as. The policy's classes (and jsonschema,
    which they check team schemas with) are imported only when a policy file is read: a question
    about one model never reads one."""
    if kind in ENTRY_CLASSES:
        return ENTRY_CLASSES[kind]
    from steward.entries.policy import Policy, TeamExtension

    policies: dict[Kind, type[BaseModel]] = {
        Kind.POLICY: Policy,
        Kind.CENTRAL: Policy,
        Kind.TEAM: TeamExtension,
    }
    return policies[kind]


@dataclass(frozen=True)
class Parsed:
    """A file read as its kind: `entry` is None when it has problems."""

    path: str
    loaded: Loaded | None
    entry: Any
    problems: list[Problem]


def parse_file(kind: Kind, raw: bytes, path: str) -> Parsed:
    """Load `raw` with the strict YAML loader and validate it as `kind`."""
    model = model_of_kind(kind)
    try:
        loaded = loads(raw, path)
    except YamlError as exc:
        return Parsed(path, None, None, [Problem(path, exc.line, "", exc.problem)])
    if not isinstance(loaded.data, dict):
        message = "file is empty" if loaded.data is None else "expected a mapping of fields"
        return Parsed(path, loaded, None, [Problem(path, 1, "", message)])
    try:
        entry = model.model_validate(loaded.data)
    except ValidationError as exc:
        return Parsed(path, loaded, None, problems_from_validation(path, loaded, exc, model))
    return Parsed(path, loaded, entry, [])


class EntryError(StewardError):
    """An entry that a command needs is missing or has problems."""


def read_entry(
    root: Path, relative: str, kind: Kind, read: Callable[[str], bytes] | None = None
) -> Any:
    """Read and validate one entry of the working tree, or raise EntryError listing its problems.

    `read(relative)`: how to read the file, where the caller records what it read."""
    try:
        raw = read(relative) if read is not None else (root / relative).read_bytes()
    except FileNotFoundError:
        raise EntryError(f"{relative} does not exist") from None
    parsed = parse_file(kind, raw, relative)
    if parsed.problems:
        details = "\n".join(problem.render() for problem in parsed.problems)
        raise EntryError(f"{relative} has problems; fix them first:\n{details}")
    return parsed.entry
