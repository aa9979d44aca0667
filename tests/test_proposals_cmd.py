"""Proposals you can see and open for any change: `steward proposals`, `proposal show`,
`propose` (the working tree's edits, or a branch), `close`, and `gate N`; on the local forge
through the CLI and on the fake GitHub through PyGithub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.cli.main import run
from steward.gate.promotion import propose_promotion
from tests.builders import run_git
from tests.github_api import FakeGitHub
from tests.promotion_setup import PromotionRepo, make_promotion_repo
from tests.test_github_forge import Waits, forge_for, mirror


@pytest.fixture
def pr(tmp_path: Path) -> PromotionRepo:
    return make_promotion_repo(tmp_path)


def cli(pr: PromotionRepo, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["-C", str(pr.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_reviewer_sees_the_proposal_before_approving(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(pr, capsys, "promote", "fraud", "0.2.0", "--to", "staging", "--as", "dave")[0] == 0
    code, out, _ = cli(pr, capsys, "proposals")
    assert code == 0 and "#1  open" in out and "by dave" in out
    code, out, _ = cli(pr, capsys, "proposal", "show", "1")
    assert code == 0
    assert "gate (judged now): fails" in out and "approvals" in out
    assert "auc" in out  # the body's metrics comparison
    assert "reviews: none yet" in out
    assert cli(pr, capsys, "review", "1", "--approve", "--as", "carol")[0] == 0
    code, out, _ = cli(pr, capsys, "proposal", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["gate"] == {"state": "success", "description": "all rules met", "judged": "now"}
    assert [(r["reviewer"], r["state"], r["on_current_head"]) for r in shown["reviews"]] == [
        ("carol", "APPROVED", True)
    ]
    assert cli(pr, capsys, "gate", "1")[0] == 0
    assert cli(pr, capsys, "merge", "1", "--as", "dave")[0] == 0
    code, out, _ = cli(pr, capsys, "proposals", "--state", "merged", "--json")
    assert [p["number"] for p in json.loads(out)] == [1]
    assert "no open proposals" in cli(pr, capsys, "proposals")[1]


def test_gate_with_the_old_proposal_option_still_works_and_says_it_is_deprecated(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(pr, capsys, "promote", "fraud", "0.2.0", "--to", "staging", "--as", "dave")
    code, out, err = cli(pr, capsys, "gate", "--proposal", "1")
    assert code == 1 and "gate FAILED for proposal #1" in out
    assert "`--proposal N` is deprecated" in err and "steward gate 1" in err


def test_propose_turns_a_card_edit_into_a_proposal_and_close_ends_it(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    model = pr.root / "registry/models/fraud/model.yaml"
    edited = model.read_text().replace(
        "intended_use: Rank card authorisations by fraud risk.",
        "intended_use: Rank card authorisations by fraud risk, in the EU only.",
    )
    assert edited != model.read_text()
    model.write_text(edited)
    (pr.root / "scratch.ipynb").write_text("{}")  # a stray file beside the registry: stays
    head = pr.repo.head()
    code, out, _ = cli(pr, capsys, "propose", "-m", "Narrow fraud's intended use", "--as", "carol")
    assert code == 0 and "Opened proposal #1" in out and "1 file(s) moved" in out
    assert pr.repo.head() == head
    assert run_git(pr.root, "status", "--porcelain") == "?? scratch.ipynb\n"
    branch = "steward/propose/narrow-fraud-s-intended-use"
    assert "in the EU only" in run_git(
        pr.root, "show", f"{branch}:registry/models/fraud/model.yaml"
    )
    shown = json.loads(cli(pr, capsys, "proposal", "show", "1", "--json")[1])
    assert shown["author"] == "carol" and "registry/models/fraud/model.yaml" in shown["body"]
    code, out, _ = cli(pr, capsys, "close", "1")
    assert code == 0 and "Closed proposal #1" in out
    assert (
        json.loads(cli(pr, capsys, "proposals", "--state", "closed", "--json")[1])[0]["number"] == 1
    )
    code, _, err = cli(pr, capsys, "propose")
    assert code == 1 and "nothing to propose" in err


def test_propose_an_existing_branch_keeps_the_executable_bit_of_a_hook_script(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    script = pr.root / "deploy" / "rollout.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho deploy\n")
    script.chmod(0o755)
    code, out, _ = cli(
        pr, capsys, "propose", "deploy", "-m", "Add the rollout script", "--as", "dave"
    )
    assert code == 0, out
    tree = run_git(pr.root, "ls-tree", "-r", "steward/propose/add-the-rollout-script", "deploy")
    assert tree.startswith("100755 ")
    assert not script.exists()  # moved to the branch; the merge brings it back
    run_git(pr.root, "branch", "mine", "steward/propose/add-the-rollout-script")
    assert cli(pr, capsys, "close", "1")[0] == 0
    code, out, _ = cli(pr, capsys, "propose", "--branch", "mine", "--as", "dave")
    assert code == 0 and "Opened proposal #2: Add the rollout script" in out


def test_on_github_proposals_are_listed_shown_and_closed(
    pr: PromotionRepo, github: FakeGitHub
) -> None:
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    number = mirror(pr, github, promotion.branch, "dave", promotion.proposal.title)
    forge = forge_for(github, Waits())
    assert [p.number for p in forge.list_proposals("open")] == [number]
    forge.set_status(promotion.commit, "steward/gate", "failure", "1 rules failed")
    assert [(s.context, s.state) for s in forge.get_statuses(promotion.commit)] == [
        ("steward/gate", "failure")
    ]
    closed = forge.close_proposal(number)
    assert closed.state == "closed"
    assert forge.list_proposals("open") == []
    assert [p.number for p in forge.list_proposals("closed")] == [number]
    assert forge.list_proposals("merged") == []
