"""Two CI bots register at once from two clones: both versions land, with distinct numbers."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from steward.artifacts.registration import (
    Registration,
    RegistrationError,
    RegistrationRequest,
    register_version,
)
from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.semver import precedence
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
    with pytest.raises(RegistrationError, match=r"1\.0\.0 was registered on the remote meanwhile"):
        register_version(
            bot_b, RegistrationRequest("fraud", (files_b,), version="1.0.0", push=True)
        )
    assert origin_versions(repo, tmp_path) == ["1.0.0"]
    # B's registration of the taken number was taken back: its clone is the remote's, clean.
    assert run_git(bot_b, "rev-parse", "HEAD") == run_git(bot_a, "rev-parse", "HEAD")
    assert run_git(bot_b, "status", "--porcelain") == ""
    assert not (bot_b / "registry/models/fraud/1.0.0").exists()


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


_BOT = """
import sys
from pathlib import Path
from steward.artifacts.registration import RegistrationRequest, register_version
clone, work = Path(sys.argv[1]), Path(sys.argv[2])
for n in range(5):
    files = work / str(n)
    files.mkdir(parents=True)
    (files / "model.pkl").write_bytes(f"{clone.name} model {n}".encode())
    result = register_version(clone, RegistrationRequest("fraud", (files,), push=True))
    assert result.pushed and result.created, result
    print(result.version, flush=True)
"""


def test_six_clones_registering_five_versions_each_at_once_all_land(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    """Each clone is a training job on its own machine: 30 registrations race for the same
    branch; every one lands with a unique number, and every clone ends clean."""
    clones = [repo.clone(tmp_path / f"bot{i}") for i in range(6)]
    bots = [
        subprocess.Popen(
            [sys.executable, "-c", _BOT, str(clone), str(tmp_path / f"work{i}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, clone in enumerate(clones)
    ]
    outputs = [bot.communicate(timeout=600) for bot in bots]
    for bot, (_, err) in zip(bots, outputs, strict=True):
        assert bot.returncode == 0, err
    reported = [line for out, _ in outputs for line in out.split()]
    assert len(reported) == 30
    versions = origin_versions(repo, tmp_path)
    assert len(versions) == 30
    assert sorted(reported, key=precedence) == sorted(versions, key=precedence)
    fresh = tmp_path / "fresh"
    contents = {
        read_entry(fresh, layout.version_path("fraud", v), Kind.VERSION).artifact.md5
        for v in versions
    }
    assert len(contents) == 30  # no content lost, none registered twice
    for clone in clones:
        assert run_git(clone, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_stuck_clone_is_unstuck_by_steward_push(repo: RegistryRepo, tmp_path: Path) -> None:
    """A clone that registered without pushing while others pushed the same numbers:
    `steward push` renumbers its automatic versions, drops content the remote already has,
    and pushes; the clone ends clean, on the remote's tip."""
    other = repo.clone(tmp_path / "other")
    stuck = repo.clone(tmp_path / "stuck")
    x = write_model_files(tmp_path / "x", b"X")
    y = write_model_files(tmp_path / "y", b"Y")
    z = write_model_files(tmp_path / "z", b"Z")
    register_version(stuck, RegistrationRequest("fraud", (x,)))  # 0.1.0
    register_version(stuck, RegistrationRequest("fraud", (y,)))  # 0.2.0
    register_version(other, RegistrationRequest("fraud", (z,), push=True))  # 0.1.0 on origin
    register_version(other, RegistrationRequest("fraud", (y,), push=True))  # 0.2.0: same as ours
    assert run(["-C", str(stuck), "push"]) == 0
    assert origin_versions(repo, tmp_path) == ["0.1.0", "0.2.0", "0.3.0"]
    fresh = tmp_path / "fresh"
    moved = read_entry(fresh, layout.version_path("fraud", "0.3.0"), Kind.VERSION)
    assert (moved.version, moved.artifact.dvc) == ("0.3.0", "0.3.0.dvc")
    assert "path: 0.3.0" in (fresh / "registry/models/fraud/0.3.0.dvc").read_text()
    assert run_git(stuck, "rev-parse", "HEAD") == run_git(fresh, "rev-parse", "HEAD")
    assert run_git(stuck, "status", "--porcelain", "--untracked-files=all") == ""
    assert (stuck / "registry/models/fraud/0.3.0/model.pkl").read_bytes() == b"X"
    assert not (stuck / "registry/models/fraud/0.1.0").exists()
    # Its 0.2.0 is the remote's 0.2.0 (same content): the files stay.
    assert (stuck / "registry/models/fraud/0.2.0/model.pkl").read_bytes() == b"Y"
    assert check_registry(fresh, "HEAD").ok


def test_steward_push_refuses_to_move_a_commit_that_is_not_a_registration(
    repo: RegistryRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = repo.clone(tmp_path / "other")
    stuck = repo.clone(tmp_path / "stuck")
    register_version(
        other, RegistrationRequest("fraud", (write_model_files(tmp_path / "a", b"A"),), push=True)
    )
    (stuck / "notes.md").write_text("mine\n")
    run_git(stuck, "add", "notes.md")
    run_git(stuck, "commit", "-qm", "Add my notes")
    head = run_git(stuck, "rev-parse", "HEAD")
    assert run(["-C", str(stuck), "push"]) == 1
    err = capsys.readouterr().err
    assert "'Add my notes'" in err and "is not a registration" in err and "not pushed" in err
    assert run_git(stuck, "rev-parse", "HEAD") == head


def test_steward_push_keeps_the_files_of_a_version_the_remote_registered_identically(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    other, mine = repo.clone(tmp_path / "other"), repo.clone(tmp_path / "mine")
    files = write_model_files(tmp_path / "w", b"same")
    register_version(other, RegistrationRequest("fraud", (files,), push=True, created_by="a"))
    register_version(mine, RegistrationRequest("fraud", (files,), created_by="b"))
    assert run(["-C", str(mine), "push"]) == 0
    assert (mine / "registry/models/fraud/0.1.0/model.pkl").read_bytes() == b"same"
    assert run_git(mine, "status", "--porcelain", "--untracked-files=all") == ""
