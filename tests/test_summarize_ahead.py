"""Summarizing a cold read's files on every core (`steward.reading.summarize_ahead` on
`steward.reading.forked`): the answers are those of reading one file at a time, whatever the
workers do.

The threshold is lowered so that a registry of a few files forks; `tests/test_check_scale.py`
goes through the workers at their real threshold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
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
from tests.forking import force_forks


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
    return force_forks(monkeypatch)


def in_workers(monkeypatch: pytest.MonkeyPatch, act: Callable[[Any], Any]) -> None:
    """Make each worker's summarizing `act` on its answer (this process's is left alone)."""
    parent = os.getpid()
    summarized = summarize_ahead._summarized

    def patched(*args: Any, **kwargs: Any) -> Any:
        answer = summarized(*args, **kwargs)
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
        pytest.param(lambda answer: [(0, c, r) for _, c, r in answer], id="indexes"),
        pytest.param(lambda answer: [item[:2] for item in answer], id="short-items"),
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

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() == parent:
            raise KeyboardInterrupt
        return summarized(*args, **kwargs)

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


# --- the workers' lifetimes, in a process of their own -----------------------------------------

_FORCED = """
import os, sys, time
from pathlib import Path
from steward.reading import forked, summarize_ahead
summarize_ahead.PARALLEL_FROM = 1
forked.cores = lambda: 3
"""


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _FORCED + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_worker_leaves_no_git_process_behind(registry: Path) -> None:
    # Where Steward is PID 1 (a container's entrypoint) or a subreaper, a worker's orphaned
    # `git cat-file` would be its child, a zombie nobody waits for.
    done = run_python(
        """
        import ctypes
        from steward.gitio.tree import GitSnapshot
        from steward.reading.queries import list_versions_at
        ctypes.CDLL(None, use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
        list_versions_at(GitSnapshot(Path(sys.argv[1]), "HEAD"))
        time.sleep(0.5)  # an orphan, had there been one, has exited and been reparented here
        me = os.getpid()
        print(Path(f"/proc/{me}/task/{me}/children").read_text().split())
        """,
        str(registry),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_signal_at_the_fork_never_runs_the_parents_code_in_a_worker(registry: Path) -> None:
    # Ctrl-C reaches the whole process group: a worker interrupted before it is set up must die
    # of it, not unwind through the command and print what the parent prints.
    done = run_python(
        """
        import signal
        from steward.reading.queries import list_versions
        fork = os.fork
        def interrupted_at_birth():
            pid = fork()
            if pid == 0:
                os.kill(os.getpid(), signal.SIGINT)
            return pid
        os.fork = interrupted_at_birth
        print("before", flush=False)
        text = list_versions(Path(sys.argv[1])).to_json()
        print("rows", text.count('"entry"'))
        """,
        str(registry),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == ["before", "rows 8", ""]
    assert "Traceback" not in done.stderr  # no worker unwound through the command


def test_workers_stop_when_their_parent_is_killed(registry: Path, tmp_path: Path) -> None:
    started = tmp_path / "workers"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _FORCED
            + textwrap.dedent(
                """
                from steward.reading import queries
                from steward.reading.queries import list_versions
                summarize = summarize_ahead.summarize
                parent = os.getpid()
                def slow(*args):
                    if os.getpid() != parent:
                        with open(sys.argv[2], "a") as out:
                            out.write(f"{os.getpid()}\\n")
                        time.sleep(1)
                    return summarize(*args)
                summarize_ahead.summarize = slow
                list_versions(Path(sys.argv[1]))
                """
            ),
            str(registry),
            str(started),
        ],
    )
    deadline = time.monotonic() + 30
    while not (started.exists() and started.read_text().count("\n") >= 2):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    workers = {int(pid) for pid in started.read_text().split()}
    process.kill()
    process.wait()
    # Each has at least three more files to read, a second each: it stops at the next one.
    deadline = time.monotonic() + 2.5
    while any(running(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its parent"
        time.sleep(0.05)


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
