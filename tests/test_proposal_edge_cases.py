"""Proposals at the edges: file names git would read as patterns, paths typed from a sub-directory,
changes that cancel out, a proposal whose branch was deleted, a registration retried after its
proposal was closed, and a direct registration while a registration proposal waits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.artifacts.registration import RegistrationRequest, register_version
from steward.cli.main import run
from steward.forge.local import LocalForge
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def cli(repo: RegistryRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(["-C", str(repo.root), *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_a_file_name_with_pattern_characters_does_not_revert_another_file(
    repo: RegistryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.root / "policies/x[1].txt").write_text("a\n")
    (repo.root / "policies/x1.txt").write_text("b\n")
    run_git(repo.root, "add", "policies")
    run_git(repo.root, "commit", "-qm", "two notes")
    (repo.root / "policies/x[1].txt").write_text("a2\n")
    (repo.root / "policies/x1.txt").write_text("IMPORTANT\n")
    assert cli(repo, capsys, "propose", "policies/x[1].txt", "--as", "carol")[0] == 0
    assert (repo.root / "policies/x1.txt").read_text() == "IMPORTANT\n"  # not carried, kept


def test_paths_are_taken_from_where_steward_runs(
    repo: RegistryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    model = repo.root / "registry/models/fraud/model.yaml"
    model.write_text(model.read_text() + "tags: [tabular]\n")
    code, out = cli(repo, capsys, "propose", "./registry/models/fraud/model.yaml", "--as", "carol")
    assert code == 0 and "1 file(s) moved" in out
    model.write_text(model.read_text() + "description: Fraud scores.\n")
    inside = ["-C", str(model.parent), "propose", "model.yaml", "-m", "Describe", "--as", "carol"]
    assert run(inside) == 0


def test_changes_that_cancel_out_are_nothing_to_propose(
    repo: RegistryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.root / "policies/new.txt").write_text("hi\n")
    run_git(repo.root, "add", "policies/new.txt")
    (repo.root / "policies/new.txt").unlink()
    code, out = cli(repo, capsys, "propose", "-m", "nothing", "--as", "carol")
    assert code == 1 and "cancel out" in out


def test_a_proposal_whose_branch_was_deleted_is_listed_closed_and_can_be_closed(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = repo.root / "registry/models/fraud/model.yaml"
    model.write_text(model.read_text() + "tags: [tabular]\n")
    assert cli(repo, capsys, "propose", "-m", "Tag it", "--as", "carol")[0] == 0
    run_git(repo.root, "branch", "-D", "steward/propose/tag-it")
    code, out = cli(repo, capsys, "proposals", "--state", "all", "--json")
    assert code == 0 and [p["state"] for p in json.loads(out)] == ["closed"]
    assert cli(repo, capsys, "close", "1")[0] == 0
    sources = write_model_files(tmp_path / "w", b"w")
    request = RegistrationRequest("fraud", (sources,), created_by="ci-bot", pull_request=True)
    assert register_version(repo.root, request, forge=LocalForge(repo.root)).proposal == 2


def test_a_registration_retried_after_its_proposal_was_closed_takes_a_new_number(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    forge = LocalForge(repo.root)
    sources = write_model_files(tmp_path / "w", b"w")
    request = RegistrationRequest("fraud", (sources,), created_by="ci-bot", pull_request=True)
    first = register_version(repo.root, request, forge=forge)
    forge.close_proposal(first.proposal or 0)
    again = register_version(repo.root, request, forge=forge)
    assert (again.version, again.created, again.proposal) == ("0.2.0", True, 2)


def test_a_direct_registration_skips_numbers_waiting_in_registration_proposals(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    forge = LocalForge(repo.root)
    proposed = RegistrationRequest(
        "fraud", (write_model_files(tmp_path / "a", b"A"),), pull_request=True
    )
    assert register_version(repo.root, proposed, forge=forge).version == "0.1.0"
    direct = RegistrationRequest("fraud", (write_model_files(tmp_path / "b", b"B"),))
    assert register_version(repo.root, direct).version == "0.2.0"


def test_init_roles_are_merged_and_a_misspelled_role_is_refused(tmp_path: Path) -> None:
    roles = ["--role", "ml-engineer=alice", "--role", "ml-engineer=bob"]
    assert run(["init", str(tmp_path / "r"), *roles]) == 0
    assert "  ml-engineer: [alice, bob]\n" in (tmp_path / "r/policies/registry.yaml").read_text()
    assert run(["init", str(tmp_path / "s"), "--role", "governnace=grace"]) == 2
    assert not (tmp_path / "s").exists()


def test_dataset_add_pr_json_is_json(
    repo: RegistryRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["dataset", "add", "clicks", "--uri", "s3://c", "--owner", "bob", "--pr", "--json"]
    code, out = cli(repo, capsys, *args)
    assert code == 0 and json.loads(out)["proposal"] == 1
