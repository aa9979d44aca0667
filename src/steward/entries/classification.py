"""What a model version inherits from its data, and whether a model's declaration covers it.

A version trained on a dataset inherits the dataset's own classifications and those of the
columns it used (`training.datasets[].columns`; none listed means all of them): a model trained
on one `pii` column has seen personal data, whatever the dataset as a whole is labelled. The
model declares its classification in `model.yaml`; `steward check` fails when that declaration
is lower than what any of its versions inherits, the gate conditions approvals on the union of
both, and cards, audit reports and exports show where each label came from.

Labels are a set, except the policy's `classification_levels` (lowest first), where declaring a
level covers every lower one: `confidential` covers an inherited `internal`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # `steward show` uses this module and may not import the models
    from steward.entries.models import DatasetEntry, DatasetRef, VersionEntry
    from steward.entries.plain_entries import PlainEntry


@dataclass(frozen=True)
class Inherited:
    """One label a version inherits, and where from (a dataset, or one of its columns)."""

    label: str
    dataset: str
    column: str | None = None

    @property
    def source(self) -> str:
        if self.column is None:
            return f"dataset {self.dataset}"
        return f"dataset {self.dataset}, column {self.column}"


@dataclass(frozen=True)
class DatasetUse:
    """A dataset a version was trained on, as the version cites it and as the registry knows
    it (`dataset` is None when `registry/datasets/<id>.yaml` is missing or unreadable)."""

    ref: DatasetRef | PlainEntry
    dataset: DatasetEntry | PlainEntry | None

    @property
    def id(self) -> str:
        return self.ref.id

    @property
    def version(self) -> str | None:
        return self.ref.version

    @property
    def columns(self) -> list[str]:
        """The columns the version used (all of the dataset's when it lists none)."""
        if self.dataset is None:
            return list(self.ref.columns)
        return used_columns(self.ref, self.dataset)

    @property
    def uri(self) -> str | None:
        """The URI the version cites, else the dataset's own."""
        if self.ref.uri is not None or self.dataset is None:
            return self.ref.uri
        return self.dataset.uri

    @property
    def inherited(self) -> list[Inherited]:
        """The dataset's own labels and those of the columns the version used."""
        if self.dataset is None:
            return []
        return inherited([self.ref], {self.ref.id: self.dataset})


def used_columns(ref: DatasetRef | PlainEntry, dataset: DatasetEntry | PlainEntry) -> list[str]:
    """The dataset's columns a version was trained on: the ones it lists, else all of them."""
    if not ref.columns:
        return [column.name for column in dataset.columns]
    return list(ref.columns)


def uses_column(ref: DatasetRef, column: str) -> bool:
    """Whether a version citing `ref` depends on `column` (listing none means all)."""
    return not ref.columns or column in ref.columns


def inherited(
    refs: Iterable[DatasetRef | PlainEntry], datasets: Mapping[str, DatasetEntry | PlainEntry]
) -> list[Inherited]:
    """Every label the datasets (and used columns) of `refs` carry, sorted, without repeats.
    A dataset missing from `datasets` contributes nothing here; `steward check` reports it."""
    found: set[Inherited] = set()
    for ref in refs:
        dataset = datasets.get(ref.id)
        if dataset is not None:
            columns = ((column.name, column.classification) for column in dataset.columns)
            found.update(inherited_from(ref.id, dataset.classification, columns, ref.columns))
    return sorted(found, key=_order)


def inherited_from(
    dataset: str,
    labels: Iterable[str],
    columns: Iterable[tuple[str, Iterable[str]]],
    cited: Collection[str],
) -> list[Inherited]:
    """What citing `dataset` (its own `labels`, its `columns` as (name, labels)) with the
    columns `cited` (none: all) passes on, sorted: the rule itself, for entries and for the
    compact records `steward check` works on."""
    found = {Inherited(label, dataset) for label in labels}
    for name, column_labels in columns:
        if not cited or name in cited:
            found.update(Inherited(label, dataset, name) for label in column_labels)
    return sorted(found, key=_order)


def _order(item: Inherited) -> tuple[str, str, str]:
    return (item.label, item.dataset, item.column or "")


def inherited_by_live_versions(
    versions: Iterable[VersionEntry], datasets: Mapping[str, DatasetEntry | PlainEntry]
) -> list[Inherited]:
    """What a model's versions inherit, retired ones left out: what its declared classification
    must cover (`steward check`, the audit's finding and the catalog count alike)."""
    refs = [
        ref for entry in versions if entry.stage != "retired" for ref in entry.training.datasets
    ]
    return inherited(refs, datasets)


def labels(found: Iterable[Inherited]) -> list[str]:
    return sorted({item.label for item in found})


def uncovered(
    declared: Iterable[str], inherited_labels: Iterable[str], levels: Sequence[str] = ()
) -> list[str]:
    """The inherited labels that `declared` does not cover, sorted. A level is covered by any
    declared level at or above it; any other label only by itself."""
    declared_set = set(declared)
    rank = {level: i for i, level in enumerate(levels)}
    declared_rank = max((rank[label] for label in declared_set if label in rank), default=-1)
    missing = set()
    for label in inherited_labels:
        if label in declared_set:
            continue
        if label in rank and rank[label] <= declared_rank:
            continue
        missing.add(label)
    return sorted(missing)


def unknown_columns(ref: DatasetRef, dataset: DatasetEntry) -> list[str]:
    """Columns a version says it used that its dataset's entry does not list."""
    known = {column.name for column in dataset.columns}
    return [column for column in ref.columns if column not in known]
