"""The fake GitHub that the GitHub forge's tests run against: PyGithub works with it, it
paginates, fails and rate-limits like GitHub, and it cannot send a shape GitHub's OpenAPI
description forbids."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededException,
    UnknownObjectException,
)

from tests.github_api import (
    FakeGitHub,
    NodePackagesError,
    PullFile,
    ensure_node_packages,
    example,
    openapi,
)
from tests.github_api.node import PACKAGE_DIR, STAMP_NAME, is_installed
from tests.github_api.routes import ROUTES
from tests.github_api.webhooks import event_for_pull
from tests.github_fixtures import checked_server, client_for

REPO = "acme/registry"


@pytest.fixture
def seeded(github: FakeGitHub) -> FakeGitHub:
    """acme/registry with pull request #1 by alice, and a governance team."""
    github.add_repo(REPO, default_branch="main")
    github.add_pull(
        REPO,
        title="Promote fraud 1.3.0 to production",
        user="alice",
        head="promote/fraud-1.3.0",
        files=["registry/models/fraud/1.3.0.yaml", PullFile("README.md", status="added")],
    )
    github.set_membership("acme", "governance", "carol", "active", "maintainer")
    github.set_membership("acme", "governance", "dave", "pending")
    return github


def raw(server: FakeGitHub, method: str, path: str, **kwargs: Any) -> requests.Response:
    """A request without PyGithub, to look at status codes and headers as sent."""
    headers = {"Authorization": f"token {server.token}", **kwargs.pop("headers", {})}
    return requests.request(method, server.base_url + path, headers=headers, timeout=10, **kwargs)


# -- the npm packages ------------------------------------------------------------------------------


def test_node_packages_are_installed_once(figure: Any) -> None:
    started = time.perf_counter()
    ensure_node_packages()
    figure(f"ensure_node_packages (first call this session): {time.perf_counter() - started:.2f}s")
    assert is_installed()
    assert ensure_node_packages() is False  # idempotent: nothing to do the second time


def _package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """package.json and the lock in a scratch directory; the install lock file goes there too."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    directory = tmp_path / "packages"
    directory.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PACKAGE_DIR / name, directory / name)
    return directory


def _fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `npm` that records its arguments and creates node_modules/, so install logic is tested
    without the registry."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "npm.log"
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nmkdir -p node_modules\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def test_npm_ci_runs_when_node_modules_is_missing_or_the_lock_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _package_copy(tmp_path, monkeypatch)
    log = _fake_npm(tmp_path, monkeypatch)

    assert ensure_node_packages(directory) is True
    assert ensure_node_packages(directory) is False
    assert log.read_text().splitlines() == ["ci --no-audit --no-fund"]
    assert (directory / "node_modules" / STAMP_NAME).is_file()

    lock = directory / "package-lock.json"
    lock.write_text(lock.read_text().replace('"requires": true', '"requires": false'))
    assert ensure_node_packages(directory) is True
    assert len(log.read_text().splitlines()) == 2


def test_a_machine_without_npm_gets_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _package_copy(tmp_path, monkeypatch)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NodePackagesError, match="npm is not on PATH"):
        ensure_node_packages(directory)


# -- the OpenAPI checker ---------------------------------------------------------------------------


def test_the_description_loads_once_per_process(figure: Any) -> None:
    spec = openapi.load_spec()
    figure(f"parse api.github.com.deref.json (once per process): {openapi.load_seconds:.2f}s")
    assert spec["openapi"].startswith("3.0")
    assert openapi.load_spec() is spec


@pytest.mark.parametrize(
    ("method", "path", "template", "params"),
    [
        ("GET", "/repos/a/b/pulls/comments", "/repos/{owner}/{repo}/pulls/comments", {}),
        (
            "GET",
            "/repos/a/b/pulls/7",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            {"pull_number": "7"},
        ),
        (
            "GET",
            "/repos/a/b/branches/release/v1/protection",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
            {"branch": "release/v1"},
        ),
        ("PUT", "/repos/a/b/pulls/7/merge", "/repos/{owner}/{repo}/pulls/{pull_number}/merge", {}),
    ],
)
def test_paths_find_the_most_specific_operation(
    method: str, path: str, template: str, params: dict[str, str]
) -> None:
    found = openapi.find_operation(method, path)
    assert found is not None
    operation, parameters = found
    assert operation.template == template
    assert params.items() <= parameters.items()


def test_a_repository_path_does_not_swallow_longer_paths() -> None:
    found = openapi.find_operation("GET", "/repos/a/b/no-such-thing/x")
    assert found is None


def test_openapi_3_0_nullable_becomes_json_schema() -> None:
    schema = {
        "type": "object",
        "required": ["state", "merged_by"],
        "properties": {
            "state": {"type": "string", "enum": ["open", "closed"], "nullable": True},
            "merged_by": {"nullable": True, "allOf": [{"type": "object"}]},
            "type": {"type": "string", "example": {"type": "not a schema"}, "readOnly": True},
        },
        "x-github": {"anything": 1},
    }
    converted = openapi.to_json_schema(schema)
    assert converted["properties"]["state"] == {
        "type": ["string", "null"],
        "enum": ["open", "closed", None],
    }
    assert converted["properties"]["merged_by"] == {
        "anyOf": [{"type": "null"}, {"allOf": [{"type": "object"}]}]
    }
    assert converted["properties"]["type"] == {"type": "string"}
    assert "x-github" not in converted


def test_undocumented_statuses_and_routes_are_violations() -> None:
    membership = "/orgs/acme/teams/governance/memberships/carol"
    assert openapi.check_response("GET", membership, 409, {"message": "x"})[0].endswith(
        "status 409 is not documented (documented: 200, 404)"
    )
    assert "no such operation" in openapi.check_response("GET", "/nope", 200, {})[0]
    # statuses any endpoint can answer still need GitHub's error body
    assert openapi.check_response("GET", membership, 403, {"message": "x"}) == [
        "GET /orgs/{org}/teams/{team_slug}/memberships/{username} "
        "(teams/get-membership-for-user-in-org) -> GitHub error: "
        "$: 'documentation_url' is a required property"
    ]
    assert openapi.check_response("DELETE", "/repos/a/b/branches/main/protection", 204, {}) != []


def test_formats_that_clients_rely_on_are_checked() -> None:
    path = "/repos/a/b/issues/comments/1"
    problems = openapi.check_response(
        "PATCH",
        path,
        200,
        {
            "id": 1,
            "node_id": "x",
            "url": "/relative/url",
            "html_url": "http://h/x",
            "user": None,
            "created_at": "yesterday",
            "updated_at": "2024-01-01T00:00:00Z",
            "issue_url": "http://h/i",
        },
    )
    assert any("$.url" in problem and "uri" in problem for problem in problems)
    assert any("$.created_at" in problem and "date-time" in problem for problem in problems)


def test_validators_are_compiled_once_per_operation_and_status() -> None:
    first = openapi.response_rule("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200)
    again = openapi.response_rule("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", 200)
    assert first is again


def test_every_route_of_the_fake_is_a_documented_operation() -> None:
    for method, template in ROUTES:
        assert openapi.find_operation(method, template) is not None, (method, template)


# -- server basics ---------------------------------------------------------------------------------


def test_base_url_is_loopback_without_a_trailing_slash(github: FakeGitHub) -> None:
    assert github.base_url.startswith("http://127.0.0.1:")
    assert not github.base_url.endswith("/")


def test_requests_need_a_known_token(github: FakeGitHub) -> None:
    github.add_repo(REPO)
    anonymous = requests.get(f"{github.base_url}/repos/{REPO}", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Requires authentication"

    bearer = raw(
        github, "GET", f"/repos/{REPO}", headers={"Authorization": f"Bearer {github.token}"}
    )
    assert bearer.status_code == 200

    stranger = Github(
        base_url=github.base_url,
        auth=Auth.Token("ghp_wrong"),
        retry=None,
        seconds_between_requests=None,
    )
    with pytest.raises(BadCredentialsException):
        stranger.get_repo(REPO)


def test_unknown_routes_answer_githubs_404_and_are_recorded(github: FakeGitHub) -> None:
    response = raw(github, "GET", "/no/such/route")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }
    documented_but_not_implemented = raw(github, "GET", "/repos/acme/registry/releases")
    assert documented_but_not_implemented.status_code == 404
    violations = github.take_violations()
    assert [v.kind for v in violations] == ["unhandled", "unhandled"]
    assert "no such route" in violations[0].problems[0]
    assert "does not implement GET /repos/{owner}/{repo}/releases" in violations[1].problems[0]


def test_responses_carry_githubs_headers(seeded: FakeGitHub) -> None:
    response = raw(seeded, "GET", f"/repos/{REPO}")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert int(response.headers["X-RateLimit-Remaining"]) < int(
        response.headers["X-RateLimit-Limit"]
    )
    assert response.headers["X-RateLimit-Resource"] == "core"
    assert response.headers["X-GitHub-Api-Version-Selected"] == "2022-11-28"


def test_stop_closes_the_port() -> None:
    server = FakeGitHub().start()
    url = server.base_url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


# -- PyGithub against each endpoint family ---------------------------------------------------------


def test_repository_pull_request_and_files(seeded: FakeGitHub, github_client: Github) -> None:
    repo = github_client.get_repo(REPO)
    assert (repo.full_name, repo.default_branch, repo.owner.login) == (REPO, "main", "acme")
    pull = repo.get_pull(1)
    stored = seeded.pull(REPO, 1)
    assert pull.title == "Promote fraud 1.3.0 to production"
    assert pull.user.login == "alice"
    assert (pull.head.ref, pull.head.sha) == ("promote/fraud-1.3.0", stored.head_sha)
    assert (pull.base.ref, pull.base.sha) == ("main", stored.base_sha)
    assert pull.state == "open" and pull.merged is False
    assert [(f.filename, f.status) for f in pull.get_files()] == [
        ("registry/models/fraud/1.3.0.yaml", "modified"),
        ("README.md", "added"),
    ]
    assert pull.url.startswith(seeded.base_url)
    assert pull.user.name is None  # lazily completed through GET /users/alice


def test_user_and_rate_limit(github: FakeGitHub, github_client: Github) -> None:
    assert github_client.get_user().login == github.login
    assert github_client.get_rate_limit().resources.core.limit == 5000


def test_an_installation_token_cannot_read_the_user(github: FakeGitHub) -> None:
    github.add_token("ghs_installation", "steward-app[bot]", installation=True)
    with pytest.raises(GithubException) as raised:
        client_for(github, "ghs_installation").get_user().login  # noqa: B018
    assert raised.value.status == 403
    assert raised.value.data["message"] == "Resource not accessible by integration"


def test_reviews_submit_list_and_dismiss(seeded: FakeGitHub, github_client: Github) -> None:
    old_head = seeded.pull(REPO, 1).head_sha
    seeded.add_review(REPO, 1, "bob", "APPROVED")
    new_head = seeded.set_head(REPO, "promote/fraud-1.3.0")
    seeded.add_review(REPO, 1, "carol", "CHANGES_REQUESTED", body="metrics?")

    pull = github_client.get_repo(REPO).get_pull(1)
    assert pull.head.sha == new_head
    submitted = pull.create_review(body="looks fine", event="APPROVE")
    assert submitted.state == "APPROVED" and submitted.commit_id == new_head

    reviews = list(pull.get_reviews())
    assert [(r.user.login, r.state, r.commit_id) for r in reviews] == [
        ("bob", "APPROVED", old_head),
        ("carol", "CHANGES_REQUESTED", new_head),
        (seeded.login, "APPROVED", new_head),
    ]
    reviews[1].dismiss("resolved offline")
    assert pull.get_review(reviews[1].id).state == "DISMISSED"
    assert seeded.reviews(REPO, 1)[1].dismissal_message == "resolved offline"


def test_the_author_cannot_approve_their_own_pull_request(seeded: FakeGitHub) -> None:
    seeded.add_token("ghp_alice", "alice")
    pull = client_for(seeded, "ghp_alice").get_repo(REPO).get_pull(1)
    with pytest.raises(GithubException) as raised:
        pull.create_review(event="APPROVE")
    assert raised.value.status == 422


def test_more_than_100_reviews_paginate_like_github(
    seeded: FakeGitHub,
    github_client: Github,
) -> None:
    for index in range(205):
        seeded.add_review(REPO, 1, f"reviewer-{index:03d}", "APPROVED")

    pull = github_client.get_repo(REPO).get_pull(1)
    everything = pull.get_reviews()
    assert [r.user.login for r in everything][-1] == "reviewer-204"
    assert everything.totalCount == 205  # from the `last` link of a per_page=1 request

    big_pages = client_for(seeded, per_page=100).get_repo(REPO).get_pull(1).get_reviews()
    assert len(list(big_pages)) == 205
    review_pages = [
        r
        for r in seeded.requests
        if r.path.endswith("/pulls/1/reviews") and "per_page=100" in r.query
    ]
    assert len(review_pages) == 3


def test_link_headers_follow_githubs_format(seeded: FakeGitHub) -> None:
    for index in range(120):
        seeded.add_review(REPO, 1, f"reviewer-{index:03d}")
    repo_id = seeded.repo(REPO).id
    base = f"{seeded.base_url}/repositories/{repo_id}/pulls/1/reviews"

    first = raw(seeded, "GET", f"/repos/{REPO}/pulls/1/reviews")
    assert len(first.json()) == 30  # GitHub's default page size
    assert first.headers["Link"] == (f'<{base}?page=2>; rel="next", <{base}?page=4>; rel="last"')
    middle = raw(seeded, "GET", f"/repositories/{repo_id}/pulls/1/reviews?per_page=50&page=2")
    assert len(middle.json()) == 50
    assert middle.headers["Link"] == (
        f'<{base}?per_page=50&page=1>; rel="prev", <{base}?per_page=50&page=3>; rel="next", '
        f'<{base}?per_page=50&page=3>; rel="last", <{base}?per_page=50&page=1>; rel="first"'
    )
    capped = raw(seeded, "GET", f"/repos/{REPO}/pulls/1/reviews?per_page=1000&page=2")
    assert len(capped.json()) == 20  # per_page is capped at 100
    assert 'rel="next"' not in capped.headers["Link"]
    single = raw(seeded, "GET", f"/repos/{REPO}/pulls/1/files")
    assert "Link" not in single.headers


def test_create_and_merge_pull_requests(seeded: FakeGitHub, github_client: Github) -> None:
    seeded.set_head(REPO, "register/churn-0.1.0")
    repo = github_client.get_repo(REPO)
    created = repo.create_pull(
        base="main", head="register/churn-0.1.0", title="Register churn 0.1.0", body="by CI"
    )
    assert created.number == 2 and created.user.login == seeded.login
    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(base="main", head="register/churn-0.1.0", title="again")
    assert duplicate.value.status == 422
    assert "already exists" in duplicate.value.data["errors"][0]["message"]
    assert [p.number for p in repo.get_pulls(head="acme:register/churn-0.1.0")] == [2]

    pull = repo.get_pull(1)
    judged = pull.head.sha
    seeded.set_head(REPO, "promote/fraud-1.3.0")  # a push after the gate looked
    with pytest.raises(GithubException) as moved:
        pull.merge(sha=judged)
    assert moved.value.status == 409
    assert seeded.merges(REPO) == []

    current = seeded.pull(REPO, 1).head_sha
    result = pull.merge(sha=current, merge_method="squash", commit_title="Promote fraud")
    assert result.merged
    [merge] = seeded.merges(REPO)
    assert (merge.head_sha, merge.method, merge.commit_title) == (
        current,
        "squash",
        "Promote fraud",
    )
    assert seeded.repo(REPO).branches["main"] == result.sha
    assert repo.get_pull(1).merged


def test_review_requests(seeded: FakeGitHub, github_client: Github) -> None:
    pull = github_client.get_repo(REPO).get_pull(1)
    pull.create_review_request(reviewers=["carol"], team_reviewers=["governance"])
    assert seeded.review_requests(REPO, 1).users == ["carol"]
    assert seeded.review_requests(REPO, 1).teams == ["governance"]
    users, teams = pull.get_review_requests()
    assert [u.login for u in users] == ["carol"] and [t.slug for t in teams] == ["governance"]

    with pytest.raises(GithubException) as raised:
        pull.create_review_request(reviewers=["alice"])
    assert raised.value.status == 422
    seeded.add_review(REPO, 1, "carol")
    assert seeded.review_requests(REPO, 1).users == []  # reviewing answers the request


def test_sticky_comment_create_list_update(seeded: FakeGitHub, github_client: Github) -> None:
    pull = github_client.get_repo(REPO).get_pull(1)
    pull.create_issue_comment("first verdict <!-- steward-gate -->")
    seeded.add_comment(REPO, 1, "a human remark", user="bob")
    [mine] = [c for c in pull.get_issue_comments() if "steward-gate" in c.body]
    mine.edit("second verdict <!-- steward-gate -->")
    assert [(c.user, c.body) for c in seeded.comments(REPO, 1)] == [
        (seeded.login, "second verdict <!-- steward-gate -->"),
        ("bob", "a human remark"),
    ]


def test_commit_statuses(seeded: FakeGitHub, github_client: Github) -> None:
    sha = seeded.pull(REPO, 1).head_sha
    commit = github_client.get_repo(REPO).get_commit(sha)
    commit.create_status("pending", context="steward/gate", description="judging")
    commit.create_status("success", context="steward/gate", description="approved")
    commit.create_status("failure", context="ci/tests")
    assert [s.state for s in commit.get_statuses()] == ["failure", "success", "pending"]
    combined = commit.get_combined_status()
    assert combined.state == "failure"
    assert {s.context: s.state for s in combined.statuses} == {
        "steward/gate": "success",
        "ci/tests": "failure",
    }
    assert [s.state for s in seeded.statuses(REPO, sha)] == ["pending", "success", "failure"]

    unknown = raw(seeded, "POST", f"/repos/{REPO}/statuses/{'0' * 40}", json={"state": "success"})
    assert unknown.status_code == 422


def test_teams_and_memberships(seeded: FakeGitHub, github_client: Github) -> None:
    org = github_client.get_organization("acme")
    assert org.login == "acme"
    team = org.get_team_by_slug("governance")
    assert (team.slug, team.members_count) == ("governance", 1)
    assert [m.login for m in team.get_members()] == ["carol"]  # pending dave is no member

    # PyGithub builds these from the team's /organizations/{id}/team/{id} URL
    assert team.get_team_membership("carol").state == "active"
    assert team.get_team_membership("carol").role == "maintainer"
    assert team.get_team_membership("dave").state == "pending"
    with pytest.raises(UnknownObjectException):
        team.get_team_membership("mallory")

    documented = raw(seeded, "GET", "/orgs/acme/teams/governance/memberships/dave")
    assert documented.json()["state"] == "pending"


def test_a_token_without_team_access_gets_githubs_403(seeded: FakeGitHub) -> None:
    seeded.add_token("ghs_actions", "github-actions[bot]", can_read_teams=False)
    client = client_for(seeded, "ghs_actions")
    with pytest.raises(GithubException) as raised:
        client.get_organization("acme").get_team_by_slug("governance")
    assert raised.value.status == 403
    assert raised.value.data["message"] == "Resource not accessible by integration"
    membership = raw(
        seeded,
        "GET",
        "/orgs/acme/teams/governance/memberships/carol",
        headers={"Authorization": "token ghs_actions"},
    )
    assert membership.status_code == 403


def test_branch_protection(seeded: FakeGitHub, github_client: Github) -> None:
    branch = github_client.get_repo(REPO).get_branch("main")
    with pytest.raises(GithubException) as unprotected:
        branch.get_protection()
    assert unprotected.value.status == 404

    branch.edit_protection(
        strict=True,
        contexts=["steward/gate"],
        enforce_admins=True,
        dismiss_stale_reviews=True,
        require_code_owner_reviews=True,
        required_approving_review_count=1,
        require_last_push_approval=True,
    )
    protection = branch.get_protection()
    assert protection.required_status_checks.contexts == ["steward/gate"]
    assert protection.enforce_admins is True
    reviews = protection.required_pull_request_reviews
    assert reviews.dismiss_stale_reviews and reviews.require_code_owner_reviews
    assert reviews.require_last_push_approval
    stored = seeded.protection(REPO, "main")
    assert stored is not None
    assert stored["required_pull_request_reviews"]["required_approving_review_count"] == 1

    branch.remove_protection()
    assert seeded.protection(REPO, "main") is None


def test_repository_dispatch(seeded: FakeGitHub, github_client: Github) -> None:
    github_client.get_repo(REPO).create_repository_dispatch("steward-apply", {"sha": "abc"})
    [dispatch] = seeded.dispatches(REPO)
    assert (dispatch.event_type, dispatch.client_payload) == ("steward-apply", {"sha": "abc"})


def test_shell_metacharacters_in_titles_and_branch_names(
    seeded: FakeGitHub,
    github_client: Github,
) -> None:
    title = 'Promote `id`; $(rm -rf ~) && echo "pwned" | tee /tmp/x'
    branch = "promote/$(whoami);x&y"
    seeded.add_pull(REPO, title=title, head=branch, user="mallory")
    repo = github_client.get_repo(REPO)
    pull = repo.get_pull(2)
    assert (pull.title, pull.head.ref) == (title, branch)
    assert repo.get_branch(branch).name == branch


# -- fault injection -------------------------------------------------------------------------------


def test_a_502_once_then_success(seeded: FakeGitHub, github_client: Github) -> None:
    fault = seeded.fail_next("GET", r"/pulls/1/reviews$", 502)
    pull = github_client.get_repo(REPO).get_pull(1)
    with pytest.raises(GithubException) as raised:
        list(pull.get_reviews())
    assert raised.value.status == 502
    assert raised.value.data["message"] == "Server Error"
    assert fault.remaining == 0
    assert list(pull.get_reviews()) == []
    statuses = [(r.status, r.injected) for r in seeded.requests if r.path.endswith("/reviews")]
    assert statuses == [(502, True), (200, False)]


def test_pygithubs_own_retry_absorbs_a_502_without_sleeping(
    seeded: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds}s")

    monkeypatch.setattr(time, "sleep", no_sleep)
    seeded.fail_next("GET", r"/pulls/1$", 502)
    client = Github(
        base_url=seeded.base_url,
        auth=Auth.Token(seeded.token),
        retry=GithubRetry(),
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    assert client.get_repo(REPO).get_pull(1).number == 1


def test_primary_rate_limit_with_reset(seeded: FakeGitHub, github_client: Github) -> None:
    reset = 1_900_000_000
    seeded.fail_rate_limited("GET", r"/pulls/1$", reset=reset)
    repo = github_client.get_repo(REPO)
    with pytest.raises(RateLimitExceededException) as raised:
        repo.get_pull(1)
    headers = {key.lower(): value for key, value in (raised.value.headers or {}).items()}
    assert headers["x-ratelimit-remaining"] == "0"
    assert headers["x-ratelimit-reset"] == str(reset)
    assert raised.value.status == 403
    assert repo.get_pull(1).number == 1


def test_secondary_rate_limit_with_retry_after(seeded: FakeGitHub) -> None:
    seeded.fail_secondary_rate_limit("POST", r"/issues/1/comments$", retry_after=30, status=429)
    response = raw(seeded, "POST", f"/repos/{REPO}/issues/1/comments", json={"body": "x"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json()["message"].startswith("You have exceeded a secondary rate limit")
    again = raw(seeded, "POST", f"/repos/{REPO}/issues/1/comments", json={"body": "x"})
    assert again.status_code == 201


def test_a_403_on_team_membership(seeded: FakeGitHub) -> None:
    seeded.fail_next("*", r"/memberships/", 403, body=None, times=2)
    for _ in range(2):
        response = raw(seeded, "GET", "/orgs/acme/teams/governance/memberships/carol")
        assert response.status_code == 403
        assert response.json()["message"] == "Forbidden"
    assert raw(seeded, "GET", "/orgs/acme/teams/governance/memberships/carol").status_code == 200


# -- the server cannot lie -------------------------------------------------------------------------


def test_a_corrupted_object_is_a_violation_and_a_500(
    seeded: FakeGitHub,
    github_client: Github,
) -> None:
    stored = seeded.pull(REPO, 1)
    stored.title = None  # type: ignore[assignment]  # GitHub never sends a null title
    stored.state = "merged"  # type: ignore[assignment]  # nor a state outside open/closed
    with pytest.raises(GithubException) as raised:
        github_client.get_repo(REPO).get_pull(1)
    assert raised.value.status == 500
    [violation] = seeded.take_violations()
    assert (violation.kind, violation.status) == ("response", 200)
    assert any("$.title: None is not of type 'string'" in p for p in violation.problems)
    assert any("$.state: 'merged' is not one of" in p for p in violation.problems)


def test_an_injected_body_github_would_not_send_is_a_violation(seeded: FakeGitHub) -> None:
    # the description lists no 503 for reviews, so GitHub's generic error body applies
    seeded.fail_next("GET", r"/pulls/1/reviews$", 503, body={"error": "down"})
    response = raw(seeded, "GET", f"/repos/{REPO}/pulls/1/reviews")
    assert response.status_code == 500
    [violation] = seeded.take_violations()
    assert "'message' is a required property" in "\n".join(violation.problems)


def test_a_request_github_would_refuse_is_a_422_and_a_violation(seeded: FakeGitHub) -> None:
    sha = seeded.pull(REPO, 1).head_sha
    response = raw(seeded, "POST", f"/repos/{REPO}/statuses/{sha}", json={"state": "great"})
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid request.")
    [violation] = seeded.take_violations()
    assert violation.kind == "request"
    assert seeded.statuses(REPO) == []


def test_the_fixture_fails_a_test_that_left_a_violation() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"1 violation\(s\):\n\[unhandled\] GET /x"):  # noqa: SIM117
        with checked_server() as server:
            raw(server, "GET", "/x")


# -- webhook examples ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "action"),
    [
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("pull_request_review", "submitted"),
        ("pull_request_review", "dismissed"),
        ("merge_group", "checks_requested"),
        ("push", None),
    ],
)
def test_webhook_examples_load(event: str, action: str | None) -> None:
    payload = example(event, action)
    assert payload.get("action") == action
    assert "repository" in payload


def test_webhook_overrides_merge_recursively_into_a_copy() -> None:
    sha = "f" * 40
    payload = example("pull_request", "opened", pull_request={"number": 7, "head": {"sha": sha}})
    assert payload["pull_request"]["number"] == 7
    assert payload["pull_request"]["head"]["sha"] == sha
    assert (
        payload["pull_request"]["head"]["ref"]
        == example("pull_request", "opened")["pull_request"]["head"]["ref"]
    )
    payload["repository"]["name"] = "changed"
    assert example("pull_request", "opened")["repository"]["name"] != "changed"


def test_webhook_overrides_refuse_unknown_keys() -> None:
    with pytest.raises(KeyError, match=r"pull_request\.nubmer is not in GitHub's example"):
        example("pull_request", "opened", pull_request={"nubmer": 7})
    added = example("pull_request", "opened", allow_new_keys=True, extra={"x": 1})
    assert added["extra"] == {"x": 1}
    with pytest.raises(ValueError, match="carry an action"):
        example("pull_request")


def test_events_built_from_the_fakes_state(seeded: FakeGitHub) -> None:
    review = seeded.add_review(REPO, 1, "bob", "APPROVED")
    stored = seeded.pull(REPO, 1)
    opened = event_for_pull(seeded, REPO, 1)
    assert opened["repository"]["full_name"] == REPO
    assert opened["pull_request"]["head"]["sha"] == stored.head_sha
    submitted = event_for_pull(
        seeded, REPO, 1, "pull_request_review", "submitted", review_id=review.id
    )
    assert submitted["review"]["state"] == "approved"  # webhooks use lower case
    assert submitted["review"]["commit_id"] == stored.head_sha
    assert submitted["sender"]["login"] == "bob"


def test_a_pending_review_is_visible_only_to_its_author(seeded: FakeGitHub) -> None:
    seeded.add_review(REPO, 1, "bob", "PENDING")
    seeded.add_review(REPO, 1, seeded.login, "PENDING")
    listed = raw(seeded, "GET", f"/repos/{REPO}/pulls/1/reviews").json()
    assert [(r["user"]["login"], r["state"]) for r in listed] == [(seeded.login, "PENDING")]
    assert "submitted_at" not in listed[0]
