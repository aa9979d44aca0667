"""`steward quickstart`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from steward.cli.settings import Settings
from steward.demo.quickstart import run_quickstart


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def quickstart(settings: Settings, directory: Path | None) -> int:
    """Run the whole story offline in DIRECTORY (new or empty; a temporary one by default).

    Initialise a registry, train a small model, register two versions, propose a promotion, see
    the gate fail for want of an approval, approve, merge, promote to production, ask `which`,
    pull the production version, build the catalog site (its index page is printed last).
    Each step shows the command a user would type for it.
    """
    target = settings.start / directory if directory is not None else None
    site_index = None
    for number, step in enumerate(run_quickstart(target), 1):
        site_index = step.opens or site_index
        click.secho(f"\n{number}. {step.title}", bold=True)
        if step.command:
            click.echo(f"   $ {step.command}")
        if step.detail:
            click.echo(textwrap.indent(step.detail, "   "))
    click.echo("\nDone: the registry, its history and its proposals are yours to explore.")
    if site_index is not None:
        click.echo(f"The catalog site: {site_index}")
    return 0
