"""`steward create`."""

from __future__ import annotations

import click

from steward.cli.options import parse_pairs
from steward.cli.settings import Settings
from steward.entries.models import CARD_SECTIONS, RISK_CLASSES
from steward.errors import UsageError
from steward.gitio.gitcmd import find_repo_root
from steward.reading.create import create_model


@click.command()
@click.argument("model")
@click.option("--owner", required=True, metavar="LOGIN", help="Owner: a GitHub login or @org/team.")
@click.option("--team", required=True, help="The team the model belongs to.")
@click.option(
    "--risk",
    type=click.Choice(RISK_CLASSES),
    default="limited",
    show_default=True,
    help="Risk class (EU AI Act tiers); it decides which approvals promotions need.",
)
@click.option("--description", help="One or two sentences on what the model does.")
@click.option("--data-steward", metavar="LOGIN", help="Who answers for the training data.")
@click.option(
    "--classification",
    "classifications",
    multiple=True,
    metavar="LABEL",
    help="A classification the model's data gives it, such as pii (repeatable); it must cover "
    "what its versions inherit from their datasets.",
)
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option(
    "--card",
    "card",
    multiple=True,
    metavar="SECTION=TEXT",
    help=f"A model card section (repeatable): {', '.join(CARD_SECTIONS)}.",
)
@click.pass_obj
def create(
    settings: Settings,
    model: str,
    owner: str,
    team: str,
    risk: str,
    description: str | None,
    data_steward: str | None,
    classifications: tuple[str, ...],
    tags: tuple[str, ...],
    card: tuple[str, ...],
) -> int:
    """Create MODEL: write registry/models/MODEL/model.yaml and commit it."""
    sections = parse_pairs(card, "card section")
    unknown = sorted(set(sections) - set(CARD_SECTIONS))
    if unknown:
        raise UsageError(f"unknown card section {unknown[0]}; known: {', '.join(CARD_SECTIONS)}")
    fields: dict[str, object] = {
        "name": model,
        "owner": owner,
        "team": team,
        "risk": risk,
        "classification": list(classifications),
        "tags": list(tags),
        "card": sections,
    }
    if description is not None:
        fields["description"] = description
    if data_steward is not None:
        fields["data_steward"] = data_steward
    created = create_model(find_repo_root(settings.start), fields)
    click.echo(f"Created model {model} ({created.path}), committed {created.commit[:12]}")
    return 0
