"""`steward register`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from steward import progress
from steward.artifacts.staging import begin_staging
from steward.cli.options import (
    parse_metric_value,
    parse_pairs,
    parse_param_value,
    read_metrics_file,
    read_params_file,
)
from steward.cli.settings import Settings
from steward.entries.semver import BUMPS
from steward.errors import UsageError
from steward.forge.choose import open_forge
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.argument("model")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--version", "version", metavar="X.Y.Z", help="The version number to register.")
@click.option(
    "--bump",
    type=click.Choice(BUMPS),
    help="Without --version: which part of the highest existing version to bump [default: minor].",
)
@click.option("--metric", "metrics", multiple=True, metavar="NAME=VALUE", help="An offline metric.")
@click.option(
    "--metrics-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON object of metrics (nested objects flatten to dotted names).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    metavar="ID[@VERSION][:COLUMNS]",
    help="A registered dataset the model was trained on, as ID, ID@VERSION, and either with "
    ":COLUMN,COLUMN... naming the columns used (default: all of them). Repeatable.",
)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A hyperparameter.")
@click.option(
    "--params-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Hyperparameters from a YAML or JSON file (e.g. DVC's params.yaml).",
)
@click.option("--feature", "features", multiple=True, help="An input feature (repeatable).")
@click.option("--description", help="What changed in this version.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--format", "artifact_format", help="Artifact format [default: from the files].")
@click.option("--as", "login", metavar="LOGIN", help="Who registers [default: from the env].")
@click.option("--push", is_flag=True, help="Push the commit to the git remote, retrying on races.")
@click.option(
    "--pr",
    "pull_request",
    is_flag=True,
    help="Commit on a new branch and open a pull request for it instead (nothing else moves).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars (none off a terminal anyway).")
@click.pass_obj
def register(
    settings: Settings,
    model: str,
    paths: tuple[Path, ...],
    version: str | None,
    bump: str | None,
    metrics: tuple[str, ...],
    metrics_file: Path | None,
    datasets: tuple[str, ...],
    params: tuple[str, ...],
    params_file: Path | None,
    features: tuple[str, ...],
    description: str | None,
    tags: tuple[str, ...],
    artifact_format: str | None,
    login: str | None,
    push: bool,
    pull_request: bool,
    as_json: bool,
    quiet: bool,
) -> int:
    """Register PATHS (files or a directory) as a new version of MODEL.

    The files are hashed, stored in the DVC cache and pushed to DVC's default remote (in DVC's
    layout; written by Steward where both are plain local directories, else by DVC); then the
    version entry (stage development) and its .dvc pointer are committed. Identical content to
    an existing version returns that version and commits nothing.
    """
    if version is not None and bump is not None:
        raise UsageError("give --version or --bump, not both")
    if push and pull_request:
        raise UsageError("give --push or --pr, not both: a pull request is pushed anyway")
    root = find_repo_root(settings.start)
    sources = tuple(settings.start / p for p in paths)
    # The files are hashed and copied while the rest of the command loads and reads the registry.
    staging = begin_staging(root, sources, progress.wanted(quiet, as_json))
    try:
        from steward.artifacts.registration import (
            DatasetCitation,
            RegistrationRequest,
            register_version,
        )

        metric_values = read_metrics_file(metrics_file) if metrics_file else {}
        for name, text in parse_pairs(metrics, "metric").items():
            metric_values[name] = parse_metric_value(name, text)
        param_values: dict[str, Any] = read_params_file(params_file) if params_file else {}
        for key, text in parse_pairs(params, "parameter").items():
            param_values[key] = parse_param_value(text)
        request = RegistrationRequest(
            model=model,
            sources=sources,
            version=version,
            bump="minor" if bump is None else bump,  # type: ignore[arg-type]
            metrics=metric_values,
            datasets=tuple(DatasetCitation.parse(d) for d in datasets),
            params=param_values,
            features=features,
            description=description,
            tags=tags,
            format=artifact_format,
            created_by=login,
            push=push,
            show_progress=progress.wanted(quiet, as_json),
            pull_request=pull_request,
        )
        forge = open_forge(root, settings.github_token) if pull_request else None
        result = register_version(root, request, forge=forge, staging=staging)
    finally:
        if staging is not None:
            staging.close()
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    elif result.proposal is not None:
        click.echo(
            f"Proposed {result.model} {result.version} for registration: proposal "
            f"#{result.proposal} (branch {result.branch})"
        )
    elif result.created:
        pushed = ", pushed" if result.pushed else ""
        click.echo(
            f"Registered {result.model} {result.version} at stage development "
            f"({result.entry_path}, commit {result.commit[:12] if result.commit else '-'}{pushed})"
        )
    else:
        click.echo(
            f"{result.model} {result.version} already holds this content ({result.md5}); "
            "nothing registered"
        )
    return 0


@click.command("push")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def push_command(settings: Settings, as_json: bool) -> int:
    """Push this clone's registrations that are committed but not pushed.

    For a clone whose `register --push` could not push (the remote was down, or others kept
    winning the race): the registrations are moved onto the remote's tip first, automatic version
    numbers taken meanwhile are renumbered, content the remote already has is dropped, and the
    push is retried with backoff (STEWARD_PUSH_TIMEOUT seconds). Exit 0 once the remote has
    everything; 1 if it could not be pushed, or if a registration made with --version lost its
    number (it is taken back and named).
    """
    from steward.artifacts.publishing import push_registrations

    root = find_repo_root(settings.start)
    result = push_registrations(root)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for item in result.moved:
            if not item.lost:
                click.echo(item.describe())
        click.echo(
            f"{result.remote}/{result.branch} is at {result.head[:12]}: everything is pushed"
        )
    if result.lost:
        for item in result.lost:
            click.echo(f"error: {item.describe()}", err=True)
        return 1
    return 0
