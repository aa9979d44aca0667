"""Reading and rendering what a build found stale: the entries of those models (each blob parsed
once, with one `git cat-file`), their histories, lineage graphs and layouts, and their pages;
the datasets whose pages changed. Imported only when there is something to write: an
up-to-date site is checked without loading the entry models."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.aftermerge.history import Event, model_histories, model_history
from steward.entries import layout
from steward.entries.classification import inherited_by_live_versions, labels, used_columns
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry, format_timestamp
from steward.entries.policy import Policy
from steward.entries.problems import Problem, sorted_problems
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.gitio.changelog import Landed, changes_by_model
from steward.gitio.gitcmd import CatFile
from steward.governance.lineage import model_lineage
from steward.reading.catalog import NotFound
from steward.reading.contents import RegistryContents
from steward.site import catalog_pages as catalog
from steward.site.html import EntryLink, code, text
from steward.site.lineage_svg import dot_layouts
from steward.site.model_page import ModelInputs, render_model
from steward.site.plan import Blob, RegistryTree

# Fewer stale models than this read their histories one by one (an indexed question each);
# more read every model's at once (one pass over the whole index).
ONE_BY_ONE = 20
# Models rendered together: their entries, histories and graphs are held at once.
CHUNK = 500
_REGULAR = ("100644", "100755")


@dataclass
class RenderedModel:
    body: str
    row: dict[str, Any]
    uses: list[catalog.DatasetUse]
    cited: dict[str, str | None]


class Reader:
    """Parses only what the stale pages need, each blob once, with one `git cat-file`."""

    def __init__(self, root: Path, tree: RegistryTree) -> None:
        self._tree = tree
        self._cat = CatFile(root)
        self._datasets: dict[str, DatasetEntry] = {}
        self._tried: set[str] = set()
        self.problems: list[Problem] = []

    def close(self) -> None:
        self._cat.close()

    def _parse(self, blob: Blob, kind: Kind) -> Any:
        if blob.mode not in _REGULAR:
            self.problems.append(Problem(blob.path, None, "", "not read: not a regular file"))
            return None
        parsed = parse_file(kind, self._cat.read(blob.oid), blob.path)
        self.problems.extend(parsed.problems)
        return parsed.entry

    def dataset_oid(self, name: str) -> str | None:
        """The blob of the dataset's file (None: it has none): what a page citing it shows."""
        blob = self._tree.datasets.get(name)
        return blob.oid if blob is not None else None

    def dataset(self, name: str) -> tuple[DatasetEntry | None, list[Problem]]:
        """The dataset's entry (None: it does not read) and its problems, parsed once whatever
        the answer: a page shows each problem once, whichever pages this reader read before."""
        if name not in self._tried:
            self._tried.add(name)
            entry = self._parse(self._tree.datasets[name], Kind.DATASET)
            if isinstance(entry, DatasetEntry):
                self._datasets[name] = entry
        path = layout.dataset_path(name)
        return self._datasets.get(name), [p for p in self.problems if p.path == path]

    def contents(
        self, files: dict[str, list[Blob]]
    ) -> tuple[RegistryContents, dict[str, tuple[str | None, str | None]]]:
        """The entries of these models, the datasets they cite and the policy; and the (stage,
        created_by) of each version blob read, for their histories."""
        entries: dict[str, ModelEntry] = {}
        versions: dict[str, list[VersionEntry]] = {}
        known: dict[str, tuple[str | None, str | None]] = {}
        for name, blobs in files.items():
            for blob in blobs:
                try:
                    place = layout.classify(blob.path)
                except Misplaced:
                    continue  # `steward check` names it; no page shows it
                if place.kind not in (Kind.MODEL, Kind.VERSION):
                    continue
                entry = self._parse(blob, place.kind)
                if not _agrees(entry, name, place.version):
                    # `steward check` says so too; the page does not show it as this model's.
                    self.problems.append(
                        Problem(blob.path, None, "", "names another model or version than its path")
                    )
                elif isinstance(entry, ModelEntry):
                    entries[name] = entry
                elif isinstance(entry, VersionEntry):
                    versions.setdefault(name, []).append(entry)
                    known[blob.oid] = (entry.stage, entry.created_by)
            versions.get(name, []).sort(key=lambda v: precedence(v.version))
            path = layout.model_path(name)
            if name not in entries and not any(p.path == path for p in self.problems):
                self.problems.append(
                    Problem(path, None, "", "does not exist; its versions have no owner")
                )
        cited = {ref.id for vs in versions.values() for v in vs for ref in v.training.datasets}
        for name in sorted(cited & set(self._tree.datasets)):
            self.dataset(name)
        policy = None
        if files and self._tree.policy is not None:
            parsed = self._parse(self._tree.policy, Kind.POLICY)
            policy = parsed if isinstance(parsed, Policy) else None
        contents = RegistryContents(
            "site",
            entries,
            versions,
            dict(self._datasets),
            frozenset(self._tree.datasets),
            sorted_problems(self.problems),
            policy,
        )
        return contents, known


def _agrees(entry: object, model: str, version: str | None) -> bool:
    if isinstance(entry, ModelEntry):
        return entry.name == model
    if isinstance(entry, VersionEntry):
        return entry.model == model and entry.version == version
    return True


def render_models(
    root: Path,
    commit: str,
    reader: Reader,
    files: dict[str, list[Blob]],
    entry_link: EntryLink,
    dot: bool,
    changes: dict[str, list[Landed]] | None = None,
) -> Iterator[tuple[str, RenderedModel]]:
    """The `<main>` of each model's page in `files`, with the rows the listings need, a chunk
    of models at a time: what is held at once stays bounded whatever the registry's size.
    `changes`: every model's history changes (`changes_by_model`), when read already."""
    stale = sorted(files)
    if changes is None and len(stale) > ONE_BY_ONE:
        changes = changes_by_model(root, commit)
    for start in range(0, len(stale), CHUNK):
        chunk = stale[start : start + CHUNK]
        contents, known = reader.contents({name: files[name] for name in chunk})
        histories = _histories(root, commit, chunk, known, changes)
        graphs = {name: model_lineage(contents, name) for name in chunk}
        layouts = dot_layouts([graphs[name] for name in chunk]) if dot else [None] * len(chunk)
        for name, layout_found in zip(chunk, layouts, strict=True):
            inputs = ModelInputs(
                name, contents, histories.get(name, []), entry_link, graphs[name], layout_found
            )
            yield (
                name,
                RenderedModel(
                    render_model(inputs),
                    _model_row(inputs),
                    _uses(contents, name),
                    {
                        ref.id: reader.dataset_oid(ref.id)
                        for v in contents.versions_of(name)
                        for ref in v.training.datasets
                    },
                ),
            )


def _histories(
    root: Path,
    commit: str,
    models: list[str],
    known: dict[str, tuple[str | None, str | None]],
    changes: dict[str, list[Landed]] | None,
) -> dict[str, list[Event]]:
    if changes is not None:
        found = model_histories(root, commit, models, known, changes)
        return {model: history.events for model, history in found.items()}
    events = {}
    for model in models:
        try:
            events[model] = model_history(root, model, commit).events
        except NotFound:
            events[model] = []
    return events


def render_dataset(
    reader: Reader, name: str, per_model: Iterable[list[Any]], entry_link: EntryLink
) -> tuple[str, dict[str, Any]]:
    """A dataset's page from the uses of the models citing it (see `catalog.view_of_uses`)."""
    dataset, problems = reader.dataset(name)
    columns = [column.name for column in dataset.columns] if dataset is not None else []
    uses = catalog.view_of_uses(per_model, name, columns)
    if dataset is None:
        items = "".join(f"<li>{text(p.render())}</li>" for p in problems) or "<li>unreadable</li>"
        body = (
            f'<h1>Dataset {code(name)}</h1><p class="warning">Its file cannot be read:</p>'
            f"<ul>{items}</ul>"
        )
    else:
        body = catalog.dataset_body(dataset, uses, entry_link)
    row = {
        "name": name,
        "owner": dataset.owner if dataset else None,
        "description": dataset.description if dataset else None,
        "classification": list(dataset.classification) if dataset else [],
        "users": uses.total,
    }
    return body, row


def _uses(contents: RegistryContents, model: str) -> list[catalog.DatasetUse]:
    owner = contents.models[model].owner if model in contents.models else None
    found = []
    for entry in contents.versions_of(model):
        for ref in entry.training.datasets:
            dataset = contents.datasets.get(ref.id)
            # None stands for every column; a dataset without an entry has only what was cited.
            if dataset is None:
                columns: tuple[str, ...] | None = tuple(ref.columns) or None
            else:
                columns = tuple(used_columns(ref, dataset)) if ref.columns else None
            found.append(
                catalog.DatasetUse(
                    model, entry.version, entry.stage, ref.id, ref.version, columns, owner
                )
            )
    return found


def _model_row(inputs: ModelInputs) -> dict[str, Any]:
    """The model as the search index and the plain list have it."""
    model, versions = inputs.model, inputs.versions
    stages: dict[str, list[str]] = {}
    for entry in versions:
        stages.setdefault(entry.stage, []).append(entry.version)
    newest = max(versions, key=lambda v: precedence(v.version)) if versions else None
    changed = (
        inputs.events[0].at
        if inputs.events
        else (format_timestamp(newest.created_at) if newest else None)
    )
    inherited = labels(inherited_by_live_versions(versions, inputs.contents.datasets))
    return {
        "name": inputs.name,
        "description": model.description if model else None,
        "owner": model.owner if model else None,
        "team": model.team if model else None,
        "risk": model.risk if model else None,
        "classification": list(model.classification) if model else [],
        "inherited": inherited,
        "tags": sorted({*(model.tags if model else []), *(t for v in versions for t in v.tags)}),
        "stages": stages,
        "latest": newest.version if newest else None,
        "changed": changed,
    }
