"""`steward site --federation FILE`: one catalog across the registries of a federation.

```
DIR/index.html                 the registries: URL, branch, the commit read, models, datasets,
                               each linked to its own site; those that could not be read (or only
                               as an older copy) are named at the top
DIR/datasets.html              the tables several registries register, matched by URI, each
                               registry's entry linked, with their classification conflicts
DIR/registries/<name>/         each registry's own site, built from its mirror (incremental as
                               `steward site` always is)
```

Built from the mirrors `steward federation sync` fetched; nothing is fetched here.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.entries.problems import Problem
from steward.errors import StewardError
from steward.federation.datasets import Conflict, Registered, all_conflicts, by_uri
from steward.federation.sources import Source, Unavailable, open_sources
from steward.federation.spec import Federation
from steward.reading.uses import UsesIndex, uses_index
from steward.site.build import (
    MANIFEST,
    SiteResult,
    _refuse_committed_files,
    _write_if_changed,
    asset_files,
    build_site,
)
from steward.site.html import Shell, dataset_page, link, page, table, text

REGISTRIES_DIR = "registries"


@dataclass
class FederatedSiteResult:
    out: Path
    sites: dict[str, SiteResult]
    unavailable: list[Unavailable]
    shared: int  # URIs registered by more than one registry
    conflicts: list[Conflict] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # sites of registries no longer listed

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    @property
    def problems(self) -> list[tuple[str, Problem]]:
        return [(name, p) for name, site in self.sites.items() for p in site.problems]

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "index": str(self.index),
            "registries": {name: site.as_dict() for name, site in self.sites.items()},
            "unavailable": [item.as_dict() for item in self.unavailable],
            "shared_datasets": self.shared,
            "conflicts": [conflict.as_dict() for conflict in self.conflicts],
            "removed": self.removed,
        }


def build_federated_site(
    federation: Federation, out: Path, base_url: str | None = None, repo: Path | None = None
) -> FederatedSiteResult:
    """Build (or bring up to date) the federation's catalog in `out`. `repo`: the repository
    holding the federation file, whose committed files `out` must not hold."""
    if repo is not None:
        _refuse_committed_files(repo, out)
    opened, unavailable = open_sources(federation)
    sites: dict[str, SiteResult] = {}
    sources: list[Source] = []
    indexes: list[tuple[str, UsesIndex]] = []
    for source in opened:
        sub_url = f"{base_url.rstrip('/')}/{REGISTRIES_DIR}/{source.name}/" if base_url else None
        target = out / REGISTRIES_DIR / source.name
        try:
            built = build_site(source.mirror, target, source.commit, sub_url)
            index = uses_index(source.snapshot())
        except StewardError as exc:  # a damaged mirror: named, and the others still built
            unavailable.append(Unavailable(source.name, f"its mirror cannot be read: {exc}"))
            continue
        sites[source.name] = built
        sources.append(source)
        indexes.append((source.name, index))
    shared = _shared(indexes)
    conflicts = all_conflicts(indexes)
    shell = Shell(_title(federation), base_url)
    pages = {
        "index.html": page(
            shell,
            path="index.html",
            title="Registries",
            body=_registries_body(sources, sites, unavailable),
        ),
        "datasets.html": page(
            shell,
            path="datasets.html",
            title="Shared datasets",
            body=_datasets_body(shared, conflicts),
        ),
    }
    pages.update(asset_files())
    for path, content in pages.items():
        _write_if_changed(out, path, content)
    _write_if_changed(out, ".gitignore", "*\n")
    listed = {member.name for member in federation.members}
    removed = _remove_unlisted(out / REGISTRIES_DIR, listed)
    return FederatedSiteResult(out, sites, unavailable, len(shared), conflicts, removed)


def _title(federation: Federation) -> str:
    return f"Steward federation {federation.path.parent.name or federation.path.name}"


def _remove_unlisted(directory: Path, listed: set[str]) -> list[str]:
    """Sites of registries the federation file no longer lists: only directories a build made
    (they hold its manifest), never anything else."""
    removed: list[str] = []
    if not directory.is_dir():
        return removed
    for child in sorted(directory.iterdir()):
        if child.name in listed or not (child / MANIFEST).is_file():
            continue
        shutil.rmtree(child)
        removed.append(f"{REGISTRIES_DIR}/{child.name}")
    return removed


def _shared(indexes: list[tuple[str, UsesIndex]]) -> dict[str, list[Registered]]:
    """The URIs more than one registry registers, with every registry's entry for each."""
    return {
        uri: entries
        for uri, entries in by_uri(indexes).items()
        if len({entry.registry for entry in entries}) > 1
    }


def _problems_section(anchor: str, heading: str, lines: list[str]) -> str:
    items = "".join(f"<li>{text(line)}</li>" for line in lines)
    return (
        f'<section class="problems" aria-labelledby="{anchor}"><h2 id="{anchor}">{heading}</h2>'
        f"<ul>{items}</ul></section>"
    )


def _registries_body(
    sources: list[Source], sites: dict[str, SiteResult], unavailable: list[Unavailable]
) -> str:
    parts = ["<h1>Registries</h1>"]
    if unavailable:
        lines = [item.render() for item in unavailable]
        parts.append(_problems_section("unread", "Not read as they are now", lines))
    rows = []
    for source in sources:
        site = sites[source.name]
        member = source.member
        rows.append(
            [
                link(f"{REGISTRIES_DIR}/{source.name}/index.html", source.name),
                text(member.url),
                text(member.branch),
                f"<code>{text(source.commit[:12])}</code>",
                text(site.models),
                text(site.datasets),
            ]
        )
    parts.append(
        table(["Registry", "URL", "Branch", "Commit", "Models", "Datasets"], rows, "Registries")
    )
    parts.append(
        f"<p>{link('datasets.html', 'Datasets shared across registries')}: the tables several "
        "registries train on, matched by URI.</p>"
    )
    return "\n".join(parts)


def _datasets_body(shared: dict[str, list[Registered]], conflicts: list[Conflict]) -> str:
    parts = ["<h1>Datasets shared across registries</h1>"]
    if conflicts:
        lines = [conflict.render() for conflict in conflicts]
        parts.append(_problems_section("conflicts", "Classification conflicts", lines))
    rows = []
    for uri, entries in shared.items():
        registered = "<br>".join(
            link(
                f"{REGISTRIES_DIR}/{e.registry}/{dataset_page(e.dataset.name)}",
                f"{e.registry}/{e.dataset.name}",
            )
            + f" ({text(', '.join(e.dataset.classification) or 'unclassified')})"
            for e in entries
        )
        rows.append([f"<code>{text(uri)}</code>", registered])
    if not rows:
        parts.append("<p>No table is registered by more than one registry.</p>")
    else:
        parts.append(table(["URI", "Registered as (classification)"], rows, "Shared datasets"))
    return "\n".join(parts)
