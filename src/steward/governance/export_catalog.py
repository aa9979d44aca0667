"""The registry as one flat JSON catalog for other tools (`steward export --format json`).

```
{"format": "steward-catalog", "format_version": 1, "source": "working tree", "complete": true,
 "models":   [{"name", "entry", "owner", "team", "data_steward", "risk", "description", "tags",
               "downstream": [{"name", "owner", "description"}],
               "classification": {"declared": [...], "inherited": [...], "uncovered": [...]},
               "versions": ["1.0.0", ...]}],
 "versions": [{"id": "version:fraud@1.0.0", "model", "version", "stage", "entry", "created_at",
               "created_by", "owner", "metrics", "artifact": {"md5", "size", "format"},
               "datasets": [{"id", "version", "uri", "columns", "used_columns"}],
               "classification": {"declared": [...], "inherited": [{"label", "dataset", "column"}],
                                  "labels": [...]}}],
 "datasets": [{"name", "entry", "owner", "uri", "description", "tags", "classification",
               "columns": [{"name", "type", "description", "classification"}],
               "used_by": ["version:fraud@1.0.0", ...]}],
 "edges":    [{"kind": "trained_on", "source": "dataset:<id>[@<version>]",
               "target": "version:<model>@<version>", "dataset": "<id>", "columns", "used_columns",
               "inherited_classifications"},
              {"kind": "serves", "source": "version:...", "target": "consumer:<name>",
               "model": "<model>", "serving": true|false, "stage"}],
 "problems": [{"path", "line", "field", "message"}]}
```

Lists are sorted (models and datasets by name, versions by model then precedence). A model's
`inherited` classifications are the union over its versions that are not retired (as `steward
check` counts them); `uncovered` is what it inherits but does not declare (a declared level of
the policy's `classification_levels` covering the lower ones). The edges are the
lineage graph's (`steward lineage`), with the same node ids.
"""

from __future__ import annotations

from typing import Any

from steward.entries import classification, layout
from steward.entries.models import DatasetEntry, ModelEntry, VersionEntry, format_timestamp
from steward.governance import lineage
from steward.reading.contents import RegistryContents

FORMAT = "steward-catalog"
FORMAT_VERSION = 1


def export_catalog(contents: RegistryContents) -> dict[str, Any]:
    used_by: dict[str, dict[str, None]] = {}  # dataset -> version node ids, an ordered set
    for entry in contents.all_versions():
        for ref in entry.training.datasets:
            used_by.setdefault(ref.id, {})[lineage.version_node_id(entry)] = None
    edges: list[dict[str, Any]] = []
    for model in sorted(set(contents.models) | set(contents.versions)):
        graph = lineage.model_lineage(contents, model)
        for edge in graph.edges:
            extra = (
                {"dataset": edge.source.removeprefix("dataset:").partition("@")[0]}
                if edge.kind == "trained_on"
                else {"model": model}
            )
            edges.append({**edge.as_dict(), **extra})
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "source": contents.source,
        "complete": contents.complete,
        "models": [_model(contents, contents.models[name]) for name in sorted(contents.models)],
        "versions": [_version(contents, entry) for entry in contents.all_versions()],
        "datasets": [
            _dataset(contents.datasets[name], list(used_by.get(name, {})))
            for name in sorted(contents.datasets)
        ],
        "edges": edges,
        "problems": [problem.as_dict() for problem in contents.problems],
    }


def _model(contents: RegistryContents, model: ModelEntry) -> dict[str, Any]:
    versions = contents.versions.get(model.name, [])
    inherited = classification.labels(
        classification.inherited_by_live_versions(versions, contents.datasets)
    )
    levels = contents.policy.classification_levels if contents.policy is not None else []
    return {
        "name": model.name,
        "entry": layout.model_path(model.name),
        "owner": model.owner,
        "team": model.team,
        "data_steward": model.data_steward,
        "risk": model.risk,
        "description": model.description,
        "tags": list(model.tags),
        "downstream": [consumer.model_dump(mode="json") for consumer in model.downstream],
        "classification": {
            "declared": list(model.classification),
            "inherited": inherited,
            "uncovered": classification.uncovered(model.classification, inherited, levels),
        },
        "versions": [entry.version for entry in versions],
    }


def _version(contents: RegistryContents, entry: VersionEntry) -> dict[str, Any]:
    model = contents.models.get(entry.model)
    inherited = classification.inherited(entry.training.datasets, contents.datasets)
    datasets = []
    for ref in entry.training.datasets:
        dataset = contents.datasets.get(ref.id)
        datasets.append(
            {
                "id": ref.id,
                "version": ref.version,
                "uri": ref.uri or (dataset.uri if dataset is not None else None),
                "columns": list(ref.columns) or None,
                "used_columns": (
                    classification.used_columns(ref, dataset)
                    if dataset is not None
                    else list(ref.columns)
                ),
            }
        )
    return {
        "id": lineage.version_node_id(entry),
        "model": entry.model,
        "version": entry.version,
        "stage": entry.stage,
        "entry": layout.version_path(entry.model, entry.version),
        "created_at": format_timestamp(entry.created_at),
        "created_by": entry.created_by,
        "owner": model.owner if model is not None else None,
        "metrics": dict(entry.metrics),
        "artifact": {
            "md5": entry.artifact.md5,
            "size": entry.artifact.size,
            "format": entry.artifact.format,
        },
        "datasets": datasets,
        "classification": {
            "declared": list(model.classification) if model is not None else [],
            "inherited": [
                {"label": item.label, "dataset": item.dataset, "column": item.column}
                for item in inherited
            ],
            "labels": classification.labels(inherited),
        },
    }


def _dataset(dataset: DatasetEntry, used_by: list[str]) -> dict[str, Any]:
    return {
        "name": dataset.name,
        "entry": layout.dataset_path(dataset.name),
        "owner": dataset.owner,
        "uri": dataset.uri,
        "description": dataset.description,
        "tags": list(dataset.tags),
        "classification": list(dataset.classification),
        "columns": [column.model_dump(mode="json") for column in dataset.columns],
        "used_by": used_by,
    }
