"""`steward federation sync`: each registry of a federation fetched into a local bare mirror.

Where the mirrors live: inside the git directory of the repository holding the federation file
(`<git dir>/steward/federation/<name>.git`), so they are never committed and every worktree of
that clone shares them; a federation file outside any repository keeps them beside it in
`.steward-federation/` (with a `.gitignore` of `*`).

A sync fetches `+refs/heads/BRANCH:refs/heads/BRANCH` only, with no tags: git fetches only the
objects the mirror lacks, so a sync after one new version in one registry transfers objects for
that registry alone and finds the rest up to date. Nothing else is written: a kill at any moment
leaves at most a temporary pack git ignores, or a half-initialised repository `git init`
completes; the next sync finishes the job. A failed fetch is remembered in the mirror (one small
file, written atomically) so that answers read from the older copy say it is stale.

Credentials are git's own (a credential helper, an SSH agent); git never prompts
(`GIT_TERMINAL_PROMPT=0`), and a fetch that hangs is stopped after `STEWARD_FEDERATION_TIMEOUT`
seconds (default 300).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.errors import GitCommandError
from steward.federation.spec import Federation, Member
from steward.gitio.gitcmd import run_git

MIRRORS_IN_GIT_DIR = Path("steward") / "federation"
MIRRORS_BESIDE_FILE = ".steward-federation"
DEFAULT_TIMEOUT_S = 300.0
PARALLEL_FETCHES = 4


def mirrors_dir(federation: Federation) -> Path:
    """Where this federation's mirrors are (whether or not any exists yet)."""
    base = federation.path.parent
    try:
        out = run_git(base, "rev-parse", "--path-format=absolute", "--git-common-dir")
    except (GitCommandError, OSError):
        return base / MIRRORS_BESIDE_FILE
    return Path(os.fsdecode(out.strip())) / MIRRORS_IN_GIT_DIR


def mirror_path(federation: Federation, member: Member) -> Path:
    return mirrors_dir(federation) / f"{member.name}.git"


def branch_ref(member: Member) -> str:
    return f"refs/heads/{member.branch}"


def mirrored_commit(mirror: Path, member: Member) -> str | None:
    """The commit the mirror holds for the member's branch, or None (no mirror, never fetched)."""
    if not (mirror / "HEAD").is_file():
        return None
    try:
        out = run_git(
            mirror, "rev-parse", "--verify", "--quiet", f"{branch_ref(member)}^{{commit}}"
        )
    except GitCommandError:
        return None
    return out.decode().strip() or None


@dataclass(frozen=True)
class SyncResult:
    """What one registry's fetch did: `fetched` (old -> new), `up to date`, or `failed`."""

    registry: str
    url: str
    branch: str
    status: str
    old: str | None
    new: str | None
    reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "url": self.url,
            "branch": self.branch,
            "status": self.status,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
        }


# What runs git for a fetch: (arguments, environment, timeout) -> completed process. Tests count
# fetches through it; everything else uses subprocess.
Runner = Callable[[list[str], dict[str, str], float], "subprocess.CompletedProcess[bytes]"]


def _run(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, env=env, capture_output=True, timeout=timeout, check=False)


def sync(
    federation: Federation, names: list[str] | None = None, runner: Runner = _run
) -> list[SyncResult]:
    """Fetch every registry of `federation` (or those `names` lists) into its mirror."""
    members = [m for m in federation.members if names is None or m.name in names]
    directory = mirrors_dir(federation)
    _prepare(directory)
    timeout = _timeout()
    with ThreadPoolExecutor(max_workers=PARALLEL_FETCHES) as pool:
        return list(
            pool.map(lambda m: _sync_one(directory / f"{m.name}.git", m, runner, timeout), members)
        )


def _prepare(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if directory.name == MIRRORS_BESIDE_FILE:
        ignore = directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n", encoding="utf-8")  # a lost write is rewritten next time


# In a mirror: why its last sync failed (absent once a sync succeeds). Queries read it, so that
# an answer from a mirror that could not be refreshed says so.
FAILURE_FILE = "steward-sync-failed"


def last_failure(mirror: Path) -> str | None:
    """Why the last sync of `mirror` failed, or None if it succeeded (or never ran)."""
    try:
        return (mirror / FAILURE_FILE).read_text(encoding="utf-8").strip() or "unknown reason"
    except OSError:
        return None


def _record(mirror: Path, found: SyncResult) -> SyncResult:
    """Keep the outcome in the mirror, atomically: a temporary file renamed into place (a kill
    leaves the old outcome or the new one, and at worst a temporary file the next sync
    replaces)."""
    marker = mirror / FAILURE_FILE
    with contextlib.suppress(OSError):
        if not found.failed:
            marker.unlink(missing_ok=True)
        elif mirror.is_dir():
            temporary = mirror / f".{FAILURE_FILE}.tmp"
            temporary.write_text((found.reason or "unknown reason") + "\n", encoding="utf-8")
            temporary.replace(marker)
    return found


def _sync_one(mirror: Path, member: Member, runner: Runner, timeout: float) -> SyncResult:
    return _record(mirror, _fetch(mirror, member, runner, timeout))


def _fetch(mirror: Path, member: Member, runner: Runner, timeout: float) -> SyncResult:
    def result(
        status: str, old: str | None, new: str | None, reason: str | None = None
    ) -> SyncResult:
        return SyncResult(member.name, member.url, member.branch, status, old, new, reason)

    try:
        # Re-running init on a repository (or on what a killed init left) is safe.
        run_git(mirror.parent, "init", "--quiet", "--bare", mirror.name)
    except GitCommandError as exc:
        return result("failed", None, None, str(exc))
    old = mirrored_commit(mirror, member)
    ref = branch_ref(member)
    args = [
        "git", "-C", str(mirror), "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
        "--end-of-options", member.fetch_url, f"+{ref}:{ref}",
    ]  # fmt: skip
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": ""}
    try:
        done = runner(args, env, timeout)
    except subprocess.TimeoutExpired:
        return result("failed", old, old, f"no answer within {timeout:g} s")
    except OSError as exc:
        return result("failed", old, old, str(exc.strerror or exc))
    if done.returncode != 0:
        return result("failed", old, old, _git_reason(done))
    new = mirrored_commit(mirror, member)
    if new is None:
        return result("failed", old, None, f"the fetch brought no branch {member.branch}")
    return result("up to date" if new == old else "fetched", old, new)


def _timeout() -> float:
    text = os.environ.get("STEWARD_FEDERATION_TIMEOUT", "")
    try:
        value = float(text) if text else DEFAULT_TIMEOUT_S
    except ValueError:
        return DEFAULT_TIMEOUT_S
    return value if value > 0 else DEFAULT_TIMEOUT_S


def _git_reason(done: subprocess.CompletedProcess[bytes]) -> str:
    """git's first `fatal:` line (the cause; later lines are advice), else its last line."""
    lines = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    fatal = [line.removeprefix("fatal: ") for line in lines if line.startswith("fatal: ")]
    if fatal:
        return fatal[0]
    return lines[-1] if lines else f"git exit {done.returncode}"
