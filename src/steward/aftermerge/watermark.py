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
event that did not happen there is ignored; one of a true event can at worst make this run skip
events that an earlier, interrupted run left unrecorded, and it cannot make anything run: hooks
act only on records confirmed against the branch (`apply._confirmed`). Walking from an older
commit is always safe (recording is idempotent), so any doubt means walking further back.
"""

from __future__ import annotations

from pathlib import Path

from steward.aftermerge.records import Record, read_records
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.models import VersionEntry
from steward.entries.names import is_name, is_version
from steward.entries.validate import parse_file
from steward.gitio.gitcmd import CatFile, run_git

# How many of the newest tags (by the date in the tag) are looked at for the watermark. A run
# tags each event once, so the last run's tags are the newest; forged or foreign tags among them
# only mean looking further back, which `None` (walk everything) ends.
RECENT_TAGS = 64


def first_parent_chain(root: Path, after: str) -> list[str]:
    """The commits of `after`'s first-parent chain, newest first."""
    return run_git(root, "rev-list", "--first-parent", after, "--").decode().split()


def applied_until(root: Path, chain: dict[str, int], cat: CatFile) -> str | None:
    """The newest commit of the chain that a confirmed record names, or None (walk it all)."""
    on_chain = [
        (chain[record.commit], record)
        for name, record in read_records(root, ["refs/tags/"], newest=RECENT_TAGS)
        if record.commit in chain and record.tag_name_matches(name)
    ]
    for _, record in sorted(on_chain, key=lambda item: item[0]):
        if happened_at(cat, record):
            return record.commit
    return None


def happened_at(cat: CatFile, record: Record) -> bool:
    """Whether the record's event is what its commit did to the version file, against the
    commit's first parent."""
    if not (is_name(record.model) and is_version(record.version)):
        return False
    path = layout.version_path(record.model, record.version)
    now = _stage(cat, f"{record.commit}:{path}")
    before = _stage(cat, f"{record.commit}^1:{path}")
    if now is None:
        return False  # a version file is never deleted: no event ends with it gone
    if record.event == "registration":
        return before is None
    if record.event == "assignment":
        return now == record.stage and before != record.stage
    return before == record.stage and now != record.stage  # unassignment


def _stage(cat: CatFile, spec: str) -> str | None:
    """The stage of the version file `spec` names (REV:PATH), or None where there is none."""
    raw = cat.read_optional(spec)
    if raw is None:
        return None
    entry = parse_file(Kind.VERSION, raw, spec).entry
    return entry.stage if isinstance(entry, VersionEntry) else None
