"""The lineage graph (datasets → versions → consumers) as an inline SVG.

The layout is three columns, one per kind of node, in the graph's order, with an edge drawn as
a curve from the right side of its source to the left side of its target. When graphviz's `dot`
is on PATH it places the nodes instead (fewer crossings on a model with many datasets): only
its coordinates are read (`-Tplain`, nodes named n0, n1, ...), and the SVG is still written
here, so every label is escaped by the same hand whichever placed it.

Dataset nodes link to their dataset's page and version nodes to the version on the model page:
the graph is navigable by keyboard like the rest of the page.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from steward.governance.lineage import LineageGraph, Node
from steward.governance.lineage_render import dot_quote
from steward.site.html import STAGE_CLASSES, attr, text

NODE_W, NODE_H, GAP_Y, GAP_X, MARGIN = 220.0, 36.0, 14.0, 90.0, 10.0
LABEL_CHARS = 30
_COLUMNS = {"dataset": 0, "version": 1, "consumer": 2}
DOT_TIMEOUT_S = 20


@dataclass(frozen=True)
class Box:
    x: float  # centre
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    boxes: dict[str, Box]
    curves: dict[tuple[str, str], str]  # an edge's SVG path, when the layout drew it


def lineage_svg(
    graph: LineageGraph, dataset_href: dict[str, str], layout: Layout | None = None
) -> str:
    """The SVG of `graph`; `dataset_href` maps a dataset id to its page (relative link);
    `layout` from `dot_layouts`, else the columns."""
    if not graph.nodes:
        return '<p class="none">No lineage: no version cites a dataset and nothing consumes it.</p>'
    layout = layout or _column_layout(graph)
    parts = [
        f'<svg class="lineage" role="group" aria-label="Lineage of {attr(graph.model)}" '
        f'viewBox="0 0 {layout.width:.0f} {layout.height:.0f}" width="{layout.width:.0f}" '
        f'height="{layout.height:.0f}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for edge in graph.edges:
        source, target = layout.boxes.get(edge.source), layout.boxes.get(edge.target)
        if source is None or target is None:
            continue
        path = layout.curves.get((edge.source, edge.target)) or _curve(source, target)
        dashed = edge.kind == "serves" and not edge.attributes.get("serving", False)
        parts.append(
            f'<path class="edge {attr(edge.kind)}{" dashed" if dashed else ""}" d="{path}" '
            f'data-source="{attr(edge.source)}" data-target="{attr(edge.target)}"/>'
        )
    for node in graph.nodes:
        box = layout.boxes.get(node.id)
        if box is not None:
            parts.append(_node(node, box, dataset_href))
    parts.append("</svg>")
    return "".join(parts)


def _node(node: Node, box: Box, dataset_href: dict[str, str]) -> str:
    classes = f"node {node.kind}"
    if node.kind == "version":
        stage = str(node.attributes.get("stage", ""))
        classes += f" stage-{stage if stage in STAGE_CLASSES else 'other'}"
    label = node.label if len(node.label) <= LABEL_CHARS else node.label[: LABEL_CHARS - 1] + "…"
    shape = (
        f'<rect x="{box.x - box.w / 2:.1f}" y="{box.y - box.h / 2:.1f}" width="{box.w:.1f}" '
        f'height="{box.h:.1f}" rx="6"/>'
        f'<text x="{box.x:.1f}" y="{box.y + 5:.1f}" text-anchor="middle">{text(label)}</text>'
    )
    inner = f"<title>{text(_describe(node))}</title>{shape}"
    href = None
    if node.kind == "dataset":
        href = dataset_href.get(str(node.attributes.get("dataset")))
    elif node.kind == "version":
        href = f"#v-{node.attributes.get('version', '')}"
    if href is not None:
        inner = f'<a href="{attr(href)}">{inner}</a>'
    return f'<g class="{attr(classes)}" data-node-id="{attr(node.id)}">{inner}</g>'


def _describe(node: Node) -> str:
    if node.kind == "version":
        return f"{node.label} ({node.attributes.get('stage', '')})"
    if node.kind == "dataset":
        uri = node.attributes.get("uri")
        return f"dataset {node.label}" + (f" at {uri}" if uri else "")
    owner = node.attributes.get("owner")
    return f"consumer {node.label}" + (f" (owner {owner})" if owner else "")


def _column_layout(graph: LineageGraph) -> Layout:
    columns: list[list[Node]] = [[], [], []]
    for node in graph.nodes:
        columns[_COLUMNS.get(node.kind, 2)].append(node)
    tallest = max(len(column) for column in columns)
    height = MARGIN * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y
    boxes: dict[str, Box] = {}
    for index, column in enumerate(columns):
        x = MARGIN + NODE_W / 2 + index * (NODE_W + GAP_X)
        used = len(column) * NODE_H + max(len(column) - 1, 0) * GAP_Y
        top = (height - used) / 2
        for row, node in enumerate(column):
            boxes[node.id] = Box(x, top + NODE_H / 2 + row * (NODE_H + GAP_Y), NODE_W, NODE_H)
    width = MARGIN * 2 + 3 * NODE_W + 2 * GAP_X
    return Layout(width, height, boxes, {})


def _curve(source: Box, target: Box) -> str:
    x1, y1 = source.x + source.w / 2, source.y
    x2, y2 = target.x - target.w / 2, target.y
    bend = (x2 - x1) / 2
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )


def dot_layouts(graphs: list[LineageGraph]) -> list[Layout | None]:
    """Coordinates from graphviz for each graph (None where it is absent or fails), all in one
    `dot -Tplain` run: dot lays out every graph of its input in turn, and a process per model
    would cost more than the layouts."""
    dot = shutil.which("dot")
    if dot is None or not graphs:
        return [None] * len(graphs)
    names = [{node.id: f"n{i}" for i, node in enumerate(g.nodes)} for g in graphs]
    source = "\n".join(_dot_source(g, n) for g, n in zip(graphs, names, strict=True))
    try:
        result = subprocess.run(
            [dot, "-Tplain"],
            input=source.encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT_S + len(graphs) // 10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return [None] * len(graphs)
    if result.returncode != 0:
        return [None] * len(graphs)
    outputs = result.stdout.decode("utf-8", "replace").split("\nstop\n")
    if len(outputs) < len(graphs):
        return [None] * len(graphs)
    return [
        _parse_plain(out, {name: node_id for node_id, name in n.items()})
        for out, n in zip(outputs, names, strict=False)
    ]


def _dot_source(graph: LineageGraph, names: dict[str, str]) -> str:
    lines = [
        "digraph lineage {",
        "rankdir=LR; nodesep=0.2; ranksep=1.0;",
        f"node [shape=box fixedsize=true width={NODE_W / 72:.3f} height={NODE_H / 72:.3f}];",
    ]
    lines += [f"{names[node.id]} [label={dot_quote(node.id)}];" for node in graph.nodes]
    lines += [
        f"{names[edge.source]} -> {names[edge.target]};"
        for edge in graph.edges
        if edge.source in names and edge.target in names
    ]
    lines.append("}")
    return "\n".join(lines)


def _parse_plain(out: str, ids: dict[str, str]) -> Layout | None:
    """graphviz's plain format: `graph scale W H`, `node NAME X Y W H ...`, `edge TAIL HEAD N
    X1 Y1 ... XN YN ...`, in inches with y upwards. Names are ours (n0...), so the first
    fields of each line are safe to split on spaces; labels are never read."""
    try:
        rows = [line.split() for line in out.splitlines() if line.strip()]
        head = rows[0]
        if head[0] != "graph":
            return None
        scale = float(head[1]) * 72
        width, height = float(head[2]) * scale, float(head[3]) * scale
        boxes: dict[str, Box] = {}
        curves: dict[tuple[str, str], str] = {}
        for row in rows[1:]:
            if row[0] == "node" and row[1] in ids:
                x, y, w, h = (float(v) * scale for v in row[2:6])
                boxes[ids[row[1]]] = Box(x + MARGIN, height - y + MARGIN, w, h)
            elif row[0] == "edge" and row[1] in ids and row[2] in ids:
                count = int(row[3])
                numbers = [float(v) * scale for v in row[4 : 4 + 2 * count]]
                points = [
                    (numbers[i] + MARGIN, height - numbers[i + 1] + MARGIN)
                    for i in range(0, len(numbers), 2)
                ]
                if len(points) >= 4 and (len(points) - 1) % 3 == 0:
                    path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
                    for i in range(1, len(points), 3):
                        trio = points[i : i + 3]
                        path += " C" + " ".join(f"{x:.1f},{y:.1f}" for x, y in trio)
                    curves[(ids[row[1]], ids[row[2]])] = path
    except (IndexError, ValueError):
        return None
    if len(boxes) != len(ids):
        return None
    return Layout(width + 2 * MARGIN, height + 2 * MARGIN, boxes, curves)
