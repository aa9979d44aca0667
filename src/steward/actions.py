"""`steward gate` inside GitHub Actions: read the event the Actions way, judge, report.

With no arguments in a workflow (GITHUB_ACTIONS=true), the gate reads GITHUB_EVENT_NAME and the
payload at GITHUB_EVENT_PATH, judges the pull request (`pull_request`, `pull_request_review`) or
the merge queue's commit (`merge_group`), writes the Markdown verdict to GITHUB_STEP_SUMMARY and
to one sticky comment, asks the people who can still approve, and says whether to fail the job.
The head commit is fetched as data if the checkout (of the base) lacks it; nothing from the head
is ever run.
"""

from __future__ import annotations

import base64
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
from steward.gate import GateRun, run_gate
from steward.gate_report import render_markdown

SUPPORTED_EVENTS = ("pull_request", "pull_request_review", "merge_group")
_QUEUE_REF = re.compile(r"^refs/heads/gh-readonly-queue/.+/pr-(\d+)-[0-9a-f]{40}$")


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


def _pull_number(name: str, payload: dict[str, Any]) -> tuple[int, tuple[str, str] | None]:
    """The pull request to judge, and for a merge queue the (base, head) commits it built."""
    if name == "merge_group":
        group = payload.get("merge_group") or {}
        match = _QUEUE_REF.match(str(group.get("head_ref", "")))
        if match is None:
            raise StewardError(
                f"cannot tell the pull request of merge group {group.get('head_ref')}"
            )
        return int(match.group(1)), (str(group["base_sha"]), str(group["head_sha"]))
    pull = payload.get("pull_request") or {}
    number = pull.get("number")
    if not isinstance(number, int):
        raise StewardError("the event has no pull request number")
    return number, None


def ensure_commits(root: Path, shas: list[str], token: str | None) -> None:
    """Fetch commits the checkout lacks (the head of a pull request, a merge queue's commit).
    The token goes to git through the environment, never the command line."""
    missing = [sha for sha in shas if not _has_commit(root, sha)]
    if not missing:
        return
    env = dict(os.environ)
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(
            {
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "http.extraHeader",
                "GIT_CONFIG_VALUE_0": f"AUTHORIZATION: basic {basic}",
            }
        )
    result = subprocess.run(
        ["git", "-C", str(root), "fetch", "--quiet", "--no-tags", "origin", *missing],
        capture_output=True,
        env=env,
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
    number, judge_commits = _pull_number(name, payload)
    if forge is None:
        forge = GitHubForge(GitHubSettings.from_environment(env.get("GITHUB_REPOSITORY")))
    proposal = forge.get_proposal(number)
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
    for missing in run.verdict.missing_approvals:
        for candidate in missing.candidates:
            if candidate.startswith("@"):
                teams.add(candidate.rsplit("/", 1)[-1])
            elif candidate.casefold() != author.casefold():
                logins.add(candidate)
    if not logins and not teams:
        return
    try:
        forge.request_reviewers(number, sorted(logins), sorted(teams))
    except ForgeError as exc:
        result.warnings.append(f"could not request reviewers: {exc}")
