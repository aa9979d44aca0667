"""Thin, fast access to git: one subprocess per question, one `cat-file --batch` per snapshot.

Plain `git` keeps every step exact (a private index for atomic commits, porcelain push output);
reading trees at scale goes through one long-lived `cat-file` so that no per-file process starts.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO

from steward.errors import GitCommandError, RepoError

# Variables that point git at a repository other than the one a command names (a hook or a CI
# step may have set them for its own repository): never inherited by commands on Steward's
# mirrors, which name their repository with --git-dir.
REPOSITORY_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    }
)


def mirror_env() -> dict[str, str]:
    """The environment for git on a mirror: no repository variables, and no terminal prompt.
    The user's credential and SSH settings (askpass helpers, core.sshCommand) stay theirs; the
    fetches run in a session of their own, without a terminal an ssh could ask on."""
    env = {k: v for k, v in os.environ.items() if k not in REPOSITORY_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def mirror_git(
    mirror: Path, *args: str, timeout: float | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS` on the bare repository `mirror` and nothing else: named by --git-dir (so that
    `safe.bareRepository=explicit` allows it), in `mirror_env()`, in a session of its own (no
    terminal for an ssh to prompt on). Never raises for git's exit code."""
    return subprocess.run(
        ["git", f"--git-dir={mirror}", *args],
        capture_output=True,
        check=False,
        env=mirror_env(),
        timeout=timeout,
        start_new_session=True,
    )


_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def fetch_location(written: str, base: Path) -> str:
    """What `git fetch` is given for a repository written as `written`: a URL as it is
    (`https://...`, `file://...`, scp-like `[user@]host:path`: git's rule, a colon before any
    slash, unless that names an existing local path); a local path made absolute against
    `base`."""
    try:
        if _URL_SCHEME.match(written):
            return written
        if ":" in written.split("/")[0] and not (base / written).exists():
            return written
        path = Path(written)
        return str(path if path.is_absolute() else (base / path).resolve())
    except (OSError, ValueError):
        return written  # not a usable local path: git says what it makes of it


def run_git(root: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    """Run `git -C root ARGS`; return stdout, or raise GitCommandError with git's own message."""
    result = subprocess.run(
        ["git", "-C", str(root), *args],
        input=input_bytes,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or f"exit {result.returncode}"
        raise GitCommandError(f"git {_subcommand(args)} failed: {message}")
    return result.stdout


def run_git_parallel(root: Path, *commands: tuple[str, ...]) -> list[bytes]:
    """Run several read-only git commands at once; their stdouts, in order. Raises like run_git."""
    processes = [
        subprocess.Popen(
            ["git", "-C", str(root), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for args in commands
    ]
    results = [process.communicate() for process in processes]
    for args, process, (_, stderr) in zip(commands, processes, results, strict=True):
        if process.returncode != 0:
            message = stderr.decode("utf-8", "replace").strip() or f"exit {process.returncode}"
            raise GitCommandError(f"git {_subcommand(args)} failed: {message}")
    return [stdout for stdout, _ in results]


def _subcommand(args: tuple[str, ...]) -> str:
    """The git subcommand in `args`, past any `-c name=value` options."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "-c":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return args[0] if args else "?"


def find_repo_root(start: Path) -> Path:
    """The top of the git work tree that contains `start`."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    raise RepoError(f"{start} is not inside a git repository; run `steward init DIR` to make one")


class CatFile:
    """A `git cat-file --batch` process: read any number of objects through one pipe."""

    def __init__(self, root: Path) -> None:
        self._process = subprocess.Popen(
            ["git", "-C", str(root), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def read(self, oid: str) -> bytes:
        data = self.read_optional(oid)
        if data is None:
            raise GitCommandError(f"git cat-file: object {oid} is missing")
        return data

    def read_optional(self, name: str) -> bytes | None:
        """An object by id or by `REV:path`; None when there is no such object."""
        found = self.read_named(name)
        return None if found is None else found[1]

    def read_named(self, name: str) -> tuple[str, bytes] | None:
        """An object's id and content, by id or by `REV:path`; None when there is none."""
        if "\n" in name:
            return None  # cat-file --batch reads one name per line
        stdin: IO[bytes] | None = self._process.stdin
        stdout: IO[bytes] | None = self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            return None
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after each object
        return header[0].decode("ascii"), data

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process.wait()

    def __enter__(self) -> CatFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_FALLBACK_IDENTITY = ("-c", "user.name=Steward", "-c", "user.email=steward@localhost")


def identity_args(root: Path) -> tuple[str, ...]:
    """Use the user's git identity; where none is configured (a fresh CI box), Steward's own."""
    try:
        run_git(root, "config", "user.email")
        run_git(root, "config", "user.name")
    except GitCommandError:
        return _FALLBACK_IDENTITY
    return ()


def commit_all(root: Path, message: str, paths: tuple[str, ...] = (".",)) -> str:
    """Stage `paths`, commit them, and return the new commit id."""
    run_git(root, "add", "--", *paths)
    run_git(root, *identity_args(root), "commit", "--quiet", "-m", message)
    return run_git(root, "rev-parse", "HEAD").decode().strip()


def resolve_commit(root: Path, rev: str) -> str:
    """The commit `rev` names; a clear error (not git's usage text) when it names none."""
    try:
        out = run_git(
            root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
    except GitCommandError:
        raise RepoError(f"'{rev}' is not a commit in {root}") from None
    return out.decode().strip()


def head_commit(root: Path) -> str:
    return run_git(root, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()


def current_branch(root: Path) -> str:
    try:
        return run_git(root, "symbolic-ref", "--short", "HEAD").decode().strip()
    except GitCommandError:
        raise RepoError("HEAD is detached: check out a branch to commit to") from None


@contextmanager
def _private_index() -> Iterator[dict[str, str]]:
    """An environment whose git commands use an index of their own, removed afterwards: the
    user's index (and whatever they staged) is never touched."""
    with tempfile.TemporaryDirectory(prefix="steward-index-") as scratch:
        yield {**os.environ, "GIT_INDEX_FILE": str(Path(scratch) / "index")}


def _git_env(root: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, env=env, check=False
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or f"exit {result.returncode}"
        raise GitCommandError(f"git {_subcommand(args)} failed: {message}")
    return result.stdout.decode()


def upstream(root: Path) -> tuple[str, str]:
    """(remote, branch) the current branch pushes to: its upstream, else origin/<same name>."""
    branch = current_branch(root)
    try:
        remote = run_git(root, "config", f"branch.{branch}.remote").decode().strip()
        merge = run_git(root, "config", f"branch.{branch}.merge").decode().strip()
        return remote, merge.removeprefix("refs/heads/")
    except GitCommandError:
        return "origin", branch


class PushRejected(GitCommandError):
    """The remote branch moved on: someone else pushed first."""


def _push(root: Path, remote: str, refspec: str, what: str, rejected: str) -> None:
    """`git push remote refspec`: PushRejected when the remote refuses it as not a fast-forward
    (`rejected` says why, for the message), GitCommandError for any other failure."""
    result = subprocess.run(
        ["git", "-C", str(root), "push", "--porcelain", remote, refspec],
        capture_output=True,
        check=False,
    )
    if result.returncode == 0:
        return
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    # "[rejected]": the ref moved on; "cannot lock ref": another push is updating it right now.
    if any(sign in output for sign in ("[rejected]", "non-fast-forward", "cannot lock ref")):
        raise PushRejected(f"git push {what} was rejected: {rejected}")
    raise GitCommandError(f"git push {what} failed: {output.strip()}")


def push(root: Path, remote: str, branch: str) -> None:
    _push(root, remote, f"HEAD:refs/heads/{branch}", f"to {remote}/{branch}", "the branch moved on")


def push_ref(root: Path, remote: str, ref: str) -> None:
    """Push `ref` to the same name on `remote`; PushRejected when the remote has it already at a
    commit that is not an ancestor (another pusher named it first)."""
    _push(root, remote, f"{ref}:{ref}", f"of {ref} to {remote}", "it exists there")


def fetch(root: Path, remote: str, branch: str) -> str:
    """Fetch `branch` from `remote` and return the commit it points at."""
    run_git(root, "fetch", "--quiet", remote, f"refs/heads/{branch}")
    return run_git(root, "rev-parse", "FETCH_HEAD^{commit}").decode().strip()


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    """Exit 0 is yes and 1 is no; anything else (a bad object) is an error, not a no."""
    result = subprocess.run(
        ["git", "-C", str(root), "merge-base", "--is-ancestor", ancestor, descendant],
        capture_output=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        message = result.stderr.decode("utf-8", "replace").strip()
        raise GitCommandError(f"git merge-base failed: {message}")
    return result.returncode == 0


def list_names(root: Path, rev: str, directory: str) -> list[str]:
    """Names of the entries directly inside `directory` at `rev` (empty if it is not there)."""
    if not _exists(root, f"{rev}:{directory}"):
        return []
    out = run_git(root, "ls-tree", "-z", "--name-only", f"{rev}:{directory}")
    return [os.fsdecode(name) for name in out.split(b"\0") if name]


def _exists(root: Path, name: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(root), "cat-file", "-e", name], capture_output=True, check=False
    )
    return result.returncode == 0


def make_commit(
    root: Path,
    parent: str,
    files: Mapping[str, bytes | None],
    message: str,
    env: Mapping[str, str] | None = None,
    executable: frozenset[str] = frozenset(),
) -> str:
    """A commit of `parent`'s tree with `files` (path -> content; None deletes the path), built
    from objects only: no ref moves, the work tree and the user's index are not touched. `env`
    may set the author (GIT_AUTHOR_NAME, _EMAIL, _DATE) of a commit being replayed; paths in
    `executable` get mode 100755."""
    with _private_index() as private:
        private.update(env or {})
        _git_env(root, private, "read-tree", parent)
        for path, content in files.items():
            if content is None:
                _git_env(root, private, "update-index", "--force-remove", "--", path)
                continue
            blob = (
                run_git(root, "hash-object", "-w", "--stdin", input_bytes=content).decode().strip()
            )
            mode = "100755" if path in executable else "100644"
            _git_env(root, private, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}")
        tree = _git_env(root, private, "write-tree").strip()
        return _git_env(
            root, private, *identity_args(root), "commit-tree", tree, "-p", parent, "-m", message
        ).strip()


def commit_blobs(
    root: Path,
    parent: str,
    files: Mapping[str, bytes | None],
    message: str,
    branch: str,
    existing: bool = False,
    executable: frozenset[str] = frozenset(),
    env: Mapping[str, str] | None = None,
) -> str:
    """Commit `files` (path -> content; None deletes) on top of `parent` as the new branch
    `branch` (or, with `existing`, as the next commit of that branch, whose tip must be
    `parent`), without touching the work tree or the user's index."""
    commit = make_commit(root, parent, dict(files), message, env=env, executable=executable)
    old = parent if existing else "0" * len(commit)
    run_git(root, "update-ref", "-m", f"steward: {message}", f"refs/heads/{branch}", commit, old)
    return commit


def git_dir(root: Path) -> Path:
    """The absolute git directory of the work tree at `root` (a linked worktree's own)."""
    out = run_git(root, "rev-parse", "--path-format=absolute", "--git-dir")
    return Path(os.fsdecode(out.strip()))


def export_commit(root: Path, commit: str, target: Path) -> None:
    """Write the files of `commit` into the empty directory `target`: a clean checkout, with no
    `.git` and nothing of the work tree's (its uncommitted edits, the branch it has checked out),
    through a private index so that the repository's own index is not touched."""
    with _private_index() as env:
        _git_env(root, env, "read-tree", f"{commit}^{{tree}}")
        _git_env(root, env, "checkout-index", "--all", f"--prefix={target}{os.sep}")


def tree_of(root: Path, commit: str) -> str:
    """The id of `commit`'s tree."""
    return run_git(root, "rev-parse", "--verify", f"{commit}^{{tree}}").decode().strip()


def merge_tree(root: Path, base: str, head: str) -> str | None:
    """The tree a merge of `head` into `base` would have, or None if they conflict."""
    result = subprocess.run(
        ["git", "-C", str(root), "merge-tree", "--write-tree", "--no-messages", base, head],
        capture_output=True,
        check=False,
    )
    if result.returncode == 1:
        return None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise GitCommandError(f"git merge-tree failed: {message}")
    return result.stdout.decode().split()[0]


def token_env(token: str | None) -> dict[str, str]:
    """The environment for a git command that talks to GitHub with `token`: an HTTP header passed
    through GIT_CONFIG_* variables, so the token never appears in argv or on disk. Entries a
    runner or another step already put there are kept: ours is appended after them."""
    import base64

    env = dict(os.environ)
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        count = env.get("GIT_CONFIG_COUNT", "0").strip()
        index = int(count) if count.isdigit() else 0
        env.update(
            {
                "GIT_CONFIG_COUNT": str(index + 1),
                f"GIT_CONFIG_KEY_{index}": "http.extraHeader",
                f"GIT_CONFIG_VALUE_{index}": f"AUTHORIZATION: basic {basic}",
            }
        )
    return env


def free_branch(root: Path, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`...: the first branch name not taken yet."""
    existing = set(
        run_git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/").decode().split()
    )
    name, n = wanted, 1
    while name in existing:
        n += 1
        name = f"{wanted}-{n}"
    return name
