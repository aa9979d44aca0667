"""Copying bytes into the cache and the remote: in the kernel where it can, under temporary names
the sweeps know, moved into place only when whole.

`os.copy_file_range` copies page to page without passing through Python (on this project's
ext4 machine 0.55 s per GiB, where `read` + `write` of the same bytes takes 1.7 s, and it reflinks
where the file system can). Where the kernel refuses it (another file system, an old kernel, a
platform without it) the copy falls back to `pread`/`pwrite`, from then on for the process.

A temporary is named as DVC names its own (`.<22 url-safe characters>.tmp`), so that a file a
killed run left is swept by `sweep_temporaries` like DVC's, and is made read-only for everyone
(`0o444`, the mode DVC gives cache and remote objects, whatever the umask): once moved into place
it is protected. A live run touches its finished copies (`TOUCH_EVERY_S`), so that a sweep by
another run never takes them.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

OBJECT_MODE = 0o444
# A temporary file DVC writes before renaming it into place: `.<22 url-safe characters>.tmp`.
DVC_TEMPORARY = re.compile(r"^\.[A-Za-z0-9_-]{22}\.tmp$")
# A temporary older than this was left by a killed process; a live writer keeps touching its own.
STALE_TEMPORARY_S = 15 * 60
TOUCH_EVERY_S = 60


# The kernel cannot copy these two files in place (another file system, no support).
_REFUSED = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP}
_kernel_copy = hasattr(os, "copy_file_range")


def create_temporary(directory: Path, protect: bool = True) -> tuple[Path, int]:
    """A new file in `directory` under a temporary name, and a descriptor open for writing it:
    read-only for everyone, or (`protect=False`) writable with the umask's mode, as DVC leaves a
    `.dir` listing in its cache."""
    while True:
        path = directory / f".{secrets.token_urlsafe(16)}.tmp"
        try:
            descriptor = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OBJECT_MODE if protect else 0o666
            )
        except FileExistsError:  # pragma: no cover - 128 random bits
            continue
        except FileNotFoundError:  # removed by another run that found it empty: made again
            directory.mkdir(parents=True, exist_ok=True)
            continue
        if protect:
            os.fchmod(descriptor, OBJECT_MODE)  # the umask took bits off the mode asked for
        return path, descriptor


def missing_directories(directory: Path) -> list[Path]:
    """`directory` and its parents that do not exist, deepest first."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    return missing


def make_directories(directory: Path) -> list[Path]:
    """Create `directory` and its missing parents; those it created, deepest first, for
    `remove_if_empty`."""
    made = missing_directories(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return made


def remove_if_empty(directories: list[Path]) -> None:
    """Remove the directories `make_directories` created, deepest first, while they are empty
    (another run may be using one meanwhile: it is left)."""
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return


def copy_range(source: int, target: int, offset: int, length: int) -> int:
    """Copy up to `length` bytes at `offset` from descriptor `source` to the same offset of
    `target`; the number copied, 0 at the end of the source."""
    global _kernel_copy
    if _kernel_copy:
        try:
            copied = os.copy_file_range(source, target, length, offset, offset)
        except OSError as exc:
            if exc.errno not in _REFUSED:
                raise
            _kernel_copy = False
        else:
            if copied:
                return copied
            # 0 is the end of the file, except on file systems that report no size (their files
            # read as empty to the kernel copy): one read tells the two apart.
    chunk = os.pread(source, length, offset)
    written = 0
    while written < len(chunk):
        written += os.pwrite(target, chunk[written:], offset + written)
    return len(chunk)


def read_exactly(descriptor: int, length: int, offset: int) -> bytes:
    """`length` bytes at `offset` of a file known to hold them."""
    data = os.pread(descriptor, length, offset)
    while len(data) < length:
        more = os.pread(descriptor, length - len(data), offset + len(data))
        if not more:
            raise OSError(errno.EIO, f"a file ended before the {length} bytes just written to it")
        data += more
    return data


def copy_into_place(source: Path, target: Path, chunk: int) -> None:
    """Copy `source` to `target` through a temporary beside it: `target` appears whole or not at
    all. A failure removes the temporary, and the directories made for it if they are empty."""

    def fill(out: int) -> None:
        with source.open("rb") as stream:
            offset = 0
            while copied := copy_range(stream.fileno(), out, offset, chunk):
                offset += copied

    _into_place(target, True, fill)


def write_into_place(data: bytes, target: Path, protect: bool) -> None:
    """Write `data` to `target` as `copy_into_place` copies (`create_temporary`'s modes)."""

    def fill(out: int) -> None:
        view = memoryview(data)
        written = 0
        while written < len(view):
            written += os.write(out, view[written:])

    _into_place(target, protect, fill)


def _into_place(target: Path, protect: bool, fill: Callable[[int], None]) -> None:
    made = make_directories(target.parent)
    try:
        staged, out = create_temporary(target.parent, protect)
    except BaseException:
        remove_if_empty(made)
        raise
    try:
        fill(out)
        os.close(out)
        out = -1
        staged.replace(target)
    except BaseException:
        if out >= 0:
            os.close(out)
        staged.unlink(missing_ok=True)
        remove_if_empty(made)
        raise


def sweep_temporaries(directory: Path, older_than_s: float) -> list[Path]:
    """Remove DVC's temporary files under an object directory (`files/md5/xx/`) untouched for
    `older_than_s` seconds: left by a killed run (a live writer keeps touching its own). What
    was removed."""
    removed = []
    now = time.time()
    for shard in (directory / "files" / "md5", directory):
        if not shard.is_dir():
            continue
        for sub in shard.iterdir():
            candidates = sub.iterdir() if sub.is_dir() else [sub]
            for path in candidates:
                if not DVC_TEMPORARY.match(path.name):
                    continue
                try:
                    if now - path.stat().st_mtime > older_than_s:
                        path.unlink()
                        removed.append(path)
                except FileNotFoundError:
                    continue
    return removed


def move_into_place(staged: Path, target: Path, chunk: int) -> None:
    """Rename a copy to its place; across file systems (the place was not where it was guessed
    to be), copy it there whole and remove it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        staged.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        copy_into_place(staged, target, chunk)
        staged.unlink(missing_ok=True)
