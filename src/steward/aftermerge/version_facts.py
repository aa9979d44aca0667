"""What a version file says at one point of history, for reading history: its stage and who
registered it, from strict YAML without the entry model (an entry valid when it was committed
may not be under today's schema, and its stage is history all the same), and what changed
between two sides of a commit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.yamlio import loads
from steward.errors import YamlError
from steward.gitio.changelog import Landed
from steward.gitio.gitcmd import CatFile

EventName = Literal["registered", "entered", "left"]
REGULAR_FILE_MODES = ("100644", "100755")
# The kinds of `steward apply`'s records, as the events of history name them.
RECORD_EVENTS: dict[str, EventName] = {
    "registration": "registered",
    "assignment": "entered",
    "unassignment": "left",
}


@dataclass(frozen=True)
class Facts:
    stage: str | None
    created_by: str | None


class EntryReader:
    """The stage (and `created_by`) of version-file blobs, each blob parsed once: a blob is the
    new side of one commit and the old side of the next change, and blob ids never go stale."""

    def __init__(
        self, cat: CatFile, known: dict[str, tuple[str | None, str | None]] | None = None
    ) -> None:
        self._cat = cat
        self._facts: dict[str, Facts] = {
            oid: Facts(stage, created_by) for oid, (stage, created_by) in (known or {}).items()
        }

    def facts(self, oid: str) -> Facts:
        found = self._facts.get(oid)
        if found is None:
            found = self._facts[oid] = self._read(oid)
        return found

    def stage(self, oid: str) -> str | None:
        return self.facts(oid).stage

    def at(self, spec: str) -> Facts | None:
        """What the file `spec` (REV:PATH) names says, or None where there is no such file."""
        found = self._cat.read_named(spec)
        if found is None:
            return None
        oid, raw = found
        if oid not in self._facts:
            self._facts[oid] = self._parse(raw, oid)
        return self._facts[oid]

    def _read(self, oid: str) -> Facts:
        raw = self._cat.read_optional(oid)
        return Facts(None, None) if raw is None else self._parse(raw, oid)

    @staticmethod
    def _parse(raw: bytes, oid: str) -> Facts:
        """Strict YAML, but no schema validation: an entry valid when it was committed may not
        be under today's schema, and its stage is history all the same. A file that is not
        even YAML has no stage we could report."""
        try:
            data = loads(raw, oid).data
        except YamlError:
            return Facts(None, None)
        if not isinstance(data, dict):
            return Facts(None, None)
        stage, created_by = data.get("stage"), data.get("created_by")
        return Facts(
            stage if isinstance(stage, str) else None,
            created_by if isinstance(created_by, str) else None,
        )


def what_changed(
    before: Facts | None, after: Facts | None
) -> list[tuple[EventName, str | None, str | None]]:
    """A file that appears is a registration, and its version enters the stage it was
    registered at (as `steward apply` records it, and GTO reads it); a stage that differs was
    left and entered."""
    changed: list[tuple[EventName, str | None, str | None]] = []
    if before is None:
        if after is not None:
            changed.append(("registered", after.stage, after.created_by))
            if after.stage is not None:
                changed.append(("entered", after.stage, after.created_by))
        return changed
    if after is None or before.stage != after.stage:
        # A deleted version (never on a governed branch) holds no stage any more.
        if before.stage is not None:
            changed.append(("left", before.stage, None))
        if after is not None and after.stage is not None:
            changed.append(("entered", after.stage, None))
    return changed


def blob_facts(entries: EntryReader, oid: str, mode: str) -> Facts | None:
    """None where the file does not exist on that side; a symlink or submodule in its place is
    a file with no stage."""
    if set(oid) == {"0"}:  # git's null id: SHA-1 or SHA-256
        return None
    if mode not in REGULAR_FILE_MODES:
        return Facts(None, None)
    return entries.facts(oid)


@dataclass(frozen=True)
class VersionEvent:
    """One event a commit made to a version file: (model, version, event, stage, created_by)."""

    model: str
    version: str
    event: EventName
    stage: str | None
    created_by: str | None


def version_events(
    landed: Landed, entries: EntryReader, model: str | None = None
) -> Iterator[VersionEvent]:
    """What one commit did to the version files (of `model`, when given), from the blobs on both
    sides of each change: the events the walk of history derives."""
    for change in landed.changes:
        try:
            place = layout.classify(change.path)
        except Misplaced:
            continue
        if place.kind is not Kind.VERSION or place.model is None or place.version is None:
            continue
        if model is not None and place.model != model:
            continue
        before = blob_facts(entries, change.old, change.old_mode)
        after = blob_facts(entries, change.new, change.new_mode)
        for event, stage, created_by in what_changed(before, after):
            yield VersionEvent(place.model, place.version, event, stage, created_by)
