"""Where things live in a registry repo, and what kind of file a path is.

```
registry/models/<model>/model.yaml        ModelEntry
registry/models/<model>/<version>.yaml    VersionEntry
registry/models/<model>/<version>.dvc     DVC pointer to <version>/ (gitignored data)
registry/datasets/<dataset>.yaml          DatasetEntry
policies/registry.yaml                    Policy
policies/central.yaml                     Policy (a vendored copy of the pinned central policy)
policies/teams/<team>.yaml                TeamExtension
.steward/schemas/<kind>.schema.json       JSON Schemas for editors (written by Steward)
```
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import Enum

from steward.entries.names import is_name, is_version

REGISTRY_DIR = "registry"
MODELS_DIR = "registry/models"
DATASETS_DIR = "registry/datasets"
POLICIES_DIR = "policies"
POLICY_FILE = "policies/registry.yaml"
CENTRAL_COPY_FILE = "policies/central.yaml"
TEAMS_DIR = "policies/teams"
STEWARD_DIR = ".steward"
SCHEMAS_DIR = ".steward/schemas"
# Top-level directories that hold registry content; everything under them is checked, and so is
# anything whose name differs from one of them only by case.
CHECKED_ROOTS = (REGISTRY_DIR, POLICIES_DIR, STEWARD_DIR)
# Outside the checked roots, but `steward check` compares it with what the policy makes of it.
CODEOWNERS_PATH = ".github/CODEOWNERS"
# Files that may sit anywhere under the checked roots without being entries.
NEUTRAL_FILE_NAMES = frozenset({"README.md", ".gitkeep", ".gitignore"})

# The one line a model's `.gitignore` needs: every subdirectory (each version's DVC-tracked data)
# is ignored, files (entries, pointers) never. One line for all versions, so that registrations
# proposed at the same time make the same change to it and merge one after the other.
ALL_VERSION_DIRECTORIES = "/*/"


def model_gitignore(current: str) -> str:
    """A model's `.gitignore` with the line that ignores its versions' data directories."""
    lines = [line for line in current.splitlines() if line]
    if ALL_VERSION_DIRECTORIES not in (line.strip() for line in lines):
        lines.append(ALL_VERSION_DIRECTORIES)
    return "\n".join(lines) + "\n"


class Kind(Enum):
    MODEL = "model"
    VERSION = "version"
    POINTER = "pointer"
    DATASET = "dataset"
    POLICY = "policy"
    CENTRAL = "central"
    TEAM = "team"
    SCHEMA = "schema"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Place:
    """What a path is: its kind and the names its path implies."""

    kind: Kind
    model: str | None = None
    version: str | None = None
    name: str | None = None


class Misplaced(ValueError):
    """A path under a checked root that is not a file Steward knows."""


def model_path(model: str) -> str:
    return f"{MODELS_DIR}/{model}/model.yaml"


def version_path(model: str, version: str) -> str:
    return f"{MODELS_DIR}/{model}/{version}.yaml"


def pointer_path(model: str, version: str) -> str:
    return f"{MODELS_DIR}/{model}/{version}.dvc"


def dataset_path(name: str) -> str:
    return f"{DATASETS_DIR}/{name}.yaml"


def team_path(team: str) -> str:
    return f"{TEAMS_DIR}/{team}.yaml"


def schema_path(kind: str) -> str:
    return f"{SCHEMAS_DIR}/{kind}.schema.json"


def schema_ref_for(path: str, kind: str) -> str:
    """The relative reference from an entry file to its JSON Schema, for the editor comment."""
    return posixpath.relpath(schema_path(kind), posixpath.dirname(path))


def classify(path: str) -> Place:
    """The kind of a repo-relative '/'-separated path under one of CHECKED_ROOTS."""
    parts = path.split("/")
    if parts[-1] in NEUTRAL_FILE_NAMES:
        return Place(Kind.NEUTRAL)
    if path == POLICY_FILE:
        return Place(Kind.POLICY)
    if path == CENTRAL_COPY_FILE:
        return Place(Kind.CENTRAL)
    if len(parts) == 3 and path.startswith(TEAMS_DIR + "/") and parts[2].endswith(".yaml"):
        team = parts[2].removesuffix(".yaml")
        _require(is_name(team), f"'{team}' is not a valid team name")
        return Place(Kind.TEAM, name=team)
    if len(parts) == 3 and path.startswith(DATASETS_DIR + "/") and parts[2].endswith(".yaml"):
        dataset = parts[2].removesuffix(".yaml")
        _require(is_name(dataset), f"'{dataset}' is not a valid dataset name")
        return Place(Kind.DATASET, name=dataset)
    if len(parts) == 4 and path.startswith(MODELS_DIR + "/"):
        return _classify_model_file(parts[2], parts[3])
    if len(parts) == 3 and path.startswith(SCHEMAS_DIR + "/") and parts[2].endswith(".schema.json"):
        return Place(Kind.SCHEMA, name=parts[2].removesuffix(".schema.json"))
    raise Misplaced(_where_things_go(path))


def _classify_model_file(model: str, file_name: str) -> Place:
    _require(is_name(model), f"'{model}' is not a valid model name")
    if file_name == "model.yaml":
        return Place(Kind.MODEL, model=model)
    stem, dot, extension = file_name.rpartition(".")
    if dot and extension in ("yaml", "dvc") and is_version(stem):
        kind = Kind.VERSION if extension == "yaml" else Kind.POINTER
        return Place(kind, model=model, version=stem)
    raise Misplaced(
        f"unexpected file '{file_name}': a model directory holds model.yaml, <version>.yaml and "
        "<version>.dvc, where <version> is a semantic version such as 1.3.0"
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise Misplaced(
            f"{message}: names are 1 to 64 lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )


def _where_things_go(path: str) -> str:
    top = path.split("/", 1)[0]
    for root in CHECKED_ROOTS:
        if top != root and top.casefold() == root:
            return (
                f"'{top}' differs from '{root}' only by case: on case-insensitive file systems "
                "they are one directory"
            )
    if path.endswith(".yml"):
        return "unexpected file: Steward reads '.yaml' files, not '.yml'"
    return (
        "unexpected file: registry/ holds models/<model>/{model.yaml,<version>.yaml,<version>.dvc} "
        "and datasets/<dataset>.yaml; policies/ holds registry.yaml, central.yaml (a copy of the "
        "pinned central policy) and teams/<team>.yaml"
    )
