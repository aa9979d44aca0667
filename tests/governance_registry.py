"""A registry for lineage, impact and export tests: datasets shared by several models, versions
that list columns and versions that list none, every stage, and names and texts that need
quoting in Mermaid and DOT. And the promotion history cards and audit reports read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.builders import add_dataset, add_model, add_version, small_registry, write
from tests.promotion_setup import PromotionRepo

# A URI and texts no renderer may pass through unescaped.
AWKWARD_URI = 's3://lake/customers/"v2" #1|x;y<z>&`\\back'
AWKWARD_TEXT = 'He said "hi" -- #1 <b>bold</b> | a;b {c} [d] `e` 100% \\ é'

TRANSACTIONS_COLUMNS = [
    {"name": "card_hash", "type": "string", "classification": ["pii"]},
    {"name": "amount", "type": "decimal(12,2)", "classification": ["financial"]},
    {"name": "hour", "type": "int"},
]
PROFILES_COLUMNS = [
    {"name": "customer_id", "type": "string", "classification": ["pii"]},
    {"name": "e-mail", "type": "string", "classification": ["pii"], "description": AWKWARD_TEXT},
    {"name": "spend", "type": "float", "classification": ["financial"]},
    {"name": "plan", "type": "string"},
]
DECLARED = ["internal", "pii", "financial"]


def uses(dataset: str, version: str | None = None, *columns: str, **extra: Any) -> dict[str, Any]:
    ref: dict[str, Any] = {"id": dataset}
    if version is not None:
        ref["version"] = version
    if columns:
        ref["columns"] = list(columns)
    ref.update(extra)
    return ref


def training(*refs: dict[str, Any]) -> dict[str, Any]:
    return {"datasets": list(refs), "features": ["amount", "hour"]}


def governance_registry(root: Path) -> Path:
    """fraud: 1.0.0 retired, 1.1.0 archived, 1.2.0 production, 1.3.0 staging (no dataset version,
    no columns), 1.4.0-rc.1 development; churn 2.0.0 production on both datasets; ad-ranker.v2
    0.1.0 development on the awkwardly described dataset. The starter `fraud` of
    `small_registry` is replaced."""
    small_registry(root)
    for old in ("1.0.0", "1.1.0"):
        (root / f"registry/models/fraud/{old}.yaml").unlink()
        (root / f"registry/models/fraud/{old}.dvc").unlink()
    add_dataset(
        root,
        "transactions",
        owner="erin",
        uri="s3://lake/transactions/",
        classification=["internal"],
        columns=TRANSACTIONS_COLUMNS,
        description="Card authorisations, one row each.",
    )
    add_dataset(
        root,
        "customer-profiles.v2",
        owner="@acme/data",
        uri=AWKWARD_URI,
        classification=["internal"],
        columns=PROFILES_COLUMNS,
        description=AWKWARD_TEXT,
    )
    add_model(
        root,
        "fraud",
        owner="carol",
        data_steward="erin",
        classification=DECLARED,
        downstream=[
            {"name": "payments-api", "owner": "@acme/payments", "description": AWKWARD_TEXT},
            {"name": "risk.dashboard", "owner": "dave"},
        ],
    )
    add_version(
        root,
        "fraud",
        "1.0.0",
        stage="retired",
        created_at="2026-08-01T00:00:00Z",
        retired_at="2026-11-01T00:00:00Z",
        retired_reason="retention",
        training=training(uses("transactions", "2026-07-31")),
    )
    add_version(
        root,
        "fraud",
        "1.1.0",
        stage="archived",
        created_at="2026-09-01T00:00:00Z",
        training=training(uses("transactions", "2026-08-31", "amount", "hour")),
    )
    add_version(
        root,
        "fraud",
        "1.2.0",
        stage="production",
        created_at="2026-10-01T00:00:00Z",
        description=AWKWARD_TEXT,
        training=training(
            uses(
                "transactions",
                "2026-09-30",
                "amount",
                "hour",
                uri="s3://lake/transactions/2026-09-30/",
            )
        ),
    )
    add_version(
        root,
        "fraud",
        "1.3.0",
        stage="staging",
        created_at="2026-11-01T00:00:00Z",
        training=training(uses("transactions")),
    )
    add_version(
        root,
        "fraud",
        "1.4.0-rc.1",
        created_at="2026-11-15T00:00:00Z",
        training=training(uses("transactions", "2026-10-31", "card_hash", "amount")),
    )
    add_model(
        root,
        "churn",
        owner="dave",
        team="growth",
        classification=DECLARED,
        downstream=[{"name": "crm", "owner": "Carol"}],  # carol again, spelt differently
    )
    add_version(
        root,
        "churn",
        "2.0.0",
        stage="production",
        created_at="2026-10-15T00:00:00Z",
        training=training(
            uses("customer-profiles.v2", "2026-10-01", "customer_id", "spend"),
            uses("transactions", "2026-09-30", "hour"),
        ),
    )
    add_model(root, "ad-ranker.v2", owner="@acme/ads", team="ads", classification=DECLARED)
    add_version(
        root,
        "ad-ranker.v2",
        "0.1.0",
        created_at="2026-11-20T00:00:00Z",
        training=training(uses("customer-profiles.v2")),
    )
    return root


def break_file(root: Path, relative: str) -> None:
    """Make an entry unreadable (a duplicate key is refused by the strict loader)."""
    path = root / relative
    write(root, relative, path.read_text("utf-8") + "stage: production\n")


def promote_to_production(pr: PromotionRepo) -> PromotionRepo:
    """fraud 0.1.0 proposed by dave to staging (approved by carol), then to production
    (approved by carol and erin, governance), each merged by dave through the gate."""
    from steward.gate.promotion import merge_proposal, propose_promotion

    for stage, approvers in (("staging", ["carol"]), ("production", ["carol", "erin"])):
        opened = propose_promotion(pr.root, pr.forge, "fraud", "0.1.0", stage, "dave")
        for approver in approvers:
            pr.forge.add_review(opened.proposal.number, approver, "APPROVED")
        merge_proposal(pr.root, pr.forge, opened.proposal.number, "dave")
    return pr
