"""`steward.entries.plain_entries`: the plain checks `which` and `show` answer with agree with
the entry models.

A check may only speed an answer up, never change it: wherever it returns an entry, the model
must accept the same data and hold the same values (compared through both dumps, field order
included, and attribute by attribute). Every field is replaced, removed or joined by a
stranger, across a battery of values, and the two are compared; on data the loader can produce
they agree both ways (the check is unsure only of what its docstring names).
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from steward.entries import models, plain_entries
from steward.entries.layout import Kind
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry
from steward.entries.plain_entries import Spec, plain_entry
from steward.entries.yamlio import loads
from steward.errors import YamlError
from tests.builders import (
    add_version,
    model_data,
    small_registry,
    version_data,
    write,
    write_yaml,
)

SPECS: list[tuple[Spec, type[BaseModel]]] = [
    (plain_entries.MODEL, models.ModelEntry),
    (plain_entries.MODEL_CARD, models.ModelCard),
    (plain_entries.CONSUMER, models.Consumer),
    (plain_entries.VERSION, models.VersionEntry),
    (plain_entries.ARTIFACT, models.Artifact),
    (plain_entries.ARTIFACT_FILE, models.ArtifactFile),
    (plain_entries.TRAINING, models.Training),
    (plain_entries.DATASET_REF, models.DatasetRef),
    (plain_entries.CODE_REF, models.CodeRef),
    (plain_entries.ENVIRONMENT, models.Environment),
    (plain_entries.METRIC_POINT, models.MetricPoint),
    (plain_entries.DATASET, models.DatasetEntry),
    (plain_entries.COLUMN, models.Column),
]
MODEL_OF_KIND: dict[Kind, type[BaseModel]] = {
    Kind.MODEL: ModelEntry,
    Kind.VERSION: VersionEntry,
    Kind.DATASET: DatasetEntry,
}


@pytest.mark.parametrize(("spec", "model"), SPECS, ids=lambda x: getattr(x, "__name__", ""))
def test_the_check_names_every_field_in_the_models_order_with_its_default(
    spec: Spec, model: type[BaseModel]
) -> None:
    fields = model.model_fields
    assert list(spec) == list(fields)  # the dump's order
    for name, info in fields.items():
        assert (spec[name].default is None) == info.is_required(), name
        if not info.is_required():
            default = info.get_default(call_default_factory=True)
            dumped = default.model_dump(mode="json") if isinstance(default, BaseModel) else default
            made = spec[name].default
            assert made is not None
            value = made()
            assert (value.model_dump() if hasattr(value, "model_dump") else value) == dumped, name
            assert made() is not made() or value is None  # a fresh default every time


def test_the_literals_are_the_models() -> None:
    assert plain_entries.STAGE_NAMES == models.STAGES
    assert plain_entries.RISK_CLASSES == models.RISK_CLASSES
    assert plain_entries.CARD_SECTIONS == models.CARD_SECTIONS


def _full_entry() -> dict[str, Any]:
    data = version_data("fraud", "1.2.0-rc.1", stage="production")
    data["description"] = "gradient boosted trees"
    data["tags"] = ["tabular", "gbm"]
    data["training"].update(
        duration_s=12,
        code={"repo": "acme/fraud", "commit": "a" * 40, "path": "train.py"},
        run="https://ci.example/run/1",
    )
    data["training"]["datasets"].append(
        {"id": "labels", "uri": "s3://lake/labels", "columns": ["amount"]}
    )
    data["training"]["hyperparameters"].update(
        {"grid": [1, 2.5, None, True, {"nested": ["x"]}], "name": "gbm"}
    )
    data["metrics"] = {"auc": 0.91, "rows": 1000, "f1@0.5": 0.8}
    data["environment"].update(packages={"numpy": "1.26.4"}, hardware="cpu", image="ghcr.io/x")
    data["dependencies"] = ["fraud-features"]
    data["production_metrics"] = [
        {"at": "2026-11-21T10:00:00.123+02:00", "metrics": {"auc": 0.9}, "source": "prom"},
        {"at": "2026-11-22T10:00:00Z", "metrics": {}, "breaches": ["auc < 0.95"]},
    ]
    data["retired_at"] = None
    data["retired_reason"] = None
    data["artifact"]["files"].append({"path": "sub/dir/weights.bin", "sha256": "b" * 64, "size": 0})
    return data


STRANGERS: list[Any] = [
    None, True, False, 0, -1, 7, 2.5, -0.5, 1e308, 10**400, -(10**400), "", "x", "fraud",
    "Fraud", "1.0.0",
    "2026-11-20T10:00:00Z", "2026-13-01T10:00:00Z", "2026-11-20 10:00:00Z",
    "2026-11-20T10:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
    "a" * 32, "a" * 32 + ".dir", "A" * 32, "b" * 64, "c" * 7, "c" * 65, "ci-bot[bot]",
    "-bot", "@acme/ml", "a/b.bin", "../up", "/abs", "a//b", "a\\b", "CON.txt", "dir/",
    "tab\there", "bidi\u202eoverride", "new\nline", "x" * 257, "x" * 256, "auc:roc/1",
    [], [None], ["x"], ["x", "x"], [{"a": 1}], {}, {"k": "v"}, {"k": 1.5}, {1: "v"},
    {"auc": True}, {"bad key": 1}, {"k": [1, {"d": None}]}, {"k": float("nan")},
]  # fmt: skip


def _places(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and index inside `data`, as paths from its root."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key)
            yield from _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield (*path, index)
            yield from _places(value, (*path, index))


def _containers(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(data, dict):
        yield path
    if isinstance(data, dict | list):
        items = data.items() if isinstance(data, dict) else enumerate(data)
        for key, value in items:
            yield from _containers(value, (*path, key))


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _variants(base: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "as it is", base
    for path in _places(base):
        parent = _at(base, path[:-1])
        for stranger in STRANGERS:
            changed = copy.deepcopy(base)
            _at(changed, path[:-1])[path[-1]] = copy.deepcopy(stranger)
            yield f"{path} = {stranger!r}", changed
        changed = copy.deepcopy(base)
        del _at(changed, path[:-1])[path[-1]]
        yield f"{path} removed", changed
        if isinstance(parent, dict):  # the same value under another key
            changed = copy.deepcopy(base)
            _at(changed, path[:-1])[f"{path[-1]}_"] = copy.deepcopy(parent[path[-1]])
            yield f"{path}_ added", changed
    for path in _containers(base):
        for optional_field in ("description", "tags", "source", "columns", "code", "at"):
            changed = copy.deepcopy(base)
            _at(changed, path)[optional_field] = None
            yield f"{path} + {optional_field}: None", changed
    for shape in (None, [], "text", 1, {"model": "fraud"}):
        yield f"the whole file is {shape!r}", shape


def _valid(kind: Kind, data: Any) -> bool:
    try:
        MODEL_OF_KIND[kind].model_validate(data)
    except ValidationError:
        return False
    return True


def _dumps_agree(kind: Kind, data: Any) -> bool:
    """Whether the check and the model agree on `data`: both refuse it, or both hold the same
    values (their dumps equal, field order included); the check's answer, as a bool."""
    plain = plain_entry(kind, data)
    try:
        strict = MODEL_OF_KIND[kind].model_validate(data)
    except ValidationError:
        assert plain is None
        return False
    assert plain is not None, "valid for the model, unsure for the check"
    dumped, expected = plain.model_dump(), strict.model_dump(mode="json")
    assert list(dumped) == list(expected)
    assert dumped == expected
    for name in expected:  # and each value as an attribute, with its type
        value = getattr(strict, name)
        if not isinstance(value, (BaseModel, list)):
            assert getattr(plain, name) == value and type(getattr(plain, name)) is type(value)
    return True


def _full_model() -> dict[str, Any]:
    data = model_data("fraud", data_steward="@acme/data-office", license="Apache-2.0")
    data["tags"] = ["tabular"]
    data["card"].update(factors="time of day", evaluation_data="holdout 2026-10")
    data["downstream"] = [{"name": "payments", "owner": "@acme/pay", "description": "blocks"}]
    data["custom"] = {"cost_center": 42, "reviewed": True, "links": ["a", {"b": None}]}
    return data


def _full_dataset() -> dict[str, Any]:
    return {
        "name": "transactions",
        "description": "card transactions",
        "owner": "@acme/data",
        "uri": "s3://lake/transactions/",
        "classification": ["internal", "financial"],
        "columns": [
            {"name": "amount", "type": "float", "classification": ["financial"]},
            {"name": "card number", "description": "PAN", "classification": ["pii"]},
        ],
        "tags": ["raw"],
    }


VERSION_REQUIRED = ("model", "version", "stage", "created_at", "created_by", "artifact")


def _only(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key in keys}


BASES = {
    "version, full": (Kind.VERSION, _full_entry),
    "version, minimal": (
        Kind.VERSION,
        lambda: {
            k: v
            for k, v in version_data("fraud", "1.0.0").items()
            if k not in ("training", "metrics", "environment")
        },
    ),
    "model, full": (Kind.MODEL, _full_model),
    "model, minimal": (
        Kind.MODEL,
        lambda: {
            k: v for k, v in model_data("fraud").items() if k in ("name", "owner", "team", "risk")
        },
    ),
    "dataset, full": (Kind.DATASET, _full_dataset),
    "dataset, minimal": (Kind.DATASET, lambda: {"name": "d", "owner": "erin", "uri": "x"}),
}


@pytest.mark.parametrize("base", list(BASES))
def test_the_check_agrees_with_the_model_on_every_variant(base: str) -> None:
    kind, make = BASES[base]
    compared = accepted = 0
    for label, variant in _variants(make()):
        try:
            accepted += _dumps_agree(kind, variant)
        except AssertionError as exc:
            raise AssertionError(f"{base}: {label}: {exc}") from exc
        compared += 1
    assert compared > 150 and accepted > 20  # the battery reaches both answers


def test_what_the_check_is_unsure_of_goes_to_the_model() -> None:
    """Valid for the model, but left to it: JSON nested deeper than the check follows."""
    nested: Any = 1
    for _ in range(70):
        nested = [nested]
    data = version_data("fraud", "1.0.0")
    data["training"]["hyperparameters"] = {"grid": nested}
    assert _valid(Kind.VERSION, data)
    assert plain_entry(Kind.VERSION, data) is None


EXAMPLES = Path(__file__).parent / "examples"


@pytest.mark.parametrize(
    "example",
    sorted([*EXAMPLES.glob("valid/version/*.yaml"), *EXAMPLES.glob("invalid/version/*.yaml")]),
    ids=lambda path: f"{path.parent.parent.name}/{path.name}",
)
def test_the_check_agrees_with_the_model_on_the_examples(example: Path) -> None:
    try:
        data = loads(example.read_bytes(), example.name).data
    except YamlError:
        return  # refused before either is asked
    assert _dumps_agree(Kind.VERSION, data) == (example.parent.parent.name == "valid")


def test_files_that_are_one_on_a_case_insensitive_disk_are_refused_by_both() -> None:
    data = version_data("fraud", "1.0.0")
    file = data["artifact"]["files"][0]
    data["artifact"]["files"].append({**file, "path": file["path"].upper()})
    assert plain_entry(Kind.VERSION, data) is None
    assert not _valid(Kind.VERSION, data)


def test_a_file_read_by_the_loader_is_checked_as_the_model_reads_it(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    for relative in ("registry/models/fraud/1.0.0.yaml", "registry/models/fraud/1.1.0.yaml"):
        data = loads((root / relative).read_bytes(), relative).data
        assert _dumps_agree(Kind.VERSION, data)


# --- what `which` imports ---------------------------------------------------------------------


def _imported(root: Path, *args: str) -> set[str]:
    """The modules a `steward` process imported to answer `args` (from `-X importtime`)."""
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "steward", "-C", str(root), *args],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    lines = [line for line in ran.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 50, ran.stderr  # the format is as read below
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


HEAVY = ("pydantic", "pydantic_core", "jsonschema", "dvc", "github", "steward.entries.policy")


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)


def test_which_imports_neither_pydantic_nor_the_policy_nor_dvc(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    add_version(root, "fraud", "1.2.0", stage="staging")  # two in staging: the policy is read
    assert _heavy(_imported(root, "which", "fraud", "production", "--json")) == []
    assert "steward.entries.policy" in _imported(root, "which", "fraud", "staging")


def test_which_asks_the_model_about_a_broken_version_and_names_its_problems(
    tmp_path: Path,
) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "registry/models/fraud/1.1.0.yaml", "model: fraud\nversion: 1.1.0\n")
    ran = subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(root), "which", "fraud", "production"],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 1
    assert "registry/models/fraud/1.1.0.yaml has problems" in ran.stderr
    assert "stage" in ran.stderr and "artifact" in ran.stderr  # the model's own messages


def test_show_imports_neither_pydantic_nor_the_policy_nor_dvc(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    for target in ("fraud", "fraud@1.0.0"):
        assert _heavy(_imported(root, "show", target, "--json")) == [], target


def test_show_asks_the_models_when_a_file_is_broken_and_names_its_problems(
    tmp_path: Path,
) -> None:
    root = small_registry(tmp_path / "reg")
    write(root, "registry/datasets/transactions.yaml", "name: transactions\n")
    ran = subprocess.run(
        [sys.executable, "-m", "steward", "-C", str(root), "show", "fraud@1.0.0"],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 1
    assert "registry/datasets/transactions.yaml" in ran.stderr
    assert "owner" in ran.stderr and "its classifications are unknown" in ran.stderr


# --- show: the same answer from plain entries as from the models --------------------------------


def _rich_registry(root: Path) -> Path:
    """Entries with every kind of value `show` prints: a card, consumers, custom fields, int
    metrics, production metrics, datasets with classified columns, a cited column subset."""
    small_registry(root)
    write_yaml(root, "registry/models/fraud/model.yaml", _full_model())
    write_yaml(root, "registry/datasets/transactions.yaml", _full_dataset())
    full = _full_entry()
    full["version"] = "1.2.0"
    full["training"]["datasets"] = [
        {"id": "transactions", "version": "2026-10-31", "columns": ["card number"]},
        {"id": "labels", "uri": "s3://lake/labels"},
    ]
    write_yaml(root, "registry/models/fraud/1.2.0.yaml", full)
    write_yaml(
        root, "registry/datasets/labels.yaml", {"name": "labels", "owner": "erin", "uri": "u"}
    )
    return root


def _answers(root: Path) -> list[str]:
    from steward.cli.query_cmd import render_model, render_version
    from steward.reading import shown

    model = shown.show_model(root, "fraud")
    answers = [render_model(model), json.dumps(model.as_dict())]
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        view = shown.show_version(root, "fraud", version)
        answers += [render_version(view), json.dumps(view.as_dict())]
    return answers


def test_show_answers_alike_from_plain_entries_and_from_the_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.reading import catalog

    root = _rich_registry(tmp_path / "reg")
    seen: list[Any] = []
    real = catalog.plain_entry

    def counted(kind: Kind, data: Any) -> Any:
        seen.append(found := real(kind, data))
        return found

    monkeypatch.setattr(catalog, "plain_entry", counted)
    plain = _answers(root)
    assert seen and all(entry is not None for entry in seen)  # every answer was plain
    monkeypatch.setattr(catalog, "plain_entry", lambda kind, data: None)
    by_the_models = _answers(root)
    assert plain == by_the_models
    assert "payments (@acme/pay)" in plain[0] and "card number: pii" in plain[6]


def test_a_plain_entry_is_read_only_and_copies_and_pickles_whole() -> None:
    import pickle

    entry = plain_entry(Kind.VERSION, _full_entry())
    assert entry is not None
    with pytest.raises(AttributeError, match="read-only"):
        entry.stage = "archived"
    assert not hasattr(entry, "no_such_field") and not hasattr(entry, "_private")
    for copied in (copy.copy(entry), copy.deepcopy(entry), pickle.loads(pickle.dumps(entry))):
        assert copied == entry and copied.model_dump() == entry.model_dump()
    deep = copy.deepcopy(entry)
    assert deep.training.datasets[0] is not entry.training.datasets[0]
    dumped = entry.model_dump()
    dumped["training"]["datasets"].clear()  # as VersionView.as_dict replaces them
    assert entry.model_dump()["training"]["datasets"]
