"""`steward codeowners` and `steward github setup` and `lock`."""

from __future__ import annotations

from pathlib import Path

import click

from steward.cli.settings import Settings
from steward.entries.layout import CODEOWNERS_PATH
from steward.forge.github import GitHubForge, GitHubSettings
from steward.gitio.gitcmd import find_repo_root
from steward.reading.registry import registry_codeowners


@click.command()
@click.option("--check", "check_only", is_flag=True, help="Only say whether the file is stale.")
@click.pass_obj
def codeowners(settings: Settings, check_only: bool) -> int:
    """Write .github/CODEOWNERS from the policy: model directories to their owners, the policy,
    workflows and code to governance."""
    root = find_repo_root(settings.start)
    text = registry_codeowners(root)
    path = root / CODEOWNERS_PATH
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check_only:
        fresh = current == text
        click.echo(f"{CODEOWNERS_PATH} is {'up to date' if fresh else 'stale'}")
        return 0 if fresh else 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {CODEOWNERS_PATH}" + (" (unchanged)" if current == text else ""))
    return 0


@click.group()
def github() -> None:
    """Set up the GitHub repository that hosts the registry."""


@github.command()
@click.option("--branch", help="The branch to protect [default: the repository's default].")
@click.option(
    "--check",
    "check_name",
    default="gate",
    show_default=True,
    help="The gate's check name (the job name in .github/workflows/gate.yml).",
)
@click.option(
    "--approvals", default=1, show_default=True, type=click.IntRange(1, 6), help="Approvals needed."
)
@click.option("--repository", metavar="OWNER/NAME", help="[default: GITHUB_REPOSITORY / origin]")
@click.option("--dry-run", is_flag=True, help="Print what would change, change nothing.")
@click.pass_obj
def setup(
    settings: Settings,
    branch: str | None,
    check_name: str,
    approvals: int,
    repository: str | None,
    dry_run: bool,
) -> int:
    """Protect the default branch for the gate: required check from GitHub Actions, code-owner
    reviews, stale approvals dismissed, last push approved, no admin bypass."""
    from steward.forge.choose import origin_url
    from steward.forge.github import repository_from_remote
    from steward.forge.github_setup import setup_branch

    root = find_repo_root(settings.start)
    repo = repository or repository_from_remote(origin_url(root))
    forge = GitHubForge(GitHubSettings.from_environment(repo, settings.github_token))
    branch, planned = setup_branch(forge, branch, check_name, approvals, dry_run)
    for setting in planned:
        mark = "change" if setting.changes else "keep  "
        click.echo(f"{mark} {setting.name}: {setting.current!r} -> {setting.wanted!r}")
    verb = "would change" if dry_run else "changed"
    count = sum(s.changes for s in planned)
    click.echo(f"{verb} {count} setting(s) of {forge.settings.repository}@{branch}")
    return 0


@github.command()
@click.option(
    "--project",
    is_flag=True,
    help="Lock the dependencies and build requirements of ./pyproject.toml (Steward's own "
    "repository, which installs itself from the checked-out base) instead of model-steward.",
)
@click.option("--check", "check_only", is_flag=True, help="Only say whether the lock is current.")
@click.option("--index-url", metavar="URL", help="The package index to resolve from.")
@click.option(
    "--find-links",
    type=click.Path(file_okay=False, path_type=Path),
    help="Resolve from the distributions in this directory only (no index).",
)
@click.pass_obj
def lock(
    settings: Settings,
    project: bool,
    check_only: bool,
    index_url: str | None,
    find_links: Path | None,
) -> int:
    """Write .github/steward/requirements.txt: everything the gate and apply workflows install,
    pinned and hash-checked, for the workflows' Python; with --check, exit 1 if it is missing
    or no longer answers its inputs."""
    from steward.forge.install_lock import LOCK_PATH, check, project_inputs, render, resolve
    from steward.reading.scaffold import steward_spec

    root = find_repo_root(settings.start)
    inputs = project_inputs(root) if project else [steward_spec()]
    path = root / LOCK_PATH
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check_only:
        problems = check(current, inputs)
        for problem in problems:
            click.echo(problem)
        if not problems:
            click.echo(f"{LOCK_PATH} answers {len(inputs)} input(s)")
        return 1 if problems else 0
    text = render(resolve(inputs, index_url, find_links), inputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {LOCK_PATH}" + (" (unchanged)" if current == text else ""))
    return 0
