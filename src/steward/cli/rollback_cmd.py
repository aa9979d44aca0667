"""`steward rollback` and `steward monitor`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from steward.artifacts.environment import current_login
from steward.cli.options import AS_HELP, read_metrics_file
from steward.cli.settings import Settings
from steward.entries.models import STAGES
from steward.errors import EXIT_USAGE
from steward.forge.choose import open_forge
from steward.gate.monitor import record_metrics
from steward.gate.rollback import propose_rollback
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.argument("model")
@click.option("--to", "to_version", metavar="VERSION", help="[default: the previous holder]")
@click.option(
    "--stage", type=click.Choice(STAGES), default="production", show_default=True, help="Stage."
)
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("-m", "--message", default="", help="Why (goes into the proposal).")
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@click.pass_obj
def rollback(
    settings: Settings,
    model: str,
    to_version: str | None,
    stage: str,
    login: str | None,
    message: str,
    as_json: bool,
) -> int:
    """Propose giving STAGE back to the version that held it before (or --to VERSION); the
    current holder is archived. The gate applies the policy's rollback rule."""
    root = find_repo_root(settings.start)
    forge = open_forge(root, settings.github_token)
    result = propose_rollback(
        root, forge, model, login or current_login(), to_version, stage, message
    )
    if as_json:
        click.echo(json.dumps({"proposal": result.proposal.number, "branch": result.branch}))
    else:
        click.echo(f"Opened proposal #{result.proposal.number}: {result.proposal.title}")
    return 0


@click.command()
@click.argument("model")
@click.option(
    "--metrics",
    "metrics_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON object of production metrics.",
)
@click.option(
    "--stage", type=click.Choice(STAGES), default="production", show_default=True, help="Stage."
)
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def monitor(
    settings: Settings, model: str, metrics_file: Path, stage: str, login: str | None, as_json: bool
) -> int:
    """Record production metrics of the version holding STAGE and judge them by the policy's
    monitoring thresholds. Exit 2 on a breach (after opening a rollback or recording an alert,
    as the policy says)."""
    root = find_repo_root(settings.start)
    metrics = read_metrics_file(metrics_file)
    forge = open_forge(root, settings.github_token)
    result = record_metrics(root, forge, model, metrics, login or current_login(), stage)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        where = (
            f"proposal #{result.proposal}" if result.proposal else f"commit {result.commit[:12]}"
        )
        click.echo(f"Recorded production metrics of {result.model} {result.version} ({where})")
        for breach in result.breaches:
            click.echo(f"breach: {breach}")
        if result.rollback is not None:
            click.echo(f"Opened rollback proposal #{result.rollback.proposal.number}")
    return EXIT_USAGE if result.breaches else 0
