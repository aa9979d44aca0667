"""`steward site`: the catalog website, built from the registry at a revision."""

from __future__ import annotations

import json
from pathlib import Path

import click

from steward.cli.federation_cmd import federation_option, report_gaps
from steward.cli.federation_cmd import load as load_federation
from steward.cli.settings import Settings
from steward.errors import EXIT_OK, UsageError
from steward.gitio.gitcmd import find_repo_root


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("_site"),
    show_default=True,
    metavar="DIR",
    help="The directory to write the site into (relative to -C); a later build updates it, "
    "rewriting only the pages whose inputs changed.",
)
@click.option(
    "--rev",
    default="HEAD",
    show_default=True,
    metavar="REV",
    help="Describe the registry at this revision (branch, tag or commit), with its history.",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="Where the site will be published (e.g. https://ORG.github.io/REPO/): pages then name "
    "their canonical address. Links inside the site are relative either way.",
)
@click.option(
    "--proposals/--no-proposals",
    default=True,
    show_default=True,
    help="List the open proposals with their gate verdicts (asked of the forge at build time; "
    "a forge that cannot be read is said so on that page).",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was built as JSON.")
@federation_option
@click.pass_obj
def site(
    settings: Settings,
    output: Path,
    rev: str,
    base_url: str | None,
    proposals: bool,
    as_json: bool,
    federation_file: Path | None,
) -> int:
    """Build the catalog website: static pages anyone can browse, from file:// or GitHub Pages.

    An index of the models with search and filters (stage, team, tag, classification, risk); a
    page per model with its versions, stage timeline (who proposed, approved and merged),
    metric charts, lineage graph, model card and audit findings; a page per dataset with the
    versions using each column, production first; and the open proposals. Self-contained: no
    external resource, one small script for search, every registry text escaped.

    With --federation, one catalog across the federation's registries: an index of the
    registries (each linked to its own site under registries/NAME/, built from its mirror) and
    the datasets several registries register, with their classification conflicts. --rev and
    the proposals do not apply; exit 1 when a registry could not be read (the site names it).
    """
    from steward.site.build import build_site

    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise UsageError(f"--base-url {base_url!r}: expected an http(s) URL")
    if federation_file is not None:
        return _federated(settings, federation_file, output, base_url, as_json)
    root = find_repo_root(settings.start)
    out = (settings.start / output).resolve()
    if out == root or root.is_relative_to(out):
        raise UsageError(f"--output {output}: the site cannot be written over the repository")
    forge = None
    label = "the forge"
    if proposals:
        from steward.forge.choose import open_forge
        from steward.forge.protocol import ForgeError

        try:
            forge = open_forge(root, settings.github_token)
            label = type(forge).__name__.removesuffix("Forge").lower() + " forge"
        except ForgeError as exc:
            click.echo(f"note: no proposals page: {exc}", err=True)
    try:
        result = build_site(root, out, rev, base_url, forge, label)
    except OSError as exc:
        raise UsageError(f"cannot write the site in {out}: {exc.strerror or exc}") from None
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(
            f"{len(result.written)} file(s) written, {result.kept} unchanged, "
            f"{len(result.removed)} removed: {result.models} models, {result.datasets} datasets",
            err=True,
        )
        for problem in result.problems:
            click.echo(f"warning: {problem.render()}", err=True)
        click.echo(str(result.index))
    return EXIT_OK


def _federated(
    settings: Settings, path: Path, output: Path, base_url: str | None, as_json: bool
) -> int:
    from steward.errors import GitCommandError, RepoError
    from steward.federation.sources import RegistryProblem
    from steward.site.federated import build_federated_site

    federation = load_federation(settings, path)
    try:
        repo: Path | None = find_repo_root(federation.path.parent)
    except (RepoError, GitCommandError):
        repo = None
    out = (settings.start / output).resolve()
    if repo is not None and (out == repo or repo.is_relative_to(out)):
        raise UsageError(f"--output {output}: the site cannot be written over the repository")
    try:
        result = build_federated_site(federation, out, base_url, repo)
    except OSError as exc:
        raise UsageError(f"cannot write the site in {out}: {exc.strerror or exc}") from None
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for name, built in result.sites.items():
            click.echo(f"{name}: {built.models} models, {built.datasets} datasets", err=True)
        for conflict in result.conflicts:
            click.echo(conflict.render(), err=True)
        click.echo(str(result.index))
    problems = [RegistryProblem(name, problem) for name, problem in result.problems]
    return report_gaps(result.unavailable, problems)
