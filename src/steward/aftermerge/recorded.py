"""A model's history as `steward apply`'s records tell it, when git bears every one of them out
and they account for the whole branch: what `history` and the gate's rollback question read in a
fresh clone, instead of walking every commit (100,000 of them: a minute without an index).

`apply` records the branch commit by commit (`steward.aftermerge.watermark`), so up to the last
commit its records confirm, every registration and stage change has a record. Here the records
of one model are used for that part of the branch only if:

- each is borne out by git: its tag name is the one `apply` gives it, its commit is on the
  branch and not after the watermark, and against that commit's first parent the version file
  shows exactly the event recorded (a record git does not show, forged or from a rewritten
  branch, means none of them is used);
- none is missing: every event git shows at a recorded commit has its record; every version
  file the model has at the watermark has its registration recorded; the model's stage tags
  are numbered 1 to N with none gone, each holding a record (`apply` numbers them so, as GTO
  does: a deleted tag leaves a gap, and one put in a record's place holds none); and replaying
  the records, strictly (a version enters a stage only from none and leaves only the one it
  holds), gives every version the stage its file says at the watermark.

What the records say is read with one `git log --no-walk` of the commits they name (what each
changed against its first parent) and the chain with one `rev-list`, at once. Otherwise (no
records, or any doubt) the caller walks git as before. The commits after the watermark are
always read from git. A record can therefore never add an event git does not show; the worst a
tampered set of tags can do is hide events in a way these checks miss (the newest stage tags of
a model whose events cancel out, deleted together, for one), and the gate only ever asks a question
("did this version hold this stage before?") whose "no" is the stricter answer; its other
question (who held a stage last) is always read from git. For an audit that must not depend on
the tags, `steward audit` reads git.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from steward.aftermerge.records import Record, read_records, tag_number
from steward.aftermerge.version_facts import (
    RECORD_EVENTS,
    EntryReader,
    EventName,
    version_events,
)
from steward.aftermerge.watermark import applied_until
from steward.entries import layout
from steward.errors import GitCommandError
from steward.gitio.changelog import changes_at
from steward.gitio.gitcmd import CatFile, run_git

# Replaying one commit's events: registered, then left, then entered.
_REPLAY_ORDER: dict[EventName, int] = {"registered": 0, "left": 1, "entered": 2}


@dataclass(frozen=True)
class Vouched:
    """A record git bears out: the event it names, as git shows it."""

    tag: str
    record: Record
    position: int  # on the branch: 0 is its tip
    version: str
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
    # The chain is read while the rest is (it takes a second at 100,000 commits), into a file:
    # a pipe nobody reads would stop it after 64 KB.
    with tempfile.TemporaryFile() as out:
        walk = subprocess.Popen(
            ["git", "-C", str(root), "rev-list", "--first-parent", commit, "--"],
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        wanted = False
        try:
            applied = applied_until(root, commit, cat)
            if applied is None or applied.parent is None:
                return None
            since = applied.parent  # the watermark's own events may be recorded in part
            records = read_records(root, [f"refs/tags/{model}@*", f"refs/tags/{model}#*"])
            if not _numbered_without_gaps(root, model, records):
                return None
            named = sorted({record.commit for _, record in records})
            if not all(_OBJECT_ID.fullmatch(sha) for sha in named):
                return None  # a record naming no commit: none of them is relied on
            try:
                changed = changes_at(root, named, f"{layout.MODELS_DIR}/{model}/")
            except GitCommandError:
                return None  # one names a commit this clone does not have
            wanted = True
        finally:
            if not wanted:
                walk.kill()
            walk.wait()
        if walk.returncode != 0:
            return None
        out.seek(0)
        chain = out.read()
    positions = {sha: position for position, sha in enumerate(chain.decode().split())}
    boundary = positions[since]
    shown: dict[_Key, tuple[str | None, str | None]] = {}  # the stage, and `created_by`
    for landed in changed.values():
        position = positions.get(landed.sha)
        if position is None or position < boundary - 1:
            continue  # refused below
        for found in version_events(landed, entries, model):
            stage = None if found.event == "registered" else found.stage
            shown[(position, found.version, found.event, stage)] = (found.stage, found.created_by)
    vouched: dict[_Key, Vouched] = {}
    for tag, record in records:
        position = positions.get(record.commit)
        if position is None or position < boundary - 1:
            return None  # off the branch, or after the watermark where none is confirmed
        event = RECORD_EVENTS[record.event]
        key = (position, record.version, event, None if event == "registered" else record.stage)
        if key not in shown or not record.tag_name_matches(tag):
            return None  # a record git does not bear out: none of them is relied on
        if position < boundary:
            continue  # the watermark's own, borne out: git is read there all the same
        if key not in vouched:
            stage, created_by = shown[key]
            vouched[key] = Vouched(tag, record, position, record.version, event, stage, created_by)
    if set(vouched) != {key for key in shown if key[0] >= boundary}:
        return None  # an event git shows at a recorded commit has no record
    events = list(vouched.values())
    if not _accounts_for(root, entries, model, since, events):
        return None
    return Coverage(since, events)


_Key = tuple[int, str, EventName, str | None]
_OBJECT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def _numbered_without_gaps(root: Path, model: str, records: list[tuple[str, Record]]) -> bool:
    """Whether the model's stage tags are numbered 1 to N, each number there, and each holds a
    record of the model (a tag without one, GTO's own or one put in a record's place, means the
    records may not tell the whole story)."""
    names = run_git(root, "for-each-ref", "--format=%(refname:strip=2)", f"refs/tags/{model}#*")
    recorded = {tag for tag, record in records if record.model == model}
    numbers = set()
    for name in names.decode("utf-8", "replace").split():
        number = tag_number(name)
        if name not in recorded or number is None:
            return False
        numbers.add(number)
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
        version = found.version
        if found.event == "registered":
            if version in stages:
                return False  # registered twice
            stages[version] = None
        elif version not in stages:
            return False  # a stage change of a version whose registration has no record
        elif found.event == "entered":
            if stages[version] is not None:
                return False  # entered a stage without leaving the one it held
            stages[version] = found.stage
        elif stages[version] != found.stage:
            return False  # left a stage it did not hold
        else:
            stages[version] = None
    if set(stages) != versions:
        return False
    for version, stage in stages.items():
        facts = entries.at(f"{since}:{layout.version_path(model, version)}")
        if facts is None or facts.stage != stage:
            return False
    return True
