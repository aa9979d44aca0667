"""`steward create`: a new registered model, committed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from steward.entries import layout
from steward.entries.entryfiles import render_entry
from steward.entries.layout import Kind
from steward.entries.models import ModelEntry
from steward.entries.policy import TeamExtension, compile_team_schemas, schema_violations
from steward.entries.problems import field_path, summarize_validation
from steward.entries.validate import read_entry
from steward.errors import StewardError, UsageError
from steward.gitio.landing import commit_and_land
from steward.reading.registry_root import require_registry


@dataclass(frozen=True)
class Created:
    path: str
    commit: str


def create_model(root: Path, fields: dict[str, object]) -> Created:
    """Write `registry/models/<name>/model.yaml` from `fields` and commit it."""
    try:
        entry = ModelEntry.model_validate(fields)
    except ValidationError as exc:
        raise UsageError(summarize_validation(exc)) from None
    require_registry(root)
    relative = layout.model_path(entry.name)
    directory = root / relative
    if directory.parent.exists():
        raise StewardError(f"model '{entry.name}' already exists ({relative})")
    _check_team(root, entry)
    text = render_entry(Kind.MODEL, relative, entry)
    commit = commit_and_land(root, {relative: text.encode("utf-8")}, f"Create model {entry.name}")
    return Created(relative, commit)


def _check_team(root: Path, entry: ModelEntry) -> None:
    relative = layout.team_path(entry.team)
    if not (root / relative).is_file():
        return
    team: TeamExtension = read_entry(root, relative, Kind.TEAM)
    validator = compile_team_schemas(team).get("model")
    if validator is None:
        return
    data = entry.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    violations = schema_violations(validator, data, entry.team)
    if violations:
        details = "\n".join(f"{field_path(loc) or '(model)'}: {msg}" for loc, msg in violations)
        raise UsageError(f"the model would not meet its team's extension:\n{details}")
