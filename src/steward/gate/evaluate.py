"""The gate's decision: a pure function of (change set, base policy, facts, evidence) -> Verdict.

No I/O happens here. The caller (`steward.gate.judge`) reads the trees, the forge and the DVC remote
and passes what it found, including what it could *not* find: evidence that is missing makes the
rules that need it fail, never pass (fail closed).

Every rule gives one line: passed, failed or not applicable, and why.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

from steward.entries.policy import (
    Approval,
    Gates,
    MetricGate,
    Policy,
    TeamExtension,
    is_governed,
    transition_rules,
)
from steward.entries.problems import Problem
from steward.forge.protocol import Review, TeamResolver
from steward.gate.reviews import CountedApproval, Standing, not_counted, standing
from steward.gitio.changes import ChangeSet, StageChange

RuleStatus = Literal["passed", "failed", "not applicable"]


@dataclass(frozen=True)
class ModelFacts:
    """What the policy needs to know about a model (risk: the higher of base and head)."""

    name: str
    owner: str
    team: str
    risk: str
    data_steward: str | None
    filled_card_sections: frozenset[str]
    # Every risk class the model has at base or head: a `when: {risk: ...}` condition holds if
    # any of them is listed, so changing the class in a proposal cannot dodge an approval.
    risks: frozenset[str] = frozenset()


@dataclass(frozen=True)
class VersionFacts:
    model: str
    version: str
    stage: str
    metrics: dict[str, float]
    classifications: frozenset[str]  # inherited from its datasets and their columns


@dataclass(frozen=True)
class ArtifactCheck:
    """What the remote said about one version's objects: missing paths, or why it could not say."""

    missing: tuple[str, ...] = ()
    error: str | None = None


@dataclass
class Evidence:
    """What the forge and the remote said. `None`/errors mean the evidence could not be read."""

    author: str | None
    head_sha: str | None
    reviews: list[Review] | None
    reviews_error: str | None = None
    artifacts: dict[tuple[str, str], ArtifactCheck] = field(default_factory=dict)
    # Resolves `@org/team` principals; raises to say it cannot (the gate then fails closed).
    teams: TeamResolver | None = None
    not_reviewers: tuple[str, ...] = ()  # besides the author: see Proposal.not_reviewers


@dataclass(frozen=True)
class PinChange:
    """How a proposal moves the central pin of `policies/registry.yaml`."""

    what: str
    needs_central_approval: bool  # moving or removing a pin the base has; not adding one
    problem: str | None  # why the new pin cannot be trusted (not fetched, not the pinned file)


@dataclass
class GateInput:
    changes: ChangeSet
    policy: Policy | None  # None: the base policy could not be read
    policy_error: str | None
    teams: dict[str, TeamExtension]
    models: dict[str, ModelFacts]  # every model the change touches
    versions: dict[tuple[str, str], VersionFacts]  # head facts of versions whose stage moves
    # The base's holder of (model, stage); for an empty stage, the version that held it last.
    holders: dict[tuple[str, str], VersionFacts]
    head_stage_counts: dict[tuple[str, str], list[str]]  # (model, single stage) -> versions at head
    new_problems: list[Problem]
    dataset_owners: dict[str, str] = field(default_factory=dict)  # base owner, else head owner
    # (model, version) whose stage change gives back a stage the version held on the base before
    rollbacks: set[tuple[str, str]] = field(default_factory=set)
    alerts: list[str] = field(default_factory=list)  # monitoring breaches of the touched models
    base_tip: str = ""  # the base branch's commit: the judge's side
    # The central policy the base pins (its own roles), and how the change moves that pin.
    central: Policy | None = None
    pin_change: PinChange | None = None
    head: str = ""  # the proposal's head commit (the change set ends at the tree that lands)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    status: RuleStatus
    reason: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class MissingApproval:
    subject: str  # the transition, or "governance"
    role: str
    needed: int
    have: int
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class MetricDelta:
    model: str
    version: str
    stage: str
    metric: str
    value: float | None
    holder: str | None
    holder_value: float | None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.holder_value is None:
            return None
        return self.value - self.holder_value


@dataclass(frozen=True)
class Verdict:
    rules: tuple[RuleResult, ...]
    missing_approvals: tuple[MissingApproval, ...]
    deltas: tuple[MetricDelta, ...]
    approvers: tuple[str, ...]
    base: str
    head: str
    author: str | None
    alerts: tuple[str, ...] = ()
    # The tree that merging `head` into `base` lands: what was judged (the change set is the
    # difference between the base's tree and it).
    tree: str = ""
    # Each approval that satisfied a rule, with the role it counted for (`approvers` are their
    # logins); and approvals given that counted for nothing, with why.
    approvals: tuple[CountedApproval, ...] = ()
    not_counted: tuple[tuple[str, str], ...] = ()
    blocked_by: tuple[str, ...] = ()  # whose request for changes blocks a role the change needs

    @property
    def passed(self) -> bool:
        return all(rule.status != "failed" for rule in self.rules)

    @property
    def failed_rules(self) -> list[RuleResult]:
        return [rule for rule in self.rules if rule.status == "failed"]

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "base": self.base,
            "head": self.head,
            "tree": self.tree,
            "author": self.author,
            "approvers": list(self.approvers),
            "approvals": [asdict(approval) for approval in self.approvals],
            "not_counted": [{"login": login, "why": why} for login, why in self.not_counted],
            "blocked_by": list(self.blocked_by),
            "alerts": list(self.alerts),
            "rules": [asdict(rule) for rule in self.rules],
            "missing_approvals": [asdict(m) for m in self.missing_approvals],
            "metric_deltas": [{**asdict(d), "delta": d.delta} for d in self.deltas],
            "digest": self.digest(),
        }

    def digest(self) -> str:
        """A short fingerprint of the decision, for the records a merge leaves."""
        core = {
            "passed": self.passed,
            "base": self.base,
            "head": self.head,
            "tree": self.tree,
            "rules": [asdict(rule) for rule in self.rules],
        }
        return hashlib.sha256(json.dumps(core, sort_keys=True).encode()).hexdigest()[:16]


# --- helpers ------------------------------------------------------------------------------


def _transition_name(change: StageChange) -> str:
    return f"{change.model} {change.version} {change.from_stage} -> {change.to_stage}"


class _Roles:
    """Role membership from the base policy; teams resolved on demand, failures remembered."""

    def __init__(self, policy: Policy, teams: TeamResolver | None) -> None:
        self.policy = policy
        self.teams = teams

    def holders_among(self, role: str, logins: Iterable[str]) -> tuple[set[str], list[str]]:
        """Which of `logins` hold `role` (a team counts only its *active* members), and the
        teams that could not be asked."""
        principals = self.policy.roles.get(role, [])
        plain = {p.casefold() for p in principals if not p.startswith("@")}
        teams = [p for p in principals if p.startswith("@")]
        holders = {login for login in logins if login.casefold() in plain}
        unresolved: list[str] = []
        for team in teams:
            for login in set(logins) - holders:
                if self.teams is None:
                    unresolved.append(f"{team} (this forge cannot resolve teams)")
                    break
                try:
                    if self.teams.is_active_member(team, login):
                        holders.add(login)
                except Exception as exc:  # any failure to read a team is missing evidence
                    unresolved.append(f"{team} ({exc})")
                    break
        return holders, unresolved

    def candidates(self, role: str) -> set[str]:
        """Everyone known to hold `role`, for telling who could still approve (best effort)."""
        found: set[str] = set()
        for principal in self.policy.roles.get(role, []):
            if not principal.startswith("@"):
                found.add(principal)
            elif self.teams is not None:
                try:
                    found |= self.teams.members(principal)
                except Exception:  # a hint only: the approval count itself fails closed
                    found.add(principal)
            else:
                found.add(principal)
        return found

    def holds(self, login: str | None, roles: Iterable[str]) -> tuple[bool, list[str]]:
        if login is None:
            return False, []
        problems: list[str] = []
        for role in roles:
            holders, unresolved = self.holders_among(role, [login])
            if holders:
                return True, []
            problems.extend(unresolved)
        return False, problems


def _condition_applies(
    approval: Approval, model: ModelFacts | None, facts: VersionFacts | None
) -> bool:
    when = approval.when
    if when is None:
        return True
    if (
        when.risk is not None
        and model is not None
        and (model.risks | {model.risk}) & set(when.risk)
    ):
        return True
    return bool(
        when.classification is not None
        and facts is not None
        and facts.classifications & set(when.classification)
    )


# --- the rules ----------------------------------------------------------------------------


def evaluate(data: GateInput, evidence: Evidence) -> Verdict:
    changes = data.changes
    rules: list[RuleResult] = []
    missing: list[MissingApproval] = []
    deltas: list[MetricDelta] = []
    reviews = Standing()
    counted: list[CountedApproval] = []

    if not changes.files:
        rules.append(RuleResult("changes", "failed", "the head adds nothing to the base"))
    rules.append(_entries_valid(data))
    rules.append(_immutable(changes))
    policy = data.policy
    if policy is None:
        rules.append(
            RuleResult(
                "policy", "failed", f"the base policy could not be read: {data.policy_error}"
            )
        )
        return Verdict(
            tuple(rules),
            (),
            (),
            (),
            data.base_tip or changes.base,
            data.head or changes.head,
            evidence.author,
            tuple(data.alerts),
            changes.head,
        )

    roles = _Roles(policy, evidence.teams)
    if evidence.reviews is not None and evidence.head_sha is not None:
        reviews = standing(
            evidence.reviews, evidence.head_sha, evidence.author, evidence.not_reviewers
        )
    tally = _Tally(roles, reviews, evidence, counted)
    rules.append(_transitions_allowed(data, policy))
    rules.append(_single_stage(data, policy))
    for change in changes.stage_changes:
        gate_rule, change_deltas = _gates(data, policy, change, evidence)
        rules.append(gate_rule)
        deltas.extend(change_deltas)
    rules.append(_registry_access(changes, policy, roles, evidence))
    rules.append(_model_access(data, policy, roles, evidence))
    rules.append(_dataset_access(data, policy, roles, evidence))
    for change in changes.stage_changes:
        rule, needed = _transition_approvals(data, policy, change, evidence, tally)
        rules.append(rule)
        missing.extend(needed)
    rule, needed = _governance(changes, policy, evidence, tally)
    rules.append(rule)
    missing.extend(needed)
    if data.pin_change is not None:
        rule, needed = _central_pin(data, data.pin_change, evidence, tally)
        rules.append(rule)
        missing.extend(needed)
    unique = tuple(dict.fromkeys(counted))
    return Verdict(
        tuple(rules),
        tuple(missing),
        tuple(deltas),
        tuple(sorted({a.login for a in unique}, key=str.casefold)),
        data.base_tip or changes.base,
        data.head or changes.head,
        evidence.author,
        tuple(data.alerts),
        changes.head,
        unique,
        not_counted(reviews, unique),
        tuple(sorted(tally.blockers, key=str.casefold)),
    )


def _entries_valid(data: GateInput) -> RuleResult:
    problems = data.new_problems
    unparsed = data.changes.unparsed
    if problems or unparsed:
        details = tuple(p.render() for p in problems) or tuple(
            f"{path}: could not be read" for path in unparsed
        )
        return RuleResult(
            "entries valid", "failed", f"{len(details)} problems in the changed registry", details
        )
    if not data.changes.touches_registry:
        return RuleResult("entries valid", "not applicable", "no registry file changed")
    return RuleResult("entries valid", "passed", "every entry of the head tree is valid")


def _immutable(changes: ChangeSet) -> RuleResult:
    broken = [
        f"{edit.name}: {', '.join(edit.immutable)} changed"
        for edit in changes.edits
        if edit.immutable
    ]
    retiring = {f"{c.model}@{c.version}" for c in changes.stage_changes if c.to_stage == "retired"}
    broken += [
        f"{edit.name}: retired_at/retired_reason are set once, when the version retires"
        for edit in changes.edits
        if {"retired_at", "retired_reason"} & set(edit.fields) and edit.name not in retiring
    ]
    deleted = [
        f"{path}: deleted"
        for path in changes.deleted
        if path.startswith(("registry/models/", "registry/datasets/"))
        and path.endswith((".yaml", ".dvc"))
    ]
    if broken or deleted:
        return RuleResult(
            "registered facts immutable",
            "failed",
            "registered facts never change and entries are never deleted",
            tuple(broken + deleted),
        )
    if not changes.edits and not changes.deleted:
        return RuleResult("registered facts immutable", "not applicable", "no entry edited")
    return RuleResult("registered facts immutable", "passed", "only mutable fields changed")


def is_rollback(data: GateInput, policy: Policy, change: StageChange) -> bool:
    """A stage given back to a version that held it on the base before, under a policy that
    has a rollback rule."""
    return policy.rollback is not None and (change.model, change.version) in data.rollbacks


def _transitions_allowed(data: GateInput, policy: Policy) -> RuleResult:
    changes = data.changes
    allowed = {(t.from_, t.to) for t in policy.transitions}
    refused = [
        f"{_transition_name(c)} is not a transition of the base policy"
        for c in changes.stage_changes
        if (c.from_stage, c.to_stage) not in allowed and not is_rollback(data, policy, c)
    ]
    refused += [
        f"{c.model} {c.version} is retired: its artifact may be gone, it never comes back"
        for c in changes.stage_changes
        if c.from_stage == "retired"
    ]
    refused += [
        f"{model} {version} is registered at {stage}: new versions start at development"
        for model, version, stage in changes.versions_registered
        if stage != "development"
    ]
    refused += [
        f"{c.model} is of the prohibited risk class: it may not be promoted to {c.to_stage}"
        for c in changes.stage_changes
        if c.to_stage in ("staging", "production")
        and (facts := data.models.get(c.model)) is not None
        and "prohibited" in (facts.risks | {facts.risk})
    ]
    if refused:
        return RuleResult(
            "transitions allowed",
            "failed",
            "stage changes the policy does not list",
            tuple(refused),
        )
    if not changes.stage_changes:
        return RuleResult("transitions allowed", "not applicable", "no stage changes")
    listed = ", ".join(_transition_name(c) for c in changes.stage_changes)
    return RuleResult("transitions allowed", "passed", f"listed in the base policy: {listed}")


def _single_stage(data: GateInput, policy: Policy) -> RuleResult:
    single = policy.single_stages()
    crowded = [
        f"{model} has {len(versions)} versions in {stage}: {', '.join(versions)}"
        for (model, stage), versions in sorted(data.head_stage_counts.items())
        if stage in single and len(versions) > 1
    ]
    if crowded:
        return RuleResult(
            "single stages", "failed", "a single stage holds one version per model", tuple(crowded)
        )
    touched = {c.to_stage for c in data.changes.stage_changes} & single
    if not touched:
        return RuleResult("single stages", "not applicable", "no version enters a single stage")
    return RuleResult(
        "single stages", "passed", f"one version per model in {', '.join(sorted(touched))}"
    )


def _gates(
    data: GateInput, policy: Policy, change: StageChange, evidence: Evidence
) -> tuple[RuleResult, list[MetricDelta]]:
    name = f"gates: {_transition_name(change)}"
    model = data.models.get(change.model)
    if is_rollback(data, policy, change):
        return _artifact_only(name + " (rollback)", change, evidence), []
    central, extra = transition_rules(
        policy, data.teams, model.team if model else None, (change.from_stage, change.to_stage)
    )
    if central is None:
        return RuleResult(name, "not applicable", "not a transition of the policy"), []
    gates = [central.gates, *(t.gates for t in extra)]
    facts = data.versions.get((change.model, change.version))
    if facts is None or model is None:
        return RuleResult(name, "failed", "the version or its model could not be read"), []
    failures: list[str] = []
    passes: list[str] = []
    deltas: list[MetricDelta] = []
    holder = data.holders.get((change.model, change.to_stage))
    if holder is not None and holder.version == change.version:
        holder = None
    for gate in gates:
        _metric_gates(gate, facts, holder, change, failures, passes, deltas)
        for section in gate.model_card:
            if section in model.filled_card_sections:
                passes.append(f"model card: {section} filled in")
            else:
                failures.append(
                    f"model card: {section} is empty (registry/models/{model.name}/model.yaml)"
                )
    if any(gate.artifact_available for gate in gates):
        check = evidence.artifacts.get((change.model, change.version))
        if check is None or check.error is not None:
            reason = check.error if check is not None else "not checked"
            failures.append(f"artifact: could not check the DVC remote ({reason})")
        elif check.missing:
            failures.append(f"artifact: missing from the DVC remote: {', '.join(check.missing)}")
        else:
            passes.append("artifact: every file object is on the DVC remote")
    if failures:
        return RuleResult(name, "failed", "; ".join(failures), tuple(failures + passes)), deltas
    if not passes:
        return RuleResult(name, "not applicable", "the transition has no gates"), deltas
    return RuleResult(name, "passed", "; ".join(passes), tuple(passes)), deltas


def _artifact_only(name: str, change: StageChange, evidence: Evidence) -> RuleResult:
    """A rollback's one gate: the version it goes back to must still be retrievable."""
    check = evidence.artifacts.get((change.model, change.version))
    if check is None or check.error is not None:
        reason = check.error if check is not None else "not checked"
        return RuleResult(name, "failed", f"artifact: could not check the DVC remote ({reason})")
    if check.missing:
        missing = ", ".join(check.missing)
        return RuleResult(name, "failed", f"artifact: missing from the DVC remote: {missing}")
    return RuleResult(name, "passed", "artifact: every file object is on the DVC remote")


def _metric_gates(
    gate: Gates,
    facts: VersionFacts,
    holder: VersionFacts | None,
    change: StageChange,
    failures: list[str],
    passes: list[str],
    deltas: list[MetricDelta],
) -> None:
    for metric, rule in gate.metrics.items():
        value = facts.metrics.get(metric)
        held = holder.metrics.get(metric) if holder is not None else None
        deltas.append(
            MetricDelta(
                change.model,
                change.version,
                change.to_stage,
                metric,
                value,
                holder.version if holder else None,
                held,
            )
        )
        if value is None:
            failures.append(f"metric {metric} is not recorded for {change.version}")
            continue
        found = _threshold_failures(metric, value, rule, holder, held, change.to_stage)
        failures.extend(found)
        if not found:
            passes.append(f"metric {metric} = {value:g} meets its thresholds")


def _threshold_failures(
    metric: str,
    value: float,
    rule: MetricGate,
    holder: VersionFacts | None,
    held: float | None,
    stage: str,
) -> list[str]:
    failures = []
    which = (
        "the current holder" if holder and holder.stage == stage else f"the last {stage} version"
    )
    if rule.min is not None and value < rule.min:
        failures.append(f"metric {metric} = {value:g} is below the minimum {rule.min:g}")
    if rule.max is not None and value > rule.max:
        failures.append(f"metric {metric} = {value:g} is above the maximum {rule.max:g}")
    if rule.max_regression is not None and holder is not None:
        if held is None:
            failures.append(f"metric {metric}: {which} {holder.version} has no value to compare")
        else:
            worse = held - value if rule.higher_is_better else value - held
            if worse > rule.max_regression:
                failures.append(
                    f"metric {metric} = {value:g} is worse than {held:g} of {which} "
                    f"{holder.version} "
                    f"by {worse:g}, more than the {rule.max_regression:g} allowed"
                )
    return failures


def _registry_access(
    changes: ChangeSet, policy: Policy, roles: _Roles, evidence: Evidence
) -> RuleResult:
    if not changes.models_created:
        return RuleResult("may create models", "not applicable", "no model created")
    allowed, unresolved = roles.holds(evidence.author, policy.create_models)
    created = ", ".join(changes.models_created)
    if allowed:
        return RuleResult("may create models", "passed", f"{evidence.author} may create {created}")
    who = evidence.author or "the author (unknown)"
    why = f"{who} holds none of {', '.join(policy.create_models) or 'no role'}"
    return RuleResult("may create models", "failed", why, tuple(unresolved))


def _model_access(data: GateInput, policy: Policy, roles: _Roles, evidence: Evidence) -> RuleResult:
    changes = data.changes
    subjects = {model for model, _, _ in changes.versions_registered}
    subjects |= {
        edit.name.split("@")[0] for edit in changes.edits if edit.kind.value in ("model", "version")
    }
    subjects -= set(changes.models_created)  # creating is judged by the registry-level rule
    if not subjects:
        return RuleResult(
            "may register or edit", "not applicable", "no version registered, no entry edited"
        )
    author = evidence.author
    refused: list[str] = []
    for name in sorted(subjects):
        model = data.models.get(name)
        if model is None:
            refused.append(f"{name}: the model could not be read")
            continue
        if author is not None and _is_owner(author, model, roles):
            continue
        team_roles = [model.team] if model.team in policy.roles else []
        allowed, unresolved = roles.holds(author, [*policy.register_versions, *team_roles])
        if not allowed:
            holders = ", ".join([model.owner, *team_roles, *policy.register_versions])
            refused.append(f"{name}: {author or 'the author (unknown)'} is not one of {holders}")
            refused.extend(unresolved)
    judged = (
        " (judged as the proposal's author; a version's created_by is recorded, not judged)"
        if changes.versions_registered
        else ""
    )
    if refused:
        reason = "; ".join(refused) + judged
        return RuleResult("may register or edit", "failed", reason, tuple(refused))
    return RuleResult(
        "may register or edit",
        "passed",
        f"{author} may change {', '.join(sorted(subjects))}{judged}",
    )


def _dataset_access(
    data: GateInput, policy: Policy, roles: _Roles, evidence: Evidence
) -> RuleResult:
    """Datasets are created or edited by their owner or by those who may register or create."""
    changes = data.changes
    subjects = sorted(
        {*changes.datasets_created, *(e.name for e in changes.edits if e.kind.value == "dataset")}
    )
    if not subjects:
        return RuleResult("may change datasets", "not applicable", "no dataset created or edited")
    author = evidence.author
    refused: list[str] = []
    for name in subjects:
        owner = data.dataset_owners.get(name)
        if author is not None and owner is not None and author.casefold() == owner.casefold():
            continue
        allowed, unresolved = roles.holds(
            author, [*policy.register_versions, *policy.create_models]
        )
        if not allowed:
            refused.append(f"{name}: {author or 'the author (unknown)'} is not its owner {owner}")
            refused.extend(unresolved)
    if refused:
        return RuleResult("may change datasets", "failed", "; ".join(refused), tuple(refused))
    return RuleResult("may change datasets", "passed", f"{author} may change {', '.join(subjects)}")


def _is_owner(author: str, model: ModelFacts, roles: _Roles) -> bool:
    if not model.owner.startswith("@"):
        return author.casefold() == model.owner.casefold()
    if roles.teams is None:
        return False
    try:
        return roles.teams.is_active_member(model.owner, author)
    except Exception:  # unresolvable owner team: not proven an owner
        return False


@dataclass
class _Tally:
    """Counts approvals for the rules, and remembers which counted, for which role."""

    roles: _Roles
    reviews: Standing
    evidence: Evidence
    counted: list[CountedApproval]
    blockers: set[str] = field(default_factory=set)

    def count(
        self, subject: str, required: Iterable[Approval]
    ) -> tuple[list[str], list[str], list[MissingApproval]]:
        """(satisfied lines, failure lines, missing approvals) for `required` on one subject.
        A role's member whose latest review requests changes blocks it, whoever else
        approved."""
        satisfied: list[str] = []
        failures: list[str] = []
        missing: list[MissingApproval] = []
        approvers = set(self.reviews.approvers)
        folded = {login.casefold() for login in approvers}
        for approval in required:
            holders, unresolved = self.roles.holders_among(approval.role, approvers)
            blockers, unknown = self.roles.holders_among(approval.role, self.reviews.requested)
            have = sorted(holders)
            self.counted.extend(CountedApproval(login, approval.role, subject) for login in have)
            if blockers or unknown:
                self.blockers |= blockers
                named = sorted(blockers) + [f"someone in {team}" for team in unknown]
                failures.append(
                    f"{approval.role}: changes requested by {', '.join(named)}, until they "
                    "approve or the request is dismissed"
                )
                continue
            if len(have) >= approval.count:
                satisfied.append(f"{approval.role}: {', '.join(have)}")
                continue
            author = (self.evidence.author or "").casefold()
            candidates = tuple(
                sorted(
                    m
                    for m in self.roles.candidates(approval.role)
                    if m.casefold() != author and m.casefold() not in folded
                )
            )
            failures.append(
                f"{approval.role}: {len(have)} of {approval.count} approvals"
                + (f" (could not resolve {', '.join(unresolved)})" if unresolved else "")
            )
            missing.append(
                MissingApproval(subject, approval.role, approval.count, len(have), candidates)
            )
        return satisfied, failures, missing


def _transition_approvals(
    data: GateInput, policy: Policy, change: StageChange, evidence: Evidence, tally: _Tally
) -> tuple[RuleResult, list[MissingApproval]]:
    subject = _transition_name(change)
    name = f"approvals: {subject}"
    model = data.models.get(change.model)
    central, extra = transition_rules(
        policy, data.teams, model.team if model else None, (change.from_stage, change.to_stage)
    )
    rollback = is_rollback(data, policy, change)
    if central is None and not rollback:
        return RuleResult(name, "not applicable", "not a transition of the policy"), []
    if evidence.reviews is None or evidence.head_sha is None:
        why = f"reviews could not be read: {evidence.reviews_error or 'no proposal'}"
        return RuleResult(name, "failed", why), []
    facts = data.versions.get((change.model, change.version))
    if rollback and policy.rollback is not None:
        name += " (rollback)"
        candidates = list(policy.rollback.approvals)
    else:
        candidates = [a for t in (central, *extra) if t is not None for a in t.approvals]
    required = [a for a in candidates if _condition_applies(a, model, facts)]
    if rollback and not required:
        why = "a rollback needs at least one approval, and no rollback approval applies here"
        return RuleResult(name, "failed", why), []
    if not required:
        return RuleResult(name, "passed", "the transition needs no approval"), []
    satisfied, failures, missing = tally.count(subject, required)
    if failures:
        return RuleResult(name, "failed", "; ".join(failures), tuple(failures + satisfied)), missing
    return RuleResult(name, "passed", "; ".join(satisfied), tuple(satisfied)), []


def _central_pin(
    data: GateInput, change: PinChange, evidence: Evidence, tally: _Tally
) -> tuple[RuleResult, list[MissingApproval]]:
    """A new pin must be the file it says; moving or removing a pin is the central governance's
    decision: its approvals, with roles as the central file alone fills them (a team cannot
    approve its own way out)."""
    name = "central policy"
    central = data.central
    why = change.what
    if change.problem is not None:
        return RuleResult(name, "failed", f"{why}: {change.problem}"), []
    if not change.needs_central_approval:
        return RuleResult(name, "passed", f"{why}: verified at its commit"), []
    if central is None:
        return RuleResult(name, "failed", f"{why}; the central policy could not be read"), []
    if evidence.reviews is None or evidence.head_sha is None:
        return RuleResult(
            name, "failed", f"{why}; reviews could not be read: {evidence.reviews_error}"
        ), []
    central_tally = _Tally(_Roles(central, evidence.teams), tally.reviews, evidence, tally.counted)
    satisfied, failures, missing = central_tally.count(name, central.governance.approvals)
    tally.blockers |= central_tally.blockers
    if failures:
        return RuleResult(
            name, "failed", f"{why}, judged by the central policy: " + "; ".join(failures)
        ), missing
    return RuleResult(name, "passed", f"{why}; " + "; ".join(satisfied), tuple(satisfied)), []


def _governance(
    changes: ChangeSet, policy: Policy, evidence: Evidence, tally: _Tally
) -> tuple[RuleResult, list[MissingApproval]]:
    touched = [path for path in changes.paths if is_governed(policy, path)]
    touched += [
        f"{edit.name}: {', '.join(edit.governed)}" for edit in changes.edits if edit.governed
    ]
    keep = policy.monitoring.keep if policy.monitoring is not None else None
    touched += [
        f"{edit.name}: production_metrics (drops {edit.readings_dropped} past readings, "
        f"keeps {edit.readings_kept}; the policy keeps {keep if keep is not None else 'all'})"
        for edit in changes.edits
        if edit.readings_dropped and edit.readings_kept != keep
    ]
    name = "governance"
    if not touched:
        return RuleResult(
            name,
            "not applicable",
            "nothing governed changed: no path outside registry/ but those the policy leaves "
            "ungoverned, no owner, risk or classification",
        ), []
    if evidence.reviews is None or evidence.head_sha is None:
        why = f"changes {', '.join(touched)}; reviews could not be read: {evidence.reviews_error}"
        return RuleResult(name, "failed", why), []
    satisfied, failures, missing = tally.count("governance", policy.governance.approvals)
    shown = ", ".join(touched[:5]) + (" ..." if len(touched) > 5 else "")
    if failures:
        why = f"changes {shown}, judged by the base policy: " + "; ".join(failures)
        return RuleResult(name, "failed", why, tuple(touched)), missing
    return RuleResult(
        name, "passed", f"changes {shown}; " + "; ".join(satisfied), tuple(touched)
    ), []
