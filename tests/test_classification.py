"""Classification propagation: what versions inherit from datasets and the columns they used,
and `steward check` refusing a model that declares less."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.entries import classification
from steward.entries.models import DatasetEntry, DatasetRef
from steward.reading.registry import check_registry
from tests.builders import (
    add_dataset,
    add_model,
    add_version,
    default_policy_text,
    small_registry,
    write,
)

COLUMNS = [
    {"name": "email", "classification": ["pii"]},
    {"name": "amount", "classification": ["financial"]},
    {"name": "hour"},
]


def training(*columns: str) -> dict[str, object]:
    ref: dict[str, object] = {"id": "customers"}
    if columns:
        ref["columns"] = list(columns)
    return {"datasets": [ref]}


def problems(root: Path) -> list[str]:
    return [p.render() for p in check_registry(root).problems]


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    root = small_registry(tmp_path / "reg")
    add_dataset(root, "customers", classification=["internal"], columns=COLUMNS)
    return root


def test_a_version_inherits_only_the_columns_it_used(registry: Path) -> None:
    add_model(registry, "churn", classification=["internal", "financial"])
    add_version(registry, "churn", "1.0.0", training=training("amount", "hour"))
    assert problems(registry) == []


def test_listing_no_columns_means_all_of_them(registry: Path) -> None:
    add_model(registry, "churn", classification=["internal", "financial"])
    add_version(registry, "churn", "1.0.0", training=training())
    assert problems(registry) == [
        "registry/models/churn/model.yaml:9: classification: declares internal, financial, "
        "lower than the 'pii' that version 1.0.0 inherits from dataset customers, column email: "
        "add 'pii' to classification"
    ]


def test_each_missing_label_is_one_problem_on_the_model(registry: Path) -> None:
    add_model(registry, "churn", classification=[])
    for version in ("1.0.0", "1.1.0"):
        add_version(registry, "churn", version, training=training("email"))
    found = problems(registry)
    assert len(found) == 2
    assert all(p.startswith("registry/models/churn/model.yaml:") for p in found)
    assert "declares nothing, lower than the 'internal'" in found[0]
    assert "'pii' that version 1.0.0 inherits from dataset customers, column email" in found[1]


def test_retired_versions_no_longer_count(registry: Path) -> None:
    add_model(registry, "churn", classification=["internal"])
    add_version(
        registry, "churn", "1.0.0", training=training("email"), stage="retired",
        retired_at="2026-11-25T00:00:00Z", retired_reason="kept 3 archived versions",
    )  # fmt: skip
    assert problems(registry) == []


def test_a_declared_level_covers_lower_levels(registry: Path) -> None:
    write(
        registry,
        "policies/registry.yaml",
        default_policy_text() + "classification_levels: [public, internal, confidential]\n",
    )
    add_model(registry, "churn", classification=["confidential", "financial"])
    add_version(registry, "churn", "1.0.0", training=training("amount"))
    assert problems(registry) == []
    add_dataset(registry, "customers", classification=["confidential"], columns=COLUMNS)
    add_model(registry, "churn", classification=["internal", "financial"])
    assert problems(registry) == [
        "registry/models/churn/model.yaml:9: classification: declares internal, financial, "
        "lower than the 'confidential' that version 1.0.0 inherits from dataset customers: "
        "add 'confidential' to classification"
    ]


def test_levels_listed_twice_are_refused(registry: Path) -> None:
    write(
        registry,
        "policies/registry.yaml",
        default_policy_text() + "classification_levels: [public, internal, public]\n",
    )
    assert any(
        "classification_levels[2]: level 'public' is listed twice" in p for p in problems(registry)
    )


def test_a_used_column_must_be_one_of_the_dataset(registry: Path) -> None:
    add_model(registry, "churn", classification=["internal"])
    add_version(registry, "churn", "1.0.0", training=training("hour", "emial"))
    [problem] = problems(registry)
    assert problem.startswith("registry/models/churn/1.0.0.yaml:")
    assert problem.endswith(
        "training.datasets[0].columns[1]: column 'emial' is not a column of dataset 'customers' "
        "(registry/datasets/customers.yaml columns)"
    )


def test_uncovered_and_inherited_are_plain_functions() -> None:
    dataset = DatasetEntry.model_validate(
        {"name": "d", "owner": "erin", "uri": "s3://d", "classification": ["internal"],
         "columns": COLUMNS}
    )  # fmt: skip
    found = classification.inherited([DatasetRef(id="d", columns=["email"])], {"d": dataset})
    assert [(f.label, f.source) for f in found] == [
        ("internal", "dataset d"),
        ("pii", "dataset d, column email"),
    ]
    assert classification.uncovered(["pii"], ["internal", "pii"], ["internal"]) == ["internal"]
    assert classification.uncovered(["restricted"], ["internal"], ["internal", "restricted"]) == []
    assert classification.uncovered(["internal"], ["restricted"], ["internal", "restricted"]) == [
        "restricted"
    ]
    assert classification.uses_column(DatasetRef(id="d"), "anything")
    assert not classification.uses_column(DatasetRef(id="d", columns=["a"]), "b")
