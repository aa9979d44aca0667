"""`steward history`: every registration and stage change of a model, and who decided it.

The command asks `steward.aftermerge.history.model_history` and renders its events as a table or,
with `--json`, as a list of event objects; a model the branch never had is an error (exit 1).
"""

from __future__ import annotations

import json

import click

from steward.aftermerge.history import Event, History, model_history
from steward.cli.query_cmd import table
from steward.cli.settings import Settings
from steward.gitio.gitcmd import find_repo_root

HEADERS = ("WHEN", "COMMIT", "VERSION", "EVENT", "PROPOSAL", "BY", "APPROVED")
SHORT_COMMIT = 12


@click.command()
@click.argument("model")
@click.option(
    "--rev",
    default="HEAD",
    show_default=True,
    metavar="REV",
    help="Whose first-parent history to read (a branch, tag or commit).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the events.")
@click.pass_obj
def history(settings: Settings, model: str, rev: str, as_json: bool) -> int:
    """Show every registration and stage change of MODEL on the current branch, newest first.

    For each: when, the commit that landed it (a merged proposal's merge commit), the version,
    the event, the proposal, who proposed it and who approved it. Who decided comes from the
    merge commit's Steward-* trailers, or from the record `steward apply` left in a tag where
    there is one. Exits 1 if no commit of the branch ever touched the model.
    """
    found = model_history(find_repo_root(settings.start), model, rev)
    click.echo(json.dumps(found.as_dicts(), indent=2) if as_json else render_history(found))
    return 0


def render_history(found: History) -> str:
    """The events as an aligned table, or a sentence when the model has none yet."""
    if not found.events:
        return f"{found.model}: no version registered yet"
    return "\n".join(table(HEADERS, [_row(event) for event in found.events]))


def _row(event: Event) -> list[str]:
    return [
        event.at,
        event.commit[:SHORT_COMMIT],
        event.version,
        event.summary,
        "-" if event.proposal is None else f"#{event.proposal}",
        event.by or "-",
        ", ".join(event.approvals_shown) or "-",
    ]
