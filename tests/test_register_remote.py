"""The DVC remote under registration: a local remote directory is never created by a push, and
the remote's objects never share an inode with the workspace or the cache."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from steward.artifacts.registration import RegistrationError, RegistrationRequest, register_version
from steward.errors import RemoteError, StewardError
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, remote_object, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _request(sources: Path) -> RegistrationRequest:
    return RegistrationRequest("fraud", (sources,), metrics={"auc": 0.9}, created_by="ci-bot")


def test_a_missing_local_remote_directory_is_refused_not_created(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    """An unmounted disk leaves its mount point empty or absent: a push must not quietly
    create the remote there and put one version's objects in it."""
    repo.remote.rename(tmp_path / "unmounted")
    head, status = repo.head(), repo.status()
    out = write_model_files(tmp_path / "out", b"weights")
    with pytest.raises(RemoteError, match="the directory does not exist"):
        register_version(repo.root, _request(out))
    assert not repo.remote.exists()
    assert (repo.head(), repo.status()) == (head, status)
    assert not (repo.root / "registry/models/fraud/0.1.0").exists()


def test_the_remote_holds_its_own_copy_of_every_object(repo: RegistryRepo, tmp_path: Path) -> None:
    """Editing the registered file in the workspace (made writable) must not touch the remote
    copy: workspace, cache and remote are not one inode."""
    out = write_model_files(tmp_path / "out", b"weights-to-keep")
    result = register_version(repo.root, _request(out))
    workspace = repo.root / "registry/models/fraud" / result.version / "model.pkl"
    entry = run_git(repo.root, "show", f"HEAD:registry/models/fraud/{result.version}.yaml")
    assert "model.pkl" in entry
    remote_files = [p for p in (repo.remote / "files" / "md5").rglob("*") if p.is_file()]
    kept = next(p for p in remote_files if p.read_bytes() == b"weights-to-keep")
    assert workspace.stat().st_ino != kept.stat().st_ino
    workspace.chmod(workspace.stat().st_mode | stat.S_IWUSR)
    workspace.write_bytes(b"tampered")
    assert kept.read_bytes() == b"weights-to-keep"
    assert remote_object(repo.remote, result.md5).is_file()


def test_a_registration_whose_push_failed_is_pushed_by_the_rerun(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    """origin is down: the first run says the version is committed locally and not pushed; a
    retry while it is still down is an error too (not "nothing registered", exit 0); once it is
    up, the retry pushes the same version and says so."""
    bot = repo.clone(tmp_path / "bot")
    origin = run_git(bot, "remote", "get-url", "origin").strip()
    run_git(bot, "remote", "set-url", "origin", str(tmp_path / "origin-down"))
    sources = write_model_files(tmp_path / "out", b"weights")
    request = RegistrationRequest("fraud", (sources,), created_by="ci-bot", push=True)
    with pytest.raises(
        RegistrationError, match=r"fraud 0\.1\.0 is committed locally .* not pushed"
    ):
        register_version(bot, request)
    with pytest.raises(RegistrationError, match="not pushed"):
        register_version(bot, request)
    run_git(bot, "remote", "set-url", "origin", origin)
    again = register_version(bot, request)
    assert (again.version, again.created, again.pushed) == ("0.1.0", False, True)
    fresh = repo.clone(tmp_path / "fresh")
    assert (fresh / "registry/models/fraud/0.1.0.yaml").is_file()
    assert register_version(bot, request).pushed  # and a third run finds it there


def test_a_detached_head_is_refused_before_anything_is_stored(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    run_git(repo.root, "checkout", "-q", "--detach")
    before = sorted(p.name for p in repo.remote.rglob("*"))
    with pytest.raises(StewardError, match="HEAD is detached"):
        register_version(repo.root, _request(write_model_files(tmp_path / "out", b"w")))
    assert sorted(p.name for p in repo.remote.rglob("*")) == before
