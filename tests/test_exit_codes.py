"""Exit codes as the README promises, as a table: 1 for a refusal or a problem found, 2 only for a
malformed command line, 3 only for a bug; each with a message that says what to do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from steward.cli.main import run
from tests.builders import add_dataset, run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    repo = make_registry(tmp_path)
    add_dataset(repo.root, "people", classification=["pii"])
    run_git(repo.root, "add", "-A")
    run_git(repo.root, "commit", "-qm", "people")
    return repo


def _plain_git_repo(tmp_path: Path) -> Path:
    plain = tmp_path / "plain"
    subprocess.run(["git", "init", "-q", str(plain)], check=True)
    (plain / "README.md").write_text("not a registry\n")
    run_git(plain, "add", "-A")
    run_git(plain, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "x")
    return plain


CASES = [
    # refusals and problems found: 1
    (
        "unknown dataset",
        ["register", "fraud", "{out}", "--dataset", "ghost"],
        1,
        "register it first",
    ),
    (
        "classification not declared",
        ["register", "fraud", "{out}", "--dataset", "people"],
        1,
        "must add pii",
    ),
    ("unknown model", ["register", "ghost", "{out}"], 1, "ghost/model.yaml does not exist"),
    (
        "unknown column",
        ["register", "fraud", "{out}", "--dataset", "transactions:nope"],
        1,
        "no column 'nope'",
    ),
    (
        "identical content, other metadata",
        ["register", "fraud", "{out}", "--metric", "auc=0.5"],
        1,
        "with other metrics",
    ),
    (
        "not a registry: register",
        ["-C", "{plain}", "register", "m", "{out}"],
        1,
        "not a Steward registry",
    ),
    (
        "not a registry: create",
        ["-C", "{plain}", "create", "m", "--owner", "a", "--team", "t"],
        1,
        "steward init",
    ),
    (
        "not a registry: dataset add",
        ["-C", "{plain}", "dataset", "add", "d", "--uri", "u", "--owner", "a"],
        1,
        "not a Steward registry",
    ),
    ("no such proposal", ["proposal", "show", "9"], 1, "no proposal #9"),
    ("nothing to propose", ["propose"], 1, "nothing to propose"),
    # a malformed command line: 2
    ("unknown command", ["lst"], 2, "Did you mean 'list'?"),
    ("invalid choice", ["list", "--stage", "prod"], 2, "Did you mean 'production'?"),
    (
        "metric not a number",
        ["register", "fraud", "{out}", "--metric", "auc=high"],
        2,
        "not a number",
    ),
    ("missing option", ["create", "m"], 2, "Missing option '--owner'"),
]


@pytest.mark.parametrize(("what", "args", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_exit_codes(
    repo: RegistryRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    what: str,
    args: list[str],
    code: int,
    message: str,
) -> None:
    out = write_model_files(tmp_path / "out", b"weights")
    if what.startswith("identical"):
        assert (
            run(["-C", str(repo.root), "register", "fraud", str(out), "--metric", "auc=0.9"]) == 0
        )
    plain = _plain_git_repo(tmp_path) if what.startswith("not a registry") else tmp_path
    argv = [a.format(out=out, plain=plain) for a in args]
    if argv[0] != "-C":
        argv = ["-C", str(repo.root), *argv]
    head = run_git(repo.root, "rev-parse", "HEAD")
    capsys.readouterr()
    assert run(argv) == code, what
    captured = capsys.readouterr()
    assert message in captured.err + captured.out, what
    assert run_git(repo.root, "rev-parse", "HEAD") == head  # nothing committed by a refusal


def test_a_bug_is_exit_3_and_says_how_to_see_where(
    repo: RegistryRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import steward.cli.query_cmd as query_cmd

    def broken(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(query_cmd, "cached_listing", broken)
    assert run(["-C", str(repo.root), "list"]) == 3
    assert "unexpected error: ZeroDivisionError" in capsys.readouterr().err


def test_the_same_registration_again_is_exit_0(repo: RegistryRepo, tmp_path: Path) -> None:
    out = write_model_files(tmp_path / "out", b"weights")
    args = ["-C", str(repo.root), "register", "fraud", str(out), "--metric", "auc=0.9"]
    assert run(args) == 0
    assert run(args) == 0
