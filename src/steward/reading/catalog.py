"""Finding entries in the working tree of a registry: one model's versions, or all of them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from steward.entries import layout
from steward.entries.layout import Kind, Misplaced
from steward.entries.plain_entries import PlainEntry, plain_entry
from steward.entries.semver import precedence
from steward.entries.yamlio import loads
from steward.errors import StewardError, YamlError
from steward.reading.answers import Reads

if TYPE_CHECKING:
    from steward.entries.models import VersionEntry


def plain_entry_at(relative: str, kind: Kind, reads: Reads) -> PlainEntry | None:
    """The model, version or dataset entry at `relative` as `plain_entries` reads it, without
    pydantic; None if it is not sure of it (or the file cannot be read): then the entry models
    must answer, and name what is wrong."""
    try:
        data = loads(reads.read(relative), relative).data
    except (OSError, YamlError):
        return None
    return plain_entry(kind, data)


class NotFound(StewardError):
    """The model, version or stage asked for is not in the registry."""


def version_paths(root: Path, model: str | None = None, reads: Reads | None = None) -> list[str]:
    """Repo-relative paths of version entries, of one model or of all, in version order.

    `reads`: where one model's directory is read through, to record it (`answers.Reads`)."""
    if model is not None:
        reads = reads if reads is not None else Reads(root)
        directory = f"{layout.MODELS_DIR}/{model}"
        if not reads.is_file(f"{directory}/model.yaml"):
            raise NotFound(f"model '{model}' is not in the registry ({layout.model_path(model)})")
        places = []
        for name in reads.names(directory):
            if name == "model.yaml" or not name.endswith(".yaml"):  # as glob("*.yaml")
                continue
            try:
                places.append(layout.classify(f"{directory}/{name}"))
            except Misplaced as exc:
                raise NotFound(f"{directory}/{name}: {exc}") from None
    else:
        from steward.gitio.tree import WorktreeSnapshot

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


def versions(
    root: Path, model: str | None = None, reads: Reads | None = None
) -> Iterator[VersionEntry]:
    from steward.entries.validate import read_entry  # not for `version_paths`: `which` lists

    reads = reads if reads is not None else Reads(root)
    for relative in version_paths(root, model, reads):
        yield read_entry(root, relative, Kind.VERSION, reads.read)


def find_version(
    root: Path,
    model: str,
    version: str | None = None,
    stage: str | None = None,
    reads: Reads | None = None,
) -> VersionEntry:
    """The version of `model` named by number or by the stage it holds."""
    from steward.entries.validate import read_entry

    reads = reads if reads is not None else Reads(root)
    if version is not None:
        relative = layout.version_path(model, version)
        if not reads.is_file(relative):
            version_paths(root, model, reads)  # says so if the model itself is missing
            raise NotFound(f"{model} {version} is not registered ({relative} does not exist)")
        entry: VersionEntry = read_entry(root, relative, Kind.VERSION, reads.read)
        return entry
    holders = [entry for entry in versions(root, model, reads) if entry.stage == stage]
    if not holders:
        raise NotFound(f"no version of {model} is in {stage}")
    if len(holders) > 1:
        listed = ", ".join(entry.version for entry in holders)
        raise NotFound(f"{model} has {len(holders)} versions in {stage} ({listed}); name one")
    return holders[0]
