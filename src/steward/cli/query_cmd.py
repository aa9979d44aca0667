"""`steward list`, `steward show` and `steward which`: the registry's read-only questions.

Each command asks one core function in `steward.reading.queries` and renders its answer as text or,
with `--json`, as the answer's `as_dict()`. Files that could not be read are listed on stderr and
make the exit code 1, whatever the format, so a script never takes a partial answer for a whole one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from steward.cli.federation_cmd import federation_option, report_gaps
from steward.cli.federation_cmd import load as load_federation
from steward.cli.options import parse_target
from steward.cli.settings import Settings
from steward.entries.names import format_timestamp
from steward.entries.problems import Problem, printable
from steward.errors import UsageError
from steward.gitio.gitcmd import find_repo_root
from steward.reading import answers
from steward.reading.listing import STAGE_NAMES, Filters, Listing, cached_listing

if TYPE_CHECKING:  # the entry models are imported when a command needs them, not to list
    from steward.entries.models import VersionEntry
    from steward.entries.plain_entries import PlainEntry
    from steward.federation.listing import FederatedListing
    from steward.reading.shown import ModelView, VersionView
    from steward.reading.whereabouts import Whereabouts

MISSING = "(missing)"
# More metric columns than this make the versions table wrap on an 80-column terminal; --json
# carries them all.
TABLE_METRICS = 4


@click.command("list")
@click.option("--stage", type=click.Choice(STAGE_NAMES), help="Only versions in this stage.")
@click.option("--model", metavar="MODEL", help="Only versions of this model.")
@click.option(
    "--owner", metavar="LOGIN", help="Only versions of models this login or @org/team owns."
)
@click.option("--tag", metavar="TAG", help="Only versions tagged TAG, on the version or its model.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the versions.")
@federation_option
@click.pass_obj
def list_versions(
    settings: Settings,
    stage: str | None,
    model: str | None,
    owner: str | None,
    tag: str | None,
    as_json: bool,
    federation_file: Path | None,
) -> int:
    """List every version in the registry's working tree that matches all the filters.

    Sorted by model, then by version precedence. Exits 1 if any entry could not be read (the
    list may then be incomplete; the problems are printed on stderr). With --federation, every
    registry's versions (registry by registry), each naming its registry; --json is then an
    object with `versions`, `registries`, `unavailable` and `problems`, and a registry that
    could not be read is named and makes the exit code 1.
    """
    filters = Filters(stage=stage, model=model, owner=owner, tag=tag)
    if federation_file is not None:
        from steward.federation.listing import federated_list

        found = federated_list(load_federation(settings, federation_file), filters)
        click.echo(found.to_json() if as_json else render_federated_listing(found))
        return report_gaps(found.unavailable, found.problems)
    from steward.gitio.tree import WorktreeSnapshot

    root = find_repo_root(settings.start)
    snapshot = WorktreeSnapshot(root)
    listing = cached_listing(snapshot, filters)
    if listing is None:
        from steward import progress
        from steward.reading import queries

        progress.show_reading_progress(progress.wanted(as_json=as_json))

        listing = queries.list_versions(root, filters, snapshot)
    click.echo(listing.to_json() if as_json else render_listing(listing))
    return _report_problems(listing.problems)


@click.command()
@click.argument("target", metavar="MODEL[@VERSION]")
@click.option("--json", "as_json", is_flag=True, help="Print the same facts as JSON.")
@federation_option
@click.pass_obj
def show(settings: Settings, target: str, as_json: bool, federation_file: Path | None) -> int:
    """Show a model (owners, card, versions) or, with @VERSION, one version's facts.

    A version's facts include its lineage and the classifications it inherits from the datasets
    it was trained on. Exits 1 if a file the answer needs could not be read. With --federation,
    MODEL may be REGISTRY/MODEL (needed when several registries have the model); the answer
    names its registry, and a registry that could not be searched is named (exit 1).
    """
    model, version = parse_target(target)
    if federation_file is not None:
        from steward.federation import queries as federated
        from steward.reading import queries

        found = federated.show(load_federation(settings, federation_file), model, version)
        answer = found.answer
        if isinstance(answer, queries.ModelView):
            text = render_model(answer)
        else:
            assert isinstance(answer, queries.VersionView)
            text = render_version(answer)
        heading = f"registry {found.source.name} ({found.source.commit[:12]})"
        click.echo(json.dumps(found.as_dict(), indent=2) if as_json else f"{heading}\n{text}")
        problems = _report_problems(answer.problems)
        return max(report_gaps(found.unavailable, []), problems)
    root = find_repo_root(settings.start)

    def afresh(reads: answers.Reads) -> tuple[str, list[Problem]]:
        from steward.reading import shown

        view: ModelView | VersionView
        if version is None:
            view = shown.show_model(root, model, reads)
            text = render_model(view)
        else:
            view = shown.show_version(root, model, version, reads)
            text = render_version(view)
        return json.dumps(view.as_dict(), indent=2) if as_json else text, view.problems

    output, gaps = _kept_answer(root, ("show", target, _format(as_json)), afresh)
    click.echo(output)
    return _report_problems(gaps)


@click.command()
@click.argument("model")
@click.argument("stage_argument", required=False, metavar="[STAGE]", type=click.Choice(STAGE_NAMES))
@click.option(
    "--stage", type=click.Choice(STAGE_NAMES), help="The stage (or give it positionally)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as a JSON object.")
@federation_option
@click.pass_obj
def which(
    settings: Settings,
    model: str,
    stage_argument: str | None,
    stage: str | None,
    as_json: bool,
    federation_file: Path | None,
) -> int:
    """Say which version of MODEL holds STAGE, and where its artifact is.

    Exits 1 if no version holds the stage, the model does not exist, or more versions hold a
    single stage than the policy allows. A missing DVC remote is reported, not an error. With
    --federation, MODEL may be REGISTRY/MODEL (needed when several registries have the model);
    the answer names its registry, and a registry that could not be searched is named (exit 1).
    """
    if stage_argument is not None and stage is not None and stage_argument != stage:
        raise UsageError(f"two stages named: {stage_argument} and --stage {stage}")
    stage = stage or stage_argument
    if stage is None:
        raise UsageError("which: give the stage, as --stage S (or positionally)")
    if federation_file is not None:
        from steward.federation import queries as federated
        from steward.reading import queries

        located = federated.which(load_federation(settings, federation_file), model, stage)
        answer = located.answer
        assert not isinstance(answer, (queries.ModelView, queries.VersionView))
        heading = f"registry {located.source.name} ({located.source.commit[:12]})"
        text = f"{heading}\n{render_whereabouts(answer)}"
        click.echo(json.dumps(located.as_dict(), indent=2) if as_json else text)
        return report_gaps(located.unavailable, [])
    root = find_repo_root(settings.start)
    held = stage  # narrowed for the function below

    def afresh(reads: answers.Reads) -> tuple[str, list[Problem]]:
        from steward.reading.whereabouts import which as located

        found = located(root, model, held, reads)
        return json.dumps(found.as_dict(), indent=2) if as_json else render_whereabouts(found), []

    output, _ = _kept_answer(root, ("which", model, stage, _format(as_json)), afresh)
    click.echo(output)
    return 0


def _format(as_json: bool) -> str:
    return "json" if as_json else "text"


def _kept_answer(
    root: Path,
    question: tuple[str, ...],
    afresh: Callable[[answers.Reads], tuple[str, list[Problem]]],
) -> tuple[str, list[Problem]]:
    """The output kept for `question` if what it read is unchanged (`steward.reading.answers`),
    else `afresh`'s, kept when it has no problems (an answer with a gap is never kept)."""
    known = answers.recall(root, question)
    if known is not None:
        return known, []
    reads = answers.Reads(root)
    output, problems = afresh(reads)
    if not problems:
        answers.remember(root, question, reads, output)
    return output, problems


# --- text renderers ---------------------------------------------------------------------------


def render_listing(listing: Listing) -> str:
    rows = [
        [row.model, row.version, row.stage, row.created_at, row.owner or "?"]
        for row in listing.rows
    ]
    lines = table(["MODEL", "VERSION", "STAGE", "CREATED", "OWNER"], rows) if rows else []
    models = len({row.model for row in listing.rows})
    if rows:
        lines.append(f"{_count(len(rows), 'version')} of {_count(models, 'model')}")
    else:
        lines.append("no versions match")
    return "\n".join(lines)


def render_model(view: ModelView) -> str:
    model = view.model
    downstream = [
        consumer.name + (f" ({consumer.owner})" if consumer.owner else "")
        for consumer in model.downstream
    ]
    lines = [f"{model.name}  ({view.entry_path})"]
    lines += fields(
        [
            ("owner", model.owner),
            ("team", model.team),
            ("risk", model.risk),
            ("classification", ", ".join(model.classification) or "-"),
            ("data steward", model.data_steward or MISSING),
            ("description", model.description or MISSING),
            ("tags", ", ".join(model.tags) or "-"),
            ("downstream", ", ".join(downstream) or "-"),
        ]
    )
    lines.append("model card")
    lines += fields(
        (section.replace("_", " "), _card_text(text, section in view.missing_card_sections))
        for section, text in view.card.items()
    )
    lines.append("versions")
    lines += _indent(_versions_table(view.versions, view.key_metrics[:TABLE_METRICS]))
    return "\n".join(lines)


def _card_text(text: str | None, missing: bool) -> str:
    """A section's text; one that holds only a placeholder (TODO, TBD...) is marked missing."""
    if not text or not text.strip():
        return MISSING
    return f"{text} {MISSING}" if missing else text


def _versions_table(versions: Sequence[VersionEntry | PlainEntry], metrics: list[str]) -> list[str]:
    if not versions:
        return ["(none registered)"]
    rows = [
        [
            version.version,
            version.stage,
            format_timestamp(version.created_at),
            *(_number(version.metrics.get(name)) for name in metrics),
        ]
        for version in versions
    ]
    return table(["VERSION", "STAGE", "CREATED", *metrics], rows)


def render_version(view: VersionView) -> str:
    entry, model = view.version, view.model
    lines = [f"{entry.model} {entry.version}  ({view.entry_path})"]
    lines += fields(
        [
            ("stage", entry.stage),
            ("created", f"{format_timestamp(entry.created_at)} by {entry.created_by}"),
            ("description", entry.description or "-"),
            ("tags", ", ".join(entry.tags) or "-"),
            ("model", f"owner {model.owner}, team {model.team}, risk {model.risk}"),
        ]
    )
    lines += _artifact_section(view)
    lines += _lineage_section(view)
    lines.append("metrics")
    lines += fields((name, _number(value)) for name, value in entry.metrics.items()) or ["  (none)"]
    lines += _environment_section(entry)
    if entry.production_metrics:
        lines.append("production metrics")
        lines += fields(
            (
                format_timestamp(point.at) + (f" ({point.source})" if point.source else ""),
                ", ".join(f"{name} {_number(value)}" for name, value in point.metrics.items()),
            )
            for point in entry.production_metrics
        )
    return "\n".join(lines)


def _artifact_section(view: VersionView) -> list[str]:
    artifact = view.version.artifact
    files = table(
        ["FILE", "SIZE", "SHA256"],
        [[item.path, str(item.size), item.sha256] for item in artifact.files],
    )
    return [
        "artifact",
        *fields(
            [
                ("md5", artifact.md5),
                ("size", _count(artifact.size, "byte")),
                ("format", artifact.format),
                ("pointer", view.pointer_path),
            ]
        ),
        *_indent(files),
    ]


def _lineage_section(view: VersionView) -> list[str]:
    training = view.version.training
    lines = ["training lineage"]
    for dataset in view.datasets:
        name = dataset.id + (f"@{dataset.version}" if dataset.version else "")
        lines.append(f"  dataset {name}" + (f"  {dataset.uri}" if dataset.uri else ""))
        if dataset.ref.columns:
            lines.append(f"    used columns: {', '.join(dataset.ref.columns)}")
        if dataset.dataset is None:
            lines.append("    not registered: its classifications are unknown")
            continue
        columns = [
            f"{column}: {', '.join(labels)}"
            for column, labels in dataset.column_classifications.items()
        ]
        lines += fields(
            [
                ("classification", ", ".join(dataset.dataset.classification) or "-"),
                ("columns", "; ".join(columns) or "-"),
            ],
            indent=4,
        )
    if not view.datasets:
        lines.append("  (no datasets recorded)")
    code = training.code
    lines += fields(
        [
            ("inherited classifications", ", ".join(view.inherited_classifications) or "-"),
            ("declared by the model", ", ".join(view.model.classification) or "-"),
            ("features", ", ".join(training.features) or "-"),
            (
                "hyperparameters",
                ", ".join(f"{k}={json.dumps(v)}" for k, v in training.hyperparameters.items())
                or "-",
            ),
            ("duration", f"{training.duration_s:g} s" if training.duration_s is not None else "-"),
            ("code", f"{code.repo or '?'}@{code.commit}" if code is not None else "-"),
            ("run", training.run or "-"),
        ]
    )
    return lines


def _environment_section(entry: VersionEntry | PlainEntry) -> list[str]:
    environment = entry.environment
    packages = ", ".join(f"{name}=={version}" for name, version in environment.packages.items())
    pairs = [
        ("python", environment.python),
        ("platform", environment.platform),
        ("framework", environment.framework),
        ("packages", packages or None),
        ("hardware", environment.hardware),
        ("image", environment.image),
        ("dependencies", ", ".join(entry.dependencies) or None),
    ]
    return ["environment", *(fields((k, v) for k, v in pairs if v is not None) or ["  (none)"])]


def render_whereabouts(found: Whereabouts) -> str:
    artifact = found.artifact
    lines = [f"{found.version.model} {found.version.version} is in {found.stage}"]
    pairs: list[tuple[str, str]] = [
        ("entry", found.entry_path),
        ("pointer", found.pointer_path),
        ("data", found.data_path + "/"),
        ("md5", f"{artifact.md5} ({_count(artifact.size, 'byte')}, {artifact.format})"),
    ]
    if found.remote is not None:
        pairs.append(("remote", f"{found.remote.url} ('{found.remote.name}')"))
        pairs.append(("listing", found.remote.object_url(artifact.md5)))
    else:
        pairs.append(("remote", found.remote_problem or "not configured"))
    pairs += [("files" if i == 0 else "", item.path) for i, item in enumerate(artifact.files)]
    lines += fields(pairs)
    if found.also_in_stage:
        lines.append(
            f"also in {found.stage}: {', '.join(found.also_in_stage)} (the highest version answers)"
        )
    return "\n".join(lines)


def render_federated_listing(found: FederatedListing) -> str:
    rows = [
        [registry, row.model, row.version, row.stage, row.created_at, row.owner or "?"]
        for registry, row in found.rows()
    ]
    headers = ["REGISTRY", "MODEL", "VERSION", "STAGE", "CREATED", "OWNER"]
    lines = table(headers, rows) if rows else ["no versions match"]
    read = len(found.registries)
    if rows:
        lines.append(f"{len(rows)} version(s) in {read} registry(ies)")
    for item in found.unavailable:
        lines.append(item.render())
    return "\n".join(lines)


# --- helpers ----------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns aligned by the widest cell; the last one unpadded, so no line ends in spaces."""
    lines = [list(headers), *([printable(cell) for cell in row] for row in rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]


def fields(pairs: Iterable[tuple[str, Any]], indent: int = 2) -> list[str]:
    """`name  value` lines with the values aligned; text from entries made printable, so a
    control character in a description cannot rewrite the terminal."""
    items = [(name, printable(str(value))) for name, value in pairs]
    width = max((len(name) for name, _ in items), default=0)
    return [f"{' ' * indent}{name.ljust(width)}  {value}".rstrip() for name, value in items]


def _indent(lines: list[str], by: int = 2) -> list[str]:
    return [" " * by + line for line in lines]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _report_problems(problems: list[Problem]) -> int:
    """Problems on stderr, after the answer; 1 if any, so the gap is never silent."""
    for problem in problems:
        click.echo(f"warning: {problem.render()}", err=True)
    if problems:
        click.echo(
            f"{_count(len(problems), 'problem')} in files this answer needed; it may be "
            "incomplete (run `steward check`)",
            err=True,
        )
    return 1 if problems else 0
