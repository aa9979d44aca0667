"""`steward site`: the whole site from a commit, rewriting only the pages whose inputs changed.

A model's page depends on the model's files, the datasets its versions cite, the policy, the
model's history and `apply`'s records of it (tags), and the build's settings. All of that is
named by ids git already has, so which pages are stale is decided without reading a registry
file (`steward.site.plan`). The build keeps, per page, the ids it was written from, with the
small rows the listing pages are made of, in `.steward-site/manifest.json` inside the output
directory; a page whose ids are unchanged and whose file is still there is neither read,
rendered nor written, and the listing pages are rewritten from the rows. A dataset's page
depends on its file and on the rows of the versions citing it.

Files are written to a temporary name and renamed into place, the manifest last: a build that
is interrupted leaves pages that are each whole, and the next build redoes whatever the old
manifest does not vouch for.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from steward.entries.names import is_name
from steward.errors import GitCommandError, StewardError
from steward.gitio.gitcmd import resolve_commit, run_git
from steward.reading.cache import code_key
from steward.site import catalog_pages as catalog
from steward.site.html import EntryLink, Shell, dataset_page, model_page, page
from steward.site.plan import (
    Plan,
    RegistryTree,
    digest,
    model_files,
    plan_models,
    registry_tree,
)

if TYPE_CHECKING:
    from steward.entries.problems import Problem
    from steward.forge.protocol import Forge
    from steward.site.model_build import Reader

FORMAT = 3
MANIFEST = ".steward-site/manifest.json"
LOCK = ".steward-site/lock"  # held by the one build writing the site
# Written before the first page and removed with the new manifest: the models being rewritten.
# A build cut off in between leaves pages the old manifest would vouch for; the next build
# reads this and writes those pages (and every dataset page) again.
IN_PROGRESS = ".steward-site/in-progress.json"
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
    _refuse_committed_files(root, out)
    tree = registry_tree(root, commit)
    entry_link = _entry_links(root, rev, commit)
    dot = bool(use_dot and shutil.which("dot"))
    shell = Shell(_site_title(root), base_url, proposals=forge is not None)
    settings = digest(
        FORMAT, code_key(), shell.title, base_url, shell.proposals, dot, entry_link("")
    )
    context = _Build(
        root, out, rev, commit, tree, entry_link, dot, shell, settings, forge, forge_label
    )
    with _one_builder(out):
        old = _load_manifest(out, settings)
        try:
            return _build(context, old)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            if not old["models"] and not old["datasets"]:
                raise  # not the manifest's doing: a bug, shown as one
            # The manifest is a shortcut only, checked for its names and shape but not value by
            # value (100,000 uses would cost more than they save): one that a build could not
            # use is dropped, and every page written again.
            return _build(context, {"models": {}, "datasets": {}, "previous": old})


@contextlib.contextmanager
def _one_builder(out: Path) -> Iterator[None]:
    """One build writes into a site at a time (its manifest, and the sweep of partial pages,
    assume it): a second build of the same directory waits for the first, then brings the site
    up to date. The lock is the kernel's: a killed build releases it."""
    lock = out / LOCK
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SiteError(f"{lock}: cannot lock the site: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError as exc:  # a file system without locks (some NFS): built as before
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise SiteError(f"{lock}: cannot lock the site: {exc.strerror or exc}") from exc
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


@dataclass(frozen=True)
class _Build:
    root: Path
    out: Path
    rev: str
    commit: str
    tree: RegistryTree
    entry_link: EntryLink
    dot: bool
    shell: Shell
    settings: str
    forge: Forge | None
    forge_label: str


def _build(context: _Build, old: dict[str, Any]) -> SiteResult:
    root, out, rev, commit, tree = (
        context.root,
        context.out,
        context.rev,
        context.commit,
        context.tree,
    )
    entry_link, shell, settings = context.entry_link, context.shell, context.settings
    forge, forge_label = context.forge, context.forge_label
    _remove_partial_pages(out)
    plan = plan_models(root, out, commit, tree, old)
    written: list[str] = []
    problems: list[Problem] = []
    models_state: dict[str, dict[str, Any]] = {
        name: old["models"][name] for name in tree.models if name not in plan.stale
    }
    kept = len(models_state)
    reader: Reader | None = None
    _write(out, IN_PROGRESS, json.dumps({"models": plan.stale}))
    try:
        if plan.stale:
            pages = _model_pages(context, plan)
            reader = pages.reader
            for name in sorted(pages.states):
                written.append(model_page(name))
                models_state[name] = pages.states[name]
            problems = pages.problems
        datasets_state, dataset_pages, reader = _datasets(
            root, out, settings, tree, old, models_state, entry_link, reader
        )
        for path, body, title in dataset_pages:
            _write(out, path, page(shell, path=path, title=title, body=body))
            written.append(path)
        kept += len(datasets_state) - len(dataset_pages)
    finally:
        if reader is not None:
            reader.close()

    removed = _remove_gone(out, old, set(models_state), set(datasets_state))
    # Names come from the tree (checked names), never from a row the manifest kept.
    rows = [{**models_state[name]["row"], "name": name} for name in sorted(models_state)]
    listing_pages = {
        catalog.SEARCH_INDEX: catalog.search_index_script(rows),
        "index.html": page(
            shell,
            path="index.html",
            title="Models",
            body=catalog.index_body(len(rows), rev, commit),
            scripts=[catalog.SEARCH_INDEX, catalog.SCRIPT],
        ),
        catalog.ALL_MODELS: page(
            shell, path=catalog.ALL_MODELS, title="All models", body=catalog.models_list_body(rows)
        ),
        catalog.DATASETS: page(
            shell,
            path=catalog.DATASETS,
            title="Datasets",
            body=catalog.datasets_list_body(
                [{**datasets_state[name]["row"], "name": name} for name in sorted(datasets_state)]
            ),
        ),
    }
    listing_pages.update(asset_files())
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
    policy = tree.policy.oid if tree.policy is not None else None
    manifest = {
        "format": FORMAT,
        "settings": settings,
        "commit": commit,
        "policy": policy,
        "models": models_state,
        "datasets": datasets_state,
    }
    _write(out, MANIFEST, json.dumps(manifest, sort_keys=True, separators=(",", ":")))
    (out / IN_PROGRESS).unlink()
    return SiteResult(
        out,
        commit,
        len(models_state),
        len(datasets_state),
        written,
        kept,
        removed,
        forge is not None,
        problems,
    )


class SiteError(StewardError):
    """The site cannot be built where it was asked to be."""


def _refuse_committed_files(root: Path, out: Path) -> None:
    """A site is built, never committed: an output directory holding files the repository
    tracks would publish them, and a committed manifest would vouch for committed pages."""
    try:
        relative = out.resolve().relative_to(root.resolve())
    except ValueError:
        return
    tracked = run_git(root, "--literal-pathspecs", "ls-files", "-z", "--", relative.as_posix())
    if tracked:
        first = tracked.split(b"\0")[0].decode("utf-8", "replace")
        raise SiteError(
            f"{out} holds files committed to the repository ({first}): a site is built, not "
            "committed; remove them from git or choose another --output"
        )


# Fewer stale models than this are rendered in this process alone: below it, forking saves
# less than a second.
SPLIT_FROM = 400


@dataclass
class _ModelPages:
    states: dict[str, dict[str, Any]]  # the manifest's entry of each page written
    problems: list[Problem]
    reader: Reader  # this process's, open: the dataset pages read through it too


def _model_pages(context: _Build, plan: Plan) -> _ModelPages:
    """Write the page of every stale model; from `SPLIT_FROM` of them, on every core
    (`forked.split`: each worker renders and writes the pages of every n-th model and sends back
    their manifest entries and problems; a share whose worker failed is rendered here after)."""
    from steward.entries.problems import sorted_problems
    from steward.gitio.changelog import changes_by_model
    from steward.reading import forked
    from steward.site.model_build import Reader

    stale = sorted(plan.stale)
    processes = forked.processes() if len(stale) >= SPLIT_FROM else 1
    if processes > 1 and plan.changes is None:  # read once, before the fork, for every worker
        plan = replace(plan, changes=changes_by_model(context.root, context.commit))
    shares = [stale[i::processes] for i in range(processes)]
    found: list[Reader] = []

    def render(share: list[str], still_wanted: Callable[[], None] | None = None) -> _Rendered:
        reader = Reader(context.root, context.tree)
        try:
            states = _render_pages(context, plan, reader, share, still_wanted)
        except BaseException:
            reader.close()
            raise
        if still_wanted is None:  # this process's reader stays open for the dataset pages
            found.append(reader)
        else:
            reader.close()
        return states, reader.problems

    states: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    try:
        answers = forked.split(shares, render, lambda share, _workers: render(share), _whole_pages)
        for share, answer in zip(shares, answers, strict=True):
            share_states, share_problems = answer if answer is not None else render(share)
            states.update(share_states)
            problems.extend(share_problems)
    except BaseException:
        for reader in found:
            reader.close()
        _remove_partial_pages(context.out)  # a worker killed in the middle of a page
        raise
    for extra in found[1:]:  # shares redone here read through readers of their own
        extra.close()
    if None in answers:
        _remove_partial_pages(context.out)
    return _ModelPages(states, sorted_problems(problems), found[0])


_Rendered = tuple[dict[str, dict[str, Any]], list["Problem"]]


def _render_pages(
    context: _Build,
    plan: Plan,
    reader: Reader,
    names: list[str],
    still_wanted: Callable[[], None] | None,
) -> dict[str, dict[str, Any]]:
    """Render and write the pages of the models `names`; the manifest's entry of each."""
    from steward.site.model_build import render_models

    files = model_files(context.root, context.commit, names)
    states: dict[str, dict[str, Any]] = {}
    for name, result in render_models(
        context.root, context.commit, reader, files, context.entry_link, context.dot, plan.changes
    ):
        if still_wanted is not None:
            still_wanted()
        path = model_page(name)
        _write(
            context.out,
            path,
            page(context.shell, path=path, title=f"Model {name}", body=result.body),
        )
        states[name] = {
            "tree": context.tree.models[name],
            "newest": plan.newest.get(name),
            "tags": plan.tags.get(name),
            "cited": result.cited,
            "row": result.row,
            "uses": [use.as_list() for use in result.uses],
            # Per dataset cited, a digest of this model's uses of it: what the dataset's page
            # key is made of, without reading every use again.
            "uses_keys": _uses_keys(result.uses),
        }
    return states


def _whole_pages(share: list[str], answer: object) -> _Rendered | None:
    """A worker's answer if it holds a manifest entry for each model of its share, and problems."""
    from steward.entries.problems import Problem

    if not (isinstance(answer, tuple) and len(answer) == 2):
        return None
    states, problems = answer
    if not (
        isinstance(states, dict)
        and sorted(states) == sorted(share)
        and all(isinstance(state, dict) for state in states.values())
        and isinstance(problems, list)
        and all(isinstance(problem, Problem) for problem in problems)
    ):
        return None
    return states, problems


def _datasets(
    root: Path,
    out: Path,
    settings: str,
    tree: RegistryTree,
    old: dict[str, Any],
    models_state: dict[str, dict[str, Any]],
    entry_link: EntryLink,
    reader: Reader | None,
) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str, str]], Reader | None]:
    """Each dataset's state, and the pages to write: a dataset's page depends on its file and on
    the rows of the versions citing it."""
    citing: dict[str, list[tuple[str, str]]] = {}  # dataset -> (model, digest of its uses)
    for model, state in sorted(models_state.items()):
        for dataset, key in state["uses_keys"].items():
            citing.setdefault(dataset, []).append((model, key))
    states: dict[str, dict[str, Any]] = {}
    pages: list[tuple[str, str, str]] = []
    for name, blob in sorted(tree.datasets.items()):
        key = digest(settings, blob.oid, citing.get(name, []))
        previous = old["datasets"].get(name)
        path = dataset_page(name)
        if previous and previous.get("key") == key and (out / path).exists():
            states[name] = previous
            continue
        per_model = (models_state[model]["uses"] for model, _ in citing.get(name, []))
        if reader is None:
            from steward.site.model_build import Reader

            reader = Reader(root, tree)
        from steward.site.model_build import render_dataset

        body, row = render_dataset(reader, name, per_model, entry_link)
        pages.append((path, body, f"Dataset {name}"))
        states[name] = {"key": key, "row": row}
    return states, pages, reader


def _uses_keys(uses: list[catalog.DatasetUse]) -> dict[str, str]:
    by_dataset: dict[str, list[list[Any]]] = {}
    for use in uses:
        by_dataset.setdefault(use.dataset, []).append(use.as_list())
    return {dataset: digest(rows) for dataset, rows in by_dataset.items()}


def _proposals(forge: Forge, where: str) -> str:
    from steward.forge.protocol import ForgeError, Proposal, Status

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


def _load_manifest(out: Path, settings: str) -> dict[str, Any]:
    empty: dict[str, Any] = {"models": {}, "datasets": {}}
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    if not isinstance(data, dict):
        return empty
    if data.get("format") != FORMAT or data.get("settings") != settings or not _well_formed(data):
        # Another Steward, title, base URL or link target: every page is to be written again,
        # but the pages it listed are still removed when gone.
        return {**empty, "previous": data}
    try:
        unfinished = json.loads((out / IN_PROGRESS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return data
    except (OSError, ValueError):
        unfinished = None
    if not isinstance(unfinished, dict) or not isinstance(unfinished.get("models"), list):
        return {**empty, "previous": data}
    interrupted = set(unfinished["models"])
    models = {name: state for name, state in data["models"].items() if name not in interrupted}
    return {**data, "models": models, "datasets": {}, "previous": data}


def _well_formed(data: dict[str, Any]) -> bool:
    """The manifest is a shortcut only: one that is not as this build writes it (edited, or
    from a bug) counts as none, and every page is written again. Its names must be names (a
    page's path is made from them) and every value a later build reads must have its type."""
    models, datasets = data.get("models"), data.get("datasets")
    if not isinstance(models, dict) or not isinstance(datasets, dict):
        return False
    if not isinstance(data.get("commit"), str):
        return False
    for name, state in models.items():
        if not (is_name(name) and isinstance(state, dict) and _model_state_ok(state)):
            return False
    return all(
        is_name(name)
        and isinstance(state, dict)
        and isinstance(state.get("key"), str)
        and _row_ok(state.get("row"), _DATASET_ROW)
        for name, state in datasets.items()
    )


# The types of the rows' fields: what the listing pages and the search script read.
_TEXT = (str, type(None))
_TEXTS = "texts"
_MODEL_ROW: dict[str, Any] = {
    "description": _TEXT, "owner": _TEXT, "team": _TEXT, "risk": _TEXT, "latest": _TEXT,
    "changed": _TEXT, "classification": _TEXTS, "inherited": _TEXTS, "tags": _TEXTS,
    "stages": dict,
}  # fmt: skip
_DATASET_ROW: dict[str, Any] = {
    "description": _TEXT, "owner": _TEXT, "classification": _TEXTS, "users": int,
}  # fmt: skip


def _row_ok(row: object, types: dict[str, Any]) -> bool:
    if not isinstance(row, dict):
        return False
    for key, kind in types.items():
        value = row.get(key)
        if kind == _TEXTS:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                return False
        elif not isinstance(value, kind):
            return False
    stages = row.get("stages", {})
    return all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in stages.values())


def _model_state_ok(state: dict[str, Any]) -> bool:
    uses = state.get("uses")
    return (
        all(isinstance(state.get(key), _TEXT) for key in ("tree", "newest", "tags"))
        and isinstance(state.get("cited"), dict)
        and isinstance(state.get("uses_keys"), dict)
        and _row_ok(state.get("row"), _MODEL_ROW)
        and isinstance(uses, list)
    )


def _remove_gone(out: Path, old: dict[str, Any], models: set[str], datasets: set[str]) -> list[str]:
    """Remove the pages of models and datasets the last build listed that are gone now."""
    removed = []
    for source in (old, old.get("previous")):
        if not isinstance(source, dict):
            continue
        for kind, page_of, present in (
            ("models", model_page, models),
            ("datasets", dataset_page, datasets),
        ):
            listed = source.get(kind)
            names = listed if isinstance(listed, dict) else {}
            for name in names:
                # Only a name can be a page: a manifest naming `../x` removes nothing.
                if isinstance(name, str) and is_name(name) and name not in present:
                    removed += _remove(out, page_of(name))
    return sorted(set(removed))


def _remove(out: Path, path: str) -> list[str]:
    try:
        (out / path).unlink()
    except FileNotFoundError:
        return []
    return [path]


def _remove_partial_pages(out: Path) -> None:
    """Remove the temporary files of pages a killed build (or worker) was writing (`_write`'s
    `.tmp-*.part`): one build writes into a site at a time (`_one_builder`)."""
    for partial in out.rglob(".tmp-*.part"):
        with contextlib.suppress(OSError):
            partial.unlink()


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


def asset_files() -> dict[str, str]:
    """The site's stylesheet and script, by their path in the site."""
    return {
        f"assets/{name}": resources.files("steward.site")
        .joinpath("assets", name)
        .read_text(encoding="utf-8")
        for name in ASSETS
    }


def _write_if_changed(out: Path, path: str, content: str) -> bool:
    with contextlib.suppress(OSError):
        if (out / path).read_text(encoding="utf-8") == content:
            return False
    _write(out, path, content)
    return True
