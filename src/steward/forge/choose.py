"""Forges: where proposals (pull requests) and reviews live. The registry talks to one through the
narrow `Forge` protocol; `local` keeps them inside the repository's `.git` (the embedded default),
a GitHub implementation comes with the GitHub issue."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from steward.forge.protocol import Forge, ForgeError


def _origin_url(root: Path) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), "remote", "get-url", "origin"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def open_forge(root: Path, github_token: str | None = None) -> Forge:
    """The forge of the registry at `root`.

    `STEWARD_FORGE=local|github` decides when set. Otherwise a registry whose `origin` is on
    GitHub (github.com, or the host of GITHUB_SERVER_URL for GitHub Enterprise) uses GitHub, and
    any other uses the local forge kept in `.git`."""
    from steward.forge.github import GitHubForge, GitHubSettings, repository_from_remote

    choice = os.environ.get("STEWARD_FORGE", "").strip().lower()
    if choice not in ("", "local", "github"):
        raise ForgeError(f"STEWARD_FORGE={choice!r}: expected 'local' or 'github'")
    if choice != "local":
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        repository = repository_from_remote(_origin_url(root), server)
        if choice == "github" or repository:
            settings = GitHubSettings.from_environment(repository, github_token)
            return GitHubForge(settings)
    from steward.forge.local import LocalForge

    return LocalForge(root)
