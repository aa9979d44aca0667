"""The endpoints the fake GitHub implements, keyed by GitHub's own path templates.

A handler gets the request already authenticated, routed by the OpenAPI description and with its
body checked against the request schema; it changes the state and returns a `Reply`, or raises
`ApiError` with the message GitHub would give. The server checks every reply against the
description, so a handler cannot drift from GitHub's shapes unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.github_api.calls import ApiError, Call, Reply, paginate
from tests.github_api.state import (
    Comment,
    Dispatch,
    Org,
    Pull,
    Repo,
    Review,
    ReviewState,
    Status,
    Team,
)

if TYPE_CHECKING:
    from tests.github_api.server import FakeGitHub

Handler = Callable[["FakeGitHub", Call], Reply]
ROUTES: dict[tuple[str, str], Handler] = {}

RESOURCE_NOT_ACCESSIBLE = "Resource not accessible by integration"
"""GitHub's 403 message when a token (the default Actions token, an App without the permission)
lacks a permission, e.g. organization members: read for team memberships."""


def route(method: str, template: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, template)] = handler
        return handler

    return register


# -- lookups that answer 404 the way GitHub does ------------------------------------------------


def _repo(gh: FakeGitHub, call: Call) -> Repo:
    repo = gh.state.repo(f"{call.params['owner']}/{call.params['repo']}")
    if repo is None:
        raise ApiError(404, "Not Found")
    if repo.git_dir is not None:
        gh.sync_git(f"{repo.owner}/{repo.name}")
    return repo


def _pull(repo: Repo, number: str) -> Pull:
    pull = repo.pulls.get(int(number)) if number.isdigit() else None
    if pull is None:
        raise ApiError(404, "Not Found")
    return pull


def _review(pull: Pull, review_id: str) -> Review:
    for review in pull.reviews:
        if str(review.id) == review_id:
            return review
    raise ApiError(404, "Not Found")


def _comment(repo: Repo, comment_id: str) -> Comment:
    comment = repo.comments.get(int(comment_id)) if comment_id.isdigit() else None
    if comment is None:
        raise ApiError(404, "Not Found")
    return comment


def _org_and_team(gh: FakeGitHub, call: Call) -> tuple[Org, Team]:
    if not call.token.can_read_teams:
        raise ApiError(403, RESOURCE_NOT_ACCESSIBLE)
    org = gh.state.org(call.params["org"])
    team = org.teams.get(call.params["team_slug"].lower()) if org else None
    if org is None or team is None:
        raise ApiError(404, "Not Found")
    return org, team


def _resolve_ref(repo: Repo, ref: str) -> str:
    """A branch name, `heads/<branch>` or a commit SHA the repository knows -> the SHA."""
    name = ref.removeprefix("refs/").removeprefix("heads/")
    if name in repo.branches:
        return repo.branches[name]
    if ref in repo.commits:
        return ref
    raise ApiError(422, f"No commit found for SHA: {ref}")


def _repo_link_path(repo: Repo, call: Call) -> str:
    prefix = f"/repos/{call.params['owner']}/{call.params['repo']}"
    return f"/repositories/{repo.id}{call.path[len(prefix) :]}"


# -- users, orgs, rate limit ----------------------------------------------------------------------


@route("GET", "/user")
def get_authenticated_user(gh: FakeGitHub, call: Call) -> Reply:
    if call.token.is_installation:
        raise ApiError(403, RESOURCE_NOT_ACCESSIBLE)
    return Reply(200, gh.render.private_user(gh.state.user(call.token.login)))


@route("GET", "/users/{username}")
def get_user(gh: FakeGitHub, call: Call) -> Reply:
    user = gh.state.users.get(call.params["username"].lower())
    if user is None:
        raise ApiError(404, "Not Found")
    return Reply(200, gh.render.public_user(user))


@route("GET", "/rate_limit")
def get_rate_limit(gh: FakeGitHub, call: Call) -> Reply:
    core = gh.rate_limit_snapshot()
    other = {"limit": 30, "remaining": 30, "reset": core["reset"], "used": 0}
    return Reply(
        200,
        {
            "resources": {"core": core, "search": other, "graphql": {**core, "used": 0}},
            "rate": core,
        },
    )


@route("GET", "/orgs/{org}")
def get_org(gh: FakeGitHub, call: Call) -> Reply:
    org = gh.state.org(call.params["org"])
    if org is None:
        raise ApiError(404, "Not Found")
    return Reply(200, gh.render.org_full(org))


@route("GET", "/orgs/{org}/teams/{team_slug}")
def get_team(gh: FakeGitHub, call: Call) -> Reply:
    org, team = _org_and_team(gh, call)
    return Reply(200, gh.render.team_full(org, team))


@route("GET", "/orgs/{org}/teams/{team_slug}/members")
def list_team_members(gh: FakeGitHub, call: Call) -> Reply:
    """Active members only: a pending invitation is not a member yet."""
    _, team = _org_and_team(gh, call)
    role = call.arg("role", "all")
    members = [
        gh.render.team_member(login, membership)
        for login, membership in team.memberships.items()
        if membership.state == "active" and role in ("all", membership.role)
    ]
    return paginate(call, members)


@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def get_team_membership(gh: FakeGitHub, call: Call) -> Reply:
    org, team = _org_and_team(gh, call)
    login = call.params["username"]
    membership = team.memberships.get(login.lower())
    if membership is None:
        raise ApiError(404, "Not Found")
    user = gh.state.user(login)
    return Reply(200, gh.render.team_membership(org, team, user.login, membership))


# -- repositories, branches, protection, dispatch ------------------------------------------------


@route("GET", "/repos/{owner}/{repo}")
def get_repo(gh: FakeGitHub, call: Call) -> Reply:
    return Reply(200, gh.render.repository(_repo(gh, call)))


MERGE_SETTINGS = {
    "allow_merge_commit": "merge",
    "allow_squash_merge": "squash",
    "allow_rebase_merge": "rebase",
}


@route("PATCH", "/repos/{owner}/{repo}")
def update_repo(gh: FakeGitHub, call: Call) -> Reply:
    """Only the merge settings are kept; GitHub refuses to turn all three methods off."""
    repo = _repo(gh, call)
    wanted = dict(repo.merge_methods)
    for key, method in MERGE_SETTINGS.items():
        value = call.body_value(key)
        if value is not None:
            wanted[method] = bool(value)
    if not any(wanted.values()):
        raise ApiError(422, "Validation Failed")
    repo.merge_methods = wanted
    title, message = call.body_value("merge_commit_title"), call.body_value("merge_commit_message")
    if (title is None) != (message is None):
        raise ApiError(422, "Validation Failed")  # GitHub takes the two together
    if title is not None and message is not None:
        repo.merge_commit_title, repo.merge_commit_message = title, message
    return Reply(200, gh.render.repository(repo))


@route("GET", "/repos/{owner}/{repo}/branches/{branch}")
def get_branch(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    if call.params["branch"] not in repo.branches:
        raise ApiError(404, "Branch not found")
    return Reply(200, gh.render.branch(repo, call.params["branch"]))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}")
def get_commit(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    return Reply(200, gh.render.commit(repo, _resolve_ref(repo, call.params["ref"])))


@route("GET", "/repos/{owner}/{repo}/branches/{branch}/protection")
def get_branch_protection(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    branch = call.params["branch"]
    if branch not in repo.branches:
        raise ApiError(404, "Branch not found")
    if branch not in repo.protection:
        raise ApiError(404, "Branch not protected")
    return Reply(200, gh.render.branch_protection(repo, branch))


@route("PUT", "/repos/{owner}/{repo}/branches/{branch}/protection")
def put_branch_protection(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    branch = call.params["branch"]
    if branch not in repo.branches:
        raise ApiError(404, "Branch not found")
    repo.protection[branch] = dict(call.body)
    return Reply(200, gh.render.branch_protection(repo, branch))


@route("DELETE", "/repos/{owner}/{repo}/branches/{branch}/protection")
def delete_branch_protection(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    if repo.protection.pop(call.params["branch"], None) is None:
        raise ApiError(404, "Branch not protected")
    return Reply(204)


@route("POST", "/repos/{owner}/{repo}/dispatches")
def create_dispatch(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    repo.dispatches.append(
        Dispatch(
            event_type=call.body_value("event_type"),
            client_payload=dict(call.body_value("client_payload") or {}),
            sender=call.token.login,
        )
    )
    return Reply(204)


# -- statuses ------------------------------------------------------------------------------------


@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    sha = call.params["sha"]
    if sha not in repo.commits:
        raise ApiError(422, f"No commit found for SHA: {sha}")
    now = gh.state.clock()
    status = Status(
        id=gh.state.ids.next("status"),
        sha=sha,
        state=call.body_value("state"),
        context=call.body_value("context") or "default",
        description=call.body_value("description"),
        target_url=call.body_value("target_url"),
        creator=call.token.login,
        created_at=now,
        updated_at=now,
    )
    repo.statuses.append(status)
    return Reply(201, gh.render.status(repo, status))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses")
def list_statuses(gh: FakeGitHub, call: Call) -> Reply:
    """Newest first, every status ever set (GitHub keeps the history per context)."""
    repo = _repo(gh, call)
    sha = _resolve_ref(repo, call.params["ref"])
    statuses = [gh.render.status(repo, s) for s in reversed(repo.statuses) if s.sha == sha]
    return paginate(call, statuses, _repo_link_path(repo, call))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/status")
def get_combined_status(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    sha = _resolve_ref(repo, call.params["ref"])
    latest: dict[str, Status] = {}
    for status in repo.statuses:
        if status.sha == sha:
            latest[status.context] = status
    return Reply(200, gh.render.combined_status(repo, sha, list(latest.values())))


# -- pull requests -------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    state = call.arg("state", "open")
    head = call.arg("head")
    base = call.arg("base")
    pulls = [
        gh.render.pull_request(repo, pull)
        for pull in sorted(repo.pulls.values(), key=lambda p: -p.number)
        if state in ("all", pull.state)
        and (head is None or head in (f"{repo.owner}:{pull.head_ref}", pull.head_ref))
        and (base is None or base == pull.base_ref)
    ]
    return paginate(call, pulls, _repo_link_path(repo, call))


@route("POST", "/repos/{owner}/{repo}/pulls")
def create_pull(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    head = str(call.body_value("head")).split(":", 1)[-1]
    base = str(call.body_value("base"))
    if head not in repo.branches:
        raise _invalid("PullRequest", "head")
    if base not in repo.branches:
        raise _invalid("PullRequest", "base")
    for pull in repo.pulls.values():
        if pull.state == "open" and pull.head_ref == head and pull.base_ref == base:
            raise ApiError(
                422,
                "Validation Failed",
                errors=[
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"A pull request already exists for {repo.owner}:{head}.",
                    }
                ],
            )
    if repo.branches[head] == repo.branches[base]:
        raise ApiError(
            422,
            "Validation Failed",
            errors=[
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": f"No commits between {base} and {head}",
                }
            ],
        )
    pull = gh.open_pull(
        repo,
        title=call.body_value("title") or "",
        body=call.body_value("body"),
        user=call.token.login,
        head=head,
        base=base,
        draft=bool(call.body_value("draft", False)),
    )
    return Reply(201, gh.render.pull_request(repo, pull))


def _invalid(resource: str, field: str) -> ApiError:
    return ApiError(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "field": field, "code": "invalid"}],
    )


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    return Reply(200, gh.render.pull_request(repo, _pull(repo, call.params["pull_number"])))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(gh: FakeGitHub, call: Call) -> Reply:
    """Title, body and `state` (close or reopen); a merged pull request cannot be reopened."""
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    for name in ("title", "body"):
        value = call.body_value(name)
        if value is not None:
            setattr(pull, name, str(value))
    state = call.body_value("state")
    if state is not None:
        if state not in ("open", "closed"):
            raise ApiError(422, "Validation Failed")
        if pull.merged and state == "open":
            raise ApiError(422, "Validation Failed: cannot reopen a merged pull request")
        pull.state = state
        pull.closed_at = gh.state.clock() if state == "closed" else None
    pull.updated_at = gh.state.clock()
    return Reply(200, gh.render.pull_request(repo, pull))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
def list_pull_files(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    files = [gh.render.diff_entry(repo, pull, entry) for entry in pull.files]
    return paginate(call, files, _repo_link_path(repo, call))


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge")
def merge_pull(gh: FakeGitHub, call: Call) -> Reply:
    """Honours `sha`: GitHub refuses with 409 when the head moved since the caller looked, which
    is what makes "merge exactly what the gate judged" safe."""
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    if pull.state != "open":
        raise ApiError(405, "Pull Request is not mergeable")
    expected = call.body_value("sha")
    if expected is not None and expected != pull.head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    method = call.body_value("merge_method") or "merge"
    if not repo.merge_methods.get(method, False):
        names = {"merge": "Merge commits", "squash": "Squash merges", "rebase": "Rebase merges"}
        raise ApiError(405, f"{names.get(method, method)} are not allowed on this repository.")
    merge = gh.merge_pull(
        repo,
        pull,
        method=method,
        title=call.body_value("commit_title"),
        message=call.body_value("commit_message"),
        merged_by=call.token.login,
    )
    return Reply(
        200, {"sha": merge.sha, "merged": True, "message": "Pull Request successfully merged"}
    )


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def list_requested_reviewers(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    rendered = gh.render.pull_request(repo, _pull(repo, call.params["pull_number"]))
    return Reply(
        200, {"users": rendered["requested_reviewers"], "teams": rendered["requested_teams"]}
    )


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers")
def request_reviewers(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    users = list(call.body_value("reviewers") or [])
    teams = [slug.lower() for slug in call.body_value("team_reviewers") or []]
    if any(login.lower() == pull.user.lower() for login in users):
        raise ApiError(422, "Review cannot be requested from pull request author.")
    org = gh.state.org(repo.owner)
    if teams and (org is None or any(slug not in org.teams for slug in teams)):
        raise ApiError(
            422,
            "Reviews may only be requested from collaborators. One or more of the teams you "
            f"specified is not a collaborator of the {repo.full_name} repository.",
        )
    for login in users:
        if login.lower() not in (known.lower() for known in pull.requested_reviewers):
            pull.requested_reviewers.append(gh.state.user(login).login)
    for slug in teams:
        if slug not in pull.requested_teams:
            pull.requested_teams.append(slug)
    return Reply(201, gh.render.pull_request(repo, pull))


# -- reviews -------------------------------------------------------------------------------------

_EVENT_STATES: dict[str, ReviewState] = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def list_pull_commits(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    commits = [gh.render.pull_commit(repo, commit) for commit in pull.commits]
    return paginate(call, commits, _repo_link_path(repo, call))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(gh: FakeGitHub, call: Call) -> Reply:
    """Chronological, as GitHub lists them; a pending review is visible only to its author."""
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    reviews = [
        gh.render.review(repo, pull, review)
        for review in pull.reviews
        if review.state != "PENDING" or review.user.lower() == call.token.login.lower()
    ]
    return paginate(call, reviews, _repo_link_path(repo, call))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}")
def get_review(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    return Reply(200, gh.render.review(repo, pull, _review(pull, call.params["review_id"])))


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def create_review(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    event = call.body_value("event")
    body = call.body_value("body") or ""
    if event in ("REQUEST_CHANGES", "COMMENT") and not body:
        raise ApiError(422, "Unprocessable Entity", errors=[f"Body is required for {event}."])
    if event in ("APPROVE", "REQUEST_CHANGES") and call.token.login.lower() == pull.user.lower():
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise ApiError(
            422, "Unprocessable Entity", errors=[f"Can not {verb} your own pull request"]
        )
    review = gh.submit_review(
        repo,
        pull,
        user=call.token.login,
        state=_EVENT_STATES[event] if event else "PENDING",
        commit_id=call.body_value("commit_id") or pull.head_sha,
        body=body,
    )
    return Reply(200, gh.render.review(repo, pull, review))


@route("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/dismissals")
def dismiss_review(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["pull_number"])
    review = _review(pull, call.params["review_id"])
    if review.state == "PENDING":
        raise ApiError(422, "Can not dismiss a pending pull request review")
    if review.state not in ("APPROVED", "CHANGES_REQUESTED"):
        raise ApiError(422, f"Can not dismiss a {review.state.lower()} pull request review")
    review.state = "DISMISSED"
    review.dismissal_message = call.body_value("message")
    return Reply(200, gh.render.review(repo, pull, review))


# -- issue comments ------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(gh: FakeGitHub, call: Call) -> Reply:
    """Pull requests only: the fake keeps no plain issues."""
    repo = _repo(gh, call)
    return Reply(200, gh.render.issue(repo, _pull(repo, call.params["issue_number"])))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_issue_comments(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    number = _pull(repo, call.params["issue_number"]).number
    comments = [
        gh.render.issue_comment(repo, comment)
        for comment in repo.comments.values()
        if comment.issue_number == number
    ]
    return paginate(call, comments, _repo_link_path(repo, call))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_issue_comment(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    pull = _pull(repo, call.params["issue_number"])
    comment = gh.post_comment(repo, pull.number, call.token.login, call.body_value("body"))
    return Reply(201, gh.render.issue_comment(repo, comment))


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_issue_comment(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    return Reply(200, gh.render.issue_comment(repo, _comment(repo, call.params["comment_id"])))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_issue_comment(gh: FakeGitHub, call: Call) -> Reply:
    repo = _repo(gh, call)
    comment = _comment(repo, call.params["comment_id"])
    comment.body = call.body_value("body")
    comment.updated_at = gh.state.clock()
    return Reply(200, gh.render.issue_comment(repo, comment))
