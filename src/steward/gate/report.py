"""How a gate verdict reads: plain text for a terminal, Markdown for a pull request comment.

The Markdown is written for the reviewer: the verdict first, then what is still missing and who
can give it, the metric deltas against the current holder, and the table of every rule.
"""

from __future__ import annotations

import re

from steward.aftermerge.records import approvals_text
from steward.entries.markdown_text import code, escape_inline
from steward.entries.problems import printable
from steward.gate.evaluate import MetricDelta, Verdict

_MENTIONABLE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9._-]{1,100})?")
_MARK = {"passed": "✅", "failed": "❌", "not applicable": "n/a"}


def render_text(verdict: Verdict, proposal: int | None = None) -> str:
    subject = f"proposal #{proposal}" if proposal is not None else f"{verdict.head[:12]}"
    lines = [
        f"gate {'PASSED' if verdict.passed else 'FAILED'} for {subject} "
        f"(base {verdict.base[:12]}, head {verdict.head[:12]}, author {verdict.author or '?'})"
    ]
    for alert in verdict.alerts:
        lines.append(f"  monitoring alert: {printable(alert)}")
    for rule in verdict.rules:
        lines.append(f"  {rule.status:>14}  {rule.rule}: {printable(rule.reason)}")
        if rule.status == "failed" and rule.details != (rule.reason,):
            lines.extend(f"{'':18}- {printable(detail)}" for detail in rule.details)
    counted = approvals_text((a.login, a.role) for a in verdict.approvals)
    if counted:
        lines.append(f"  approvals that count: {printable(', '.join(counted))}")
    for login, why in verdict.not_counted:
        lines.append(f"  also reviewed, not counted: {printable(login)} ({why})")
    for missing in verdict.missing_approvals:
        who = ", ".join(missing.candidates) or "nobody holds the role"
        lines.append(
            f"  still needed: {missing.needed - missing.have} approval(s) from {missing.role} "
            f"for {missing.subject} (can approve: {who})"
        )
    return "\n".join(lines)


def _format(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _delta_rows(deltas: tuple[MetricDelta, ...]) -> list[str]:
    rows = []
    for d in deltas:
        delta = d.delta
        shown = "—" if delta is None else f"{delta:+g}"
        holder = f"{_format(d.holder_value)} ({_cell(d.holder)})" if d.holder else "— (no holder)"
        change = _cell(f"{d.model} {d.version} → {d.stage}")
        rows.append(f"| {change} | {code(d.metric)} | {_format(d.value)} | {holder} | {shown} |")
    return rows


def _cell(text: str) -> str:
    """Any text of the verdict (rule names and reasons hold paths, names and values a proposal
    chose) as literal Markdown on one line."""
    return escape_inline(text)


def _mention(principal: str) -> str:
    """Who can still approve, as a GitHub mention (they are asked): only a login or @org/team
    that the base policy names, and that has the shape of one; anything else as text."""
    login = principal.removeprefix("@")
    if _MENTIONABLE.fullmatch(login):
        return f"@{login}"
    return _cell(principal)


def render_markdown(verdict: Verdict, proposal: int | None = None) -> str:
    failed = verdict.failed_rules
    subject = f"proposal #{proposal}" if proposal is not None else f"`{verdict.head[:12]}`"
    if verdict.passed:
        head = f"## ✅ Steward gate passed for {subject}"
    else:
        head = f"## ❌ Steward gate failed for {subject}: {len(failed)} rule(s) not met"
    lines = [head, ""]
    for alert in verdict.alerts:
        lines.append(f"> ⚠️ **Monitoring alert**: {_cell(alert)}")
    if verdict.alerts:
        lines.append("")
    for rule in failed:
        lines.append(f"- **{_cell(rule.rule)}**: {_cell(rule.reason)}")
    if failed:
        lines.append("")
    if verdict.missing_approvals:
        lines += ["### Approvals still needed", ""]
        for missing in verdict.missing_approvals:
            who = ", ".join(_mention(c) for c in missing.candidates) or "_nobody holds the role_"
            lines.append(
                f"- {missing.needed - missing.have} more from **{_cell(missing.role)}** for "
                f"{_cell(missing.subject)} — can approve: {who}"
            )
        lines.append("")
    if verdict.deltas:
        lines += [
            "### Metrics against the current holder",
            "",
            "| change | metric | this version | current holder | Δ |",
            "|---|---|---|---|---|",
            *_delta_rows(verdict.deltas),
            "",
        ]
    lines += ["### Rules", "", "| | rule | why |", "|---|---|---|"]
    for rule in verdict.rules:
        lines.append(f"| {_MARK[rule.status]} | {_cell(rule.rule)} | {_cell(rule.reason)} |")
    counted = approvals_text((a.login, a.role) for a in verdict.approvals)
    approved = ", ".join(_cell(text) for text in counted) or "nobody yet"
    lines += ["", f"Approvals that count: {approved}."]
    if verdict.not_counted:
        others = ", ".join(f"{_cell(login)} ({why})" for login, why in verdict.not_counted)
        lines += ["", f"Also reviewed, not counted: {others}."]
    lines += [
        "",
        f"Judged by the policy of base `{verdict.base[:12]}` on head `{verdict.head[:12]}`, "
        f"the tree that lands `{verdict.tree[:12]}`; verdict `{verdict.digest()}`.",
    ]
    return "\n".join(lines) + "\n"
