"""Registries for the catalog site's tests: a promotion history with approvals and merges, a
second model whose every free text is hostile markup, a dataset with hostile column texts, and
an open proposal with a gate verdict."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from steward.forge.local import LocalForge
from tests.builders import add_dataset, add_model, add_version, artifact_for, run_git
from tests.governance_registry import promote_to_production
from tests.promotion_setup import make_promotion_repo

# Texts that would run, load or break something if any page passed them through as markup.
HOSTILE = (
    '<img src=x onerror=alert(1)> "><script>alert(2)</script> '
    '<a href="javascript:alert(3)">x</a> <link rel=stylesheet href=https://evil.test/s.css> '
    "https://evil.test/x.png ' onmouseover='alert(4)"
)
# Entry paths cannot hold < > : " | ? * (Windows could not check them out); the rest can.
HOSTILE_FILE = "x' onerror='alert(5)' & {{7+7}} %3Cscript%3E.bin"
ODD_METRIC = "recall@k:10/top-5"  # valid, and every character of it shown as written


@dataclass(frozen=True)
class SiteRegistry:
    root: Path
    forge: LocalForge
    open_proposal: int


def site_registry(root: Path) -> SiteRegistry:
    """fraud (team risk-ml): 0.1.0 promoted to staging then production through two merged
    proposals; 0.2.0 in development. churn (team growth, high risk): 1.0.0 production and 1.1.0
    development, hostile texts everywhere, registered by direct commits; an open proposal of
    churn 1.1.0 to staging whose gate failed. Datasets `transactions` and `profiles`."""
    pr = promote_to_production(make_promotion_repo(root))
    add_dataset(
        pr.root,
        "profiles",
        owner="erin",
        description=HOSTILE,
        classification=["internal"],
        columns=[
            {"name": "email", "type": "string", "classification": ["pii"], "description": HOSTILE},
            {"name": HOSTILE, "type": HOSTILE},
            {"name": "spend", "type": "float"},
        ],
    )
    add_dataset(pr.root, "transactions")
    add_model(
        pr.root,
        "churn",
        owner="dave",
        team="growth",
        risk="high",
        classification=["internal", "pii"],
        description=HOSTILE,
        card={"intended_use": HOSTILE, "limitations": HOSTILE},
        downstream=[{"name": "crm", "owner": "dave", "description": HOSTILE}],
    )
    for version, stage, auc in (("1.0.0", "production", 0.8), ("1.1.0", "development", 0.85)):
        artifact, _ = artifact_for(version, {HOSTILE_FILE: b"weights " + version.encode()})
        add_version(
            pr.root,
            "churn",
            version,
            stage=stage,
            description=HOSTILE,
            artifact=artifact,
            metrics={"auc": auc, ODD_METRIC: auc / 2},
            training={
                "datasets": [
                    {"id": "profiles", "version": "2026-10-01", "columns": ["email", "spend"]},
                    {"id": "transactions", "version": "2026-10-31"},
                ],
                "hyperparameters": {"note": HOSTILE},
            },
        )
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "churn, registered by hand")
    from steward.gate.promotion import propose_promotion

    opened = propose_promotion(pr.root, pr.forge, "churn", "1.1.0", "staging", "dave")
    pr.forge.set_status(opened.proposal.head_sha, "steward/gate", "failure", "needs 1 approval")
    return SiteRegistry(pr.root, pr.forge, opened.proposal.number)
