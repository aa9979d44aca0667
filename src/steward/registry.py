"""The operations users call, over a registry repository found from a starting directory."""

from __future__ import annotations

from pathlib import Path

from steward.check import CheckReport, check_cached
from steward.gitcmd import find_repo_root
from steward.tree import GitSnapshot, Snapshot, WorktreeSnapshot


def open_snapshot(start: Path, rev: str | None = None) -> Snapshot:
    root = find_repo_root(start)
    return WorktreeSnapshot(root) if rev is None else GitSnapshot(root, rev)


def check_registry(start: Path, rev: str | None = None) -> CheckReport:
    """Check the working tree (or the tree of `rev`) of the registry containing `start`."""
    return check_cached(open_snapshot(start, rev))
