"""The central policy a registry pins, read at exactly its pinned commit.

`policies/registry.yaml` may say `central: {repo, commit, path, blob}`. The file is read from the
copy vendored at `policies/central.yaml` when that copy's blob id is the pinned `blob` (no network
needed: a private central repository stays private to CI), else from a mirror of the central
repository under `<git dir>/steward/central/`, fetched by commit id. Git names objects by their
content, so a commit that is there is the commit that was pinned, and the file read at it is the
file that was approved. Anything else (unreachable, a missing commit or file, a blob that is not
the pinned one, a central file that is not a valid policy) raises `CentralUnavailable` with the
reason: the gate fails closed on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steward import faults
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.policy import CentralPin, Policy
from steward.entries.policy_floor import central_problems, effective_policy, weakenings
from steward.entries.problems import field_path
from steward.entries.validate import parse_file
from steward.entries.yamlio import Loc
from steward.errors import GitCommandError, StewardError
from steward.gitio.gitcmd import fetch_location, mirror_git, run_git

FETCH_TIMEOUT_S = 120


class CentralUnavailable(StewardError):
    """The pinned central policy could not be read, or is not the one pinned."""


@dataclass(frozen=True)
class CentralPolicy:
    pin: CentralPin
    policy: Policy
    source: str  # where it was read: the vendored copy, or the central repository's mirror
    raw: bytes  # the file as it is at the pinned commit
    blob: str  # its git blob id


@dataclass(frozen=True)
class Vendored:
    """The copy at `policies/central.yaml` in the revision being judged."""

    raw: bytes

    def blob_id(self, like: str) -> str:
        """The git blob id of the copy, in the hash `like` (an object id) is in."""
        header = f"blob {len(self.raw)}\0".encode()
        algorithm = hashlib.sha256 if len(like) == 64 else hashlib.sha1
        return algorithm(header + self.raw).hexdigest()


def central_label(pin: CentralPin) -> str:
    return f"the central policy {pin.describe()}"


def read_central(root: Path, pin: CentralPin, vendored: Vendored | None) -> CentralPolicy:
    """The central policy `pin` names, verified; raises CentralUnavailable with the reason."""
    if vendored is not None and pin.blob is not None and vendored.blob_id(pin.blob) == pin.blob:
        # `blob` is the gate's word only for a pin that passed it (`verify_pin`, when the pin was
        # added or moved); where the commit is at hand anyway, it is checked again here.
        known = _blob_at(root, pin, fetch=False)
        if known is not None and known != pin.blob:
            raise CentralUnavailable(
                f"{central_label(pin)}: the file at that commit is blob {known}, not the pinned "
                f"blob {pin.blob}"
            )
        raw, blob, source = vendored.raw, pin.blob, f"the copy at {layout.CENTRAL_COPY_FILE}"
    else:
        raw, blob = _from_mirror(root, pin)
        source = f"{pin.repo} at {pin.commit[:12]}"
    parsed = parse_file(Kind.POLICY, raw, pin.path)
    if parsed.entry is None:
        shown = "; ".join(problem.render() for problem in parsed.problems[:3])
        raise CentralUnavailable(f"{central_label(pin)} is not a valid policy: {shown}")
    policy: Policy = parsed.entry
    problems = central_problems(policy)
    if problems:
        shown = "; ".join(f"{_dotted(loc)}: {message}" for loc, message in problems[:3])
        raise CentralUnavailable(f"{central_label(pin)} has problems: {shown}")
    return CentralPolicy(pin, policy, source, raw, blob)


def _dotted(loc: Loc) -> str:
    return field_path(loc) or "(file)"


def mirror_dir(root: Path, repo: str) -> Path:
    common = run_git(root, "rev-parse", "--path-format=absolute", "--git-common-dir")
    digest = hashlib.sha256(repo.encode()).hexdigest()[:16]
    return Path(os.fsdecode(common.strip())) / "steward" / "central" / f"{digest}.git"


def _ensure_mirror(path: Path) -> None:
    if (path / "HEAD").exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Made aside and renamed into place: a run cut off half-way leaves no half-made mirror.
    staging = Path(tempfile.mkdtemp(prefix=".mirror-", dir=path.parent))
    try:
        made = mirror_git(staging, "init", "-q", "--bare")
        if made.returncode != 0:
            raise OSError(made.stderr.decode("utf-8", "replace").strip() or "git init failed")
        faults.point("central:mirror-staged")
        try:
            staging.rename(path)
        except OSError:
            if not (path / "HEAD").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _has_commit(mirror: Path, commit: str) -> bool:
    return mirror_git(mirror, "cat-file", "-e", f"{commit}^{{commit}}").returncode == 0


def _fetch(root: Path, mirror: Path, pin: CentralPin) -> None:
    url = fetch_location(pin.repo, root)
    try:
        result = mirror_git(
            mirror,
            *("fetch", "-q", "--no-tags", "--no-write-fetch-head", "--", url, pin.commit),
            timeout=FETCH_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise CentralUnavailable(
            f"{central_label(pin)} could not be fetched: no answer in {FETCH_TIMEOUT_S} s"
        ) from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        message = " ".join(line.strip() for line in lines)[:500] or f"exit {result.returncode}"
        raise CentralUnavailable(f"{central_label(pin)} could not be fetched: {message}")
    faults.point("central:fetched")
    # A ref keeps the pinned commit's objects from being pruned by git gc.
    mirror_git(mirror, "update-ref", f"refs/pins/{pin.commit}", pin.commit)


def _blob_at(root: Path, pin: CentralPin, fetch: bool) -> str | None:
    """The blob id of the pinned file at the pinned commit, from the mirror (fetched into it
    when `fetch`; else None when the mirror lacks the commit). Raises CentralUnavailable."""
    try:
        mirror = mirror_dir(root, pin.repo)
        if not fetch and not (mirror / "HEAD").exists():
            return None
        _ensure_mirror(mirror)
        if not _has_commit(mirror, pin.commit):
            if not fetch:
                return None
            _fetch(root, mirror, pin)
            if not _has_commit(mirror, pin.commit):
                raise CentralUnavailable(
                    f"{central_label(pin)}: {pin.repo} has no commit {pin.commit}"
                )
        listed = mirror_git(mirror, "ls-tree", "-z", pin.commit, "--", pin.path)
    except (GitCommandError, OSError, subprocess.SubprocessError) as exc:
        raise CentralUnavailable(f"{central_label(pin)}: {exc}") from None
    if listed.returncode != 0:
        why = listed.stderr.decode("utf-8", "replace").strip()
        raise CentralUnavailable(f"{central_label(pin)}: {why or 'cannot list the commit'}")
    found = listed.stdout
    mode_type_id, _, name = found.partition(b"\t")
    parts = mode_type_id.split()
    if name.rstrip(b"\0").decode("utf-8", "replace") != pin.path or len(parts) != 3:
        raise CentralUnavailable(
            f"{central_label(pin)}: commit {pin.commit[:12]} has no file {pin.path}"
        )
    if parts[1] != b"blob" or parts[0] not in (b"100644", b"100755"):
        raise CentralUnavailable(
            f"{central_label(pin)}: {pin.path} at {pin.commit[:12]} is not a regular file"
        )
    return parts[2].decode()


def verify_pin(root: Path, pin: CentralPin) -> str:
    """The blob id of the pinned file, fetched and compared with the pin's `blob`: what the
    gate asks of a pin that is added or moved, so that a `blob` (and the vendored copy it lets
    serve) is never only the team's word."""
    blob = _blob_at(root, pin, fetch=True)
    assert blob is not None
    if pin.blob is not None and blob != pin.blob:
        raise CentralUnavailable(
            f"{central_label(pin)}: the file at that commit is blob {blob}, not the pinned "
            f"blob {pin.blob}"
        )
    return blob


def _from_mirror(root: Path, pin: CentralPin) -> tuple[bytes, str]:
    blob = verify_pin(root, pin)
    try:
        read = mirror_git(mirror_dir(root, pin.repo), "cat-file", "blob", blob)
    except OSError as exc:
        raise CentralUnavailable(f"{central_label(pin)}: {exc}") from None
    if read.returncode != 0:
        raise CentralUnavailable(f"{central_label(pin)}: blob {blob} cannot be read")
    return read.stdout, blob


def vendored_at(read: Callable[[str], bytes | None]) -> Vendored | None:
    raw = read(layout.CENTRAL_COPY_FILE)
    return Vendored(raw) if raw is not None else None


@dataclass(frozen=True)
class Floored:
    """A registry policy with its central floor applied: what to judge by, and what was wrong."""

    policy: Policy  # the effective policy (the local one when no central is pinned)
    central: CentralPolicy | None
    weakenings: list[tuple[Loc, str]]


def apply_floor(root: Path, local: Policy, vendored: Vendored | None) -> Floored:
    """`local` with the central policy it pins (raises CentralUnavailable when it cannot be
    read). Without a pin, `local` as it is."""
    if local.central is None:
        return Floored(local, None, [])
    central = read_central(root, local.central, vendored)
    return Floored(
        effective_policy(central.policy, local), central, weakenings(central.policy, local)
    )


_TEAM_POLICY_HEAD = """\
# yaml-language-server: $schema=../.steward/schemas/policy.schema.json
#
# This registry's policy builds on the central policy pinned below: the gate judges by the central
# file at that commit plus this file. Here a team may add approvals, fill the roles the central
# policy leaves empty, tighten metric thresholds and govern more paths; nothing here may weaken the
# central policy (`steward check` names each attempt, and the gate refuses to judge by it).
# Moving or removing the pin needs the approvals of the central policy's governance.
# policies/central.yaml is a copy of the pinned file: with it the gate needs no network.
"""


def pin_for(repo_at_commit: str, path: str) -> CentralPin:
    """`URL@COMMIT` (the full commit id) as a pin; a clear usage error otherwise."""
    from pydantic import ValidationError

    from steward.errors import UsageError

    repo, sep, commit = repo_at_commit.rpartition("@")
    if not sep or not repo:
        raise UsageError(f"--central {repo_at_commit!r}: give URL@COMMIT (the full commit id)")
    try:
        return CentralPin(repo=repo, commit=commit, path=path)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise UsageError(f"--central {repo_at_commit!r}: {field}: {error['msg']}") from None


def team_policy_text(central: CentralPolicy, roles: dict[str, list[str]]) -> str:
    """A team registry's `policies/registry.yaml` on `central`: the pin (with the blob id, so
    that the vendored copy serves), the roles the central policy leaves empty (filled from
    `roles`), and the central governance approvals repeated. Refuses to fill a role the central
    policy fills."""
    from steward.errors import UsageError

    pin = central.pin.model_copy(update={"blob": central.blob})
    open_roles = [role for role, members in central.policy.roles.items() if not members]
    for role in roles:
        if central.policy.roles.get(role):
            raise UsageError(
                f"--role {role}: the central policy fills this role "
                f"({', '.join(central.policy.roles[role])}); a team registry fills only the "
                f"roles it leaves empty: {', '.join(open_roles) or 'none'}"
            )
    lines = [_TEAM_POLICY_HEAD.rstrip("\n"), "central:"]
    lines += [f"  {key}: {json.dumps(value)}" for key, value in pin.model_dump().items()]
    filled = {role: roles.get(role, []) for role in open_roles}
    filled.update(roles)
    lines.append("roles:" if filled else "roles: {}")
    lines += [f"  {role}: {json.dumps(members)}" for role, members in filled.items()]
    lines += ["governance:", "  approvals:"]
    for approval in central.policy.governance.approvals:
        shown = approval.model_dump(mode="json", exclude_none=True)
        lines.append(f"    - {json.dumps(shown)}")
    return "\n".join(lines) + "\n"


def floored_policy(root: Path, local: Policy, read: Callable[[str], bytes | None]) -> Policy:
    """`local` on the central floor it pins (itself when it pins none), the vendored copy read
    through `read(path)` from the same revision; raises CentralUnavailable."""
    return apply_floor(root, local, vendored_at(read)).policy


def worktree_reader(root: Path) -> Callable[[str], bytes | None]:
    def read(relative: str) -> bytes | None:
        try:
            return (root / relative).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    return read
