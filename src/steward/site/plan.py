"""Which pages a build must write, decided from git's ids and the last build's manifest: no
registry file is read and nothing that reads one is imported.

A model's page shows its directory (one tree id names all its files), the datasets its versions
cite (blob ids, remembered from when the page was written), the policy (a blob id), its history
and `apply`'s records of it (tags). Its history is named by one commit: the newest commit of the
branch's first-parent chain that touched the model's directory. Two chains whose newest such
commit is the same have the same commits touching the model (a commit id names all its
ancestry), so equal ids mean an equal history. When the last build's commit is an ancestor of
this one, only the commits in between are read (`git log OLD..NEW`); otherwise the history
index is asked for every model.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.entries import layout
from steward.entries.names import is_name
from steward.gitio.changelog import Landed, changes_between, changes_by_model
from steward.gitio.gitcmd import run_git

_MODELS = f"{layout.MODELS_DIR}/"
_DATASETS = f"{layout.DATASETS_DIR}/"


@dataclass(frozen=True)
class Blob:
    path: str
    mode: str
    oid: str


@dataclass
class RegistryTree:
    """The registry at a commit, one level deep: what every page key is made of."""

    models: dict[str, str] = field(default_factory=dict)  # model -> its directory's tree id
    datasets: dict[str, Blob] = field(default_factory=dict)
    policy: Blob | None = None


def registry_tree(root: Path, commit: str) -> RegistryTree:
    """One `git ls-tree` of the model and dataset directories (not into them) and the policy."""
    tree = RegistryTree()
    paths = (_MODELS, _DATASETS, layout.POLICY_FILE)
    for mode, kind, oid, path in _ls_tree(root, commit, paths, recursive=False):
        if path.startswith(_MODELS) and kind == "tree":
            name = path[len(_MODELS) :]
            if is_name(name):
                tree.models[name] = oid
        elif path.startswith(_DATASETS) and path.endswith(".yaml") and kind == "blob":
            name = path[len(_DATASETS) : -len(".yaml")]
            if is_name(name):
                tree.datasets[name] = Blob(path, mode, oid)
        elif path == layout.POLICY_FILE and kind == "blob":
            tree.policy = Blob(path, mode, oid)
    return tree


def newest_changes(
    root: Path, commit: str, previous_commit: str | None, previous: dict[str, str]
) -> tuple[dict[str, str], dict[str, list[Landed]] | None]:
    """For each model, the newest commit of `commit`'s first-parent chain touching its
    directory. `previous` holds the answer at `previous_commit` (the last build's): when that
    commit is an ancestor, only the commits added since are read. Otherwise every model's
    changes are read, and returned too (the histories are made of them)."""
    if previous_commit and _on_first_parent_chain(root, previous_commit, commit):
        newest = dict(previous)
        seen: set[str] = set()
        for landed in changes_between(root, previous_commit, commit, _MODELS):
            for change in landed.changes:
                model = change.path[len(_MODELS) :].partition("/")[0]
                if model not in seen:
                    seen.add(model)
                    newest[model] = landed.sha
        return newest, None
    changes = changes_by_model(root, commit)
    return {model: commits[0].sha for model, commits in changes.items()}, changes


def _on_first_parent_chain(root: Path, older: str, newer: str) -> bool:
    """Whether `older` is on `newer`'s first-parent chain (an ancestor only through a merge's
    second parent is not: the histories of the two chains then differ in ways `git log
    OLD..NEW` does not show). Costs a walk of the commits in between."""
    if older == newer:
        return True
    result = subprocess.run(
        ["git", "-C", str(root), "rev-list", "--first-parent", "--parents", newer, f"^{older}"],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        return False  # an unknown commit, or `older` is not an ancestor at all
    last = result.stdout.strip().splitlines()[-1].split()
    return len(last) > 1 and last[1].decode() == older


def tags_by_model(root: Path) -> dict[str, str]:
    """Per model, a digest of the tags named after it (`MODEL@...`, `MODEL#...`, where `apply`
    keeps its records) with the objects they point at."""
    out = run_git(root, "for-each-ref", "--format=%(objectname) %(refname:lstrip=2)", "refs/tags/")
    found: dict[str, list[str]] = {}
    for line in out.decode("utf-8", "replace").splitlines():
        oid, _, name = line.partition(" ")
        cut = min((i for i in (name.find("@"), name.find("#")) if i > 0), default=-1)
        if cut > 0:
            found.setdefault(name[:cut], []).append(f"{name}={oid}")
    return {model: digest(sorted(tags)) for model, tags in found.items()}


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Plan:
    stale: list[str]  # the model pages to write
    newest: dict[str, str]
    tags: dict[str, str]
    changes: dict[str, list[Landed]] | None  # every model's history changes, when read


def plan_models(
    root: Path, out: Path, commit: str, tree: RegistryTree, old: dict[str, Any]
) -> Plan:
    """The models whose pages must be written: new ones, those whose directory, cited datasets,
    history or tags changed, every one when the policy or the settings did, and any whose page
    file is missing."""
    previous = old.get("models", {})
    newest, changes = newest_changes(
        root,
        commit,
        old.get("commit"),
        {name: state.get("newest", "") for name, state in previous.items()},
    )
    tags = tags_by_model(root)
    policy = tree.policy.oid if tree.policy is not None else None
    all_stale = old.get("policy") != policy
    stale = []
    for name, tree_id in sorted(tree.models.items()):
        state = previous.get(name)
        if (
            all_stale
            or state is None
            or state.get("tree") != tree_id
            or state.get("newest") != newest.get(name)
            or state.get("tags") != tags.get(name)
            or any(_oid(tree, d) != oid for d, oid in state.get("cited", {}).items())
            or not (out / "models" / f"{name}.html").exists()
        ):
            stale.append(name)
    return Plan(stale, newest, tags, changes)


def _oid(tree: RegistryTree, dataset: str) -> str | None:
    blob = tree.datasets.get(dataset)
    return blob.oid if blob is not None else None


def model_files(root: Path, commit: str, models: list[str]) -> dict[str, list[Blob]]:
    """The files of these models' directories (one `git ls-tree -r`; of the whole models
    directory when they are many, rather than a command line naming thousands)."""
    if not models:
        return {}
    wanted = set(models)
    paths = [f"{_MODELS}{name}/" for name in models] if len(models) <= 200 else [_MODELS]
    found: dict[str, list[Blob]] = {name: [] for name in models}
    for mode, _kind, oid, path in _ls_tree(root, commit, paths, recursive=True):
        model = path[len(_MODELS) :].partition("/")[0]
        if model in wanted:
            found[model].append(Blob(path, mode, oid))
    return found


def _ls_tree(
    root: Path, commit: str, paths: Iterable[str], recursive: bool
) -> Iterator[tuple[str, str, str, str]]:
    """`git ls-tree` of `paths` at `commit`: (mode, type, object id, path) per entry."""
    recurse = ["-r"] if recursive else []
    out = run_git(
        root, "--literal-pathspecs", "ls-tree", *recurse, "-z", "--full-tree", commit, "--", *paths
    )
    for record in out.split(b"\0"):
        if record:
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, oid = meta.decode().split()
            yield mode, kind, oid, raw_path.decode("utf-8", "surrogateescape")
