"""`steward gc`: retention (propose retirements and archivals), then sweep the DVC remote."""

from __future__ import annotations

import json

import click

from steward.artifacts.environment import current_login
from steward.artifacts.retention import run_gc
from steward.cli.options import AS_HELP
from steward.cli.settings import Settings
from steward.forge.choose import open_forge
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing.")
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the plan and the sweep as JSON.")
@click.pass_obj
def gc(settings: Settings, dry_run: bool, login: str | None, as_json: bool) -> int:
    """Apply the policy's retention rules, in two steps.

    1. Propose, in one branch and one proposal, what the policy retires (all but the last
    `keep_archived` archived versions of each model) and archives (development versions older
    than `archive_after_days`). Staging and production are never touched.

    2. For versions already retired on the current commit (the proposal merged), remove from the
    DVC remote the objects no remaining version uses. Entries stay forever as tombstones.

    Exits 1 if the policy does not allow the stage changes it asks for.
    """
    root = find_repo_root(settings.start)
    report = run_gc(
        root,
        lambda: open_forge(root, settings.github_token),
        login or current_login(),
        dry_run=dry_run,
    )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    return 0 if report.ok else 1
