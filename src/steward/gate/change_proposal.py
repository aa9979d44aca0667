"""`steward propose`: any change as a proposal, not only a stage change: the working tree's
uncommitted edits (a model card, a classification, a policy, a hook script) or an existing
branch. The gate judges it like every other proposal."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from steward.entries import layout
from steward.entries.markdown_text import code, escape_inline
from steward.errors import StewardError
from steward.forge.protocol import Forge, Proposal, proposer_trailer
from steward.gitio.gitcmd import (
    commit_blobs,
    current_branch,
    free_branch,
    head_commit,
    resolve_commit,
    run_git,
)
from steward.reading.registry_root import require_registry


class NothingToPropose(StewardError):
    """No uncommitted change (under the paths given), and no branch named."""


@dataclass(frozen=True)
class ProposedChange:
    proposal: Proposal
    branch: str
    paths: tuple[str, ...]  # what moved from the working tree to the branch (none for --branch)


# Untracked files are carried from these directories, or when named: a stray data file or
# notebook beside the registry is not swept into a proposal (nor out of the working tree).
_REGISTRY_DIRS = (layout.REGISTRY_DIR, layout.POLICIES_DIR, layout.STEWARD_DIR)


def uncommitted_paths(root: Path, only: tuple[str, ...] = ()) -> list[str]:
    """What `propose` carries: tracked files changed in the working tree or the index, and
    untracked files that are not ignored, in the registry's own directories or named in `only`;
    everything under `only` when given."""
    out = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
    prefixes = [p.rstrip("/") for p in only]

    def under(path: str, dirs: list[str] | tuple[str, ...]) -> bool:
        return any(path == d or path.startswith(d + "/") for d in dirs)

    paths = []
    for record in out.split(b"\0"):
        if len(record) <= 3:
            continue
        path = os.fsdecode(record[3:])
        untracked = record[:2] == b"??"
        if prefixes and not under(path, prefixes):
            continue
        if untracked and not prefixes and not under(path, _REGISTRY_DIRS):
            continue
        paths.append(path)
    return sorted(paths)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "change"


def propose_edits(
    root: Path, forge: Forge, author: str, title: str | None, only: tuple[str, ...] = ()
) -> ProposedChange:
    """Commit the uncommitted edits on a new branch off HEAD, open a proposal for it, and put the
    working tree back at HEAD for those files (the edits now live on the branch: nothing is
    lost, and the merge will bring them back)."""
    require_registry(root)
    paths = uncommitted_paths(root, only)
    if not paths:
        where = f" under {', '.join(only)}" if only else ""
        raise NothingToPropose(
            f"nothing to propose: no uncommitted changes{where} (edit files, or name a branch "
            "with --branch)"
        )
    base = head_commit(root)
    # Added to the index and then deleted (status AD): neither in HEAD nor on disk, no change.
    paths = [p for p in paths if (root / p).exists() or _tracked(root, base, p)]
    if not paths:
        raise NothingToPropose("nothing to propose: the changes cancel out (added, then deleted)")
    files: dict[str, bytes | None] = {}
    executable = set()
    for path in paths:
        target = root / path
        if target.is_symlink() or target.is_dir():
            raise StewardError(f"{path}: propose carries regular files only")
        if target.exists():
            files[path] = target.read_bytes()
            if os.access(target, os.X_OK):
                executable.add(path)
        else:
            files[path] = None
    title = title or f"Change {', '.join(paths[:3])}" + (" ..." if len(paths) > 3 else "")
    proposal, branch = propose_files(root, forge, author, title, files, frozenset(executable))
    # Literal pathspecs: a name such as `x[1].txt` must not match (and revert) `x1.txt`.
    tracked = [p for p in paths if _tracked(root, base, p)]
    if tracked:
        run_git(
            root,
            "--literal-pathspecs",
            "restore",
            "--source",
            base,
            "--staged",
            "--worktree",
            "--",
            *tracked,
        )
    for path in set(paths) - set(tracked):
        (root / path).unlink(missing_ok=True)
        run_git(
            root, "--literal-pathspecs", "rm", "--cached", "--quiet", "--ignore-unmatch", "--", path
        )
    return ProposedChange(proposal, branch, tuple(paths))


def propose_files(
    root: Path,
    forge: Forge,
    author: str,
    title: str,
    files: dict[str, bytes | None],
    executable: frozenset[str] = frozenset(),
) -> tuple[Proposal, str]:
    """Commit `files` on a new branch off HEAD (nothing in the working tree moves) and open a
    proposal for it into the branch checked out here; the proposal and its branch."""
    base_branch = current_branch(root)
    base = head_commit(root)
    branch = free_branch(root, f"steward/propose/{_slug(title)}")
    message = f"{title}\n\n{proposer_trailer(author)}\n"
    commit = commit_blobs(root, base, files, message, branch, executable=executable)
    body = "Changes:\n\n" + "".join(f"- {code(path)}\n" for path in files)
    return _open(root, forge, branch, base_branch, title, body, author, commit), branch


def propose_branch(
    root: Path, forge: Forge, author: str, title: str | None, branch: str
) -> ProposedChange:
    """Open a proposal for an existing branch, into the branch checked out here."""
    tip = resolve_commit(root, f"refs/heads/{branch}")
    base_branch = current_branch(root)
    subject = run_git(root, "log", "-1", "--format=%s", tip).decode().strip()
    title = title or subject or f"Merge {branch}"
    body = f"Proposes branch {escape_inline(branch)} ({code(tip[:12])}).\n"
    proposal = _open(root, forge, branch, base_branch, title, body, author, None)
    return ProposedChange(proposal, branch, ())


def _open(
    root: Path,
    forge: Forge,
    branch: str,
    base_branch: str,
    title: str,
    body: str,
    author: str,
    made: str | None,
) -> Proposal:
    try:
        forge.publish(root, branch)
        return forge.create_proposal(title, body, branch, base_branch, author)
    except BaseException:
        if made is not None:  # a branch this command made: take it back
            run_git(root, "update-ref", "-d", f"refs/heads/{branch}", made)
        raise


def _tracked(root: Path, commit: str, path: str) -> bool:
    out = run_git(root, "--literal-pathspecs", "ls-tree", "--name-only", commit, "--", path)
    return bool(out.strip())
