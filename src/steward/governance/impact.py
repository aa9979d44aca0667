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

from dataclasses import dataclass, field
from typing import Any

from steward.entries import classification, layout
from steward.entries.models import DatasetRef, ModelEntry, VersionEntry
from steward.entries.names import is_name
from steward.entries.problems import Problem
from steward.entries.semver import precedence
from steward.errors import UsageError
from steward.governance.notify import STAGE_ORDER, Notify, gather
from steward.reading.contents import RegistryContents


@dataclass(frozen=True)
class Question:
    dataset: str
    version: str | None = None
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "version": self.version, "column": self.column}


@dataclass(frozen=True)
class Affected:
    """One version that depends on the dataset, and why."""

    version: VersionEntry
    model: ModelEntry | None
    ref: DatasetRef
    reasons: list[str]
    version_match: str  # exact | unversioned | any (no --version asked)

    def notify(self) -> list[tuple[str, str]]:
        """(principal, reason) pairs: who answers for this version or depends on its model."""
        model = self.model
        if model is None:
            return []
        name = model.name
        pairs = [(model.owner, f"owner of {name}")]
        if model.data_steward:
            pairs.append((model.data_steward, f"data steward of {name}"))
        pairs += [
            (consumer.owner, f"owner of {consumer.name}, a consumer of {name}")
            for consumer in model.downstream
            if consumer.owner
        ]
        return pairs

    def as_dict(self) -> dict[str, Any]:
        model = self.model
        return {
            "model": self.version.model,
            "version": self.version.version,
            "stage": self.version.stage,
            "entry": layout.version_path(self.version.model, self.version.version),
            "dataset_version": self.ref.version,
            "version_match": self.version_match,
            "columns": list(self.ref.columns) or None,
            "reasons": self.reasons,
            "owner": model.owner if model else None,
            "data_steward": model.data_steward if model else None,
            "risk": model.risk if model else None,
            "consumers": [
                {"name": c.name, "owner": c.owner} for c in (model.downstream if model else [])
            ],
        }


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
        return [item for item in self.affected if item.version.stage == "production"]

    @property
    def conservative(self) -> list[Affected]:
        return [item for item in self.affected if item.version_match == "unversioned"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question.as_dict(),
            "dataset_entry": self.dataset_path,
            "dataset_owner": self.dataset_owner,
            "complete": self.complete,
            "production_affected": bool(self.production),
            "affected": [item.as_dict() for item in self.affected],
            "retired": [item.as_dict() for item in self.retired],
            "other_versions": [item.as_dict() for item in self.other_versions],
            "notify": [item.as_dict() for item in self.notify],
            "problems": [problem.as_dict() for problem in self.problems],
        }


def impact(contents: RegistryContents, question: Question) -> ImpactReport:
    """Every version of the registry that depends on what `question` names."""
    path = _check_question(contents, question)
    dataset = contents.datasets.get(question.dataset)
    affected: list[Affected] = []
    retired: list[Affected] = []
    other: list[Affected] = []
    for entry in contents.all_versions():
        found = _dependency(entry, contents.models.get(entry.model), question)
        if found is None:
            continue
        if found.version_match == "other":
            other.append(found)
        elif entry.stage == "retired":
            retired.append(found)
        else:
            affected.append(found)
    affected.sort(key=_order)
    return ImpactReport(
        question,
        path,
        dataset.owner if dataset is not None else None,
        affected,
        sorted(retired, key=_order),
        sorted(other, key=_order),
        _notify(affected),
        list(contents.problems),
    )


# When a version cites the dataset more than once, the reference that binds it most decides.
_MATCH_RANK = {"exact": 0, "any": 0, "unversioned": 1, "other": 2}


def _dependency(
    entry: VersionEntry, model: ModelEntry | None, question: Question
) -> Affected | None:
    candidates = []
    for ref in entry.training.datasets:
        if ref.id != question.dataset:
            continue
        if question.column is not None and not classification.uses_column(ref, question.column):
            continue
        reasons = [_column_reason(ref, question.column)]
        if question.version is None:
            match = "any"
        elif ref.version == question.version:
            match = "exact"
        elif ref.version is None:
            match = "unversioned"
            reasons.append(
                "cites no dataset version: counted as affected, it may have used "
                f"{question.version}"
            )
        else:
            match = "other"
            reasons.append(f"cites dataset version {ref.version}, not {question.version}")
        candidates.append(Affected(entry, model, ref, reasons, match))
    if not candidates:
        return None
    return min(candidates, key=lambda item: _MATCH_RANK[item.version_match])


def _check_question(contents: RegistryContents, question: Question) -> str:
    if not is_name(question.dataset):
        raise UsageError(
            f"'{question.dataset}' is not a dataset name: 1 to 64 lowercase letters, digits, "
            "'.', '_' or '-'"
        )
    path = layout.dataset_path(question.dataset)
    if question.dataset not in contents.dataset_paths:
        raise UsageError(f"no dataset '{question.dataset}' in the registry: {path} does not exist")
    dataset = contents.datasets.get(question.dataset)
    if question.column is not None and dataset is not None:
        known = [column.name for column in dataset.columns]
        if question.column not in known:
            listed = ", ".join(known) or "none"
            raise UsageError(
                f"dataset '{question.dataset}' has no column '{question.column}' "
                f"({path} lists: {listed})"
            )
    return path


def _column_reason(ref: DatasetRef, column: str | None) -> str:
    if column is None:
        return "trained on the dataset"
    if ref.columns:
        return f"lists column {column}"
    return "lists no columns, so uses all of them"


def _order(item: Affected) -> tuple[int, str, Any]:
    stage = item.version.stage
    rank = STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)
    return (rank, item.version.model, precedence(item.version.version))


def _notify(affected: list[Affected]) -> list[Notify]:
    return gather(item.notify() for item in affected)
