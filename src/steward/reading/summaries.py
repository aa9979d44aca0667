"""What one registry file holds for the rules across files and for queries: a compact record.

`steward check` needs every file's own problems and a few facts of each entry (a version's stage,
its datasets, its artifact's hash...) to judge the rules across files; `steward list` needs a
row's fields. A `FileRecord` holds exactly that, not the parsed document: records are what the
cache keeps per git blob id (`steward.reading.cache`), and 100,000 of them must load in well under a
second (unpickling 100,000 full entries took 4.6 s).

A record depends only on the file's bytes and kind, never on its path: problems are kept without
the path (`FileProblem`) and get it back with `FileRecord.problems_at(path)`, so one record serves
every path holding the same blob. Rules that compare an entry with its path (a version's `model`
with its directory) run on the summary, in `steward.reading.check`.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

from steward.entries.dvcfile import DvcPointer
from steward.entries.layout import Kind
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry, format_timestamp
from steward.entries.problems import Problem
from steward.entries.validate import Parsed, parse_file
from steward.entries.yamlio import MAX_FILE_BYTES, Loaded, Loc, too_large

# Bump when a record's fields or meaning change: records of another format are never read.
RECORD_FORMAT = 2

# The lines of the keys the rules across files point at, in the order `locs_of` gives: a tuple
# of small ints per record, not a dictionary (100,000 records are held at once).
Lines = tuple[int | None, ...]


class FileProblem(NamedTuple):
    """A problem of a file's own content, without the path (which the blob does not know)."""

    line: int | None
    field: str
    message: str


class ModelSummary(NamedTuple):
    name: str
    owner: str
    team: str
    risk: str
    tags: tuple[str, ...]
    classification: tuple[str, ...]  # declared
    lines: Lines


class VersionSummary(NamedTuple):
    model: str
    version: str
    stage: str
    created_at: str  # as `list --json` writes it
    created_by: str
    tags: tuple[str, ...]
    metrics: dict[str, float]
    artifact_dvc: str
    artifact_md5: str
    artifact_size: int
    artifact_files: int
    datasets: tuple[str, ...]  # training.datasets[i].id, in order
    dataset_columns: tuple[tuple[str, ...], ...]  # training.datasets[i].columns (none: all)
    lines: Lines


class PointerSummary(NamedTuple):
    path: str
    md5: str
    size: int | None
    nfiles: int | None
    lines: Lines


class DatasetSummary(NamedTuple):
    name: str
    classification: tuple[str, ...]
    column_classifications: tuple[tuple[str, tuple[str, ...]], ...]
    lines: Lines


Summary = ModelSummary | VersionSummary | PointerSummary | DatasetSummary


class FileRecord(NamedTuple):
    """One file read as its kind. `parsed` is False when it was too large to read at all (it
    then takes no part in the rules across files); `summary` is None when it has problems."""

    parsed: bool
    problems: tuple[FileProblem, ...]
    summary: Summary | None

    def problems_at(self, path: str) -> list[Problem]:
        return [Problem(path, p.line, p.field, p.message) for p in self.problems]


def locs_of(summary: Summary) -> list[Loc]:
    """The keys whose lines `summary.lines` holds, in order."""
    if isinstance(summary, VersionSummary):
        return [*VERSION_LOCS, *_dataset_locs(len(summary.datasets))]
    if isinstance(summary, PointerSummary):
        return [("outs", 0, "path")]
    if isinstance(summary, ModelSummary):
        return MODEL_LOCS
    return [("name",)]


def _dataset_locs(count: int) -> list[Loc]:
    return [
        loc
        for i in range(count)
        for loc in (("training", "datasets", i, "id"), ("training", "datasets", i, "columns"))
    ]


def line_at(summary: Summary, loc: Loc) -> int | None:
    """The line `problem_at` would give for `loc`: that of the nearest enclosing key kept."""
    locs = locs_of(summary)
    for end in range(len(loc), -1, -1):
        if loc[:end] in locs:
            line = summary.lines[locs.index(loc[:end])]
            if line is not None:
                return line
    return None


# Kinds whose records are cached by blob id. Policy and team files are few and their rules need
# the whole entry: they are parsed every time.
SUMMARIZED_KINDS = frozenset({Kind.MODEL, Kind.VERSION, Kind.POINTER, Kind.DATASET})


def summarize(kind: Kind, raw: bytes, path: str) -> FileRecord:
    """The record of `raw` read as `kind` (`path` only names the file inside the parser)."""
    if len(raw) > MAX_FILE_BYTES:
        return FileRecord(False, (FileProblem(None, "", too_large(len(raw))),), None)
    return record_of(kind, parse_file(kind, raw, path))


def record_of(kind: Kind, parsed: Parsed) -> FileRecord:
    problems = tuple(FileProblem(p.line, p.field, p.message) for p in parsed.problems)
    if parsed.entry is None or parsed.loaded is None:
        return FileRecord(True, problems, None)
    summary = _summary(kind, parsed.entry, parsed.loaded)
    if isinstance(summary, VersionSummary):
        problems += _tombstone_problems(parsed.entry, parsed.loaded)
    return FileRecord(True, problems, summary)


def _lines(loaded: Loaded, locs: list[Loc]) -> Lines:
    return tuple(loaded.line_of(loc) for loc in locs)


def _same(text: str) -> str:
    """One string object for values many records repeat (a stage, a model's name, a login):
    a registry's records are held in memory together."""
    return sys.intern(text)


def _summary(kind: Kind, entry: object, loaded: Loaded) -> Summary | None:
    if isinstance(entry, VersionEntry):
        artifact = entry.artifact
        return VersionSummary(
            _same(entry.model),
            _same(entry.version),
            _same(entry.stage),
            _same(format_timestamp(entry.created_at)),
            _same(entry.created_by),
            tuple(_same(tag) for tag in entry.tags),
            {_same(name): value for name, value in entry.metrics.items()},
            _same(artifact.dvc),
            artifact.md5,
            artifact.size,
            len(artifact.files),
            tuple(_same(ref.id) for ref in entry.training.datasets),
            tuple(tuple(ref.columns) for ref in entry.training.datasets),
            _lines(loaded, [*VERSION_LOCS, *_dataset_locs(len(entry.training.datasets))]),
        )
    if isinstance(entry, ModelEntry):
        return ModelSummary(
            entry.name,
            entry.owner,
            entry.team,
            entry.risk,
            tuple(entry.tags),
            tuple(entry.classification),
            _lines(loaded, MODEL_LOCS),
        )
    if isinstance(entry, DvcPointer):
        out = entry.outs[0]
        return PointerSummary(
            out.path, out.md5, out.size, out.nfiles, _lines(loaded, [("outs", 0, "path")])
        )
    if isinstance(entry, DatasetEntry):
        columns = tuple((c.name, tuple(c.classification)) for c in entry.columns)
        return DatasetSummary(
            entry.name, tuple(entry.classification), columns, _lines(loaded, [("name",)])
        )
    del kind
    return None


MODEL_LOCS: list[Loc] = [("name",), ("classification",)]
VERSION_LOCS: list[Loc] = [
    ("model",),
    ("version",),
    ("stage",),
    ("artifact", "dvc"),
    ("artifact", "md5"),
    ("artifact", "size"),
    ("artifact", "files"),
]


def _tombstone_problems(entry: VersionEntry, loaded: Loaded) -> tuple[FileProblem, ...]:
    """A retired version carries retired_at and retired_reason, and only a retired one: a rule
    of the entry alone, so it travels with the file's own problems."""
    tombstone = entry.retired_at is not None and entry.retired_reason is not None
    if (entry.stage == "retired") != tombstone or (
        entry.stage != "retired" and (entry.retired_at or entry.retired_reason)
    ):
        message = "a retired version has retired_at and retired_reason, and only a retired one"
        return (FileProblem(loaded.line_of(("stage",)), "stage", message),)
    return ()
