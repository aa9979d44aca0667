"""The lineage graph of a model: datasets → model versions → downstream consumers.

A **dataset** node is one cited version of a registered dataset (`transactions@2026-10-31`, or
`transactions` where a version cites none); a **version** node is one model version; a
**consumer** node is one of the model's `downstream` systems. Edges:

- `trained_on`, dataset → version, with the columns the version used (none listed: all of them,
  `columns: null`) and the classifications it inherited through this dataset;
- `serves`, version → consumer, from versions that serve or may come to serve the consumers:
  production (`serving: true`) and staging or development (`serving: false`, candidates).
  Archived and retired versions keep their datasets but serve no one.

Retired versions are shown (lineage is history) and marked `retired: true`; their artifacts may
be gone. Everything is computed from `RegistryContents`; renderers live in `lineage_render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steward.entries import classification, layout
from steward.entries.models import DatasetRef, ModelEntry, VersionEntry, format_timestamp
from steward.entries.names import is_name, is_version
from steward.entries.problems import Problem
from steward.errors import UsageError
from steward.reading.catalog import NotFound
from steward.reading.contents import RegistryContents

# Stages whose versions serve, or may be promoted to serve, the model's consumers.
SERVING_STAGES = ("production",)
CANDIDATE_STAGES = ("staging", "development")


@dataclass(frozen=True)
class Node:
    """One node: `kind` is dataset, version or consumer; `id` is unique in the graph
    (`dataset:transactions@2026-10-31`, `version:fraud@1.3.0`, `consumer:payments-api`)."""

    kind: str
    id: str
    label: str
    attributes: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "label": self.label, **self.attributes}


@dataclass(frozen=True)
class Edge:
    kind: str  # trained_on | serves
    source: str
    target: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "target": self.target, **self.attributes}


@dataclass(frozen=True)
class LineageGraph:
    """The lineage of one model (all its versions, or one), and what could not be read."""

    model: str
    version: str | None
    nodes: list[Node]
    edges: list[Edge]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def nodes_of(self, kind: str) -> list[Node]:
        return [node for node in self.nodes if node.kind == kind]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "nodes": [node.as_dict() for node in self.nodes],
            "edges": [edge.as_dict() for edge in self.edges],
            "problems": [problem.as_dict() for problem in self.problems],
        }


def dataset_node_id(ref: DatasetRef) -> str:
    return f"dataset:{ref.id}" + (f"@{ref.version}" if ref.version else "")


def version_node_id(entry: VersionEntry) -> str:
    return f"version:{entry.model}@{entry.version}"


def consumer_node_id(name: str) -> str:
    return f"consumer:{name}"


def model_lineage(
    contents: RegistryContents, model: str, version: str | None = None
) -> LineageGraph:
    """The lineage graph of `model` (every version, or only `version`)."""
    if not is_name(model):
        raise UsageError(
            f"'{model}' is not a model name: 1 to 64 lowercase letters, digits, '.', '_' or '-'"
        )
    if version is not None and not is_version(version):
        raise UsageError(f"'{version}' is not a semantic version: write one such as 1.3.0")
    model_entry = contents.models.get(model)
    entries = contents.versions.get(model, [])
    if model_entry is None and not entries and not _has_problem(contents, model):
        raise NotFound(f"model '{model}' is not in the registry ({layout.model_path(model)})")
    if version is not None:
        entries = [entry for entry in entries if entry.version == version]
        if not entries and not _has_problem(contents, model, version):
            raise NotFound(
                f"{model} {version} is not registered "
                f"({layout.version_path(model, version)} does not exist)"
            )
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    # Per dataset node, the union of the columns the shown versions used, in first-seen order
    # (a dict as an ordered set: wide tables cited by many versions stay linear).
    used_by_dataset: dict[str, dict[str, None]] = {}
    for entry in entries:
        version_id = version_node_id(entry)
        nodes[version_id] = _version_node(entry, model_entry)
        for ref in entry.training.datasets:
            dataset_id = dataset_node_id(ref)
            used = _used_columns(contents, ref)
            if dataset_id not in nodes:
                nodes[dataset_id] = _dataset_node(contents, ref)
            used_by_dataset.setdefault(dataset_id, {}).update(dict.fromkeys(used))
            edges.append(
                Edge(
                    "trained_on",
                    dataset_id,
                    version_id,
                    {
                        "columns": list(ref.columns) or None,
                        "used_columns": used,
                        "inherited_classifications": _inherited(contents, ref),
                    },
                )
            )
    for dataset_id, columns in used_by_dataset.items():
        nodes[dataset_id].attributes["used_columns"] = list(columns)
    consumers = model_entry.downstream if model_entry is not None else []
    for consumer in consumers:
        consumer_id = consumer_node_id(consumer.name)
        nodes[consumer_id] = Node(
            "consumer",
            consumer_id,
            consumer.name,
            {"name": consumer.name, "owner": consumer.owner, "description": consumer.description},
        )
        for entry in entries:
            if entry.stage in SERVING_STAGES or entry.stage in CANDIDATE_STAGES:
                edges.append(
                    Edge(
                        "serves",
                        version_node_id(entry),
                        consumer_id,
                        {"serving": entry.stage in SERVING_STAGES, "stage": entry.stage},
                    )
                )
    cited = {layout.dataset_path(ref.id) for entry in entries for ref in entry.training.datasets}
    problems = [p for p in contents.problems if _concerns(p, model, version, cited)]
    return LineageGraph(model, version, _ordered(nodes), edges, problems)


def _version_node(entry: VersionEntry, model: ModelEntry | None) -> Node:
    return Node(
        "version",
        version_node_id(entry),
        f"{entry.model} {entry.version}",
        {
            "model": entry.model,
            "version": entry.version,
            "stage": entry.stage,
            "retired": entry.stage == "retired",
            "created_at": format_timestamp(entry.created_at),
            "created_by": entry.created_by,
            "description": entry.description,
            "owner": model.owner if model is not None else None,
            "team": model.team if model is not None else None,
            "data_steward": model.data_steward if model is not None else None,
            "risk": model.risk if model is not None else None,
            "entry": layout.version_path(entry.model, entry.version),
        },
    )


def _dataset_node(contents: RegistryContents, ref: DatasetRef) -> Node:
    dataset = contents.datasets.get(ref.id)
    label = ref.id + (f"@{ref.version}" if ref.version else "")
    return Node(
        "dataset",
        dataset_node_id(ref),
        label,
        {
            "dataset": ref.id,
            "version": ref.version,
            "uri": ref.uri or (dataset.uri if dataset is not None else None),
            "registered": dataset is not None,
            "owner": dataset.owner if dataset is not None else None,
            "classification": list(dataset.classification) if dataset is not None else None,
            "column_classifications": (
                {c.name: list(c.classification) for c in dataset.columns if c.classification}
                if dataset is not None
                else {}
            ),
            "used_columns": [],  # the union over the graph's edges, filled in once they are known
        },
    )


def _used_columns(contents: RegistryContents, ref: DatasetRef) -> list[str]:
    dataset = contents.datasets.get(ref.id)
    if dataset is None:
        return list(ref.columns)
    return classification.used_columns(ref, dataset)


def _inherited(contents: RegistryContents, ref: DatasetRef) -> list[str]:
    return classification.labels(classification.inherited([ref], contents.datasets))


def _ordered(nodes: dict[str, Node]) -> list[Node]:
    """Datasets, then versions (in precedence order, as added), then consumers."""
    rank = {"dataset": 0, "version": 1, "consumer": 2}
    return sorted(
        nodes.values(),
        key=lambda node: (rank[node.kind], node.id if node.kind != "version" else ""),
    )


def _has_problem(contents: RegistryContents, model: str, version: str | None = None) -> bool:
    prefix = f"{layout.MODELS_DIR}/{model}/"
    paths = {p.path for p in contents.problems}
    if version is not None:
        return layout.version_path(model, version) in paths
    return any(path.startswith(prefix) for path in paths)


def _concerns(problem: Problem, model: str, version: str | None, cited: set[str]) -> bool:
    """A problem in the model's file, in a shown version's (any version's when all are shown:
    one may be missing from the graph), or in the entry of a dataset (`cited`: their paths)
    the shown versions cite."""
    if problem.path == layout.model_path(model):
        return True
    if version is None and problem.path.startswith(f"{layout.MODELS_DIR}/{model}/"):
        return True
    if version is not None and problem.path == layout.version_path(model, version):
        return True
    return problem.path in cited
