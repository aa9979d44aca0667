"""Registration's one pass over the caller's files: each file is copied by the kernel into a
temporary file in the cache's directory, hashed as it is read back from that copy, and, for a
remote that is a local directory, copied on from there into a temporary file in the remote's
directory while the next chunk is hashed.

The caller's files are read once, and the hashes are of the bytes the cache and the remote will
hold, even if a caller's file changes meanwhile (nobody else writes the copies). The pass runs in
a thread of its own, started as soon as the command knows the files, so that importing the entry
models and DVC and reading the registry happen meanwhile; md5 runs in one worker thread, the copy
to the remote in another, the copy into the cache and sha256 in the pass's (hashlib and the
kernel copies release the GIL).

The copies keep their temporary names until `ArtifactStore.add_to_cache` and `push` move them
into place; `discard_staged` removes those not moved (a failure, or content already registered),
and a killed run's are swept by the next registration (`copying.sweep_temporaries`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

from steward.artifacts.copying import (
    STALE_TEMPORARY_S,
    copy_range,
    create_temporary,
    make_directories,
    read_exactly,
    remove_if_empty,
    sweep_temporaries,
)
from steward.artifacts.hashing import ArtifactDigest, FileDigest, collect_sources
from steward.progress import Advance, byte_progress
from steward.timings import phase

# While the pass runs beside the command's own Python work, the interpreter hands the GIL over
# this often (default 5 ms): each chunk's copy and hashes take it back several times, and a
# command importing modules would otherwise make each of those waits up to 5 ms.
SWITCH_INTERVAL_S = 0.0002
# Each chunk costs the pass a few GIL hand-overs; 16 MiB keeps them few, and md5 of one chunk
# overlaps the copy and sha256 of the next.
PASS_CHUNK = 16 * 1024 * 1024


class MirrorFailed(Exception):
    """The copy into the remote's directory failed; `__cause__` is why."""


class _Stopped(Exception):
    """The pass was asked to stop (the registration failed before it needed the hashes)."""


class Staging:
    """One registration's pass over its files, in a thread of its own from the moment the
    command knows them: while it runs, the command imports what it needs, opens DVC and reads
    the registry. `result()` waits for it; `close()` stops it if it is still running and removes
    every copy not moved into place (use it as a context manager)."""

    def __init__(
        self,
        sources: Sequence[Path],
        cache_dir: Path,
        mirror_dir: Path | None = None,
        show_progress: bool = False,
    ) -> None:
        self.sources = tuple(sources)
        self.cache_dir = cache_dir
        self.mirror_dir = mirror_dir
        self.show_progress = show_progress
        self._stop = threading.Event()
        self._files: list[FileDigest] = []
        self._digest: ArtifactDigest | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="steward-staging", daemon=True)
        self._switch = sys.getswitchinterval()
        self._made: list[Path] = []  # directories the pass created

    def start(self) -> Staging:
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._thread.start()
        return self

    def result(self) -> ArtifactDigest:
        """Every file of the artifact with its hashes and copies (`FileDigest.staged` in the
        cache's directory, `FileDigest.mirrored` in the remote's). A failed copy into the
        remote's directory raises MirrorFailed, any other failure as it is."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._digest is not None
        return self._digest

    def close(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        discard_staged(self._files)
        remove_if_empty(self._made)  # a cache or remote left as it was, if nothing landed

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            with phase("pass: hash + copy to cache and remote", beside=True):
                self._digest = self._pass()
        except BaseException as exc:  # handed to the caller of result()
            discard_staged(self._files)
            self._failure = exc
        finally:
            sys.setswitchinterval(self._switch)

    def _pass(self) -> ArtifactDigest:
        sweep_temporaries(self.cache_dir, STALE_TEMPORARY_S)
        self._made += make_directories(self.cache_dir)
        if self.mirror_dir is not None:
            sweep_temporaries(self.mirror_dir, STALE_TEMPORARY_S)
            self._made += make_directories(self.mirror_dir)
        pairs = collect_sources(self.sources)
        total = sum(path.stat().st_size for _, path in pairs) if self.show_progress else 0
        with (
            ThreadPoolExecutor(max_workers=1) as hasher,
            ThreadPoolExecutor(max_workers=1) as mirror,
            byte_progress(total, "hashing", self.show_progress) as advance,
        ):
            for relpath, path in pairs:
                copies = _Copies(self.cache_dir, self.mirror_dir, self._stop)
                try:
                    size, md5, sha256 = copies.fill(path, hasher, mirror, advance)
                except BaseException:
                    copies.remove()
                    raise
                self._files.append(
                    FileDigest(relpath, path, size, md5, sha256, copies.staged, copies.mirrored)
                )
        return ArtifactDigest(tuple(self._files))


def begin_staging(root: Path, sources: Sequence[Path], show_progress: bool) -> Staging | None:
    """Start the pass for a registration in the registry at `root`, into where DVC's cache and
    a local-directory default remote are by `.dvc/config` (read without importing DVC; the store
    moves the copies to where DVC says, if that differs). None where that cannot be told: no
    `.dvc/` (not a registry: nothing is written), or a configuration that does not read."""
    from steward.entries.dvcconfig import cache_directory, default_remote
    from steward.errors import RemoteError

    if not (root / ".dvc").is_dir():
        return None
    try:
        cache_dir = cache_directory(root)
        url = default_remote(root).url
    except RemoteError:
        return None
    if cache_dir is None:
        return None
    mirror_dir = None
    if "://" not in url and Path(url).is_dir():
        mirror_dir = Path(url) / "files" / "md5"
    return Staging(sources, cache_dir, mirror_dir, show_progress).start()


def discard_staged(files: Sequence[FileDigest]) -> None:
    """Remove the copies that were not moved into place."""
    for item in files:
        for copy in (item.staged, item.mirrored):
            if copy is not None:
                copy.unlink(missing_ok=True)


class _Copies:
    """One file's temporary copies, and the open descriptors that write them."""

    def __init__(self, cache_dir: Path, mirror_dir: Path | None, stop: threading.Event) -> None:
        self._stop = stop
        self.staged, self._out = create_temporary(cache_dir)
        self.mirrored: Path | None = None
        self._mirror_out = -1
        if mirror_dir is not None:
            try:
                self.mirrored, self._mirror_out = create_temporary(mirror_dir)
            except OSError as exc:
                self.remove()
                raise MirrorFailed(str(exc)) from exc

    def fill(
        self,
        path: Path,
        hasher: ThreadPoolExecutor,
        mirror: ThreadPoolExecutor,
        advance: Advance | None,
    ) -> tuple[int, str, str]:
        """Copy `path` into the cache's copy chunk by chunk, hash each chunk read back from it,
        and have `mirror` copy it on: (size, md5, sha256), the copies closed and whole."""
        md5 = hashlib.md5()
        sha256 = hashlib.sha256()
        mirrored: deque[Future[None]] = deque()
        offset = 0
        try:
            with path.open("rb") as stream, self.staged.open("rb") as back:
                source, copy = stream.fileno(), back.fileno()
                try:
                    pending = None
                    while copied := copy_range(source, self._out, offset, PASS_CHUNK):
                        if self._stop.is_set():
                            raise _Stopped()
                        chunk = read_exactly(copy, copied, offset)
                        if self._mirror_out >= 0:
                            while mirrored and mirrored[0].done():
                                mirrored.popleft().result()  # a failed copy stops the pass now
                            mirrored.append(
                                mirror.submit(_copy_on, copy, self._mirror_out, offset, copied)
                            )
                        if pending is not None:
                            pending.result()
                        pending = hasher.submit(md5.update, chunk)
                        sha256.update(chunk)
                        offset += copied
                        if advance is not None:
                            advance(copied)
                    if pending is not None:
                        pending.result()
                    for done in mirrored:
                        done.result()
                finally:
                    wait(mirrored)  # no copy may still use a descriptor about to be closed
        finally:
            self._close()
        return offset, md5.hexdigest(), sha256.hexdigest()

    def _close(self) -> None:
        for descriptor in (self._out, self._mirror_out):
            if descriptor >= 0:
                os.close(descriptor)
        self._out = self._mirror_out = -1

    def remove(self) -> None:
        self._close()
        for copy in (self.staged, self.mirrored):
            if copy is not None:
                copy.unlink(missing_ok=True)


def _copy_on(source: int, target: int, offset: int, length: int) -> None:
    """Copy `length` bytes at `offset` of the cache's copy into the remote's."""
    try:
        end = offset + length
        while offset < end:
            copied = copy_range(source, target, offset, end - offset)
            if not copied:
                raise OSError(f"the copy in the cache ended before byte {end}")
            offset += copied
    except OSError as exc:
        raise MirrorFailed(str(exc)) from exc
