"""`steward github setup`: the default branch's protection, as the gate needs it.

The gate is a required status check *from GitHub Actions* (so nobody can fake it with a commit
status of the same name), reviews are required from code owners, stale approvals are dismissed
on every push, the most recent push must be approved by someone else, and admins get no bypass.

The gate judges the tree that merging the head into the base produces: a merge commit lands
exactly that tree, and so does a squash. A rebase merge replays the head's commits one by one
onto the base, which can land another tree, so the repository is set to refuse rebase merges.
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


def _enabled(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    return bool(value.get("enabled")) if isinstance(value, dict) else bool(value)


def desired_protection(
    check: str, approvals: int, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The body of PUT /repos/{owner}/{repo}/branches/{branch}/protection: ours, merged into what
    the branch already has, so that setting up the gate never weakens another rule (other
    required checks stay, a higher approval count stays, linear history and conversation
    resolution stay on) — except bypass lists, which are emptied: nobody bypasses the gate."""
    current = current or {}
    status = current.get("required_status_checks") or {}
    checks = [
        {"context": c["context"], "app_id": c.get("app_id")}
        for c in status.get("checks") or []
        if c.get("context") != check
    ]
    reviews = current.get("required_pull_request_reviews") or {}
    body: dict[str, Any] = {
        "required_status_checks": {
            "strict": True,
            "checks": [*checks, {"context": check, "app_id": GITHUB_ACTIONS_APP_ID}],
        },
        "enforce_admins": True,
        "required_pull_request_reviews": {
            "dismiss_stale_reviews": True,
            "require_code_owner_reviews": True,
            "required_approving_review_count": max(
                approvals, int(reviews.get("required_approving_review_count") or 0)
            ),
            "require_last_push_approval": True,
            "bypass_pull_request_allowances": {"users": [], "teams": [], "apps": []},
        },
        "restrictions": None,
        "allow_force_pushes": False,
        "allow_deletions": False,
    }
    for key in ("required_linear_history", "required_conversation_resolution"):
        if _enabled(current, key):
            body[key] = True
    return body


def _current(data: dict[str, Any] | None) -> dict[str, object]:
    """The fields we set, read back from GET .../protection (whose shape differs from PUT's)."""
    data = data or {}
    checks = (data.get("required_status_checks") or {}).get("checks") or []
    reviews = data.get("required_pull_request_reviews") or {}
    bypass = reviews.get("bypass_pull_request_allowances") or {}
    return {
        "required status checks": sorted((c.get("context"), c.get("app_id")) for c in checks),
        "branch must be up to date": (data.get("required_status_checks") or {}).get("strict"),
        "no bypass for admins": (data.get("enforce_admins") or {}).get("enabled"),
        "reviews from code owners": reviews.get("require_code_owner_reviews"),
        "dismiss stale approvals": reviews.get("dismiss_stale_reviews"),
        "approval of the most recent push": reviews.get("require_last_push_approval"),
        "required approvals": reviews.get("required_approving_review_count"),
        "who may bypass reviews": sorted(
            str(entity.get("login") or entity.get("slug") or entity.get("name"))
            for kind in ("users", "teams", "apps")
            for entity in bypass.get(kind) or []
        ),
        "force pushes allowed": (data.get("allow_force_pushes") or {}).get("enabled"),
        "deletion allowed": (data.get("allow_deletions") or {}).get("enabled"),
    }


REBASE = "rebase merges allowed (the gate does not judge their tree)"
MERGE_OR_SQUASH = "merge commits or squash merges allowed"
MERGE_MESSAGE = "merge commit message (never the pull request's body, which its author writes)"


def merge_method_plan(repository: dict[str, Any]) -> list[Setting]:
    """The repository's merge methods: only those whose result is the tree the gate judged."""
    merge_or_squash = bool(repository.get("allow_merge_commit")) or bool(
        repository.get("allow_squash_merge")
    )
    message = repository.get("merge_commit_message")
    return [
        Setting(REBASE, repository.get("allow_rebase_merge"), False),
        Setting(MERGE_OR_SQUASH, merge_or_squash, True),
        # A body ending in Steward-* lines would read as a decision in the merge commit.
        Setting(
            MERGE_MESSAGE, message, message if message in ("PR_TITLE", "BLANK") else "PR_TITLE"
        ),
    ]


def merge_method_update(settings: list[Setting]) -> dict[str, Any]:
    """The body of PATCH /repos/{owner}/{repo} for `merge_method_plan`'s settings."""
    current = {setting.name: setting.current for setting in settings}
    body: dict[str, Any] = {"allow_rebase_merge": False}
    if not current.get(MERGE_OR_SQUASH):
        body["allow_merge_commit"] = True
    if current.get(MERGE_MESSAGE) not in ("PR_TITLE", "BLANK"):
        body |= {"merge_commit_title": "MERGE_MESSAGE", "merge_commit_message": "PR_TITLE"}
    return body


def plan(current: dict[str, Any] | None, check: str, approvals: int) -> list[Setting]:
    now = _current(current)
    desired = desired_protection(check, approvals, current)
    wanted: dict[str, object] = {
        "required status checks": sorted(
            (c["context"], c["app_id"]) for c in desired["required_status_checks"]["checks"]
        ),
        "branch must be up to date": True,
        "no bypass for admins": True,
        "reviews from code owners": True,
        "dismiss stale approvals": True,
        "approval of the most recent push": True,
        "required approvals": desired["required_pull_request_reviews"][
            "required_approving_review_count"
        ],
        "who may bypass reviews": [],
        "force pushes allowed": False,
        "deletion allowed": False,
    }
    return [Setting(name, now.get(name), value) for name, value in wanted.items()]


def setup_branch(
    forge: GitHubForge,
    branch: str | None,
    check: str,
    approvals: int = 1,
    dry_run: bool = False,
) -> tuple[str, list[Setting]]:
    """Read the branch's protection (the default branch unless named) and the repository's merge
    methods, and unless `dry_run`, set what differs. Returns the branch and the plan."""
    from github import GithubException

    branch = branch or forge.default_branch()
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
    methods = merge_method_plan(forge.request("GET", f"/repos/{repo}") or {})
    if not dry_run and any(s.changes for s in settings):
        forge.request("PUT", path, desired_protection(check, approvals, current))
    if not dry_run and any(s.changes for s in methods):
        forge.request("PATCH", f"/repos/{repo}", merge_method_update(methods))
    return branch, settings + methods
