"""Registration killed (SIGKILL, as `kill -9`) at every named step: a re-run, or any other
Steward command first, finishes the job with nothing to repair by hand.

The steps are found in the source (`faults.point("...")` calls under `register:`, `land:` and
`push:`), so a new fault point is covered by these tests the moment it exists."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files

SRC = Path(__file__).resolve().parents[1] / "src" / "steward"
POINT = re.compile(r'faults\.point\("([a-z-]+:[a-z-]+)"\)')


def _points(*prefixes: str) -> list[str]:
    found = {
        name
        for path in SRC.rglob("*.py")
        for name in POINT.findall(path.read_text("utf-8"))
        if name.split(":")[0] in prefixes
    }
    return sorted(found)


REGISTRATION_POINTS = _points("register", "land")
PUSH_POINTS = _points("push")


def test_the_named_steps_are_all_found() -> None:
    assert {"register:hashed", "land:journal-written", "land:branch-moved"} <= set(
        REGISTRATION_POINTS
    )
    assert {"land:files-written", "land:index-updated", "land:data-placed"} <= set(
        REGISTRATION_POINTS
    )
    assert PUSH_POINTS == ["push:fetched", "push:replayed"]


def steward(root: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STEWARD_FAULT"}
    if fault is not None:
        env["STEWARD_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def registered(root: Path) -> list[str]:
    names = run_git(root, "ls-tree", "--name-only", "HEAD", "registry/models/fraud/").split()
    return sorted(Path(n).stem for n in names if n.endswith(".yaml") and "model.yaml" not in n)


def assert_clean(root: Path) -> None:
    assert run_git(root, "status", "--porcelain", "--untracked-files=all") == ""
    journal = root / ".git" / "steward" / "landing"
    assert not journal.exists() or [p for p in journal.iterdir() if p.name != "landing.lock"] == []


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


@pytest.mark.parametrize("point", REGISTRATION_POINTS)
def test_a_registration_killed_at_any_step_is_finished_by_the_next_command(
    repo: RegistryRepo, stores: str, tmp_path: Path, point: str
) -> None:
    sources = write_model_files(tmp_path / "out", b"trained weights")
    head, status = repo.head(), run_git(repo.root, "status", "--porcelain")
    killed = steward(repo.root, "register", "fraud", str(sources), fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    moved = repo.head() != head
    if not moved:  # nothing visible before the commit exists
        assert run_git(repo.root, "status", "--porcelain") == status
        assert not (repo.root / "registry/models/fraud/0.1.0.yaml").exists()
    # Any Steward command finishes (or drops) what the kill left: here a read-only one.
    listed = steward(repo.root, "list", "--model", "fraud")
    assert listed.returncode == 0, listed.stderr
    assert_clean(repo.root)
    assert registered(repo.root) == (["0.1.0"] if moved else [])
    if moved:
        assert (
            repo.root / "registry/models/fraud/0.1.0/model.pkl"
        ).read_bytes() == b"trained weights"
    # The same registration again: exit 0, one version, nothing left to repair.
    again = steward(repo.root, "register", "fraud", str(sources), "--json")
    assert again.returncode == 0, again.stderr
    assert registered(repo.root) == ["0.1.0"]
    assert_clean(repo.root)
    assert (repo.root / "registry/models/fraud/0.1.0/model.pkl").read_bytes() == b"trained weights"
    assert steward(repo.root, "check", "--rev", "HEAD").returncode == 0


def test_a_kill_after_the_branch_moved_is_finished_by_the_rerun_itself(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    """The re-run is the first command after the kill: the old failure modes were a stray pointer
    ("0.1.0.dvc already exists") and files staged as deleted."""
    sources = write_model_files(tmp_path / "out", b"weights")
    killed = steward(repo.root, "register", "fraud", str(sources), fault="land:branch-moved")
    assert killed.returncode == -signal.SIGKILL
    assert "registry/models/fraud/0.1.0.yaml" in run_git(repo.root, "status", "--porcelain")
    again = steward(repo.root, "register", "fraud", str(sources))
    assert again.returncode == 0, again.stderr
    assert "finished registering fraud 0.1.0" in again.stderr
    assert "already holds this content" in again.stdout
    assert_clean(repo.root)


def test_recovery_waits_for_a_landing_in_progress(repo: RegistryRepo) -> None:
    """A live landing holds the clone's landing lock: recovery waits for it, then drops a
    journal whose branch is elsewhere."""
    import fcntl
    import threading

    from steward.artifacts.placement import recover_landings

    journal = repo.root / ".git" / "steward" / "landing"
    journal.mkdir(parents=True, exist_ok=True)
    path = journal / f"{'0' * 40}.json"
    path.write_text('{"branch": "main", "old": "x", "new": "y"}')
    results: list[list[str]] = []
    with (journal / "landing.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiting = threading.Thread(target=lambda: results.append(recover_landings(repo.root)))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and path.exists()
    waiting.join(10)
    assert results == [[]] and not path.exists()


def test_a_kill_then_another_checkout_is_finished_when_the_branch_is_back(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    sources = write_model_files(tmp_path / "out", b"weights")
    killed = steward(repo.root, "register", "fraud", str(sources), fault="land:branch-moved")
    assert killed.returncode == -signal.SIGKILL
    run_git(repo.root, "checkout", "-q", "--detach")
    assert steward(repo.root, "list").returncode == 0  # HEAD is at the new commit: finished
    run_git(repo.root, "checkout", "-q", "main")
    assert_clean(repo.root)
    assert steward(repo.root, "list").returncode == 0


def test_five_registrations_at_once_in_one_clone_all_land(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    """Landings in one clone take turns; a process whose branch moved rebuilds on it."""
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "steward",
                "-C",
                str(repo.root),
                "register",
                "fraud",
                str(write_model_files(tmp_path / f"w{i}", f"weights {i}".encode())),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(5)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert registered(repo.root) == ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0"]
    assert_clean(repo.root)


def test_a_git_process_holding_the_index_changes_nothing(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    head = repo.head()
    (repo.root / ".git" / "index.lock").write_text("")
    result = steward(repo.root, "register", "fraud", str(write_model_files(tmp_path / "w", b"w")))
    assert result.returncode == 1
    assert "another git process is using this repository" in result.stderr
    assert repo.head() == head
    (repo.root / ".git" / "index.lock").unlink()
    assert_clean(repo.root)


def test_moving_onto_a_tip_with_a_very_long_file_name(repo: RegistryRepo, tmp_path: Path) -> None:
    other, mine = repo.clone(tmp_path / "other"), repo.clone(tmp_path / "mine")
    (other / ("n" * 250 + ".txt")).write_text("hi\n")
    run_git(other, "add", "-A")
    run_git(other, "commit", "-qm", "A long name")
    run_git(other, "push", "-q", "origin", "main")
    result = steward(
        mine, "register", "fraud", str(write_model_files(tmp_path / "w", b"w")), "--push"
    )
    assert result.returncode == 0, result.stderr
    assert_clean(mine)


@pytest.mark.parametrize("point", PUSH_POINTS)
def test_a_push_killed_while_moving_onto_the_remote_tip_is_finished_by_the_rerun(
    repo: RegistryRepo, tmp_path: Path, point: str
) -> None:
    winner, loser = repo.clone(tmp_path / "winner"), repo.clone(tmp_path / "loser")
    won = steward(
        winner, "register", "fraud", str(write_model_files(tmp_path / "a", b"A")), "--push"
    )
    assert won.returncode == 0, won.stderr
    sources = write_model_files(tmp_path / "b", b"B")
    killed = steward(loser, "register", "fraud", str(sources), "--push", fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = steward(loser, "register", "fraud", str(sources), "--push", "--json")
    assert again.returncode == 0, again.stderr
    assert '"pushed": true' in again.stdout
    assert_clean(loser)
    fresh = repo.clone(tmp_path / "fresh")
    assert registered(fresh) == ["0.1.0", "0.2.0"]
    assert (loser / "registry/models/fraud/0.2.0/model.pkl").read_bytes() == b"B"
    assert not (loser / "registry/models/fraud/0.1.0").exists()
