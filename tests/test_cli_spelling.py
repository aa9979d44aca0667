"""One way to name things across commands: a version is MODEL@VERSION, a stage is --stage S (the
older spellings still work), a proposal is its number."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.cli.main import run
from tests.promotion_setup import PromotionRepo, make_promotion_repo


@pytest.fixture
def pr(tmp_path: Path) -> PromotionRepo:
    return make_promotion_repo(tmp_path)


def test_a_version_is_model_at_version_everywhere(
    pr: PromotionRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ["-C", str(pr.root)]
    assert run([*c, "promote", "fraud@0.2.0", "--to", "staging", "--as", "dave"]) == 0
    assert run([*c, "promote", "fraud", "0.1.0", "--to", "staging", "--as", "dave"]) == 0
    assert run([*c, "pull", "fraud@0.1.0", "-o", str(tmp_path / "a")]) == 0
    assert run([*c, "pull", "fraud", "--version", "0.1.0", "-o", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "model.pkl").read_bytes() == (
        tmp_path / "b" / "model.pkl"
    ).read_bytes()
    capsys.readouterr()
    assert run([*c, "pull", "fraud@0.1.0", "--version", "0.2.0"]) == 2
    assert "two versions named" in capsys.readouterr().err
    assert run([*c, "pull", "fraud@0.1.0", "--stage", "development"]) == 2
    assert run([*c, "promote", "fraud", "--to", "staging"]) == 2
    assert "MODEL@VERSION" in capsys.readouterr().err


def test_a_stage_is_the_stage_option_or_positional_in_which(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ["-C", str(pr.root)]
    assert run([*c, "which", "fraud", "--stage", "development", "--json"]) == 0
    by_option = capsys.readouterr().out
    assert run([*c, "which", "fraud", "development", "--json"]) == 0
    assert capsys.readouterr().out == by_option
    assert run([*c, "which", "fraud"]) == 2
    assert run([*c, "which", "fraud", "staging", "--stage", "production"]) == 2
    assert "two stages named" in capsys.readouterr().err


def test_a_misspelled_stage_in_an_entry_gets_a_suggestion(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = pr.root / "registry/models/fraud/0.1.0.yaml"
    entry.write_text(entry.read_text().replace("stage: development", "stage: prod"))
    assert run(["-C", str(pr.root), "check"]) == 1
    assert "got 'prod'; did you mean 'production'?" in capsys.readouterr().out


def test_card_and_audit_say_they_read_committed_state_when_the_tree_differs(
    pr: PromotionRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["-C", str(pr.root), "card", "fraud"]) == 0
    assert "note: read as committed" not in capsys.readouterr().err
    model = pr.root / "registry/models/fraud/model.yaml"
    model.write_text(model.read_text().replace("risk: high", "risk: limited"))
    run(["-C", str(pr.root), "card", "fraud"])
    assert "note: read as committed at HEAD" in capsys.readouterr().err
    run(["-C", str(pr.root), "audit"])
    assert "uncommitted changes in registry/" in capsys.readouterr().err
