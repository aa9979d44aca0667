"""Moving the checked-out branch to a commit Steward made, so that a kill at any moment leaves
nothing to repair by hand.

The commit and all its objects exist before anything a user can see changes. Then, in order:

1. a journal, `<git dir>/steward/landing/<new commit>.json`, names the branch, the commit it
   points at (`old`), the commit it moves to (`new`), and the artifact directories to put in
   place or take away (they are ignored by git and filled from the DVC cache);
2. the branch moves from `old` to `new` by compare-and-swap (`git update-ref NEW OLD`): if
   another process moved it first, this one is told (BranchMoved) and has changed nothing;
3. the working tree takes the files that differ between `old` and `new` (each written beside
   the journal and renamed into place), then the index takes them from `new`;
4. the artifact directories are put in place and the journal is removed.

A kill after step 1 leaves the journal behind; every Steward command looks for one first
(`recover`). If the branch still points at `old`, nothing had happened and the journal is
dropped; if at `new`, steps 3 and 4 run again (each is idempotent); if elsewhere, someone moved
the branch since, and the journal is dropped. A live process holds an exclusive lock on its
journal, so recovery never touches a landing in progress, and the kernel releases the lock of a
killed one.

A file that the user changed in the working tree or the index is never overwritten: before the
branch moves, such a change to a file the move would rewrite refuses the move (LocalChanges).
"""

from __future__ import annotations

import errno
import fcntl
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
    if current_branch(root) != landing.branch:
        raise BranchMoved(f"{landing.branch} is no longer checked out")
    changed = _changed_paths(root, landing.old, landing.new)
    _refuse_local_changes(root, landing, changed)
    directory = journal_dir(root)
    directory.mkdir(parents=True, exist_ok=True)
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
        _materialize(root, landing, changed, directory, place_data)
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
    tree; what was finished, for a message. Landings still in progress are left alone."""
    try:
        directory = journal_dir(root)
    except GitCommandError:
        return []
    if not directory.is_dir():
        return []
    finished = []
    for path in sorted(directory.glob("*.json")):
        with _locked(path) as locked:
            if not locked:
                continue  # a live process is landing it
            try:
                landing = Landing.from_json(path.read_text("utf-8"))
            except (OSError, ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)  # torn before its rename: never acted on
                continue
            if _current_branch_or_none(root) == landing.branch and (
                _tip(root, landing.branch) == landing.new
            ):
                changed = _changed_paths(root, landing.old, landing.new)
                _materialize(root, landing, changed, directory, place_data)
                finished.append(landing.what or landing.new[:12])
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
    scratch: Path,
    place_data: DataPlacer | None,
) -> None:
    """Steps 3 and 4: idempotent, so a re-run after a kill in the middle finishes them. A file
    whose content is neither the old nor the new one is the user's edit, and stays."""
    old = _tree_blobs(root, landing.old, changed)
    new = _tree_blobs(root, landing.new, changed)
    with CatFile(root) as cat:
        for path in changed:
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
                _write(target, want, new[path].mode, scratch)
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


def _write(target: Path, content: bytes, mode: str, scratch: Path) -> None:
    """Write through a temporary file in the journal's directory and rename it into place, so a
    kill leaves either the old file or the new one (and at worst a temporary that recovery
    sweeps), never half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    temporary = scratch / f"tmp-{os.getpid()}-{target.name}"
    temporary.unlink(missing_ok=True)
    if mode == "120000":
        temporary.symlink_to(os.fsdecode(content))
    else:
        temporary.write_bytes(content)
        if mode == "100755":
            temporary.chmod(0o755)
    try:
        temporary.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:  # the git dir is on another file system: write in place
            raise
        temporary.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        if mode == "120000":
            target.symlink_to(os.fsdecode(content))
        else:
            target.write_bytes(content)


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


def _current_branch_or_none(root: Path) -> str | None:
    try:
        return current_branch(root)
    except StewardError:
        return None


@contextmanager
def _journal(directory: Path, landing: Landing) -> Iterator[Path]:
    """Write the journal atomically (temporary, fsync, rename) and hold its lock until the
    landing is done; the lock dies with the process."""
    final = directory / f"{landing.new}.json"
    temporary = directory / f"tmp-{os.getpid()}-{landing.new}.json"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, landing.to_json().encode("utf-8"))
        os.fsync(fd)
        temporary.replace(final)
        yield final
    finally:
        temporary.unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def _locked(path: Path) -> Iterator[bool]:
    """Try to take a journal's lock: True if taken (and the journal is still there)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield os.fstat(fd).st_nlink > 0
    finally:
        os.close(fd)
