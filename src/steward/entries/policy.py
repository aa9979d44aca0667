"""The policy files as strict models: `policies/registry.yaml` and `policies/teams/<team>.yaml`.

Cross-field rules that pydantic cannot place on a field (a role used but never defined, a team
transition the central policy does not allow) are in `policy_problems` / `team_problems`, which
return each problem with the field path it belongs to.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Container, Iterator
from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import Field, JsonValue, field_validator

from steward.entries.models import CardSection, RiskClass, Stage, StrictModel, Text
from steward.entries.name_types import MetricName, Name, ObjectId, Principal
from steward.entries.yamlio import Loc

DEFAULT_PROTECTED_PATHS = ["policies/", ".github/", ".dvc/", "src/"]
# Outside registry/ everything is governed unless `governance.ungoverned` lists it; these never
# may be listed: the judge's rules, workflows and data remote, Steward's own files, and what git
# applies to every checkout (attributes can re-encode registry/; ignore files hide files; a
# submodule brings code from elsewhere).
ALWAYS_GOVERNED = (
    "policies/",
    ".github/",
    ".dvc/",
    ".steward/",
    ".gitattributes",
    ".gitignore",
    ".dvcignore",
    ".gitmodules",
)
REGISTRY_PREFIX = "registry/"


class MetricGate(StrictModel):
    """Thresholds on one offline metric of the version being promoted."""

    min: float | None = None
    max: float | None = None
    higher_is_better: bool = True
    max_regression: Annotated[float, Field(ge=0)] | None = Field(
        default=None,
        description="no worse than the current holder of the target stage by more than this",
    )


class Gates(StrictModel):
    metrics: dict[MetricName, MetricGate] = {}
    model_card: list[CardSection] = []
    artifact_available: bool = False


class Condition(StrictModel):
    """When an approval is needed: any listed risk class, or any inherited classification."""

    risk: list[RiskClass] | None = None
    classification: list[Name] | None = None


class Approval(StrictModel):
    role: Name
    count: Annotated[int, Field(ge=1)] = 1
    when: Condition | None = None


class Transition(StrictModel):
    from_: Stage = Field(alias="from")
    to: Stage
    gates: Gates = Gates()
    approvals: list[Approval] = []


class StageRule(StrictModel):
    single: bool = Field(
        default=False, description="at most one version of a model may hold this stage"
    )


class Governance(StrictModel):
    """Changes to the judge itself need these approvals: every path outside registry/ (the
    policies, workflows, hook code, .gitattributes, ...) unless `ungoverned` lists it, the
    `paths` named here wherever they are, and edits that decide who approves what."""

    paths: list[Text] = Field(default=DEFAULT_PROTECTED_PATHS, min_length=1)
    ungoverned: list[Text] = Field(
        default=[],
        description="paths outside registry/ that change without governance approval: a file "
        "('README.md') or a directory ending in '/' ('docs/'); everything else outside "
        "registry/ is governed",
    )
    approvals: list[Approval] = Field(min_length=1)


HookEvent = Literal["registered", "development", "staging", "production", "archived", "retired"]


class Hook(StrictModel):
    """What deployment runs after a merge (`steward apply`): a command, a repository_dispatch
    event, or both, for registrations and stage assignments. A failed delivery is retried."""

    name: Name
    on: list[HookEvent] = Field(min_length=1)
    run: list[Text] | None = Field(
        default=None, min_length=1, description="argv; the event is in STEWARD_* env and on stdin"
    )
    dispatch: Name | None = Field(
        default=None, description="repository_dispatch event type, e.g. steward-promotion"
    )


class Threshold(StrictModel):
    min: float | None = None
    max: float | None = None


class Monitoring(StrictModel):
    """`steward monitor`: how production metrics are kept and judged."""

    keep: Annotated[int, Field(ge=1, le=10_000)] = 100
    commit: Literal["direct", "proposal"] = "proposal"
    thresholds: dict[MetricName, Threshold] = {}
    on_breach: Literal["rollback", "alert"] = "alert"


class Retention(StrictModel):
    """`steward gc`: which versions retire, and when unused development versions are archived."""

    keep_archived: Annotated[int, Field(ge=0)] | None = None
    archive_after_days: Annotated[int, Field(ge=1)] | None = None


class RollbackRule(StrictModel):
    """A proposal that gives a stage back to a version that held it before needs these approvals
    instead of its transitions' (fewer, perhaps, but never none)."""

    approvals: list[Approval] = Field(min_length=1)


CENTRAL_DEFAULT_PATH = "policies/central.yaml"


class CentralPin(StrictModel):
    """The central policy this registry's policy builds on, pinned to one commit of the central
    governance repository. The effective policy is the central one plus this file, which may
    add to it and never weaken it; the gate reads the central file at exactly this commit."""

    repo: Text = Field(description="what `git fetch` reaches the central repository by")
    commit: ObjectId
    path: Text = CENTRAL_DEFAULT_PATH
    blob: ObjectId | None = Field(
        default=None,
        description="the file's blob id at that commit: the copy vendored at "
        "policies/central.yaml serves offline when its blob id is this one",
    )

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        parts = value.split("/")
        if value.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"'{value}' is not a relative path inside the central repository")
        return value

    def describe(self) -> str:
        return f"{self.repo}@{self.commit[:12]}:{self.path}"


class Policy(StrictModel):
    """`policies/registry.yaml`."""

    central: CentralPin | None = None
    roles: dict[Name, list[Principal]]
    create_models: list[Name] = []
    register_versions: list[Name] = []
    stages: dict[Stage, StageRule] = {}
    transitions: list[Transition] = []
    governance: Governance
    rollback: RollbackRule | None = None
    hooks: list[Hook] = []
    monitoring: Monitoring | None = None
    retention: Retention | None = None
    classification_levels: list[Name] = Field(
        default=[],
        description="ordered levels, lowest first (e.g. public, internal, confidential, "
        "restricted): a model that declares a level covers every lower one",
    )

    def single_stages(self) -> set[str]:
        return {stage for stage, rule in self.stages.items() if rule.single}


class TeamSchemas(StrictModel):
    model: dict[str, JsonValue] | None = Field(
        default=None, description="JSON Schema that the team's model.yaml files must also meet"
    )
    version: dict[str, JsonValue] | None = Field(
        default=None, description="JSON Schema that the team's version files must also meet"
    )


class TeamExtension(StrictModel):
    """`policies/teams/<team>.yaml`: a team's extra requirements. It can only add, never relax."""

    team: Name
    description: Text | None = None
    schemas: TeamSchemas = TeamSchemas()
    transitions: list[Transition] = []


def _role_uses(policy: Policy) -> Iterator[tuple[Loc, str]]:
    for i, role in enumerate(policy.create_models):
        yield ("create_models", i), role
    for i, role in enumerate(policy.register_versions):
        yield ("register_versions", i), role
    for t, transition in enumerate(policy.transitions):
        for a, approval in enumerate(transition.approvals):
            yield ("transitions", t, "approvals", a, "role"), approval.role
    for a, approval in enumerate(policy.governance.approvals):
        yield ("governance", "approvals", a, "role"), approval.role


def _transition_problems(transitions: list[Transition]) -> Iterator[tuple[Loc, str]]:
    seen: dict[tuple[str, str], int] = {}
    for t, transition in enumerate(transitions):
        pair = (transition.from_, transition.to)
        if transition.from_ == transition.to:
            yield (
                ("transitions", t),
                f"a transition from {transition.from_} to itself is not a transition",
            )
        if pair in seen:
            yield (
                ("transitions", t),
                (f"{pair[0]} -> {pair[1]} is already defined at transitions[{seen[pair]}]"),
            )
        seen.setdefault(pair, t)
        for metric, gate in transition.gates.metrics.items():
            if gate.min is not None and gate.max is not None and gate.min > gate.max:
                yield (
                    ("transitions", t, "gates", "metrics", metric),
                    (f"min {gate.min} is greater than max {gate.max}: no version could pass"),
                )


_MAKE = ("make", "gmake")
_MAKEFILES = ("GNUmakefile", "makefile", "Makefile")


def _words(arg: str) -> list[str]:
    """An argument's words: `sh -c "python3 deploy/rollout.py"` runs what its string names."""
    if not any(char.isspace() for char in arg):
        return [arg]
    try:
        return shlex.split(arg)
    except ValueError:
        return arg.split()


def hook_scripts(policy: Policy) -> list[str]:
    """Repository paths the policy's hooks may run or load: every word of a command that could
    be a relative path (`./deploy/rollout.sh` -> `deploy/rollout.sh`, `rollout.py`), the file
    and package of a `-m` module, and the makefiles `make` reads. What runs with deployment's
    rights is as much the judge's as the policy itself; a word that names no file costs
    nothing."""
    found: dict[str, None] = {}
    for hook in policy.hooks:
        words = [word for arg in hook.run or [] for word in _words(arg)]
        for i, word in enumerate(words):
            if word.startswith("-"):
                continue
            candidates = [word.removeprefix("./")]
            if i > 0 and words[i - 1] == "-m":  # python -m package.module
                parts = word.split(".")
                candidates = ["/".join(parts) + ".py", parts[0] + "/"]
            for path in candidates:
                if path and not path.startswith("/") and ".." not in path.split("/"):
                    found.setdefault(path, None)
        if words and words[0].rpartition("/")[2] in _MAKE:
            for name in _MAKEFILES:
                found.setdefault(name, None)
    return list(found)


def _covers(entry: str, path: str) -> bool:
    """Whether an `ungoverned` entry (a file, or a directory ending in '/') covers `path`,
    ignoring case: on a case-insensitive file system `Deploy/` and `deploy/` are one."""
    entry, path = entry.casefold(), path.casefold()
    return path.startswith(entry) if entry.endswith("/") else path == entry


def is_governed(policy: Policy, path: str) -> bool:
    """Whether changing `path` needs the governance approvals: under registry/ only what
    `governance.paths` names there; elsewhere everything the policy does not leave ungoverned."""
    folded = path.casefold()
    if folded.startswith(tuple(p.casefold() for p in policy.governance.paths)):
        return True
    if any(_covers(script, path) for script in hook_scripts(policy)):
        return True
    if path.startswith(REGISTRY_PREFIX):
        return False
    return not any(_covers(entry, path) for entry in policy.governance.ungoverned)


_PLAIN_PATH = re.compile(r"[A-Za-z0-9._/-]+")


def _overlaps(entry: str, governed: str) -> bool:
    """Whether leaving `entry` ungoverned would leave (part of) `governed` ungoverned."""
    return _covers(entry, governed) or _covers(governed, entry)


def _ungoverned_problems(policy: Policy) -> Iterator[tuple[Loc, str]]:
    hooks = hook_scripts(policy)
    # A hook's script can load whatever lies beside it: its directory is the judge's too.
    hook_dirs = [
        script.rstrip("/").rpartition("/")[0] + "/" for script in hooks if "/" in script.rstrip("/")
    ]
    judged = [
        (path, "Steward governs it always") for path in (*ALWAYS_GOVERNED, *policy.governance.paths)
    ]
    judged += [(path, "hook code is the judge's") for path in (*hooks, *hook_dirs)]
    for i, entry in enumerate(policy.governance.ungoverned):
        loc: Loc = ("governance", "ungoverned", i)
        parts = entry.rstrip("/").split("/")
        if (
            not entry.strip("/")
            or entry.startswith("/")
            or any(p in ("", ".", "..") for p in parts)
        ):
            yield loc, f"'{entry}' is not a relative path such as README.md or docs/"
            continue
        if not _PLAIN_PATH.fullmatch(entry):
            yield (
                loc,
                (
                    f"'{entry}': letters, digits, '.', '_', '-' and '/' only (it is also a "
                    "CODEOWNERS pattern, where other characters have meanings)"
                ),
            )
            continue
        if entry.startswith(REGISTRY_PREFIX) or REGISTRY_PREFIX.startswith(entry):
            yield loc, f"'{entry}': registry/ is judged by its own rules, not left ungoverned"
            continue
        for path, why in judged:
            if _overlaps(entry, path):
                yield loc, f"'{entry}' would leave {path} ungoverned: {why}"
                break


def policy_problems(policy: Policy, roles: Container[str] | None = None) -> list[tuple[Loc, str]]:
    """Rules across fields of `policies/registry.yaml`. `roles`: every role defined, when the
    file builds on a central policy that defines some."""
    defined = policy.roles if roles is None else roles
    problems = [
        (loc, f"role '{role}' is not defined under roles")
        for loc, role in _role_uses(policy)
        if role not in defined
    ]
    problems.extend(_transition_problems(policy.transitions))
    problems.extend(_ungoverned_problems(policy))
    seen_levels: set[str] = set()
    for i, level in enumerate(policy.classification_levels):
        if level in seen_levels:
            problems.append((("classification_levels", i), f"level '{level}' is listed twice"))
        seen_levels.add(level)
    return problems


_UNSUPPORTED_KEYWORDS = ("$dynamicRef", "$recursiveRef", "$id", "$anchor", "$dynamicAnchor")


def _reference_problems(fragment: Any, root: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """References must point inside the fragment (`#` or `#/json/pointer`) at something there."""
    if isinstance(fragment, dict):
        for key, value in fragment.items():
            if key in _UNSUPPORTED_KEYWORDS:
                yield (*loc, key), f"{key} is not supported in a team schema; use $ref to #/$defs"
            elif key == "$ref":
                problem = _dangling(value, root)
                if problem is not None:
                    yield (*loc, key), problem
            yield from _reference_problems(value, root, (*loc, key))
    elif isinstance(fragment, list):
        for i, value in enumerate(fragment):
            yield from _reference_problems(value, root, (*loc, i))


def _dangling(reference: object, root: Any) -> str | None:
    if not isinstance(reference, str) or not (reference == "#" or reference.startswith("#/")):
        return f"only local references (# or #/...) are allowed, not {reference!r}"
    target = root
    for token in reference[2:].split("/") if reference != "#" else []:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            return f"{reference} points at nothing in this schema"
    return None


def team_problems(team: TeamExtension, policy: Policy | None) -> list[tuple[Loc, str]]:
    """Rules on a team extension: valid JSON Schemas, and only transitions the policy allows."""
    problems: list[tuple[Loc, str]] = []
    for kind in ("model", "version"):
        fragment = getattr(team.schemas, kind)
        if fragment is None:
            continue
        loc: Loc = ("schemas", kind)
        references = list(_reference_problems(fragment, fragment, loc))
        problems.extend(references)
        if references:
            continue
        try:
            Draft202012Validator.check_schema(fragment)
        except SchemaError as exc:
            problems.append(((*loc, *exc.path), f"not a valid JSON Schema: {exc.message}"))
    problems.extend(_transition_problems(team.transitions))
    if policy is not None:
        allowed = {(t.from_, t.to) for t in policy.transitions}
        for t, transition in enumerate(team.transitions):
            if (transition.from_, transition.to) not in allowed:
                problems.append(
                    (
                        ("transitions", t),
                        f"{transition.from_} -> {transition.to} is not a transition of "
                        "policies/registry.yaml; a team can only add gates and approvals to "
                        "transitions the central policy allows",
                    )
                )
            for a, approval in enumerate(transition.approvals):
                if approval.role not in policy.roles:
                    problems.append(
                        (
                            ("transitions", t, "approvals", a, "role"),
                            f"role '{approval.role}' is not defined in policies/registry.yaml",
                        )
                    )
    return problems


def transition_rules(
    policy: Policy, teams: dict[str, TeamExtension], team: str | None, pair: tuple[str, str]
) -> tuple[Transition | None, list[Transition]]:
    """The central policy's transition for `pair` (None if it has none: the change is not
    allowed), and what the model's team extension adds to it."""
    central = next((t for t in policy.transitions if (t.from_, t.to) == pair), None)
    extension = teams.get(team) if team else None
    extra = [t for t in extension.transitions if (t.from_, t.to) == pair] if extension else []
    return central, extra


def compile_team_schemas(team: TeamExtension) -> dict[str, Draft202012Validator]:
    """The team's JSON Schemas by entry kind ('model', 'version'), ready to validate entries."""
    return {
        kind: Draft202012Validator(fragment)
        for kind in ("model", "version")
        if (fragment := getattr(team.schemas, kind)) is not None
    }


def schema_violations(
    validator: Draft202012Validator, data: Any, team: str
) -> list[tuple[Loc, str]]:
    """Where `data` fails a team's schema, as (field path, message naming the team's file).

    A schema that cannot be evaluated (it refers to itself without end, say) is a violation
    too: the check fails closed rather than crashing or passing."""
    where = f"policies/teams/{team}.yaml"
    try:
        return [
            (tuple(error.absolute_path), f"{error.message} (required by {where})")
            for error in validator.iter_errors(data)
        ]
    except RecursionError:
        return [((), f"the schema in {where} refers to itself without end: it cannot be applied")]
    except Exception as exc:  # jsonschema raises many kinds for a schema it cannot use
        return [((), f"the schema in {where} could not be applied: {type(exc).__name__}: {exc}")]
