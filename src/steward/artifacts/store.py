"""Artifacts on DVC: the local cache, the default remote, and the checks DVC itself does not make.

Steward writes DVC's own formats (content-addressed objects under `files/md5/`, a `.dir` listing
per version, a `.dvc` pointer), so `dvc pull`, `dvc status` and DVC Studio work on a registry as
on any DVC repository. Beyond DVC:

- every object reaches the remote before the entry that names it is committed;
- `fetch` checks every file's sha256 against the entry before anything is put in place (DVC's pull
  trusts the remote);
- `missing_objects` looks for each file object on the remote (once a `.dir` object is there,
  `dvc status -c` no longer notices a file missing inside it).

DVC is imported only when an ArtifactStore is opened: it takes most of a second to import.
Registration writes a plain local cache and remote without it (`local_stores`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.artifacts.copying import (
    DVC_TEMPORARY,
    STALE_TEMPORARY_S,
    copy_into_place,
    missing_directories,
    move_into_place,
    remove_if_empty,
    sweep_temporaries,
)
from steward.artifacts.hashing import ArtifactDigest
from steward.artifacts.staging import Staging, discard_staged
from steward.entries.models import VersionEntry
from steward.errors import OUT_OF_SPACE, RemoteError, StewardError
from steward.gitio.dvcio import import_dvc_repo
from steward.progress import byte_progress

CHUNK = 4 * 1024 * 1024
# The kernel copies this much per call between stores (nothing passes through Python).
REMOTE_CHUNK = 64 * 1024 * 1024


class IntegrityError(StewardError):
    """Content does not hash to what the registry recorded."""


class StorageFull(StewardError):
    """The cache or the remote ran out of space (or hit a file-size limit) while writing; the
    partial files were removed and nothing was registered."""


def storage_failure(exc: BaseException) -> OSError | None:
    """The out-of-space OSError behind `exc` (DVC and fsspec may wrap it), if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in OUT_OF_SPACE:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def out_of_space(error: OSError, where: str) -> StorageFull:
    return StorageFull(
        f"{OUT_OF_SPACE.get(error.errno or 0)}: {where}; nothing was registered and the partial "
        "files were removed: free space and register again"
    )


def temporaries_in(directory: Path, oids: list[str]) -> set[Path]:
    """DVC's temporary files now in the shards (`files/md5/xx/`) these objects go to."""
    found = set()
    # The cache's path is already `.../files/md5`; a remote's is its root.
    shards = {base / oid[:2] for oid in oids for base in (directory / "files" / "md5", directory)}
    for shard in shards:
        if shard.is_dir():
            found |= {p for p in shard.iterdir() if DVC_TEMPORARY.match(p.name)}
    return found


def remove_new_temporaries(directory: Path, oids: list[str], before: set[Path]) -> None:
    """After this process's write failed: its partial files, those that were not there before
    (in the shards it wrote to; another writer's older temporaries are left alone)."""
    for path in temporaries_in(directory, oids) - before:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ObjectProblem:
    """One thing wrong with one file of a version's artifact on the remote."""

    relpath: str
    oid: str
    problem: str

    def render(self) -> str:
        return f"{self.relpath}: {self.problem} (object {self.oid})"


class ArtifactStore:
    """The DVC cache and default remote of one registry repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._repo: Any = import_dvc_repo().Repo(str(root))

    def close(self) -> None:
        self._repo.close()

    def __enter__(self) -> ArtifactStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def cache(self) -> Any:
        return self._repo.cache.local

    def remote(self) -> Any:
        """The default remote's object database, or RemoteError naming what is wrong."""
        try:
            return self._repo.cloud.get_remote_odb(None, "steward")
        except Exception as exc:  # DVC raises its own config and dependency errors here
            raise RemoteError(f"DVC default remote: {exc}") from exc

    def remote_url(self) -> str:
        """The default remote as configured (`dvc remote add`), for messages."""
        config = self._repo.config
        name = config["core"].get("remote")
        if not name:
            raise RemoteError("no DVC default remote is configured (`dvc remote add -d NAME URL`)")
        return str(config["remote"].get(name, {}).get("url", name))

    # --- registration ---------------------------------------------------------------------

    def staging(self, sources: Sequence[Path], show_progress: bool = False) -> Staging:
        """The one pass over the artifact's files that hashes them and copies them into the
        cache's directory and, for a remote that is a local directory, the remote's (started;
        `staging.begin_staging` starts one before DVC is opened). The directories are made by
        DVC first, with the modes its configuration asks (a group's shared cache)."""
        cache_dir = Path(self.cache.path)
        with contextlib.suppress(OSError):  # the pass does without its copies if it must
            self.cache.makedirs(str(cache_dir))
        mirror = self.mirror_directory()
        if mirror is not None:
            try:
                self.remote().makedirs(str(mirror))
            except (OSError, RemoteError):
                mirror = None
        return Staging(sources, cache_dir, mirror, show_progress).start()

    def mirror_directory(self) -> Path | None:
        """Where registration copies objects for a remote that is a local directory (its
        `files/md5/`); None for any other remote."""
        from dvc_objects.fs.local import LocalFileSystem

        try:
            local = self._require_local_remote_directory()
            remote = self.remote() if local is not None else None
        except RemoteError:  # reported where the objects are pushed
            return None
        if remote is None or not isinstance(remote.fs, LocalFileSystem):
            return None
        return Path(remote.path)

    def add_to_cache(self, digest: ArtifactDigest) -> list[str]:
        """Put every file and the `.dir` listing into the local cache: a staged copy is moved
        into place (it was created read-only, as DVC protects its objects; DVC's state database
        is not told its hash, which would cost a synced sqlite write, so a later `dvc status`
        hashes the file once), any other file copied (reflink or copy: the cache never shares an
        inode with the caller's files, which may change later). Returns the objects that were
        not there before, for `remove_from_cache`."""
        from dvc_objects.fs.local import LocalFileSystem

        cache = self.cache
        cache_dir = Path(cache.path)
        sweep_temporaries(cache_dir, STALE_TEMPORARY_S)
        oids = [*(f.md5 for f in digest.files), digest.md5]
        new = [oid for oid in dict.fromkeys(oids) if not cache.exists(oid)]
        before = temporaries_in(cache_dir, oids)
        staged = [f for f in digest.files if f.staged is not None]
        copied = [f for f in digest.files if f.staged is None]
        try:
            for item in staged:
                assert item.staged is not None
                target = Path(cache.oid_to_path(item.md5))
                if target.exists():  # content-addressed: the object there is this one
                    item.staged.unlink(missing_ok=True)
                    continue
                cache.makedirs(str(target.parent))  # with the modes DVC gives its directories
                move_into_place(item.staged, target, REMOTE_CHUNK)
            if copied:
                cache.add(
                    [str(f.source) for f in copied],
                    LocalFileSystem(),  # type: ignore[no-untyped-call]
                    [f.md5 for f in copied],
                )
            cache.add_bytes(digest.md5, digest.dir_object)
        except Exception as exc:
            full = storage_failure(exc)
            if full is None:
                raise
            remove_new_temporaries(cache_dir, oids, before)
            discard_staged(digest.files)
            self.remove_from_cache(new)
            raise out_of_space(full, f"{cache_dir} (the DVC cache)") from exc
        return new

    def remove_from_cache(self, oids: list[str]) -> None:
        """Take back objects `add_to_cache` added, when the registration they were for failed."""
        for oid in oids:
            Path(self.cache.oid_to_path(oid)).unlink(missing_ok=True)

    def push(self, digest: ArtifactDigest, show_progress: bool = False) -> None:
        """Copy the version's objects from the cache to the default remote; the listing last, so a
        listing on the remote always means its files are there too."""
        from dvc_objects.fs.local import LocalFileSystem

        local = self._require_local_remote_directory()
        remote = self.remote()
        oids_all = [*(f.md5 for f in digest.files), digest.md5]
        before: set[Path] = set()
        if local is not None:
            sweep_temporaries(local, STALE_TEMPORARY_S)
            before = temporaries_in(local, oids_all)
        cache = self.cache
        try:
            if local is not None and isinstance(remote.fs, LocalFileSystem):
                self._copy_to_directory(remote, digest, show_progress)
            else:
                self._upload(remote, [f.md5 for f in digest.files], show_progress)
            remote.add([cache.oid_to_path(digest.md5)], cache.fs, [digest.md5], hardlink=False)
        except Exception as exc:
            if local is not None and storage_failure(exc) is not None:
                remove_new_temporaries(local, oids_all, before)
            raise remote_failure(exc, self.remote_url()) from exc

    def _upload(self, remote: Any, oids: list[str], show_progress: bool) -> None:
        """Copy the cache's objects to a remote that is not a local directory, through DVC."""
        from fsspec.callbacks import DEFAULT_CALLBACK, TqdmCallback

        cache = self.cache
        progress = (
            TqdmCallback(
                tqdm_kwargs={"desc": "pushing to the DVC remote", "unit": "file", "leave": False}
            )
            if show_progress
            else DEFAULT_CALLBACK
        )
        remote.add(
            [cache.oid_to_path(oid) for oid in oids],
            cache.fs,
            oids,
            # The remote holds its own copy (or a reflink): a hard link would make the workspace
            # file, the cache object and the remote object one inode, and an edit of the
            # workspace file (made writable) would corrupt the remote.
            hardlink=False,
            callback=progress,
        )
        if isinstance(progress, TqdmCallback):
            # Removed now, not whenever the garbage collector gets to it: after the command's
            # answer, a late clear would leave the terminal on a blank line.
            progress.close()

    def _copy_to_directory(self, remote: Any, digest: ArtifactDigest, show_progress: bool) -> None:
        copy_to_directory(
            digest,
            lambda oid: Path(remote.oid_to_path(oid)),
            lambda oid: Path(self.cache.oid_to_path(oid)),
            # With the modes DVC gives its directories.
            lambda directory: remote.makedirs(str(directory)),
            show_progress,
        )

    def _require_local_remote_directory(self) -> Path | None:
        from steward.entries.dvcconfig import default_remote

        url = default_remote(self.root).url
        return None if "://" in url else require_remote_directory(url)

    def checkout_listing(self, listing_md5: str, destination: Path) -> None:
        """Materialize a version's files from its `.dir` listing (`checkout_listing`)."""
        checkout_listing(
            listing_md5,
            destination,
            lambda oid: Path(self.cache.oid_to_path(oid)),
            self._read_object,
            self._download,
        )

    # --- retrieval and verification -------------------------------------------------------

    def listing(self, entry: VersionEntry) -> dict[str, str]:
        """relpath -> md5 of each file, from the version's `.dir` object (cache, else remote),
        checked against its own hash and against the entry's file list."""
        oid = entry.artifact.md5
        raw = self._read_object(oid)
        if hashlib.md5(raw).hexdigest() + ".dir" != oid:
            raise IntegrityError(f"the listing object {oid} does not hash to its name")
        listing = _parse_listing(raw, oid)
        recorded = {f.path for f in entry.artifact.files}
        if set(listing) != recorded:
            raise IntegrityError(
                f"the listing object {oid} names {sorted(listing)}, the entry {sorted(recorded)}"
            )
        return listing

    def _read_object(self, oid: str) -> bytes:
        path = Path(self.cache.oid_to_path(oid))
        if path.is_file():
            return path.read_bytes()
        remote = self.remote()
        try:
            with remote.fs.open(remote.oid_to_path(oid), "rb") as stream:
                data: bytes = stream.read()
                return data
        except FileNotFoundError:
            raise RemoteError(f"object {oid} is in neither the cache nor the remote") from None
        except Exception as exc:
            raise RemoteError(f"could not read {oid} from the remote: {exc}") from exc

    def missing_objects(
        self,
        entry: VersionEntry,
        deep: bool = False,
        advance: Callable[[int], object] | None = None,
    ) -> list[ObjectProblem]:
        """What is wrong with the version's objects on the remote: each one that is missing, and
        with `deep`, each one whose content does not hash to the entry's sha256. `advance` is
        told the bytes hashed (deep) or the files checked."""
        remote = self.remote()
        try:
            listing_path = remote.oid_to_path(entry.artifact.md5)
            if not remote.fs.exists(listing_path):
                return [ObjectProblem("(listing)", entry.artifact.md5, "missing from the remote")]
            with remote.fs.open(listing_path, "rb") as stream:
                raw = stream.read()
        except Exception as exc:
            raise RemoteError(f"could not read the DVC remote: {exc}") from exc
        if hashlib.md5(raw).hexdigest() + ".dir" != entry.artifact.md5:
            return [
                ObjectProblem("(listing)", entry.artifact.md5, "content does not match its hash")
            ]
        try:
            listing = _parse_listing(raw, entry.artifact.md5)
        except IntegrityError as exc:
            return [ObjectProblem("(listing)", entry.artifact.md5, str(exc))]
        problems = []
        for item in entry.artifact.files:
            oid = listing.get(item.path)
            if oid is None:
                problems.append(ObjectProblem(item.path, "-", "not in the version's listing"))
                continue
            path = remote.oid_to_path(oid)
            try:
                if not remote.fs.exists(path):
                    problems.append(ObjectProblem(item.path, oid, "missing from the remote"))
                elif deep:
                    with remote.fs.open(path, "rb") as stream:
                        md5, sha256 = _hash_stream(stream, advance)
                    if md5 != oid or sha256 != item.sha256:
                        problems.append(
                            ObjectProblem(item.path, oid, "content does not match its hashes")
                        )
                if not deep and advance is not None:
                    advance(1)
            except Exception as exc:
                raise RemoteError(f"could not read the DVC remote: {exc}") from exc
        return problems

    def fetch(
        self, entry: VersionEntry, destination: Path, show_progress: bool = False
    ) -> list[Path]:
        """Download the version's files into `destination`, each checked against the entry's
        sha256 before any is put in place; on a mismatch nothing in `destination` changes.
        The progress bar counts each byte twice: fetched, then verified."""
        from steward.progress import byte_progress

        listing = self.listing(entry)
        destination.parent.mkdir(parents=True, exist_ok=True)
        total = 2 * sum(item.size for item in entry.artifact.files)
        with (
            _staging_dir(destination.parent) as staging,
            byte_progress(total, "pulling", show_progress) as advance,
        ):
            bad = []
            for item in entry.artifact.files:
                target = staging / item.path
                target.parent.mkdir(parents=True, exist_ok=True)
                self._download(listing[item.path], target)
                advance(item.size)
                with target.open("rb") as stream:
                    _, sha256 = _hash_stream(stream, advance)
                if sha256 != item.sha256:
                    bad.append(item.path)
            if bad:
                raise IntegrityError(
                    f"{entry.model} {entry.version}: {', '.join(bad)} "
                    f"{'does' if len(bad) == 1 else 'do'} not match the sha256 recorded in the "
                    "registry; the remote copy is corrupt, nothing was written"
                )
            placed = []
            for item in entry.artifact.files:
                target = destination / item.path
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists() or target.is_symlink():
                    target.unlink()  # may be a read-only link into the cache: replace, not write
                (staging / item.path).replace(target)
                placed.append(target)
        return placed

    def _download(self, oid: str, target: Path) -> None:
        cached = Path(self.cache.oid_to_path(oid))
        if cached.is_file():
            shutil.copyfile(cached, target)
            return
        remote = self.remote()
        try:
            remote.fs.get_file(remote.oid_to_path(oid), str(target))
        except FileNotFoundError:
            raise RemoteError(f"object {oid} is missing from the remote") from None
        except Exception as exc:
            raise RemoteError(f"could not download {oid} from the remote: {exc}") from exc


def checkout_listing(
    listing_md5: str,
    destination: Path,
    cache_object: Callable[[str], Path],
    read_object: Callable[[str], bytes],
    download: Callable[[str, Path], None],
) -> None:
    """Materialize a version's files from its `.dir` listing (`read_object`: the cache's copy,
    else the remote's), each file linked from the cache or, if the cache lacks it, downloaded and
    checked against its md5. Running it again over a half-done directory finishes it."""
    raw = read_object(listing_md5)
    if hashlib.md5(raw).hexdigest() + ".dir" != listing_md5:
        raise IntegrityError(f"the listing object {listing_md5} does not hash to its name")
    for relpath, oid in _parse_listing(raw, listing_md5).items():
        target = destination / relpath
        if Path(relpath).is_absolute() or ".." in Path(relpath).parts:
            raise IntegrityError(f"the listing object {listing_md5} names {relpath!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        cached = cache_object(oid)
        if cached.is_file():
            _link_or_copy(cached, target)
            continue
        target.unlink(missing_ok=True)
        download(oid, target)
        with target.open("rb") as stream:
            md5, _ = _hash_stream(stream)
        if md5 != oid:
            target.unlink()
            raise IntegrityError(f"{relpath}: the remote object {oid} does not match its hash")


def remote_failure(exc: BaseException, url: str) -> StewardError:
    """What a failed push to the remote at `url` is, for the user."""
    full = storage_failure(exc)
    if full is not None:
        return out_of_space(full, f"{url} (the DVC remote)")
    return RemoteError(f"could not push to the DVC remote {url}: {exc}")


def require_remote_directory(url: str) -> Path:
    """A remote that is a local directory must exist: DVC would create it, and an unmounted
    disk's mount point would quietly receive one version's objects."""
    if not Path(url).is_dir():
        raise RemoteError(
            f"could not push to the DVC remote {url}: the directory does not exist (an "
            "unmounted disk?); create it, or point the remote elsewhere, and register again"
        )
    return Path(url)


def copy_to_directory(
    digest: ArtifactDigest,
    object_path: Callable[[str], Path],
    cache_object: Callable[[str], Path],
    make_directory: Callable[[Path], object],
    show_progress: bool,
) -> None:
    """Put the version's file objects on a remote that is a local directory, each its own copy
    (never a hard link: an edit of the workspace file, made writable, would reach it): the copy
    registration made while hashing is moved into place, or the cache's object is copied by the
    kernel; either appears whole or not at all. `object_path(oid)`: where the remote keeps an
    object; `make_directory`: makes its directory as the remote's owner makes them."""
    wanted = {f.md5: f for f in digest.files}
    missing = [f for oid, f in wanted.items() if not object_path(oid).exists()]
    total = sum(f.size for f in missing) if show_progress else 0
    with byte_progress(total, "copying to the DVC remote", show_progress) as advance:
        for item in missing:
            target = object_path(item.md5)
            made = missing_directories(target.parent)
            make_directory(target.parent)
            try:
                if item.mirrored is not None and item.mirrored.exists():
                    move_into_place(item.mirrored, target, REMOTE_CHUNK)
                else:
                    copy_into_place(cache_object(item.md5), target, REMOTE_CHUNK)
            except BaseException:
                remove_if_empty(made)  # the remote as it was
                raise
            advance(item.size)


def _parse_listing(raw: bytes, oid: str) -> dict[str, str]:
    """relpath -> md5 from a `.dir` object, which must be what DVC writes: a JSON list of
    {"md5": ..., "relpath": ...}. Anything else is refused, not trusted."""
    try:
        items = json.loads(raw)
    except ValueError:
        raise IntegrityError(f"the listing object {oid} is not JSON") from None
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("relpath"), str)
        and isinstance(item.get("md5"), str)
        for item in items
    ):
        raise IntegrityError(f"the listing object {oid} is not a DVC directory listing")
    return {item["relpath"]: item["md5"] for item in items}


def _hash_stream(stream: Any, advance: Callable[[int], object] | None = None) -> tuple[str, str]:
    md5 = hashlib.md5()
    sha256 = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        md5.update(chunk)
        sha256.update(chunk)
        if advance is not None:
            advance(len(chunk))
    return md5.hexdigest(), sha256.hexdigest()


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists() or target.is_symlink():
        target.unlink()
    try:
        target.hardlink_to(source)
    except OSError:  # another file system, or links not supported
        shutil.copyfile(source, target)


@contextmanager
def _staging_dir(parent: Path) -> Iterator[Path]:
    import tempfile

    staging = Path(tempfile.mkdtemp(prefix=".steward-pull-", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
