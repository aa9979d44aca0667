"""`steward history` and `held_stage` on real git: registrations and merged promotions through the
local forge, apply records in GTO tags, forged trailers, first-parent semantics, and the walk's
speed on a repository of thousands of commits built with `git fast-import`."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click
import pytest

from steward.aftermerge.history import Event, held_stage, model_history
from steward.aftermerge.records import Record, registration_tag, stage_tag
from steward.cli.history_cmd import HEADERS, history
from steward.cli.main import cli, run
from steward.entries import layout
from steward.errors import RepoError
from steward.gate.promotion import merge_proposal, propose_promotion
from steward.gitio.gitcmd import commit_blobs, head_commit
from steward.reading.catalog import NotFound
from tests.builders import run_git
from tests.promotion_setup import PromotionRepo, make_promotion_repo

VERSION_FILE = layout.version_path("fraud", "0.1.0")


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory) -> PromotionRepo:
    """Two registrations, 0.1.0 promoted to staging then production, then 0.2.0 to staging and
    production (which archives 0.1.0): four merged proposals. Tests only read it."""
    pr = make_promotion_repo(tmp_path_factory.mktemp("promoted"))
    promote(pr, "0.1.0", "staging", ["carol"])
    promote(pr, "0.1.0", "production", ["carol", "erin"])
    promote(pr, "0.2.0", "staging", ["carol"])
    promote(pr, "0.2.0", "production", ["carol", "erin"])
    return pr


@pytest.fixture(scope="module")
def untagged(promoted: PromotionRepo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of `promoted` without its tags: history from git and trailers alone, whether or
    not `steward merge` ran `steward apply` (which writes the tags)."""
    root = tmp_path_factory.mktemp("untagged") / "clone"
    subprocess.run(["git", "clone", "-q", "--no-tags", str(promoted.root), str(root)], check=True)
    return root


@pytest.fixture
def pr(tmp_path: Path) -> PromotionRepo:
    """Two registrations and no apply records."""
    pr = make_promotion_repo(tmp_path)
    tags = run_git(pr.root, "tag", "--list").split()
    if tags:
        run_git(pr.root, "tag", "--delete", *tags)
    return pr


def promote(pr: PromotionRepo, version: str, stage: str, approvers: list[str]) -> str:
    number = propose_promotion(pr.root, pr.forge, "fraud", version, stage, "dave").proposal.number
    for approver in approvers:
        pr.forge.add_review(number, approver, "APPROVED")
    return merge_proposal(pr.root, pr.forge, number, "dave").commit


def rows(events: list[Event]) -> list[tuple[str, str]]:
    return [(event.version, event.summary) for event in events]


def commit_of(root: Path, subject: str) -> str:
    return run_git(root, "log", "-1", "--format=%H", f"--grep=^{subject}$").strip()


def stage_edit(root: Path, version: str, stage: str, rev: str = "HEAD") -> dict[str, bytes]:
    path = layout.version_path("fraud", version)
    text = run_git(root, "show", f"{rev}:{path}")
    old = next(line for line in text.splitlines() if line.startswith("stage: "))
    return {path: text.replace(old, f"stage: {stage}").encode()}


def commit_to_main(root: Path, files: dict[str, bytes], message: str) -> str:
    """A commit straight onto main (checked out at `root`), as a push past the gate would be."""
    for path, content in files.items():
        (root / path).write_bytes(content)
    run_git(root, "commit", "-qam", message)
    return head_commit(root)


def merge_branch(root: Path, files: dict[str, bytes], branch: str, message: str) -> str:
    """A true merge into main of a branch with `files`, made without Steward (as GitHub's
    merge button makes one)."""
    commit_blobs(root, head_commit(root), files, branch, branch)
    run_git(root, "merge", "--no-ff", "-q", "-m", message, branch)
    return head_commit(root)


def tag_record(root: Path, name: str, record: Record) -> None:
    run_git(root, "tag", "-a", name, record.version_commit, "-m", record.tag_message())


# --- from git history -------------------------------------------------------------------------


def test_history_lists_every_registration_and_stage_change_newest_first(untagged: Path) -> None:
    found = model_history(untagged, "fraud")
    assert rows(found.events) == [
        ("0.2.0", "entered production"),
        ("0.2.0", "left staging"),
        ("0.1.0", "entered archived"),
        ("0.1.0", "left production"),
        ("0.2.0", "entered staging"),
        ("0.2.0", "left development"),
        ("0.1.0", "entered production"),
        ("0.1.0", "left staging"),
        ("0.1.0", "entered staging"),
        ("0.1.0", "left development"),
        ("0.2.0", "entered development"),
        ("0.2.0", "registered"),
        ("0.1.0", "entered development"),
        ("0.1.0", "registered"),
    ]
    assert found.rev == head_commit(untagged)
    merges = run_git(untagged, "log", "--first-parent", "--merges", "--format=%H").split()
    assert [e.commit for e in found.events[:-4]] == [
        merges[0],
        merges[0],
        merges[0],
        merges[0],
        merges[1],
        merges[1],
        merges[2],
        merges[2],
        merges[3],
        merges[3],
    ]
    times = [event.at for event in found.events]
    assert times == sorted(times, reverse=True) and all(t.endswith("Z") for t in times)


def test_a_merged_proposal_says_who_proposed_approved_and_merged_and_the_verdict(
    promoted: PromotionRepo, untagged: Path
) -> None:
    found = model_history(untagged, "fraud")
    to_production = found.events[0]
    number = 4
    proposal = promoted.forge.get_proposal(number)
    assert proposal.title.startswith("Promote fraud 0.2.0 to production")
    message = run_git(untagged, "log", "-1", "--format=%B", to_production.commit)
    assert (to_production.proposal, to_production.proposed_by) == (number, "dave")
    assert to_production.approved_by == ("carol", "erin")
    assert to_production.merged_by == "dave"
    assert to_production.verdict is not None
    assert f"Steward-Verdict: {to_production.verdict}" in message
    assert to_production.record is None  # the clone has no tags
    # the archived holder was part of the same decision
    assert found.events[2].approved_by == ("carol", "erin")
    assert found.events[2].proposal == number
    staging = found.events[4]
    assert (staging.proposal, staging.approved_by, staging.by) == (3, ("carol",), "dave")


def test_a_registration_is_its_commit_and_says_who_registered(untagged: Path) -> None:
    entered, registered = model_history(untagged, "fraud").events[-2:]
    assert registered.commit == entered.commit == commit_of(untagged, "Register fraud 0.1.0")
    assert (registered.stage, registered.created_by, registered.by) == (
        "development",
        "ci-bot",
        "ci-bot",
    )
    assert (entered.summary, entered.by) == ("entered development", "ci-bot")
    assert registered.proposal is None and registered.approved_by == ()


def test_records_and_trailers_tell_the_same_story(promoted: PromotionRepo, untagged: Path) -> None:
    """Where `steward merge` ran `steward apply`, its records hold what the trailers say."""
    with_records = model_history(promoted.root, "fraud").events
    from_git = model_history(untagged, "fraud").events
    assert [replace(e, record=None) for e in with_records] == from_git


def test_history_at_an_older_revision(untagged: Path) -> None:
    first_merge = run_git(untagged, "log", "--merges", "--format=%H").split()[-1]
    found = model_history(untagged, "fraud", first_merge)
    assert rows(found.events) == [
        ("0.1.0", "entered staging"),
        ("0.1.0", "left development"),
        ("0.2.0", "entered development"),
        ("0.2.0", "registered"),
        ("0.1.0", "entered development"),
        ("0.1.0", "registered"),
    ]


def test_an_unknown_model_or_revision_is_a_clear_error(promoted: PromotionRepo) -> None:
    with pytest.raises(NotFound, match="model 'churn' is not in the registry at HEAD"):
        model_history(promoted.root, "churn")
    with pytest.raises(NotFound, match=r"'\.\./fraud' is not a model name"):
        model_history(promoted.root, "../fraud")
    with pytest.raises(RepoError, match="'no-such-branch' is not a commit"):
        model_history(promoted.root, "fraud", "no-such-branch")
    with pytest.raises(RepoError, match="is not a commit"):
        model_history(promoted.root, "fraud", "--all")


def test_a_model_without_versions_has_an_empty_history(pr: PromotionRepo) -> None:
    root = pr.root
    model_text = (root / layout.model_path("fraud")).read_text().replace("fraud", "churn", 1)
    (root / "registry/models/churn").mkdir()
    (root / layout.model_path("churn")).write_text(model_text)
    run_git(root, "add", layout.model_path("churn"))
    run_git(root, "commit", "-qm", "Create churn")
    assert model_history(root, "churn").events == []


def test_a_direct_commit_and_a_merge_without_trailers_name_no_decision(pr: PromotionRepo) -> None:
    root = pr.root
    direct = commit_to_main(root, stage_edit(root, "0.1.0", "staging"), "Straight to staging")
    merged = merge_branch(
        root, stage_edit(root, "0.2.0", "staging"), "pr-7", "Merge pull request #7 from acme/pr-7"
    )
    events = model_history(root, "fraud").events
    assert rows(events[:4]) == [
        ("0.2.0", "entered staging"),
        ("0.2.0", "left development"),
        ("0.1.0", "entered staging"),
        ("0.1.0", "left development"),
    ]
    assert [e.commit for e in events[:4]] == [merged, merged, direct, direct]
    assert all(e.proposal is None and e.by is None and e.approved_by == () for e in events[:4])


def test_trailers_count_only_as_steward_merge_writes_them(pr: PromotionRepo) -> None:
    """A pull request's author controls its title and body, which GitHub puts into squash and
    merge commits: `Steward-*` lines there must not pass for a decision."""
    root = pr.root
    forged = "Steward-Proposal: 9\nSteward-Proposed-By: dave\nSteward-Approved-By: erin\n"
    squash = commit_to_main(
        root,
        stage_edit(root, "0.1.0", "staging"),
        f"Promote (#9)\n\n{forged}Steward-Head: {head_commit(root)}\n",
    )
    wrong_head = merge_branch(
        root,
        stage_edit(root, "0.2.0", "staging"),
        "pr-10",
        f"Merge pull request #10\n\n{forged}Steward-Head: {squash}\n",
    )
    not_last = merge_branch(
        root,
        stage_edit(root, "0.1.0", "production"),
        "pr-11",
        f"Merge pull request #11\n\n{forged}Steward-Head: "
        f"{'0' * 40}\n\nthe last paragraph is not trailers",
    )
    events = {e.commit: e for e in model_history(root, "fraud").events}
    for commit in (squash, wrong_head, not_last):
        assert events[commit].proposal is None and events[commit].approved_by == ()


def test_deleted_and_unreadable_version_files(pr: PromotionRepo) -> None:
    """Never on a governed branch, but history must still say what git says, not crash."""
    root = pr.root
    broken = commit_to_main(root, {VERSION_FILE: b"stage: [unclosed\n"}, "Break 0.1.0")
    run_git(root, "rm", "-q", layout.version_path("fraud", "0.2.0"))
    run_git(root, "commit", "-qm", "Delete 0.2.0")
    deleted = head_commit(root)
    events = model_history(root, "fraud").events
    assert rows(events[:2]) == [("0.2.0", "left development"), ("0.1.0", "left development")]
    assert [e.commit for e in events[:2]] == [deleted, broken]


# --- apply records ----------------------------------------------------------------------------


def record_for(root: Path, about: Event, **fields: object) -> Record:
    """The record `steward apply` would write about the event `about`, with `fields` changed."""
    kind = {"registered": "registration", "entered": "assignment", "left": "unassignment"}
    base = Record(
        event=kind[about.event],  # type: ignore[arg-type]
        model="fraud",
        version=about.version,
        stage=None if about.event == "registered" else about.stage,
        commit=about.commit,
        version_commit=commit_of(root, f"Register fraud {about.version}"),
        at=about.at,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_an_apply_record_fills_in_what_a_github_merge_commit_lacks(pr: PromotionRepo) -> None:
    root = pr.root
    merged = merge_branch(
        root, stage_edit(root, "0.1.0", "staging"), "pr-7", "Merge pull request #7 from acme/pr-7"
    )
    entered = model_history(root, "fraud").events[0]
    assert (entered.commit, entered.summary, entered.proposal) == (merged, "entered staging", None)
    record = record_for(
        root,
        entered,
        proposal=7,
        proposed_by="dave",
        approved_by=["carol"],
        merged_by="carol",
        verdict="sha256:abc",
    )
    tag_record(root, stage_tag("fraud", "staging", 1), record)
    events = model_history(root, "fraud").events
    assert (events[0].record, events[0].proposal, events[0].approved_by) == (
        "fraud#staging#1",
        7,
        ("carol",),
    )
    assert (events[0].merged_by, events[0].verdict, events[0].by) == ("carol", "sha256:abc", "dave")
    # leaving development was the same merge: the same decision, though no record names it
    assert (events[1].summary, events[1].proposal, events[1].record) == (
        "left development",
        7,
        None,
    )
    data = json.loads(json.dumps(events[0].as_dict()))
    assert data["record"] == "fraud#staging#1" and data["approved_by"] == ["carol"]


def test_a_record_is_preferred_over_trailers(untagged: Path, tmp_path: Path) -> None:
    root = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(untagged), str(root)], check=True)
    newest = model_history(root, "fraud").events[0]
    tag_record(root, stage_tag("fraud", "production", 2), record_for(root, newest, proposal=40))
    events = model_history(root, "fraud").events
    assert (events[0].proposal, events[0].approved_by, events[0].record) == (
        40,
        (),
        "fraud#production#2",
    )


def test_records_that_are_not_about_this_branch_or_not_steward_s_are_ignored(
    pr: PromotionRepo,
) -> None:
    root = pr.root
    registered = model_history(root, "fraud").events[-1]
    # a record about a commit the branch never had (a proposal branch, another clone)
    commit_blobs(root, head_commit(root), stage_edit(root, "0.1.0", "staging"), "x", "elsewhere")
    elsewhere = run_git(root, "rev-parse", "elsewhere").strip()
    stray = record_for(root, registered, event="assignment", stage="staging", commit=elsewhere)
    tag_record(root, stage_tag("fraud", "staging", 1), stray)
    # GTO's own tags (no record), a lightweight tag, a record of another model, a malformed one
    run_git(root, "tag", "-a", "fraud#production#2", registered.commit, "-m", "gto assign")
    run_git(root, "tag", registration_tag("fraud", "0.2.0"), registered.commit)
    other = replace(record_for(root, registered), model="churn", proposal=1)
    tag_record(root, "fraud#staging#3", other)
    bad = record_for(root, registered, proposal="7; rm -rf /")
    tag_record(root, "fraud#staging#4", bad)
    events = model_history(root, "fraud").events
    assert all(e.record is None and e.proposal is None for e in events)
    assert len(events) == 4


def test_a_record_of_an_event_git_does_not_show_adds_nothing(pr: PromotionRepo) -> None:
    """Git says what happened; a record only says who decided what git shows."""
    root = pr.root
    before = model_history(root, "fraud").events
    registered = before[-1]
    invented = record_for(root, registered, event="assignment", stage="production", proposal=3)
    tag_record(root, stage_tag("fraud", "production", 1), invented)
    assert model_history(root, "fraud").events == before


# --- held_stage ---------------------------------------------------------------------------------


def test_held_stage_sees_every_stage_a_version_had_on_the_branch(promoted: PromotionRepo) -> None:
    root = promoted.root
    assert held_stage(root, "HEAD", "fraud", "0.1.0", "production")
    assert held_stage(root, "HEAD", "fraud", "0.1.0", "staging")
    assert held_stage(root, "HEAD", "fraud", "0.1.0", "development")
    assert held_stage(root, "HEAD", "fraud", "0.1.0", "archived")
    assert held_stage(root, "HEAD", "fraud", "0.2.0", "production")
    assert not held_stage(root, "HEAD", "fraud", "0.2.0", "archived")
    assert not held_stage(root, "HEAD", "fraud", "9.9.9", "production")
    assert not held_stage(root, "HEAD", "churn", "0.1.0", "production")
    assert not held_stage(root, "HEAD", "../fraud", "0.1.0", "production")
    assert not held_stage(root, "HEAD", "fraud", "0.1.0 ", "production")
    merges = run_git(root, "log", "--first-parent", "--merges", "--format=%H").split()
    to_staging, to_production = merges[3], merges[2]  # 0.1.0's two promotions
    assert held_stage(root, to_staging, "fraud", "0.1.0", "staging")
    assert not held_stage(root, to_staging, "fraud", "0.1.0", "production")
    assert not held_stage(root, f"{to_staging}~1", "fraud", "0.1.0", "staging")
    assert held_stage(root, to_production, "fraud", "0.1.0", "production")
    with pytest.raises(RepoError):
        held_stage(root, "no-such-rev", "fraud", "0.1.0", "production")


def test_held_stage_counts_only_what_landed_on_the_branch(pr: PromotionRepo) -> None:
    """A stage held for one commit of a proposal's branch, then given back on that branch,
    never reached the base: it is not a stage the version held there."""
    root = pr.root
    base = head_commit(root)
    commit_blobs(root, base, stage_edit(root, "0.1.0", "production"), "up", "detour")
    up = run_git(root, "rev-parse", "detour").strip()
    back = stage_edit(root, "0.1.0", "staging", up)
    run_git(root, "branch", "-f", "detour", commit_blobs(root, up, back, "back", "detour-2"))
    run_git(root, "merge", "--no-ff", "-q", "-m", "Merge detour", "detour")
    assert held_stage(root, "detour", "fraud", "0.1.0", "production")  # its own first parents
    assert not held_stage(root, "main", "fraud", "0.1.0", "production")
    assert held_stage(root, "main", "fraud", "0.1.0", "staging")
    assert rows(model_history(root, "fraud").events[:2]) == [
        ("0.1.0", "entered staging"),
        ("0.1.0", "left development"),
    ]


# --- the command --------------------------------------------------------------------------------


@pytest.fixture
def steward(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """`steward ARGS` through the real group and its error handler, with `history` added to it
    for the test only (the group's module registers its commands itself)."""
    monkeypatch.setitem(cli.commands, "history", history)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = run(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_the_command_prints_an_aligned_table(
    promoted: PromotionRepo, steward: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = steward("-C", str(promoted.root), "history", "fraud")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == list(HEADERS)
    assert len(lines) == 15
    first = lines[1].split()
    merge = run_git(promoted.root, "rev-parse", "HEAD").strip()
    assert first[1:] == [
        merge[:12],
        "0.2.0",
        "entered",
        "production",
        "#4",
        "dave",
        "carol",
        "(ml-engineer),",
        "erin",
        "(governance)",
    ]
    assert lines[-1].split()[2:] == ["0.1.0", "registered", "-", "ci-bot", "-"]
    for header in HEADERS[1:]:
        column = lines[0].index(header)
        assert all(line[column - 2 : column] == "  " for line in lines), header
        assert all(line[column] != " " for line in lines), header


def test_the_command_prints_json(
    promoted: PromotionRepo, steward: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, _ = steward("-C", str(promoted.root), "history", "fraud", "--json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 14
    assert data[0]["event"] == "entered" and data[0]["stage"] == "production"
    assert data[0]["approved_by"] == ["carol", "erin"] and data[0]["proposal"] == 4
    assert data[0]["approvals"] == ["carol (ml-engineer)", "erin (governance)"]
    assert set(data[0]) == {
        "at", "commit", "version", "event", "stage", "summary", "proposal", "proposed_by",
        "approved_by", "approvals", "merged_by", "verdict", "created_by", "by", "record",
    }  # fmt: skip
    code, out, _ = steward(
        "-C", str(promoted.root), "history", "fraud", "--json", "--rev", "HEAD~1"
    )
    assert code == 0 and len(json.loads(out)) == 10


def test_the_command_says_when_the_model_is_not_there(
    promoted: PromotionRepo, steward: Callable[..., tuple[int, str, str]]
) -> None:
    code, out, err = steward("-C", str(promoted.root), "history", "churn")
    assert (code, out) == (1, "")
    assert "error: model 'churn' is not in the registry at HEAD" in err


def test_every_option_of_the_command_has_help() -> None:
    assert history.help
    for param in history.params:
        if isinstance(param, click.Option):
            assert param.help, param.opts


# --- scale --------------------------------------------------------------------------------------


def version_text(version: str, stage: str) -> str:
    return f"model: fraud\nversion: {version}\nstage: {stage}\ncreated_by: ci-bot\n"


def synthetic_repo(root: Path, commits: int) -> None:
    """`commits` commits on main through one `git fast-import`, all but a few touching other
    paths (source, data); the few register and promote two versions, one through a merge."""
    registry: dict[int, dict[str, str]] = {
        10: {"model.yaml": "name: fraud\n", "0.1.0.yaml": version_text("0.1.0", "development")},
        commits // 4: {"0.1.0.yaml": version_text("0.1.0", "staging")},
        commits // 3: {"0.2.0.yaml": version_text("0.2.0", "development")},
        (3 * commits) // 4: {
            "0.1.0.yaml": version_text("0.1.0", "archived"),
            "0.2.0.yaml": version_text("0.2.0", "production"),
        },
    }
    merged_at = commits // 2
    chunks: list[bytes] = []

    def data(text: str) -> None:
        raw = text.encode()
        chunks.append(b"data %d\n%s\n" % (len(raw), raw))

    def commit(
        mark: int, ref: str, parent: int | None, files: dict[str, str], merge: int = 0
    ) -> None:
        chunks.append(f"commit {ref}\nmark :{mark}\n".encode())
        chunks.append(f"committer T <t@example.com> {1_790_000_000 + mark} +0000\n".encode())
        data(f"Commit {mark}")
        if parent is not None:
            chunks.append(f"from :{parent}\n".encode())
        if merge:
            chunks.append(f"merge :{merge}\n".encode())
        for path, text in files.items():
            chunks.append(f"M 100644 inline {path}\n".encode())
            data(text)

    side = commits + 1
    for mark in range(1, commits + 1):
        files = {f"src/module_{mark % 97}.py": f"# revision {mark}\n"}
        files.update({f"registry/models/fraud/{k}": v for k, v in registry.get(mark, {}).items()})
        if mark == merged_at:
            commit(
                side,
                "refs/heads/side",
                mark - 1,
                {VERSION_FILE: version_text("0.1.0", "production")},
            )
            commit(
                mark,
                "refs/heads/main",
                mark - 1,
                files | {VERSION_FILE: version_text("0.1.0", "production")},
                merge=side,
            )
        else:
            commit(mark, "refs/heads/main", mark - 1 if mark > 1 else None, files)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(chunks), check=True
    )


def test_history_stays_fast_on_thousands_of_commits(
    tmp_path: Path, figure: Callable[[str], None]
) -> None:
    commits = 5_000
    root = tmp_path / "big"
    started = time.perf_counter()
    synthetic_repo(root, commits)
    built = time.perf_counter() - started
    started = time.perf_counter()
    found = model_history(root, "fraud")
    walked = time.perf_counter() - started
    started = time.perf_counter()
    rollback = held_stage(root, "main", "fraud", "0.1.0", "production")
    held = time.perf_counter() - started
    assert rows(found.events) == [
        ("0.2.0", "entered production"),
        ("0.2.0", "left development"),
        ("0.1.0", "entered archived"),
        ("0.1.0", "left production"),
        ("0.1.0", "entered production"),
        ("0.1.0", "left staging"),
        ("0.2.0", "entered development"),
        ("0.2.0", "registered"),
        ("0.1.0", "entered staging"),
        ("0.1.0", "left development"),
        ("0.1.0", "entered development"),
        ("0.1.0", "registered"),
    ]
    assert rollback and not held_stage(root, "main", "fraud", "0.2.0", "staging")
    figure(
        f"history: {commits:,} commits (built by fast-import in {built:.2f} s): "
        f"steward history {walked * 1000:.0f} ms, held_stage {held * 1000:.0f} ms"
    )
