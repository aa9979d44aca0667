"""What impact analysis across registries needs of one registry, kept small and cached: each
version's stage and the datasets it cites (id, version, URI, columns), each model's owners and
consumers, each dataset's URI and classifications.

Impact across 20 registries of 5,000 versions must answer in about a second when warm, and
parsing 100,000 YAML files takes half a minute (DESIGN.md). So a registry's index is cached in
its mirror under its tree's id (a commit never changes), and built from per-file facts cached
under each file's blob id: after a sync that brought one new version, only that file is parsed.
Both caches live in the mirror's own `steward/cache/` (`steward.reading.cache`), in a directory of
their own (`federation/`), apart from the list's records.

A file that cannot be read is a problem in the index, never skipped: impact fails closed on it.
"""

from __future__ import annotations

from typing import NamedTuple

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry, format_timestamp
from steward.entries.problems import Problem, sorted_problems
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.entries.yamlio import MAX_FILE_BYTES, too_large
from steward.gitio.tree import FileType, GitSnapshot, TreeFile
from steward.reading.cache import RecordStore, cache_dir, load_tree_answer, store_tree_answer
from steward.reading.summaries import FileProblem

# Bump when a fact's fields or meaning change: another format's index is never read.
USES_FORMAT = 1


class RefUse(NamedTuple):
    """One `training.datasets` item of a version."""

    id: str
    version: str | None
    uri: str | None
    columns: tuple[str, ...]  # none: all of them


class VersionUse(NamedTuple):
    model: str
    version: str
    stage: str
    created_at: str
    refs: tuple[RefUse, ...]


class Consumer(NamedTuple):
    name: str
    owner: str | None


class ModelFacts(NamedTuple):
    name: str
    owner: str
    team: str
    risk: str
    data_steward: str | None
    downstream: tuple[Consumer, ...]


class DatasetFacts(NamedTuple):
    name: str
    uri: str
    owner: str
    classification: tuple[str, ...]
    columns: tuple[tuple[str, tuple[str, ...]], ...]  # (name, classification) of every column


Fact = VersionUse | ModelFacts | DatasetFacts


class UsesIndex(NamedTuple):
    """One registry's facts for impact, at one tree."""

    versions: list[tuple[str, VersionUse]]  # (entry path, facts), by model then precedence
    models: dict[str, ModelFacts]
    datasets: dict[str, DatasetFacts]
    dataset_paths: frozenset[str]  # ids with a file, readable or not
    problems: list[Problem]


_KINDS = (Kind.MODEL, Kind.VERSION, Kind.DATASET)


def uses_index(snapshot: GitSnapshot) -> UsesIndex:
    """The index of the tree `snapshot` reads, from the mirror's cache when it has it."""
    directory = cache_dir(snapshot.root)
    tree_cache = directory / "federation" if directory is not None else None
    key = f"{USES_FORMAT}-{snapshot.key()}"
    known = load_tree_answer(tree_cache, "uses", key)
    if isinstance(known, UsesIndex):
        return known
    records = RecordStore(tree_cache)
    try:
        index = _build(snapshot, records)
    finally:
        snapshot.close()
    records.save()
    store_tree_answer(tree_cache, "uses", key, index)
    return index


def _build(snapshot: GitSnapshot, records: RecordStore) -> UsesIndex:
    versions: list[tuple[str, VersionUse]] = []
    models: dict[str, ModelFacts] = {}
    datasets: dict[str, DatasetFacts] = {}
    dataset_paths: set[str] = set()
    model_dirs: set[str] = set()
    problems: list[Problem] = []
    files = snapshot.files()
    records.preload(file.oid for file in files)
    for file in files:
        try:
            place = layout.classify(file.path)
        except Misplaced as exc:
            if file.path.startswith(layout.REGISTRY_DIR + "/"):
                problems.append(Problem(file.path, None, "", str(exc)))
            continue
        if place.kind not in _KINDS:
            continue
        if place.kind is Kind.DATASET and place.name is not None:
            dataset_paths.add(place.name)
        fact = _fact(snapshot, records, file, place.kind, problems)
        if isinstance(fact, VersionUse):
            versions.append((file.path, fact))
            model_dirs.add(fact.model)
        elif isinstance(fact, ModelFacts):
            models[fact.name] = fact
        elif isinstance(fact, DatasetFacts):
            datasets[fact.name] = fact
    unreadable = {problem.path for problem in problems}
    for model in sorted(model_dirs - set(models)):
        path = layout.model_path(model)
        if path not in unreadable:
            problems.append(Problem(path, None, "", "does not exist; its versions have no owner"))
    versions.sort(key=lambda item: (item[1].model, precedence(item[1].version)))
    return UsesIndex(
        versions, models, datasets, frozenset(dataset_paths), sorted_problems(problems)
    )


def _fact(
    snapshot: GitSnapshot,
    records: RecordStore,
    file: TreeFile,
    kind: Kind,
    problems: list[Problem],
) -> Fact | None:
    if file.type is not FileType.REGULAR or file.oid is None:
        problems.append(Problem(file.path, None, "", f"not read: a {file.type.value}"))
        return None
    if file.size is not None and file.size > MAX_FILE_BYTES:
        problems.append(Problem(file.path, None, "", too_large(file.size)))
        return None
    record = records.get(kind, file.oid)
    if not (isinstance(record, tuple) and len(record) == 2):
        parsed = parse_file(kind, snapshot.read(file), file.path)
        own = tuple(FileProblem(p.line, p.field, p.message) for p in parsed.problems)
        record = (own, _facts_of(parsed.entry))
        records.put(kind, file.oid, record)
    own_problems, fact = record
    problems.extend(Problem(file.path, p.line, p.field, p.message) for p in own_problems)
    return fact if isinstance(fact, VersionUse | ModelFacts | DatasetFacts) else None


def _facts_of(entry: object) -> Fact | None:
    if isinstance(entry, VersionEntry):
        refs = tuple(
            RefUse(ref.id, ref.version, ref.uri, tuple(ref.columns))
            for ref in entry.training.datasets
        )
        return VersionUse(
            entry.model, entry.version, entry.stage, format_timestamp(entry.created_at), refs
        )
    if isinstance(entry, ModelEntry):
        return ModelFacts(
            entry.name,
            entry.owner,
            entry.team,
            entry.risk,
            entry.data_steward,
            tuple(Consumer(c.name, c.owner) for c in entry.downstream),
        )
    if isinstance(entry, DatasetEntry):
        columns = tuple((c.name, tuple(c.classification)) for c in entry.columns)
        return DatasetFacts(
            entry.name, entry.uri, entry.owner, tuple(entry.classification), columns
        )
    return None
