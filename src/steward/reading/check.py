"""`steward check`: every file of a registry snapshot, then the rules across files.

Everything is collected before anything is reported, and every cross-file rule is a dictionary
lookup, so the whole check is linear in the number of files. Each file is read into a compact
record (its own problems and a summary, `steward.reading.summaries`), cached by blob id, and the
rules across files run on the summaries: no parsed document is kept, and a file read before is not
parsed again. A `Scope` limits a check to what a change can affect (the gate).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from jsonschema import Draft202012Validator

from steward import progress
from steward.entries import classification, layout
from steward.entries.codeowners import render_codeowners
from steward.entries.jsonschemas import SCHEMA_MODELS, shipped_schema_text
from steward.entries.layout import CODEOWNERS_PATH, Kind, Misplaced, Place
from steward.entries.names import is_version
from steward.entries.policy import (
    Policy,
    TeamExtension,
    compile_team_schemas,
    policy_problems,
    schema_violations,
    team_problems,
)
from steward.entries.problems import Problem, field_path, problem_at, sorted_problems
from steward.entries.validate import Parsed, parse_file
from steward.entries.yamlio import MAX_FILE_BYTES, Loc, too_large
from steward.gitio.tree import FileType, Snapshot, TreeFile
from steward.reading.cache import RecordStore, cache_dir, load_tree_answer, store_tree_answer
from steward.reading.central_policy import (
    CentralUnavailable,
    Vendored,
    apply_floor,
    central_label,
)
from steward.reading.summaries import (
    SUMMARIZED_KINDS,
    DatasetSummary,
    FileRecord,
    ModelSummary,
    PointerSummary,
    VersionSummary,
    line_at,
    summarize,
)
from steward.reading.summarize_ahead import Reading, summarize_ahead, worthwhile


@dataclass
class CheckReport:
    source: str
    problems: list[Problem]
    counts: dict[str, int]
    # False when an answer depended on something outside the tree that may change (a central
    # policy that could not be fetched): such a report is not kept for the tree.
    lasting: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "counts": self.counts,
            "problems": [p.as_dict() for p in self.problems],
        }


class Read(NamedTuple):
    """A file read as its kind: where it is, and its record (problems and summary)."""

    file: TreeFile
    record: FileRecord

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def summary(self) -> Any:
        return self.record.summary

    def problem(self, loc: Loc, message: str) -> Problem:
        """A problem at `loc` of this file, on the line of the nearest key its summary kept."""
        assert self.record.summary is not None
        return Problem(self.path, line_at(self.record.summary, loc), field_path(loc), message)


@dataclass
class _Registry:
    """What the files of a snapshot were read into, keyed the way cross-file rules look them up."""

    models: dict[str, Read] = field(default_factory=dict)
    versions: dict[tuple[str, str], Read] = field(default_factory=dict)
    pointers: dict[tuple[str, str], Read] = field(default_factory=dict)
    datasets: dict[str, Read] = field(default_factory=dict)
    teams: dict[str, tuple[TreeFile, Parsed]] = field(default_factory=dict)
    policy: Parsed | None = None
    central_copy: tuple[TreeFile, Parsed] | None = None
    # The policy rules are judged by: the registry's own, with its pinned central floor applied.
    effective: Policy | None = None
    model_dirs: set[str] = field(default_factory=set)

    def add(self, place: Place, read: Read) -> None:
        if place.kind is Kind.MODEL:
            assert place.model is not None
            self.models[place.model] = read
        elif place.kind in (Kind.VERSION, Kind.POINTER):
            assert place.model is not None and place.version is not None
            target = self.versions if place.kind is Kind.VERSION else self.pointers
            target[(place.model, place.version)] = read
            self.model_dirs.add(place.model)
        elif place.kind is Kind.DATASET:
            assert place.name is not None
            self.datasets[place.name] = read


@dataclass(frozen=True)
class Scope:
    """The part of a tree a check reads, when the caller knows the rest cannot have changed
    (the gate: only what a proposal touches, see `steward.gate.scoped_problems`).

    Policy, team and dataset files are always read: they are few, and rules across the whole
    registry hang on them. Problems outside the scope are not reported at all."""

    models: frozenset[str]  # model directories read whole: their rules are all within them
    paths: frozenset[str]  # other files read on their own
    every_model_file: bool  # model.yaml of every model too: the CODEOWNERS rule needs them all

    def includes(self, path: str, place: Place) -> bool:
        if path in self.paths or place.kind in (Kind.POLICY, Kind.CENTRAL, Kind.TEAM, Kind.DATASET):
            return True
        if place.model is not None:
            return place.model in self.models or (
                self.every_model_file and place.kind is Kind.MODEL
            )
        return False


def check_cached(snapshot: Snapshot) -> CheckReport:
    """`check_snapshot` through the cache: the whole report when this tree was checked before,
    else each file's record where its blob was read before."""
    directory = cache_dir(snapshot.root, snapshot.git_dir)
    try:
        files = snapshot.files()
        key = snapshot.key()
    except BaseException:
        snapshot.close()
        raise
    known = load_tree_answer(directory, "check", key)
    if isinstance(known, CheckReport):
        snapshot.close()
        return replace(known, source=snapshot.label)
    records = RecordStore(directory)
    records.preload(file.oid for file in files)
    report = check_snapshot(snapshot, records, files=files)
    records.save()
    if report.lasting and snapshot.unchanged_since(key):
        store_tree_answer(directory, "check", key, report)
    return report


def check_snapshot(
    snapshot: Snapshot,
    records: RecordStore | None = None,
    scope: Scope | None = None,
    files: list[TreeFile] | None = None,
    all_paths: list[str] | None = None,
) -> CheckReport:
    """Check `snapshot`: its `files` (all of them unless given), and for case collisions
    `all_paths` (those files' paths unless given)."""
    records = records if records is not None else RecordStore(None)
    registry = _Registry()
    try:
        files = files if files is not None else snapshot.files()
        paths = all_paths if all_paths is not None else [file.path for file in files]
        problems: list[Problem] = list(_case_collisions(paths))
        _summarize_ahead(snapshot, files, records, scope)
        with progress.files_read(len(files)) as advance:
            for file in files:
                problems.extend(_read_file(snapshot, file, registry, records, scope))
                advance(1)
        floor_problems, lasting = _central_floor(snapshot, registry)
        problems.extend(floor_problems)
        if scope is None or scope.every_model_file:
            problems.extend(_codeowners_rule(snapshot, registry))
        problems.extend(_team_rules(snapshot, registry))
    finally:
        snapshot.close()
    problems.extend(_path_agreement(registry))
    problems.extend(_pointer_rules(registry))
    problems.extend(_lineage_rules(registry))
    problems.extend(_classification_rule(registry))
    problems.extend(_policy_rules(registry))
    counts = {
        "files": len(files),
        "models": len(registry.models),
        "versions": len(registry.versions),
        "datasets": len(registry.datasets),
        "teams": len(registry.teams),
    }
    return CheckReport(snapshot.label, sorted_problems(problems), counts, lasting)


def _case_collisions(paths: list[str]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for path in paths:
        key = path.casefold()
        if key in seen:
            problems.append(
                Problem(
                    path,
                    None,
                    "",
                    f"differs from {seen[key]} only by case; they are the same file on "
                    "case-insensitive file systems",
                )
            )
        else:
            seen[key] = path
    return problems


def _summarize_ahead(
    snapshot: Snapshot, files: list[TreeFile], records: RecordStore, scope: Scope | None
) -> None:
    """Summarize on every core the files `_read_file` will summarize, when there are many
    (`steward.reading.summarize_ahead`): it then finds their records in `records`."""
    if not worthwhile(len(files)):
        return
    jobs = []
    for file in files:
        if file.type is not FileType.REGULAR or (file.size or 0) > MAX_FILE_BYTES:
            continue
        if scope is not None and file.path not in scope.paths and not _may_be_in(scope, file.path):
            continue
        try:
            place = layout.classify(file.path)
        except Misplaced:
            continue
        if place.kind not in SUMMARIZED_KINDS or (
            scope is not None and not scope.includes(file.path, place)
        ):
            continue
        if not isinstance(records.get(place.kind, file.oid), FileRecord):
            jobs.append((file, place.kind))
    summarize_ahead(records, jobs, Reading(snapshot.read, snapshot.content_id, snapshot.close))


def _read_file(
    snapshot: Snapshot,
    file: TreeFile,
    registry: _Registry,
    records: RecordStore,
    scope: Scope | None,
) -> list[Problem]:
    if scope is not None and file.path not in scope.paths and not _may_be_in(scope, file.path):
        return []
    if file.type is FileType.SYMLINK:
        return [Problem(file.path, None, "", "symbolic links are not allowed in a registry")]
    if file.type is not FileType.REGULAR:
        return [Problem(file.path, None, "", f"not a regular file ({file.type.value})")]
    try:
        place = layout.classify(file.path)
    except Misplaced as exc:
        return [Problem(file.path, None, "", str(exc))]
    if place.kind is Kind.NEUTRAL:
        if file.path.rpartition("/")[2] == ".gitignore":
            return _gitignore_problems(file.path, snapshot.read(file))
        return []
    if scope is not None and not scope.includes(file.path, place):
        return []
    if file.size is not None and file.size > MAX_FILE_BYTES:
        return [Problem(file.path, None, "", too_large(file.size))]
    if place.kind in SUMMARIZED_KINDS:
        record = records.get(place.kind, file.oid)
        if not isinstance(record, FileRecord):
            raw = snapshot.read(file)
            record = summarize(place.kind, raw, file.path)
            records.put(place.kind, snapshot.content_id(file, raw), record)
        if record.parsed:
            registry.add(place, Read(file, record))
        return record.problems_at(file.path)
    raw = snapshot.read(file)
    if place.kind is Kind.SCHEMA:
        return _schema_copy_problems(file.path, place, raw)
    if len(raw) > MAX_FILE_BYTES:
        return [Problem(file.path, None, "", too_large(len(raw)))]
    parsed = parse_file(place.kind, raw, file.path)
    if place.kind is Kind.POLICY:
        registry.policy = parsed
    elif place.kind is Kind.CENTRAL:
        registry.central_copy = (file, parsed)
    elif place.kind is Kind.TEAM:
        assert place.name is not None
        registry.teams[place.name] = (file, parsed)
    return parsed.problems


def _gitignore_problems(path: str, raw: bytes) -> list[Problem]:
    """A `.gitignore` in the registry may hide only what DVC keeps out of git: a model's
    version data directories, all of them (`/*/`, as registration writes it) or one by one
    (`/1.3.0`, as DVC and older registrations write them). Anything else would hide entries from
    every checkout, so it is a problem (and the gate fails)."""
    in_model = path.count("/") == 3 and path.startswith(layout.MODELS_DIR + "/")
    problems = []
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if in_model and (
            text == layout.ALL_VERSION_DIRECTORIES or (text[:1] == "/" and is_version(text[1:]))
        ):
            continue
        allowed = "a version's data directory such as /1.3.0" if in_model else "nothing"
        problems.append(
            Problem(path, number, "", f"ignores {text!r}: a .gitignore here may ignore {allowed}")
        )
    return problems


def _may_be_in(scope: Scope, path: str) -> bool:
    """Cheaply: could `path` be in `scope`? (Classifying 200,000 paths to skip them costs.)"""
    parts = path.split("/", 3)
    if len(parts) == 4 and parts[0] == "registry" and parts[1] == "models":
        return parts[2] in scope.models or (scope.every_model_file and parts[3] == "model.yaml")
    return True


def _schema_copy_problems(path: str, place: Place, raw: bytes) -> list[Problem]:
    assert place.name is not None
    if place.name not in SCHEMA_MODELS:
        return [Problem(path, None, "", f"no entry kind is called '{place.name}'")]
    if raw.decode("utf-8", "replace") != shipped_schema_text(place.name):
        return [
            Problem(
                path, None, "", "differs from this Steward's schema; run `steward schema --write`"
            )
        ]
    return []


def _central_floor(snapshot: Snapshot, registry: _Registry) -> tuple[list[Problem], bool]:
    """Apply the central policy the registry's policy pins (if it pins one): each weakening is a
    problem of `policies/registry.yaml` at its field, and a central policy that cannot be read
    is one too. Sets `registry.effective`; returns the problems and whether they may be kept
    for this tree (an unreachable central may be reachable later)."""
    parsed = registry.policy
    local: Policy | None = _valid(parsed)
    registry.effective = local
    if parsed is None or local is None or local.central is None:
        return [], True
    vendored = None
    if registry.central_copy is not None:
        copy_file, _copy = registry.central_copy
        vendored = Vendored(snapshot.read(copy_file))
    try:
        floored = apply_floor(snapshot.root, local, vendored)
    except CentralUnavailable as exc:
        registry.effective = None
        problem = problem_at(parsed.path, parsed.loaded, ("central",), str(exc))
        return [problem], False
    registry.effective = floored.policy
    label = central_label(local.central)
    problems = [
        problem_at(parsed.path, parsed.loaded, loc, f"{message} ({label})")
        for loc, message in floored.weakenings
    ]
    central = floored.central
    if vendored is not None and central is not None:
        blob = vendored.blob_id(central.blob)
        if blob != central.blob:
            problems.append(
                Problem(
                    layout.CENTRAL_COPY_FILE,
                    None,
                    "",
                    f"is not the pinned central file (its blob is {blob[:12]}, the file at "
                    f"{local.central.commit[:12]} is {central.blob[:12]}): copy it again, or "
                    "remove it and let the gate fetch the central repository",
                )
            )
    return problems, True


def _valid(parsed: Parsed | None) -> Any:
    return parsed.entry if parsed is not None else None


def _path_agreement(registry: _Registry) -> list[Problem]:
    problems = []

    def disagree(read: Read, loc: Loc, value: str, expected: str, where: str) -> None:
        if value != expected:
            problems.append(
                read.problem(
                    loc, f"'{value}' does not match the {where} '{expected}' in the file's path"
                )
            )

    for name, read in registry.models.items():
        if (model := read.summary) is not None:
            disagree(read, ("name",), model.name, name, "model directory")
    for (model_name, version), read in registry.versions.items():
        if (entry := read.summary) is not None:
            disagree(read, ("model",), entry.model, model_name, "model directory")
            disagree(read, ("version",), entry.version, version, "file name")
    for name, read in registry.datasets.items():
        if (dataset := read.summary) is not None:
            disagree(read, ("name",), dataset.name, name, "file name")
    for name, (_file, parsed) in registry.teams.items():
        if (team := _valid(parsed)) is not None and team.team != name:
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    ("team",),
                    f"'{team.team}' does not match the file name '{name}' in the file's path",
                )
            )
    for model in sorted(registry.model_dirs - registry.models.keys()):
        problems.append(
            Problem(
                layout.model_path(model),
                None,
                "",
                "file is missing: the directory holds versions of a model that was never "
                "created (`steward create`)",
            )
        )
    return problems


def _pointer_rules(registry: _Registry) -> list[Problem]:
    """Each version's DVC pointer is beside it and describes exactly the artifact it records."""
    problems = []
    for key, read in registry.versions.items():
        entry: VersionSummary | None = read.summary
        if entry is None:
            continue
        model, version = key
        pointer_name = f"{version}.dvc"
        if entry.artifact_dvc != pointer_name:
            problems.append(
                read.problem(
                    ("artifact", "dvc"), f"must be '{pointer_name}', the pointer beside this entry"
                )
            )
        pointer_read = registry.pointers.get(key)
        if pointer_read is None:
            problems.append(
                read.problem(
                    ("artifact", "dvc"),
                    f"the DVC pointer {layout.pointer_path(model, version)} is missing",
                )
            )
            continue
        if pointer_read.summary is not None:
            problems.extend(_compare_pointer(version, read, pointer_read))
    for key, pointer_read in registry.pointers.items():
        if key not in registry.versions:
            problems.append(
                Problem(
                    pointer_read.path,
                    None,
                    "",
                    f"no version entry {layout.version_path(*key)} for this DVC pointer",
                )
            )
    return problems


def _compare_pointer(version: str, read: Read, pointer_read: Read) -> list[Problem]:
    entry: VersionSummary = read.summary
    out: PointerSummary = pointer_read.summary
    problems = []
    if out.path != version:
        problems.append(
            pointer_read.problem(
                ("outs", 0, "path"),
                f"points at '{out.path}', not at the version's directory '{version}'",
            )
        )
    facts: list[tuple[Loc, object, object, str]] = [
        (("artifact", "md5"), entry.artifact_md5, out.md5, "md5"),
        (("artifact", "size"), entry.artifact_size, out.size, "size"),
    ]
    if out.md5.endswith(".dir"):
        facts.append((("artifact", "files"), entry.artifact_files, out.nfiles, "nfiles"))
    for loc, ours, theirs, name in facts:
        if theirs is not None and ours != theirs:
            problems.append(
                read.problem(
                    loc,
                    f"{ours!r} does not match {name} {theirs!r} in the DVC pointer "
                    f"{pointer_read.path}",
                )
            )
    return problems


def _lineage_rules(registry: _Registry) -> list[Problem]:
    """Every dataset a version was trained on is in the registry, with the columns it cites.
    (That a retired version, and only it, has a tombstone is a rule of the entry alone:
    `steward.reading.summaries`.)"""
    problems = []
    for read in registry.versions.values():
        entry: VersionSummary | None = read.summary
        if entry is None:
            continue
        for i, (dataset, cited) in enumerate(
            zip(entry.datasets, entry.dataset_columns, strict=True)
        ):
            if dataset not in registry.datasets:
                problems.append(
                    read.problem(
                        ("training", "datasets", i, "id"),
                        f"dataset '{dataset}' is not in the registry "
                        f"({layout.dataset_path(dataset)} does not exist)",
                    )
                )
                continue
            summary: DatasetSummary | None = registry.datasets[dataset].summary
            known = {name for name, _labels in summary.column_classifications} if summary else None
            for j, column in enumerate(cited):
                if known is not None and column not in known:
                    problems.append(
                        read.problem(
                            ("training", "datasets", i, "columns", j),
                            f"column '{column}' is not a column of dataset '{dataset}' "
                            f"({layout.dataset_path(dataset)} columns)",
                        )
                    )
    return problems


def _classification_rule(registry: _Registry) -> list[Problem]:
    """A model's declared classification covers what every version still holding an artifact
    (all but `retired`) inherits from its data. One problem per model and missing label."""
    policy: Policy | None = registry.effective
    levels = policy.classification_levels if policy is not None else []
    datasets: dict[str, DatasetSummary] = {
        name: read.summary for name, read in registry.datasets.items() if read.summary is not None
    }
    first_source: dict[tuple[str, str], tuple[str, classification.Inherited]] = {}
    for (model, version), read in sorted(registry.versions.items()):
        entry: VersionSummary | None = read.summary
        if entry is None or entry.stage == "retired":
            continue
        for dataset_id, cited in zip(entry.datasets, entry.dataset_columns, strict=True):
            dataset = datasets.get(dataset_id)
            if dataset is None:
                continue
            for found in classification.inherited_from(
                dataset_id, dataset.classification, dataset.column_classifications, cited
            ):
                first_source.setdefault((model, found.label), (version, found))
    by_model: dict[str, list[str]] = defaultdict(list)
    for model, label in first_source:
        by_model[model].append(label)
    problems = []
    for model, inherited_labels in sorted(by_model.items()):
        model_read = registry.models.get(model)
        declared_by: ModelSummary | None = model_read.summary if model_read else None
        if model_read is None or declared_by is None:
            continue
        declared = declared_by.classification
        for label in classification.uncovered(declared, inherited_labels, levels):
            version, found = first_source[(model, label)]
            problems.append(
                model_read.problem(
                    ("classification",),
                    f"declares {', '.join(declared) or 'nothing'}, lower than the '{label}' that "
                    f"version {version} inherits from {found.source}: add '{label}' to "
                    "classification",
                )
            )
    return problems


class _AnyRole:
    def __contains__(self, role: object) -> bool:
        return True


def _policy_rules(registry: _Registry) -> list[Problem]:
    parsed = registry.policy
    if parsed is None:
        return [
            Problem(
                layout.POLICY_FILE,
                None,
                "",
                "file is missing: every registry needs a policy (`steward init` writes a default)",
            )
        ]
    policy: Policy | None = _valid(parsed)
    if policy is None:
        return []
    # Roles the pinned central policy defines count as defined; when it could not be read (that
    # is reported), no role is called undefined for it.
    roles: Container[str] | None = None
    if registry.effective is not None:
        roles = registry.effective.roles
    elif policy.central is not None:
        roles = _AnyRole()
    problems = [
        problem_at(parsed.path, parsed.loaded, loc, message)
        for loc, message in policy_problems(policy, roles)
    ]
    if registry.effective is not None:
        problems.extend(_single_stage_rule(registry, registry.effective))
    return problems


def _single_stage_rule(registry: _Registry, policy: Policy) -> list[Problem]:
    single = policy.single_stages()
    holders: dict[tuple[str, str], list[Read]] = defaultdict(list)
    for (model, _version), read in registry.versions.items():
        entry: VersionSummary | None = read.summary
        if entry is not None and entry.stage in single:
            holders[(model, entry.stage)].append(read)
    problems = []
    for (model, stage), reads in holders.items():
        if len(reads) < 2:
            continue
        versions = ", ".join(sorted(read.summary.version for read in reads))
        for read in reads:
            problems.append(
                read.problem(
                    ("stage",),
                    f"{stage} holds one version per model (policies/registry.yaml stages.{stage}"
                    f".single), but {model} has {len(reads)} there: {versions}",
                )
            )
    return problems


def _codeowners_rule(snapshot: Snapshot, registry: _Registry) -> list[Problem]:
    """A CODEOWNERS file, where there is one, must be what `steward codeowners` writes now."""
    existing = snapshot.read_path(CODEOWNERS_PATH)
    policy: Policy | None = registry.effective  # None also when its central cannot be read
    if existing is None or policy is None:
        return []
    models = {name: read.summary for name, read in registry.models.items()}
    if any(model is None for model in models.values()):
        return []  # the broken model is reported already; the file cannot be judged yet
    if existing.decode("utf-8", "replace") != render_codeowners(policy, models):
        return [
            Problem(
                CODEOWNERS_PATH,
                None,
                "",
                "is stale: it does not match the policy and the models' owners; run "
                "`steward codeowners`",
            )
        ]
    return []


def _team_rules(snapshot: Snapshot, registry: _Registry) -> list[Problem]:
    policy: Policy | None = registry.effective
    problems: list[Problem] = []
    validators: dict[str, dict[str, Draft202012Validator]] = {}
    for name, (_file, parsed) in registry.teams.items():
        team: TeamExtension | None = _valid(parsed)
        if team is None:
            continue
        found = team_problems(team, policy)
        problems.extend(problem_at(parsed.path, parsed.loaded, loc, msg) for loc, msg in found)
        if not any(loc[:1] == ("schemas",) for loc, _ in found):
            validators[name] = compile_team_schemas(team)
    if not validators:
        return problems
    team_of_model: dict[str, str] = {}
    for model_name, read in registry.models.items():
        model: ModelSummary | None = read.summary
        if model is not None:
            team_of_model[model_name] = model.team
            problems.extend(_team_schema_problems(snapshot, read, validators, model.team))
    for (model_name, _version), read in registry.versions.items():
        if read.summary is not None and model_name in team_of_model:
            team_name = team_of_model[model_name]
            problems.extend(_team_schema_problems(snapshot, read, validators, team_name))
    return problems


def _team_schema_problems(
    snapshot: Snapshot,
    read: Read,
    validators: dict[str, dict[str, Draft202012Validator]],
    team: str,
) -> list[Problem]:
    """A team's extra fields, judged on the file's whole data: records do not keep it, so the
    few files whose team asks for more are parsed again."""
    kind = Kind.MODEL if isinstance(read.summary, ModelSummary) else Kind.VERSION
    validator = validators.get(team, {}).get(kind.value)
    if validator is None:
        return []
    parsed = parse_file(kind, snapshot.read(read.file), read.path)
    if parsed.loaded is None:
        return []
    return [
        problem_at(read.path, parsed.loaded, loc, message)
        for loc, message in schema_violations(validator, parsed.loaded.data, team)
    ]
