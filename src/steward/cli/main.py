"""The `steward` group, its global options, and the one handler that maps errors to exit codes."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import click

from steward import __version__
from steward.cli.settings import Settings
from steward.errors import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    EXIT_USAGE,
    StewardError,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def _register_commands() -> None:
    from steward.cli import (
        apply_cmd,
        check_cmd,
        create_cmd,
        gc_cmd,
        github_cmd,
        history_cmd,
        init_cmd,
        promote_cmd,
        pull_cmd,
        query_cmd,
        quickstart_cmd,
        register_cmd,
        rollback_cmd,
        schema_cmd,
    )

    cli.add_command(check_cmd.check)
    cli.add_command(init_cmd.init)
    cli.add_command(schema_cmd.schema)
    cli.add_command(create_cmd.create)
    cli.add_command(register_cmd.register)
    cli.add_command(pull_cmd.pull)
    cli.add_command(pull_cmd.verify)
    cli.add_command(promote_cmd.promote)
    cli.add_command(promote_cmd.review)
    cli.add_command(promote_cmd.gate)
    cli.add_command(promote_cmd.merge)
    cli.add_command(quickstart_cmd.quickstart)
    cli.add_command(query_cmd.list_versions)
    cli.add_command(query_cmd.show)
    cli.add_command(query_cmd.which)
    cli.add_command(github_cmd.codeowners)
    cli.add_command(github_cmd.github)
    cli.add_command(apply_cmd.apply)
    cli.add_command(rollback_cmd.rollback)
    cli.add_command(rollback_cmd.monitor)
    cli.add_command(history_cmd.history)
    cli.add_command(gc_cmd.gc)


_register_commands()


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
        exc.show()
        return exc.exit_code if exc.exit_code else EXIT_USAGE
    except StewardError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except Exception as exc:
        if show_traceback:
            traceback.print_exc()
        else:
            click.echo(
                f"unexpected error: {type(exc).__name__}: {exc}\n"
                "re-run with `steward --traceback ...` to see where it happened",
                err=True,
            )
        return EXIT_UNEXPECTED
    return result if isinstance(result, int) else EXIT_OK


def main() -> NoReturn:
    sys.exit(run())
