"""`steward proposals`, `steward proposal show`, `steward propose` and `steward close`: proposals
you can see and open for any change, on the local forge and on GitHub."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from steward.artifacts.environment import current_login
from steward.cli.options import AS_HELP
from steward.cli.settings import Settings
from steward.entries.models import format_timestamp
from steward.entries.problems import printable
from steward.errors import UsageError
from steward.forge.choose import open_forge
from steward.forge.protocol import Forge, Proposal, Review
from steward.gate.change_proposal import propose_branch, propose_edits
from steward.gate.judge import STATUS_CONTEXT, run_gate
from steward.gitio.gitcmd import find_repo_root

_STATES = ("open", "merged", "closed", "all")


def _summary(proposal: Proposal) -> dict[str, Any]:
    return {
        "number": proposal.number,
        "title": proposal.title,
        "author": proposal.author,
        "state": proposal.state,
        "base": proposal.base_branch,
        "head": proposal.head_branch,
        "head_sha": proposal.head_sha,
        "created_at": format_timestamp(proposal.created_at),
    }


@click.command()
@click.option(
    "--state", type=click.Choice(_STATES), default="open", show_default=True, help="Which ones."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def proposals(settings: Settings, state: str, as_json: bool) -> int:
    """List proposals (pull requests), newest first."""
    root = find_repo_root(settings.start)
    found = open_forge(root, settings.github_token).list_proposals(state)  # type: ignore[arg-type]
    if as_json:
        click.echo(json.dumps([_summary(p) for p in found], indent=2))
    elif not found:
        click.echo(f"no {'' if state == 'all' else state + ' '}proposals")
    for proposal in [] if as_json else found:
        click.echo(
            f"#{proposal.number}  {proposal.state:<6}  {printable(proposal.title)}  "
            f"(by {printable(proposal.author)}, {printable(proposal.head_branch)} -> "
            f"{printable(proposal.base_branch)})"
        )
    return 0


def _verdict(root: Path, forge: Forge, proposal: Proposal) -> dict[str, Any] | None:
    """An open proposal is judged now (what `steward gate N` and `merge` would say); a merged or
    closed one shows the last verdict recorded on its head, if any."""
    if proposal.state == "open":
        verdict = run_gate(root, "", "", forge=forge, proposal_number=proposal.number).verdict
        return {
            "state": "success" if verdict.passed else "failure",
            "description": "all rules met"
            if verdict.passed
            else "; ".join(f"{rule.rule}: {rule.reason}" for rule in verdict.failed_rules),
            "judged": "now",
        }
    for status in forge.get_statuses(proposal.head_sha):
        if status.context == STATUS_CONTEXT:
            return {"state": status.state, "description": status.description, "judged": "recorded"}
    return None


def _review(review: Review, head: str) -> dict[str, Any]:
    return {
        "reviewer": review.reviewer,
        "state": review.state,
        "commit": review.commit,
        "on_current_head": review.commit == head,
        "submitted_at": format_timestamp(review.submitted_at),
        "body": review.body,
    }


@click.group()
def proposal() -> None:
    """Look at one proposal: `steward proposal show N`."""


@proposal.command("show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_obj
def show(settings: Settings, number: int, as_json: bool) -> int:
    """Show proposal N: title, author, state, branches, its body (the metrics comparison and the
    model card for a promotion), the reviews, and the gate's latest verdict on its head."""
    root = find_repo_root(settings.start)
    forge = open_forge(root, settings.github_token)
    found = forge.get_proposal(number)
    reviews = [_review(r, found.head_sha) for r in forge.list_reviews(number)]
    verdict = _verdict(root, forge, found)
    if as_json:
        data = {**_summary(found), "body": found.body, "reviews": reviews, "gate": verdict}
        data["merge_commit"] = found.merge_commit
        click.echo(json.dumps(data, indent=2))
        return 0
    lines = [
        f"#{found.number}  {printable(found.title)}",
        f"  state: {found.state}   by {printable(found.author)}   "
        f"opened {format_timestamp(found.created_at)}",
        f"  {printable(found.head_branch)} ({found.head_sha[:12]}) -> "
        f"{printable(found.base_branch)} ({found.base_sha[:12]})",
    ]
    if found.merge_commit:
        lines.append(f"  merged as {found.merge_commit[:12]}")
    if verdict is None:
        lines.append("  gate: no verdict was recorded on its head")
    else:
        when = "judged now" if verdict["judged"] == "now" else "as recorded"
        passed = "passes" if verdict["state"] == "success" else "fails"
        lines.append(f"  gate ({when}): {passed}: {printable(verdict['description'])}")
    if reviews:
        lines.append("  reviews:")
        for item in reviews:
            stale = "" if item["on_current_head"] else "  (on an older head: does not count)"
            lines.append(
                f"    {printable(item['reviewer'])}: {item['state'].lower()}{stale}"
                + (f"  {printable(item['body'])}" if item["body"] else "")
            )
    else:
        lines.append("  reviews: none yet")
    lines.append("")
    lines += [printable(line) for line in found.body.splitlines()]
    click.echo("\n".join(lines))
    return 0


@click.command()
@click.argument("paths", nargs=-1)
@click.option("-m", "--message", "title", metavar="TITLE", help="The proposal's title.")
@click.option(
    "--branch",
    metavar="B",
    help="Propose this existing branch instead of the working tree's edits.",
)
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@click.pass_obj
def propose(
    settings: Settings,
    paths: tuple[str, ...],
    title: str | None,
    branch: str | None,
    login: str | None,
    as_json: bool,
) -> int:
    """Turn uncommitted edits (under PATHS, default all) into a proposal: a model card edit, a
    classification change, a policy change. The edits move to a new branch (the working tree goes
    back to HEAD for those files; the merge brings them back) and a proposal (a pull request on
    GitHub) is opened for it. With --branch, propose an existing branch instead.
    """
    if branch is not None and paths:
        raise UsageError("give PATHS or --branch, not both")
    root = find_repo_root(settings.start)
    forge = open_forge(root, settings.github_token)
    author = login or current_login()
    if branch is not None:
        made = propose_branch(root, forge, author, title, branch)
    else:
        relative = []
        for path in paths:  # as the user typed them: from where steward runs
            resolved = (settings.start / path).resolve()
            try:
                relative.append(resolved.relative_to(root.resolve()).as_posix())
            except ValueError:
                raise UsageError(f"{path} is outside the registry {root}") from None
        made = propose_edits(root, forge, author, title, tuple(relative))
    if as_json:
        data = {**_summary(made.proposal), "branch": made.branch, "paths": list(made.paths)}
        click.echo(json.dumps(data, indent=2))
    else:
        moved = f"; {len(made.paths)} file(s) moved to it" if made.paths else ""
        click.echo(
            f"Opened proposal #{made.proposal.number}: {printable(made.proposal.title)} "
            f"(branch {printable(made.branch)}{moved})"
        )
    return 0


@click.command()
@click.argument("number", type=int)
@click.pass_obj
def close(settings: Settings, number: int) -> int:
    """Close proposal N without merging it (its branch stays)."""
    root = find_repo_root(settings.start)
    closed = open_forge(root, settings.github_token).close_proposal(number)
    click.echo(f"Closed proposal #{closed.number}: {printable(closed.title)}")
    return 0
