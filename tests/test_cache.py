"""The cache of records and reports, and the gate's scoped "new problems": each must give what
reading everything from scratch gives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from steward.entries import layout
from steward.entries.models import STAGES
from steward.gate.scoped_problems import new_problems
from steward.gitio.tree import GitSnapshot, WorktreeSnapshot, blob_id
from steward.reading.cache import cache_dir
from steward.reading.check import check_snapshot
from steward.reading.listing import STAGE_NAMES
from steward.reading.queries import Filters, list_versions
from steward.reading.registry import check_registry
from tests.builders import add_dataset, add_model, add_version, run_git, small_registry, write


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = small_registry(tmp_path / "reg")
    add_model(root, "churn")
    add_version(root, "churn", "1.0.0", stage="production")
    add_version(root, "churn", "1.1.0", stage="staging")
    commit(root, "registry")
    return root


def commit(root: Path, message: str) -> str:
    run_git(root, "add", "-A")
    run_git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)
    return run_git(root, "rev-parse", "HEAD").strip()


def rendered(root: Path, rev: str | None = None) -> list[str]:
    return [p.render() for p in check_registry(root, rev).problems]


def uncached(root: Path, rev: str | None = None) -> list[str]:
    snapshot = GitSnapshot(root, rev) if rev is not None else WorktreeSnapshot(root)
    return [p.render() for p in check_snapshot(snapshot).problems]


def test_blob_ids_are_gits(tmp_path: Path) -> None:
    root = tmp_path / "r"
    write(root, "a.txt", "hello\n")
    run_git(root, "init", "-q")
    assert blob_id(b"hello\n") == run_git(root, "hash-object", "a.txt").strip()


def test_a_warm_check_reports_what_a_cold_one_does(registry: Path) -> None:
    write(registry, layout.version_path("fraud", "1.1.0"), "model: fraud\nversion: [1\n")
    cold = rendered(registry)
    assert cold and cold == uncached(registry)
    assert (cache_dir(registry) or Path("/none")).is_dir()
    assert rendered(registry) == cold  # the whole report, from the tree cache
    for answer in (cache_dir(registry) or Path("/none")).glob("trees/*"):
        answer.unlink()
    assert rendered(registry) == cold  # every record from the blob cache


def test_a_changed_file_is_read_again(registry: Path) -> None:
    assert rendered(registry) == []
    # Same size, same second: only the content tells the files apart.
    path = registry / layout.version_path("churn", "1.1.0")
    text = path.read_text()
    path.write_text(text.replace("stage: staging", "stage: archive"))
    after = rendered(registry)
    assert after == uncached(registry) and any("stage" in line for line in after)
    path.write_text(text)
    assert rendered(registry) == []
    run_git(registry, "rm", "-q", "--cached", layout.dataset_path("transactions"))
    (registry / layout.dataset_path("transactions")).unlink()
    assert rendered(registry) == uncached(registry) != []


def test_an_untracked_file_counts_and_an_ignored_one_does_not(registry: Path) -> None:
    add_version(registry, "churn", "1.2.0", stage="production")
    write(registry, ".gitignore", "registry/models/churn/9.9.9.yaml\n")
    write(registry, "registry/models/churn/9.9.9.yaml", "broken: [")
    found = rendered(registry)
    assert found == uncached(registry)
    assert any("1.2.0.yaml" in line and "production holds one version" in line for line in found)
    assert not any("9.9.9" in line for line in found)


def corrupt_every_cache_file(root: Path) -> Iterator[Path]:
    directory = cache_dir(root)
    assert directory is not None
    for path in directory.rglob("*.pickle"):
        path.write_bytes(b"\x80\x05garbage")
        yield path


def test_a_corrupt_cache_is_ignored_and_rewritten(registry: Path) -> None:
    write(registry, layout.model_path("churn"), "name: churn\n")
    cold = rendered(registry)
    assert list(corrupt_every_cache_file(registry))
    assert rendered(registry) == cold
    assert rendered(registry) == cold


def test_an_unwritable_cache_does_not_fail_the_command(registry: Path) -> None:
    # A file where the cache directory should be: no write can succeed, not even as root.
    (registry / ".git" / "steward").write_text("in the way")
    assert rendered(registry) == [] == uncached(registry)
    assert len(list_versions(registry, Filters()).rows) == 4
    assert (registry / ".git" / "steward").read_text() == "in the way"


def test_no_cache_when_asked(registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_NO_CACHE", "1")
    assert cache_dir(registry) is None
    assert rendered(registry) == []
    assert not (registry / ".git" / "steward").exists()


def test_a_revision_is_checked_through_the_cache_too(registry: Path) -> None:
    add_version(registry, "fraud", "1.2.0", stage="production")
    second = commit(registry, "a second production version")
    for _ in range(2):
        assert rendered(registry, second) == uncached(registry, second) != []
        assert rendered(registry, "HEAD~1") == uncached(registry, "HEAD~1") == []


# --- the gate's new problems --------------------------------------------------------------------


def full_new_problems(root: Path, before: str, after: str) -> list[str]:
    """What the gate answered before it was scoped: a check of both whole trees."""
    old = {p.render() for p in check_snapshot(GitSnapshot(root, before)).problems}
    return [
        p.render()
        for p in check_snapshot(GitSnapshot(root, after)).problems
        if p.render() not in old
    ]


def change_and_compare(
    root: Path, change: Callable[[Path], None], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    before = run_git(root, "rev-parse", "HEAD").strip()
    change(root)
    after = commit(root, "the proposal")
    expected = full_new_problems(root, before, after)
    monkeypatch.setenv("STEWARD_NO_CACHE", "1")
    assert [p.render() for p in new_problems(root, before, after)] == expected
    monkeypatch.delenv("STEWARD_NO_CACHE")
    for _ in range(2):  # a cold cache, then a warm one
        assert [p.render() for p in new_problems(root, before, after)] == expected
    return expected


def remove(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).unlink()


def test_deleting_a_dataset_others_cite_is_a_new_problem(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = change_and_compare(registry, remove(layout.dataset_path("transactions")), monkeypatch)
    assert len(found) == 4 and all("dataset 'transactions' is not" in p for p in found)


def test_a_second_holder_of_a_single_stage_is_a_new_problem(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def promote(root: Path) -> None:
        add_version(root, "churn", "1.1.0", stage="production")

    found = change_and_compare(registry, promote, monkeypatch)
    assert len(found) == 2 and all("production holds one version" in p for p in found)
    assert any("churn/1.0.0.yaml" in p for p in found)  # the untouched holder too


def test_a_removed_pointer_and_a_case_collision_are_new_problems(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def break_two_rules(root: Path) -> None:
        (root / layout.pointer_path("fraud", "1.0.0")).unlink()
        write(root, "registry/models/Fraud/model.yaml", "name: fraud\n")
        write(root, "registry/models/churn/1.*.yaml", "a name git could take for a pattern")

    found = change_and_compare(registry, break_two_rules, monkeypatch)
    assert any("the DVC pointer" in p for p in found)
    assert any("only by case" in p for p in found)
    assert any("churn/1.*.yaml: unexpected file" in p for p in found)


def test_a_fixed_problem_is_not_new_and_an_old_one_stays_old(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(registry, layout.version_path("churn", "1.0.0"), "broken: [")
    commit(registry, "an old problem")

    def fix_and_promote(root: Path) -> None:
        add_version(root, "churn", "1.0.0", stage="production")
        add_version(root, "fraud", "1.1.0", stage="production")
        (root / layout.version_path("fraud", "1.0.0")).write_text(
            (root / layout.version_path("fraud", "1.0.0"))
            .read_text()
            .replace("production", "archived")
        )

    assert change_and_compare(registry, fix_and_promote, monkeypatch) == []


def test_policy_team_and_model_changes_are_judged_as_a_whole_check_would(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stricter(root: Path) -> None:
        policy = root / layout.POLICY_FILE
        policy.write_text(policy.read_text().replace("production: {single: true}", "x: 1"))
        add_model(root, "churn", owner="nobody-known")
        write(root, ".github/CODEOWNERS", "stale\n")
        add_dataset(root, "clicks")

    change_and_compare(registry, stricter, monkeypatch)


def test_reclassifying_a_dataset_is_a_new_problem_for_every_model_trained_on_it(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def pii_column(root: Path) -> None:
        columns = [{"name": "amount", "classification": ["pii"]}, {"name": "hour"}]
        add_dataset(root, "transactions", columns=columns)

    found = change_and_compare(registry, pii_column, monkeypatch)
    assert sorted(p.split(":")[0] for p in found) == [
        "registry/models/churn/model.yaml",
        "registry/models/fraud/model.yaml",
    ]
    assert all("'pii' that version 1.0.0 inherits from dataset transactions, column amount" in p
               for p in found)  # fmt: skip


def test_a_version_inheriting_more_than_its_model_declares_is_a_new_problem(
    registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_dataset(registry, "customers", classification=["pii"], columns=[{"name": "email"}])
    commit(registry, "a personal dataset")  # in the base: the proposal is one model's files

    def add_pii_version(root: Path) -> None:
        training = {"datasets": [{"id": "customers", "columns": ["emial"]}]}
        add_version(root, "churn", "1.2.0", training=training)

    found = change_and_compare(registry, add_pii_version, monkeypatch)
    assert any("churn/model.yaml" in p and "'pii' that version 1.2.0" in p for p in found)
    assert any("churn/1.2.0.yaml" in p and "column 'emial' is not a column" in p for p in found)


# --- list -----------------------------------------------------------------------------------------


def listed(root: Path, **filters: str) -> tuple[str, list[str]]:
    listing = list_versions(root, Filters(**filters))
    return listing.to_json(), [p.render() for p in listing.problems]


def test_a_cached_listing_is_the_listing(registry: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(registry, layout.version_path("churn", "1.1.0"), "broken: [")
    add_model(registry, "churn", tags=["tabular"])
    monkeypatch.setenv("STEWARD_NO_CACHE", "1")
    expected = {
        name: listed(registry, **filters)
        for name, filters in {
            "all": {},
            "staged": {"stage": "production"},
            "tagged": {"tag": "tabular"},
            "owned": {"owner": "carol"},
        }.items()
    }
    assert expected["all"][1] and '"tabular"' in expected["tagged"][0]
    monkeypatch.delenv("STEWARD_NO_CACHE")
    for _ in range(2):  # cold, then from the cache
        assert listed(registry) == expected["all"]
        assert listed(registry, stage="production") == expected["staged"]
        assert listed(registry, tag="tabular") == expected["tagged"]
        assert listed(registry, owner="carol") == expected["owned"]
    assert json.loads(expected["all"][0]) == list_versions(registry, Filters()).as_dicts()


def test_a_listing_follows_a_changed_file(registry: Path) -> None:
    before = listed(registry)
    path = registry / layout.version_path("churn", "1.1.0")
    path.write_text(path.read_text().replace("stage: staging", "stage: archived"))
    after = listed(registry)
    assert after != before and '"archived"' in after[0]
    path.write_text(path.read_text().replace("stage: archived", "stage: staging"))
    assert listed(registry) == before


def test_the_command_line_knows_every_stage() -> None:
    assert STAGE_NAMES == STAGES


def test_files_git_was_told_not_to_look_at_are_read_from_the_working_tree(registry: Path) -> None:
    path = layout.version_path("churn", "1.1.0")
    run_git(registry, "update-index", "--assume-unchanged", path)
    write(registry, path, "broken: [")
    hidden = layout.version_path("fraud", "1.1.0")
    run_git(registry, "update-index", "--skip-worktree", hidden)
    (registry / hidden).unlink()
    found = rendered(registry)
    assert found == uncached(registry)
    assert any("churn/1.1.0.yaml" in line for line in found)
    assert any("fraud/1.1.0.dvc: no version entry" in line for line in found)
