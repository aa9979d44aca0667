"""`steward.entries.version_rules`: the plain check `which` answers with agrees with VersionEntry.

The check may only speed an answer up, never change it: wherever it returns facts, the model
must accept the same data and give the same facts. Every field is replaced, removed or joined
by a stranger, across a battery of values, and the two are compared; on data the loader can
produce they agree both ways (the check is unsure only of what its docstring names).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from steward.entries import models, version_rules
from steward.entries.models import VersionEntry
from steward.entries.version_rules import CheckedVersion, Spec, checked_version
from steward.entries.yamlio import loads
from steward.errors import YamlError
from tests.builders import add_model, add_version, small_registry, version_data, write

SPECS: list[tuple[Spec, type[BaseModel]]] = [
    (version_rules.VERSION, models.VersionEntry),
    (version_rules.ARTIFACT, models.Artifact),
    (version_rules.ARTIFACT_FILE, models.ArtifactFile),
    (version_rules.TRAINING, models.Training),
    (version_rules.DATASET_REF, models.DatasetRef),
    (version_rules.CODE_REF, models.CodeRef),
    (version_rules.ENVIRONMENT, models.Environment),
    (version_rules.METRIC_POINT, models.MetricPoint),
]


@pytest.mark.parametrize(("spec", "model"), SPECS, ids=lambda x: getattr(x, "__name__", ""))
def test_the_check_names_every_field_of_the_model_and_which_are_required(
    spec: Spec, model: type[BaseModel]
) -> None:
    required, optional = spec
    fields = model.model_fields
    assert set(required) == {name for name, info in fields.items() if info.is_required()}
    assert set(required) | set(optional) == set(fields)


def test_the_stages_are_the_models() -> None:
    assert version_rules.STAGE_NAMES == models.STAGES


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


def _by_the_model(data: Any) -> CheckedVersion | None:
    try:
        return CheckedVersion.of(VersionEntry.model_validate(data))
    except ValidationError:
        return None


@pytest.mark.parametrize("base", ["full", "minimal"])
def test_the_check_agrees_with_the_model_on_every_variant(base: str) -> None:
    data = _full_entry() if base == "full" else version_data("fraud", "1.0.0")
    if base == "minimal":
        for key in ("training", "metrics", "environment"):
            del data[key]
    compared = accepted = 0
    for label, variant in _variants(data):
        quick = checked_version(variant)
        strict = _by_the_model(variant)
        assert quick == strict, label
        compared += 1
        accepted += quick is not None
    assert compared > 800 and accepted > 50  # the battery reaches both answers


def test_what_the_check_is_unsure_of_goes_to_the_model() -> None:
    """Valid for the model, but left to it: JSON nested deeper than the check follows."""
    nested: Any = 1
    for _ in range(70):
        nested = [nested]
    data = version_data("fraud", "1.0.0")
    data["training"]["hyperparameters"] = {"grid": nested}
    assert _by_the_model(data) is not None
    assert checked_version(data) is None


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
    assert checked_version(data) == _by_the_model(data)
    assert (checked_version(data) is not None) == (example.parent.parent.name == "valid")


def test_files_that_are_one_on_a_case_insensitive_disk_are_refused_by_both() -> None:
    data = version_data("fraud", "1.0.0")
    file = data["artifact"]["files"][0]
    data["artifact"]["files"].append({**file, "path": file["path"].upper()})
    assert checked_version(data) is None
    assert _by_the_model(data) is None


def test_a_file_read_by_the_loader_is_checked_as_the_model_reads_it(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    for relative in ("registry/models/fraud/1.0.0.yaml", "registry/models/fraud/1.1.0.yaml"):
        data = loads((root / relative).read_bytes(), relative).data
        found = checked_version(data)
        assert found is not None
        assert found == _by_the_model(data)


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


def test_show_imports_neither_the_policy_nor_dvc(tmp_path: Path) -> None:
    root = small_registry(tmp_path / "reg")
    add_model(root, "churn")
    for target in ("fraud", "fraud@1.0.0"):
        heavy = _heavy(_imported(root, "show", target))
        assert [m for m in heavy if not m.startswith("pydantic")] == [], target
