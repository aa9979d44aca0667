"""What the fake GitHub remembers: plain dataclasses, no HTTP and no JSON shapes.

Tests seed and inspect these through `FakeGitHub`; `shapes.py` renders them the way GitHub does.
Everything is deterministic (ids from counters, SHAs from a hash of a counter, timestamps from an
injectable clock) so that two runs of a test see the same bytes.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]
MembershipState = Literal["active", "pending"]
MembershipRole = Literal["member", "maintainer"]
StatusState = Literal["error", "failure", "pending", "success"]
FileStatus = Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


class TickingClock:
    """A clock that advances one second per reading: timestamps are distinct and ordered (GitHub
    sorts reviews and statuses by time) without a test ever waiting on the wall clock."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._next = start

    def __call__(self) -> datetime:
        current = self._next
        self._next = current + timedelta(seconds=1)
        return current


def fake_sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()


@dataclass
class User:
    login: str
    id: int
    type: Literal["User", "Bot", "Organization"] = "User"
    name: str | None = None
    email: str | None = None
    created_at: datetime = EPOCH


@dataclass
class Token:
    """A credential the server accepts, with what it may do. The default Actions token cannot
    read teams; `can_read_teams=False` reproduces its 403."""

    value: str
    login: str
    can_read_teams: bool = True
    is_installation: bool = False
    """An App installation token: GET /user answers 403 "Resource not accessible by integration"."""


@dataclass
class PullFile:
    filename: str
    status: FileStatus = "modified"
    additions: int = 1
    deletions: int = 0
    patch: str | None = None
    previous_filename: str | None = None
    sha: str | None = None


@dataclass
class Review:
    id: int
    user: str
    state: ReviewState
    commit_id: str | None
    body: str
    submitted_at: datetime | None
    dismissal_message: str | None = None


@dataclass
class PullCommit:
    """A commit of a pull request as GitHub lists it: its message, and the accounts GitHub
    maps its author and committer e-mail addresses to (None when it maps none)."""

    sha: str
    message: str
    author: str | None = None
    committer: str | None = None


@dataclass
class Pull:
    number: int
    id: int
    title: str
    body: str | None
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    created_at: datetime
    updated_at: datetime
    state: Literal["open", "closed"] = "open"
    draft: bool = False
    merged: bool = False
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    closed_at: datetime | None = None
    files: list[PullFile] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    """Team slugs, in the order they were requested."""
    commits: list[PullCommit] = field(default_factory=list)
    """Oldest first, as GET .../pulls/{n}/commits lists them."""


@dataclass
class Comment:
    id: int
    issue_number: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Status:
    id: int
    sha: str
    state: StatusState
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime
    updated_at: datetime


@dataclass
class Merge:
    """A merge the server performed, for tests to assert on."""

    number: int
    sha: str
    """The new commit on the base branch."""
    head_sha: str
    method: str
    commit_title: str | None
    commit_message: str | None
    merged_by: str


@dataclass
class Dispatch:
    """A `repository_dispatch` event the server received."""

    event_type: str
    client_payload: dict[str, Any]
    sender: str


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    private: bool
    created_at: datetime
    description: str | None = None
    branches: dict[str, str] = field(default_factory=dict)
    """Branch name -> head SHA."""
    commits: set[str] = field(default_factory=set)
    """Every SHA the repository has had: GitHub refuses a status for a commit it does not know."""
    protection: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Branch name -> the body of the PUT that protected it."""
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    dispatches: list[Dispatch] = field(default_factory=list)
    next_number: int = 1
    """Issues and pull requests share one sequence, as on GitHub."""
    merge_methods: dict[str, bool] = field(
        default_factory=lambda: {"merge": True, "squash": True, "rebase": True}
    )
    """Which `merge_method`s the repository allows (`allow_merge_commit`, ...); GitHub's default
    for a new repository is all three."""
    merge_commit_title: str = "MERGE_MESSAGE"
    git_dir: Path | None = None
    """A real (bare) git repository whose branches this one mirrors: a push there is a push to
    GitHub (see FakeGitHub.back_with_git)."""
    merge_commit_message: str = "PR_TITLE"
    """What a merge commit made in GitHub's interface says (PR_TITLE, PR_BODY or BLANK)."""

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Membership:
    state: MembershipState
    role: MembershipRole


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    description: str | None
    created_at: datetime
    memberships: dict[str, Membership] = field(default_factory=dict)
    """Login -> membership; `pending` means invited, not yet a member."""


@dataclass
class Org:
    login: str
    id: int
    created_at: datetime
    teams: dict[str, Team] = field(default_factory=dict)


class IdSequence:
    """Ids that differ across kinds (a review id is never a comment id by accident), so a test
    that mixes them up fails."""

    def __init__(self) -> None:
        self._counters: dict[str, Iterator[int]] = {}
        self._bases = {"user": 1000, "repo": 5000, "pull": 70000, "review": 80000}

    def next(self, kind: str) -> int:
        if kind not in self._counters:
            base = self._bases.get(kind, 100000 * (len(self._counters) + 1))
            self._counters[kind] = itertools.count(base + 1)
        return next(self._counters[kind])


@dataclass
class GitHubState:
    """Everything the server knows. Guarded by the server's lock; never shared between servers."""

    clock: Callable[[], datetime] = field(default_factory=TickingClock)
    ids: IdSequence = field(default_factory=IdSequence)
    users: dict[str, User] = field(default_factory=dict)
    orgs: dict[str, Org] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    """Keyed by lower-cased full name: GitHub's names are case-insensitive."""
    tokens: dict[str, Token] = field(default_factory=dict)
    sha_counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def new_sha(self) -> str:
        return fake_sha(f"commit-{next(self.sha_counter)}")

    def user(self, login: str, kind: Literal["User", "Bot", "Organization"] | None = None) -> User:
        """The user called `login`, created on first mention (tests name people, not ids); a
        `...[bot]` login is a Bot, as on GitHub."""
        existing = self.users.get(login.lower())
        if existing is not None:
            return existing
        if kind is None:
            kind = "Bot" if login.endswith("[bot]") else "User"
        created = User(login=login, id=self.ids.next("user"), type=kind, created_at=EPOCH)
        self.users[login.lower()] = created
        return created

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name.lower())

    def org(self, login: str) -> Org | None:
        return self.orgs.get(login.lower())
