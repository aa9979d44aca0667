"""`steward federation sync` and the `--federation FILE` side of the query commands: one view
across registries, each row naming its registry.

The commands here turn options into a loaded federation, call one core function in
`steward.federation` and render its answer. Every federated answer says which registries it
could not read (text on stderr, `unavailable` in `--json`) and then exits 1, as it does when a
file of a registry could not be read: an answer across registries is never silently partial.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from steward.cli.settings import Settings
from steward.errors import EXIT_FAILURE, EXIT_OK

if TYPE_CHECKING:
    from steward.federation.sources import RegistryProblem, Unavailable
    from steward.federation.spec import Federation

FEDERATION_HELP = (
    "Answer across the registries of this federation file, each row naming its registry; reads "
    "the local mirrors as `steward federation sync FILE` last fetched them (no fetch here)."
)


def federation_option(func: Any) -> Any:
    return click.option(
        "--federation",
        "federation_file",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help=FEDERATION_HELP,
    )(func)


def load(settings: Settings, path: Path) -> Federation:
    from steward.federation.spec import load_federation

    return load_federation(settings.start / path)


@click.group()
def federation() -> None:
    """Registries seen as one: a federation file names them (name, url, branch)."""


@federation.command("sync")
@click.argument(
    "file", required=False, default=Path("federation.yaml"), type=click.Path(path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per registry.")
@click.pass_obj
def sync(settings: Settings, file: Path, as_json: bool) -> int:
    """Fetch each registry of FILE (default federation.yaml) into a local mirror.

    Only the named branch is fetched, and only the objects a mirror lacks. Prints per registry:
    fetched (old -> new commit), up to date, or FAILED with the reason. Exits 1 if any failed;
    a killed sync needs no repair: run it again.
    """
    from steward.federation.mirror import mirrors_dir
    from steward.federation.mirror import sync as sync_all

    loaded = load(settings, file)
    results = sync_all(loaded)
    if as_json:
        payload = {
            "federation": str(loaded.path),
            "mirrors": str(mirrors_dir(loaded)),
            "registries": [result.as_dict() for result in results],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        for result in results:
            if result.status == "fetched":
                old = result.old[:12] if result.old else "(new)"
                assert result.new is not None
                detail = f"fetched {old} -> {result.new[:12]}"
            elif result.status == "up to date":
                detail = f"up to date at {(result.new or '')[:12]}"
            else:
                detail = f"FAILED: {result.reason}"
            click.echo(f"{result.registry}  {result.branch}  {detail}")
    return EXIT_FAILURE if any(result.failed for result in results) else EXIT_OK


# --- shared by the federated answers ----------------------------------------------------------


def report_gaps(unavailable: list[Unavailable], problems: list[RegistryProblem]) -> int:
    """Unreadable registries and files on stderr; 1 if there is any."""
    for item in unavailable:
        click.echo(f"error: {item.render()}", err=True)
    for problem in problems:
        click.echo(f"warning: {problem.render()}", err=True)
    if unavailable or problems:
        click.echo(
            f"{len(unavailable)} registry(ies) unavailable or stale, {len(problems)} file(s) "
            "not read: the answer may be incomplete",
            err=True,
        )
        return EXIT_FAILURE
    return EXIT_OK
