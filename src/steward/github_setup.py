"""`steward github setup`: the default branch's protection, as the gate needs it.

The gate is a required status check *from GitHub Actions* (so nobody can fake it with a commit
status of the same name), reviews are required from code owners, stale approvals are dismissed
on every push, the most recent push must be approved by someone else, and admins get no bypass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.forge.github import GitHubForge
from steward.forge.protocol import ForgeError

GITHUB_ACTIONS_APP_ID = 15368  # the "GitHub Actions" app: checks from workflows come from it


@dataclass(frozen=True)
class Setting:
    name: str
    current: object
    wanted: object

    @property
    def changes(self) -> bool:
        return self.current != self.wanted


def desired_protection(check: str, approvals: int) -> dict[str, Any]:
    """The body of PUT /repos/{owner}/{repo}/branches/{branch}/protection."""
    return {
        "required_status_checks": {
            "strict": True,
            "checks": [{"context": check, "app_id": GITHUB_ACTIONS_APP_ID}],
        },
        "enforce_admins": True,
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True,
            "required_approving_review_count": approvals,
            "require_last_push_approval": True,
        },
        "restrictions": None,
        "allow_force_pushes": False,
        "allow_deletions": False,
    }


def _current(data: dict[str, Any] | None) -> dict[str, object]:
    """The fields we set, read back from GET .../protection (whose shape differs from PUT's)."""
    data = data or {}
    checks = (data.get("required_status_checks") or {}).get("checks") or []
    reviews = data.get("required_pull_request_reviews") or {}
    return {
        "required status check": sorted((c.get("context"), c.get("app_id")) for c in checks),
        "branch must be up to date": (data.get("required_status_checks") or {}).get("strict"),
        "no bypass for admins": (data.get("enforce_admins") or {}).get("enabled"),
        "reviews from code owners": reviews.get("require_code_owner_reviews"),
        "dismiss stale approvals": reviews.get("dismiss_stale_reviews"),
        "approval of the most recent push": reviews.get("require_last_push_approval"),
        "required approvals": reviews.get("required_approving_review_count"),
        "force pushes allowed": (data.get("allow_force_pushes") or {}).get("enabled"),
        "deletion allowed": (data.get("allow_deletions") or {}).get("enabled"),
    }


def plan(current: dict[str, Any] | None, check: str, approvals: int) -> list[Setting]:
    now = _current(current)
    wanted: dict[str, object] = {
        "required status check": [(check, GITHUB_ACTIONS_APP_ID)],
        "branch must be up to date": True,
        "no bypass for admins": True,
        "reviews from code owners": True,
        "dismiss stale approvals": True,
        "approval of the most recent push": True,
        "required approvals": approvals,
        "force pushes allowed": False,
        "deletion allowed": False,
    }
    return [Setting(name, now.get(name), value) for name, value in wanted.items()]


def setup_branch(
    forge: GitHubForge, branch: str, check: str, approvals: int = 1, dry_run: bool = False
) -> list[Setting]:
    """Read the branch's protection, and unless `dry_run`, set what differs. Returns the plan."""
    from github import GithubException

    repo = forge.settings.repository
    path = f"/repos/{repo}/branches/{branch}/protection"
    try:
        current = forge.request("GET", path)
    except ForgeError as exc:
        cause = exc.__cause__
        if not (isinstance(cause, GithubException) and cause.status == 404):
            raise
        current = None  # not protected yet
    settings = plan(current, check, approvals)
    if not dry_run and any(s.changes for s in settings):
        forge.request("PUT", path, desired_protection(check, approvals))
    return settings
