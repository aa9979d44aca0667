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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward import progress
from steward.entries import classification, layout
from steward.entries.card_sections import missing_sections
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import (
    CARD_SECTIONS,
    STAGES,
    ModelEntry,
    VersionEntry,
    format_timestamp,
)
from steward.entries.names import is_version
from steward.entries.problems import Problem
from steward.entries.semver import precedence
from steward.entries.validate import Parsed, parse_file, read_entry
from steward.entries.yamlio import MAX_FILE_BYTES, too_large
from steward.errors import UsageError
from steward.gitio.tree import FileType, GitSnapshot, TreeFile, WorktreeSnapshot, blob_id
from steward.reading import catalog
from steward.reading.answers import Reads
from steward.reading.cache import RecordStore, cache_dir
from steward.reading.listing import NO_FILTERS, cached_listing, filtered, store_listing
from steward.reading.listing import (
    Filters as Filters,  # the list's types, where callers import them
)
from steward.reading.listing import Listing as Listing
from steward.reading.listing import VersionRow as VersionRow
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
            return record_of(kind, _parse(self.root, relative, kind))
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


# --- show MODEL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelView:
    """A model as `show MODEL` tells it: who answers for it, its card, and its versions."""

    entry_path: str
    model: ModelEntry
    versions: list[VersionEntry]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def card(self) -> dict[str, str | None]:
        """Every card section, None where it is not written: the gaps are what reviewers ask."""
        return {section: getattr(self.model.card, section) for section in CARD_SECTIONS}

    @property
    def missing_card_sections(self) -> list[str]:
        """Sections not filled in: empty, or a placeholder such as TODO
        (`card_sections.is_filled`)."""
        return missing_sections(self.model.card)

    @property
    def key_metrics(self) -> list[str]:
        """Metric names, the ones most versions report first: the columns worth comparing."""
        counts: dict[str, int] = {}
        for version in self.versions:
            for name in version.metrics:
                counts[name] = counts.get(name, 0) + 1
        return sorted(counts, key=lambda name: (-counts[name], name))

    def as_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "model": model.name,
            "entry": self.entry_path,
            "owner": model.owner,
            "team": model.team,
            "risk": model.risk,
            "classification": list(model.classification),
            "data_steward": model.data_steward,
            "description": model.description,
            "license": model.license,
            "tags": list(model.tags),
            "downstream": [consumer.model_dump(mode="json") for consumer in model.downstream],
            "card": self.card,
            "missing_card_sections": self.missing_card_sections,
            "versions": [
                {
                    "version": version.version,
                    "stage": version.stage,
                    "created_at": format_timestamp(version.created_at),
                    "created_by": version.created_by,
                    "metrics": dict(version.metrics),
                    "entry": layout.version_path(version.model, version.version),
                }
                for version in self.versions
            ],
            "problems": [problem.as_dict() for problem in self.problems],
        }


def show_model(root: Path, model: str, reads: Reads | None = None) -> ModelView:
    """The model `model` and all its versions; its own file must be readable, its versions'
    problems are collected. `reads`: records every file read (`answers`)."""
    require_model_name(model)
    reads = reads if reads is not None else Reads(root)
    paths = catalog.version_paths(root, model, reads)  # raises NotFound for no such model
    relative = layout.model_path(model)
    entry: ModelEntry = read_entry(root, relative, Kind.MODEL, reads.read)
    versions: list[VersionEntry] = []
    problems: list[Problem] = []
    for path in paths:
        parsed = _parse(root, path, Kind.VERSION, reads)
        problems.extend(parsed.problems)
        if parsed.entry is not None:
            versions.append(parsed.entry)
    return ModelView(relative, entry, versions, problems)


# --- show MODEL@VERSION -----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetLineage(classification.DatasetUse):
    """A dataset a version was trained on, as `show MODEL@VERSION` tells it."""

    @property
    def column_classifications(self) -> dict[str, list[str]]:
        """Classifications of the columns the version used."""
        if self.dataset is None:
            return {}
        used = set(self.columns)
        return {
            c.name: list(c.classification)
            for c in self.dataset.columns
            if c.classification and c.name in used
        }

    @property
    def inherited_labels(self) -> list[str]:
        return classification.labels(self.inherited)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "uri": self.uri,
            "columns": self.columns,
            "registered": self.dataset is not None,
            "classification": list(self.dataset.classification) if self.dataset else None,
            "column_classifications": self.column_classifications,
            "inherited_classifications": self.inherited_labels,
        }


@dataclass(frozen=True)
class VersionView:
    """One version as `show MODEL@VERSION` tells it: its facts and what its data implies."""

    entry_path: str
    model: ModelEntry
    version: VersionEntry
    datasets: list[DatasetLineage]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def inherited_classifications(self) -> list[str]:
        """Every classification of every dataset the version was trained on."""
        labels: set[str] = set()
        for dataset in self.datasets:
            labels.update(dataset.inherited_labels)
        return sorted(labels)

    @property
    def pointer_path(self) -> str:
        return layout.pointer_path(self.version.model, self.version.version)

    def as_dict(self) -> dict[str, Any]:
        data = self.version.model_dump(mode="json")
        data["training"]["datasets"] = [dataset.as_dict() for dataset in self.datasets]
        return {
            "entry": self.entry_path,
            "pointer": self.pointer_path,
            "owner": self.model.owner,
            "team": self.model.team,
            "risk": self.model.risk,
            **data,
            "inherited_classifications": self.inherited_classifications,
            "declared_classifications": list(self.model.classification),
            "problems": [problem.as_dict() for problem in self.problems],
        }


def show_version(root: Path, model: str, version: str, reads: Reads | None = None) -> VersionView:
    """The version `version` of `model`, its datasets' classifications read from the registry.
    `reads`: records every file read (`answers`)."""
    require_model_name(model)
    if not is_version(version):
        raise UsageError(f"'{version}' is not a semantic version: write one such as 1.3.0")
    reads = reads if reads is not None else Reads(root)
    entry = catalog.find_version(root, model, version=version, reads=reads)
    model_entry: ModelEntry = read_entry(root, layout.model_path(model), Kind.MODEL, reads.read)
    datasets: list[DatasetLineage] = []
    problems: list[Problem] = []
    for ref in entry.training.datasets:
        parsed = _parse(root, layout.dataset_path(ref.id), Kind.DATASET, reads)
        problems.extend(
            Problem(p.path, p.line, p.field, f"{p.message}; its classifications are unknown")
            for p in parsed.problems
        )
        datasets.append(DatasetLineage(ref, parsed.entry))
    return VersionView(layout.version_path(model, version), model_entry, entry, datasets, problems)


# --- reading ----------------------------------------------------------------------------------


def _parse(root: Path, relative: str, kind: Kind, reads: Reads | None = None) -> Parsed:
    """The entry at `relative`, or its problems: never raises for a bad or missing file."""
    try:
        raw = reads.read(relative) if reads is not None else (root / relative).read_bytes()
    except FileNotFoundError:
        return Parsed(relative, None, None, [Problem(relative, None, "", "does not exist")])
    except OSError as exc:
        return Parsed(relative, None, None, [Problem(relative, None, "", str(exc.strerror))])
    return parse_file(kind, raw, relative)


def require_version(version: str) -> None:
    if not is_version(version):
        raise UsageError(f"'{version}' is not a semantic version: write one such as 1.3.0")
