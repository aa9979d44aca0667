"""Summarizing a cold read's files on every core (`steward.reading.summarize_ahead`): the answers
are those of reading one file at a time, whatever the workers do.

The threshold is lowered so that a registry of a few files forks; `tests/test_check_scale.py`
goes through the workers at their real threshold."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steward import progress
from steward.gitio.tree import GitSnapshot
from steward.reading import summarize_ahead
from steward.reading.queries import list_versions, list_versions_at
from steward.reading.registry import check_registry
from tests.builders import add_model, add_version, run_git, small_registry, write


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = small_registry(tmp_path / "reg")
    for model in ("churn", "ranker", "scorer"):
        add_model(root, model)
        add_version(root, model, "1.0.0", stage="production")
        add_version(root, model, "1.1.0", stage="staging")
    write(root, "registry/models/ranker/2.0.0.yaml", "model: ranker\nversion: [2.0.0\n")
    write(root, "registry/models/scorer/1.2.0.yaml", "model: scorer\nversion: 1.2.0\nstage: x\n")
    run_git(root, "add", "-A")
    run_git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "registry")
    return root


def answers(root: Path) -> tuple[str, list[str], str, list[str]]:
    """`list --json` and `check` of the working tree and of HEAD, each from an empty cache."""
    forget_cache(root)
    listed = list_versions(root).to_json()
    checked = [p.render() for p in check_registry(root).problems]
    forget_cache(root)
    listed_at = list_versions_at(GitSnapshot(root, "HEAD")).to_json()
    checked_at = [p.render() for p in check_registry(root, "HEAD").problems]
    return listed, checked, listed_at, checked_at


def forget_cache(root: Path) -> None:
    for path in sorted((root / ".git/steward").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


@pytest.fixture
def one_at_a_time(registry: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """What the registry reads as with no workers."""
    with monkeypatch.context() as patch:
        patch.setattr(summarize_ahead, "PARALLEL_FROM", 10**9)
        return answers(registry)


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every file read goes through the workers; the list holds the pids of those started."""
    monkeypatch.setattr(summarize_ahead, "PARALLEL_FROM", 1)
    monkeypatch.setattr(summarize_ahead, "_cores", lambda: 3)
    # Threads earlier tests left behind (tqdm's monitor in DVC, servers) are idle, and not this
    # test's: only a thread started here counts.
    baseline = threading.active_count()
    monkeypatch.setattr(summarize_ahead, "_may_fork", lambda: threading.active_count() == baseline)
    started: list[int] = []
    fork = summarize_ahead._fork

    def counted(*args: Any) -> tuple[int, int] | None:
        worker = fork(*args)
        if worker is not None:
            started.append(worker[0])
        return worker

    monkeypatch.setattr(summarize_ahead, "_fork", counted)
    return started


def in_workers(monkeypatch: pytest.MonkeyPatch, act: Callable[[Any], Any]) -> None:
    """Make each worker's summarizing `act` on its answer (this process's is left alone)."""
    parent = os.getpid()
    summarized = summarize_ahead._summarized

    def patched(*args: Any) -> Any:
        answer = summarized(*args)
        return answer if os.getpid() == parent else act(answer)

    monkeypatch.setattr(summarize_ahead, "_summarized", patched)


def children() -> list[int]:
    task = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    return [int(pid) for pid in task.read_text().split()] if task.exists() else []


def test_the_workers_read_what_one_file_at_a_time_reads(
    registry: Path, one_at_a_time: tuple[Any, ...], forks: list[int]
) -> None:
    assert answers(registry) == one_at_a_time
    # Each cold read (list and check, of the working tree and of HEAD) forked two workers.
    assert len(forks) == 8
    assert "version: [2.0.0" not in one_at_a_time[0]  # the broken file is a problem, not a row
    assert any("2.0.0.yaml" in problem for problem in one_at_a_time[1])


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda answer: os._exit(3), id="exits"),
        pytest.param(lambda answer: os.kill(os.getpid(), signal.SIGKILL), id="killed"),
        pytest.param(lambda answer: answer[:-1], id="short-answer"),
        pytest.param(lambda answer: [(i, c, "not a record") for i, c, _ in answer], id="wrong"),
    ],
)
def test_a_worker_that_fails_leaves_its_share_to_be_read_here(
    registry: Path,
    one_at_a_time: tuple[Any, ...],
    forks: list[int],
    monkeypatch: pytest.MonkeyPatch,
    fault: Callable[[Any], Any],
) -> None:
    in_workers(monkeypatch, fault)
    assert answers(registry) == one_at_a_time
    assert forks  # the workers ran, and failed
    assert not set(forks) & set(children())


def test_an_interrupted_read_leaves_no_worker_behind(
    registry: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    summarized = summarize_ahead._summarized

    def interrupted(*args: Any) -> Any:
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return summarized(*args)

    monkeypatch.setattr(summarize_ahead, "_summarized", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list_versions(registry)
    assert forks
    assert not set(forks) & set(children())


def test_no_worker_is_forked_while_another_thread_runs(
    registry: Path, one_at_a_time: tuple[Any, ...], forks: list[int]
) -> None:
    # A fork copies the locks other threads hold, held, into a process where no one releases them.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert answers(registry) == one_at_a_time
    finally:
        stop.set()
        other.join()
    assert forks == []


def test_a_worker_reads_a_commit_through_its_own_git_process(registry: Path) -> None:
    snapshot = GitSnapshot(registry, "HEAD")
    files = [f for f in snapshot.files() if f.path.endswith(".yaml")]
    expected = [snapshot.read(file) for file in files]  # the parent's `git cat-file` is started
    pid = os.fork()
    if pid == 0:  # the child reads through the snapshot it was handed, as the parent does
        same = all([snapshot.read(f) for f in files] == expected for _ in range(50))
        os._exit(0 if same else 1)
    # Both at once: through one `git cat-file`, their requests and answers would interleave.
    assert all([snapshot.read(file) for file in files] == expected for _ in range(50))
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    snapshot.close()


def test_a_progress_bar_does_not_keep_the_workers_from_forking(
    registry: Path,
    one_at_a_time: tuple[Any, ...],
    forks: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # tqdm draws bars from a monitor thread unless told not to: that thread would outlive the
    # first bar, and no later read in the process could fork.
    monkeypatch.setattr(progress, "READ_PROGRESS_MIN_FILES", 1)
    progress.show_reading_progress(True)
    try:
        assert answers(registry) == one_at_a_time
        assert answers(registry) == one_at_a_time
    finally:
        progress.show_reading_progress(False)
    assert len(forks) == 16
