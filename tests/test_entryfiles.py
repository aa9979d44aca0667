from __future__ import annotations

from pathlib import Path

from steward.entries import layout
from steward.entries.entryfiles import render_entry, write_entry
from steward.entries.layout import Kind
from steward.entries.models import VersionEntry
from steward.entries.validate import parse_file
from tests.builders import version_data


def test_written_entries_read_back_equal_with_their_schema_comment(tmp_path: Path) -> None:
    data = version_data("fraud", "1.10.0", environment={"python": "3.10"}, tags=["yes", "no"])
    data["training"]["datasets"][0]["version"] = "2026-10-31"
    entry = VersionEntry.model_validate(data)
    relative = layout.version_path("fraud", "1.10.0")
    path = write_entry(tmp_path, relative, Kind.VERSION, entry)
    text = path.read_text()
    assert text.splitlines()[0] == (
        "# yaml-language-server: $schema=../../../.steward/schemas/version.schema.json"
    )
    assert "version: 1.10.0\n" in text
    assert "python: '3.10'\n" in text  # quoted: it would read back as the number 3.1
    assert "- 'yes'\n" in text
    parsed = parse_file(Kind.VERSION, path.read_bytes(), relative)
    assert parsed.problems == []
    assert parsed.entry == entry
    assert not list(tmp_path.rglob("*.tmp"))


def test_render_entry_leaves_out_defaults() -> None:
    entry = VersionEntry.model_validate(version_data("fraud", "1.0.0"))
    text = render_entry(Kind.VERSION, layout.version_path("fraud", "1.0.0"), entry)
    assert "production_metrics" not in text
    assert "created_at: '2026-11-20T10:00:00Z'" in text
