"""Two CI bots register at once from two clones: both versions land, with distinct numbers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from steward.artifacts.registration import (
    Registration,
    RegistrationError,
    RegistrationRequest,
    register_version,
)
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.validate import read_entry
from steward.reading.registry import check_registry
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def origin_versions(repo: RegistryRepo, tmp_path: Path) -> list[str]:
    fresh = repo.clone(tmp_path / "fresh")
    assert check_registry(fresh).ok, [p.render() for p in check_registry(fresh).problems]
    return sorted(
        p.stem for p in (fresh / "registry/models/fraud").glob("*.yaml") if p.stem != "model"
    )


def test_the_loser_of_a_push_race_takes_the_next_number(repo: RegistryRepo, tmp_path: Path) -> None:
    bot_a = repo.clone(tmp_path / "a")
    bot_b = repo.clone(tmp_path / "b")
    first = register_version(
        bot_a, RegistrationRequest("fraud", (write_model_files(tmp_path / "wa", b"A"),), push=True)
    )
    # B has not seen A's version: it also picks 0.1.0, its push is rejected, it moves on.
    second = register_version(
        bot_b, RegistrationRequest("fraud", (write_model_files(tmp_path / "wb", b"B"),), push=True)
    )
    assert (first.version, first.pushed) == ("0.1.0", True)
    assert (second.version, second.pushed) == ("0.2.0", True)
    assert origin_versions(repo, tmp_path) == ["0.1.0", "0.2.0"]
    assert run_git(bot_b, "status", "--porcelain") == ""
    assert not (bot_b / "registry/models/fraud/0.1.0").exists() or (
        (bot_b / "registry/models/fraud/0.1.0/model.pkl").read_bytes() != b"B"
    )
    entry = read_entry(bot_b, layout.version_path("fraud", "0.2.0"), Kind.VERSION)
    assert entry.artifact.files[1].path == "model.pkl"


def test_an_explicit_version_taken_meanwhile_is_an_error(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    bot_a = repo.clone(tmp_path / "a")
    bot_b = repo.clone(tmp_path / "b")
    files_a = write_model_files(tmp_path / "wa", b"A")
    register_version(bot_a, RegistrationRequest("fraud", (files_a,), version="1.0.0", push=True))
    files_b = write_model_files(tmp_path / "wb", b"B")
    with pytest.raises(RegistrationError, match=r"1\.0\.0 is meanwhile, by another registration"):
        register_version(
            bot_b, RegistrationRequest("fraud", (files_b,), version="1.0.0", push=True)
        )
    assert origin_versions(repo, tmp_path) == ["1.0.0"]


def test_the_same_content_registered_twice_at_once_lands_once(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    bot_a = repo.clone(tmp_path / "a")
    bot_b = repo.clone(tmp_path / "b")
    files = write_model_files(tmp_path / "w", b"same")
    first = register_version(bot_a, RegistrationRequest("fraud", (files,), push=True))
    # B's entry may even be byte-identical to A's (same second, same bot): either way, one version.
    second = register_version(bot_b, RegistrationRequest("fraud", (files,), push=True))
    assert second.version == first.version
    assert origin_versions(repo, tmp_path) == ["0.1.0"]
    assert run_git(bot_b, "status", "--porcelain") == ""


def test_the_same_content_registered_later_by_a_stale_clone_is_not_registered_again(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    bot_a = repo.clone(tmp_path / "a")
    bot_b = repo.clone(tmp_path / "b")
    files = write_model_files(tmp_path / "w", b"same")
    register_version(bot_a, RegistrationRequest("fraud", (files,), push=True, created_by="bot-a"))
    second = register_version(
        bot_b, RegistrationRequest("fraud", (files,), push=True, created_by="bot-b")
    )
    assert (second.version, second.created) == ("0.1.0", False)
    assert origin_versions(repo, tmp_path) == ["0.1.0"]
    assert run_git(bot_b, "status", "--porcelain") == ""
    assert run_git(bot_b, "rev-parse", "HEAD") == run_git(bot_a, "rev-parse", "HEAD")


def test_concurrent_registrations_in_threads_both_land(repo: RegistryRepo, tmp_path: Path) -> None:
    bots = [repo.clone(tmp_path / f"bot{i}") for i in range(3)]
    results: list[Registration] = []
    errors: list[BaseException] = []

    def work(i: int, clone: Path) -> None:
        files = write_model_files(tmp_path / f"w{i}", f"weights {i}".encode())
        try:
            results.append(
                register_version(clone, RegistrationRequest("fraud", (files,), push=True))
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(bots)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.version for r in results) == ["0.1.0", "0.2.0", "0.3.0"]
    assert origin_versions(repo, tmp_path) == ["0.1.0", "0.2.0", "0.3.0"]
