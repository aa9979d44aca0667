"""`steward card` and `steward audit`: model cards and audit reports from the registry at a
revision.

Each command asks one core function (`modelcard.model_card`, `audit.audit`) and renders what it
returns; the output goes to stdout or, with `-o`, to a file (relative to `-C`, like every path
given to steward; `output_option` and `emit` serve `steward export` too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from steward.cli.settings import Settings
from steward.errors import EXIT_FAILURE, EXIT_OK, UsageError
from steward.gitio.gitcmd import find_repo_root

REV_HELP = (
    "Describe the registry at this revision (branch, tag or commit); entries and history. "
    "Cards and audits describe committed state (they need its history), not the working tree."
)


def say_what_was_read(root: Path, rev: str) -> None:
    """Cards and audits read a commit (approvals and stage history live in git), while `show`
    and `list` read the working tree: say so on stderr when the two differ in the registry."""
    from steward.gitio.gitcmd import resolve_commit, run_git

    commit = resolve_commit(root, rev)
    changed = run_git(root, "status", "--porcelain", "--", "registry", "policies").decode()
    if rev == "HEAD" and changed.strip():
        click.echo(
            f"note: read as committed at HEAD ({commit[:12]}); uncommitted changes in registry/ "
            "or policies/ are not in it (`steward show` reads the working tree)",
            err=True,
        )


def output_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`-o/--output FILE`. Not click's `writable` check: it would look at the path relative to
    the process's directory, not to `-C`; `emit` says what is wrong with the real one."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help=f"Write {what} to this file (relative to -C) instead of standard output.",
    )


def emit(settings: Settings, text: str, output: Path | None) -> None:
    """`text` on stdout, or in `output` taken relative to `-C`; a file that cannot be written
    is a usage error naming it, not a traceback."""
    if output is None:
        click.echo(text, nl=False)
        return
    destination = settings.start / output
    try:
        destination.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {destination}: {exc.strerror or exc}") from None
    click.echo(f"wrote {destination}", err=True)


@click.command()
@click.argument("target", metavar="MODEL[@VERSION]")
@output_option("the card (e.g. README.md)")
@click.option("--rev", default="HEAD", show_default=True, metavar="REV", help=REV_HELP)
@click.pass_obj
def card(settings: Settings, target: str, output: Path | None, rev: str) -> int:
    """Render the model card of MODEL (its production version, else its highest) or of
    MODEL@VERSION, as Markdown with a Hugging Face Hub front matter.

    The sections are those of Mitchell et al. (model details, intended use, factors, metrics,
    evaluation data, training data, ethical considerations, caveats and recommendations), filled
    from model.yaml, the version's entry, its datasets and who approved its promotions. Sections
    not filled in say so. Exits 1 if a file the card needs could not be read.
    """
    from steward.cli.options import parse_target
    from steward.governance.modelcard import model_card
    from steward.governance.modelcard_render import render_card

    model, version = parse_target(target)
    root = find_repo_root(settings.start)
    say_what_was_read(root, rev)
    facts = model_card(root, model, version, rev)
    emit(settings, render_card(facts), output)
    for problem in facts.problems:
        click.echo(f"warning: {problem.render()}", err=True)
    return EXIT_FAILURE if facts.problems else EXIT_OK


@click.command()
@click.argument("model", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["md", "html", "json"]),
    default="md",
    show_default=True,
    help="Markdown, one self-contained HTML page, or JSON (format steward-audit/1).",
)
@output_option("the report")
@click.option("--rev", default="HEAD", show_default=True, metavar="REV", help=REV_HELP)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 when there is any finding of severity error (for CI).",
)
@click.pass_obj
def audit(
    settings: Settings,
    model: str | None,
    output_format: str,
    output: Path | None,
    rev: str,
    strict: bool,
) -> int:
    """Write the technical documentation of MODEL (every model when omitted) under the headings
    of the EU AI Act's Annex IV, findings first.

    Findings: card sections missing, versions in production without a recorded approval,
    high-risk production versions without an approval from the roles the policy names for high
    risk, declared classifications lower than inherited ones, unregistered datasets, and files
    that could not be read. Exit codes: 0 (findings are reported, not failures), 1 with
    --strict when any finding is an error, and 1 whenever a file could not be read (the report
    is then incomplete).
    """
    from steward.governance.audits import audit_output

    root = find_repo_root(settings.start)
    say_what_was_read(root, rev)
    report = audit_output(root, model, rev, output_format)
    emit(settings, report.text, output)
    click.echo(f"{report.findings} finding(s), {report.errors} error(s)", err=True)
    if report.incomplete or (strict and report.errors):
        return EXIT_FAILURE
    return EXIT_OK
