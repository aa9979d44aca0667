"""`steward show` and `steward which` with `--federation`: one model, found in whichever
registry holds it.

A model name may be used by several registries: `REGISTRY/MODEL` names one, a bare `MODEL` must
be in exactly one of the registries read (else the error lists them). Each answer is the single
registry's own (`ModelView`, `VersionView`, `Whereabouts`), read from the mirror at its branch
with `read_contents` (only that model's files and the datasets), and the registry it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.entries import dvcconfig, layout
from steward.entries.problems import Problem
from steward.entries.validate import EntryError
from steward.errors import UsageError
from steward.federation.sources import Source, Unavailable, open_sources, split_target
from steward.federation.spec import Federation
from steward.reading import queries
from steward.reading.catalog import NotFound
from steward.reading.contents import RegistryContents, read_contents
from steward.reading.queries import DatasetLineage, ModelView, VersionView, Whereabouts


@dataclass(frozen=True)
class Found:
    """One registry's answer about a model, and the registries that could not be searched."""

    source: Source
    answer: ModelView | VersionView | Whereabouts
    unavailable: list[Unavailable]

    def as_dict(self) -> dict[str, Any]:
        return {
            "registry": self.source.name,
            "registry_commit": self.source.commit,
            **self.answer.as_dict(),
            "unavailable": [item.as_dict() for item in self.unavailable],
        }


def show(federation: Federation, target: str, version: str | None) -> Found:
    """`show [REGISTRY/]MODEL[@VERSION]` across the federation."""
    source, model, unavailable = locate(federation, target)
    contents = read_contents(source.snapshot(), model=model)
    entry = _model_entry(contents, model)
    versions = contents.versions_of(model)
    prefix = f"{layout.MODELS_DIR}/{model}/"
    if version is None:
        problems = [p for p in contents.problems if p.path.startswith(prefix)]
        return Found(
            source, ModelView(layout.model_path(model), entry, versions, problems), unavailable
        )
    queries.require_version(version)
    chosen = next((v for v in versions if v.version == version), None)
    if chosen is None:
        path = layout.version_path(model, version)
        broken = [p.render() for p in contents.problems if p.path == path]
        if broken:
            raise EntryError(
                f"{source.name}: {path} has problems; fix them first:\n" + "\n".join(broken)
            )
        raise NotFound(
            f"{model} {version} is not registered in {source.name} ({path} does not exist)"
        )
    cited = {layout.dataset_path(ref.id) for ref in chosen.training.datasets}
    problems = [
        Problem(p.path, p.line, p.field, f"{p.message}; its classifications are unknown")
        for p in contents.problems
        if p.path in cited
    ]
    datasets = [
        DatasetLineage(ref, contents.datasets.get(ref.id)) for ref in chosen.training.datasets
    ]
    view = VersionView(layout.version_path(model, version), entry, chosen, datasets, problems)
    return Found(source, view, unavailable)


def which(federation: Federation, target: str, stage: str) -> Found:
    """`which [REGISTRY/]MODEL STAGE` across the federation; the DVC remote is the one the
    registry's committed `.dvc/config` names."""
    source, model, unavailable = locate(federation, target)
    snapshot = source.snapshot()
    contents = read_contents(snapshot, model=model, with_policy=True)
    prefix = f"{layout.MODELS_DIR}/{model}/"
    broken = [p.render() for p in contents.problems if p.path.startswith(prefix)]
    if broken:
        # As `which` in one registry: a broken version could be the real holder.
        raise EntryError(f"{source.name}: files of {model} have problems:\n" + "\n".join(broken))
    policy = contents.policy

    def single_stages() -> set[str]:
        if policy is None:
            raise EntryError(f"{source.name}: {layout.POLICY_FILE} cannot be read")
        return policy.single_stages()

    def remote() -> dvcconfig.DefaultRemote:
        raw = snapshot.read_path(dvcconfig.CONFIG_FILE)
        return dvcconfig.default_remote_committed(raw.decode("utf-8", "replace") if raw else None)

    try:
        found = queries.whereabouts(
            model, stage, contents.versions_of(model), single_stages, remote
        )
    finally:
        snapshot.close()
    return Found(source, found, unavailable)


def locate(federation: Federation, target: str) -> tuple[Source, str, list[Unavailable]]:
    """The registry holding the model `target` names (`REGISTRY/MODEL` or `MODEL`), the model's
    name, and the registries that could not be searched."""
    registry, model = split_target(target, federation.names())
    queries.require_model_name(model)
    sources, unavailable = open_sources(federation)
    if registry is not None:
        source = next((s for s in sources if s.name == registry), None)
        if source is None:
            reason = next(u.reason for u in unavailable if u.registry == registry)
            raise NotFound(f"registry {registry} cannot be read: {reason}")
        if not _holds(source, model):
            raise NotFound(
                f"model '{model}' is not in registry {registry} ({layout.model_path(model)})"
            )
        return source, model, unavailable
    holders = [source for source in sources if _holds(source, model)]
    if len(holders) > 1:
        names = ", ".join(source.name for source in holders)
        raise UsageError(
            f"model '{model}' is in {len(holders)} registries ({names}): name one, as "
            f"REGISTRY/{model}"
        )
    if not holders:
        read = ", ".join(source.name for source in sources) or "none"
        gaps = "; ".join(item.render() for item in unavailable)
        raise NotFound(
            f"model '{model}' is in none of the registries read ({read})"
            + (f"; not searched: {gaps}" if gaps else "")
        )
    return holders[0], model, unavailable


def _holds(source: Source, model: str) -> bool:
    snapshot = source.snapshot()
    try:
        return bool(snapshot.files(only=[f"{layout.MODELS_DIR}/{model}"]))
    finally:
        snapshot.close()


def _model_entry(contents: RegistryContents, model: str) -> Any:
    entry = contents.models.get(model)
    if entry is None:
        path = layout.model_path(model)
        broken = [p.render() for p in contents.problems if p.path == path]
        details = "\n".join(broken) or f"{path} does not exist"
        raise EntryError(f"{contents.source}: {path} has problems; fix them first:\n{details}")
    return entry
