"""The GitHub forge and `steward gate` in Actions, against the project's fake GitHub (whose every
response is checked against GitHub's OpenAPI description) and GitHub's example webhook payloads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from steward.forge.github import GATE_MARKER, GitHubForge, GitHubSettings
from steward.forge.protocol import ForgeError
from steward.gate.actions import gate_in_actions
from steward.gate.judge import run_gate
from steward.gate.promotion import propose_promotion
from steward.gitio.gitcmd import merge_tree
from tests.builders import run_git
from tests.github_api import FakeGitHub, PullCommit
from tests.github_api.webhooks import event_for_pull, example
from tests.promotion_setup import POLICY, PromotionRepo, make_promotion_repo

REPO = "acme/registry"


@dataclass
class Waits:
    """An injected clock and sleep: sleeping moves the clock, nobody waits."""

    now: float = 1_800_000_000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Setup:
    pr: PromotionRepo
    github: FakeGitHub
    forge: GitHubForge
    waits: Waits
    number: int
    head: str
    base: str


def mirror(pr: PromotionRepo, server: FakeGitHub, branch: str, author: str, title: str) -> int:
    """Put the local repository's main and `branch` on the fake GitHub, and a pull request."""
    if REPO not in [r.full_name for r in server.state.repos.values()]:
        server.add_repo(REPO, default_branch="main")
    server.set_head(REPO, "main", run_git(pr.root, "rev-parse", "main").strip())
    head = run_git(pr.root, "rev-parse", branch).strip()
    return server.add_pull(REPO, title=title, user=author, head=branch, head_sha=head).number


def forge_for(server: FakeGitHub, waits: Waits, token: str | None = None) -> GitHubForge:
    settings = GitHubSettings(REPO, token=token or server.token, api_url=server.base_url)
    return GitHubForge(settings, clock=waits.clock, sleep=waits.sleep, seconds_between_writes=None)


def setup(tmp_path: Path, server: FakeGitHub, policy: str = POLICY) -> Setup:
    pr = make_promotion_repo(tmp_path, policy)
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    number = mirror(pr, server, promotion.branch, "dave", promotion.proposal.title)
    waits = Waits()
    base = run_git(pr.root, "rev-parse", "main").strip()
    return Setup(pr, server, forge_for(server, waits), waits, number, promotion.commit, base)


def judge(s: Setup) -> object:
    return run_gate(s.pr.root, "", "", forge=s.forge, proposal_number=s.number).verdict


def test_a_pull_request_is_read_and_judged(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    proposal = s.forge.get_proposal(s.number)
    assert (proposal.author, proposal.head_sha, proposal.base_sha) == ("dave", s.head, s.base)
    assert not judge(s).passed  # type: ignore[attr-defined]
    github.add_review(REPO, s.number, "carol", "APPROVED")
    assert judge(s).passed  # type: ignore[attr-defined]


def test_on_github_a_role_holders_change_request_blocks_and_only_counted_approvals_are_named(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """GitHub's reviews, read through PyGithub: carol (ml-engineer) requests changes, so her
    role's rule fails whoever else approves; zed holds no role: his approval is not counted."""
    s = setup(
        tmp_path,
        github,
        POLICY.replace("ml-engineer: [carol, dave]", "ml-engineer: [carol, dave, grace]"),
    )
    github.add_review(REPO, s.number, "zed", "APPROVED")
    github.add_review(REPO, s.number, "grace", "APPROVED")
    github.add_review(REPO, s.number, "carol", "CHANGES_REQUESTED")
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    assert verdict.blocked_by == ("carol",)  # type: ignore[attr-defined]
    github.add_review(REPO, s.number, "carol", "APPROVED")
    verdict = judge(s)
    assert verdict.passed  # type: ignore[attr-defined]
    assert verdict.approvers == ("carol", "grace")  # type: ignore[attr-defined]
    assert ("zed", "no role in what this change needs") in verdict.not_counted  # type: ignore[attr-defined]


def _pull_commits(pr: PromotionRepo, base: str, head: str, author: str | None) -> list[PullCommit]:
    """The commits of `base..head` as GitHub lists them, their author mapped to `author`."""
    log = run_git(pr.root, "log", "--reverse", "--format=%H%x1f%B%x1e", f"{base}..{head}")
    commits = []
    for record in log.split("\x1e"):
        if record.strip():
            sha, message = record.strip("\n").split("\x1f", 1)
            commits.append(PullCommit(sha, message, author=author, committer=author))
    return commits


def test_a_bot_opened_pull_request_keeps_its_proposer_when_the_body_line_is_edited_away(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """steward-bot opens dave's promotion; dave deletes the 'Proposed by @dave' line from the
    body and approves his own pull request. The commit the bot made names him in a trailer,
    which the pull request's author cannot rewrite without a new head: still excluded."""
    pr = make_promotion_repo(tmp_path)
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    assert "Steward-Proposed-By: dave" in run_git(
        pr.root, "log", "-1", "--format=%B", promotion.commit
    )
    number = mirror(pr, github, promotion.branch, github.login, promotion.proposal.title)
    base = run_git(pr.root, "rev-parse", "main").strip()
    commits = _pull_commits(pr, base, promotion.commit, github.login)
    github.set_pull_commits(REPO, number, commits)
    forge = forge_for(github, Waits())
    github.add_review(REPO, number, "dave", "APPROVED")
    verdict = run_gate(pr.root, "", "", forge=forge, proposal_number=number).verdict
    assert not verdict.passed
    assert ("dave", "proposed it, or wrote a commit in it") in verdict.not_counted
    github.add_review(REPO, number, "carol", "APPROVED")
    assert run_gate(pr.root, "", "", forge=forge, proposal_number=number).verdict.passed


def test_whoever_wrote_a_commit_in_the_pull_request_cannot_approve_it(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """carol pushed a commit to dave's pull request: her approval is no review of it."""
    s = setup(tmp_path, github)
    github.set_pull_commits(REPO, s.number, _pull_commits(s.pr, s.base, s.head, "carol"))
    github.add_review(REPO, s.number, "carol", "APPROVED")
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    assert ("carol", "proposed it, or wrote a commit in it") in verdict.not_counted  # type: ignore[attr-defined]


def test_unreadable_commits_fail_the_approvals_closed(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    github.add_review(REPO, s.number, "carol", "APPROVED")
    github.fail_next("GET", r"/pulls/\d+/commits$", 404)
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    failed = " ".join(r.reason for r in verdict.failed_rules)  # type: ignore[attr-defined]
    assert "who may not approve" in failed and "could not be read" in failed
    assert judge(s).passed  # type: ignore[attr-defined]  # readable again: carol counts


def test_an_approval_on_an_old_head_does_not_count(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    github.add_review(REPO, s.number, "carol", "APPROVED", commit_id=s.base)
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    assert verdict.approvers == ()  # type: ignore[attr-defined]


def test_a_dismissed_review_does_not_count(tmp_path: Path, github: FakeGitHub) -> None:
    from tests.github_fixtures import client_for

    s = setup(tmp_path, github)
    review = github.add_review(REPO, s.number, "carol", "APPROVED")
    assert judge(s).passed  # type: ignore[attr-defined]
    client = client_for(github)
    client.get_repo(REPO).get_pull(s.number).get_review(review.id).dismiss("stale approval")
    assert not judge(s).passed  # type: ignore[attr-defined]


TEAM_POLICY = POLICY.replace("ml-engineer: [carol, dave]", 'ml-engineer: ["@acme/ml", dave]')


def test_team_roles_count_only_active_members(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github, TEAM_POLICY)
    github.add_team("acme", "ml")
    github.set_membership("acme", "ml", "carol", state="pending")
    github.add_review(REPO, s.number, "carol", "APPROVED")
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    github.set_membership("acme", "ml", "carol", state="active")
    s.forge = forge_for(github, s.waits)  # a new run: memberships are cached per run
    assert judge(s).passed  # type: ignore[attr-defined]


def test_a_token_that_cannot_read_teams_fails_closed(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github, TEAM_POLICY)
    github.add_team("acme", "ml")
    github.set_membership("acme", "ml", "carol", state="active")
    github.add_review(REPO, s.number, "carol", "APPROVED")
    weak = github.add_token("actions-token", login="github-actions[bot]", can_read_teams=False)
    s.forge = forge_for(github, s.waits, token=weak.value)
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    why = next(r.reason for r in verdict.rules if r.rule.startswith("approvals:"))  # type: ignore[attr-defined]
    assert "could not resolve @acme/ml" in why
    assert "the token cannot read team membership" in why


def test_more_than_a_hundred_reviews_are_all_read(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    for i in range(120):
        github.add_review(REPO, s.number, f"bystander{i}", "COMMENTED", body=f"note {i}")
    github.add_review(REPO, s.number, "carol", "APPROVED")  # on page 2
    assert len(s.forge.list_reviews(s.number)) == 121
    assert judge(s).passed  # type: ignore[attr-defined]


def test_a_502_is_retried_then_the_gate_goes_on(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    github.add_review(REPO, s.number, "carol", "APPROVED")
    github.fail_next("GET", r"/pulls/\d+/reviews$", 502)
    assert judge(s).passed  # type: ignore[attr-defined]
    assert s.waits.slept == [2.0]


def test_a_rate_limit_waits_for_the_reset(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    github.add_review(REPO, s.number, "carol", "APPROVED")
    github.fail_rate_limited("GET", r"/pulls/\d+/reviews$", reset=int(s.waits.now) + 30)
    assert judge(s).passed  # type: ignore[attr-defined]
    assert s.waits.slept == [31.0]


def test_persistent_errors_fail_closed_naming_the_evidence(
    tmp_path: Path, github: FakeGitHub
) -> None:
    s = setup(tmp_path, github)
    github.add_review(REPO, s.number, "carol", "APPROVED")
    github.fail_next("GET", r"/pulls/\d+/reviews$", 503, times=10)
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    why = next(r.reason for r in verdict.rules if r.rule.startswith("approvals:"))  # type: ignore[attr-defined]
    assert "reviews could not be read: GitHub: list the reviews of pull request #1: HTTP 503" in why


def _actions_env(
    tmp_path: Path, github: FakeGitHub, name: str, payload: dict[str, object]
) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": github.base_url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def test_gate_in_actions_on_a_pull_request_event(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    env = _actions_env(tmp_path, github, "pull_request", event_for_pull(github, REPO, s.number))
    result = gate_in_actions(s.pr.root, env, forge=s.forge)
    assert not result.run.verdict.passed
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## ❌ Steward gate failed for proposal #1")
    comments = github.comments(REPO, s.number)
    assert len(comments) == 1 and GATE_MARKER in comments[0].body
    assert github.review_requests(REPO, s.number).users == ["carol"]
    # The review event: the same sticky comment is updated, not a second one posted.
    review = github.add_review(REPO, s.number, "carol", "APPROVED")
    env = _actions_env(
        tmp_path,
        github,
        "pull_request_review",
        event_for_pull(
            github, REPO, s.number, "pull_request_review", "submitted", review_id=review.id
        ),
    )
    result = gate_in_actions(s.pr.root, env, forge=s.forge)
    assert result.run.verdict.passed
    comments = github.comments(REPO, s.number)
    assert len(comments) == 1 and "✅ Steward gate passed" in comments[0].body


def test_gate_in_actions_on_a_merge_group(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    github.add_review(REPO, s.number, "carol", "APPROVED")
    tree = merge_tree(s.pr.root, s.base, s.head)
    assert tree is not None
    group = run_git(
        s.pr.root, "commit-tree", tree, "-p", s.base, "-p", s.head, "-m", "merge queue"
    ).strip()
    payload = example(
        "merge_group",
        "checks_requested",
        merge_group={
            "head_sha": group,
            "head_ref": f"refs/heads/gh-readonly-queue/main/pr-{s.number}-{s.head}",
            "base_sha": s.base,
            "base_ref": "refs/heads/main",
        },
    )
    result = gate_in_actions(
        s.pr.root, _actions_env(tmp_path, github, "merge_group", payload), forge=s.forge
    )
    assert result.run.verdict.passed
    assert result.run.head == group  # the queue's commit is judged; approvals are on the PR head


def test_shell_metacharacters_in_a_title_and_branch_are_only_text(
    tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pr = make_promotion_repo(tmp_path)
    evil = "feature/$(touch${IFS}pwned)`id`;echo"
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    run_git(pr.root, "branch", "-m", promotion.branch, evil)
    number = mirror(pr, github, evil, "dave", '"; rm -rf / #$(touch pwned) `id`')
    monkeypatch.chdir(tmp_path)
    forge = forge_for(github, Waits())
    env = _actions_env(tmp_path, github, "pull_request", event_for_pull(github, REPO, number))
    result = gate_in_actions(pr.root, env, forge=forge)
    assert not result.run.verdict.passed  # no approval yet; nothing else happened
    assert not list(tmp_path.rglob("pwned")) and not list(pr.root.rglob("pwned"))
    assert len(github.comments(REPO, number)) == 1


def test_merge_on_github_names_the_judged_head(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    commit = s.forge.merge(
        s.number, "dave", "Merge proposal #1\n\nSteward-Proposal: 1", expected_head=s.head
    )
    assert github.merges(REPO)[0].sha == commit
    from steward.forge.protocol import ForgeError

    other = mirror(s.pr, github, s.pr.forge.get_proposal(1).head_branch, "dave", "again")
    with pytest.raises(ForgeError, match="HTTP 409"):
        s.forge.merge(other, "dave", "m", expected_head="0" * 40)


def test_github_setup_protects_the_branch(
    tmp_path: Path,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from steward.cli.main import run

    s = setup(tmp_path, github)
    monkeypatch.setenv("GITHUB_API_URL", github.base_url)
    monkeypatch.setenv("GITHUB_TOKEN", github.token)
    args = ["-C", str(s.pr.root), "github", "setup", "--repository", REPO]
    assert run([*args, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "change required status checks: [] -> [('gate', 15368)]" in out
    assert "change rebase merges allowed (the gate does not judge their tree): True -> False" in out
    assert "would change 10 setting(s) of acme/registry@main" in out
    assert github.protection(REPO, "main") is None
    assert github.merge_methods(REPO)["rebase"] is True
    assert run(args) == 0
    assert github.merge_methods(REPO) == {"merge": True, "squash": True, "rebase": False}
    protection = github.protection(REPO, "main")
    assert protection is not None
    assert protection["required_pull_request_reviews"]["require_last_push_approval"] is True
    assert protection["enforce_admins"] is True
    capsys.readouterr()
    assert run(args) == 0
    assert "changed 0 setting(s)" in capsys.readouterr().out


def test_setup_leaves_only_merge_methods_that_land_the_judged_tree(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """A repository that allowed rebase merges only gets merge commits instead: GitHub needs one
    method, and a rebase merge could land a tree the gate never judged."""
    from steward.forge.github_setup import setup_branch

    s = setup(tmp_path, github)
    s.forge.request(
        "PATCH",
        f"/repos/{REPO}",
        {
            "allow_merge_commit": False,
            "allow_squash_merge": False,
            "allow_rebase_merge": True,
            "merge_commit_title": "PR_TITLE",
            "merge_commit_message": "PR_BODY",  # a body could end in forged Steward-* lines
        },
    )
    _, planned = setup_branch(s.forge, None, "gate")
    assert github.merge_methods(REPO) == {"merge": True, "squash": False, "rebase": False}
    assert s.forge.request("GET", f"/repos/{REPO}")["merge_commit_message"] == "PR_TITLE"
    assert [p.name for p in planned if p.changes][-3:] == [
        "rebase merges allowed (the gate does not judge their tree)",
        "merge commits or squash merges allowed",
        "merge commit message (never the pull request's body, which its author writes)",
    ]
    with pytest.raises(ForgeError, match="Rebase merges are not allowed"):
        s.forge.request("PUT", f"/repos/{REPO}/pulls/{s.number}/merge", {"merge_method": "rebase"})
    _, again = setup_branch(s.forge, None, "gate")
    assert not any(p.changes for p in again)


def test_a_promotion_opens_a_pull_request_on_github(tmp_path: Path, github: FakeGitHub) -> None:
    pr = make_promotion_repo(tmp_path)
    github.add_repo(REPO, default_branch="main")
    github.set_head(REPO, "main", run_git(pr.root, "rev-parse", "main").strip())
    forge = forge_for(github, Waits())
    promotion = propose_promotion(pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave")
    github.set_head(REPO, promotion.branch, promotion.commit)  # what `publish` pushes
    proposal = forge.create_proposal(
        promotion.proposal.title, promotion.proposal.body, promotion.branch, "main", "dave"
    )
    assert (proposal.author, proposal.head_sha) == (github.login, promotion.commit)
    assert "_Proposed by @dave through steward-bot._" in github.pull(REPO, proposal.number).body


def test_steward_gate_with_no_arguments_in_actions(
    tmp_path: Path,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from steward.cli.main import run

    s = setup(tmp_path, github)
    env = _actions_env(tmp_path, github, "pull_request", event_for_pull(github, REPO, s.number))
    for name, value in {**env, "GITHUB_TOKEN": github.token}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STEWARD_FORGE", "github")
    assert run(["-C", str(s.pr.root), "gate"]) == 1
    assert "gate FAILED for proposal #1" in capsys.readouterr().out
    github.add_review(REPO, s.number, "carol", "APPROVED")
    assert run(["-C", str(s.pr.root), "gate"]) == 0
    assert len(github.comments(REPO, s.number)) == 1


def test_setup_never_weakens_existing_rules_and_removes_bypasses(
    tmp_path: Path, github: FakeGitHub
) -> None:
    from steward.forge.github_setup import setup_branch

    s = setup(tmp_path, github)
    s.forge.request(
        "PUT",
        f"/repos/{REPO}/branches/main/protection",
        {
            "required_status_checks": {"strict": False, "checks": [{"context": "ci"}]},
            "enforce_admins": False,
            "required_pull_request_reviews": {
                "required_approving_review_count": 2,
                "bypass_pull_request_allowances": {"users": ["mallory"]},
            },
            "restrictions": None,
            "required_linear_history": True,
        },
    )
    branch, planned = setup_branch(s.forge, None, "gate")
    assert branch == "main"
    stored = github.protection(REPO, "main")
    assert stored is not None
    contexts = {c["context"] for c in stored["required_status_checks"]["checks"]}
    assert contexts == {"ci", "gate"}
    reviews = stored["required_pull_request_reviews"]
    assert reviews["required_approving_review_count"] == 2  # not lowered to 1
    assert reviews["bypass_pull_request_allowances"] == {"users": [], "teams": [], "apps": []}
    assert stored["required_linear_history"] is True
    assert any(p.name == "who may bypass reviews" and p.changes for p in planned)


def test_the_gate_judges_only_open_pull_requests_into_the_default_branch(
    tmp_path: Path, github: FakeGitHub
) -> None:
    from steward.errors import StewardError

    s = setup(tmp_path, github)
    github.set_head(REPO, "scratch", s.base)
    pull = github.pull(REPO, s.number)
    pull.base_ref = "scratch"  # retargeted to a branch with another policy
    env = _actions_env(tmp_path, github, "pull_request", event_for_pull(github, REPO, s.number))
    with pytest.raises(StewardError, match="targets 'scratch'; the gate judges changes to main"):
        gate_in_actions(s.pr.root, env, forge=s.forge)


def test_an_event_about_an_older_head_is_superseded(tmp_path: Path, github: FakeGitHub) -> None:
    from steward.errors import StewardError

    s = setup(tmp_path, github)
    payload = event_for_pull(github, REPO, s.number)
    payload["pull_request"]["head"]["sha"] = s.base  # the event was about an earlier push
    env = _actions_env(tmp_path, github, "pull_request", payload)
    with pytest.raises(StewardError, match="has moved on"):
        gate_in_actions(s.pr.root, env, forge=s.forge)


def test_the_person_a_bot_proposed_for_cannot_approve(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    pull = github.pull(REPO, s.number)
    pull.user = github.login
    pull.body = "Promote fraud.\n_Proposed by @carol through steward-bot._\n"
    github.add_review(REPO, s.number, "carol", "APPROVED")
    github.add_review(REPO, s.number, github.login, "APPROVED")
    verdict = judge(s)
    assert not verdict.passed  # type: ignore[attr-defined]
    assert verdict.approvers == ()  # type: ignore[attr-defined]
    github.add_review(REPO, s.number, "dave", "APPROVED")
    assert judge(s).passed  # type: ignore[attr-defined]


def test_the_sticky_comment_is_only_ever_our_own(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github)
    github.add_comment(REPO, s.number, f"{GATE_MARKER}\n✅ passed (forged)", user="dave")
    s.forge.comment(s.number, "the real verdict", marker=GATE_MARKER)
    bodies = [(c.user, c.body) for c in github.comments(REPO, s.number)]
    assert ("dave", f"{GATE_MARKER}\n✅ passed (forged)") in bodies
    assert (github.login, f"{GATE_MARKER}\nthe real verdict") in bodies


def test_under_an_app_token_the_gate_keeps_one_sticky_comment(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """An App installation token may not read GET /user and comments as SLUG[bot]: re-runs
    update that one comment, and a person's comment holding the marker is never edited."""
    s = setup(tmp_path, github)
    github.add_user("steward-gate[bot]", kind="Bot")
    github.add_token("app-installation-token", "steward-gate[bot]", installation=True)
    forge = forge_for(github, Waits(), token="app-installation-token")
    github.add_comment(REPO, s.number, f"{GATE_MARKER}\n✅ passed (forged)", user="dave")
    env = _actions_env(tmp_path, github, "pull_request", event_for_pull(github, REPO, s.number))
    for _ in range(3):
        gate_in_actions(s.pr.root, env, forge=forge)
    ours = [c for c in github.comments(REPO, s.number) if c.user == "steward-gate[bot]"]
    assert len(ours) == 1 and ours[0].body.startswith(GATE_MARKER)
    forged = [c for c in github.comments(REPO, s.number) if c.user == "dave"]
    assert [c.body for c in forged] == [f"{GATE_MARKER}\n✅ passed (forged)"]


def test_a_misspelt_team_fails_closed_with_a_reason(tmp_path: Path, github: FakeGitHub) -> None:
    s = setup(tmp_path, github, TEAM_POLICY)  # @acme/ml is never created
    github.add_review(REPO, s.number, "carol", "APPROVED")
    verdict = judge(s)
    why = next(r.reason for r in verdict.rules if r.rule.startswith("approvals:"))  # type: ignore[attr-defined]
    assert "could not resolve @acme/ml" in why


def test_apply_sends_repository_dispatch_events(tmp_path: Path, github: FakeGitHub) -> None:
    from steward.aftermerge.apply import apply_range
    from steward.gate.promotion import merge_proposal

    hooks = "\nhooks:\n  - name: notify\n    on: [staging]\n    dispatch: steward-promotion\n"
    pr = make_promotion_repo(tmp_path, POLICY + hooks)
    github.add_repo(REPO, default_branch="main")
    number = propose_promotion(
        pr.root, pr.forge, "fraud", "0.2.0", "staging", "dave"
    ).proposal.number
    pr.forge.add_review(number, "carol", "APPROVED")
    merged = merge_proposal(pr.root, pr.forge, number, "dave")
    assert merged.applied is not None
    assert merged.applied.failed == [
        "notify -> fraud#staging#4: repository_dispatch needs the GitHub forge"
    ]
    result = apply_range(pr.root, None, "HEAD", forge=forge_for(github, Waits()))
    assert result.delivered == ["notify -> fraud#staging#4"] and result.ok
    sent = github.dispatches(REPO)
    assert len(sent) == 1
    assert sent[0].event_type == "steward-promotion"
    assert sent[0].client_payload["record"]["version"] == "0.2.0"
    assert sent[0].client_payload["record"]["approved_by"] == ["carol"]
