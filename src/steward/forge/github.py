"""The GitHub forge: pull requests, reviews, comments, statuses and teams through PyGithub.

Every call goes through `_call`, which retries what GitHub asks to be retried (5xx, primary and
secondary rate limits, honouring `Retry-After` and `x-ratelimit-reset`) with an injectable clock
and sleep, then fails closed with a `ForgeError` that names the evidence it could not read.
PyGithub's own retry and throttling are off so that these rules are the only ones (Steward makes
a handful of writes per run; a secondary limit it meets is retried like any other).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from steward.forge.protocol import (
    PROPOSER_TRAILER,
    BranchTaken,
    ForgeError,
    Proposal,
    ProposalState,
    Review,
    ReviewState,
    Status,
    StatusState,
    TeamResolver,
)

T = TypeVar("T")

DEFAULT_API_URL = "https://api.github.com"
GATE_MARKER = "<!-- steward-gate -->"
# GitHub's committer of commits made in its web interface: nobody's push.
_WEB_FLOW = "web-flow"
_ON_BEHALF = re.compile(r"_Proposed by @([A-Za-z0-9-]+(?:\[bot\])?) through [^_]+\._")
_RETRYABLE = frozenset({500, 502, 503, 504})
_REVIEW_EVENTS = {
    "APPROVED": "APPROVE",
    "CHANGES_REQUESTED": "REQUEST_CHANGES",
    "COMMENTED": "COMMENT",
}


@dataclass(frozen=True)
class GitHubSettings:
    """Where and as whom: the repository, the API, and a token (or a GitHub App)."""

    repository: str  # owner/name
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    app_id: str | None = None
    app_private_key: str | None = None
    installation_id: int | None = None

    @classmethod
    def from_environment(
        cls, repository: str | None = None, token: str | None = None
    ) -> GitHubSettings:
        """The Actions way: GITHUB_REPOSITORY, GITHUB_TOKEN, GITHUB_API_URL (GitHub Enterprise),
        or a GitHub App from STEWARD_GITHUB_APP_ID / _PRIVATE_KEY / _INSTALLATION_ID."""
        repo = repository or os.environ.get("GITHUB_REPOSITORY")
        if not repo or not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
            raise ForgeError("no GitHub repository: set GITHUB_REPOSITORY to owner/name")
        installation = os.environ.get("STEWARD_GITHUB_APP_INSTALLATION_ID")
        return cls(
            repository=repo,
            token=token or os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN"),
            api_url=os.environ.get("GITHUB_API_URL", DEFAULT_API_URL).rstrip("/"),
            app_id=os.environ.get("STEWARD_GITHUB_APP_ID"),
            app_private_key=os.environ.get("STEWARD_GITHUB_APP_PRIVATE_KEY"),
            installation_id=int(installation) if installation and installation.isdigit() else None,
        )


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class GitHubForge:
    """A `Forge` backed by a GitHub repository."""

    def __init__(
        self,
        settings: GitHubSettings,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        max_wait: float = 300.0,
        seconds_between_writes: float | None = None,
    ) -> None:
        from github import Auth, Github

        self.settings = settings
        self.clock = clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        auth: Any
        if settings.app_id and settings.app_private_key and settings.installation_id:
            auth = Auth.AppAuth(settings.app_id, settings.app_private_key).get_installation_auth(
                settings.installation_id
            )
        elif settings.token:
            auth = Auth.Token(settings.token)
        else:
            raise ForgeError("no GitHub token: set GITHUB_TOKEN or pass --github-token")
        self._github = Github(
            auth=auth,
            base_url=settings.api_url,
            retry=None,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=seconds_between_writes,
        )
        self._repo_object: Any = None
        self._identity: str | None = None
        # Whether `identity()` is the token's own login (GET /user answered), or a guess: an
        # App installation token, the Actions token included, may not read /user, and each
        # App comments as its own `SLUG[bot]`.
        self._identity_known = False

    # --- plumbing -------------------------------------------------------------------------

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """Run `action` (which talks to GitHub), retrying what GitHub says may be retried."""
        from github import GithubException
        from requests import RequestException

        for attempt in range(1, self.max_attempts + 1):
            try:
                return action()
            except GithubException as exc:
                wait = self._retry_after(exc, attempt)
                if wait is None or attempt == self.max_attempts:
                    raise ForgeError(f"GitHub: {what}: {_describe(exc)}") from exc
            except RequestException as exc:
                wait = min(2.0**attempt, 30.0)
                if attempt == self.max_attempts:
                    raise ForgeError(f"GitHub: {what}: {type(exc).__name__}: {exc}") from exc
            except ForgeError:
                raise
            except Exception as exc:  # a bad App key, an odd payload: missing evidence, not a crash
                raise ForgeError(f"GitHub: {what}: {type(exc).__name__}: {exc}") from exc
            self.sleep(wait)
        raise ForgeError(f"GitHub: {what}: gave up")  # unreachable: the loop returns or raises

    def _retry_after(self, exc: Any, attempt: int) -> float | None:
        status = exc.status
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        message = str(getattr(exc, "message", "") or exc.data or "").lower()
        if status in _RETRYABLE:
            return min(2.0**attempt, 30.0)
        limited = status == 429 or (
            status == 403
            and (headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message)
        )
        if not limited:
            return None
        if "retry-after" in headers and headers["retry-after"].isdigit():
            wait = float(headers["retry-after"])
        elif headers.get("x-ratelimit-reset", "").isdigit():
            wait = max(0.0, float(headers["x-ratelimit-reset"]) - self.clock()) + 1.0
        else:
            wait = 60.0  # GitHub's advice for a secondary limit without a hint
        return wait if wait <= self.max_wait else None

    @property
    def _repo(self) -> Any:
        if self._repo_object is None:
            name = self.settings.repository
            self._repo_object = self._call(f"read {name}", lambda: self._github.get_repo(name))
        return self._repo_object

    def _pull(self, number: int) -> Any:
        return self._call(f"read pull request #{number}", lambda: self._repo.get_pull(number))

    # --- the protocol ---------------------------------------------------------------------

    def create_proposal(
        self, title: str, body: str, head_branch: str, base_branch: str, author: str
    ) -> Proposal:
        """Open a pull request (the branch must already be pushed). On GitHub the author is the
        token's user, and that is who the gate treats as the proposer; when Steward acts for
        someone else, the body says so, for the reviewers."""
        me = self.identity()
        if author.casefold() != me.casefold():
            body = f"{body}\n_Proposed by @{author} through {me}._\n"
        pull = self._call(
            f"open a pull request from {head_branch}",
            lambda: self._repo.create_pull(
                title=title, body=body, head=head_branch, base=base_branch
            ),
        )
        return self._proposal(pull)

    def get_proposal(self, number: int) -> Proposal:
        return self._proposal(self._pull(number))

    def list_proposals(self, state: ProposalState | Literal["all"] = "open") -> list[Proposal]:
        """Pull requests in this state, newest first (GitHub's `closed` holds merged ones too:
        they are told apart here)."""
        wanted = "open" if state == "open" else "closed" if state in ("closed", "merged") else "all"

        def read() -> list[Proposal]:
            pulls = self._repo.get_pulls(state=wanted, sort="created", direction="desc")
            return [self._listed(pull) for pull in pulls]

        found = self._call("list pull requests", read)
        return [p for p in found if state in ("all", p.state)]

    def _listed(self, pull: Any) -> Proposal:
        """A pull request from a listing, read from the listing alone (`merged_at` tells a merged
        one; no call per pull request). Who may not approve it is not read: judging goes
        through get_proposal, and a listed proposal says so if it is judged anyway."""
        state: ProposalState = "merged" if pull.merged_at is not None else pull.state
        return Proposal(
            number=pull.number,
            title=pull.title,
            body=pull.body or "",
            author=pull.user.login,
            base_branch=pull.base.ref,
            head_branch=pull.head.ref,
            base_sha=pull.base.sha,
            head_sha=pull.head.sha,
            state=state,
            created_at=_utc(pull.created_at),
            merge_commit=pull.merge_commit_sha if state == "merged" else None,
            not_reviewers_error="read from a listing: use get_proposal to judge it",
        )

    def close_proposal(self, number: int) -> Proposal:
        pull = self._pull(number)
        self._call(f"close pull request #{number}", lambda: pull.edit(state="closed"))
        return self.get_proposal(number)

    def get_statuses(self, sha: str) -> list[Status]:
        def read() -> list[Status]:
            combined = self._repo.get_commit(sha).get_combined_status()
            return [
                Status(sha=sha, context=s.context, state=s.state, description=s.description or "")
                for s in combined.statuses
            ]

        return self._call(f"read the statuses of {sha[:12]}", read)

    def identity(self) -> str:
        """The login this forge acts as (the token's user, or the App's bot)."""
        if self._identity is None:
            self._identity = self._call("read the token's user", self._read_identity)
        return self._identity

    def _read_identity(self) -> str:
        from github import GithubException

        try:
            login = str(self._github.get_user().login)
        except GithubException as exc:
            if exc.status != 403:  # an App installation token may not read /user
                raise
            return "github-actions[bot]"
        self._identity_known = True
        return login

    def commit_identity(self) -> tuple[str, str] | None:
        """The token's user with its GitHub noreply address (`ID+LOGIN@users.noreply.github.com`,
        which GitHub links to the account); None when the token cannot tell who it is (an App
        installation token: GET /user is refused)."""
        login = self.identity()
        if not self._identity_known:
            return None
        user_id = self._call(f"read the user {login}", lambda: self._github.get_user(login).id)
        return login, f"{user_id}+{login}@users.noreply.github.com"

    def _is_own_comment(self, comment: Any, marker: str) -> bool:
        """Whether `comment` is one this forge wrote with `marker`: by the token's own login
        when it is known; under an App token (whose bot login GET /user does not tell), by a
        bot. Never a person's: anyone can paste the marker into theirs."""
        user = comment.user
        if user is None or marker not in (comment.body or ""):
            return False
        me = self.identity()
        if self._identity_known:
            return bool(user.login.casefold() == me.casefold())
        return bool(user.type == "Bot" and user.login.endswith("[bot]"))

    def _commit_people(self, pull: Any) -> tuple[tuple[str, ...], str | None]:
        """Who may not approve pull request `pull` by its commits (every page of them): the
        logins its commits' proposer trailers name, and the accounts GitHub maps their authors
        and committers to. An error reading them is returned, not swallowed: approvals then
        fail closed."""

        def read() -> tuple[str, ...]:
            found: dict[str, None] = {}
            for commit in pull.get_commits():
                for line in (commit.commit.message or "").splitlines():
                    key, sep, value = line.partition(":")
                    if sep and key.strip() == PROPOSER_TRAILER and value.strip():
                        found.setdefault(value.strip(), None)
                for account in (commit.author, commit.committer):
                    login = getattr(account, "login", None) if account is not None else None
                    if login and login != _WEB_FLOW:
                        found.setdefault(str(login), None)
            return tuple(found)

        try:
            return self._call(f"list the commits of pull request #{pull.number}", read), None
        except ForgeError as exc:
            return (), str(exc)

    def _proposal(self, pull: Any) -> Proposal:
        def read() -> Proposal:
            on_behalf = _ON_BEHALF.search(pull.body or "")
            not_reviewers = tuple(
                login for login in (on_behalf.group(1) if on_behalf else None,) if login
            )
            return replace(
                self._listed(pull),
                not_reviewers=(*not_reviewers, self.identity()),
                not_reviewers_error=None,
            )

        proposal = self._call(f"read pull request #{pull.number}", read)
        if proposal.state != "open":
            return proposal  # nobody approves a closed one: its commits need not be read
        people, error = self._commit_people(pull)
        return replace(
            proposal,
            not_reviewers=tuple(dict.fromkeys((*proposal.not_reviewers, *people))),
            not_reviewers_error=error,
        )

    def list_reviews(self, number: int) -> list[Review]:
        """Every review, across all pages, oldest first (PENDING drafts are nobody's review)."""
        pull = self._pull(number)

        def read() -> list[Review]:
            reviews = []
            for review in pull.get_reviews():
                if review.state not in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"):
                    continue
                if review.user is None:
                    continue  # a deleted account ("ghost"): nobody's review
                reviews.append(
                    Review(
                        reviewer=review.user.login,
                        state=review.state,
                        commit=review.commit_id,
                        submitted_at=_utc(review.submitted_at),
                        body=review.body or "",
                    )
                )
            return reviews

        return self._call(f"list the reviews of pull request #{number}", read)

    def add_review(self, number: int, reviewer: str, state: ReviewState, body: str = "") -> Review:
        """Submit a review as the token's user (GitHub allows no other)."""
        pull = self._pull(number)
        me = self.identity()
        if me.casefold() != reviewer.casefold():
            raise ForgeError(f"this token reviews as {me}, not as {reviewer}")
        event = _REVIEW_EVENTS.get(state)
        if event is None:
            raise ForgeError(f"cannot submit a {state} review")
        review = self._call(
            f"review pull request #{number}",
            lambda: pull.create_review(body=body or None, event=event),
        )
        return Review(me, state, review.commit_id, _utc(review.submitted_at), body)

    def comment(self, number: int, body: str, marker: str | None = None) -> None:
        """A comment on the pull request; with `marker`, the earlier one holding it is edited."""
        pull = self._pull(number)
        text = f"{marker}\n{body}" if marker else body
        if marker:
            self.identity()
            existing = self._call(
                f"list the comments of pull request #{number}",
                lambda: [c for c in pull.get_issue_comments() if self._is_own_comment(c, marker)],
            )
            if existing:
                self._call(f"update the comment on #{number}", lambda: existing[0].edit(text))
                return
        self._call(f"comment on pull request #{number}", lambda: pull.create_issue_comment(text))

    def set_status(self, sha: str, context: str, state: StatusState, description: str) -> None:
        self._call(
            f"set the {context} status of {sha[:12]}",
            lambda: self._repo.get_commit(sha).create_status(
                state=state, description=description[:140], context=context
            ),
        )

    def merge(
        self,
        number: int,
        merged_by: str,
        message: str,
        expected_base: str | None = None,
        expected_head: str | None = None,
    ) -> str:
        """Merge with a merge commit; GitHub refuses (409) if the head moved from `expected_head`.
        A moved base is refused here; branch protection keeps it so between check and merge."""
        del merged_by  # GitHub records who merged: the token's user
        pull = self._pull(number)
        if expected_base is not None:
            base_now = self._call(f"read pull request #{number}", lambda: pull.base.sha)
            if base_now != expected_base:
                raise ForgeError(f"pull request #{number}: the base moved after it was judged")
        title, _, rest = message.partition("\n")
        kwargs: dict[str, Any] = {
            "commit_title": title,
            "commit_message": rest.strip(),
            "merge_method": "merge",
        }
        if expected_head is not None:
            kwargs["sha"] = expected_head
        status = self._call(f"merge pull request #{number}", lambda: pull.merge(**kwargs))
        if not status.merged:
            raise ForgeError(f"pull request #{number} was not merged: {status.message}")
        return str(status.sha)

    def teams(self) -> TeamResolver:
        return _GitHubTeams(self)

    def publish(self, root: Path, branch: str) -> None:
        """Push the branch to `origin`, where the pull request will name it; BranchTaken when
        origin has that branch already with other commits."""
        from steward.gitio.gitcmd import PushRejected, push_ref

        try:
            push_ref(root, "origin", f"refs/heads/{branch}")
        except PushRejected as exc:
            raise BranchTaken(f"origin already has a branch {branch}") from exc

    # --- GitHub only ----------------------------------------------------------------------

    def default_branch(self) -> str:
        return str(self._call("read the default branch", lambda: self._repo.default_branch))

    def request_reviewers(self, number: int, logins: list[str], teams: list[str]) -> None:
        """Ask the people (and teams, as slugs) who can still approve."""
        pull = self._pull(number)
        self._call(
            f"request reviewers on #{number}",
            lambda: pull.create_review_request(reviewers=logins, team_reviewers=teams),
        )

    def request(self, verb: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """A REST call PyGithub has no method for (branch protection, dispatches), retried too."""
        requester = self._github.requester

        def send() -> Any:
            _, data = requester.requestJsonAndCheck(verb, path, input=payload)
            return data

        return self._call(f"{verb} {path}", send)


class _GitHubTeams:
    """`@org/team` principals through the team-membership API: only `active` members count, and a
    token that may not read teams (the default Actions token cannot) fails closed, saying so."""

    def __init__(self, forge: GitHubForge) -> None:
        self.forge = forge
        self._members: dict[str, set[str]] = {}
        self._membership: dict[tuple[str, str], bool] = {}

    @staticmethod
    def _split(team: str) -> tuple[str, str]:
        org, _, slug = team.removeprefix("@").partition("/")
        return org, slug

    def is_active_member(self, team: str, login: str) -> bool:
        key = (team.casefold(), login.casefold())
        if key in self._membership:
            return self._membership[key]
        from github import GithubException

        org, slug = self._split(team)
        requester = self.forge._github.requester
        path = f"/orgs/{org}/teams/{slug}/memberships/{login}"

        def ask() -> bool:
            try:
                _, data = requester.requestJsonAndCheck("GET", path)
            except GithubException as exc:
                if exc.status != 404:
                    raise
                # Not a member, or no such team: a misspelt team must say so, not just count 0.
                requester.requestJsonAndCheck("GET", f"/orgs/{org}/teams/{slug}")
                return False
            return bool(data.get("state") == "active")

        try:
            answer = self.forge._call(f"read the membership of {login} in {team}", ask)
        except ForgeError as exc:
            raise ForgeError(
                f"{exc} — the token cannot read team membership (the default Actions token "
                "cannot: give the gate a GitHub App token with members:read)"
            ) from exc
        self._membership[key] = answer
        return answer

    def members(self, team: str) -> set[str]:
        if team in self._members:
            return self._members[team]
        org, slug = self._split(team)

        def read() -> set[str]:
            found = self.forge._github.get_organization(org).get_team_by_slug(slug)
            return {member.login for member in found.get_members()}

        self._members[team] = self.forge._call(f"list the members of {team}", read)
        return self._members[team]


def _describe(exc: Any) -> str:
    message = getattr(exc, "message", None)
    if not message and isinstance(exc.data, dict):
        message = exc.data.get("message")
    return f"HTTP {exc.status}: {message or exc.data}"


def repository_from_remote(url: str, server_url: str = "https://github.com") -> str | None:
    """owner/name when a git remote URL points at the GitHub server, else None."""
    host = re.sub(r"^https?://", "", server_url).rstrip("/")
    patterns = (
        rf"^https://(?:[^@/]+@)?{re.escape(host)}/([^/]+/[^/]+?)(?:\.git)?/?$",
        rf"^git@{re.escape(host)}:([^/]+/[^/]+?)(?:\.git)?$",
        rf"^ssh://git@{re.escape(host)}/([^/]+/[^/]+?)(?:\.git)?$",
    )
    for pattern in patterns:
        match = re.match(pattern, url)
        if match:
            return match.group(1)
    return None
