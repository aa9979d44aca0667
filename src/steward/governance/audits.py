"""`steward audit`'s output, kept under the commit it describes, the model, the format and the
revision as asked: an audit asked again at the same commit is printed without reading the
registry or walking its history again.

A commit fixes everything a report says: the entries and the policy in its tree, the history
behind it, its date. Nothing is kept where that does not hold: where a central policy's floor was
read (its mirror decides, outside the commit), and in a shallow clone or under grafts or replace
refs (git may give the same commit other parents later: a deepened clone shows more history)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import NamedTuple

from steward.gitio.changelog import commits_stand_for_history
from steward.gitio.gitcmd import resolve_commit
from steward.governance.audit import AuditReport, audit
from steward.governance.audit_render import render_html, render_markdown
from steward.reading.cache import cache_dir, load_tree_answer, store_tree_answer

# Bump when what a kept output holds changes without Steward's code changing (never so far: the
# cache's directory is named after the code).
AUDIT_KEPT = 1


class AuditOutput(NamedTuple):
    """The report as written, and what the command's exit code and summary line need."""

    text: str
    findings: int
    errors: int
    incomplete: bool


def audit_output(root: Path, model: str | None, rev: str, output_format: str) -> AuditOutput:
    """The audit of `model` (every model when None) at `rev` in `output_format` (md, html,
    json), as kept for that commit if it was asked before."""
    directory = cache_dir(root) if commits_stand_for_history(root) else None
    if directory is not None:
        known = load_tree_answer(
            directory, "audit", _key(model, rev, output_format, resolve_commit(root, rev))
        )
        if isinstance(known, AuditOutput):
            return known
    report = audit(root, model, rev)
    output = AuditOutput(
        render(report, output_format),
        len(report.findings),
        len(report.errors),
        report.incomplete,
    )
    central = report.policy is not None and report.policy.central is not None
    if directory is not None and not central:
        # Under the commit read, which `rev` may no longer name.
        key = _key(model, rev, output_format, report.commit)
        store_tree_answer(directory, "audit", key, output)
    return output


def render(report: AuditReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(report.as_dict(), indent=2) + "\n"
    if output_format == "html":
        return render_html(report)
    return render_markdown(report)


def _key(model: str | None, rev: str, output_format: str, commit: str) -> str:
    asked = f"{model}\0{rev}\0{output_format}".encode("utf-8", "surrogateescape")
    return f"{AUDIT_KEPT}-{hashlib.sha256(asked).hexdigest()[:16]}-{commit}"
