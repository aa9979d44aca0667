"""`steward apply`."""

from __future__ import annotations

import json

import click

from steward.aftermerge.apply import apply_range
from steward.cli.settings import Settings
from steward.entries.problems import printable
from steward.forge.choose import open_forge
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.option("--before", metavar="REV", help="The branch before the push [default: the start].")
@click.option("--after", metavar="REV", default="HEAD", show_default=True, help="After the push.")
@click.option("--push", is_flag=True, help="Push the tags and hook marks to origin.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def apply(settings: Settings, before: str | None, after: str, push: bool, as_json: bool) -> int:
    """Record what a push did (GTO tags with who proposed, approved and merged) and run the
    policy's deployment hooks; hooks that fail are retried next time. Exit 1 if any failed."""
    root = find_repo_root(settings.start)
    result = apply_range(root, before, after, open_forge(root, settings.github_token), push)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for tag in result.tagged:
            click.echo(f"tagged {tag}")
        for delivery in result.delivered:
            click.echo(f"delivered {delivery}")
        for failure in result.failed:
            click.echo(f"failed {printable(failure)}", err=True)
        if not (result.tagged or result.delivered or result.failed):
            click.echo("nothing to do")
    return 0 if result.ok else 1
