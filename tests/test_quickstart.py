from __future__ import annotations

from pathlib import Path

import pytest

from steward.cli.main import run
from steward.entries import layout
from steward.forge.local import LocalForge
from steward.reading.catalog import find_version
from steward.reading.registry import check_registry
from tests.builders import run_git


def test_quickstart_tells_the_whole_story(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo" / "registry"
    assert run(["quickstart", str(target)]) == 0
    out = capsys.readouterr().out
    steps = [line for line in out.splitlines() if line[:3].strip().rstrip(".").isdigit()]
    assert len(steps) == 14
    assert "The gate fails: nobody has approved yet" in out
    assert "gate FAILED for proposal #1" in out and "gate PASSED for proposal #1" in out
    assert "which fraud-detector production -> 0.2.0" in out
    assert "$ steward promote fraud-detector@0.2.0 --to staging --as alice" in out
    assert "$ steward review 1 --approve --as bob" in out
    assert "rules not applicable to this change, folded" in out
    assert out.count("entries valid") == 1  # the whole table once; the second shows what changed
    assert "registry/datasets/transactions.yaml" in out
    assert "the metric the policy gates on" in out
    assert (target.parent / "registry-training" / "serving" / "model.json").is_file()
    # The registry it leaves is real and consistent.
    assert check_registry(target).ok
    assert find_version(target, "fraud-detector", stage="production").version == "0.2.0"
    assert find_version(target, "fraud-detector", version="0.1.0").stage == "development"
    forge = LocalForge(target)
    assert [forge.get_proposal(n).state for n in (1, 2)] == ["merged", "merged"]
    log = run_git(target, "log", "--format=%s", "main")
    assert "Merge proposal #2: Promote fraud-detector 0.2.0 to production" in log
    assert run_git(target, "status", "--porcelain") == ""
    assert (target / layout.version_path("fraud-detector", "0.2.0")).is_file()
    # What governance reads: a card the Hub's parser takes, an audit page, the impact.
    from huggingface_hub import ModelCard

    work = target.parent / "registry-training"
    card = ModelCard((work / "fraud-detector-card.md").read_text())
    assert card.data.datasets == ["transactions"]
    assert "<h1>" in (work / "audit.html").read_text() and "fraud-detector" in out
    assert "changing transactions.amount affects fraud-detector 0.2.0 (production)" in out
    # It ends with the catalog site, its index page printed last.
    index = target / "_site" / "index.html"
    assert out.rstrip().splitlines()[-1] == f"The catalog site: {index}"
    assert (target / "_site" / "models" / "fraud-detector.html").is_file()
    assert "fraud-detector" in (target / "_site" / "search-index.js").read_text()


def test_quickstart_refuses_a_directory_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("keep")
    assert run(["quickstart", str(tmp_path / "busy")]) == 1
    assert "exists and is not an empty directory" in capsys.readouterr().err
