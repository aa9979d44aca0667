"""Finding entries in the working tree of a registry: one model's versions, or all of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import VersionEntry
from steward.entries.semver import precedence
from steward.entries.validate import read_entry
from steward.errors import StewardError
from steward.gitio.tree import WorktreeSnapshot


class NotFound(StewardError):
    """The model, version or stage asked for is not in the registry."""


def version_paths(root: Path, model: str | None = None) -> list[str]:
    """Repo-relative paths of version entries, of one model or of all, in version order."""
    if model is not None:
        directory = root / layout.MODELS_DIR / model
        if not (directory / "model.yaml").is_file():
            raise NotFound(f"model '{model}' is not in the registry ({layout.model_path(model)})")
        places = []
        for path in directory.glob("*.yaml"):
            if path.name == "model.yaml":
                continue
            try:
                places.append(layout.classify(f"{layout.MODELS_DIR}/{model}/{path.name}"))
            except Misplaced as exc:
                raise NotFound(f"{layout.MODELS_DIR}/{model}/{path.name}: {exc}") from None
    else:
        places = []
        for file in WorktreeSnapshot(root).files():
            try:
                place = layout.classify(file.path)
            except Misplaced:
                continue
            places.append(place)
    versions = [
        (p.model, p.version)
        for p in places
        if p.kind is Kind.VERSION and p.model is not None and p.version is not None
    ]
    versions.sort(key=lambda mv: (mv[0], precedence(mv[1])))
    return [layout.version_path(m, v) for m, v in versions]


def versions(root: Path, model: str | None = None) -> Iterator[VersionEntry]:
    for relative in version_paths(root, model):
        yield read_entry(root, relative, Kind.VERSION)


def find_version(
    root: Path, model: str, version: str | None = None, stage: str | None = None
) -> VersionEntry:
    """The version of `model` named by number or by the stage it holds."""
    if version is not None:
        relative = layout.version_path(model, version)
        if not (root / relative).is_file():
            version_paths(root, model)  # says so if the model itself is missing
            raise NotFound(f"{model} {version} is not registered ({relative} does not exist)")
        entry: VersionEntry = read_entry(root, relative, Kind.VERSION)
        return entry
    holders = [entry for entry in versions(root, model) if entry.stage == stage]
    if not holders:
        raise NotFound(f"no version of {model} is in {stage}")
    if len(holders) > 1:
        listed = ", ".join(entry.version for entry in holders)
        raise NotFound(f"{model} has {len(holders)} versions in {stage} ({listed}); name one")
    return holders[0]
