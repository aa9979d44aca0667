"""Team registries with local bare origins, a central governance repository (its policy and a
federation file naming the registries): what the federation and central-policy tests use."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from steward.gitio.gitcmd import head_commit
from tests.builders import add_dataset, add_model, add_version, new_registry, run_git, write


@dataclass(frozen=True)
class Team:
    name: str
    work: Path  # the team's clone, where versions are registered
    origin: Path  # its bare origin, what the federation fetches


def commit_and_push(team: Team, message: str) -> None:
    run_git(team.work, "add", "-A")
    run_git(team.work, "commit", "--quiet", "-m", message)
    run_git(team.work, "push", "--quiet", "origin", "main")


def team_registry(base: Path, name: str) -> Team:
    """A team registry with a bare origin: one commit, nothing else."""
    work = new_registry(base / f"{name}-work")
    origin = base / f"{name}.git"
    run_git(base, "init", "--quiet", "--bare", str(origin))
    run_git(work, "remote", "add", "origin", str(origin))
    team = Team(name, work, origin)
    commit_and_push(team, f"{name}: a registry")
    return team


def fraud_and_risk(base: Path) -> tuple[Team, Team]:
    """Two teams whose models are trained on one table, `s3://lake/transactions/`, which each
    registers under its own id and labels differently (a classification conflict):

    - fraud: dataset `transactions` (internal, card_hash pii); model `fraud` (owner carol,
      data steward dora, consumer payments-api owned by @org/payments) 1.0.0 production and
      1.1.0 staging on transactions@2026-10-31;
    - risk: dataset `txn` (same URI with no trailing slash; confidential); model `credit`
      (owner rick) 2.0.0 production on txn, 2.1.0 development on `profiles` only.
    """
    fraud = team_registry(base, "fraud")
    add_dataset(
        fraud.work,
        "transactions",
        uri="s3://lake/transactions/",
        classification=["internal"],
        columns=[
            {"name": "card_hash", "type": "string", "classification": ["pii"]},
            {"name": "amount", "type": "float"},
            {"name": "hour", "type": "int"},
        ],
    )
    add_model(
        fraud.work,
        "fraud",
        owner="carol",
        team="fraud-ml",
        data_steward="dora",
        classification=["internal", "pii"],
        downstream=[{"name": "payments-api", "owner": "@org/payments"}],
    )
    add_version(fraud.work, "fraud", "1.0.0", stage="production")
    add_version(fraud.work, "fraud", "1.1.0", stage="staging")
    commit_and_push(fraud, "fraud: model and versions")

    risk = team_registry(base, "risk")
    add_dataset(
        risk.work,
        "txn",
        owner="ivan",
        uri="s3://lake/transactions",
        classification=["confidential"],
    )
    add_dataset(risk.work, "profiles", uri="s3://lake/profiles/")
    add_model(risk.work, "credit", owner="rick", team="risk-ml", classification=["confidential"])
    add_version(
        risk.work,
        "credit",
        "2.0.0",
        stage="production",
        training={"datasets": [{"id": "txn", "version": "2026-10-31"}], "features": ["amount"]},
    )
    add_version(
        risk.work,
        "credit",
        "2.1.0",
        training={"datasets": [{"id": "profiles"}], "features": ["amount"]},
    )
    commit_and_push(risk, "risk: model and versions")
    return fraud, risk


def central(base: Path, registries: list[tuple[str, str]]) -> Path:
    """A central repository with `federation.yaml` naming (name, url) registries; returns the
    file's path."""
    repo = base / "central"
    repo.mkdir(parents=True, exist_ok=True)
    run_git(repo, "init", "--quiet", "--initial-branch=main")
    lines = ["registries:"]
    for name, url in registries:
        lines += [f"  - name: {name}", f"    url: {url}", "    branch: main"]
    path = write(repo, "federation.yaml", "\n".join(lines) + "\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "--quiet", "-m", "federation")
    return path


class Central:
    """A central governance repository: a work tree and the bare origin teams fetch from."""

    def __init__(self, tmp_path: Path) -> None:
        self.work = tmp_path / "central"
        self.origin = tmp_path / "central.git"
        subprocess.run(["git", "init", "-q", "--bare", str(self.origin)], check=True)
        self.work.mkdir()
        run_git(self.work, "init", "-q", "--initial-branch=main")
        run_git(self.work, "remote", "add", "origin", str(self.origin))

    def publish(self, text: str, path: str = "policies/central.yaml") -> str:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        run_git(self.work, "add", "-A")
        run_git(self.work, "-c", "user.name=c", "-c", "user.email=c@x", "commit", "-qm", "central")
        run_git(self.work, "push", "-q", "origin", "HEAD:main")
        return head_commit(self.work)

    def blob(self, commit: str, path: str = "policies/central.yaml") -> str:
        return run_git(self.work, "rev-parse", f"{commit}:{path}").strip()
