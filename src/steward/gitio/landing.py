"""Moving the checked-out branch to a commit Steward made, so that a kill at any moment leaves
nothing to repair by hand.

The commit and all its objects exist before anything a user can see changes. Then, in order:

1. a journal, `<git dir>/steward/landing/<new commit>.json`, names the branch, the commit it
   points at (`old`), the commit it moves to (`new`), and the artifact directories to put in
   place or take away (they are ignored by git and filled from the DVC cache);
2. the branch moves from `old` to `new` by compare-and-swap (`git update-ref NEW OLD`): if
   another process moved it first, this one is told (BranchMoved) and has changed nothing;
3. the working tree takes the files that differ between `old` and `new` (each written to a
   temporary file beside it, named after its path, and renamed into place), then the index
   takes them from `new`;
4. the artifact directories are put in place and the journal is removed.

A kill after step 1 leaves the journal behind; every Steward command looks for one first
(`recover`). If the branch still points at `old`, nothing had happened and the journal is
dropped; if HEAD is at `new`, steps 3 and 4 run again (each is idempotent); if the branch is at
`new` but another branch or commit is checked out, the journal waits until it is checked out
again; otherwise someone moved the branch since, and the journal is dropped. Landings in one
clone take turns under one lock (`landing.lock`), and recovery takes it too, so it never touches
a landing in progress; the kernel releases the lock of a killed process.

A file that the user changed in the working tree or the index is never overwritten: before the
branch moves, such a change to a file the move would rewrite refuses the move (LocalChanges).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from steward import faults
from steward.errors import GitCommandError, StewardError
from steward.gitio.gitcmd import (
    CatFile,
    current_branch,
    git_dir,
    head_commit,
    make_commit,
    run_git,
)

# Puts artifact directories in place (relative dir -> md5 of its DVC listing) and removes others.
DataPlacer = Callable[[Path, Mapping[str, str], Sequence[str]], None]


class BranchMoved(StewardError):
    """The branch no longer points at the commit the new one was built on."""


class LocalChanges(StewardError):
    """Files the move would rewrite have changes in the working tree or the index."""


class LandingIncomplete(StewardError):
    """The branch moved, but the working tree or the index could not follow yet: the journal
    stays, and the next Steward command finishes the job."""


@dataclass(frozen=True)
class Landing:
    """One move of `branch` from `old` to `new`, and the artifact directories that go with it."""

    branch: str
    old: str
    new: str
    data: dict[str, str] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    what: str = ""

    def to_json(self) -> str:
        return json.dumps(
            {
                "branch": self.branch,
                "old": self.old,
                "new": self.new,
                "data": self.data,
                "drop": list(self.drop),
                "what": self.what,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Landing:
        raw = json.loads(text)
        return cls(
            str(raw["branch"]),
            str(raw["old"]),
            str(raw["new"]),
            {str(k): str(v) for k, v in raw.get("data", {}).items()},
            tuple(str(d) for d in raw.get("drop", [])),
            str(raw.get("what", "")),
        )


def journal_dir(root: Path) -> Path:
    return git_dir(root) / "steward" / "landing"


def land(root: Path, landing: Landing, place_data: DataPlacer | None = None) -> None:
    """Move the checked-out branch from `landing.old` to `landing.new` and bring the working
    tree, the index and the artifact directories along, crash-safely (see the module doc)."""
    directory = journal_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
    with _landing_lock(directory):
        if current_branch(root) != landing.branch:
            raise BranchMoved(f"{landing.branch} is no longer checked out")
        if _tip(root, landing.branch) != landing.old:
            raise BranchMoved(f"{landing.branch} moved while this commit was being made")
        if (git_dir(root) / "index.lock").exists():
            raise LocalChanges(
                "another git process is using this repository (.git/index.lock exists); "
                "nothing changed: run the command again when it is done (or remove a stale lock)"
            )
        changed = _changed_paths(root, landing.old, landing.new)
        _refuse_local_changes(root, landing, changed)
        with _journal(directory, landing) as journal:
            faults.point("land:journal-written")
            try:
                run_git(
                    root,
                    "update-ref",
                    "-m",
                    f"steward: {landing.what or 'land'}",
                    f"refs/heads/{landing.branch}",
                    landing.new,
                    landing.old,
                )
            except GitCommandError as exc:
                journal.unlink(missing_ok=True)
                if _tip(root, landing.branch) != landing.old:
                    raise BranchMoved(
                        f"{landing.branch} moved while this commit was being made; nothing changed"
                    ) from exc
                raise
            faults.point("land:branch-moved")
            try:
                _materialize(root, landing, changed, place_data)
            except (StewardError, OSError) as exc:
                raise LandingIncomplete(
                    f"{landing.what or 'the change'}: committed ({landing.new[:12]}) and "
                    f"{landing.branch} moved to it, but the working tree could not follow: {exc}. "
                    "Nothing is lost: once the cause is gone, any steward command (for example "
                    "`steward check`) finishes it"
                ) from exc
            journal.unlink()


def commit_and_land(root: Path, files: Mapping[str, bytes | None], message: str) -> str:
    """Commit `files` (path -> content; None deletes) on the checked-out branch and bring the
    working tree and the index along, crash-safely; whatever else the user staged stays staged.
    The new commit's id."""
    base = head_commit(root)
    commit = make_commit(root, base, files, message)
    land(root, Landing(current_branch(root), base, commit, what=message.partition("\n")[0]))
    return commit


def recover(root: Path, place_data: DataPlacer | None = None) -> list[str]:
    """Finish (or drop) every landing a killed Steward process left half done in this work
    tree; what was finished, for a message. Waits for a landing in progress to end first."""
    try:
        directory = journal_dir(root)
    except GitCommandError:
        return []
    if not directory.is_dir() or not any(directory.glob("*.json")):
        return []
    finished = []
    with _landing_lock(directory):
        for path in sorted(directory.glob("*.json")):
            try:
                landing = Landing.from_json(path.read_text("utf-8"))
            except (OSError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)  # torn before its rename: never acted on
                continue
            tip = _tip(root, landing.branch)
            if tip == landing.new and _head(root) == landing.new:
                changed = _changed_paths(root, landing.old, landing.new)
                _materialize(root, landing, changed, place_data)
                finished.append(landing.what or landing.new[:12])
            elif tip == landing.new:
                continue  # checked out elsewhere for now: finished when it is checked out again
            path.unlink(missing_ok=True)
        for stale in directory.glob("tmp-*"):
            stale.unlink(missing_ok=True)
    return finished


def pending(start: Path) -> bool:
    """Whether the work tree containing `start` may have a landing to recover: a cheap look, with
    no subprocess, so that every command can afford it."""
    for candidate in (start.resolve(), *start.resolve().parents):
        dot_git = candidate / ".git"
        if dot_git.is_dir():
            return any((dot_git / "steward" / "landing").glob("*.json"))
        if dot_git.is_file():  # a linked worktree: "gitdir: PATH"
            text = dot_git.read_text("utf-8", "replace").strip()
            target = Path(text.removeprefix("gitdir:").strip())
            target = target if target.is_absolute() else candidate / target
            return any((target / "steward" / "landing").glob("*.json"))
    return False


# --- the steps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Blob:
    mode: str
    oid: str


_GITLINK = "160000"
_NONE = _Blob("", "")


def _changed_paths(root: Path, old: str, new: str) -> list[str]:
    out = run_git(root, "diff", "--name-only", "--no-renames", "-z", old, new, "--")
    return [os.fsdecode(p) for p in out.split(b"\0") if p]


def _tree_blobs(root: Path, commit: str, paths: Sequence[str]) -> dict[str, _Blob]:
    if not paths:
        return {}
    args = ("ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths)
    return _listed(run_git(root, "--literal-pathspecs", *args), oid_field=2)


def _index_blobs(root: Path, paths: Sequence[str]) -> dict[str, _Blob]:
    if not paths:
        return {}
    out = run_git(root, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *paths)
    return _listed(out, oid_field=1)


def _listed(out: bytes, oid_field: int) -> dict[str, _Blob]:
    """path -> blob from `ls-tree -z` ("mode type oid\tpath") or `ls-files -s -z` ("mode oid
    stage\tpath") output."""
    found = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        fields = meta.decode().split()
        found[os.fsdecode(name)] = _Blob(fields[0], fields[oid_field])
    return found


def _worktree_content(path: Path) -> bytes | None:
    if path.is_symlink():
        return os.fsencode(path.readlink())
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _refuse_local_changes(root: Path, landing: Landing, changed: list[str]) -> None:
    old = _tree_blobs(root, landing.old, changed)
    new = _tree_blobs(root, landing.new, changed)
    index = _index_blobs(root, changed)
    touched = []
    with CatFile(root) as cat:
        for path in changed:
            if _GITLINK in (old.get(path, _NONE).mode, new.get(path, _NONE).mode):
                continue
            had = cat.read(old[path].oid) if path in old else None
            want = cat.read(new[path].oid) if path in new else None
            have = _worktree_content(root / path)
            staged = index.get(path)
            if have not in (had, want) or staged not in (old.get(path), new.get(path)):
                touched.append(path)
    if touched:
        raise LocalChanges(
            f"{', '.join(touched)} {'has' if len(touched) == 1 else 'have'} changes in the "
            f"working tree or the index that {landing.what or 'this change'} would overwrite; "
            "commit them, or undo them, and run the command again"
        )


def _materialize(
    root: Path,
    landing: Landing,
    changed: list[str],
    place_data: DataPlacer | None,
) -> None:
    """Steps 3 and 4: idempotent, so a re-run after a kill in the middle finishes them. A file
    whose content is neither the old nor the new one is the user's edit, and stays."""
    old = _tree_blobs(root, landing.old, changed)
    new = _tree_blobs(root, landing.new, changed)
    with CatFile(root) as cat:
        for path in changed:
            if _GITLINK in (old.get(path, _NONE).mode, new.get(path, _NONE).mode):
                continue  # a submodule: git's business, not a file to write
            target = root / path
            want = cat.read(new[path].oid) if path in new else None
            have = _worktree_content(target)
            if have == want:
                continue
            had = cat.read(old[path].oid) if path in old else None
            if have != had:
                continue
            if want is None:
                target.unlink(missing_ok=True)
                _remove_empty_parents(root, target.parent)
            else:
                _write(target, want, new[path].mode)
    faults.point("land:files-written")
    if changed:
        run_git(
            root,
            "--literal-pathspecs",
            "reset",
            "--quiet",
            landing.new,
            "--pathspec-from-file=-",
            "--pathspec-file-nul",
            input_bytes=b"\0".join(os.fsencode(p) for p in changed) + b"\0",
        )
    faults.point("land:index-updated")
    if place_data is not None and (landing.data or landing.drop):
        place_data(root, landing.data, landing.drop)
    faults.point("land:data-placed")


def _write(target: Path, content: bytes, mode: str) -> None:
    """Write through a temporary file beside the target (named after the target's path, so a
    re-run after a kill reuses and replaces it) and rename it into place: a kill leaves either
    the old file or the new one, never half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    digest = hashlib.sha256(os.fsencode(target.name)).hexdigest()[:16]
    temporary = target.parent / f".steward-landing-{digest}.tmp"
    temporary.unlink(missing_ok=True)
    if mode == "120000":
        temporary.symlink_to(os.fsdecode(content))
    else:
        temporary.write_bytes(content)
        if mode == "100755":
            temporary.chmod(0o755)
    temporary.replace(target)


def _remove_empty_parents(root: Path, directory: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _tip(root: Path, branch: str) -> str | None:
    try:
        return (
            run_git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
            .decode()
            .strip()
        )
    except GitCommandError:
        return None


def _head(root: Path) -> str | None:
    try:
        return run_git(root, "rev-parse", "--verify", "--quiet", "HEAD").decode().strip()
    except GitCommandError:
        return None


@contextmanager
def _landing_lock(directory: Path) -> Iterator[None]:
    """One landing (or recovery) at a time in this work tree."""
    fd = os.open(directory / "landing.lock", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def _journal(directory: Path, landing: Landing) -> Iterator[Path]:
    """Write the journal atomically (temporary, fsync, rename); the caller holds the landing
    lock until the landing is done."""
    final = directory / f"{landing.new}.json"
    temporary = directory / f"tmp-{os.getpid()}-{landing.new}.json"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, landing.to_json().encode("utf-8"))
        os.fsync(fd)
        temporary.replace(final)
        yield final
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)
