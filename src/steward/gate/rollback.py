"""`steward rollback`: give a stage back to the version that held it before.

A rollback is a proposal like any promotion (a branch, a one-line `stage:` change per version, a
pull request), so it is judged and recorded like one. The gate recognises it from history — the
version held the stage on the base branch before — and then applies the policy's `rollback`
rule: its approvals (fewer, perhaps, never none) instead of the transition's, and of the
transition's gates only the one that still makes sense: the artifact is on the remote.
"""

from __future__ import annotations

from pathlib import Path

from steward.aftermerge.history import model_history
from steward.entries import layout
from steward.entries.markdown_text import code, escape_inline
from steward.entries.models import VersionEntry
from steward.entries.yamlio import replace_top_level_value
from steward.errors import StewardError
from steward.forge.protocol import Forge, proposer_trailer
from steward.gate.promotion import Promotion
from steward.gitio.gitcmd import (
    CatFile,
    commit_blobs,
    current_branch,
    free_branch,
    head_commit,
    run_git,
)
from steward.reading.catalog import NotFound, versions


class RollbackError(StewardError):
    """There is nothing to roll back to, or the target cannot take the stage back."""


def previous_holder(root: Path, model: str, stage: str, current: str | None) -> str:
    """The most recent version other than `current` that entered `stage` on this branch."""
    for event in model_history(root, model).events:  # newest first
        if event.event == "entered" and event.stage == stage and event.version != current:
            return event.version
    raise RollbackError(f"no earlier version of {model} held {stage}: nothing to roll back to")


def propose_rollback(
    root: Path,
    forge: Forge,
    model: str,
    author: str,
    to: str | None = None,
    stage: str = "production",
    reason: str = "",
) -> Promotion:
    """Open a proposal that archives the current holder of `stage` and gives the stage back to
    `to` (default: the version that held it before)."""
    entries = {entry.version: entry for entry in versions(root, model)}
    holders = [entry for entry in entries.values() if entry.stage == stage]
    current = holders[-1].version if holders else None
    target = to or previous_holder(root, model, stage, current)
    if target not in entries:
        raise NotFound(f"{model} {target} is not registered")
    if target == current:
        raise RollbackError(f"{model} {target} already holds {stage}")
    if entries[target].stage == "retired":
        raise RollbackError(f"{model} {target} is retired: its artifact may be gone")
    base = head_commit(root)
    files = {_path(model, target): _restaged(root, base, model, target, stage)}
    for holder in holders:
        files[_path(model, holder.version)] = _restaged(
            root, base, model, holder.version, "archived"
        )
    archived = tuple(holder.version for holder in holders)
    title = f"Roll back {model} {stage} to {target}"
    message = f"{title}\n\nSteward-Rollback: {model} {target} {stage}\n{proposer_trailer(author)}\n"
    branch = free_branch(root, f"steward/rollback/{model}-{target}-{stage}")
    commit = commit_blobs(root, base, files, message, branch)
    body = _body(entries[target], stage, archived, reason)
    try:
        forge.publish(root, branch)
        proposal = forge.create_proposal(title, body, branch, current_branch(root), author)
    except BaseException:
        run_git(root, "update-ref", "-d", f"refs/heads/{branch}", commit)
        raise
    return Promotion(proposal, branch, commit, archived)


def _path(model: str, version: str) -> str:
    return layout.version_path(model, version)


def _restaged(root: Path, base: str, model: str, version: str, stage: str) -> bytes:
    path = _path(model, version)
    with CatFile(root) as cat:
        raw = cat.read_optional(f"{base}:{path}")
    if raw is None:
        raise NotFound(f"{path} is not on the current branch")
    return replace_top_level_value(raw.decode("utf-8"), "stage", stage, path).encode("utf-8")


def _body(target: VersionEntry, stage: str, archived: tuple[str, ...], reason: str) -> str:
    name = escape_inline(f"{target.model} {target.version}")
    lines = [
        f"**Rollback**: {name} takes {code(stage)} back"
        + (f" from {escape_inline(', '.join(archived))}, which is archived." if archived else "."),
        "",
        f"{escape_inline(target.version)} held {code(stage)} before; the policy's rollback rule "
        "applies.",
    ]
    if reason:
        lines += ["", f"Why: {escape_inline(reason)}"]
    return "\n".join(lines) + "\n"
