"""Real registries for registration tests: `steward init` (git + DVC + a local remote), a bare
origin to push to, a model and a dataset."""

from __future__ import annotations

import errno
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from steward.reading.create import create_model
from steward.reading.scaffold import init_registry
from tests.builders import add_dataset, run_git


@dataclass
class RegistryRepo:
    root: Path
    origin: Path
    remote: Path

    def clone(self, where: Path) -> Path:
        subprocess.run(["git", "clone", "-q", str(self.origin), str(where)], check=True)
        return where

    def head(self, root: Path | None = None) -> str:
        return run_git(root or self.root, "rev-parse", "HEAD").strip()

    def status(self, root: Path | None = None) -> str:
        return run_git(root or self.root, "status", "--porcelain", "--ignored", "--untracked=all")


def make_registry(tmp_path: Path) -> RegistryRepo:
    result = init_registry(tmp_path / "registry")
    root = result.root
    create_model(
        root,
        {
            "name": "fraud",
            "owner": "carol",
            "team": "risk-ml",
            "risk": "high",
            "classification": ["internal"],
            "card": {"intended_use": "Rank card authorisations by fraud risk."},
        },
    )
    add_dataset(root, "transactions")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "Add the transactions dataset")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    run_git(root, "remote", "add", "origin", str(origin))
    run_git(root, "push", "-q", "-u", "origin", "main")
    return RegistryRepo(root, origin, Path(result.remote_url))


def write_model_files(directory: Path, weights: bytes, config: str = "depth: 6\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.pkl").write_bytes(weights)
    (directory / "config.yaml").write_text(config)
    return directory


def remote_object(remote: Path, md5: str) -> Path:
    return remote / "files" / "md5" / md5[:2] / md5[2:]


def fill_up(monkeypatch: pytest.MonkeyPatch, directory: Path, lands: int = 0) -> None:
    """The disk holding `directory` is full: a kernel copy into a file under it writes `lands`
    bytes (a partial file), then fails with ENOSPC, as a real full disk fails a copy."""
    real = os.copy_file_range
    full = str(directory.resolve())

    def no_room(source: int, target: int, count: int, *offsets: int | None) -> int:
        if str(Path(f"/proc/self/fd/{target}").readlink()).startswith(full):
            if lands:
                real(source, target, min(count, lands), *offsets)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(source, target, count, *offsets)

    monkeypatch.setattr(os, "copy_file_range", no_room)


def through_dvc(monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
    """Make registrations write the cache and remote through DVC: Steward leaves them to DVC
    wherever a DVC configuration outside the repository exists (here an empty global one)."""
    directory.mkdir(exist_ok=True)
    (directory / "config").write_text("")
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(directory))
