"""`steward site`: the whole site from a commit, rewriting only the pages whose inputs changed.

A model's page depends on the model's files, the datasets its versions cite, the policy, the
model's history (the commits that touch its directory and `apply`'s records of it) and the
build's settings. All of that is named by ids git already has (blob ids, commit ids, tag object
ids), so a page's *key* is a hash of ids, computed without reading a single file. The build
keeps each page's key, with the small rows the listing pages are made of, in
`.steward-site/manifest.json` inside the output directory; a page whose key is unchanged and
whose file is still there is neither read, rendered nor written. A dataset's page depends on
its file and on the rows of the versions citing it.

Files are written to a temporary name and renamed into place, the manifest last: a build that
is interrupted leaves pages that are each whole, and the next build redoes whatever the old
manifest does not vouch for.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

from steward.aftermerge.history import History, history_signature, model_histories
from steward.entries import layout
from steward.entries.classification import inherited_by_live_versions, labels, used_columns
from steward.entries.layout import Kind, Misplaced
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry, format_timestamp
from steward.entries.policy import Policy
from steward.entries.problems import Problem, sorted_problems
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.errors import GitCommandError
from steward.forge.protocol import Forge, ForgeError, Proposal, Status
from steward.gitio.gitcmd import CatFile, resolve_commit, run_git
from steward.gitio.tree import FileType, GitSnapshot, TreeFile
from steward.reading.cache import code_key
from steward.reading.contents import RegistryContents
from steward.site import catalog_pages as catalog
from steward.site.html import Shell, page
from steward.site.model_page import EntryLink, ModelInputs, dataset_page, model_page, render_model

FORMAT = 1
MANIFEST = ".steward-site/manifest.json"
ASSETS = ("site.css", "site.js")
GATE_CONTEXT = "steward/gate"


@dataclass(frozen=True)
class SiteResult:
    out: Path
    commit: str
    models: int
    datasets: int
    written: list[str] = field(default_factory=list)  # pages (re)written, site-relative
    kept: int = 0  # pages left as they were
    removed: list[str] = field(default_factory=list)
    proposals: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "index": str(self.index),
            "commit": self.commit,
            "models": self.models,
            "datasets": self.datasets,
            "written": self.written,
            "kept": self.kept,
            "removed": self.removed,
            "proposals": self.proposals,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class _Files:
    """The registry's files at the commit, grouped as the pages need them (no file read)."""

    models: dict[str, list[TreeFile]] = field(default_factory=dict)  # model.yaml and versions
    datasets: dict[str, TreeFile] = field(default_factory=dict)
    policy: TreeFile | None = None


def build_site(
    root: Path,
    out: Path,
    rev: str = "HEAD",
    base_url: str | None = None,
    forge: Forge | None = None,
    forge_label: str = "the forge",
    use_dot: bool = True,
) -> SiteResult:
    """Build (or bring up to date) the site of the registry at `rev` in `out`. With `forge`,
    the open proposals are asked for and listed (a forge that fails is reported on that page,
    not raised: the catalog is still worth publishing)."""
    commit = resolve_commit(root, rev)
    files = _registry_files(root, commit)
    entry_link = _entry_links(root, rev, commit)
    dot = bool(use_dot and shutil.which("dot"))
    shell = Shell(_site_title(root), base_url, proposals=forge is not None)
    settings = _digest(
        FORMAT, code_key(), shell.title, base_url, shell.proposals, dot, entry_link("")
    )
    old = _load_manifest(out, settings)
    signatures = history_signature(root, commit)
    policy_id = files.policy.oid if files.policy is not None else ""
    written: list[str] = []
    kept = 0

    # Which model pages are stale: a key of ids, compared with the last build's.
    keys: dict[str, str] = {}
    stale: list[str] = []
    for name, model_files in sorted(files.models.items()):
        keys[name] = _digest(
            settings,
            policy_id,
            [(f.path, f.oid) for f in model_files],
            signatures.get(name, ()),
        )
        previous = old["models"].get(name)
        if (
            previous
            and previous.get("key") == keys[name]
            and all(
                _oid(files.datasets.get(d)) == oid for d, oid in previous.get("cited", {}).items()
            )
            and (out / model_page(name)).exists()
        ):
            kept += 1
        else:
            stale.append(name)

    reader = _Reader(root, files)
    try:
        contents, known = reader.contents(stale)
        histories = model_histories(root, commit, stale, known) if stale else {}
        models_state: dict[str, dict[str, Any]] = {}
        for name in files.models:
            if name not in stale:
                models_state[name] = old["models"][name]
                continue
            inputs = ModelInputs(
                name,
                contents,
                histories.get(name, History(name, commit)).events,
                entry_link,
                dot,
            )
            path = model_page(name)
            _write(
                out, path, page(shell, path=path, title=f"Model {name}", body=render_model(inputs))
            )
            written.append(path)
            models_state[name] = {
                "key": keys[name],
                "row": _model_row(inputs),
                "uses": [use.as_list() for use in _uses(contents, name)],
                # The blob of each dataset cited, when it has a file: the page shows them.
                "cited": {
                    ref.id: _oid(files.datasets.get(ref.id))
                    for v in contents.versions_of(name)
                    for ref in v.training.datasets
                },
            }

        # Dataset pages: a dataset's file and the rows of the versions citing it.
        uses_of: dict[str, list[catalog.DatasetUse]] = {}
        for state in models_state.values():
            for row in state["uses"]:
                use = catalog.DatasetUse.from_list(row)
                uses_of.setdefault(use.dataset, []).append(use)
        datasets_state: dict[str, dict[str, Any]] = {}
        for name, tree_file in sorted(files.datasets.items()):
            uses = sorted(uses_of.get(name, []), key=lambda u: (u.model, precedence(u.version)))
            key = _digest(settings, tree_file.oid, [u.as_list() for u in uses])
            previous = old["datasets"].get(name)
            path = dataset_page(name)
            if previous and previous.get("key") == key and (out / path).exists():
                datasets_state[name] = previous
                kept += 1
                continue
            dataset, problems = reader.dataset(name)
            body = (
                catalog.dataset_body(dataset, uses, entry_link)
                if dataset is not None
                else _unreadable_dataset(name, problems)
            )
            _write(out, path, page(shell, path=path, title=f"Dataset {name}", body=body))
            written.append(path)
            datasets_state[name] = {
                "key": key,
                "row": {
                    "name": name,
                    "owner": dataset.owner if dataset else None,
                    "description": dataset.description if dataset else None,
                    "classification": list(dataset.classification) if dataset else [],
                    "users": len(uses),
                },
            }
    finally:
        reader.close()

    removed = _remove_gone(out, old, set(models_state), set(datasets_state))
    rows = [models_state[name]["row"] for name in sorted(models_state)]
    listing_pages = {
        catalog.SEARCH_INDEX: catalog.search_index_script(rows),
        "index.html": page(
            shell,
            path="index.html",
            title="Models",
            body=catalog.index_body(len(rows), rev, commit),
            scripts=[catalog.SEARCH_INDEX, catalog.SCRIPT],
        ),
        "models/index.html": page(
            shell, path="models/index.html", title="All models", body=catalog.models_list_body(rows)
        ),
        "datasets/index.html": page(
            shell,
            path="datasets/index.html",
            title="Datasets",
            body=catalog.datasets_list_body(
                [datasets_state[name]["row"] for name in sorted(datasets_state)]
            ),
        ),
    }
    for name in ASSETS:
        listing_pages[f"assets/{name}"] = (
            resources.files("steward.site").joinpath("assets", name).read_text(encoding="utf-8")
        )
    if forge is not None:
        listing_pages["proposals.html"] = page(
            shell,
            path="proposals.html",
            title="Open proposals",
            body=_proposals(forge, forge_label),
        )
    elif (out / "proposals.html").exists():
        (out / "proposals.html").unlink()
        removed.append("proposals.html")
    for path, content in listing_pages.items():
        if _write_if_changed(out, path, content):
            written.append(path)
        else:
            kept += 1
    # Built, never committed: the directory ignores itself (a site inside the registry's work
    # tree, as `_site/` is by default, leaves `git status` clean).
    _write_if_changed(out, ".gitignore", "*\n")
    _save_manifest(out, settings, models_state, datasets_state)
    return SiteResult(
        out,
        commit,
        len(models_state),
        len(datasets_state),
        written,
        kept,
        removed,
        forge is not None,
        contents.problems if stale else [],
    )


# --- reading ------------------------------------------------------------------------------------


def _registry_files(root: Path, commit: str) -> _Files:
    files = _Files()
    snapshot = GitSnapshot(root, commit)
    try:
        listed = snapshot.files(only=[layout.REGISTRY_DIR, layout.POLICY_FILE])
    finally:
        snapshot.close()
    for tree_file in listed:
        try:
            place = layout.classify(tree_file.path)
        except Misplaced:
            continue  # `steward check` names it; no page is about it
        if place.kind in (Kind.MODEL, Kind.VERSION) and place.model is not None:
            files.models.setdefault(place.model, []).append(tree_file)
        elif place.kind is Kind.DATASET and place.name is not None:
            files.datasets[place.name] = tree_file
        elif place.kind is Kind.POLICY:
            files.policy = tree_file
    return files


class _Reader:
    """Parses only what the stale pages need, each blob once, with one `git cat-file`."""

    def __init__(self, root: Path, files: _Files) -> None:
        self._files = files
        self._cat = CatFile(root)
        self._datasets: dict[str, DatasetEntry] = {}
        self._problems: list[Problem] = []

    def close(self) -> None:
        self._cat.close()

    def _parse(self, tree_file: TreeFile, kind: Kind) -> Any:
        if tree_file.type is not FileType.REGULAR or tree_file.oid is None:
            self._problems.append(Problem(tree_file.path, None, "", "not read: not a regular file"))
            return None
        parsed = parse_file(kind, self._cat.read(tree_file.oid), tree_file.path)
        self._problems.extend(parsed.problems)
        return parsed.entry

    def dataset(self, name: str) -> tuple[DatasetEntry | None, list[Problem]]:
        if name not in self._datasets:
            entry = self._parse(self._files.datasets[name], Kind.DATASET)
            if isinstance(entry, DatasetEntry):
                self._datasets[name] = entry
        path = layout.dataset_path(name)
        return self._datasets.get(name), [p for p in self._problems if p.path == path]

    def contents(
        self, models: list[str]
    ) -> tuple[RegistryContents, dict[str, tuple[str | None, str | None]]]:
        """The entries of `models`, the datasets they cite and the policy; and the (stage,
        created_by) of each version blob read, for the history."""
        entries: dict[str, ModelEntry] = {}
        versions: dict[str, list[VersionEntry]] = {}
        known: dict[str, tuple[str | None, str | None]] = {}
        for name in models:
            for tree_file in self._files.models[name]:
                kind = Kind.MODEL if tree_file.path.endswith("/model.yaml") else Kind.VERSION
                entry = self._parse(tree_file, kind)
                if isinstance(entry, ModelEntry):
                    entries[name] = entry
                elif isinstance(entry, VersionEntry) and tree_file.oid is not None:
                    versions.setdefault(name, []).append(entry)
                    known[tree_file.oid] = (entry.stage, entry.created_by)
            versions.get(name, []).sort(key=lambda v: precedence(v.version))
            if name not in entries and not any(
                p.path == layout.model_path(name) for p in self._problems
            ):
                self._problems.append(
                    Problem(
                        layout.model_path(name),
                        None,
                        "",
                        "does not exist; its versions have no owner",
                    )
                )
        for cited in sorted(
            {ref.id for vs in versions.values() for v in vs for ref in v.training.datasets}
        ):
            if cited in self._files.datasets:
                self.dataset(cited)
        policy = None
        if models and self._files.policy is not None:
            parsed = self._parse(self._files.policy, Kind.POLICY)
            policy = parsed if isinstance(parsed, Policy) else None
        contents = RegistryContents(
            "site",
            entries,
            versions,
            dict(self._datasets),
            frozenset(self._files.datasets),
            sorted_problems(self._problems),
            policy,
        )
        return contents, known


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
        "href": model_page(inputs.name),
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


def _unreadable_dataset(name: str, problems: list[Problem]) -> str:
    from steward.site.html import code, text

    items = "".join(f"<li>{text(p.render())}</li>" for p in problems) or "<li>unreadable</li>"
    return (
        f'<h1>Dataset {code(name)}</h1><p class="warning">Its file cannot be read:</p>'
        f"<ul>{items}</ul>"
    )


def _proposals(forge: Forge, where: str) -> str:
    try:
        found: list[tuple[Proposal, Status | None]] = []
        for proposal in forge.list_proposals("open"):
            statuses = forge.get_statuses(proposal.head_sha)
            gate = next((s for s in statuses if s.context == GATE_CONTEXT), None)
            found.append((proposal, gate))
    except ForgeError as exc:
        return catalog.proposals_body([], str(exc), where)
    return catalog.proposals_body(found, None, where)


# --- links --------------------------------------------------------------------------------------


def _entry_links(root: Path, rev: str, commit: str) -> EntryLink:
    """Entry files link to the forge when `origin` is on GitHub (at the branch built, so that a
    page does not change with every commit; at the commit when no branch is named)."""
    from steward.forge.choose import origin_url
    from steward.forge.github import repository_from_remote

    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository = repository_from_remote(origin_url(root), server)
    if repository is None:
        return lambda _path: None
    ref = commit
    with contextlib.suppress(GitCommandError):
        name = rev
        if rev == "HEAD":
            name = run_git(root, "symbolic-ref", "--short", "-q", "HEAD").decode().strip()
        if name and run_git(root, "rev-parse", "--verify", "-q", f"refs/heads/{name}").strip():
            ref = name
    base = f"{server}/{repository}/blob/{quote(ref, safe='')}/"
    return lambda path: base + quote(path)


def _site_title(root: Path) -> str:
    return f"{root.name} model registry"


# --- the output directory -----------------------------------------------------------------------


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _oid(tree_file: TreeFile | None) -> str | None:
    return None if tree_file is None else tree_file.oid


def _load_manifest(out: Path, settings: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"models": {}, "datasets": {}}
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    if not isinstance(data, dict) or data.get("settings") != settings:
        # Another Steward, title, base URL or link target: every page is to be written again,
        # but the pages it listed are still removed when gone.
        return {**empty, "previous": data if isinstance(data, dict) else {}}
    return data


def _save_manifest(
    out: Path, settings: str, models: dict[str, Any], datasets: dict[str, Any]
) -> None:
    data = {"format": FORMAT, "settings": settings, "models": models, "datasets": datasets}
    _write(out, MANIFEST, json.dumps(data, sort_keys=True))


def _remove_gone(out: Path, old: dict[str, Any], models: set[str], datasets: set[str]) -> list[str]:
    """Remove the pages of models and datasets the last build listed that are gone now."""
    removed = []
    for source in (old, old.get("previous") or {}):
        for name in set(source.get("models") or {}) - models:
            removed += _remove(out, model_page(name))
        for name in set(source.get("datasets") or {}) - datasets:
            removed += _remove(out, dataset_page(name))
    return sorted(set(removed))


def _remove(out: Path, path: str) -> list[str]:
    try:
        (out / path).unlink()
    except FileNotFoundError:
        return []
    return [path]


def _write(out: Path, path: str, content: str) -> None:
    target = out / path
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
        Path(temporary).replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise


def _write_if_changed(out: Path, path: str, content: str) -> bool:
    with contextlib.suppress(OSError):
        if (out / path).read_text(encoding="utf-8") == content:
            return False
    _write(out, path, content)
    return True
