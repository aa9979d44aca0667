"""The whole registry in one pass: every model, version and dataset entry of a snapshot.

Lineage, impact analysis and the catalog exports need every entry at once. They read them here,
in one walk over the snapshot's file list (`git ls-files`, or `git ls-tree` and `cat-file` for a
revision), each file parsed once by the one strict reader (`validate.parse_file`). Policies,
team extensions, pointers and schema copies are not read; the policy only when asked for (model
cards and audit reports name its roles and rules), and with `model` only that model's files
(and every dataset).

A file that cannot be read is a problem collected in the answer, never skipped in silence: a
question about "everything" answered from part of it must say so (impact analysis fails closed
on any problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry
from steward.entries.names import is_name
from steward.entries.policy import Policy
from steward.entries.problems import Problem, sorted_problems
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.entries.yamlio import MAX_FILE_BYTES, too_large
from steward.gitio.tree import FileType, Snapshot, TreeFile
from steward.reading.central_policy import CentralUnavailable, floored_policy

_READ_KINDS = (Kind.MODEL, Kind.VERSION, Kind.DATASET)


@dataclass(frozen=True)
class RegistryContents:
    """What a snapshot's entries parsed into, and the files that could not be read.

    `versions` maps each model name to its versions in precedence order; a model whose
    `model.yaml` is missing or broken may still have versions (and a problem saying why).
    """

    source: str
    models: dict[str, ModelEntry] = field(default_factory=dict)
    versions: dict[str, list[VersionEntry]] = field(default_factory=dict)
    datasets: dict[str, DatasetEntry] = field(default_factory=dict)
    dataset_paths: frozenset[str] = frozenset()  # ids with a file, readable or not
    problems: list[Problem] = field(default_factory=list)
    policy: Policy | None = None  # read only when asked for; None also when unreadable

    @property
    def complete(self) -> bool:
        return not self.problems

    def versions_of(self, model: str) -> list[VersionEntry]:
        return self.versions.get(model, [])

    def all_versions(self) -> list[VersionEntry]:
        return [entry for model in sorted(self.versions) for entry in self.versions[model]]


def _only(model: str | None, with_policy: bool, datasets_only: bool) -> list[str] | None:
    """The paths holding every file `read_contents` reads for one model or the datasets (listing
    them alone spares listing every model's directory); None: every file is listed."""
    if datasets_only:
        return [layout.DATASETS_DIR]
    if model is None or not is_name(model):
        return None
    policies = [layout.POLICY_FILE, layout.CENTRAL_COPY_FILE] if with_policy else []
    return [f"{layout.MODELS_DIR}/{model}", layout.DATASETS_DIR, *policies]


def read_contents(
    snapshot: Snapshot,
    model: str | None = None,
    with_policy: bool = False,
    misplaced_in_model: bool = False,
    datasets_only: bool = False,
) -> RegistryContents:
    """Every model, version and dataset entry of `snapshot` (with `model`, only that model's
    files and every dataset), and the policy `with_policy`, each file read once. A misplaced
    file under `registry/` is a problem when every model is read, and with `model` only if
    `misplaced_in_model` and it is in that model's directory. `datasets_only`: the dataset
    entries alone (no model's file is read, no misplaced file reported)."""
    kinds: tuple[Kind, ...] = (*_READ_KINDS, Kind.POLICY) if with_policy else _READ_KINDS
    if datasets_only:
        kinds = (Kind.DATASET,)
    policy: Policy | None = None
    central_copy: bytes | None = None
    models: dict[str, ModelEntry] = {}
    versions: dict[str, list[VersionEntry]] = {}
    datasets: dict[str, DatasetEntry] = {}
    dataset_files: set[str] = set()
    model_dirs: set[str] = set()
    problems: list[Problem] = []
    try:
        for file in snapshot.files(_only(model, with_policy, datasets_only)):
            try:
                place = layout.classify(file.path)
                if with_policy and place.kind is Kind.CENTRAL:
                    central_copy = snapshot.read(file)
            except Misplaced as exc:
                # Under registry/ a stray file may be an entry in the wrong place (`1.0.yaml`):
                # an answer about every version cannot ignore it.
                if (
                    file.path.startswith(layout.REGISTRY_DIR + "/")
                    and not datasets_only
                    and (
                        model is None
                        or (
                            misplaced_in_model
                            and file.path.startswith(f"{layout.MODELS_DIR}/{model}/")
                        )
                    )
                ):
                    problems.append(Problem(file.path, None, "", str(exc)))
                continue
            if place.kind not in kinds:
                continue
            if (
                model is not None
                and place.kind in (Kind.MODEL, Kind.VERSION)
                and place.model != model
            ):
                continue
            if place.kind is Kind.DATASET and place.name is not None:
                dataset_files.add(place.name)
            entry = _read(snapshot, file, place.kind, problems)
            if entry is None:
                continue
            if isinstance(entry, ModelEntry):
                models[entry.name] = entry
            elif isinstance(entry, VersionEntry):
                versions.setdefault(entry.model, []).append(entry)
                model_dirs.add(entry.model)
            elif isinstance(entry, DatasetEntry):
                datasets[entry.name] = entry
            elif isinstance(entry, Policy):
                policy = entry
    finally:
        snapshot.close()
    if policy is not None and policy.central is not None:
        # What reports say the policy asks is what the gate enforces: the central floor too.
        try:
            policy = floored_policy(snapshot.root, policy, lambda _path: central_copy)
        except CentralUnavailable as exc:
            problems.append(Problem(layout.POLICY_FILE, None, "central", str(exc)))
    unreadable = {problem.path for problem in problems}
    for model in sorted(model_dirs - set(models)):
        path = layout.model_path(model)
        if path not in unreadable:
            problems.append(Problem(path, None, "", "does not exist; its versions have no owner"))
    for entries in versions.values():
        entries.sort(key=lambda entry: precedence(entry.version))
    return RegistryContents(
        snapshot.label,
        models,
        versions,
        datasets,
        frozenset(dataset_files),
        sorted_problems(problems),
        policy,
    )


def _read(
    snapshot: Snapshot, file: TreeFile, kind: Kind, problems: list[Problem]
) -> ModelEntry | VersionEntry | DatasetEntry | Policy | None:
    if file.type is not FileType.REGULAR:
        problems.append(Problem(file.path, None, "", f"not read: a {file.type.value}"))
        return None
    if file.size is not None and file.size > MAX_FILE_BYTES:  # else the loader refuses it
        problems.append(Problem(file.path, None, "", too_large(file.size)))
        return None
    parsed = parse_file(kind, snapshot.read(file), file.path)
    problems.extend(parsed.problems)
    entry: ModelEntry | VersionEntry | DatasetEntry | Policy | None = parsed.entry
    return entry
