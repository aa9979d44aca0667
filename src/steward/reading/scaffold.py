"""`steward init`: a new registry repository, committed and passing `steward check`."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from steward.entries import layout
from steward.entries.jsonschemas import SCHEMA_MODELS, shipped_schema_text
from steward.entries.policy import CentralPin
from steward.entries.problems import closest
from steward.errors import StewardError, UsageError
from steward.gitio.dvcio import import_dvc_repo
from steward.gitio.gitcmd import commit_all, run_git
from steward.version import __version__

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


def policy_with_roles(text: str, roles: dict[str, list[str]]) -> str:
    """The default policy's text with `roles` filled in (`ml-engineer: []` becomes
    `ml-engineer: [alice, bob]`; a role the template lacks is added). Each login is checked
    as the policy's schema checks it, before anything is written."""
    from pydantic import TypeAdapter, ValidationError

    from steward.entries.name_types import Name, Principal

    lines = text.splitlines()
    start = lines.index("roles:")
    known = []
    for line in lines[start + 1 :]:
        if not line.startswith(" "):
            break
        if not line.strip().startswith("#"):
            known.append(line.split(":")[0].strip())
    for role, members in roles.items():
        guess = closest(role, known) if role not in known else None
        if guess is not None:
            raise UsageError(
                f"--role {role}: the default policy has no role '{role}'; did you mean "
                f"'{guess}'? (a role of a new name is added, but none of its rules would use it)"
            )
        try:
            TypeAdapter(Name).validate_python(role)
            for member in members:
                TypeAdapter(Principal).validate_python(member)
        except ValidationError as exc:
            detail = exc.errors()[0]["msg"]
            raise UsageError(f"--role {role}={','.join(members)}: {detail}") from None
        # `@org/team` must be quoted: `@` cannot start a plain YAML scalar.
        shown = [json.dumps(m) if m.startswith("@") else m for m in members]
        line = f"  {role}: [{', '.join(shown)}]"
        for i in range(start + 1, len(lines)):
            if not lines[i].startswith(" "):
                lines.insert(i, line)
                break
            if lines[i].split(":")[0].strip() == role:
                lines[i] = line
                break
    return "\n".join(lines) + "\n"


def init_registry(
    target: Path,
    remote: str | None = None,
    roles: dict[str, list[str]] | None = None,
    central: CentralPin | None = None,
) -> InitResult:
    """Create a registry repo in `target` (new or empty). On failure, remove what was created.

    With `central`, the policy is a team registry's on that central policy, read at its pinned
    commit (and vendored as `policies/central.yaml`) instead of the default policy.

    A `remote` without a scheme is a local directory; a relative one is taken from the current
    directory and stored absolute, so that every clone on this machine finds the same one."""
    root = target.resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise StewardError(f"{root} exists and is not an empty directory; choose a new one")
    outer = _enclosing_repository(root)
    if outer is not None:
        raise StewardError(
            f"{root} is inside the git repository {outer}; a registry is a repository of its own"
        )
    remote_is_default = remote is None
    if remote is None:
        remote = str(default_remote_for(root))
        if Path(remote).exists():
            raise StewardError(f"{remote} already exists; pass --remote to choose the remote")
    elif "://" not in remote:
        remote = str(Path(remote).resolve())
    created = _first_missing(root)
    created_remote = _first_missing(Path(remote)) if "://" not in remote else None
    try:
        root.mkdir(parents=True, exist_ok=True)
        if created_remote is not None:
            Path(remote).mkdir(parents=True)
        run_git(root, "init", "--quiet", "--initial-branch=main")
        _init_dvc(root, remote)
        _write_files(root, remote, roles or {})
        if central is not None:
            _write_team_policy(root, central, roles or {})
        commit = commit_all(root, "Initialize Steward registry")
    except BaseException as exc:
        _undo(root, created, created_remote)
        if isinstance(exc, OSError):
            raise StewardError(f"could not create the registry in {root}: {exc}") from exc
        raise
    return InitResult(root, remote, remote_is_default, commit)


def _first_missing(path: Path) -> Path | None:
    """The outermost directory of `path` that does not exist yet: what creating it would add."""
    missing = None
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing = candidate
    return missing


def _enclosing_repository(root: Path) -> Path | None:
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _init_dvc(root: Path, remote_url: str) -> None:
    dvc_repo = import_dvc_repo().Repo.init(str(root))  # imported here: DVC is slow to import
    try:
        with dvc_repo.config.edit() as config:
            config["remote"][DEFAULT_REMOTE_NAME] = {"url": remote_url}
            config["core"]["remote"] = DEFAULT_REMOTE_NAME
    finally:
        dvc_repo.close()


def _write_files(root: Path, remote_url: str, roles: dict[str, list[str]]) -> None:
    (root / layout.POLICY_FILE).parent.mkdir(parents=True, exist_ok=True)
    policy = policy_with_roles(template("registry.yaml"), roles)
    (root / layout.POLICY_FILE).write_text(policy, encoding="utf-8")
    for directory in (layout.MODELS_DIR, layout.DATASETS_DIR):
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory / ".gitkeep").write_text("", encoding="utf-8")
    readme = template("README.md").format(name=root.name, remote=remote_url)
    (root / "README.md").write_text(readme, encoding="utf-8")
    write_schema_copies(root)
    write_workflows(root)


def _write_team_policy(root: Path, pin: CentralPin, roles: dict[str, list[str]]) -> None:
    from steward.reading.central_policy import read_central, team_policy_text

    central = read_central(root, pin, None)
    (root / layout.POLICY_FILE).write_text(team_policy_text(central, roles), encoding="utf-8")
    (root / layout.CENTRAL_COPY_FILE).write_bytes(central.raw)


def steward_spec() -> str:
    """What the registry's workflows install to judge (the input of its lock): this Steward,
    unless STEWARD_SPEC says."""
    return os.environ.get("STEWARD_SPEC") or f"model-steward=={__version__}"


def write_workflows(root: Path) -> list[Path]:
    """The gate and apply workflows. They install from `.github/steward/requirements.txt`, the
    hash-checked lock of `steward_spec()` that `steward github lock` writes (it needs the
    package index; until it is committed, the workflows fail at their install step)."""
    written = []
    directory = resources.files("steward") / "templates" / "workflows"
    for name in ("gate.yml", "apply.yml"):
        text = (directory / name).read_text("utf-8")
        path = root / ".github" / "workflows" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _undo(root: Path, created: Path | None, created_remote: Path | None) -> None:
    """Remove what `init_registry` made: the directories it created, or the contents it put in
    the empty directory it was given."""
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
    elif root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    if created_remote is not None:
        shutil.rmtree(created_remote, ignore_errors=True)
