"""Whether a git repository is a Steward registry: commands that write refuse any other."""

from __future__ import annotations

from pathlib import Path

from steward.entries import layout
from steward.errors import RepoError


class NotARegistry(RepoError):
    """A git repository without a registry's policy or DVC."""


def require_registry(root: Path) -> None:
    """Refuse to write into a git repository that `steward init` did not make a registry: one
    without `policies/registry.yaml` or without DVC (`.dvc/`)."""
    missing = [
        what
        for what, present in (
            (layout.POLICY_FILE, (root / layout.POLICY_FILE).is_file()),
            ("DVC (.dvc/)", (root / ".dvc").is_dir()),
        )
        if not present
    ]
    if missing:
        raise NotARegistry(
            f"{root} is a git repository but not a Steward registry (no {' and no '.join(missing)}"
            "): nothing was written. Run `steward init DIR` to make a registry, or `steward -C "
            "REGISTRY ...` to work in one"
        )
