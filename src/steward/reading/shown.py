"""`steward show`: a model (owners, card, versions) or one version's facts and lineage.

Its own module so that the question imports only what it reads: one model's entries and the
datasets a version cites, never the policy or the whole registry's listing. When
`steward.entries.plain_entries` is sure of every file the answer reads, the answer is made of
its `PlainEntry`s, without importing pydantic; otherwise every file is read again and validated
by the entry models, which name the problems, exactly as before. Either way the answer is the
same (`tests/test_plain_entries.py` compares them). `steward.reading.queries` re-exports it
beside the other questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.entries import classification, layout
from steward.entries.card_sections import missing_sections
from steward.entries.layout import Kind
from steward.entries.names import format_timestamp, is_version
from steward.entries.plain_entries import CARD_SECTIONS, PlainEntry
from steward.entries.problems import Problem
from steward.errors import UsageError
from steward.reading import catalog
from steward.reading.answers import Reads
from steward.reading.whereabouts import require_model_name

if TYPE_CHECKING:
    from steward.entries.models import ModelEntry, VersionEntry
    from steward.entries.validate import Parsed

# --- show MODEL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelView:
    """A model as `show MODEL` tells it: who answers for it, its card, and its versions."""

    entry_path: str
    model: ModelEntry | PlainEntry
    versions: Sequence[VersionEntry | PlainEntry]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def card(self) -> dict[str, str | None]:
        """Every card section, None where it is not written: the gaps are what reviewers ask."""
        return {section: getattr(self.model.card, section) for section in CARD_SECTIONS}

    @property
    def missing_card_sections(self) -> list[str]:
        """Sections not filled in: empty, or a placeholder such as TODO
        (`card_sections.is_filled`)."""
        return missing_sections(self.model.card)

    @property
    def key_metrics(self) -> list[str]:
        """Metric names, the ones most versions report first: the columns worth comparing."""
        counts: dict[str, int] = {}
        for version in self.versions:
            for name in version.metrics:
                counts[name] = counts.get(name, 0) + 1
        return sorted(counts, key=lambda name: (-counts[name], name))

    def as_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "model": model.name,
            "entry": self.entry_path,
            "owner": model.owner,
            "team": model.team,
            "risk": model.risk,
            "classification": list(model.classification),
            "data_steward": model.data_steward,
            "description": model.description,
            "license": model.license,
            "tags": list(model.tags),
            "downstream": [consumer.model_dump(mode="json") for consumer in model.downstream],
            "card": self.card,
            "missing_card_sections": self.missing_card_sections,
            "versions": [
                {
                    "version": version.version,
                    "stage": version.stage,
                    "created_at": format_timestamp(version.created_at),
                    "created_by": version.created_by,
                    "metrics": dict(version.metrics),
                    "entry": layout.version_path(version.model, version.version),
                }
                for version in self.versions
            ],
            "problems": [problem.as_dict() for problem in self.problems],
        }


def show_model(root: Path, model: str, reads: Reads | None = None) -> ModelView:
    """The model `model` and all its versions; its own file must be readable, its versions'
    problems are collected. `reads`: records every file read (`answers`)."""
    require_model_name(model)
    reads = reads if reads is not None else Reads(root)
    paths = catalog.version_paths(root, model, reads)  # raises NotFound for no such model
    relative = layout.model_path(model)
    plain = catalog.plain_entry_at(relative, Kind.MODEL, reads)
    plain_versions = [catalog.plain_entry_at(path, Kind.VERSION, reads) for path in paths]
    if plain is not None and all(v is not None for v in plain_versions):
        return ModelView(relative, plain, [v for v in plain_versions if v is not None], [])
    from steward.entries.validate import read_entry

    entry: ModelEntry = read_entry(root, relative, Kind.MODEL, reads.read)
    versions: list[VersionEntry | PlainEntry] = []
    problems: list[Problem] = []
    for path in paths:
        parsed = parse_at(root, path, Kind.VERSION, reads)
        problems.extend(parsed.problems)
        if parsed.entry is not None:
            versions.append(parsed.entry)
    return ModelView(relative, entry, versions, problems)


# --- show MODEL@VERSION -----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetLineage(classification.DatasetUse):
    """A dataset a version was trained on, as `show MODEL@VERSION` tells it."""

    @property
    def column_classifications(self) -> dict[str, list[str]]:
        """Classifications of the columns the version used."""
        if self.dataset is None:
            return {}
        used = set(self.columns)
        return {
            c.name: list(c.classification)
            for c in self.dataset.columns
            if c.classification and c.name in used
        }

    @property
    def inherited_labels(self) -> list[str]:
        return classification.labels(self.inherited)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "uri": self.uri,
            "columns": self.columns,
            "registered": self.dataset is not None,
            "classification": list(self.dataset.classification) if self.dataset else None,
            "column_classifications": self.column_classifications,
            "inherited_classifications": self.inherited_labels,
        }


@dataclass(frozen=True)
class VersionView:
    """One version as `show MODEL@VERSION` tells it: its facts and what its data implies."""

    entry_path: str
    model: ModelEntry | PlainEntry
    version: VersionEntry | PlainEntry
    datasets: list[DatasetLineage]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def inherited_classifications(self) -> list[str]:
        """Every classification of every dataset the version was trained on."""
        labels: set[str] = set()
        for dataset in self.datasets:
            labels.update(dataset.inherited_labels)
        return sorted(labels)

    @property
    def pointer_path(self) -> str:
        return layout.pointer_path(self.version.model, self.version.version)

    def as_dict(self) -> dict[str, Any]:
        data = self.version.model_dump(mode="json")
        data["training"]["datasets"] = [dataset.as_dict() for dataset in self.datasets]
        return {
            "entry": self.entry_path,
            "pointer": self.pointer_path,
            "owner": self.model.owner,
            "team": self.model.team,
            "risk": self.model.risk,
            **data,
            "inherited_classifications": self.inherited_classifications,
            "declared_classifications": list(self.model.classification),
            "problems": [problem.as_dict() for problem in self.problems],
        }


def show_version(root: Path, model: str, version: str, reads: Reads | None = None) -> VersionView:
    """The version `version` of `model`, its datasets' classifications read from the registry.
    `reads`: records every file read (`answers`)."""
    require_model_name(model)
    if not is_version(version):
        raise UsageError(f"'{version}' is not a semantic version: write one such as 1.3.0")
    reads = reads if reads is not None else Reads(root)
    plain = _plain_version_view(model, version, reads)
    if plain is not None:
        return plain
    from steward.entries.validate import read_entry

    entry = catalog.find_version(root, model, version=version, reads=reads)
    model_entry: ModelEntry = read_entry(root, layout.model_path(model), Kind.MODEL, reads.read)
    datasets: list[DatasetLineage] = []
    problems: list[Problem] = []
    for ref in entry.training.datasets:
        parsed = parse_at(root, layout.dataset_path(ref.id), Kind.DATASET, reads)
        problems.extend(
            Problem(p.path, p.line, p.field, f"{p.message}; its classifications are unknown")
            for p in parsed.problems
        )
        datasets.append(DatasetLineage(ref, parsed.entry))
    return VersionView(layout.version_path(model, version), model_entry, entry, datasets, problems)


def _plain_version_view(model: str, version: str, reads: Reads) -> VersionView | None:
    """`show_version`'s answer if every file it reads is one `plain_entries` is sure of."""
    relative = layout.version_path(model, version)
    if not (reads.root / relative).is_file():
        return None  # the models' path says what is missing
    entry = catalog.plain_entry_at(relative, Kind.VERSION, reads)
    model_entry = catalog.plain_entry_at(layout.model_path(model), Kind.MODEL, reads)
    if entry is None or model_entry is None:
        return None
    datasets: list[DatasetLineage] = []
    for ref in entry.training.datasets:
        dataset = catalog.plain_entry_at(layout.dataset_path(ref.id), Kind.DATASET, reads)
        if dataset is None:  # missing or broken: its problems are the models' to name
            return None
        datasets.append(DatasetLineage(ref, dataset))
    return VersionView(relative, model_entry, entry, datasets, [])


# --- reading ----------------------------------------------------------------------------------


def parse_at(root: Path, relative: str, kind: Kind, reads: Reads | None = None) -> Parsed:
    """The entry at `relative`, or its problems: never raises for a bad or missing file."""
    from steward.entries.validate import Parsed, parse_file

    try:
        raw = reads.read(relative) if reads is not None else (root / relative).read_bytes()
    except FileNotFoundError:
        return Parsed(relative, None, None, [Problem(relative, None, "", "does not exist")])
    except OSError as exc:
        return Parsed(relative, None, None, [Problem(relative, None, "", str(exc.strerror))])
    return parse_file(kind, raw, relative)


def require_version(version: str) -> None:
    if not is_version(version):
        raise UsageError(f"'{version}' is not a semantic version: write one such as 1.3.0")
