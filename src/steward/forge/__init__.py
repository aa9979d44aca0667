"""Forges: where proposals (pull requests) and reviews live. The registry talks to one through the
narrow `Forge` protocol; `local` keeps them inside the repository's `.git` (the embedded default),
a GitHub implementation comes with the GitHub issue."""

from __future__ import annotations

from pathlib import Path

from steward.forge.protocol import Forge


def open_forge(root: Path) -> Forge:
    """The forge of the registry at `root`: the local one (proposals kept in `.git`) for now."""
    from steward.forge.local import LocalForge

    return LocalForge(root)
