"""Thin, fast access to git: one subprocess per question, one `cat-file --batch` per snapshot.

GitPython is used where it makes writing convenient (init, commits); reading trees at scale goes
straight to git so that no per-file process is started.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType
from typing import IO

from steward.errors import GitCommandError, RepoError


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
        raise GitCommandError(f"git {args[0]} failed: {message}")
    return result.stdout


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
        stdin: IO[bytes] | None = self._process.stdin
        stdout: IO[bytes] | None = self._process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(oid.encode("ascii") + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) != 3:
            raise GitCommandError(f"git cat-file: object {oid} is missing")
        size = int(header[2])
        data = stdout.read(size)
        stdout.read(1)  # the newline after each object
        return data

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


def _identity_args(root: Path) -> tuple[str, ...]:
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
    run_git(root, *_identity_args(root), "commit", "--quiet", "-m", message)
    return run_git(root, "rev-parse", "HEAD").decode().strip()
