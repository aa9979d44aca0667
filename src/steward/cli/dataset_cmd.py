"""`steward dataset add|list|show`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from steward.artifacts.environment import current_login
from steward.cli.lineage_cmd import render_impact
from steward.cli.options import AS_HELP
from steward.cli.settings import Settings
from steward.entries.models import DatasetEntry, dump_entry
from steward.entries.problems import printable
from steward.errors import EXIT_FAILURE, EXIT_OK, StewardError
from steward.forge.choose import open_forge
from steward.gate.change_proposal import propose_files
from steward.gitio.gitcmd import find_repo_root
from steward.gitio.tree import open_snapshot
from steward.governance.impact import Question
from steward.governance.impact import impact as impact_of
from steward.reading.contents import RegistryContents, read_contents
from steward.reading.datasets import (
    ColumnSpec,
    add_dataset,
    columns_from_file,
    dataset_file,
    merge_columns,
)
from steward.reading.uses import uses_index

_REV_HELP = "Read the registry at this git revision instead of the working tree."


@click.group()
def dataset() -> None:
    """Register, list and show datasets (the data model versions are trained on)."""


@dataset.command("add")
@click.argument("dataset_id", metavar="ID")
@click.option("--uri", required=True, help="Where the data lives (s3://..., a table name...).")
@click.option("--owner", required=True, metavar="LOGIN", help="Owner: a GitHub login or @org/team.")
@click.option(
    "--from",
    "from_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the columns and their types from this Parquet or CSV file (needs pyarrow).",
)
@click.option(
    "--column",
    "columns",
    multiple=True,
    metavar="NAME[:TYPE][:LABEL,...]",
    help="A column, its type and classifications (repeatable); with --from, adds or overrides, "
    "e.g. --column email::pii to classify a column the file already has.",
)
@click.option(
    "--classification",
    "classifications",
    multiple=True,
    metavar="LABEL",
    help="A classification of the whole dataset, such as internal (repeatable).",
)
@click.option("--description", help="What the data is.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option(
    "--pr",
    "pull_request",
    is_flag=True,
    help="Open a proposal (a pull request on GitHub) instead of committing: for registries "
    "whose policy lets only the dataset's owner or registrars change datasets directly.",
)
@click.option("--as", "login", metavar="LOGIN", help=AS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the entry written as JSON.")
@click.pass_obj
def add(
    settings: Settings,
    dataset_id: str,
    uri: str,
    owner: str,
    from_file: Path | None,
    columns: tuple[str, ...],
    classifications: tuple[str, ...],
    description: str | None,
    tags: tuple[str, ...],
    pull_request: bool,
    login: str | None,
    as_json: bool,
) -> int:
    """Register dataset ID: write registry/datasets/ID.yaml and commit it.

    With --from, the columns and their types come from the data file; add classifications with
    --column NAME::LABEL. Versions then cite it with `steward register ... --dataset ID`.
    """
    specs = [ColumnSpec.parse(text) for text in columns]
    found = columns_from_file(settings.start / from_file) if from_file is not None else []
    fields: dict[str, Any] = {
        "name": dataset_id,
        "owner": owner,
        "uri": uri,
        "classification": list(classifications),
        "columns": merge_columns(found, specs),
        "tags": list(tags),
    }
    if description is not None:
        fields["description"] = description
    root = find_repo_root(settings.start)
    if pull_request:
        entry, relative, content = dataset_file(root, fields)
        forge = open_forge(root, settings.github_token)
        opened, branch = propose_files(
            root, forge, login or current_login(), f"Add dataset {entry.name}", {relative: content}
        )
        if as_json:
            data = {**dump_entry(entry), "entry": relative, "proposal": opened.number}
            click.echo(json.dumps({**data, "branch": branch}, indent=2))
        else:
            click.echo(
                f"Opened proposal #{opened.number}: add dataset {dataset_id} (branch {branch})"
            )
        return EXIT_OK
    added = add_dataset(root, fields)
    if as_json:
        click.echo(
            json.dumps(
                {**dump_entry(added.entry), "entry": added.path, "commit": added.commit}, indent=2
            )
        )
    else:
        labelled = sum(1 for column in added.entry.columns if column.classification)
        click.echo(
            f"Added dataset {dataset_id} ({added.path}, {len(added.entry.columns)} columns, "
            f"{labelled} classified), committed {added.commit[:12]}"
        )
    return EXIT_OK


def _contents(settings: Settings, rev: str | None) -> RegistryContents:
    return read_contents(open_snapshot(find_repo_root(settings.start), rev))


def _summary(entry: DatasetEntry) -> dict[str, Any]:
    return {
        "id": entry.name,
        "owner": entry.owner,
        "uri": entry.uri,
        "classification": list(entry.classification),
        "columns": len(entry.columns),
        "tags": list(entry.tags),
    }


@dataset.command("list")
@click.option("--rev", metavar="REV", help=_REV_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def list_datasets(settings: Settings, rev: str | None, as_json: bool) -> int:
    """List the registered datasets."""
    contents = _contents(settings, rev)
    rows = [_summary(contents.datasets[name]) for name in sorted(contents.datasets)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo("no datasets registered (add one with `steward dataset add`)")
    else:
        for row in rows:
            labels = ",".join(row["classification"]) or "-"
            click.echo(
                f"{printable(row['id'])}  owner {printable(row['owner'])}  {labels}  "
                f"{row['columns']} columns  {printable(row['uri'])}"
            )
    return EXIT_OK if contents.complete else EXIT_FAILURE


@dataset.command("show")
@click.argument("dataset_id", metavar="ID")
@click.option("--rev", metavar="REV", help=_REV_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@click.pass_obj
def show(settings: Settings, dataset_id: str, rev: str | None, as_json: bool) -> int:
    """Show dataset ID: its entry, and the model versions that use it (production first)."""
    root = find_repo_root(settings.start)
    # The entry from the datasets alone; who uses it from the registry's (cached) uses index.
    contents = read_contents(open_snapshot(root, rev), datasets_only=True)
    entry = contents.datasets.get(dataset_id)
    if entry is None:
        known = ", ".join(sorted(contents.datasets)) or "none"
        raise StewardError(f"no dataset '{dataset_id}' (registered: {known})")
    index = uses_index(open_snapshot(root, rev))
    report = impact_of(index, Question(dataset_id))
    if as_json:
        click.echo(
            json.dumps({"dataset": dump_entry(entry), "used_by": report.as_dict()}, indent=2)
        )
        return EXIT_OK if report.complete else EXIT_FAILURE
    lines = [
        f"dataset {printable(entry.name)}  owner {printable(entry.owner)}",
        f"  uri: {printable(entry.uri)}",
        f"  classification: {', '.join(entry.classification) or '-'}",
    ]
    if entry.description:
        lines.append(f"  description: {printable(entry.description)}")
    lines.append(f"  columns ({len(entry.columns)}):")
    for column in entry.columns:
        labels = f"  [{', '.join(column.classification)}]" if column.classification else ""
        lines.append(f"    {printable(column.name)}: {printable(column.type or '?')}{labels}")
    click.echo("\n".join(lines))
    click.echo(render_impact(report))
    return EXIT_OK if report.complete else EXIT_FAILURE
