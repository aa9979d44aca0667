"""CI bots registering through proposals (`register --pr`): concurrent runs take distinct numbers
and every one lands a proposal, each mergeable after the others; a retried run answers with its
open proposal; inside GitHub Actions the forge is never silently the runner's local one."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from steward.artifacts.registration import Registration, RegistrationRequest, register_version
from steward.forge.choose import open_forge
from steward.forge.github import GitHubForge
from steward.forge.local import LocalForge
from steward.forge.protocol import ForgeError
from steward.gate.judge import run_gate
from steward.gitio.gitcmd import merge_tree
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files
from tests.github_api import FakeGitHub
from tests.test_github_forge import REPO, Waits, forge_for


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _request(sources: Path, **fields: object) -> RegistrationRequest:
    return RegistrationRequest(
        "fraud",
        (sources,),
        created_by="ci-bot",
        pull_request=True,
        **fields,  # type: ignore[arg-type]
    )


def test_sequential_local_runs_take_the_next_number_and_a_retry_answers_with_its_proposal(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    forge = LocalForge(repo.root)
    first = register_version(
        repo.root, _request(write_model_files(tmp_path / "a", b"A")), forge=forge
    )
    second = register_version(
        repo.root, _request(write_model_files(tmp_path / "b", b"B")), forge=forge
    )
    assert [(r.version, r.proposal, r.created) for r in (first, second)] == [
        ("0.1.0", 1, True),
        ("0.2.0", 2, True),
    ]
    retried = register_version(
        repo.root, _request(write_model_files(tmp_path / "c", b"B")), forge=forge
    )
    assert (retried.version, retried.proposal, retried.created, retried.branch) == (
        "0.2.0",
        2,
        False,
        "steward/register/fraud-0.2.0",
    )
    assert len(forge.list_proposals("open")) == 2
    with pytest.raises(Exception, match=r"0\.2\.0 is already proposed"):
        register_version(
            repo.root,
            _request(write_model_files(tmp_path / "d", b"D"), version="0.2.0"),
            forge=forge,
        )


class _OriginBackedForge(GitHubForge):
    """The GitHub forge against the fake API, whose git side is a real bare repository: publish
    pushes there (a push of a branch someone else pushed first is really rejected) and then tells
    the fake GitHub where the branch points."""

    def __init__(self, server: FakeGitHub, origin: Path) -> None:
        base = forge_for(server, Waits())
        super().__init__(
            base.settings, clock=Waits().clock, sleep=Waits().sleep, seconds_between_writes=None
        )
        self.server = server
        self.origin = origin

    def publish(self, root: Path, branch: str) -> None:
        super().publish(root, branch)
        sha = run_git(self.origin, "rev-parse", f"refs/heads/{branch}").strip()
        self.server.set_head(REPO, branch, sha)


def test_concurrent_runs_against_github_each_land_a_proposal_with_a_distinct_number(
    repo: RegistryRepo, tmp_path: Path, github: FakeGitHub
) -> None:
    github.add_repo(REPO, default_branch="main")
    github.set_head(REPO, "main", repo.head())
    runs = 5
    clones = [repo.clone(tmp_path / f"job{i}") for i in range(runs)]
    results: list[Registration] = []
    errors: list[BaseException] = []

    def job(i: int) -> None:
        try:
            forge = _OriginBackedForge(github, repo.origin)
            files = write_model_files(tmp_path / f"out{i}", f"weights {i}".encode())
            results.append(register_version(clones[i], _request(files), forge=forge))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = sorted(r.version for r in results)
    assert len(set(versions)) == runs and all(r.created for r in results)
    numbers = sorted(r.proposal for r in results if r.proposal is not None)
    assert len(numbers) == runs
    # Each is mergeable after the others: merging them one by one never conflicts.
    main = repo.head()
    run_git(
        repo.root, "fetch", "-q", "origin", "+refs/heads/steward/*:refs/remotes/origin/steward/*"
    )
    for result in sorted(results, key=lambda r: r.version):
        tree = merge_tree(repo.root, main, f"origin/{result.branch}")
        assert tree is not None, f"{result.branch} conflicts with the earlier merges"
        main = run_git(
            repo.root,
            "commit-tree",
            tree,
            "-p",
            main,
            "-p",
            f"origin/{result.branch}",
            "-m",
            "merge",
        ).strip()
    run_git(repo.root, "reset", "-q", "--hard", main)
    assert subprocess.run(["steward", "-C", str(repo.root), "check"], check=False).returncode == 0


def test_a_retried_job_answers_with_the_open_pull_request(
    repo: RegistryRepo, tmp_path: Path, github: FakeGitHub
) -> None:
    github.add_repo(REPO, default_branch="main")
    github.set_head(REPO, "main", repo.head())
    job = repo.clone(tmp_path / "job")
    files = write_model_files(tmp_path / "out", b"weights")
    first = register_version(job, _request(files), forge=_OriginBackedForge(github, repo.origin))
    retry_clone = repo.clone(tmp_path / "retry")  # a re-run is a fresh checkout
    again = register_version(
        retry_clone, _request(files), forge=_OriginBackedForge(github, repo.origin)
    )
    assert (again.version, again.proposal, again.created) == (first.version, first.proposal, False)
    assert len(github.state.repos[next(iter(github.state.repos))].pulls) == 1


def test_inside_github_actions_an_unrecognised_origin_is_an_error_not_a_local_forge(
    repo: RegistryRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_git(repo.root, "remote", "set-url", "origin", "git@github-alias:acme/model-registry.git")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(ForgeError, match="STEWARD_FORGE=github and STEWARD_REPOSITORY"):
        open_forge(repo.root)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/training")  # the training repository
    monkeypatch.setenv("STEWARD_FORGE", "github")
    monkeypatch.setenv("STEWARD_REPOSITORY", "acme/model-registry")
    forge = open_forge(repo.root, "token")
    assert isinstance(forge, GitHubForge) and forge.settings.repository == "acme/model-registry"
    monkeypatch.setenv("STEWARD_FORGE", "local")
    assert isinstance(open_forge(repo.root), LocalForge)  # said outright: allowed


def test_the_bot_that_registers_authors_the_commit_and_the_gate_says_whom_it_judged(
    repo: RegistryRepo, tmp_path: Path, github: FakeGitHub
) -> None:
    github.add_repo(REPO, default_branch="main")
    github.set_head(REPO, "main", repo.head())
    job = repo.clone(tmp_path / "job")
    forge = _OriginBackedForge(github, repo.origin)
    files = write_model_files(tmp_path / "out", b"weights")
    request = RegistrationRequest(
        "fraud", (files,), created_by="alice", pull_request=True
    )  # on alice's behalf
    result = register_version(job, request, forge=forge)
    login = forge.identity()
    author = run_git(job, "log", "-1", "--format=%an <%ae>", result.branch).strip()
    assert author.startswith(f"{login} <") and author.endswith(
        f"+{login}@users.noreply.github.com>"
    )
    message = run_git(job, "log", "-1", "--format=%B", result.branch)
    assert "Steward-Proposed-By: alice" in message  # on whose behalf, as the entry's created_by
    github.set_head(REPO, result.branch or "", run_git(job, "rev-parse", result.branch).strip())
    verdict = run_gate(job, "", "", forge=forge, proposal_number=result.proposal).verdict
    access = next(r for r in verdict.rules if r.rule == "may register or edit")
    assert "judged as the proposal's author" in access.reason and login in access.reason
