from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from steward.cli.main import run
from steward.entries.jsonschemas import SCHEMA_MODELS, schema_text, shipped_schema_text
from steward.reading.registry import check_registry
from tests.builders import small_registry

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("kind", sorted(SCHEMA_MODELS))
def test_shipped_schema_equals_a_fresh_export(kind: str) -> None:
    assert shipped_schema_text(kind) == schema_text(kind), (
        f"src/steward/schemas/{kind}.schema.json is stale: regenerate it from the models"
    )
    Draft202012Validator.check_schema(json.loads(shipped_schema_text(kind)))


@pytest.mark.parametrize("kind", sorted(SCHEMA_MODELS))
def test_this_repository_carries_the_shipped_schemas(kind: str) -> None:
    copy = REPO / ".steward/schemas" / f"{kind}.schema.json"
    assert copy.read_text() == shipped_schema_text(kind)


def test_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["schema", "version"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "VersionEntry"
    assert "stage" in schema["required"]


def test_schema_command_refuses_an_unknown_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["schema", "pipeline"]) == 2
    assert "'pipeline' is not one of" in capsys.readouterr().err


def test_schema_write_refreshes_a_stale_copy(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    stale = root / ".steward/schemas/model.schema.json"
    stale.write_text("{}\n")
    assert [p.render() for p in check_registry(root).problems] == [
        ".steward/schemas/model.schema.json: differs from this Steward's schema; "
        "run `steward schema --write`"
    ]
    assert run(["-C", str(root), "schema", "--write"]) == 0
    assert check_registry(root).ok


def test_entry_files_written_by_steward_point_editors_at_their_schema() -> None:
    version = REPO / "registry/models/fraud-detector/1.1.0.yaml"
    first = version.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../.steward/schemas/version.schema.json"
    assert (version.parent / "../../../.steward/schemas/version.schema.json").resolve().is_file()
