"""The registries a federated answer reads: each member's mirror at its branch, or the reason it
cannot be read (never synced, the branch never fetched).

Queries never fetch (`steward federation sync` does): they read what the mirrors hold, and a
registry they cannot read is named in the answer, never silently left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.entries.problems import Problem
from steward.federation.mirror import (
    isolate_from_repository_env,
    last_failure,
    last_synced,
    mirror_path,
    mirrored_tip,
    mirrors_dir,
)
from steward.federation.spec import Federation, Member
from steward.gitio.tree import GitSnapshot


@dataclass(frozen=True)
class Source:
    """One registry as a federated answer reads it: its mirror at the commit of its branch."""

    member: Member
    mirror: Path
    commit: str
    tree: str | None = None

    @property
    def name(self) -> str:
        return self.member.name

    def snapshot(self) -> GitSnapshot:
        snapshot = GitSnapshot(self.mirror, self.commit, tree=self.tree, git_dir=self.mirror)
        snapshot.label = f"registry {self.name} at {self.commit[:12]}"
        return snapshot

    def as_dict(self) -> dict[str, Any]:
        member = self.member
        return {
            "name": member.name,
            "url": member.url,
            "branch": member.branch,
            "commit": self.commit,
        }


@dataclass(frozen=True)
class Unavailable:
    """A registry of the federation that this answer could not read as its branch is now, and
    why: not at all (`read_commit` None), or only as an older copy (its last sync failed)."""

    registry: str
    reason: str
    read_commit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"registry": self.registry, "reason": self.reason, "read_commit": self.read_commit}

    def render(self) -> str:
        if self.read_commit is not None:
            return (
                f"registry {self.registry} STALE: {self.reason}; read as last fetched, at "
                f"{self.read_commit[:12]}"
            )
        return f"registry {self.registry} UNAVAILABLE: {self.reason}"


@dataclass(frozen=True)
class RegistryProblem:
    """A file of one registry that could not be read."""

    registry: str
    problem: Problem

    def as_dict(self) -> dict[str, Any]:
        return {"registry": self.registry, **self.problem.as_dict()}

    def render(self) -> str:
        return f"{self.registry}: {self.problem.render()}"


def open_sources(federation: Federation) -> tuple[list[Source], list[Unavailable]]:
    """Every member's mirror that holds its branch, in the federation file's order; the others
    with the reason they cannot be read, and those whose last sync failed (read, and named as
    stale: an answer from an older copy must say so)."""
    isolate_from_repository_env()
    sources: list[Source] = []
    unavailable: list[Unavailable] = []
    hint = f"run `steward federation sync {federation.path}`"
    directory = mirrors_dir(federation)
    for member in federation.members:
        mirror = mirror_path(federation, member, directory)
        tip = mirrored_tip(mirror, member)
        commit, tree = tip if tip is not None else (None, None)
        failure = last_failure(mirror)
        synced = last_synced(mirror)
        if (
            commit is not None
            and synced is not None
            and ((synced.url, synced.branch) != (member.fetch_url, member.branch))
        ):
            # Another file's registry of this name, or a URL edited since: not this registry.
            why = (
                f"its mirror holds branch {synced.branch} of {synced.url}, not branch "
                f"{member.branch} of {member.fetch_url} ({hint})"
            )
            unavailable.append(Unavailable(member.name, why))
        elif commit is not None:
            sources.append(Source(member, mirror, commit, tree))
            if failure is not None:
                reason = f"the last sync failed ({failure}); {hint}"
                unavailable.append(Unavailable(member.name, reason, commit))
            elif synced is None or synced.commit != commit:
                reason = f"its last sync did not finish; {hint}"
                unavailable.append(Unavailable(member.name, reason, commit))
        elif not (mirror / "HEAD").is_file():
            unavailable.append(Unavailable(member.name, f"never synced ({hint})"))
        else:
            unavailable.append(
                Unavailable(
                    member.name,
                    f"branch {member.branch} of {member.url} was never fetched (the last sync "
                    f"failed: {failure or 'interrupted'}; {hint})",
                )
            )
    return sources, unavailable


def split_target(target: str, names: list[str]) -> tuple[str | None, str]:
    """`REGISTRY/NAME` or `NAME`: the registry (None when not given) and the name."""
    registry, slash, name = target.partition("/")
    if not slash:
        return None, target
    if registry not in names:
        from steward.errors import UsageError

        listed = ", ".join(names)
        raise UsageError(f"no registry '{registry}' in the federation (it has: {listed})")
    return registry, name
