"""`steward init`."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.settings import Settings
from steward.entries.policy import CENTRAL_DEFAULT_PATH
from steward.errors import UsageError
from steward.reading.central_policy import pin_for
from steward.reading.scaffold import init_registry


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--remote",
    metavar="URL",
    help="DVC default remote for artifacts (s3://..., a path...). "
    "Default: a local directory beside the new repository.",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE=LOGIN[,LOGIN...]",
    help="Fill a role of the default policy, e.g. --role ml-engineer=alice,bob "
    "--role governance=grace (repeatable); a role left empty approves nothing.",
)
@click.option(
    "--central",
    metavar="URL@COMMIT",
    help="Make this a team registry on the central policy at URL, pinned to COMMIT (the full "
    "commit id): the gate judges by that file plus this registry's own, which may add to it but "
    "never weaken it. The file is fetched once and vendored as policies/central.yaml.",
)
@click.option(
    "--central-path",
    default=CENTRAL_DEFAULT_PATH,
    show_default=True,
    metavar="PATH",
    help="Where the central policy lies in its repository.",
)
@click.pass_obj
def init(
    settings: Settings,
    directory: Path,
    remote: str | None,
    roles: tuple[str, ...],
    central: str | None,
    central_path: str,
) -> int:
    """Create a new registry repository in DIRECTORY (new or empty).

    It is a git repository with DVC initialised, a DVC default remote, registry/, a default
    policies/registry.yaml (or, with --central, a team policy on a pinned central one), a README
    and JSON Schemas for editors, all committed.
    """
    if remote is not None and "://" not in remote:
        remote = str(settings.start / remote)  # a local path, relative to -C like DIRECTORY
    members: dict[str, list[str]] = {}
    for text in roles:
        role, sep, logins = text.partition("=")
        if not sep or not role:
            raise UsageError(f"--role {text!r}: give ROLE=LOGIN[,LOGIN...]")
        members.setdefault(role, [])
        members[role] += [
            login for login in logins.split(",") if login and login not in members[role]
        ]
    pin = None
    if central is not None:
        pin = pin_for(central, central_path)
        if "://" not in pin.repo and Path(settings.start / pin.repo).exists():
            # a local path, relative to -C like DIRECTORY; stored absolute
            pin = pin.model_copy(update={"repo": str((settings.start / pin.repo).resolve())})
    result = init_registry(settings.start / directory, remote, members, pin)
    where = "a local directory, the default" if result.remote_is_local_default else "as given"
    click.echo(f"Initialized a Steward registry in {result.root}")
    click.echo(f"DVC default remote 'storage': {result.remote_url} ({where})")
    empty = (
        ""
        if roles
        else " Next: fill in the roles (steward init --role, or edit policies/registry.yaml)."
    )
    click.echo(f"Committed {result.commit[:12]} on main.{empty}")
    return 0
