"""Hashing an artifact in one streaming pass: DVC's md5 and our sha256 of every file, and the md5
of the directory listing exactly as DVC computes it, so that the `.dvc` pointer Steward writes is
the one `dvc add` would have written.

Each file is read once in 4 MiB chunks; md5 runs in a worker thread while sha256 runs in the
caller's (hashlib releases the GIL on large updates), so on two cores hashing costs about what md5
alone costs. Nothing is read whole into memory.

Registration hashes while it copies (`staging.Staging`); this module is the plain reading, which
registration falls back to when it cannot write its copies.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from steward.entries.names import path_identity, relative_path_problem
from steward.errors import StewardError
from steward.progress import Advance, byte_progress

CHUNK = 4 * 1024 * 1024


class ArtifactSourceError(StewardError):
    """The files given for an artifact cannot be used (missing, special, clashing names)."""


@dataclass(frozen=True)
class FileDigest:
    relpath: str
    source: Path
    size: int
    md5: str
    sha256: str
    # Registration's copies (`staging`), under temporary names until they are moved into place:
    # in the cache's directory, and in a local-directory remote's.
    staged: Path | None = None
    mirrored: Path | None = None


@dataclass(frozen=True)
class ArtifactDigest:
    """Every file of an artifact directory with its hashes, and the directory's DVC hash."""

    files: tuple[FileDigest, ...]

    @property
    def dir_object(self) -> bytes:
        """The `.dir` object DVC stores for the directory: its listing as sorted JSON."""
        listing = [{"md5": f.md5, "relpath": f.relpath} for f in self.files]
        return json.dumps(listing, sort_keys=True).encode("utf-8")

    @property
    def md5(self) -> str:
        """DVC's hash of the directory: md5 of the `.dir` object, with the `.dir` suffix."""
        return hashlib.md5(self.dir_object).hexdigest() + ".dir"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def collect_sources(sources: Sequence[Path]) -> list[tuple[str, Path]]:
    """Map the given files and directories to the relative paths they get in the artifact.

    One directory: its contents are the artifact. Otherwise each file goes in by its name and each
    directory by its name, as `cp -r SOURCES... DEST/` would place them."""
    if not sources:
        raise ArtifactSourceError("no files given: name the model's files or directory")
    for source in sources:
        if not source.exists():
            raise ArtifactSourceError(f"{source}: no such file or directory")
    if len(sources) == 1 and sources[0].is_dir():
        pairs = list(_walk(sources[0], ""))
    else:
        pairs = []
        for source in sources:
            if source.is_dir():
                pairs.extend(_walk(source, source.name + "/"))
            elif source.is_file():  # follows symlinks, as `_walk` does
                pairs.append((source.name, source))
            else:  # a FIFO would block the read for good
                raise ArtifactSourceError(f"{source}: not a regular file")
    seen: dict[str, Path] = {}
    for relpath, path in pairs:
        problem = relative_path_problem(relpath)
        if problem is not None:
            raise ArtifactSourceError(
                f"{path}: cannot be stored as '{relpath}': path '{relpath}' {problem}"
            )
        identity = path_identity(relpath)
        if identity in seen:
            raise ArtifactSourceError(
                f"{path} and {seen[identity]} would be one file on case-insensitive file systems"
            )
        seen[identity] = path
    if not pairs:
        raise ArtifactSourceError(f"{sources[0]}: the directory is empty")
    return sorted(pairs)


def _walk(directory: Path, prefix: str) -> Iterator[tuple[str, Path]]:
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        path = Path(entry.path)
        mode = entry.stat().st_mode  # follows symlinks: a linked file is stored as its content
        if stat.S_ISDIR(mode):
            if entry.is_symlink():
                raise ArtifactSourceError(f"{path}: symbolic links to directories are not followed")
            yield from _walk(path, f"{prefix}{entry.name}/")
        elif stat.S_ISREG(mode):
            yield f"{prefix}{entry.name}", path
        else:
            raise ArtifactSourceError(f"{path}: not a regular file")


def hash_file(
    path: Path, pool: ThreadPoolExecutor, advance: Advance | None = None
) -> tuple[int, str, str]:
    """(size, md5, sha256) of a file, streamed; md5 is updated in `pool` while sha256 runs here.
    `advance` is told how many bytes each chunk held (for a progress bar)."""
    md5 = hashlib.md5()
    sha256 = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        pending = None
        while chunk := stream.read(CHUNK):
            if pending is not None:
                pending.result()
            pending = pool.submit(md5.update, chunk)
            sha256.update(chunk)
            size += len(chunk)
            if advance is not None:
                advance(len(chunk))
        if pending is not None:
            pending.result()
    return size, md5.hexdigest(), sha256.hexdigest()


def digest_sources(sources: Sequence[Path], show_progress: bool = False) -> ArtifactDigest:
    pairs = collect_sources(sources)
    files = []
    total = sum(path.stat().st_size for _, path in pairs) if show_progress else 0
    with (
        ThreadPoolExecutor(max_workers=1) as pool,
        byte_progress(total, "hashing", show_progress) as advance,
    ):
        for relpath, path in pairs:
            size, md5, sha256 = hash_file(path, pool, advance)
            files.append(FileDigest(relpath, path, size, md5, sha256))
    return ArtifactDigest(tuple(files))
