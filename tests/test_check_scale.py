"""`steward check` on 10,000 versions: it must finish, and its time goes into the test log."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from steward.registry import check_registry
from tests.builders import add_dataset, new_registry, run_git

MODELS = 1_000
VERSIONS_PER_MODEL = 10

MODEL_YAML = """\
name: {model}
owner: carol
team: team-{team}
risk: limited
description: synthetic model {model}
card: {{intended_use: benchmarking, limitations: synthetic}}
"""

VERSION_YAML = """\
model: {model}
version: {version}
stage: {stage}
created_at: '2026-11-20T10:00:00Z'
created_by: ci-bot
artifact:
  dvc: {version}.dvc
  md5: {md5}.dir
  size: 2048
  format: pickle
  files:
  - path: model.pkl
    sha256: {sha}
    size: 2048
training:
  datasets:
  - id: transactions
    version: '2026-10-31'
  features: [amount, merchant_id, hour]
  hyperparameters: {{max_depth: 6, learning_rate: 0.05}}
  duration_s: 812.0
  code: {{repo: acme/training, commit: {commit}}}
metrics: {{auc: 0.9{minor}, f1: 0.8, latency_p95_ms: 11.5}}
environment: {{python: '3.11.7', framework: scikit-learn==1.5.2, hardware: cpu}}
"""

POINTER = """\
outs:
- md5: {md5}.dir
  size: 2048
  nfiles: 1
  hash: md5
  path: {version}
"""


def _stage(minor: int) -> str:
    return {9: "production", 8: "staging"}.get(minor, "development" if minor > 5 else "archived")


def build(root: Path) -> None:
    new_registry(root)
    add_dataset(root, "transactions")
    for m in range(MODELS):
        model = f"model-{m:04d}"
        directory = root / "registry/models" / model
        directory.mkdir(parents=True)
        (directory / "model.yaml").write_text(MODEL_YAML.format(model=model, team=m % 20))
        for minor in range(VERSIONS_PER_MODEL):
            version = f"1.{minor}.0"
            digest = hashlib.sha256(f"{model}{version}".encode()).hexdigest()
            fields = {
                "model": model,
                "version": version,
                "stage": _stage(minor),
                "md5": digest[:32],
                "sha": digest,
                "commit": digest[:40],
                "minor": minor,
            }
            (directory / f"{version}.yaml").write_text(VERSION_YAML.format(**fields))
            (directory / f"{version}.dvc").write_text(POINTER.format(**fields))


def test_check_ten_thousand_versions(tmp_path: Path, figure) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "big"
    build(root)
    started = time.perf_counter()
    report = check_registry(root)
    worktree_seconds = time.perf_counter() - started
    assert report.problems == []
    assert report.counts["versions"] == MODELS * VERSIONS_PER_MODEL
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "big registry")
    started = time.perf_counter()
    at_head = check_registry(root, "HEAD")
    revision_seconds = time.perf_counter() - started
    assert at_head.ok and at_head.counts == report.counts
    files = report.counts["files"]
    figure(
        f"steward check, {MODELS * VERSIONS_PER_MODEL} versions ({files} files): "
        f"working tree {worktree_seconds:.2f} s, --rev HEAD {revision_seconds:.2f} s"
    )
