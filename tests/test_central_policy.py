"""A central policy that team registries build on and cannot go below (#18, part 1).

Real repositories: a central governance repository (with a bare origin the teams fetch from)
and team registries made by `steward init` with a local DVC remote and the local forge."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from steward.cli.main import run
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.policy_floor import effective_policy, weakenings
from steward.entries.validate import parse_file
from steward.gate.evaluate import Verdict
from steward.gate.judge import run_gate
from steward.gate.promotion import propose_promotion
from steward.gitio.gitcmd import commit_blobs, head_commit
from steward.reading.central_policy import read_central
from steward.reading.registry import check_registry
from tests.builders import run_git
from tests.federation_setup import Central
from tests.promotion_setup import PromotionRepo, make_promotion_repo

CENTRAL = """\
roles:
  ml-engineer: []
  registrars: []
  governance: [erin]
  platform: [paula]
create_models: [ml-engineer]
register_versions: [registrars, ml-engineer]
stages:
  production: {single: true}
transitions:
  - from: development
    to: staging
    gates: {metrics: {auc: {min: 0.85}}, model_card: [intended_use], artifact_available: true}
    approvals: [{role: ml-engineer, count: 1}]
  - from: staging
    to: production
    gates: {metrics: {auc: {max_regression: 0.01}}}
    approvals:
      - {role: ml-engineer, count: 1}
      - {role: governance, count: 1, when: {risk: [high]}}
  - from: staging
    to: archived
    approvals: [{role: ml-engineer, count: 2}]
  - from: production
    to: archived
    approvals: [{role: ml-engineer, count: 1}]
governance:
  ungoverned: [README.md, docs/]
  approvals: [{role: platform, count: 1}]
"""

TEAM_ROLES = """\
roles:
  ml-engineer: [carol, dave]
  registrars: [ci-bot]
  lead: [gina]
"""


def team_policy(central: Central, commit: str, extra: str = "", blob: bool = False) -> str:
    pin = f"central:\n  repo: {central.origin}\n  commit: {commit}\n"
    if blob:
        pin += f"  blob: {central.blob(commit)}\n"
    governance = "governance:\n  approvals: [{role: platform, count: 1}]\n"
    return pin + TEAM_ROLES + extra + ("" if "governance:" in extra else governance)


@pytest.fixture
def central(tmp_path: Path) -> Central:
    return Central(tmp_path)


@pytest.fixture
def team(tmp_path: Path, central: Central) -> PromotionRepo:
    commit = central.publish(CENTRAL)
    return make_promotion_repo(tmp_path / "team", team_policy(central, commit))


def blob_of(text: str) -> str:
    return subprocess.run(
        ["git", "hash-object", "--stdin"], input=text, capture_output=True, text=True, check=True
    ).stdout.strip()


def default_team_policy() -> str:
    """The team's policy before it pins anything: its own, like the central file."""
    return (
        CENTRAL.replace("ml-engineer: []", "ml-engineer: [carol, dave]")
        .replace("registrars: []", "registrars: [ci-bot]")
        .replace("[{role: platform, count: 1}]", "[{role: governance, count: 1}]")
    )


def policy_of(text: str) -> object:
    entry = parse_file(Kind.POLICY, text.encode(), "x.yaml").entry
    assert entry is not None, text
    return entry


def rendered(root: Path) -> list[str]:
    return [problem.render() for problem in check_registry(root).problems]


def judge(pr: PromotionRepo, number: int) -> Verdict:
    return run_gate(pr.root, "", "", forge=pr.forge, proposal_number=number).verdict


def rule(verdict: Verdict, prefix: str) -> tuple[str, str]:
    found = [r for r in verdict.rules if r.rule.startswith(prefix)]
    assert found, [r.rule for r in verdict.rules]
    return found[0].status, " ".join((found[0].reason, *found[0].details))


def propose_files(pr: PromotionRepo, files: dict[str, str], author: str, name: str) -> int:
    commit_blobs(
        pr.root, head_commit(pr.root), {p: t.encode() for p, t in files.items()}, name, name
    )
    return pr.forge.create_proposal(name, "", name, "main", author).number


def commit_policy(pr: PromotionRepo, text: str) -> None:
    (pr.root / layout.POLICY_FILE).write_text(text)
    run_git(pr.root, "commit", "-qam", "policy")


# --- the floor, as a pure function --------------------------------------------------------------


def test_the_effective_policy_is_the_central_one_plus_the_teams_additions() -> None:
    central = policy_of(CENTRAL)
    local = policy_of(
        TEAM_ROLES + "transitions:\n  - from: development\n    to: staging\n"
        "    gates: {metrics: {auc: {min: 0.9}, f1: {min: 0.5}}, model_card: [limitations]}\n"
        "    approvals: [{role: lead, count: 1}, {role: ml-engineer, count: 2}]\n"
        "governance:\n  paths: [deploy/]\n  approvals: [{role: lead, count: 1}]\n"
    )
    assert weakenings(central, local) == []  # type: ignore[arg-type]
    merged = effective_policy(central, local)  # type: ignore[arg-type]
    staging = next(t for t in merged.transitions if (t.from_, t.to) == ("development", "staging"))
    assert staging.gates.metrics["auc"].min == 0.9  # the stricter of the two
    assert staging.gates.metrics["f1"].min == 0.5
    assert staging.gates.model_card == ["intended_use", "limitations"]
    assert staging.gates.artifact_available  # the central floor stays
    assert [(a.role, a.count) for a in staging.approvals] == [("ml-engineer", 2), ("lead", 1)]
    assert [(t.from_, t.to) for t in merged.transitions] == [
        (t.from_, t.to)
        for t in central.transitions  # type: ignore[attr-defined]
    ]
    assert merged.roles["ml-engineer"] == ["carol", "dave"]  # a role the team fills
    assert merged.roles["governance"] == ["erin"]
    assert "deploy/" in merged.governance.paths and "policies/" in merged.governance.paths
    assert {(a.role, a.count) for a in merged.governance.approvals} == {
        ("platform", 1),
        ("lead", 1),
    }
    assert merged.single_stages() == {"production"}


WEAKENINGS = [
    (
        "a role added to who may create models",
        "create_models: [ml-engineer, lead]\n",
        "create_models[1]",
        "role 'lead' is not in the central policy's create_models (ml-engineer)",
    ),
    (
        "fewer approvals",
        "transitions:\n  - from: staging\n    to: archived\n"
        "    approvals: [{role: ml-engineer, count: 1}]\n",
        "transitions[0].approvals[0].count",
        "fewer than the central policy's 2",
    ),
    (
        "a looser threshold",
        "transitions:\n  - from: development\n    to: staging\n"
        "    gates: {metrics: {auc: {min: 0.8}}}\n",
        "transitions[0].gates.metrics.auc.min",
        "min 0.8 is below the central policy's 0.85",
    ),
    (
        "a transition the central policy does not allow",
        "transitions:\n  - from: development\n    to: production\n",
        "transitions[0]",
        "development -> production is not a transition of the central policy",
    ),
    (
        "ungoverning a path",
        "governance:\n  ungoverned: [README.md, deploy/]\n"
        "  approvals: [{role: platform, count: 1}]\n",
        "governance.ungoverned[1]",
        "'deploy/' would be left ungoverned, but the central policy governs it",
    ),
    (
        "fewer governance approvals",
        "governance:\n  approvals: [{role: platform, count: 0}]\n",
        None,  # count 0 is refused by the schema itself
        "",
    ),
    (
        "a member added to a role the central policy fills",
        "roles:\n  governance: [erin, mallory]\n",
        "roles.governance",
        "adds mallory to role 'governance', which the central policy fills",
    ),
    (
        "a single stage made shared",
        "stages:\n  production: {single: false}\n",
        "stages.production.single",
        "production holds one version per model in the central policy",
    ),
    (
        "a rollback rule the central policy does not have",
        "rollback:\n  approvals: [{role: lead, count: 1}]\n",
        "rollback",
        "only the central policy can",
    ),
    (
        "the artifact gate switched off",
        "transitions:\n  - from: development\n    to: staging\n"
        "    gates: {artifact_available: false}\n",
        "transitions[0].gates.artifact_available",
        "requires the artifact in the remote",
    ),
]


@pytest.mark.parametrize(
    ("what", "extra", "field", "message"), WEAKENINGS, ids=[w[0] for w in WEAKENINGS]
)
def test_check_names_each_weakening_by_file_and_field(
    team: PromotionRepo, central: Central, what: str, extra: str, field: str | None, message: str
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    text = team_policy(central, commit, extra)
    if "roles:\n  governance" in extra:  # merge the role into the team's roles block
        text = team_policy(central, commit).replace(
            "  lead: [gina]\n", "  lead: [gina]\n" + extra.split("\n", 1)[1]
        )
    (team.root / layout.POLICY_FILE).write_text(text)
    problems = check_registry(team.root).problems
    if field is None:
        assert any(p.field.endswith("count") for p in problems), problems
        return
    found = [p for p in problems if p.path == layout.POLICY_FILE and p.field == field]
    assert found, [p.render() for p in problems]
    assert message in found[0].message
    assert str(central.origin) in found[0].message  # names the central policy it weakens
    assert found[0].line is not None


def test_a_team_policy_within_the_floor_checks_clean(team: PromotionRepo) -> None:
    assert rendered(team.root) == []


# --- the gate ------------------------------------------------------------------------------------


def test_the_gate_judges_by_the_central_floor_and_the_teams_additions(
    team: PromotionRepo, central: Central
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    commit_policy(
        team,
        team_policy(
            central,
            commit,
            "transitions:\n  - from: development\n    to: staging\n"
            "    approvals: [{role: lead, count: 1}]\n",
        ),
    )
    number = propose_promotion(
        team.root, team.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    team.forge.add_review(number, "carol", "APPROVED")  # the central rule's ml-engineer
    verdict = judge(team, number)
    status, why = rule(verdict, "approvals: fraud 0.2.0")
    assert status == "failed" and "lead: 0 of 1" in why  # the team's addition holds
    team.forge.add_review(number, "gina", "APPROVED")
    assert judge(team, number).passed
    assert rule(judge(team, number), "gates: fraud 0.2.0")[0] == "passed"


def test_a_central_threshold_holds_where_the_team_says_nothing(
    tmp_path: Path, central: Central
) -> None:
    strict = CENTRAL.replace("auc: {min: 0.85}", "auc: {min: 0.95}")
    commit = central.publish(strict)
    pr = make_promotion_repo(tmp_path / "team", team_policy(central, commit))
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    status, why = rule(judge(pr, number), "gates: fraud 0.2.0")
    assert status == "failed" and "0.95" in why


def test_a_base_that_weakens_the_central_policy_fails_the_gate_closed(
    team: PromotionRepo, central: Central
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    # Pushed straight to main, around the gate: the next proposal finds a base it cannot trust.
    commit_policy(
        team,
        team_policy(central, commit, "transitions:\n  - from: development\n    to: production\n"),
    )
    number = propose_promotion(
        team.root, team.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    team.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(team, number)
    assert not verdict.passed
    status, why = rule(verdict, "policy")
    assert status == "failed"
    assert "weakens the central policy" in why and "transitions[0]" in why


def test_a_proposal_that_weakens_the_central_policy_is_refused_even_with_approvals(
    team: PromotionRepo, central: Central
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    weak = team_policy(
        central,
        commit,
        "transitions:\n  - from: staging\n    to: archived\n"
        "    approvals: [{role: ml-engineer, count: 1}]\n",
    )
    number = propose_files(team, {layout.POLICY_FILE: weak}, "dave", "weaken")
    team.forge.add_review(number, "paula", "APPROVED")  # governance approves, yet
    verdict = judge(team, number)
    assert not verdict.passed
    status, why = rule(verdict, "entries valid")
    assert status == "failed" and "fewer than the central policy's 2" in why
    assert rule(verdict, "governance")[0] == "passed"


def test_moving_the_pin_needs_the_central_governance(team: PromotionRepo, central: Central) -> None:
    newer = central.publish(CENTRAL.replace("auc: {min: 0.85}", "auc: {min: 0.86}"))
    moved = team_policy(central, newer)
    number = propose_files(team, {layout.POLICY_FILE: moved}, "dave", "move-pin")
    team.forge.add_review(number, "carol", "APPROVED")  # a team member: not enough
    verdict = judge(team, number)
    status, why = rule(verdict, "central policy")
    assert status == "failed"
    assert "moves the central policy" in why and "platform: 0 of 1" in why
    team.forge.add_review(number, "paula", "APPROVED")
    verdict = judge(team, number)
    assert rule(verdict, "central policy")[0] == "passed"
    assert verdict.passed


def test_removing_the_pin_needs_the_central_governance_too(
    team: PromotionRepo, central: Central
) -> None:
    # The team's governance role would be the team's own; the central file's roles decide.
    unpinned = (
        TEAM_ROLES
        + "  platform2: [carol]\ngovernance:\n  approvals: [{role: platform2, count: 1}]\n"
    )
    number = propose_files(team, {layout.POLICY_FILE: unpinned}, "dave", "unpin")
    team.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(team, number)
    status, why = rule(verdict, "central policy")
    assert status == "failed" and "removes the central policy" in why
    assert not verdict.passed


def test_an_unreachable_central_policy_fails_the_gate_closed(
    team: PromotionRepo, central: Central
) -> None:
    number = propose_promotion(
        team.root, team.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    team.forge.add_review(number, "carol", "APPROVED")
    assert judge(team, number).passed  # fetched once into .git/steward/central/
    shutil.rmtree(team.root / ".git" / "steward" / "central")
    shutil.move(central.origin, central.origin.with_suffix(".gone"))
    verdict = judge(team, number)
    assert not verdict.passed
    status, why = rule(verdict, "policy")
    assert status == "failed" and "could not be fetched" in why
    problems = check_registry(team.root).problems
    assert [(p.path, p.field) for p in problems] == [(layout.POLICY_FILE, "central")]
    assert "could not be fetched" in problems[0].message
    # Reachable again: the check's answer was not kept for the tree, so it sees that at once.
    shutil.move(central.origin.with_suffix(".gone"), central.origin)
    assert rendered(team.root) == []


def test_a_pin_whose_blob_is_not_the_file_at_the_commit_fails_closed(
    team: PromotionRepo, central: Central
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    text = team_policy(central, commit).replace(
        f"  commit: {commit}\n", f"  commit: {commit}\n  blob: {'0' * 40}\n"
    )
    commit_policy(team, text)
    number = propose_promotion(
        team.root, team.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    status, why = rule(judge(team, number), "policy")
    assert status == "failed" and "not the pinned blob" in why


def test_a_commit_the_central_repository_lacks_fails_closed(
    team: PromotionRepo, central: Central
) -> None:
    missing = "1" * 39 + "a"
    commit_policy(team, team_policy(central, missing))
    number = propose_promotion(
        team.root, team.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    status, why = rule(judge(team, number), "policy")
    assert status == "failed" and "could not be fetched" in why and missing[:12] in why


def test_a_pin_path_that_is_not_a_file_fails_closed_without_a_crash(
    team: PromotionRepo, central: Central
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    text = team_policy(central, commit).replace(
        f"  commit: {commit}\n", f"  commit: {commit}\n  path: policies\n"
    )
    (team.root / layout.POLICY_FILE).write_text(text)
    problems = check_registry(team.root).problems
    assert [(p.field, "is not a regular file" in p.message) for p in problems] == [
        ("central", True)
    ]


def test_a_repo_that_is_no_usable_path_is_a_reason_not_a_crash(
    team: PromotionRepo, central: Central
) -> None:
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    text = team_policy(central, commit).replace(str(central.origin), "x:" + "y" * 5000)
    (team.root / layout.POLICY_FILE).write_text(text)
    problems = check_registry(team.root).problems
    assert [p.field for p in problems] == ["central"]
    assert "could not be fetched" in problems[0].message


def test_a_pin_with_a_blob_the_team_chose_is_refused_when_added(
    tmp_path: Path, central: Central
) -> None:
    """The `blob` lets a vendored copy serve offline, so it must be the file at the commit: a
    proposal that adds (or moves) a pin is verified by fetching the commit."""
    commit = central.publish(CENTRAL)
    pr = make_promotion_repo(tmp_path / "team", default_team_policy())
    fake = CENTRAL.replace(
        "  - from: production\n",
        "  - from: development\n    to: production\n  - from: production\n",
    )
    fake_blob = blob_of(fake)
    pinned = team_policy(central, commit).replace(
        f"  commit: {commit}\n", f"  commit: {commit}\n  blob: {fake_blob}\n"
    )
    files = {layout.POLICY_FILE: pinned, layout.CENTRAL_COPY_FILE: fake}
    number = propose_files(pr, files, "dave", "pin")
    pr.forge.add_review(number, "erin", "APPROVED")  # the team's own governance
    verdict = judge(pr, number)
    status, why = rule(verdict, "central policy")
    assert status == "failed" and "not the pinned blob" in why
    assert not verdict.passed
    # The honest pin, with the true copy, passes with the team's governance alone.
    honest = team_policy(central, commit, blob=True)
    number = propose_files(
        pr, {layout.POLICY_FILE: honest, layout.CENTRAL_COPY_FILE: CENTRAL}, "dave", "pin2"
    )
    pr.forge.add_review(number, "erin", "APPROVED")
    pr.forge.add_review(number, "paula", "APPROVED")
    verdict = judge(pr, number)
    assert rule(verdict, "central policy") == (
        "passed",
        f"adds the central policy {central.origin}@{commit[:12]}:policies/central.yaml: "
        "verified at its commit",
    )
    assert verdict.passed, [r for r in verdict.rules if r.status == "failed"]


def test_a_landed_blob_that_is_not_the_file_fails_closed_where_the_commit_is_known(
    team: PromotionRepo, central: Central
) -> None:
    assert rendered(team.root) == []  # fetches the pinned commit into the mirror
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    fake = CENTRAL.replace("auc: {min: 0.85}", "auc: {min: 0.0}")
    fake_blob = blob_of(fake)
    (team.root / layout.CENTRAL_COPY_FILE).write_text(fake)
    run_git(team.root, "add", layout.CENTRAL_COPY_FILE)
    commit_policy(
        team,
        team_policy(central, commit).replace(
            f"  commit: {commit}\n", f"  commit: {commit}\n  blob: {fake_blob}\n"
        ),
    )  # pushed around the gate; the mirror already holds the commit from earlier runs
    number = propose_promotion(
        team.root, team.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    status, why = rule(judge(team, number), "policy")
    assert status == "failed" and "not the pinned blob" in why


def test_a_move_is_judged_by_the_roles_the_central_file_fills(
    tmp_path: Path, central: Central
) -> None:
    """Central governance named by a role the central file leaves empty: the team fills it,
    and its members pass the team's governance rule, but cannot move the pin."""
    open_governance = CENTRAL.replace("  platform: [paula]\n", "  platform: []\n")
    commit = central.publish(open_governance)
    policy = team_policy(central, commit).replace(
        "  lead: [gina]\n", "  lead: [gina]\n  platform: [carol]\n"
    )
    pr = make_promotion_repo(tmp_path / "team", policy)
    newer = central.publish(open_governance.replace("auc: {min: 0.85}", "auc: {min: 0.86}"))
    moved = policy.replace(commit, newer)
    number = propose_files(pr, {layout.POLICY_FILE: moved}, "dave", "move")
    pr.forge.add_review(number, "carol", "APPROVED")
    verdict = judge(pr, number)
    assert rule(verdict, "governance")[0] == "passed"  # carol holds the team-filled role
    status, why = rule(verdict, "central policy")
    assert status == "failed" and "platform: 0 of 1" in why


def test_promote_archives_the_holder_of_a_stage_only_the_central_file_makes_single(
    tmp_path: Path, central: Central
) -> None:
    commit = central.publish(CENTRAL)
    pr = make_promotion_repo(tmp_path / "team", team_policy(central, commit))
    text = (pr.root / layout.POLICY_FILE).read_text()
    assert "single" not in text  # the team's file says nothing about production
    for version, stage in (("0.1.0", "production"), ("0.2.0", "staging")):
        path = pr.root / layout.version_path("fraud", version)
        path.write_text(path.read_text().replace("stage: development", f"stage: {stage}"))
    run_git(pr.root, "commit", "-qam", "0.1.0 serves, 0.2.0 is staged")
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "production", "dave")
    assert tuple(promotion.archived) == ("0.1.0",)


def test_codeowners_names_the_central_governance(team: PromotionRepo) -> None:
    assert run(["-C", str(team.root), "codeowners"]) == 0
    owners = (team.root / ".github" / "CODEOWNERS").read_text()
    assert "@paula" in owners  # the platform role, defined only in the central file
    assert rendered(team.root) == []


# --- steward init --central, the vendored copy ------------------------------------------------


def test_init_central_writes_a_pinned_team_policy_that_works_offline(
    tmp_path: Path, central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    commit = central.publish(CENTRAL)
    target = tmp_path / "fraud-team"
    code = run(
        [
            "init",
            str(target),
            "--central",
            f"{central.origin}@{commit}",
            "--role",
            "ml-engineer=carol,dave",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    policy = yaml.safe_load((target / layout.POLICY_FILE).read_text())
    assert policy["central"] == {
        "repo": str(central.origin),
        "commit": commit,
        "path": "policies/central.yaml",
        "blob": central.blob(commit),
    }
    assert policy["roles"] == {"ml-engineer": ["carol", "dave"], "registrars": []}
    assert (target / layout.CENTRAL_COPY_FILE).read_text() == CENTRAL
    assert rendered(target) == []
    # The vendored copy serves: with the central repository gone and no mirror, all is well.
    shutil.rmtree(central.origin)
    shutil.rmtree(target / ".git" / "steward", ignore_errors=True)
    assert rendered(target) == []
    # A copy that is not the pinned file is not used, and is reported.
    (target / layout.CENTRAL_COPY_FILE).write_text(CENTRAL.replace("[erin]", "[erin, mallory]"))
    problems = check_registry(target).problems
    assert [(p.path, p.field) for p in problems] == [(layout.POLICY_FILE, "central")]
    assert "could not be fetched" in problems[0].message


def test_init_central_refuses_to_fill_a_role_the_central_policy_fills(
    tmp_path: Path, central: Central, capsys: pytest.CaptureFixture[str]
) -> None:
    commit = central.publish(CENTRAL)
    target = tmp_path / "team"
    code = run(
        [
            "init",
            str(target),
            "--central",
            f"{central.origin}@{commit}",
            "--role",
            "governance=mallory",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "the central policy fills this role (erin)" in err
    assert not target.exists()


@pytest.mark.parametrize(
    ("argument", "message"),
    [("no-commit-here", "give URL@COMMIT"), ("repo@abc123", "not a full git object id")],
)
def test_init_central_refuses_a_pin_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argument: str, message: str
) -> None:
    code = run(["init", str(tmp_path / "team"), "--central", argument])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "team").exists()


def test_a_stale_vendored_copy_is_reported_when_the_central_repository_answers(
    team: PromotionRepo, central: Central
) -> None:
    (team.root / layout.CENTRAL_COPY_FILE).write_text(CENTRAL + "# edited\n")
    assert rendered(team.root) == [
        f"{layout.CENTRAL_COPY_FILE}: is not the pinned central file "
        + rendered(team.root)[0].split("is not the pinned central file ", 1)[1]
    ]
    assert "copy it again" in rendered(team.root)[0]


# --- faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("point", ["central:mirror-staged", "central:fetched"])
def test_a_check_killed_while_fetching_the_central_policy_is_finished_by_the_next(
    team: PromotionRepo, point: str
) -> None:
    shutil.rmtree(team.root / ".git" / "steward", ignore_errors=True)  # no mirror, no cache
    env = {key: value for key, value in os.environ.items() if key != "STEWARD_FAULT"}
    command = [sys.executable, "-m", "steward", "-C", str(team.root), "check"]
    killed = subprocess.run(
        command, env={**env, "STEWARD_FAULT": point}, capture_output=True, text=True
    )
    assert killed.returncode == -9, killed.stderr
    again = subprocess.run(command, env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stdout + again.stderr
    mirrors = list((team.root / ".git" / "steward" / "central").glob("*.git"))
    assert len(mirrors) == 1


def test_a_repository_named_in_the_environment_is_never_fetched_into(
    team: PromotionRepo, central: Central, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIT_DIR (set by hooks and some CI steps) must not send the mirror's fetch elsewhere."""
    victim = tmp_path / "victim"
    run_git(tmp_path, "init", "-q", str(victim))
    run_git(victim, "commit", "-q", "--allow-empty", "-m", "mine")
    before = run_git(victim, "for-each-ref")
    commit = run_git(central.work, "rev-parse", "HEAD").strip()
    policy = policy_of(team_policy(central, commit))
    monkeypatch.setenv("GIT_DIR", str(victim / ".git"))
    found = read_central(team.root, policy.central, None)  # type: ignore[attr-defined]
    monkeypatch.delenv("GIT_DIR")
    assert found.blob == central.blob(commit)
    assert run_git(victim, "for-each-ref") == before
    missing = subprocess.run(["git", "-C", str(victim), "cat-file", "-e", commit], check=False)
    assert missing.returncode != 0  # the central commit went to the mirror, not to the victim
