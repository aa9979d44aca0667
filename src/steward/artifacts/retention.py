"""Retention: `steward gc` applies the policy's `retention` rules in two separate steps.

1. **Propose.** From the current branch's commit (never the work tree, never a checkout) it plans
   what the policy asks: `development` versions older than `archive_after_days` become
   `archived`, and per model all but the `keep_archived` most recent archived versions (by semver
   precedence) become `retired`, with `retired_at` and `retired_reason`. The edits go into one
   branch and one proposal, like a promotion: retiring a version is a stage change, so it is
   reviewed and judged by the gate like any other. Staging and production are never touched.
2. **Sweep.** Only for versions whose entry *on the current commit* is `retired` (the retirement
   is merged), it removes from the DVC remote the objects no remaining version references. The
   entries stay forever as tombstones; only the bytes go.

Why two steps: a retirement is a governed decision and must pass review before anything is lost,
while deleting objects is irreversible and must never depend on an unmerged branch. Splitting
them also makes every run idempotent: planned moves already on an open retention branch are not
proposed twice, and a version whose objects are gone has nothing left to sweep.

The sweep fails closed: if the objects of any remaining version cannot be read, nothing is
removed, because what that version shares with the retired ones is unknown. Versions registered
on other branches (open proposals, `register --pr`) are remaining versions too, since their
files may be identical to a retired version's and were not pushed again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Collection
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from steward.artifacts.store import ArtifactStore, IntegrityError
from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.markdown_text import escape_inline
from steward.entries.models import VersionEntry, format_timestamp
from steward.entries.policy import Policy, Retention
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.entries.yamlio import dumps, loads, replace_top_level_value
from steward.errors import GitCommandError, RemoteError, StewardError, YamlError
from steward.forge.protocol import Forge, Proposal, proposer_trailer
from steward.gitio.changes import change_set
from steward.gitio.gitcmd import (
    CatFile,
    commit_blobs,
    current_branch,
    head_commit,
    is_ancestor,
    run_git,
)
from steward.reading.central_policy import CentralUnavailable, floored_policy

Clock = Callable[[], datetime]
BRANCH_PREFIX = "steward/retention/"


class RetentionError(StewardError):
    """Retention cannot be planned or proposed as things stand (a broken entry, a policy that
    does not allow the stage changes, an entry that already says it is retired)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def retired_reason(keep: int) -> str:
    return f"retention: keep the last {keep} archived versions"


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageMove:
    """One version's planned stage change and why the policy asks for it."""

    model: str
    version: str
    from_stage: str
    to_stage: str
    why: str

    @property
    def path(self) -> str:
        return layout.version_path(self.model, self.version)

    @property
    def name(self) -> str:
        return f"{self.model}@{self.version}"

    def as_dict(self) -> dict[str, str]:
        return {
            "model": self.model,
            "version": self.version,
            "from": self.from_stage,
            "to": self.to_stage,
            "why": self.why,
        }


@dataclass(frozen=True)
class RetentionPlan:
    """What the policy asks of the registry at `base`, less what open proposals already ask."""

    base: str
    base_branch: str
    now: datetime
    retention: Retention | None
    retire: tuple[StageMove, ...] = ()
    archive: tuple[StageMove, ...] = ()
    pending: tuple[str, ...] = ()  # branches that already propose some of the moves
    problems: tuple[str, ...] = ()  # why the proposal could not pass the gate

    @property
    def moves(self) -> tuple[StageMove, ...]:
        return self.retire + self.archive

    @property
    def title(self) -> str:
        retired = len(self.retire)
        return (
            f"Retention: retire {retired} {'version' if retired == 1 else 'versions'}, "
            f"archive {len(self.archive)}"
        )

    @property
    def branch(self) -> str:
        """A name derived from the moves, so the same plan always names the same branch."""
        key = "\n".join(sorted(f"{m.name}:{m.from_stage}->{m.to_stage}" for m in self.moves))
        return BRANCH_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:12]

    def as_dict(self) -> dict[str, Any]:
        retention = self.retention
        return {
            "base": self.base,
            "retention": None
            if retention is None
            else retention.model_dump(mode="json", exclude_none=True),
            "retire": [m.as_dict() for m in self.retire],
            "archive": [m.as_dict() for m in self.archive],
            "already_proposed_on": list(self.pending),
            "problems": list(self.problems),
        }


def plan_retention(
    root: Path, clock: Clock = _utc_now, reader: VersionReader | None = None
) -> RetentionPlan:
    """What the policy on the current branch's commit asks gc to archive and retire now."""
    now = clock().astimezone(UTC).replace(microsecond=0)
    base_branch = current_branch(root)
    base = head_commit(root)
    with VersionReader(root) if reader is None else nullcontext(reader) as versions:
        policy = _policy_at(root, versions.cat, base)
        if policy.retention is None:
            return RetentionPlan(base, base_branch, now, None)
        entries = versions.at(base, strict=True)
    retention = policy.retention
    archive = _to_archive(entries, retention, now)
    retire = _to_retire(entries, retention, archive)
    pending, proposed = _already_proposed(root, base)
    retire = [m for m in retire if (m.model, m.version, m.to_stage) not in proposed]
    archive = [m for m in archive if (m.model, m.version, m.to_stage) not in proposed]
    allowed = {(t.from_, t.to) for t in policy.transitions}
    problems = [
        f"the policy has no transition {a} -> {b}, so the gate would refuse the proposal: add "
        f"`- {{from: {a}, to: {b}, approvals: [...]}}` to transitions in {layout.POLICY_FILE}"
        for a, b in sorted({(m.from_stage, m.to_stage) for m in (*retire, *archive)})
        if (a, b) not in allowed
    ]
    return RetentionPlan(
        base,
        base_branch,
        now,
        retention,
        tuple(retire),
        tuple(archive),
        tuple(pending),
        tuple(problems),
    )


def _policy_at(root: Path, cat: CatFile, rev: str) -> Policy:
    raw = cat.read_optional(f"{rev}:{layout.POLICY_FILE}")
    if raw is None:
        raise RetentionError(f"{layout.POLICY_FILE} does not exist on the current branch")
    parsed = parse_file(Kind.POLICY, raw, layout.POLICY_FILE)
    if not isinstance(parsed.entry, Policy):
        details = "; ".join(p.render() for p in parsed.problems)
        raise RetentionError(f"{layout.POLICY_FILE} has problems; fix them first: {details}")
    try:  # transitions the central policy allows are the ones retention may use
        return floored_policy(root, parsed.entry, lambda path: cat.read_optional(f"{rev}:{path}"))
    except CentralUnavailable as exc:
        raise RetentionError(str(exc)) from None


def _to_archive(
    entries: dict[tuple[str, str], VersionEntry], retention: Retention, now: datetime
) -> list[StageMove]:
    days = retention.archive_after_days
    if days is None:
        return []
    cutoff = now - timedelta(days=days)
    return [
        StageMove(
            entry.model,
            entry.version,
            "development",
            "archived",
            f"in development since {entry.created_at:%Y-%m-%d} "
            f"({(now - entry.created_at).days} days; archive_after_days: {days})",
        )
        for entry in _in_order(entries)
        if entry.stage == "development" and entry.created_at <= cutoff
    ]


def _to_retire(
    entries: dict[tuple[str, str], VersionEntry],
    retention: Retention,
    archiving: list[StageMove],
) -> list[StageMove]:
    """All but the `keep_archived` most recent archived versions of each model.

    Versions this same plan archives count among the archived (after the merge they are), so
    one merged proposal reaches what the policy asks; but they are never retired in the same
    change, which would skip a stage."""
    keep = retention.keep_archived
    if keep is None:
        return []
    newly = {(m.model, m.version) for m in archiving}
    by_model: dict[str, list[VersionEntry]] = {}
    for entry in _in_order(entries):
        if entry.stage == "archived" or (entry.model, entry.version) in newly:
            by_model.setdefault(entry.model, []).append(entry)
    moves = []
    for model in sorted(by_model):
        newest_first = sorted(by_model[model], key=lambda e: precedence(e.version), reverse=True)
        for entry in newest_first[keep:]:
            if entry.stage == "archived":
                moves.append(
                    StageMove(model, entry.version, "archived", "retired", retired_reason(keep))
                )
    moves.sort(key=lambda m: (m.model, precedence(m.version)))
    return moves


def _in_order(entries: dict[tuple[str, str], VersionEntry]) -> list[VersionEntry]:
    return sorted(entries.values(), key=lambda e: (e.model, precedence(e.version)))


def _already_proposed(root: Path, base: str) -> tuple[list[str], set[tuple[str, str, str]]]:
    """Retention branches not merged into `base`, and the stage moves they propose: gc never
    opens a second proposal for a move one is already waiting on (a closed proposal's branch
    counts until it is deleted)."""
    out = run_git(
        root,
        "for-each-ref",
        "--format=%(objectname) %(refname)",
        "refs/heads/" + BRANCH_PREFIX.rstrip("/"),
        "refs/remotes/",
    ).decode()
    pending: list[str] = []
    proposed: set[tuple[str, str, str]] = set()
    for line in out.splitlines():
        tip, _, ref = line.partition(" ")
        short = ref.removeprefix("refs/heads/").removeprefix("refs/remotes/")
        if BRANCH_PREFIX not in ref or is_ancestor(root, tip, base):
            continue
        try:
            fork = run_git(root, "merge-base", base, tip).decode().strip()
        except GitCommandError:
            continue  # no history in common: nothing it proposes can apply here
        moves = change_set(root, fork, tip).stage_changes
        if moves:
            pending.append(short)
            proposed |= {(c.model, c.version, c.to_stage) for c in moves}
    return pending, proposed


# --- reading versions at a commit -----------------------------------------------------------


class VersionReader:
    """Version entries at any commit, read from git blobs through one `cat-file`, each blob
    parsed once per run: planning and sweeping read the same commit, and other branches mostly
    hold the same blobs. (Parsing, not git, is what costs at 100,000 versions.)"""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cat = CatFile(root)
        self._parsed: dict[str, VersionEntry | list[str]] = {}

    def close(self) -> None:
        self.cat.close()

    def __enter__(self) -> VersionReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def at(
        self, rev: str, strict: bool, skip: Collection[tuple[str, str]] = ()
    ) -> dict[tuple[str, str], VersionEntry]:
        """(model, version) -> entry of every version file at `rev` but those in `skip`.

        With `strict`, an entry that does not parse is an error (gc would not know its stage
        or its objects); otherwise it is left out."""
        out = run_git(self.root, "ls-tree", "-r", "-z", "--full-tree", rev, "--", layout.MODELS_DIR)
        found: dict[tuple[str, str], VersionEntry] = {}
        broken: list[str] = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            _mode, kind, oid = meta.decode().split()
            path = os.fsdecode(raw_path)
            try:
                place = layout.classify(path)
            except Misplaced:
                continue
            if kind != "blob" or place.kind is not Kind.VERSION:
                continue
            if (place.model, place.version) in skip:
                continue
            parsed = self._parse(oid, path)
            if isinstance(parsed, VersionEntry):
                found[(parsed.model, parsed.version)] = parsed
            else:
                broken.extend(parsed)
        if broken and strict:
            shown = "\n".join(broken)
            raise RetentionError(
                f"gc reads every version entry and these have problems; fix them first "
                f"(`steward check`):\n{shown}"
            )
        return found

    def _parse(self, oid: str, path: str) -> VersionEntry | list[str]:
        if oid not in self._parsed:
            parsed = parse_file(Kind.VERSION, self.cat.read(oid), path)
            self._parsed[oid] = (
                parsed.entry
                if isinstance(parsed.entry, VersionEntry)
                else [p.render() for p in parsed.problems]
            )
        return self._parsed[oid]


# --- proposing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionProposal:
    proposal: Proposal
    branch: str
    commit: str


def retire_text(text: str, path: str, retired_at: str, reason: str) -> str:
    """The entry `text` moved from `archived` to `retired`: the `stage:` line changed in place
    and `retired_at`/`retired_reason` appended as new top-level lines, nothing else touched (so
    the diff a reviewer reads is three lines). Re-reads the result to prove it."""
    before = loads(text.encode("utf-8"), path).data
    if not isinstance(before, dict):
        raise RetentionError(f"{path}: expected a mapping of fields")
    present = [key for key in ("retired_at", "retired_reason") if key in before]
    if present:
        raise RetentionError(
            f"{path}: already has {' and '.join(present)} while not retired; fix it by hand"
        )
    added = {"retired_at": retired_at, "retired_reason": reason}
    edited = replace_top_level_value(text, "stage", "retired", path)
    edited = (edited if edited.endswith("\n") else edited + "\n") + dumps(added)
    after = loads(edited.encode("utf-8"), path).data
    if after != {**before, "stage": "retired", **added}:
        raise YamlError(path, None, "could not retire the entry without changing anything else")
    parsed = parse_file(Kind.VERSION, edited.encode("utf-8"), path)
    if parsed.problems:
        details = "; ".join(p.render() for p in parsed.problems)
        raise RetentionError(f"{path}: the retired entry would not be valid: {details}")
    return edited


def propose_retention(
    root: Path, forge: Forge, plan: RetentionPlan, author: str
) -> RetentionProposal:
    """One branch with every planned move, and one proposal; the work tree is not touched.
    The branch is taken back if the forge refuses the proposal."""
    if not plan.moves:
        raise RetentionError("retention has nothing to propose")
    if plan.problems:
        raise RetentionError("; ".join(plan.problems))
    retired_at = format_timestamp(plan.now)
    files: dict[str, bytes] = {}
    with CatFile(root) as cat:
        for move in plan.moves:
            raw = cat.read_optional(f"{plan.base}:{move.path}")
            if raw is None:
                raise RetentionError(f"{move.path} does not exist at {plan.base[:12]}")
            text = raw.decode("utf-8")
            if move.to_stage == "retired":
                text = retire_text(text, move.path, retired_at, move.why)
            else:
                text = replace_top_level_value(text, "stage", move.to_stage, move.path)
            files[move.path] = text.encode("utf-8")
    branch = plan.branch
    message = plan.title + "\n\n" + "\n".join(_move_line(m) for m in plan.moves)
    message += f"\n\n{proposer_trailer(author)}\n"
    try:
        commit = commit_blobs(root, plan.base, files, message, branch)
    except GitCommandError as exc:
        raise RetentionError(
            f"could not create the branch {branch} ({exc}); an earlier gc run may have left it: "
            "delete it to propose again"
        ) from exc
    try:
        forge.publish(root, branch)
        proposal = forge.create_proposal(
            plan.title, retention_body(plan), branch, plan.base_branch, author
        )
    except BaseException:
        run_git(root, "update-ref", "-d", f"refs/heads/{branch}", commit)  # take the branch back
        raise
    return RetentionProposal(proposal, branch, commit)


def _move_line(move: StageMove) -> str:
    verb = "Retire" if move.to_stage == "retired" else "Archive"
    return f"{verb} {move.model} {move.version}: {move.why}"


def _row(*cells: str) -> str:
    return "| " + " | ".join(escape_inline(cell) for cell in cells) + " |"


def retention_body(plan: RetentionPlan) -> str:
    """What reviewers read: every move and why, and what happens to the artifacts after."""
    lines = ["Applies the retention rules of `policies/registry.yaml`.", ""]
    if plan.retire:
        lines += [
            "### Retire",
            "",
            "The entries stay as tombstones (with `retired_at` and `retired_reason`); after this "
            "merges, `steward gc` removes from the DVC remote the objects of these versions that "
            "no remaining version uses.",
            "",
            "| model | version | reason |",
            "|---|---|---|",
            *(_row(m.model, m.version, m.why) for m in plan.retire),
            "",
        ]
    if plan.archive:
        lines += [
            "### Archive",
            "",
            "| model | version | why |",
            "|---|---|---|",
            *(_row(m.model, m.version, m.why) for m in plan.archive),
            "",
        ]
    return "\n".join(lines)


# --- sweeping the remote ----------------------------------------------------------------------


@dataclass(frozen=True)
class RemovedObject:
    oid: str
    size: int | None
    versions: tuple[str, ...]  # the retired versions that referenced it

    def as_dict(self) -> dict[str, Any]:
        return {"object": self.oid, "size": self.size, "versions": list(self.versions)}


@dataclass
class SweepReport:
    """What the sweep removed from the remote (or, in a dry run, would remove)."""

    dry_run: bool
    remote: str | None = None
    retired: list[str] = field(default_factory=list)  # retired versions at the current commit
    removed: list[RemovedObject] = field(default_factory=list)
    kept_shared: list[str] = field(default_factory=list)  # still used by remaining versions
    warnings: list[str] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return sum(item.size or 0 for item in self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "remote": self.remote,
            "retired_versions": self.retired,
            "removed": [item.as_dict() for item in self.removed],
            "bytes_freed": self.bytes_freed,
            "kept_shared": self.kept_shared,
            "warnings": self.warnings,
        }


def sweep_retired(
    root: Path, dry_run: bool = False, reader: VersionReader | None = None
) -> SweepReport:
    """Remove from the DVC remote the objects of versions retired on the current commit that no
    remaining version references. File objects go first and each `.dir` listing last, so an
    interrupted sweep still finds what it has left to do on the next run."""
    report = SweepReport(dry_run)
    _require_published_head(root)
    head = head_commit(root)
    with VersionReader(root) if reader is None else nullcontext(reader) as versions:
        at_head = versions.at(head, strict=True)
        retired = [entry for entry in at_head.values() if entry.stage == "retired"]
        report.retired = [f"{e.model}@{e.version}" for e in retired]
        if not retired:
            return report  # nothing to sweep: DVC (slow to import) is not even opened
        elsewhere = _versions_on_other_refs(root, head, at_head, versions)
    remaining = [entry for entry in at_head.values() if entry.stage != "retired"]
    with ArtifactStore(root) as store:
        report.remote = store.remote_url()
        remote = store.remote()
        present = _present_objects(store, remote, retired, report)
        if not present:
            return report
        referenced = _referenced_objects(store, remaining, elsewhere, report)
        doomed = {oid: users for oid, users in present.items() if oid not in referenced}
        report.kept_shared = sorted(set(present) - set(doomed))
        # Files first, listings last: a listing left on the remote still names the files.
        order = sorted(doomed, key=lambda oid: (oid.endswith(".dir"), oid))
        for oid in order:
            path = remote.oid_to_path(oid)
            size = _size(remote, path)
            if not dry_run:
                _remove(remote, path, oid, report)
            report.removed.append(RemovedObject(oid, size, tuple(sorted(doomed[oid]))))
    return report


def _require_published_head(root: Path) -> None:
    """Sweep only from the tip of the branch everyone shares, knowing every branch there is:
    from an unmerged retention branch a version looks retired that is not; a branch not fetched
    may hold a version whose files are identical to a retired one's."""
    from steward.gitio.gitcmd import current_branch, upstream

    branch = current_branch(root)
    if branch.startswith("steward/"):
        raise StewardError(f"gc sweeps from the shared branch, not from {branch}")
    remotes = run_git(root, "remote").decode().split()
    if "origin" not in remotes:
        return  # a registry with no origin: every branch there is, is here
    try:
        run_git(root, "fetch", "--quiet", "origin")
    except GitCommandError as exc:
        raise StewardError(f"gc needs every branch of origin to sweep safely: {exc}") from exc
    remote, target = upstream(root)
    tip = run_git(root, "rev-parse", "--verify", "--quiet", f"refs/remotes/{remote}/{target}")
    if tip.decode().strip() != head_commit(root):
        raise StewardError(
            f"{branch} is not at {remote}/{target}: gc sweeps only the shared branch's tip "
            "(pull or push first)"
        )


def _versions_on_other_refs(
    root: Path,
    head: str,
    at_head: dict[tuple[str, str], VersionEntry],
    versions: VersionReader,
) -> list[VersionEntry]:
    """Versions registered on other branches (local or remote-tracking) and not on the current
    commit: registrations waiting in a proposal, whose objects are on the remote already and may
    be identical to a retired version's. For versions that exist here, this commit's entry is
    the truth (an older branch that still says `archived` does not revive a retired one)."""
    out = run_git(
        root, "for-each-ref", "--format=%(objectname)", "refs/heads/", "refs/remotes/"
    ).decode()
    tips = sorted({tip for tip in out.split() if tip != head})
    found: dict[tuple[str, str], VersionEntry] = {}
    for tip in tips:
        for key, entry in versions.at(tip, strict=False, skip=at_head.keys()).items():
            if entry.stage != "retired":
                found.setdefault(key, entry)
    return [found[key] for key in sorted(found)]


def _present_objects(
    store: ArtifactStore, remote: Any, retired: list[VersionEntry], report: SweepReport
) -> dict[str, set[str]]:
    """oid -> retired versions naming it, for the objects of retired versions still on the
    remote. A version whose listing is gone from the remote was swept already (the listing goes
    last), so a later run neither reads it again nor recomputes what remaining versions use."""
    present: dict[str, set[str]] = {}
    for entry in retired:
        name = f"{entry.model}@{entry.version}"
        if not _exists(remote, entry.artifact.md5):
            continue
        try:
            listing = store.listing(entry)
        except RemoteError:
            continue  # gone meanwhile: another sweep is at work
        except IntegrityError as exc:
            report.warnings.append(f"{name}: left alone, its listing cannot be trusted: {exc}")
            continue
        for oid in (*listing.values(), entry.artifact.md5):
            if _exists(remote, oid):
                present.setdefault(oid, set()).add(name)
    return present


def _exists(remote: Any, oid: str) -> bool:
    try:
        return bool(remote.fs.exists(remote.oid_to_path(oid)))
    except Exception as exc:
        raise RemoteError(f"could not read the DVC remote: {exc}") from exc


def _referenced_objects(
    store: ArtifactStore,
    remaining: list[VersionEntry],
    elsewhere: list[VersionEntry],
    report: SweepReport,
) -> set[str]:
    """Every object a remaining version uses: its files and its listing. A remaining version on
    the current commit whose listing cannot be read stops the sweep (fail closed: what it shares
    with the retired versions is unknown); one on another branch is reported and left out,
    since a version without a readable listing keeps nothing alive that it could use."""
    referenced: set[str] = set()
    seen: set[str] = set()
    for entry in remaining:
        if entry.artifact.md5 in seen:
            continue
        try:
            listing = store.listing(entry)
        except (RemoteError, IntegrityError) as exc:
            raise RetentionError(
                f"cannot tell which objects {entry.model}@{entry.version} uses ({exc}); nothing "
                "was removed from the remote"
            ) from exc
        seen.add(entry.artifact.md5)
        referenced |= {*listing.values(), entry.artifact.md5}
    for entry in elsewhere:
        if entry.artifact.md5 in seen:
            continue
        referenced.add(entry.artifact.md5)
        try:
            listing = store.listing(entry)
        except (RemoteError, IntegrityError) as exc:
            report.warnings.append(
                f"{entry.model}@{entry.version} (on another branch): its listing cannot be read "
                f"({exc})"
            )
            continue
        seen.add(entry.artifact.md5)
        referenced |= set(listing.values())
    return referenced


def _size(remote: Any, path: str) -> int | None:
    try:
        size = remote.fs.size(path)
    except Exception:  # the size is for the report only
        return None
    return int(size) if size is not None else None


def _remove(remote: Any, path: str, oid: str, report: SweepReport) -> None:
    try:
        remote.fs.rm_file(path)
    except FileNotFoundError:
        return  # another sweep took it first
    except Exception as exc:
        done = len(report.removed)
        raise RemoteError(
            f"could not remove {oid} from the DVC remote ({exc}); {done} objects were removed "
            "before it; run `steward gc` again to finish"
        ) from exc


# --- the command ------------------------------------------------------------------------------


@dataclass
class GcReport:
    plan: RetentionPlan
    sweep: SweepReport
    proposal: RetentionProposal | None = None
    sweep_error: str | None = None  # the sweep failed after the proposal was opened

    @property
    def dry_run(self) -> bool:
        return self.sweep.dry_run

    @property
    def ok(self) -> bool:
        return not self.plan.problems and self.sweep_error is None

    def as_dict(self) -> dict[str, Any]:
        proposal = self.proposal
        return {
            "dry_run": self.dry_run,
            "plan": self.plan.as_dict(),
            "proposal": None
            if proposal is None
            else {
                "number": proposal.proposal.number,
                "title": proposal.proposal.title,
                "branch": proposal.branch,
                "commit": proposal.commit,
            },
            "sweep": self.sweep.as_dict(),
            "sweep_error": self.sweep_error,
        }

    def lines(self) -> list[str]:
        plan, sweep = self.plan, self.sweep
        if plan.retention is None:
            return [f"{layout.POLICY_FILE} has no retention rules: nothing to do"]
        would = "would " if self.dry_run else ""
        out = []
        for move in plan.moves:
            verb = "retire" if move.to_stage == "retired" else "archive"
            out.append(f"{would}{verb} {move.model} {move.version}: {move.why}")
        for branch in plan.pending:
            out.append(f"already proposed on {branch} (delete the branch to propose again)")
        out.extend(f"problem: {problem}" for problem in plan.problems)
        if self.proposal is not None:
            out.append(
                f"Opened proposal #{self.proposal.proposal.number}: {self.proposal.proposal.title} "
                f"(branch {self.proposal.branch})"
            )
        elif plan.moves and self.dry_run and not plan.problems:
            out.append(f"would open a proposal: {plan.title} (branch {plan.branch})")
        elif not plan.moves:
            out.append("nothing new to retire or archive")
        for item in sweep.removed:
            size = "?" if item.size is None else f"{item.size} bytes"
            verb = "would remove" if self.dry_run else "removed"
            out.append(f"{verb} {item.oid} ({size}) of {', '.join(item.versions)} from the remote")
        out.extend(f"kept {oid}: a remaining version uses it too" for oid in sweep.kept_shared)
        out.extend(f"warning: {warning}" for warning in sweep.warnings)
        if self.sweep_error is not None:
            out.append(f"error: the sweep failed: {self.sweep_error}")
        elif sweep.removed:
            verb = "would remove" if self.dry_run else "removed"
            out.append(
                f"{verb} {len(sweep.removed)} objects from {sweep.remote}: "
                f"{sweep.bytes_freed} bytes {'would be ' if self.dry_run else ''}freed"
            )
        elif sweep.retired:
            out.append(f"nothing to remove: every retired version is swept ({len(sweep.retired)})")
        else:
            out.append("no retired versions: nothing to remove from the remote")
        if self.dry_run:
            out.append("dry run: nothing changed")
        return out


def run_gc(
    root: Path,
    open_forge: Callable[[], Forge],
    author: str,
    dry_run: bool = False,
    clock: Clock = _utc_now,
) -> GcReport:
    """`steward gc`: propose what the policy retires or archives (if anything new), then sweep
    the remote for versions already retired. The forge is opened only to propose."""
    with VersionReader(root) as reader:
        plan = plan_retention(root, clock, reader)
        if plan.retention is None:
            return GcReport(plan, SweepReport(dry_run))
        proposal = None
        if plan.moves and not plan.problems and not dry_run:
            proposal = propose_retention(root, open_forge(), plan, author)
        try:
            sweep = sweep_retired(root, dry_run=dry_run, reader=reader)
        except StewardError as exc:
            if proposal is None:
                raise
            # The proposal is open: say so, and why the sweep did not finish.
            return GcReport(plan, SweepReport(dry_run), proposal, str(exc))
    return GcReport(plan, sweep, proposal)
