from __future__ import annotations

from pathlib import Path

import pytest

from steward.cli.main import run
from steward.reading.registry import check_registry
from tests.builders import add_model, small_registry, write

POLICY_WITH_TEAM_ROLE = """\
roles:
  ml-engineer: [carol, dave]
  governance: [erin, "@acme/governance"]
  risk-ml: ["@acme/risk-ml", frank]
create_models: [ml-engineer]
governance:
  paths: [policies/, .github/]
  approvals: [{role: governance, count: 1}]
"""


def test_codeowners_maps_models_to_owners_and_the_judge_to_governance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "policies/registry.yaml", POLICY_WITH_TEAM_ROLE)
    add_model(root, "churn", owner="@acme/growth", team="growth")
    assert run(["-C", str(root), "codeowners"]) == 0
    text = (root / ".github/CODEOWNERS").read_text()
    assert "/policies/ @erin @acme/governance\n" in text
    assert "/.github/ @erin @acme/governance\n" in text
    assert "/registry/models/fraud/ @carol @acme/risk-ml @frank\n" in text  # the team's role
    assert "/registry/models/churn/ @acme/growth\n" in text
    assert check_registry(root).ok
    assert run(["-C", str(root), "codeowners", "--check"]) == 0
    capsys.readouterr()


def test_check_reports_a_stale_codeowners(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_registry(tmp_path / "reg")
    assert run(["-C", str(root), "codeowners"]) == 0
    add_model(root, "churn", owner="dave")  # a new model: CODEOWNERS no longer says who owns it
    assert [p.render() for p in check_registry(root).problems] == [
        ".github/CODEOWNERS: is stale: it does not match the policy and the models' owners; run "
        "`steward codeowners`"
    ]
    assert run(["-C", str(root), "codeowners", "--check"]) == 1
    assert ".github/CODEOWNERS is stale" in capsys.readouterr().out
    assert run(["-C", str(root), "codeowners"]) == 0
    assert check_registry(root).ok


def test_codeowners_needs_a_valid_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "registry/models/fraud/model.yaml", "name: fraud\n")
    assert run(["-C", str(root), "codeowners"]) == 1
    assert "fix the registry first" in capsys.readouterr().err
    assert not (root / ".github/CODEOWNERS").exists()


def test_codeowners_governs_everything_outside_the_registry_but_the_ungoverned(
    tmp_path: Path,
) -> None:
    """Last match wins: `*` to governance, then the ungoverned paths and registry/ with no owner,
    then the judge's paths and the hooks' code back to governance, then each model."""
    root = small_registry(tmp_path / "reg")
    policy = (root / "policies/registry.yaml").read_text()
    hooked = policy.replace(
        "governance:\n",
        "hooks:\n  - {name: roll, on: [production], run: [sh, deploy/roll.sh]}\n"
        "governance:\n  ungoverned: [README.md, docs/]\n",
    )
    write(root, "policies/registry.yaml", hooked)
    assert run(["-C", str(root), "codeowners"]) == 0
    lines = [
        line
        for line in (root / ".github/CODEOWNERS").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    governance = lines[0].split()[1:]
    assert lines[0].split()[0] == "*" and governance
    assert lines[1:4] == ["/README.md", "/docs/", "/registry/"]
    judge = [line for line in lines[4:] if not line.startswith("/registry/models/")]
    assert judge == [
        f"/{path} {' '.join(governance)}" for path in ("policies/", ".github/", ".dvc/", "src/")
    ]
    assert not any("deploy/roll.sh" in line for line in lines)  # `*` gives it to governance
