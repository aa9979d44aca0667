"""`steward apply`: records (GTO tags), hooks delivered once and retried, GTO agreeing with us."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from steward.aftermerge.apply import apply_range
from steward.aftermerge.records import Record
from steward.cli.main import run
from steward.gate.promotion import merge_proposal, propose_promotion
from steward.reading.queries import Filters, list_versions
from tests.builders import run_git
from tests.promotion_setup import POLICY, PromotionRepo, make_promotion_repo

HOOKS = """
hooks:
  - name: deploy
    on: [production, staging]
    run: [{python}, {script}]
"""


def with_hook(tmp_path: Path, exit_code: int = 0) -> tuple[str, Path]:
    """A policy with a hook that appends the event it gets on stdin to a log, then exits."""
    log = tmp_path / "deployments.jsonl"
    script = tmp_path / "deploy.py"
    script.write_text(
        "import json, os, sys\n"
        "event = json.load(sys.stdin)\n"
        "event['env'] = os.environ['STEWARD_STAGE']\n"
        f"open({str(log)!r}, 'a').write(json.dumps(event) + '\\n')\n"
        f"sys.exit({exit_code})\n"
    )
    return POLICY + HOOKS.format(python=sys.executable, script=script), log


def promote(
    pr: PromotionRepo, version: str, stage: str, reviewers: tuple[str, ...] = ("carol",)
) -> None:
    number = propose_promotion(pr.root, pr.forge, "fraud", version, stage, "dave").proposal.number
    for reviewer in reviewers:
        pr.forge.add_review(number, reviewer, "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")


def tags(root: Path) -> list[str]:
    return sorted(run_git(root, "tag", "--list").split())


def test_a_local_merge_records_the_promotion_and_fires_the_hook_once(tmp_path: Path) -> None:
    policy, log = with_hook(tmp_path)
    pr = make_promotion_repo(tmp_path, policy)
    promote(pr, "0.2.0", "staging")
    assert tags(pr.root) == [
        "fraud#development!#3",
        "fraud#development#1",
        "fraud#development#2",
        "fraud#staging#4",
        "fraud@v0.1.0",
        "fraud@v0.2.0",
    ]  # the model's whole story, in order: both registered at development, then a promotion
    message = run_git(pr.root, "tag", "-l", "--format=%(contents)", "fraud#staging#4")
    record = Record.parse(message)
    assert record is not None
    assert (record.event, record.version, record.stage, record.proposal) == (
        "assignment",
        "0.2.0",
        "staging",
        1,
    )
    assert (record.proposed_by, record.approved_by, record.merged_by) == ("dave", ["carol"], "dave")
    assert record.verdict is not None and len(record.verdict) == 16
    registered = run_git(pr.root, "rev-list", "-n", "1", "fraud@v0.2.0").strip()
    assert run_git(pr.root, "rev-list", "-n", "1", "fraud#staging#4").strip() == registered
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["version"], e["stage"], e["env"]) for e in events] == [
        ("0.2.0", "staging", "staging")
    ]
    # Applying the whole history again adds nothing and runs nothing.
    third = apply_range(pr.root, None, "HEAD")
    assert (third.tagged, third.delivered, third.failed) == ([], [], [])
    assert len(log.read_text().splitlines()) == 1


def test_a_failing_hook_is_reported_and_retried(tmp_path: Path) -> None:
    policy, _ = with_hook(tmp_path, exit_code=3)
    pr = make_promotion_repo(tmp_path, policy)
    promote(pr, "0.2.0", "staging")
    first = apply_range(pr.root, None, "HEAD")
    assert any(f.startswith("deploy -> fraud#staging#4: exit 3") for f in first.failed)
    assert not first.ok
    script = tmp_path / "deploy.py"
    script.write_text(script.read_text().replace("sys.exit(3)", "sys.exit(0)"))
    second = apply_range(pr.root, None, "HEAD")
    # It ran before (and failed): the retry tells the hook it may have seen the event.
    assert second.delivered == ["deploy -> fraud#staging#4 (redelivery)"] and second.ok
    assert apply_range(pr.root, None, "HEAD").delivered == []


def test_apply_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pr = make_promotion_repo(tmp_path)
    assert run(["-C", str(pr.root), "apply", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["tagged"]) == {
        "fraud@v0.1.0",
        "fraud@v0.2.0",
        "fraud#development#1",
        "fraud#development#2",
    }
    assert run(["-C", str(pr.root), "apply"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_gto_sees_the_registry_steward_lists(tmp_path: Path) -> None:
    from steward.artifacts.registration import RegistrationRequest, register_version
    from steward.reading.create import create_model
    from tests.dvc_registry import write_model_files

    pr = make_promotion_repo(tmp_path)
    model = {"name": "churn", "owner": "carol", "team": "growth", "risk": "minimal"}
    create_model(pr.root, {**model, "card": {"intended_use": "Retention offers."}})
    files = write_model_files(tmp_path / "c", b"churn")
    register_version(pr.root, RegistrationRequest("churn", (files,), metrics={"auc": 0.9}))
    promote(pr, "0.1.0", "staging")
    promote(pr, "0.1.0", "production", ("carol", "erin"))
    promote(pr, "0.2.0", "staging")
    promote(pr, "0.2.0", "production", ("carol", "erin"))  # archives 0.1.0
    number = propose_promotion(
        pr.root, pr.forge, "churn", "0.1.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merge_proposal(pr.root, pr.forge, number, "dave")
    apply_range(pr.root, None, "HEAD")
    gto_cli = str(Path(sys.executable).with_name("gto"))  # the real GTO (DVC depends on it)
    gto = subprocess.run(
        [gto_cli, "show", "fraud", "--json"], cwd=pr.root, capture_output=True, text=True
    )
    assert gto.returncode == 0, gto.stderr
    theirs = {
        item["version"].removeprefix("v"): [stage["stage"] for stage in item["stages"]]
        for item in json.loads(gto.stdout)
    }
    rows = list_versions(pr.root, Filters(model="fraud")).rows
    ours = {row.version: [row.stage] for row in rows}
    assert ours == {"0.1.0": ["archived"], "0.2.0": ["production"]}
    assert theirs == ours
    churn = subprocess.run(
        [gto_cli, "show", "churn", "--json"],
        cwd=pr.root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert [
        (i["version"], [st["stage"] for st in i["stages"]]) for i in json.loads(churn.stdout)
    ] == [("v0.1.0", ["staging"])]


def _commit_policy(pr: PromotionRepo, policy: str) -> None:
    (pr.root / "policies/registry.yaml").write_text(policy)
    run_git(pr.root, "commit", "-qam", "policy")


def test_a_new_hook_does_not_replay_history_and_superseded_stages_are_not_deployed(
    tmp_path: Path,
) -> None:
    pr = make_promotion_repo(tmp_path)
    promote(pr, "0.1.0", "staging")
    promote(pr, "0.1.0", "production", ("carol", "erin"))
    policy, log = with_hook(tmp_path, exit_code=3)  # the new hook fails at first
    _commit_policy(pr, policy)
    assert apply_range(pr.root, None, "HEAD").delivered == []  # history before the hook: skipped
    assert not log.exists()
    promote(pr, "0.2.0", "staging")  # fails: retried later
    promote(pr, "0.2.0", "production", ("carol", "erin"))  # fails too
    script = tmp_path / "deploy.py"
    script.write_text(script.read_text().replace("sys.exit(3)", "sys.exit(0)"))
    result = apply_range(pr.root, None, "HEAD")
    # Only the latest assignment of each stage is deployed, in order; nothing older comes back.
    deployed = [(e["version"], e["stage"]) for e in map(json.loads, log.read_text().splitlines())]
    assert deployed[-1] == ("0.2.0", "production")
    assert ("0.1.0", "production") not in deployed
    assert result.ok


def test_a_forged_record_deploys_nothing(tmp_path: Path) -> None:
    policy, log = with_hook(tmp_path)
    pr = make_promotion_repo(tmp_path, policy)
    apply_range(pr.root, None, "HEAD")
    forged = Record(
        event="assignment", model="fraud", version="0.1.0", stage="production",
        commit=run_git(pr.root, "rev-parse", "HEAD").strip(),
        version_commit=run_git(pr.root, "rev-parse", "HEAD").strip(), at="2026-11-26T00:00:00Z",
    )  # fmt: skip
    run_git(pr.root, "tag", "-a", "-m", forged.tag_message(), "fraud#production#99", "HEAD")
    assert apply_range(pr.root, None, "HEAD").delivered == []
    assert not log.exists()


def test_an_old_record_copied_under_a_new_number_deploys_nothing(tmp_path: Path) -> None:
    """A true record of 0.1.0 entering staging, long superseded, pushed again under the highest
    number: the latest assignment is the one made last on the branch, so nothing rolls back."""
    policy, log = with_hook(tmp_path)
    pr = make_promotion_repo(tmp_path, policy)
    promote(pr, "0.1.0", "staging")
    first = run_git(pr.root, "rev-parse", "HEAD").strip()
    promote(pr, "0.2.0", "staging")
    delivered = log.read_text().splitlines()
    registered = run_git(pr.root, "rev-list", "-n", "1", "fraud@v0.1.0").strip()
    old = Record("assignment", "fraud", "0.1.0", "staging", first, registered, "2026-01-01T00:00Z")
    run_git(pr.root, "tag", "-a", "-m", old.tag_message(), "fraud#staging#50", registered)
    result = apply_range(pr.root, None, "HEAD")
    assert result.ok
    assert log.read_text().splitlines() == delivered  # nothing deployed again


def _stage_tags(root: Path) -> list[str]:
    names = run_git(root, "tag", "--list", "fraud#*").split()
    return sorted(names, key=lambda tag: int(tag.rsplit("#", 1)[1]))


def test_a_record_copied_at_its_own_commit_deploys_nothing(tmp_path: Path) -> None:
    """0.1.0 went to production (deployed), then was archived. Its true production record,
    copied under a higher number, names the same commit as the original: the first record of
    an assignment counts, and a version that left the stage is deployed no more."""
    policy, log = with_hook(tmp_path)
    pr = make_promotion_repo(tmp_path, policy)
    promote(pr, "0.1.0", "staging")
    promote(pr, "0.1.0", "production", ("carol", "erin"))
    promote(pr, "0.1.0", "archived")
    delivered = log.read_text().splitlines()
    entered = next(tag for tag in _stage_tags(pr.root) if tag.startswith("fraud#production#"))
    old = Record.parse(run_git(pr.root, "tag", "-l", "--format=%(contents)", entered))
    assert old is not None
    run_git(
        pr.root, "tag", "-a", "-m", old.tag_message(), "fraud#production#50", old.version_commit
    )
    assert apply_range(pr.root, None, "HEAD").ok
    assert log.read_text().splitlines() == delivered


def test_an_assignment_undone_before_its_delivery_is_not_deployed(tmp_path: Path) -> None:
    """The hook fails on 0.1.0 entering production; 0.1.0 is archived; the hook works again:
    the version left the stage, so that delivery is superseded, not made."""
    policy, _ = with_hook(tmp_path, exit_code=3)
    pr = make_promotion_repo(tmp_path, policy)
    promote(pr, "0.1.0", "staging")
    promote(pr, "0.1.0", "production", ("carol", "erin"))  # the hook fails
    promote(pr, "0.1.0", "archived")
    script = tmp_path / "deploy.py"
    script.write_text(script.read_text().replace("sys.exit(3)", "sys.exit(0)"))
    result = apply_range(pr.root, None, "HEAD")
    assert result.ok
    assert not [label for label in result.delivered if "production" in label]


def test_tags_made_by_others_do_not_break_the_numbering(tmp_path: Path) -> None:
    pr = make_promotion_repo(tmp_path)
    apply_range(pr.root, None, "HEAD")
    numbers = [int(t.rsplit("#", 1)[1]) for t in tags(pr.root) if "#" in t]
    taken = f"fraud#development!#{max(numbers) + 1}"  # as `gto deprecate` would name it
    run_git(pr.root, "tag", "-a", "-m", "by gto", taken, "fraud@v0.1.0")
    promote(pr, "0.2.0", "staging")
    result = apply_range(pr.root, None, "HEAD")
    assert result.ok
    assert f"fraud#staging#{max(numbers) + 3}" in tags(pr.root)
