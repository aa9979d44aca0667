"""`steward init`: a new registry repository, committed and passing `steward check`."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from steward import layout
from steward.dvcio import import_dvc_repo
from steward.errors import StewardError
from steward.gitcmd import commit_all, run_git
from steward.jsonschemas import SCHEMA_MODELS, shipped_schema_text

DEFAULT_REMOTE_NAME = "storage"


@dataclass(frozen=True)
class InitResult:
    root: Path
    remote_url: str
    remote_is_local_default: bool
    commit: str


def default_remote_for(root: Path) -> Path:
    """Where artifacts go when no remote is given: a directory beside the repository."""
    return root.parent / f"{root.name}.dvc-storage"


def template(name: str) -> str:
    return (resources.files("steward") / "templates" / name).read_text("utf-8")


def write_schema_copies(root: Path) -> list[Path]:
    """Write `.steward/schemas/<kind>.schema.json`, which entry files reference for editors."""
    written = []
    for kind in SCHEMA_MODELS:
        path = root / layout.schema_path(kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shipped_schema_text(kind), encoding="utf-8")
        written.append(path)
    return written


def init_registry(target: Path, remote: str | None = None) -> InitResult:
    """Create a registry repo in `target` (new or empty). On failure, remove what was created."""
    root = target.resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise StewardError(f"{root} exists and is not an empty directory; choose a new one")
    default_remote = default_remote_for(root)
    remote_is_default = remote is None
    if remote_is_default and default_remote.exists():
        raise StewardError(f"{default_remote} already exists; pass --remote to choose the remote")
    root_existed = root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        if remote is None:
            default_remote.mkdir(parents=True)
            remote = str(default_remote)
        run_git(root, "init", "--quiet", "--initial-branch=main")
        _init_dvc(root, remote)
        _write_files(root, remote)
        commit = commit_all(root, "Initialize Steward registry")
    except BaseException:
        _undo(root, root_existed, default_remote if remote_is_default else None)
        raise
    return InitResult(root, remote, remote_is_default, commit)


def _init_dvc(root: Path, remote_url: str) -> None:
    dvc_repo = import_dvc_repo().Repo.init(str(root))  # imported here: DVC is slow to import
    try:
        with dvc_repo.config.edit() as config:
            config["remote"][DEFAULT_REMOTE_NAME] = {"url": remote_url}
            config["core"]["remote"] = DEFAULT_REMOTE_NAME
    finally:
        dvc_repo.close()


def _write_files(root: Path, remote_url: str) -> None:
    (root / layout.POLICY_FILE).parent.mkdir(parents=True, exist_ok=True)
    (root / layout.POLICY_FILE).write_text(template("registry.yaml"), encoding="utf-8")
    for directory in (layout.MODELS_DIR, layout.DATASETS_DIR):
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory / ".gitkeep").write_text("", encoding="utf-8")
    readme = template("README.md").format(name=root.name, remote=remote_url)
    (root / "README.md").write_text(readme, encoding="utf-8")
    write_schema_copies(root)


def _undo(root: Path, root_existed: bool, created_remote: Path | None) -> None:
    if root_existed:
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    else:
        shutil.rmtree(root, ignore_errors=True)
    if created_remote is not None:
        shutil.rmtree(created_remote, ignore_errors=True)
