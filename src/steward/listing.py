"""`steward list`'s answer, and the cache that answers it for an unchanged working tree.

Kept apart from `steward.queries` so that an answer from the cache costs no import of the entry
models: with nothing changed, listing 100,000 versions is git saying so (its index and what
differs from it), one file read, and printing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from steward.cache import cache_dir, load_tree_answer, store_tree_answer
from steward.problems import Problem
from steward.tree import WorktreeSnapshot

# `steward.entries.STAGES`, for the command line without importing the entry models (a test
# holds the two equal).
STAGE_NAMES = ("development", "staging", "production", "archived", "retired")


@dataclass(frozen=True)
class Filters:
    """What `steward list` narrows to; every given filter must match."""

    stage: str | None = None
    model: str | None = None
    owner: str | None = None  # the model's owner: a login or @org/team, compared ignoring case
    tag: str | None = None  # a tag of the version or of its model


class VersionRow(NamedTuple):
    """One version as `list` shows it, with the model facts people filter and sort by.

    `owner` is None when the model's own file cannot be read. `json` is the row as
    `list --json` writes it, already indented as an item of the list: a listing read back from
    the cache is printed without building 100,000 dictionaries again."""

    model: str
    version: str
    stage: str
    created_at: str
    owner: str | None
    tags: tuple[str, ...]  # the model's tags then the version's, each once
    entry_path: str
    json: str

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.json)
        return data


@dataclass(frozen=True)
class Listing:
    """The versions matching the filters, by model then version precedence, and the files that
    could not be read (whose versions may be missing from `rows`)."""

    rows: list[VersionRow]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dicts(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.rows]

    def to_json(self) -> str:
        """`json.dumps(self.as_dicts(), indent=2)`, from the rows' own text."""
        if not self.rows:
            return "[]"
        return "[\n" + ",\n".join(row.json for row in self.rows) + "\n]"


def filtered(listing: Listing, filters: Filters) -> Listing:
    rows = [
        row
        for row in listing.rows
        if (filters.stage is None or row.stage == filters.stage)
        and (filters.tag is None or filters.tag in row.tags)
    ]
    return Listing(rows, listing.problems)


NO_FILTERS = Filters()


def cached_listing(snapshot: WorktreeSnapshot, filters: Filters) -> Listing | None:
    """The listing of the whole working tree as cached for its current state, or None.

    Only for questions that read every model (no model or owner filter)."""
    if filters.model is not None or filters.owner is not None:
        return None
    known = load_tree_answer(cache_dir(snapshot.root), "list", snapshot.key())
    if not (isinstance(known, tuple) and len(known) == 2):
        return None
    # Kept as plain tuples: 100,000 of them unpickle ten times faster than named ones.
    rows, problems = known
    return filtered(Listing([tuple.__new__(VersionRow, row) for row in rows], problems), filters)


def store_listing(directory: Path | None, key: str, listing: Listing) -> None:
    plain = [tuple(row) for row in listing.rows]
    store_tree_answer(directory, "list", key, (plain, listing.problems))
