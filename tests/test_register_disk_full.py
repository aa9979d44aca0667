"""A full disk (here a real file-size limit, RLIMIT_FSIZE, which fails writes as a full disk
does) while writing the DVC cache or the remote: exit 1 naming the store, no partial file left
behind, the repository as it was; temporaries a killed run left are swept by the next one."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from steward.artifacts.local_stores import LocalStores
from steward.artifacts.store import ArtifactStore
from steward.cli.main import run
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, fill_up, make_registry

LIMIT = 2 * 1024 * 1024


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _artifact(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.pkl").write_bytes(os.urandom(3 * 1024 * 1024))  # over the limit
    return out


def _limited_register(root: Path, sources: Path) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))

    return subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(root), "register", "fraud", str(sources)],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        check=False,
    )


def _temporaries(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*.tmp") if p.is_file()]


def test_a_full_cache_is_exit_1_with_nothing_left_behind(
    repo: RegistryRepo, stores: str, tmp_path: Path
) -> None:
    sources = _artifact(tmp_path)
    head, status = repo.head(), repo.status()
    result = _limited_register(repo.root, sources)
    assert result.returncode == 1, result.stderr
    assert "file too large (a file-size limit)" in result.stderr
    assert "(the DVC cache)" in result.stderr and "partial files were removed" in result.stderr
    assert _temporaries(repo.root / ".dvc" / "cache") == []
    assert (repo.head(), repo.status()) == (head, status)
    assert run(["-C", str(repo.root), "register", "fraud", str(sources)]) == 0


@pytest.mark.parametrize("copied", ["while hashing", "at the push"])
def test_a_full_remote_is_exit_1_with_nothing_left_on_it(
    repo: RegistryRepo,
    stores: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    copied: str,
) -> None:
    """The remote's disk fills mid-copy (the kernel copy fails with ENOSPC after part of the
    file): exit 1 naming the remote, no partial file on it, the cache and the repository as they
    were. The copy is made during the pass over the files, or, where the pass had no remote
    directory to copy into, when the objects are pushed."""
    sources = _artifact(tmp_path)
    head = repo.head()
    fill_up(monkeypatch, repo.remote, lands=4096)  # part of it lands, then no more
    if copied == "at the push":
        monkeypatch.setattr(ArtifactStore, "mirror_directory", lambda self: None)
        monkeypatch.setattr(LocalStores, "mirror_directory", lambda self: None)
        monkeypatch.setattr("steward.cli.register_cmd.begin_staging", lambda *args: None)
    assert run(["-C", str(repo.root), "register", "fraud", str(sources)]) == 1
    err = capsys.readouterr().err
    assert "no space left on device" in err and "(the DVC remote)" in err, err
    assert str(repo.remote) in err
    assert list(repo.remote.iterdir()) == []  # not even the directories the copy went to
    assert [p for p in (repo.root / ".dvc" / "cache").rglob("*") if p.is_file()] == []
    assert repo.head() == head
    assert run_git(repo.root, "status", "--porcelain") == ""
    monkeypatch.undo()
    assert run(["-C", str(repo.root), "register", "fraud", str(sources)]) == 0


def test_temporaries_a_killed_run_left_are_swept_but_a_live_one_is_not(
    repo: RegistryRepo, stores: str, tmp_path: Path
) -> None:
    shard = repo.remote / "files" / "md5" / "ab"
    shard.mkdir(parents=True)
    stale, live = shard / f".{'s' * 22}.tmp", shard / f".{'l' * 22}.tmp"
    stale.write_bytes(b"x" * 1000)
    live.write_bytes(b"y")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    cache_shard = repo.root / ".dvc" / "cache" / "files" / "md5" / "cd"
    cache_shard.mkdir(parents=True)
    cache_stale = cache_shard / f".{'c' * 22}.tmp"
    cache_stale.write_bytes(b"z")
    os.utime(cache_stale, (hour_ago, hour_ago))
    out = tmp_path / "small"
    out.mkdir()
    (out / "model.pkl").write_bytes(b"small")
    assert run(["-C", str(repo.root), "register", "fraud", str(out)]) == 0
    assert not stale.exists() and not cache_stale.exists()
    assert live.exists()


def test_out_of_space_anywhere_else_is_exit_1_naming_the_path(
    repo: RegistryRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Commands other than registration write small files; a full disk there is still the
    machine's state (exit 1 with the path), not a bug (exit 3)."""
    import steward.cli.schema_cmd as schema_cmd

    target = repo.root / ".steward" / "schemas" / "model.schema.json"

    def full(root: Path) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(schema_cmd, "write_schema_copies", full)
    assert run(["-C", str(repo.root), "schema", "--write"]) == 1
    assert f"error: no space left on device: {target}" in capsys.readouterr().err
