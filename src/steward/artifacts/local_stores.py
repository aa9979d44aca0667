"""A registration's cache and remote where both are plain local directories: written by Steward in
DVC's layout, without importing DVC.

DVC takes most of a second to import and open (`dvc.repo.Repo`), on the core that registration's
pass shares with the command's own start-up; where the cache is local and the default remote is a
local directory, each configured with nothing DVC would write differently from its defaults, the
objects are written here exactly as DVC writes them: `files/md5/xx/rest` under the cache's and the
remote's directories, file objects read-only for everyone, the cache's `.dir` listing with the
umask's mode and the remote's read-only, each through a temporary named as DVC names its own and
renamed into place. Any other configuration (a shared cache, an object store, a remote with
options of its own, a DVC configuration outside the repository) is written by DVC
(`store.ArtifactStore`); `open_registration_store` chooses. A test registers the same files both
ways and compares every file, mode and byte of the two stores.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from steward.artifacts.copying import (
    OBJECT_MODE,
    STALE_TEMPORARY_S,
    copy_into_place,
    move_into_place,
    sweep_temporaries,
    write_into_place,
)
from steward.artifacts.hashing import ArtifactDigest
from steward.artifacts.staging import Staging, discard_staged
from steward.artifacts.store import (
    REMOTE_CHUNK,
    ArtifactStore,
    IntegrityError,
    checkout_listing,
    copy_to_directory,
    out_of_space,
    remote_failure,
    remove_new_temporaries,
    require_remote_directory,
    storage_failure,
    temporaries_in,
)
from steward.entries.dvcconfig import PlainStores, plain_stores
from steward.errors import RemoteError


class RegistrationStore(Protocol):
    """What registration needs of the cache and the remote (`ArtifactStore` or `LocalStores`)."""

    def staging(self, sources: Sequence[Path], show_progress: bool = False) -> Staging: ...

    def add_to_cache(self, digest: ArtifactDigest) -> list[str]: ...

    def remove_from_cache(self, oids: list[str]) -> None: ...

    def push(self, digest: ArtifactDigest, show_progress: bool = False) -> None: ...

    def close(self) -> None: ...


def open_stores(root: Path) -> LocalStores | ArtifactStore:
    """The cache and remote of the registry at `root`: written and read here where they are
    plain local directories, else through DVC."""
    places = plain_stores(root)
    return LocalStores(places) if places is not None else ArtifactStore(root)


def open_registration_store(root: Path) -> RegistrationStore:
    """`open_stores`, with DVC's default remote configuration read now, while the pass runs (a
    problem with it is reported where the objects are pushed)."""
    store = open_stores(root)
    if isinstance(store, ArtifactStore):
        with contextlib.suppress(RemoteError):
            store.remote()
    return store


class LocalStores:
    """A local DVC cache and a default remote that is a local directory, written without DVC."""

    def __init__(self, places: PlainStores) -> None:
        self.cache_dir = places.cache_dir
        self.remote_dir = places.remote_dir
        self.remote_url = places.remote.url

    def close(self) -> None:
        """Nothing is held open between calls (`RegistrationStore` asks for it: DVC's is)."""

    def staging(self, sources: Sequence[Path], show_progress: bool = False) -> Staging:
        """The one pass over the artifact's files, copying into both stores' directories (made
        by the pass as it needs them, and removed again if it fails)."""
        return Staging(sources, self.cache_dir, self.mirror_directory(), show_progress).start()

    def mirror_directory(self) -> Path | None:
        """Where the pass copies objects for the remote (as `ArtifactStore.mirror_directory`)."""
        return self.remote_dir

    def cache_object(self, oid: str) -> Path:
        return self.cache_dir / oid[:2] / oid[2:]

    def remote_object(self, oid: str) -> Path:
        return self.remote_dir / oid[:2] / oid[2:]

    def add_to_cache(self, digest: ArtifactDigest) -> list[str]:
        """Every file and the `.dir` listing into the cache (as `ArtifactStore.add_to_cache`):
        a staged copy moved into place, any other file copied whole. The objects that were not
        there before, for `remove_from_cache`."""
        sweep_temporaries(self.cache_dir, STALE_TEMPORARY_S)
        oids = [*(f.md5 for f in digest.files), digest.md5]
        new = [oid for oid in dict.fromkeys(oids) if not self.cache_object(oid).exists()]
        before = temporaries_in(self.cache_dir, oids)
        try:
            for item in digest.files:
                target = self.cache_object(item.md5)
                if target.exists():  # content-addressed: the object there is this one
                    if item.staged is not None:
                        item.staged.unlink(missing_ok=True)
                elif item.staged is not None:
                    move_into_place(item.staged, target, REMOTE_CHUNK)
                else:
                    copy_into_place(item.source, target, REMOTE_CHUNK)
            # Rewritten unless whole, as DVC rewrites it: a listing cut short (a power cut before
            # the disk had it) would otherwise stop every checkout of the version.
            listing = self.cache_object(digest.md5)
            if _contents(listing) != digest.dir_object:
                write_into_place(digest.dir_object, listing, protect=False)
        except OSError as exc:
            full = storage_failure(exc)
            if full is None:
                raise
            remove_new_temporaries(self.cache_dir, oids, before)
            discard_staged(digest.files)
            self.remove_from_cache(new)
            raise out_of_space(full, f"{self.cache_dir} (the DVC cache)") from exc
        return new

    def remove_from_cache(self, oids: list[str]) -> None:
        """Take back objects `add_to_cache` added, when the registration they were for failed."""
        for oid in oids:
            self.cache_object(oid).unlink(missing_ok=True)

    def push(self, digest: ArtifactDigest, show_progress: bool = False) -> None:
        """The version's objects onto the remote; the listing last, so a listing on the remote
        always means its files are there too."""
        root = require_remote_directory(self.remote_url)
        oids = [*(f.md5 for f in digest.files), digest.md5]
        sweep_temporaries(root, STALE_TEMPORARY_S)
        before = temporaries_in(root, oids)
        try:
            copy_to_directory(
                digest,
                self.remote_object,
                self.cache_object,
                lambda directory: directory.mkdir(parents=True, exist_ok=True),
                show_progress,
            )
            listing = self.remote_object(digest.md5)
            if _contents(listing) != digest.dir_object:
                write_into_place(digest.dir_object, listing, protect=True)
            elif listing.stat().st_mode & 0o777 != OBJECT_MODE:
                listing.chmod(OBJECT_MODE)  # as DVC protects every object it is given
        except Exception as exc:
            if storage_failure(exc) is not None:
                remove_new_temporaries(root, oids, before)
            raise remote_failure(exc, self.remote_url) from exc

    def checkout_listing(self, listing_md5: str, destination: Path) -> None:
        """Materialize a version's files from its `.dir` listing (`store.checkout_listing`)."""
        checkout_listing(
            listing_md5, destination, self.cache_object, self._read_object, self._download
        )

    def _read_object(self, oid: str) -> bytes:
        """An object from the cache, else the remote: the first copy that hashes to its name (a
        `.dir` listing a power cut left short in the cache is replaced by the remote's)."""
        damaged: list[Path] = []
        for path in (self.cache_object(oid), self.remote_object(oid)):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise RemoteError(f"could not read {oid} from {path}: {exc}") from exc
            if hashlib.md5(data).hexdigest() != oid.removesuffix(".dir"):
                damaged.append(path)
                continue
            if damaged and damaged[0] == self.cache_object(oid):
                with contextlib.suppress(OSError):  # the answer stands; the next read repairs
                    write_into_place(data, damaged[0], protect=not oid.endswith(".dir"))
            return data
        if damaged:
            raise IntegrityError(
                f"the object {oid} does not hash to its name in "
                + " nor in ".join(str(path) for path in damaged)
            )
        raise RemoteError(f"object {oid} is in neither the cache nor the remote")

    def _download(self, oid: str, target: Path) -> None:
        for path in (self.cache_object(oid), self.remote_object(oid)):
            try:
                shutil.copyfile(path, target)
                return
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise RemoteError(f"could not download {oid} from {path}: {exc}") from exc
        raise RemoteError(f"object {oid} is missing from the remote")


def _contents(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
