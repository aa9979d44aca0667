"""`steward pull` and `steward verify`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from steward import progress
from steward.artifacts.retrieve import pull_version, verify_versions
from steward.cli.options import split_version
from steward.cli.settings import Settings
from steward.entries.models import STAGES
from steward.errors import UsageError
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.argument("model", metavar="MODEL[@VERSION]")
@click.option("--version", "version", metavar="X.Y.Z", hidden=True, help="Same as MODEL@VERSION.")
@click.option("--stage", type=click.Choice(STAGES), help="Fetch the version holding this stage.")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to put the files in [default: the version's directory in the registry].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (none off a terminal anyway).")
@click.pass_obj
def pull(
    settings: Settings,
    model: str,
    version: str | None,
    stage: str | None,
    output: Path | None,
    quiet: bool,
) -> int:
    """Fetch MODEL@VERSION's artifact (or the one holding --stage S) and check every file's
    sha256 before putting it in place.

    On any mismatch nothing is written and the exit code is 1.
    """
    model, version = split_version(model, version, "pull")
    if (version is None) == (stage is None):
        raise UsageError("name a version (MODEL@VERSION) or give --stage S, not both or neither")
    root = find_repo_root(settings.start)
    destination = settings.start / output if output is not None else None
    result = pull_version(
        root,
        model,
        version=version,
        stage=stage,
        output=destination,
        show_progress=progress.wanted(quiet),
    )
    click.echo(
        f"{result.model} {result.version}: {len(result.files)} files verified and written to "
        f"{result.destination}"
    )
    return 0


@click.command()
@click.argument("target", required=False, metavar="[MODEL[@VERSION]]")
@click.option("--deep", is_flag=True, help="Also download each file and check its hashes.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar (none off a terminal anyway).")
@click.pass_obj
def verify(settings: Settings, target: str | None, deep: bool, as_json: bool, quiet: bool) -> int:
    """Check that every file object of the versions is on the DVC remote.

    Without TARGET, every version in the registry; MODEL for all its versions; MODEL@VERSION for
    one. Exits 1 if anything is missing (or, with --deep, corrupt).
    """
    model, version = (None, None)
    if target is not None:
        model, _, version_text = target.partition("@")
        version = version_text or None
    report = verify_versions(
        find_repo_root(settings.start),
        model,
        version,
        deep=deep,
        show_progress=progress.wanted(quiet, as_json),
    )
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    return 0 if report.ok else 1
