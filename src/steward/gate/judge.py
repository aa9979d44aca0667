"""`steward gate`: gather the facts and the evidence for a proposed change, then let the pure
policy evaluation decide.

The judge comes from the base: the policy and team extensions are read from the base branch's
commit, never from the head, so a proposal cannot loosen the rules it is judged by. The head is
read only as data. Evidence that cannot be read (the forge, the DVC remote, an unparsable policy)
is passed on as missing, and the rules that need it fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steward.aftermerge.history import held_stage, last_holder
from steward.entries import classification, layout
from steward.entries.card_sections import filled_sections
from steward.entries.layout import Kind
from steward.entries.models import RISK_CLASSES, DatasetEntry, ModelEntry, VersionEntry
from steward.entries.policy import CentralPin, Policy, TeamExtension, transition_rules
from steward.entries.problems import Problem, field_path
from steward.entries.semver import precedence
from steward.entries.validate import parse_file
from steward.errors import StewardError
from steward.forge.protocol import Forge, ForgeError, Proposal
from steward.gate.evaluate import (
    ArtifactCheck,
    Evidence,
    GateInput,
    ModelFacts,
    PinChange,
    Verdict,
    VersionFacts,
    evaluate,
)
from steward.gate.scoped_problems import new_problems
from steward.gitio.changes import ChangeSet, change_set, malformed_name, merge_base, resolve
from steward.gitio.gitcmd import CatFile, is_ancestor, list_names, merge_tree, tree_of
from steward.reading.central_policy import (
    CentralUnavailable,
    Vendored,
    apply_floor,
    central_label,
    vendored_at,
    verify_pin,
)

STATUS_CONTEXT = "steward/gate"


@dataclass(frozen=True)
class GateRun:
    verdict: Verdict
    base: str
    head: str
    proposal: Proposal | None


class _Reader:
    """Entries at one commit, by path, through one `cat-file` process."""

    def __init__(self, root: Path, rev: str, cat: CatFile) -> None:
        self.root = root
        self.rev = rev
        self.cat = cat

    def entry(self, kind: Kind, path: str) -> Any:
        raw = self.cat.read_optional(f"{self.rev}:{path}")
        if raw is None:
            return None
        return parse_file(kind, raw, path).entry

    def versions(self, model: str) -> list[VersionEntry]:
        found = []
        for name in list_names(self.root, self.rev, f"{layout.MODELS_DIR}/{model}"):
            if not name.endswith(".yaml") or name == "model.yaml":
                continue
            entry = self.entry(Kind.VERSION, f"{layout.MODELS_DIR}/{model}/{name}")
            if entry is not None:
                found.append(entry)
        return sorted(found, key=lambda e: precedence(e.version))


@dataclass(frozen=True)
class _BasePolicy:
    policy: Policy | None  # the effective policy: the registry's, on its central floor
    error: str | None
    teams: dict[str, TeamExtension]
    central: Policy | None = None  # the central policy the base pins, as the central file says
    local: Policy | None = None  # the base's policies/registry.yaml as written


def _base_policy(base: _Reader) -> _BasePolicy:
    """The policy the base judges by. A pinned central policy that cannot be read, or that the
    base's own file weakens, leaves no policy to judge by: the gate fails closed, saying why."""
    raw = base.cat.read_optional(f"{base.rev}:{layout.POLICY_FILE}")
    if raw is None:
        return _BasePolicy(None, f"{layout.POLICY_FILE} does not exist at the base", {})
    parsed = parse_file(Kind.POLICY, raw, layout.POLICY_FILE)
    if parsed.entry is None:
        return _BasePolicy(None, "; ".join(p.render() for p in parsed.problems), {})
    local: Policy = parsed.entry
    try:
        floored = apply_floor(
            base.root, local, vendored_at(lambda path: base.cat.read_optional(f"{base.rev}:{path}"))
        )
    except CentralUnavailable as exc:
        return _BasePolicy(None, str(exc), {}, local=local)
    if floored.weakenings:
        assert local.central is not None  # only a pinned central has weakenings
        shown = "; ".join(f"{field_path(loc)}: {message}" for loc, message in floored.weakenings)
        why = f"{layout.POLICY_FILE} weakens {central_label(local.central)}: {shown}"
        return _BasePolicy(None, why, {}, local=local)
    central = floored.central.policy if floored.central is not None else None
    teams, error = _base_teams(base)
    if error is not None:
        return _BasePolicy(None, error, {}, central, local)
    return _BasePolicy(floored.policy, None, teams, central, local)


def _base_teams(base: _Reader) -> tuple[dict[str, TeamExtension], str | None]:
    teams: dict[str, TeamExtension] = {}
    for name in list_names(base.root, base.rev, layout.TEAMS_DIR):
        path = f"{layout.TEAMS_DIR}/{name}"
        try:
            if layout.classify(path).kind is not Kind.TEAM:
                continue  # a README or .gitkeep, as `steward check` allows
        except layout.Misplaced:
            continue
        team_raw = base.cat.read_optional(f"{base.rev}:{path}")
        team = parse_file(Kind.TEAM, team_raw or b"", path)
        if team.entry is None:
            return {}, "; ".join(p.render() for p in team.problems)
        teams[team.entry.team] = team.entry
    return teams, None


def _pin_change(root: Path, judged: _BasePolicy, head: _Reader) -> PinChange | None:
    """How the change moves the central pin (None: it does not). Moving or removing a pin the
    base has needs the central governance; a head that cannot be read counts as moving it. A
    pin that is added or moved is verified: its commit fetched, its `blob` (and the vendored
    copy that blob lets serve offline) compared with the file at that commit."""
    before = judged.local.central if judged.local is not None else None
    raw = head.cat.read_optional(f"{head.rev}:{layout.POLICY_FILE}")
    after: Policy | None = None
    if raw is not None:
        after = parse_file(Kind.POLICY, raw, layout.POLICY_FILE).entry
    pin = after.central if after is not None else None
    if before is None:
        if pin is None:
            return None
        return PinChange(
            f"adds the central policy {pin.describe()}", False, _verify(root, pin, head)
        )
    if raw is None:
        what = f"removes {layout.POLICY_FILE}, and with it the pin of {before.describe()}"
        return PinChange(what, True, None)
    if after is None:
        what = f"{layout.POLICY_FILE} cannot be read at the head, so its central pin may move"
        return PinChange(what, True, None)
    if pin is None:
        return PinChange(f"removes the central policy {before.describe()}", True, None)
    if pin != before:
        what = f"moves the central policy from {before.describe()} to {pin.describe()}"
        return PinChange(what, True, _verify(root, pin, head))
    return None


def _verify(root: Path, pin: CentralPin, head: _Reader) -> str | None:
    """Why the head's pin cannot be trusted, or None."""
    try:
        blob = verify_pin(root, pin)
    except CentralUnavailable as exc:
        return str(exc)
    copy = head.cat.read_optional(f"{head.rev}:{layout.CENTRAL_COPY_FILE}")
    if copy is not None and Vendored(copy).blob_id(blob) != blob:
        return f"{layout.CENTRAL_COPY_FILE} is not the file at {pin.commit[:12]} (blob {blob[:12]})"
    return None


def _touched_models(changes: ChangeSet) -> set[str]:
    models = set(changes.models_created)
    models |= {model for model, _, _ in changes.versions_registered}
    models |= {change.model for change in changes.stage_changes}
    models |= {edit.name.split("@")[0] for edit in changes.edits if edit.kind.value != "dataset"}
    return models


def _model_facts(name: str, base: _Reader, head: _Reader) -> ModelFacts | None:
    path = layout.model_path(name)
    before: ModelEntry | None = base.entry(Kind.MODEL, path)
    after: ModelEntry | None = head.entry(Kind.MODEL, path)
    if after is None:
        return None
    # Who owns it and how risky it is come from the base where the model exists there: a
    # proposal cannot make itself the owner, or lower the risk, to need fewer approvals.
    owner_source = before or after
    risks = [e.risk for e in (before, after) if e is not None]
    return ModelFacts(
        name=name,
        owner=owner_source.owner,
        team=owner_source.team,
        risk=max(risks, key=RISK_CLASSES.index),
        data_steward=owner_source.data_steward,
        filled_card_sections=filled_sections(after.card),
        risks=frozenset(risks),
    )


def _classifications(entry: VersionEntry, base: _Reader, head: _Reader) -> frozenset[str]:
    """What the version inherits from its datasets and the columns it used, plus what its model
    declares, at base and at head together: a proposal cannot declassify a dataset, or its
    model, to dodge an approval."""
    found: set[str] = set()
    for reader in (base, head):
        datasets: dict[str, DatasetEntry] = {}
        for ref in entry.training.datasets:
            dataset = reader.entry(Kind.DATASET, layout.dataset_path(ref.id))
            if dataset is not None:
                datasets[ref.id] = dataset
        found.update(
            classification.labels(classification.inherited(entry.training.datasets, datasets))
        )
        model: ModelEntry | None = reader.entry(Kind.MODEL, layout.model_path(entry.model))
        if model is not None:
            found.update(model.classification)
    return frozenset(found)


def _facts(entry: VersionEntry, classifications: frozenset[str]) -> VersionFacts:
    return VersionFacts(
        entry.model, entry.version, entry.stage, dict(entry.metrics), classifications
    )


def landing_tree(root: Path, base_tip: str, head: str) -> str | None:
    """The tree that merging `head` into `base_tip` produces (a merge commit's, and a squash's),
    or None when they conflict. Git's merge (`ort`, as `merge-tree` and GitHub run it) merges
    from a virtual base built from *all* best common ancestors, so with a criss-cross history
    this tree can hold changes that no diff from one merge base to the head shows."""
    if is_ancestor(root, base_tip, head):
        return tree_of(root, head)  # a merge of a descendant lands the descendant's tree
    merge_base(root, base_tip, head)  # no shared history is its own clear refusal
    return merge_tree(root, base_tip, head)


def build_input(root: Path, base_tip: str, head: str) -> GateInput:
    """The facts of a proposal: everything that differs between the base tip's tree and the tree
    that merging the proposal would land, whatever the proposal's own diff shows; on that tree
    the registry must stay valid too (two promotions that each archive the same production
    holder are each fine alone, and two production versions together). A proposal that
    conflicts with the base is judged on its own diff, and fails for the conflict."""
    merged = landing_tree(root, base_tip, head)
    conflict = merged is None
    after = merged or head
    start = base_tip if merged is not None else merge_base(root, base_tip, head)
    changes = change_set(root, start, after)
    with CatFile(root) as cat:
        base = _Reader(root, base_tip, cat)
        head_reader = _Reader(root, after, cat)
        judged = _base_policy(base)
        policy, policy_error, teams = judged.policy, judged.error, judged.teams
        pin_change = _pin_change(root, judged, head_reader)
        models = {}
        for name in _touched_models(changes):
            facts = _model_facts(name, base, head_reader)
            if facts is not None:
                models[name] = facts
        versions: dict[tuple[str, str], VersionFacts] = {}
        holders: dict[tuple[str, str], VersionFacts] = {}
        counts: dict[tuple[str, str], list[str]] = {}
        single = policy.single_stages() if policy is not None else set()
        for change in changes.stage_changes:
            key = (change.model, change.version)
            entry = head_reader.entry(Kind.VERSION, change.path)
            if entry is not None:
                versions[key] = _facts(entry, _classifications(entry, base, head_reader))
            for held in base.versions(change.model):
                if held.stage == change.to_stage:
                    holders[(change.model, change.to_stage)] = _facts(held, frozenset())
            if (change.model, change.to_stage) not in holders:
                # An empty stage is compared with the version that held it last: archiving
                # the holder first must not let a regressing version through after it.
                last = last_holder(root, base_tip, change.model, change.to_stage)
                path = layout.version_path(change.model, last) if last else None
                entry = base.entry(Kind.VERSION, path) if path else None
                if entry is not None:
                    holders[(change.model, change.to_stage)] = _facts(entry, frozenset())
            for stage in single:
                counts[(change.model, stage)] = [
                    e.version for e in head_reader.versions(change.model) if e.stage == stage
                ]
        rollbacks = {
            (change.model, change.version)
            for change in changes.stage_changes
            if change.to_stage in ("staging", "production")
            and held_stage(
                root, base_tip, change.model, change.version, change.to_stage, merges_only=True
            )
        }
        alerts = [
            f"{e.model} {e.version} ({e.stage}): {', '.join(e.production_metrics[-1].breaches)}"
            for name in sorted(models)
            for e in base.versions(name)
            if e.production_metrics and e.production_metrics[-1].breaches
        ]
        owners = {}
        edited = (e.name for e in changes.edits if e.kind is Kind.DATASET)
        for name in {*changes.datasets_created, *edited}:
            path = layout.dataset_path(name)
            dataset = base.entry(Kind.DATASET, path) or head_reader.entry(Kind.DATASET, path)
            if dataset is not None:
                owners[name] = dataset.owner  # the base's owner decides who may edit it
    return GateInput(
        changes=changes,
        dataset_owners=owners,
        base_tip=base_tip,
        head=head,
        rollbacks=rollbacks,
        alerts=alerts,
        policy=policy,
        policy_error=policy_error,
        teams=teams,
        central=judged.central,
        pin_change=pin_change,
        models=models,
        versions=versions,
        holders=holders,
        head_stage_counts=counts,
        new_problems=_problems(root, start, after, changes)
        + (
            [Problem("(merge)", None, "", "conflicts with the base branch: update the proposal")]
            if conflict
            else []
        ),
    )


def _problems(root: Path, start: str, after: str, changes: ChangeSet) -> list[Problem]:
    """What the change breaks; a tree with malformed entry names is refused at once, unread."""
    if changes.malformed:
        return [
            Problem(path, None, "", f"{malformed_name(path)}: no checkout could hold it")
            for path in changes.malformed
        ]
    return new_problems(root, start, after)


def _artifact_checks(root: Path, data: GateInput) -> dict[tuple[str, str], ArtifactCheck]:
    """Ask the DVC remote about every version whose transition gates on its artifact."""
    needed = []
    policy = data.policy
    if policy is None:
        return {}
    for change in data.changes.stage_changes:
        model = data.models.get(change.model)
        pair = (change.from_stage, change.to_stage)
        central, extra = transition_rules(policy, data.teams, model.team if model else None, pair)
        rollback = policy.rollback is not None and (change.model, change.version) in data.rollbacks
        rules = ([central] if central else []) + extra
        if rollback or any(t.gates.artifact_available for t in rules):
            needed.append(change)
    if not needed:
        return {}
    checks: dict[tuple[str, str], ArtifactCheck] = {}
    # Which remote to ask is the base's decision: a checkout of the head could point the DVC
    # config at a remote the proposal itself filled.
    with CatFile(root) as cat:
        base_config = cat.read_optional(f"{data.base_tip}:.dvc/config")
    local_config = root / ".dvc" / "config"
    if (
        base_config is None
        or not local_config.is_file()
        or local_config.read_bytes() != base_config
    ):
        error = "the checkout's .dvc/config is not the base branch's; run the gate on the base"
        return {(c.model, c.version): ArtifactCheck(error=error) for c in needed}
    try:
        from steward.artifacts.store import ArtifactStore

        store = ArtifactStore(root)
    except Exception as exc:  # DVC not initialised, unreadable config: the evidence is missing
        return {(c.model, c.version): ArtifactCheck(error=str(exc)) for c in needed}
    with store, CatFile(root) as cat:
        for change in needed:
            key = (change.model, change.version)
            raw = cat.read_optional(f"{data.changes.head}:{change.path}")
            entry = parse_file(Kind.VERSION, raw or b"", change.path).entry
            if entry is None:
                checks[key] = ArtifactCheck(error="the version entry could not be read")
                continue
            try:
                problems = store.missing_objects(entry)
            except Exception as exc:  # any failure to read the remote is missing evidence
                checks[key] = ArtifactCheck(error=f"{type(exc).__name__}: {exc}")
                continue
            checks[key] = ArtifactCheck(missing=tuple(p.render() for p in problems))
    return checks


def run_gate(
    root: Path,
    base: str,
    head: str,
    author: str | None = None,
    forge: Forge | None = None,
    proposal_number: int | None = None,
    judge_commits: tuple[str, str] | None = None,
) -> GateRun:
    """Judge `head` against `base` (or a proposal of `forge`, whose branches and reviews are
    read from it). Returns the verdict; never raises for missing evidence, only records it.

    `judge_commits` (base, head) overrides which commits are judged while the proposal still
    supplies author and reviews: a merge queue judges its own merge commit, but approvals are
    given on the pull request's head."""
    proposal = None
    reviews = None
    reviews_error: str | None = "no proposal: approvals can only come from a forge's reviews"
    approvals_on: str | None = None
    if forge is not None and proposal_number is not None:
        try:
            proposal = forge.get_proposal(proposal_number)
        except ForgeError as exc:
            raise StewardError(f"proposal #{proposal_number}: {exc}") from exc
        base, head, author = proposal.base_sha, proposal.head_sha, proposal.author
        approvals_on = proposal.head_sha
        if proposal.not_reviewers_error is not None:
            reviews_error = (
                "who may not approve (the authors of its commits, the person it was opened "
                f"for) could not be read: {proposal.not_reviewers_error}"
            )
        else:
            try:
                reviews = forge.list_reviews(proposal_number)
                reviews_error = None
            except ForgeError as exc:
                reviews_error = str(exc)
    if judge_commits is not None:
        base, head = judge_commits
    base_sha, head_sha = resolve(root, base), resolve(root, head)
    data = build_input(root, base_sha, head_sha)
    evidence = Evidence(
        author=author,
        head_sha=(approvals_on or head_sha) if reviews is not None else None,
        reviews=reviews,
        reviews_error=reviews_error,
        artifacts=_artifact_checks(root, data),
        teams=forge.teams() if forge is not None else None,
        not_reviewers=proposal.not_reviewers if proposal is not None else (),
    )
    return GateRun(evaluate(data, evidence), base_sha, head_sha, proposal)
