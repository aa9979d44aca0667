"""`steward apply --before REV --after REV`: what a push to the default branch did, recorded and
announced.

For every registration and stage change that the first-parent commits between the two revisions
made, apply writes a GTO-format annotated tag holding a JSON record (`steward.records`), then
delivers the policy's hooks for it: a command run with the event in its environment and on stdin,
and/or a `repository_dispatch` event. A hook that fails is reported and retried on the next run;
one that succeeded is marked (`refs/steward/hooks/<hook>/<tag>`) and never run again. Running
apply twice over the same range does nothing the second time; interrupted half way, the next run
completes it.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from steward import layout
from steward.entries import VersionEntry
from steward.errors import StewardError
from steward.forge.protocol import Forge
from steward.gitcmd import CatFile, identity_args, run_git, token_env
from steward.history import decision_from_trailers
from steward.layout import Kind, Misplaced
from steward.policy.spec import Hook, Policy
from steward.records import Record, registration_tag, stage_tag
from steward.validate import parse_file

HOOK_REFS = "refs/steward/hooks"
HOOK_TIMEOUT_S = 600


@dataclass
class ApplyResult:
    tagged: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)  # "hook -> tag"
    failed: list[str] = field(default_factory=list)  # "hook -> tag: why"

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "tagged": self.tagged,
            "delivered": self.delivered,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class _Change:
    commit: str
    at: str
    message: str
    path: str
    old_oid: str | None
    new_oid: str | None
    merged: str = ""  # the second parent, for a merge: what `steward merge` names as its head


_NULL = {"0" * 40, "0" * 64}


def _changes(
    root: Path, before: str | None, after: str, path: str = layout.MODELS_DIR
) -> list[_Change]:
    """Version-file changes made by the first-parent commits in (before, after] under `path`,
    oldest first, from one `git log`."""
    span = f"{before}..{after}" if before else after
    out = run_git(
        root,
        "log", "--first-parent", "--reverse", "--no-renames", "--raw", "--no-abbrev", "-z",
        "--format=%x01%H%x00%cI%x00%P%x00%B%x00", span, "--", path,
    )  # fmt: skip
    changes: list[_Change] = []
    for block in out.split(b"\x01")[1:]:
        commit, at, parents, message, raw = block.split(b"\x00", 4)
        merged = parents.split()[1].decode() if len(parents.split()) > 1 else ""
        fields = raw.lstrip(b"\x00\n").split(b"\x00")  # "\0\n" separates header and raw
        for i in range(0, len(fields) - 1, 2):
            meta, name = fields[i].strip(), fields[i + 1].decode("utf-8", "surrogateescape")
            if not meta.startswith(b":"):
                continue
            _, _, old, new, _status = meta[1:].decode().split()
            changes.append(
                _Change(
                    commit.decode(),
                    at.decode(),
                    message.decode("utf-8", "replace"),
                    name,
                    None if old in _NULL else old,
                    None if new in _NULL else new,
                    merged,
                )
            )
    return changes


def _entry(cat: CatFile, oid: str | None, path: str) -> VersionEntry | None:
    if oid is None:
        return None
    raw = cat.read_optional(oid)
    entry = parse_file(Kind.VERSION, raw or b"", path).entry
    return entry if isinstance(entry, VersionEntry) else None


def _existing_records(root: Path, model: str) -> dict[str, Record]:
    out = run_git(
        root,
        "for-each-ref",
        "--format=%(refname:strip=2)%00%(contents)%01",
        f"refs/tags/{model}@*",
        f"refs/tags/{model}#*",
    )
    records = {}
    for item in out.split(b"\x01"):
        name, _, contents = item.strip(b"\n").partition(b"\x00")
        if not name:
            continue
        record = Record.parse(contents.decode("utf-8", "replace"))
        if record is not None:
            records[name.decode()] = record
    return records


def _key(record: Record) -> tuple[str, str, str | None, str]:
    return (record.event, record.version, record.stage, record.commit)


class _Tagger:
    """Creates the tags of one model, numbering stage tags the way GTO does."""

    def __init__(self, root: Path, model: str) -> None:
        self.root = root
        self.records = _existing_records(root, model)
        self.known = {_key(r) for r in self.records.values()}
        self.count = sum(1 for name in self.records if "#" in name)

    def version_commit(self, model: str, version: str, path: str) -> str:
        for name, record in self.records.items():
            if name == registration_tag(model, version):
                return record.version_commit
        out = run_git(self.root, "log", "--format=%H", "--diff-filter=A", "--", path)
        commits = out.decode().split()
        if not commits:
            raise StewardError(f"cannot find the commit that registered {model} {version}")
        return commits[-1]

    def tag(self, record: Record, result: ApplyResult) -> None:
        if _key(record) in self.known:
            return
        if record.event == "registration":
            name = registration_tag(record.model, record.version)
        else:
            self.count += 1
            name = stage_tag(
                record.model, record.stage or "", self.count, record.event == "unassignment"
            )
        run_git(
            self.root,
            *identity_args(self.root),
            "tag", "--annotate", "--message", record.tag_message(), name, record.version_commit,
        )  # fmt: skip
        self.records[name] = record
        self.known.add(_key(record))
        result.tagged.append(name)


def _record(
    change: _Change, kind: str, entry: VersionEntry, stage: str | None, version_commit: str
) -> Record:
    # Trailers count only as `steward merge` writes them (last paragraph, naming the merged
    # head): a pull request's author cannot write "Steward-Approved-By" into a squash commit.
    decision = decision_from_trailers(change.message, change.merged) if change.merged else None
    return Record(
        event=kind,  # type: ignore[arg-type]
        model=entry.model,
        version=entry.version,
        stage=stage,
        commit=change.commit,
        version_commit=version_commit,
        at=change.at,
        proposal=decision.proposal if decision else None,
        proposed_by=decision.proposed_by if decision else None,
        approved_by=list(decision.approved_by) if decision else [],
        merged_by=decision.merged_by if decision else None,
        verdict=decision.verdict if decision else None,
    )


def record_events(root: Path, before: str | None, after: str, result: ApplyResult) -> None:
    """Tag every registration and stage change of the models that (before, after] touched.

    Each touched model's whole history is replayed, oldest first, and only what has no tag yet
    is tagged: GTO reads a version's stage from the order of its tags, so a record is never
    written after a later one, even if an earlier apply was skipped or interrupted."""
    touched = []
    for change in _changes(root, before, after):
        model = change.path.split("/")[2] if change.path.count("/") >= 3 else None
        if model and model not in touched:
            touched.append(model)
    with CatFile(root) as cat:
        for model in touched:
            tagger = _Tagger(root, model)
            for change in _changes(root, None, after, f"{layout.MODELS_DIR}/{model}"):
                _record_change(cat, tagger, change, result)


def _record_change(cat: CatFile, tagger: _Tagger, change: _Change, result: ApplyResult) -> None:
    try:
        place = layout.classify(change.path)
    except Misplaced:
        return
    if place.kind is not Kind.VERSION:
        return
    old = _entry(cat, change.old_oid, change.path)
    new = _entry(cat, change.new_oid, change.path)
    if new is None or (old is not None and old.stage == new.stage):
        return
    if old is None:
        tagger.tag(_record(change, "registration", new, None, change.commit), result)
        tagger.tag(_record(change, "assignment", new, new.stage, change.commit), result)
        return
    version_commit = tagger.version_commit(new.model, new.version, change.path)
    tagger.tag(_record(change, "unassignment", new, old.stage, version_commit), result)
    tagger.tag(_record(change, "assignment", new, new.stage, version_commit), result)


# --- hooks ------------------------------------------------------------------------------------


def _hook_ref(hook: Hook, tag: str) -> str:
    return f"{HOOK_REFS}/{hook.name}/{tag}"


def _delivered(root: Path) -> set[str]:
    out = run_git(root, "for-each-ref", "--format=%(refname)", HOOK_REFS)
    return set(out.decode().split())


def _wants(hook: Hook, record: Record) -> bool:
    if record.event == "registration":
        return "registered" in hook.on
    return record.event == "assignment" and record.stage in hook.on


def _run_hook(root: Path, hook: Hook, tag: str, record: Record) -> str | None:
    """Run the hook's command; None on success, else why it failed."""
    assert hook.run is not None
    env = {
        **os.environ,
        "STEWARD_EVENT": record.event,
        "STEWARD_MODEL": record.model,
        "STEWARD_VERSION": record.version,
        "STEWARD_STAGE": record.stage or "",
        "STEWARD_COMMIT": record.commit,
        "STEWARD_TAG": tag,
        "STEWARD_RECORD": json.dumps(record.as_dict(), sort_keys=True),
    }
    try:
        done = subprocess.run(
            hook.run,
            cwd=root,
            env=env,
            input=json.dumps({"tag": tag, **record.as_dict()}, sort_keys=True).encode(),
            capture_output=True,
            timeout=HOOK_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"exit {done.returncode}: {tail[0]}"
    return None


def _dispatch(forge: Forge | None, hook: Hook, tag: str, record: Record) -> str | None:
    from steward.forge.github import GitHubForge

    if not isinstance(forge, GitHubForge):
        return "repository_dispatch needs the GitHub forge"
    try:
        forge.request(
            "POST",
            f"/repos/{forge.settings.repository}/dispatches",
            # GitHub allows at most 10 top-level properties in client_payload: nest the record.
            {
                "event_type": hook.dispatch,
                "client_payload": {"tag": tag, "record": record.as_dict()},
            },
        )
    except StewardError as exc:
        return str(exc)
    return None


def deliver_hooks(root: Path, policy: Policy, forge: Forge | None, result: ApplyResult) -> None:
    """Run every hook for every recorded event it has not been delivered for yet."""
    if not policy.hooks:
        return
    delivered = _delivered(root)
    out = run_git(
        root, "for-each-ref", "--sort=creatordate", "--format=%(refname:strip=2)", "refs/tags/"
    )
    models = {name.split("@")[0].split("#")[0] for name in out.decode().split()}
    for model in sorted(models):
        for tag, record in _existing_records(root, model).items():
            for hook in policy.hooks:
                if not _wants(hook, record) or _hook_ref(hook, tag) in delivered:
                    continue
                problem = None
                if hook.run is not None:
                    problem = _run_hook(root, hook, tag, record)
                if problem is None and hook.dispatch is not None:
                    problem = _dispatch(forge, hook, tag, record)
                if problem is not None:
                    result.failed.append(f"{hook.name} -> {tag}: {problem}")
                    continue
                run_git(root, "update-ref", _hook_ref(hook, tag), f"refs/tags/{tag}")
                result.delivered.append(f"{hook.name} -> {tag}")


def apply_range(
    root: Path, before: str | None, after: str, forge: Forge | None = None, push: bool = False
) -> ApplyResult:
    """Record and announce what (before, after] did; `before` None means from the beginning."""
    after_sha = run_git(root, "rev-parse", "--verify", "--end-of-options", f"{after}^{{commit}}")
    after = after_sha.decode().strip()
    if before is not None and (set(before) == {"0"} or not before.strip()):
        before = None  # a new branch: GitHub sends zeros
    if before is not None:
        before = (
            run_git(root, "rev-parse", "--verify", "--end-of-options", f"{before}^{{commit}}")
            .decode()
            .strip()
        )
    result = ApplyResult()
    token = getattr(getattr(forge, "settings", None), "token", None)
    if (
        push
    ):  # the marks of hooks already delivered by earlier runs (a fresh CI checkout lacks them)
        subprocess.run(
            ["git", "-C", str(root), "fetch", "--quiet", "origin", f"+{HOOK_REFS}/*:{HOOK_REFS}/*"],
            capture_output=True,
            env=token_env(token),
            check=False,
        )
    record_events(root, before, after, result)
    with CatFile(root) as cat:
        raw = cat.read_optional(f"{after}:{layout.POLICY_FILE}")
    policy = parse_file(Kind.POLICY, raw or b"", layout.POLICY_FILE).entry
    if isinstance(policy, Policy):
        deliver_hooks(root, policy, forge, result)
    elif policy is None and raw is not None:
        result.failed.append("policies/registry.yaml at the pushed commit is invalid: no hooks ran")
    if push:
        pushed = subprocess.run(
            ["git", "-C", str(root), "push", "--quiet", "origin",
             "refs/tags/*:refs/tags/*", f"{HOOK_REFS}/*:{HOOK_REFS}/*"],
            capture_output=True,
            env=token_env(token),
            check=False,
        )  # fmt: skip
        if pushed.returncode != 0:
            why = pushed.stderr.decode("utf-8", "replace").strip()
            result.failed.append(f"could not push the records: {why}")
    return result
