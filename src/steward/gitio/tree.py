"""The files of a registry, from the working tree or from any git revision, without a checkout.

Both kinds of snapshot list the files under the checked roots (registry/, policies/, .steward/)
with their type and size, and read a file's bytes on demand.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from steward.entries.layout import CHECKED_ROOTS, CODEOWNERS_PATH
from steward.entries.yamlio import MAX_FILE_BYTES
from steward.errors import GitCommandError, RepoError
from steward.gitio.gitcmd import CatFile, find_repo_root, run_git, run_git_parallel


class FileType(Enum):
    REGULAR = "regular file"
    SYMLINK = "symbolic link"
    OTHER = "special file"


@dataclass(frozen=True, slots=True)  # 200,000 of them are listed at once
class TreeFile:
    path: str
    type: FileType
    size: int | None  # None: not known without reading (a file git's index vouches for)
    oid: str | None = None


class Snapshot(Protocol):
    """A set of registry files at one moment: the working tree or a commit."""

    root: Path
    label: str
    git_dir: Path | None  # the common git directory, when known without asking git

    def files(self, only: list[str] | None = None) -> list[TreeFile]:
        """The files under the checked roots, or only those under the paths `only` names (exact
        paths, case and all: no pattern)."""
        ...

    def key(self) -> str:
        """A name for this state of the files (and of what else `check` reads): equal keys,
        equal content."""
        ...

    def read(self, file: TreeFile) -> bytes: ...

    def content_id(self, file: TreeFile, raw: bytes) -> str | None:
        """The blob id of `raw`, read from `file`: what a record of it is cached under."""
        ...

    def unchanged_since(self, key: str) -> bool:
        """Whether the files are still in the state `key` names (an answer is cached only
        then: one read while files changed could be of neither state)."""
        ...

    def read_path(self, path: str) -> bytes | None:
        """A file outside the checked roots (e.g. `.github/CODEOWNERS`), or None."""
        ...

    def close(self) -> None: ...


class WorktreeSnapshot:
    """The working tree as git sees it: tracked and untracked files, minus what .gitignore hides.

    Ignoring what git ignores matters: DVC keeps each version's data in a gitignored directory
    beside its pointer, and editors leave files that never reach a commit.

    Every regular file gets its git blob id, so that what was read of it can be cached: a file
    git's index knows as unchanged has the index's id (git compares size, times and inode, and
    the content where those cannot tell), any other is hashed here as `git hash-object` would.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.git_dir: Path | None = None
        self.label = "working tree"
        self._raw: tuple[bytes, dict[str, TreeFile | None]] | None = None

    def _listing(self) -> tuple[bytes, dict[str, TreeFile | None]]:
        """git's index of the checked roots (raw), and every file git cannot vouch for: changed
        since the index, in conflict, or untracked (None: deleted from the working tree)."""
        if self._raw is None:
            self._raw = self._listed([f":(icase){root}" for root in CHECKED_ROOTS])
        return self._raw

    def _listed(self, pathspecs: list[str]) -> tuple[bytes, dict[str, TreeFile | None]]:
        """`_listing` of the files these pathspecs name."""
        pathspecs = ["--", *pathspecs]
        # Three questions at once (two cores): the index, what differs from it, what is new.
        staged, changed, others = run_git_parallel(
            self.root,
            ("ls-files", "-z", "--stage", "-v", *pathspecs),
            ("diff-files", "-z", "--name-only", *pathspecs),
            ("ls-files", "-z", "--others", "--exclude-standard", *pathspecs),
        )
        dirty = set(_paths(changed))
        dirty.update(path.rstrip("/") for path in _paths(others))
        # Records read `TAG MODE OID STAGE<TAB>PATH`. Git vouches only for tag H at stage 0:
        # a conflict (stages 1 to 3), and files it was told not to look at (assume-unchanged,
        # skip-worktree: tags h, S, s), are read from the working tree. Finding the bytes is
        # quick; the records then say for sure.
        markers = (b" 1\t", b" 2\t", b" 3\t", b"\0h ", b"\0S ", b"\0s ", b"\0M ")
        if not staged.startswith(b"H ") or any(marker in staged for marker in markers):
            for record in _paths(staged):
                meta, _, path = record.partition("\t")
                if not (meta.startswith("H ") and meta.endswith(" 0")):
                    dirty.add(path)
        return staged, {path: self._inspect(path) for path in sorted(dirty)}

    def files(self, only: list[str] | None = None) -> list[TreeFile]:
        """The files under the checked roots, or only those under the paths `only` names."""
        if only is not None and not only:
            return []
        staged, dirty = (
            self._listing()
            if only is None
            else self._listed([f":(literal){path}" for path in only])
        )
        known: dict[str, TreeFile] = {}
        for record in _paths(staged):
            meta, _, path = record.partition("\t")
            if path in dirty:
                continue
            _tag, mode, oid, _stage = meta.split()
            known[path] = TreeFile(path, _TYPE_OF_MODE.get(mode, FileType.OTHER), None, oid)
        for path, file in dirty.items():
            if file is not None:
                known[path] = file
        return [known[path] for path in sorted(known)]

    def _inspect(self, path: str) -> TreeFile | None:
        """A file git cannot vouch for: its type and size from the file system, and its blob id
        from its content."""
        try:
            info = (self.root / path).lstat()
        except FileNotFoundError:  # deleted in the working tree, still in the index
            return None
        if stat.S_ISLNK(info.st_mode):
            return TreeFile(path, FileType.SYMLINK, info.st_size)
        if not stat.S_ISREG(info.st_mode):
            return TreeFile(path, FileType.OTHER, info.st_size)
        if info.st_size > MAX_FILE_BYTES:  # never read: too large to be an entry
            return TreeFile(path, FileType.REGULAR, info.st_size)
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return TreeFile(path, FileType.REGULAR, info.st_size)
        return TreeFile(path, FileType.REGULAR, len(data), blob_id(data))

    def key(self) -> str:
        """Names this state of every file (git's index and the files it cannot vouch for) and
        the CODEOWNERS file `check` compares, without listing the files one by one."""
        staged, dirty = self._listing()
        digest = hashlib.sha1(staged, usedforsecurity=False)
        for path, file in dirty.items():
            shown = "deleted" if file is None else f"{file.type.name} {file.size} {file.oid}"
            digest.update(f"\0{path}\t{shown}".encode("utf-8", "surrogateescape"))
        codeowners = self.read_path(CODEOWNERS_PATH)
        digest.update(b"\0CODEOWNERS\0" + (blob_id(codeowners).encode() if codeowners else b"-"))
        return digest.hexdigest()

    def read(self, file: TreeFile) -> bytes:
        return (self.root / file.path).read_bytes()

    def content_id(self, file: TreeFile, raw: bytes) -> str | None:
        del file  # what git listed may be older than what was read
        return blob_id(raw)

    def unchanged_since(self, key: str) -> bool:
        return WorktreeSnapshot(self.root).key() == key

    def read_path(self, path: str) -> bytes | None:
        target = self.root / path
        return target.read_bytes() if target.is_file() and not target.is_symlink() else None

    def close(self) -> None:
        """Nothing to release: files are opened one at a time."""


def blob_id(data: bytes) -> str:
    """The id `git hash-object` gives `data`."""
    header = b"blob %d\0" % len(data)
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


def _paths(output: bytes) -> list[str]:
    """NUL-separated paths, decoded at once (as os.fsdecode would each: 200,000 calls cost)."""
    return [path for path in output.decode("utf-8", "surrogateescape").split("\0") if path]


# Anything else (a submodule, 160000) is neither.
_TYPE_OF_MODE = {"100644": FileType.REGULAR, "100755": FileType.REGULAR, "120000": FileType.SYMLINK}


class GitSnapshot:
    """The tree of a commit, read from git's object store."""

    def __init__(
        self, root: Path, rev: str, *, tree: str | None = None, git_dir: Path | None = None
    ) -> None:
        """`tree`: the commit's tree id when the caller has it; `git_dir`: the repository's
        common git directory when known (a bare mirror is its own). Each saves a git process."""
        self.root = root
        self.rev = rev
        self.label = f"revision {rev}"
        self.git_dir = git_dir
        self._cat: CatFile | None = None
        self._cat_pid = 0  # the process `_cat` was started by: a forked worker starts its own
        self._tree: str | None = tree

    def files(self, only: list[str] | None = None) -> list[TreeFile]:
        """The files under the checked roots, or only those under the paths `only` names."""
        tree = self._tree_id()
        names = self._top_names() if only is None else only
        if not names:
            return []
        # Paths are names, not patterns: a '*' in a file name matches only itself.
        out = run_git(
            self.root, "--literal-pathspecs", "ls-tree", "-r", "-z", "-l", "--full-tree", tree,
            "--", *names,
        )  # fmt: skip
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

    def paths(self) -> list[str]:
        """Every path under the checked roots, names only: much cheaper than `files()`."""
        names = self._top_names()
        if not names:
            return []
        out = run_git(
            self.root, "ls-tree", "-r", "-z", "--name-only", "--full-tree", self._tree_id(), "--",
            *names,
        )  # fmt: skip
        # One decode of the whole listing (as os.fsdecode would each path): 200,000 calls cost.
        return [path for path in out.decode("utf-8", "surrogateescape").split("\0") if path]

    def _top_names(self) -> list[str]:
        # ls-tree takes no case-insensitive pathspecs: pick the top-level names first.
        top = run_git(self.root, "ls-tree", "-z", "--name-only", self._tree_id())
        return [
            os.fsdecode(name)
            for name in top.split(b"\0")
            if name and os.fsdecode(name).casefold() in CHECKED_ROOTS
        ]

    def key(self) -> str:
        """The commit's tree id: it names every file, CODEOWNERS included."""
        return self._tree_id()

    def _tree_id(self) -> str:
        """The tree of `rev`, checked to be a revision (not an option) before git sees it."""
        if self._tree is not None:
            return self._tree
        try:
            out = run_git(
                self.root, "rev-parse", "--verify", "--end-of-options", f"{self.rev}^{{tree}}"
            )
        except GitCommandError:
            raise RepoError(f"'{self.rev}' is not a revision of {self.root}") from None
        self._tree = out.decode().strip()
        return self._tree

    def content_id(self, file: TreeFile, raw: bytes) -> str | None:
        del raw  # read by its id
        return file.oid

    def unchanged_since(self, key: str) -> bool:
        del key  # a commit never changes
        return True

    def read(self, file: TreeFile) -> bytes:
        assert file.oid is not None
        return self._reader().read(file.oid)

    def read_path(self, path: str) -> bytes | None:
        return self._reader().read_optional(f"{self._tree_id()}:{path}")

    def _reader(self) -> CatFile:
        # A forked worker (`steward.reading.summarize_ahead`) shares its parent's pipes to the
        # parent's `git cat-file`: it must never write to them, nor close them.
        if self._cat is None or self._cat_pid != os.getpid():
            self._cat, self._cat_pid = CatFile(self.root), os.getpid()
        return self._cat

    def close(self) -> None:
        if self._cat is not None and self._cat_pid == os.getpid():
            self._cat.close()
        self._cat = None


def open_snapshot(start: Path, rev: str | None = None) -> Snapshot:
    """The working tree of the repository containing `start`, or the tree of `rev` in it."""
    root = find_repo_root(start)
    return WorktreeSnapshot(root) if rev is None else GitSnapshot(root, rev)
