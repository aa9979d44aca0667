"""`steward audit`: Annex IV documentation from the registry and its history at one commit, with
findings first, as JSON (a documented structure), Markdown and one self-contained HTML page."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from steward.cli.main import run
from steward.governance import audit as audit_module
from steward.governance.audit import FINDING_CODES, FORMAT, audit
from steward.governance.audit_render import render_html, render_markdown
from steward.governance.audits import audit_output
from steward.reading.catalog import NotFound
from tests.builders import add_dataset, add_model, add_version, run_git, small_registry
from tests.governance_registry import promote_to_production
from tests.promotion_setup import PromotionRepo, make_promotion_repo

SCRIPT = "<script>alert(1)</script>"


@dataclass
class Audited:
    pr: PromotionRepo
    before_churn: str  # fraud promoted through the gate; churn not there yet

    @property
    def root(self) -> Path:
        return self.pr.root


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    """fraud (high risk) 0.1.0 promoted to staging and production through proposals approved by
    carol, then carol and erin (governance). Then, by a direct commit: churn (high risk, a TODO
    intended use, declared internal) with 1.0.0 straight in production, trained on a dataset
    with a pii column and on one that is not registered."""
    pr = promote_to_production(make_promotion_repo(tmp_path_factory.mktemp("audit")))
    before = run_git(pr.root, "rev-parse", "HEAD").strip()
    add_dataset(
        pr.root,
        "payments",
        columns=[{"name": "amount"}, {"name": "email", "classification": ["pii"]}],
    )
    add_model(
        pr.root,
        "churn",
        risk="high",
        description=f"Predicts churn {SCRIPT} & more",
        card={"intended_use": "TODO"},
    )
    add_version(
        pr.root,
        "churn",
        "1.0.0",
        stage="production",
        training={"datasets": [{"id": "payments"}, {"id": "customers"}]},
    )
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "churn, straight to production")
    return Audited(pr, before)


def findings(data: dict[str, Any], model: str | None = None) -> dict[tuple[str, str | None], Any]:
    return {
        (f["code"], f["version"]): f
        for f in data["findings"]
        if model is None or f["model"] == model
    }


def test_findings_name_each_gap(audited: Audited) -> None:
    data = audit(audited.root).as_dict()
    churn = findings(data, "churn")
    assert set(churn) == {
        ("missing_card_sections", None),
        ("production_without_approval", "1.0.0"),
        ("high_risk_without_required_approval", "1.0.0"),
        ("classification_below_inherited", None),
        ("dataset_unregistered", None),
    }
    cards = churn[("missing_card_sections", None)]
    assert cards["severity"] == "error"
    assert "intended_use" in cards["details"]["sections"]
    assert cards["details"]["required"] == {"intended_use": ["development -> staging"]}
    direct = churn[("production_without_approval", "1.0.0")]
    assert "direct commit" in direct["message"]
    assert direct["details"]["commit"] == run_git(audited.root, "rev-parse", "HEAD").strip()
    assert churn[("high_risk_without_required_approval", "1.0.0")]["details"]["roles"] == [
        "governance"
    ]
    below = churn[("classification_below_inherited", None)]["details"]
    assert below["uncovered"] == ["pii"]
    assert below["sources"] == [
        {
            "label": "pii",
            "dataset": "payments",
            "column": "email",
            "source": "dataset payments, column email",
        }
    ]
    unregistered = churn[("dataset_unregistered", None)]["details"]
    assert unregistered == {"dataset": "customers", "cited_by": ["churn@1.0.0"]}
    # fraud went through the gate with governance's approval: only its optional card sections
    fraud = findings(data, "fraud")
    assert set(fraud) == {("missing_card_sections", None)}
    assert fraud[("missing_card_sections", None)]["severity"] == "warning"
    assert {f["code"] for f in data["findings"]} <= set(FINDING_CODES)
    severities = [f["severity"] for f in data["findings"]]
    assert severities == sorted(severities)  # errors first


def test_the_json_structure(audited: Audited) -> None:
    data = audit(audited.root).as_dict()
    assert data["format"] == FORMAT
    assert list(data) == [
        "format",
        "rev",
        "commit",
        "committed_at",
        "findings",
        "roles",
        "approval_rules",
        "standards",
        "models",
    ]
    assert data["roles"]["governance"] == ["erin"]
    production_rule = next(r for r in data["approval_rules"] if r["to"] == "production")
    assert {"role": "governance", "count": 1, "when": {"risk": ["high"]}} in production_rule[
        "approvals"
    ]
    assert [m["name"] for m in data["models"]] == ["churn", "fraud"]
    fraud = data["models"][1]
    assert list(fraud) == [
        "name",
        "general_description",
        "development",
        "monitoring",
        "risk_management",
        "lifecycle",
    ]
    assert fraud["general_description"]["risk"] == "high"
    assert fraud["general_description"]["intended_use"] == "Rank card authorisations by fraud risk."
    assert fraud["development"]["versions"][0]["metrics"] == {"auc": 0.9}
    assert fraud["monitoring"]["production_versions"] == ["0.1.0"]
    promotions = fraud["lifecycle"]["promotions"]
    assert [(p["version"], p["stage"], p["approved_by"]) for p in promotions] == [
        ("0.1.0", "production", ["carol", "erin"]),
        ("0.1.0", "staging", ["carol"]),
    ]
    merges = run_git(audited.root, "log", "--first-parent", "--merges", "--format=%H").split()
    assert [p["commit"] for p in promotions] == merges
    assert all(p["proposed_by"] == "dave" and p["merged_by"] == "dave" for p in promotions)
    assert all(re.fullmatch(r"[0-9a-f]{16,}", p["verdict"]) for p in promotions)
    assert [
        (d["version"], d["event"], d["rollback"]) for d in fraud["lifecycle"]["deployments"]
    ] == [("0.1.0", "entered", False)]
    churn = data["models"][0]
    datasets = churn["development"]["versions"][0]["datasets"]
    assert [(d["id"], d["registered"]) for d in datasets] == [
        ("payments", True),
        ("customers", False),
    ]
    json.dumps(data)  # plain data throughout


def test_the_report_describes_the_revision_asked_for(audited: Audited) -> None:
    report = audit(audited.root, rev=audited.before_churn)
    assert report.commit == audited.before_churn
    assert [m.name for m in report.models] == ["fraud"]
    assert not report.errors


def test_one_model(audited: Audited) -> None:
    report = audit(audited.root, "fraud")
    assert [m.name for m in report.models] == ["fraud"]
    assert {f.code for f in report.findings} == {"missing_card_sections"}
    with pytest.raises(NotFound, match="model 'nope' is not in the registry"):
        audit(audited.root, "nope")


def test_markdown_lists_findings_before_the_models(audited: Audited) -> None:
    text = render_markdown(audit(audited.root))
    assert text.index("## Findings") < text.index("## Model churn") < text.index("## Model fraud")
    for heading in (
        "### 1\\. General description",
        "### 2\\. Development process and data",
        "### 3\\. Monitoring and control",
        "### 4\\. Risk management",
        "### 5\\. Changes over the lifecycle",
        "## Standards applied",
    ):
        assert heading in text
    assert SCRIPT not in text


def test_html_is_self_contained_and_escapes_every_value(audited: Audited) -> None:
    page = render_html(audit(audited.root))
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "Predicts churn &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert not re.search(r"\b(src|href)=|<link|@import|url\(", page)
    assert "<style>" in page


def test_cli_formats_output_file_and_exit_codes(
    audited: Audited, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(audited.root)
    capsys.readouterr()
    assert run(["-C", root, "audit", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["format"] == FORMAT
    assert "error(s)" in err
    assert run(["-C", root, "audit", "--strict"]) == 1  # churn has errors
    assert run(["-C", root, "audit", "--strict", "--rev", audited.before_churn]) == 0
    page = tmp_path / "audit.html"
    assert run(["-C", root, "audit", "fraud", "--format", "html", "-o", str(page)]) == 0
    assert "Model fraud" in page.read_text()
    capsys.readouterr()
    assert run(["-C", root, "audit", "nope"]) == 1
    assert "not in the registry" in capsys.readouterr().err


def test_an_unreadable_entry_is_a_finding_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pr = make_promotion_repo(tmp_path)
    add_version(pr.root, "fraud", "0.3.0", training={"datasets": [{"id": "transactions"}]})
    (pr.root / "registry/datasets/transactions.yaml").write_text("name: [unclosed\n")
    run_git(pr.root, "add", "-A")
    run_git(pr.root, "commit", "-qm", "break a dataset a version cites")
    report = audit(pr.root)
    # unreadable, not unregistered: its file is there
    assert [f.code for f in report.findings if f.severity == "error"] == ["unreadable_entry"]
    assert report.incomplete
    assert run(["-C", str(pr.root), "audit"]) == 1


def test_a_missing_policy_is_a_finding_not_a_clean_report(tmp_path: Path) -> None:
    # Without the policy nothing is required and no role is known: the report must not pass.
    pr = make_promotion_repo(tmp_path)
    run_git(pr.root, "rm", "-q", "policies/registry.yaml")
    run_git(pr.root, "commit", "-qm", "no policy")
    report = audit(pr.root, "fraud")
    unreadable = [f for f in report.findings if f.code == "unreadable_entry"]
    assert [f.details["path"] for f in unreadable] == ["policies/registry.yaml"]
    assert "does not exist" in unreadable[0].message
    assert report.incomplete
    assert run(["-C", str(pr.root), "audit"]) == 1


def test_retired_versions_do_not_count_against_the_declaration(tmp_path: Path) -> None:
    # As `steward check` counts: a retired version's data no longer binds the model.
    root = small_registry(tmp_path / "registry")
    add_dataset(root, "people", columns=[{"name": "email", "classification": ["pii"]}])
    add_model(root, "churn", classification=["internal"])
    add_version(
        root, "churn", "1.0.0", stage="retired", retired_at="2026-11-01T00:00:00Z",
        retired_reason="retention", training={"datasets": [{"id": "people"}]},
    )  # fmt: skip
    add_version(root, "churn", "1.1.0", training={"datasets": [{"id": "transactions"}]})
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "churn")
    codes = {f.code for f in audit(root, "churn").findings}
    assert "classification_below_inherited" not in codes
    add_version(root, "churn", "1.2.0", training={"datasets": [{"id": "people"}]})
    run_git(root, "add", "-A")
    run_git(root, "commit", "-qm", "churn 1.2.0 on people")
    [below] = [
        f for f in audit(root, "churn").findings if f.code == "classification_below_inherited"
    ]
    assert below.details["uncovered"] == ["pii"]


def test_a_team_in_a_high_risk_role_is_named_as_unresolved(tmp_path: Path) -> None:
    """Who is in `@acme/governance` is GitHub's to tell; the report says it could not ask."""
    pr = promote_to_production(make_promotion_repo(tmp_path))
    policy = pr.root / "policies/registry.yaml"
    policy.write_text(policy.read_text().replace("governance: [erin]", "governance: ['@acme/gov']"))
    run_git(pr.root, "commit", "-qam", "governance is a team now")
    found = findings(audit(pr.root).as_dict(), "fraud")
    finding = found[("high_risk_without_required_approval", "0.1.0")]
    assert finding["details"]["unresolved_teams"] == ["@acme/gov"]
    assert "members of @acme/gov are not resolved here" in finding["message"]


# --- kept reports -----------------------------------------------------------------------------


def counted_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The revisions audits read the registry at (a kept report reads nothing)."""
    reads: list[str] = []
    read = audit_module.read_registry

    def counting(root: Path, rev: str = "HEAD", model: str | None = None) -> Any:
        reads.append(rev)
        return read(root, rev, model)

    monkeypatch.setattr(audit_module, "read_registry", counting)
    return reads


def commit_all(root: Path, message: str) -> None:
    run_git(root, "add", "-A")
    run_git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message,
            "--allow-empty")  # fmt: skip


def test_an_audit_asked_again_at_the_same_commit_is_the_kept_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = small_registry(tmp_path / "reg")
    commit_all(root, "registry")
    reads = counted_reads(monkeypatch)
    first = audit_output(root, None, "HEAD", "json")
    assert first.text == json.dumps(audit(root).as_dict(), indent=2) + "\n"
    assert reads == ["HEAD", "HEAD"]
    assert audit_output(root, None, "HEAD", "json") == first
    assert reads == ["HEAD", "HEAD"]
    # Each question is its own: another format, one model, and the same commit named otherwise
    # (the report names the revision as asked).
    assert audit_output(root, None, "HEAD", "md").text == render_markdown(audit(root))
    assert '"model": "fraud"' in audit_output(root, "fraud", "HEAD", "json").text
    assert '"rev": "main"' in audit_output(root, None, "main", "json").text
    assert reads == ["HEAD", "HEAD", "HEAD", "HEAD", "HEAD", "main"]
    # A new commit is a new question.
    add_model(root, "churn")
    commit_all(root, "churn")
    assert '"name": "churn"' in audit_output(root, None, "HEAD", "json").text
    assert len(reads) == 7


def test_a_report_from_a_shallow_clone_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Deepening the clone later changes what the history shows at the same commit.
    origin = small_registry(tmp_path / "origin")
    commit_all(origin, "registry")
    commit_all(origin, "again")
    clone = tmp_path / "clone"
    run_git(tmp_path, "clone", "-q", "--depth=1", f"file://{origin}", str(clone))
    reads = counted_reads(monkeypatch)
    assert audit_output(clone, None, "HEAD", "md") == audit_output(clone, None, "HEAD", "md")
    assert reads == ["HEAD", "HEAD"]
    run_git(clone, "fetch", "-q", "--unshallow")
    audit_output(clone, None, "HEAD", "md")
    audit_output(clone, None, "HEAD", "md")
    assert reads == ["HEAD", "HEAD", "HEAD"]
