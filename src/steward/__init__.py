"""Steward: a model registry that governs ML models through Git, DVC and pull requests.

For training code:

    import steward
    result = steward.register("fraud-detector", ["out/model.pkl"], metrics={"auc": 0.93})
    print(result.version)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.version import __version__

if TYPE_CHECKING:
    from steward.artifacts.registration import Registration
    from steward.entries.semver import Bump

__all__ = ["__version__", "register"]


def register(
    model: str,
    paths: Sequence[str | Path],
    *,
    repo: str | Path = ".",
    version: str | None = None,
    bump: Bump = "minor",
    metrics: Mapping[str, float] | None = None,
    datasets: Sequence[str] = (),
    params: Mapping[str, Any] | None = None,
    features: Sequence[str] = (),
    description: str | None = None,
    tags: Sequence[str] = (),
    format: str | None = None,
    duration_s: float | None = None,
    created_by: str | None = None,
    push: bool = False,
    pull_request: bool = False,
) -> Registration:
    """Register `paths` as a new version of `model` in the registry repo at `repo`.

    Same as `steward register`: the artifact is hashed, pushed to the DVC default remote and
    committed with its entry at stage `development`; identical content returns the existing
    version (`created` is False). `datasets` are `ID` or `ID@VERSION`. With `pull_request`,
    the version is committed on a new branch with a proposal (pull request) instead of on the
    current branch; `proposal` and `branch` of the result say which. Raises StewardError
    subclasses on failure, leaving the repository as it was.
    """
    from steward.artifacts.registration import (
        DatasetCitation,
        RegistrationRequest,
        register_version,
    )
    from steward.gitio.gitcmd import find_repo_root

    request = RegistrationRequest(
        model=model,
        sources=tuple(Path(p) for p in paths),
        version=version,
        bump=bump,
        metrics=dict(metrics or {}),
        datasets=tuple(DatasetCitation.parse(d) for d in datasets),
        params=dict(params or {}),
        features=tuple(features),
        description=description,
        tags=tuple(tags),
        format=format,
        duration_s=duration_s,
        created_by=created_by,
        push=push,
        pull_request=pull_request,
    )
    return register_version(find_repo_root(Path(repo)), request)
