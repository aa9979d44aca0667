"""The registry's entries at one commit, read from git's object store without a checkout.

Model cards and audit reports describe the registry as it was at a revision, and join what the
entries say with what history says about the same revision (`history.model_history(root, model,
rev)`): both must read one commit, so the revision is resolved to a commit id once, first.

Files that cannot be read are collected as problems, not raised: a report names its gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from steward.entries import layout
from steward.entries.names import is_name
from steward.entries.problems import Problem, sorted_problems
from steward.entries.validate import EntryError
from steward.gitio.gitcmd import resolve_commit
from steward.gitio.tree import GitSnapshot
from steward.reading.catalog import NotFound
from steward.reading.contents import RegistryContents, read_contents


@dataclass(frozen=True)
class RegistryState(RegistryContents):
    """The registry's entries (`contents.RegistryContents`, with the policy) at `commit`."""

    commit: str = ""


def read_registry(root: Path, rev: str = "HEAD", model: str | None = None) -> RegistryState:
    """Every model, version, dataset and the policy at `rev`; with `model`, only that model's
    files (and all datasets and the policy). Raises NotFound when `model` is not there."""
    if model is not None and not is_name(model):
        raise NotFound(f"'{model}' is not a model name, so no such model is registered")
    commit = resolve_commit(root, rev)
    contents = read_contents(GitSnapshot(root, commit), model=model, with_policy=True)
    read = {item.name: getattr(contents, item.name) for item in fields(contents)}
    if contents.policy is None and not any(p.path == layout.POLICY_FILE for p in contents.problems):
        # Roles, required card sections and high-risk approvals all come from the policy: a
        # report without one must say so, not find nothing to object to.
        missing = Problem(layout.POLICY_FILE, None, "", f"does not exist at {commit[:12]}")
        read["problems"] = sorted_problems([*contents.problems, missing])
    state = RegistryState(commit=commit, **read)
    if model is not None and model not in state.models:
        relative = layout.model_path(model)
        details = [p.render() for p in state.problems if p.path == relative]
        if details:
            raise EntryError(f"{relative} at {rev} has problems:\n" + "\n".join(details))
        raise NotFound(f"model '{model}' is not in the registry at {rev} ({relative})")
    return state
