"""Promotion: propose a stage change, review it, merge it when the gate passes.

`propose_promotion` never touches the work tree: it reads the current branch's commit, edits the
`stage:` line of the version (and archives the previous holder of a `single` stage in the same
change), commits that on a new branch, and opens a proposal whose body shows the version against
the current holder and the model card. Merging is the promotion: `merge_proposal` runs the gate
on the proposal's current head and merges only if it passes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from steward.aftermerge.apply import ApplyResult, apply_range
from steward.aftermerge.records import approvals_text
from steward.entries import layout
from steward.entries.layout import Kind
from steward.entries.markdown_text import code, escape_inline
from steward.entries.models import ModelEntry, VersionEntry
from steward.entries.policy import Policy
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.entries.yamlio import replace_top_level_value
from steward.errors import StewardError
from steward.forge.local import LocalForge
from steward.forge.protocol import Forge, Proposal, ReviewState, proposer_trailer
from steward.gate.judge import STATUS_CONTEXT, GateRun, run_gate
from steward.gate.report import render_text
from steward.gitio.gitcmd import (
    CatFile,
    commit_blobs,
    current_branch,
    free_branch,
    head_commit,
    list_names,
    run_git,
)
from steward.reading.central_policy import CentralUnavailable, floored_policy


class PromotionError(StewardError):
    """The promotion cannot be proposed as asked."""


class GateFailed(StewardError):
    """The gate did not pass; the message is the verdict."""


@dataclass(frozen=True)
class Promotion:
    proposal: Proposal
    branch: str
    commit: str
    archived: tuple[str, ...]


@dataclass(frozen=True)
class Merged:
    commit: str
    run: GateRun
    applied: ApplyResult | None = None  # what `steward apply` recorded, for a local merge


def _read(cat: CatFile, rev: str, kind: Kind, path: str) -> tuple[bytes, object]:
    raw = cat.read_optional(f"{rev}:{path}")
    if raw is None:
        raise PromotionError(f"{path} does not exist on the current branch")
    parsed = parse_file(kind, raw, path)
    if parsed.entry is None:
        details = "; ".join(p.render() for p in parsed.problems)
        raise PromotionError(f"{path} has problems; fix them first: {details}")
    return raw, parsed.entry


def propose_promotion(
    root: Path, forge: Forge, model: str, version: str, to_stage: str, author: str
) -> Promotion:
    base_branch = current_branch(root)
    base = head_commit(root)
    version_path = layout.version_path(model, version)
    with CatFile(root) as cat:
        raw, parsed = _read(cat, base, Kind.VERSION, version_path)
        assert isinstance(parsed, VersionEntry)
        entry = parsed
        if entry.stage == to_stage:
            raise PromotionError(f"{model} {version} is already in {to_stage}")
        _, model_entry = _read(cat, base, Kind.MODEL, layout.model_path(model))
        assert isinstance(model_entry, ModelEntry)
        policy_raw = cat.read_optional(f"{base}:{layout.POLICY_FILE}")
        policy = parse_file(Kind.POLICY, policy_raw or b"", layout.POLICY_FILE).entry
        # A stage the central policy makes single archives its holder here too; without the
        # central file, proposed as the registry's own file says (the gate fails closed on it).
        if isinstance(policy, Policy):
            with contextlib.suppress(CentralUnavailable):
                policy = floored_policy(root, policy, lambda p: cat.read_optional(f"{base}:{p}"))
        siblings = _versions_at(root, cat, base, model)
    holders = [v for v in siblings if v.stage == to_stage and v.version != version]
    single = isinstance(policy, Policy) and to_stage in policy.single_stages()
    files = {
        version_path: replace_top_level_value(
            raw.decode("utf-8"), "stage", to_stage, version_path
        ).encode("utf-8")
    }
    archived = []
    if single:
        for holder in holders:
            path = layout.version_path(model, holder.version)
            with CatFile(root) as cat:
                holder_raw = cat.read_optional(f"{base}:{path}") or b""
            files[path] = replace_top_level_value(
                holder_raw.decode("utf-8"), "stage", "archived", path
            ).encode("utf-8")
            archived.append(holder.version)
    title = f"Promote {model} {version} to {to_stage}"
    message = title + "".join(f"\n\nArchive {model} {v} (the {to_stage} holder)" for v in archived)
    message += f"\n\n{proposer_trailer(author)}\n"
    branch = free_branch(root, f"steward/promote/{model}-{version}-{to_stage}")
    commit = commit_blobs(root, base, files, message, branch)
    body = promotion_body(entry, to_stage, holders, model_entry, archived)
    try:
        forge.publish(root, branch)
        proposal = forge.create_proposal(title, body, branch, base_branch, author)
    except BaseException:
        run_git(root, "update-ref", "-d", f"refs/heads/{branch}", commit)  # take the branch back
        raise
    return Promotion(proposal, branch, commit, tuple(archived))


def _versions_at(root: Path, cat: CatFile, rev: str, model: str) -> list[VersionEntry]:
    found = []
    for name in list_names(root, rev, f"{layout.MODELS_DIR}/{model}"):
        if name.endswith(".yaml") and name != "model.yaml":
            raw = cat.read_optional(f"{rev}:{layout.MODELS_DIR}/{model}/{name}")
            entry = parse_file(Kind.VERSION, raw or b"", name).entry
            if entry is not None:
                found.append(entry)
    return sorted(found, key=lambda e: precedence(e.version))


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def promotion_body(
    entry: VersionEntry,
    to_stage: str,
    holders: list[VersionEntry],
    model: ModelEntry,
    archived: list[str],
) -> str:
    """The proposal's Markdown body. Every text from the registry (names, owners, card sections,
    dataset versions) goes through the one escaper: a card cannot add a link, an image, raw
    HTML or an @mention to the page reviewers approve on."""
    holder = holders[-1] if holders else None
    lines = [
        f"Promote **{escape_inline(entry.model)} {escape_inline(entry.version)}** from "
        f"{code(entry.stage)} to **{code(to_stage)}**.",
        "",
    ]
    if archived:
        lines += [
            f"Archives {escape_inline(', '.join(archived))}, the current {code(to_stage)} "
            "version, in the same change.",
            "",
        ]
    names = sorted(set(entry.metrics) | (set(holder.metrics) if holder else set()))
    if names:
        current = f"current {to_stage}"
        other = f"{holder.version} ({current})" if holder else current
        header = f"| metric | {escape_inline(entry.version)} | {escape_inline(other)} | Δ |"
        lines += [header, "|---|---|---|---|"]
        for name in names:
            value = entry.metrics.get(name)
            held = holder.metrics.get(name) if holder else None
            delta = "—" if value is None or held is None else f"{value - held:+g}"
            lines.append(f"| {code(name)} | {_number(value)} | {_number(held)} | {delta} |")
        lines.append("")
    steward = f" · **Data steward:** {code(model.data_steward)}" if model.data_steward else ""
    lines += [
        f"### Model card: {escape_inline(model.name)}",
        "",
        f"**Risk:** {code(model.risk)} · **Owner:** {code(model.owner)} · "
        f"**Team:** {code(model.team)}{steward}",
        "",
    ]
    for section, text in model.card.model_dump().items():
        title = section.replace("_", " ").capitalize()
        lines.append(f"- **{title}:** {escape_inline(str(text)) if text else '_missing_'}")
    if entry.training.datasets:
        cited = ", ".join(
            code(f"{d.id}@{d.version}" if d.version else d.id) for d in entry.training.datasets
        )
        lines += ["", f"**Trained on:** {cited}"]
    lines += [
        "",
        f"Artifact {code(entry.artifact.md5)} ({entry.artifact.size} bytes, "
        f"{len(entry.artifact.files)} files), registered {entry.created_at:%Y-%m-%d} by "
        f"{code(entry.created_by)}.",
    ]
    return "\n".join(lines) + "\n"


def review_proposal(
    forge: Forge, number: int, reviewer: str, state: ReviewState, body: str = ""
) -> None:
    forge.add_review(number, reviewer, state, body)


def review_effect(root: Path, forge: Forge, number: int, reviewer: str) -> str:
    """What `reviewer`'s latest review does for proposal `number`, judged as the gate judges it
    now: whether an approval counts (and for which role, or why not), whether a request for
    changes blocks."""
    verdict = run_gate(root, "", "", forge=forge, proposal_number=number).verdict
    key = reviewer.casefold()
    roles = sorted({a.role for a in verdict.approvals if a.login.casefold() == key})
    if roles:
        return f"the approval counts as {', '.join(roles)}"
    if any(login.casefold() == key for login in verdict.blocked_by):
        return "the request for changes blocks the merge until you approve or dismiss it"
    for login, why in verdict.not_counted:
        if login.casefold() == key:
            return f"the approval cannot count: {why}"
    return "it counts for no rule: you hold no role that this change needs"


def merge_proposal(root: Path, forge: Forge, number: int, merged_by: str) -> Merged:
    """Merge proposal `number` if, and only if, the gate passes on its current head."""
    run = run_gate(root, "", "", forge=forge, proposal_number=number)
    assert run.proposal is not None
    if run.proposal.state != "open":
        raise StewardError(f"proposal #{number} is {run.proposal.state}")
    verdict = run.verdict
    forge.set_status(
        run.head,
        STATUS_CONTEXT,
        "success" if verdict.passed else "failure",
        f"{len(verdict.failed_rules)} rules failed" if not verdict.passed else "all rules met",
    )
    if not verdict.passed:
        raise GateFailed(f"not merged: the gate failed\n{render_text(verdict, number)}")
    counted = [(approval.login, approval.role) for approval in verdict.approvals]
    message = (
        f"Merge proposal #{number}: {run.proposal.title}\n\n"
        f"Steward-Proposal: {number}\n"
        f"Steward-Proposed-By: {run.proposal.author}\n"
        f"Steward-Approved-By: {', '.join(approvals_text(counted)) or '-'}\n"
        f"Steward-Merged-By: {merged_by}\n"
        f"Steward-Head: {run.head}\n"
        f"Steward-Verdict: {verdict.digest()}\n"
    )
    commit = forge.merge(number, merged_by, message, expected_base=run.base, expected_head=run.head)
    applied = None
    if isinstance(forge, LocalForge):  # on a hosted forge, the push workflow runs apply
        applied = apply_range(root, run.base, commit, forge)
    return Merged(commit, run, applied)
