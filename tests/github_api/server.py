"""An in-process GitHub REST API for tests: loopback HTTP, stateful, checked against GitHub's
OpenAPI description on every response.

    with FakeGitHub() as gh:
        gh.add_repo("acme/registry")
        pull = gh.add_pull("acme/registry", user="alice", files=["registry/fraud/1.3.0.yaml"])
        gh.add_review("acme/registry", pull.number, "bob", "APPROVED")
        client = tests.github_fixtures.client_for(gh)  # PyGithub, its sleeps switched off

Why each piece is here:
- *Routing by GitHub's own path templates* (`openapi.find_operation`): the fake cannot serve a
  route GitHub does not have, and path parameters are parsed the same way for every endpoint.
- *Response validation*: a reply that does not match the description is recorded in
  `violations` and turned into a 500, so neither the fake nor a test that corrupts its state can
  hand the code under test a shape GitHub would never send. The pytest fixture fails the test if
  any violation was recorded.
- *Request validation*: GitHub answers an invalid body with 422; the fake does too and records it,
  because a client that sends one has a bug even if it swallows the error.
- *Fault injection* (`fail_next` and the rate-limit helpers): outages and rate limits happen on
  GitHub; the code under test must survive them, and the tests must be able to cause them
  without waiting.
- *Aliases*: GitHub's `Link` headers name `/repositories/{id}/...` and its teams carry
  `/organizations/{org_id}/team/{team_id}` URLs, neither in the description; the fake emits and
  serves them (mapped to the documented routes for checking), so a client that follows URLs meets
  the same URLs it would meet on GitHub.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.github_api import openapi
from tests.github_api.calls import DEFAULT_MESSAGES, ApiError, Call, Reply, error_body
from tests.github_api.routes import ROUTES
from tests.github_api.shapes import Renderer
from tests.github_api.state import (
    Comment,
    Dispatch,
    GitHubState,
    Membership,
    MembershipRole,
    MembershipState,
    Merge,
    Org,
    Pull,
    PullCommit,
    PullFile,
    Repo,
    Review,
    ReviewState,
    Status,
    Team,
    TickingClock,
    Token,
    User,
)

DEFAULT_TOKEN = "ghs_stewardTestToken0000000000000000000"
DEFAULT_LOGIN = "steward-bot"
RATE_LIMIT = 5000
PRIMARY_RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_RATE_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)

_REPOSITORY_ALIAS = re.compile(r"/repositories/(\d+)(/.*)?\Z")
_TEAM_ALIAS = re.compile(r"/organizations/(\d+)/team/(\d+)(/.*)?\Z")
_LEGACY_STATUSES = re.compile(r"(/repos/[^/]+/[^/]+)/statuses/(.+)\Z")


@dataclass(frozen=True)
class Violation:
    """Something GitHub would never do (or a client should never ask), found while serving."""

    kind: Literal["response", "request", "unhandled", "crash"]
    method: str
    path: str
    status: int
    problems: tuple[str, ...]

    def __str__(self) -> str:
        lines = "\n    ".join(self.problems)
        return f"[{self.kind}] {self.method} {self.path} -> {self.status}:\n    {lines}"


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    status: int
    injected: bool
    """Answered by an injected fault, not by the fake's state."""


@dataclass
class Fault:
    """A canned answer for the next `remaining` requests matching `method` and `path`."""

    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    remaining: int

    def matches(self, method: str, path: str) -> bool:
        return (
            self.remaining > 0
            and self.method in ("*", method)
            and self.path.search(path) is not None
        )


@dataclass(frozen=True)
class ReviewRequests:
    users: list[str]
    teams: list[str]


@dataclass
class _Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class FakeGitHub:
    """The server, its state, and the seeding and inspection API tests use.

    All state changes (from HTTP handlers or from test code) happen under one lock, so a test may
    seed or inspect while a client in another thread is mid-request.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        login: str = DEFAULT_LOGIN,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.state = GitHubState(clock=clock or TickingClock())
        self.token = token
        """The default token: accepted, acts as `login`, may read teams."""
        self.login = login
        self.violations: list[Violation] = []
        self.requests: list[RecordedRequest] = []
        self.rate_limit_used = 0
        self.rate_limit_reset = int(time.time()) + 3600
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._render: Renderer | None = None
        self._request_counter = 0
        self.add_token(token, login)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        if self._httpd is not None:
            return self
        openapi.load_spec()  # fail here, clearly, if the npm packages cannot be installed
        httpd = _Server(("127.0.0.1", 0), _RequestHandler)
        httpd.fake = self
        self._httpd = httpd
        self._render = Renderer(self.base_url, self.state)
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"fake-github-{httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, no trailing slash: PyGithub appends paths to it verbatim."""
        if self._httpd is None:
            raise RuntimeError("the fake GitHub is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def render(self) -> Renderer:
        if self._render is None:
            raise RuntimeError("the fake GitHub is not started")
        return self._render

    # -- seeding --------------------------------------------------------------------------------

    def add_token(
        self,
        value: str,
        login: str = DEFAULT_LOGIN,
        *,
        can_read_teams: bool = True,
        installation: bool = False,
    ) -> Token:
        """Accept `value` as a credential acting as `login`. `can_read_teams=False` is the
        default Actions token (403 on team endpoints); `installation=True` an App installation
        token (403 on GET /user)."""
        with self._lock:
            self.state.user(login)
            token = Token(value, login, can_read_teams=can_read_teams, is_installation=installation)
            self.state.tokens[value] = token
            return token

    def add_user(
        self,
        login: str,
        *,
        kind: Literal["User", "Bot"] = "User",
        name: str | None = None,
        email: str | None = None,
    ) -> User:
        """Users are also created on first mention; this sets their details."""
        with self._lock:
            user = self.state.user(login, kind)
            user.type, user.name, user.email = kind, name, email
            return user

    def add_org(self, login: str) -> Org:
        with self._lock:
            existing = self.state.org(login)
            if existing is not None:
                return existing
            user = self.state.user(login, "Organization")
            user.type = "Organization"
            org = Org(login=login, id=user.id, created_at=self.state.clock())
            self.state.orgs[login.lower()] = org
            return org

    def add_team(
        self, org: str, slug: str, *, name: str | None = None, description: str | None = None
    ) -> Team:
        with self._lock:
            owner = self.add_org(org)
            team = owner.teams.get(slug.lower())
            if team is None:
                team = Team(
                    id=self.state.ids.next("team"),
                    org=owner.login,
                    slug=slug.lower(),
                    name=name or slug,
                    description=description,
                    created_at=self.state.clock(),
                )
                owner.teams[team.slug] = team
            return team

    def set_membership(
        self,
        org: str,
        team: str,
        login: str,
        state: MembershipState = "active",
        role: MembershipRole = "member",
    ) -> Membership:
        """`pending`: invited, not accepted -- GitHub reports it, and it must not count."""
        with self._lock:
            membership = Membership(state=state, role=role)
            self.add_team(org, team).memberships[self.state.user(login).login.lower()] = membership
            return membership

    def remove_membership(self, org: str, team: str, login: str) -> None:
        with self._lock:
            self.add_team(org, team).memberships.pop(login.lower(), None)

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
        owner_is_org: bool = True,
        default_branch_sha: str | None = None,
    ) -> Repo:
        """A repository with its default branch at a fresh (or the given) SHA. The owner is an
        organization unless `owner_is_org=False`, so teams can be added to it."""
        owner, name = full_name.split("/", 1)
        with self._lock:
            if owner_is_org:
                self.add_org(owner)
            else:
                self.state.user(owner)
            repo = Repo(
                id=self.state.ids.next("repo"),
                owner=self.state.user(owner).login,
                name=name,
                default_branch=default_branch,
                private=private,
                description=description,
                created_at=self.state.clock(),
            )
            self.state.repos[full_name.lower()] = repo
            sha = default_branch_sha or self.state.new_sha()
            repo.branches[default_branch] = sha
            repo.commits.add(sha)
            return repo

    def back_with_git(self, full_name: str, git_dir: Path) -> None:
        """Make the repository's branches those of the git repository `git_dir`, read afresh at
        every request: clients push with git, as they would to GitHub, and the API sees it."""
        with self._lock:
            self.repo(full_name).git_dir = git_dir
        self.sync_git(full_name)

    def sync_git(self, full_name: str) -> None:
        repo = self.repo(full_name)
        if repo.git_dir is None:
            return
        out = subprocess.run(
            [
                "git",
                "-C",
                str(repo.git_dir),
                "for-each-ref",
                "--format=%(refname:strip=2) %(objectname)",
                "refs/heads/",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for line in out.splitlines():
            branch, sha = line.rsplit(" ", 1)
            if repo.branches.get(branch) != sha:
                self.set_head(full_name, branch, sha)

    def set_head(self, full_name: str, branch: str, sha: str | None = None) -> str:
        """Point `branch` at `sha` (a fresh one if None), creating it if needed: a push. Open pull
        requests from that branch follow it, as on GitHub."""
        with self._lock:
            repo = self.repo(full_name)
            new_sha = sha or self.state.new_sha()
            repo.branches[branch] = new_sha
            repo.commits.add(new_sha)
            for pull in repo.pulls.values():
                if pull.state == "open" and pull.head_ref == branch:
                    pull.head_sha = new_sha
                    pull.updated_at = self.state.clock()
                if pull.state == "open" and pull.base_ref == branch:
                    pull.base_sha = new_sha
            return new_sha

    def add_pull(
        self,
        full_name: str,
        *,
        title: str = "Update the registry",
        body: str | None = None,
        user: str = "alice",
        head: str = "feature",
        base: str | None = None,
        head_sha: str | None = None,
        files: Iterable[str | PullFile] = (),
        draft: bool = False,
    ) -> Pull:
        """An open pull request from `head` (created or moved to `head_sha`) into `base` (the
        default branch by default), with the given changed files."""
        with self._lock:
            repo = self.repo(full_name)
            if head_sha is not None or head not in repo.branches:
                self.set_head(full_name, head, head_sha)
            pull = self.open_pull(
                repo,
                title=title,
                body=body,
                user=user,
                head=head,
                base=base or repo.default_branch,
                draft=draft,
            )
            self.set_pull_files(full_name, pull.number, files)
            return pull

    def set_pull_files(
        self, full_name: str, number: int, files: Iterable[str | PullFile]
    ) -> list[PullFile]:
        with self._lock:
            pull = self.pull(full_name, number)
            pull.files = [
                entry if isinstance(entry, PullFile) else PullFile(filename=entry)
                for entry in files
            ]
            return pull.files

    def add_review(
        self,
        full_name: str,
        number: int,
        user: str,
        state: ReviewState = "APPROVED",
        *,
        commit_id: str | None = None,
        body: str = "",
        submitted_at: datetime | None = None,
    ) -> Review:
        """A review by `user` on `commit_id` (the current head by default: pass an older SHA for
        a stale approval)."""
        with self._lock:
            repo = self.repo(full_name)
            pull = self.pull(full_name, number)
            return self.submit_review(
                repo,
                pull,
                user=user,
                state=state,
                commit_id=commit_id or pull.head_sha,
                body=body,
                submitted_at=submitted_at,
            )

    def set_pull_commits(self, full_name: str, number: int, commits: Iterable[PullCommit]) -> None:
        """The commits GET .../pulls/{n}/commits lists for pull request `number`."""
        with self._lock:
            self.repo(full_name).pulls[number].commits = list(commits)

    def add_comment(
        self, full_name: str, number: int, body: str, *, user: str | None = None
    ) -> Comment:
        with self._lock:
            return self.post_comment(self.repo(full_name), number, user or self.login, body)

    # -- fault injection ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> Fault:
        """Answer the next `times` requests whose method is `method` ("*" for any) and whose
        path matches `path_regex` (searched, not anchored; against the documented form
        `/repos/{owner}/{repo}/...` even when the client used an alias) with `status`, after
        authentication and before the request reaches the state. The body defaults to GitHub's
        error document for that status; the response is checked like any other."""
        with self._lock:
            fault = Fault(
                method=method.upper(),
                path=re.compile(path_regex),
                status=status,
                headers=dict(headers or {}),
                body=body if body is not None else error_body(status, _message(status)),
                remaining=times,
            )
            self._faults.append(fault)
            return fault

    def fail_rate_limited(
        self, method: str, path_regex: str, *, reset: int, times: int = 1, status: int = 403
    ) -> Fault:
        """GitHub's primary rate limit: 403 (or 429), `x-ratelimit-remaining: 0` and the epoch
        second when the window resets."""
        user = self.state.user(self.login)
        return self.fail_next(
            method,
            path_regex,
            status,
            headers={
                "X-RateLimit-Limit": str(RATE_LIMIT),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Used": str(RATE_LIMIT),
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Resource": "core",
            },
            body=error_body(
                status,
                f"API rate limit exceeded for user ID {user.id}. If you reach out to GitHub "
                "Support for help, please include the request ID "
                "0000:0000:0000000:0000000:00000000.",
                PRIMARY_RATE_LIMIT_DOCS,
            ),
            times=times,
        )

    def fail_secondary_rate_limit(
        self,
        method: str,
        path_regex: str,
        *,
        retry_after: int = 60,
        times: int = 1,
        status: int = 403,
    ) -> Fault:
        """GitHub's secondary (abuse) rate limit: 403 (or 429) with `retry-after` seconds."""
        return self.fail_next(
            method,
            path_regex,
            status,
            headers={"Retry-After": str(retry_after)},
            body=error_body(
                status,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the "
                "request ID 0000:0000:0000000:0000000:00000000.",
                SECONDARY_RATE_LIMIT_DOCS,
            ),
            times=times,
        )

    # -- inspection -----------------------------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        with self._lock:
            repo = self.state.repo(full_name)
            if repo is None:
                raise KeyError(f"no repository {full_name!r}: add_repo it first")
            return repo

    def pull(self, full_name: str, number: int) -> Pull:
        with self._lock:
            pull = self.repo(full_name).pulls.get(number)
            if pull is None:
                raise KeyError(f"no pull request #{number} in {full_name}")
            return pull

    def reviews(self, full_name: str, number: int) -> list[Review]:
        with self._lock:
            return list(self.pull(full_name, number).reviews)

    def comments(self, full_name: str, number: int) -> list[Comment]:
        with self._lock:
            return [c for c in self.repo(full_name).comments.values() if c.issue_number == number]

    def statuses(self, full_name: str, sha: str | None = None) -> list[Status]:
        """Oldest first; all of them, or those on `sha`."""
        with self._lock:
            return [s for s in self.repo(full_name).statuses if sha is None or s.sha == sha]

    def merges(self, full_name: str) -> list[Merge]:
        with self._lock:
            return list(self.repo(full_name).merges)

    def dispatches(self, full_name: str) -> list[Dispatch]:
        with self._lock:
            return list(self.repo(full_name).dispatches)

    def review_requests(self, full_name: str, number: int) -> ReviewRequests:
        with self._lock:
            pull = self.pull(full_name, number)
            return ReviewRequests(list(pull.requested_reviewers), list(pull.requested_teams))

    def merge_methods(self, full_name: str) -> dict[str, bool]:
        """Which merge methods the repository allows: merge, squash, rebase."""
        with self._lock:
            return dict(self.repo(full_name).merge_methods)

    def protection(self, full_name: str, branch: str) -> dict[str, Any] | None:
        """The settings last PUT for `branch` (the request body), or None if unprotected."""
        with self._lock:
            return self.repo(full_name).protection.get(branch)

    def take_violations(self) -> list[Violation]:
        """Return and forget the violations so far: for tests that provoke one on purpose."""
        with self._lock:
            taken, self.violations = self.violations, []
            return taken

    def rate_limit_snapshot(self) -> dict[str, int]:
        return {
            "limit": RATE_LIMIT,
            "remaining": max(RATE_LIMIT - self.rate_limit_used, 0),
            "reset": self.rate_limit_reset,
            "used": self.rate_limit_used,
        }

    # -- state changes shared by seeding and handlers -------------------------------------------

    def open_pull(
        self,
        repo: Repo,
        *,
        title: str,
        body: str | None,
        user: str,
        head: str,
        base: str,
        draft: bool = False,
    ) -> Pull:
        if base not in repo.branches:
            raise KeyError(f"{repo.full_name} has no branch {base!r}")
        now = self.state.clock()
        pull = Pull(
            number=repo.next_number,
            id=self.state.ids.next("pull"),
            title=title,
            body=body,
            user=self.state.user(user).login,
            head_ref=head,
            head_sha=repo.branches[head],
            base_ref=base,
            base_sha=repo.branches[base],
            created_at=now,
            updated_at=now,
            draft=draft,
        )
        repo.next_number += 1
        repo.pulls[pull.number] = pull
        return pull

    def submit_review(
        self,
        repo: Repo,
        pull: Pull,
        *,
        user: str,
        state: ReviewState,
        commit_id: str,
        body: str,
        submitted_at: datetime | None = None,
    ) -> Review:
        """A submitted review also takes its author off the requested reviewers, as on GitHub."""
        login = self.state.user(user).login
        pending = state == "PENDING"
        review = Review(
            id=self.state.ids.next("review"),
            user=login,
            state=state,
            commit_id=commit_id,
            body=body,
            submitted_at=None if pending else (submitted_at or self.state.clock()),
        )
        pull.reviews.append(review)
        if not pending:
            pull.requested_reviewers = [
                r for r in pull.requested_reviewers if r.lower() != login.lower()
            ]
        return review

    def post_comment(self, repo: Repo, number: int, user: str, body: str) -> Comment:
        if number not in repo.pulls:
            raise KeyError(f"no pull request #{number} in {repo.full_name}")
        now = self.state.clock()
        comment = Comment(
            id=self.state.ids.next("comment"),
            issue_number=number,
            user=self.state.user(user).login,
            body=body,
            created_at=now,
            updated_at=now,
        )
        repo.comments[comment.id] = comment
        return comment

    def merge_pull(
        self,
        repo: Repo,
        pull: Pull,
        *,
        method: str,
        title: str | None,
        message: str | None,
        merged_by: str,
    ) -> Merge:
        sha = self.state.new_sha()
        now = self.state.clock()
        repo.branches[pull.base_ref] = sha
        repo.commits.add(sha)
        pull.state = "closed"
        pull.merged = True
        pull.merged_at = pull.closed_at = pull.updated_at = now
        pull.merged_by = self.state.user(merged_by).login
        pull.merge_commit_sha = sha
        merge = Merge(
            number=pull.number,
            sha=sha,
            head_sha=pull.head_sha,
            method=method,
            commit_title=title,
            commit_message=message,
            merged_by=pull.merged_by,
        )
        repo.merges.append(merge)
        return merge

    # -- the request pipeline -------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], raw_body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one request: (status, headers, body bytes). Called from server threads with
        lower-cased header names."""
        with self._lock:
            parts = urlsplit(target)
            path = self._canonical_path(method, parts.path)
            query = parse_qsl(parts.query, keep_blank_values=True)
            injected = False
            try:
                response, injected = self._respond(method, path, query, headers, raw_body)
            except Exception:  # a bug in the fake: answer, and fail the test
                problems = tuple(traceback.format_exc().splitlines())
                self.violations.append(Violation("crash", method, path, 500, problems))
                response = _Response(500, body=error_body(500, "fake GitHub crashed"))
            else:
                response = self._checked(method, path, response)
            self.requests.append(
                RecordedRequest(method, path, parts.query, response.status, injected)
            )
            return self._encode(response)

    def _respond(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        headers: Mapping[str, str],
        raw_body: bytes,
    ) -> tuple[_Response, bool]:
        token = self._authenticate(headers)
        if token is None:
            message = "Requires authentication" if not headers.get("authorization") else None
            return _Response(401, body=error_body(401, message or "Bad credentials")), False
        self.rate_limit_used += 1
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                return _Response(fault.status, dict(fault.headers), fault.body), True
        found = openapi.find_operation(method, path)
        handler = ROUTES.get(found[0].key) if found else None
        if found is None or handler is None:
            reason = (
                f"the fake does not implement {found[0].method} {found[0].template}: add a handler"
                if found
                else "no such route in GitHub's REST API"
            )
            self.violations.append(Violation("unhandled", method, path, 404, (reason,)))
            return _Response(404, body=error_body(404, "Not Found")), False
        operation, params = found
        try:
            body = json.loads(raw_body) if raw_body.strip() else None
        except ValueError:
            return _Response(
                400, body=error_body(400, "Problems parsing JSON", operation.docs_url)
            ), False
        problems = openapi.check_request(operation, body)
        if problems:
            self.violations.append(Violation("request", method, path, 422, tuple(problems)))
            message = "Invalid request.\n\n" + "\n".join(problems)
            return _Response(422, body=error_body(422, message, operation.docs_url)), False
        call = Call(
            method=method,
            path=path,
            operation=operation,
            params={name: unquote(value) for name, value in params.items()},
            query=query,
            body=body,
            token=token,
            base_url=self.base_url,
        )
        try:
            reply: Reply = handler(self, call)
        except ApiError as error:
            docs = operation.docs_url
            return (
                _Response(
                    error.status,
                    error.headers,
                    error_body(error.status, error.message, docs, error.errors),
                ),
                False,
            )
        return _Response(reply.status, reply.headers, reply.body), False

    def _authenticate(self, headers: Mapping[str, str]) -> Token | None:
        value = headers.get("authorization") or ""
        scheme, _, credential = value.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        return self.state.tokens.get(credential.strip())

    def _checked(self, method: str, path: str, response: _Response) -> _Response:
        problems = openapi.check_response(method, path, response.status, response.body)
        if not problems:
            return response
        self.violations.append(
            Violation("response", method, path, response.status, tuple(problems))
        )
        message = "fake GitHub: this response would violate GitHub's OpenAPI description:\n"
        return _Response(500, body=error_body(500, message + "\n".join(problems)))

    def _canonical_path(self, method: str, path: str) -> str:
        """Map GitHub's undocumented URL forms onto the documented routes they stand for:
        `/repositories/{id}/...` (its `Link` headers), `/organizations/{id}/team/{id}/...` (its
        team URLs), and GET `/repos/{owner}/{repo}/statuses/{ref}` (the legacy listing that
        PyGithub's `Commit.get_statuses()` calls)."""
        legacy = _LEGACY_STATUSES.match(path)
        if method == "GET" and legacy is not None:
            return f"{legacy.group(1)}/commits/{legacy.group(2)}/statuses"
        repository = _REPOSITORY_ALIAS.match(path)
        if repository is not None:
            for repo in self.state.repos.values():
                if str(repo.id) == repository.group(1):
                    return f"/repos/{repo.full_name}{repository.group(2) or ''}"
        team_alias = _TEAM_ALIAS.match(path)
        if team_alias is not None:
            for org in self.state.orgs.values():
                for team in org.teams.values():
                    if str(org.id) == team_alias.group(1) and str(team.id) == team_alias.group(2):
                        return f"/orgs/{org.login}/teams/{team.slug}{team_alias.group(3) or ''}"
        return path

    def _encode(self, response: _Response) -> tuple[int, dict[str, str], bytes]:
        self._request_counter += 1
        snapshot = self.rate_limit_snapshot()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": f"FAKE:{self._request_counter:08X}",
            "X-RateLimit-Limit": str(snapshot["limit"]),
            "X-RateLimit-Remaining": str(snapshot["remaining"]),
            "X-RateLimit-Reset": str(snapshot["reset"]),
            "X-RateLimit-Used": str(snapshot["used"]),
            "X-RateLimit-Resource": "core",
        }
        overrides = {key.lower(): (key, value) for key, value in response.headers.items()}
        headers = {k: v for k, v in headers.items() if k.lower() not in overrides}
        headers.update(dict(overrides.values()))
        if response.body is None:
            headers.pop("Content-Type")
            return response.status, headers, b""
        return response.status, headers, json.dumps(response.body).encode()


def _message(status: int) -> str:
    return DEFAULT_MESSAGES.get(status, "Error")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeGitHub


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive, as PyGithub's pooled `requests` session expects."""

    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle kept-alive connection does not pin a thread for ever
    server: _Server

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.fake.handle(
            self.command,
            self.path,
            {name.lower(): value for name, value in self.headers.items()},
            raw_body,
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: `FakeGitHub.requests` keeps the log a test can assert on."""
