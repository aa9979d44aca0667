"""`steward list`'s answer, and the cache that answers it for an unchanged working tree.

Kept apart from `steward.reading.queries` so that an answer from the cache costs no import of the
entry models: with nothing changed, listing 100,000 versions is git saying so (its index and what
differs from it), one file read, and printing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from steward.entries.plain_entries import STAGE_NAMES as STAGE_NAMES  # for the command line
from steward.entries.problems import Problem
from steward.reading.cache import cache_dir, load_tree_answer, store_tree_answer

if TYPE_CHECKING:  # `which` and `show` import this module, and list no tree
    from steward.gitio.tree import Snapshot


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


class Listing:
    """The versions matching the filters, by model then version precedence, and the files that
    could not be read (whose versions may be missing from `rows`).

    A listing read from the cache keeps its `--json` text whole and makes `rows` only when
    they are asked for: printing 100,000 versions is then writing one string."""

    def __init__(
        self, rows: list[VersionRow] | None, problems: list[Problem], text: str | None = None
    ) -> None:
        self._rows = rows
        self.problems = problems
        self._text = text
        self._cached: _Cached | None = None

    @property
    def rows(self) -> list[VersionRow]:
        if self._rows is None:
            assert self._cached is not None
            self._rows = _rows_of(self._cached)
        return self._rows

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dicts(self) -> list[dict[str, Any]]:
        return [row.as_dict() for row in self.rows]

    def to_json(self) -> str:
        """`json.dumps(self.as_dicts(), indent=2)`, from the rows' own text."""
        if self._text is None:
            fragments = [row.json for row in self.rows]
            self._text = "[\n" + ",\n".join(fragments) + "\n]" if fragments else "[]"
        return self._text


# What the cache keeps of a whole listing: the rows' fields but their text, the problems, the
# `--json` text of all rows, and where each row's text starts in it.
_Cached = tuple[list[tuple[Any, ...]], list[Problem], str, list[int]]


def _rows_of(cached: _Cached) -> list[VersionRow]:
    fields, _problems, text, starts = cached
    ends = [start - 2 for start in starts[1:]] + [len(text) - 2]  # ",\n" between, "\n]" last
    return [
        tuple.__new__(VersionRow, (*row, text[start:end]))
        for row, start, end in zip(fields, starts, ends, strict=True)
    ]


def filtered(listing: Listing, filters: Filters) -> Listing:
    if filters.stage is None and filters.tag is None:
        return listing
    rows = [
        row
        for row in listing.rows
        if (filters.stage is None or row.stage == filters.stage)
        and (filters.tag is None or filters.tag in row.tags)
    ]
    return Listing(rows, listing.problems)


NO_FILTERS = Filters()


def cached_listing(snapshot: Snapshot, filters: Filters) -> Listing | None:
    """The listing of the whole working tree (or of a commit's tree) as cached for its current
    state, or None.

    Only for questions that read every model (no model or owner filter)."""
    if filters.model is not None or filters.owner is not None:
        return None
    known = load_tree_answer(cache_dir(snapshot.root, snapshot.git_dir), "list", snapshot.key())
    if not (isinstance(known, tuple) and len(known) == 4 and isinstance(known[2], str)):
        return None
    listing = Listing(None, known[1], known[2])
    listing._cached = known
    return filtered(listing, filters)


def store_listing(snapshot: Snapshot, key: str, listing: Listing) -> None:
    """Cache `listing` (of every model) under `key`, the state it was read in, unless the
    working tree changed while it was read: the listing could then be of neither state."""
    if not snapshot.unchanged_since(key):
        return
    text = listing.to_json()
    starts = []
    at = 2  # after "[\n"
    for row in listing.rows:
        starts.append(at)
        at += len(row.json) + 2
    fields = [tuple(row)[:-1] for row in listing.rows]
    cached: _Cached = (fields, listing.problems, text, starts)
    store_tree_answer(cache_dir(snapshot.root, snapshot.git_dir), "list", key, cached)
