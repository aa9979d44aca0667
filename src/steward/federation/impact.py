"""`steward impact --federation FILE`: every version, in every registry, that depends on a
dataset, production first, with the owners to notify; and the registries that label the
dataset differently.

The dataset is named as in one registry (`ID`, or `REGISTRY/ID` when registries use one id for
different URIs); what is looked for everywhere is its URI (`federation.datasets`). A version
depends on it, on its version `V` and on its column `C` by the rules of a single registry's
impact (`steward.governance.impact`), with the same reasons (naming the id the version cites);
each row names its registry. Rows are production first, then staging, development, archived,
each stage by registry (in the federation file's order), model and version precedence.

Fails closed: a registry that could not be read (never synced) or a file that could not be read
makes the answer incomplete, and the command exits 1, since the missing registry might hold a
production version that depends on the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from steward.entries import layout
from steward.entries.names import is_name
from steward.errors import UsageError
from steward.federation.datasets import (
    Conflict,
    Registered,
    conflicts,
    normalize_uri,
    registered,
)
from steward.federation.sources import RegistryProblem, Source, Unavailable, open_sources
from steward.federation.spec import Federation
from steward.governance.impact import MATCH_RANK, Question, Reasons, answerable
from steward.governance.notify import STAGE_ORDER, Notify, gather
from steward.reading.uses import ModelFacts, UsesIndex, VersionUse, uses_index


class Affected(NamedTuple):
    """One version, of one registry, that depends on the dataset (cited as `dataset`), and why.
    A named tuple: an answer may hold 100,000 of them."""

    registry: str
    entry: str
    model_name: str
    version: str
    stage: str
    created_at: str
    model: ModelFacts | None
    dataset: str
    dataset_version: str | None
    columns: tuple[str, ...]
    reasons: tuple[str, ...]
    version_match: str  # exact | unversioned | any (no --version asked) | other

    def notify(self) -> list[tuple[str, str]]:
        model = self.model
        return answerable(model, f"{self.registry}/{model.name}" if model else "")

    def as_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "registry": self.registry,
            "model": self.model_name,
            "version": self.version,
            "stage": self.stage,
            "entry": self.entry,
            "dataset": self.dataset,
            "dataset_version": self.dataset_version,
            "version_match": self.version_match,
            "columns": list(self.columns) or None,
            "reasons": list(self.reasons),
            "owner": model.owner if model else None,
            "data_steward": model.data_steward if model else None,
            "risk": model.risk if model else None,
            "consumers": [
                {"name": name, "owner": owner}
                for name, owner in (model.downstream if model else ())
            ],
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class FederatedImpact:
    question: Question
    registry: str | None  # as asked: REGISTRY/ID
    uri: str
    datasets: list[Registered]  # every registry's entry for the URI
    affected: list[Affected]  # not retired, production first
    retired: list[Affected]
    other_versions: list[Affected]
    notify: list[Notify]
    conflicts: list[Conflict]
    sources: list[Source]
    unavailable: list[Unavailable]
    problems: list[RegistryProblem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems and not self.unavailable

    @property
    def production(self) -> list[Affected]:
        return [item for item in self.affected if item.stage == "production"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": {**self.question.as_dict(), "registry": self.registry},
            "uri": self.uri,
            "datasets": [entry.as_dict() for entry in self.datasets],
            "complete": self.complete,
            "production_affected": bool(self.production),
            "affected": [item.as_dict() for item in self.affected],
            "retired": [item.as_dict() for item in self.retired],
            "other_versions": [item.as_dict() for item in self.other_versions],
            "notify": [item.as_dict() for item in self.notify],
            "conflicts": [item.as_dict() for item in self.conflicts],
            "registries": [source.as_dict() for source in self.sources],
            "unavailable": [item.as_dict() for item in self.unavailable],
            "problems": [problem.as_dict() for problem in self.problems],
        }


def federated_impact(
    federation: Federation, dataset: str, version: str | None, column: str | None
) -> FederatedImpact:
    """Every version of every registry read that depends on the dataset `dataset` names
    (`ID` or `REGISTRY/ID`), or on its version or column."""
    registry, _, name = dataset.rpartition("/")
    if registry and registry not in federation.names():
        listed = ", ".join(federation.names())
        raise UsageError(f"no registry '{registry}' in the federation (it has: {listed})")
    if not is_name(name):
        raise UsageError(
            f"'{name}' is not a dataset name: 1 to 64 lowercase letters, digits, '.', '_' or '-'"
        )
    question = Question(name, version, column)
    sources, unavailable = open_sources(federation)
    indexes = [(source.name, uses_index(source.snapshot())) for source in sources]
    uri = _uri_of(indexes, registry or None, name, unavailable)
    entries = registered(indexes, uri)
    _check_column(entries, column, uri)
    affected: list[Affected] = []
    retired: list[Affected] = []
    other: list[Affected] = []
    # Registries in the file's order, each's versions by model and precedence (as its index
    # keeps them): sorting by stage alone, stably, then orders production first.
    matcher = _Matcher(uri, question)
    for source_name, index in indexes:
        cited_as = {
            dataset_id
            for dataset_id, entry in index.datasets.items()
            if normalize_uri(entry.uri) == uri
        }
        for use in index.versions:
            found = matcher.dependency(source_name, index, use, cited_as)
            if found is None:
                continue
            if found.version_match == "other":
                other.append(found)
            elif found.stage == "retired":
                retired.append(found)
            else:
                affected.append(found)
    affected.sort(key=_order)
    problems = [
        RegistryProblem(source_name, problem)
        for source_name, index in indexes
        for problem in index.problems
    ]
    return FederatedImpact(
        question,
        registry or None,
        uri,
        entries,
        affected,
        sorted(retired, key=_order),
        sorted(other, key=_order),
        _notify(affected),
        conflicts(uri, entries),
        sources,
        unavailable,
        problems,
    )


def _uri_of(
    indexes: list[tuple[str, UsesIndex]],
    registry: str | None,
    name: str,
    unavailable: list[Unavailable],
) -> str:
    """The URI the dataset `name` has in the registries read (only `registry`'s if given)."""
    candidates = [
        (source_name, index.datasets.get(name))
        for source_name, index in indexes
        if (registry is None or source_name == registry) and name in index.dataset_paths
    ]
    if not candidates:
        where = f"registry {registry}" if registry else "any registry read"
        gaps = "; ".join(item.render() for item in unavailable)
        raise UsageError(
            f"no dataset '{name}' in {where} ({layout.dataset_path(name)} does not exist)"
            + (f"; not read: {gaps}" if gaps else "")
        )
    uris = {
        source_name: normalize_uri(entry.uri)
        for source_name, entry in candidates
        if entry is not None
    }
    if not uris:
        listed = ", ".join(source_name for source_name, _ in candidates)
        raise UsageError(
            f"dataset '{name}' cannot be read in {listed} ({layout.dataset_path(name)}): "
            "its URI is unknown; run `steward check` there"
        )
    if len(set(uris.values())) > 1:
        told = "; ".join(f"{source_name}: {uri}" for source_name, uri in uris.items())
        raise UsageError(
            f"dataset '{name}' is a different URI in different registries ({told}): name one, "
            f"as REGISTRY/{name}"
        )
    return next(iter(uris.values()))


def _check_column(entries: list[Registered], column: str | None, uri: str) -> None:
    if column is None or not entries:
        return
    known = {name for entry in entries for name, _ in entry.dataset.columns}
    if column not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise UsageError(f"no registry describes a column '{column}' of {uri} (known: {listed})")


class _Matcher:
    """Whether a version depends on the dataset at `uri`, as `question` asks. Up to 100,000
    versions are asked in one answer, so what repeats is computed once: a URI's normal form,
    a reference's reasons (shared, immutable), and the rows are built without the named
    tuple's Python `__new__`."""

    def __init__(self, uri: str, question: Question) -> None:
        self.uri = uri
        self.question = question
        self._uris: dict[str, bool] = {}
        self._reasons = Reasons(question, naming_the_id=True)

    def dependency(
        self, registry: str, index: UsesIndex, use: VersionUse, cited_as: set[str]
    ) -> Affected | None:
        """The version `use`'s dependency on the dataset (its registry registers the URI under
        the ids `cited_as`): a reference's own URI decides, else the id it cites; of several
        references, the one that binds the version most."""
        path, model, version, stage, created_at, refs = use
        best: Affected | None = None
        for ref in refs:
            ref_id, _, ref_uri, columns = ref
            if not (self._same_uri(ref_uri) if ref_uri else ref_id in cited_as):
                continue
            column = self.question.column
            if column is not None and columns and column not in columns:
                continue
            match, reasons = self._reasons.of(ref)
            if best is not None and MATCH_RANK[match] >= MATCH_RANK[best.version_match]:
                continue
            best = tuple.__new__(
                Affected,
                (
                    registry, path, model, version, stage, created_at, index.models.get(model),
                    ref_id, ref[1], columns, reasons, match,
                ),
            )  # fmt: skip
        return best

    def _same_uri(self, ref_uri: str) -> bool:
        same = self._uris.get(ref_uri)
        if same is None:
            same = self._uris[ref_uri] = normalize_uri(ref_uri) == self.uri
        return same


_STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGE_ORDER)}


def _order(item: Affected) -> int:
    return _STAGE_RANK.get(item.stage, len(STAGE_ORDER))


def _notify(affected: list[Affected]) -> list[Notify]:
    """As one registry's impact, across every registry: each principal once."""
    return gather(item.notify() for item in _one_per_model(affected))


def _one_per_model(affected: list[Affected]) -> list[Affected]:
    """The first affected version of each model: the versions of one model notify the same."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for item in affected:
        if (item.registry, item.model_name) not in seen:
            seen.add((item.registry, item.model_name))
            kept.append(item)
    return kept
