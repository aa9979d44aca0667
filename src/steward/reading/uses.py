"""What impact analysis needs of one registry, kept small and cached: each version's stage and
the datasets it cites (id, version, URI, columns), each model's owners and consumers, each
dataset's URI and classifications. `steward impact` reads it for the registry it runs in, and for
every registry of a federation (their mirrors).

Impact across 20 registries of 5,000 versions must answer in about a second when warm, and
parsing 100,000 YAML files takes half a minute (DESIGN.md). So the index is cached under the
snapshot's key (a commit's tree id; the working tree's state, as `list` keys it), and built from
per-file facts cached under each file's blob id: after a change to one version, only that file is
parsed. Both caches live in the repository's `steward/cache/` (`steward.reading.cache`), in a
directory of their own (`federation/`, its name from when only federations read it), apart from
the list's records. A working tree's index is kept only if no file changed while it was read,
and a fact is kept under the id of the bytes it was read from.

A file that cannot be read is a problem in the index, never skipped: impact fails closed on it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.problems import Problem, sorted_problems
from steward.entries.semver import precedence
from steward.entries.yamlio import MAX_FILE_BYTES, too_large
from steward.gitio.tree import FileType, Snapshot, TreeFile
from steward.reading.cache import RecordStore, cache_dir, load_tree_answer, store_tree_answer

# Bump when a fact's fields or meaning change: another format's index is never read.
USES_FORMAT = 2


# Versions are plain tuples, read by unpacking: 100,000 of them unpickle in a fifth of a second,
# while named tuples (whose `__new__` is Python) take well over a second.
# A `training.datasets` item: (id, version, uri, columns); no columns means all of them.
RefUse = tuple[str, str | None, str | None, tuple[str, ...]]
# A version: (entry path, model, version, stage, created_at, its dataset references).
VersionUse = tuple[str, str, str, str, str, tuple[RefUse, ...]]


class ModelFacts(NamedTuple):
    name: str
    owner: str
    team: str
    risk: str
    data_steward: str | None
    downstream: tuple[tuple[str, str | None], ...]  # (consumer, its owner)


class DatasetFacts(NamedTuple):
    name: str
    uri: str
    owner: str
    classification: tuple[str, ...]
    columns: tuple[tuple[str, tuple[str, ...]], ...]  # (name, classification) of every column


# What one file yields: a version's fields after its path, a model's or a dataset's facts.
Fact = tuple[str, str, str, str, tuple[RefUse, ...]] | ModelFacts | DatasetFacts


class UsesIndex(NamedTuple):
    """One registry's facts for impact, at one tree."""

    versions: list[VersionUse]  # by model then precedence
    models: dict[str, ModelFacts]
    datasets: dict[str, DatasetFacts]
    dataset_paths: frozenset[str]  # ids with a file, readable or not
    problems: list[Problem]


_KINDS = (Kind.MODEL, Kind.VERSION, Kind.DATASET)


def uses_index(snapshot: Snapshot) -> UsesIndex:
    """The index of the files `snapshot` reads, from the repository's cache when it has it."""
    directory = cache_dir(snapshot.root, snapshot.git_dir)
    tree_cache = directory / "federation" if directory is not None else None
    state = snapshot.key()
    key = f"{USES_FORMAT}-{state}"
    known = load_tree_answer(tree_cache, "uses", key)
    if isinstance(known, tuple) and len(known) == len(UsesIndex._fields):
        return _unpack(known)
    records = RecordStore(tree_cache)
    try:
        index = _build(snapshot, records)
    finally:
        snapshot.close()
    records.save()
    if snapshot.unchanged_since(state):
        store_tree_answer(tree_cache, "uses", key, _pack(index))
    return index


# Models and datasets are kept as plain tuples too, and named again as they are loaded.
_Packed = tuple[Any, ...]


def _pack(index: UsesIndex) -> _Packed:
    models = {name: tuple(model) for name, model in index.models.items()}
    datasets = {name: tuple(dataset) for name, dataset in index.datasets.items()}
    return (index.versions, models, datasets, index.dataset_paths, index.problems)


def _unpack(packed: _Packed) -> UsesIndex:
    versions, models, datasets, dataset_paths, problems = packed
    new = tuple.__new__
    return UsesIndex(
        versions,
        {name: new(ModelFacts, model) for name, model in models.items()},
        {name: new(DatasetFacts, dataset) for name, dataset in datasets.items()},
        dataset_paths,
        problems,
    )


def _build(snapshot: Snapshot, records: RecordStore) -> UsesIndex:
    versions: list[VersionUse] = []
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
        if isinstance(fact, ModelFacts):
            models[fact.name] = fact
        elif isinstance(fact, DatasetFacts):
            datasets[fact.name] = fact
        elif fact is not None:
            versions.append((file.path, *fact))
            model_dirs.add(fact[0])
    unreadable = {problem.path for problem in problems}
    for model in sorted(model_dirs - set(models)):
        path = layout.model_path(model)
        if path not in unreadable:
            problems.append(Problem(path, None, "", "does not exist; its versions have no owner"))
    versions.sort(key=lambda item: (item[1], precedence(item[2])))
    return UsesIndex(
        versions, models, datasets, frozenset(dataset_paths), sorted_problems(problems)
    )


def _fact(
    snapshot: Snapshot,
    records: RecordStore,
    file: TreeFile,
    kind: Kind,
    problems: list[Problem],
) -> Fact | None:
    if file.type is not FileType.REGULAR:
        problems.append(Problem(file.path, None, "", f"not read: a {file.type.value}"))
        return None
    if file.size is not None and file.size > MAX_FILE_BYTES:
        problems.append(Problem(file.path, None, "", too_large(file.size)))
        return None
    record = records.get(kind, file.oid)
    if not (isinstance(record, tuple) and len(record) == 2):
        from steward.entries.validate import parse_file  # the entry models: only on a miss

        raw = snapshot.read(file)
        parsed = parse_file(kind, raw, file.path)
        own = tuple((p.line, p.field, p.message) for p in parsed.problems)
        record = (own, _facts_of(parsed.entry))
        # Under the id of the bytes read: a working-tree file may have changed since listed.
        records.put(kind, snapshot.content_id(file, raw), record)
    own_problems, found = record
    problems.extend(Problem(file.path, line, name, message) for line, name, message in own_problems)
    fact: Fact | None = found
    return fact


def _facts_of(entry: object) -> Fact | None:
    from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry, format_timestamp

    if isinstance(entry, VersionEntry):
        refs = tuple(
            (ref.id, ref.version, ref.uri, tuple(ref.columns)) for ref in entry.training.datasets
        )
        return (entry.model, entry.version, entry.stage, format_timestamp(entry.created_at), refs)
    if isinstance(entry, ModelEntry):
        return ModelFacts(
            entry.name,
            entry.owner,
            entry.team,
            entry.risk,
            entry.data_steward,
            tuple((c.name, c.owner) for c in entry.downstream),
        )
    if isinstance(entry, DatasetEntry):
        columns = tuple((c.name, tuple(c.classification)) for c in entry.columns)
        return DatasetFacts(
            entry.name, entry.uri, entry.owner, tuple(entry.classification), columns
        )
    return None
