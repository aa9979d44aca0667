"""A central policy as the floor under a team registry's policy.

A registry's `policies/registry.yaml` may pin a central policy (`central:`). The policy the gate
judges by is then the central one plus the team's file: the team may add approvals, fill the
roles the central policy leaves empty, tighten metric thresholds and govern more paths; it may not
remove or weaken anything central. `weakenings` names each attempt by its field in the team's
file (`steward check` reports them, and the gate fails closed on a base that has any);
`effective_policy` is what is enforced, and it keeps the central floor whatever the team wrote.
What runs after a merge (hooks, monitoring, retention) stays each team's own: the central file
decides who approves what, not how a team deploys.

Pure: reading the central file at its pinned commit is `steward.reading.central_policy`'s job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from steward.entries.policy import (
    Approval,
    Gates,
    Governance,
    MetricGate,
    Policy,
    RollbackRule,
    StageRule,
    Transition,
    policy_problems,
)
from steward.entries.yamlio import Loc

Finding = tuple[Loc, str]


def central_problems(central: Policy) -> list[Finding]:
    """What is wrong with the central file itself, by its own fields."""
    problems = list(policy_problems(central))
    if central.central is not None:
        problems.append((("central",), "a central policy cannot itself pin another"))
    return problems


def weakenings(central: Policy, local: Policy) -> list[Finding]:
    """Each place where the team's file asks for less than the central policy, by its field."""
    found: list[Finding] = []
    found.extend(_role_weakenings(central, local))
    for field in ("create_models", "register_versions"):
        allowed_roles = getattr(central, field)
        for i, role in enumerate(getattr(local, field)):
            if role not in allowed_roles:
                found.append(
                    (
                        (field, i),
                        f"role '{role}' is not in the central policy's {field} "
                        f"({', '.join(allowed_roles) or 'none'}): a team registry cannot widen "
                        "who may",
                    )
                )
    for stage, rule in local.stages.items():
        floor = central.stages.get(stage)
        if floor is not None and floor.single and not rule.single:
            found.append(
                (
                    ("stages", stage, "single"),
                    f"{stage} holds one version per model in the central policy; a team "
                    "registry cannot allow more",
                )
            )
    allowed = {(t.from_, t.to): t for t in central.transitions}
    for t, transition in enumerate(local.transitions):
        floor_transition = allowed.get((transition.from_, transition.to))
        if floor_transition is None:
            found.append(
                (
                    ("transitions", t),
                    f"{transition.from_} -> {transition.to} is not a transition of the central "
                    "policy; a team registry can only add gates and approvals to the transitions "
                    "it allows",
                )
            )
            continue
        found.extend(_gate_weakenings(floor_transition.gates, transition.gates, ("transitions", t)))
        found.extend(
            _fewer(
                floor_transition.approvals, transition.approvals, ("transitions", t, "approvals")
            )
        )
    found.extend(_governance_weakenings(central.governance, local.governance))
    if local.rollback is not None:
        if central.rollback is None:
            found.append(
                (
                    ("rollback",),
                    "a rollback rule replaces the transitions' approvals, and the central policy "
                    "sets none: only the central policy can",
                )
            )
        else:
            pair = (central.rollback.approvals, local.rollback.approvals)
            found.extend(_fewer(*pair, ("rollback", "approvals")))
    if central.classification_levels and local.classification_levels not in (
        [],
        central.classification_levels,
    ):
        found.append(
            (
                ("classification_levels",),
                "the central policy sets the levels "
                f"({', '.join(central.classification_levels)}); a team registry cannot reorder or "
                "drop them",
            )
        )
    return found


def effective_policy(central: Policy, local: Policy) -> Policy:
    """The policy to judge by: the central floor with the team's additions, whatever the team's
    file tried to weaken (those attempts are left out; `weakenings` reports them)."""
    local_pairs: dict[tuple[str, str], list[Transition]] = {}
    for transition in local.transitions:
        local_pairs.setdefault((transition.from_, transition.to), []).append(transition)
    transitions = [
        _merged_transition(floor, local_pairs.get((floor.from_, floor.to), []))
        for floor in central.transitions
    ]
    stages = dict(local.stages)
    for stage, rule in central.stages.items():
        mine = stages.get(stage)
        stages[stage] = StageRule(single=rule.single or (mine is not None and mine.single))
    rollback = central.rollback
    if rollback is not None and local.rollback is not None:
        approvals = _merged_approvals(rollback.approvals, local.rollback.approvals)
        rollback = RollbackRule(approvals=approvals)
    return local.model_copy(
        update={
            "roles": _effective_roles(central, local),
            "create_models": list(central.create_models),
            "register_versions": list(central.register_versions),
            "stages": stages,
            "transitions": transitions,
            "governance": _effective_governance(central.governance, local.governance),
            "rollback": rollback,
            "classification_levels": central.classification_levels or local.classification_levels,
        }
    )


def _union(first: Iterable[str], second: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _role_weakenings(central: Policy, local: Policy) -> Iterator[Finding]:
    for role, members in local.roles.items():
        floor = central.roles.get(role)
        if not floor:
            continue  # a role the central policy leaves for each team to fill
        known = {member.casefold() for member in floor}
        added = [member for member in members if member.casefold() not in known]
        if added:
            yield (
                ("roles", role),
                f"adds {', '.join(added)} to role '{role}', which the central policy fills "
                f"({', '.join(floor)}); a team registry fills only the roles the central policy "
                "leaves empty",
            )


def _effective_roles(central: Policy, local: Policy) -> dict[str, list[str]]:
    roles = dict(local.roles)
    for role, members in central.roles.items():
        if members or role not in roles:
            roles[role] = list(members)
    return roles


def _approval_key(approval: Approval) -> tuple[str, str]:
    when = approval.when.model_dump(mode="json") if approval.when is not None else None
    return approval.role, json.dumps(when, sort_keys=True)


def _fewer(floor: Iterable[Approval], mine: Iterable[Approval], loc: Loc) -> Iterator[Finding]:
    needed: dict[tuple[str, str], int] = {}
    for approval in floor:
        key = _approval_key(approval)
        needed[key] = max(needed.get(key, 0), approval.count)
    for a, approval in enumerate(mine):
        floor_count = needed.get(_approval_key(approval))
        if floor_count is not None and approval.count < floor_count:
            yield (
                (*loc, a, "count"),
                f"{approval.count} approval(s) from {approval.role}, fewer than the central "
                f"policy's {floor_count}",
            )


def _merged_approvals(floor: Iterable[Approval], mine: Iterable[Approval]) -> list[Approval]:
    """Every requirement of both; the same role under the same condition asks the higher count."""
    merged: dict[tuple[str, str], Approval] = {}
    for approval in [*floor, *mine]:
        key = _approval_key(approval)
        seen = merged.get(key)
        if seen is None or approval.count > seen.count:
            merged[key] = approval
    return list(merged.values())


def _gate_weakenings(floor: Gates, mine: Gates, loc: Loc) -> Iterator[Finding]:
    for metric, gate in mine.metrics.items():
        central = floor.metrics.get(metric)
        if central is None:
            continue
        where: Loc = (*loc, "gates", "metrics", metric)
        if "higher_is_better" in gate.model_fields_set and (
            gate.higher_is_better != central.higher_is_better
        ):
            yield (
                (*where, "higher_is_better"),
                f"the central policy says higher_is_better: {central.higher_is_better}",
            )
        if gate.min is not None and central.min is not None and gate.min < central.min:
            yield (*where, "min"), f"min {gate.min} is below the central policy's {central.min}"
        if gate.max is not None and central.max is not None and gate.max > central.max:
            yield (*where, "max"), f"max {gate.max} is above the central policy's {central.max}"
        if (
            gate.max_regression is not None
            and central.max_regression is not None
            and gate.max_regression > central.max_regression
        ):
            yield (
                (*where, "max_regression"),
                f"max_regression {gate.max_regression} allows more than the central policy's "
                f"{central.max_regression}",
            )
    explicit = "artifact_available" in mine.model_fields_set
    if floor.artifact_available and explicit and not mine.artifact_available:
        yield (
            (*loc, "gates", "artifact_available"),
            "the central policy requires the artifact in the remote",
        )


def _stricter(floor: MetricGate, mine: MetricGate) -> MetricGate:
    mins = [value for value in (floor.min, mine.min) if value is not None]
    maxes = [value for value in (floor.max, mine.max) if value is not None]
    regressions = [r for r in (floor.max_regression, mine.max_regression) if r is not None]
    return MetricGate(
        min=max(mins) if mins else None,
        max=min(maxes) if maxes else None,
        higher_is_better=floor.higher_is_better,
        max_regression=min(regressions) if regressions else None,
    )


def _merged_transition(floor: Transition, mine: list[Transition]) -> Transition:
    metrics = dict(floor.gates.metrics)
    sections = list(floor.gates.model_card)
    artifact = floor.gates.artifact_available
    approvals = list(floor.approvals)
    for transition in mine:
        for metric, gate in transition.gates.metrics.items():
            metrics[metric] = _stricter(metrics[metric], gate) if metric in metrics else gate
        sections += [s for s in transition.gates.model_card if s not in sections]
        artifact = artifact or transition.gates.artifact_available
        approvals = _merged_approvals(approvals, transition.approvals)
    gates = Gates(metrics=metrics, model_card=sections, artifact_available=artifact)
    return floor.model_copy(update={"gates": gates, "approvals": approvals})


def _covered_by(entries: Iterable[str], path: str) -> bool:
    folded = path.casefold()
    for entry in entries:
        entry = entry.casefold()
        if entry == folded or (entry.endswith("/") and folded.startswith(entry)):
            return True
    return False


def _governance_weakenings(floor: Governance, mine: Governance) -> Iterator[Finding]:
    for i, entry in enumerate(mine.ungoverned):
        if not _covered_by(floor.ungoverned, entry):
            yield (
                ("governance", "ungoverned", i),
                f"'{entry}' would be left ungoverned, but the central policy governs it",
            )
    yield from _fewer(floor.approvals, mine.approvals, ("governance", "approvals"))


def _effective_governance(floor: Governance, mine: Governance) -> Governance:
    return Governance(
        paths=_union(floor.paths, mine.paths),
        ungoverned=[entry for entry in mine.ungoverned if _covered_by(floor.ungoverned, entry)],
        approvals=_merged_approvals(floor.approvals, mine.approvals),
    )
