"""#18 end to end: one central governance repository holding the policy floor and the federation
file, three team registries (each with a bare origin) pinned to that policy, and one view across
them. The parts are tested on their own in test_central_policy.py and test_federation_*.py; this
is the layout the README describes, working as one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.cli.main import run
from steward.entries import layout
from steward.reading.registry import check_registry
from tests.builders import add_model, add_version, write
from tests.federation_setup import Central, Team, commit_and_push, fraud_and_risk, team_registry

FLOOR = """\
roles:
  ml-engineer: []
  governance: [erin]
create_models: [ml-engineer]
register_versions: [ml-engineer]
stages:
  production: {single: true}
transitions:
  - from: development
    to: staging
    approvals: [{role: ml-engineer, count: 1}]
  - from: staging
    to: production
    approvals: [{role: ml-engineer, count: 2}]
governance:
  approvals: [{role: governance, count: 1}]
"""


def pin(central: Central, commit: str, members: str, extra: str = "") -> str:
    return (
        f"central:\n  repo: {central.origin}\n  commit: {commit}\n"
        f"  blob: {central.blob(commit)}\n"
        f"roles:\n  ml-engineer: [{members}]\n{extra}"
        "governance:\n  approvals: [{role: governance, count: 1}]\n"
    )


def pinned(team: Team, policy: str) -> None:
    write(team.work, layout.POLICY_FILE, policy)
    commit_and_push(team, f"{team.name}: pin the central policy")


def test_three_team_registries_under_one_central_policy_and_one_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    central = Central(tmp_path)
    commit = central.publish(FLOOR)
    fraud, risk = fraud_and_risk(tmp_path / "teams")
    growth = team_registry(tmp_path / "teams", "growth")
    # growth cites the table by its URI alone: it registers no dataset of its own.
    add_model(growth.work, "churn", owner="gus", team="growth-ml")
    add_version(
        growth.work,
        "churn",
        "0.1.0",
        training={"datasets": [{"id": "events", "uri": "s3://lake/transactions"}]},
    )
    commit_and_push(growth, "growth: churn")
    pinned(fraud, pin(central, commit, "carol, dave"))
    pinned(risk, pin(central, commit, "rick"))
    # Each team's policy is the floor plus its own members: nothing below it.
    for team in (fraud, risk):
        problems = [p.render() for p in check_registry(team.work).problems]
        assert not [p for p in problems if p.startswith(layout.POLICY_FILE)], problems

    # growth tries to go below the floor: one approval to production instead of two.
    weaker = pin(
        central,
        commit,
        "gus",
        "transitions:\n  - from: staging\n    to: production\n"
        "    approvals: [{role: ml-engineer, count: 1}]\n",
    )
    pinned(growth, weaker)
    found = [p for p in check_registry(growth.work).problems if p.path == layout.POLICY_FILE]
    assert [p.field for p in found] == ["transitions[0].approvals[0].count"]
    assert "central" in found[0].message
    pinned(growth, pin(central, commit, "gus"))
    assert not [p for p in check_registry(growth.work).problems if p.path == layout.POLICY_FILE]

    # One view: the central repository names the three registries.
    registries = "".join(
        f"  - {{name: {team.name}, url: {team.origin}}}\n" for team in (fraud, risk, growth)
    )
    central.publish("registries:\n" + registries, "federation.yaml")
    federation = str(central.work / "federation.yaml")
    assert run(["federation", "sync", federation]) == 0
    capsys.readouterr()
    code = run(["impact", "--dataset", "fraud/transactions", "--federation", federation, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1  # production versions depend on the table
    assert report["complete"]
    assert [(a["registry"], a["model"], a["version"], a["stage"]) for a in report["affected"]] == [
        ("fraud", "fraud", "1.0.0", "production"),
        ("risk", "credit", "2.0.0", "production"),
        ("fraud", "fraud", "1.1.0", "staging"),
        ("growth", "churn", "0.1.0", "development"),
    ]
    assert "gus" in {item["principal"] for item in report["notify"]}
