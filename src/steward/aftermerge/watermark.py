"""Where `steward apply` got to: the newest commit of the branch whose events are recorded.

`apply` records the events of the first-parent chain commit by commit, oldest first (every model's
events of a commit before the next commit's), so a record of an event at commit C means every
event before C is recorded too, and C's own may be in part (a run cut off half-way through a
commit). The next run therefore walks from C's first parent, not from the start of history: a
fresh clone of a branch with 100,000 commits costs what was pushed since, not the whole chain.

The records are tags, which anyone who may push can write, so a record moves the watermark only
if git says the same: its tag name is the one `apply` gives that record, its commit is on the
chain, and at that commit the event really happened (the version file appeared, or its `stage:`
became, or stopped being, the record's stage, against the first parent). A forged record of an
event that did not happen there is ignored, and no record makes anything run: hooks act only on
records confirmed against the branch (`apply._confirmed`). What a watermark cannot check is that
everything before it was recorded: a true record of a newer event, written by someone else
while older events wait unrecorded (a run that failed or was cancelled), makes apply skip those
for good, as a record written for an event before apply ran already stood for it. The tags are
as trustworthy as whoever may push them: protect them (README, "On GitHub": a tag ruleset that
lets only the Actions bot create, update or delete them). Walking from an older commit is
always safe (recording is idempotent), so any doubt means walking further back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steward.aftermerge.records import Record, read_records
from steward.aftermerge.version_facts import EntryReader, version_events
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.models import VersionEntry
from steward.entries.names import is_name, is_version
from steward.entries.validate import parse_file
from steward.gitio.changelog import Landed, newest_first
from steward.gitio.gitcmd import CatFile, run_git

# Where the walk back from the tip (below) has asked this many models for their records without
# finding one that git bears out, the newest tags by date are asked instead.
MODELS_ASKED = 32
# How many of the newest tags (by the date in the tag) that asks: a run tags each event once, so
# the last run's tags are the newest; forged or foreign tags among them only mean walking
# further back, which `None` (walk everything) ends.
RECENT_TAGS = 64


@dataclass(frozen=True)
class Applied:
    """The newest commit of the chain a confirmed record names, and its first parent (None for
    the chain's first commit): the next walk starts after `parent`, re-reading `commit`."""

    commit: str
    parent: str | None


def first_parent_chain(root: Path, after: str) -> list[str]:
    """The commits of `after`'s first-parent chain, newest first."""
    return run_git(root, "rev-list", "--first-parent", after, "--").decode().split()


def applied_until(root: Path, tip: str, cat: CatFile) -> Applied | None:
    """The newest commit of `tip`'s first-parent chain that a confirmed record names, or None
    (walk it all).

    The chain's changes are read back from the tip, as git finds them, and the models whose
    versions each commit registered or moved asked for a record of what it did there: in a
    registry applied at every push, the newest such change has one, and nothing older is read.
    Only where the changes of many models have none (apply has not run for a long while) are
    the newest tags by date read, which costs reading every tag (2 s at 200,000 tags)."""
    if not run_git(root, "for-each-ref", "--count=1", "--format=x", "refs/tags/").strip():
        return None  # nothing recorded yet: the whole chain is to be walked anyway
    asked: dict[str, list[tuple[str, Record]]] = {}
    entries = EntryReader(cat)
    with newest_first(root, tip, f"{layout.MODELS_DIR}/") as commits:
        for landed in commits:
            for model in _models_with_events(landed, entries):
                if model not in asked:
                    if len(asked) >= MODELS_ASKED:
                        return _newest_by_date(root, tip, cat)
                    patterns = [f"refs/tags/{model}@*", f"refs/tags/{model}#*"]
                    asked[model] = read_records(root, patterns)
                for tag, record in asked[model]:
                    if record.commit == landed.sha and _confirmed_at(cat, tag, record):
                        return Applied(landed.sha, landed.parents[0] if landed.parents else None)
    return None


def _newest_by_date(root: Path, tip: str, cat: CatFile) -> Applied | None:
    chain = first_parent_chain(root, tip)
    positions = {sha: position for position, sha in enumerate(chain)}
    on_chain = [
        (positions[record.commit], tag, record)
        for tag, record in read_records(root, ["refs/tags/"], newest=RECENT_TAGS)
        if record.commit in positions
    ]
    for position, tag, record in sorted(on_chain, key=lambda item: item[0]):
        if _confirmed_at(cat, tag, record):
            parent = chain[position + 1] if position + 1 < len(chain) else None
            return Applied(record.commit, parent)
    return None


def _models_with_events(landed: Landed, entries: EntryReader) -> list[str]:
    """The models whose versions the commit registered or moved (an edit that leaves every
    stage as it was is no event, and has no record to find)."""
    return sorted({found.model for found in version_events(landed, entries)})


def _confirmed_at(cat: CatFile, tag: str, record: Record) -> bool:
    return record.tag_name_matches(tag) and happened_at(cat, record)


def happened_at(cat: CatFile, record: Record) -> bool:
    """Whether the record's event is what its commit did to the version file, against the
    commit's first parent."""
    if not (is_name(record.model) and is_version(record.version)):
        return False
    path = layout.version_path(record.model, record.version)
    now = stage_at(cat, f"{record.commit}:{path}")
    before = stage_at(cat, f"{record.commit}^1:{path}")
    if now is None:
        return False  # a version file is never deleted: no event ends with it gone
    if record.event == "registration":
        return before is None
    if record.event == "assignment":
        return now == record.stage and before != record.stage
    return before == record.stage and now != record.stage  # unassignment


def stage_at(cat: CatFile, spec: str) -> str | None:
    """The stage of the version file `spec` names (REV:PATH), or None where there is none."""
    raw = cat.read_optional(spec)
    if raw is None:
        return None
    entry = parse_file(Kind.VERSION, raw, spec).entry
    return entry.stage if isinstance(entry, VersionEntry) else None
