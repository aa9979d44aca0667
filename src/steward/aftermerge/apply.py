"""`steward apply --before REV --after REV`: what a push to the default branch did, recorded and
announced.

For every registration and stage change that the first-parent commits between the two revisions
made, apply writes a GTO-format annotated tag holding a JSON record (`steward.aftermerge.records`),
commit by commit from the last one its records confirm (`steward.aftermerge.watermark`), then
delivers the policy's hooks for it: a command run with the event in its environment and on
stdin, and/or a `repository_dispatch` event. Each delivery is marked started
(`refs/steward/hooks/<hook>/<kind>-started/<tag>`) before it runs and done
(`refs/steward/hooks/<hook>/<kind>/<tag>`) after; with `--push` each mark is pushed as it is
made. So a re-run, even from a fresh checkout, repeats only a delivery that failed or was
interrupted while running, and tells the hook so (`redelivery: true`; the tag is the stable
`delivery_id`). No delivery is lost: a hook is owed every event at a commit whose policy
declares it. Running apply twice over the same range does nothing the second time.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from pathlib import Path

from steward import faults
from steward.aftermerge.history import decision_from_trailers
from steward.aftermerge.records import (
    Record,
    read_records,
    registration_tag,
    stage_tag,
    tag_number,
    well_formed,
)
from steward.aftermerge.watermark import applied_until, first_parent_chain, happened_at, stage_at
from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import VersionEntry
from steward.entries.names import is_name, is_version
from steward.entries.policy import Hook, Policy
from steward.entries.validate import parse_file
from steward.errors import StewardError
from steward.forge.protocol import Forge
from steward.gitio.gitcmd import CatFile, export_commit, identity_args, run_git, token_env

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
    root: Path, after: str, since: str | None = None, path: str = layout.MODELS_DIR
) -> list[_Change]:
    """Version-file changes of the first-parent history of `after` under `path` (after `since`,
    if given), oldest first: one `git log` (messages are read by object id afterwards: a commit
    message is text a pull request's author chose, and no separator is safe inside it)."""
    out = run_git(
        root,
        "log", "--first-parent", "--reverse", "--no-renames", "--raw", "--no-abbrev", "-z",
        "--format=%x01%H%x02%cI%x02%P%x02", after, *([f"^{since}"] if since else []), "--", path,
    )  # fmt: skip
    found: list[tuple[str, str, str, str, str | None, str | None]] = []
    for block in out.split(b"\x01")[1:]:
        commit, at, parents, raw = block.split(b"\x02", 3)
        second = parents.split()[1].decode() if len(parents.split()) > 1 else ""
        fields = raw.lstrip(b"\x00\n").split(b"\x00")  # "\0\n" separates header and raw
        for i in range(0, len(fields) - 1, 2):
            meta, name = fields[i].strip(), fields[i + 1].decode("utf-8", "surrogateescape")
            if not meta.startswith(b":"):
                continue
            _, _, old, new, _status = meta[1:].decode().split()
            found.append(
                (
                    commit.decode("ascii"),
                    at.decode(),
                    second,
                    name,
                    None if old in _NULL else old,
                    None if new in _NULL else new,
                )
            )
    messages: dict[str, str] = {}
    with CatFile(root) as cat:
        for sha, *_ in found:
            if sha not in messages:
                body = (cat.read_optional(sha) or b"").decode("utf-8", "replace")
                messages[sha] = body.partition("\n\n")[2]  # the message follows the header
    return [
        _Change(sha, when, messages[sha], name, old, new, merged)
        for sha, when, merged, name, old, new in found
    ]


def _entry(cat: CatFile, oid: str | None, path: str) -> VersionEntry | None:
    if oid is None:
        return None
    raw = cat.read_optional(oid)
    entry = parse_file(Kind.VERSION, raw or b"", path).entry
    return entry if isinstance(entry, VersionEntry) else None


def _existing_records(root: Path, model: str) -> dict[str, Record]:
    return dict(read_records(root, [f"refs/tags/{model}@*", f"refs/tags/{model}#*"]))


def _key(record: Record) -> tuple[str, str, str | None, str]:
    if record.event == "registration":
        return ("registration", record.version, None, "")  # a version registers once
    return (record.event, record.version, record.stage, record.commit)


def _tag_number(name: str) -> int:
    return tag_number(name) or 0


class _Tagger:
    """Creates the tags of one model, numbering stage tags the way GTO does: one more than the
    highest number any of the model's tags has (Steward's, GTO's or anyone's)."""

    def __init__(self, root: Path, model: str) -> None:
        self.root = root
        self.model = model
        self.records = _existing_records(root, model)
        self.known = {_key(r) for r in self.records.values()}
        names = run_git(root, "tag", "--list", f"{model}#*", f"{model}@*").decode().split()
        self.taken = set(names)
        self.count = max((_tag_number(name) for name in names if "#" in name), default=0)

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
            if name in self.taken:  # tagged by someone else: GTO already knows the version
                self.known.add(_key(record))
                return
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
        faults.point("apply:tag-written")
        self.records[name] = record
        self.known.add(_key(record))
        self.taken.add(name)
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
        approvals=list(decision.approvals) if decision else [],
    )


def record_events(root: Path, after: str, result: ApplyResult) -> None:
    """Tag every registration and stage change in the first-parent history of `after` that has
    no tag yet, commit by commit, oldest first.

    The history is read from where the records say apply got to (`watermark.applied_until`),
    not only the pushed range: a push whose apply never ran is caught up by the next one, and
    GTO, which reads a version's stage from the order of its tags, never sees a record written
    after a later one. Commit by commit, so that a record at a commit means every earlier event
    is recorded: a model's trouble (a tag git refuses) is reported, that commit's other events
    are still recorded, and the walk stops there, so that the next run starts from it."""
    with CatFile(root) as cat:
        applied = applied_until(root, after, cat)
    # From the watermark's first parent: its own events may be recorded in part.
    since = applied.parent if applied is not None else None
    taggers: dict[str, _Tagger] = {}
    failed: set[str] = set()
    stopped_at = None
    with CatFile(root) as cat:
        for change in _changes(root, after, since):
            parts = change.path.split("/")
            if failed and change.commit != stopped_at:
                break
            if len(parts) != 4 or parts[2] in failed:
                continue
            model = parts[2]
            try:
                tagger = taggers.get(model) or taggers.setdefault(model, _Tagger(root, model))
                _record_change(cat, tagger, change, result)
            except StewardError as exc:
                result.failed.append(f"{model}: {exc}")
                failed.add(model)
                stopped_at = change.commit


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


def _hook_ref(hook: Hook, how: str, tag: str) -> str:
    return f"{HOOK_REFS}/{hook.name}/{how}/{tag}"


def _started_ref(hook: Hook, how: str, tag: str) -> str:
    return f"{HOOK_REFS}/{hook.name}/{how}-started/{tag}"


def _delivered(root: Path) -> set[str]:
    out = run_git(root, "for-each-ref", "--format=%(refname)", HOOK_REFS)
    return set(out.decode().split())


class _DeclaredHooks:
    """Which hooks the policy declared at a commit: a hook is owed exactly the events at commits
    whose policy declares it (none from before it existed, every one after, however apply runs
    were interrupted). Each distinct policy text is parsed once."""

    def __init__(self, cat: CatFile) -> None:
        self.cat = cat
        self.by_content: dict[bytes, frozenset[str]] = {}

    def at(self, commit: str) -> frozenset[str]:
        raw = self.cat.read_optional(f"{commit}:{layout.POLICY_FILE}") or b""
        if raw not in self.by_content:
            policy = parse_file(Kind.POLICY, raw, layout.POLICY_FILE).entry
            names = {hook.name for hook in policy.hooks} if isinstance(policy, Policy) else set()
            self.by_content[raw] = frozenset(names)
        return self.by_content[raw]


# Secrets of the job a hook runs in that a hook has no business with (the push token above all).
_SECRETS = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "STEWARD_GITHUB_APP_PRIVATE_KEY",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


class _MergedCheckout:
    """A clean checkout of the merged commit, made the first time a hook needs it: hooks run
    the code that was judged and merged, never whatever the work tree has checked out."""

    def __init__(self, root: Path, commit: str) -> None:
        self.root = root
        self.commit = commit
        self._scratch: tempfile.TemporaryDirectory[str] | None = None

    def path(self) -> Path:
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="steward-hook-")
            export_commit(self.root, self.commit, Path(self._scratch.name) / "checkout")
        return Path(self._scratch.name) / "checkout"

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()


def _run_hook(
    root: Path,
    checkout: _MergedCheckout,
    hook: Hook,
    tag: str,
    record: Record,
    redelivery: bool,
) -> str | None:
    """Run the hook's command in a clean checkout of the merged commit; None on success, else
    why it failed."""
    assert hook.run is not None
    env = {key: value for key, value in os.environ.items() if key not in _SECRETS}
    env.update(
        {
            "STEWARD_REPO": str(root),
            "STEWARD_CHECKOUT_COMMIT": checkout.commit,
            "STEWARD_EVENT": record.event,
            "STEWARD_MODEL": record.model,
            "STEWARD_VERSION": record.version,
            "STEWARD_STAGE": record.stage or "",
            "STEWARD_COMMIT": record.commit,
            "STEWARD_TAG": tag,
            "STEWARD_RECORD": json.dumps(record.as_dict(), sort_keys=True),
            "STEWARD_DELIVERY_ID": tag,
            "STEWARD_REDELIVERY": "true" if redelivery else "false",
        }
    )
    try:
        cwd = checkout.path()
    except StewardError as exc:
        return f"could not check out {checkout.commit[:12]} for the hook: {exc}"
    try:
        done = subprocess.run(
            hook.run,
            cwd=cwd,
            env=env,
            input=json.dumps(
                {"tag": tag, **record.as_dict(), "delivery_id": tag, "redelivery": redelivery},
                sort_keys=True,
            ).encode(),
            capture_output=True,
            timeout=HOOK_TIMEOUT_S,
            check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return f"exit {done.returncode}: {tail[0]}"
    return None


def _can_dispatch(forge: Forge | None) -> bool:
    from steward.forge.github import GitHubForge

    return isinstance(forge, GitHubForge)


def _dispatch(
    forge: Forge | None, hook: Hook, tag: str, record: Record, redelivery: bool
) -> str | None:
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
                "client_payload": {
                    "tag": tag,
                    "record": record.as_dict(),
                    "delivery_id": tag,
                    "redelivery": redelivery,
                },
            },
        )
    except StewardError as exc:
        return str(exc)
    return None


def _confirmed(cat: CatFile, record: Record, history: Container[str]) -> bool:
    """A record is acted on only if git says the same: its names are valid, its commit is on the
    branch, and there, against its first parent, the version file shows the event the record
    names. A tag anyone could push does not deploy anything by itself."""
    if not (is_name(record.model) and is_version(record.version)) or record.commit not in history:
        return False
    return happened_at(cat, record)


def _event_named(tag: str) -> tuple[str, str, str | None] | None:
    """(model, event, stage) as a tag's name gives them (GTO's names), or None for another tag.
    Only a name: the record in the tag must agree (`Record.tag_name_matches`) to count."""
    if "#" in tag:
        parts = tag.split("#")
        if len(parts) != 3:
            return None
        model, stage, _ = parts
        if stage.endswith("!"):
            return model, "unassignment", stage[:-1]
        return model, "assignment", stage
    model, at, _ = tag.partition("@v")
    return (model, "registration", None) if at else None


def _kinds(hook: Hook) -> list[str]:
    return [kind for kind, given in (("run", hook.run), ("dispatch", hook.dispatch)) if given]


def _wants_event(hook: Hook, event: str, stage: str | None) -> bool:
    if event == "registration":
        return "registered" in hook.on
    return event == "assignment" and stage in hook.on


def _wants(hook: Hook, record: Record) -> bool:
    return _wants_event(hook, record.event, record.stage)


class _Records:
    """The records in tags, read by name through one `git cat-file`, each once."""

    def __init__(self, cat: CatFile) -> None:
        self.cat = cat
        self.read: dict[str, Record | None] = {}

    def __call__(self, tag: str) -> Record | None:
        if tag not in self.read:
            raw = self.cat.read_optional(f"refs/tags/{tag}")
            record = None
            if raw is not None and raw.startswith(b"object "):  # a tag object, not a commit
                record = Record.parse(raw.decode("utf-8", "replace"))
            if record is not None and not (
                isinstance(record.model, str)
                and well_formed(record, record.model)
                and record.tag_name_matches(tag)
            ):
                record = None
            self.read[tag] = record
        return self.read[tag]


def _pending(
    root: Path, after: str, hooks: list[Hook], marks: set[str]
) -> tuple[list[tuple[str, Record]], dict[tuple[str, str | None], str]]:
    """The confirmed records some hook is still owed, in the order GTO reads them
    (registrations, then stage tags by number), and the latest confirmed assignment of each of
    their (model, stage).

    Only tags whose name is an event a hook wants, with a delivery of it not yet marked done,
    are read: at 100,000 versions, a push's apply reads its own few records, not every tag."""
    names = run_git(root, "for-each-ref", "--format=%(refname:strip=2)", "refs/tags")
    owed: list[str] = []
    stage_tags: dict[tuple[str, str | None], list[str]] = {}
    for tag in names.decode("utf-8", "replace").split():
        named = _event_named(tag)
        if named is None:
            continue
        model, event, stage = named
        if event == "assignment":
            stage_tags.setdefault((model, stage), []).append(tag)
        if any(
            _wants_event(hook, event, stage)
            and any(_hook_ref(hook, kind, tag) not in marks for kind in _kinds(hook))
            for hook in hooks
        ):
            owed.append(tag)
    found: list[tuple[str, Record]] = []
    latest: dict[tuple[str, str | None], str] = {}
    if not owed:
        return found, latest
    history = {sha: position for position, sha in enumerate(first_parent_chain(root, after))}
    with CatFile(root) as cat:
        records = _Records(cat)
        for tag in owed:
            record = records(tag)
            if record is not None and _confirmed(cat, record, history):
                found.append((tag, record))
        for _, record in found:
            key = (record.model, record.stage)
            if record.event != "assignment" or key in latest:
                continue
            # The latest is the assignment made last on the branch, not the highest number: an
            # old record copied under a new number must not pass for the newest and deploy. At
            # one commit the first record of it counts (a copy takes a higher number).
            confirmed = [
                (history[candidate.commit], _tag_number(tag), tag, candidate)
                for tag in stage_tags.get(key, [])
                if (candidate := records(tag)) is not None and _confirmed(cat, candidate, history)
            ]
            if confirmed:
                _, _, tag, newest = min(confirmed)
                # A version that left the stage since is deployed no more: it is superseded too.
                path = layout.version_path(newest.model, newest.version)
                if stage_at(cat, f"{after}:{path}") == newest.stage:
                    latest[key] = tag
    found.sort(key=lambda item: ("#" in item[0], _tag_number(item[0]), item[0]))
    return found, latest


# Publishes one mark (a ref) where a fresh checkout's apply finds it; None, or why it could not.
MarkPublisher = Callable[[str], "str | None"]


class _Deliveries:
    """The marks of one apply run, and making one delivery with them."""

    def __init__(
        self,
        root: Path,
        forge: Forge | None,
        checkout: _MergedCheckout,
        result: ApplyResult,
        publish: MarkPublisher | None,
        marks: set[str],
    ) -> None:
        self.root = root
        self.forge = forge
        self.checkout = checkout
        self.result = result
        self.publish = publish
        self.marks = marks

    def mark(self, ref: str, tag: str) -> str | None:
        """Make the mark and publish it; one that cannot be published is taken back here too,
        so that this checkout and a fresh one agree that it is not there."""
        run_git(self.root, "update-ref", ref, f"refs/tags/{tag}")
        problem = self.publish(ref) if self.publish is not None else None
        if problem is not None:
            run_git(self.root, "update-ref", "-d", ref)
            return problem
        self.marks.add(ref)
        return None

    def deliver(self, hook: Hook, kind: str, tag: str, record: Record, label: str) -> bool:
        """Started mark (published), the delivery, done mark (published). False if it failed:
        the hook's later events wait, as its order matters."""
        if kind == "dispatch" and not _can_dispatch(self.forge):
            self.result.failed.append(f"{label}: repository_dispatch needs the GitHub forge")
            return False  # nothing was sent: not a start
        started = _started_ref(hook, kind, tag)
        redelivery = started in self.marks
        problem = self.mark(started, tag)
        if problem is not None:
            self.result.failed.append(
                f"{label}: not delivered, its start could not be recorded: {problem}"
            )
            return False
        faults.point("apply:started")
        problem = (
            _run_hook(self.root, self.checkout, hook, tag, record, redelivery)
            if kind == "run"
            else _dispatch(self.forge, hook, tag, record, redelivery)
        )
        faults.point("apply:ran")
        if problem is not None:
            self.result.failed.append(f"{label}: {problem}")
            return False
        problem = self.mark(_hook_ref(hook, kind, tag), tag)
        if problem is not None:
            self.result.failed.append(
                f"{label}: delivered, but that could not be recorded ({problem}); the next run "
                "delivers it again, marked as a redelivery"
            )
            return False
        faults.point("apply:marked")
        self.result.delivered.append(label + (" (redelivery)" if redelivery else ""))
        return True


def deliver_hooks(
    root: Path,
    policy: Policy,
    forge: Forge | None,
    result: ApplyResult,
    after: str,
    publish: MarkPublisher | None = None,
) -> None:
    """Deliver each hook once per event owed to it, in order, only for the latest assignment of
    a stage (made last on the branch), and only while its version still holds the stage at
    `after`: an older one still pending, or one whose version has left the stage since, is
    superseded (deploying it now would roll production back, or deploy an archived version).
    Commands run in a clean checkout of `after`, the merged commit."""
    if not policy.hooks:
        return
    marks = _delivered(root)
    pending, latest = _pending(root, after, policy.hooks, marks)
    checkout = _MergedCheckout(root, after)
    deliveries = _Deliveries(root, forge, checkout, result, publish, marks)
    try:
        with CatFile(root) as cat:
            declared = _DeclaredHooks(cat)
            for hook in policy.hooks:
                stopped = False  # a failed delivery holds back the hook's later events
                for tag, record in pending:
                    if stopped:
                        break
                    if not _wants(hook, record) or hook.name not in declared.at(record.commit):
                        continue
                    kinds = _kinds(hook)
                    superseded = (
                        record.event == "assignment"
                        and latest.get((record.model, record.stage)) != tag
                    )
                    for kind in kinds:
                        if _hook_ref(hook, kind, tag) in deliveries.marks:
                            continue
                        label = f"{hook.name} -> {tag}" + (f" ({kind})" if len(kinds) > 1 else "")
                        if superseded:  # never to be delivered: recorded once, for good
                            problem = deliveries.mark(_hook_ref(hook, kind, tag), tag)
                            if problem is not None:
                                result.failed.append(f"{label}: {problem}")
                        elif not deliveries.deliver(hook, kind, tag, record, label):
                            stopped = True
                            break
    finally:
        checkout.close()


def _push_refs(root: Path, token: str | None, *refspecs: str) -> str | None:
    """Push refs to origin; None, or git's complaint."""
    pushed = subprocess.run(
        ["git", "-C", str(root), "push", "--quiet", "origin", *refspecs],
        capture_output=True,
        env=token_env(token),
        check=False,
    )
    if pushed.returncode == 0:
        return None
    return pushed.stderr.decode("utf-8", "replace").strip() or f"exit {pushed.returncode}"


def apply_range(
    root: Path, before: str | None, after: str, forge: Forge | None = None, push: bool = False
) -> ApplyResult:
    """Record and announce what the push that moved the branch to `after` did. The first-parent
    history of `after` is read from where the records say the last run got to
    (`watermark.applied_until`), not only (before, after]: a push whose apply never ran is
    caught up by the next one. `before` is checked to name a commit (GitHub's zeros for a new
    branch mean none) and is otherwise informational."""
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
    if push:  # the marks of deliveries made by earlier runs (a fresh CI checkout lacks them)
        fetched = subprocess.run(
            ["git", "-C", str(root), "fetch", "--quiet", "origin", f"+{HOOK_REFS}/*:{HOOK_REFS}/*"],
            capture_output=True,
            env=token_env(token),
            check=False,
        )
        if fetched.returncode != 0:  # without them a delivery could repeat unannounced
            why = fetched.stderr.decode("utf-8", "replace").strip()
            result.failed.append(f"could not fetch the delivery marks from origin: {why}")
            return result
    record_events(root, after, result)
    faults.point("apply:tagged")
    publish: MarkPublisher | None = None
    if push:
        # The records first, so that no hook is told of an event the remote has no record of.
        # Atomically: the tags of a later commit must never reach the remote without those of an
        # earlier one (a name taken there meanwhile), or a fresh clone's watermark would pass it.
        problem = _push_refs(root, token, "--atomic", "refs/tags/*:refs/tags/*")
        if problem is not None:
            result.failed.append(f"could not push the records: {problem}")
            return result

        def publish(ref: str) -> str | None:
            return _push_refs(root, token, f"{ref}:{ref}")

    with CatFile(root) as cat:
        raw = cat.read_optional(f"{after}:{layout.POLICY_FILE}")
    policy = parse_file(Kind.POLICY, raw or b"", layout.POLICY_FILE).entry
    if isinstance(policy, Policy):
        deliver_hooks(root, policy, forge, result, after, publish)
    elif policy is None and raw is not None:
        result.failed.append("policies/registry.yaml at the pushed commit is invalid: no hooks ran")
    return result
