"""The local forge: proposals, reviews, comments, statuses and merges kept inside `.git`.

Every test works on a real repository in `tmp_path` and checks the resulting state (refs, work
tree, stored records), with an injected clock instead of the wall clock.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from steward.forge.local import LocalForge
from steward.forge.protocol import ForgeError, Proposal, Review, Status
from tests.builders import run_git

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


class Clock:
    """Each call is one minute after the previous one, so every recorded time is distinct."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        return START + timedelta(minutes=self.calls - 1)


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def commit_on(root: Path, branch: str, files: dict[str, str], message: str) -> str:
    """Commit `files` on `branch` and come back to the branch that was checked out."""
    previous = run_git(root, "symbolic-ref", "--short", "HEAD").strip()
    run_git(root, "switch", "--quiet", branch)
    for relative, text in files.items():
        write(root, relative, text)
    run_git(root, "add", "--", *files)
    run_git(root, "commit", "--quiet", "-m", message)
    run_git(root, "switch", "--quiet", previous)
    return sha(root, branch)


def sha(root: Path, rev: str) -> str:
    return run_git(root, "rev-parse", "--verify", f"{rev}^{{commit}}").strip()


def parents(root: Path, rev: str) -> list[str]:
    return run_git(root, "rev-list", "--parents", "-n", "1", rev).split()[1:]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """`main` with two files; `promote` one commit ahead of it, changing `stage.txt`."""
    root = tmp_path / "repo"
    root.mkdir()
    run_git(root, "init", "--quiet", "--initial-branch=main")
    write(root, "stage.txt", "development\n")
    write(root, "notes.txt", "first\n")
    run_git(root, "add", ".")
    run_git(root, "commit", "--quiet", "-m", "initial")
    run_git(root, "branch", "promote")
    commit_on(root, "promote", {"stage.txt": "staging\n"}, "promote to staging")
    return root


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def forge(repo: Path, clock: Clock) -> LocalForge:
    return LocalForge(repo, clock=clock)


def open_proposal(forge: LocalForge, head: str = "promote", author: str = "carol") -> Proposal:
    return forge.create_proposal("Promote fraud 1.3.0", "metrics…", head, "main", author)


# --- the proposal lifecycle -----------------------------------------------------------------------


def test_a_proposal_is_opened_reviewed_commented_and_merged(repo: Path, forge: LocalForge) -> None:
    proposal = open_proposal(forge)
    assert proposal == Proposal(
        number=1,
        title="Promote fraud 1.3.0",
        body="metrics…",
        author="carol",
        base_branch="main",
        head_branch="promote",
        base_sha=sha(repo, "main"),
        head_sha=sha(repo, "promote"),
        state="open",
        created_at=START,
    )
    assert forge.get_proposal(1) == proposal

    review = forge.add_review(1, "dave", "APPROVED", "looks good")
    assert review == Review(
        "dave", "APPROVED", sha(repo, "promote"), START + timedelta(minutes=1), "looks good"
    )
    forge.comment(1, "gate: passed")
    assert forge.list_reviews(1) == [review]
    assert forge.list_comments(1) == ["gate: passed"]

    base_before, head_before = sha(repo, "main"), sha(repo, "promote")
    merge_commit = forge.merge(1, "dave", "Promote fraud 1.3.0 to staging (#1)")
    merged = forge.get_proposal(1)
    assert merged.state == "merged"
    assert merged.merge_commit == merge_commit == sha(repo, "main")
    assert (merged.head_sha, merged.base_sha) == (head_before, base_before)
    # Comments still work after the merge (post-merge notes); reviews do not.
    forge.comment(1, "applied")
    assert forge.list_comments(1) == ["gate: passed", "applied"]
    with pytest.raises(ForgeError, match="proposal #1 is merged"):
        forge.add_review(1, "erin", "APPROVED")


def test_the_forge_is_a_local_directory_inside_the_git_common_dir(
    repo: Path, forge: LocalForge, tmp_path: Path
) -> None:
    open_proposal(forge)
    assert forge.state_dir == (repo / ".git" / "steward" / "forge").resolve()
    assert (forge.state_dir / "proposals" / "1.json").is_file()
    assert run_git(repo, "status", "--porcelain") == ""
    # A linked work tree shares the common dir, so it sees the same proposals.
    linked = tmp_path / "linked"
    run_git(repo, "worktree", "add", "--quiet", str(linked), "-b", "elsewhere")
    assert LocalForge(linked).get_proposal(1).head_branch == "promote"


def test_numbers_start_at_one_and_survive_a_new_instance(repo: Path, clock: Clock) -> None:
    for name in ("second", "third"):
        run_git(repo, "branch", name, "promote")
        commit_on(repo, name, {f"{name}.txt": name}, name)
    first = LocalForge(repo, clock=clock)
    assert open_proposal(first).number == 1
    assert open_proposal(first, head="second").number == 2

    restarted = LocalForge(repo, clock=clock)
    assert [restarted.get_proposal(n).head_branch for n in (1, 2)] == ["promote", "second"]
    restarted.add_review(2, "dave", "COMMENTED", "a question")
    assert open_proposal(restarted, head="third").number == 3
    assert LocalForge(repo).list_reviews(2)[0].body == "a question"


def test_head_sha_follows_the_branch_and_a_review_keeps_its_commit(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    reviewed = sha(repo, "promote")
    forge.add_review(1, "dave", "APPROVED")

    pushed = commit_on(repo, "promote", {"notes.txt": "changed after review\n"}, "more")
    assert forge.get_proposal(1).head_sha == pushed != reviewed
    forge.add_review(1, "erin", "CHANGES_REQUESTED", "why?")
    assert [(r.reviewer, r.state, r.commit) for r in forge.list_reviews(1)] == [
        ("dave", "APPROVED", reviewed),
        ("erin", "CHANGES_REQUESTED", pushed),
    ]


def test_base_sha_follows_the_base_branch_while_open(repo: Path, forge: LocalForge) -> None:
    open_proposal(forge)
    moved = commit_on(repo, "main", {"other.txt": "x\n"}, "unrelated change on main")
    assert forge.get_proposal(1).base_sha == moved


def test_an_open_proposal_whose_branch_was_deleted_cannot_be_read(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    run_git(repo, "branch", "-D", "promote")
    with pytest.raises(ForgeError, match="proposal #1: branch 'promote' no longer exists"):
        forge.get_proposal(1)
    with pytest.raises(ForgeError, match="head branch 'promote' does not exist"):
        forge.add_review(1, "dave", "APPROVED")


def test_a_merged_proposal_keeps_the_commits_it_merged(repo: Path, forge: LocalForge) -> None:
    open_proposal(forge)
    head, base = sha(repo, "promote"), sha(repo, "main")
    forge.merge(1, "dave", "merge #1")
    commit_on(repo, "promote", {"late.txt": "after the merge\n"}, "late push")
    commit_on(repo, "main", {"later.txt": "main moves on\n"}, "later")
    assert (forge.get_proposal(1).head_sha, forge.get_proposal(1).base_sha) == (head, base)
    run_git(repo, "branch", "-D", "promote")
    assert forge.get_proposal(1).head_sha == head


def test_a_closed_proposal_frees_its_head_branch(repo: Path, forge: LocalForge) -> None:
    open_proposal(forge)
    closed = forge.close(1)
    assert (closed.state, closed.head_sha) == ("closed", sha(repo, "promote"))
    with pytest.raises(ForgeError, match="proposal #1 is closed"):
        forge.merge(1, "dave", "no")
    assert open_proposal(forge).number == 2


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "head", "base", "author", "message"),
    [
        ("t", "nope", "main", "carol", "head branch 'nope' does not exist"),
        ("t", "promote", "nope", "carol", "base branch 'nope' does not exist"),
        ("t", "main", "main", "carol", "head and base are the same branch 'main'"),
        ("t", "promote", "main", "not a login", "author: 'not a login' is not a valid login"),
        ("t", "promote", "main", "-carol", "author: '-carol' is not a valid login"),
        ("  ", "promote", "main", "carol", "a proposal needs a title"),
        ("t", "main@{1}", "main", "carol", "head branch 'main@{1}' is not a valid branch name"),
        ("t", "promote", "HEAD~1", "carol", "base branch 'HEAD~1' is not a valid branch name"),
        ("t", "-promote", "main", "carol", "head branch '-promote' is not a valid branch name"),
        (
            "t",
            "main..promote",
            "main",
            "carol",
            "head branch 'main..promote' is not a valid branch name",
        ),
    ],
)
def test_create_proposal_refuses_what_github_would(
    forge: LocalForge, title: str, head: str, base: str, author: str, message: str
) -> None:
    with pytest.raises(ForgeError, match=rf"^{re.escape(message)}"):
        forge.create_proposal(title, "", head, base, author)
    assert not (forge.state_dir / "proposals").exists()


@pytest.mark.parametrize("where", ["same commit", "behind"])
def test_a_head_already_in_the_base_is_nothing_to_propose(
    repo: Path, forge: LocalForge, where: str
) -> None:
    run_git(repo, "branch", "stale", "main")
    if where == "behind":
        commit_on(repo, "main", {"ahead.txt": "main is ahead\n"}, "ahead")
    with pytest.raises(ForgeError, match="nothing to propose: 'main' already contains 'stale'"):
        forge.create_proposal("t", "", "stale", "main", "carol")


def test_only_one_open_proposal_per_head_branch(forge: LocalForge) -> None:
    open_proposal(forge)
    with pytest.raises(ForgeError, match="proposal #1 is already open for branch 'promote'"):
        open_proposal(forge, author="dave")


@pytest.mark.parametrize("number", [0, -1, 7, True])
def test_an_unknown_number_is_no_proposal(forge: LocalForge, number: int) -> None:
    open_proposal(forge)
    for call in (
        lambda: forge.get_proposal(number),
        lambda: forge.list_reviews(number),
        lambda: forge.add_review(number, "dave", "APPROVED"),
        lambda: forge.comment(number, "hello"),
        lambda: forge.merge(number, "dave", "merge"),
    ):
        with pytest.raises(ForgeError, match=rf"^no proposal #{number}$"):
            call()


@pytest.mark.parametrize(
    ("reviewer", "state", "message"),
    [
        ("dave", "DISMISSED", "review state 'DISMISSED' cannot be submitted"),
        ("dave", "LGTM", "review state 'LGTM' cannot be submitted"),
        ("dave smith", "APPROVED", "reviewer: 'dave smith' is not a valid login"),
        ("", "APPROVED", "reviewer: '' is not a valid login"),
    ],
)
def test_add_review_refuses_bad_reviews(
    forge: LocalForge, reviewer: str, state: str, message: str
) -> None:
    open_proposal(forge)
    with pytest.raises(ForgeError, match=re.escape(message)):
        forge.add_review(1, reviewer, state)  # type: ignore[arg-type]
    assert forge.list_reviews(1) == []


def test_the_author_may_review_their_own_proposal_the_gate_decides(forge: LocalForge) -> None:
    # The gate must be able to see (and ignore) a self-approval, so the forge stores it.
    open_proposal(forge, author="carol")
    forge.add_review(1, "carol", "APPROVED")
    assert [r.reviewer for r in forge.list_reviews(1)] == ["carol"]


def test_a_dismissal_is_appended_after_the_review_it_dismisses(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    forge.add_review(1, "dave", "APPROVED")
    forge.add_review(1, "erin", "COMMENTED")
    dismissal = forge.dismiss_review(1, "dave", by="erin")
    assert (dismissal.state, dismissal.commit, dismissal.body) == (
        "DISMISSED",
        sha(repo, "promote"),
        "dismissed by erin",
    )
    assert [(r.reviewer, r.state) for r in forge.list_reviews(1)] == [
        ("dave", "APPROVED"),
        ("erin", "COMMENTED"),
        ("dave", "DISMISSED"),
    ]
    # A comment-only review is not something one dismisses.
    with pytest.raises(ForgeError, match="erin has no approval or change request to dismiss"):
        forge.dismiss_review(1, "erin", by="dave")
    with pytest.raises(ForgeError, match="dismissed by: 'no one' is not a valid login"):
        forge.dismiss_review(1, "dave", by="no one")


def test_timestamps_come_from_the_clock_and_must_carry_a_timezone(repo: Path) -> None:
    naive = LocalForge(repo, clock=lambda: datetime(2026, 1, 1, 12, 0))
    with pytest.raises(ForgeError, match="without a timezone"):
        open_proposal(naive)


# --- comments and statuses ------------------------------------------------------------------------


def test_comments_are_kept_in_order_and_must_say_something(forge: LocalForge) -> None:
    open_proposal(forge)
    for text in ("first", "second\nwith two lines", "third"):
        forge.comment(1, text)
    assert forge.list_comments(1) == ["first", "second\nwith two lines", "third"]
    with pytest.raises(ForgeError, match="a comment needs a body"):
        forge.comment(1, " \n")


def test_the_latest_status_per_context_is_kept(repo: Path, clock: Clock) -> None:
    head, base = sha(repo, "promote"), sha(repo, "main")
    forge = LocalForge(repo, clock=clock)
    forge.set_status(head, "steward/gate", "pending", "running")
    forge.set_status(head, "ci/tests", "success", "42 passed")
    forge.set_status(head, "steward/gate", "failure", "1 approval missing")
    forge.set_status(base, "steward/gate", "success", "passed")
    assert LocalForge(repo).get_statuses(head) == [
        Status(head, "steward/gate", "failure", "1 approval missing"),
        Status(head, "ci/tests", "success", "42 passed"),
    ]
    assert forge.get_statuses(base) == [Status(base, "steward/gate", "success", "passed")]
    assert forge.get_statuses("0" * 40) == []


@pytest.mark.parametrize(
    ("which", "context", "state", "message"),
    [
        ("short", "gate", "success", "is not a full commit id"),
        ("path", "gate", "success", "is not a full commit id"),
        ("missing", "gate", "success", f"commit {'a' * 40} does not exist"),
        ("head", "", "success", "a status needs a context"),
        ("head", "gate", "green", "status state 'green' is not one of"),
    ],
)
def test_set_status_refuses_bad_input(
    repo: Path, forge: LocalForge, which: str, context: str, state: str, message: str
) -> None:
    target = {
        "short": sha(repo, "promote")[:12],
        "path": "../../../../etc/passwd",
        "missing": "a" * 40,
        "head": sha(repo, "promote"),
    }[which]
    with pytest.raises(ForgeError, match=re.escape(message)):
        forge.set_status(target, context, state, "d")  # type: ignore[arg-type]
    assert not (forge.state_dir / "statuses").exists()


# --- merging --------------------------------------------------------------------------------------


def test_merge_with_the_base_checked_out_updates_the_work_tree(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    base, head = sha(repo, "main"), sha(repo, "promote")
    # `promote` is directly ahead of `main`: a fast-forward would do, a merge commit is made anyway.
    merge_commit = forge.merge(1, "dave", "Promote fraud 1.3.0 to staging (#1)")

    assert sha(repo, "main") == merge_commit
    assert parents(repo, merge_commit) == [base, head]
    assert run_git(repo, "log", "-1", "--format=%B", merge_commit) == (
        "Promote fraud 1.3.0 to staging (#1)\n\n"
    )
    assert (repo / "stage.txt").read_text() == "staging\n"
    assert run_git(repo, "symbolic-ref", "--short", "HEAD").strip() == "main"
    assert run_git(repo, "status", "--porcelain") == ""


def test_a_forge_opened_from_a_subdirectory_finds_the_same_state_and_work_tree(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    (repo / "sub").mkdir()
    from_subdirectory = LocalForge(repo / "sub")
    assert from_subdirectory.state_dir == forge.state_dir
    from_subdirectory.merge(1, "dave", "merge #1")
    assert (repo / "stage.txt").read_text() == "staging\n"
    assert run_git(repo, "status", "--porcelain") == ""


def test_merge_with_another_branch_checked_out_leaves_the_work_tree_alone(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    commit_on(repo, "main", {"other.txt": "main moved on\n"}, "main moves on")
    run_git(repo, "switch", "--quiet", "--create", "work", "main~1")
    write(repo, "notes.txt", "uncommitted edit\n")
    base, head = sha(repo, "main"), sha(repo, "promote")

    merge_commit = forge.merge(1, "dave", "merge #1")

    assert sha(repo, "main") == merge_commit
    assert parents(repo, merge_commit) == [base, head]
    assert run_git(repo, "log", "-1", "--format=%B", merge_commit) == "merge #1\n\n"
    assert run_git(repo, "ls-tree", "--name-only", merge_commit).split() == [
        "notes.txt",
        "other.txt",
        "stage.txt",
    ]
    assert run_git(repo, "show", f"{merge_commit}:stage.txt") == "staging\n"
    assert run_git(repo, "symbolic-ref", "--short", "HEAD").strip() == "work"
    assert (repo / "stage.txt").read_text() == "development\n"
    assert not (repo / "other.txt").exists()
    assert run_git(repo, "status", "--porcelain") == " M notes.txt\n"


def test_merge_without_a_work_tree_is_a_compare_and_swap(
    repo: Path, forge: LocalForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_proposal(forge)
    run_git(repo, "switch", "--quiet", "--detach")
    real_merge_tree = forge._merge_tree

    def main_moves_meanwhile(number: int, base: str, head: str) -> str:
        tree = real_merge_tree(number, base, head)
        commit_on_detached_main(repo)
        return tree

    monkeypatch.setattr(forge, "_merge_tree", main_moves_meanwhile)
    with pytest.raises(ForgeError, match="'main' moved while merging; nothing was changed"):
        forge.merge(1, "dave", "merge #1")
    assert run_git(repo, "log", "-1", "--format=%s", "main").strip() == "someone else's commit"
    assert forge.get_proposal(1).state == "open"


def commit_on_detached_main(repo: Path) -> None:
    tree = run_git(repo, "rev-parse", "main^{tree}").strip()
    commit = run_git(repo, "commit-tree", tree, "-p", "main", "-m", "someone else's commit").strip()
    run_git(repo, "update-ref", "refs/heads/main", commit)


@pytest.fixture
def conflicting(repo: Path) -> Path:
    """`main` and `promote` both changed `stage.txt` since they split."""
    commit_on(repo, "main", {"stage.txt": "archived\n"}, "archive on main")
    return repo


@pytest.mark.parametrize("checked_out", ["main", "promote"])
def test_a_conflict_leaves_everything_as_it_was(
    conflicting: Path, forge: LocalForge, checked_out: str
) -> None:
    repo = conflicting
    run_git(repo, "switch", "--quiet", checked_out)
    open_proposal(forge)
    refs_before = run_git(repo, "for-each-ref")
    files_before = (repo / "stage.txt").read_text()

    with pytest.raises(ForgeError, match=r"proposal #1 cannot be merged: conflicts in stage\.txt"):
        forge.merge(1, "dave", "merge #1")

    assert run_git(repo, "for-each-ref") == refs_before
    assert (repo / "stage.txt").read_text() == files_before
    assert run_git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git" / "MERGE_HEAD").exists()
    assert forge.get_proposal(1).state == "open"


def test_a_conflict_found_only_by_git_merge_is_aborted(
    conflicting: Path, forge: LocalForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The conflict pre-check is skipped, so `git merge` itself stops half-way and must be aborted.
    repo = conflicting
    open_proposal(forge)
    before = sha(repo, "main")
    monkeypatch.setattr(forge, "_merge_tree", lambda number, base, head: "")
    with pytest.raises(ForgeError, match=r"git merge failed, nothing was changed: .*stage\.txt"):
        forge.merge(1, "dave", "merge #1")
    assert sha(repo, "main") == before
    assert (repo / "stage.txt").read_text() == "archived\n"
    assert run_git(repo, "status", "--porcelain") == ""
    assert not (repo / ".git" / "MERGE_HEAD").exists()


@pytest.mark.parametrize(("path", "tracked"), [("stage.txt", True), ("new-in-head.txt", False)])
def test_local_changes_in_the_way_stop_the_merge(
    repo: Path, forge: LocalForge, path: str, tracked: bool
) -> None:
    commit_on(repo, "promote", {"new-in-head.txt": "from promote\n"}, "add a file")
    open_proposal(forge)
    before = sha(repo, "main")
    write(repo, path, "my local edit\n")
    status_before = run_git(repo, "status", "--porcelain")

    with pytest.raises(ForgeError, match=rf"git merge failed, nothing was changed: .*{path}"):
        forge.merge(1, "dave", "merge #1")

    assert sha(repo, "main") == before
    assert (repo / path).read_text() == "my local edit\n"
    assert run_git(repo, "status", "--porcelain") == status_before
    assert not (repo / ".git" / "MERGE_HEAD").exists()


def test_merge_refuses_a_base_checked_out_in_another_work_tree(
    repo: Path, forge: LocalForge, tmp_path: Path
) -> None:
    open_proposal(forge)
    run_git(repo, "switch", "--quiet", "--detach")
    run_git(repo, "worktree", "add", "--quiet", str(tmp_path / "other"), "main")
    before = sha(repo, "main")
    with pytest.raises(ForgeError, match="'main' is checked out in another work tree"):
        forge.merge(1, "dave", "merge #1")
    assert sha(repo, "main") == before


def test_merge_refuses_what_cannot_be_merged(repo: Path, forge: LocalForge) -> None:
    open_proposal(forge)
    with pytest.raises(ForgeError, match="merged by: 'dave!' is not a valid login"):
        forge.merge(1, "dave!", "merge")
    with pytest.raises(ForgeError, match="a merge needs a commit message"):
        forge.merge(1, "dave", "   ")
    # Someone merged the branch by hand: there is nothing left to merge, and no empty commit.
    run_git(repo, "merge", "--quiet", "--ff-only", "promote")
    with pytest.raises(ForgeError, match="proposal #1: nothing to merge"):
        forge.merge(1, "dave", "merge")
    assert sha(repo, "main") == sha(repo, "promote")


def test_merge_is_recorded_with_who_merged(repo: Path, forge: LocalForge) -> None:
    open_proposal(forge)
    merge_commit = forge.merge(1, "dave", "merge #1")
    with pytest.raises(ForgeError, match="proposal #1 is merged"):
        forge.merge(1, "dave", "again")
    record = json.loads((forge.state_dir / "proposals" / "1.json").read_text())
    assert (record["state"], record["merge_commit"], record["merged_by"]) == (
        "merged",
        merge_commit,
        "dave",
    )


@pytest.mark.parametrize("checked_out", ["main", "promote"])
def test_merge_falls_back_to_stewards_identity(
    repo: Path, forge: LocalForge, monkeypatch: pytest.MonkeyPatch, checked_out: str
) -> None:
    for variable in ("NAME", "EMAIL"):
        monkeypatch.delenv(f"GIT_AUTHOR_{variable}")
        monkeypatch.delenv(f"GIT_COMMITTER_{variable}")
    monkeypatch.delenv("EMAIL", raising=False)
    run_git(repo, "switch", "--quiet", checked_out)
    open_proposal(forge)
    merge_commit = forge.merge(1, "dave", "merge #1")
    assert run_git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", merge_commit).strip() == (
        "Steward <steward@localhost>|Steward <steward@localhost>"
    )


def test_merge_uses_the_configured_identity(
    repo: Path, forge: LocalForge, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("NAME", "EMAIL"):
        monkeypatch.delenv(f"GIT_AUTHOR_{variable}")
        monkeypatch.delenv(f"GIT_COMMITTER_{variable}")
    run_git(repo, "config", "user.name", "Dave Reviewer")
    run_git(repo, "config", "user.email", "dave@example.com")
    open_proposal(forge)
    merge_commit = forge.merge(1, "dave", "merge #1")
    assert run_git(repo, "log", "-1", "--format=%an <%ae>", merge_commit).strip() == (
        "Dave Reviewer <dave@example.com>"
    )


# --- state on disk --------------------------------------------------------------------------------

_CREATE_MANY = """
import sys
from pathlib import Path
from typing import IO
from steward.forge.local import LocalForge

root, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sys.stdin.read()  # both processes start when the test closes their stdin
forge = LocalForge(root)
for index in range(count):
    print(forge.create_proposal(f"{tag} {index}", "", f"{tag}-{index}", "main", "ci-bot").number)
"""


def _read_all(stream: IO[str] | None) -> str:
    assert stream is not None
    with stream:
        return stream.read()


def test_two_processes_creating_at_once_lose_nothing(repo: Path) -> None:
    count = 12
    for tag in ("a", "b"):
        for index in range(count):
            run_git(repo, "branch", f"{tag}-{index}", "promote")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CREATE_MANY, str(repo), tag, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tag in ("a", "b")
    ]
    for process in processes:
        assert process.stdin is not None
        process.stdin.close()
    outputs = [(_read_all(process.stdout), _read_all(process.stderr)) for process in processes]
    for process in processes:
        process.wait()
    assert [process.returncode for process in processes] == [0, 0], [err for _, err in outputs]

    numbers = sorted(int(line) for out, _ in outputs for line in out.split())
    assert numbers == list(range(1, 2 * count + 1))
    forge = LocalForge(repo)
    heads = {forge.get_proposal(number).head_branch for number in numbers}
    assert heads == {f"{tag}-{index}" for tag in ("a", "b") for index in range(count)}
    assert open_proposal(forge).number == 2 * count + 1
    assert sorted(p.name for p in (forge.state_dir / "proposals").iterdir()) == sorted(
        f"{n}.json" for n in range(1, 2 * count + 2)
    )  # no temporary files left behind


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"number": 1, "title": "t"', "corrupt forge state: (document): Invalid JSON"),
        (b"\xff\xfe", "corrupt forge state"),
        (b"[]", "corrupt forge state"),
        (b'{"format": 1, "number": "1"}', "number: Input should be a valid integer"),
    ],
)
def test_a_corrupt_proposal_file_is_an_error_naming_it(
    repo: Path, forge: LocalForge, content: bytes, problem: str
) -> None:
    open_proposal(forge)
    run_git(repo, "branch", "second", "promote")
    path = forge.state_dir / "proposals" / "1.json"
    path.write_bytes(content)
    for call in (
        lambda: forge.get_proposal(1),
        lambda: forge.list_reviews(1),
        lambda: forge.comment(1, "hello"),
        lambda: open_proposal(forge, head="second"),  # reads every proposal
    ):
        with pytest.raises(ForgeError) as caught:
            call()
        assert str(caught.value).startswith(f"{path}: ")
        assert problem in str(caught.value)


def test_a_proposal_file_with_a_bad_field_names_the_field(forge: LocalForge) -> None:
    open_proposal(forge)
    path = forge.state_dir / "proposals" / "1.json"
    record = json.loads(path.read_text())
    record["reviews"] = [{"reviewer": "dave", "state": "LGTM", "commit": "x", "submitted_at": "no"}]
    path.write_text(json.dumps(record))
    with pytest.raises(ForgeError) as caught:
        forge.list_reviews(1)
    message = str(caught.value)
    assert message.startswith(f"{path}: corrupt forge state: ")
    assert "reviews.0.state" in message
    assert "reviews.0.submitted_at" in message


def test_a_proposal_file_holding_another_number_is_corrupt(forge: LocalForge) -> None:
    open_proposal(forge)
    proposals = forge.state_dir / "proposals"
    (proposals / "1.json").replace(proposals / "5.json")
    with pytest.raises(ForgeError, match=r"5\.json: corrupt forge state: it holds proposal #1"):
        forge.get_proposal(5)


def test_corrupt_counter_and_status_files_are_errors_naming_them(
    repo: Path, forge: LocalForge
) -> None:
    open_proposal(forge)
    counter = forge.state_dir / "counter"
    counter.write_text("one\n")
    run_git(repo, "branch", "second", "promote")
    with pytest.raises(ForgeError, match=rf"^{re.escape(str(counter))}: corrupt forge state"):
        open_proposal(forge, head="second")

    head = sha(repo, "promote")
    forge.set_status(head, "gate", "success", "ok")
    status_file = forge.state_dir / "statuses" / f"{head}.json"
    status_file.write_text('{"format": 1, "sha": "x", "statuses": []}')
    with pytest.raises(ForgeError, match=rf"^{re.escape(str(status_file))}: corrupt forge state"):
        forge.get_statuses(head)
    with pytest.raises(ForgeError, match=rf"^{re.escape(str(status_file))}: corrupt forge state"):
        forge.set_status(head, "gate", "failure", "no")


def test_a_directory_that_is_not_a_repository_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="cannot use as a local forge"):
        LocalForge(tmp_path)
