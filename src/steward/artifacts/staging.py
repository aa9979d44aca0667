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

import contextlib
import hashlib
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

from steward.artifacts.copying import (
    STALE_TEMPORARY_S,
    TOUCH_EVERY_S,
    copy_range,
    create_temporary,
    make_directories,
    read_exactly,
    remove_if_empty,
    sweep_temporaries,
)
from steward.artifacts.hashing import ArtifactDigest, FileDigest, collect_sources, digest_sources
from steward.progress import Advance, byte_progress
from steward.timings import phase

# While the pass runs beside the command's own Python work, the interpreter hands the GIL over
# this often (default 5 ms): each chunk's copy and hashes take it back several times, and a
# command importing modules would otherwise make each of those waits up to 5 ms.
SWITCH_INTERVAL_S = 0.0002
# Each chunk costs the pass a few GIL hand-overs; 16 MiB keeps them few, and md5 of one chunk
# overlaps the copy and sha256 of the next.
PASS_CHUNK = 16 * 1024 * 1024
# Chunks the copy to the remote may fall behind by: stopping the pass waits for no more.
MIRROR_BEHIND = 2


class _Switch:
    """The lowered switch interval, held by every running pass, restored by the last one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._saved = sys.getswitchinterval()

    def hold(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL_S)
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                sys.setswitchinterval(self._saved)


_SWITCH = _Switch()


class _MirrorFailed(Exception):
    """The copy into the remote's directory failed; `__cause__` is why."""


class _Stopped(Exception):
    """The pass was asked to stop (the registration failed before it needed the hashes)."""


class Staging:
    """One registration's pass over its files, in a thread of its own from the moment the
    command knows them: while it runs, the command imports what it needs, opens DVC and reads
    the registry. `result()` waits for it; `close()` stops it if it is still running and removes
    every copy not moved into place (use it as a context manager).

    The copies are an optimisation, never a condition: where the remote's copy cannot be
    written (a full or read-only remote, a retry of content the remote already has), the files
    are pushed from the cache as before; where the cache's cannot, the files are hashed where
    they are and DVC copies them (`FileDigest.staged` None), so that the registration decides,
    and names the store that failed, as it did without the pass."""

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
        self._made: dict[str, list[Path]] = {"cache": [], "mirror": []}  # directories created
        self._touched = time.monotonic()

    def start(self) -> Staging:
        _SWITCH.hold()
        try:
            self._thread.start()
        except BaseException:
            _SWITCH.release()
            raise
        return self

    def result(self) -> ArtifactDigest:
        """Every file of the artifact with its hashes and copies (`FileDigest.staged` in the
        cache's directory, `FileDigest.mirrored` in the remote's, where they could be made)."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure
        assert self._digest is not None
        self._touch()  # handed over fresh: a sweep counts from now
        return self._digest

    def close(self) -> None:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join()
        discard_staged(self._files)
        for made in self._made.values():  # the cache and the remote as they were, if unused
            remove_if_empty(made)

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
            _SWITCH.release()

    def _pass(self) -> ArtifactDigest:
        pairs = collect_sources(self.sources)
        try:
            sweep_temporaries(self.cache_dir, STALE_TEMPORARY_S)
            self._made["cache"] = make_directories(self.cache_dir)
        except OSError:
            return self._plain()
        self._open_mirror()
        total = sum(path.stat().st_size for _, path in pairs) if self.show_progress else 0
        with (
            ThreadPoolExecutor(max_workers=1) as hasher,
            ThreadPoolExecutor(max_workers=1) as mirror,
            byte_progress(total, "hashing", self.show_progress) as advance,
        ):
            for relpath, path in pairs:
                try:
                    copies = _Copies(self.cache_dir, self.mirror_dir, self._stop)
                except _MirrorFailed:
                    self._drop_mirror()
                    copies = _Copies(self.cache_dir, None, self._stop)
                except OSError:
                    return self._plain()
                try:
                    size, md5, sha256 = copies.fill(path, hasher, mirror, advance, self._tick)
                except _MirrorFailed:  # the cache's copy and the hashes are whole
                    copies.drop_mirror()
                    self._drop_mirror()
                    size, md5, sha256 = copies.size, copies.md5, copies.sha256
                except OSError:
                    copies.remove()
                    return self._plain()
                except BaseException:
                    copies.remove()
                    raise
                self._files.append(
                    FileDigest(relpath, path, size, md5, sha256, copies.staged, copies.mirrored)
                )
        return ArtifactDigest(tuple(self._files))

    def _open_mirror(self) -> None:
        if self.mirror_dir is None:
            return
        try:
            sweep_temporaries(self.mirror_dir, STALE_TEMPORARY_S)
            self._made["mirror"] = make_directories(self.mirror_dir)
        except OSError:
            self.mirror_dir = None

    def _drop_mirror(self) -> None:
        """No more copies into the remote's directory: those made are removed (the push copies
        from the cache, and says what is wrong with the remote, if it is still needed)."""
        self.mirror_dir = None
        for item in self._files:
            if item.mirrored is not None:
                item.mirrored.unlink(missing_ok=True)
        self._files = [replace(item, mirrored=None) for item in self._files]

    def _plain(self) -> ArtifactDigest:
        """The cache's copy could not be written (or a file not read): every copy is dropped,
        and the files are hashed where they are, as before the pass; a file that cannot be read
        fails here as it would have."""
        discard_staged(self._files)
        self._files = []
        self._stop_if_asked()
        return digest_sources(self.sources, self.show_progress)

    def _stop_if_asked(self) -> None:
        if self._stop.is_set():
            raise _Stopped()

    def _tick(self) -> None:
        """Between chunks: stop if asked; keep the finished copies young for the sweeps."""
        self._stop_if_asked()
        if time.monotonic() - self._touched > TOUCH_EVERY_S:
            self._touch()

    def _touch(self) -> None:
        self._touched = time.monotonic()
        for item in self._files:
            for copy in (item.staged, item.mirrored):
                if copy is not None:
                    with contextlib.suppress(OSError):
                        os.utime(copy)


def begin_staging(root: Path, sources: Sequence[Path], show_progress: bool) -> Staging | None:
    """Start the pass for a registration in the registry at `root`, into where DVC's cache and
    a local-directory default remote are by `.dvc/config` (read without importing DVC; the store
    moves the copies to where DVC says, if that differs). None where that cannot be told: no
    `.dvc/` (not a registry: nothing is written), or a configuration that does not read."""
    from steward.entries.dvcconfig import cache_directory, default_remote, shared_stores
    from steward.errors import RemoteError

    if not (root / ".dvc").is_dir():
        return None
    try:
        cache_dir = cache_directory(root)
        remote = default_remote(root)
        shared = shared_stores(root)
    except RemoteError:
        return None
    if cache_dir is None or "cache" in shared:  # a group's cache: DVC makes its directories
        return None
    mirror_dir = None
    if "://" not in remote.url and Path(remote.url).is_dir() and "remote" not in shared:
        mirror_dir = Path(remote.url) / "files" / "md5"
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
        self.size, self.md5, self.sha256 = 0, "", ""
        if mirror_dir is not None:
            try:
                self.mirrored, self._mirror_out = create_temporary(mirror_dir)
            except OSError as exc:
                self.remove()
                raise _MirrorFailed(str(exc)) from exc

    def fill(
        self,
        path: Path,
        hasher: ThreadPoolExecutor,
        mirror: ThreadPoolExecutor,
        advance: Advance | None,
        tick: Callable[[], None],
    ) -> tuple[int, str, str]:
        """Copy `path` into the cache's copy chunk by chunk, hash each chunk read back from it,
        and have `mirror` copy it on: (size, md5, sha256), the copies closed and whole. A failed
        copy into the remote's directory raises _MirrorFailed once the cache's copy and the
        hashes are done (they are then in `size`, `md5`, `sha256`)."""
        md5 = hashlib.md5()
        sha256 = hashlib.sha256()
        mirrored: deque[Future[None]] = deque()
        mirror_failure: _MirrorFailed | None = None
        offset = 0
        try:
            with path.open("rb") as stream, self.staged.open("rb") as back:
                source, copy = stream.fileno(), back.fileno()
                try:
                    pending = None
                    while copied := copy_range(source, self._out, offset, PASS_CHUNK):
                        tick()
                        chunk = read_exactly(copy, copied, offset)
                        if self._mirror_out >= 0 and mirror_failure is None:
                            while mirrored and (
                                len(mirrored) >= MIRROR_BEHIND or mirrored[0].done()
                            ):
                                try:
                                    mirrored.popleft().result()
                                except _MirrorFailed as exc:
                                    mirror_failure = exc
                                    break
                            if mirror_failure is None:
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
                        try:
                            done.result()
                        except _MirrorFailed as exc:
                            mirror_failure = mirror_failure or exc
                finally:
                    for waiting in mirrored:
                        waiting.cancel()
                    wait(mirrored)  # no copy may still use a descriptor about to be closed
        finally:
            self._close()
        self.size, self.md5, self.sha256 = offset, md5.hexdigest(), sha256.hexdigest()
        if mirror_failure is not None:
            raise mirror_failure
        return self.size, self.md5, self.sha256

    def _close(self) -> None:
        for descriptor in (self._out, self._mirror_out):
            if descriptor >= 0:
                os.close(descriptor)
        self._out = self._mirror_out = -1

    def drop_mirror(self) -> None:
        if self.mirrored is not None:
            self.mirrored.unlink(missing_ok=True)
            self.mirrored = None

    def remove(self) -> None:
        self._close()
        self.drop_mirror()
        self.staged.unlink(missing_ok=True)


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
        raise _MirrorFailed(str(exc)) from exc
