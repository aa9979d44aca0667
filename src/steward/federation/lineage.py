"""`steward lineage --federation FILE`: a model's lineage, and who else trains on its data.

The model is found as `show` finds it (`REGISTRY/MODEL` when several registries have it); its
graph is the single registry's (`governance.lineage`), every node naming its registry. Each of
its dataset nodes is then joined, by URI, to the versions of the *other* registries trained on
the same data: version nodes `version:<registry>/<model>@<version>` with a `trained_on` edge
marked `elsewhere: true`, so every renderer (text, Mermaid, DOT, JSON) draws them. Registries
that label one of those URIs differently are reported as conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steward.federation.datasets import Conflict, conflicts, normalize_uri, ref_uri, registered
from steward.federation.queries import locate
from steward.federation.sources import RegistryProblem, Unavailable, open_sources
from steward.federation.spec import Federation
from steward.governance.lineage import Edge, LineageGraph, Node, model_lineage
from steward.reading.contents import read_contents
from steward.reading.uses import RefUse, UsesIndex, VersionUse, uses_index


@dataclass(frozen=True)
class FederatedLineage:
    registry: str
    commit: str
    graph: LineageGraph
    conflicts: list[Conflict]
    unavailable: list[Unavailable]
    problems: list[RegistryProblem] = field(default_factory=list)  # the other registries'

    @property
    def ok(self) -> bool:
        return self.graph.ok and not self.unavailable and not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "registry_commit": self.commit,
            **self.graph.as_dict(),
            "conflicts": [item.as_dict() for item in self.conflicts],
            "unavailable": [item.as_dict() for item in self.unavailable],
            "other_problems": [item.as_dict() for item in self.problems],
        }


def federated_lineage(federation: Federation, target: str, version: str | None) -> FederatedLineage:
    source, model, unavailable = locate(federation, target)
    contents = read_contents(source.snapshot(), model=model)
    graph = model_lineage(contents, model, version)
    sources, _ = open_sources(federation)
    indexes = [(other.name, uses_index(other.snapshot())) for other in sources]
    own = _with_registry(graph.nodes, source.name)
    extra_nodes: dict[str, Node] = {}
    extra_edges: list[Edge] = []
    found_conflicts: list[Conflict] = []
    for node in graph.nodes_of("dataset"):
        uri = node.attributes.get("uri")
        if not uri:
            continue
        uri = normalize_uri(uri)
        found_conflicts += conflicts(uri, registered(indexes, uri))
        for registry, index in indexes:
            if registry == source.name:
                continue
            for use in index.versions:
                for ref in use[-1]:
                    if ref_uri(ref, index) != uri:
                        continue
                    version_node = _elsewhere_node(registry, index, use)
                    extra_nodes.setdefault(version_node.id, version_node)
                    extra_edges.append(_elsewhere_edge(registry, index, node.id, version_node, ref))
    nodes = _ordered([*own, *extra_nodes.values()])
    joined = LineageGraph(
        graph.model, graph.version, nodes, [*graph.edges, *extra_edges], graph.problems
    )
    problems = [
        RegistryProblem(registry, problem)
        for registry, index in indexes
        if registry != source.name
        for problem in index.problems
    ]
    return FederatedLineage(
        source.name, source.commit, joined, _unique(found_conflicts), unavailable, problems
    )


def _with_registry(nodes: list[Node], registry: str) -> list[Node]:
    return [Node(n.kind, n.id, n.label, {"registry": registry, **n.attributes}) for n in nodes]


def _elsewhere_node(registry: str, index: UsesIndex, use: VersionUse) -> Node:
    path, model_name, version, stage, created_at, _refs = use
    model = index.models.get(model_name)
    return Node(
        "version",
        f"version:{registry}/{model_name}@{version}",
        f"{registry}/{model_name} {version}",
        {
            "registry": registry,
            "elsewhere": True,
            "model": model_name,
            "version": version,
            "stage": stage,
            "retired": stage == "retired",
            "created_at": created_at,
            "owner": model.owner if model is not None else None,
            "team": model.team if model is not None else None,
            "data_steward": model.data_steward if model is not None else None,
            "risk": model.risk if model is not None else None,
            "entry": path,
        },
    )


def _elsewhere_edge(
    registry: str, index: UsesIndex, dataset_id: str, target: Node, ref: RefUse
) -> Edge:
    ref_id, ref_version, _uri, columns = ref
    dataset = index.datasets.get(ref_id)
    labels: set[str] = set()
    if dataset is not None:
        labels.update(dataset.classification)
        for name, column_labels in dataset.columns:
            if not columns or name in columns:
                labels.update(column_labels)
    return Edge(
        "trained_on",
        dataset_id,
        target.id,
        {
            "registry": registry,
            "elsewhere": True,
            "dataset": ref_id,
            "dataset_version": ref_version,
            "columns": list(columns) or None,
            "used_columns": list(columns),
            "inherited_classifications": sorted(labels),
        },
    )


def _ordered(nodes: list[Node]) -> list[Node]:
    """Datasets, the model's versions then the other registries' (as added), consumers."""
    rank = {"dataset": 0, "version": 1, "consumer": 2}
    return sorted(
        nodes,
        key=lambda n: (
            rank[n.kind],
            bool(n.attributes.get("elsewhere")),
            n.id if n.kind != "version" else "",
        ),
    )


def _unique(found: list[Conflict]) -> list[Conflict]:
    seen: dict[tuple[str, str], Conflict] = {}
    for item in found:
        seen.setdefault((item.uri, item.what), item)
    return list(seen.values())
