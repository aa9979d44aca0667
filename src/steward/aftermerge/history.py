"""A model's history: every registration and stage change on a branch, with who decided.

Git history is the audit trail, so the events are derived from it: walking the first-parent
chain of the branch (the commits that *landed* on it: a merged proposal is its merge commit, not
the proposal's own commits), a version file that appears is a registration, and a version file
whose `stage:` differs from the first parent's is a stage change (the version left one stage and
entered another). Who proposed, approved and merged comes from the `Steward-*` trailers that
`steward merge` writes into the merge commit, or, preferred where one exists, from the record
`steward apply` left in an annotated GTO tag: a merge made in GitHub's UI carries no trailers,
and `apply` asked GitHub for them.

It must stay fast on a repository with 100,000 commits, so there is no per-commit process and
nothing quadratic: `steward.gitio.changelog` lists only the commits that touch the model's directory
with the blob ids of both sides (from its index, which `git log --raw` fills and tops up; see
there why), one `git cat-file --batch` reads those blobs (each once) and the few commit
messages needed, and one `git for-each-ref` reads the records.

`held_stage` answers the question of the gate's rollback rule (did this version ever hold this
stage on the base branch?) from the same walk, restricted to one file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward.aftermerge.recorded import Vouched, coverage
from steward.aftermerge.records import Record, parse_approvals, read_records
from steward.aftermerge.version_facts import (
    RECORD_EVENTS,
    REGULAR_FILE_MODES,
    EntryReader,
    EventName,
    version_events,
)
from steward.entries import layout
from steward.entries.models import format_timestamp
from steward.entries.names import is_name, is_version
from steward.entries.semver import precedence
from steward.gitio.changelog import (
    Landed,
    changes_between,
    changes_by_model,
    first_parent_changes,
    index_missing,
)
from steward.gitio.gitcmd import CatFile, resolve_commit
from steward.gitio.trailers import steward_trailers
from steward.reading.catalog import NotFound

# Newest first inside one commit: what a commit did last is listed first.
_ORDER_IN_COMMIT: dict[EventName, int] = {"entered": 0, "left": 1, "registered": 2}


@dataclass(frozen=True)
class Event:
    """One registration or stage change of a version, and the decision behind it."""

    at: str  # when the commit on the branch was made, ISO 8601 UTC
    commit: str  # the commit on the branch that made the change (a merge commit, for a proposal)
    version: str
    event: EventName
    stage: str | None  # the stage entered or left; for a registration, the stage registered at
    proposal: int | None = None
    proposed_by: str | None = None
    approved_by: tuple[str, ...] = ()  # the logins whose approval counted
    merged_by: str | None = None
    verdict: str | None = None  # the gate verdict's digest
    approvals: tuple[str, ...] = ()  # "carol (ml-engineer)": each counted login, with its roles
    created_by: str | None = None  # for a registration's events: `created_by` from the entry
    record: str | None = None  # the tag holding `steward apply`'s record of this event, if any

    @property
    def summary(self) -> str:
        """`registered`, `entered STAGE` or `left STAGE`: the EVENT column."""
        if self.event == "registered" or self.stage is None:
            return self.event
        return f"{self.event} {self.stage}"

    @property
    def approvals_shown(self) -> tuple[str, ...]:
        """Who approved, as reports show it: with roles, or (for a decision recorded before
        roles were) the logins alone."""
        return self.approvals or self.approved_by

    @property
    def by(self) -> str | None:
        """Who asked for it: the proposer, or for a registration made without a proposal, the
        identity the entry says registered it."""
        return self.proposed_by if self.proposed_by is not None else self.created_by

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "commit": self.commit,
            "version": self.version,
            "event": self.event,
            "stage": self.stage,
            "summary": self.summary,
            "proposal": self.proposal,
            "proposed_by": self.proposed_by,
            "approved_by": list(self.approved_by),
            "approvals": list(self.approvals_shown),
            "merged_by": self.merged_by,
            "verdict": self.verdict,
            "created_by": self.created_by,
            "by": self.by,
            "record": self.record,
        }


@dataclass(frozen=True)
class History:
    """Events of one model on one branch, newest first (in branch order, not by clock)."""

    model: str
    rev: str  # the commit whose first-parent history this is
    events: list[Event] = field(default_factory=list)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [event.as_dict() for event in self.events]


def model_history(
    root: Path, model: str, rev: str = "HEAD", use_index: bool = True, use_records: bool = True
) -> History:
    """Every registration and stage change of `model` in the first-parent history of `rev`
    (read through the history index unless `use_index` is false: the same answer either way).
    Where the index is not built yet (a fresh clone), from `apply`'s records up to the last
    commit they cover and git after it, if the records can be relied on
    (`steward.aftermerge.recorded`; not with `use_records` false): the same answer again.

    Raises NotFound when no commit of that history ever touched the model's directory."""
    if not is_name(model):
        raise NotFound(f"'{model}' is not a model name, so no such model is registered")
    commit = resolve_commit(root, rev)
    directory = f"{layout.MODELS_DIR}/{model}/"
    if use_index and use_records and index_missing(root):
        found = _history_from_records(root, model, commit)
        if found is not None:
            return found
    commits = first_parent_changes(root, commit, directory, use_index)
    if not commits:
        raise NotFound(
            f"model '{model}' is not in the registry at {rev}: no commit in its first-parent "
            f"history touches {directory}"
        )
    records = _read_records(root, model)
    with CatFile(root) as cat:
        return _history(cat, EntryReader(cat), model, commit, commits, records)


def model_histories(
    root: Path,
    rev: str = "HEAD",
    models: Iterable[str] | None = None,
    known: dict[str, tuple[str | None, str | None]] | None = None,
    changes: dict[str, list[Landed]] | None = None,
) -> dict[str, History]:
    """`model_history` of every model (or of `models`) in one walk: a model no commit of the
    history touches has no entry. For questions about many models at once (the catalog site):
    one read of the history index, one `git cat-file` and one `for-each-ref` for them all.
    `known` gives the (stage, created_by) of version blobs the caller has parsed already (by
    blob id), which are then not read again; `changes`, `changes_by_model` of `rev` when the
    caller asks about its models in parts."""
    commit = resolve_commit(root, rev)
    by_model = changes_by_model(root, commit) if changes is None else changes
    wanted = sorted(by_model) if models is None else sorted(set(models) & set(by_model))
    records = _read_records(root, None) if wanted else {}
    histories: dict[str, History] = {}
    with CatFile(root) as cat:
        entries = EntryReader(cat, known)
        for model in wanted:
            histories[model] = _history(cat, entries, model, commit, by_model[model], records)
    return histories


def _history(
    cat: CatFile,
    entries: EntryReader,
    model: str,
    commit: str,
    commits: list[Landed],
    records: dict[str, list[tuple[str, Record]]],
) -> History:
    """The model's events from the commits that touch it and the records by commit (of this
    model, or of every model: another model's record is never one of this model's)."""
    events: list[Event] = []
    for landed in commits:
        derived = list(_events_of(landed, model, entries))
        if derived:
            recorded = [found for found in records.get(landed.sha, []) if found[1].model == model]
            events.extend(_decide(cat, landed, derived, recorded))
    return History(model, commit, events)


def _history_from_records(root: Path, model: str, commit: str) -> History | None:
    """`model_history` from the records and the commits after them, or None where the records
    cannot be relied on or hold nothing of the model."""
    with CatFile(root) as cat:
        entries = EntryReader(cat)
        covered = coverage(root, cat, entries, model, commit)
        if covered is None:
            return None
        directory = f"{layout.MODELS_DIR}/{model}/"
        after = changes_between(root, covered.since, commit, directory)
        events = _history(cat, entries, model, commit, after, _read_records(root, model)).events
        by_commit: dict[int, list[Vouched]] = {}
        for found in covered.events:
            by_commit.setdefault(found.position, []).append(found)
        for position in sorted(by_commit):  # newest first
            events.extend(_ordered([_vouched_event(cat, found) for found in by_commit[position]]))
    return History(model, commit, events) if events else None


def _vouched_event(cat: CatFile, found: Vouched) -> Event:
    record = found.record
    event = Event(
        "", record.commit, found.version, found.event, found.stage, created_by=found.created_by
    )
    recorded = _recorded(event, found.tag, record)
    if recorded.at:
        return recorded
    return replace(recorded, at=_commit_time(cat, record.commit))  # the record's time unreadable


def _commit_time(cat: CatFile, commit: str) -> str:
    raw = cat.read_optional(commit) or b""
    for line in raw.split(b"\n\n", 1)[0].split(b"\n"):
        if line.startswith(b"committer "):
            seconds = int(line.rsplit(b" ", 2)[-2])
            return format_timestamp(datetime.fromtimestamp(seconds, UTC))
    return ""


def last_holder(root: Path, rev: str, model: str, stage: str) -> str | None:
    """The version of `model` that last entered `stage` in the first-parent history of `rev`
    (it may have left it since), or None if none ever did. Only what git shows counts: the gate
    compares a version with this one, so a record missing from the tags must not change it."""
    try:
        history = model_history(root, model, rev, use_records=False)
    except NotFound:
        return None
    for event in history.events:  # newest first
        if event.event == "entered" and event.stage == stage:
            return event.version
    return None


def held_stage(
    root: Path,
    rev: str,
    model: str,
    version: str,
    stage: str,
    merges_only: bool = False,
    use_index: bool = True,
) -> bool:
    """Whether `version` of `model` held `stage` at any commit in the first-parent history of
    `rev` (including `rev` itself).

    This is how a rollback is recognised: giving a stage back to a version that had it on the
    base branch before. Only commits that landed on the branch count, so a stage a version held
    for a while on a proposal's branch, and never on the base, does not make a rollback. Only
    what git shows counts: the gate must not take a weaker rule on the word of a tag. Where the
    index is not built yet (a fresh clone), `apply`'s records say where to look, each borne out
    by git, and which commits need no walk (`steward.aftermerge.recorded`): a tag can hide a
    holding (the stricter answer), never invent one. A name that cannot be registered never
    held anything."""
    if not (is_name(model) and is_version(version)):
        return False
    commit = resolve_commit(root, rev)
    path = layout.version_path(model, version)
    landed_commits: list[Landed] | None = None
    if use_index and index_missing(root):
        with CatFile(root) as cat:
            covered = coverage(root, cat, EntryReader(cat), model, commit)
            if covered is not None:
                entered = [
                    found.record.commit
                    for found in covered.events
                    if (found.version, found.event, found.stage) == (version, "entered", stage)
                ]
                if entered and (not merges_only or any(_is_merge(cat, c) for c in entered)):
                    return True
                if not entered:  # it never held the stage up to `since`: only git after it
                    landed_commits = changes_between(root, covered.since, commit, path)
                # Else it entered the stage without a merge: a merge that later touched its file
                # while it held the stage counts, and only the walk shows those.
    if landed_commits is None:
        landed_commits = first_parent_changes(root, commit, path, use_index)
    blobs: list[str] = []
    for landed in landed_commits:
        if merges_only and len(landed.parents) < 2:
            # Only what a merge brought counts: commits that landed one by one (a rebase or a
            # fast-forward) may hold states nobody reviewed, such as a stage set and undone.
            continue
        for change in landed.changes:
            if change.path == path and change.new_mode in REGULAR_FILE_MODES:
                blobs.append(change.new)
    if not blobs:
        return False
    with CatFile(root) as cat:
        entries = EntryReader(cat)
        return any(entries.stage(blob) == stage for blob in dict.fromkeys(blobs))


def _is_merge(cat: CatFile, commit: str) -> bool:
    raw = cat.read_optional(commit) or b""
    header = raw.split(b"\n\n", 1)[0]
    return sum(line.startswith(b"parent ") for line in header.split(b"\n")) >= 2


# --- the walk -----------------------------------------------------------------------------------


def _events_of(landed: Landed, model: str, entries: EntryReader) -> Iterator[Event]:
    """What one commit did to the model's versions, from the blobs on both sides."""
    at = format_timestamp(datetime.fromtimestamp(landed.time, UTC))
    for found in version_events(landed, entries, model):
        yield Event(
            at, landed.sha, found.version, found.event, found.stage, created_by=found.created_by
        )


# --- who decided --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Decision:
    proposal: int | None = None
    proposed_by: str | None = None
    approved_by: tuple[str, ...] = ()
    merged_by: str | None = None
    verdict: str | None = None
    approvals: tuple[str, ...] = ()


def _decide(
    cat: CatFile, landed: Landed, derived: list[Event], records: list[tuple[str, Record]]
) -> list[Event]:
    """A commit's events with who proposed, approved and merged them.

    An event that `apply` recorded takes the record's fields (the record may know what the
    commit does not, as for a merge in GitHub's UI), and the commit's other events take them
    too: the decision was one merge. Without a record, the commit's own trailers decide.
    Git says *what* happened: a record of an event git does not show on this branch (about a
    proposal's branch, another clone's history, or written by hand) adds nothing."""
    by_key: dict[tuple[str, str, str | None], tuple[str, Record]] = {}
    for tag, record in records:
        by_key.setdefault(_record_key(record), (tag, record))
    matched = [by_key.get(_event_key(event)) for event in derived]
    first = next((found for found in matched if found is not None), None)
    decision = _from_record(first[1]) if first is not None else _trailer_decision(cat, landed)
    events = [
        _decided(event, decision) if found is None else _recorded(event, *found)
        for event, found in zip(derived, matched, strict=True)
    ]
    return _ordered(events)


def _ordered(events: list[Event]) -> list[Event]:
    """One commit's events: each version's together, higher versions first, and what happened
    last (entering a stage) before what happened first (leaving one)."""
    events.sort(key=lambda e: _ORDER_IN_COMMIT[e.event])
    events.sort(key=lambda e: precedence(e.version), reverse=True)
    return events


def _trailer_decision(cat: CatFile, landed: Landed) -> _Decision:
    if len(landed.parents) < 2:
        return _Decision()  # only a merge of a proposal carries a decision
    raw = cat.read_optional(landed.sha)
    if raw is None:
        return _Decision()
    return decision_from_trailers(_message(raw), landed.parents[1])


def _message(commit_object: bytes) -> str:
    _, _, message = commit_object.partition(b"\n\n")
    return message.decode("utf-8", "replace")


def decision_from_trailers(message: str, merged_head: str) -> _Decision:
    """The `Steward-*` trailers of a merge commit, trusted only as `steward merge` writes them:
    in the message's last paragraph and naming as `Steward-Head` the commit merged (the second
    parent). Lines in a pull request's title or body, which its author controls, do not pass
    for a decision."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if not paragraphs:
        return _Decision()
    found = steward_trailers(paragraphs[-1])
    if found.get("Steward-Head") != merged_head:
        return _Decision()
    approvals = parse_approvals(found.get("Steward-Approved-By", "-"))
    return _Decision(
        proposal=_proposal_number(found.get("Steward-Proposal")),
        proposed_by=found.get("Steward-Proposed-By") or None,
        approved_by=tuple(login for login, _ in approvals),
        merged_by=found.get("Steward-Merged-By") or None,
        verdict=found.get("Steward-Verdict") or None,
        approvals=tuple(f"{login} ({roles})" if roles else login for login, roles in approvals),
    )


def _proposal_number(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.removeprefix("#")
    return int(text) if text.isascii() and text.isdigit() else None


def _from_record(record: Record) -> _Decision:
    return _Decision(
        proposal=record.proposal,
        proposed_by=record.proposed_by,
        approved_by=tuple(record.approved_by),
        merged_by=record.merged_by,
        verdict=record.verdict,
        approvals=tuple(record.approvals),
    )


def _event_key(event: Event) -> tuple[str, str, str | None]:
    return (event.event, event.version, None if event.event == "registered" else event.stage)


def _record_key(record: Record) -> tuple[str, str, str | None]:
    name = RECORD_EVENTS[record.event]
    return (name, record.version, None if name == "registered" else record.stage)


def _decided(event: Event, decision: _Decision) -> Event:
    return Event(
        event.at,
        event.commit,
        event.version,
        event.event,
        event.stage,
        proposal=decision.proposal,
        proposed_by=decision.proposed_by,
        approved_by=decision.approved_by,
        merged_by=decision.merged_by,
        verdict=decision.verdict,
        approvals=decision.approvals,
        created_by=event.created_by,
    )


def _recorded(event: Event, tag: str, record: Record) -> Event:
    return Event(
        _timestamp(record.at, fallback=event.at),
        event.commit,
        event.version,
        event.event,
        event.stage if event.stage is not None else record.stage,
        proposal=record.proposal,
        proposed_by=record.proposed_by,
        approved_by=tuple(record.approved_by),
        merged_by=record.merged_by,
        verdict=record.verdict,
        approvals=tuple(record.approvals),
        created_by=event.created_by,
        record=tag,
    )


def _timestamp(text: str, fallback: str) -> str:
    """A record's time, written the way every other time is; the commit's when unreadable."""
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return fallback
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return format_timestamp(value)


# --- the apply records --------------------------------------------------------------------------


def _read_records(root: Path, model: str | None) -> dict[str, list[tuple[str, Record]]]:
    """`apply`'s records of the model (of every model, when None) by the commit they say made
    the change, in one `for-each-ref`."""
    patterns = ["refs/tags/"] if model is None else [f"refs/tags/{model}@*", f"refs/tags/{model}#*"]
    found: dict[str, list[tuple[str, Record]]] = {}
    for tag, record in read_records(root, patterns):
        if model is None or record.model == model:
            found.setdefault(record.commit, []).append((tag, record))
    return found
