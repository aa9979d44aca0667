"""The fake's state rendered the way GitHub renders it.

Every URL points back at the fake server (`api` is its base URL): PyGithub follows `url` fields to
complete objects lazily and to reach related resources (a team's memberships, a branch's
protection), and it refuses URLs on another host. Where GitHub uses a URL form its description does
not document (a team's `/organizations/{org_id}/team/{team_id}`) the fake uses it too and serves it
as an alias; see `FakeGitHub._canonical_path`.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests.github_api.state import (
    Comment,
    GitHubState,
    Membership,
    Org,
    Pull,
    PullCommit,
    PullFile,
    Repo,
    Review,
    Status,
    Team,
    User,
)

AUTHOR_ASSOCIATION = "MEMBER"
"""What GitHub says for people in the owning org; Steward never reads it, GitHub requires it."""


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"{kind}{number}".encode()).decode().rstrip("=")


class Renderer:
    """Renders objects for one server: `api` is its base URL (no trailing slash)."""

    def __init__(self, api: str, state: GitHubState) -> None:
        self.api = api
        self.html = api
        self.state = state

    # -- people and organisations --------------------------------------------------------------

    def simple_user(self, user: User) -> dict[str, Any]:
        base = f"{self.api}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("U_", user.id),
            "avatar_url": f"{self.api}/avatars/u/{user.id}",
            "gravatar_id": "",
            "url": base,
            "html_url": f"{self.html}/{user.login}",
            "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def user_by_login(self, login: str) -> dict[str, Any]:
        return self.simple_user(self.state.user(login))

    def public_user(self, user: User) -> dict[str, Any]:
        return {
            **self.simple_user(user),
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": user.email,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": timestamp(user.created_at),
            "updated_at": timestamp(user.created_at),
        }

    def private_user(self, user: User) -> dict[str, Any]:
        return {
            **self.public_user(user),
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
        }

    def org_simple(self, org: Org) -> dict[str, Any]:
        base = f"{self.api}/orgs/{org.login}"
        return {
            "login": org.login,
            "id": org.id,
            "node_id": node_id("O_", org.id),
            "url": base,
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events",
            "hooks_url": f"{base}/hooks",
            "issues_url": f"{base}/issues",
            "members_url": f"{base}/members{{/member}}",
            "public_members_url": f"{base}/public_members{{/member}}",
            "avatar_url": f"{self.api}/avatars/u/{org.id}",
            "description": None,
        }

    def org_full(self, org: Org) -> dict[str, Any]:
        return {
            **self.org_simple(org),
            "name": org.login,
            "has_organization_projects": True,
            "has_repository_projects": True,
            "public_repos": sum(1 for repo in self.state.repos.values() if repo.owner == org.login),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": f"{self.html}/{org.login}",
            "created_at": timestamp(org.created_at),
            "updated_at": timestamp(org.created_at),
            "archived_at": None,
            "type": "Organization",
        }

    def team_url(self, org: Org, team: Team) -> str:
        return f"{self.api}/organizations/{org.id}/team/{team.id}"

    def team_simple(self, org: Org, team: Team) -> dict[str, Any]:
        url = self.team_url(org, team)
        return {
            "id": team.id,
            "node_id": node_id("T_", team.id),
            "url": url,
            "html_url": f"{self.html}/orgs/{org.login}/teams/{team.slug}",
            "name": team.name,
            "slug": team.slug,
            "description": team.description,
            "privacy": "closed",
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "members_url": f"{url}/members{{/member}}",
            "repositories_url": f"{url}/repos",
            "type": "organization",
            "organization_id": org.id,
            "parent": None,
        }

    def team_full(self, org: Org, team: Team) -> dict[str, Any]:
        active = [m for m in team.memberships.values() if m.state == "active"]
        return {
            **self.team_simple(org, team),
            "members_count": len(active),
            "repos_count": 0,
            "created_at": timestamp(team.created_at),
            "updated_at": timestamp(team.created_at),
            "organization": self.org_full(org),
        }

    def team_member(self, login: str, membership: Membership) -> dict[str, Any]:
        return {**self.user_by_login(login), "role": membership.role}

    def team_membership(
        self, org: Org, team: Team, login: str, membership: Membership
    ) -> dict[str, Any]:
        return {
            "url": f"{self.team_url(org, team)}/memberships/{login}",
            "role": membership.role,
            "state": membership.state,
        }

    # -- repositories ----------------------------------------------------------------------------

    def repository(self, repo: Repo) -> dict[str, Any]:
        """A superset of GitHub's "Repository" and "Full Repository": one shape serves both the
        repository endpoint and the `head.repo`/`base.repo` of a pull request."""
        base = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.html}/{repo.full_name}"
        owner = self.state.user(repo.owner)
        when = timestamp(repo.created_at)
        open_pulls = sum(1 for pull in repo.pulls.values() if pull.state == "open")
        document = {
            "id": repo.id,
            "node_id": node_id("R_", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self.simple_user(owner),
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "html_url": html,
            "description": repo.description,
            "fork": False,
            "url": base,
            "homepage": None,
            "language": None,
            "mirror_url": None,
            "license": None,
            "default_branch": repo.default_branch,
            "size": 0,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "open_issues": open_pulls,
            "open_issues_count": open_pulls,
            "subscribers_count": 0,
            "network_count": 0,
            "is_template": False,
            "topics": [],
            "has_issues": True,
            "has_projects": False,
            "has_wiki": False,
            "has_pages": False,
            "has_downloads": False,
            "has_discussions": False,
            "archived": False,
            "disabled": False,
            "allow_merge_commit": repo.merge_methods["merge"],
            "allow_squash_merge": repo.merge_methods["squash"],
            "allow_rebase_merge": repo.merge_methods["rebase"],
            "merge_commit_title": repo.merge_commit_title,
            "merge_commit_message": repo.merge_commit_message,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_forking": True,
            "web_commit_signoff_required": False,
            "pushed_at": when,
            "created_at": when,
            "updated_at": when,
            "permissions": {
                "admin": True,
                "maintain": True,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "git_url": f"git://{self.api.split('://', 1)[1]}/{repo.full_name}.git",
            "ssh_url": f"git@{self.api.split('://', 1)[1]}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
        }
        for name, suffix in _REPO_URL_SUFFIXES.items():
            document[name] = base + suffix
        if owner.type == "Organization":
            document["organization"] = self.simple_user(owner)
        return document

    def branch_protection(self, repo: Repo, branch: str) -> dict[str, Any]:
        """GET .../protection: GitHub's reading of the settings a PUT stored (booleans become
        `{"enabled": ...}` objects, user and team names become objects)."""
        url = f"{self.api}/repos/{repo.full_name}/branches/{quote(branch)}/protection"
        settings = repo.protection[branch]
        document: dict[str, Any] = {"url": url}
        checks = settings.get("required_status_checks")
        if checks is not None:
            contexts = list(checks.get("contexts") or [])
            check_list = [
                {"context": check["context"], "app_id": check.get("app_id")}
                for check in checks.get("checks") or []
            ]
            contexts += [
                check["context"] for check in check_list if check["context"] not in contexts
            ]
            if not check_list:
                check_list = [{"context": context, "app_id": None} for context in contexts]
            document["required_status_checks"] = {
                "url": f"{url}/required_status_checks",
                "strict": bool(checks.get("strict")),
                "contexts": contexts,
                "checks": check_list,
                "contexts_url": f"{url}/required_status_checks/contexts",
            }
        document["enforce_admins"] = {
            "url": f"{url}/enforce_admins",
            "enabled": bool(settings.get("enforce_admins")),
        }
        reviews = settings.get("required_pull_request_reviews")
        if reviews is not None:
            document["required_pull_request_reviews"] = {
                "url": f"{url}/required_pull_request_reviews",
                "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews")),
                "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews")),
                "required_approving_review_count": int(
                    reviews.get("required_approving_review_count", 1)
                ),
                "require_last_push_approval": bool(reviews.get("require_last_push_approval")),
            }
            restrictions = reviews.get("dismissal_restrictions")
            if restrictions:
                document["required_pull_request_reviews"]["dismissal_restrictions"] = (
                    self._restriction_policy(repo, restrictions, f"{url}/dismissal_restrictions")
                )
            bypass = reviews.get("bypass_pull_request_allowances")
            if bypass and any(bypass.get(kind) for kind in ("users", "teams", "apps")):
                allowed = self._restriction_policy(repo, bypass, f"{url}/bypass")
                document["required_pull_request_reviews"]["bypass_pull_request_allowances"] = {
                    kind: allowed[kind] for kind in ("users", "teams", "apps")
                }
        restrictions = settings.get("restrictions")
        if restrictions is not None:
            document["restrictions"] = self._restriction_policy(
                repo, restrictions, f"{url}/restrictions"
            )
        for flag in (
            "required_linear_history",
            "allow_force_pushes",
            "allow_deletions",
            "block_creations",
            "required_conversation_resolution",
            "lock_branch",
            "allow_fork_syncing",
        ):
            document[flag] = {"enabled": bool(settings.get(flag))}
        document["required_signatures"] = {
            "url": f"{url}/required_signatures",
            "enabled": False,
        }
        return document

    def _restriction_policy(
        self, repo: Repo, restrictions: dict[str, Any], url: str
    ) -> dict[str, Any]:
        org = self.state.org(repo.owner)
        teams = []
        for slug in restrictions.get("teams") or []:
            team = org.teams.get(slug) if org else None
            if org is not None and team is not None:
                teams.append(self.team_simple(org, team))
        return {
            "url": url,
            "users_url": f"{url}/users",
            "teams_url": f"{url}/teams",
            "apps_url": f"{url}/apps",
            "users": [self.user_by_login(login) for login in restrictions.get("users") or []],
            "teams": teams,
            "apps": [],
        }

    def branch(self, repo: Repo, name: str) -> dict[str, Any]:
        sha = repo.branches[name]
        base = f"{self.api}/repos/{repo.full_name}"
        quoted = quote(name)  # a branch name may hold any character git allows
        return {
            "name": name,
            "commit": self.commit(repo, sha),
            "_links": {
                "self": f"{base}/branches/{quoted}",
                "html": f"{self.html}/{repo.full_name}/tree/{quoted}",
            },
            "protected": name in repo.protection,
            "protection": {"enabled": name in repo.protection},
            "protection_url": f"{base}/branches/{quoted}/protection",
        }

    def commit(self, repo: Repo, sha: str) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        person = {
            "name": "Steward Test",
            "email": "test@example.com",
            "date": "2024-01-01T00:00:00Z",
        }
        return {
            "url": f"{base}/commits/{sha}",
            "sha": sha,
            "node_id": node_id("C_", int(sha[:8], 16)),
            "html_url": f"{self.html}/{repo.full_name}/commit/{sha}",
            "comments_url": f"{base}/commits/{sha}/comments",
            "commit": {
                "url": f"{base}/git/commits/{sha}",
                "author": person,
                "committer": person,
                "message": f"commit {sha[:7]}",
                "comment_count": 0,
                "tree": {"sha": sha, "url": f"{base}/git/trees/{sha}"},
            },
            "author": None,
            "committer": None,
            "parents": [],
        }

    def pull_commit(self, repo: Repo, commit: PullCommit) -> dict[str, Any]:
        """One entry of GET .../pulls/{n}/commits: the commit shape, with the message and the
        mapped accounts of this commit."""
        document = self.commit(repo, commit.sha)
        document["commit"]["message"] = commit.message
        for role in ("author", "committer"):
            login = getattr(commit, role)
            document[role] = self.simple_user(self.state.user(login)) if login else None
        return document

    # -- pull requests --------------------------------------------------------------------------

    def pull_request(self, repo: Repo, pull: Pull) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.html}/{repo.full_name}/pull/{pull.number}"
        url = f"{base}/pulls/{pull.number}"
        org = self.state.org(repo.owner)
        teams = [
            self.team_simple(org, org.teams[slug])
            for slug in pull.requested_teams
            if org is not None and slug in org.teams
        ]
        return {
            "url": url,
            "id": pull.id,
            "node_id": node_id("PR_", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": f"{base}/issues/{pull.number}",
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{base}/pulls/comments{{/number}}",
            "comments_url": f"{base}/issues/{pull.number}/comments",
            "statuses_url": f"{base}/statuses/{pull.head_sha}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user_by_login(pull.user),
            "body": pull.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": timestamp(pull.created_at),
            "updated_at": timestamp(pull.updated_at),
            "closed_at": timestamp(pull.closed_at) if pull.closed_at else None,
            "merged_at": timestamp(pull.merged_at) if pull.merged_at else None,
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [
                self.user_by_login(login) for login in pull.requested_reviewers
            ],
            "requested_teams": teams,
            "head": self._pull_end(repo, pull.head_ref, pull.head_sha),
            "base": self._pull_end(repo, pull.base_ref, pull.base_sha),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": f"{base}/issues/{pull.number}"},
                "comments": {"href": f"{base}/issues/{pull.number}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{base}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{base}/statuses/{pull.head_sha}"},
            },
            "author_association": AUTHOR_ASSOCIATION,
            "auto_merge": None,
            "draft": pull.draft,
            "merged": pull.merged,
            "mergeable": None if pull.merged else True,
            "rebaseable": None if pull.merged else True,
            "mergeable_state": "unknown" if pull.merged else "clean",
            "merged_by": self.user_by_login(pull.merged_by) if pull.merged_by else None,
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
            "review_comments": 0,
            "maintainer_can_modify": False,
            "commits": 1,
            "additions": sum(f.additions for f in pull.files),
            "deletions": sum(f.deletions for f in pull.files),
            "changed_files": len(pull.files),
        }

    def issue(self, repo: Repo, pull: Pull) -> dict[str, Any]:
        """A pull request seen through the issues API (every pull request is an issue)."""
        base = f"{self.api}/repos/{repo.full_name}"
        url = f"{base}/issues/{pull.number}"
        html = f"{self.html}/{repo.full_name}/pull/{pull.number}"
        return {
            "id": pull.id,
            "node_id": node_id("I_", pull.id),
            "url": url,
            "repository_url": base,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "number": pull.number,
            "state": pull.state,
            "state_reason": None,
            "title": pull.title,
            "body": pull.body,
            "user": self.user_by_login(pull.user),
            "labels": [],
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": sum(1 for c in repo.comments.values() if c.issue_number == pull.number),
            "pull_request": {
                "url": f"{base}/pulls/{pull.number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": timestamp(pull.merged_at) if pull.merged_at else None,
            },
            "closed_at": timestamp(pull.closed_at) if pull.closed_at else None,
            "created_at": timestamp(pull.created_at),
            "updated_at": timestamp(pull.updated_at),
            "author_association": AUTHOR_ASSOCIATION,
        }

    def _pull_end(self, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user_by_login(repo.owner),
            "repo": self.repository(repo),
        }

    def diff_entry(self, repo: Repo, pull: Pull, entry: PullFile) -> dict[str, Any]:
        blob = entry.sha or ("0" * 40 if entry.status == "removed" else None)
        document: dict[str, Any] = {
            "sha": blob,
            "filename": entry.filename,
            "status": entry.status,
            "additions": entry.additions,
            "deletions": entry.deletions,
            "changes": entry.additions + entry.deletions,
            "blob_url": f"{self.html}/{repo.full_name}/blob/{pull.head_sha}/{entry.filename}",
            "raw_url": f"{self.html}/{repo.full_name}/raw/{pull.head_sha}/{entry.filename}",
            "contents_url": (
                f"{self.api}/repos/{repo.full_name}/contents/{entry.filename}?ref={pull.head_sha}"
            ),
        }
        if entry.patch is not None:
            document["patch"] = entry.patch
        if entry.previous_filename is not None:
            document["previous_filename"] = entry.previous_filename
        return document

    def review(self, repo: Repo, pull: Pull, review: Review) -> dict[str, Any]:
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{pull.number}"
        html = f"{self.html}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}"
        document: dict[str, Any] = {
            "id": review.id,
            "node_id": node_id("PRR_", review.id),
            "user": self.user_by_login(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "commit_id": review.commit_id,
            "author_association": AUTHOR_ASSOCIATION,
        }
        if review.submitted_at is not None:
            document["submitted_at"] = timestamp(review.submitted_at)
        return document

    def issue_comment(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        base = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.html}/{repo.full_name}/pull/{comment.issue_number}"
        return {
            "id": comment.id,
            "node_id": node_id("IC_", comment.id),
            "url": f"{base}/issues/comments/{comment.id}",
            "html_url": f"{html}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user_by_login(comment.user),
            "created_at": timestamp(comment.created_at),
            "updated_at": timestamp(comment.updated_at),
            "issue_url": f"{base}/issues/{comment.issue_number}",
            "author_association": AUTHOR_ASSOCIATION,
            "performed_via_github_app": None,
        }

    def status(self, repo: Repo, status: Status) -> dict[str, Any]:
        return {
            "url": f"{self.api}/repos/{repo.full_name}/statuses/{status.sha}",
            "avatar_url": None,
            "id": status.id,
            "node_id": node_id("SC_", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": timestamp(status.created_at),
            "updated_at": timestamp(status.updated_at),
            "creator": self.user_by_login(status.creator),
        }

    def combined_status(self, repo: Repo, sha: str, latest: list[Status]) -> dict[str, Any]:
        """GitHub's roll-up: failure if any context failed or errored, pending if any is pending
        (or there are none), else success."""
        states = {status.state for status in latest}
        if states & {"failure", "error"}:
            state = "failure"
        elif "pending" in states or not states:
            state = "pending"
        else:
            state = "success"
        base = f"{self.api}/repos/{repo.full_name}"
        return {
            "state": state,
            "statuses": [
                {key: value for key, value in self.status(repo, status).items() if key != "creator"}
                | {"required": False}
                for status in latest
            ],
            "sha": sha,
            "total_count": len(latest),
            "repository": self.repository(repo),
            "commit_url": f"{base}/commits/{sha}",
            "url": f"{base}/commits/{sha}/status",
        }


_REPO_URL_SUFFIXES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}
