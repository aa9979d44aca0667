"""Model cards: what is known about one version of a model, gathered from the registry at a
revision and from the history of that revision. Which sections are "filled in" is decided in
`steward.entries.card_sections`, shared with `steward show`, the gate and the audit.

Rendering (Markdown with a Hugging Face front matter) is in `steward.governance.modelcard_render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.aftermerge.history import Event, model_history
from steward.entries import classification, layout
from steward.entries.card_sections import filled_sections, missing_sections
from steward.entries.classification import Inherited
from steward.entries.models import (
    DatasetEntry,
    ModelEntry,
    VersionEntry,
)
from steward.entries.names import is_version
from steward.entries.plain_entries import PlainEntry
from steward.entries.problems import Problem
from steward.entries.semver import precedence
from steward.errors import UsageError
from steward.reading.catalog import NotFound
from steward.reading.registry_state import RegistryState, read_registry

# --- the facts of one card ----------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetUse(classification.DatasetUse):
    """A dataset a version was trained on, as cards and audit reports tell it."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.ref.id,
            "version": self.ref.version,
            "uri": self.uri,
            "columns": self.columns,
            "all_columns": not self.ref.columns,
            "registered": self.dataset is not None,
            "owner": self.dataset.owner if self.dataset else None,
            "classification": list(self.dataset.classification) if self.dataset else None,
            "inherited": [inherited_dict(item) for item in self.inherited],
        }


def inherited_dict(item: Inherited) -> dict[str, Any]:
    return {
        "label": item.label,
        "dataset": item.dataset,
        "column": item.column,
        "source": item.source,
    }


def dataset_uses(version: VersionEntry, datasets: dict[str, DatasetEntry]) -> list[DatasetUse]:
    return [DatasetUse(ref, datasets.get(ref.id)) for ref in version.training.datasets]


@dataclass(frozen=True)
class CardFacts:
    """Everything a model card says about one version, at commit `commit`.

    `events` are the version's registration and stage changes from history, newest first, each
    with who proposed, approved and merged it."""

    commit: str
    model: ModelEntry
    version: VersionEntry
    datasets: list[DatasetUse]
    events: list[Event]
    classification_levels: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def filled(self) -> frozenset[str]:
        return filled_sections(self.model.card)

    @property
    def missing(self) -> list[str]:
        return missing_sections(self.model.card)

    @property
    def inherited(self) -> list[Inherited]:
        return classification.inherited(self.version.training.datasets, self._registered())

    @property
    def uncovered(self) -> list[str]:
        """Inherited labels the model's declared classification does not cover."""
        return classification.uncovered(
            self.model.classification,
            classification.labels(self.inherited),
            self.classification_levels,
        )

    @property
    def promotions(self) -> list[Event]:
        """The stages the version entered after its registration, newest first."""
        registered = {e.commit for e in self.events if e.event == "registered"}
        return [e for e in self.events if e.event == "entered" and e.commit not in registered]

    def _registered(self) -> dict[str, DatasetEntry | PlainEntry]:
        return {use.ref.id: use.dataset for use in self.datasets if use.dataset is not None}


def default_version(versions: list[VersionEntry]) -> VersionEntry | None:
    """The version a card is about when none is named: the production holder (the highest, if
    a stage that is not `single` has several), else the highest version."""
    by_precedence = sorted(versions, key=lambda entry: precedence(entry.version), reverse=True)
    in_production = [entry for entry in by_precedence if entry.stage == "production"]
    if in_production:
        return in_production[0]
    return by_precedence[0] if by_precedence else None


def model_card(root: Path, model: str, version: str | None = None, rev: str = "HEAD") -> CardFacts:
    """The facts of the card of `model` (at `version`, else the default version) at `rev`."""
    if version is not None and not is_version(version):
        raise UsageError(f"'{version}' is not a semantic version: write one such as 1.3.0")
    state = read_registry(root, rev, model)
    return card_facts(root, state, model, version)


def card_facts(root: Path, state: RegistryState, model: str, version: str | None) -> CardFacts:
    """The card of one version from an already-read registry state."""
    versions = state.versions_of(model)
    if version is None:
        chosen = default_version(versions)
        if chosen is None:
            raise NotFound(f"{model} has no version registered at {state.commit[:12]}")
    else:
        found = [entry for entry in versions if entry.version == version]
        if not found:
            raise NotFound(
                f"{model} {version} is not registered at {state.commit[:12]} "
                f"({layout.version_path(model, version)})"
            )
        chosen = found[0]
    history = model_history(root, model, state.commit)
    events = [event for event in history.events if event.version == chosen.version]
    uses = dataset_uses(chosen, state.datasets)
    wanted = {layout.model_path(model), layout.version_path(model, chosen.version)}
    wanted |= {layout.dataset_path(use.ref.id) for use in uses}
    wanted.add(layout.POLICY_FILE)  # its classification levels decide what is covered
    # Choosing the default version reads every version of the model: an unreadable one may be
    # the production holder the card should describe, so the card must not pass for its card.
    model_dir = f"{layout.MODELS_DIR}/{model}/" if version is None else None
    return CardFacts(
        commit=state.commit,
        model=state.models[model],
        version=chosen,
        datasets=uses,
        events=events,
        classification_levels=list(state.policy.classification_levels) if state.policy else [],
        problems=[
            problem
            for problem in state.problems
            if problem.path in wanted or (model_dir and problem.path.startswith(model_dir))
        ],
    )
