"""`steward monitor`: the monitoring callback. Production metrics go into the version's one mutable
section (`production_metrics`, the last N readings), are judged by the policy's `monitoring`
thresholds, and a breach either opens a rollback proposal or is recorded as an alert that the
gate shows on every proposal touching the model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from steward.entries import layout
from steward.entries.entryfiles import render_entry
from steward.entries.layout import Kind
from steward.entries.markdown_text import code, escape_inline
from steward.entries.models import MetricPoint, VersionEntry
from steward.entries.policy import Monitoring, Policy
from steward.entries.validate import parse_file, read_entry
from steward.forge.protocol import Forge, proposer_trailer
from steward.gate.promotion import Promotion
from steward.gate.rollback import propose_rollback
from steward.gitio.gitcmd import (
    CatFile,
    commit_blobs,
    current_branch,
    head_commit,
    run_git,
)
from steward.gitio.landing import commit_and_land
from steward.reading.catalog import find_version


def _branch_tip(root: Path, branch: str) -> str | None:
    out = run_git(root, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
    tip = out.decode().strip()
    return tip or None


@dataclass(frozen=True)
class MonitorResult:
    model: str
    version: str
    stage: str
    breaches: tuple[str, ...]
    commit: str
    proposal: int | None  # when the policy has metrics go through a proposal
    rollback: Promotion | None  # when a breach opened one

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "stage": self.stage,
            "breaches": list(self.breaches),
            "commit": self.commit,
            "proposal": self.proposal,
            "rollback": self.rollback.proposal.number if self.rollback else None,
        }


def breaches(metrics: dict[str, float], monitoring: Monitoring) -> list[str]:
    found = []
    for name, threshold in monitoring.thresholds.items():
        value = metrics.get(name)
        if value is None:
            found.append(f"{name} is missing from the reading")  # silence is not health
            continue
        if threshold.min is not None and value < threshold.min:
            found.append(f"{name} {value:g} < min {threshold.min:g}")
        if threshold.max is not None and value > threshold.max:
            found.append(f"{name} {value:g} > max {threshold.max:g}")
    return found


def record_metrics(
    root: Path,
    forge: Forge,
    model: str,
    metrics: dict[str, float],
    author: str,
    stage: str = "production",
    clock: Callable[[], datetime] = lambda: datetime.now(UTC).replace(microsecond=0),
) -> MonitorResult:
    policy: Policy = read_entry(root, layout.POLICY_FILE, Kind.POLICY)
    monitoring = policy.monitoring or Monitoring()
    holder = find_version(root, model, stage=stage)
    found = breaches(metrics, monitoring)
    point = MetricPoint(at=clock(), metrics=metrics, source=author, breaches=found)
    kept = [*holder.production_metrics, point][-monitoring.keep :]
    updated = VersionEntry.model_validate(
        {**holder.model_dump(), "production_metrics": [p.model_dump() for p in kept]}
    )
    path = layout.version_path(model, holder.version)
    text = render_entry(Kind.VERSION, path, updated)
    title = f"Production metrics of {model} {holder.version}" + (" (breach)" if found else "")
    base = head_commit(root)
    proposal = None
    if monitoring.commit == "direct":
        commit = commit_and_land(root, {path: text.encode("utf-8")}, title)
    else:
        branch = f"steward/monitor/{model}-{holder.version}"
        signed = f"{title}\n\n{proposer_trailer(author)}\n"
        open_tip = _branch_tip(root, branch)
        if open_tip is not None:
            # Readings wait in the open proposal: the next one joins it instead of conflicting.
            with CatFile(root) as cat:
                pending = cat.read_optional(f"{open_tip}:{path}")
            waiting = parse_file(Kind.VERSION, pending or b"", path).entry
            if isinstance(waiting, VersionEntry):
                kept = [*waiting.production_metrics, point][-monitoring.keep :]
                updated = VersionEntry.model_validate(
                    {**holder.model_dump(), "production_metrics": [p.model_dump() for p in kept]}
                )
                text = render_entry(Kind.VERSION, path, updated)
            commit = commit_blobs(
                root, open_tip, {path: text.encode("utf-8")}, signed, branch, existing=True
            )
            forge.publish(root, branch)
        else:
            commit = commit_blobs(root, base, {path: text.encode("utf-8")}, signed, branch)
            forge.publish(root, branch)
            body = "Readings: " + ", ".join(f"{code(k)} {v:g}" for k, v in sorted(metrics.items()))
            if found:
                body += "\n\nBreached: " + escape_inline("; ".join(found))
            proposal = forge.create_proposal(
                title, body + "\n", branch, current_branch(root), author
            )
    rollback = None
    already = run_git(
        root, "for-each-ref", "--format=%(refname)", f"refs/heads/steward/rollback/{model}-*"
    ).decode()
    if found and monitoring.on_breach == "rollback" and not already.strip():
        rollback = propose_rollback(
            root, forge, model, author, stage=stage, reason="monitoring: " + "; ".join(found)
        )
    return MonitorResult(
        model,
        holder.version,
        stage,
        tuple(found),
        commit,
        proposal.number if proposal is not None else None,
        rollback,
    )
