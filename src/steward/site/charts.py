"""A metric across a model's versions, drawn as an inline SVG line chart.

One chart per metric: the versions in precedence order along x (those without the metric
skipped), the value along y, a point per version coloured by its stage, and each point's
version and value in its `<title>` (a tooltip, and what a screen reader or a test reads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from steward.site.html import STAGE_CLASSES, attr, text

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 48
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Point:
    version: str
    stage: str
    value: float


def metric_chart(metric: str, points: list[Point], chart_id: str) -> str:
    """The SVG of one metric; `points` in version order. Empty string when there is none."""
    if not points:
        return ""
    values = [p.value for p in points]
    low, high = min(values), max(values)
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    step = span_x / max(len(points) - 1, 1)

    def x_of(i: int) -> float:
        return LEFT + (i * step if len(points) > 1 else span_x / 2)

    def y_of(value: float) -> float:
        return TOP + (high - value) / (high - low) * span_y

    coords = [(x_of(i), y_of(p.value)) for i, p in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    title_id = f"{chart_id}-title"
    parts = [
        f'<svg class="chart" data-metric="{attr(metric)}" role="img" '
        f'aria-labelledby="{attr(title_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{attr(title_id)}">{text(metric)} across {len(points)} versions, '
        f"from {text(_number(values[0]))} to {text(_number(values[-1]))}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">'
        f"{text(_number(high))}</text>",
        f'<text class="tick" x="{LEFT - 6}" y="{HEIGHT - BOTTOM + 4}" text-anchor="end">'
        f"{text(_number(low))}</text>",
    ]
    if len(points) > 1:
        parts.append(f'<polyline class="line" points="{line}"/>')
    every = max(1, math.ceil(len(points) / MAX_X_LABELS))
    for i, (point, (x, y)) in enumerate(zip(points, coords, strict=True)):
        stage = point.stage if point.stage in STAGE_CLASSES else "other"
        parts.append(
            f'<circle class="point stage-{stage}" cx="{x:.1f}" cy="{y:.1f}" r="5" '
            f'data-version="{attr(point.version)}" data-value="{attr(repr(point.value))}">'
            f"<title>{text(point.version)} ({text(point.stage)}): "
            f"{text(_number(point.value))}</title></circle>"
        )
        if i % every == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" '
                f'text-anchor="middle">{text(_short(point.version))}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return f"{value:.6g}"


def _short(version: str, limit: int = 14) -> str:
    return version if len(version) <= limit else version[: limit - 1] + "…"
