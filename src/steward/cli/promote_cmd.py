"""`steward promote`, `steward review`, `steward gate` and `steward merge`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from steward.artifacts.environment import current_login
from steward.cli.options import AS_HELP, split_version
from steward.cli.settings import Settings
from steward.entries.models import STAGES
from steward.entries.problems import printable
from steward.errors import UsageError
from steward.forge.choose import open_forge
from steward.gate.actions import gate_in_actions, in_actions
from steward.gate.judge import run_gate
from steward.gate.promotion import (
    merge_proposal,
    propose_promotion,
    review_effect,
    review_proposal,
)
from steward.gate.report import render_markdown, render_text
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.argument("model", metavar="MODEL@VERSION")
@click.argument("version", required=False, metavar="")
@click.option("--to", "to_stage", required=True, type=click.Choice(STAGES), help="Target stage.")
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@click.pass_obj
def promote(
    settings: Settings,
    model: str,
    version: str | None,
    to_stage: str,
    login: str | None,
    as_json: bool,
) -> int:
    """Propose moving MODEL@VERSION to a stage: a branch with a one-line change, and a proposal
    (`MODEL VERSION`, the older spelling, still works).

    When the target stage is single, the current holder is archived in the same change. Nothing
    in the work tree changes; `steward merge` lands it once the gate passes.
    """
    model, version = split_version(model, version, "promote")
    if version is None:
        raise UsageError("promote: name the version as MODEL@VERSION")
    root = find_repo_root(settings.start)
    result = propose_promotion(
        root,
        open_forge(root, settings.github_token),
        model,
        version,
        to_stage,
        login or current_login(),
    )
    if as_json:
        data = {
            "proposal": result.proposal.number,
            "title": result.proposal.title,
            "branch": result.branch,
            "commit": result.commit,
            "archived": list(result.archived),
        }
        click.echo(json.dumps(data, indent=2))
    else:
        archived = f"; archives {', '.join(result.archived)}" if result.archived else ""
        click.echo(
            f"Opened proposal #{result.proposal.number}: {result.proposal.title} "
            f"(branch {result.branch}{archived})"
        )
    return 0


@click.command()
@click.argument("proposal", type=int)
@click.option("--approve", "decision", flag_value="APPROVED", help="Approve the proposal.")
@click.option(
    "--request-changes", "decision", flag_value="CHANGES_REQUESTED", help="Ask for changes."
)
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("-m", "--message", default="", help="The review's text.")
@click.pass_obj
def review(
    settings: Settings, proposal: int, decision: str | None, login: str | None, message: str
) -> int:
    """Review PROPOSAL: approve it or request changes, on its current head commit."""
    if decision is None:
        raise UsageError("give --approve or --request-changes")
    root = find_repo_root(settings.start)
    reviewer = login or current_login()
    forge = open_forge(root, settings.github_token)
    review_proposal(forge, proposal, reviewer, decision, message)  # type: ignore[arg-type]
    verb = "approved" if decision == "APPROVED" else "requested changes on"
    click.echo(
        f"{reviewer} {verb} proposal #{proposal}: {review_effect(root, forge, proposal, reviewer)}"
    )
    return 0


@click.command()
@click.argument("number", type=int, required=False)
@click.option(
    "--proposal", type=int, hidden=True, help="Deprecated spelling of the NUMBER argument."
)
@click.option("--base", metavar="REV", help="Without --proposal: the base revision.")
@click.option("--head", metavar="REV", help="Without --proposal: the head revision.")
@click.option("--author", metavar="LOGIN", help="Without --proposal: who proposes the change.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option(
    "--markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the verdict as Markdown (for a pull request comment) to this file.",
)
@click.pass_obj
def gate(
    settings: Settings,
    number: int | None,
    proposal: int | None,
    base: str | None,
    head: str | None,
    author: str | None,
    as_json: bool,
    markdown: Path | None,
) -> int:
    """Judge proposal NUMBER (or --base/--head) by the base branch's policy; exit 0 if it may
    merge, 1 if not.

    With no arguments inside GitHub Actions it judges the event's pull request (pull_request,
    pull_request_review, merge_group), writes the step summary and a sticky comment."""
    if proposal is not None:
        click.echo(
            "note: `--proposal N` is deprecated; name the proposal as in every other command: "
            f"`steward gate {proposal}`",
            err=True,
        )
        if number is not None and number != proposal:
            raise UsageError(f"two proposals named: {number} and --proposal {proposal}")
    proposal = number if number is not None else proposal
    root = find_repo_root(settings.start)
    if proposal is None and not (base or head or author) and in_actions():
        actions = gate_in_actions(root)
        for warning in actions.warnings:
            click.echo(f"warning: {printable(warning)}", err=True)
        run, proposal = actions.run, actions.number
    elif proposal is not None:
        if base or head or author:
            raise UsageError("give a proposal NUMBER, or --base and --head, not both")
        forge = open_forge(root, settings.github_token)
        run = run_gate(root, "", "", forge=forge, proposal_number=proposal)
    else:
        if not (base and head):
            raise UsageError(
                "give a proposal NUMBER, or --base REV and --head REV (no arguments: inside "
                "Actions)"
            )
        run = run_gate(root, base, head, author=author)
    verdict = run.verdict
    if markdown is not None:
        try:
            target = settings.start / markdown
            target.write_text(render_markdown(verdict, proposal), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {markdown}: {exc.strerror or exc}") from None
    click.echo(
        json.dumps(verdict.as_dict(), indent=2) if as_json else render_text(verdict, proposal)
    )
    return 0 if verdict.passed else 1


@click.command()
@click.argument("proposal", type=int)
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.pass_obj
def merge(settings: Settings, proposal: int, login: str | None) -> int:
    """Merge PROPOSAL if the gate passes on its current head; merging is the promotion."""
    root = find_repo_root(settings.start)
    merged = merge_proposal(
        root, open_forge(root, settings.github_token), proposal, login or current_login()
    )
    click.echo(render_text(merged.run.verdict, proposal))
    click.echo(f"Merged proposal #{proposal} as {merged.commit[:12]}")
    if merged.applied is not None:
        for tag in merged.applied.tagged:
            click.echo(f"recorded {tag}")
        for delivery in merged.applied.delivered:
            click.echo(f"delivered {delivery}")
        for failure in merged.applied.failed:
            click.echo(f"hook failed (retried by the next `steward apply`): {failure}", err=True)
    return 0
