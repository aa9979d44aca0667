"""Registration's one pass over the files (`artifacts/staging.py`): each file is copied into the
cache's directory and hashed as read back from the copy, and copied on into a local remote's; the
copies are moved into place whole, or removed.

What the pass must guarantee, whatever happens to the caller's files or the run: the objects in
the cache and on the remote hold exactly the bytes their names and the entry's hashes say, and a
registration that stops leaves no copy behind (nor a directory it made)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from steward import faults
from steward.artifacts import copying, staging
from steward.artifacts.registration import RegistrationRequest, register_version
from steward.artifacts.store import ArtifactStore
from steward.cli.main import run
from steward.entries.dvcconfig import cache_directory
from tests.builders import run_git
from tests.dvc_registry import (
    RegistryRepo,
    fill_up,
    make_registry,
    remote_object,
    write_model_files,
)


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


def _request(sources: Path) -> RegistrationRequest:
    return RegistrationRequest("fraud", (sources,), created_by="ci-bot")


def _leftovers(*directories: Path) -> list[Path]:
    return [p for d in directories for p in d.rglob("*.tmp")]


def _cache_object(root: Path, md5: str) -> Path:
    return root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]


def _assert_objects_hold_what_the_entry_says(repo: RegistryRepo, version: str) -> None:
    """Every file's object, in the cache and on the remote, hashes to its md5 (its name, from
    the version's `.dir` listing) and to the sha256 the entry records, and is read-only."""
    entry = yaml.safe_load(run_git(repo.root, "show", f"HEAD:registry/models/fraud/{version}.yaml"))
    listing_md5 = entry["artifact"]["md5"]
    listing = json.loads(_cache_object(repo.root, listing_md5).read_bytes())
    assert (
        remote_object(repo.remote, listing_md5).read_bytes()
        == json.dumps(listing, sort_keys=True).encode()
    )
    md5s = {item["relpath"]: item["md5"] for item in listing}
    for item in entry["artifact"]["files"]:
        md5 = md5s[item["path"]]
        for where in (_cache_object(repo.root, md5), remote_object(repo.remote, md5)):
            data = where.read_bytes()
            assert hashlib.md5(data).hexdigest() == md5, where
            assert hashlib.sha256(data).hexdigest() == item["sha256"], where
            assert where.stat().st_mode & 0o777 == 0o444


def test_the_files_hashed_are_the_files_stored_even_if_the_source_changes(
    repo: RegistryRepo, stores: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training job still writing its output (or a second job reusing the directory) changes
    a file after it was hashed: the cache and the remote must still hold the bytes that were
    hashed, not the new ones under the old name."""
    out = write_model_files(tmp_path / "out", b"weights as hashed" * 1000)
    real = faults.point

    def rewrite_after_hashing(name: str) -> None:
        if name == "register:hashed":
            (out / "model.pkl").write_bytes(b"weights written later" * 1000)
        real(name)

    monkeypatch.setattr(faults, "point", rewrite_after_hashing)
    result = register_version(repo.root, _request(out))
    _assert_objects_hold_what_the_entry_says(repo, result.version)
    workspace = repo.root / "registry/models/fraud" / result.version / "model.pkl"
    assert workspace.read_bytes() == b"weights as hashed" * 1000
    assert _leftovers(repo.root / ".dvc", repo.remote) == []


def test_a_registration_leaves_no_copy_behind(
    repo: RegistryRepo, stores: str, tmp_path: Path
) -> None:
    out = write_model_files(tmp_path / "out", os.urandom(300_000))
    first = register_version(repo.root, _request(out))
    again = register_version(repo.root, _request(out))  # content registered already
    assert (first.created, again.created, again.version) == (True, False, first.version)
    _assert_objects_hold_what_the_entry_says(repo, first.version)
    assert _leftovers(repo.root / ".dvc", repo.remote) == []


def test_a_registration_refused_after_the_pass_began_leaves_nothing(
    repo: RegistryRepo, stores: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command starts the pass before it reads the registry; a model that does not exist
    stops it, and the cache and the remote are as they were (no copy, no directory)."""
    out = write_model_files(tmp_path / "out", os.urandom(200_000))
    head, status = repo.head(), repo.status()
    assert run(["-C", str(repo.root), "register", "no-such-model", str(out)]) == 1
    assert "no-such-model" in capsys.readouterr().err
    assert list(repo.remote.iterdir()) == []
    assert not (repo.root / ".dvc" / "cache").exists()
    assert (repo.head(), repo.status()) == (head, status)


def test_the_pass_is_stopped_and_cleared_when_the_registration_fails(tmp_path: Path) -> None:
    """`close()` while the pass is still copying: it stops at the next chunk and its copies go."""
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(1024 * 1024))
    cache, mirror = tmp_path / "cache" / "files" / "md5", tmp_path / "remote" / "files" / "md5"
    (tmp_path / "remote").mkdir()
    pass_ = staging.Staging((source,), cache, mirror).start()
    pass_.close()
    assert not cache.exists() and list((tmp_path / "remote").iterdir()) == []


@pytest.mark.parametrize("refusal", [errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP])
def test_where_the_kernel_will_not_copy_the_files_are_read_and_written(
    repo: RegistryRepo,
    stores: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    refusal: int,
) -> None:
    def refused(*args: object) -> int:
        raise OSError(refusal, os.strerror(refusal))

    monkeypatch.setattr(os, "copy_file_range", refused)
    monkeypatch.setattr(copying, "_kernel_copy", True)
    out = write_model_files(tmp_path / "out", os.urandom(100_000))
    result = register_version(repo.root, _request(out))
    assert copying._kernel_copy is False
    _assert_objects_hold_what_the_entry_says(repo, result.version)
    assert _leftovers(repo.root / ".dvc", repo.remote) == []


def test_a_kernel_copy_that_reads_nothing_of_a_full_file_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems report their files empty to the kernel copy: 0 bytes copied is only the
    end of the file when a read says so too."""
    monkeypatch.setattr(os, "copy_file_range", lambda *args: 0)
    source = tmp_path / "source"
    source.write_bytes(b"x" * 10_000)
    target = tmp_path / "objects" / "ab" / "cdef"
    copying.copy_into_place(source, target, 4096)
    assert target.read_bytes() == b"x" * 10_000
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("stores", ["dvc"], indirect=True)
def test_copies_staged_where_dvc_does_not_keep_its_cache_are_moved_there(
    repo: RegistryRepo, stores: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass starts before DVC is imported, in the cache directory read from `.dvc/config`.
    Where DVC writes the stores and that is not DVC's (here: forced elsewhere), the copies are
    moved (or copied, across file systems) to DVC's cache, and nothing stays where they were
    made."""
    elsewhere = tmp_path / "guessed" / "files" / "md5"
    monkeypatch.setattr("steward.entries.dvcconfig.cache_directory", lambda root: elsewhere)
    real_replace = Path.replace

    def across_file_systems(self: Path, target: Path) -> Path:
        if elsewhere in self.parents:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", across_file_systems)
    out = write_model_files(tmp_path / "out", os.urandom(100_000))
    assert run(["-C", str(repo.root), "register", "fraud", str(out)]) == 0
    version = run_git(repo.root, "ls-tree", "--name-only", "HEAD", "registry/models/fraud/")
    assert "registry/models/fraud/0.1.0.yaml" in version.split()
    _assert_objects_hold_what_the_entry_says(repo, "0.1.0")
    assert not (tmp_path / "guessed").exists()
    assert _leftovers(repo.root / ".dvc", repo.remote) == []


@pytest.mark.parametrize(
    ("config", "local"),
    [
        ("", ""),
        ("[cache]\n    dir = ../shared-cache\n", ""),
        ("[cache]\n    dir = /srv/dvc-cache\n", ""),
        ("[cache]\n    dir = ../shared-cache\n", "[cache]\n    dir = ../local-cache\n"),
    ],
)
def test_the_cache_directory_read_without_dvc_is_dvcs(
    repo: RegistryRepo, config: str, local: str
) -> None:
    dvc = repo.root / ".dvc"
    (dvc / "config").write_text((dvc / "config").read_text() + config)
    (dvc / "config.local").write_text(local)
    with ArtifactStore(repo.root) as store:
        assert cache_directory(repo.root) == Path(store.cache.path)


@pytest.mark.parametrize("store", ["cache", "remote"])
def test_a_retry_needs_no_room_for_copies_it_will_not_keep(
    repo: RegistryRepo,
    stores: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    store: str,
) -> None:
    """Content registered already needs nothing written: a full (or read-only) cache or remote
    does not fail its retry, which says the version holds it, as it did before the pass."""
    out = write_model_files(tmp_path / "out", os.urandom(200_000))
    assert run(["-C", str(repo.root), "register", "fraud", str(out)]) == 0
    fill_up(monkeypatch, repo.root / ".dvc" if store == "cache" else repo.remote)
    capsys.readouterr()
    assert run(["-C", str(repo.root), "register", "fraud", str(out)]) == 0
    assert "already holds this content" in capsys.readouterr().out
    assert _leftovers(repo.root / ".dvc", repo.remote) == []


def test_objects_are_read_only_for_everyone_whatever_the_umask(
    repo: RegistryRepo, stores: str, tmp_path: Path
) -> None:
    out = write_model_files(tmp_path / "out", os.urandom(50_000))
    old = os.umask(0o077)
    try:
        assert run(["-C", str(repo.root), "register", "fraud", str(out)]) == 0
    finally:
        os.umask(old)
    _assert_objects_hold_what_the_entry_says(repo, "0.1.0")  # 0o444 each


def test_a_named_file_that_is_not_regular_is_refused_at_once(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    """A FIFO would block the pass's read for good (and the command, waiting for the pass)."""
    fifo = tmp_path / "model.pipe"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(repo.root), "register", "fraud", str(fifo)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "not a regular file" in done.stderr, done.stderr


def test_a_live_pass_keeps_its_copies_from_the_sweeps(tmp_path: Path) -> None:
    """Another registration sweeps temporaries untouched for 15 minutes: a pass hands its
    copies over freshly touched, however long ago they were finished."""
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(100_000))
    cache = tmp_path / "cache" / "files" / "md5"
    with staging.Staging((source,), cache) as pass_:
        pass_.start()
        pass_._thread.join()
        staged = pass_._files[0].staged
        assert staged is not None
        hour_ago = time.time() - 3600
        os.utime(staged, (hour_ago, hour_ago))
        pass_.result()
        assert copying.sweep_temporaries(cache, copying.STALE_TEMPORARY_S) == []
        assert staged.is_file()
    assert not staged.exists()


def test_overlapping_passes_give_back_the_switch_interval(tmp_path: Path) -> None:
    before = sys.getswitchinterval()
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(10_000))
    first = staging.Staging((source,), tmp_path / "a").start()
    second = staging.Staging((source,), tmp_path / "b").start()
    first.result()
    first.close()
    second.result()
    second.close()
    assert sys.getswitchinterval() == before


def test_a_shared_cache_is_left_to_dvc(repo: RegistryRepo, tmp_path: Path) -> None:
    """`cache.shared = group`: DVC gives the cache's directories a group's modes; the pass does
    not make them first (with the user's) but waits for DVC to."""
    config = repo.root / ".dvc" / "config"
    config.write_text(config.read_text() + "[cache]\n    shared = group\n")
    run_git(repo.root, "commit", "-qam", "A shared cache")
    assert staging.begin_staging(repo.root, (tmp_path,), False) is None
    out = write_model_files(tmp_path / "out", os.urandom(10_000))
    assert run(["-C", str(repo.root), "register", "fraud", str(out)]) == 0
    shards = [p for p in (repo.root / ".dvc" / "cache" / "files" / "md5").iterdir() if p.is_dir()]
    assert shards and all(p.stat().st_mode & 0o2070 == 0o2070 for p in shards)
