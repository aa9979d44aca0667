"""`steward pull` refuses corrupt data; `steward verify` finds what DVC's status does not."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from steward.artifacts.registration import RegistrationRequest, register_version
from steward.artifacts.retrieve import pull_version, verify_versions
from steward.artifacts.store import IntegrityError
from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.validate import read_entry
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, remote_object, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    registry = make_registry(tmp_path)
    files = write_model_files(tmp_path / "out", b"weights-1")
    register_version(registry.root, RegistrationRequest("fraud", (files,), push=True))
    return registry


def corrupt(path: Path, content: bytes) -> None:
    path.chmod(0o644)  # cache and remote objects are read-only, as DVC leaves them
    path.write_bytes(content)


def test_pull_by_version_and_by_stage_into_a_fresh_clone(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = repo.clone(tmp_path / "clone")
    result = pull_version(clone, "fraud", version="0.1.0")
    assert result.destination == clone / "registry/models/fraud/0.1.0"
    assert (result.destination / "model.pkl").read_bytes() == b"weights-1"
    out = tmp_path / "serving"
    assert run(["-C", str(clone), "pull", "fraud", "--stage", "development", "-o", str(out)]) == 0
    assert "fraud 0.1.0: 2 files verified and written to" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["config.yaml", "model.pkl"]
    assert run(["-C", str(clone), "pull", "fraud", "--stage", "production"]) == 1
    assert "no version of fraud is in production" in capsys.readouterr().err
    assert run(["-C", str(clone), "pull", "fraud"]) == 2


def test_pull_refuses_a_corrupted_remote_object_and_writes_nothing(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt(remote_object(repo.remote, hashlib.md5(b"weights-1").hexdigest()), b"evil")
    clone = repo.clone(tmp_path / "clone")
    out = tmp_path / "serving"
    out.mkdir()
    (out / "model.pkl").write_bytes(b"the model being served now")
    with pytest.raises(IntegrityError, match=r"model\.pkl does not match the sha256"):
        pull_version(clone, "fraud", version="0.1.0", output=out)
    assert sorted(p.name for p in out.iterdir()) == ["model.pkl"]
    assert (out / "model.pkl").read_bytes() == b"the model being served now"
    assert not list(tmp_path.rglob(".steward-pull-*"))
    assert run(["-C", str(clone), "pull", "fraud", "--version", "0.1.0", "-o", str(out)]) == 1
    assert "nothing was written" in capsys.readouterr().err
    # DVC's own pull takes the corrupt file without a word: this is what Steward adds.
    dvc = subprocess.run(
        [sys.executable, "-m", "dvc", "pull", "-q"], cwd=clone, capture_output=True, text=True
    )
    assert dvc.returncode == 0, dvc.stderr
    assert (clone / "registry/models/fraud/0.1.0/model.pkl").read_bytes() == b"evil"


def test_pull_refuses_a_corrupted_listing(repo: RegistryRepo, tmp_path: Path) -> None:
    entry = read_entry(repo.root, layout.version_path("fraud", "0.1.0"), Kind.VERSION)
    listing = remote_object(repo.remote, entry.artifact.md5)
    forged = json.loads(listing.read_text())
    forged[0]["md5"] = hashlib.md5(b"evil").hexdigest()
    corrupt(listing, json.dumps(forged).encode())
    clone = repo.clone(tmp_path / "clone")
    with pytest.raises(IntegrityError, match="does not hash to its name"):
        pull_version(clone, "fraud", version="0.1.0", output=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_verify_finds_a_file_object_deleted_from_the_remote(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-C", str(repo.root), "verify"]) == 0
    assert "ok: every object of 1 versions is present on" in capsys.readouterr().out
    oid = hashlib.md5(b"weights-1").hexdigest()
    remote_object(repo.remote, oid).unlink()
    # DVC cannot tell: the version's listing is on the remote, so it assumes its files are too.
    status = subprocess.run(
        [sys.executable, "-m", "dvc", "status", "-c"], cwd=repo.root, capture_output=True, text=True
    )
    assert "in sync" in status.stdout, status.stdout + status.stderr
    assert run(["-C", str(repo.root), "verify", "fraud@0.1.0"]) == 1
    assert f"fraud@0.1.0: model.pkl: missing from the remote (object {oid})" in (
        capsys.readouterr().out
    )
    assert run(["-C", str(repo.root), "verify", "fraud", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == {
        "fraud@0.1.0": [{"path": "model.pkl", "object": oid, "problem": "missing from the remote"}]
    }


def test_verify_deep_finds_corrupt_content(repo: RegistryRepo) -> None:
    oid = hashlib.md5(b"depth: 6\n").hexdigest()
    corrupt(remote_object(repo.remote, oid), b"depth: 7\n")
    assert verify_versions(repo.root).ok  # present, so a shallow check passes
    report = verify_versions(repo.root, deep=True)
    assert [p.render() for p in report.problems["fraud@0.1.0"]] == [
        f"config.yaml: content does not match its hashes (object {oid})"
    ]


def test_verify_fails_closed_without_a_remote(
    repo: RegistryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    config = repo.root / ".dvc/config"
    config.write_text("")
    assert run(["-C", str(repo.root), "verify"]) == 1
    assert "no DVC default remote is configured" in capsys.readouterr().err


def test_workspace_files_are_read_only_links_into_the_cache(repo: RegistryRepo) -> None:
    data = repo.root / "registry/models/fraud/0.1.0/model.pkl"
    assert not os.access(data, os.W_OK) or os.geteuid() == 0
    assert data.stat().st_mode & 0o222 == 0
    assert run_git(repo.root, "check-ignore", "registry/models/fraud/0.1.0/model.pkl").strip()
