"""Renderers of a `LineageGraph`: text for people, Mermaid and Graphviz DOT for pictures.

Names in a registry are tame (`[a-z0-9._-]`), but labels also carry URIs, versions, owners and
descriptions, which may hold quotes, `#`, `<`, `|`, `;` or any Unicode. Every label goes through
one escaping function per syntax, so the output parses whatever the entries say:

- Mermaid: node ids are generated (`n0`, `n1`, ...); labels are quoted and every character outside
  a small safe set is written as an entity code (`#34;`), which Mermaid decodes;
- DOT: ids and labels are double-quoted with `\\` and `"` escaped, line breaks as `\\n`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from steward.entries.problems import printable
from steward.governance.lineage import Edge, LineageGraph, Node

_MERMAID_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,:/@=+()[]-'"
)


# --- text -------------------------------------------------------------------------------------


def render_text(graph: LineageGraph) -> str:
    datasets, versions, consumers = (
        graph.nodes_of(kind) for kind in ("dataset", "version", "consumer")
    )
    title = graph.model + (f" {graph.version}" if graph.version else "")
    lines = [
        f"lineage of {title}: {_count(len(datasets), 'dataset')}, "
        f"{_count(len(versions), 'version')}, {_count(len(consumers), 'consumer')}"
    ]
    lines.append("datasets")
    for node in datasets:
        lines.append(f"  {node.label}  {_text(node.attributes['uri'] or '(no uri)')}")
        lines.extend(f"    {line}" for line in _dataset_facts(node))
    if not datasets:
        lines.append("  (none recorded)")
    lines.append("versions")
    incoming = _edges_by(graph.edges, "target")
    outgoing = _edges_by(graph.edges, "source")
    nodes = {node.id: node for node in graph.nodes}
    for node in versions:
        stage = node.attributes["stage"]
        note = "  (retired: its artifact may be gone)" if node.attributes["retired"] else ""
        lines.append(f"  {node.label}  {stage}{note}")
        for edge in incoming.get(node.id, []):
            columns = edge.attributes["columns"]
            used = ", ".join(columns) if columns else "all columns"
            inherited = ", ".join(edge.attributes["inherited_classifications"]) or "-"
            lines.append(
                f"    <- {nodes[edge.source].label}  ({_text(used)}; inherits {inherited})"
            )
        for edge in outgoing.get(node.id, []):
            how = "serves" if edge.attributes["serving"] else "candidate for"
            lines.append(f"    -> {how} {nodes[edge.target].label}")
    lines.append("consumers")
    for node in consumers:
        lines.append(f"  {node.label}  owner {_text(node.attributes['owner'] or '(none)')}")
    if not consumers:
        lines.append("  (no downstream consumers in model.yaml)")
    return "\n".join(lines)


def _dataset_facts(node: Node) -> list[str]:
    attributes = node.attributes
    if not attributes["registered"]:
        return ["not registered: its classifications are unknown"]
    columns = "; ".join(
        f"{name}: {', '.join(labels)}"
        for name, labels in attributes["column_classifications"].items()
    )
    return [
        f"owner {_text(attributes['owner'])}, classification "
        + (", ".join(attributes["classification"]) or "-"),
        f"used columns: {_text(', '.join(attributes['used_columns']) or '-')}",
        f"column classifications: {_text(columns) or '-'}",
    ]


def _text(value: str) -> str:
    return printable(value)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _edges_by(edges: Iterable[Edge], end: str) -> dict[str, list[Edge]]:
    grouped: dict[str, list[Edge]] = {}
    for edge in edges:
        grouped.setdefault(getattr(edge, end), []).append(edge)
    return grouped


# --- JSON -------------------------------------------------------------------------------------


def render_json(graph: LineageGraph) -> str:
    return json.dumps(graph.as_dict(), indent=2, ensure_ascii=False)


# --- Mermaid ----------------------------------------------------------------------------------


def mermaid_text(value: str) -> str:
    """`value` as the inside of a quoted Mermaid label: unsafe characters as entity codes."""
    return "".join(c if c in _MERMAID_SAFE else f"#{ord(c)};" for c in value)


def render_mermaid(graph: LineageGraph) -> str:
    ids = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node in graph.nodes:
        label = "<br/>".join(mermaid_text(line) for line in _label_lines(node))
        opening, closing = {
            "dataset": ('[("', '")]'),
            "version": ('(["', '"])'),
            "consumer": ('[/"', '"/]'),
        }[node.kind]
        lines.append(f"  {ids[node.id]}{opening}{label}{closing}")
    for edge in graph.edges:
        arrow = "-.->" if _dashed(edge) else "-->"
        label = _edge_label(edge)
        middle = f'{arrow}|"{mermaid_text(label)}"|' if label else arrow
        lines.append(f"  {ids[edge.source]} {middle} {ids[edge.target]}")
    lines.append("  classDef retired stroke-dasharray: 4 4,color:#888888")
    lines.append("  classDef production stroke-width:3px")
    for css_class in ("retired", "production"):
        members = [
            ids[node.id]
            for node in graph.nodes
            if node.kind == "version" and node.attributes["stage"] == css_class
        ]
        if members:
            lines.append(f"  class {','.join(members)} {css_class}")
    return "\n".join(lines)


# --- Graphviz DOT -----------------------------------------------------------------------------


def dot_quote(value: str) -> str:
    """`value` as a double-quoted DOT string; a line break becomes DOT's `\\n`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return '"' + "".join(c if c.isprintable() else " " for c in escaped) + '"'


def render_dot(graph: LineageGraph) -> str:
    title = graph.model + (f"@{graph.version}" if graph.version else "")
    lines = [
        f"digraph {dot_quote('lineage of ' + title)} {{",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    shapes = {"dataset": "cylinder", "version": "box", "consumer": "component"}
    for node in graph.nodes:
        attributes = [
            f"shape={shapes[node.kind]}",
            f"label={dot_quote(chr(10).join(_label_lines(node)))}",
        ]
        if node.kind == "version":
            stage = node.attributes["stage"]
            if stage == "retired":
                attributes.append('style="dashed"')
                attributes.append('fontcolor="gray40"')
            elif stage == "production":
                attributes.append("penwidth=2")
        lines.append(f"  {dot_quote(node.id)} [{', '.join(attributes)}];")
    for edge in graph.edges:
        attributes = []
        label = _edge_label(edge)
        if label:
            attributes.append(f"label={dot_quote(label)}")
        if _dashed(edge):
            attributes.append('style="dashed"')
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {dot_quote(edge.source)} -> {dot_quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines)


# --- shared -----------------------------------------------------------------------------------


def _label_lines(node: Node) -> list[str]:
    attributes = node.attributes
    if node.kind == "dataset":
        labels = attributes["classification"]
        return [
            node.label,
            attributes["uri"] or "(no uri)",
            ("classification: " + (", ".join(labels) or "-"))
            if labels is not None
            else "not registered",
        ]
    if node.kind == "version":
        stage = attributes["stage"]
        return [node.label, stage + (" (artifact may be gone)" if stage == "retired" else "")]
    owner = attributes["owner"]
    return [node.label] + ([f"owner: {owner}"] if owner else [])


def _edge_label(edge: Edge) -> str:
    if edge.kind == "trained_on":
        columns = edge.attributes["columns"]
        return ", ".join(columns) if columns else "all columns"
    return "" if edge.attributes["serving"] else edge.attributes["stage"]


def _dashed(edge: Edge) -> bool:
    return edge.kind == "serves" and not edge.attributes["serving"]
