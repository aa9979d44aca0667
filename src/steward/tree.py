"""The files of a registry, from the working tree or from any git revision, without a checkout.

Both kinds of snapshot list the files under the checked roots (registry/, policies/, .steward/)
with their type and size, and read a file's bytes on demand.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from steward.errors import GitCommandError, RepoError
from steward.gitcmd import CatFile, run_git
from steward.layout import CHECKED_ROOTS


class FileType(Enum):
    REGULAR = "regular file"
    SYMLINK = "symbolic link"
    OTHER = "special file"


@dataclass(frozen=True)
class TreeFile:
    path: str
    type: FileType
    size: int
    oid: str | None = None


class Snapshot(Protocol):
    """A set of registry files at one moment: the working tree or a commit."""

    label: str

    def files(self) -> list[TreeFile]: ...

    def read(self, file: TreeFile) -> bytes: ...

    def read_path(self, path: str) -> bytes | None:
        """A file outside the checked roots (e.g. `.github/CODEOWNERS`), or None."""
        ...

    def close(self) -> None: ...


class WorktreeSnapshot:
    """The working tree as git sees it: tracked and untracked files, minus what .gitignore hides.

    Ignoring what git ignores matters: DVC keeps each version's data in a gitignored directory
    beside its pointer, and editors leave files that never reach a commit.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = "working tree"

    def files(self) -> list[TreeFile]:
        out = run_git(
            self.root,
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            *(f":(icase){root}" for root in CHECKED_ROOTS),
        )
        files = []
        for raw_path in sorted(set(out.split(b"\0"))):
            if not raw_path:
                continue
            path = os.fsdecode(raw_path).rstrip("/")
            try:
                info = (self.root / path).lstat()
            except FileNotFoundError:  # deleted in the working tree, still in the index
                continue
            if stat.S_ISLNK(info.st_mode):
                kind = FileType.SYMLINK
            elif stat.S_ISREG(info.st_mode):
                kind = FileType.REGULAR
            else:
                kind = FileType.OTHER
            files.append(TreeFile(path, kind, info.st_size))
        return files

    def read(self, file: TreeFile) -> bytes:
        return (self.root / file.path).read_bytes()

    def read_path(self, path: str) -> bytes | None:
        target = self.root / path
        return target.read_bytes() if target.is_file() and not target.is_symlink() else None

    def close(self) -> None:
        """Nothing to release: files are opened one at a time."""


class GitSnapshot:
    """The tree of a commit, read from git's object store."""

    def __init__(self, root: Path, rev: str) -> None:
        self.root = root
        self.rev = rev
        self.label = f"revision {rev}"
        self._cat: CatFile | None = None

    def files(self) -> list[TreeFile]:
        tree = self._tree_id()
        # ls-tree takes no case-insensitive pathspecs: pick the top-level names first.
        top = run_git(self.root, "ls-tree", "-z", "--name-only", tree)
        names = [
            os.fsdecode(name)
            for name in top.split(b"\0")
            if name and os.fsdecode(name).casefold() in CHECKED_ROOTS
        ]
        if not names:
            return []
        out = run_git(self.root, "ls-tree", "-r", "-z", "-l", "--full-tree", tree, "--", *names)
        files = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, oid, size = meta.split()
            if mode == b"120000":
                file_type = FileType.SYMLINK
            elif kind == b"blob":
                file_type = FileType.REGULAR
            else:
                file_type = FileType.OTHER
            length = int(size) if size != b"-" else 0
            files.append(TreeFile(os.fsdecode(raw_path), file_type, length, oid.decode()))
        return files

    def _tree_id(self) -> str:
        """The tree of `rev`, checked to be a revision (not an option) before git sees it."""
        try:
            out = run_git(
                self.root, "rev-parse", "--verify", "--end-of-options", f"{self.rev}^{{tree}}"
            )
        except GitCommandError:
            raise RepoError(f"'{self.rev}' is not a revision of {self.root}") from None
        return out.decode().strip()

    def read(self, file: TreeFile) -> bytes:
        assert file.oid is not None
        if self._cat is None:
            self._cat = CatFile(self.root)
        return self._cat.read(file.oid)

    def read_path(self, path: str) -> bytes | None:
        if self._cat is None:
            self._cat = CatFile(self.root)
        return self._cat.read_optional(f"{self._tree_id()}:{path}")

    def close(self) -> None:
        if self._cat is not None:
            self._cat.close()
            self._cat = None
