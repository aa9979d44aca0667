"""`steward check`."""

from __future__ import annotations

import json

import click

from steward import progress
from steward.cli.settings import Settings
from steward.reading.check import CheckReport
from steward.reading.registry import check_registry


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable JSON report.")
@click.option(
    "--rev",
    metavar="REV",
    help="Check the tree of this git revision instead of the working tree (no checkout).",
)
@click.pass_obj
def check(settings: Settings, as_json: bool, rev: str | None) -> int:
    """Validate every entry, policy and cross-file rule of the registry.

    Prints each problem as `path:line: field: message` and exits 1 if there is any.
    """
    progress.show_reading_progress(progress.wanted(as_json=as_json))
    report = check_registry(settings.start, rev)
    click.echo(render_json(report) if as_json else render_text(report))
    return 0 if report.ok else 1


def render_text(report: CheckReport) -> str:
    lines = [problem.render() for problem in report.problems]
    counts = report.counts
    summary = (
        f"{counts['models']} models, {counts['versions']} versions, {counts['datasets']} datasets, "
        f"{counts['teams']} team extensions in {counts['files']} files ({report.source})"
    )
    if report.ok:
        lines.append(f"ok: {summary}")
    else:
        files = len({problem.path for problem in report.problems})
        lines.append(f"{len(report.problems)} problems in {files} files; checked {summary}")
    return "\n".join(lines)


def render_json(report: CheckReport) -> str:
    return json.dumps(report.as_dict(), indent=2)
