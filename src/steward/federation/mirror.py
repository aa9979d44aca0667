"""`steward federation sync`: each registry of a federation fetched into a local bare mirror.

Where the mirrors live: inside the git directory of the repository holding the federation file
(`<git dir>/steward/federation/<name>.git`), so they are never committed and every worktree of
that clone shares them; a federation file outside any repository keeps them beside it in
`.steward-federation/` (with a `.gitignore` of `*`).

A sync fetches `+refs/heads/BRANCH:refs/heads/BRANCH` only, with no tags: git fetches only the
objects the mirror lacks, so a sync after one new version in one registry transfers objects for
that registry alone and finds the rest up to date. Besides git's own objects and refs, a mirror
holds two small files: what its last finished sync fetched (URL, branch, commit; removed when a
sync starts, written atomically when it has fetched) and why the last sync failed. A mirror
without the first, or fetched from another URL or branch than the file now names, is never read
as current: answers name it stale or unavailable. A kill at any moment leaves at most a temporary
pack git ignores, a half-initialised repository `git init` completes, or a lock file the next
sync removes once it is older than any fetch may run; the next sync finishes the job.

Credentials are git's own (a credential helper, an SSH agent); git never prompts
(`GIT_TERMINAL_PROMPT=0`), and a fetch that hangs is stopped after `STEWARD_FEDERATION_TIMEOUT`
seconds (default 300).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.federation.spec import Federation, FederationError, Member
from steward.gitio.gitcmd import REPOSITORY_ENV, mirror_env, mirror_git

MIRRORS_IN_GIT_DIR = Path("steward") / "federation"
MIRRORS_BESIDE_FILE = ".steward-federation"
DEFAULT_TIMEOUT_S = 300.0
PARALLEL_FETCHES = 4


def isolate_from_repository_env() -> None:
    """Drop GIT_DIR and the other repository variables from this process's environment: a
    federated command reads and writes only mirrors, through helpers that name their
    repository with -C, which these variables would override (a hook's GIT_DIR would make a
    mirror read the hook's repository)."""
    for name in REPOSITORY_ENV:
        os.environ.pop(name, None)


def mirrors_dir(federation: Federation) -> Path:
    """Where this federation's mirrors are (whether or not any exists yet)."""
    base = federation.path.parent
    try:  # the repository holding the file, whatever GIT_DIR the environment names
        done = subprocess.run(
            ["git", "-C", str(base), "rev-parse", "--path-format=absolute", "--git-common-dir"],
            capture_output=True,
            check=False,
            env=mirror_env(),
        )
    except OSError:
        return base / MIRRORS_BESIDE_FILE
    if done.returncode != 0:
        return base / MIRRORS_BESIDE_FILE
    return Path(os.fsdecode(done.stdout.strip())) / MIRRORS_IN_GIT_DIR


def mirror_path(federation: Federation, member: Member, directory: Path | None = None) -> Path:
    """The member's mirror, in `directory` (the federation's `mirrors_dir`, asked once by a
    caller that has many members to place) or where `mirrors_dir` says."""
    return (directory or mirrors_dir(federation)) / f"{member.name}.git"


def branch_ref(member: Member) -> str:
    return f"refs/heads/{member.branch}"


def mirrored_commit(mirror: Path, member: Member) -> str | None:
    """The commit the mirror holds for the member's branch, or None (no mirror, never fetched)."""
    tip = mirrored_tip(mirror, member)
    return tip[0] if tip is not None else None


def mirrored_tip(mirror: Path, member: Member) -> tuple[str, str] | None:
    """The commit the mirror holds for the member's branch and its tree, in one git process
    that reads the branch once (a sync moving it meanwhile cannot pair one commit with another's
    tree); None when there is no mirror or the branch was never fetched."""
    if not (mirror / "HEAD").is_file():
        return None
    ref = branch_ref(member)  # a checked branch name: never an option
    done = mirror_git(
        mirror, "log", "-1", "--no-walk", "--no-show-signature", "--format=%H %T",
        f"{ref}^{{commit}}", "--",
    )  # fmt: skip
    ids = done.stdout.decode().split()
    if done.returncode != 0 or len(ids) != 2:
        return None
    return ids[0], ids[1]


# In a mirror: where and what the last sync that finished fetched (`url`, `branch`, `commit`,
# one per line). Removed when a sync starts (a removal works on a full disk too) and written,
# atomically, when it has fetched: a mirror without it, or with another URL or branch than the
# federation file says, is never read as current.
SYNCED_FILE = "steward-synced"


@dataclass(frozen=True)
class Synced:
    url: str
    branch: str
    commit: str


def last_synced(mirror: Path) -> Synced | None:
    try:
        lines = (mirror / SYNCED_FILE).read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 3 or not all(lines[:3]):
        return None
    return Synced(lines[0], lines[1], lines[2])


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


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
    """Run git in a session of its own, so that a fetch that does not answer in time is
    stopped with everything it started (an ssh, a credential helper)."""
    with subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def sync(
    federation: Federation, names: list[str] | None = None, runner: Runner = _run
) -> list[SyncResult]:
    """Fetch every registry of `federation` (or those `names` lists) into its mirror."""
    members = [m for m in federation.members if names is None or m.name in names]
    isolate_from_repository_env()
    directory = mirrors_dir(federation)
    _prepare(directory)
    timeout = _timeout()
    with ThreadPoolExecutor(max_workers=PARALLEL_FETCHES) as pool:
        return list(
            pool.map(lambda m: _sync_one(directory / f"{m.name}.git", m, runner, timeout), members)
        )


def _prepare(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if directory.name == MIRRORS_BESIDE_FILE:
            ignore = directory / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")  # a lost write is rewritten next time
    except OSError as exc:
        raise FederationError(
            f"{directory}: the mirrors' directory cannot be made: {exc.strerror or exc}"
        ) from None


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
            _write_atomically(marker, (found.reason or "unknown reason") + "\n")
    return found


def _sync_one(mirror: Path, member: Member, runner: Runner, timeout: float) -> SyncResult:
    """One registry's sync, alone on its mirror: two syncs of one mirror (two federation files
    naming one registry, two worktrees) take turns, so the record of a finished sync always
    names what that sync fetched. The lock is the kernel's: a killed sync releases it."""
    try:
        mirror.mkdir(exist_ok=True)
        handle = (mirror / "steward-sync.lock").open("a+b")  # held across the whole sync
    except OSError as exc:
        return SyncResult(
            member.name, member.url, member.branch, "failed", None, None,
            f"cannot lock the mirror: {exc.strerror or exc}",
        )  # fmt: skip
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return _record(mirror, _fetch(mirror, member, runner, timeout))


def _fetch(mirror: Path, member: Member, runner: Runner, timeout: float) -> SyncResult:
    def result(
        status: str, old: str | None, new: str | None, reason: str | None = None
    ) -> SyncResult:
        return SyncResult(member.name, member.url, member.branch, status, old, new, reason)

    # Re-running init on a repository (or on what a killed init left) is safe.
    made = mirror_git(mirror, "init", "--quiet", "--bare")
    if made.returncode != 0:
        return result("failed", None, None, f"git init failed: {_git_reason(made)}")
    old = mirrored_commit(mirror, member)
    try:  # from here until it has fetched, the mirror is not current
        (mirror / SYNCED_FILE).unlink(missing_ok=True)
    except OSError as exc:
        return result("failed", old, old, f"cannot mark the sync started: {exc.strerror or exc}")
    _remove_stale_locks(mirror, timeout)
    ref = branch_ref(member)
    args = [
        "git", f"--git-dir={mirror}", "fetch", "--quiet", "--no-tags", "--no-write-fetch-head",
        "--end-of-options", member.fetch_url, f"+{ref}:{ref}",
    ]  # fmt: skip
    try:
        done = runner(args, mirror_env(), timeout)
    except subprocess.TimeoutExpired:
        return result("failed", old, old, f"no answer within {timeout:g} s")
    except OSError as exc:
        return result("failed", old, old, str(exc.strerror or exc))
    if done.returncode != 0:
        return result("failed", old, old, _git_reason(done))
    new = mirrored_commit(mirror, member)
    if new is None:
        return result("failed", old, None, f"the fetch brought no branch {member.branch}")
    try:
        _write_atomically(mirror / SYNCED_FILE, f"{member.fetch_url}\n{member.branch}\n{new}\n")
    except OSError as exc:
        return result("failed", old, new, f"cannot record the sync: {exc.strerror or exc}")
    return result("up to date" if new == old else "fetched", old, new)


def _remove_stale_locks(mirror: Path, timeout: float) -> None:
    """Lock files a killed git left (`refs/heads/main.lock`, `packed-refs.lock`, ...): older
    than any fetch may run, so no live git holds them; without this every later sync fails."""
    now = time.time()
    for lock in [*mirror.glob("*.lock"), *(mirror / "refs").rglob("*.lock")]:
        with contextlib.suppress(OSError):
            if now - lock.stat().st_mtime > timeout:
                lock.unlink()


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
    for prefix in ("fatal: ", "error: "):
        found = [line.removeprefix(prefix) for line in lines if line.startswith(prefix)]
        if found:
            return found[0]
    return lines[-1] if lines else f"git exit {done.returncode}"
