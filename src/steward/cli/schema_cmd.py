"""`steward schema`."""

from __future__ import annotations

import click

from steward.cli.settings import Settings
from steward.entries.jsonschemas import SCHEMA_MODELS, shipped_schema_text
from steward.gitio.gitcmd import find_repo_root
from steward.reading.scaffold import write_schema_copies


@click.command()
@click.argument("kind", required=False, type=click.Choice(sorted(SCHEMA_MODELS)))
@click.option(
    "--write",
    is_flag=True,
    help="Write every schema into the registry's .steward/schemas/ (for editors) instead.",
)
@click.pass_obj
def schema(settings: Settings, kind: str | None, write: bool) -> int:
    """Print the JSON Schema of an entry KIND (model, version, dataset, policy, team)."""
    if write:
        for path in write_schema_copies(find_repo_root(settings.start)):
            click.echo(f"wrote {path}")
        return 0
    if kind is None:
        raise click.UsageError("give a KIND, or --write to write all schemas")
    click.echo(shipped_schema_text(kind), nl=False)
    return 0
