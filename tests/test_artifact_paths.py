"""Artifact file paths: nothing that escapes, and nothing two file systems would store as one."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from pydantic import ValidationError

from steward.artifacts.hashing import ArtifactSourceError, collect_sources
from steward.entries.models import Artifact


def artifact(*paths: str) -> dict[str, object]:
    files = [{"path": p, "sha256": "0" * 64, "size": 1} for p in paths]
    return {
        "dvc": "1.0.0.dvc",
        "md5": "0" * 32 + ".dir",
        "size": 1,
        "format": "pickle",
        "files": files,
    }


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../x", "has a '..' segment"),
        ("/etc/passwd", "is absolute"),
        ("a//b", "has an empty segment"),
        ("a\\b", "contains a backslash"),
        ("CON", "names a Windows device"),
        ("sub/lpt1.txt", "names a Windows device"),
        ("x/y. ", "ending in a dot or space"),
        ("weights.", "ending in a dot or space"),
        ("a:b", "which Windows cannot store"),
    ],
)
def test_unportable_paths_are_refused(path: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem.replace(".", r"\.")):
        Artifact.model_validate(artifact(path))


@pytest.mark.parametrize(
    "pair",
    [
        ("Model.pkl", "model.pkl"),
        (unicodedata.normalize("NFC", "café.txt"), unicodedata.normalize("NFD", "café.txt")),
    ],
)
def test_paths_that_one_file_system_would_merge_are_refused(pair: tuple[str, str]) -> None:
    with pytest.raises(ValidationError, match="one file on case-insensitive file systems"):
        Artifact.model_validate(artifact(*pair))


def test_registering_files_that_would_collide_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "Model.pkl").write_bytes(b"a")
    (tmp_path / "out" / "model.pkl").write_bytes(b"b")
    with pytest.raises(ArtifactSourceError, match="one file on case-insensitive file systems"):
        collect_sources([tmp_path / "out"])
