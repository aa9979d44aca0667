"""A model's history as `steward apply`'s records tell it, when git bears every one of them out
and they account for the whole branch: what `history` and the gate's rollback question read in a
fresh clone, instead of walking every commit (100,000 of them: a minute without an index).

`apply` records the branch commit by commit (`steward.aftermerge.watermark`), so up to the last
commit its records confirm, every registration and stage change has a record. Here the records
of one model are used for that part of the branch only if:

- each is borne out by git: its tag name is the one `apply` gives it, its commit is on the
  branch, and against that commit's first parent the version file shows exactly the event
  recorded (a record git does not show, forged or from a rewritten branch, means none of them
  is used);
- none is missing: every version file the model has at the watermark has its registration
  recorded, the model's stage tags are numbered 1 to N with none gone (`apply` numbers them so,
  as GTO does, and a deleted tag leaves a gap), and replaying the records gives every version
  the stage its file says at the watermark.

Otherwise (no records, or any doubt) the caller walks git as before. The commits after the
watermark are always read from git. A record can therefore never add an event git does not
show; the worst a tampered set of tags can do is hide an event in a way these checks miss, and
the gate only ever asks a question ("did this version hold this stage before?") whose "no" is
the stricter answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steward.aftermerge.records import Record, read_records
from steward.aftermerge.version_facts import EntryReader, EventName, what_changed
from steward.aftermerge.watermark import applied_until, first_parent_chain
from steward.entries import layout
from steward.gitio.gitcmd import CatFile, run_git

_RECORD_EVENTS: dict[str, EventName] = {
    "registration": "registered",
    "assignment": "entered",
    "unassignment": "left",
}
# Replaying one commit's events: registered, then left, then entered.
_REPLAY_ORDER: dict[EventName, int] = {"registered": 0, "left": 1, "entered": 2}


@dataclass(frozen=True)
class Vouched:
    """A record git bears out: the event it names, as git shows it."""

    tag: str
    record: Record
    position: int  # on the branch: 0 is its tip
    event: EventName
    stage: str | None
    created_by: str | None


@dataclass(frozen=True)
class Coverage:
    """What the records vouch for: every event of the model at `since` and before it."""

    since: str  # read git for the commits after this one
    events: list[Vouched]


def coverage(
    root: Path, cat: CatFile, entries: EntryReader, model: str, commit: str
) -> Coverage | None:
    """The model's events on `commit`'s first-parent chain up to the watermark, from its
    records, or None when they cannot be relied on (see the module's docstring)."""
    applied = applied_until(root, commit, cat)
    if applied is None or applied.parent is None or not _numbered_without_gaps(root, model):
        return None
    since = applied.parent  # the watermark's own events may be recorded in part
    chain = first_parent_chain(root, commit)
    positions = {sha: position for position, sha in enumerate(chain)}
    boundary = positions[since]
    vouched: dict[tuple[int, str, EventName, str | None], Vouched] = {}
    for tag, record in read_records(root, [f"refs/tags/{model}@*", f"refs/tags/{model}#*"]):
        position = positions.get(record.commit)
        if record.model != model or position is None or position < boundary:
            continue  # another branch's, or after the watermark: git is read there
        found = _borne_out(entries, tag, record, position) if record.tag_name_matches(tag) else None
        if found is None:
            return None
        vouched.setdefault((position, record.version, found.event, found.stage), found)
    events = list(vouched.values())
    if not _accounts_for(root, entries, model, since, events):
        return None
    return Coverage(since, events)


def _borne_out(entries: EntryReader, tag: str, record: Record, position: int) -> Vouched | None:
    path = layout.version_path(record.model, record.version)
    before = entries.at(f"{record.commit}^1:{path}")
    after = entries.at(f"{record.commit}:{path}")
    wanted = _RECORD_EVENTS[record.event]
    for event, stage, created_by in what_changed(before, after):
        if event == wanted and (event == "registered" or stage == record.stage):
            return Vouched(tag, record, position, event, stage, created_by)
    return None


def _numbered_without_gaps(root: Path, model: str) -> bool:
    """Whether the model's stage tags (anyone's: GTO numbers them the same way) are numbered
    1 to N, each number there."""
    names = run_git(root, "for-each-ref", "--format=%(refname:strip=2)", f"refs/tags/{model}#*")
    numbers = set()
    for name in names.decode("utf-8", "replace").split():
        tail = name.rsplit("#", 1)[-1]
        if tail.isdigit():
            numbers.add(int(tail))
    return numbers == set(range(1, len(numbers) + 1))


def _accounts_for(
    root: Path, entries: EntryReader, model: str, since: str, events: list[Vouched]
) -> bool:
    """Whether the events register every version the model has at `since` and, replayed, leave
    each in the stage its file there says."""
    directory = f"{layout.MODELS_DIR}/{model}/"
    listed = run_git(root, "ls-tree", "--name-only", since, "--", directory).decode().split()
    versions = {
        name.removeprefix(directory).removesuffix(".yaml")
        for name in listed
        if name.endswith(".yaml") and not name.endswith("/model.yaml")
    }
    stages: dict[str, str | None] = {}
    for found in sorted(events, key=lambda v: (-v.position, _REPLAY_ORDER[v.event])):
        version = found.record.version
        if found.event == "registered":
            stages[version] = None
        elif version not in stages:
            return False  # a stage change of a version whose registration has no record
        elif found.event == "entered":
            stages[version] = found.stage
        elif stages[version] == found.stage:
            stages[version] = None
    if set(stages) != versions:
        return False
    for version, stage in stages.items():
        facts = entries.at(f"{since}:{layout.version_path(model, version)}")
        if facts is None or facts.stage != stage:
            return False
    return True
