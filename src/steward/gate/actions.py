"""`steward gate` inside GitHub Actions: read the event the Actions way, judge, report.

With no arguments in a workflow (GITHUB_ACTIONS=true), the gate reads GITHUB_EVENT_NAME and the
payload at GITHUB_EVENT_PATH, judges the pull request (`pull_request`, `pull_request_review`) or
the merge queue's commit (`merge_group`), writes the Markdown verdict to GITHUB_STEP_SUMMARY and
to one sticky comment, asks the people who can still approve, and says whether to fail the job.
The head commit is fetched as data if the checkout (of the base) lacks it; nothing from the head
is ever run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.errors import StewardError, UsageError
from steward.forge.github import GATE_MARKER, GitHubForge, GitHubSettings
from steward.forge.protocol import ForgeError
from steward.gate.judge import GateRun, run_gate
from steward.gate.report import render_markdown
from steward.gitio.gitcmd import token_env

SUPPORTED_EVENTS = ("pull_request", "pull_request_review", "merge_group")
_QUEUE_REF = re.compile(r"^refs/heads/gh-readonly-queue/.+/pr-(\d+)-([0-9a-f]{40})$")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass
class ActionsGate:
    run: GateRun
    number: int
    markdown: str
    warnings: list[str] = field(default_factory=list)


def in_actions(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("GITHUB_ACTIONS") == "true" and bool(env.get("GITHUB_EVENT_PATH"))


def _event(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    name = env.get("GITHUB_EVENT_NAME", "")
    if name not in SUPPORTED_EVENTS:
        raise UsageError(
            f"steward gate runs on {', '.join(SUPPORTED_EVENTS)} events, not {name or 'none'}"
        )
    try:
        payload = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError) as exc:
        raise StewardError(f"cannot read the event payload (GITHUB_EVENT_PATH): {exc}") from exc
    if not isinstance(payload, dict):
        raise StewardError("the event payload is not a JSON object")
    return name, payload


@dataclass(frozen=True)
class _Target:
    number: int
    event_head: str  # the pull request's head the event is about
    judge_commits: tuple[str, str] | None  # a merge queue's (base, merge commit)


def _sha(value: object, what: str) -> str:
    if not isinstance(value, str) or not _SHA.fullmatch(value):
        raise StewardError(f"the event's {what} is not a commit id: {value!r}")
    return value


def _target(name: str, payload: dict[str, Any]) -> _Target:
    """The pull request to judge, the head the event is about, and a merge queue's commits."""
    if name == "merge_group":
        found = payload.get("merge_group")
        group: dict[str, Any] = found if isinstance(found, dict) else {}
        match = _QUEUE_REF.match(str(group.get("head_ref", "")))
        if match is None:
            ref = group.get("head_ref")
            raise StewardError(f"cannot tell the pull request of merge group {ref!r}")
        commits = (_sha(group.get("base_sha"), "base_sha"), _sha(group.get("head_sha"), "head_sha"))
        return _Target(int(match.group(1)), match.group(2), commits)
    found = payload.get("pull_request")
    pull: dict[str, Any] = found if isinstance(found, dict) else {}
    number = pull.get("number")
    if not isinstance(number, int):
        raise StewardError("the event has no pull request number")
    head = pull.get("head")
    head_sha = head.get("sha") if isinstance(head, dict) else None
    return _Target(number, _sha(head_sha, "pull_request.head.sha"), None)


def _protected_branches(env: Mapping[str, str], forge: GitHubForge) -> set[str]:
    configured = env.get("STEWARD_PROTECTED_BRANCHES", "")
    names = {name.strip() for name in configured.split(",") if name.strip()}
    return names or {forge.default_branch()}


def ensure_commits(root: Path, shas: list[str], token: str | None) -> None:
    """Fetch commits the checkout lacks (the head of a pull request, a merge queue's commit).
    The token goes to git through the environment, never the command line."""
    for sha in shas:
        if not _SHA.fullmatch(sha):
            raise StewardError(f"not a commit id: {sha!r}")
    missing = [sha for sha in shas if not _has_commit(root, sha)]
    if not missing:
        return
    result = subprocess.run(
        ["git", "-C", str(root), "fetch", "--quiet", "--no-tags", "origin", *missing],
        capture_output=True,
        env=token_env(token),
        check=False,
    )
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise StewardError(f"could not fetch {', '.join(m[:12] for m in missing)}: {message}")


def _has_commit(root: Path, sha: str) -> bool:
    result = subprocess.run(
        ["git", "-C", str(root), "cat-file", "-e", f"{sha}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def gate_in_actions(
    root: Path, env: Mapping[str, str] | None = None, forge: GitHubForge | None = None
) -> ActionsGate:
    env = os.environ if env is None else env
    name, payload = _event(env)
    target = _target(name, payload)
    number, judge_commits = target.number, target.judge_commits
    if forge is None:
        forge = GitHubForge(GitHubSettings.from_environment(env.get("GITHUB_REPOSITORY")))
    proposal = forge.get_proposal(number)
    # A pass is only worth something for the branch whose policy judged it: a pull request into
    # another branch (with a looser policy) must not carry its check over when retargeted.
    protected = _protected_branches(env, forge)
    if proposal.base_branch not in protected:
        raise StewardError(
            f"pull request #{number} targets {proposal.base_branch!r}; the gate judges changes "
            f"to {', '.join(sorted(protected))} only (STEWARD_PROTECTED_BRANCHES)"
        )
    if proposal.state != "open":
        raise StewardError(f"pull request #{number} is {proposal.state}: nothing to judge")
    if proposal.head_sha != target.event_head:
        raise StewardError(
            f"pull request #{number} has moved on from {target.event_head[:12]} to "
            f"{proposal.head_sha[:12]}: the run for the newer head judges it"
        )
    wanted = [proposal.base_sha, proposal.head_sha, *(judge_commits or ())]
    ensure_commits(root, wanted, forge.settings.token)
    run = run_gate(root, "", "", forge=forge, proposal_number=number, judge_commits=judge_commits)
    markdown = render_markdown(run.verdict, number)
    result = ActionsGate(run, number, markdown)
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        with Path(summary).open("a", encoding="utf-8") as stream:
            stream.write(markdown)
    try:
        forge.comment(number, markdown, marker=GATE_MARKER)
    except ForgeError as exc:  # the verdict stands; the comment is a courtesy
        result.warnings.append(f"could not write the gate comment: {exc}")
    if name == "pull_request" and run.verdict.missing_approvals:
        _request_reviewers(forge, run, number, proposal.author, result)
    return result


def _request_reviewers(
    forge: GitHubForge, run: GateRun, number: int, author: str, result: ActionsGate
) -> None:
    logins: set[str] = set()
    teams: set[str] = set()
    owner = forge.settings.repository.split("/")[0].casefold()
    for missing in run.verdict.missing_approvals:
        for candidate in missing.candidates:
            if candidate.startswith("@"):
                org, _, slug = candidate[1:].partition("/")
                if org.casefold() == owner:  # GitHub asks only teams of the repository's org
                    teams.add(slug)
            elif candidate.casefold() != author.casefold():
                logins.add(candidate)
    if not logins and not teams:
        return
    try:
        forge.request_reviewers(number, sorted(logins), sorted(teams))
    except ForgeError as exc:
        result.warnings.append(f"could not request reviewers: {exc}")
