"""`steward site`: the catalog website, built from the registry at a revision."""

from __future__ import annotations

import json
from pathlib import Path

import click

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
@click.pass_obj
def site(
    settings: Settings,
    output: Path,
    rev: str,
    base_url: str | None,
    proposals: bool,
    as_json: bool,
) -> int:
    """Build the catalog website: static pages anyone can browse, from file:// or GitHub Pages.

    An index of the models with search and filters (stage, team, tag, classification, risk); a
    page per model with its versions, stage timeline (who proposed, approved and merged),
    metric charts, lineage graph, model card and audit findings; a page per dataset with the
    versions using each column, production first; and the open proposals. Self-contained: no
    external resource, one small script for search, every registry text escaped.
    """
    from steward.site.build import build_site

    if base_url is not None and not base_url.startswith(("https://", "http://")):
        raise UsageError(f"--base-url {base_url!r}: expected an http(s) URL")
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
