"""Registrations waiting in open proposals (`register --pr`): their numbers count as taken, and the
same content proposed again is answered with the proposal that holds it, so that concurrent and
retried CI jobs neither collide nor duplicate.

A registration proposal is recognised by its head branch, `steward/register/MODEL-VERSION` into
the branch checked out here; its entry is read from the branch itself (fetched from `origin`
when the forge is hosted), never from the proposal's text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.models import VersionEntry
from steward.entries.names import is_version
from steward.entries.validate import parse_file
from steward.errors import GitCommandError
from steward.forge.protocol import Forge
from steward.gitio.gitcmd import CatFile, run_git

BRANCH_PREFIX = "steward/register/"


def registration_branch(model: str, version: str) -> str:
    return f"{BRANCH_PREFIX}{model}-{version}"


@dataclass(frozen=True)
class OpenRegistration:
    version: str
    md5: str | None  # None: the branch's entry could not be read (the number still counts)
    branch: str
    proposal: int | None


def branch_entry(
    root: Path, branch: str, model: str, version: str, sha: str | None = None
) -> VersionEntry | None:
    """The version entry on `branch` (at `sha` when known): from this clone if it has the commit,
    else fetched from origin. None when it cannot be read."""
    path = layout.version_path(model, version)
    candidates = [sha] if sha else []
    candidates.append(f"refs/heads/{branch}")
    with CatFile(root) as cat:
        for rev in candidates:
            raw = cat.read_optional(f"{rev}:{path}")
            if raw is not None:
                break
        else:
            try:
                run_git(root, "fetch", "--quiet", "origin", f"refs/heads/{branch}")
            except GitCommandError:
                return None
            raw = cat.read_optional(f"FETCH_HEAD:{path}")
    if raw is None:
        return None
    entry = parse_file(Kind.VERSION, raw, path).entry
    ok = isinstance(entry, VersionEntry) and (entry.model, entry.version) == (model, version)
    return entry if ok else None


def open_registrations(
    root: Path, forge: Forge, model: str, base_branch: str
) -> dict[str, OpenRegistration]:
    """version -> the open registration proposal of `model` into `base_branch` holding it."""
    prefix = registration_branch(model, "")
    found: dict[str, OpenRegistration] = {}
    for proposal in forge.list_proposals("open"):
        if proposal.base_branch != base_branch or not proposal.head_branch.startswith(prefix):
            continue
        version = proposal.head_branch.removeprefix(prefix)
        if not is_version(version):
            continue
        entry = branch_entry(root, proposal.head_branch, model, version, proposal.head_sha)
        md5 = entry.artifact.md5 if entry is not None else None
        found[version] = OpenRegistration(version, md5, proposal.head_branch, proposal.number)
    return found
