"""A model card as Markdown, with a YAML front matter in the Hugging Face Hub's model-card format.

The body follows the sections of Mitchell et al., "Model Cards for Model Reporting" (2019): model
details, intended use, factors, metrics (with the quantitative analyses), evaluation data,
training data, ethical considerations, caveats and recommendations. A section the registry has no
text for says so, in bold, with the file to write it in.

The front matter is what the Hub reads (`huggingface_hub.ModelCard`): `license` (one of the
Hub's license ids; any other license is `other` with `license_name`), `datasets`, `tags` and a
`model-index` whose results are the version's offline metrics and its latest production reading.
Only Steward's YAML writer produces it, so no text from an entry can end it early.
"""

from __future__ import annotations

import json
import re
from typing import Any

from steward.aftermerge.history import Event
from steward.entries import layout
from steward.entries.markdown_text import code, escape, escape_line
from steward.entries.models import format_timestamp
from steward.entries.yamlio import dumps
from steward.governance.modelcard import CardFacts

# https://huggingface.co/docs/hub/repositories-licenses: the `license` ids the Hub accepts.
HF_LICENSES = frozenset(
    """
    apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause
    bsd-3-clause-clear c-uda cc cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0
    cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0 cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0
    cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0 cdla-sharing-1.0
    cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research
    intel-research lppl-1.3c ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0
    postgresql ofl-1.1 ncsa unlicense zlib pddl lgpl-lr deepfloyd-if-license llama2 llama3
    llama3.1 llama3.2 llama3.3 llama4 gemma unknown other
    """.split()  # noqa: SIM905 - a list of ids reads better as words than as a literal
)
# Model or version tags that are Hub pipeline tags: the task of the model-index results.
HF_TASKS = frozenset(
    """
    tabular-classification tabular-regression time-series-forecasting text-classification
    token-classification image-classification object-detection text-generation
    feature-extraction fill-mask question-answering summarization translation
    automatic-speech-recognition audio-classification image-segmentation zero-shot-classification
    sentence-similarity reinforcement-learning
    """.split()  # noqa: SIM905 - a list of ids reads better as words than as a literal
)
DEFAULT_TASK = "other"
MISSING = "**Not filled in.**"


def render_card(facts: CardFacts) -> str:
    """The whole card: front matter, then the Markdown body."""
    return f"---\n{dumps(front_matter(facts))}---\n\n{render_body(facts)}"


# --- front matter -------------------------------------------------------------------------------


def hf_license(license_text: str | None) -> dict[str, str]:
    """The Hub's license fields for the model's license: its id when the Hub knows it (compared
    ignoring case, spaces as dashes: `Apache 2.0` is `apache-2.0`), else `other` with a
    `license_name` slug; nothing stated: `unknown`."""
    if license_text is None or not license_text.strip():
        return {"license": "unknown"}
    candidate = license_text.strip().casefold()
    slug = re.sub(r"[^a-z0-9.+]+", "-", candidate).strip("-") or "custom"
    for known in (candidate, slug):
        if known in HF_LICENSES:
            return {"license": known}
    return {"license": "other", "license_name": slug}


def task_of(facts: CardFacts) -> str:
    for tag in [*facts.model.tags, *facts.version.tags]:
        if tag in HF_TASKS:
            return tag
    return DEFAULT_TASK


def front_matter(facts: CardFacts) -> dict[str, Any]:
    model, version = facts.model, facts.version
    data: dict[str, Any] = hf_license(model.license)
    datasets = list(dict.fromkeys(use.ref.id for use in facts.datasets))
    if datasets:
        data["datasets"] = datasets
    data["tags"] = list(
        dict.fromkeys(["steward", *model.tags, *version.tags, f"risk-{model.risk}"])
    )
    task = task_of(facts)
    if task != DEFAULT_TASK:
        data["pipeline_tag"] = task
    results = _results(facts, task)
    if results:
        data["model-index"] = [{"name": f"{model.name}-{version.version}", "results": results}]
    return data


def _results(facts: CardFacts, task: str) -> list[dict[str, Any]]:
    version = facts.version
    results = []
    if version.metrics:
        results.append(
            {
                "task": {"type": task},
                "dataset": {"type": "offline-evaluation", "name": "offline evaluation"},
                "metrics": _metrics(version.metrics),
            }
        )
    if version.production_metrics:
        latest = version.production_metrics[-1]
        results.append(
            {
                "task": {"type": task},
                "dataset": {
                    "type": "production",
                    "name": f"production monitoring, {format_timestamp(latest.at)}",
                },
                "metrics": _metrics(latest.metrics),
            }
        )
    return results


def _metrics(values: dict[str, float]) -> list[dict[str, Any]]:
    return [{"type": name, "name": name, "value": value} for name, value in values.items()]


# --- body ---------------------------------------------------------------------------------------


def render_body(facts: CardFacts) -> str:
    model, version = facts.model, facts.version
    parts = [
        f"# Model card: {code(model.name)} {code(version.version)}",
        f"Generated by Steward from the registry at commit {code(facts.commit)}.",
        *_missing_notice(facts),
        "## Model details",
        _model_details(facts),
        "### Approvals",
        _approvals(facts.promotions),
        "## Intended use",
        _section(facts, "intended_use"),
        "### Out-of-scope uses",
        _section(facts, "out_of_scope_use"),
        "## Factors",
        _section(facts, "factors"),
        "## Metrics",
        _offline_metrics(facts),
        "### Quantitative analyses: production",
        _production_metrics(facts),
        "## Evaluation data",
        _section(facts, "evaluation_data"),
        "## Training data",
        _training_data(facts),
        "## Ethical considerations",
        _section(facts, "ethical_considerations"),
        "## Caveats and recommendations",
        _section(facts, "caveats_and_recommendations"),
        "### Limitations",
        _section(facts, "limitations"),
    ]
    return "\n\n".join(parts) + "\n"


def _missing_notice(facts: CardFacts) -> list[str]:
    if not facts.missing:
        return []
    names = ", ".join(code(name) for name in facts.missing)
    return [
        f"> **Missing card sections:** {names} (in {code(layout.model_path(facts.model.name))})."
    ]


def _section(facts: CardFacts, name: str) -> str:
    if name not in facts.filled:
        return f"{MISSING} Write `card.{name}` in {code(layout.model_path(facts.model.name))}."
    return escape(getattr(facts.model.card, name))


def _items(pairs: list[tuple[str, str | None]]) -> str:
    return "\n".join(f"- **{label}:** {value if value else '-'}" for label, value in pairs)


def _model_details(facts: CardFacts) -> str:
    model, version = facts.model, facts.version
    code_ref = version.training.code
    env = version.environment
    environment = [
        f"{label} {code(value)}"
        for label, value in (
            ("python", env.python),
            ("platform", env.platform),
            ("framework", env.framework),
            ("hardware", env.hardware),
            ("image", env.image),
        )
        if value
    ] + [code(f"{name}=={pinned}") for name, pinned in env.packages.items()]
    consumers = [
        code(c.name)
        + (f" ({code(c.owner)})" if c.owner else "")
        + (f": {escape_line(c.description)}" if c.description else "")
        for c in model.downstream
    ]
    declared = ", ".join(code(label) for label in model.classification)
    pairs: list[tuple[str, str | None]] = [
        ("Description", escape_line(version.description or model.description or "")),
        ("Version", f"{code(version.version)}, stage {code(version.stage)}"),
        ("Registered", f"{format_timestamp(version.created_at)} by {code(version.created_by)}"),
        ("Owner", f"{code(model.owner)} (team {code(model.team)})"),
        ("Data steward", code(model.data_steward) if model.data_steward else None),
        ("Risk class", code(model.risk)),
        ("Classification (declared)", declared),
        ("License", code(model.license) if model.license else "not stated"),
        ("Tags", ", ".join(code(tag) for tag in dict.fromkeys([*model.tags, *version.tags]))),
        (
            "Artifact",
            f"{code(version.artifact.format)}, md5 {code(version.artifact.md5)}, "
            f"{version.artifact.size} bytes",
        ),
        (
            "Training code",
            f"{code(code_ref.repo or '?')} at commit {code(code_ref.commit)}" if code_ref else None,
        ),
        ("Training run", code(version.training.run) if version.training.run else None),
        ("Environment", ", ".join(environment)),
        ("Downstream consumers", "; ".join(consumers)),
    ]
    return _items(pairs)


def _approvals(promotions: list[Event]) -> str:
    if not promotions:
        return "No promotion recorded: the version has stayed at the stage it was registered at."
    rows = [
        "| When | Stage | Proposal | Proposed by | Approved by | Merged by | Commit | Verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for event in promotions:
        cells = [
            event.at,
            code(event.stage or "?"),
            "-" if event.proposal is None else f"#{event.proposal}",
            code(event.proposed_by) if event.proposed_by else "-",
            ", ".join(code(text) for text in event.approvals_shown) or "**none recorded**",
            code(event.merged_by) if event.merged_by else "-",
            code(event.commit[:12]),
            code(event.verdict) if event.verdict else "-",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _metric_table(values: dict[str, float]) -> str:
    rows = ["| Metric | Value |", "| --- | --- |"]
    rows += [f"| {code(name)} | {value:g} |" for name, value in values.items()]
    return "\n".join(rows)


def _offline_metrics(facts: CardFacts) -> str:
    if not facts.version.metrics:
        return f"{MISSING} The version was registered without metrics."
    return "Offline metrics recorded at registration:\n\n" + _metric_table(facts.version.metrics)


def _production_metrics(facts: CardFacts) -> str:
    points = facts.version.production_metrics
    if not points:
        return "No production metrics recorded."
    rows = ["| Reading | Source | Metrics | Breaches |", "| --- | --- | --- | --- |"]
    for point in points:
        metrics = ", ".join(f"{code(name)} {value:g}" for name, value in point.metrics.items())
        breaches = "; ".join(escape_line(text) for text in point.breaches) or "-"
        source = code(point.source) if point.source else "-"
        rows.append(f"| {format_timestamp(point.at)} | {source} | {metrics} | {breaches} |")
    return "\n".join(rows)


def _training_data(facts: CardFacts) -> str:
    training = facts.version.training
    if not facts.datasets:
        lines = [f"{MISSING} The version records no training datasets."]
    else:
        lines = []
        for use in facts.datasets:
            name = code(use.ref.id) + (
                f" version {code(use.ref.version)}" if use.ref.version else ""
            )
            lines.append(f"- Dataset {name}" + (f" at {code(use.uri)}" if use.uri else ""))
            if use.dataset is None:
                lines.append("  - **Not registered**: its owner and classifications are unknown.")
                continue
            columns = ", ".join(code(column) for column in use.columns) or "-"
            scope = "all columns" if not use.ref.columns else "columns used"
            lines.append(f"  - Owner {code(use.dataset.owner)}; {scope}: {columns}")
            for item in use.inherited:
                lines.append(
                    f"  - Classification {code(item.label)} from {escape_line(item.source)}"
                )
    lines.append("")
    inherited = ", ".join(code(label) for label in sorted({i.label for i in facts.inherited}))
    pairs: list[tuple[str, str | None]] = [
        ("Inherited classifications", inherited),
        ("Declared by the model", ", ".join(code(c) for c in facts.model.classification)),
    ]
    if facts.uncovered:
        uncovered = ", ".join(code(label) for label in facts.uncovered)
        pairs.append(("Not covered by the declaration", f"**{uncovered}**"))
    pairs += [
        ("Features", ", ".join(code(name) for name in training.features)),
        (
            "Hyperparameters",
            ", ".join(code(f"{k}={json.dumps(v)}") for k, v in training.hyperparameters.items()),
        ),
    ]
    return "\n".join(lines) + "\n" + _items(pairs)
