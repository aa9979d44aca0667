"""One question's printed answer, kept with exactly what it was read from.

`which` and `show` read a handful of files, but answering them means importing the entry models
and their validation library, which costs several times the CLI's own start-up. So the text a
question printed is cached with every file it read (by the sha256 of the bytes read, or as
absent) and every directory it listed (by its names). Asked again, the answer is given only if
each of those is still as it was: a changed, added, removed or renamed file is a miss, and the
question is answered afresh. Nothing here imports more than the standard library.

An answer is kept only when it was whole: no problem in the files it needed (they make the exit
code 1), nothing read that `Reads` could not record (a central policy read from its mirror,
a file that could not be read), and everything it read still the same after it was answered
(a file changed under the question is read afresh next time). The cached text is the
command's whole output, in the format asked for, under a key naming the question, the
repository's path and the home directory (a `~/` remote URL resolves against it).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TypeGuard

from steward.reading import cache

ABSENT = "absent"


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class Reads:
    """What one answer read from the working tree at `root`, recorded as it was read."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, str] = {}
        self.directories: dict[str, tuple[str, ...]] = {}
        self.whole = True  # False once the answer depends on something not recorded here

    def read(self, relative: str) -> bytes:
        """The file's bytes, as `Path.read_bytes` gives them (and raises)."""
        try:
            raw = (self.root / relative).read_bytes()
        except FileNotFoundError:
            self._note(relative, ABSENT)
            raise
        except OSError:
            self.whole = False
            raise
        self._note(relative, _digest(raw))
        return raw

    def read_or_none(self, relative: str) -> bytes | None:
        """The file's bytes, or None if there is no such file (a path through a file too)."""
        try:
            return self.read(relative)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def is_file(self, relative: str) -> bool:
        """Whether `relative` is a file, as `Path.is_file`; its content is then recorded, so a
        later answer checks it by what it holds (a file never read is recorded all the same)."""
        if not (self.root / relative).is_file():
            self.whole = False  # only ever asked on the way to "not found", which is not kept
            return False
        try:
            self.read(relative)
        except OSError:
            self.whole = False
        return True

    def names(self, relative: str) -> list[str]:
        """The names in a directory, sorted."""
        try:
            found = tuple(sorted(path.name for path in (self.root / relative).iterdir()))
        except OSError:
            self.whole = False
            raise
        if self.directories.setdefault(relative, found) != found:
            self.whole = False
        return list(found)

    def depends_on_more(self) -> None:
        """The answer used something these reads do not record: it is not kept."""
        self.whole = False

    def _note(self, relative: str, digest: str) -> None:
        if self.files.setdefault(relative, digest) != digest:
            self.whole = False  # read twice, changed in between

    def unchanged(self) -> bool:
        """Whether every file and directory read is still as it was read."""
        return all(
            _file_state(self.root, relative) == digest for relative, digest in self.files.items()
        ) and all(
            _names(self.root, relative) == names for relative, names in self.directories.items()
        )


def _file_state(root: Path, relative: str) -> str | None:
    """The digest of the file, ABSENT, or None when it cannot be told (unreadable)."""
    try:
        return _digest((root / relative).read_bytes())
    except FileNotFoundError:
        return ABSENT
    except OSError:
        return None


def _names(root: Path, relative: str) -> tuple[str, ...] | None:
    try:
        return tuple(sorted(path.name for path in (root / relative).iterdir()))
    except OSError:
        return None


def _key(root: Path, question: tuple[str, ...]) -> str:
    named = json.dumps([*question, str(root), os.environ.get("HOME", "")])
    return hashlib.sha256(named.encode()).hexdigest()


# What is stored: (files as (path, digest) pairs, directories as (path, names) pairs, output).
Stored = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, tuple[str, ...]], ...], str]


def recall(root: Path, question: tuple[str, ...]) -> str | None:
    """The output kept for `question`, if everything it was read from is unchanged."""
    directory = cache.cache_dir(root)
    if directory is None:
        return None
    stored = cache.load_answer(directory, _key(root, question))
    if not _well_formed(stored):
        return None
    files, directories, output = stored
    for relative, digest in files:
        if _file_state(root, relative) != digest:
            return None
    for relative, names in directories:
        if _names(root, relative) != names:
            return None
    return output


def remember(root: Path, question: tuple[str, ...], reads: Reads, output: str) -> None:
    """Keep `output` as the answer to `question`, if it is whole and what it read unchanged."""
    if not reads.whole or not reads.unchanged():
        return
    directory = cache.cache_dir(root)
    if directory is None:
        return
    stored: Stored = (
        tuple(sorted(reads.files.items())),
        tuple(sorted(reads.directories.items())),
        output,
    )
    cache.store_answer(directory, _key(root, question), stored)


def _well_formed(stored: object) -> TypeGuard[Stored]:
    """A stored answer of the expected shape (the seal rules out corruption, not an old one)."""
    if not (isinstance(stored, tuple) and len(stored) == 3 and isinstance(stored[2], str)):
        return False
    files, directories = stored[0], stored[1]
    return (
        isinstance(files, tuple)
        and all(_pair(item, str) for item in files)
        and isinstance(directories, tuple)
        and all(_pair(item, tuple) for item in directories)
    )


def _pair(item: object, second: type) -> bool:
    return (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], second)
    )
