"""The history index (`steward.gitio.changelog`): every answer is the one git gives without it, for
any revision, after new commits, rewritten branches and other branches, and where the index is
damaged or cannot stand for the walk (a shallow clone)."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import tracemalloc
from pathlib import Path

import pytest

from steward.aftermerge.history import History, held_stage, model_history
from steward.entries import layout
from steward.gitio.changelog import _LOG_OPTIONS, INDEX_FILE
from steward.gitio.gitcmd import commit_blobs, head_commit
from tests.builders import run_git
from tests.promotion_setup import PromotionRepo, make_promotion_repo
from tests.test_history import commit_to_main, promote, stage_edit, synthetic_repo

STAGES = ("development", "staging", "production", "archived")


def index_file(root: Path) -> Path:
    return root / ".git" / "steward" / INDEX_FILE


def same_history(root: Path, rev: str = "HEAD", model: str = "fraud") -> History:
    """`model`'s history at `rev` through the index, after checking that git alone, and every
    `held_stage` question about it, answer the same (the index, not apply's records: see
    `test_history_records.py` for those)."""
    indexed = model_history(root, model, rev, use_records=False)
    assert indexed == model_history(root, model, rev, use_index=False)
    for version in {event.version for event in indexed.events} | {"9.9.9"}:
        for stage in STAGES:
            for merges_only in (False, True):
                assert held_stage(root, rev, model, version, stage, merges_only) == held_stage(
                    root, rev, model, version, stage, merges_only, use_index=False
                )
    return indexed


@pytest.fixture
def promoted(tmp_path: Path) -> PromotionRepo:
    pr = make_promotion_repo(tmp_path)
    promote(pr, "0.1.0", "staging", ["carol"])
    promote(pr, "0.1.0", "production", ["carol", "erin"])
    return pr


def test_every_revision_is_answered_as_git_answers_it(promoted: PromotionRepo) -> None:
    root = promoted.root
    index_file(root).unlink(missing_ok=True)  # the gates of the promotions wrote one
    found = same_history(root)
    with contextlib.closing(sqlite3.connect(index_file(root))) as db:
        (indexed,) = db.execute("SELECT count(*) FROM chain").fetchone()
    assert indexed == len(run_git(root, "rev-list", "--first-parent", "HEAD").split())
    assert [event.summary for event in found.events][:2] == ["entered production", "left staging"]
    # Older revisions are inside the indexed chain: answered without asking git for changes.
    for commit in run_git(root, "rev-list", "--first-parent", "HEAD").split()[1:]:
        if run_git(root, "ls-tree", commit, layout.version_path("fraud", "0.1.0")):
            same_history(root, commit)


def test_a_commit_made_after_the_index_was_written_is_seen(promoted: PromotionRepo) -> None:
    root = promoted.root
    before = same_history(root)
    commit_to_main(root, stage_edit(root, "0.1.0", "archived"), "Archive 0.1.0 directly")
    after = same_history(root)
    assert after.events[:2] != before.events[:2]
    assert [event.summary for event in after.events[:2]] == ["entered archived", "left production"]
    assert after.events[2:] == before.events
    assert held_stage(root, "HEAD", "fraud", "0.1.0", "archived")


def test_a_rewritten_branch_and_another_branch_walk_their_own_commits(
    promoted: PromotionRepo,
) -> None:
    root = promoted.root
    commit_to_main(root, stage_edit(root, "0.1.0", "archived"), "Archive 0.1.0 directly")
    same_history(root)  # indexes the commit about to be dropped
    run_git(root, "reset", "--hard", "-q", "HEAD~1")
    commit_to_main(root, stage_edit(root, "0.2.0", "staging"), "Stage 0.2.0 directly")
    rewritten = same_history(root)
    assert [event.summary for event in rewritten.events[:3]] == [
        "entered staging",
        "left development",
        "entered production",
    ]
    assert not held_stage(root, "HEAD", "fraud", "0.1.0", "archived")
    # A branch off an older indexed commit: its chain joins the index where it left main.
    older = run_git(root, "rev-parse", "HEAD~2").strip()
    side = commit_blobs(root, older, stage_edit(root, "0.2.0", "archived", older), "side", "side")
    on_side = same_history(root, side)
    assert [event.summary for event in on_side.events if event.commit == side] == [
        "entered archived",
        "left development",
    ]
    assert [event for event in on_side.events if event.commit != side] == model_history(
        root, "fraud", older
    ).events


def test_a_damaged_index_is_rebuilt_and_never_changes_the_answer(promoted: PromotionRepo) -> None:
    root = promoted.root
    expected = model_history(root, "fraud", use_index=False)
    index_file(root).write_bytes(b"not a database" * 100)
    assert model_history(root, "fraud", use_records=False) == expected
    assert (
        model_history(root, "fraud", use_records=False) == expected
    )  # the file was removed, then written again
    assert index_file(root).read_bytes().startswith(b"SQLite format 3")


def test_a_shallow_clone_reads_git_and_writes_no_index(
    promoted: PromotionRepo, tmp_path: Path
) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{promoted.root}", str(clone)], check=True
    )
    found = model_history(clone, "fraud", use_records=False)
    assert found == model_history(clone, "fraud", use_index=False)
    assert not index_file(clone).exists()


def test_thousands_of_commits_with_merges_answer_as_git(tmp_path: Path) -> None:
    root = tmp_path / "big"
    synthetic_repo(root, 2_000)
    same_history(root)
    same_history(root, "HEAD~700")  # before the merge: inside the indexed chain
    assert head_commit(root) == run_git(root, "rev-parse", "main").strip()


def test_the_index_of_a_long_history_is_built_from_the_log_as_it_streams(tmp_path: Path) -> None:
    """#19: the log is read in chunks and written in batches, so memory does not hold the whole
    log and every commit of it at once (that peaked at about 720 MB for 100,000 commits). What
    stays is linear and small: each commit's link to its parent."""
    root = tmp_path / "long"
    synthetic_repo(root, 8_000)
    log_size = len(run_git(root, *_LOG_OPTIONS, "HEAD"))
    tracemalloc.start()
    try:
        found = model_history(root, "fraud", use_records=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert index_file(root).is_file()
    assert len(found.events) == 12
    assert peak < 4 * log_size, f"peak {peak:,} B for a log of {log_size:,} B"
