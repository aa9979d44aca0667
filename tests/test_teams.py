from __future__ import annotations

from pathlib import Path

from steward.reading.registry import check_registry
from tests.builders import add_model, add_version, small_registry, write

TEAM = """\
team: risk-ml
schemas:
  model:
    required: [data_steward]
    properties:
      card: {required: [ethical_considerations]}
  version:
    properties:
      metrics: {required: [latency_p95_ms]}
transitions:
  - from: staging
    to: production
    gates: {metrics: {latency_p95_ms: {max: 15, higher_is_better: false}}}
"""


def rendered(root: Path) -> list[str]:
    return [p.render() for p in check_registry(root).problems]


def test_team_extension_requires_fields_of_its_models_only(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "policies/teams/risk-ml.yaml", TEAM)
    add_model(root, "churn", team="growth")  # another team: not concerned
    add_version(root, "churn", "1.0.0")
    assert rendered(root) == [
        "registry/models/fraud/1.0.0.yaml:24: metrics: 'latency_p95_ms' is a required property "
        "(required by policies/teams/risk-ml.yaml)",
        "registry/models/fraud/1.1.0.yaml:24: metrics: 'latency_p95_ms' is a required property "
        "(required by policies/teams/risk-ml.yaml)",
        "registry/models/fraud/model.yaml:1: 'data_steward' is a required property "
        "(required by policies/teams/risk-ml.yaml)",
        "registry/models/fraud/model.yaml:6: card: 'ethical_considerations' is a required "
        "property (required by policies/teams/risk-ml.yaml)",
    ]
    add_model(
        root,
        "fraud",
        data_steward="erin",
        card={"intended_use": "x", "ethical_considerations": "y"},
    )
    for version, stage in (("1.0.0", "production"), ("1.1.0", "staging")):
        add_version(root, "fraud", version, stage=stage, metrics={"latency_p95_ms": 11.0})
    assert rendered(root) == []


def test_team_custom_fields_live_under_custom(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(
        root,
        "policies/teams/risk-ml.yaml",
        "team: risk-ml\nschemas:\n  model:\n    properties:\n      custom:\n"
        "        required: [cost_center]\n        properties:\n"
        "          cost_center: {type: string, pattern: '^CC-[0-9]+$'}\n",
    )
    add_model(root, "fraud", custom={"cost_center": "finance"})
    assert rendered(root) == [
        "registry/models/fraud/model.yaml:10: custom.cost_center: 'finance' does not match "
        "'^CC-[0-9]+$' (required by policies/teams/risk-ml.yaml)"
    ]
    add_model(root, "fraud", custom={"cost_center": "CC-1024"})
    assert rendered(root) == []


def test_team_extension_can_only_tighten(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(
        root,
        "policies/teams/risk-ml.yaml",
        "team: risk-ml\ntransitions:\n"
        "  - {from: development, to: production}\n"
        "  - {from: staging, to: production, approvals: [{role: auditors}]}\n",
    )
    assert rendered(root) == [
        "policies/teams/risk-ml.yaml:3: transitions[0]: development -> production is not a "
        "transition of policies/registry.yaml; a team can only add gates and approvals to "
        "transitions the central policy allows",
        "policies/teams/risk-ml.yaml:4: transitions[1].approvals[0].role: role 'auditors' is not "
        "defined in policies/registry.yaml",
    ]


def test_team_schema_fragment_must_be_valid_and_local(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(
        root,
        "policies/teams/risk-ml.yaml",
        "team: risk-ml\nschemas:\n  model: {required: yes}\n"
        "  version: {$ref: 'https://evil.example/schema.json'}\n",
    )
    assert rendered(root) == [
        "policies/teams/risk-ml.yaml:3: schemas.model.required: not a valid JSON Schema: "
        "'yes' is not of type 'array'",
        "policies/teams/risk-ml.yaml:4: schemas.version.$ref: only local references (# or #/...) "
        "are allowed, not 'https://evil.example/schema.json'",
    ]


def test_team_file_name_must_match(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "policies/teams/risk-ml.yaml", "team: growth\n")
    assert rendered(root) == [
        "policies/teams/risk-ml.yaml:1: team: 'growth' does not match the file name 'risk-ml' "
        "in the file's path"
    ]


def test_policy_cross_field_rules(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(
        root,
        "policies/registry.yaml",
        "roles: {ml-engineer: [carol], governance: ['@acme/governance']}\n"
        "create_models: [ml-engineer]\n"
        "register_versions: [registrars]\n"
        "transitions:\n"
        "  - {from: development, to: staging, gates: {metrics: {auc: {min: 0.9, max: 0.8}}}}\n"
        "  - {from: development, to: staging}\n"
        "  - {from: staging, to: staging, approvals: [{role: reviewers, count: 2}]}\n"
        "governance: {approvals: [{role: governance}]}\n",
    )
    assert rendered(root) == [
        "policies/registry.yaml:3: register_versions[0]: role 'registrars' is not defined under "
        "roles",
        "policies/registry.yaml:5: transitions[0].gates.metrics.auc: min 0.9 is greater than max "
        "0.8: no version could pass",
        "policies/registry.yaml:6: transitions[1]: development -> staging is already defined at "
        "transitions[0]",
        "policies/registry.yaml:7: transitions[2]: a transition from staging to itself is not a "
        "transition",
        "policies/registry.yaml:7: transitions[2].approvals[0].role: role 'reviewers' is not "
        "defined under roles",
    ]


def test_policy_needs_governance_approvals(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "policies/registry.yaml", "roles: {}\ngovernance: {approvals: []}\n")
    assert rendered(root) == [
        "policies/registry.yaml:2: governance.approvals: expected at least 1 item, "
        "got an empty list"
    ]


def test_team_schemas_that_cannot_be_applied_fail_closed_with_a_problem(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    write(
        root,
        "policies/teams/risk-ml.yaml",
        "team: risk-ml\nschemas:\n"
        "  model: {$ref: '#/$defs/missing'}\n"
        "  version: {$dynamicRef: 'https://example.invalid/x.json'}\n",
    )
    assert rendered(root) == [
        "policies/teams/risk-ml.yaml:3: schemas.model.$ref: #/$defs/missing points at nothing "
        "in this schema",
        "policies/teams/risk-ml.yaml:4: schemas.version.$dynamicRef: $dynamicRef is not "
        "supported in a team schema; use $ref to #/$defs",
    ]
    write(root, "policies/teams/risk-ml.yaml", "team: risk-ml\nschemas:\n  model: {$ref: '#'}\n")
    assert rendered(root) == [
        "registry/models/fraud/model.yaml:1: the schema in policies/teams/risk-ml.yaml refers to "
        "itself without end: it cannot be applied"
    ]
