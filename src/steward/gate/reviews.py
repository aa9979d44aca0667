"""Which reviews of a proposal count, and for what.

Each reviewer's latest review wins (a comment neither gives nor takes back an approval). An
approval counts only on the proposal's current head commit, and never from its author, from the
people it was opened for, or from a bot. What it counts *for* is decided by the rules: an
approval that satisfied a role a rule needs is recorded with that role; any other is listed as
not counted, with why, so that no record overstates who signed off. A "changes requested" that
is still a reviewer's latest review blocks, as on GitHub, while the reviewer holds a role the
change needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from steward.forge.protocol import Review

NO_ROLE = "no role in what this change needs"


@dataclass(frozen=True)
class CountedApproval:
    """An approval that satisfied a rule: who, the role it counted for, and for what."""

    login: str
    role: str
    subject: str  # the transition ("fraud 0.2.0 development -> staging"), or "governance"


@dataclass(frozen=True)
class Standing:
    """The reviews as the rules see them."""

    approvers: frozenset[str] = frozenset()  # latest review APPROVED on the head, may review
    requested: frozenset[str] = frozenset()  # latest review CHANGES_REQUESTED, may review
    # login -> why their approval cannot count, whatever the rules need
    excluded: dict[str, str] = field(default_factory=dict)


def standing(
    reviews: Iterable[Review], head_sha: str, author: str | None, others: Iterable[str] = ()
) -> Standing:
    """Sort the latest review of each reviewer into approvals that may count, requests for
    changes that may block, and approvals that cannot count (with why)."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state == "COMMENTED":
            continue  # a comment neither gives nor takes back an approval
        latest[review.reviewer.casefold()] = review
    proposer = (author or "").casefold()
    opened_for = {login.casefold() for login in others if login}
    approvers: set[str] = set()
    requested: set[str] = set()
    excluded: dict[str, str] = {}
    for key, review in latest.items():
        why = None
        if key == proposer:
            why = "author"
        elif key in opened_for:
            why = "proposed it, or wrote a commit in it"
        elif key.endswith("[bot]"):
            why = "bot"
        if review.state == "CHANGES_REQUESTED" and why is None:
            requested.add(review.reviewer)
        if review.state != "APPROVED":
            continue
        if why is None and review.commit != head_sha:
            why = "approved an older commit"
        if why is None:
            approvers.add(review.reviewer)
        else:
            excluded[review.reviewer] = why
    return Standing(frozenset(approvers), frozenset(requested), excluded)


def not_counted(
    standing: Standing, counted: Iterable[CountedApproval]
) -> tuple[tuple[str, str], ...]:
    """(login, why) for every approval given that counted for no rule."""
    counted_logins = {approval.login.casefold() for approval in counted}
    found = dict(standing.excluded)
    for login in standing.approvers:
        if login.casefold() not in counted_logins:
            found[login] = NO_ROLE
    return tuple(sorted(found.items(), key=lambda item: item[0].casefold()))
