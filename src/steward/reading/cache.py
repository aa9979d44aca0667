"""The persistent cache of what reading the registry found, kept inside the repository's `.git`.

Three kinds of things are cached, each under keys that change whenever what they describe
changes, so nothing can go stale:

- a `FileRecord` per (kind, git blob id): a changed file has a new blob id. Records live in 256
  shards by the blob id's first byte, so a question touching two files loads two small shards;
- a whole answer per tree (`steward check`'s report, `steward list`'s rows) under a key naming
  every file of the tree by path, mode and blob id: a run with nothing changed is one lookup;
- a printed answer to one question (`which`, `show`) with the digest of every file it read,
  checked before it is given (`steward.reading.answers`).

Everything sits in a directory named after this Steward's code and the libraries whose messages
it repeats: another version never reads what this one wrote. The cache is only ever a shortcut:
every file is sealed with the key it answers and a sha256 of its content, checked on read, so a
file that is truncated, has a flipped bit, was swapped with another or copied over it, or that
cannot be unpickled or holds the wrong type, counts as a miss and is recomputed; writes go to a
temporary file renamed into place (a reader sees the old file or the new one, never half of
one); a write that fails (a read-only `.git`, a full disk) is skipped and leaves no temporary
file behind. `STEWARD_NO_CACHE=1` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from steward.entries.layout import Kind

# How many whole-tree answers of each kind to keep: a worktree and a branch or two.
TREES_KEPT = 4


def disabled() -> bool:
    return os.environ.get("STEWARD_NO_CACHE", "") not in ("", "0")


@cache
def code_key() -> str:
    """Names this Steward: its source, and the versions of the libraries whose behaviour decides
    what a file's problems are (their messages are part of a record)."""
    digest = hashlib.sha1(usedforsecurity=False)
    package = Path(__file__).resolve().parents[1]  # src/steward: every module of this Steward
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.json")]):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    for library in _LIBRARIES:
        digest.update(_installed(library).encode())
    return digest.hexdigest()[:16]


_LIBRARIES = ("pydantic", "pydantic_core", "yaml", "jsonschema")


@cache
def _metadata_names(site: Path) -> list[str]:
    try:
        return [p.name for p in site.iterdir() if p.name.endswith((".dist-info", ".egg-info"))]
    except OSError:
        return []


def _installed(library: str) -> str:
    """Which release of `library` is installed, from its distribution's metadata directory name
    (`importlib.metadata` costs more than the rest of an answer from the cache)."""
    from importlib.util import find_spec

    spec = find_spec(library)
    if spec is None or spec.origin is None:
        return f"{library}: none"
    site = Path(spec.origin).parent.parent
    prefixes = {library.casefold(), "pyyaml" if library == "yaml" else library.casefold()}
    names = sorted(
        name for name in _metadata_names(site) if name.split("-")[0].casefold() in prefixes
    )
    # Without metadata (a vendored copy), the module file itself stands for its version.
    return f"{library}: {names or Path(spec.origin).stat().st_mtime_ns}"


def cache_dir(root: Path, git_dir: Path | None = None) -> Path | None:
    """`<git common dir>/steward/cache/<code key>`, or None when there is no usable git dir.

    The common dir (not a worktree's own git dir) so that every worktree of a clone shares it.
    `git_dir`: that directory, when the caller knows it (a bare mirror is its own), saving a
    git process."""
    if disabled():
        return None
    if git_dir is None:
        git_dir = _common_dir(root)
        if git_dir is None:
            return None
    return git_dir / "steward" / "cache" / code_key()


_COMMON_DIRS: dict[Path, Path] = {}  # a question asks twice (to look up, then to keep)


def _common_dir(root: Path) -> Path | None:
    """git's common dir of the work tree at `root`, asked once per process (only a found one is
    remembered: a repository made later in the process is then seen)."""
    if root in _COMMON_DIRS:
        return _COMMON_DIRS[root]
    from steward.errors import GitCommandError
    from steward.gitio.gitcmd import run_git

    try:
        out = run_git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")
    except GitCommandError:
        return None
    found = _COMMON_DIRS[root] = Path(os.fsdecode(out.strip()))
    return found


# A cache file: this magic, the sha256 of the rest, then the key it answers, NUL, the pickle.
_MAGIC = b"steward-cache/2\n"
_DIGEST_BYTES = 32


def _sealed(key: str, payload: bytes) -> list[bytes]:
    """The parts of a sealed file, written one after another: the payload is not copied (a
    `list` answer at 100,000 versions pickles to tens of megabytes)."""
    named = key.encode() + b"\0"
    digest = hashlib.sha256(named)
    digest.update(payload)
    return [_MAGIC, digest.digest(), named, payload]


def _unseal(data: bytes, key: str) -> memoryview | None:
    """The payload of a sealed file, if it is whole and answers `key`; else None (a view of
    `data`, not a copy)."""
    if not data.startswith(_MAGIC):
        return None
    start = len(_MAGIC) + _DIGEST_BYTES
    view = memoryview(data)
    if hashlib.sha256(view[start:]).digest() != view[len(_MAGIC) : start]:
        return None
    named = key.encode() + b"\0"
    if not data.startswith(named, start):
        return None
    return view[start + len(named) :]


def _load(path: Path, key: str) -> Any:
    """What `path` holds for `key`, or None for a missing, unreadable or corrupt file, or one
    that answers another key."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    payload = _unseal(data, key)
    if payload is None:
        return None
    try:
        return pickle.loads(payload)  # our own sealed file inside .git; callers check its type
    except Exception:  # a class that no longer exists, or a pickle of another Python
        return None


def _store(path: Path, key: str, value: object) -> None:
    """Write atomically; any failure leaves the cache as it was (and the command unaffected),
    with no temporary file left behind."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        parts = _sealed(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                for part in parts:
                    out.write(part)
            Path(temporary).replace(path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise
    except OSError:
        pass


# A temporary file older than this was left by a run that was killed while writing it.
STALE_TEMPORARY_S = 600


def sweep_temporaries(directory: Path) -> None:
    """Remove what killed runs left half-written in `directory` (a live writer's file is
    younger than STALE_TEMPORARY_S, and is renamed away within moments)."""
    now = time.time()
    with contextlib.suppress(OSError):
        for leftover in directory.glob(".tmp-*"):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > STALE_TEMPORARY_S:
                    leftover.unlink()


def record_key(kind: Kind, oid: str) -> str:
    return f"{kind.value}:{oid}"


class RecordStore:
    """`FileRecord`s by (kind, blob id), loaded shard by shard as keys are asked for. Without a
    directory, a store for one run: what one snapshot read serves the next (the gate reads two
    trees that share almost every blob)."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory / "blobs" if directory is not None else None
        self._shards: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()

    @staticmethod
    def _shard_of(oid: str) -> str:
        return oid[:2]

    def _shard(self, name: str) -> dict[str, Any]:
        shard = self._shards.get(name)
        if shard is None:
            path = self._directory / f"{name}.pickle" if self._directory else None
            loaded = _load(path, f"blobs/{name}") if path is not None else None
            shard = loaded if isinstance(loaded, dict) else {}
            self._shards[name] = shard
        return shard

    def get(self, kind: Kind, oid: str | None) -> Any:
        if oid is None:
            return None
        return self._shard(self._shard_of(oid)).get(record_key(kind, oid))

    def put(self, kind: Kind, oid: str | None, record: object) -> None:
        if oid is None:
            return
        name = self._shard_of(oid)
        self._shard(name)[record_key(kind, oid)] = record
        self._dirty.add(name)

    def preload(self, oids: Iterable[str | None]) -> None:
        """Load the shards these blobs are in at once (a whole-tree read needs them all)."""
        for name in {self._shard_of(oid) for oid in oids if oid is not None}:
            self._shard(name)

    def save(self) -> None:
        if self._directory is None:
            return
        for name in sorted(self._dirty):
            _store(self._directory / f"{name}.pickle", f"blobs/{name}", self._shards[name])
        if self._dirty:
            sweep_temporaries(self._directory)
        self._dirty.clear()


def load_tree_answer(directory: Path | None, kind: str, key: str) -> Any:
    if directory is None:
        return None
    return _load(directory / "trees" / f"{kind}-{key}.pickle", f"trees/{kind}-{key}")


def store_tree_answer(directory: Path | None, kind: str, key: str, value: object) -> None:
    if directory is None:
        return
    trees = directory / "trees"
    _store(trees / f"{kind}-{key}.pickle", f"trees/{kind}-{key}", value)
    sweep_temporaries(trees)
    with contextlib.suppress(OSError):
        kept = sorted(trees.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-TREES_KEPT]:
            old.unlink()


# How many answers to single questions (`steward.reading.answers`) to keep, the newest.
ANSWERS_KEPT = 512


def load_answer(directory: Path, key: str) -> Any:
    return _load(directory / "answers" / f"{key}.pickle", f"answers/{key}")


def store_answer(directory: Path, key: str, value: object) -> None:
    answers = directory / "answers"
    _store(answers / f"{key}.pickle", f"answers/{key}", value)
    sweep_temporaries(answers)
    with contextlib.suppress(OSError):
        kept = list(answers.glob("*.pickle"))
        if len(kept) > ANSWERS_KEPT:
            kept.sort(key=lambda p: p.stat().st_mtime)
            for old in kept[:-ANSWERS_KEPT]:
                old.unlink()
