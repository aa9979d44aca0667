"""The registry's read-only questions: which versions there are, what a model or a version is, and
which version holds a stage and where its artifact lives.

Every answer is a frozen dataclass with `as_dict()` for `--json`; nothing here prints. A query
reads only as wide as its question: `which`, `show` and `list --model` open one model's
directory, `list --owner` skips the versions of models it rules out, and only `list` without a
model walks the whole registry.

A file that cannot be read is a problem *collected* in the answer (`list`, `show MODEL`), so one
broken entry does not hide the rest, and the command still exits 1: an answer with a gap must
never pass for a complete one. `which` instead fails outright on a broken version of its model,
since it could not tell which version really holds the stage.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from steward import progress
from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import (
    STAGES,
)
from steward.entries.problems import Problem
from steward.entries.semver import precedence
from steward.entries.yamlio import MAX_FILE_BYTES, too_large
from steward.errors import UsageError
from steward.gitio.tree import FileType, GitSnapshot, TreeFile, WorktreeSnapshot, blob_id
from steward.reading import catalog
from steward.reading.cache import RecordStore, cache_dir
from steward.reading.listing import NO_FILTERS, cached_listing, filtered, store_listing
from steward.reading.listing import (
    Filters as Filters,  # the list's types, where callers import them
)
from steward.reading.listing import Listing as Listing
from steward.reading.listing import VersionRow as VersionRow
from steward.reading.shown import DatasetLineage as DatasetLineage
from steward.reading.shown import ModelView as ModelView
from steward.reading.shown import VersionView as VersionView
from steward.reading.shown import parse_at
from steward.reading.shown import require_version as require_version
from steward.reading.shown import show_model as show_model
from steward.reading.shown import show_version as show_version
from steward.reading.summaries import (
    FileProblem,
    FileRecord,
    ModelSummary,
    VersionSummary,
    record_of,
    summarize,
)
from steward.reading.summarize_ahead import Reading, summarize_ahead, worthwhile
from steward.reading.whereabouts import (  # `which`, where callers import the questions
    StageConflict as StageConflict,
)
from steward.reading.whereabouts import Whereabouts as Whereabouts
from steward.reading.whereabouts import require_model_name as require_model_name
from steward.reading.whereabouts import whereabouts as whereabouts
from steward.reading.whereabouts import which as which

# --- list -------------------------------------------------------------------------------------


def _version_row(
    entry_path: str, version: VersionSummary, model: ModelSummary | None
) -> VersionRow:
    # A version inherits its model's tags.
    tags = tuple(dict.fromkeys([*(model.tags if model is not None else ()), *version.tags]))
    data = {
        "model": version.model,
        "version": version.version,
        "stage": version.stage,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "owner": model.owner if model else None,
        "team": model.team if model else None,
        "risk": model.risk if model else None,
        "tags": list(tags),
        "metrics": dict(version.metrics),
        "artifact_md5": version.artifact_md5,
        "entry": entry_path,
    }
    text = "  " + json.dumps(data, indent=2).replace("\n", "\n  ")
    owner = model.owner if model is not None else None
    return VersionRow(
        version.model, version.version, version.stage, version.created_at, owner, tags,
        entry_path, text,
    )  # fmt: skip


def list_versions(
    root: Path, filters: Filters = NO_FILTERS, snapshot: WorktreeSnapshot | None = None
) -> Listing:
    """Every version of the working tree at `root` that matches all of `filters`.

    The whole registry's listing is cached under the state of its files (`steward.reading.cache`):
    with nothing changed, it is one lookup. Filtering by owner reads only the owners' models."""
    _check_filters(filters)
    if filters.model is not None:
        paths = catalog.version_paths(root, filters.model)
        return filtered(_listing(_group_by_model(paths), _WorktreeFiles(root, None)), filters)
    snapshot = snapshot or WorktreeSnapshot(root)
    known = cached_listing(snapshot, filters)
    if known is not None:
        return known
    directory = cache_dir(root)
    files = snapshot.files()
    reader = _WorktreeFiles(root, files, RecordStore(directory))
    grouped = _group_by_model(_paths_of_versions(files))
    listing = _listing(grouped, reader, filters.owner)
    reader.save()
    if filters.owner is None:  # a listing of every model: what the cache answers next time
        store_listing(snapshot, snapshot.key(), listing)
    return filtered(listing, filters)


def list_versions_at(snapshot: GitSnapshot) -> Listing:
    """Every version of a commit's tree (a federation's mirror, a bare repository, at its
    branch), through the same caches as `list_versions`: the whole listing under the tree's
    id, each file's record under its blob id in the repository's own cache."""
    known = cached_listing(snapshot, NO_FILTERS)
    if known is not None:
        return known
    files = snapshot.files()
    reader = _CommitFiles(snapshot, files, RecordStore(cache_dir(snapshot.root, snapshot.git_dir)))
    try:
        listing = _listing(_group_by_model(_paths_of_versions(files)), reader)
    finally:
        snapshot.close()
    reader.save()
    store_listing(snapshot, snapshot.key(), listing)
    return listing


def _listing(
    grouped: dict[str, list[str]], reader: _WorktreeFiles, owner: str | None = None
) -> Listing:
    rows: list[VersionRow] = []
    problems: list[Problem] = []
    total = sum(len(paths) + 1 for paths in grouped.values())
    if owner is None:  # else most versions may not be asked for
        reader.summarize_ahead(
            (relative, kind)
            for model, paths in grouped.items()
            for relative, kind in [(layout.model_path(model), Kind.MODEL)]
            + [(path, Kind.VERSION) for path in paths]
        )
    with progress.files_read(total) as advance:
        for model, paths in grouped.items():
            relative = layout.model_path(model)
            model_record = reader.record(relative, Kind.MODEL)
            problems.extend(model_record.problems_at(relative))
            advance(1 + len(paths))
            summary = model_record.summary
            model_summary = summary if isinstance(summary, ModelSummary) else None
            if owner is not None and not _owned_by(model_summary, owner):
                continue  # an unreadable model.yaml is reported above, not guessed at
            for path in paths:
                record = reader.record(path, Kind.VERSION)
                problems.extend(record.problems_at(path))
                if isinstance(record.summary, VersionSummary):
                    rows.append(_version_row(path, record.summary, model_summary))
    return Listing(rows, problems)


class _WorktreeFiles:
    """Records of working-tree files: by blob id through the cache where git listed the file as
    a regular one, else read from the file system as before (a symlink, a missing file)."""

    def __init__(
        self, root: Path, files: list[TreeFile] | None, records: RecordStore | None = None
    ) -> None:
        self.root = root
        self.files = {file.path: file for file in files} if files is not None else {}
        self.records = records if records is not None else RecordStore(None)
        if files is not None:
            self.records.preload(file.oid for file in files)

    def record(self, relative: str, kind: Kind) -> FileRecord:
        file = self.files.get(relative)
        if file is None or file.type is not FileType.REGULAR or file.oid is None:
            return record_of(kind, parse_at(self.root, relative, kind))
        found = self.records.get(kind, file.oid)
        if isinstance(found, FileRecord):
            return found
        raw = self._read(file)
        record = summarize(kind, raw, relative)
        self.records.put(kind, self._content_id(file, raw), record)
        return record

    def summarize_ahead(self, wanted: Iterable[tuple[str, Kind]]) -> None:
        """Summarize the `wanted` files whose records are missing on every core at once, if
        there are enough of them (`steward.reading.summarize_ahead`)."""
        if not worthwhile(len(self.files)):
            return
        jobs = []
        for relative, kind in wanted:
            file = self.files.get(relative)
            if file is None or file.type is not FileType.REGULAR or file.oid is None:
                continue
            if file.size is not None and file.size > MAX_FILE_BYTES:
                continue
            if not isinstance(self.records.get(kind, file.oid), FileRecord):
                jobs.append((file, kind))
        summarize_ahead(self.records, jobs, Reading(self._read, self._content_id, self._release))

    def _read(self, file: TreeFile) -> bytes:
        return (self.root / file.path).read_bytes()

    def _content_id(self, file: TreeFile, raw: bytes) -> str | None:
        del file  # under the id of what was read: the file may have changed since git listed it
        return blob_id(raw)

    def _release(self) -> None:
        """Files are opened one at a time: nothing to let go of."""

    def save(self) -> None:
        self.records.save()


class _CommitFiles(_WorktreeFiles):
    """Records of a commit's files: by blob id through the cache, else read from git."""

    def __init__(self, snapshot: GitSnapshot, files: list[TreeFile], records: RecordStore) -> None:
        super().__init__(snapshot.root, files, records)
        self.snapshot = snapshot

    def record(self, relative: str, kind: Kind) -> FileRecord:
        file = self.files.get(relative)
        if file is None or file.type is not FileType.REGULAR or file.oid is None:
            what = "does not exist" if file is None else f"not read: a {file.type.value}"
            return FileRecord(True, (FileProblem(None, "", what),), None)
        found = self.records.get(kind, file.oid)
        if isinstance(found, FileRecord):
            return found
        if file.size is not None and file.size > MAX_FILE_BYTES:  # never read into memory
            return FileRecord(True, (FileProblem(None, "", too_large(file.size)),), None)
        record = summarize(kind, self.snapshot.read(file), relative)
        self.records.put(kind, file.oid, record)
        return record

    def _read(self, file: TreeFile) -> bytes:
        return self.snapshot.read(file)

    def _content_id(self, file: TreeFile, raw: bytes) -> str | None:
        return self.snapshot.content_id(file, raw)

    def _release(self) -> None:
        self.snapshot.close()


def _paths_of_versions(files: list[TreeFile]) -> list[str]:
    """As `catalog.version_paths(root)`, from a listing already made."""
    versions = []
    for file in files:
        try:
            place = layout.classify(file.path)
        except Misplaced:
            continue
        if place.kind is Kind.VERSION and place.model is not None and place.version is not None:
            versions.append((place.model, place.version))
    versions.sort(key=lambda mv: (mv[0], precedence(mv[1])))
    return [layout.version_path(m, v) for m, v in versions]


def _check_filters(filters: Filters) -> None:
    if filters.stage is not None and filters.stage not in STAGES:
        raise UsageError(f"'{filters.stage}' is not a stage: use one of {', '.join(STAGES)}")
    if filters.model is not None:
        require_model_name(filters.model)


def _owned_by(model: ModelSummary | None, owner: str) -> bool:
    # GitHub logins and organisation names are case-insensitive: Carol and carol are one person.
    return model is not None and model.owner.casefold() == owner.casefold()


def _group_by_model(paths: Iterable[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for relative in paths:
        grouped.setdefault(relative.split("/")[2], []).append(relative)
    return grouped
