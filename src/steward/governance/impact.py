"""Impact analysis: which model versions depend on a dataset (or one version or column of it),
and who has to hear about a change to it.

A version depends on the dataset when `training.datasets` cites it; on a column `C` when that
reference lists `C` or lists no columns (no list means all of them,
`classification.uses_column`). With a dataset version `V`, a reference citing another version does
not depend on `V`; one citing no version might, and counts as affected (conservatively) with
`version_match: "unversioned"`.

Affected versions are ordered production, staging, development, archived (then by model and
version). Retired versions are listed apart and never counted: their artifacts may be gone and
they serve no one, but their lineage is history worth seeing.

Whom to notify: for every affected (not retired) version, its model's owner and data steward and
the owners of the model's downstream consumers, each principal once (compared ignoring case),
with every reason they are on the list.

Impact fails closed: if any model, version or dataset file of the registry could not be read,
the answer is incomplete (`complete: false`) and the command exits non-zero, since the missing
file might be a production version that depends on the dataset.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii
from typing import Any, NamedTuple

from steward.entries import layout
from steward.entries.names import is_name
from steward.entries.problems import Problem
from steward.errors import UsageError
from steward.governance.notify import STAGE_ORDER, Notify, gather
from steward.reading.uses import ModelFacts, RefUse, UsesIndex


@dataclass(frozen=True)
class Question:
    dataset: str
    version: str | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "version": self.version, "column": self.column}


class Affected(NamedTuple):
    """One version that depends on the dataset, and why. A named tuple of plain facts (the
    registry's `UsesIndex`): an answer may hold 100,000 of them."""

    entry: str
    model_name: str
    version: str
    stage: str
    created_at: str
    model: ModelFacts | None
    dataset: str  # the id cited: the one asked about
    dataset_version: str | None
    columns: tuple[str, ...]
    reasons: tuple[str, ...]
    version_match: str  # exact | unversioned | any (no --version asked) | other

    def notify(self) -> list[tuple[str, str]]:
        """(principal, reason) pairs: who answers for this version or depends on its model."""
        return answerable(self.model, self.model.name if self.model else "")

    def as_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "model": self.model_name,
            "version": self.version,
            "stage": self.stage,
            "entry": self.entry,
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
        }


def answerable(model: ModelFacts | None, name: str) -> list[tuple[str, str]]:
    """(principal, reason) pairs for a model called `name` in the reasons: its owner, its data
    steward and the owners of its consumers."""
    if model is None:
        return []
    pairs = [(model.owner, f"owner of {name}")]
    if model.data_steward:
        pairs.append((model.data_steward, f"data steward of {name}"))
    pairs += [
        (owner, f"owner of {consumer}, a consumer of {name}")
        for consumer, owner in model.downstream
        if owner
    ]
    return pairs


@dataclass(frozen=True)
class ImpactReport:
    question: Question
    dataset_path: str
    dataset_owner: str | None
    affected: list[Affected]  # not retired, production first
    retired: list[Affected]
    other_versions: list[Affected]  # cite another version of the dataset: not affected
    notify: list[Notify]
    problems: list[Problem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def production(self) -> list[Affected]:
        return [item for item in self.affected if item.stage == "production"]

    @property
    def conservative(self) -> list[Affected]:
        return [item for item in self.affected if item.version_match == "unversioned"]

    def as_dict(self) -> dict[str, Any]:
        rows = {name: [item.as_dict() for item in getattr(self, name)] for name in _ROW_LISTS}
        return {**self._skeleton(), **rows}  # a key updated keeps its place

    def to_json(self) -> str:
        """`json.dumps(self.as_dict(), indent=2)`, written without the pure-Python encoder that
        `indent` costs (seconds for 100,000 versions): the rows, whose shape is fixed, from
        pieces shared by the rows of one model or of one reference."""
        marks = {name: f"\ufdd0{secrets.token_hex(8)} {name}" for name in _ROW_LISTS}
        skeleton = self._skeleton()
        skeleton.update({name: marks[name] for name in _ROW_LISTS if getattr(self, name)})
        text = json.dumps(skeleton, indent=2)
        rows = _RowsJson()
        for name in _ROW_LISTS:
            items: list[Affected] = getattr(self, name)
            if items:
                text = text.replace(json.dumps(marks[name]), rows.render(items), 1)
        return text

    def _skeleton(self) -> dict[str, Any]:
        return {
            "question": self.question.as_dict(),
            "dataset_entry": self.dataset_path,
            "dataset_owner": self.dataset_owner,
            "complete": self.complete,
            "production_affected": bool(self.production),
            **{name: [] for name in _ROW_LISTS},
            "notify": [item.as_dict() for item in self.notify],
            "problems": [problem.as_dict() for problem in self.problems],
        }


# The report's lists of rows (Affected), in their order in the JSON.
_ROW_LISTS = ("affected", "retired", "other_versions")


class _RowsJson:
    """A list of rows as `json.dumps(..., indent=2)` writes it inside the report (the rows at
    depth 2); the lines that depend only on the model, or only on the reference, are built once
    per model and per reference."""

    def __init__(self) -> None:
        self._models: dict[int, str] = {}  # by the ModelFacts object the rows share
        self._refs: dict[tuple[Any, ...], str] = {}

    def render(self, items: list[Affected]) -> str:
        rows = [
            "    {\n"
            f'      "model": {_string(item.model_name)},\n'
            f'      "version": {_string(item.version)},\n'
            f'      "stage": {_string(item.stage)},\n'
            f'      "entry": {_string(item.entry)},\n'
            f"{self._ref(item)}{self._model(item)}"
            "    }"
            for item in items
        ]
        return "[\n" + ",\n".join(rows) + "\n  ]"

    def _ref(self, item: Affected) -> str:
        key = (item.dataset_version, item.version_match, item.columns, item.reasons)
        known = self._refs.get(key)
        if known is None:
            columns = _strings(item.columns) if item.columns else "null"
            known = self._refs[key] = (
                f'      "dataset_version": {_value(item.dataset_version)},\n'
                f'      "version_match": {_string(item.version_match)},\n'
                f'      "columns": {columns},\n'
                f'      "reasons": {_strings(item.reasons)},\n'
            )
        return known

    def _model(self, item: Affected) -> str:
        known = self._models.get(id(item.model))
        if known is None:
            model = item.model
            consumers = [
                "        {\n"
                f'          "name": {_string(name)},\n'
                f'          "owner": {_value(owner)}\n'
                "        }"
                for name, owner in (model.downstream if model else ())
            ]
            listed = "[\n" + ",\n".join(consumers) + "\n      ]" if consumers else "[]"
            known = self._models[id(item.model)] = (
                f'      "owner": {_value(model.owner if model else None)},\n'
                f'      "data_steward": {_value(model.data_steward if model else None)},\n'
                f'      "risk": {_value(model.risk if model else None)},\n'
                f'      "consumers": {listed}\n'
            )
        return known


def _string(text: str) -> str:
    return encode_basestring_ascii(text)


def _value(text: str | None) -> str:
    return "null" if text is None else encode_basestring_ascii(text)


def _strings(texts: tuple[str, ...]) -> str:
    """A list of strings as a value of a row's key (its items at depth 4)."""
    if not texts:
        return "[]"
    return "[\n" + ",\n".join(f"        {_string(t)}" for t in texts) + "\n      ]"


def impact(index: UsesIndex, question: Question) -> ImpactReport:
    """Every version of the registry `index` describes that depends on what `question` names."""
    path = _check_question(index, question)
    dataset = index.datasets.get(question.dataset)
    affected: list[Affected] = []
    retired: list[Affected] = []
    other: list[Affected] = []
    reasons = Reasons(question)
    # The index keeps versions by model and precedence: a stable sort by stage alone then
    # orders production first, each stage by model and version.
    for path_, model, version, stage, created_at, refs in index.versions:
        best: Affected | None = None
        for ref in refs:
            ref_id, ref_version, _, columns = ref
            if ref_id != question.dataset:
                continue
            if question.column is not None and columns and question.column not in columns:
                continue
            match, why = reasons.of(ref)
            if best is not None and MATCH_RANK[match] >= MATCH_RANK[best.version_match]:
                continue
            best = tuple.__new__(
                Affected,
                (
                    path_, model, version, stage, created_at, index.models.get(model),
                    ref_id, ref_version, columns, why, match,
                ),
            )  # fmt: skip
        if best is None:
            continue
        if best.version_match == "other":
            other.append(best)
        elif stage == "retired":
            retired.append(best)
        else:
            affected.append(best)
    affected.sort(key=_order)
    return ImpactReport(
        question,
        path,
        dataset.owner if dataset is not None else None,
        affected,
        sorted(retired, key=_order),
        sorted(other, key=_order),
        gather(item.notify() for item in affected),
        list(index.problems),
    )


# When a version cites the dataset more than once, the reference that binds it most decides.
MATCH_RANK = {"exact": 0, "any": 0, "unversioned": 1, "other": 2}


class Reasons:
    """How a reference binds a version (`exact`, `unversioned`, `any`, `other`) and why it
    counts; computed once per distinct reference (reasons are shared, immutable). Across
    registries (`naming_the_id`), a reason names the id the version cites."""

    def __init__(self, question: Question, naming_the_id: bool = False) -> None:
        self.question = question
        self.naming_the_id = naming_the_id
        self._known: dict[RefUse, tuple[str, tuple[str, ...]]] = {}

    def of(self, ref: RefUse) -> tuple[str, tuple[str, ...]]:
        ref_id, ref_version, _, columns = ref
        key = (ref_id, ref_version, None, columns)  # the URI does not change the reasons
        known = self._known.get(key)
        if known is not None:
            return known
        asked = self.question.version
        first = _column_reason(columns, self.question.column)
        if self.naming_the_id and self.question.column is None:
            first = f"{first} (as {ref_id})"
        reasons: tuple[str, ...]
        if asked is None:
            match, reasons = "any", (first,)
        elif ref_version == asked:
            match, reasons = "exact", (first,)
        elif ref_version is None:
            match = "unversioned"
            reasons = (
                first,
                f"cites no dataset version: counted as affected, it may have used {asked}",
            )
        else:
            match = "other"
            reasons = (first, f"cites dataset version {ref_version}, not {asked}")
        self._known[key] = (match, reasons)
        return match, reasons


def _check_question(index: UsesIndex, question: Question) -> str:
    if not is_name(question.dataset):
        raise UsageError(
            f"'{question.dataset}' is not a dataset name: 1 to 64 lowercase letters, digits, "
            "'.', '_' or '-'"
        )
    path = layout.dataset_path(question.dataset)
    if question.dataset not in index.dataset_paths:
        raise UsageError(f"no dataset '{question.dataset}' in the registry: {path} does not exist")
    dataset = index.datasets.get(question.dataset)
    if question.column is not None and dataset is not None:
        known = [name for name, _ in dataset.columns]
        if question.column not in known:
            listed = ", ".join(known) or "none"
            raise UsageError(
                f"dataset '{question.dataset}' has no column '{question.column}' "
                f"({path} lists: {listed})"
            )
    return path


def _column_reason(columns: tuple[str, ...], column: str | None) -> str:
    if column is None:
        return "trained on the dataset"
    if columns:
        return f"lists column {column}"
    return "lists no columns, so uses all of them"


_STAGE_RANK = {stage: rank for rank, stage in enumerate(STAGE_ORDER)}


def _order(item: Affected) -> int:
    return _STAGE_RANK.get(item.stage, len(STAGE_ORDER))
