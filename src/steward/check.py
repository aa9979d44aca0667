"""`steward check`: every file of a registry snapshot, then the rules across files.

Everything is collected before anything is reported, and every cross-file rule is a dictionary
lookup, so the whole check is linear in the number of files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from steward import classification, layout
from steward.codeowners import CODEOWNERS_PATH, render_codeowners
from steward.dvcfile import DvcPointer
from steward.entries import DatasetEntry, ModelEntry, VersionEntry
from steward.jsonschemas import SCHEMA_MODELS, shipped_schema_text
from steward.layout import Kind, Misplaced, Place
from steward.policy.spec import (
    Policy,
    TeamExtension,
    compile_team_schemas,
    policy_problems,
    schema_violations,
    team_problems,
)
from steward.problems import Problem, problem_at, sorted_problems
from steward.tree import FileType, Snapshot, TreeFile
from steward.validate import Parsed, parse_file
from steward.yamlio import MAX_FILE_BYTES, Loc, too_large


@dataclass
class CheckReport:
    source: str
    problems: list[Problem]
    counts: dict[str, int]

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


@dataclass
class _Registry:
    """What the files of a snapshot parsed into, keyed the way cross-file rules look them up."""

    models: dict[str, Parsed] = field(default_factory=dict)
    versions: dict[tuple[str, str], Parsed] = field(default_factory=dict)
    pointers: dict[tuple[str, str], Parsed] = field(default_factory=dict)
    datasets: dict[str, Parsed] = field(default_factory=dict)
    teams: dict[str, Parsed] = field(default_factory=dict)
    policy: Parsed | None = None
    model_dirs: set[str] = field(default_factory=set)

    def add(self, place: Place, parsed: Parsed) -> None:
        if place.kind is Kind.MODEL:
            assert place.model is not None
            self.models[place.model] = parsed
        elif place.kind in (Kind.VERSION, Kind.POINTER):
            assert place.model is not None and place.version is not None
            target = self.versions if place.kind is Kind.VERSION else self.pointers
            target[(place.model, place.version)] = parsed
            self.model_dirs.add(place.model)
        elif place.kind is Kind.DATASET:
            assert place.name is not None
            self.datasets[place.name] = parsed
        elif place.kind is Kind.TEAM:
            assert place.name is not None
            self.teams[place.name] = parsed
        elif place.kind is Kind.POLICY:
            self.policy = parsed


def check_snapshot(snapshot: Snapshot) -> CheckReport:
    files = snapshot.files()
    problems: list[Problem] = list(_case_collisions(files))
    registry = _Registry()
    try:
        for file in files:
            problems.extend(_read_file(snapshot, file, registry))
        problems.extend(_codeowners_rule(snapshot, registry))
    finally:
        snapshot.close()
    problems.extend(_path_agreement(registry))
    problems.extend(_pointer_rules(registry))
    problems.extend(_lineage_rules(registry))
    problems.extend(_classification_rule(registry))
    problems.extend(_policy_rules(registry))
    problems.extend(_team_rules(registry))
    counts = {
        "files": len(files),
        "models": len(registry.models),
        "versions": len(registry.versions),
        "datasets": len(registry.datasets),
        "teams": len(registry.teams),
    }
    return CheckReport(snapshot.label, sorted_problems(problems), counts)


def _case_collisions(files: list[TreeFile]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for file in files:
        key = file.path.casefold()
        if key in seen:
            problems.append(
                Problem(
                    file.path,
                    None,
                    "",
                    f"differs from {seen[key]} only by case; they are the same file on "
                    "case-insensitive file systems",
                )
            )
        else:
            seen[key] = file.path
    return problems


def _read_file(snapshot: Snapshot, file: TreeFile, registry: _Registry) -> list[Problem]:
    if file.type is FileType.SYMLINK:
        return [Problem(file.path, None, "", "symbolic links are not allowed in a registry")]
    if file.type is not FileType.REGULAR:
        return [Problem(file.path, None, "", f"not a regular file ({file.type.value})")]
    try:
        place = layout.classify(file.path)
    except Misplaced as exc:
        return [Problem(file.path, None, "", str(exc))]
    if place.kind is Kind.NEUTRAL:
        return []
    if file.size > MAX_FILE_BYTES:
        return [Problem(file.path, None, "", too_large(file.size))]
    raw = snapshot.read(file)
    if place.kind is Kind.SCHEMA:
        return _schema_copy_problems(file.path, place, raw)
    parsed = parse_file(place.kind, raw, file.path)
    registry.add(place, parsed)
    return parsed.problems


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


def _valid(parsed: Parsed | None) -> Any:
    return parsed.entry if parsed is not None else None


def _path_agreement(registry: _Registry) -> list[Problem]:
    problems = []

    def disagree(parsed: Parsed, loc: Loc, value: str, expected: str, where: str) -> None:
        if value != expected:
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    loc,
                    f"'{value}' does not match the {where} '{expected}' in the file's path",
                )
            )

    for name, parsed in registry.models.items():
        if (entry := _valid(parsed)) is not None:
            disagree(parsed, ("name",), entry.name, name, "model directory")
    for (model, version), parsed in registry.versions.items():
        if (entry := _valid(parsed)) is not None:
            disagree(parsed, ("model",), entry.model, model, "model directory")
            disagree(parsed, ("version",), entry.version, version, "file name")
    for name, parsed in registry.datasets.items():
        if (entry := _valid(parsed)) is not None:
            disagree(parsed, ("name",), entry.name, name, "file name")
    for name, parsed in registry.teams.items():
        if (entry := _valid(parsed)) is not None:
            disagree(parsed, ("team",), entry.team, name, "file name")
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
    for key, parsed in registry.versions.items():
        entry: VersionEntry | None = _valid(parsed)
        if entry is None:
            continue
        model, version = key
        pointer_name = f"{version}.dvc"
        if entry.artifact.dvc != pointer_name:
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    ("artifact", "dvc"),
                    f"must be '{pointer_name}', the pointer beside this entry",
                )
            )
        pointer_parsed = registry.pointers.get(key)
        if pointer_parsed is None:
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    ("artifact", "dvc"),
                    f"the DVC pointer {layout.pointer_path(model, version)} is missing",
                )
            )
            continue
        pointer: DvcPointer | None = _valid(pointer_parsed)
        if pointer is not None:
            problems.extend(_compare_pointer(version, parsed, entry, pointer_parsed, pointer))
    for key, pointer_parsed in registry.pointers.items():
        if key not in registry.versions:
            problems.append(
                Problem(
                    pointer_parsed.path,
                    None,
                    "",
                    f"no version entry {layout.version_path(*key)} for this DVC pointer",
                )
            )
    return problems


def _compare_pointer(
    version: str, parsed: Parsed, entry: VersionEntry, pointer_parsed: Parsed, pointer: DvcPointer
) -> list[Problem]:
    out = pointer.outs[0]
    problems = []
    if out.path != version:
        problems.append(
            problem_at(
                pointer_parsed.path,
                pointer_parsed.loaded,
                ("outs", 0, "path"),
                f"points at '{out.path}', not at the version's directory '{version}'",
            )
        )
    facts: list[tuple[Loc, object, object, str]] = [
        (("artifact", "md5"), entry.artifact.md5, out.md5, "md5"),
        (("artifact", "size"), entry.artifact.size, out.size, "size"),
    ]
    if out.md5.endswith(".dir"):
        facts.append((("artifact", "files"), len(entry.artifact.files), out.nfiles, "nfiles"))
    for loc, ours, theirs, name in facts:
        if theirs is not None and ours != theirs:
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    loc,
                    f"{ours!r} does not match {name} {theirs!r} in the DVC pointer "
                    f"{pointer_parsed.path}",
                )
            )
    return problems


def _lineage_rules(registry: _Registry) -> list[Problem]:
    problems = []
    for parsed in registry.versions.values():
        entry: VersionEntry | None = _valid(parsed)
        if entry is None:
            continue
        tombstone = entry.retired_at is not None and entry.retired_reason is not None
        if (entry.stage == "retired") != tombstone or (
            entry.stage != "retired" and (entry.retired_at or entry.retired_reason)
        ):
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    ("stage",),
                    "a retired version has retired_at and retired_reason, and only a retired one",
                )
            )
        for i, ref in enumerate(entry.training.datasets):
            if ref.id not in registry.datasets:
                problems.append(
                    problem_at(
                        parsed.path,
                        parsed.loaded,
                        ("training", "datasets", i, "id"),
                        f"dataset '{ref.id}' is not in the registry "
                        f"({layout.dataset_path(ref.id)} does not exist)",
                    )
                )
                continue
            dataset: DatasetEntry | None = _valid(registry.datasets[ref.id])
            for column in classification.unknown_columns(ref, dataset) if dataset else []:
                problems.append(
                    problem_at(
                        parsed.path,
                        parsed.loaded,
                        ("training", "datasets", i, "columns", ref.columns.index(column)),
                        f"column '{column}' is not a column of dataset '{ref.id}' "
                        f"({layout.dataset_path(ref.id)} columns)",
                    )
                )
    return problems


def _classification_rule(registry: _Registry) -> list[Problem]:
    """A model's declared classification covers what every version still holding an artifact
    (all but `retired`) inherits from its data. One problem per model and missing label."""
    policy: Policy | None = _valid(registry.policy)
    levels = policy.classification_levels if policy is not None else []
    datasets: dict[str, DatasetEntry] = {
        name: dataset
        for name, parsed in registry.datasets.items()
        if (dataset := _valid(parsed)) is not None
    }
    first_source: dict[tuple[str, str], tuple[str, classification.Inherited]] = {}
    for (model, version), parsed in sorted(registry.versions.items()):
        entry: VersionEntry | None = _valid(parsed)
        if entry is None or entry.stage == "retired":
            continue
        for found in classification.inherited(entry.training.datasets, datasets):
            first_source.setdefault((model, found.label), (version, found))
    by_model: dict[str, list[str]] = defaultdict(list)
    for model, label in first_source:
        by_model[model].append(label)
    problems = []
    for model, inherited_labels in sorted(by_model.items()):
        parsed_model = registry.models.get(model)
        model_entry: ModelEntry | None = _valid(parsed_model)
        if parsed_model is None or model_entry is None:
            continue
        for label in classification.uncovered(model_entry.classification, inherited_labels, levels):
            version, found = first_source[(model, label)]
            declared = ", ".join(model_entry.classification) or "nothing"
            problems.append(
                problem_at(
                    parsed_model.path,
                    parsed_model.loaded,
                    ("classification",),
                    f"declares {declared}, lower than the '{label}' that version {version} "
                    f"inherits from {found.source}: add '{label}' to classification",
                )
            )
    return problems


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
    problems = [
        problem_at(parsed.path, parsed.loaded, loc, message)
        for loc, message in policy_problems(policy)
    ]
    problems.extend(_single_stage_rule(registry, policy))
    return problems


def _single_stage_rule(registry: _Registry, policy: Policy) -> list[Problem]:
    single = policy.single_stages()
    holders: dict[tuple[str, str], list[Parsed]] = defaultdict(list)
    for (model, _version), parsed in registry.versions.items():
        entry: VersionEntry | None = _valid(parsed)
        if entry is not None and entry.stage in single:
            holders[(model, entry.stage)].append(parsed)
    problems = []
    for (model, stage), parsed_list in holders.items():
        if len(parsed_list) < 2:
            continue
        versions = ", ".join(sorted(p.entry.version for p in parsed_list))
        for parsed in parsed_list:
            problems.append(
                problem_at(
                    parsed.path,
                    parsed.loaded,
                    ("stage",),
                    f"{stage} holds one version per model (policies/registry.yaml stages.{stage}"
                    f".single), but {model} has {len(parsed_list)} there: {versions}",
                )
            )
    return problems


def _codeowners_rule(snapshot: Snapshot, registry: _Registry) -> list[Problem]:
    """A CODEOWNERS file, where there is one, must be what `steward codeowners` writes now."""
    existing = snapshot.read_path(CODEOWNERS_PATH)
    policy: Policy | None = _valid(registry.policy)
    if existing is None or policy is None:
        return []
    models = {name: parsed.entry for name, parsed in registry.models.items()}
    if any(entry is None for entry in models.values()):
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


def _team_rules(registry: _Registry) -> list[Problem]:
    policy: Policy | None = _valid(registry.policy)
    problems: list[Problem] = []
    validators: dict[str, dict[str, Draft202012Validator]] = {}
    for name, parsed in registry.teams.items():
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
    for model_name, parsed in registry.models.items():
        entry: ModelEntry | None = _valid(parsed)
        if entry is not None:
            team_of_model[model_name] = entry.team
            problems.extend(_team_schema_problems(parsed, validators, entry.team, "model"))
    for (model_name, _version), parsed in registry.versions.items():
        if parsed.entry is not None and model_name in team_of_model:
            team_name = team_of_model[model_name]
            problems.extend(_team_schema_problems(parsed, validators, team_name, "version"))
    return problems


def _team_schema_problems(
    parsed: Parsed, validators: dict[str, dict[str, Draft202012Validator]], team: str, kind: str
) -> list[Problem]:
    validator = validators.get(team, {}).get(kind)
    if validator is None or parsed.loaded is None:
        return []
    return [
        problem_at(parsed.path, parsed.loaded, loc, message)
        for loc, message in schema_violations(validator, parsed.loaded.data, team)
    ]
