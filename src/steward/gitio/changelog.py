"""Which commits of a branch's first-parent chain changed what under a model's directory: what
`steward history` and the gate's `held_stage` read, from git directly or from an index of it.

Why an index. `git log --first-parent -- registry/models/<model>/` has to diff the trees of
every commit of the chain against its parent to find the few that touch the model, and in a
registry the `registry/models` tree changes at nearly every commit (10,000 models: a 380 KB tree
each time). Measured on 2 cores, 100,000 commits over a registry of 10,000 models x 10 versions:

- plain `git log`: 27 s (no commit-graph: what any clone has, CI's fresh clones included, since
  neither `git clone` nor `git fetch` writes one by default, and `gc --auto` writes none with
  changed-path Bloom filters);
- with `git commit-graph write --reachable --changed-paths` (34 s to write at that size): 1.9 s.
  Bloom filters say "maybe" for about 1% of commits that do not touch the path (951 of 99,000
  here), and each false positive costs a full diff of the models tree, so the walk stays linear
  in the history with a large constant; it would also depend on every clone's maintenance
  (`commitGraph.readChangedPaths`, a `--split` refresh after each fetch).
- this index: the chain's links and every commit's changes under `registry/models/`, kept in
  SQLite under `<git common dir>/steward/history.sqlite3`. Building it for the whole chain is
  one `git rev-list` and one path-limited `git log` (the cost of one plain walk, about 30 s at
  100,000 commits; nothing extra for history that is read anyway), and each later question
  reads only the commits added since: a `rev-list` that stops at the first indexed commit and a
  `git log` of that range. The question itself then is a walk of the chain in memory and an
  indexed select of one model's rows.

It can never be stale: rows are keyed by commit id, and a commit's first parent and its changes
against it never change, so a rebased or rewritten branch simply walks other rows. The index
holds whole chains only (a commit is indexed only with all its first-parent ancestors), so a
commit found in it means its whole history is. A shallow repository (the boundary's parents
would appear later), grafts and replace refs (which change a commit's parents after the fact)
are read from git directly, as is everything when the index cannot be opened or written (a
read-only `.git`): the index only ever makes the same answer faster.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from steward.entries import layout
from steward.errors import GitCommandError
from steward.gitio.gitcmd import run_git

SCHEMA = 1
_T = TypeVar("_T")
INDEX_FILE = "history.sqlite3"
_MODELS_PREFIX = f"{layout.MODELS_DIR}/"
# Pinned against user configuration: the root commit's additions are listed (`--root`), renames
# are an addition and a deletion (`--no-renames`), a merge is diffed against its first parent,
# pathspecs are literal, and nothing is coloured.
_LOG_OPTIONS = (
    "--literal-pathspecs",
    "log",
    "--first-parent",
    "--diff-merges=first-parent",
    "--root",
    "--no-renames",
    "--no-color",
    "--no-show-signature",
    "--raw",
    "--no-abbrev",
    "-z",
    "--format=%H %ct %P",
)


@dataclass(frozen=True)
class Change:
    """One line of `git log --raw`: a path, its blobs and modes before and after the commit."""

    path: str
    old_mode: str
    new_mode: str
    old: str
    new: str
    status: str


@dataclass
class Landed:
    """A commit of the first-parent chain that touched the path asked about."""

    sha: str
    time: int
    parents: list[str]
    changes: list[Change] = field(default_factory=list)


def first_parent_changes(
    root: Path, commit: str, pathspec: str, use_index: bool = True
) -> list[Landed]:
    """The commits of `commit`'s first-parent chain that change `pathspec` (a model's directory
    or a file in it), newest first, each with its changes there against its first parent."""
    model = _model_of(pathspec)
    if use_index and model is not None:
        found = _from_index(root, commit, model)
        if found is not None:
            return _restricted(found, pathspec)
    return parse_log(run_git(root, *_LOG_OPTIONS, commit, "--", pathspec))


def changes_by_model(root: Path, commit: str, use_index: bool = True) -> dict[str, list[Landed]]:
    """Every model's commits of `commit`'s first-parent chain, as `first_parent_changes` gives
    them for one model (newest first, the changes restricted to the model's directory), for
    all models in one walk: what a question about every model (the catalog site) reads."""
    if use_index:
        found = _ask_index(root, lambda index: index.landed_by_model(commit, None))
        if found is not None:
            return found
    grouped: dict[str, list[Landed]] = {}
    for landed in parse_log(run_git(root, *_LOG_OPTIONS, commit, "--", _MODELS_PREFIX)):
        for model, changes in _split_by_model(landed.changes).items():
            grouped.setdefault(model, []).append(
                Landed(landed.sha, landed.time, landed.parents, changes)
            )
    return grouped


def changes_between(root: Path, older: str, newer: str, pathspec: str) -> list[Landed]:
    """The commits of `newer`'s first-parent chain since `older` that change `pathspec`, newest
    first, with their changes there (what a build since the last one has to look at)."""
    return parse_log(run_git(root, *_LOG_OPTIONS, newer, f"^{older}", "--", pathspec))


def changes_at(root: Path, commits: list[str], pathspec: str) -> dict[str, Landed]:
    """What each of `commits` changed under `pathspec` against its first parent, by commit (one
    that changed nothing there is left out): one `git log --no-walk`, the commits on stdin."""
    if not commits:
        return {}
    out = run_git(
        root,
        *_LOG_OPTIONS,
        "--no-walk=unsorted",
        "--stdin",
        "--",
        pathspec,
        input_bytes="".join(f"{commit}\n" for commit in commits).encode(),
    )
    return {landed.sha: landed for landed in parse_log(out)}


def _split_by_model(changes: list[Change]) -> dict[str, list[Change]]:
    split: dict[str, list[Change]] = {}
    for change in changes:
        model = _model_holding(change.path)
        if model is not None:
            split.setdefault(model, []).append(change)
    return split


def parse_log(out: bytes) -> list[Landed]:
    """`git log -z --raw --format='%H %ct %P'`: a header token per commit, then per change a
    `:modes oids status` token and a path token. Nothing here is text a user wrote."""
    return list(iter_landed(iter(out.split(b"\0"))))


def iter_landed(tokens: Iterator[bytes]) -> Iterator[Landed]:
    """The commits of a `git log` (as `parse_log` reads it) from its NUL-separated tokens, one
    at a time: each is yielded once its changes are all read."""
    current: Landed | None = None
    for token in tokens:
        token = token.lstrip(b"\n")
        if not token:
            continue
        if token.startswith(b":"):
            path = next(tokens, b"").decode("utf-8", "surrogateescape")
            old_mode, new_mode, old, new, status = token[1:].decode().split()
            assert current is not None, "git log listed a change before its commit"
            current.changes.append(Change(path, old_mode, new_mode, old, new, status))
        else:
            if current is not None:
                yield current
            sha, time, *parents = token.decode().split()
            current = Landed(sha, int(time), parents)
    if current is not None:
        yield current


@contextlib.contextmanager
def newest_first(root: Path, commit: str, pathspec: str) -> Iterator[Iterator[Landed]]:
    """`first_parent_changes` from git, yielded as git finds them, newest first: a caller that
    stops early has paid for the commits read, not for the whole chain."""
    process = subprocess.Popen(
        ["git", "-C", str(root), *_LOG_OPTIONS, commit, "--", pathspec],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        yield iter_landed(_tokens(process.stdout, eager=True))
    finally:
        process.kill()
        process.stdout.close()
        process.wait()


def _tokens(stream: IO[bytes], chunk: int = 1 << 20, eager: bool = False) -> Iterator[bytes]:
    """NUL-separated tokens of a stream, read a chunk at a time (`eager`: whatever has
    arrived, not waiting for a whole chunk)."""
    read = getattr(stream, "read1", stream.read) if eager else stream.read
    tail = b""
    while block := read(chunk):
        parts = (tail + block).split(b"\0")
        tail = parts.pop()
        yield from parts
    if tail:
        yield tail


def _model_of(pathspec: str) -> str | None:
    """The model whose directory `pathspec` is or is in; None for anything else."""
    if not pathspec.startswith(_MODELS_PREFIX):
        return None
    model = pathspec[len(_MODELS_PREFIX) :].split("/", 1)[0]
    return model or None


def _model_holding(path: str) -> str | None:
    """The model whose directory holds the file at `path`; None for a file beside the model
    directories or outside the registry, which no model's history lists."""
    if not path.startswith(_MODELS_PREFIX):
        return None
    model, slash, rest = path[len(_MODELS_PREFIX) :].partition("/")
    return model if model and slash and rest else None


def _matches(path: str, pathspec: str) -> bool:
    """What a literal git pathspec matches: the path itself (unless the pathspec names a
    directory with a trailing slash), or anything under it."""
    bare = pathspec.rstrip("/")
    return path.startswith(f"{bare}/") or (path == bare and not pathspec.endswith("/"))


def _restricted(commits: list[Landed], pathspec: str) -> list[Landed]:
    found = []
    for landed in commits:
        changes = [change for change in landed.changes if _matches(change.path, pathspec)]
        if changes:
            found.append(Landed(landed.sha, landed.time, landed.parents, changes))
    return found


# --- the index ----------------------------------------------------------------------------------


def _from_index(root: Path, commit: str, model: str) -> list[Landed] | None:
    """The model's commits from the index (brought up to `commit` first), or None when the
    index cannot answer: git is then asked directly."""
    return _ask_index(root, lambda index: index.landed(commit, model))


def _ask_index(root: Path, question: Callable[[_HistoryIndex], _T | None]) -> _T | None:
    """The index's answer, or None when it cannot answer (git is then asked directly)."""
    path = _index_path(root)
    if path is None:
        return None
    try:
        with contextlib.closing(_HistoryIndex(root, path)) as index:
            return question(index)
    except sqlite3.DatabaseError as exc:
        if not isinstance(exc, sqlite3.OperationalError):
            # Not SQLite any more (a torn copy, a disk error): start again next time.
            with contextlib.suppress(OSError):
                path.unlink()
        return None
    except (OSError, GitCommandError):
        return None


def index_missing(root: Path) -> bool:
    """Whether the index could be used here but is not built yet (a fresh clone): a walk would
    build it. False where it is built, or where commit ids cannot stand for the walk."""
    path = _index_path(root)
    return path is not None and not path.exists()


def commits_stand_for_history(root: Path) -> bool:
    """Whether a commit id names its whole history here: not in a shallow clone, nor under
    grafts or replace refs, where git may give the same commit other parents later."""
    return _index_path(root) is not None


def _index_path(root: Path) -> Path | None:
    """Where the index lives, or None where git can rewrite a commit's parents after the fact
    (a shallow clone deepened later, grafts, replace refs): then nothing keyed by commit id may
    stand for the walk."""
    try:
        answer = run_git(root, "rev-parse", "--git-common-dir", "--is-shallow-repository")
        common, shallow = answer.decode().split("\n")[:2]
        replaced = run_git(root, "for-each-ref", "--count=1", "--format=x", "refs/replace/")
    except (GitCommandError, OSError, ValueError):
        return None
    directory = (root / common).resolve()
    if shallow != "false" or replaced.strip() or (directory / "info" / "grafts").exists():
        return None
    return directory / "steward" / INDEX_FILE


_BATCH_COMMITS = 2_000


class _Batch:
    """Rows of some commits of a chain, written to the index together."""

    def __init__(self) -> None:
        self.chain: list[tuple[str, str]] = []
        self.landed: list[tuple[str, int, str]] = []
        self.changes: list[tuple[bytes, str, bytes, str]] = []

    def __len__(self) -> int:
        return len(self.chain)

    def add(self, landed: Landed, parent: str) -> None:
        self.chain.append((landed.sha, parent))
        rows = [
            (
                model.encode("utf-8", "surrogateescape"),
                landed.sha,
                change.path.encode("utf-8", "surrogateescape"),
                " ".join((change.old_mode, change.new_mode, change.old, change.new, change.status)),
            )
            for change in landed.changes
            if (model := _model_holding(change.path)) is not None
        ]
        if rows:
            self.landed.append((landed.sha, landed.time, " ".join(landed.parents)))
            self.changes.extend(rows)

    def write(self, db: sqlite3.Connection) -> None:
        db.executemany("INSERT OR IGNORE INTO landed VALUES (?, ?, ?)", self.landed)
        db.executemany("INSERT OR IGNORE INTO change VALUES (?, ?, ?, ?)", self.changes)
        db.executemany("INSERT OR IGNORE INTO chain VALUES (?, ?)", self.chain)
        self.chain, self.landed, self.changes = [], [], []


class _HistoryIndex:
    """The SQLite file: `chain` links every indexed commit to its first parent ('' for a root),
    `landed` holds the time and parents of those that change something in a model's directory,
    and `change` their changes, by model."""

    def __init__(self, root: Path, path: Path) -> None:
        self._root = root
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=60)
        self._db.text_factory = bytes
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA:
            with self._db:
                self._db.executescript(
                    """
                    DROP TABLE IF EXISTS chain;
                    DROP TABLE IF EXISTS landed;
                    DROP TABLE IF EXISTS change;
                    CREATE TABLE chain (sha TEXT PRIMARY KEY, parent TEXT NOT NULL)
                        WITHOUT ROWID;
                    CREATE TABLE landed (sha TEXT PRIMARY KEY, time INTEGER NOT NULL,
                        parents TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE change (model BLOB NOT NULL, sha TEXT NOT NULL,
                        path BLOB NOT NULL, modes TEXT NOT NULL, PRIMARY KEY (model, sha, path))
                        WITHOUT ROWID;
                    """
                )
                self._db.execute(f"PRAGMA user_version = {SCHEMA}")

    def close(self) -> None:
        self._db.close()

    def landed(self, commit: str, model: str) -> list[Landed] | None:
        found = self.landed_by_model(commit, model)
        return None if found is None else found.get(model, [])

    def landed_by_model(self, commit: str, model: str | None) -> dict[str, list[Landed]] | None:
        """The commits of `commit`'s chain that change each model (only `model`, unless None),
        newest first; None when the chain has a hole (git is then asked)."""
        links: dict[str, str] = {
            sha.decode(): parent.decode()
            for sha, parent in self._db.execute("SELECT sha, parent FROM chain")
        }
        if commit not in links:
            self._extend(commit, links)
        position: dict[str, int] = {}
        sha = commit
        while sha:
            position[sha] = len(position)
            parent = links.get(sha)
            if parent is None:
                return None  # a hole in a chain: not written by this module; ask git
            sha = parent
        query = (
            "SELECT model, change.sha, time, parents, path, modes FROM change "
            "JOIN landed ON landed.sha = change.sha"
        )
        rows = (
            self._db.execute(query)
            if model is None
            else self._db.execute(
                query + " WHERE model = ?", (model.encode("utf-8", "surrogateescape"),)
            )
        )
        found: dict[tuple[str, str], Landed] = {}
        for raw_model, raw_sha, time, parents, path, modes in rows:
            sha = raw_sha.decode()
            if sha not in position:
                continue  # another branch's commit, or one since rewritten away
            name = raw_model.decode("utf-8", "surrogateescape")
            landed = found.get((name, sha))
            if landed is None:
                landed = found[(name, sha)] = Landed(sha, time, parents.decode().split())
            old_mode, new_mode, old, new, status = modes.decode().split()
            landed.changes.append(
                Change(
                    path.decode("utf-8", "surrogateescape"), old_mode, new_mode, old, new, status
                )
            )
        grouped: dict[str, list[Landed]] = {}
        for (name, _), landed in found.items():
            # git lists a commit's changes in the byte order of their paths
            landed.changes.sort(key=lambda change: change.path.encode("utf-8", "surrogateescape"))
            grouped.setdefault(name, []).append(landed)
        for commits in grouped.values():
            commits.sort(key=lambda landed: position[landed.sha])
        return grouped

    def _extend(self, commit: str, links: dict[str, str]) -> None:
        """Index the commits of `commit`'s chain newer than the newest one already indexed.

        The `git log` has no pathspec and the changes are sorted out here: on a tree of 10,000
        model directories, matching `registry/models/` against every entry of it at every commit
        made git three times slower than diffing everything (measured: 57 s against 23 s for
        80,000 commits). The log is streamed and written in batches inside one transaction, so
        memory stays flat however long the history (the whole log of 100,000 commits held at
        once peaked at about 720 MB)."""
        stop = self._newest_indexed(commit, links)
        exclude = [f"^{stop}"] if stop else []
        indexed = 0
        last_parent: str | None = None
        with (
            subprocess.Popen(
                ["git", "-C", str(self._root), *_LOG_OPTIONS, commit, *exclude],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            ) as process,
            self._db,  # one transaction: a chain is in whole or not at all
        ):
            assert process.stdout is not None
            batch = _Batch()
            for landed in iter_landed(_tokens(process.stdout)):
                last_parent = landed.parents[0] if landed.parents else ""
                links[landed.sha] = last_parent  # the caller walks on from here (or fails)
                indexed += 1
                batch.add(landed, last_parent)
                if len(batch) >= _BATCH_COMMITS:
                    batch.write(self._db)
            batch.write(self._db)
            process.wait()
            if process.returncode != 0:
                raise GitCommandError(f"git log --first-parent {commit} failed")
            if not indexed or (stop and last_parent != stop):
                raise GitCommandError(f"git log --first-parent {commit} is not the chain expected")

    def _newest_indexed(self, commit: str, links: dict[str, str]) -> str | None:
        """The newest commit of `commit`'s first-parent chain that is indexed already (None when
        none is): a `rev-list` read only until it names one."""
        with subprocess.Popen(
            ["git", "-C", str(self._root), "rev-list", "--first-parent", commit],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                sha = line.strip().decode()
                if sha in links:
                    process.kill()  # the rest is indexed already
                    return sha
        if process.returncode != 0:
            raise GitCommandError(f"git rev-list --first-parent {commit} failed")
        return None
