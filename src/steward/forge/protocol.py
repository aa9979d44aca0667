"""The narrow interface between the registry and a forge, and the records it exchanges.

Everything the gate needs from a forge is here: who proposed, which commits, which reviews. A
forge implementation translates its own errors into `ForgeError` at this boundary, so the gate
can fail closed naming the evidence it could not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from steward.errors import StewardError

ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"]
ProposalState = Literal["open", "merged", "closed"]
StatusState = Literal["success", "failure", "pending", "error"]


class BranchTaken(StewardError):
    """Publishing a branch was refused because the forge already has that branch with other
    commits (another run named it first)."""


class ForgeError(StewardError):
    """The forge could not be read or written; the message says which evidence is missing."""


# The trailer Steward writes into every commit it makes for a proposal, naming the person it
# acts for: a pull request's body can be edited, its commits cannot without the gate seeing.
PROPOSER_TRAILER = "Steward-Proposed-By"


def proposer_trailer(login: str) -> str:
    """`Steward-Proposed-By: LOGIN`, the last paragraph of a commit message Steward writes."""
    return f"{PROPOSER_TRAILER}: {login}"


@dataclass(frozen=True)
class Proposal:
    """A proposed change (a pull request): merge `head_branch` into `base_branch`."""

    number: int
    title: str
    body: str
    author: str
    base_branch: str
    head_branch: str
    base_sha: str  # the tip of the base branch now
    head_sha: str  # the tip of the head branch now
    state: ProposalState
    created_at: datetime
    merge_commit: str | None = None
    # Who else may not approve it: the person a bot opened it for (from the body and from the
    # proposer trailers of its commits), whoever wrote or committed a commit in it, and the
    # forge identity that opened or judges it (a bot's approval of its own proposal is none).
    not_reviewers: tuple[str, ...] = ()
    # Why `not_reviewers` could not be read in full (the commits unreadable): approvals then
    # cannot be told apart, and the rules that need them fail closed with this reason.
    not_reviewers_error: str | None = None


@dataclass(frozen=True)
class Review:
    reviewer: str
    state: ReviewState
    commit: str  # the head commit the review was given on
    submitted_at: datetime
    body: str = ""


@dataclass(frozen=True)
class Status:
    sha: str
    context: str
    state: StatusState
    description: str


class TeamResolver(Protocol):
    """How a forge answers for `@org/team` principals. Either method raises when it cannot
    tell (no permission to read teams, say); the gate then fails closed and says so."""

    def members(self, team: str) -> set[str]: ...

    def is_active_member(self, team: str, login: str) -> bool: ...


class Forge(Protocol):
    """What the registry asks of a forge. Implementations raise ForgeError, nothing else."""

    def create_proposal(
        self, title: str, body: str, head_branch: str, base_branch: str, author: str
    ) -> Proposal: ...

    def get_proposal(self, number: int) -> Proposal: ...

    def list_proposals(self, state: ProposalState | Literal["all"] = "open") -> list[Proposal]:
        """Proposals in this state, newest first."""
        ...

    def close_proposal(self, number: int) -> Proposal:
        """Close an open proposal without merging it."""
        ...

    def get_statuses(self, sha: str) -> list[Status]:
        """The latest status of each context on the commit `sha`."""
        ...

    def list_reviews(self, number: int) -> list[Review]: ...

    def add_review(
        self, number: int, reviewer: str, state: ReviewState, body: str = ""
    ) -> Review: ...

    def comment(self, number: int, body: str, marker: str | None = None) -> None:
        """Add a comment; with `marker`, update the earlier comment holding it instead (a
        sticky comment, e.g. the gate's verdict)."""
        ...

    def publish(self, root: Path, branch: str) -> None:
        """Make a local branch visible to the forge before a proposal names it (a push for a
        hosted forge; nothing for the local one)."""
        ...

    def commit_identity(self) -> tuple[str, str] | None:
        """(name, email) for commits Steward makes as this forge's user (a bot's GitHub noreply
        address), or None when the forge has no such identity (git's own then applies)."""
        ...

    def teams(self) -> TeamResolver | None:
        """Who is in an `@org/team`, or None when this forge has no teams."""
        ...

    def set_status(self, sha: str, context: str, state: StatusState, description: str) -> None: ...

    def merge(
        self,
        number: int,
        merged_by: str,
        message: str,
        expected_base: str | None = None,
        expected_head: str | None = None,
    ) -> str:
        """Merge; with `expected_*`, only if the branches still point where the gate judged them
        (else ForgeError): a verdict is about one pair of commits."""
        ...
