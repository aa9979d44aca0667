"""A registration is judged by what its commit will hold: entries it depends on that are edited
or added only in the working tree are refused, not validated and left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.artifacts.registration import (
    DatasetCitation,
    RegistrationError,
    RegistrationRequest,
    register_version,
)
from steward.reading.registry import check_registry
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _register(repo: RegistryRepo, tmp_path: Path, *datasets: DatasetCitation) -> None:
    sources = write_model_files(tmp_path / "out", b"weights")
    register_version(repo.root, RegistrationRequest("fraud", (sources,), datasets=datasets))


def test_an_uncommitted_model_edit_is_refused(repo: RegistryRepo, tmp_path: Path) -> None:
    path = repo.root / "registry/models/fraud/model.yaml"
    path.write_text(path.read_text().replace("risk: high", "risk: limited"))
    head = repo.head()
    with pytest.raises(RegistrationError, match=r"model\.yaml has uncommitted changes"):
        _register(repo, tmp_path)
    assert repo.head() == head


def test_a_dataset_that_is_not_committed_is_refused(repo: RegistryRepo, tmp_path: Path) -> None:
    committed = (repo.root / "registry/datasets/transactions.yaml").read_text()
    (repo.root / "registry/datasets/clicks.yaml").write_text(
        committed.replace("name: transactions", "name: clicks")
    )
    with pytest.raises(RegistrationError, match=r"clicks\.yaml is not committed"):
        _register(repo, tmp_path, DatasetCitation("clicks", None))
    run_git(repo.root, "add", "registry/datasets/clicks.yaml")
    run_git(repo.root, "commit", "-qm", "clicks")
    _register(repo, tmp_path, DatasetCitation("clicks", None))
    assert check_registry(repo.root, "HEAD").ok


def test_a_team_extension_not_yet_committed_is_refused(repo: RegistryRepo, tmp_path: Path) -> None:
    """It would judge the version (its schemas), and not be in the commit that lands it."""
    team = repo.root / "policies/teams/risk-ml.yaml"
    team.parent.mkdir(parents=True, exist_ok=True)
    team.write_text("team: risk-ml\n")
    with pytest.raises(RegistrationError, match=r"risk-ml\.yaml is not committed"):
        _register(repo, tmp_path)
