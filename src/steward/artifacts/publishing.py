"""Pushing a clone's registrations: bounded retries, and moving unpushed registrations onto the
remote's tip when their numbers were taken there meanwhile.

A registration commit is recognised by its trailers (`Steward-Model`, `Steward-Version`,
`Steward-Artifact`, and `Steward-Numbering`: the bump that chose the number, or `requested` for
`--version`) and by touching only its version's entry, pointer and the model's `.gitignore`.
When a push is rejected, the remote's tip is fetched and each local registration is rebuilt on it,
oldest first:

- content already registered there (same artifact, not retired) is dropped: that version is ours;
- a number still free is kept;
- a number taken by other content is replaced by the next free one if the number was chosen
  automatically; a number the user asked for is refused (versions are never reused).

The rebuilt commits land with `steward.gitio.landing` (crash-safe; the working tree, the index
and the artifact directories follow). Retries back off exponentially with full jitter and stop
after a time budget (`STEWARD_PUSH_TIMEOUT`, seconds), not after a count: with many clones
racing, each eventually wins a turn. Anything not pushed stays committed locally, and
`steward push` (or the same registration again) pushes it later.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from steward import faults
from steward.artifacts.placement import place_data
from steward.entries import layout
from steward.entries.entryfiles import render_entry
from steward.entries.layout import Kind
from steward.entries.models import VersionEntry
from steward.entries.semver import BUMPS, Bump, bump, highest, precedence
from steward.entries.validate import EntryError, parse_file
from steward.entries.yamlio import dumps, loads
from steward.errors import GitCommandError, StewardError
from steward.gitio.gitcmd import (
    CatFile,
    PushRejected,
    current_branch,
    fetch,
    head_commit,
    is_ancestor,
    list_names,
    make_commit,
    push,
    run_git,
    upstream,
)
from steward.gitio.landing import Landing, LocalChanges, land
from steward.gitio.trailers import steward_trailers

DEFAULT_PUSH_TIMEOUT_S = 120.0
_BACKOFF_FIRST_S = 0.05
_BACKOFF_CAP_S = 2.0


class RegistrationError(StewardError):
    """Registration (or pushing registrations) could not complete. Nothing was committed, unless
    the message says the version is committed locally and not pushed (a re-run pushes it)."""


@dataclass(frozen=True)
class Moved:
    """One local registration rebuilt on the remote's tip."""

    model: str
    md5: str
    before: str
    after: str  # the version it is now; with `kept` False, the remote's version of that content
    kept: bool
    lost: bool = False  # its requested number was taken by other content: taken back

    def describe(self) -> str:
        if self.lost:
            return (
                f"{self.model} {self.before} was registered on the remote meanwhile with other "
                "content; this clone's registration of that number was taken back (a number "
                "given with --version is never reused or changed): register the files again "
                "without --version, or with a free number"
            )
        if not self.kept:
            return f"{self.model} {self.before}: already registered there as {self.after}; dropped"
        if self.before != self.after:
            return f"{self.model} {self.before} renumbered {self.after} (the number was taken)"
        return f"{self.model} {self.before} moved onto the remote's tip"


@dataclass
class PushResult:
    remote: str
    branch: str
    head: str
    moved: list[Moved] = field(default_factory=list)

    def version_of(self, model: str, md5: str, version: str) -> tuple[str, bool]:
        """Where a registration of `model` with this content ended up: (version, still ours)."""
        for item in self.moved:
            if item.model == model and item.md5 == md5 and item.before == version:
                if item.lost:
                    raise RegistrationError(item.describe())
                version = item.after
                if not item.kept:
                    return version, False
        return version, True

    @property
    def lost(self) -> list[Moved]:
        return [item for item in self.moved if item.lost]

    def as_dict(self) -> dict[str, object]:
        return {
            "remote": self.remote,
            "branch": self.branch,
            "head": self.head,
            "pushed": True,
            "moved": [
                {
                    "model": m.model,
                    "before": m.before,
                    "after": m.after,
                    "kept": m.kept,
                    "lost": m.lost,
                    "md5": m.md5,
                }
                for m in self.moved
            ],
        }


def push_timeout() -> float:
    text = os.environ.get("STEWARD_PUSH_TIMEOUT", "")
    try:
        return float(text) if text else DEFAULT_PUSH_TIMEOUT_S
    except ValueError:
        raise RegistrationError(
            f"STEWARD_PUSH_TIMEOUT={text!r} is not a number of seconds"
        ) from None


def not_pushed(what: str, remote: str, branch: str, why: object) -> str:
    return (
        f"{what} committed locally but not pushed to {remote}/{branch}: {why}. Run the same "
        "command again, or `steward push`, to push it"
    )


def push_registrations(
    root: Path,
    what: str = "this clone's registrations are",
    timeout_s: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> PushResult:
    """Push the current branch; on a rejection, move local registrations onto the remote's tip
    and try again, backing off with jitter, until pushed or `timeout_s` has passed."""
    remote, branch = upstream(root)
    budget = push_timeout() if timeout_s is None else timeout_s
    deadline = time.monotonic() + budget
    result = PushResult(remote, branch, head_commit(root))
    rejected = 0
    while True:
        try:
            push(root, remote, branch)
        except PushRejected:
            rejected += 1
        except GitCommandError as exc:  # the remote is down, refuses us, or the disk is full
            raise RegistrationError(not_pushed(what, remote, branch, exc)) from exc
        else:
            result.head = head_commit(root)
            return result
        try:
            tip = fetch(root, remote, branch)
        except GitCommandError as exc:
            raise RegistrationError(not_pushed(what, remote, branch, exc)) from exc
        faults.point("push:fetched")
        if is_ancestor(root, head_commit(root), tip):
            result.head = tip
            return result  # everything here is there already
        try:
            result.moved += replay_onto(root, tip)
        except LocalChanges as exc:
            raise RegistrationError(not_pushed(what, remote, branch, exc)) from exc
        faults.point("push:replayed")
        if time.monotonic() >= deadline:
            raise RegistrationError(
                not_pushed(
                    what,
                    remote,
                    branch,
                    f"{rejected} pushes in {budget:g} s were rejected (others kept winning the "
                    "race); the registrations now sit on the remote's latest tip",
                )
            )
        sleep(random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_FIRST_S * 2**rejected)))


# --- registration commits ----------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationCommit:
    commit: str
    model: str
    version: str
    md5: str
    numbering: str  # a bump ("minor"...) when the number was chosen automatically, or "requested"
    author: dict[str, str]


def commit_message(model: str, version: str, md5: str, numbering: str) -> str:
    return (
        f"Register {model} {version}\n\n"
        f"Steward-Model: {model}\nSteward-Version: {version}\nSteward-Artifact: {md5}\n"
        f"Steward-Numbering: {numbering}\n"
    )


def versions_at(root: Path, rev: str, model: str) -> dict[str, VersionEntry]:
    """The versions of `model` as committed at `rev` (what registration decides by: a file that
    is only in the working tree is not registered)."""
    directory = f"{layout.MODELS_DIR}/{model}"
    names = [
        n for n in list_names(root, rev, directory) if n.endswith(".yaml") and n != "model.yaml"
    ]
    found: dict[str, VersionEntry] = {}
    with CatFile(root) as cat:
        for name in names:
            path = f"{directory}/{name}"
            parsed = parse_file(Kind.VERSION, cat.read_optional(f"{rev}:{path}") or b"", path)
            if parsed.problems:
                details = "\n".join(problem.render() for problem in parsed.problems)
                raise EntryError(f"{path} has problems; fix them first:\n{details}")
            found[parsed.entry.version] = parsed.entry
    return found


def identical_version(versions: dict[str, VersionEntry], md5: str) -> str | None:
    """The lowest live version holding this content, if any."""
    for version in sorted(versions, key=precedence):
        entry = versions[version]
        if entry.artifact.md5 == md5 and entry.stage != "retired":
            return version
    return None


def registration_commit(root: Path, commit: str) -> RegistrationCommit | None:
    """`commit` read as a Steward registration, or None if it is anything else."""
    out = run_git(root, "log", "-1", "--format=%P%x00%an%x00%ae%x00%aI%x00%B", commit).decode()
    parents, name, email, date, message = out.split("\x00", 4)
    trailers = steward_trailers(message)
    model = trailers.get("Steward-Model")
    version = trailers.get("Steward-Version")
    md5 = trailers.get("Steward-Artifact")
    if len(parents.split()) != 1 or not model or not version or not md5:
        return None
    allowed = {
        layout.version_path(model, version),
        layout.pointer_path(model, version),
        f"{layout.MODELS_DIR}/{model}/.gitignore",
    }
    touched = run_git(
        root, "diff-tree", "-r", "--no-commit-id", "--name-only", "--no-renames", "-z", commit
    )
    if not {os.fsdecode(p) for p in touched.split(b"\0") if p} <= allowed:
        return None
    author = {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_DATE": date}
    numbering = trailers.get("Steward-Numbering", "requested")
    return RegistrationCommit(commit, model, version, md5, numbering, author)


def data_dir(model: str, version: str) -> str:
    return f"{layout.MODELS_DIR}/{model}/{version}"


def replay_onto(root: Path, tip: str) -> list[Moved]:
    """Rebuild this branch's commits that `tip` lacks on top of `tip`, and land the result. Only
    registrations are moved; any other commit refuses the move, and nothing changes."""
    head = head_commit(root)
    listed = run_git(root, "rev-list", "--reverse", "--topo-order", f"{tip}..{head}").decode()
    commits = [
        registration_commit(root, sha) or _not_a_registration(root, sha) for sha in listed.split()
    ]
    current = tip
    moved: list[Moved] = []
    data: dict[str, str] = {}
    drop: list[str] = []
    for reg in commits:
        versions = versions_at(root, current, reg.model)
        same = identical_version(versions, reg.md5)
        if same is not None:
            moved.append(Moved(reg.model, reg.md5, reg.version, same, kept=False))
            if same != reg.version:  # else the directory holds exactly that version's files
                drop.append(data_dir(reg.model, reg.version))
            continue
        version = reg.version
        if version in versions:
            if reg.numbering not in BUMPS:  # asked for by number: never renumbered, taken back
                moved.append(Moved(reg.model, reg.md5, reg.version, version, kept=False, lost=True))
                drop.append(data_dir(reg.model, reg.version))
                continue
            numbering: Bump = reg.numbering
            version = bump(highest(versions), numbering)
        files = _rebuilt_files(root, reg, version, current)
        message = commit_message(reg.model, version, reg.md5, reg.numbering)
        current = make_commit(root, current, files, message, reg.author)
        if version != reg.version:
            drop.append(data_dir(reg.model, reg.version))
            data[data_dir(reg.model, version)] = reg.md5
        moved.append(Moved(reg.model, reg.md5, reg.version, version, kept=True))
    what = f"moving {len(commits)} registration(s) onto the remote's tip"
    land(
        root,
        Landing(current_branch(root), head, current, data, tuple(drop), what),
        place_data,
    )
    return moved


def _not_a_registration(root: Path, commit: str) -> RegistrationCommit:
    subject = run_git(root, "log", "-1", "--format=%s", commit).decode().strip()
    raise RegistrationError(
        f"commit {commit[:12]} ({subject!r}) is not pushed and is not a registration: Steward "
        "moves only its own registrations onto the remote's tip; push or rebase that commit "
        "yourself first"
    )


def _rebuilt_files(
    root: Path, reg: RegistrationCommit, version: str, onto: str
) -> dict[str, bytes | None]:
    entry_path = layout.version_path(reg.model, version)
    pointer_path = layout.pointer_path(reg.model, version)
    ignore_path = f"{layout.MODELS_DIR}/{reg.model}/.gitignore"
    with CatFile(root) as cat:
        entry_raw = cat.read(f"{reg.commit}:{layout.version_path(reg.model, reg.version)}")
        pointer_raw = cat.read(f"{reg.commit}:{layout.pointer_path(reg.model, reg.version)}")
        ignore = (cat.read_optional(f"{onto}:{ignore_path}") or b"").decode("utf-8")
    if version != reg.version:
        parsed = parse_file(Kind.VERSION, entry_raw, entry_path)
        entry: VersionEntry = parsed.entry
        artifact = entry.artifact.model_copy(update={"dvc": f"{version}.dvc"})
        renumbered = entry.model_copy(update={"version": version, "artifact": artifact})
        entry_raw = render_entry(Kind.VERSION, entry_path, renumbered).encode("utf-8")
        pointer = loads(pointer_raw, pointer_path).data
        for out in pointer.get("outs", []):
            out["path"] = version
        pointer_raw = dumps(pointer).encode("utf-8")
    return {
        entry_path: entry_raw,
        pointer_path: pointer_raw,
        ignore_path: layout.model_gitignore(ignore).encode("utf-8"),
    }
