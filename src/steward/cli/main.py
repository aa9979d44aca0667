"""The `steward` group, its global options, and the one handler that maps errors to exit codes."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from steward.cli.settings import Settings
from steward.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    OUT_OF_SPACE,
    StewardError,
)
from steward.version import __version__

# Each command's module, imported only when the command runs (or help lists it): a query such as
# `steward which` must not pay for importing the gate, DVC or PyGithub.
LAZY_COMMANDS = {
    "init": "steward.cli.init_cmd:init",
    "check": "steward.cli.check_cmd:check",
    "schema": "steward.cli.schema_cmd:schema",
    "create": "steward.cli.create_cmd:create",
    "dataset": "steward.cli.dataset_cmd:dataset",
    "federation": "steward.cli.federation_cmd:federation",
    "register": "steward.cli.register_cmd:register",
    "push": "steward.cli.register_cmd:push_command",
    "pull": "steward.cli.pull_cmd:pull",
    "verify": "steward.cli.pull_cmd:verify",
    "promote": "steward.cli.promote_cmd:promote",
    "review": "steward.cli.promote_cmd:review",
    "gate": "steward.cli.promote_cmd:gate",
    "merge": "steward.cli.promote_cmd:merge",
    "proposals": "steward.cli.proposal_cmd:proposals",
    "proposal": "steward.cli.proposal_cmd:proposal",
    "propose": "steward.cli.proposal_cmd:propose",
    "close": "steward.cli.proposal_cmd:close",
    "quickstart": "steward.cli.quickstart_cmd:quickstart",
    "list": "steward.cli.query_cmd:list_versions",
    "show": "steward.cli.query_cmd:show",
    "which": "steward.cli.query_cmd:which",
    "codeowners": "steward.cli.github_cmd:codeowners",
    "github": "steward.cli.github_cmd:github",
    "apply": "steward.cli.apply_cmd:apply",
    "rollback": "steward.cli.rollback_cmd:rollback",
    "monitor": "steward.cli.rollback_cmd:monitor",
    "history": "steward.cli.history_cmd:history",
    "gc": "steward.cli.gc_cmd:gc",
    "card": "steward.cli.governance_cmd:card",
    "audit": "steward.cli.governance_cmd:audit",
    "lineage": "steward.cli.lineage_cmd:lineage_command",
    "impact": "steward.cli.lineage_cmd:impact",
    "export": "steward.cli.lineage_cmd:export",
    "site": "steward.cli.site_cmd:site",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module_name, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Run as if steward was started in this directory.",
)
@click.option(
    "--traceback",
    "show_traceback",
    is_flag=True,
    help="On an unexpected error, print the full stack trace.",
)
@click.option(
    "--github-token",
    metavar="TOKEN",
    help="Token for the GitHub forge [default: GITHUB_TOKEN, or a GitHub App from the env].",
)
@click.version_option(__version__, prog_name="steward")
@click.pass_context
def cli(
    ctx: click.Context, directory: Path, show_traceback: bool, github_token: str | None
) -> None:
    """Steward: a model registry governed through Git, DVC and pull requests."""
    del show_traceback  # `run` reads it (or STEWARD_TRACEBACK) before click parses anything
    ctx.obj = Settings(start=directory, github_token=github_token)
    _finish_interrupted_work(directory)


def _finish_interrupted_work(start: Path) -> None:
    """Whatever a killed Steward run left half done in this work tree (a registration whose
    branch moved but whose files are not in place yet) is finished before anything else."""
    from steward.gitio.landing import pending

    if not pending(start):
        return
    from steward.artifacts.placement import recover_landings
    from steward.gitio.gitcmd import find_repo_root

    for what in recover_landings(find_repo_root(start)):
        click.echo(
            f"steward: finished {what}, which an interrupted run had left half done", err=True
        )


@cli.command("help")
@click.argument("command", nargs=-1)
@click.pass_context
def help_command(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show the help of steward, or of COMMAND (`steward help dataset add`)."""
    from steward.entries.problems import closest

    parent = ctx.parent
    assert parent is not None
    target: click.Command = cli
    context = parent
    for name in command:
        if not isinstance(target, click.Group):
            raise click.UsageError(f"'{' '.join(command)}' is not a command")
        found = target.get_command(context, name)
        if found is None:
            guess = closest(name, target.list_commands(context))
            hint = f" Did you mean '{guess}'?" if guess else ""
            raise click.UsageError(f"No such command '{name}'.{hint}")
        target = found
        context = click.Context(found, info_name=name, parent=context)
    click.echo(target.get_help(context))


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error ends here and nowhere else."""
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args or bool(os.environ.get("STEWARD_TRACEBACK"))
    try:
        result = cli.main(args=args, prog_name="steward", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        return EXIT_INTERRUPTED
    except click.ClickException as exc:
        _suggest(exc)
        exc.show()
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    except StewardError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except OSError as exc:
        if exc.errno not in OUT_OF_SPACE:
            return _unexpected(exc, show_traceback)
        where = exc.filename2 if exc.filename2 is not None else exc.filename
        click.echo(f"error: {OUT_OF_SPACE[exc.errno]}: {where}", err=True)
        return EXIT_FAILURE
    except Exception as exc:
        return _unexpected(exc, show_traceback)
    return result if isinstance(result, int) else EXIT_OK


def _suggest(exc: click.ClickException) -> None:
    """Add "did you mean ...?" to an unknown command or an invalid choice."""
    import re

    from steward.entries.problems import closest

    unknown = re.match(r"No such command '(.*)'\.", exc.message)
    if unknown:
        ctx = getattr(exc, "ctx", None)
        group = ctx.command if ctx is not None else cli
        names = group.list_commands(ctx) if isinstance(group, click.Group) and ctx else []
        guess = closest(unknown.group(1), names)
        if guess:
            exc.message += f" Did you mean '{guess}'? (`steward help` lists them all)"  # type: ignore[misc]
        return
    param = getattr(exc, "param", None)
    if isinstance(exc, click.BadParameter) and isinstance(
        getattr(param, "type", None), click.Choice
    ):
        bad = re.search(r"'(.*?)' is not one of", exc.message)
        choices = [str(choice) for choice in param.type.choices]  # type: ignore[union-attr]
        guess = closest(bad.group(1), choices) if bad else None
        if guess:
            exc.message += f" Did you mean '{guess}'?"  # type: ignore[misc]


def _unexpected(exc: Exception, show_traceback: bool) -> int:
    if show_traceback:
        traceback.print_exception(exc)
    else:
        click.echo(
            f"unexpected error: {type(exc).__name__}: {exc}\n"
            "re-run with `steward --traceback ...` to see where it happened",
            err=True,
        )
    return EXIT_UNEXPECTED


def main() -> NoReturn:
    sys.exit(run())
