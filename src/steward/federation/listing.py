"""`steward list --federation FILE`: every registry's versions, each row naming its registry.

Each registry's listing comes from `queries.list_versions_at`, cached in its mirror under its
tree's id (rows and their `--json` text), so a warm federated list is one `rev-parse` and one
cache read per registry. The `registry` field is put into each cached row's JSON text as the
text is joined, not by building the rows again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from steward.federation.sources import RegistryProblem, Source, Unavailable, open_sources
from steward.federation.spec import Federation
from steward.reading.listing import NO_FILTERS, Filters, Listing, VersionRow, cached_listing

# Each row of a listing's `--json` text starts with this line (items are indented by two).
_ROW_START = "\n  {\n"


@dataclass(frozen=True)
class RegistryListing:
    source: Source
    listing: Listing
    filtered: bool  # rows narrowed by filters: the cached whole text does not hold them

    def json_rows(self) -> str:
        """The rows' JSON objects, comma-joined, each with `registry` first."""
        field = f'{_ROW_START}    "registry": {json.dumps(self.source.name)},\n'
        if self.filtered:
            text = ",".join("\n" + row.json for row in self.listing.rows)
        else:
            text = self.listing.to_json()
            if text == "[]":
                return ""
            text = text[1:-2]  # "[" ... "\n]" off: "\n  {...},\n  {...}"
        return text.replace(_ROW_START, field)


@dataclass(frozen=True)
class FederatedListing:
    registries: list[RegistryListing]
    unavailable: list[Unavailable]

    @property
    def problems(self) -> list[RegistryProblem]:
        return [
            RegistryProblem(item.source.name, problem)
            for item in self.registries
            for problem in item.listing.problems
        ]

    @property
    def ok(self) -> bool:
        return not self.unavailable and not self.problems

    def rows(self) -> list[tuple[str, VersionRow]]:
        return [(item.source.name, row) for item in self.registries for row in item.listing.rows]

    def to_json(self) -> str:
        parts = [text for item in self.registries if (text := item.json_rows())]
        versions = ("[" + ",".join(parts) + "\n]").replace("\n", "\n  ") if parts else "[]"
        head: dict[str, Any] = {
            "registries": [item.source.as_dict() for item in self.registries],
            "unavailable": [item.as_dict() for item in self.unavailable],
            "problems": [problem.as_dict() for problem in self.problems],
        }
        # "versions" last, its rows' text (indented as items of a top-level list) moved in by one.
        body = json.dumps(head, indent=2)[:-2]
        return f'{body},\n  "versions": {versions}\n}}'


def federated_list(federation: Federation, filters: Filters) -> FederatedListing:
    if filters.model is not None:  # as `steward list` refuses it (a name is a path component)
        from steward.reading.queries import require_model_name

        require_model_name(filters.model)
    sources, unavailable = open_sources(federation)
    registries = []
    for source in sources:
        snapshot = source.snapshot()
        # From the cache without importing the entry models (as `steward list` does).
        listing = cached_listing(snapshot, NO_FILTERS)
        if listing is None:
            from steward.reading import queries

            listing = queries.list_versions_at(snapshot)
        narrowed = _narrowed(listing, filters)
        registries.append(RegistryListing(source, narrowed, narrowed is not listing))
    return FederatedListing(registries, unavailable)


def _narrowed(listing: Listing, filters: Filters) -> Listing:
    if filters == Filters():
        return listing
    owner = filters.owner.casefold() if filters.owner is not None else None
    rows = [
        row
        for row in listing.rows
        if (filters.stage is None or row.stage == filters.stage)
        and (filters.model is None or row.model == filters.model)
        and (owner is None or (row.owner is not None and row.owner.casefold() == owner))
        and (filters.tag is None or filters.tag in row.tags)
    ]
    return Listing(rows, listing.problems)
