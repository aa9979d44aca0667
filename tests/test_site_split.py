"""The site's model pages rendered on every core (`steward.site.build._model_pages` on
`steward.reading.forked`): the site is the one a single process writes, byte for byte, whatever
the workers do."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from steward.reading import forked
from steward.site import build
from steward.site.build import SiteResult, build_site
from tests.builders import add_model, add_version, run_git, write
from tests.forking import force_forks
from tests.site_registry import site_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = site_registry(tmp_path_factory.mktemp("split") / "reg").root
    for model in ("alpha", "beta", "gamma", "delta"):
        add_model(root, model)
        add_version(root, model, "1.0.0", stage="production")
        add_version(root, model, "1.1.0")
    write(root, "registry/models/beta/2.0.0.yaml", "model: beta\nversion: [2.0.0\n")
    # A dataset that does not read, cited only by a model a worker renders (every 3rd from the
    # 2nd): its page must show its problem as a one-process build shows it.
    write(root, "registry/datasets/broken.yaml", "name: broken\ncolumns: [\n")
    add_model(root, "eps")
    add_version(
        root,
        "eps",
        "1.0.0",
        training={"datasets": [{"id": "broken", "version": "2026-10-31"}], "features": ["x"]},
    )
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "more models")
    return root


def site_files(out: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def built(root: Path, out: Path) -> tuple[SiteResult, dict[str, bytes]]:
    result = build_site(root, out, use_dot=False)
    return result, site_files(out)


@pytest.fixture(scope="module")
def one_process(registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    patch = pytest.MonkeyPatch()
    patch.setattr(build, "SPLIT_FROM", 10**9)
    try:
        return built(registry, tmp_path_factory.mktemp("one") / "site")
    finally:
        patch.undo()


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every build splits its pages over three processes; the pids of the workers started."""
    monkeypatch.setattr(build, "SPLIT_FROM", 1)
    return force_forks(monkeypatch)


def same_site(
    ours: tuple[SiteResult, dict[str, bytes]], one_process: tuple[SiteResult, dict[str, bytes]]
) -> None:
    (result, files), (expected, expected_files) = ours, one_process
    assert files == expected_files
    assert result.written == expected.written
    assert result.problems == expected.problems
    assert result.models == expected.models == 7


def test_the_workers_write_the_site_one_process_writes(
    registry: Path, one_process: Any, forks: list[int], tmp_path: Path
) -> None:
    same_site(built(registry, tmp_path / "site"), one_process)
    assert len(forks) == 2
    assert any("2.0.0.yaml" in problem.path for problem in one_process[0].problems)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda answer: os._exit(3), id="exits"),
        pytest.param(lambda answer: os.kill(os.getpid(), signal.SIGKILL), id="killed"),
        pytest.param(lambda answer: ({}, answer[1]), id="no-pages"),
        pytest.param(lambda answer: (answer[0], ["not a problem"]), id="wrong-problems"),
    ],
)
def test_a_worker_that_fails_leaves_its_pages_to_this_process(
    registry: Path,
    one_process: Any,
    forks: list[int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fault: Callable[[Any], Any],
) -> None:
    split = forked.split

    def answers_checked(shares: Any, work: Any, own: Any, checked: Any, *rest: Any) -> Any:
        # `work` runs only in the workers: the fault acts on what a worker sends back.
        def worker(share: Any, still_wanted: Any) -> Any:
            return fault(work(share, still_wanted))

        return split(shares, worker, own, checked, *rest)

    monkeypatch.setattr(forked, "split", answers_checked)
    same_site(built(registry, tmp_path / "site"), one_process)
    assert forks


def test_a_build_split_again_over_a_site_keeps_what_it_kept(
    registry: Path, one_process: Any, forks: list[int], tmp_path: Path
) -> None:
    out = tmp_path / "site"
    built(registry, out)
    again, files = built(registry, out)
    assert again.written == [] and files == one_process[1]


def test_a_page_a_killed_worker_was_writing_leaves_no_temporary_file(
    registry: Path,
    one_process: Any,
    forks: list[int],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    parent = os.getpid()
    write_page = build._write

    def killed_while_writing(out: Path, path: str, content: str) -> None:
        if os.getpid() != parent:
            tempfile.mkstemp(dir=out / "models", prefix=".tmp-", suffix=".part")
            os.kill(os.getpid(), signal.SIGKILL)
        write_page(out, path, content)

    monkeypatch.setattr(build, "_write", killed_while_writing)
    same_site(built(registry, tmp_path / "site"), one_process)
    assert forks


def test_a_build_removes_the_temporary_files_a_killed_build_left(
    registry: Path, one_process: Any, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    (out / "models").mkdir(parents=True)
    (out / "models" / ".tmp-x1y2z3.part").write_text("<html>half a page")
    (out / ".tmp-a1b2c3.part").write_text("half a search index")
    same_site(built(registry, out), one_process)
