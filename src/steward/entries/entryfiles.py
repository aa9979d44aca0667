"""Writing entry files the way Steward writes them: the schema comment, then strict YAML."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from steward.entries.layout import Kind, schema_ref_for
from steward.entries.models import dump_entry
from steward.entries.yamlio import dumps, schema_comment


def render_entry(kind: Kind, relative: str, entry: BaseModel) -> str:
    """The text of an entry file at `relative` (repo-relative), starting with its schema comment."""
    header = schema_comment(schema_ref_for(relative, kind.value))
    return dumps(dump_entry(entry), header=header)


def write_entry(root: Path, relative: str, kind: Kind, entry: BaseModel) -> Path:
    """Write the entry atomically: a reader sees the old file or the new one, never half of one."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(render_entry(kind, relative, entry), encoding="utf-8")
    temporary.replace(path)
    return path
