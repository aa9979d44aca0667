"""A registry with a real policy, two registered versions and a local forge, for promotion tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from steward.artifacts.registration import RegistrationRequest, register_version
from steward.forge.local import LocalForge
from tests.builders import run_git
from tests.dvc_registry import RegistryRepo, make_registry, write_model_files

POLICY = """\
roles:
  ml-engineer: [carol, dave]
  governance: [erin]
  privacy: [frank]
  registrars: [ci-bot]
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
      - {role: privacy, count: 1, when: {classification: [pii]}}
  - from: staging
    to: archived
    approvals: [{role: ml-engineer, count: 1}]
  - from: production
    to: archived
    approvals: [{role: ml-engineer, count: 1}]
governance:
  approvals: [{role: governance, count: 1}]
"""


class Clock:
    """An injected clock: every call is one second later."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class PromotionRepo:
    repo: RegistryRepo
    forge: LocalForge

    @property
    def root(self) -> Path:
        return self.repo.root


def make_promotion_repo(tmp_path: Path, policy: str = POLICY) -> PromotionRepo:
    repo = make_registry(tmp_path)
    root = repo.root
    (root / "policies/registry.yaml").write_text(policy)
    run_git(root, "commit", "-qam", "The registry's policy")
    for version, auc, weights in (("0.1.0", 0.9, b"v1"), ("0.2.0", 0.93, b"v2")):
        files = write_model_files(tmp_path / f"out-{version}", weights)
        register_version(
            root,
            RegistrationRequest(
                "fraud", (files,), version=version, metrics={"auc": auc}, created_by="ci-bot"
            ),
        )
    return PromotionRepo(repo, LocalForge(root, clock=Clock()))
