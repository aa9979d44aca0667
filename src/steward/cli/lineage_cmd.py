"""`steward lineage`, `steward impact` and `steward export`: governance views of the whole registry.

Each reads the registry once (`contents.read_contents`, the working tree or `--rev`), asks one
core function and renders its answer. Files that could not be read are listed on stderr and make
the exit code non-zero, so a partial answer never passes for a whole one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from steward.cli.federation_cmd import federation_option, report_gaps
from steward.cli.federation_cmd import load as load_federation
from steward.cli.governance_cmd import emit, output_option
from steward.cli.options import parse_target
from steward.cli.settings import Settings
from steward.entries.problems import Problem, printable
from steward.errors import EXIT_FAILURE, EXIT_OK, UsageError
from steward.gitio.gitcmd import find_repo_root

# The entry models and the governance cores are imported by the command that runs: a warm
# federated `impact` answers from small cached indexes and must not pay for them.
if TYPE_CHECKING:
    from steward.federation.impact import Affected as FederatedAffected
    from steward.federation.impact import FederatedImpact
    from steward.governance.impact import Affected, ImpactReport
    from steward.governance.lineage import LineageGraph
    from steward.reading.contents import RegistryContents

_REV_HELP = "Read the registry at this git revision instead of the working tree."


def _read(
    settings: Settings, rev: str | None, with_policy: bool = False, model: str | None = None
) -> tuple[Path, RegistryContents]:
    """The registry's entries (with `model`, only that model's and every dataset's)."""
    from steward.gitio.tree import open_snapshot
    from steward.reading.contents import read_contents

    root = find_repo_root(settings.start)
    snapshot = open_snapshot(root, rev)
    # A misplaced file in the model's directory may be a version the graph lacks: reported.
    return root, read_contents(
        snapshot, model=model, with_policy=with_policy, misplaced_in_model=model is not None
    )


def _report_problems(problems: list[Problem], what: str) -> None:
    if problems:
        click.echo(f"{len(problems)} file(s) could not be read; {what}:", err=True)
        for problem in problems:
            click.echo(f"  {problem.render()}", err=True)


@click.command("lineage")
@click.argument("target", metavar="MODEL[@VERSION]")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "mermaid", "dot", "json"]),
    default="text",
    show_default=True,
    help="text for reading, mermaid or dot (Graphviz) for a picture, json for tools.",
)
@click.option("--rev", metavar="REV", help=_REV_HELP)
@federation_option
@click.pass_obj
def lineage_command(
    settings: Settings,
    target: str,
    output_format: str,
    rev: str | None,
    federation_file: Path | None,
) -> int:
    """Show the lineage of a model: datasets -> versions -> downstream consumers.

    Without @VERSION every version is shown; retired ones are marked (their artifacts may be
    gone) and serve no one. Edges from datasets carry the columns used; production versions
    serve the consumers, staging and development ones are drawn as candidates. Exits 1 if a
    file the graph needs could not be read.

    With --federation, MODEL may be REGISTRY/MODEL; every node names its registry, and the
    versions of other registries trained on the same data (same URI) are joined to each
    dataset, with the registries that label it differently. A registry that could not be read
    is named and makes the exit code 1.
    """
    from steward.governance import lineage, lineage_render

    model, version = parse_target(target)
    renderers: dict[str, Callable[[LineageGraph], str]] = {
        "text": lineage_render.render_text,
        "mermaid": lineage_render.render_mermaid,
        "dot": lineage_render.render_dot,
        "json": lineage_render.render_json,
    }
    if federation_file is not None:
        _refuse_rev(rev)
        from steward.federation.lineage import federated_lineage

        found = federated_lineage(load_federation(settings, federation_file), model, version)
        if output_format == "json":
            click.echo(json.dumps(found.as_dict(), indent=2))
        elif output_format == "text":
            click.echo(f"registry {found.registry} ({found.commit[:12]})")
            click.echo(renderers[output_format](found.graph))
            for conflict in found.conflicts:
                click.echo(printable(conflict.render()))
        else:
            click.echo(renderers[output_format](found.graph))
        _report_problems(found.graph.problems, "the graph may be incomplete")
        gaps = report_gaps(found.unavailable, found.problems)
        return EXIT_OK if found.graph.ok and not gaps else EXIT_FAILURE
    # The graph is of one model: its files and the datasets are read, no other model's.
    _, contents = _read(settings, rev, model=model)
    graph = lineage.model_lineage(contents, model, version)
    click.echo(renderers[output_format](graph))
    _report_problems(graph.problems, "the graph may be incomplete")
    return EXIT_OK if graph.ok else EXIT_FAILURE


def _refuse_rev(rev: str | None) -> None:
    if rev is not None:
        raise UsageError("--rev and --federation: the federation reads each mirror's branch")


@click.command()
@click.option("--dataset", "dataset", required=True, metavar="ID", help="The dataset to change.")
@click.option(
    "--version",
    "dataset_version",
    metavar="V",
    help="Only this version of the dataset (versions citing none count, conservatively).",
)
@click.option(
    "--column",
    metavar="C",
    help="Only versions that use this column (listing no columns means all of them).",
)
@click.option("--rev", metavar="REV", help=_REV_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as a JSON object.")
@federation_option
@click.pass_obj
def impact(
    settings: Settings,
    dataset: str,
    dataset_version: str | None,
    column: str | None,
    rev: str | None,
    as_json: bool,
    federation_file: Path | None,
) -> int:
    """List every model version that depends on a dataset, and whom to notify.

    Production versions first, then staging, development and archived; retired versions are
    listed apart and not counted. Exits 1 when a production version is affected, or when any
    registry file could not be read (the answer cannot be sure); 0 otherwise; 2 for an unknown
    dataset or column. A data repository's CI can run it before a schema change.

    With --federation, ID (or REGISTRY/ID) names the dataset as one registry does; every
    registry's versions trained on the same URI are listed, each naming its registry, with
    the registries that label the URI differently. A registry that could not be read is named
    and makes the exit code 1.
    """
    if federation_file is not None:
        _refuse_rev(rev)
        from steward.federation.impact import federated_impact

        found = federated_impact(
            load_federation(settings, federation_file), dataset, dataset_version, column
        )
        click.echo(
            json.dumps(found.as_dict(), indent=2) if as_json else render_federated_impact(found)
        )
        gaps = report_gaps(found.unavailable, found.problems)
        return EXIT_FAILURE if found.production or gaps else EXIT_OK
    from steward.gitio.tree import open_snapshot
    from steward.governance.impact import Question
    from steward.governance.impact import impact as impact_of
    from steward.reading.uses import uses_index

    index = uses_index(open_snapshot(settings.start, rev))
    report = impact_of(index, Question(dataset, dataset_version, column))
    click.echo(report.to_json() if as_json else render_impact(report))
    _report_problems(
        report.problems, "the answer cannot be sure: one of them may depend on the dataset"
    )
    return EXIT_FAILURE if report.production or not report.complete else EXIT_OK


@click.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["openlineage", "json"]),
    required=True,
    help="openlineage: one RunEvent per model version, as JSON Lines; "
    "json: a flat catalog of models, versions, datasets and lineage edges.",
)
@output_option("the export")
@click.option(
    "--namespace",
    metavar="NS",
    help="OpenLineage namespace of the registry's jobs and model versions "
    "[default: steward://<origin host/path>, else steward://<directory name>].",
)
@click.option("--rev", metavar="REV", help=_REV_HELP)
@federation_option
@click.pass_obj
def export(
    settings: Settings,
    output_format: str,
    output: Path | None,
    namespace: str | None,
    rev: str | None,
    federation_file: Path | None,
) -> int:
    """Export the registry for other tools: OpenLineage events or a JSON catalog.

    Exits 1 (after writing what could be read) if a registry file could not be read. With
    --federation, every registry's catalog in one document (format steward-federation-catalog)
    with the datasets several registries register, by URI, and their classification
    conflicts; or every registry's events, its jobs under the namespace NS/REGISTRY. A
    registry that could not be read is named (`unavailable`) and makes the exit code 1.
    """
    if federation_file is not None:
        _refuse_rev(rev)
        from steward.federation import export as federated
        from steward.governance.export_openlineage import render_jsonl as render_events

        found = federated.read_federation(
            load_federation(settings, federation_file), with_policy=output_format == "json"
        )
        if output_format == "openlineage":
            text = render_events(federated.federated_events(found, namespace))
        else:
            catalog = federated.federated_catalog(found)
            text = json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"
        emit(settings, text, output)
        return report_gaps(found.unavailable, found.problems)
    from steward.gitio.tree import open_snapshot
    from steward.governance.export_openlineage import default_namespace
    from steward.governance.exports import exported

    root = find_repo_root(settings.start)
    if output_format == "openlineage":
        namespace = namespace or default_namespace(root)
    text, problems = exported(open_snapshot(root, rev), output_format, namespace)
    emit(settings, text, output)
    _report_problems(problems, "the export is incomplete")
    return EXIT_FAILURE if problems else EXIT_OK


# --- text renderer ----------------------------------------------------------------------------


def render_impact(report: ImpactReport) -> str:
    question = report.question
    what = question.dataset
    if question.version is not None:
        what += f"@{question.version}"
    if question.column is not None:
        what += f", column {question.column}"
    owner = report.dataset_owner or "?"
    lines = [f"impact of a change to {what}  ({report.dataset_path}, owner {owner})"]
    if report.affected:
        lines.append(f"{len(report.affected)} version(s) depend on it:")
        lines += [f"  {_affected_line(item)}" for item in report.affected]
    else:
        lines.append("no model version depends on it")
    if report.production:
        lines.append(f"PRODUCTION AFFECTED: {len(report.production)} production version(s)")
    if report.conservative:
        lines.append(
            f"{len(report.conservative)} of them cite no dataset version and are counted as "
            "affected conservatively"
        )
    if report.retired:
        lines.append("retired (not counted: serve no one, their artifacts may be gone):")
        lines += [f"  {_affected_line(item)}" for item in report.retired]
    if report.other_versions:
        lines.append(f"not affected: {len(report.other_versions)} version(s) cite another version:")
        lines += [f"  {_affected_line(item)}" for item in report.other_versions]
    if report.notify:
        lines.append("notify:")
        lines += [
            f"  {printable(item.principal)}  ({'; '.join(item.reasons)})" for item in report.notify
        ]
    if not report.complete:
        lines.append("INCOMPLETE: some registry files could not be read (see stderr)")
    return "\n".join(lines)


def _affected_line(item: Affected) -> str:
    cited = f"@{item.dataset_version}" if item.dataset_version else " (no version cited)"
    return (
        f"{item.model_name} {item.version}  {item.stage}  "
        f"uses {item.dataset}{cited}: {'; '.join(item.reasons)}  "
        f"(registered {item.created_at})"
    )


def render_federated_impact(report: FederatedImpact) -> str:
    question = report.question
    what = (f"{report.registry}/" if report.registry else "") + question.dataset
    if question.version is not None:
        what += f"@{question.version}"
    if question.column is not None:
        what += f", column {question.column}"
    lines = [f"impact of a change to {what}  ({printable(report.uri)})"]
    lines += [
        f"  registered in {e.registry} as {e.dataset.name} (owner {printable(e.dataset.owner)})"
        for e in report.datasets
    ]
    if report.affected:
        registries = len({item.registry for item in report.affected})
        lines.append(
            f"{len(report.affected)} version(s) in {registries} registry(ies) depend on it:"
        )
        lines += [f"  {_federated_line(item)}" for item in report.affected]
    else:
        lines.append("no model version depends on it")
    if report.production:
        lines.append(f"PRODUCTION AFFECTED: {len(report.production)} production version(s)")
    if report.retired:
        lines.append("retired (not counted: serve no one, their artifacts may be gone):")
        lines += [f"  {_federated_line(item)}" for item in report.retired]
    if report.other_versions:
        lines.append(f"not affected: {len(report.other_versions)} version(s) cite another version:")
        lines += [f"  {_federated_line(item)}" for item in report.other_versions]
    if report.notify:
        lines.append("notify:")
        lines += [
            f"  {printable(item.principal)}  ({'; '.join(item.reasons)})" for item in report.notify
        ]
    lines += [printable(conflict.render()) for conflict in report.conflicts]
    lines += [item.render() for item in report.unavailable]
    if not report.complete:
        lines.append("INCOMPLETE: some registries or files could not be read (see stderr)")
    return "\n".join(lines)


def _federated_line(item: FederatedAffected) -> str:
    cited = f"@{item.dataset_version}" if item.dataset_version else " (no version cited)"
    return (
        f"{item.registry}  {item.model_name} {item.version}  {item.stage}  "
        f"uses {item.dataset}{cited}: {'; '.join(item.reasons)}  (registered {item.created_at})"
    )
