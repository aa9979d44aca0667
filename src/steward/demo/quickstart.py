"""`steward quickstart`: the whole story on one machine, offline, narrated step by step.

A registry is initialised, a model trained (for real, see `toy_model`), two versions registered,
a promotion proposed, the gate shown failing for want of an approval, approved, passing, merged,
promoted to production, `which` answers, and governance reads the model card, the audit report
and the impact of a data change. Every step uses the same functions as the commands;
this module only chains them and yields what happened, for the CLI to print.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from steward.artifacts.registration import DatasetCitation, RegistrationRequest, register_version
from steward.artifacts.retrieve import pull_version, verify_versions
from steward.demo.toy_model import FEATURES, train
from steward.entries import layout
from steward.entries.entryfiles import write_entry
from steward.entries.layout import Kind
from steward.entries.models import Column, DatasetEntry
from steward.forge.local import LocalForge
from steward.gate.judge import run_gate
from steward.gate.promotion import merge_proposal, propose_promotion
from steward.gate.report import render_text
from steward.gitio.gitcmd import commit_all
from steward.reading.create import create_model
from steward.reading.scaffold import init_registry

MODEL = "fraud-detector"
POLICY = """\
# yaml-language-server: $schema=../.steward/schemas/policy.schema.json
# The quickstart's policy: alice and bob are ML engineers, grace is governance, ci-bot registers.
roles:
  ml-engineer: [alice, bob]
  governance: [grace]
  registrars: [ci-bot]
create_models: [ml-engineer]
register_versions: [registrars, ml-engineer]
stages:
  production: {single: true}
transitions:
  - from: development
    to: staging
    gates:
      metrics: {auc: {min: 0.7}}
      model_card: [intended_use, limitations]
      artifact_available: true
    approvals: [{role: ml-engineer, count: 1}]
  - from: staging
    to: production
    gates:
      metrics: {auc: {min: 0.7, max_regression: 0.02}}
      artifact_available: true
    approvals:
      - {role: ml-engineer, count: 1}
      - {role: governance, count: 1, when: {risk: [high]}}
  - from: production
    to: archived
    approvals: [{role: ml-engineer, count: 1}]
governance:
  approvals: [{role: governance, count: 1}]
"""


@dataclass(frozen=True)
class Step:
    title: str
    detail: str = ""
    command: str = ""  # what a user would type for this step
    opens: Path | None = None  # a page the step wrote for the user to open (the site's index)


def _folded(text: str, only_changed: set[str] | None = None) -> str:
    """The gate's table without its not-applicable rows (counted instead); with `only_changed`,
    only the rules whose names contain one of those words, and the summary lines."""
    lines = text.splitlines()
    kept, folded = [], 0
    for line in lines:
        cell = line.strip()
        if cell.startswith("not applicable"):
            folded += 1
            continue
        rule = cell.split(":", 1)[0]
        judged = cell.split()[0] in ("passed", "failed")
        if only_changed is not None and judged and not any(w in rule for w in only_changed):
            continue
        kept.append(line)
    if folded:
        kept.append(f"  ({folded} rules not applicable to this change, folded)")
    return "\n".join(kept)


def run_quickstart(directory: Path | None = None) -> Iterator[Step]:
    """Run the story in `directory` (new or empty; a temporary one by default)."""
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="steward-quickstart-")) / "registry"
    work = directory.parent / f"{directory.name}-training"

    init = init_registry(directory)
    root = init.root
    yield Step(
        "Initialised a registry",
        f"git repository {root}\nDVC default remote {init.remote_url} (a local directory)",
        f"steward init {root.name} --role ml-engineer=alice,bob --role governance=grace "
        "--role registrars=ci-bot",
    )

    (root / layout.POLICY_FILE).write_text(POLICY, encoding="utf-8")
    write_entry(
        root,
        layout.dataset_path("transactions"),
        Kind.DATASET,
        DatasetEntry(
            name="transactions",
            description="Synthetic card transactions (the quickstart generates them).",
            owner="grace",
            uri="synthetic://transactions/seed-7",
            classification=["internal"],
            columns=[Column(name=name) for name in FEATURES],
        ),
    )
    commit_all(root, "Policy and the transactions dataset")
    yield Step(
        "Wrote the policy and registered the dataset",
        "roles: alice, bob (ml-engineer), grace (governance), ci-bot (registrars)\n"
        "development -> staging needs auc >= 0.7, a model card, the artifact on the remote, "
        "and one ml-engineer approval\n"
        f"dataset transactions: {layout.dataset_path('transactions')}",
        "steward dataset add transactions --uri synthetic://transactions/seed-7 --owner grace "
        "--classification internal " + " ".join(f"--column {name}" for name in FEATURES),
    )

    create_model(
        root,
        {
            "name": MODEL,
            "owner": "alice",
            "team": "risk-ml",
            "risk": "limited",
            "classification": ["internal"],
            "description": "Scores card transactions for fraud.",
            "card": {
                "intended_use": "Rank transactions for analyst review.",
                "limitations": "Trained on synthetic data; a demonstration only.",
            },
        },
    )
    yield Step(
        f"Created the model {MODEL}",
        f"owner alice, {layout.model_path(MODEL)}",
        f"steward create {MODEL} --owner alice --team risk-ml --classification internal "
        "--card intended_use=... --card limitations=...",
    )

    versions = []
    aucs: list[float] = []
    for epochs in (10, 150):
        trained = train(epochs, learning_rate=2.0)
        files = trained.save(work / f"epochs-{epochs}")
        result = register_version(
            root,
            RegistrationRequest(
                model=MODEL,
                sources=tuple(files),
                metrics={"auc": trained.auc, "accuracy": trained.accuracy},
                datasets=(DatasetCitation("transactions", "seed-7"),),
                params={"epochs": epochs, "learning_rate": trained.learning_rate},
                features=FEATURES,
                description=f"logistic regression, {epochs} epochs",
                created_by="ci-bot",
            ),
            training_code_dir=work,
        )
        versions.append(result.version)
        better = (
            f"\nbetter than {versions[0]} on auc ({aucs[0]} -> {trained.auc}), the metric the "
            "policy gates on"
            if aucs and trained.auc > aucs[0]
            else ""
        )
        aucs.append(trained.auc)
        yield Step(
            f"Trained and registered {MODEL} {result.version}",
            f"{epochs} epochs: auc {trained.auc}, accuracy {trained.accuracy}; "
            f"artifact {result.md5} pushed to the remote, {result.entry_path} committed{better}",
            f"steward register {MODEL} {work.name}/epochs-{epochs} --dataset transactions@seed-7 "
            f"--metric auc={trained.auc} --metric accuracy={trained.accuracy} --as ci-bot",
        )
    best = versions[-1]

    forge = LocalForge(root)
    promotion = propose_promotion(root, forge, MODEL, best, "staging", "alice")
    number = promotion.proposal.number
    yield Step(
        f"alice proposed promoting {MODEL} {best} to staging: proposal #{number}",
        f"branch {promotion.branch}, a one-line change of `stage:`",
        f"steward promote {MODEL}@{best} --to staging --as alice",
    )

    verdict = run_gate(root, "", "", forge=forge, proposal_number=number).verdict
    yield Step(
        "The gate fails: nobody has approved yet",
        _folded(render_text(verdict, number)),
        f"steward proposal show {number}   # or: steward gate {number}",
    )

    forge.add_review(number, "bob", "APPROVED", "Metrics look right; card is filled in.")
    verdict = run_gate(root, "", "", forge=forge, proposal_number=number).verdict
    yield Step(
        "bob approved; the gate passes",
        _folded(render_text(verdict, number), only_changed={"approvals"}),
        f"steward review {number} --approve --as bob",
    )

    merged = merge_proposal(root, forge, number, "alice")
    yield Step(
        f"Merged proposal #{number}: {MODEL} {best} is in staging",
        f"commit {merged.commit}",
        f"steward merge {number} --as alice",
    )

    promotion = propose_promotion(root, forge, MODEL, best, "production", "alice")
    number = promotion.proposal.number
    forge.add_review(number, "bob", "APPROVED")
    merged = merge_proposal(root, forge, number, "alice")
    yield Step(
        f"Promoted {MODEL} {best} to production (proposal #{number}, approved by bob)",
        f"commit {merged.commit}",
        f"steward promote {MODEL}@{best} --to production --as alice && steward review {number} "
        f"--approve --as bob && steward merge {number} --as alice",
    )

    report = verify_versions(root)
    from steward.reading.catalog import find_version

    holder = find_version(root, MODEL, stage="production")
    yield Step(
        f"which {MODEL} production -> {holder.version}",
        f"entry {layout.version_path(MODEL, holder.version)}, artifact {holder.artifact.md5} "
        f"on {report.remote}\n"
        f"every object of {len(report.checked)} versions verified on the remote\n"
        f"explore it: cd {root} && steward list && steward show {MODEL}",
        f"steward which {MODEL} --stage production && steward verify",
    )
    served = work / "serving"
    pulled = pull_version(root, MODEL, stage="production", output=served)
    yield Step(
        f"Pulled the production version ({MODEL} {pulled.version}) for serving",
        f"{len(pulled.files)} files, each checked against its sha256 before it was written: "
        + ", ".join(str(path) for path in pulled.files),
        f"steward pull {MODEL} --stage production -o {served}",
    )
    yield _governance_step(root, work)
    yield _site_step(root)


def _site_step(root: Path) -> Step:
    """The catalog site, built where `steward site` writes it by default (`_site/`, a directory
    that git ignores: it holds a `.gitignore` of its own)."""
    from steward.forge.local import LocalForge
    from steward.site.build import build_site

    built = build_site(root, root / "_site", forge=LocalForge(root), forge_label="the local forge")
    return Step(
        "Built the catalog site: models, stage timeline, lineage, cards, audit findings",
        f"{built.models} model(s), {built.datasets} dataset(s), open proposals; static pages that "
        f"open from the disk or GitHub Pages\n"
        f"open {built.index}",
        "steward site",
        opens=built.index,
    )


def _governance_step(root: Path, work: Path) -> Step:
    """What governance reads: the card, the audit report and the impact of a data change."""
    from steward.gitio.tree import WorktreeSnapshot
    from steward.governance.audit import audit
    from steward.governance.audit_render import render_html
    from steward.governance.impact import Question, impact
    from steward.governance.modelcard import model_card
    from steward.governance.modelcard_render import render_card
    from steward.reading.uses import uses_index

    card_file = work / f"{MODEL}-card.md"
    card_file.write_text(render_card(model_card(root, MODEL)), encoding="utf-8")
    report = audit(root)
    audit_file = work / "audit.html"
    audit_file.write_text(render_html(report), encoding="utf-8")
    affected = impact(
        uses_index(WorktreeSnapshot(root)), Question("transactions", column=FEATURES[0])
    )
    holders = ", ".join(f"{a.model_name} {a.version} ({a.stage})" for a in affected.affected)
    return Step(
        "Governance: model card, audit report, impact of a data change",
        command=f"steward card {MODEL} -o card.md && steward audit --format html -o audit.html "
        f"&& steward impact --dataset transactions --column {FEATURES[0]}",
        detail=f"model card (Hugging Face format) {card_file}\n"
        f"audit report (EU AI Act Annex IV headings) {audit_file}, findings first:\n"
        + "".join(f"  {f.severity}: {f.model}: {f.message}\n" for f in report.findings)
        + f"changing transactions.{FEATURES[0]} affects {holders}; "
        f"notify {', '.join(n.principal for n in affected.notify)}",
    )
