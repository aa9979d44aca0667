"""The registry's entries at one commit, read from git's object store without a checkout.

Model cards and audit reports describe the registry as it was at a revision, and join what the
entries say with what history says about the same revision (`history.model_history(root, model,
rev)`): both must read one commit, so the revision is resolved to a commit id once, first.

Files that cannot be read are collected as problems, not raised: a report names its gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from steward import layout
from steward.catalog import NotFound
from steward.entries import DatasetEntry, ModelEntry, VersionEntry
from steward.errors import GitCommandError, RepoError
from steward.gitcmd import run_git
from steward.layout import Kind, Misplaced
from steward.names import is_name
from steward.policy.spec import Policy
from steward.problems import Problem
from steward.semver import precedence
from steward.tree import FileType, GitSnapshot
from steward.validate import EntryError, parse_file

_READ_KINDS = (Kind.MODEL, Kind.VERSION, Kind.DATASET, Kind.POLICY)


@dataclass
class RegistryState:
    """Entries of the registry at `commit`: models, their versions (lowest precedence first),
    datasets and the policy (None when it is missing or unreadable)."""

    commit: str
    models: dict[str, ModelEntry] = field(default_factory=dict)
    versions: dict[str, list[VersionEntry]] = field(default_factory=dict)
    datasets: dict[str, DatasetEntry] = field(default_factory=dict)
    policy: Policy | None = None
    problems: list[Problem] = field(default_factory=list)

    def versions_of(self, model: str) -> list[VersionEntry]:
        return self.versions.get(model, [])


def resolve_commit(root: Path, rev: str) -> str:
    """The commit id `rev` names, or a clear error."""
    try:
        out = run_git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
    except GitCommandError:
        raise RepoError(f"'{rev}' is not a commit in {root}") from None
    return out.decode().strip()


def read_registry(root: Path, rev: str = "HEAD", model: str | None = None) -> RegistryState:
    """Every model, version, dataset and the policy at `rev`; with `model`, only that model's
    files (and all datasets and the policy). Raises NotFound when `model` is not there."""
    if model is not None and not is_name(model):
        raise NotFound(f"'{model}' is not a model name, so no such model is registered")
    state = RegistryState(resolve_commit(root, rev))
    snapshot = GitSnapshot(root, state.commit)
    try:
        for file in snapshot.files():
            try:
                place = layout.classify(file.path)
            except Misplaced:
                continue  # `steward check` reports it; a report has nothing to say about it
            if place.kind not in _READ_KINDS:
                continue
            if (
                model is not None
                and place.kind in (Kind.MODEL, Kind.VERSION)
                and place.model != model
            ):
                continue
            if file.type is not FileType.REGULAR:
                state.problems.append(Problem(file.path, None, "", f"is a {file.type.value}"))
                continue
            parsed = parse_file(place.kind, snapshot.read(file), file.path)
            state.problems.extend(parsed.problems)
            if parsed.entry is not None:
                _keep(state, place.kind, parsed.entry)
    finally:
        snapshot.close()
    for entries in state.versions.values():
        entries.sort(key=lambda entry: precedence(entry.version))
    if model is not None and model not in state.models:
        relative = layout.model_path(model)
        details = [p.render() for p in state.problems if p.path == relative]
        if details:
            raise EntryError(f"{relative} at {rev} has problems:\n" + "\n".join(details))
        raise NotFound(f"model '{model}' is not in the registry at {rev} ({relative})")
    return state


def _keep(state: RegistryState, kind: Kind, entry: object) -> None:
    if isinstance(entry, ModelEntry):
        state.models[entry.name] = entry
    elif isinstance(entry, VersionEntry):
        state.versions.setdefault(entry.model, []).append(entry)
    elif isinstance(entry, DatasetEntry):
        state.datasets[entry.name] = entry
    elif isinstance(entry, Policy) and kind is Kind.POLICY:
        state.policy = entry
