"""The gate, end to end on real git, DVC and the local forge: each rule passing and failing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from steward.entries import layout
from steward.gate.evaluate import Verdict
from steward.gate.judge import run_gate
from steward.gate.promotion import GateFailed, merge_proposal, propose_promotion
from steward.gate.report import render_markdown, render_text
from steward.gitio.gitcmd import commit_blobs, head_commit
from tests.builders import run_git, write_yaml
from tests.dvc_registry import remote_object
from tests.promotion_setup import PromotionRepo, make_promotion_repo


@pytest.fixture
def pr(tmp_path: Path) -> PromotionRepo:
    return make_promotion_repo(tmp_path)


def status(verdict: Verdict, prefix: str) -> str:
    found = [r for r in verdict.rules if r.rule.startswith(prefix)]
    assert found, [r.rule for r in verdict.rules]
    return found[0].status


def reason(verdict: Verdict, prefix: str) -> str:
    return next(r for r in verdict.rules if r.rule.startswith(prefix)).reason


def judge(pr: PromotionRepo, number: int) -> Verdict:
    return run_gate(pr.root, "", "", forge=pr.forge, proposal_number=number).verdict


def staging_approved_by_carol(pr: PromotionRepo) -> Verdict:
    """The verdict on dave's proposal to promote fraud 0.2.0 to staging, approved by carol."""
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    return judge(pr, number)


def propose_edit(pr: PromotionRepo, files: dict[str, str], author: str, name: str) -> int:
    """A proposal whose branch changes `files` (path -> new text) on top of main."""
    base = head_commit(pr.root)
    commit_blobs(pr.root, base, {p: t.encode() for p, t in files.items()}, name, name)
    return pr.forge.create_proposal(name, "", name, "main", author).number


def text(pr: PromotionRepo, path: str) -> str:
    return (pr.root / path).read_text()


def test_promotion_needs_an_approval_then_merges(pr: PromotionRepo) -> None:
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    number = promotion.proposal.number
    diff = run_git(pr.root, "diff", "main", promotion.branch, "--unified=0")
    assert "-stage: development\n+stage: staging\n" in diff
    assert diff.count("\n+") == 2  # the +++ header and the one changed line
    verdict = judge(pr, number)
    assert not verdict.passed
    assert status(verdict, "approvals: fraud 0.2.0 development -> staging") == "failed"
    assert [(m.role, m.needed, m.have, m.candidates) for m in verdict.missing_approvals] == [
        ("ml-engineer", 1, 0, ("carol",))
    ]
    assert status(verdict, "gates: fraud 0.2.0") == "passed"
    assert status(verdict, "entries valid") == "passed"
    with pytest.raises(GateFailed, match="not merged: the gate failed"):
        merge_proposal(pr.root, pr.forge, number, "dave")
    pr.forge.add_review(number, "carol", "APPROVED")
    assert judge(pr, number).passed
    merged = merge_proposal(pr.root, pr.forge, number, "dave")
    assert "stage: staging" in text(pr, layout.version_path("fraud", "0.2.0"))
    message = run_git(pr.root, "log", "-1", "--format=%B", merged.commit)
    assert "Steward-Proposal: 1" in message
    assert "Steward-Approved-By: carol" in message
    assert f"Steward-Verdict: {merged.run.verdict.digest()}" in message
    assert len(run_git(pr.root, "log", "-1", "--format=%P", merged.commit).split()) == 2


def test_a_stale_approval_does_not_count(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    assert judge(pr, number).passed
    branch = pr.forge.get_proposal(number).head_branch
    tip = run_git(pr.root, "rev-parse", branch).strip()
    path = layout.version_path("fraud", "0.2.0")
    edited = run_git(pr.root, "show", f"{tip}:{path}").replace(
        "stage: staging", "stage: staging\ndescription: sneaked in after the approval"
    )
    run_git(pr.root, "branch", "-D", branch)
    commit_blobs(pr.root, tip, {path: edited.encode()}, "another commit", branch)
    verdict = judge(pr, number)
    assert not verdict.passed
    assert verdict.approvers == ()
    assert status(verdict, "approvals:") == "failed"


def test_the_author_cannot_approve_their_own_proposal(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "carol"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert verdict.missing_approvals[0].candidates == ("dave",)


def test_changes_requested_or_dismissed_after_an_approval_take_it_back(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    pr.forge.add_review(number, "carol", "CHANGES_REQUESTED", "auc on the holdout looks off")
    assert not judge(pr, number).passed
    pr.forge.add_review(number, "carol", "APPROVED")
    pr.forge.add_review(number, "carol", "COMMENTED", "a comment does not take it back")
    assert judge(pr, number).passed
    pr.forge.dismiss_review(number, "carol", by="erin")
    assert not judge(pr, number).passed


def test_an_approver_outside_the_role_does_not_count(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "mallory", "APPROVED")
    pr.forge.add_review(number, "erin", "APPROVED")  # governance, not ml-engineer
    verdict = judge(pr, number)
    assert not verdict.passed
    assert "ml-engineer: 0 of 1 approvals" in reason(verdict, "approvals:")


def test_a_skipped_stage_is_refused(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "production", "dave"
    ).proposal.number
    for reviewer in ("carol", "erin", "frank"):
        pr.forge.add_review(number, reviewer, "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert status(verdict, "transitions allowed") == "failed"
    assert "fraud 0.2.0 development -> production is not a transition of the base policy" in (
        next(r for r in verdict.rules if r.rule == "transitions allowed").details
    )


def test_a_proposal_cannot_loosen_the_policy_it_is_judged_by(pr: PromotionRepo) -> None:
    path = layout.version_path("fraud", "0.2.0")
    loose = text(pr, layout.POLICY_FILE).replace(
        "approvals: [{role: ml-engineer, count: 1}]\n  - from: staging\n    to: production",
        "approvals: []\n  - from: staging\n    to: production",
        1,
    )
    assert loose != text(pr, layout.POLICY_FILE)
    number = propose_edit(
        pr,
        {
            layout.POLICY_FILE: loose,
            path: text(pr, path).replace("stage: development", "stage: staging"),
        },
        "dave",
        "loosen-and-promote",
    )
    verdict = judge(pr, number)
    assert not verdict.passed
    assert status(verdict, "governance") == "failed"
    assert "policies/registry.yaml" in reason(verdict, "governance")
    assert status(verdict, "approvals: fraud 0.2.0") == "failed"  # the base policy still asks
    pr.forge.add_review(number, "carol", "APPROVED")
    assert not judge(pr, number).passed  # still needs governance
    pr.forge.add_review(number, "erin", "APPROVED")
    assert judge(pr, number).passed


def test_an_edited_metric_of_a_registered_version_is_refused(pr: PromotionRepo) -> None:
    path = layout.version_path("fraud", "0.1.0")
    number = propose_edit(
        pr, {path: text(pr, path).replace("auc: 0.9", "auc: 0.99")}, "dave", "better-numbers"
    )
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert status(verdict, "registered facts immutable") == "failed"
    assert (
        "fraud@0.1.0: metrics changed"
        in next(r for r in verdict.rules if r.rule == "registered facts immutable").details
    )


def test_a_deleted_version_is_refused(pr: PromotionRepo) -> None:
    base = head_commit(pr.root)
    run_git(pr.root, "checkout", "-q", "-b", "delete-it")
    run_git(pr.root, "rm", "-q", layout.version_path("fraud", "0.1.0"))
    run_git(pr.root, "commit", "-qm", "tidy up")
    run_git(pr.root, "checkout", "-q", "main")
    number = pr.forge.create_proposal("tidy", "", "delete-it", "main", "dave").number
    verdict = judge(pr, number)
    assert base == head_commit(pr.root)
    assert status(verdict, "registered facts immutable") == "failed"
    assert not verdict.passed


def test_a_missing_artifact_in_the_remote_fails_the_gate(pr: PromotionRepo) -> None:
    remote_object(pr.repo.remote, hashlib.md5(b"v2").hexdigest()).unlink()
    verdict = staging_approved_by_carol(pr)
    assert not verdict.passed
    assert "artifact: missing from the DVC remote: model.pkl" in reason(
        verdict, "gates: fraud 0.2.0"
    )


def test_an_unreachable_remote_fails_the_gate_closed(pr: PromotionRepo) -> None:
    config = pr.root / ".dvc/config"
    config.write_text("")  # no default remote any more
    verdict = staging_approved_by_carol(pr)
    assert not verdict.passed
    assert "artifact: could not check the DVC remote" in reason(verdict, "gates: fraud 0.2.0")


def _to_production(pr: PromotionRepo, version: str) -> None:
    """Promote `version` through staging to production with every approval it needs."""
    for stage in ("staging", "production"):
        number = propose_promotion(
            pr.root, pr.forge, "fraud", version, stage, "dave"
        ).proposal.number
        for reviewer in ("carol", "erin"):
            pr.forge.add_review(number, reviewer, "APPROVED")
        merge_proposal(pr.root, pr.forge, number, "dave")


def test_a_high_risk_model_needs_its_governance_approval(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.1.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.1.0", "production", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert [(m.role, m.candidates) for m in verdict.missing_approvals] == [
        ("governance", ("erin",))
    ]
    pr.forge.add_review(number, "erin", "APPROVED")
    assert judge(pr, number).passed


def test_promoting_into_production_archives_the_holder_and_checks_regression(
    pr: PromotionRepo,
) -> None:
    _to_production(pr, "0.2.0")  # auc 0.93
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.1.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.1.0", "production", "dave")
    assert promotion.archived == ("0.2.0",)
    for reviewer in ("carol", "erin"):
        pr.forge.add_review(promotion.proposal.number, reviewer, "APPROVED")
    verdict = judge(pr, promotion.proposal.number)
    # 0.1.0 (auc 0.9) is worse than the holder 0.2.0 (0.93) by more than 0.01
    assert not verdict.passed
    assert "worse than 0.93 of the current holder 0.2.0 by 0.03" in reason(
        verdict, "gates: fraud 0.1.0 staging"
    )
    assert status(verdict, "single stages") == "passed"
    assert status(verdict, "approvals: fraud 0.2.0 production -> archived") == "passed"
    delta = next(d for d in verdict.deltas if d.metric == "auc")
    assert (delta.holder, delta.holder_value, round(delta.delta or 0, 6)) == ("0.2.0", 0.93, -0.03)
    markdown = render_markdown(verdict, promotion.proposal.number)
    assert markdown.startswith("## ❌ Steward gate failed for proposal #")
    assert "| fraud 0.1.0 → production | `auc` | 0.9 | 0.93 (0.2.0) | -0.03 |" in markdown


def test_a_second_production_version_is_refused(pr: PromotionRepo) -> None:
    _to_production(pr, "0.2.0")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.1.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")
    path = layout.version_path("fraud", "0.1.0")
    number = propose_edit(  # by hand, without archiving the holder
        pr, {path: text(pr, path).replace("stage: staging", "stage: production")}, "dave", "two"
    )
    for reviewer in ("carol", "erin"):
        pr.forge.add_review(number, reviewer, "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert status(verdict, "single stages") == "failed"
    assert (
        "fraud has 2 versions in production: 0.1.0, 0.2.0"
        in next(r for r in verdict.rules if r.rule == "single stages").details
    )


def test_pii_training_data_needs_the_privacy_role(pr: PromotionRepo, tmp_path: Path) -> None:
    from steward.artifacts.registration import (
        DatasetCitation,
        RegistrationError,
        RegistrationRequest,
        register_version,
    )

    dataset = pr.root / layout.dataset_path("transactions")
    dataset.write_text(
        dataset.read_text().replace("- name: amount", "- classification: [pii]\n  name: amount")
    )
    run_git(pr.root, "commit", "-qam", "the amount column is personal data")
    files = tmp_path / "pii-model"
    files.mkdir()
    (files / "model.pkl").write_bytes(b"trained on personal data")
    request = RegistrationRequest(
        "fraud", (files,), version="0.3.0", metrics={"auc": 0.95},
        datasets=(DatasetCitation("transactions"),),
    )  # fmt: skip
    before = run_git(pr.root, "rev-parse", "HEAD")
    inherits = r"would inherit 'pii' from dataset transactions, column"
    with pytest.raises(RegistrationError, match=inherits):
        register_version(pr.root, request)  # the model does not declare pii yet
    assert run_git(pr.root, "rev-parse", "HEAD") == before
    model_file = pr.root / layout.model_path("fraud")
    model = yaml.safe_load(model_file.read_text())
    write_yaml(
        pr.root, layout.model_path("fraud"), {**model, "classification": ["internal", "pii"]}
    )
    run_git(pr.root, "commit", "-qam", "fraud declares the personal data it is trained on")
    register_version(pr.root, request)
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.3.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.3.0", "production", "dave"
    ).proposal.number
    for reviewer in ("carol", "erin"):
        pr.forge.add_review(number, reviewer, "APPROVED")
    verdict = judge(pr, number)
    assert [(m.role, m.candidates) for m in verdict.missing_approvals] == [("privacy", ("frank",))]
    pr.forge.add_review(number, "frank", "APPROVED")
    assert judge(pr, number).passed


def test_gate_between_revisions_without_a_proposal_fails_closed_on_approvals(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    from steward.cli.main import run

    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    code = run(
        [
            "-C",
            str(pr.root),
            "gate",
            "--base",
            "main",
            "--head",
            promotion.branch,
            "--author",
            "dave",
        ]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "gate FAILED" in out
    assert "reviews could not be read: no proposal" in out
    markdown = pr.root / "verdict.md"
    assert run(["-C", str(pr.root), "gate", "--proposal", "1", "--markdown", str(markdown)]) == 1
    assert markdown.read_text().startswith("## ❌ Steward gate failed for proposal #1")
    assert run(["-C", str(pr.root), "gate", "--proposal", "1", "--json"]) == 1
    assert '"passed": false' in capsys.readouterr().out


def test_who_may_create_models_and_register_versions(pr: PromotionRepo) -> None:
    model = "name: churn\nowner: mallory\nteam: growth\nrisk: limited\n"
    number = propose_edit(pr, {layout.model_path("churn"): model}, "mallory", "new-model")
    verdict = judge(pr, number)
    assert status(verdict, "may create models") == "failed"
    number = propose_edit(pr, {layout.model_path("churn"): model}, "carol", "new-model-2")
    assert status(judge(pr, number), "may create models") == "passed"
    path = layout.version_path("fraud", "0.1.0")
    described = text(pr, path).replace("stage: development", "stage: development\ndescription: x")
    number = propose_edit(pr, {path: described}, "mallory", "edit-by-stranger")
    assert status(judge(pr, number), "may register or edit") == "failed"
    number = propose_edit(pr, {path: described}, "carol", "edit-by-owner")
    assert status(judge(pr, number), "may register or edit") == "passed"


def test_text_report_lists_every_rule(pr: PromotionRepo) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    report = render_text(judge(pr, number), number)
    for rule in (
        "entries valid",
        "registered facts immutable",
        "transitions allowed",
        "governance",
    ):
        assert rule in report
    assert "still needed: 1 approval(s) from ml-engineer" in report


def test_metric_threshold_and_model_card_gates_fail_when_unmet(pr: PromotionRepo) -> None:
    policy = text(pr, layout.POLICY_FILE).replace("auc: {min: 0.85}", "auc: {min: 0.95}")
    model = text(pr, layout.model_path("fraud")).replace(
        "intended_use: Rank card authorisations by fraud risk.", "limitations: EU only."
    )
    (pr.root / layout.POLICY_FILE).write_text(policy)
    (pr.root / layout.model_path("fraud")).write_text(model)
    run_git(pr.root, "commit", "-qam", "stricter gate, card without intended use")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    why = reason(judge(pr, number), "gates: fraud 0.2.0")
    assert "metric auc = 0.93 is below the minimum 0.95" in why
    assert "model card: intended_use is empty" in why


def test_a_placeholder_card_section_fails_the_model_card_rule(pr: PromotionRepo) -> None:
    """`TODO` is not an intended use: the gate asks `card_sections.filled_sections`, as card and
    show do."""
    model = text(pr, layout.model_path("fraud")).replace(
        "intended_use: Rank card authorisations by fraud risk.", "intended_use: TODO"
    )
    (pr.root / layout.model_path("fraud")).write_text(model)
    run_git(pr.root, "commit", "-qam", "card with a placeholder")
    verdict = staging_approved_by_carol(pr)
    assert not verdict.passed
    assert "model card: intended_use is empty" in reason(verdict, "gates: fraud 0.2.0")


def test_a_team_extension_adds_approvals_to_its_models(pr: PromotionRepo) -> None:
    team = pr.root / "policies/teams/risk-ml.yaml"
    team.parent.mkdir(parents=True, exist_ok=True)
    team.write_text(
        "team: risk-ml\ntransitions:\n"
        "  - {from: development, to: staging, approvals: [{role: governance, count: 1}]}\n"
    )
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "risk-ml wants governance on every staging promotion")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert [(m.role, m.candidates) for m in verdict.missing_approvals] == [
        ("governance", ("erin",))
    ]
    pr.forge.add_review(number, "erin", "APPROVED")
    assert judge(pr, number).passed


def test_a_version_registered_past_development_is_refused(pr: PromotionRepo) -> None:
    source = text(pr, layout.version_path("fraud", "0.2.0"))
    pointer = text(pr, layout.pointer_path("fraud", "0.2.0"))
    entry = (
        source.replace("version: 0.2.0", "version: 0.9.0")
        .replace("stage: development", "stage: production")
        .replace("dvc: 0.2.0.dvc", "dvc: 0.9.0.dvc")
    )
    number = propose_edit(
        pr,
        {
            layout.version_path("fraud", "0.9.0"): entry,
            layout.pointer_path("fraud", "0.9.0"): pointer.replace("path: 0.2.0", "path: 0.9.0"),
        },
        "ci-bot",
        "straight-to-production",
    )
    verdict = judge(pr, number)
    assert status(verdict, "transitions allowed") == "failed"
    assert (
        "fraud 0.9.0 is registered at production: new versions start at development"
        in next(r for r in verdict.rules if r.rule == "transitions allowed").details
    )
    assert status(verdict, "may register or edit") == "passed"  # ci-bot is a registrar


def test_an_invalid_entry_in_the_proposal_fails_the_gate(pr: PromotionRepo) -> None:
    path = layout.version_path("fraud", "0.2.0")
    number = propose_edit(
        pr,
        {path: text(pr, path).replace("stage: development", "stage: staging\nstage: prod")},
        "dave",
        "dup",
    )
    verdict = judge(pr, number)
    assert status(verdict, "entries valid") == "failed"
    assert any(
        "duplicate key 'stage'" in d
        for d in next(r for r in verdict.rules if r.rule == "entries valid").details
    )


def test_unreadable_reviews_fail_closed(pr: PromotionRepo) -> None:
    from steward.gate.evaluate import Evidence, evaluate
    from steward.gate.judge import build_input

    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    data = build_input(pr.root, head_commit(pr.root), promotion.commit)
    evidence = Evidence(author="dave", head_sha=None, reviews=None, reviews_error="HTTP 502")
    verdict = evaluate(data, evidence)
    assert not verdict.passed
    assert "reviews could not be read: HTTP 502" in reason(verdict, "approvals:")
    assert "artifact: could not check the DVC remote (not checked)" in reason(verdict, "gates:")


def test_two_promotions_that_are_each_fine_cannot_both_land(pr: PromotionRepo) -> None:
    for version in ("0.1.0", "0.2.0"):
        number = propose_promotion(
            pr.root, pr.forge, "fraud", version, "staging", "dave"
        ).proposal.number
        pr.forge.add_review(number, "carol", "APPROVED")
        merge_proposal(pr.root, pr.forge, number, "dave")
    first = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "production", "dave")
    second = propose_promotion(pr.root, pr.forge, "fraud", "0.1.0", "production", "dave")
    for promotion in (first, second):
        for reviewer in ("carol", "erin"):
            pr.forge.add_review(promotion.proposal.number, reviewer, "APPROVED")
    assert judge(pr, second.proposal.number).passed  # alone, against the old base
    merge_proposal(pr.root, pr.forge, first.proposal.number, "dave")
    verdict = judge(pr, second.proposal.number)  # judged on what merging it would produce
    assert not verdict.passed
    assert status(verdict, "single stages") == "failed"
    with pytest.raises(GateFailed):
        merge_proposal(pr.root, pr.forge, second.proposal.number, "dave")


def test_a_merge_refuses_branches_that_moved_after_the_verdict(pr: PromotionRepo) -> None:
    from steward.forge.protocol import ForgeError

    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    number = promotion.proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    judged = run_gate(pr.root, "", "", forge=pr.forge, proposal_number=number)
    run_git(pr.root, "commit", "-q", "--allow-empty", "-m", "main moves on")
    with pytest.raises(ForgeError, match="the base branch moved"):
        pr.forge.merge(number, "dave", "m", expected_base=judged.base, expected_head=judged.head)
    assert pr.forge.get_proposal(number).state == "open"


# --- found by an adversarial review ---------------------------------------------------------


def test_a_prohibited_model_cannot_be_promoted_and_risk_edits_need_governance(
    pr: PromotionRepo,
) -> None:
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")
    model_path = layout.model_path("fraud")
    path = layout.version_path("fraud", "0.2.0")
    number = propose_edit(
        pr,
        {
            model_path: text(pr, model_path).replace("risk: high", "risk: prohibited"),
            path: text(pr, path).replace("stage: staging", "stage: production"),
        },
        "dave",
        "escalate-and-promote",
    )
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert not verdict.passed
    assert "fraud is of the prohibited risk class" in " ".join(
        next(r for r in verdict.rules if r.rule == "transitions allowed").details
    )
    assert status(verdict, "governance") == "failed"
    assert "fraud: risk" in reason(verdict, "governance")
    # The governance approval of the high class is still asked for: base risk counts too.
    assert ("governance", ("erin",)) in [(m.role, m.candidates) for m in verdict.missing_approvals]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("risk: high", "risk: minimal"),
        ("team: risk-ml", "team: growth"),
        ("owner: carol", "owner: dave"),
    ],
)
def test_edits_deciding_who_approves_need_governance(pr: PromotionRepo, old: str, new: str) -> None:
    path = layout.model_path("fraud")
    number = propose_edit(pr, {path: text(pr, path).replace(old, new)}, "carol", "quiet-edit")
    verdict = judge(pr, number)
    assert status(verdict, "governance") == "failed"
    pr.forge.add_review(number, "erin", "APPROVED")
    assert judge(pr, number).passed


def test_a_model_declares_more_freely_but_less_only_with_governance(pr: PromotionRepo) -> None:
    path = layout.model_path("fraud")
    assert "classification:\n- internal\n" in text(pr, path)
    more = text(pr, path).replace(
        "classification:\n- internal\n", "classification:\n- internal\n- pii\n"
    )
    number = propose_edit(pr, {path: more}, "carol", "declare-pii")
    assert judge(pr, number).passed
    merge_proposal(pr.root, pr.forge, number, "carol")
    less = text(pr, path).replace("- pii\n", "")
    number = propose_edit(pr, {path: less}, "carol", "undeclare-pii")
    verdict = judge(pr, number)
    assert status(verdict, "governance") == "failed"
    assert "fraud: classification" in reason(verdict, "governance")
    pr.forge.add_review(number, "erin", "APPROVED")
    assert judge(pr, number).passed


def test_datasets_are_changed_by_their_owner_and_declassified_with_governance(
    pr: PromotionRepo,
) -> None:
    path = layout.dataset_path("transactions")
    declassified = (
        text(pr, path)
        .replace("- internal", "[]")
        .replace("classification:\n[]", "classification: []")
    )
    assert declassified != text(pr, path)
    number = propose_edit(pr, {path: declassified}, "mallory", "declassify")
    verdict = judge(pr, number)
    assert status(verdict, "may change datasets") == "failed"
    assert status(verdict, "governance") == "failed"
    described = text(pr, path).replace("owner: erin", "owner: erin\ndescription: daily export")
    number = propose_edit(pr, {path: described}, "erin", "describe")
    verdict = judge(pr, number)
    assert status(verdict, "may change datasets") == "passed"
    assert verdict.passed


def test_the_dvc_remote_is_the_bases_and_protected(pr: PromotionRepo) -> None:
    config = text(pr, ".dvc/config")
    number = propose_edit(
        pr, {".dvc/config": config + "    # points elsewhere\n"}, "mallory", "dvc"
    )
    assert status(judge(pr, number), "governance") == "failed"
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    pr.forge.add_review(promotion.proposal.number, "carol", "APPROVED")
    (pr.root / ".dvc/config").write_text(config.replace(str(pr.repo.remote), "/tmp/a-fake-remote"))
    verdict = judge(pr, promotion.proposal.number)
    assert "the checkout's .dvc/config is not the base branch's" in reason(verdict, "gates:")


def test_a_forged_listing_on_the_remote_fails_the_gate_without_a_crash(pr: PromotionRepo) -> None:
    from steward.entries.validate import read_entry

    entry = read_entry(pr.root, layout.version_path("fraud", "0.2.0"), layout.Kind.VERSION)
    listing = remote_object(pr.repo.remote, entry.artifact.md5)
    listing.chmod(0o644)
    listing.write_bytes(b"[1]")
    verdict = staging_approved_by_carol(pr)
    assert not verdict.passed
    assert "artifact: missing from the DVC remote" in reason(verdict, "gates:")


def test_neutral_files_in_policies_teams_do_not_break_the_gate(pr: PromotionRepo) -> None:
    (pr.root / "policies/teams").mkdir(parents=True, exist_ok=True)
    (pr.root / "policies/teams/.gitkeep").write_text("")
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "keep the teams directory")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    assert judge(pr, number).passed


def test_a_submodule_in_the_registry_is_refused(pr: PromotionRepo) -> None:
    base = head_commit(pr.root)
    run_git(pr.root, "checkout", "-q", "-b", "gitlink")
    run_git(
        pr.root, "update-index", "--add", "--cacheinfo", f"160000,{base},registry/models/fraud/sub"
    )
    run_git(pr.root, "commit", "-qm", "a submodule where entries live")
    run_git(pr.root, "checkout", "-q", "main")
    number = pr.forge.create_proposal("gitlink", "", "gitlink", "main", "dave").number
    verdict = judge(pr, number)
    assert status(verdict, "entries valid") == "failed"


def test_judging_a_head_already_in_the_base_fails(pr: PromotionRepo) -> None:
    verdict = run_gate(pr.root, "main", "main~1", author="dave").verdict
    assert status(verdict, "changes") == "failed"
    assert not verdict.passed
