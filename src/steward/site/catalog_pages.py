"""The pages that list things: the models index (filled in by the search script from the
search index), the plain list of models (for readers without script), the datasets with the
versions using each column, and the open proposals.

The per-model facts these need are small rows (`ModelRow`, `DatasetUse`) that the build keeps
from one run to the next, so a page listing every model is rewritten from rows, never by
reading every model again."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steward.entries import layout
from steward.governance.notify import STAGE_ORDER  # production first, as impact orders them
from steward.site.html import (
    EntryLink,
    badge,
    code,
    dataset_page,
    fields,
    joined,
    link,
    model_page,
    table,
    text,
)

if TYPE_CHECKING:  # the listing pages are written on every build: they import no entry model
    from steward.entries.models import DatasetEntry
    from steward.forge.protocol import Proposal, Status

SEARCH_INDEX = "search-index.js"
# The listing pages sit beside the index, never in `models/` or `datasets/`, where a model or
# dataset named `index` has its page.
ALL_MODELS = "all-models.html"
DATASETS = "datasets.html"
SCRIPT = "assets/site.js"
FILTERS = (
    ("stage", "Stage"),
    ("team", "Team"),
    ("tag", "Tag"),
    ("classification", "Classification"),
    ("risk", "Risk"),
)


@dataclass(frozen=True)
class DatasetUse:
    """One version's use of a dataset: what the dataset's page lists."""

    model: str
    version: str
    stage: str
    dataset: str
    dataset_version: str | None
    columns: tuple[str, ...] | None  # None: every column
    owner: str | None

    def as_list(self) -> list[Any]:
        return [
            self.model,
            self.version,
            self.stage,
            self.dataset,
            self.dataset_version,
            None if self.columns is None else list(self.columns),
            self.owner,
        ]

    @classmethod
    def from_list(cls, row: list[Any]) -> DatasetUse:
        """A use as the manifest keeps it; ValueError when it is not one (the build then
        drops the manifest)."""
        model, version, stage, dataset, dataset_version, columns, owner = row
        if not all(isinstance(v, str) for v in (model, version, stage, dataset)) or not (
            columns is None
            or (isinstance(columns, list) and all(isinstance(c, str) for c in columns))
        ):
            raise ValueError(f"not a use of a dataset: {row!r}")
        return cls(
            model,
            version,
            stage,
            dataset,
            dataset_version,
            None if columns is None else tuple(columns),
            owner,
        )


def _rank(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


# --- the models index ---------------------------------------------------------------------------


def index_body(model_count: int, rev: str, commit: str) -> str:
    """The index page: a search box and filters over a table the script fills from the search
    index; without script, a link to the plain list."""
    selects = "".join(
        f'<label for="filter-{key}">{text(label)}</label>'
        f'<select id="filter-{key}" data-filter="{key}"><option value="">any</option></select>'
        for key, label in FILTERS
    )
    headers = "".join(
        f'<th scope="col">{text(h)}</th>'
        for h in (
            "Model",
            "Owner",
            "Team",
            "Risk",
            "Classification",
            "Stages",
            "Latest",
            "Last change",
        )
    )
    return (
        "<h1>Models</h1>\n"
        f'<p id="summary">{model_count} models in the registry at {code(rev)} '
        f"(commit {code(commit[:12])}). "
        f'<a href="{ALL_MODELS}">All models as a plain list</a>.</p>\n'
        "<noscript><p>Search and filters need JavaScript; the "
        f'<a href="{ALL_MODELS}">plain list</a> has every model.</p></noscript>\n'
        '<form id="search" class="filters" role="search" aria-label="Models">'
        '<label for="q">Search</label>'
        '<input id="q" type="search" autocomplete="off" '
        'placeholder="name, owner, team, tag, description">'
        f"{selects}</form>\n"
        '<p id="count" role="status" aria-live="polite"></p>\n'
        f'<table id="models"><thead><tr>{headers}</tr></thead><tbody></tbody></table>'
    )


def search_index_script(rows: list[dict[str, Any]]) -> str:
    """The search index: JSON (a list of rows, see `ModelRow` in `build`) assigned to a global,
    as a script file so that it loads from `file://` too (where a page cannot fetch a file)."""
    data = json.dumps(rows, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    # ASCII only, and '<' escaped: the JSON stays inert whatever a description holds.
    data = data.replace("<", "\\u003c")
    return f"self.stewardIndex = {data};\n"


def models_list_body(rows: list[dict[str, Any]]) -> str:
    items = "".join(
        f"<li>{link(model_page(str(row['name'])), str(row['name']))}"
        + (f": {text(row['description'])}" if row.get("description") else "")
        + "</li>"
        for row in rows
    )
    return f'<h1>All models</h1><ul class="plain">{items}</ul>'


# --- datasets -----------------------------------------------------------------------------------


def datasets_list_body(datasets: list[dict[str, Any]]) -> str:
    if not datasets:
        return '<h1>Datasets</h1><p class="none">No dataset is registered.</p>'
    rows = [
        [
            link(dataset_page(str(row["name"])), str(row["name"])),
            text(row.get("owner") or "-"),
            joined(row.get("classification") or []),
            text(row.get("users", 0)),
            text(row.get("description") or ""),
        ]
        for row in datasets
    ]
    return "<h1>Datasets</h1>" + table(
        ["Dataset", "Owner", "Classification", "Versions using it", "Description"], rows
    )


# A dataset may be cited by 100,000 versions: its page lists the first of them in order
# (production first) and says how many more there are, and which command lists them all.
SHOWN_SERVING = 500  # production and staging
SHOWN_OTHERS = 100  # development and archived
SHOWN_PER_COLUMN = 20
_SERVING_RANKS = 2  # production and staging are the first two of STAGE_ORDER


@dataclass
class UsesView:
    """What a dataset's page shows of the versions citing it, read in one pass."""

    total: int
    serving: list[DatasetUse]
    more_serving: int
    others: list[DatasetUse]
    more_others: int
    columns: dict[str, tuple[list[DatasetUse], int]]  # column -> its first users, how many more


def view_of_uses(per_model: Iterable[list[Any]], dataset: str, columns: list[str]) -> UsesView:
    """`per_model`: each citing model's uses as the manifest keeps them (lists, in version
    order), models by name. Only the uses shown are built; the rest are counted."""
    ranks = len(STAGE_ORDER) + 1
    shown: list[list[DatasetUse]] = [[] for _ in range(ranks)]
    counts = [0] * ranks
    wanted = set(columns)
    # Per column, the first users in each rank as (rank, order, use); users of every column apart.
    every: list[tuple[int, int, DatasetUse]] = []
    every_count = 0
    by_column: dict[str, list[tuple[int, int, DatasetUse]]] = {}
    column_counts: dict[str, int] = {}
    order = 0
    for rows in per_model:
        for row in reversed(rows):  # newest version first
            if row[3] != dataset:
                continue
            order += 1
            rank = _rank(row[2])
            counts[rank] += 1
            cap = SHOWN_SERVING if rank < _SERVING_RANKS else SHOWN_OTHERS
            use: DatasetUse | None = None
            if len(shown[rank]) < cap:
                use = DatasetUse.from_list(row)
                shown[rank].append(use)
            cited = row[5]
            if cited is None:
                every_count += 1
                if sum(1 for r, _, _ in every if r == rank) < SHOWN_PER_COLUMN:
                    every.append((rank, order, use or DatasetUse.from_list(row)))
                continue
            for column in set(cited) & wanted:
                column_counts[column] = column_counts.get(column, 0) + 1
                users = by_column.setdefault(column, [])
                if sum(1 for r, _, _ in users if r == rank) < SHOWN_PER_COLUMN:
                    users.append((rank, order, use or DatasetUse.from_list(row)))
    serving = [u for r in range(_SERVING_RANKS) for u in shown[r]][:SHOWN_SERVING]
    others = [u for r in range(_SERVING_RANKS, ranks) for u in shown[r]][:SHOWN_OTHERS]
    per_column = {}
    for column in columns:
        merged = sorted([*every, *by_column.get(column, [])], key=lambda item: item[:2])
        first = [use for _, _, use in merged[:SHOWN_PER_COLUMN]]
        per_column[column] = (first, every_count + column_counts.get(column, 0) - len(first))
    return UsesView(
        sum(counts),
        serving,
        sum(counts[:_SERVING_RANKS]) - len(serving),
        others,
        sum(counts[_SERVING_RANKS:]) - len(others),
        per_column,
    )


def dataset_body(dataset: DatasetEntry, uses: UsesView, entry_link: EntryLink) -> str:
    path = layout.dataset_path(dataset.name)
    url = entry_link(path)
    summary = fields(
        [
            ("Owner", text(dataset.owner)),
            ("URI", code(dataset.uri)),
            ("Classification", joined(dataset.classification)),
            ("Tags", joined(dataset.tags)),
            ("Entry", link(url, path) if url else code(path)),
            ("Versions trained on it", text(uses.total)),
        ]
    )
    column_rows = []
    for column in dataset.columns:
        users, more = uses.columns.get(column.name, ([], 0))
        column_rows.append(
            [
                code(column.name),
                text(column.type or "-"),
                joined(column.classification),
                _versions_cell(users) + (f" and {more} more" if more else ""),
            ]
        )
    columns = (
        table(["Column", "Type", "Classification", "Used by (production first)"], column_rows)
        if column_rows
        else '<p class="none">No column is described.</p>'
    )
    use_rows = [
        [
            link(f"../{model_page(u.model)}#v-{u.version}", f"{u.model} {u.version}"),
            badge(u.stage),
            text(u.dataset_version or "any"),
            joined(u.columns) if u.columns is not None else "all columns",
            text(u.owner or "-"),
        ]
        for u in [*uses.serving, *uses.others]
    ]
    versions = (
        table(["Version", "Stage", "Dataset version", "Columns used", "Owner"], use_rows)
        if use_rows
        else '<p class="none">No registered version cites this dataset.</p>'
    )
    not_shown = [
        f"{count} more in {where}"
        for count, where in (
            (uses.more_serving, "production or staging"),
            (uses.more_others, "development or archived"),
        )
        if count
    ]
    if not_shown:
        versions += (
            f"<p>And {text(', '.join(not_shown))}: "
            f"<code>steward impact --dataset {text(dataset.name)}</code> lists them all.</p>"
        )
    description = (
        f'<p class="description">{text(dataset.description)}</p>' if dataset.description else ""
    )
    return (
        f"<h1>Dataset {code(dataset.name)}</h1>{description}{summary}"
        f'<section aria-labelledby="columns-h"><h2 id="columns-h">Columns</h2>{columns}</section>'
        f'<section aria-labelledby="impact-h"><h2 id="impact-h">Versions trained on it</h2>'
        f"{versions}</section>"
    )


def _versions_cell(uses: list[DatasetUse]) -> str:
    if not uses:
        return "-"
    return ", ".join(
        link(f"../{model_page(u.model)}#v-{u.version}", f"{u.model} {u.version}")
        + f" {badge(u.stage)}"
        for u in uses
    )


# --- proposals ----------------------------------------------------------------------------------


def proposals_body(
    proposals: list[tuple[Proposal, Status | None]], error: str | None, where: str
) -> str:
    intro = f"<h1>Open proposals</h1><p>Asked of {text(where)} when the site was built.</p>"
    if error is not None:
        return intro + f'<p class="warning">The forge could not be read: {text(error)}</p>'
    if not proposals:
        return intro + '<p class="none">No proposal is open.</p>'
    rows = [
        [
            text(f"#{p.number}"),
            text(p.title),
            text(p.author),
            code(p.head_branch),
            text(p.created_at.strftime("%Y-%m-%d %H:%M UTC")),
            _verdict(status),
        ]
        for p, status in proposals
    ]
    return intro + table(["Proposal", "Title", "Author", "Branch", "Opened", "Gate verdict"], rows)


def _verdict(status: Status | None) -> str:
    if status is None:
        return '<span class="badge verdict-none">not judged yet</span>'
    css = (
        "pass"
        if status.state == "success"
        else "fail"
        if status.state in ("failure", "error")
        else "pending"
    )
    return (
        f'<span class="badge verdict-{css}">{text(status.state)}</span> {text(status.description)}'
    )
