"""Build registry repositories for tests: real git, entries written through Steward's own writer."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from steward.entries import layout
from steward.entries.yamlio import dumps
from steward.reading.scaffold import template, write_schema_copies

POLICY = """\
roles:
  ml-engineer: [carol, dave]
  governance: [erin]
  registrars: [ci-bot]
create_models: [ml-engineer]
register_versions: [registrars, ml-engineer]
stages:
  production: {single: true}
transitions:
  - from: development
    to: staging
    gates: {metrics: {auc: {min: 0.85}}, model_card: [intended_use], artifact_available: true}
    approvals: [{role: ml-engineer, count: 1}]
  - from: staging
    to: production
    approvals:
      - {role: ml-engineer, count: 1}
      - {role: governance, count: 1, when: {risk: [high]}}
governance:
  approvals: [{role: governance, count: 1}]
"""


def run_git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def new_registry(root: Path, policy: str = POLICY) -> Path:
    """A git repo with a policy and empty registry directories (`check` needs no DVC)."""
    root.mkdir(parents=True, exist_ok=True)
    run_git(root, "init", "--quiet", "--initial-branch=main")
    write(root, layout.POLICY_FILE, policy)
    write(root, "registry/models/.gitkeep", "")
    write(root, "registry/datasets/.gitkeep", "")
    return root


def default_policy_text() -> str:
    return template("registry.yaml")


def write(root: Path, relative: str, text: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_yaml(root: Path, relative: str, data: dict[str, Any]) -> Path:
    return write(root, relative, dumps(data))


def model_data(name: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "owner": "carol",
        "team": "risk-ml",
        "risk": "limited",
        "description": f"{name} scores things",
        "card": {"intended_use": "Scoring card transactions.", "limitations": "EU data only."},
    }
    data.update(fields)
    # Last, so line numbers of the other fields stay put: what add_dataset's default asks for.
    data.setdefault("classification", ["internal"])
    return data


def artifact_for(version: str, files: dict[str, bytes]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The entry's artifact section and the DVC pointer data for a directory of `files`."""
    listing = [
        {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        for path, content in sorted(files.items())
    ]
    md5 = hashlib.md5(repr(listing).encode()).hexdigest() + ".dir"
    size = sum(len(content) for content in files.values())
    artifact = {
        "dvc": f"{version}.dvc",
        "md5": md5,
        "size": size,
        "format": "pickle",
        "files": listing,
    }
    pointer = {
        "outs": [{"md5": md5, "size": size, "nfiles": len(files), "hash": "md5", "path": version}]
    }
    return artifact, pointer


def version_data(model: str, version: str, **fields: Any) -> dict[str, Any]:
    artifact, _ = artifact_for(version, {"model.pkl": f"{model}-{version}".encode()})
    data: dict[str, Any] = {
        "model": model,
        "version": version,
        "stage": "development",
        "created_at": "2026-11-20T10:00:00Z",
        "created_by": "ci-bot",
        "artifact": artifact,
        "training": {
            "datasets": [{"id": "transactions", "version": "2026-10-31"}],
            "features": ["amount", "hour"],
            "hyperparameters": {"max_depth": 6},
        },
        "metrics": {"auc": 0.91},
        "environment": {"python": "3.11.7", "framework": "scikit-learn==1.5.2"},
    }
    data.update(fields)
    return data


def add_model(root: Path, name: str, **fields: Any) -> Path:
    return write_yaml(root, layout.model_path(name), model_data(name, **fields))


def add_version(root: Path, model: str, version: str, **fields: Any) -> Path:
    data = version_data(model, version, **fields)
    _, pointer = artifact_for(version, {"model.pkl": f"{model}-{version}".encode()})
    pointer["outs"][0]["md5"] = data["artifact"]["md5"]
    pointer["outs"][0]["size"] = data["artifact"]["size"]
    pointer["outs"][0]["nfiles"] = len(data["artifact"]["files"])
    write_yaml(root, layout.pointer_path(model, version), pointer)
    return write_yaml(root, layout.version_path(model, version), data)


def add_dataset(root: Path, name: str, **fields: Any) -> Path:
    data: dict[str, Any] = {
        "name": name,
        "owner": "erin",
        "uri": f"s3://lake/{name}/",
        "classification": ["internal"],
        "columns": [{"name": "amount", "type": "float"}, {"name": "hour", "type": "int"}],
    }
    data.update(fields)
    return write_yaml(root, layout.dataset_path(name), data)


def small_registry(root: Path) -> Path:
    """One model with two versions and the dataset they cite: passes `steward check`."""
    new_registry(root)
    add_dataset(root, "transactions")
    add_model(root, "fraud")
    add_version(root, "fraud", "1.0.0", stage="production")
    add_version(root, "fraud", "1.1.0", stage="staging")
    write_schema_copies(root)
    return root


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths `reading.contents` parses from now on, in order (the list fills as it reads)."""
    import steward.reading.contents as contents_module

    parsed: list[str] = []
    real = contents_module.parse_file

    def counted(kind: Any, raw: bytes, path: str) -> Any:
        parsed.append(path)
        return real(kind, raw, path)

    monkeypatch.setattr(contents_module, "parse_file", counted)
    return parsed
