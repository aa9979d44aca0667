"""Choosing the forge: where proposals (pull requests) and reviews live. The registry talks to one
through the narrow `Forge` protocol; `local` keeps them inside the repository's `.git` (the
embedded default), `github` on a GitHub repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from steward.forge.protocol import Forge, ForgeError


def origin_url(root: Path) -> str:
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
    any other uses the local forge kept in `.git`, except inside GitHub Actions: proposals kept
    in a runner's `.git` vanish with the runner while the job reports success, so there an
    unrecognised origin is an error naming what to set.

    The GitHub repository is `STEWARD_REPOSITORY` when set (a training job's registry clone),
    else the one `origin` names, else GITHUB_REPOSITORY (the workflow's own repository)."""
    from steward.forge.github import GitHubForge, GitHubSettings, repository_from_remote

    choice = os.environ.get("STEWARD_FORGE", "").strip().lower()
    if choice not in ("", "local", "github"):
        raise ForgeError(f"STEWARD_FORGE={choice!r}: expected 'local' or 'github'")
    if choice != "local":
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
        origin = origin_url(root)
        explicit = os.environ.get("STEWARD_REPOSITORY", "").strip() or None
        repository = explicit or repository_from_remote(origin, server)
        if choice == "github" or repository:
            settings = GitHubSettings.from_environment(repository, github_token)
            return GitHubForge(settings)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            raise ForgeError(
                f"inside GitHub Actions, and origin ({origin or 'none'}) is not a repository on "
                f"{server}: Steward will not keep proposals in the runner's local forge, where "
                "they would vanish with the job. Set STEWARD_FORGE=github and "
                "STEWARD_REPOSITORY=OWNER/NAME (the registry repository), or STEWARD_FORGE=local "
                "if a local forge is really meant"
            )
    from steward.forge.local import LocalForge

    return LocalForge(root)
