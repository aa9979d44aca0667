"""`steward export --federation FILE`: every registry's catalog (or OpenLineage events) in one
document, and the datasets that several registries register, by URI, with their conflicts.

```
{"format": "steward-federation-catalog", "format_version": 1, "complete": true,
 "registries": [{"name", "url", "branch", "commit", "catalog": {<its steward-catalog>}}],
 "shared_datasets": [{"uri", "datasets": [{"registry", "dataset", ...}], "conflicts": [...]}],
 "unavailable": [{"registry", "reason"}]}
```

OpenLineage events keep their format; each registry's jobs get the namespace
`<NS>/<registry>` (NS defaults to `steward://federation`), while datasets keep the namespaces
their URIs give, so the same table is one dataset in a lineage backend whichever team used it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.federation.datasets import Registered, conflicts, normalize_uri, registered
from steward.federation.sources import RegistryProblem, Source, Unavailable, open_sources
from steward.federation.spec import Federation
from steward.governance.export_catalog import export_catalog
from steward.governance.export_openlineage import export_events
from steward.reading.contents import RegistryContents, read_contents
from steward.reading.uses import uses_index

FORMAT = "steward-federation-catalog"
FORMAT_VERSION = 1
DEFAULT_NAMESPACE = "steward://federation"


@dataclass(frozen=True)
class FederatedContents:
    registries: list[tuple[Source, RegistryContents]]
    unavailable: list[Unavailable]

    @property
    def problems(self) -> list[RegistryProblem]:
        return [
            RegistryProblem(source.name, problem)
            for source, contents in self.registries
            for problem in contents.problems
        ]

    @property
    def complete(self) -> bool:
        return not self.unavailable and not self.problems


def read_federation(federation: Federation, with_policy: bool = False) -> FederatedContents:
    sources, unavailable = open_sources(federation)
    return FederatedContents(
        [(s, read_contents(s.snapshot(), with_policy=with_policy)) for s in sources], unavailable
    )


def federated_catalog(found: FederatedContents) -> dict[str, Any]:
    indexes = [(source.name, uses_index(source.snapshot())) for source, _ in found.registries]
    uris = sorted({normalize_uri(d.uri) for _, index in indexes for d in index.datasets.values()})
    shared = []
    for uri in uris:
        entries: list[Registered] = registered(indexes, uri)
        if len(entries) > 1:
            shared.append(
                {
                    "uri": uri,
                    "datasets": [entry.as_dict() for entry in entries],
                    "conflicts": [item.as_dict() for item in conflicts(uri, entries)],
                }
            )
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "complete": found.complete,
        "registries": [
            {**source.as_dict(), "catalog": export_catalog(contents)}
            for source, contents in found.registries
        ],
        "shared_datasets": shared,
        "unavailable": [item.as_dict() for item in found.unavailable],
    }


def federated_events(found: FederatedContents, namespace: str | None) -> list[dict[str, Any]]:
    base = (namespace or DEFAULT_NAMESPACE).rstrip("/")
    events = [
        event
        for source, contents in found.registries
        for event in export_events(contents, f"{base}/{source.name}")
    ]
    return sorted(events, key=lambda event: str(event.get("eventTime", "")))
