"""`history` and `held_stage` in a fresh clone (no history index) from `apply`'s records
(`steward.aftermerge.recorded`): the same answers as walking git, without the walk; and where the
records cannot be relied on (forged, deleted, a gap), the walk, still with the same answers."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from steward.aftermerge import history
from steward.aftermerge.apply import apply_range
from steward.aftermerge.history import held_stage, model_history
from steward.aftermerge.records import Record
from steward.entries import layout
from steward.gitio.changelog import INDEX_FILE
from tests.builders import run_git
from tests.promotion_setup import make_promotion_repo
from tests.test_apply_watermark import copy_model
from tests.test_history import commit_to_main, merge_branch, promote, stage_edit

STAGES = ("development", "staging", "production", "archived")
ONLY_A_WALK_SHOWS = layout.version_path("fraud", "0.1.0")  # archived without a merge: see origin


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Merged promotions (each applied: recorded in tags), then commits no apply has seen yet:
    a stage set straight on the branch and a merge made without Steward."""
    pr = make_promotion_repo(tmp_path_factory.mktemp("origin"))
    promote(pr, "0.1.0", "staging", ["carol"])
    promote(pr, "0.1.0", "production", ["carol", "erin"])
    promote(pr, "0.2.0", "staging", ["carol"])
    # 0.1.0 archived by a commit that is not a merge, then a merge touching its file while it
    # is archived: for the gate's question (what merges brought) it held the stage from then.
    commit_to_main(pr.root, stage_edit(pr.root, "0.1.0", "archived"), "Archive 0.1.0")
    path = layout.version_path("fraud", "0.1.0")
    noted = (pr.root / path).read_bytes() + b"# reviewed\n"
    merge_branch(pr.root, {path: noted}, "note", "Merge a note")
    apply_range(pr.root, None, "HEAD")
    copy_model(pr.root, "fraud", "churn")  # another model's records are the newest
    apply_range(pr.root, None, "HEAD")
    commit_to_main(pr.root, stage_edit(pr.root, "0.2.0", "development"), "Back to development")
    merge_branch(pr.root, stage_edit(pr.root, "0.2.0", "staging"), "again", "Merge again")
    return pr.root


@pytest.fixture
def clone(origin: Path, tmp_path: Path) -> Path:
    """A fresh clone, as CI makes one: the tags, no history index."""
    root = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(root)], check=True)
    assert not (root / ".git" / "steward" / INDEX_FILE).exists()
    return root


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pathspecs of every whole-branch walk (`first_parent_changes`) history makes."""
    seen: list[str] = []
    real = history.first_parent_changes

    def spy(root: Path, commit: str, pathspec: str, use_index: bool = True) -> object:
        seen.append(pathspec)
        return real(root, commit, pathspec, use_index)

    monkeypatch.setattr(history, "first_parent_changes", spy)
    return seen


def answers(root: Path) -> tuple[object, dict[tuple[str, str, bool], bool]]:
    """The history of `fraud` and every `held_stage` answer about its versions."""
    found = model_history(root, "fraud")
    held = {
        (version, stage, merges_only): held_stage(
            root, "HEAD", "fraud", version, stage, merges_only
        )
        for version in ("0.1.0", "0.2.0", "9.9.9")
        for stage in STAGES
        for merges_only in (False, True)
    }
    return found, held


def from_git(root: Path) -> tuple[object, dict[tuple[str, str, bool], bool]]:
    found = model_history(root, "fraud", use_index=False)
    held = {
        (version, stage, merges_only): held_stage(
            root, "HEAD", "fraud", version, stage, merges_only, use_index=False
        )
        for version in ("0.1.0", "0.2.0", "9.9.9")
        for stage in STAGES
        for merges_only in (False, True)
    }
    return found, held


def _without_a_walk(root: Path, expected: tuple[object, dict[tuple[str, str, bool], bool]]) -> None:
    """The history, and the gate's questions whose answers the records hold, with no walk of the
    branch (`walks` must be empty after): the records, and git after the last one."""
    assert model_history(root, "fraud") == expected[0]
    for question in [("0.1.0", "production", True), ("0.2.0", "production", True)]:
        assert held_stage(root, "HEAD", "fraud", *question) == expected[1][question]
    assert not held_stage(root, "HEAD", "fraud", "9.9.9", "staging", True)


def test_a_fresh_clone_answers_from_the_records_as_git_does(clone: Path, walks: list[str]) -> None:
    expected = from_git(clone)
    walks.clear()
    _without_a_walk(clone, expected)
    assert walks == []
    assert not (clone / ".git" / "steward" / INDEX_FILE).exists()
    assert any(event.record for event in model_history(clone, "fraud").events)
    # Every other question too. A version that entered a stage without a merge (0.1.0
    # archived) is walked for: a merge that later touched its file counts, and only git shows it.
    assert answers(clone) == expected
    assert ONLY_A_WALK_SHOWS in walks
    assert held_stage(clone, "HEAD", "fraud", "0.1.0", "archived", merges_only=True)


def _forge(root: Path, tag: str, record: Record) -> None:
    run_git(root, "tag", "-a", "-m", record.tag_message(), tag, "HEAD")


def _tags(root: Path, prefix: str) -> list[str]:
    names = run_git(root, "tag", "--list", f"{prefix}*").split()
    return sorted(names, key=lambda name: int(name.rsplit("#", 1)[-1]) if "#" in name else 0)


def _record_at(root: Path, tag: str) -> Record:
    record = Record.parse(run_git(root, "tag", "-l", "--format=%(contents)", tag))
    assert record is not None
    return record


def _forged_holding(root: Path) -> None:
    """A record that 0.2.0 entered production at a merge where it did not."""
    true = _record_at(root, _tags(root, "fraud#production#")[-1])
    forged = Record(**{**true.as_dict(), "version": "0.2.0"})
    _forge(root, f"fraud#production#{len(_tags(root, 'fraud#')) + 1}", forged)


def _deleted_tag(pick: Callable[[list[str]], str]) -> Callable[[Path], None]:
    def delete(root: Path) -> None:
        run_git(root, "tag", "--delete", pick(_tags(root, "fraud#")))

    return delete


def _deleted_registration(root: Path) -> None:
    run_git(root, "tag", "--delete", "fraud@v0.2.0")


def _replaced_by_a_tag_without_a_record(root: Path) -> None:
    """A record's tag made lightweight under the same name: no gap in the numbers."""
    tag = _tags(root, "fraud#")[len(_tags(root, "fraud#")) // 2]
    run_git(root, "tag", "-f", tag, f"refs/tags/{tag}^{{commit}}")


def _a_tag_numbered_in_another_script(root: Path) -> None:
    """`²` is a digit to `str.isdigit`, and no number to `int`."""
    run_git(root, "tag", "fraud#production#\u00b2", "HEAD")


def _a_record_naming_no_commit(root: Path) -> None:
    head = run_git(root, "rev-parse", "HEAD").strip()
    bogus = Record("registration", "fraud", "9.9.9", None, "f" * 40, "f" * 40, "2026-01-01T00:00Z")
    run_git(root, "tag", "-a", "-m", bogus.tag_message(), "fraud@v9.9.9", head)


def _records_moved_past_the_watermark(root: Path) -> None:
    """A round trip's stage tags replaced in place (same names: no gap) by records naming the
    tip, past the watermark: the events git shows at their commits would have no record."""
    tip = run_git(root, "rev-parse", "HEAD").strip()
    for tag in _tags(root, "fraud#")[2:6]:
        record = _record_at(root, tag)
        moved = Record(**{**record.as_dict(), "commit": tip})
        run_git(root, "tag", "-f", "-a", "-m", moved.tag_message(), tag, record.version_commit)


DOUBTS: dict[str, Callable[[Path], None]] = {
    "a record naming no commit": _a_record_naming_no_commit,
    "records moved past the watermark": _records_moved_past_the_watermark,
    "a record's tag replaced by one without a record": _replaced_by_a_tag_without_a_record,
    "a tag numbered in another script": _a_tag_numbered_in_another_script,
    "a forged record of a holding": _forged_holding,
    "a stage tag deleted in the middle": _deleted_tag(lambda tags: tags[len(tags) // 2]),
    "the model's newest stage tag deleted": _deleted_tag(lambda tags: tags[-1]),
    "a registration's tag deleted": _deleted_registration,
}


@pytest.mark.parametrize("doubt", list(DOUBTS))
def test_records_that_cannot_be_relied_on_make_it_walk_git(
    clone: Path, walks: list[str], doubt: str
) -> None:
    """Each makes the records disagree with git or with themselves: the answers are git's,
    from a walk (a forged holding never makes a rollback)."""
    DOUBTS[doubt](clone)
    expected = from_git(clone)  # a deleted record's proposer and approvers are gone there too
    walks.clear()
    assert answers(clone) == expected
    assert walks  # the branch was walked


def test_tags_deleted_at_the_last_recorded_commit_are_read_from_git(
    clone: Path, walks: list[str]
) -> None:
    """The records move the walk's start back to the commit before: nothing is hidden, and
    there is still no walk of the whole branch."""
    last = _record_at(clone, _tags(clone, "churn#")[-1]).commit
    for tag in run_git(clone, "tag", "--list").split():
        if _record_at(clone, tag).commit == last:
            run_git(clone, "tag", "--delete", tag)
    expected = from_git(clone)
    walks.clear()
    _without_a_walk(clone, expected)
    assert walks == []


def test_a_round_trip_whose_records_name_another_commit_is_not_hidden(tmp_path: Path) -> None:
    """0.1.0 goes to production and back to staging; the four stage tags of that round trip
    are replaced in place (same names: no gap) by records naming a later commit. The replay
    still ends in each file's stage, but a record past the watermark is refused: the walk."""
    pr = make_promotion_repo(tmp_path)
    promote(pr, "0.1.0", "staging", ["carol"])
    first = len(_tags(pr.root, "fraud#"))
    commit_to_main(pr.root, stage_edit(pr.root, "0.1.0", "production"), "Up")
    commit_to_main(pr.root, stage_edit(pr.root, "0.1.0", "staging"), "Down")
    apply_range(pr.root, None, "HEAD")
    promote(pr, "0.2.0", "staging", ["carol"])  # newer records: the watermark is past the trip
    tip = run_git(pr.root, "rev-parse", "HEAD").strip()
    for tag in _tags(pr.root, "fraud#")[first : first + 4]:
        record = _record_at(pr.root, tag)
        moved = Record(**{**record.as_dict(), "commit": tip})
        run_git(pr.root, "tag", "-f", "-a", "-m", moved.tag_message(), tag, record.version_commit)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(pr.root), str(clone)], check=True)
    walked = model_history(clone, "fraud", use_index=False)
    assert "entered production" in [event.summary for event in walked.events]
    assert model_history(clone, "fraud") == walked
