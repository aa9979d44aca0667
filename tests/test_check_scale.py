"""`steward check` on 10,000 versions: it must finish, and its time goes into the test log."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from steward.reading.registry import check_registry
from tests.benchmarks.synthetic import MODEL_YAML, POINTER, VERSION_YAML
from tests.builders import add_dataset, new_registry, run_git

MODELS = 1_000
VERSIONS_PER_MODEL = 10


def _stage(minor: int) -> str:
    return {9: "production", 8: "staging"}.get(minor, "development" if minor > 5 else "archived")


def build(root: Path, models: int = MODELS) -> None:
    new_registry(root)
    add_dataset(root, "transactions")
    for m in range(models):
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
                "description": "",
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
