"""The audit report: the technical documentation the EU AI Act (Annex IV) asks of a high-risk
system, assembled from the registry and its history at one commit, with findings first.

Per model, under Annex IV's headings: a general description (risk class, owners, intended use,
consumers); the development process and data (each version's training data provenance, the
classifications it inherits and from where, its code, environment and evaluation results);
monitoring and control (production readings, thresholds, the approvals the policy requires);
risk management (the card's factors, limitations and ethical considerations, the gates); changes
over the lifecycle (every promotion with who proposed, approved and merged it, when, on which
commit and with which gate verdict; deployments and rollbacks); and the standards applied.

Findings are what an auditor would ask about first (`FINDING_CODES`). Entries and history are
read at the same commit, so the report describes one state of the registry, whatever is checked
out. The JSON form (`AuditReport.as_dict`) is versioned by `FORMAT`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from steward.aftermerge.history import Event, model_histories, model_history
from steward.entries import classification, layout
from steward.entries.card_sections import missing_sections
from steward.entries.models import CARD_SECTIONS, ModelEntry, VersionEntry, format_timestamp
from steward.entries.policy import Approval, Policy
from steward.gitio.gitcmd import run_git
from steward.governance.modelcard import DatasetUse, dataset_uses, inherited_dict
from steward.reading.registry_state import RegistryState, read_registry

FORMAT = "steward-audit/1"
Severity = Literal["error", "warning"]
FINDING_CODES: dict[str, str] = {
    "unreadable_entry": "a file the report needs could not be read: the report may be incomplete",
    "missing_card_sections": "model card sections not filled in (error when the policy requires "
    "one of them for a transition)",
    "production_without_approval": "a version in production whose entry into production has no "
    "recorded approval (a direct commit, or a merge without Steward's trailers or records)",
    "high_risk_without_required_approval": "a high-risk model whose production version was not "
    "approved by any member of the roles the policy names for high risk",
    "classification_below_inherited": "a model declares less than its versions (retired ones "
    "aside) inherit from their datasets and columns",
    "dataset_unregistered": "versions cite a dataset that has no registry/datasets entry",
}
STANDARDS = [
    "Model cards: Mitchell et al., 'Model Cards for Model Reporting' (FAT* 2019), sections "
    "rendered by `steward card`",
    "Model card metadata: Hugging Face Hub model-card format (license, datasets, tags, "
    "model-index)",
    "Registry entries validated against Steward's JSON Schemas (`steward schema`) by "
    "`steward check` and the gate",
    "Promotion policy: policies/registry.yaml at the audited commit, enforced by `steward gate` "
    "from the base branch",
]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    model: str | None = None
    version: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "model": self.model,
            "version": self.version,
            "message": self.message,
            "details": self.details,
        }


@dataclass(frozen=True)
class ModelAudit:
    """One model at the audited commit, with its versions (lowest first) and history (newest
    first)."""

    model: ModelEntry
    versions: list[VersionEntry]
    datasets: dict[str, list[DatasetUse]]  # by version
    events: list[Event]
    policy: Policy | None

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def production(self) -> list[VersionEntry]:
        return [entry for entry in self.versions if entry.stage == "production"]

    @property
    def promotions(self) -> list[Event]:
        """Every stage a version entered after its registration, newest first."""
        registered = {(e.version, e.commit) for e in self.events if e.event == "registered"}
        return [
            e
            for e in self.events
            if e.event == "entered" and (e.version, e.commit) not in registered
        ]

    def deployments(self) -> list[dict[str, Any]]:
        """Entering and leaving production, oldest first; entering it again is a rollback."""
        seen: set[str] = set()
        out = []
        for event in reversed(self.events):
            if event.stage != "production" or event.event == "registered":
                continue
            rollback = event.event == "entered" and event.version in seen
            if event.event == "entered":
                seen.add(event.version)
            out.append({**_event_dict(event), "rollback": rollback})
        return out

    def inherited(self) -> list[classification.Inherited]:
        found = {item for uses in self.datasets.values() for use in uses for item in use.inherited}
        return sorted(found, key=lambda i: (i.label, i.dataset, i.column or ""))

    def as_dict(self) -> dict[str, Any]:
        model, card = self.model, self.model.card
        return {
            "name": model.name,
            "general_description": {
                "description": model.description,
                "owner": model.owner,
                "team": model.team,
                "data_steward": model.data_steward,
                "risk": model.risk,
                "license": model.license,
                "tags": list(model.tags),
                "intended_use": card.intended_use,
                "out_of_scope_use": card.out_of_scope_use,
                "downstream": [c.model_dump(mode="json") for c in model.downstream],
                "versions": [
                    {
                        "version": v.version,
                        "stage": v.stage,
                        "created_at": format_timestamp(v.created_at),
                        "created_by": v.created_by,
                    }
                    for v in self.versions
                ],
            },
            "development": {
                "declared_classification": list(model.classification),
                "inherited_classification": [inherited_dict(i) for i in self.inherited()],
                "evaluation_data": card.evaluation_data,
                "versions": [self._development(v) for v in self.versions],
            },
            "monitoring": {
                "production_versions": [v.version for v in self.production],
                "production_metrics": {
                    v.version: [p.model_dump(mode="json") for p in v.production_metrics]
                    for v in self.versions
                    if v.production_metrics
                },
                "thresholds": _thresholds(self.policy),
            },
            "risk_management": {
                "risk": model.risk,
                "card": {name: getattr(card, name) for name in CARD_SECTIONS},
                "missing_card_sections": missing_sections(card),
                "factors": card.factors,
                "limitations": card.limitations,
                "ethical_considerations": card.ethical_considerations,
                "caveats_and_recommendations": card.caveats_and_recommendations,
            },
            "lifecycle": {
                "promotions": [_event_dict(e) for e in self.promotions],
                "deployments": self.deployments(),
                "events": [_event_dict(e) for e in self.events],
            },
        }

    def _development(self, version: VersionEntry) -> dict[str, Any]:
        training = version.training
        return {
            "version": version.version,
            "stage": version.stage,
            "datasets": [use.as_dict() for use in self.datasets.get(version.version, [])],
            "features": list(training.features),
            "hyperparameters": dict(training.hyperparameters),
            "code": training.code.model_dump(mode="json") if training.code else None,
            "run": training.run,
            "environment": version.environment.model_dump(mode="json"),
            "metrics": dict(version.metrics),
            "artifact_md5": version.artifact.md5,
        }


@dataclass(frozen=True)
class AuditReport:
    rev: str  # as asked
    commit: str
    committed_at: str
    policy: Policy | None
    models: list[ModelAudit]
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def incomplete(self) -> bool:
        return any(finding.code == "unreadable_entry" for finding in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rev": self.rev,
            "commit": self.commit,
            "committed_at": self.committed_at,
            "findings": [finding.as_dict() for finding in self.findings],
            "roles": dict(self.policy.roles) if self.policy else {},
            "approval_rules": approval_rules(self.policy),
            "standards": STANDARDS,
            "models": [model.as_dict() for model in self.models],
        }


# --- assembling ---------------------------------------------------------------------------------


def audit(root: Path, model: str | None = None, rev: str = "HEAD") -> AuditReport:
    """The audit report of `model` (every model when None) at `rev`."""
    state = read_registry(root, rev, model)
    models = []
    # From git, not from apply's records: an audit must not depend on who may push tags. One
    # walk for every model (a model's own walk costs git processes: seconds for 1,000 models).
    histories = model_histories(root, state.commit, state.models)
    for name in sorted(state.models):
        entry = state.models[name]
        versions = state.versions_of(name)
        found = histories.get(name)
        if found is None:  # no commit touches it: model_history says so
            found = model_history(root, name, state.commit, use_records=False)
        events = found.events
        uses = {v.version: dataset_uses(v, state.datasets) for v in versions}
        models.append(ModelAudit(entry, versions, uses, events, state.policy))
    committed_at = run_git(root, "show", "-s", "--format=%cI", state.commit).decode().strip()
    findings = _problem_findings(state, model) + [f for m in models for f in model_findings(m)]
    findings += _unregistered_datasets(models, state.dataset_paths)
    order = {"error": 0, "warning": 1}
    findings.sort(key=lambda f: (order[f.severity], f.model or "", f.code, f.version or ""))
    return AuditReport(rev, state.commit, committed_at, state.policy, models, findings)


def approval_rules(policy: Policy | None) -> list[dict[str, Any]]:
    """The policy's transitions: their gates and the approvals they need (and when)."""
    if policy is None:
        return []
    rules: list[dict[str, Any]] = [
        {
            "from": t.from_,
            "to": t.to,
            "approvals": [_approval_dict(a) for a in t.approvals],
            "gates": t.gates.model_dump(mode="json"),
        }
        for t in policy.transitions
    ]
    if policy.rollback is not None:
        rules.append(
            {
                "from": "rollback",
                "to": "rollback",
                "approvals": [_approval_dict(a) for a in policy.rollback.approvals],
                "gates": {},
            }
        )
    return rules


def _approval_dict(approval: Approval) -> dict[str, Any]:
    when = approval.when.model_dump(mode="json", exclude_none=True) if approval.when else None
    return {"role": approval.role, "count": approval.count, "when": when}


def _thresholds(policy: Policy | None) -> dict[str, Any]:
    if policy is None or policy.monitoring is None:
        return {}
    return {
        name: threshold.model_dump(mode="json", exclude_none=True)
        for name, threshold in policy.monitoring.thresholds.items()
    }


def _event_dict(event: Event) -> dict[str, Any]:
    data = event.as_dict()
    del data["summary"], data["by"]
    return data


# --- findings -----------------------------------------------------------------------------------


def _problem_findings(state: RegistryState, model: str | None) -> list[Finding]:
    relevant = [
        p
        for p in state.problems
        if model is None
        or p.path == layout.POLICY_FILE
        or p.path.startswith(f"{layout.MODELS_DIR}/{model}/")
        or p.path.startswith(f"{layout.DATASETS_DIR}/")
    ]
    return [
        Finding(
            "unreadable_entry",
            "error",
            f"{p.render()}",
            details={"path": p.path, "line": p.line, "field": p.field, "problem": p.message},
        )
        for p in relevant
    ]


def model_findings(audited: ModelAudit) -> list[Finding]:
    found = _card_findings(audited)
    found += _production_findings(audited)
    found += _classification_findings(audited)
    return found


def _required_sections(policy: Policy | None) -> dict[str, list[str]]:
    """Card sections the policy's transitions require, with the transitions requiring each."""
    required: dict[str, list[str]] = {}
    for t in policy.transitions if policy else []:
        for section in t.gates.model_card:
            required.setdefault(section, []).append(f"{t.from_} -> {t.to}")
    return required


def _card_findings(audited: ModelAudit) -> list[Finding]:
    missing = missing_sections(audited.model.card)
    if not missing:
        return []
    required = _required_sections(audited.policy)
    needed = [s for s in missing if s in required]
    message = f"model card sections not filled in: {', '.join(missing)}"
    if needed:
        why = "; ".join(f"{s} by {', '.join(required[s])}" for s in needed)
        message += f" (required by the policy: {why})"
    return [
        Finding(
            "missing_card_sections",
            "error" if needed else "warning",
            message,
            model=audited.name,
            details={
                "sections": missing,
                "required": {s: required[s] for s in needed},
                "file": layout.model_path(audited.name),
            },
        )
    ]


def _entry_into_production(audited: ModelAudit, version: str) -> Event | None:
    return next(
        (
            e
            for e in audited.events
            if e.version == version and e.event == "entered" and e.stage == "production"
        ),
        None,
    )


def high_risk_roles(policy: Policy | None) -> list[str]:
    """The roles the policy names for high-risk models entering production; without such a
    rule, the roles that approve changes to the policy itself (governance)."""
    if policy is None:
        return []
    roles = [
        approval.role
        for t in policy.transitions
        if t.to == "production"
        for approval in t.approvals
        if approval.when is not None and approval.when.risk and "high" in approval.when.risk
    ]
    if not roles:
        roles = [approval.role for approval in policy.governance.approvals]
    return list(dict.fromkeys(roles))


def _production_findings(audited: ModelAudit) -> list[Finding]:
    found = []
    for version in audited.production:
        entered = _entry_into_production(audited, version.version)
        where = {"commit": entered.commit if entered else None}
        if entered is None or not entered.approved_by:
            how = (
                "no commit of the history shows it entering production"
                if entered is None
                else f"it entered production at {entered.at} in commit {entered.commit[:12]}"
                + (" by a direct commit" if entered.proposal is None else "")
            )
            found.append(
                Finding(
                    "production_without_approval",
                    "error",
                    f"{audited.name} {version.version} is in production without a recorded "
                    f"approval: {how}",
                    model=audited.name,
                    version=version.version,
                    details={
                        **where,
                        "proposal": entered.proposal if entered else None,
                        "proposed_by": entered.proposed_by if entered else None,
                    },
                )
            )
        if audited.model.risk == "high":
            found += _high_risk_finding(audited, version, entered)
    return found


def _high_risk_finding(
    audited: ModelAudit, version: VersionEntry, entered: Event | None
) -> list[Finding]:
    policy = audited.policy
    roles = high_risk_roles(policy)
    members = {
        login.casefold(): role
        for role in roles
        for login in (policy.roles.get(role, []) if policy else [])
    }
    approvers = list(entered.approved_by) if entered else []
    if any(login.casefold() in members for login in approvers):
        return []
    # Team membership is the forge's to tell (the gate asks GitHub); a report read offline
    # cannot, so it says an approver may have counted through a team rather than guess.
    teams = sorted(member for member in members if member.startswith("@"))
    return [
        Finding(
            "high_risk_without_required_approval",
            "error",
            f"{audited.name} is high-risk and {version.version} is in production without an "
            f"approval from {' or '.join(roles) or 'a governance role (the policy names none)'}"
            + (f" (approved by {', '.join(approvers)})" if approvers else "")
            + (
                f"; members of {', '.join(teams)} are not resolved here, so an approver may "
                "belong to one"
                if teams and approvers
                else ""
            ),
            model=audited.name,
            version=version.version,
            details={"roles": roles, "approved_by": approvers, "unresolved_teams": teams},
        )
    ]


def _classification_findings(audited: ModelAudit) -> list[Finding]:
    registered = {
        use.id: use.dataset
        for uses in audited.datasets.values()
        for use in uses
        if use.dataset is not None
    }
    inherited = classification.inherited_by_live_versions(audited.versions, registered)
    levels = audited.policy.classification_levels if audited.policy else []
    uncovered = classification.uncovered(
        audited.model.classification, classification.labels(inherited), levels
    )
    if not uncovered:
        return []
    sources = [inherited_dict(i) for i in inherited if i.label in uncovered]
    return [
        Finding(
            "classification_below_inherited",
            "error",
            f"{audited.name} declares {', '.join(audited.model.classification) or 'nothing'} but "
            f"its versions inherit {', '.join(uncovered)} ("
            + "; ".join(f"{s['label']} from {s['source']}" for s in sources)
            + ")",
            model=audited.name,
            details={
                "declared": list(audited.model.classification),
                "uncovered": uncovered,
                "sources": sources,
            },
        )
    ]


def _unregistered_datasets(models: list[ModelAudit], with_a_file: frozenset[str]) -> list[Finding]:
    """Datasets cited but without an entry. One whose file exists but could not be read is
    registered: its `unreadable_entry` finding says what is wrong with it."""
    citing: dict[str, list[str]] = {}
    for audited in models:
        for version, uses in audited.datasets.items():
            for use in uses:
                if use.dataset is None and use.id not in with_a_file:
                    citing.setdefault(use.ref.id, []).append(f"{audited.name}@{version}")
    return [
        Finding(
            "dataset_unregistered",
            "error",
            f"dataset {dataset} is not registered ({layout.dataset_path(dataset)}), but "
            f"{', '.join(versions)} cite it: its owner and classifications are unknown",
            model=versions[0].split("@")[0],
            details={"dataset": dataset, "cited_by": versions},
        )
        for dataset, versions in sorted(citing.items())
    ]
