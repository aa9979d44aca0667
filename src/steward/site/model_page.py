"""A model's page: its facts, versions, stage timeline, metric charts, lineage, card and audit
findings, and a section per version (reached from the versions table and the lineage graph).

Everything on it comes from the model's own files, the datasets its versions cite, the policy
and the model's history, so the page changes only when one of those does (see `build`)."""

from __future__ import annotations

from dataclasses import dataclass

from steward.aftermerge.history import Event
from steward.entries import classification, layout
from steward.entries.card_sections import filled_sections
from steward.entries.models import CARD_SECTIONS, ModelEntry, VersionEntry, format_timestamp
from steward.entries.problems import Problem
from steward.governance.audit import Finding, ModelAudit, model_findings
from steward.governance.lineage import LineageGraph, model_lineage
from steward.governance.modelcard import dataset_uses, default_version
from steward.reading.contents import RegistryContents
from steward.site.charts import Point, metric_chart
from steward.site.html import (
    EntryLink,
    badge,
    code,
    dataset_page,
    fields,
    joined,
    link,
    table,
    text,
)
from steward.site.lineage_svg import Layout, lineage_svg

SECTION_TITLES = {
    "intended_use": "Intended use",
    "out_of_scope_use": "Out-of-scope uses",
    "factors": "Factors",
    "evaluation_data": "Evaluation data",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
    "limitations": "Limitations",
}


@dataclass(frozen=True)
class ModelInputs:
    name: str
    contents: RegistryContents  # holds this model's entries, the datasets they cite, the policy
    events: list[Event]  # newest first
    entry_link: EntryLink
    graph: LineageGraph | None = None  # the model's lineage, when computed already
    layout: Layout | None = None  # the lineage graph's, from graphviz; None: in columns

    @property
    def model(self) -> ModelEntry | None:
        return self.contents.models.get(self.name)

    @property
    def versions(self) -> list[VersionEntry]:
        return self.contents.versions_of(self.name)

    def problems(self) -> list[Problem]:
        prefix = f"{layout.MODELS_DIR}/{self.name}/"
        return [p for p in self.contents.problems if p.path.startswith(prefix)]

    def findings(self) -> list[Finding]:
        if self.model is None:
            return []
        uses = {v.version: dataset_uses(v, self.contents.datasets) for v in self.versions}
        audited = ModelAudit(self.model, self.versions, uses, self.events, self.contents.policy)
        return model_findings(audited)


def render_model(inputs: ModelInputs) -> str:
    """The `<main>` content of the model's page."""
    sections = [
        ("versions", "Versions", _versions(inputs)),
        ("timeline", "Stage timeline", _timeline(inputs.events)),
        ("metrics", "Metrics across versions", _charts(inputs)),
        ("lineage", "Lineage", _lineage(inputs)),
        ("card", "Model card", _card(inputs)),
        ("audit", "Audit findings", _findings(inputs)),
        ("version-details", "Versions in detail", _version_details(inputs)),
    ]
    toc = "".join(f'<li><a href="#{key}">{text(title)}</a></li>' for key, title, _ in sections)
    body = [
        f"<h1>Model {code(inputs.name)}</h1>",
        _summary(inputs),
        _problems(inputs.problems()),
        f'<nav aria-label="On this page"><ul class="toc">{toc}</ul></nav>',
    ]
    body += [
        f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{text(title)}</h2>'
        f"{content}</section>"
        for key, title, content in sections
    ]
    return "\n".join(body)


def _summary(inputs: ModelInputs) -> str:
    model = inputs.model
    if model is None:
        return '<p class="warning">The model file cannot be read (see the problems below).</p>'
    inherited = classification.labels(
        classification.inherited_by_live_versions(inputs.versions, inputs.contents.datasets)
    )
    levels = inputs.contents.policy.classification_levels if inputs.contents.policy else []
    uncovered = classification.uncovered(model.classification, inherited, levels)
    inherited_html = joined(inherited)
    if uncovered:
        inherited_html += f' <strong class="warning">(not declared: {joined(uncovered)})</strong>'
    consumers = [
        text(c.name) + (f" ({text(c.owner)})" if c.owner else "") for c in model.downstream
    ]
    description = (
        f'<p class="description">{text(model.description)}</p>' if model.description else ""
    )
    return description + fields(
        [
            ("Owner", text(model.owner)),
            ("Team", text(model.team)),
            ("Data steward", text(model.data_steward) if model.data_steward else None),
            ("Risk", text(model.risk)),
            ("Classification (declared)", joined(model.classification)),
            ("Classification (inherited from data)", inherited_html),
            ("Tags", joined(model.tags)),
            ("License", text(model.license) if model.license else None),
            ("Stages", _holders(inputs.versions)),
            ("Consumers", ", ".join(consumers) or None),
            ("Entry", _entry(inputs.entry_link, layout.model_path(inputs.name))),
        ]
    )


def _holders(versions: list[VersionEntry]) -> str:
    held: dict[str, list[str]] = {}
    for entry in versions:
        if entry.stage in ("production", "staging"):
            held.setdefault(entry.stage, []).append(entry.version)
    return (
        "; ".join(
            f"{badge(stage)} " + ", ".join(link(f"#v-{v}", v) for v in held[stage])
            for stage in ("production", "staging")
            if stage in held
        )
        or "no version in staging or production"
    )


def _entry(entry_link: EntryLink, path: str) -> str:
    url = entry_link(path)
    return link(url, path) if url else code(path)


def _problems(problems: list[Problem]) -> str:
    if not problems:
        return ""
    items = "".join(f"<li>{text(p.render())}</li>" for p in problems)
    return (
        f'<div class="problems" role="note"><p>Files that cannot be read:</p><ul>{items}</ul></div>'
    )


def _metric_names(versions: list[VersionEntry]) -> list[str]:
    return sorted({name for entry in versions for name in entry.metrics})


def _versions(inputs: ModelInputs) -> str:
    versions = list(reversed(inputs.versions))  # newest first
    if not versions:
        return '<p class="none">No version is registered.</p>'
    metrics = _metric_names(versions)
    rows = [
        [
            link(f"#v-{entry.version}", entry.version),
            badge(entry.stage),
            *(text(f"{entry.metrics[m]:.6g}") if m in entry.metrics else "-" for m in metrics),
            text(format_timestamp(entry.created_at)),
            text(entry.created_by),
        ]
        for entry in versions
    ]
    return table(["Version", "Stage", *metrics, "Created", "By"], rows)


def _timeline(events: list[Event]) -> str:
    if not events:
        return '<p class="none">No history: no commit of this branch touches the model.</p>'
    rows = [
        [
            text(event.at),
            link(f"#v-{event.version}", event.version),
            text(event.summary),
            text(f"#{event.proposal}") if event.proposal is not None else "-",
            text(event.by) if event.by else "-",
            joined(event.approvals_shown),
            text(event.merged_by) if event.merged_by else "-",
            code(event.verdict) if event.verdict else "-",
        ]
        for event in events
    ]
    headers = ["When", "Version", "Event", "Proposal", "Proposed by", "Approved by (role)"]
    return table([*headers, "Merged by", "Verdict"], rows)


def _charts(inputs: ModelInputs) -> str:
    versions = inputs.versions
    names = _metric_names(versions)
    if not names:
        return '<p class="none">No version records a metric.</p>'
    figures = []
    for index, name in enumerate(names):
        points = [
            Point(entry.version, entry.stage, entry.metrics[name])
            for entry in versions
            if name in entry.metrics
        ]
        chart = metric_chart(name, points, f"chart-{index}")
        figures.append(
            f'<figure class="metric">{chart}<figcaption>{code(name)}</figcaption></figure>'
        )
    return '<div class="charts">' + "".join(figures) + "</div>"


def _lineage(inputs: ModelInputs) -> str:
    graph = inputs.graph or model_lineage(inputs.contents, inputs.name)
    hrefs = {name: f"../{dataset_page(name)}" for name in inputs.contents.datasets}
    note = (
        '<p class="legend">Datasets (left) train versions (middle), which serve consumers '
        "(right); a dashed edge is a version that could serve but does not hold production.</p>"
    )
    return note + lineage_svg(graph, hrefs, inputs.layout)


def _card(inputs: ModelInputs) -> str:
    model = inputs.model
    version = default_version(inputs.versions)
    if model is None or version is None:
        return '<p class="none">No card: the model has no readable entry or no version.</p>'
    filled = filled_sections(model.card)
    missing = [name for name in CARD_SECTIONS if name not in filled]
    parts = [
        f"<p>The card describes version {link(f'#v-{version.version}', version.version)} "
        f"({badge(version.stage)}), the production holder or else the highest version. "
        f"<code>steward card {text(model.name)}</code> writes it as Markdown.</p>"
    ]
    if missing:
        parts.append(f'<p class="warning">Missing card sections: {joined(missing)}.</p>')
    for name in CARD_SECTIONS:
        title = SECTION_TITLES.get(name, name.replace("_", " ").capitalize())
        value = getattr(model.card, name)
        content = (
            f'<p class="prose">{text(value)}</p>'
            if name in filled
            else f'<p class="none">Not filled in: write <code>card.{text(name)}</code>.</p>'
        )
        parts.append(f"<h3>{text(title)}</h3>{content}")
    parts.append("<h3>Training data</h3>" + _datasets_list(inputs, version))
    promotions = [e for e in inputs.events if e.version == version.version and e.event == "entered"]
    approvals = [
        f"<li>{text(e.at)}: entered {badge(e.stage or '?')}"
        + (f", approved by {joined(e.approvals_shown)}" if e.approvals_shown else "")
        + (f", merged by {text(e.merged_by)}" if e.merged_by else "")
        + "</li>"
        for e in promotions
    ]
    parts.append(
        "<h3>Approvals</h3>"
        + (
            f"<ul>{''.join(approvals)}</ul>"
            if approvals
            else '<p class="none">No promotion recorded.</p>'
        )
    )
    return "".join(parts)


def _datasets_list(inputs: ModelInputs, version: VersionEntry) -> str:
    uses = dataset_uses(version, inputs.contents.datasets)
    if not uses:
        return '<p class="none">The version records no training dataset.</p>'
    items = []
    for use in uses:
        name = use.ref.id + (f"@{use.ref.version}" if use.ref.version else "")
        label = (
            link(f"../{dataset_page(use.ref.id)}", name) if use.dataset is not None else code(name)
        )
        scope = "all columns" if not use.ref.columns else "columns " + joined(use.columns)
        registered = "" if use.dataset is not None else " (not registered)"
        items.append(f"<li>{label}{registered}: {scope}</li>")
    return f"<ul>{''.join(items)}</ul>"


def _findings(inputs: ModelInputs) -> str:
    found = inputs.findings()
    if not found:
        return '<p class="ok">No finding: the card, approvals and classifications are in order.</p>'
    items = "".join(
        f'<li class="finding {text(f.severity)}"><strong>{text(f.severity)}</strong> '
        f"{code(f.code)}: {text(f.message)}</li>"
        for f in found
    )
    return f"<ul>{items}</ul>"


def _version_details(inputs: ModelInputs) -> str:
    parts = []
    for entry in reversed(inputs.versions):
        params = ", ".join(
            f"{text(k)}={text(v)}" for k, v in entry.training.hyperparameters.items()
        )
        files = table(
            ["File", "Size (bytes)", "sha256"],
            [[code(f.path), text(f.size), code(f.sha256)] for f in entry.artifact.files],
        )
        metrics = ", ".join(f"{text(k)} {text(f'{v:.6g}')}" for k, v in entry.metrics.items())
        parts.append(
            f'<section id="v-{text(entry.version)}" class="version" '
            f'aria-labelledby="v-{text(entry.version)}-h">'
            f'<h3 id="v-{text(entry.version)}-h">{text(entry.version)} {badge(entry.stage)}</h3>'
            + (f'<p class="description">{text(entry.description)}</p>' if entry.description else "")
            + fields(
                [
                    ("Created", text(format_timestamp(entry.created_at))),
                    ("By", text(entry.created_by)),
                    ("Metrics", metrics or None),
                    ("Parameters", params or None),
                    ("Training data", _datasets_list(inputs, entry)),
                    ("Format", text(entry.artifact.format)),
                    ("Tags", joined(entry.tags)),
                    (
                        "Entry",
                        _entry(inputs.entry_link, layout.version_path(entry.model, entry.version)),
                    ),
                ]
            )
            + files
            + "</section>"
        )
    return "".join(parts) or '<p class="none">No version is registered.</p>'
