"""Datasets across registries: the same URI is the same data, whatever each registry calls it.

Two registries may register one table under different ids (`transactions`, `txn`); what makes
them one dataset is the URI (compared without a trailing slash). A version's reference belongs
to a URI through its own `uri` when it gives one, else through the id it cites in its own
registry. Registries that label one URI differently (dataset-level classifications, or a
column's) are a conflict, reported wherever the URI appears, never resolved silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from steward.entries import layout
from steward.reading.uses import DatasetFacts, RefUse, UsesIndex


def normalize_uri(uri: str) -> str:
    """The form URIs are compared in: only a trailing slash is dropped (`s3://lake/t/` is
    `s3://lake/t`); case and everything else count."""
    return uri.rstrip("/") or uri


@dataclass(frozen=True)
class Registered:
    """One registry's entry for a URI."""

    registry: str
    dataset: DatasetFacts

    def as_dict(self) -> dict[str, Any]:
        data = self.dataset
        return {
            "registry": self.registry,
            "dataset": data.name,
            "entry": layout.dataset_path(data.name),
            "uri": data.uri,
            "owner": data.owner,
            "classification": list(data.classification),
            "column_classifications": {
                name: list(labels) for name, labels in data.columns if labels
            },
        }


@dataclass(frozen=True)
class Conflict:
    """Registries that label one URI (or one of its columns) differently."""

    uri: str
    what: str  # "classification", or "column NAME"
    labels: dict[str, list[str]]  # "registry/dataset" -> its labels

    def as_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "what": self.what, "labels": self.labels}

    def render(self) -> str:
        told = "; ".join(
            f"{where}: {', '.join(labels) or '(none)'}" for where, labels in self.labels.items()
        )
        return f"CONFLICT: {self.uri} {self.what} is labelled differently: {told}"


def registered(indexes: Iterable[tuple[str, UsesIndex]], uri: str) -> list[Registered]:
    """Every registry's dataset entries whose URI is `uri` (normalized)."""
    return [
        Registered(registry, dataset)
        for registry, index in indexes
        for dataset in index.datasets.values()
        if normalize_uri(dataset.uri) == uri
    ]


def conflicts(uri: str, entries: list[Registered]) -> list[Conflict]:
    """How the entries for one URI disagree: their own classifications, and each column that
    several of them describe."""
    found: list[Conflict] = []
    if len(entries) < 2:
        return found
    own = {_where(e): sorted(e.dataset.classification) for e in entries}
    if len({tuple(labels) for labels in own.values()}) > 1:
        found.append(Conflict(uri, "classification", own))
    columns: dict[str, dict[str, list[str]]] = {}
    for entry in entries:
        for name, labels in entry.dataset.columns:
            columns.setdefault(name, {})[_where(entry)] = sorted(labels)
    for name in sorted(columns):
        told = columns[name]
        if len(told) > 1 and len({tuple(labels) for labels in told.values()}) > 1:
            found.append(Conflict(uri, f"column {name}", told))
    return found


def by_uri(indexes: Iterable[tuple[str, UsesIndex]]) -> dict[str, list[Registered]]:
    """Every registry's dataset entries grouped by URI (normalized), URIs in order, each URI's
    entries as `registered` lists them."""
    grouped: dict[str, list[Registered]] = {}
    for registry, index in indexes:
        for dataset in index.datasets.values():
            grouped.setdefault(normalize_uri(dataset.uri), []).append(Registered(registry, dataset))
    return dict(sorted(grouped.items()))


def all_conflicts(indexes: list[tuple[str, UsesIndex]]) -> list[Conflict]:
    """Every URI registered in more than one place, and how its entries disagree."""
    return [c for uri, entries in by_uri(indexes).items() for c in conflicts(uri, entries)]


def ref_uri(ref: RefUse, index: UsesIndex) -> str | None:
    """The URI a reference is to: its own, else its registry's dataset's; None if neither."""
    ref_id, _version, own_uri, _columns = ref
    if own_uri:
        return normalize_uri(own_uri)
    dataset = index.datasets.get(ref_id)
    return normalize_uri(dataset.uri) if dataset is not None else None


def _where(entry: Registered) -> str:
    return f"{entry.registry}/{entry.dataset.name}"
