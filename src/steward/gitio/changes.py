"""What a proposed change does to the registry, read from two commits without a checkout.

`change_set(root, base, head)` diffs the trees (`git diff-tree`), reads only the blobs of changed
entry files, and says: which models were created, which versions registered, which stages moved,
which other fields were edited, which files were deleted, and every path touched (so the policy
can see changes to `policies/`, `.github/`, `src/`). Files that do not parse are listed as such:
judging them is the validator's job, and the gate fails on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import IMMUTABLE_VERSION_FIELDS
from steward.entries.validate import parse_file
from steward.errors import GitCommandError, StewardError
from steward.gitio.gitcmd import CatFile, run_git

FileStatus = Literal["added", "modified", "deleted", "changed type"]
_STATUS: dict[str, FileStatus] = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "T": "changed type",
}


@dataclass(frozen=True)
class FileChange:
    status: FileStatus
    path: str
    old_oid: str | None
    new_oid: str | None
    new_mode: str = "100644"


@dataclass(frozen=True)
class StageChange:
    model: str
    version: str
    from_stage: str
    to_stage: str
    path: str


@dataclass(frozen=True)
class FieldEdit:
    """Fields other than `stage` that an existing entry changed."""

    path: str
    kind: Kind
    name: str  # model, dataset or team name; "model@version" for versions
    fields: tuple[str, ...]
    immutable: tuple[str, ...] = ()  # the changed fields that may never change
    # Changes that decide who must approve what (a model's owner, team, risk or data steward; a
    # dataset losing a classification), or that rewrite evidence (a past production reading
    # edited or removed): they need the governance approvals.
    governed: tuple[str, ...] = ()
    # Production readings dropped from the front while new ones were appended, and how many
    # the version holds after: what `steward monitor` does to keep the newest N (the gate asks
    # the base policy's `monitoring.keep`).
    readings_dropped: int = 0
    readings_kept: int = 0


@dataclass
class ChangeSet:
    base: str
    head: str
    files: list[FileChange] = field(default_factory=list)
    models_created: list[str] = field(default_factory=list)
    versions_registered: list[tuple[str, str, str]] = field(default_factory=list)  # + its stage
    stage_changes: list[StageChange] = field(default_factory=list)
    edits: list[FieldEdit] = field(default_factory=list)
    datasets_created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)
    # Paths with a tree entry name no checkout could hold (see `malformed_name`): crafted git
    # objects, judged as nothing else is.
    malformed: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [change.path for change in self.files]

    @property
    def touches_registry(self) -> bool:
        return any(path.startswith(layout.CHECKED_ROOTS) for path in self.paths)


def merge_base(root: Path, base: str, head: str) -> str:
    """Where `head` left `base`: a proposal is judged on its own changes, as GitHub diffs it."""
    try:
        return run_git(root, "merge-base", base, head).decode().strip()
    except GitCommandError:
        raise StewardError(f"{head[:12]} shares no history with the base {base[:12]}") from None


def resolve(root: Path, rev: str) -> str:
    return (
        run_git(root, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}")
        .decode()
        .strip()
    )


def diff_files(root: Path, base: str, head: str) -> list[FileChange]:
    out = run_git(root, "diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", base, head)
    fields = out.split(b"\0")
    changes = []
    for i in range(0, len(fields) - 1, 2):
        meta, raw_path = fields[i], fields[i + 1]
        if not meta:
            continue
        _old_mode, new_mode, old_oid, new_oid, status = meta.lstrip(b":").split()
        null = "0" * len(old_oid)
        changes.append(
            FileChange(
                _STATUS.get(status.decode()[:1], "modified"),
                os.fsdecode(raw_path),
                None if old_oid.decode() == null else old_oid.decode(),
                None if new_oid.decode() == null else new_oid.decode(),
                new_mode.decode(),
            )
        )
    return changes


def malformed_name(path: str) -> str | None:
    """Why `path` (from a tree, '/'-separated) has a name no checkout could hold, or None.

    Git writes trees whose entries are named '', '.', '..' or '.git' if asked to (`git mktree`
    does), and a crafted push can carry them; a checkout refuses them, and a reader that joins
    them into paths walks up or in circles."""
    for name in path.split("/"):
        if name in ("", ".", ".."):
            return f"a tree entry is named {name!r}"
        if name.casefold() == ".git":
            return "a tree entry is named '.git'"
        if "\0" in name or "\\" in name:
            return "a tree entry name holds a NUL or a backslash"
    return None


def change_set(root: Path, base: str, head: str) -> ChangeSet:
    """The changes `head` makes relative to `base` (both commit ids)."""
    changes = ChangeSet(base=base, head=head, files=diff_files(root, base, head))
    changes.malformed = [f.path for f in changes.files if malformed_name(f.path) is not None]
    if changes.malformed:
        return changes  # nothing in it is read: such a tree is refused whole
    with CatFile(root) as cat:
        for file in changes.files:
            _classify_change(changes, file, cat)
    return changes


_NOT_ENTRIES = (Kind.NEUTRAL, Kind.POINTER, Kind.SCHEMA, Kind.POLICY, Kind.CENTRAL, Kind.TEAM)


def _parsed(cat: CatFile, kind: Kind, oid: str | None, path: str) -> Any:
    if oid is None:
        return None
    return parse_file(kind, cat.read(oid), path).entry


def _classify_change(changes: ChangeSet, file: FileChange, cat: CatFile) -> None:
    if file.status == "deleted":
        changes.deleted.append(file.path)
        return
    if not file.path.startswith((layout.REGISTRY_DIR + "/", layout.POLICIES_DIR + "/")):
        return
    if file.new_mode not in ("100644", "100755"):  # a symlink or a submodule: never an entry
        changes.unparsed.append(file.path)
        return
    try:
        place = layout.classify(file.path)
    except Misplaced:
        changes.unparsed.append(file.path)
        return
    if place.kind in _NOT_ENTRIES:
        return  # pointers are checked with their versions; policy files are governance's
    new = _parsed(cat, place.kind, file.new_oid, file.path)
    old: Any = _parsed(cat, place.kind, file.old_oid, file.path) if file.status != "added" else None
    if new is None or (file.status != "added" and old is None):
        changes.unparsed.append(file.path)
        return
    if place.kind is Kind.MODEL:
        if file.status == "added":
            changes.models_created.append(new.name)
        else:
            _record_edit(changes, file.path, Kind.MODEL, new.name, old, new, ())
    elif place.kind is Kind.DATASET:
        if file.status == "added":
            changes.datasets_created.append(new.name)
        else:
            _record_edit(changes, file.path, Kind.DATASET, new.name, old, new, ())
    elif place.kind is Kind.VERSION:
        if file.status == "added":
            changes.versions_registered.append((new.model, new.version, new.stage))
            return
        if old.stage != new.stage:
            changes.stage_changes.append(
                StageChange(new.model, new.version, old.stage, new.stage, file.path)
            )
        name = f"{new.model}@{new.version}"
        _record_edit(changes, file.path, Kind.VERSION, name, old, new, IMMUTABLE_VERSION_FIELDS)


def _record_edit(
    changes: ChangeSet,
    path: str,
    kind: Kind,
    name: str,
    old: Any,
    new: Any,
    immutable_fields: tuple[str, ...],
) -> None:
    before = old.model_dump(mode="json")
    after = new.model_dump(mode="json")
    edited = tuple(key for key in after if key != "stage" and before.get(key) != after.get(key))
    if edited:
        immutable = tuple(key for key in edited if key in immutable_fields or key == "name")
        governed: tuple[str, ...] = ()
        if kind is Kind.MODEL:
            governed = tuple(key for key in edited if key in GOVERNED_MODEL_FIELDS)
            # Declaring more is the owner's to do; declaring less is a governance decision.
            if set(before.get("classification", [])) - set(after.get("classification", [])):
                governed += ("classification",)
        elif kind is Kind.DATASET and _classifications(before) - _classifications(after):
            governed = ("classification",)
        dropped = 0
        if kind is Kind.VERSION and "production_metrics" in edited:
            old, new = before.get("production_metrics", []), after.get("production_metrics", [])
            dropped_or_none = readings_dropped(old, new)
            if dropped_or_none is None:
                governed += ("production_metrics",)
            else:
                dropped = dropped_or_none
        kept = len(after.get("production_metrics", [])) if dropped else 0
        changes.edits.append(
            FieldEdit(path, kind, name, edited, immutable, governed, dropped, kept)
        )


def readings_dropped(old: list[Any], new: list[Any]) -> int | None:
    """How many of the oldest readings `new` drops from `old` while keeping the rest as they
    were and appending at least as many: 0 for a plain append; None when a past reading is
    edited, removed from the middle or the end, when more are dropped than appended, or when a
    dropped reading recorded a breach (evidence rewritten: that is governance's to allow)."""
    for dropped in range(len(old) + 1):
        rest = old[dropped:]
        appended = len(new) - len(rest)
        if new[: len(rest)] == rest and appended > 0:
            gone = old[:dropped]
            if dropped > appended or any(reading.get("breaches") for reading in gone):
                return None
            return dropped
    return None


# Who owns a model, which team's rules apply, its risk class and its data steward decide which
# approvals its promotions need: changing them is a governance decision.
GOVERNED_MODEL_FIELDS = ("owner", "team", "risk", "data_steward")


def _classifications(dataset: dict[str, Any]) -> set[tuple[str, str]]:
    """(column or '', label) pairs: a label moved from the dataset to a column is still lost."""
    found = {("", label) for label in dataset.get("classification", [])}
    for column in dataset.get("columns", []):
        found |= {(column["name"], label) for label in column.get("classification", [])}
    return found
