"""JSON Schemas of the entry kinds: exported from the pydantic models, shipped as package data.

The shipped files (`steward/schemas/<kind>.schema.json`) are what editors validate against; a test
keeps them equal to a fresh export, and `steward check` keeps a registry's copies in
`.steward/schemas/` equal to the shipped ones.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic import BaseModel

from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry
from steward.entries.policy import Policy, TeamExtension
from steward.errors import UsageError

SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "model": ModelEntry,
    "version": VersionEntry,
    "dataset": DatasetEntry,
    "policy": Policy,
    "team": TeamExtension,
}
DRAFT = "https://json-schema.org/draft/2020-12/schema"


def export_schema(kind: str) -> dict[str, Any]:
    model = _model(kind)
    schema = model.model_json_schema(by_alias=True, mode="validation")
    _close_pattern_properties(schema)
    return {"$schema": DRAFT, **schema}


def _close_pattern_properties(node: Any) -> None:
    """A dict with constrained keys exports `patternProperties`; keys failing the pattern must be
    refused too (pydantic refuses them), so such objects get `additionalProperties: false`."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_pattern_properties(value)
    elif isinstance(node, list):
        for value in node:
            _close_pattern_properties(value)


def schema_text(kind: str) -> str:
    return json.dumps(export_schema(kind), indent=2, ensure_ascii=False) + "\n"


def shipped_schema_text(kind: str) -> str:
    _model(kind)
    return (resources.files("steward") / "schemas" / f"{kind}.schema.json").read_text("utf-8")


def _model(kind: str) -> type[BaseModel]:
    try:
        return SCHEMA_MODELS[kind]
    except KeyError:
        known = ", ".join(SCHEMA_MODELS)
        raise UsageError(f"unknown schema kind '{kind}'; known kinds: {known}") from None
