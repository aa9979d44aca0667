"""The registry as OpenLineage run events: one COMPLETE `RunEvent` per model version.

Each event says "the training job of a model ran, read these datasets, wrote this version":

- `eventTime`: the version's `created_at`; `run.runId`: a UUIDv7 whose time is `created_at` and
  whose other bits are a SHA-1 of `<namespace>/<model>@<version>`, so the same version always
  gets the same id and ids sort by registration time;
- `job`: namespace = the registry's namespace, name `<model>.training`; facets `ownership`
  (owner, team), `jobType` (BATCH, integration STEWARD, jobType MODEL_TRAINING),
  `documentation` (the model's description), `tags` (risk, team);
- `inputs`: the registered datasets the version cites, named from their entry's URI by the
  OpenLineage naming spec (`s3://bucket/path/` → namespace `s3://bucket`, name `path`; credentials
  dropped); facets `schema` (the entry's columns), `ownership`, `tags` (each classification as
  `{key: <label>, value: "true"}`, a column's with `field: <column>`), `datasetVersion` (the cited
  version), `documentation`; and the input facet `steward_trainingInput` (the cited URI, the
  columns listed and used, the labels inherited through this dataset);
- `outputs`: the version itself, namespace = the registry's, name
  `registry/models/<model>/<version>` (where its DVC directory lives); facets `ownership`
  (owner, data steward), `datasetVersion` (the artifact's md5), `documentation`, `tags`
  (stage, risk, and every classification declared by the model or inherited by the version),
  and `steward_modelVersion` (stage, risk, artifact, classifications declared and inherited
  with where each came from);
- the run facet `steward_training`: who registered it, code, run link, features, hyperparameters,
  duration, offline metrics.

The `steward_*` facets are described by the JSON Schema shipped as
`steward/schemas/openlineage-facets.json` (its `$id` is `FACETS_SCHEMA_ID`). The events are plain
JSON built here; the `openlineage-python` client is used by the tests to validate them, not at run
time.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from steward.entries import classification, layout
from steward.entries.models import (
    Column,
    DatasetEntry,
    DatasetRef,
    ModelEntry,
    VersionEntry,
    format_timestamp,
)
from steward.errors import GitCommandError
from steward.gitio.gitcmd import run_git
from steward.reading.contents import RegistryContents
from steward.version import __version__

PRODUCER = f"urn:steward:{__version__}"
FACETS_SCHEMA_ID = "urn:steward:openlineage-facets:1"
OPENLINEAGE_SPEC = "https://openlineage.io/spec"
RUN_EVENT_SCHEMA = f"{OPENLINEAGE_SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_SCHEMAS = {
    "ownership_dataset": "facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet",
    "ownership_job": "facets/1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet",
    "schema": "facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet",
    "tags_dataset": "facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet",
    "tags_job": "facets/1-0-0/TagsJobFacet.json#/$defs/TagsJobFacet",
    "dataset_version": (
        "facets/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"
    ),
    "documentation_dataset": (
        "facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
    ),
    "documentation_job": "facets/1-1-0/DocumentationJobFacet.json#/$defs/DocumentationJobFacet",
    "job_type": "facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet",
}
TAG_SOURCE = "STEWARD"
# Azure storage URIs name the container before the `@`: it is no credential.
_CONTAINER_SCHEMES = frozenset({"abfs", "abfss", "wasb", "wasbs"})


def default_namespace(root: Path) -> str:
    """`steward://<host>/<path>` of the registry's `origin` remote (without credentials or
    `.git`), else `steward://<the repository directory's name>`."""
    try:
        origin = run_git(root, "config", "--get", "remote.origin.url").decode().strip()
    except GitCommandError:
        origin = ""
    if origin:
        parts = urlsplit(origin)
        if parts.scheme and parts.netloc:
            where = parts.netloc.rpartition("@")[2] + parts.path
        else:  # scp-like git@github.com:org/repo.git, or a local path
            where = origin.rpartition("@")[2].replace(":", "/", 1) if "@" in origin else ""
        where = where.strip("/").removesuffix(".git")
        if where:
            return f"steward://{where}"
    return f"steward://{root.name}"


def export_events(contents: RegistryContents, namespace: str) -> list[dict[str, Any]]:
    """One RunEvent per model version, ordered by event time, then model and version."""
    return [
        version_event(contents, entry, namespace)
        for entry in sorted(
            contents.all_versions(), key=lambda e: (e.created_at, e.model, e.version)
        )
    ]


def render_jsonl(events: Iterable[dict[str, Any]]) -> str:
    """JSON Lines, one event per line, as OpenLineage's file transport writes them."""
    return "".join(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n" for event in events)


def run_id(namespace: str, entry: VersionEntry) -> str:
    """UUIDv7 (RFC 9562) with `created_at` as its time and a SHA-1 of the version as the rest."""
    data = f"{namespace}/{entry.model}@{entry.version}".encode()
    return str(static_uuid7(entry.created_at, data))


def static_uuid7(instant: datetime, data: bytes) -> uuid.UUID:
    millis = int(instant.timestamp() * 1000) & ((1 << 48) - 1)
    digest = int.from_bytes(hashlib.sha1(data).digest()[:10], "big")  # 80 bits
    rand_a = (digest >> 62) & 0xFFF
    rand_b = digest & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def version_event(
    contents: RegistryContents, entry: VersionEntry, namespace: str
) -> dict[str, Any]:
    model = contents.models.get(entry.model)
    return {
        "eventType": "COMPLETE",
        "eventTime": format_timestamp(entry.created_at),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {
            "runId": run_id(namespace, entry),
            "facets": {"steward_training": _training(entry)},
        },
        "job": {
            "namespace": namespace,
            "name": job_name(entry.model),
            "facets": _job_facets(model),
        },
        "inputs": [_input(contents, ref, namespace) for ref in entry.training.datasets],
        "outputs": [_output(contents, entry, model, namespace)],
    }


def job_name(model: str) -> str:
    return f"{model}.training"


def output_name(entry: VersionEntry) -> str:
    return f"{layout.MODELS_DIR}/{entry.model}/{entry.version}"


# --- naming -----------------------------------------------------------------------------------


def dataset_naming(uri: str) -> tuple[str, str] | None:
    """(namespace, name) of a dataset URI by the OpenLineage naming spec, or None when the URI
    has no scheme. `scheme://authority/path` → (`scheme://authority`, `path`), credentials
    dropped (Azure's `container@account` kept), the trailing `/` of a directory prefix dropped;
    `file:///p` → (`file`, `/p`); `bigquery:proj.ds.table` → (`bigquery`, `proj.ds.table`)."""
    parts = urlsplit(uri)
    if not parts.scheme or len(parts.scheme) == 1:  # `C:\data` is a path, not a scheme
        return None
    scheme = parts.scheme.lower()
    userinfo, at, host = parts.netloc.rpartition("@")
    authority = host  # never publish user:password@
    if at and scheme in _CONTAINER_SCHEMES and ":" not in userinfo:
        authority = f"{userinfo}@{host}"  # Azure's container@account is part of the name
    path = parts.path
    if not parts.netloc and not path.startswith("/"):  # opaque: bigquery:project.ds.table
        return scheme, path
    if scheme == "file":
        return ("file" if not authority else f"file://{authority}"), path or "/"
    name = path.lstrip("/")
    if len(name) > 1:
        name = name.rstrip("/")
    return f"{scheme}://{authority}", name or "/"


def _dataset_identity(
    ref: DatasetRef, dataset: DatasetEntry | None, namespace: str
) -> tuple[str, str]:
    """The registered dataset's URI names it (its cited version is a facet, not another name);
    an unregistered one is named by the URI the version cites, else inside the registry."""
    for uri in (dataset.uri if dataset else None, ref.uri):
        if uri:
            naming = dataset_naming(uri)
            if naming is not None:
                return naming
    return namespace, f"{layout.DATASETS_DIR}/{ref.id}"


# --- facets -----------------------------------------------------------------------------------


def _facet(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": f"{OPENLINEAGE_SPEC}/{FACET_SCHEMAS[kind]}",
        **fields,
    }


def _custom_facet(definition: str, **fields: Any) -> dict[str, Any]:
    return {
        "_producer": PRODUCER,
        "_schemaURL": f"{FACETS_SCHEMA_ID}#/$defs/{definition}",
        **fields,
    }


def owner_urn(principal: str) -> str:
    """A GitHub login as `user:<login>`, an `@org/team` as `team:<org>/<team>` (the URNs the
    ownership facets recommend)."""
    if principal.startswith("@"):
        return f"team:{principal[1:]}"
    return f"user:{principal}"


def _owners(pairs: Iterable[tuple[str | None, str]]) -> list[dict[str, str]]:
    return [{"name": owner_urn(name), "type": kind} for name, kind in pairs if name]


def _tags(kind: str, tags: list[dict[str, str]]) -> dict[str, Any]:
    return _facet(kind, tags=tags)


def _tag(key: str, value: str, column: str | None = None) -> dict[str, str]:
    tag = {"key": key, "value": value, "source": TAG_SOURCE}
    if column is not None:
        tag["field"] = column
    return tag


def _job_facets(model: ModelEntry | None) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "jobType": _facet(
            "job_type", processingType="BATCH", integration="STEWARD", jobType="MODEL_TRAINING"
        )
    }
    if model is None:
        return facets
    facets["ownership"] = _facet(
        "ownership_job", owners=_owners([(model.owner, "OWNER"), (f"@{model.team}", "TEAM")])
    )
    facets["tags"] = _tags(
        "tags_job",
        [
            {"key": "risk", "value": model.risk, "source": TAG_SOURCE},
            {"key": "team", "value": model.team, "source": TAG_SOURCE},
        ],
    )
    if model.description:
        facets["documentation"] = _facet("documentation_job", description=model.description)
    return facets


def _input(contents: RegistryContents, ref: DatasetRef, namespace: str) -> dict[str, Any]:
    dataset = contents.datasets.get(ref.id)
    dataset_namespace, name = _dataset_identity(ref, dataset, namespace)
    facets: dict[str, Any] = {}
    if ref.version:
        facets["version"] = _facet("dataset_version", datasetVersion=ref.version)
    if dataset is not None:
        if dataset.columns:
            facets["schema"] = _facet("schema", fields=[_field(c) for c in dataset.columns])
        facets["ownership"] = _facet(
            "ownership_dataset", owners=_owners([(dataset.owner, "OWNER")])
        )
        tags = [_tag(label, "true") for label in dataset.classification]
        tags += [_tag(tag, "true") for tag in dataset.tags]
        tags += [
            _tag(label, "true", column.name)
            for column in dataset.columns
            for label in column.classification
        ]
        if tags:
            facets["tags"] = _tags("tags_dataset", tags)
        if dataset.description:
            facets["documentation"] = _facet(
                "documentation_dataset", description=dataset.description
            )
    used = classification.used_columns(ref, dataset) if dataset is not None else list(ref.columns)
    usage = _custom_facet(
        "StewardTrainingInputFacet",
        dataset=ref.id,
        registered=dataset is not None,
        datasetVersion=ref.version,
        uri=ref.uri,
        columns=list(ref.columns) or None,
        usedColumns=used,
        inheritedClassifications=[
            _inherited_dict(item) for item in classification.inherited([ref], contents.datasets)
        ],
    )
    return {
        "namespace": dataset_namespace,
        "name": name,
        "facets": facets,
        "inputFacets": {"steward_trainingInput": _without_none(usage)},
    }


def _field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name}
    if column.type is not None:
        field["type"] = column.type
    if column.description is not None:
        field["description"] = column.description
    return field


def _output(
    contents: RegistryContents, entry: VersionEntry, model: ModelEntry | None, namespace: str
) -> dict[str, Any]:
    inherited = classification.inherited(entry.training.datasets, contents.datasets)
    declared = list(model.classification) if model is not None else []
    labels = sorted({*declared, *classification.labels(inherited)})
    facets: dict[str, Any] = {
        "version": _facet("dataset_version", datasetVersion=entry.artifact.md5),
        "tags": _tags(
            "tags_dataset",
            [
                _tag("stage", entry.stage),
                *([_tag("risk", model.risk)] if model is not None else []),
                *(_tag(label, "true") for label in labels),
            ],
        ),
        "steward_modelVersion": _without_none(
            _custom_facet(
                "StewardModelVersionFacet",
                model=entry.model,
                version=entry.version,
                stage=entry.stage,
                risk=model.risk if model is not None else None,
                team=model.team if model is not None else None,
                entry=layout.version_path(entry.model, entry.version),
                artifact={
                    "md5": entry.artifact.md5,
                    "size": entry.artifact.size,
                    "format": entry.artifact.format,
                },
                classification={
                    "declared": declared,
                    "inherited": [_inherited_dict(item) for item in inherited],
                },
            )
        ),
    }
    if model is not None:
        facets["ownership"] = _facet(
            "ownership_dataset",
            owners=_owners([(model.owner, "OWNER"), (model.data_steward, "DATA_STEWARD")]),
        )
    if entry.description:
        facets["documentation"] = _facet("documentation_dataset", description=entry.description)
    return {"namespace": namespace, "name": output_name(entry), "facets": facets}


def _training(entry: VersionEntry) -> dict[str, Any]:
    training = entry.training
    code = training.code.model_dump(mode="json", exclude_none=True) if training.code else None
    return _without_none(
        _custom_facet(
            "StewardTrainingRunFacet",
            model=entry.model,
            version=entry.version,
            createdBy=entry.created_by,
            code=code,
            run=training.run,
            features=list(training.features),
            hyperparameters=dict(training.hyperparameters),
            durationSeconds=training.duration_s,
            metrics=dict(entry.metrics),
        )
    )


def _inherited_dict(item: classification.Inherited) -> dict[str, Any]:
    found: dict[str, Any] = {"label": item.label, "dataset": item.dataset}
    if item.column is not None:
        found["column"] = item.column
    return found


def _without_none(facet: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facet.items() if value is not None}
