"""The audit report as Markdown or as one self-contained HTML page.

Both are written from one outline of blocks (headings, paragraphs, label/value lists, tables) of
plain text, so the two formats say the same things and only the escaping differs: Markdown
escapes with `steward.entries.markdown_text`, HTML with `html.escape` on every value. The HTML
page has its CSS inline and no script and no external resource: it opens offline, from a file or
a mail.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from steward.entries.card_sections import is_filled
from steward.entries.markdown_text import escape, escape_line
from steward.entries.models import CARD_SECTIONS, format_timestamp
from steward.governance.audit import (
    FINDING_CODES,
    STANDARDS,
    AuditReport,
    ModelAudit,
    approval_rules,
)

NOT_FILLED = "(not filled in)"


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    anchor: str | None = None


@dataclass(frozen=True)
class Para:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Fields:
    pairs: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]


Block = Heading | Para | Fields | Table


# --- the outline --------------------------------------------------------------------------------


def outline(report: AuditReport) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, "Technical documentation (EU AI Act, Annex IV)"),
        Fields(
            [
                ("Registry commit", report.commit),
                ("Committed at", report.committed_at),
                ("Revision asked", report.rev),
                ("Models", ", ".join(m.name for m in report.models) or "none"),
            ]
        ),
        Heading(2, "Findings", "findings"),
        *_findings(report),
        Heading(2, "Roles and approval rules", "roles"),
        *_roles(report),
    ]
    for audited in report.models:
        blocks += _model(audited)
    blocks += [Heading(2, "Standards applied", "standards")]
    blocks += [Para(text) for text in STANDARDS]
    return blocks


def _findings(report: AuditReport) -> list[Block]:
    if not report.findings:
        return [Para("No findings.")]
    rows = [
        [f.severity, f.code, f.model or "-", f.version or "-", f.message] for f in report.findings
    ]
    legend = [(code, text) for code, text in FINDING_CODES.items()]
    return [
        Para(
            f"{len(report.errors)} error(s), {len(report.findings) - len(report.errors)} "
            "warning(s).",
            strong=True,
        ),
        Table(["Severity", "Finding", "Model", "Version", "Detail"], rows),
        Fields(legend),
    ]


def _roles(report: AuditReport) -> list[Block]:
    policy = report.policy
    if policy is None:
        return [Para("The policy could not be read at this commit.", strong=True)]
    roles = Table(
        ["Role", "Members"], [[role, ", ".join(members)] for role, members in policy.roles.items()]
    )
    rules = [
        [
            rule["from"],
            rule["to"],
            "; ".join(
                f"{a['count']} from {a['role']}"
                + (f" when {_when(a['when'])}" if a["when"] else "")
                for a in rule["approvals"]
            )
            or "-",
            json.dumps(rule["gates"], sort_keys=True) if rule["gates"] else "-",
        ]
        for rule in approval_rules(policy)
    ]
    governance = "; ".join(f"{a.count} from {a.role}" for a in policy.governance.approvals)
    return [
        roles,
        Table(["From", "To", "Approvals", "Gates"], rules),
        Fields([("Changes to the policy and code", governance)]),
    ]


def _when(condition: dict[str, Any]) -> str:
    return " or ".join(f"{key} in {', '.join(values)}" for key, values in condition.items())


def _text(value: str | None) -> str:
    return value if value is not None and is_filled(value) else NOT_FILLED


def _model(audited: ModelAudit) -> list[Block]:
    model, card = audited.model, audited.model.card
    data = audited.as_dict()
    blocks: list[Block] = [
        Heading(2, f"Model {model.name}", f"model-{model.name}"),
        Heading(3, "1. General description"),
        Fields(
            [
                ("Description", model.description or "-"),
                ("Owner", f"{model.owner} (team {model.team})"),
                ("Data steward", model.data_steward or "-"),
                ("Risk class", model.risk),
                ("License", model.license or "-"),
                ("Intended use", _text(card.intended_use)),
                ("Out-of-scope use", _text(card.out_of_scope_use)),
                (
                    "Downstream consumers",
                    ", ".join(
                        c.name + (f" ({c.owner})" if c.owner else "") for c in model.downstream
                    )
                    or "-",
                ),
            ]
        ),
        Table(
            ["Version", "Stage", "Registered", "By"],
            [
                [v.version, v.stage, format_timestamp(v.created_at), v.created_by]
                for v in audited.versions
            ],
        ),
        Heading(3, "2. Development process and data"),
        Fields(
            [
                ("Declared classification", ", ".join(model.classification) or "-"),
                (
                    "Inherited classification",
                    "; ".join(f"{i.label} from {i.source}" for i in audited.inherited()) or "-",
                ),
                ("Evaluation data", _text(card.evaluation_data)),
            ]
        ),
    ]
    for version in data["development"]["versions"]:
        blocks += _development(version)
    blocks += [Heading(3, "3. Monitoring and control"), *_monitoring(data["monitoring"])]
    blocks += [
        Heading(3, "4. Risk management"),
        Fields(
            [
                ("Risk class", model.risk),
                *(
                    (name.replace("_", " ").capitalize(), _text(getattr(card, name)))
                    for name in CARD_SECTIONS
                    if name not in ("intended_use", "out_of_scope_use")
                ),
            ]
        ),
        Heading(3, "5. Changes over the lifecycle"),
        Para(
            "Promotions, newest first: who proposed, approved and merged each, and the gate "
            "verdict."
        ),
        _events_table(data["lifecycle"]["promotions"]),
        Para("Deployments and rollbacks (entering and leaving production), oldest first."),
        _deployments_table(data["lifecycle"]["deployments"]),
    ]
    return blocks


def _development(version: dict[str, Any]) -> list[Block]:
    code = version["code"]
    env = dict(version["environment"])
    packages = env.pop("packages", {}) or {}
    environment = ", ".join(
        [f"{k} {v}" for k, v in env.items() if v] + [f"{k}=={v}" for k, v in packages.items()]
    )
    datasets = [
        [
            d["id"] + (f"@{d['version']}" if d["version"] else ""),
            d["uri"] or "-",
            "all" if d["all_columns"] else ", ".join(d["columns"]),
            "yes" if d["registered"] else "NO",
            "; ".join(f"{i['label']} ({i['source']})" for i in d["inherited"]) or "-",
        ]
        for d in version["datasets"]
    ]
    metrics = ", ".join(f"{name} {value:g}" for name, value in version["metrics"].items())
    return [
        Heading(4, f"Version {version['version']} ({version['stage']})"),
        Fields(
            [
                ("Code", f"{code['repo'] or '?'} at {code['commit']}" if code else "-"),
                ("Training run", version["run"] or "-"),
                ("Environment", environment or "-"),
                ("Features", ", ".join(version["features"]) or "-"),
                ("Evaluation results", metrics or "-"),
                ("Artifact md5", version["artifact_md5"]),
            ]
        ),
        Table(["Dataset", "URI", "Columns", "Registered", "Classifications"], datasets)
        if datasets
        else Para("No training datasets recorded."),
    ]


def _monitoring(data: dict[str, Any]) -> list[Block]:
    """Section 3 from `ModelAudit.as_dict()["monitoring"]`."""
    rows = [
        [
            version,
            point["at"],
            point.get("source") or "-",
            ", ".join(f"{k} {v:g}" for k, v in point["metrics"].items()),
            "; ".join(point.get("breaches", [])) or "-",
        ]
        for version, points in data["production_metrics"].items()
        for point in points
    ]
    thresholds = ", ".join(
        f"{k} {json.dumps(v, sort_keys=True)}" for k, v in data["thresholds"].items()
    )
    return [
        Fields(
            [
                ("In production", ", ".join(data["production_versions"]) or "none"),
                ("Monitoring thresholds", thresholds or "-"),
            ]
        ),
        Table(["Version", "Reading", "Source", "Metrics", "Breaches"], rows)
        if rows
        else Para("No production metrics recorded."),
    ]


def _events_table(events: list[dict[str, Any]]) -> Block:
    if not events:
        return Para("No promotions recorded.")
    return Table(
        [
            "When",
            "Version",
            "Stage",
            "Proposal",
            "Proposed by",
            "Approved by",
            "Merged by",
            "Commit",
            "Verdict",
        ],
        [
            [
                e["at"],
                e["version"],
                e["stage"] or "-",
                "-" if e["proposal"] is None else f"#{e['proposal']}",
                e["proposed_by"] or "-",
                ", ".join(e["approvals"]) or "NONE",
                e["merged_by"] or "-",
                e["commit"],
                e["verdict"] or "-",
            ]
            for e in events
        ],
    )


def _deployments_table(events: list[dict[str, Any]]) -> Block:
    if not events:
        return Para("Never in production.")
    return Table(
        ["When", "Version", "Event", "Rollback", "Approved by", "Commit"],
        [
            [
                e["at"],
                e["version"],
                f"{e['event']} production",
                "yes" if e["rollback"] else "-",
                ", ".join(e["approvals"]) or "-",
                e["commit"],
            ]
            for e in events
        ],
    )


# --- Markdown -----------------------------------------------------------------------------------


def render_markdown(report: AuditReport) -> str:
    return "\n\n".join(_markdown(block) for block in outline(report)) + "\n"


def _markdown(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {escape_line(block.text)}"
    if isinstance(block, Para):
        text = escape(block.text)
        return f"**{text}**" if block.strong else text
    if isinstance(block, Fields):
        return "\n".join(f"- **{escape_line(k)}:** {escape_line(v)}" for k, v in block.pairs)
    lines = [_row(block.headers), _row(["---"] * len(block.headers), escaped=False)]
    lines += [_row(row) for row in block.rows]
    return "\n".join(lines)


def _row(cells: Iterable[str], escaped: bool = True) -> str:
    return "| " + " | ".join(escape_line(c) if escaped else c for c in cells) + " |"


# --- HTML ---------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:72rem;margin:2rem auto;
padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{border-bottom:2px solid #1b1f24}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0;white-space:pre-wrap}td{white-space:pre-wrap}
.error{color:#b42318;font-weight:600}.warning{color:#9a6700;font-weight:600}
"""


def render_html(report: AuditReport) -> str:
    body = "\n".join(_html(block) for block in outline(report))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">\n"
        f"<title>Steward audit report {html.escape(report.commit[:12])}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _html(block: Block) -> str:
    e = html.escape
    if isinstance(block, Heading):
        anchor = f' id="{e(block.anchor)}"' if block.anchor else ""
        return f"<h{block.level}{anchor}>{e(block.text)}</h{block.level}>"
    if isinstance(block, Para):
        return (
            f"<p><strong>{e(block.text)}</strong></p>"
            if block.strong
            else f"<p>{e(block.text)}</p>"
        )
    if isinstance(block, Fields):
        items = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in block.pairs)
        return f"<dl>{items}</dl>"
    head = "".join(f"<th>{e(h)}</th>" for h in block.headers)
    rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in block.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _cell(text: str) -> str:
    severity = f' class="{text}"' if text in ("error", "warning") else ""
    return f"<td{severity}>{html.escape(text)}</td>"
