"""Registration writing a plain local cache and remote itself, without DVC
(`steward.artifacts.local_stores`): what it writes is what DVC writes, byte for byte and mode for
mode; every configuration it cannot be sure of is left to DVC; and it never imports DVC."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from steward.artifacts.local_stores import open_stores
from steward.artifacts.placement import place_data
from steward.artifacts.store import ArtifactStore, IntegrityError
from steward.cli.main import run
from steward.entries.dvcconfig import plain_stores
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, through_dvc

# Whole files in the stores: relative path -> (mode, bytes); directories -> (mode, None).
Tree = dict[str, tuple[int, bytes | None]]


def _tree(directory: Path) -> Tree:
    found: Tree = {}
    for path in sorted(directory.rglob("*")):
        mode = path.stat().st_mode & 0o7777
        found[str(path.relative_to(directory))] = (
            mode,
            path.read_bytes() if path.is_file() else None,
        )
    return found


def _artifact(directory: Path) -> Path:
    """Nested files, two with the same content (one object), and an empty one."""
    (directory / "weights").mkdir(parents=True)
    (directory / "weights" / "model.pkl").write_bytes(os.urandom(300_000))
    (directory / "config.yaml").write_text("depth: 6\n")
    (directory / "copy-of-config.yaml").write_text("depth: 6\n")
    (directory / "empty.txt").write_bytes(b"")
    return directory


def _write_config(
    repo: RegistryRepo, remote: str = "", extra: str = "", local: str = "", core: str = ""
) -> None:
    dvc = repo.root / ".dvc"
    (dvc / "config").write_text(
        f"[core]\n    remote = storage\n{core}['remote \"storage\"']\n    url = {repo.remote}\n"
        f"{remote}{extra}"
    )
    if local:
        (dvc / "config.local").write_text(local)
    run_git(repo.root, "add", "-A")
    run_git(repo.root, "commit", "-q", "-m", "configure DVC", "--allow-empty")


@pytest.mark.parametrize("cache", ["default", "configured", "config.local"])
def test_steward_writes_the_stores_exactly_as_dvc_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    artifact = _artifact(tmp_path / "out")
    written: dict[str, tuple[Tree, Tree, dict[str, object], Tree]] = {}
    for writer in ("dvc", "steward"):
        repo = make_registry(tmp_path / writer)
        cache_dir = tmp_path / writer / "cache"
        if cache == "configured":
            _write_config(repo, extra=f"[cache]\n    dir = {cache_dir}\n")
        elif cache == "config.local":
            _write_config(repo, local=f"[cache]\n    dir = {cache_dir}\n")
        else:
            cache_dir = repo.root / ".dvc" / "cache"
        with monkeypatch.context() as patch:
            if writer == "dvc":
                through_dvc(patch, tmp_path / "dvc-global")
                assert plain_stores(repo.root) is None
            else:
                assert plain_stores(repo.root) is not None
            assert run(["-C", str(repo.root), "register", "fraud", str(artifact)]) == 0
        entry = yaml.safe_load((repo.root / "registry/models/fraud/0.1.0.yaml").read_text())
        workspace = _tree(repo.root / "registry/models/fraud/0.1.0")
        written[writer] = (_tree(cache_dir), _tree(repo.remote), entry["artifact"], workspace)
    assert written["steward"] == written["dvc"]
    cache_tree = written["steward"][0]
    assert sum(name.endswith(".dir") for name in cache_tree) == 1
    assert len([mode for mode, data in cache_tree.values() if data is not None]) == 4  # 3 + .dir


def test_a_plain_registration_never_imports_dvc(repo: RegistryRepo, tmp_path: Path) -> None:
    """The point of writing the stores here: DVC's import and `Repo()` cost most of a second of
    the core the pass shares with the command (`tests/benchmarks/register.py`)."""
    artifact = _artifact(tmp_path / "out")
    code = (
        "import sys\n"
        "from steward.cli.main import run\n"
        f"code = run(['-C', {str(repo.root)!r}, 'register', 'fraud', {str(artifact)!r}])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0].startswith('dvc')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "0 []"
    assert (repo.root / "registry/models/fraud/0.1.0/weights/model.pkl").is_file()


@pytest.fixture
def repo(tmp_path: Path) -> RegistryRepo:
    return make_registry(tmp_path)


@pytest.mark.parametrize(
    ("remote", "extra"),
    [
        ("", ""),
        ("", "[cache]\n    dir = ../elsewhere\n"),
    ],
)
def test_plain_stores_are_where_dvc_keeps_them(repo: RegistryRepo, remote: str, extra: str) -> None:
    _write_config(repo, remote, extra, core="    autostage = true\n    analytics = False\n")
    places = plain_stores(repo.root)
    assert places is not None
    with ArtifactStore(repo.root) as store:
        assert places.cache_dir == Path(store.cache.path)
        assert places.remote_dir == store.mirror_directory()


@pytest.mark.parametrize(
    ("remote", "extra", "why"),
    [
        ("", "[cache]\n    shared = group\n", "a group's cache"),
        ("    shared = group\n", "", "a group's remote"),
        ("", "[cache]\n    local = storage\n", "a cache named after a remote"),
        ("    keyfile = /k\n", "", "a remote option"),
        ("", "[cache]\n    dir = s3://bucket/cache\n", "a cache in an object store"),
        ("", "", "a global DVC configuration"),
        ("", "", "a system DVC configuration"),
        ("", "", "a remote that is an object store"),
        ("", "", "a remote directory that does not exist"),
        ("    verify = true\n", "", "a remote verified on every write"),
        ("    jobs = 4\n", "", "a remote option DVC validates"),
        ("", "[cache]\n    type = hardlink,copy\n", "a cache option"),
        ("", "", "a value DVC refuses"),
        ("", "", "an unquoted '#' in the URL"),
        ("", "", "an unquoted ',' in the URL"),
        ("", "", "a ':' delimiter"),
        ("", "['remote \"Storage\"']\n", "a section repeated in another case"),
    ],
)
def test_anything_else_is_left_to_dvc(
    repo: RegistryRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    remote: str,
    extra: str,
    why: str,
) -> None:
    refused = "    autostage = yes\n" if why == "a value DVC refuses" else ""
    _write_config(repo, remote, extra, core=refused)
    if why.startswith("a global") or why.startswith("a system"):
        outer = tmp_path / "outer"
        outer.mkdir()
        (outer / "config").write_text("[core]\n    remote = elsewhere\n")
        level = "GLOBAL" if why.startswith("a global") else "SYSTEM"
        monkeypatch.setenv(f"DVC_{level}_CONFIG_DIR", str(outer))
    elif why == "a remote that is an object store":
        config = repo.root / ".dvc" / "config"
        config.write_text(config.read_text().replace(str(repo.remote), "s3://bucket/store"))
    elif why == "a remote directory that does not exist":
        repo.remote.rmdir()
    elif why.startswith("an unquoted"):
        # Steward's reader and DVC's (configobj) split these values differently: both places
        # exist, and DVC decides.
        other = Path(f"{repo.remote}{why[13]}2")
        other.mkdir()
        config = repo.root / ".dvc" / "config"
        config.write_text(config.read_text().replace(str(repo.remote), str(other)))
    elif why == "a ':' delimiter":
        config = repo.root / ".dvc" / "config"
        config.write_text(config.read_text().replace("url =", "url:"))
    assert plain_stores(repo.root) is None, why


def test_a_workspace_is_filled_from_the_remote_where_the_cache_lacks_an_object(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    artifact = _artifact(tmp_path / "out")
    listing_md5 = _registered(repo, artifact)
    relative = "registry/models/fraud/0.1.0"
    expected = {name: data for name, (_, data) in _tree(repo.root / relative).items()}
    cache = repo.root / ".dvc" / "cache"
    for path in sorted(cache.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    place_data(repo.root, {relative: listing_md5}, [relative])
    # Downloaded, not linked: the workspace's copies are the user's own (writable), as DVC's.
    assert {name: data for name, (_, data) in _tree(repo.root / relative).items()} == expected
    # An object on the remote whose bytes are not its name is refused, and not placed.
    weights = json.loads(
        (repo.remote / "files/md5" / listing_md5[:2] / listing_md5[2:]).read_bytes()
    )
    md5 = next(item["md5"] for item in weights if item["relpath"] == "weights/model.pkl")
    damaged = repo.remote / "files/md5" / md5[:2] / md5[2:]
    damaged.chmod(0o644)
    damaged.write_bytes(b"not the weights")
    assert hashlib.md5(damaged.read_bytes()).hexdigest() != md5
    with pytest.raises(IntegrityError, match="does not match its hash"):
        open_stores(repo.root).checkout_listing(listing_md5, tmp_path / "placed")
    assert not (tmp_path / "placed" / "weights" / "model.pkl").exists()


def _registered(repo: RegistryRepo, artifact: Path) -> str:
    """Register `artifact` as fraud 0.1.0: the `.dir` object its entry names."""
    assert run(["-C", str(repo.root), "register", "fraud", str(artifact)]) == 0
    entry = yaml.safe_load((repo.root / "registry/models/fraud/0.1.0.yaml").read_text())
    return str(entry["artifact"]["md5"])


def _listing_md5(tmp_path: Path, artifact: Path) -> str:
    """The `.dir` object a registration of `artifact` writes, learnt in a registry of its own."""
    return _registered(make_registry(tmp_path / "scratch"), artifact)


def _object(directory: Path, oid: str) -> Path:
    return directory / "files" / "md5" / oid[:2] / oid[2:]


def test_a_listing_cut_short_in_the_cache_is_written_again(
    repo: RegistryRepo, stores: str, tmp_path: Path
) -> None:
    """A power cut after the rename but before the disk had the bytes leaves an empty `.dir`:
    the next registration of that content writes it whole, as DVC does, and the version's
    directory is filled."""
    artifact = _artifact(tmp_path / "out")
    listing_md5 = _listing_md5(tmp_path, artifact)
    damaged = _object(repo.root / ".dvc" / "cache", listing_md5)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"")
    assert run(["-C", str(repo.root), "register", "fraud", str(artifact)]) == 0
    assert hashlib.md5(damaged.read_bytes()).hexdigest() + ".dir" == listing_md5
    assert (repo.root / "registry/models/fraud/0.1.0/weights/model.pkl").is_file()
    assert run(["-C", str(repo.root), "check"]) == 0


def test_a_checkout_takes_the_remotes_listing_where_the_caches_is_damaged(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    artifact = _artifact(tmp_path / "out")
    listing_md5 = _registered(repo, artifact)
    cached = _object(repo.root / ".dvc" / "cache", listing_md5)
    good = cached.read_bytes()
    cached.write_bytes(good[: len(good) // 2])
    open_stores(repo.root).checkout_listing(listing_md5, tmp_path / "placed")
    assert (tmp_path / "placed" / "weights" / "model.pkl").is_file()
    assert cached.read_bytes() == good  # repaired from the remote's copy
    # Damaged in both: refused, naming both files.
    cached.write_bytes(b"[]")
    remote = _object(repo.remote, listing_md5)
    remote.chmod(0o644)
    remote.write_bytes(b"[]")
    with pytest.raises(IntegrityError, match=str(cached)) as refused:
        open_stores(repo.root).checkout_listing(listing_md5, tmp_path / "again")
    assert str(remote) in str(refused.value)


def test_a_wrong_listing_on_the_remote_is_written_again_and_protected(
    repo: RegistryRepo, tmp_path: Path
) -> None:
    artifact = _artifact(tmp_path / "out")
    listing_md5 = _listing_md5(tmp_path, artifact)
    wrong = _object(repo.remote, listing_md5)
    wrong.parent.mkdir(parents=True)
    wrong.write_bytes(b"[]")
    assert run(["-C", str(repo.root), "register", "fraud", str(artifact)]) == 0
    assert hashlib.md5(wrong.read_bytes()).hexdigest() + ".dir" == listing_md5
    assert wrong.stat().st_mode & 0o777 == 0o444
